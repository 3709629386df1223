//! Our `gearman -S` and `gearadmin -S` over TLS: the certificate paths from options or from
//! libgearman's environment variables, against our TLS server and against stunnel in front of
//! Debian's gearmand.

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use gearman_testkit::pki::Pki;
use gearman_testkit::tls_peers::stunnel_server;
use gearman_testkit::{run_with_stdin, temp_dir, ChildGuard, Server};

const OURS: &str = env!("CARGO_BIN_EXE_gearman");
const OUR_ADMIN: &str = env!("CARGO_BIN_EXE_gearadmin");

/// The TLS files a test's tools use: the PKI's CA, and its client certificate or none.
struct Files<'a> {
    pki: &'a Pki,
    client_certificate: bool,
}

/// libgearman's variables for the files.
fn tls_env(command: &mut Command, files: &Files) {
    command.env("GEARMAND_CA_CERTIFICATE", &files.pki.ca);
    if files.client_certificate {
        command
            .env("GEARMAN_CLIENT_PEM", &files.pki.client.cert)
            .env("GEARMAN_CLIENT_KEY", &files.pki.client.key);
    }
}

/// The same files as options.
fn tls_options(files: &Files) -> Vec<String> {
    let mut options = vec![
        "-S".into(),
        format!("--ssl-ca-file={}", files.pki.ca.display()),
    ];
    if files.client_certificate {
        options.push(format!(
            "--ssl-certificate={}",
            files.pki.client.cert.display()
        ));
        options.push(format!("--ssl-key={}", files.pki.client.key.display()));
    }
    options
}

fn admin_status(port: u16, files: &Files) -> String {
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
    tls_env(&mut admin, files);
    let out = admin.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Our `gearman` client with `args`, its TLS files as options; it must succeed.
fn client_over_tls(port: u16, files: &Files, args: &[&str], stdin: &str) -> Output {
    let mut client = Command::new("timeout");
    client
        .args(["30", OURS, "-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .args(tls_options(files));
    let out = run_with_stdin(&mut client, stdin.as_bytes());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// count_lines over TLS at `port`: a `gearman -S -w` worker configured by environment, a
/// client configured by options, a background job, and `gearadmin -S --status`.
fn count_lines_over_tls(port: u16, files: &Files) {
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
    tls_env(&mut worker, files);
    let _worker = ChildGuard::spawn(&mut worker);
    assert!(gearman_testkit::wait_until(Duration::from_secs(10), || {
        admin_status(port, files).contains("count_lines\t0\t0\t1")
    }));
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    let out = client_over_tls(port, files, &["-f", "count_lines"], &passwd);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        passwd.lines().count().to_string()
    );
    // A background job: the worker runs it.
    client_over_tls(port, files, &["-b", "-f", "count_lines"], "one\ntwo\n");
    assert!(gearman_testkit::wait_until(Duration::from_secs(10), || {
        admin_status(port, files).contains("count_lines\t0\t0\t1")
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
    let with_certificate = Files {
        pki: &pki,
        client_certificate: true,
    };
    count_lines_over_tls(server.port, &with_certificate);

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
    let out = run_with_stdin(&mut plain, b"");
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
    let out = run_with_stdin(&mut missing, b"");
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
    let files = Files {
        pki: &pki,
        client_certificate: true,
    };
    count_lines_over_tls(front.port, &files);
}

#[test]
fn gearman_and_gearadmin_over_tls_without_a_client_certificate() {
    let pki = Pki::new(&temp_dir("cli-tls-server-auth"));
    let server = Server::ours_tls(&[
        &format!("--ssl-certificate={}", pki.server.cert.display()),
        &format!("--ssl-key={}", pki.server.key.display()),
    ]);
    let files = Files {
        pki: &pki,
        client_certificate: false,
    };
    count_lines_over_tls(server.port, &files);
}
