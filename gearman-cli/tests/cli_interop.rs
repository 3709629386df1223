//! Our `gearman` and `gearadmin` side by side with Debian's tools, against Debian's gearmand and
//! against ours: every test runs against both.

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use gearman_testkit::{ChildGuard, Kind, Server};

const OURS: &str = env!("CARGO_BIN_EXE_gearman");
const OUR_ADMIN: &str = env!("CARGO_BIN_EXE_gearadmin");
const DEBIAN: &str = "/usr/bin/gearman";
const DEBIAN_ADMIN: &str = "/usr/bin/gearadmin";

/// Runs a shell pipeline with a time limit.
fn sh(script: &str) -> Output {
    Command::new("timeout")
        .args(["60", "sh", "-c", script])
        .stdin(Stdio::null())
        .output()
        .expect("sh")
}

fn worker(tool: &str, server: &Server, args: &[&str]) -> ChildGuard {
    let port = server.port.to_string();
    let mut cmd = Command::new(tool);
    cmd.args(["-h", "127.0.0.1", "-p", &port, "-w"])
        .args(args)
        .stdout(Stdio::null());
    let guard = ChildGuard::spawn(&mut cmd);
    // Wait until the worker's registration shows in `status`.
    let function = args[args.iter().position(|a| *a == "-f").unwrap() + 1];
    assert!(gearman_testkit::wait_until(Duration::from_secs(5), || {
        gearman_testkit::admin(server.port, "status")
            .lines()
            .any(|l| l.starts_with(&format!("{function}\t")) && !l.ends_with("\t0"))
    }));
    guard
}

fn line_count() -> String {
    let out = sh("wc -l < /etc/passwd");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn count_lines_our_worker_debian_client(kind: Kind) {
    let server = kind.start();
    let _w = worker(OURS, &server, &["-f", "count_lines", "--", "wc", "-l"]);
    let out = sh(&format!(
        "{DEBIAN} -h 127.0.0.1 -p {} -f count_lines < /etc/passwd",
        server.port
    ));
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), line_count());
}

fn count_lines_debian_worker_our_client(kind: Kind) {
    let server = kind.start();
    let _w = worker(DEBIAN, &server, &["-f", "count_lines", "--", "wc", "-l"]);
    let out = sh(&format!(
        "{OURS} -h 127.0.0.1 -p {} -f count_lines < /etc/passwd",
        server.port
    ));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), line_count());
}

fn two_thousand_pipelined_jobs_come_back_in_order(kind: Kind) {
    let server = kind.start();
    let _w = worker(DEBIAN, &server, &["-f", "rev", "--", "rev"]);
    let out = sh(&format!(
        "seq 2000 | {OURS} -h 127.0.0.1 -p {} -n -f rev",
        server.port
    ));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected: String = (1..=2000)
        .map(|i| format!("{}\n", i.to_string().chars().rev().collect::<String>()))
        .collect();
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected);
}

fn client_options_match_the_c_tool(kind: Kind) {
    let server = kind.start();
    let p = server.port;
    let _w = worker(OURS, &server, &["-f", "rev", "-f", "upper", "--", "rev"]);
    // Output formats: each argument is a job and results are printed back to back; -P
    // prefixes the function; -n / -N make one job per line; -s sends one empty job.
    let cases = [
        "-f rev ab cd",
        "-P -f rev ab cd",
        "-f rev -f upper ab",
        "-s -f rev",
        "-f rev < /etc/hostname",
    ];
    let lines = [
        "-P -N -f rev",
        "-P -n -f rev",
        "-N -f rev",
        "-n -f rev",
        "-P -f rev",
    ];
    let scripts = cases.iter().map(|c| (c.to_string(), String::new())).chain(
        lines
            .iter()
            .map(|c| (c.to_string(), "printf 'ab\\ncd\\n' | ".to_string())),
    );
    for (args, input) in scripts {
        let ours = sh(&format!("{input}{OURS} -h 127.0.0.1 -p {p} {args}"));
        let theirs = sh(&format!("{input}{DEBIAN} -h 127.0.0.1 -p {p} {args}"));
        assert_eq!(
            String::from_utf8_lossy(&ours.stdout),
            String::from_utf8_lossy(&theirs.stdout),
            "{args}"
        );
        assert!(ours.status.success(), "{args}");
    }
    // -b -v prints the handle of a background job, like the C tool.
    let ours = sh(&format!(
        "echo x | {OURS} -h 127.0.0.1 -p {p} -b -v -f nobody"
    ));
    let theirs = sh(&format!(
        "echo x | {DEBIAN} -h 127.0.0.1 -p {p} -b -v -f nobody"
    ));
    for out in [&ours, &theirs] {
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(text.starts_with("Task created: H:"), "{text:?}");
        assert!(out.status.success());
    }
    // -I / -L / -u are accepted and jobs run.
    let out = sh(&format!(
        "{OURS} -h 127.0.0.1 -p {p} -I -u myunique -f rev hi"
    ));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ih");
    let out = sh(&format!("{OURS} -h 127.0.0.1 -p {p} -L -f rev lo"));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ol");
    // GEARMAN_SERVERS is honoured when -h/-p are absent.
    let out = sh(&format!("GEARMAN_SERVERS=127.0.0.1:{p} {OURS} -f rev env"));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "vne");
}

fn failing_command_gives_job_failed_and_exit_1(kind: Kind) {
    let server = kind.start();
    let _w = worker(OURS, &server, &["-f", "false", "--", "false"]);
    for tool in [OURS, DEBIAN] {
        let out = sh(&format!(
            "{tool} -h 127.0.0.1 -p {} -f false x",
            server.port
        ));
        assert_eq!(out.status.code(), Some(1), "{tool}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("Job failed"),
            "{tool}"
        );
    }
}

fn worker_count_and_line_data(kind: Kind) {
    let server = kind.start();
    let port = server.port.to_string();
    // -c 2: the worker exits after two jobs; -n sends each output line as WORK_DATA.
    let mut w = ChildGuard::spawn(Command::new(OURS).args([
        "-h",
        "127.0.0.1",
        "-p",
        &port,
        "-w",
        "-c",
        "2",
        "-n",
        "-f",
        "lines",
        "--",
        "cat",
    ]));
    let out = sh(&format!(
        "printf 'a\\nb\\n' | {DEBIAN} -h 127.0.0.1 -p {port} -f lines"
    ));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "a\nb\n");
    let out = sh(&format!(
        "printf 'c\\n' | {OURS} -h 127.0.0.1 -p {port} -f lines"
    ));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "c\n");
    let status = w
        .wait_timeout(Duration::from_secs(5))
        .expect("worker exits after -c 2");
    assert!(status.success());
}

#[test]
fn connection_failure_is_one_clear_line_and_exit_1() {
    let closed = gearman_testkit::closed_port();
    let port = closed.port;
    let out = sh(&format!("{OURS} -h 127.0.0.1 -p {port} -f x data"));
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.trim(),
        format!("gearman: could not connect to 127.0.0.1:{port}: connection refused")
    );
    let out = sh(&format!("{OUR_ADMIN} -h 127.0.0.1 -p {port} --status"));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("connection refused"));
    let out = sh(&format!("{OURS} data"));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no function given"));
}

fn gearadmin_prints_what_debians_prints(kind: Kind) {
    let server = kind.start();
    let p = server.port;
    let _w = worker(DEBIAN, &server, &["-f", "listed", "--", "cat"]);
    sh(&format!(
        "echo x | {DEBIAN} -h 127.0.0.1 -p {p} -b -f queued"
    ));
    for option in [
        "--status",
        "--priority-status",
        "--server-version",
        "--server-verbose",
        "--getpid",
        "--show-jobs",
        "--show-unique-jobs",
    ] {
        let ours = sh(&format!("{OUR_ADMIN} -h 127.0.0.1 -p {p} {option}"));
        let theirs = sh(&format!("{DEBIAN_ADMIN} -h 127.0.0.1 -p {p} {option}"));
        assert_eq!(
            String::from_utf8_lossy(&ours.stdout),
            String::from_utf8_lossy(&theirs.stdout),
            "{option}"
        );
        assert!(ours.status.success(), "{option}");
    }
    let ours = sh(&format!("{OUR_ADMIN} -h 127.0.0.1 -p {p} --workers"));
    assert!(String::from_utf8_lossy(&ours.stdout).contains(": listed\n"));
    let out = sh(&format!(
        "{OUR_ADMIN} -h 127.0.0.1 -p {p} --create-function=made --drop-function=made"
    ));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "OK\nOK\n");
    // An ERR reply goes to stderr as "Error: ..."; unlike the C tool we exit 1.
    let out = sh(&format!(
        "{OUR_ADMIN} -h 127.0.0.1 -p {p} --drop-function=never"
    ));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "Error: function not found"
    );
    assert_eq!(out.status.code(), Some(1));
    let out = sh(&format!("{OUR_ADMIN} -h 127.0.0.1 -p {p}"));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("No option execution operation given."));
}

gearman_testkit::against_both!(
    count_lines_our_worker_debian_client,
    count_lines_debian_worker_our_client,
    two_thousand_pipelined_jobs_come_back_in_order,
    client_options_match_the_c_tool,
    failing_command_gives_job_failed_and_exit_1,
    worker_count_and_line_data,
    gearadmin_prints_what_debians_prints
);
