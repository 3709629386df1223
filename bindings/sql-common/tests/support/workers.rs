//! The workers the SQL function tests of MariaDB (`bindings/mysql/tests`) and PostgreSQL
//! (`bindings/postgres/tests`) run their jobs on; included by both with `#[path]`.

use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use bytes::Bytes;
use gearman_core::blocking::{BlockingWorker, JobContext, JobFailure};
use gearman_core::WorkerOptions;
use gearman_testkit::{ChildGuard, Server};

/// The workers of a test's job server: Debian's `gearman -w -f reverse -- rev` (stopped by
/// PID when dropped: drop it before the server), and threads of ours for the rest, among
/// them one `length`/`rev_bytes` worker more (so that jobs can run side by side) and four
/// `hang` workers (each hung job holds one for good). `recorded` gets what `audit` and
/// `record` jobs carried.
pub struct Workers {
    pub cli_worker: ChildGuard,
    pub recorded: mpsc::Receiver<Bytes>,
}

pub fn start_workers(gearmand: &Server) -> Workers {
    let port = gearmand.port.to_string();
    let cli_worker = ChildGuard::spawn(
        Command::new("/usr/bin/gearman")
            .args(["-h", "127.0.0.1", "-p", &port])
            .args(["-w", "-f", "reverse", "--", "rev"])
            .stdout(Stdio::null()),
    );
    let (tx, recorded) = mpsc::channel();
    let all = &[
        "rev_bytes",
        "length",
        "echo",
        "empty",
        "fail",
        "exception",
        "chunks",
        "audit",
        "record",
    ];
    worker(gearmand.addr(), all, Some(tx));
    worker(gearmand.addr(), &["length", "rev_bytes"], None);
    for _ in 0..4 {
        worker(gearmand.addr(), &["hang"], None);
    }
    wait_for_workers(gearmand.port, &["reverse", "hang", "audit"]);
    Workers {
        cli_worker,
        recorded,
    }
}

/// Starts a worker thread serving `functions` on `addr` until the test process ends:
/// `rev_bytes` (reversed bytes), `length` (the workload's length as text), `echo`, `empty`
/// (an empty result), `fail` (WORK_FAIL), `exception` (WORK_EXCEPTION "boom: bad input"),
/// `chunks` (WORK_DATA "part1-", then "part2"), `audit` and `record` (the workload goes to
/// `recorded`), `hang` (never answers).
fn worker(addr: String, functions: &'static [&'static str], recorded: Option<mpsc::Sender<Bytes>>) {
    std::thread::spawn(move || {
        let mut w = BlockingWorker::new(WorkerOptions::default()).unwrap();
        w.add_servers(&addr).unwrap();
        for f in functions {
            w.register(*f, None).unwrap();
        }
        w.work(None, |job: &mut JobContext<'_>| {
            let workload = job.job().workload.clone();
            match &job.job().function[..] {
                b"rev_bytes" => {
                    let mut data = workload.to_vec();
                    data.reverse();
                    Ok(Bytes::from(data))
                }
                b"length" => Ok(Bytes::from(workload.len().to_string())),
                b"echo" => Ok(workload),
                b"empty" => Ok(Bytes::new()),
                b"fail" => Err(JobFailure::Fail),
                b"exception" => Err(JobFailure::Exception(Bytes::from_static(
                    b"boom: bad input",
                ))),
                b"chunks" => {
                    job.send_data(b"part1-").unwrap();
                    Ok(Bytes::from_static(b"part2"))
                }
                b"audit" | b"record" => {
                    if let Some(tx) = &recorded {
                        let _ = tx.send(workload);
                    }
                    Ok(Bytes::new())
                }
                b"hang" => {
                    std::thread::sleep(Duration::from_secs(3600));
                    Ok(Bytes::new())
                }
                other => panic!("unexpected function {other:?}"),
            }
        })
        .unwrap();
    });
}

/// Waits until each of `functions` has a worker on the server at `port`.
fn wait_for_workers(port: u16, functions: &[&str]) {
    let registered = gearman_testkit::wait_until(Duration::from_secs(10), || {
        let status = gearman_testkit::admin(port, "status");
        functions.iter().all(|f| {
            status
                .lines()
                .any(|l| l.starts_with(&format!("{f}\t")) && !l.ends_with("\t0"))
        })
    });
    assert!(registered, "workers for {functions:?} never registered");
}

/// Collects `n` recorded workloads (as numbers), failing after 20 s without one.
pub fn recorded_ids(recorded: &mpsc::Receiver<Bytes>, n: usize) -> std::collections::BTreeSet<u32> {
    let mut ids = std::collections::BTreeSet::new();
    while ids.len() < n {
        let id = recorded
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("only {} of {n} jobs ran", ids.len()));
        ids.insert(
            String::from_utf8(id.to_vec())
                .unwrap()
                .parse::<u32>()
                .unwrap(),
        );
    }
    assert!(
        recorded.recv_timeout(Duration::from_millis(200)).is_err(),
        "a job ran twice"
    );
    ids
}

/// The many-sessions scenario: `SESSIONS` clients each make `CALLS` calls of `rev_bytes`.
pub const SESSIONS: usize = 8;
pub const CALLS: usize = 500;

/// The workload of call `i` of session `s`.
pub fn session_workload(s: usize, i: usize) -> String {
    format!("{s}-{i}")
}

/// Waits for each session's client (started with piped stdout, in session order) and checks
/// that it printed every call's answer, in order.
pub fn check_sessions(sessions: Vec<std::process::Child>) {
    for (s, child) in sessions.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "session {s} failed");
        let lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        let expected: Vec<String> = (0..CALLS)
            .map(|i| session_workload(s, i).chars().rev().collect())
            .collect();
        assert_eq!(lines, expected, "session {s}");
    }
}
