//! `-q libsqlite3`: ours and Debian's gearmand share one queue table, in both directions, and
//! a table of our old schema is moved into gearmand's.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use common::Raw;
use gearman_core::blocking::{BlockingClient, BlockingWorker};
use gearman_core::protocol::PacketType;
use gearman_core::{ClientOptions, JobRequest, Priority, WorkerOptions};
use gearman_testkit::Server;

fn queue_options(db: &Path, table: Option<&str>) -> Vec<String> {
    let mut options = vec![
        "-q".to_string(),
        "libsqlite3".into(),
        format!("--libsqlite3-db={}", db.display()),
    ];
    if let Some(table) = table {
        options.push(format!("--libsqlite3-table={table}"));
    }
    options
}

fn as_strs(options: &[String]) -> Vec<&str> {
    options.iter().map(String::as_str).collect()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A job as a worker sees it: (function, unique, workload).
type Seen = (Bytes, Bytes, Bytes);

/// Runs every job of `functions` that `addr` hands out within `idle` of the last one, in the
/// order handed out.
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

fn rows(db: &Path, table: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

/// The jobs both directions queue: two functions, three priorities, uniques, an empty workload.
fn submit_mix(addr: &str) -> Vec<Seen> {
    let mut client = BlockingClient::new(ClientOptions::default()).unwrap();
    client.add_servers(addr).unwrap();
    let mut queued = Vec::new();
    let plan: &[(&str, Priority, &str)] = &[
        ("mix_a", Priority::Low, "low-1"),
        ("mix_a", Priority::Normal, "normal-1"),
        ("mix_a", Priority::High, "high-1"),
        ("mix_a", Priority::Normal, "normal-2"),
        ("mix_a", Priority::Low, "low-2"),
        ("mix_a", Priority::High, "high-2"),
        ("mix_b", Priority::Normal, "b-1"),
        ("mix_b", Priority::Normal, ""),
    ];
    for (i, &(function, priority, data)) in plan.iter().enumerate() {
        let unique = format!("u-{i}");
        let request = JobRequest::new(function, data.to_string())
            .unique(unique.clone())
            .priority(priority);
        client.submit_background(request).unwrap();
        queued.push((
            Bytes::from(function),
            Bytes::from(unique),
            Bytes::from(data.to_string()),
        ));
    }
    queued
}

/// What `submit_mix` queued must come back in priority order per function, FIFO within one.
fn assert_priority_order(seen: &[Seen]) {
    let a: Vec<&[u8]> = seen
        .iter()
        .filter(|s| s.0 == "mix_a")
        .map(|s| &s.2[..])
        .collect();
    assert_eq!(
        a,
        [
            &b"high-1"[..],
            b"high-2",
            b"normal-1",
            b"normal-2",
            b"low-1",
            b"low-2"
        ]
    );
}

fn sorted(jobs: &[Seen]) -> Vec<Seen> {
    let mut jobs = jobs.to_vec();
    jobs.sort();
    jobs
}

#[test]
fn gearmands_queue_runs_on_ours() {
    let dir = gearman_testkit::temp_dir("sqlite-from-gearmand");
    let db = dir.join("queue.db");
    let options = queue_options(&db, None);
    let mut gearmand = Server::debian_with(&as_strs(&options));
    let queued = submit_mix(&gearmand.addr());
    // An epoch job, due in 2 s.
    let due = now() + 2;
    let mut client = BlockingClient::new(ClientOptions::default()).unwrap();
    client.add_servers(&gearmand.addr()).unwrap();
    client
        .submit_background(
            JobRequest::new("mix_epoch", "later")
                .unique("e-1")
                .run_at(due),
        )
        .unwrap();
    drop(client);
    gearmand.kill();
    assert_eq!(rows(&db, "gearman_queue"), 9);

    let ours = Server::ours_with(&as_strs(&options));
    let seen = run_all(&ours.addr(), &["mix_a", "mix_b"], Duration::from_secs(1));
    assert_eq!(sorted(&seen), sorted(&queued), "{}", ours.log());
    assert_priority_order(&seen);
    // The epoch job runs when it is due, not before.
    let epoch = run_all(&ours.addr(), &["mix_epoch"], Duration::from_secs(4));
    assert!(now() >= due);
    assert_eq!(
        epoch,
        [(
            Bytes::from("mix_epoch"),
            Bytes::from("e-1"),
            Bytes::from("later")
        )]
    );
    drop(ours);
    assert_eq!(rows(&db, "gearman_queue"), 0);
}

#[test]
fn ours_queue_runs_on_gearmand() {
    let dir = gearman_testkit::temp_dir("sqlite-to-gearmand");
    let db = dir.join("queue.db");
    let options = queue_options(&db, Some("shared_jobs"));
    let mut ours = Server::ours_with(&as_strs(&options));
    let mut queued = submit_mix(&ours.addr());
    // Jobs without a unique and with `-` (gearmand's own table would keep only one of each).
    let mut raw = Raw::connect(ours.port);
    for data in ["no-unique-1", "no-unique-2"] {
        raw.send(PacketType::SubmitJobBg, &[b"mix_b", b"", data.as_bytes()]);
        raw.expect_kind(PacketType::JobCreated);
    }
    for data in ["dash-1", "dash-2"] {
        raw.send(PacketType::SubmitJobBg, &[b"mix_b", b"-", data.as_bytes()]);
        raw.expect_kind(PacketType::JobCreated);
    }
    drop(raw);
    let due = now() + 2;
    let mut client = BlockingClient::new(ClientOptions::default()).unwrap();
    client.add_servers(&ours.addr()).unwrap();
    client
        .submit_background(
            JobRequest::new("mix_epoch", "later")
                .unique("e-1")
                .run_at(due),
        )
        .unwrap();
    drop(client);
    ours.kill();
    assert_eq!(rows(&db, "shared_jobs"), 13);

    let gearmand = Server::debian_with(&as_strs(&options));
    let seen = run_all(
        &gearmand.addr(),
        &["mix_a", "mix_b"],
        Duration::from_secs(1),
    );
    // The jobs without a unique got one from our server: compare their workloads only.
    let (generated, named): (Vec<Seen>, Vec<Seen>) =
        seen.iter().cloned().partition(|s| !s.1.starts_with(b"u-"));
    assert_eq!(sorted(&named), sorted(&queued), "{}", gearmand.log());
    let mut workloads: Vec<_> = generated.iter().map(|s| s.2.clone()).collect();
    workloads.sort();
    assert_eq!(
        workloads,
        ["dash-1", "dash-2", "no-unique-1", "no-unique-2"]
    );
    let uniques: HashSet<_> = generated.iter().map(|s| s.1.clone()).collect();
    assert_eq!(uniques.len(), 4, "{generated:?}");
    assert_priority_order(&seen);
    // gearmand hands out a due epoch job only when a worker asks (a sleeping worker is not
    // woken when it falls due): ask after it is due.
    while now() <= due {
        std::thread::sleep(Duration::from_millis(100));
    }
    let epoch = run_all(&gearmand.addr(), &["mix_epoch"], Duration::from_secs(1));
    assert_eq!(
        epoch,
        [(
            Bytes::from("mix_epoch"),
            Bytes::from("e-1"),
            Bytes::from("later")
        )]
    );
    queued.clear();
    drop(gearmand);
    assert_eq!(rows(&db, "shared_jobs"), 0);
}

/// A database written by our releases before gearmand's schema (table `gearman_jobs`, keyed by
/// handle number) is moved into gearmand's table at start, and nothing is lost.
#[test]
fn our_old_table_moves_into_gearmands() {
    let dir = gearman_testkit::temp_dir("sqlite-old-schema");
    let db = dir.join("queue.db");
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(
            "CREATE TABLE gearman_jobs (id INTEGER PRIMARY KEY, function_name BLOB NOT NULL,
             unique_key BLOB NOT NULL, reducer BLOB NOT NULL, data BLOB NOT NULL,
             priority INTEGER NOT NULL, when_to_run INTEGER NOT NULL)",
        )
        .unwrap();
        // (id, function, unique, workload, priority)
        type OldRow<'a> = (i64, &'a str, &'a str, &'a str, i64);
        let old: &[OldRow] = &[
            (7, "old_f", "k-1", "first", 1),
            (8, "old_f", "", "no unique", 1),
            (9, "old_f", "", "no unique either", 0),
            (12, "old_f", "k-2", "", 2),
        ];
        for &(id, function, unique, data, priority) in old {
            conn.execute(
                "INSERT INTO gearman_jobs VALUES (?1, ?2, ?3, X'', ?4, ?5, 0)",
                rusqlite::params![
                    id,
                    function.as_bytes(),
                    unique.as_bytes(),
                    data.as_bytes(),
                    priority
                ],
            )
            .unwrap();
        }
    }
    let ours = Server::ours_with(&as_strs(&queue_options(&db, None)));
    // Handles are kept: the old ids.
    let jobs = gearman_testkit::admin(ours.port, "show jobs");
    for id in [7, 8, 9, 12] {
        assert!(jobs.contains(&format!(":{id}\t")), "{jobs}");
    }
    let seen = run_all(&ours.addr(), &["old_f"], Duration::from_secs(1));
    let by_data: BTreeMap<_, _> = seen.iter().map(|s| (s.2.clone(), s.1.clone())).collect();
    let order: Vec<_> = seen.iter().map(|s| s.2.clone()).collect();
    assert_eq!(
        order,
        ["no unique either", "first", "no unique", ""],
        "{}",
        ours.log()
    );
    assert_eq!(by_data[&Bytes::from("first")], "k-1");
    assert_eq!(by_data[&Bytes::from("")], "k-2");
    assert_ne!(
        by_data[&Bytes::from("no unique")],
        by_data[&Bytes::from("no unique either")]
    );
    drop(ours);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(tables, ["gearman_queue"]);
    assert_eq!(rows(&db, "gearman_queue"), 0);
}
