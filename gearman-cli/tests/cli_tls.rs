//! Our `gearman -S` and `gearadmin -S` over TLS: the certificate paths from options or from
//! libgearman's environment variables, against our TLS server and against stunnel in front of
//! Debian's gearmand.

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use gearman_testkit::pki::Pki;
use gearman_testkit::tls_peers::stunnel_server;
use gearman_testkit::{temp_dir, ChildGuard, Server};

const OURS: &str = env!("CARGO_BIN_EXE_gearman");
const OUR_ADMIN: &str = env!("CARGO_BIN_EXE_gearadmin");

/// libgearman's variables for the PKI's CA and client certificate.
fn tls_env(command: &mut Command, pki: &Pki) {
    command
        .env("GEARMAND_CA_CERTIFICATE", &pki.ca)
        .env("GEARMAN_CLIENT_PEM", &pki.client.cert)
        .env("GEARMAN_CLIENT_KEY", &pki.client.key);
}

/// The same files as options.
fn tls_options(pki: &Pki) -> Vec<String> {
    vec![
        "-S".into(),
        format!("--ssl-ca-file={}", pki.ca.display()),
        format!("--ssl-certificate={}", pki.client.cert.display()),
        format!("--ssl-key={}", pki.client.key.display()),
    ]
}

fn run(mut command: Command, stdin: &str) -> Output {
    use std::io::Write;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn admin_status(port: u16, pki: &Pki) -> String {
    let mut admin = Command::new("timeout");
    admin.args([
        "30",
        OUR_ADMIN,
        "-h",
        "127.0.0.1",
        "-p",
        &port.to_string(),
        "-S",
        "--status",
    ]);
    tls_env(&mut admin, pki);
    let out = admin.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// count_lines over TLS at `port`: a `gearman -S -w` worker configured by environment, a
/// client configured by options, a background job, and `gearadmin -S --status`.
fn count_lines_over_tls(port: u16, pki: &Pki) {
    let port_text = port.to_string();
    let mut worker = Command::new(OURS);
    worker
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port_text,
            "-S",
            "-w",
            "-f",
            "count_lines",
        ])
        .args(["--", "wc", "-l"])
        .stdout(Stdio::null());
    tls_env(&mut worker, pki);
    let _worker = ChildGuard::spawn(&mut worker);
    assert!(gearman_testkit::wait_until(Duration::from_secs(10), || {
        admin_status(port, pki).contains("count_lines\t0\t0\t1")
    }));
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    let mut client = Command::new("timeout");
    client
        .args([
            "30",
            OURS,
            "-h",
            "127.0.0.1",
            "-p",
            &port_text,
            "-f",
            "count_lines",
        ])
        .args(tls_options(pki));
    let out = run(client, &passwd);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        passwd.lines().count().to_string()
    );
    // A background job: the worker runs it.
    let mut background = Command::new("timeout");
    background
        .args([
            "30",
            OURS,
            "-h",
            "127.0.0.1",
            "-p",
            &port_text,
            "-b",
            "-f",
            "count_lines",
        ])
        .args(tls_options(pki));
    let out = run(background, "one\ntwo\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(gearman_testkit::wait_until(Duration::from_secs(10), || {
        admin_status(port, pki).contains("count_lines\t0\t0\t1")
    }));
}

#[test]
fn gearman_and_gearadmin_over_tls_against_our_server() {
    let pki = Pki::new(&temp_dir("cli-tls"));
    let server = Server::ours_tls(&[
        &format!("--ssl-certificate={}", pki.server.cert.display()),
        &format!("--ssl-key={}", pki.server.key.display()),
        &format!("--ssl-ca-file={}", pki.ca.display()),
    ]);
    count_lines_over_tls(server.port, &pki);

    // Without -S the server says what is wrong.
    let mut plain = Command::new("timeout");
    plain.args([
        "30",
        OURS,
        "-h",
        "127.0.0.1",
        "-p",
        &server.port.to_string(),
        "-f",
        "x",
        "-s",
    ]);
    let out = run(plain, "");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("TLS_REQUIRED"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A missing certificate file is named.
    let mut missing = Command::new(OURS);
    missing
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &server.port.to_string(),
            "-f",
            "x",
            "-s",
            "-S",
        ])
        .arg("--ssl-certificate=/nonexistent.pem")
        .arg(format!("--ssl-key={}", pki.client.key.display()));
    let out = run(missing, "");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("/nonexistent.pem"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn gearman_and_gearadmin_over_tls_against_stunnel_in_front_of_debians_gearmand() {
    let pki = Pki::new(&temp_dir("cli-tls-stunnel"));
    let debian = Server::debian();
    let front = stunnel_server(debian.port, &pki.server, Some(&pki.ca));
    count_lines_over_tls(front.port, &pki);
}
