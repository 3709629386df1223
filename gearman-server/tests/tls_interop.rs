//! TLS interop with implementations known to be right, both ways: gear's client and worker
//! (Python's ssl, TLS 1.2) and stunnel's OpenSSL client against our server; our client and
//! worker against gear's `geard` and against stunnel in front of Debian's gearmand (whose own
//! `--ssl` speaks plaintext: it has no TLS built in).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use gearman_core::blocking::{BlockingAdminClient, BlockingClient, BlockingWorker};
use gearman_core::{
    ClientOptions, GrabMode, JobRequest, ServerAddr, TlsConnector, TlsOptions, WorkerOptions,
};
use gearman_testkit::pki::Pki;
use gearman_testkit::tls_peers::{geard_tls, peer_python, stunnel_client, stunnel_server};
use gearman_testkit::{temp_dir, Server};

fn tls_server(pki: &Pki, mutual: bool) -> Server {
    let mut args = vec![
        format!("--ssl-certificate={}", pki.server.cert.display()),
        format!("--ssl-key={}", pki.server.key.display()),
    ];
    if mutual {
        args.push(format!("--ssl-ca-file={}", pki.ca.display()));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Server::ours_tls(&args)
}

fn connector(pki: &Pki) -> TlsConnector {
    TlsOptions::new(
        Some(pki.ca.clone()),
        Some(pki.client.cert.clone()),
        Some(pki.client.key.clone()),
    )
    .connector()
    .unwrap()
}

#[test]
fn gears_tls_client_and_worker_against_our_server() {
    let pki = Pki::new(&temp_dir("tls-gear"));
    let python = peer_python("gear", "gear");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/peers/gear_tls_peer.py");
    for mutual in [true, false] {
        let server = tls_server(&pki, mutual);
        let output = Command::new("timeout")
            .arg("60")
            .arg(&python)
            .args(["-W", "ignore"])
            .arg(&script)
            .env("PORT", server.port.to_string())
            .env("CA", &pki.ca)
            .env("CERT", &pki.client.cert)
            .env("KEY", &pki.client.key)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "mutual={mutual}: {}{}\nserver log:\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            server.log()
        );
    }
}

/// A foreground and a background job through `addr` with our blocking client and worker over
/// TLS, and an admin `status` over TLS.
fn jobs_through(addr: &str, tls: &TlsConnector, grab: GrabMode) {
    let mut worker = BlockingWorker::new(WorkerOptions {
        timeout: Some(Duration::from_secs(20)),
        tls: Some(tls.clone()),
        grab,
        ..Default::default()
    })
    .unwrap();
    worker.add_servers(addr).unwrap();
    worker.register("reverse", None).unwrap();
    worker.connect_all().unwrap();
    let worker = std::thread::spawn(move || {
        let mut seen = Vec::new();
        for _ in 0..2 {
            let job = worker.grab_job().expect("a job");
            let mut reversed = job.workload.to_vec();
            reversed.reverse();
            worker.send_complete(&job, &reversed).unwrap();
            seen.push(job.workload.to_vec());
        }
        seen
    });
    let mut client = BlockingClient::new(ClientOptions {
        timeout: Some(Duration::from_secs(20)),
        tls: Some(tls.clone()),
        ..Default::default()
    })
    .unwrap();
    client.add_servers(addr).unwrap();
    let handle = client
        .submit_background(JobRequest::new("reverse", "background"))
        .unwrap();
    assert!(!handle.is_empty());
    let result = client
        .run(JobRequest::new("reverse", "foreground"))
        .unwrap();
    assert_eq!(result.result().map(|b| &b[..]), Some(&b"dnuorgerof"[..]));
    let seen = worker.join().unwrap();
    assert!(seen.contains(&b"background".to_vec()), "{seen:?}");
    let mut admin = BlockingAdminClient::connect_with(
        &ServerAddr::parse(addr).unwrap(),
        Duration::from_secs(10),
        Some(tls),
    )
    .unwrap();
    let status = admin.call(|a| a.status()).unwrap();
    assert!(status.iter().any(|s| s.function == "reverse"), "{status:?}");
}

#[test]
fn our_client_and_worker_against_geard() {
    let pki = Pki::new(&temp_dir("tls-geard"));
    let geard = geard_tls(&pki);
    // geard serves GRAB_JOB_UNIQ only.
    jobs_through(&geard.addr(), &connector(&pki), GrabMode::Unique);
}

#[test]
fn our_client_and_worker_against_stunnel_in_front_of_debians_gearmand() {
    let pki = Pki::new(&temp_dir("tls-stunnel-server"));
    let debian = Server::debian();
    let front = stunnel_server(debian.port, &pki.server, Some(&pki.ca));
    jobs_through(&front.addr(), &connector(&pki), GrabMode::All);
    assert!(
        front
            .log()
            .contains("Service [gearman] accepted connection"),
        "{}",
        front.log()
    );
}

#[test]
fn openssl_clients_through_stunnel_against_our_server() {
    let pki = Pki::new(&temp_dir("tls-stunnel-client"));
    let server = tls_server(&pki, true);
    let back = stunnel_client(server.port, &pki.ca, Some(&pki.client));
    // Our plaintext client and worker, and Debian's tools, through stunnel's TLS.
    let mut worker = Command::new("/usr/bin/gearman");
    worker
        .args(["-h", "127.0.0.1", "-p", &back.port.to_string()])
        .args(["-w", "-f", "count_lines", "--", "wc", "-l"]);
    let _worker = gearman_testkit::ChildGuard::spawn(&mut worker);
    let mut admin = BlockingAdminClient::connect_with(
        &ServerAddr::parse(&server.addr()).unwrap(),
        Duration::from_secs(10),
        Some(&connector(&pki)),
    )
    .unwrap();
    assert!(gearman_testkit::wait_until(Duration::from_secs(10), || {
        admin
            .call(|a| a.status())
            .unwrap()
            .iter()
            .any(|s| s.function == "count_lines" && s.workers == 1)
    }));
    let output = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "timeout 30 /usr/bin/gearman -h 127.0.0.1 -p {} -f count_lines < /etc/passwd",
            back.port
        ))
        .output()
        .unwrap();
    let lines = std::fs::read_to_string("/etc/passwd")
        .unwrap()
        .lines()
        .count();
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        lines.to_string(),
        "{}\nstunnel:\n{}\nserver:\n{}",
        String::from_utf8_lossy(&output.stderr),
        back.log(),
        server.log()
    );
    let status = Command::new("timeout")
        .args(["30", "/usr/bin/gearadmin", "-h", "127.0.0.1", "-p"])
        .arg(back.port.to_string())
        .arg("--status")
        .output()
        .unwrap();
    let status = String::from_utf8_lossy(&status.stdout);
    assert!(status.contains("count_lines\t0\t0\t1"), "{status}");
}
