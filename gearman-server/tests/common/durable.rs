//! Durable queues under `kill -9`, for every backend's tests.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use gearman_core::blocking::{BlockingClient, BlockingWorker};
use gearman_core::{ClientOptions, JobRequest, Outcome, WorkerOptions};
use gearman_testkit::Server;

/// A client for loads that a server is killed under: it never resubmits elsewhere.
pub fn client(addr: &str) -> BlockingClient {
    let options = ClientOptions {
        timeout: Some(Duration::from_secs(10)),
        resubmit: false,
        ..Default::default()
    };
    let mut client = BlockingClient::new(options).unwrap();
    client.add_servers(addr).unwrap();
    client
}

/// Four clients submit pipelined background jobs until the server is killed under them, once
/// at least `min_acks` were acknowledged; returns the acknowledged jobs' uniques.
pub fn load_until_killed(server: &Server, min_acks: usize) -> Vec<Bytes> {
    let addr = server.addr();
    let acked_so_far = AtomicUsize::new(0);
    let acknowledged: Vec<Vec<Bytes>> = std::thread::scope(|scope| {
        let loaders: Vec<_> = (0..4)
            .map(|t| {
                let addr = addr.clone();
                let acked_so_far = &acked_so_far;
                scope.spawn(move || {
                    let mut client = client(&addr);
                    let mut acked = Vec::new();
                    'load: for batch in 0..1000 {
                        let mut ids = Vec::new();
                        for i in 0..50 {
                            let data = format!("t{t}-b{batch}-j{i}");
                            let request = JobRequest::new("durable", data).background(true);
                            match client.submit(request) {
                                Ok(id) => ids.push(id),
                                Err(_) => break 'load,
                            }
                        }
                        for id in ids {
                            match client.wait(id) {
                                Ok(r) if r.outcome == Some(Outcome::Queued) => {
                                    acked.push(r.unique.clone());
                                    acked_so_far.fetch_add(1, Ordering::SeqCst);
                                }
                                _ => break 'load,
                            }
                        }
                    }
                    acked
                })
            })
            .collect();
        // Kill once the load is well under way (jobs acknowledged, more in flight).
        assert!(
            gearman_testkit::wait_until(Duration::from_secs(30), || {
                acked_so_far.load(Ordering::SeqCst) >= min_acks
            }),
            "the loaders got only {} jobs acknowledged in 30 s",
            acked_so_far.load(Ordering::SeqCst)
        );
        gearman_testkit::signal(server.pid(), libc::SIGKILL);
        loaders.into_iter().map(|l| l.join().unwrap()).collect()
    });
    acknowledged.into_iter().flatten().collect()
}

/// Completes up to `limit` jobs; returns their uniques.
pub fn complete_some(server: &Server, limit: usize) -> Vec<Bytes> {
    let options = WorkerOptions {
        timeout: Some(Duration::from_secs(1)),
        ..Default::default()
    };
    let mut worker = BlockingWorker::new(options).unwrap();
    worker.add_servers(&server.addr()).unwrap();
    worker.register("durable", None).unwrap();
    let mut done = Vec::new();
    while done.len() < limit {
        let Ok(job) = worker.grab_job() else { break };
        worker.send_complete(&job, b"").unwrap();
        done.push(job.unique.clone());
    }
    done
}

/// Submits one background job and waits for its JOB_CREATED: the store writes in order, so
/// everything the server sent it before is written too. Returns the job's unique.
fn fence(server: &Server) -> Bytes {
    let mut client = BlockingClient::new(ClientOptions::default()).unwrap();
    client.add_servers(&server.addr()).unwrap();
    let id = client
        .submit(JobRequest::new("durable", "fence").background(true))
        .unwrap();
    let result = client.wait(id).unwrap();
    assert_eq!(result.outcome, Some(Outcome::Queued));
    result.unique.clone()
}

/// How many `durable` jobs the server holds (admin `status`).
pub fn queued(server: &Server) -> usize {
    let status = gearman_testkit::admin(server.port, "status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("durable\t"))
        .and_then(|rest| rest.split('\t').next())
        .map_or(0, |n| n.parse().unwrap())
}

/// `cycles` cycles of: load, `kill -9` under it, restart, complete some jobs. Every acknowledged
/// job runs; none runs again after it was completed; nothing is left stored at the end.
pub fn kill_9_cycles(server: &mut Server, cycles: usize) {
    let mut acknowledged = HashSet::new();
    let mut completed = HashSet::new();
    for _cycle in 0..cycles {
        acknowledged.extend(load_until_killed(server, 300));
        server.restart();
        let before = queued(server);
        for unique in complete_some(server, 200) {
            assert!(
                completed.insert(unique.clone()),
                "{unique:?} ran again after it was completed"
            );
        }
        // The server has handled every completion (so its row's delete is queued before any
        // later submission's insert) before the next load starts.
        let expected = before.saturating_sub(200.min(before));
        assert!(
            gearman_testkit::wait_until(Duration::from_secs(5), || queued(server) == expected),
            "{} jobs queued, expected {expected}",
            queued(server)
        );
    }
    // A job's delete is written after its completion, like any write: an acknowledged
    // submission after the last completions shows they are all written before the kill.
    acknowledged.insert(fence(server));
    server.restart();
    for unique in complete_some(server, usize::MAX) {
        assert!(
            completed.insert(unique.clone()),
            "{unique:?} ran again after it was completed"
        );
    }
    assert!(acknowledged.len() >= cycles * 300, "{}", acknowledged.len());
    let missing: Vec<_> = acknowledged.difference(&completed).take(5).collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged jobs lost, e.g. {missing:?}",
        acknowledged.difference(&completed).count(),
        acknowledged.len()
    );
    // Completed jobs are deleted: after another restart nothing is replayed.
    server.restart();
    assert_eq!(gearman_testkit::admin(server.port, "show jobs"), ".\n");
}
