//! `-q libsqlite3`: ours and Debian's gearmand share one queue table, in both directions, and
//! a table of our old schema is moved into gearmand's.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use common::queue::{self, as_strs, run_all, Database, Order};
use gearman_testkit::Server;

/// A queue file (stopping and restarting it means nothing).
struct Sqlite {
    path: PathBuf,
    table: Option<&'static str>,
}

impl Sqlite {
    fn new(tag: &str, table: Option<&'static str>) -> Sqlite {
        let path = gearman_testkit::temp_dir(tag).join("queue.db");
        Sqlite { path, table }
    }
}

impl Database for Sqlite {
    fn queue_options(&self) -> Vec<String> {
        let mut options = vec![
            "-q".to_string(),
            "libsqlite3".into(),
            format!("--libsqlite3-db={}", self.path.display()),
        ];
        if let Some(table) = self.table {
            options.push(format!("--libsqlite3-table={table}"));
        }
        options
    }

    fn stored(&self) -> usize {
        rows(&self.path, self.table.unwrap_or("gearman_queue")) as usize
    }

    fn stop(&mut self) {}

    fn restart(&mut self) {}
}

fn rows(db: &Path, table: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

/// gearmand stores the empty workload as NULL (and cannot start on that file itself); ours
/// reads it. An epoch job runs when due.
#[test]
fn gearmands_queue_runs_on_ours() {
    let db = Sqlite::new("sqlite-from-gearmand", None);
    queue::gearmands_jobs_run_on_ours(&db, &["mix_a", "mix_b"], true, Order::Fifo);
}

/// On a table of another name; jobs without a unique and with `-` each keep their own row.
#[test]
fn ours_queue_runs_on_gearmand() {
    let db = Sqlite::new("sqlite-to-gearmand", Some("shared_jobs"));
    queue::ours_jobs_run_on_gearmand(&db, Order::Fifo);
    assert_eq!(db.stored(), 0);
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
    let options = Sqlite {
        path: db.clone(),
        table: None,
    }
    .queue_options();
    let ours = Server::ours_with(&as_strs(&options));
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
