//! The workers the SQL function tests of MariaDB (`bindings/mysql/tests`) and PostgreSQL
//! (`bindings/postgres/tests`) run their jobs on; included by both with `#[path]`.

use std::sync::mpsc;
use std::time::Duration;

use bytes::Bytes;
use gearman_core::blocking::{BlockingWorker, JobContext, JobFailure};
use gearman_core::WorkerOptions;

/// Starts a worker thread serving `functions` on `addr` until the test process ends:
/// `rev_bytes` (reversed bytes), `length` (the workload's length as text), `echo`, `empty`
/// (an empty result), `fail` (WORK_FAIL), `exception` (WORK_EXCEPTION "boom: bad input"),
/// `chunks` (WORK_DATA "part1-", then "part2"), `audit` and `record` (the workload goes to
/// `recorded`), `hang` (never answers).
pub fn worker(
    addr: String,
    functions: &'static [&'static str],
    recorded: Option<mpsc::Sender<Bytes>>,
) {
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
pub fn wait_for_workers(port: u16, functions: &[&str]) {
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
