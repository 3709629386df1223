//! `-q sqlite`: every acknowledged background job survives `kill -9`, and runs after a restart.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use gearman_core::blocking::{BlockingClient, BlockingWorker};
use gearman_core::{ClientOptions, JobEvent, JobRequest, Outcome, Priority, WorkerOptions};
use gearman_testkit::Server;

fn sqlite_server(db: &std::path::Path) -> Server {
    let db = format!("--sqlite-db={}", db.display());
    Server::ours_with(&["-q", "sqlite", &db])
}

/// Four clients submit pipelined background jobs until the server is killed under them, once
/// at least `min_acks` were acknowledged; returns the acknowledged jobs' uniques.
fn load_until_killed(server: &Server, min_acks: usize) -> Vec<Bytes> {
    let addr = server.addr();
    let acked_so_far = AtomicUsize::new(0);
    let acknowledged: Vec<Vec<Bytes>> = std::thread::scope(|scope| {
        let loaders: Vec<_> = (0..4)
            .map(|t| {
                let addr = addr.clone();
                let acked_so_far = &acked_so_far;
                scope.spawn(move || {
                    let options = ClientOptions {
                        timeout: Some(Duration::from_secs(5)),
                        resubmit: false,
                        ..Default::default()
                    };
                    let mut client = BlockingClient::new(options).unwrap();
                    client.add_servers(&addr).unwrap();
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
fn complete_some(server: &Server, limit: usize) -> Vec<Bytes> {
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

/// How many `durable` jobs the server holds (admin `status`).
fn queued(server: &Server) -> usize {
    let status = gearman_testkit::admin(server.port, "status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("durable\t"))
        .and_then(|rest| rest.split('\t').next())
        .map_or(0, |n| n.parse().unwrap())
}

/// 20 cycles of: load, `kill -9` under it, restart, complete some jobs. Every acknowledged job
/// runs; none runs again after it was completed.
#[test]
fn acknowledged_jobs_survive_kill_9_cycles_and_run_once_completed() {
    let dir = gearman_testkit::temp_dir("sqlite");
    let db = dir.join("queue.db");
    let mut server = sqlite_server(&db);
    let mut acknowledged = HashSet::new();
    let mut completed = HashSet::new();
    for _cycle in 0..20 {
        acknowledged.extend(load_until_killed(&server, 300));
        server.restart();
        let before = queued(&server);
        for unique in complete_some(&server, 200) {
            assert!(
                completed.insert(unique.clone()),
                "{unique:?} ran again after it was completed"
            );
        }
        // The server has handled every completion (so its row's delete is queued before any
        // later submission's insert) before the next load starts.
        let expected = before.saturating_sub(200.min(before));
        assert!(
            gearman_testkit::wait_until(Duration::from_secs(5), || queued(&server) == expected),
            "{} jobs queued, expected {expected}",
            queued(&server)
        );
    }
    server.restart();
    for unique in complete_some(&server, usize::MAX) {
        assert!(
            completed.insert(unique.clone()),
            "{unique:?} ran again after it was completed"
        );
    }
    assert!(acknowledged.len() >= 20 * 300, "{}", acknowledged.len());
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

#[test]
fn stored_jobs_keep_priority_epoch_and_handle_across_restarts() {
    let dir = gearman_testkit::temp_dir("sqlite-meta");
    let db = dir.join("queue.db");
    let mut server = sqlite_server(&db);
    let mut client = BlockingClient::new(ClientOptions::default()).unwrap();
    client.add_servers(&server.addr()).unwrap();
    let low = client
        .submit_background(JobRequest::new("meta", "low").priority(Priority::Low))
        .unwrap();
    let high = client
        .submit_background(JobRequest::new("meta", "high").priority(Priority::High))
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let later = client
        .submit_background(JobRequest::new("meta", "later").run_at(now + 3600))
        .unwrap();
    // A foreground job is not stored.
    let fg = client.submit(JobRequest::new("meta", "fg")).unwrap();
    while !matches!(
        client.next_event().unwrap().map(|e| e.event),
        Some(JobEvent::Created(_))
    ) {}
    let _ = fg;
    drop(client);
    server.restart();
    let jobs = gearman_testkit::admin(server.port, "show jobs");
    for handle in [&low, &high, &later] {
        assert!(
            jobs.contains(std::str::from_utf8(handle).unwrap()),
            "{jobs}"
        );
    }
    assert_eq!(jobs.lines().count(), 4, "{jobs}");
    let options = WorkerOptions {
        timeout: Some(Duration::from_secs(2)),
        ..Default::default()
    };
    let mut worker = BlockingWorker::new(options).unwrap();
    worker.add_servers(&server.addr()).unwrap();
    worker.register("meta", None).unwrap();
    let first = worker.grab_job().unwrap();
    assert_eq!(first.workload, Bytes::from("high"));
    worker.send_complete(&first, b"").unwrap();
    let second = worker.grab_job().unwrap();
    assert_eq!(second.workload, Bytes::from("low"));
    worker.send_complete(&second, b"").unwrap();
    // The epoch job is not due for an hour.
    assert!(worker.grab_job().is_err());
}

/// Replies keep the order of requests while stored jobs await their commit: background
/// submissions join the group commit, anything else waits for it.
#[test]
fn replies_keep_their_order_around_stored_jobs() {
    use common::Raw;
    use gearman_core::protocol::PacketType;
    let dir = gearman_testkit::temp_dir("sqlite-order");
    let server = sqlite_server(&dir.join("queue.db"));
    let mut raw = Raw::connect(server.port);
    let mut pipelined = Vec::new();
    for i in 0..50 {
        let unique = format!("order-{i}");
        pipelined.extend(common::packet(
            gearman_core::protocol::Magic::Request,
            PacketType::SubmitJobBg,
            &[b"ordered", unique.as_bytes(), b"x"],
        ));
        if i % 10 == 9 {
            pipelined.extend(common::packet(
                gearman_core::protocol::Magic::Request,
                PacketType::EchoReq,
                &[format!("echo-{i}").as_bytes()],
            ));
        }
    }
    raw.send_bytes(&pipelined);
    for i in 0..50 {
        raw.expect_kind(PacketType::JobCreated);
        if i % 10 == 9 {
            raw.expect(PacketType::EchoRes, &[format!("echo-{i}").as_bytes()]);
        }
    }
    let status = gearman_testkit::admin(server.port, "status");
    assert!(status.contains("ordered\t50\t"), "{status}");
}
