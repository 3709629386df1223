//! TLS: our gearmand with `--ssl` against gearman-core's client, worker and admin client
//! (blocking and async), mutual TLS, SIGHUP reloads, and every refusal the issue lists, each
//! within its timeout and with the server still serving others.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use gearman_core::blocking::{BlockingAdminClient, BlockingClient, BlockingWorker};
use gearman_core::{
    Client, ClientOptions, JobRequest, ServerAddr, TlsConnector, TlsOptions, Worker, WorkerOptions,
};
use gearman_testkit::pki::{CertFiles, Pki};
use gearman_testkit::{temp_dir, Server};

fn pki(tag: &str) -> Pki {
    Pki::new(&temp_dir(tag))
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Our gearmand with TLS on `cert`; with `client_ca`, client certificates are required.
fn tls_server(cert: &CertFiles, client_ca: Option<&Path>, extra: &[&str]) -> Server {
    let mut args = vec![
        format!("--ssl-certificate={}", path(&cert.cert)),
        format!("--ssl-key={}", path(&cert.key)),
    ];
    if let Some(ca) = client_ca {
        args.push(format!("--ssl-ca-file={}", path(ca)));
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Server::ours_tls(&args)
}

fn connector(ca: &Path, client: Option<&CertFiles>) -> TlsConnector {
    TlsOptions::new(
        Some(ca.into()),
        client.map(|c| c.cert.clone()),
        client.map(|c| c.key.clone()),
    )
    .connector()
    .unwrap()
}

fn client(server: &Server, tls: &TlsConnector) -> BlockingClient {
    let mut client = BlockingClient::new(ClientOptions {
        timeout: Some(Duration::from_secs(10)),
        tls: Some(tls.clone()),
        resubmit: false,
        ..Default::default()
    })
    .unwrap();
    client.add_servers(&server.addr()).unwrap();
    client
}

/// A worker thread that reverses `jobs` workloads of `function`.
fn reverse_worker(
    server: &Server,
    tls: &TlsConnector,
    function: &'static str,
    jobs: usize,
) -> std::thread::JoinHandle<Vec<Vec<u8>>> {
    let mut worker = BlockingWorker::new(WorkerOptions {
        timeout: Some(Duration::from_secs(20)),
        tls: Some(tls.clone()),
        ..Default::default()
    })
    .unwrap();
    worker.add_servers(&server.addr()).unwrap();
    worker.register(function, None).unwrap();
    worker.connect_all().unwrap();
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        for _ in 0..jobs {
            let job = worker.grab_job().expect("a job over TLS");
            let mut reversed = job.workload.to_vec();
            reversed.reverse();
            worker.send_complete(&job, &reversed).unwrap();
            seen.push(job.workload.to_vec());
        }
        seen
    })
}

fn wait_for_worker(server: &Server, tls: &TlsConnector, function: &str) {
    let addr = ServerAddr::parse(&server.addr()).unwrap();
    let mut admin =
        BlockingAdminClient::connect_with(&addr, Duration::from_secs(5), Some(tls)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status = admin.call(|a| a.status()).unwrap();
        if status
            .iter()
            .any(|s| s.function == function && s.workers > 0)
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no worker for {function}: {status:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn foreground_background_and_admin_over_tls_with_and_without_client_certificates() {
    let pki = pki("tls-basic");
    for mutual in [false, true] {
        let server = tls_server(&pki.server, mutual.then_some(pki.ca.as_path()), &[]);
        let tls = connector(&pki.ca, mutual.then_some(&pki.client));
        let worker = reverse_worker(&server, &tls, "reverse", 3);
        wait_for_worker(&server, &tls, "reverse");
        let mut client = client(&server, &tls);
        let result = client.run(JobRequest::new("reverse", "hello tls")).unwrap();
        assert_eq!(
            result.result().map(|b| &b[..]),
            Some(&b"slt olleh"[..]),
            "mutual={mutual}"
        );
        let handle = client
            .submit_background(JobRequest::new("reverse", "background"))
            .unwrap();
        assert!(!handle.is_empty());
        // A large workload crosses many TLS records both ways.
        let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let result = client.run(JobRequest::new("reverse", big.clone())).unwrap();
        let mut expected = big.clone();
        expected.reverse();
        assert!(
            result.result().map(|b| &b[..]) == Some(&expected[..]),
            "mutual={mutual}"
        );
        let seen = worker.join().unwrap();
        assert_eq!(seen.len(), 3);
        assert!(seen.contains(&b"background".to_vec()), "mutual={mutual}");
        assert!(
            server.log().contains("TLS on every listener"),
            "{}",
            server.log()
        );
    }
}

#[test]
fn async_client_and_worker_over_tls() {
    let pki = pki("tls-async");
    let server = tls_server(&pki.server, Some(&pki.ca), &[]);
    let tls = connector(&pki.ca, Some(&pki.client));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut worker = Worker::new(WorkerOptions {
            tls: Some(tls.clone()),
            ..Default::default()
        });
        worker.add_servers(&server.addr()).unwrap();
        worker.register("upper", None).unwrap();
        worker.connect_all().await.unwrap();
        let worker = tokio::spawn(async move {
            for _ in 0..20 {
                let job = worker.grab_job().await.unwrap();
                let upper = job.workload.to_ascii_uppercase();
                worker.send_complete(&job, &upper).await.unwrap();
            }
        });
        let mut client = Client::new(ClientOptions {
            tls: Some(tls.clone()),
            timeout: Some(Duration::from_secs(10)),
            ..Default::default()
        });
        client.add_servers(&server.addr()).unwrap();
        // Twenty jobs in flight at once on one TLS connection.
        let mut ids = Vec::new();
        for i in 0..20 {
            ids.push(
                client
                    .submit(JobRequest::new("upper", format!("job {i}")))
                    .await
                    .unwrap(),
            );
        }
        for (i, id) in ids.into_iter().enumerate() {
            let result = client.wait(id).await.unwrap();
            assert_eq!(
                result.result().map(|b| &b[..]),
                Some(format!("JOB {i}").as_bytes())
            );
        }
        worker.await.unwrap();
    });
}

/// How a refused client fails: the error's text, within `limit`.
fn refused(server: &Server, tls: Option<&TlsConnector>, limit: Duration) -> String {
    let started = Instant::now();
    let mut client = BlockingClient::new(ClientOptions {
        timeout: Some(Duration::from_secs(5)),
        connect_timeout: Duration::from_secs(5),
        tls: tls.cloned(),
        resubmit: false,
        ..Default::default()
    })
    .unwrap();
    client.add_servers(&server.addr()).unwrap();
    let error = match client.run(JobRequest::new("reverse", "x")) {
        Err(e) => e.to_string(),
        Ok(result) => match result.outcome {
            Some(gearman_core::Outcome::Error(e)) => e.to_string(),
            other => panic!("not refused: {other:?}"),
        },
    };
    assert!(
        started.elapsed() < limit,
        "{error:?} took {:?}",
        started.elapsed()
    );
    error
}

#[test]
fn refusals_are_clear_errors_and_the_server_keeps_serving() {
    let pki = pki("tls-refusals");
    let server = tls_server(&pki.server, Some(&pki.ca), &["--ssl-handshake-timeout=1"]);
    let good = connector(&pki.ca, Some(&pki.client));
    let worker = reverse_worker(&server, &good, "reverse", 1);
    wait_for_worker(&server, &good, "reverse");
    let limit = Duration::from_secs(5);

    // The server's certificate is not signed by a CA the client trusts.
    let error = refused(
        &server,
        Some(&connector(&pki.other_ca, Some(&pki.client))),
        limit,
    );
    assert!(error.contains("certificate"), "{error}");
    // No client certificate where one is required, or one from another CA.
    let error = refused(&server, Some(&connector(&pki.ca, None)), limit);
    assert!(
        error.contains("alert") || error.contains("closed"),
        "{error}"
    );
    let error = refused(
        &server,
        Some(&connector(&pki.ca, Some(&pki.client_other_ca))),
        limit,
    );
    assert!(
        error.contains("alert") || error.contains("closed"),
        "{error}"
    );
    // A plaintext client is told in its own protocol.
    let error = refused(&server, None, limit);
    assert!(error.contains("TLS_REQUIRED"), "{error}");
    let admin = gearman_testkit::admin(server.port, "status");
    assert!(admin.starts_with("ERR TLS_REQUIRED"), "{admin:?}");

    // Stalled handshakes: nothing sent, or half a ClientHello; closed after the 1 s timeout.
    for opening in [&b""[..], &[0x16, 0x03, 0x01, 0x02][..]] {
        let mut raw = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        raw.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        raw.write_all(opening).unwrap();
        let started = Instant::now();
        let mut sink = Vec::new();
        let _ = raw.read_to_end(&mut sink);
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(800) && waited < Duration::from_secs(5),
            "closed after {waited:?}"
        );
    }

    // Through all of it the good client is served.
    let mut client = client(&server, &good);
    let result = client
        .run(JobRequest::new("reverse", "still here"))
        .unwrap();
    assert_eq!(result.result().map(|b| &b[..]), Some(&b"ereh llits"[..]));
    worker.join().unwrap();

    // One log line per refusal, naming the peer and the reason.
    let log = server.log();
    for expected in [
        "refused: plaintext on a TLS port",
        "TLS handshake timed out",
        "TLS handshake failed",
        "peer=127.0.0.1:",
    ] {
        assert!(log.contains(expected), "{expected:?} not in:\n{log}");
    }
}

#[test]
fn expired_certificates_and_plaintext_ports_are_refused_by_clients() {
    let pki = pki("tls-expired");
    let expired = tls_server(&pki.server_expired, None, &[]);
    let error = refused(
        &expired,
        Some(&connector(&pki.ca, None)),
        Duration::from_secs(5),
    );
    assert!(error.contains("expired"), "{error}");

    // A TLS client on a plaintext port.
    let plain = Server::ours();
    let error = refused(
        &plain,
        Some(&connector(&pki.ca, None)),
        Duration::from_secs(6),
    );
    assert!(error.contains("TLS"), "{error}");
    // The plaintext server is unaffected.
    assert!(gearman_testkit::admin(plain.port, "version").starts_with("OK"));
}

#[test]
fn sighup_reloads_the_certificate_without_dropping_connections() {
    let pki = pki("tls-reload");
    // The server reads its certificate from files the test replaces.
    let live = CertFiles {
        cert: pki.dir.join("live.pem"),
        key: pki.dir.join("live.key"),
    };
    std::fs::copy(&pki.server.cert, &live.cert).unwrap();
    std::fs::copy(&pki.server.key, &live.key).unwrap();
    let server = tls_server(&live, None, &[]);
    let before = connector(&pki.ca, None);
    let after = connector(&pki.other_ca, None);
    // A worker connected before the reload.
    let worker = reverse_worker(&server, &before, "reverse", 2);
    wait_for_worker(&server, &before, "reverse");
    let mut early = client(&server, &before);
    assert_eq!(early.echo(b"connect").unwrap().as_ref(), b"connect");

    // A broken certificate file: the reload fails and the old certificate stays.
    std::fs::write(&live.cert, "not a certificate").unwrap();
    gearman_testkit::signal(server.pid(), libc::SIGHUP);
    assert!(gearman_testkit::wait_until(Duration::from_secs(5), || {
        server.log().contains("TLS reload failed")
    }));
    let result = client(&server, &before)
        .run(JobRequest::new("reverse", "old"))
        .unwrap();
    assert_eq!(result.result().map(|b| &b[..]), Some(&b"dlo"[..]));

    // A certificate from another CA: new connections get it once SIGHUP is sent.
    std::fs::copy(&pki.server_other_ca.cert, &live.cert).unwrap();
    std::fs::copy(&pki.server_other_ca.key, &live.key).unwrap();
    gearman_testkit::signal(server.pid(), libc::SIGHUP);
    assert!(gearman_testkit::wait_until(Duration::from_secs(5), || {
        server.log().contains("TLS certificate and key reloaded")
    }));
    let result = client(&server, &after)
        .run(JobRequest::new("reverse", "new"))
        .unwrap();
    assert_eq!(result.result().map(|b| &b[..]), Some(&b"wen"[..]));
    // The old CA no longer verifies new connections...
    let error = refused(&server, Some(&before), Duration::from_secs(5));
    assert!(error.contains("certificate"), "{error}");
    // ...but the connections made before the reload go on: the early client's and the
    // worker's (which ran both jobs).
    assert_eq!(early.echo(b"ping").unwrap().as_ref(), b"ping");
    assert_eq!(worker.join().unwrap().len(), 2);
}

#[test]
fn a_server_that_cannot_set_up_tls_refuses_to_start() {
    let pki = pki("tls-start");
    let cases: [(Vec<String>, &str); 3] = [
        (
            vec!["--ssl-certificate=/nonexistent/cert.pem".into()],
            "/nonexistent/cert.pem",
        ),
        (
            vec![
                format!("--ssl-certificate={}", path(&pki.server.cert)),
                format!("--ssl-key={}", path(&pki.client.key)),
            ],
            "do not go together",
        ),
        (
            vec![
                format!("--ssl-certificate={}", path(&pki.server.cert)),
                format!("--ssl-key={}", path(&pki.server.key)),
                format!("--ssl-ca-file={}", path(&pki.server.key)),
            ],
            "no certificate in",
        ),
    ];
    for (args, expected) in cases {
        let output = std::process::Command::new(gearman_testkit::our_gearmand())
            .args(["--ssl", "--listen=127.0.0.1", "--port=0"])
            .args(&args)
            .env_remove("GEARMAND_SERVER_PEM")
            .env_remove("GEARMAND_SERVER_KEY")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} started");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}
