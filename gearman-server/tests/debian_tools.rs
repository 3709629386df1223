//! Debian's `gearman` and `gearadmin` (libgearman 1.1.20) against our gearmand, compared with
//! Debian's gearmand where the output should match.

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use gearman_testkit::{admin, wait_until, ChildGuard, Server};

const GEARMAN: &str = "/usr/bin/gearman";
const GEARADMIN: &str = "/usr/bin/gearadmin";

fn sh(script: &str) -> Output {
    Command::new("timeout")
        .args(["120", "sh", "-c", script])
        .stdin(Stdio::null())
        .output()
        .expect("sh")
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Starts a Debian CLI worker and waits until it is registered.
fn worker(server: &Server, function: &str, args: &[&str]) -> ChildGuard {
    let port = server.port.to_string();
    let guard = ChildGuard::spawn(
        Command::new(GEARMAN)
            .args(["-h", "127.0.0.1", "-p", &port, "-w", "-f", function])
            .args(args)
            .stdout(Stdio::null()),
    );
    assert!(wait_until(Duration::from_secs(5), || admin(
        server.port,
        "status"
    )
    .lines()
    .any(
        |l| l.starts_with(&format!("{function}\t")) && !l.ends_with("\t0")
    )));
    guard
}

#[test]
fn count_lines_with_debian_worker_and_client() {
    let server = Server::ours();
    let _w = worker(&server, "count_lines", &["--", "wc", "-l"]);
    let out = sh(&format!(
        "{GEARMAN} -h 127.0.0.1 -p {} -f count_lines < /etc/passwd",
        server.port
    ));
    let expected = text(&sh("wc -l < /etc/passwd"));
    assert_eq!(text(&out).trim(), expected.trim());
}

#[test]
fn two_thousand_lines_through_a_rev_worker_in_order() {
    let server = Server::ours();
    let _w = worker(&server, "rev", &["--", "rev"]);
    let out = sh(&format!(
        "seq 2000 | {GEARMAN} -h 127.0.0.1 -p {} -n -f rev",
        server.port
    ));
    let expected = text(&sh("seq 2000 | rev"));
    assert_eq!(text(&out), expected);
}

#[test]
fn background_priorities_and_unique_coalescing() {
    let server = Server::ours();
    let p = server.port;
    // Unique coalescing: the same unique gives the same handle.
    let a = text(&sh(&format!(
        "{GEARMAN} -h 127.0.0.1 -p {p} -b -v -u same -f co one"
    )));
    let b = text(&sh(&format!(
        "{GEARMAN} -h 127.0.0.1 -p {p} -b -v -u same -f co two"
    )));
    assert!(a.starts_with("Task created: H:"), "{a}");
    assert_eq!(a, b);
    // Priorities: queued low, normal, high; a worker sees high, normal, low.
    for (flag, data) in [("-L", "low"), ("", "normal"), ("-I", "high")] {
        let out = sh(&format!(
            "{GEARMAN} -h 127.0.0.1 -p {p} -b {flag} -f prio {data}"
        ));
        assert!(out.status.success());
    }
    let out = sh(&format!("{GEARMAN} -h 127.0.0.1 -p {p} -w -c 3 -f prio"));
    assert_eq!(text(&out), "highnormallow");
}

#[test]
fn worker_killed_mid_job_the_job_runs_on_another() {
    let server = Server::ours();
    let p = server.port;
    let mut first = worker(&server, "slow", &["--", "sh", "-c", "sleep 30; rev"]);
    let mut client = ChildGuard::spawn(
        Command::new("sh")
            .args([
                "-c",
                &format!("printf abc | {GEARMAN} -h 127.0.0.1 -p {p} -f slow"),
            ])
            .stdout(Stdio::piped()),
    );
    assert!(wait_until(Duration::from_secs(5), || admin(p, "status")
        .contains("slow\t1\t1\t1")));
    let _second = worker(&server, "slow", &["--", "rev"]);
    gearman_testkit::signal(first.0.id(), libc::SIGKILL);
    let _ = first.0.wait();
    let status = client
        .wait_timeout(Duration::from_secs(10))
        .expect("client finishes");
    assert!(status.success());
    let mut out = String::new();
    std::io::Read::read_to_string(client.0.stdout.as_mut().unwrap(), &mut out).unwrap();
    assert_eq!(out, "cba");
}

/// Runs the same scenario on a server and returns gearadmin's outputs.
fn admin_outputs(server: &Server) -> Vec<(String, String)> {
    let p = server.port;
    let _w = worker(server, "listed", &["--", "cat"]);
    sh(&format!(
        "{GEARMAN} -h 127.0.0.1 -p {p} -b -I -u u1 -f queued one"
    ));
    sh(&format!(
        "{GEARMAN} -h 127.0.0.1 -p {p} -b -L -u u2 -f queued two"
    ));
    sh(&format!(
        "{GEARMAN} -h 127.0.0.1 -p {p} -b -u u3 -f other three"
    ));
    [
        "--status",
        "--priority-status",
        "--show-jobs",
        "--show-unique-jobs",
        "--workers",
        "--server-verbose",
    ]
    .iter()
    .map(|option| {
        let out = sh(&format!("{GEARADMIN} -h 127.0.0.1 -p {p} {option}"));
        assert!(out.status.success(), "{option}");
        let mut lines: Vec<String> = text(&out)
            .lines()
            .map(|l| match *option {
                // File descriptors differ between servers; compare the rest.
                "--workers" => l.split_once(' ').map_or(l, |(_, rest)| rest).to_string(),
                _ => l.to_string(),
            })
            .collect();
        // Listing order is unspecified (gearmand uses hash order).
        lines.sort();
        (option.to_string(), lines.join("\n"))
    })
    .collect()
}

#[test]
fn gearadmin_listings_match_debian_gearmand() {
    let ours = Server::ours();
    let theirs = Server::debian();
    assert_eq!(admin_outputs(&ours), admin_outputs(&theirs));
    for server in [&ours, &theirs] {
        let p = server.port;
        let version = text(&sh(&format!(
            "{GEARADMIN} -h 127.0.0.1 -p {p} --server-version"
        )));
        assert!(version.starts_with("1.1.20"), "{version}");
        let pid = text(&sh(&format!("{GEARADMIN} -h 127.0.0.1 -p {p} --getpid")));
        assert_eq!(pid.trim(), server.pid().to_string());
    }
}

#[test]
fn classic_daemon_invocation_works() {
    // The classic introduction: `gearmand -d -v -p $PORT`, with port 0 so the kernel picks a
    // free one, which the daemon's PID (from its pid file) is then found listening on.
    let dir = gearman_testkit::temp_dir("daemon");
    let pid_file = dir.join("pid");
    let status = Command::new(gearman_testkit::our_gearmand())
        .args(["-d", "-v", "-p", "0", "-P", pid_file.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(status.success());
    // The pid file is written once the listeners are bound.
    let mut pid = 0;
    assert!(
        wait_until(Duration::from_secs(5), || {
            let read = std::fs::read_to_string(&pid_file).unwrap_or_default();
            pid = read.trim().parse().unwrap_or(0);
            pid != 0
        }),
        "no pid file {}",
        pid_file.display()
    );
    // 127.0.0.1 comes first (and ::1 may follow on another port).
    let port = *gearman_testkit::listening_ports(pid)
        .first()
        .expect("the daemon listens");
    assert!(wait_until(Duration::from_secs(5), || {
        gearman_testkit::answers_version(port)
    }));
    let out = sh(&format!("{GEARADMIN} -h 127.0.0.1 -p {port} --getpid"));
    assert_eq!(text(&out).trim(), pid.to_string());
    gearman_testkit::signal(pid, libc::SIGTERM);
    assert!(wait_until(Duration::from_secs(5), || {
        !gearman_testkit::answers_version(port)
    }));
}
