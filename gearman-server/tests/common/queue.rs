//! What the durable-queue tests of every back-end share: the jobs they queue, the worker that
//! runs them, the checks, and the scenarios run against each database (Debian's gearmand and
//! ours on one table or key space, both ways; `kill -9` cycles; the database going away).

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use gearman_core::blocking::{BlockingClient, BlockingWorker};
use gearman_core::protocol::PacketType;
use gearman_core::{ClientOptions, JobRequest, Outcome, Priority, WorkerOptions};
use gearman_testkit::Server;

use super::Raw;

/// A database a queue back-end keeps its jobs in, started for one test.
pub trait Database {
    /// Our gearmand's (and Debian's) options for it.
    fn queue_options(&self) -> Vec<String>;
    /// How many jobs it holds.
    fn stored(&self) -> usize;
    /// Stops it at once; `restart` brings it back with what it had committed.
    fn stop(&mut self);
    fn restart(&mut self);
}

pub fn as_strs(options: &[String]) -> Vec<&str> {
    options.iter().map(String::as_str).collect()
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A job as a worker sees it: (function, unique, workload).
pub type Seen = (Bytes, Bytes, Bytes);

/// Runs every job of `functions` that `addr` hands out within `idle` of the last one, in the
/// order handed out.
pub fn run_all(addr: &str, functions: &[&str], idle: Duration) -> Vec<Seen> {
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

pub fn sorted(jobs: &[Seen]) -> Vec<Seen> {
    let mut jobs = jobs.to_vec();
    jobs.sort();
    jobs
}

/// Background jobs of three priorities, two of each, and an empty workload, with the UUID
/// uniques the client generates (as libgearman's clients do).
pub fn submit_mix(addr: &str, function: &str) -> Vec<Seen> {
    let mut client = BlockingClient::new(ClientOptions::default()).unwrap();
    client.add_servers(addr).unwrap();
    let plan = [
        (Priority::Low, "low-1"),
        (Priority::Normal, "normal-1"),
        (Priority::High, "high-1"),
        (Priority::Normal, "normal-2"),
        (Priority::Low, "low-2"),
        (Priority::High, "high-2"),
        (Priority::Normal, ""),
    ];
    let mut queued = Vec::new();
    for (priority, data) in plan {
        let request = JobRequest::new(function.to_string(), data).priority(priority);
        let id = client.submit(request.background(true)).unwrap();
        let result = client.wait(id).unwrap();
        assert_eq!(result.outcome, Some(Outcome::Queued));
        queued.push((
            Bytes::from(function.to_string()),
            result.unique.clone(),
            Bytes::from(data),
        ));
    }
    queued
}

/// What a replay keeps of the order `submit_mix` queued its jobs in.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Highest priority first, and within one priority in the order queued.
    Fifo,
    /// Highest priority first (the store keeps no order within one).
    Priorities,
    /// Not even that (a replay that loses the priorities).
    None,
}

/// `seen` (one function's `submit_mix` jobs) came back in `order`.
pub fn assert_order(seen: &[Seen], order: Order) {
    let rank = |data: &[u8]| {
        if data.starts_with(b"high") {
            0
        } else if data.starts_with(b"low") {
            2
        } else {
            1
        }
    };
    match order {
        Order::Fifo => {
            let workloads: Vec<&[u8]> = seen.iter().map(|s| &s.2[..]).collect();
            let want: [&[u8]; 7] = [
                b"high-1",
                b"high-2",
                b"normal-1",
                b"normal-2",
                b"",
                b"low-1",
                b"low-2",
            ];
            assert_eq!(workloads, want, "{seen:?}");
        }
        Order::Priorities => {
            let ranks: Vec<i32> = seen.iter().map(|s| rank(&s.2)).collect();
            let mut ordered = ranks.clone();
            ordered.sort();
            assert_eq!(ranks, ordered, "{seen:?}");
        }
        Order::None => {}
    }
}

/// Queues job `epoch` of function `later`, unique `e-1`, to run at `due`.
pub fn submit_epoch(addr: &str, due: u64) {
    let mut client = BlockingClient::new(ClientOptions::default()).unwrap();
    client.add_servers(addr).unwrap();
    client
        .submit_background(JobRequest::new("later", "epoch").unique("e-1").run_at(due))
        .unwrap();
}

/// The `submit_epoch` job runs once due and not before. gearmand hands out a due epoch job only
/// when a worker asks (it wakes no sleeping worker), so with it the worker asks after `due`.
pub fn assert_epoch_runs_when_due(addr: &str, due: u64, ask_after_due: bool) {
    if ask_after_due {
        while now() <= due {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let epoch = run_all(addr, &["later"], Duration::from_secs(4));
    assert!(now() >= due, "the epoch job ran early");
    assert_eq!(
        epoch,
        [(
            Bytes::from("later"),
            Bytes::from("e-1"),
            Bytes::from("epoch")
        )]
    );
}

/// Debian's gearmand queues jobs of `functions` (and an epoch job if `epoch`) and is killed;
/// ours, on the same database, runs them all in `order`, the epoch job when due.
pub fn gearmands_jobs_run_on_ours(
    db: &impl Database,
    functions: &[&str],
    epoch: bool,
    order: Order,
) {
    let options = db.queue_options();
    let mut gearmand = Server::debian_with(&as_strs(&options));
    let mut queued = Vec::new();
    for function in functions {
        queued.extend(submit_mix(&gearmand.addr(), function));
    }
    let due = now() + 2;
    if epoch {
        submit_epoch(&gearmand.addr(), due);
    }
    gearmand.kill();
    assert_eq!(db.stored(), queued.len() + usize::from(epoch));

    let ours = Server::ours_with(&as_strs(&options));
    let seen = run_all(&ours.addr(), functions, Duration::from_secs(1));
    assert_eq!(sorted(&seen), sorted(&queued), "{}", ours.log());
    for function in functions {
        let one: Vec<Seen> = seen.iter().filter(|s| s.0 == *function).cloned().collect();
        assert_order(&one, order);
    }
    if epoch {
        assert_epoch_runs_when_due(&ours.addr(), due, false);
    }
    drop(ours);
    assert_eq!(db.stored(), 0);
}

/// Ours queues jobs (also without a unique and with `-`, which get one each) and is killed;
/// Debian's gearmand, on the same database, runs them all, in `order`.
pub fn ours_jobs_run_on_gearmand(db: &impl Database, order: Order) {
    let options = db.queue_options();
    let mut ours = Server::ours_with(&as_strs(&options));
    let queued = submit_mix(&ours.addr(), "plain");
    let mut raw = Raw::connect(ours.port);
    for (unique, data) in [("", "no-unique-1"), ("", "no-unique-2"), ("-", "dash-1")] {
        raw.send(
            PacketType::SubmitJobBg,
            &[b"plain", unique.as_bytes(), data.as_bytes()],
        );
        raw.expect_kind(PacketType::JobCreated);
    }
    drop(raw);
    ours.kill();
    assert_eq!(db.stored(), queued.len() + 3);

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
    let uniques: HashSet<_> = generated.iter().map(|s| s.1.clone()).collect();
    assert_eq!(uniques.len(), 3, "{generated:?}");
    assert_order(&named, order);
}

/// 20 `kill -9` cycles of ours under load (see `durable::kill_9_cycles`); nothing is left.
pub fn acknowledged_jobs_survive_kill_9_cycles(db: &impl Database) {
    let mut server = Server::ours_with(&as_strs(&db.queue_options()));
    super::durable::kill_9_cycles(&mut server, 20);
    drop(server);
    assert_eq!(db.stored(), 0);
}

/// The database stops for a second under a load of background submissions: submissions
/// meanwhile get an ERROR (never a JOB_CREATED for a job that is not stored), the server stays
/// up, logs the outage about once a second and reconnects, and every acknowledged job runs.
pub fn database_going_away_loses_no_acknowledged_job(db: &mut impl Database) {
    let mut options = db.queue_options();
    options.push("--verbose=WARNING".into());
    let server = Server::ours_with(&as_strs(&options));
    let stop = Arc::new(AtomicBool::new(false));
    let refused = Arc::new(AtomicUsize::new(0));
    let loader = {
        let (addr, stop, refused) = (server.addr(), stop.clone(), refused.clone());
        std::thread::spawn(move || {
            let mut client = super::durable::client(&addr);
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
    let refused = refused.load(Ordering::Relaxed);
    assert!(
        refused > 0,
        "no submission was refused while the database was down"
    );
    assert!(acked.len() > 100, "only {} acknowledged", acked.len());
    assert!(server.log().contains("reconnected"), "{}", server.log());
    // About one line a second while it failed, not one per refused submission.
    let errors = server.log().matches("queue write failed").count();
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

/// A database our gearmand cannot reach at start: it exits non-zero, naming it.
pub fn unreachable_at_start_is_a_clear_error(queue_options: &[String], named: &str) {
    let output = std::process::Command::new(gearman_testkit::our_gearmand())
        .args(["--listen=127.0.0.1", "--port=0"])
        .args(queue_options)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(named), "{stderr}");
}
