//! `-q sqlite`: every acknowledged background job survives `kill -9`, and runs after a restart.

mod common;

use std::time::Duration;

use bytes::Bytes;
use gearman_core::blocking::{BlockingClient, BlockingWorker};
use gearman_core::{ClientOptions, JobEvent, JobRequest, Priority, WorkerOptions};
use gearman_testkit::Server;

fn sqlite_server(db: &std::path::Path) -> Server {
    let db = format!("--sqlite-db={}", db.display());
    Server::ours_with(&["-q", "sqlite", &db])
}

/// 20 cycles of: load, `kill -9` under it, restart, complete some jobs. Every acknowledged job
/// runs; none runs again after it was completed.
#[test]
fn acknowledged_jobs_survive_kill_9_cycles_and_run_once_completed() {
    let dir = gearman_testkit::temp_dir("sqlite");
    let mut server = sqlite_server(&dir.join("queue.db"));
    common::durable::kill_9_cycles(&mut server, 20);
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
