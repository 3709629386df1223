//! `-q MySQL` (on MariaDB): ours and Debian's gearmand share gearmand's MySQL table, in both
//! directions; every acknowledged job survives `kill -9` of ours and the database going away for
//! a while.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::Raw;
use gearman_core::blocking::{BlockingClient, BlockingWorker};
use gearman_core::protocol::PacketType;
use gearman_core::{ClientOptions, JobRequest, Outcome, Priority, WorkerOptions};
use gearman_testkit::mariadb::MariadbServer;
use gearman_testkit::Server;

fn queue_options(db: &MariadbServer) -> Vec<String> {
    vec![
        "-q".into(),
        "MySQL".into(),
        "--mysql-host=127.0.0.1".into(),
        format!("--mysql-port={}", db.port),
        "--mysql-user=gearman".into(),
        "--mysql-db=gearman".into(),
    ]
}

fn rows(db: &MariadbServer) -> usize {
    db.sql("SELECT count(*) FROM gearman.gearman_queue")
        .parse()
        .unwrap()
}

fn as_strs(options: &[String]) -> Vec<&str> {
    options.iter().map(String::as_str).collect()
}

/// A job as a worker sees it: (function, unique, workload).
type Seen = (Bytes, Bytes, Bytes);

fn run_all(addr: &str, functions: &[&str], idle: Duration) -> Vec<Seen> {
    let options = WorkerOptions {
        timeout: Some(idle),
        ..Default::default()
    };
    let mut worker = BlockingWorker::new(options).unwrap();
    worker.add_servers(addr).unwrap();
    for f in functions {
        worker.register(f.to_string(), None).unwrap();
    }
    let mut seen = Vec::new();
    while let Ok(job) = worker.grab_job() {
        seen.push((
            job.function.clone(),
            job.unique.clone(),
            job.workload.clone(),
        ));
        worker.send_complete(&job, b"").unwrap();
    }
    seen
}

/// Background jobs of three priorities; libgearman-style UUID uniques where `uuid` says so.
fn submit_mix(addr: &str, function: &str) -> Vec<Seen> {
    let mut client = BlockingClient::new(ClientOptions::default()).unwrap();
    client.add_servers(addr).unwrap();
    let plan = [
        (Priority::Low, "low"),
        (Priority::Normal, "normal"),
        (Priority::High, "high"),
        (Priority::Normal, ""),
    ];
    let mut queued = Vec::new();
    for (i, (priority, data)) in plan.into_iter().enumerate() {
        // The client generates a UUID unique, as libgearman's clients do.
        let request = JobRequest::new(
            function.to_string(),
            format!(
                "{data}{}",
                if data.is_empty() {
                    String::new()
                } else {
                    i.to_string()
                }
            ),
        )
        .priority(priority);
        let id = client.submit(request.background(true)).unwrap();
        let result = client.wait(id).unwrap();
        assert_eq!(result.outcome, Some(Outcome::Queued));
        queued.push((
            Bytes::from(function.to_string()),
            result.unique.clone(),
            Bytes::from(if data.is_empty() {
                String::new()
            } else {
                format!("{data}{i}")
            }),
        ));
    }
    queued
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn sorted(jobs: &[Seen]) -> Vec<Seen> {
    let mut jobs = jobs.to_vec();
    jobs.sort();
    jobs
}

/// Priorities come back in order.
fn assert_priorities(seen: &[Seen]) {
    let rank = |data: &[u8]| {
        if data.starts_with(b"high") {
            0
        } else if data.starts_with(b"low") {
            2
        } else {
            1
        }
    };
    let ranks: Vec<i32> = seen.iter().map(|s| rank(&s.2)).collect();
    let mut ordered = ranks.clone();
    ordered.sort();
    assert_eq!(ranks, ordered, "{seen:?}");
}

#[test]
fn gearmands_mysql_jobs_run_on_ours() {
    let db = MariadbServer::start();
    let options = queue_options(&db);
    let mut gearmand = Server::debian_with(&as_strs(&options));
    let queued = submit_mix(&gearmand.addr(), "plain");
    // An epoch job due in 2 s.
    let due = now() + 2;
    let mut client = BlockingClient::new(ClientOptions::default()).unwrap();
    client.add_servers(&gearmand.addr()).unwrap();
    client
        .submit_background(JobRequest::new("later", "epoch").unique("e-1").run_at(due))
        .unwrap();
    drop(client);
    gearmand.kill();
    assert_eq!(rows(&db), queued.len() + 1);

    let ours = Server::ours_with(&as_strs(&options));
    let seen = run_all(&ours.addr(), &["plain"], Duration::from_secs(1));
    assert_eq!(sorted(&seen), sorted(&queued), "{}", ours.log());
    assert_priorities(&seen);
    let epoch = run_all(&ours.addr(), &["later"], Duration::from_secs(4));
    assert!(now() >= due, "the epoch job ran early");
    assert_eq!(
        epoch,
        [(
            Bytes::from("later"),
            Bytes::from("e-1"),
            Bytes::from("epoch")
        )]
    );
    drop(ours);
    assert_eq!(rows(&db), 0);
}

#[test]
fn ours_mysql_jobs_run_on_gearmand() {
    let db = MariadbServer::start();
    let options = queue_options(&db);
    let mut ours = Server::ours_with(&as_strs(&options));
    let queued = submit_mix(&ours.addr(), "plain");
    // No unique, and `-`: each still gets its own key.
    let mut raw = Raw::connect(ours.port);
    for data in ["no-unique-1", "no-unique-2", "dash-1"] {
        let unique: &[u8] = if data.starts_with("dash") { b"-" } else { b"" };
        raw.send(
            PacketType::SubmitJobBg,
            &[b"plain", unique, data.as_bytes()],
        );
        raw.expect_kind(PacketType::JobCreated);
    }
    drop(raw);
    ours.kill();

    let gearmand = Server::debian_with(&as_strs(&options));
    let seen = run_all(&gearmand.addr(), &["plain"], Duration::from_secs(1));
    let (named, generated): (Vec<Seen>, Vec<Seen>) = seen
        .iter()
        .cloned()
        .partition(|s| queued.iter().any(|q| q.1 == s.1));
    assert_eq!(sorted(&named), sorted(&queued), "{}", gearmand.log());
    let mut workloads: Vec<_> = generated.iter().map(|s| s.2.clone()).collect();
    workloads.sort();
    assert_eq!(workloads, ["dash-1", "no-unique-1", "no-unique-2"]);
    assert_priorities(&seen);
    drop(gearmand);
    assert_eq!(rows(&db), 0);
}

#[test]
fn acknowledged_jobs_survive_kill_9_cycles() {
    let db = MariadbServer::start();
    let mut server = Server::ours_with(&as_strs(&queue_options(&db)));
    common::durable::kill_9_cycles(&mut server, 20);
    drop(server);
    assert_eq!(rows(&db), 0);
}

/// MariaDB stops for a second under a load of background submissions: submissions meanwhile get
/// an ERROR (never a JOB_CREATED for a job that is not stored), the server stays up and
/// reconnects, and every acknowledged job runs.
#[test]
fn mysql_going_away_loses_no_acknowledged_job() {
    let mut db = MariadbServer::start();
    let mut options = queue_options(&db);
    options.push("--verbose=WARNING".into());
    let server = Server::ours_with(&as_strs(&options));
    let stop = Arc::new(AtomicBool::new(false));
    let refused = Arc::new(AtomicUsize::new(0));
    let loader = {
        let (addr, stop, refused) = (server.addr(), stop.clone(), refused.clone());
        std::thread::spawn(move || {
            let options = ClientOptions {
                timeout: Some(Duration::from_secs(10)),
                resubmit: false,
                ..Default::default()
            };
            let mut client = BlockingClient::new(options).unwrap();
            client.add_servers(&addr).unwrap();
            let mut acked = HashSet::new();
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let request = JobRequest::new("outage", format!("job-{i}")).background(true);
                let Ok(id) = client.submit(request) else {
                    continue;
                };
                match client.wait(id) {
                    Ok(r) if r.outcome == Some(Outcome::Queued) => {
                        acked.insert(r.unique.clone());
                    }
                    _ => {
                        refused.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            acked
        })
    };
    std::thread::sleep(Duration::from_millis(500));
    db.stop();
    std::thread::sleep(Duration::from_secs(1));
    db.restart();
    assert!(
        gearman_testkit::wait_until(Duration::from_secs(10), || server
            .log()
            .contains("queue writes work again")),
        "{}",
        server.log()
    );
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    let acked = loader.join().unwrap();
    assert!(
        refused.load(Ordering::Relaxed) > 0,
        "no submission was refused while MariaDB was down"
    );
    assert!(acked.len() > 100, "only {} acknowledged", acked.len());
    assert!(server.log().contains("reconnected"), "{}", server.log());
    // One line a second while it failed, not one per refused submission.
    let errors = server.log().matches("queue write failed").count();
    let refused = refused.load(Ordering::Relaxed);
    assert!(
        errors <= 15 && errors * 10 < refused,
        "{errors} error lines for {refused} refused submissions:\n{}",
        server.log()
    );
    let seen: HashSet<Bytes> = run_all(&server.addr(), &["outage"], Duration::from_secs(1))
        .into_iter()
        .map(|s| s.1)
        .collect();
    let missing = acked.difference(&seen).count();
    assert_eq!(
        missing,
        0,
        "{missing} of {} acknowledged jobs lost",
        acked.len()
    );
}

#[test]
fn unreachable_mysql_at_start_is_a_clear_error() {
    let closed = gearman_testkit::closed_port();
    let output = std::process::Command::new(gearman_testkit::our_gearmand())
        .args([
            "--listen=127.0.0.1",
            "--port=0",
            "-q",
            "MySQL",
            "--mysql-host=127.0.0.1",
        ])
        .arg(format!("--mysql-port={}", closed.port))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("mysql queue 127.0.0.1"), "{stderr}");
}
