//! `libgearman_mysql_udf.so` in a real MariaDB (a throwaway server from Debian's package),
//! against our gearmand and Debian's, with Debian's `gearman -w` worker and workers of
//! gearman-core: results, errors, timeouts, killed queries, failover, 16 MiB and binary
//! workloads, `gman_sum`, a trigger, and many sessions at once.

use std::process::Stdio;
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use gearman_testkit::mariadb::MariadbServer;
use gearman_testkit::{ChildGuard, Kind, Server};

const FUNCTIONS: &[&str] = &[
    "gman_do",
    "gman_do_high",
    "gman_do_low",
    "gman_do_background",
    "gman_do_high_background",
    "gman_do_low_background",
    "gman_servers_set",
];

#[path = "../../sql-common/tests/support/workers.rs"]
mod workers;
use workers::{check_sessions, recorded_ids, session_workload, start_workers, CALLS, SESSIONS};

type Scenario = (&'static str, fn(&Fixture));

/// Fields drop in order: the `gearman -w` worker before the server it would retry.
struct Fixture {
    /// Debian's `gearman -w -f reverse -- rev`.
    _cli_worker: ChildGuard,
    db: MariadbServer,
    gearmand: Server,
    /// Workloads of the jobs `audit` and `record` ran.
    recorded: Mutex<mpsc::Receiver<Bytes>>,
}

impl Fixture {
    fn start(kind: Kind) -> Fixture {
        let dir = gearman_testkit::cargo_build(&["-p", "gearman-mysql-udf", "--lib"]);
        let db = MariadbServer::start();
        db.install_plugin(&dir.join("libgearman_mysql_udf.so"));
        let mut create = String::new();
        for f in FUNCTIONS {
            create +=
                &format!("CREATE FUNCTION {f} RETURNS STRING SONAME 'libgearman_mysql_udf.so';");
        }
        create += "CREATE FUNCTION gman_timeout_set RETURNS REAL SONAME 'libgearman_mysql_udf.so';";
        create +=
            "CREATE AGGREGATE FUNCTION gman_sum RETURNS INTEGER SONAME 'libgearman_mysql_udf.so';";
        db.sql(&create);
        let gearmand = kind.start();
        let workers = start_workers(&gearmand);
        Fixture {
            db,
            gearmand,
            _cli_worker: workers.cli_worker,
            recorded: Mutex::new(workers.recorded),
        }
    }

    /// Every scenario starts from the same settings: this gearmand as the only server, the
    /// default timeout.
    fn reset(&self) {
        self.db.sql(&format!(
            "SELECT gman_servers_set('{}'), gman_timeout_set(30)",
            self.gearmand.addr()
        ));
    }
}

/// For each of our gearmand and Debian's, the scenarios share one MariaDB (the UDFs' settings
/// are per database server, so they run one after the other); servers and workers are
/// stopped by PID when the test ends, pass or fail.
#[test]
fn udfs_in_mariadb() {
    let scenarios: &[Scenario] = &[
        (
            "gman_do returns the result at each priority",
            gman_do_returns_the_result_at_each_priority,
        ),
        (
            "background calls return the handle and the job runs",
            background_calls_return_the_handle_and_the_job_runs,
        ),
        (
            "workloads are binary-safe up to 16 MiB and text round-trips",
            workloads_are_binary_safe_up_to_16_mib_and_text_round_trips,
        ),
        (
            "failures are NULL with the reason as a warning",
            failures_are_null_with_the_reason_as_a_warning,
        ),
        (
            "no reachable server is a warning and the list fails over",
            no_reachable_server_is_a_warning_and_the_list_fails_over,
        ),
        (
            "a hung worker is bounded by the timeout",
            a_hung_worker_is_bounded_by_the_timeout,
        ),
        ("KILL QUERY stops the wait", kill_query_stops_the_wait),
        (
            "max_statement_time stops the wait",
            max_statement_time_stops_the_wait,
        ),
        (
            "gman_sum adds up the results of jobs run side by side",
            gman_sum_adds_up_the_results_of_jobs_run_side_by_side,
        ),
        ("8 sessions x 500 calls at once", many_sessions_call_at_once),
        (
            "an AFTER INSERT trigger queues a job per row",
            an_after_insert_trigger_queues_a_job_per_row,
        ),
    ];
    let mut failed = Vec::new();
    for kind in [Kind::Ours, Kind::Debian] {
        let fixture = Fixture::start(kind);
        for (name, scenario) in scenarios {
            fixture.reset();
            let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| scenario(&fixture)));
            if run.is_err() {
                failed.push(format!("{kind:?}: {name}"));
            }
        }
    }
    assert!(failed.is_empty(), "failed: {failed:#?}");
}

/// Through the classic worker of Debian's `gearman` tool: `gearman -w -f reverse -- rev`.
fn gman_do_returns_the_result_at_each_priority(f: &Fixture) {
    assert_eq!(f.db.sql("SELECT gman_do('reverse', 'hello')"), "olleh");
    assert_eq!(f.db.sql("SELECT gman_do_high('reverse', 'abc')"), "cba");
    assert_eq!(
        f.db.sql("SELECT gman_do_low('reverse', 'xyz', 'my-unique')"),
        "zyx"
    );
    // Data chunks come before the result; an empty result is NULL, as in the originals.
    assert_eq!(f.db.sql("SELECT gman_do('chunks', '')"), "part1-part2");
    assert_eq!(f.db.sql("SELECT gman_do('empty', 'x') IS NULL"), "1");
    // One call per row, each row its own job.
    let rows = f.db.sql(
        "SELECT gman_do('reverse', w) FROM (SELECT 'ab' w UNION ALL SELECT 'cd' UNION ALL SELECT 'ef') t",
    );
    assert_eq!(rows, "ba\ndc\nfe");
}

fn background_calls_return_the_handle_and_the_job_runs(f: &Fixture) {
    let recorded = f.recorded.lock().unwrap();
    while recorded.try_recv().is_ok() {}
    for (call, workload) in [
        ("gman_do_background", "bg-normal"),
        ("gman_do_high_background", "bg-high"),
        ("gman_do_low_background", "bg-low"),
    ] {
        let handle = f.db.sql(&format!("SELECT {call}('record', '{workload}')"));
        assert!(handle.starts_with("H:"), "{call}: {handle:?}");
        let got = recorded
            .recv_timeout(Duration::from_secs(10))
            .expect("the job ran");
        assert_eq!(&got[..], workload.as_bytes());
    }
}

fn workloads_are_binary_safe_up_to_16_mib_and_text_round_trips(f: &Fixture) {
    assert_eq!(
        f.db.sql("SELECT HEX(gman_do('rev_bytes', UNHEX('0001FF00')))"),
        "00FF0100"
    );
    assert_eq!(
        f.db.sql("SELECT gman_do('echo', 'héllo ✓ 日本')"),
        "héllo ✓ 日本"
    );
    // 16 MiB less a byte each way, compared inside the database.
    let same = f.db.sql(
        "SELECT gman_do('rev_bytes', w) = REVERSE(w), LENGTH(gman_do('echo', w))
         FROM (SELECT CONCAT(REPEAT('ab', 8388607), 'c') w) t",
    );
    assert_eq!(same, "1\t16777215");
}

fn failures_are_null_with_the_reason_as_a_warning(f: &Fixture) {
    let fail =
        f.db.sql("SELECT gman_do('fail', 'x') IS NULL; SHOW WARNINGS");
    assert!(fail.starts_with("1\nWarning\t1105\tgman_do: "), "{fail}");
    assert!(fail.contains("WORK_FAIL"), "{fail}");
    let exception =
        f.db.sql("SELECT gman_do('exception', 'x') IS NULL; SHOW WARNINGS");
    assert!(exception.contains("boom: bad input"), "{exception}");
    // A failure is that row's NULL only: the rows after it still get their results.
    let rows =
        f.db.sql("SELECT gman_do(fn, 'ab') FROM (SELECT 'fail' fn UNION ALL SELECT 'rev_bytes') t");
    assert_eq!(rows, "NULL\nba");
    // A NULL function name: NULL for that row, with the reason.
    for call in ["gman_do(NULL, 'x')", "gman_do(NULLIF('a', 'a'), 'x')"] {
        let null_row = f.db.sql(&format!("SELECT {call}; SHOW WARNINGS"));
        assert_eq!(
            null_row,
            "NULL\nWarning\t1105\tgman_do: the function name is NULL"
        );
    }
    let arity = f.db.try_sql("SELECT gman_do('rev_bytes')").unwrap_err();
    assert!(arity.contains("two or three arguments"), "{arity}");
}

fn no_reachable_server_is_a_warning_and_the_list_fails_over(f: &Fixture) {
    let down = gearman_testkit::closed_port();
    let alone = f.db.sql(&format!(
        "SELECT gman_servers_set('127.0.0.1:{}'); SELECT gman_do('rev_bytes', 'x') IS NULL; SHOW WARNINGS",
        down.port
    ));
    assert!(
        alone.contains("\n1\nWarning\t1105\tgman_do: Gearman: "),
        "{alone}"
    );
    // The dead server first: the call goes on to the next.
    let both = f.db.sql(&format!(
        "SELECT gman_servers_set('127.0.0.1:{},{}'); SELECT gman_do('rev_bytes', 'failover')",
        down.port,
        f.gearmand.addr()
    ));
    assert!(both.ends_with("\nrevoliaf"), "{both}");
    // A function's own list wins over the list for all.
    let own = f.db.sql(&format!(
        "SELECT gman_servers_set('127.0.0.1:{}'); SELECT gman_servers_set('{}', 'rev_bytes');
         SELECT gman_do('rev_bytes', 'own'), gman_do('echo', 'x') IS NULL",
        down.port,
        f.gearmand.addr()
    ));
    assert!(own.ends_with("\nnwo\t1"), "{own}");
    let bad =
        f.db.sql("SELECT gman_servers_set('host:notaport') IS NULL; SHOW WARNINGS");
    assert!(bad.contains("bad server list"), "{bad}");
}

fn a_hung_worker_is_bounded_by_the_timeout(f: &Fixture) {
    let started = Instant::now();
    let out =
        f.db.sql("SELECT gman_timeout_set(1); SELECT gman_do('hang', 't') IS NULL; SHOW WARNINGS");
    let took = started.elapsed();
    assert!(out.contains("timed out after 1s"), "{out}");
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(5),
        "{took:?}"
    );
}

/// Runs `sql` in a session of its own, returning the client once the query is running.
fn hanging_session(f: &Fixture, sql: &str) -> std::process::Child {
    let child =
        f.db.client()
            .args(["-e", sql])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
    let running = gearman_testkit::wait_until(Duration::from_secs(10), || {
        f.db.sql("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE '%gman_do(''hang''%' AND ID <> CONNECTION_ID()") == "1"
    });
    assert!(running, "the query never started");
    child
}

fn kill_query_stops_the_wait(f: &Fixture) {
    // No timeout at all: only the kill can end it.
    f.db.sql("SELECT gman_timeout_set(0)");
    let child = hanging_session(f, "SELECT gman_do('hang', 'k')");
    let killed_at = Instant::now();
    f.db.sql("SELECT CONCAT('KILL QUERY ', ID) FROM information_schema.PROCESSLIST WHERE INFO LIKE '%gman_do(''hang''%' AND ID <> CONNECTION_ID() INTO @kill; PREPARE k FROM @kill; EXECUTE k");
    let out = child.wait_with_output().unwrap();
    let took = killed_at.elapsed();
    assert!(
        took < Duration::from_secs(2),
        "the killed query ran on for {took:?}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("interrupted"), "{stderr}");
}

fn max_statement_time_stops_the_wait(f: &Fixture) {
    f.db.sql("SELECT gman_timeout_set(0)");
    let started = Instant::now();
    let err =
        f.db.try_sql("SET STATEMENT max_statement_time=1 FOR SELECT gman_do('hang', 'm')")
            .unwrap_err();
    let took = started.elapsed();
    assert!(err.contains("max_statement_time"), "{err}");
    assert!(took < Duration::from_secs(3), "{took:?}");
}

fn gman_sum_adds_up_the_results_of_jobs_run_side_by_side(f: &Fixture) {
    let sum = f.db.sql(
        "SELECT gman_sum('length', w) FROM (SELECT 'a' w UNION ALL SELECT 'bb' UNION ALL SELECT 'cccc') t",
    );
    assert_eq!(sum, "7");
    let groups = f.db.sql(
        "SELECT g, gman_sum('length', w) FROM (SELECT 1 g, 'aa' w UNION ALL SELECT 1, 'bbb' UNION ALL SELECT 2, 'c') t GROUP BY g ORDER BY g",
    );
    assert_eq!(groups, "1\t5\n2\t1");
    let failed = f.db.sql(
        "SELECT gman_sum(fn, 'x') FROM (SELECT 'length' fn UNION ALL SELECT 'fail') t; SHOW WARNINGS",
    );
    assert_eq!(
        failed,
        "NULL\nWarning\t1105\tgman_sum: Gearman job \"fail\" failed: the worker sent WORK_FAIL"
    );
}

fn many_sessions_call_at_once(f: &Fixture) {
    let sessions: Vec<_> = (0..SESSIONS)
        .map(|s| {
            let selects: Vec<String> = (0..CALLS)
                .map(|i| format!("SELECT gman_do('rev_bytes', '{}')", session_workload(s, i)))
                .collect();
            f.db.client()
                .args(["-e", &selects.join(";")])
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    check_sessions(sessions);
}

/// The classic use: a trigger queues a background job for each new row, and a worker gets
/// each row's id.
fn an_after_insert_trigger_queues_a_job_per_row(f: &Fixture) {
    let recorded = f.recorded.lock().unwrap();
    while recorded.try_recv().is_ok() {}
    f.db.sql(
        "DROP TABLE IF EXISTS gearman.orders;
         CREATE TABLE gearman.orders (id INT AUTO_INCREMENT PRIMARY KEY, item TEXT);
         CREATE TRIGGER gearman.orders_audit AFTER INSERT ON gearman.orders FOR EACH ROW
           SET @handle = gman_do_background('audit', NEW.id);
         INSERT INTO gearman.orders (item)
           WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
           SELECT CONCAT('item-', i) FROM n;",
    );
    let ids = recorded_ids(&recorded, 1000);
    assert_eq!(ids, (1..=1000).collect());
}
