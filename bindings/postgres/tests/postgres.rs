//! The gearman extension (built with PGXS on the Rust library) in a real PostgreSQL (a
//! throwaway cluster from Debian's package), against our gearmand and Debian's, with Debian's
//! `gearman -w` worker and workers of gearman-core: results, text and bytea, errors as
//! SQLSTATEs, the timeout, cancelled queries, the settings, a trigger, many sessions at once.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use gearman_testkit::postgres::{self, PostgresServer};
use gearman_testkit::{ChildGuard, Kind, Server};

#[path = "../../sql-common/tests/support/workers.rs"]
mod workers;
use workers::{check_sessions, recorded_ids, session_workload, start_workers, CALLS, SESSIONS};

type Scenario = (&'static str, fn(&Fixture));

/// The extension built with its own Makefile on the Rust library of this test's build.
fn build_extension() -> PathBuf {
    let lib_dir = gearman_testkit::cargo_build(&["-p", "gearman-pg", "--lib"]);
    postgres::build_extension(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &lib_dir.join("libgearman_pg.a"),
    )
}

/// Fields drop in order: the `gearman -w` worker before the server it would retry.
struct Fixture {
    _cli_worker: ChildGuard,
    db: PostgresServer,
    gearmand: Server,
    recorded: Mutex<mpsc::Receiver<Bytes>>,
}

impl Fixture {
    fn start(kind: Kind, stage: &Path) -> Fixture {
        let db = PostgresServer::start_with_installed(stage);
        db.psql("CREATE EXTENSION gearman");
        let gearmand = kind.start();
        let workers = start_workers(&gearmand);
        // Every session of the database gets the server from the setting.
        db.psql(&format!(
            "ALTER DATABASE postgres SET gearman.default_servers = '{}'",
            gearmand.addr()
        ));
        Fixture {
            _cli_worker: workers.cli_worker,
            db,
            gearmand,
            recorded: Mutex::new(workers.recorded),
        }
    }
}

#[test]
fn extension_in_postgresql() {
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
            "bytea is binary-safe, text round-trips, 16 MiB passes",
            bytea_is_binary_safe_and_text_round_trips,
        ),
        (
            "errors have SQLSTATEs and reasons",
            errors_have_sqlstates_and_reasons,
        ),
        ("server settings and failover", server_settings_and_failover),
        (
            "a hung worker is bounded by gearman.timeout",
            a_hung_worker_is_bounded_by_the_timeout,
        ),
        (
            "pg_cancel_backend and statement_timeout stop the wait",
            cancels_stop_the_wait,
        ),
        ("8 sessions x 500 calls at once", many_sessions_call_at_once),
        (
            "an AFTER INSERT trigger queues a job per row",
            an_after_insert_trigger_queues_a_job_per_row,
        ),
    ];
    let stage = build_extension();
    let mut failed = Vec::new();
    for kind in [Kind::Ours, Kind::Debian] {
        let fixture = Fixture::start(kind, &stage);
        for (name, scenario) in scenarios {
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
    assert_eq!(f.db.psql("SELECT gman_do('reverse', 'hello')"), "olleh");
    assert_eq!(f.db.psql("SELECT gman_do_high('reverse', 'abc')"), "cba");
    assert_eq!(f.db.psql("SELECT gman_do_low('reverse', 'xyz')"), "zyx");
    assert_eq!(f.db.psql("SELECT gman_do('chunks', '')"), "part1-part2");
    assert_eq!(f.db.psql("SELECT gman_do('empty', 'x') IS NULL"), "t");
    let rows =
        f.db.psql("SELECT gman_do('reverse', w) FROM (VALUES ('ab'), ('cd'), ('ef')) t(w)");
    assert_eq!(rows, "ba\ndc\nfe");
}

fn background_calls_return_the_handle_and_the_job_runs(f: &Fixture) {
    let recorded = f.recorded.lock().unwrap();
    while recorded.try_recv().is_ok() {}
    for (call, workload) in [
        ("gman_do_background", "1"),
        ("gman_do_high_background", "2"),
        ("gman_do_low_background", "3"),
    ] {
        let handle = f.db.psql(&format!("SELECT {call}('record', '{workload}')"));
        assert!(handle.starts_with("H:"), "{call}: {handle:?}");
    }
    assert_eq!(recorded_ids(&recorded, 3), [1, 2, 3].into());
    // A bytea workload in the background: the handle is still text.
    let handle =
        f.db.psql("SELECT gman_do_background('record', '\\x3434'::bytea)");
    assert!(handle.starts_with("H:"), "{handle:?}");
    assert_eq!(recorded_ids(&recorded, 1), [44].into());
}

fn bytea_is_binary_safe_and_text_round_trips(f: &Fixture) {
    assert_eq!(
        f.db.psql("SELECT gman_do('rev_bytes', '\\x0001ff00'::bytea)"),
        "\\x00ff0100"
    );
    assert_eq!(
        f.db.psql("SELECT gman_do('echo', 'héllo ✓ 日本')"),
        "héllo ✓ 日本"
    );
    // A worker's answer that is not valid UTF-8 is refused as text, returned as bytea.
    let err =
        f.db.try_psql("SELECT gman_do('rev_bytes', convert_from('\\x61c3a9'::bytea, 'UTF8'))")
            .unwrap_err();
    assert!(err.contains("invalid byte sequence"), "{err}");
    let big = f.db.psql(
        "SELECT gman_do('rev_bytes', w) = reverse(w), length(gman_do('echo', w::bytea))
         FROM (SELECT repeat('ab', 8388607) || 'c' w) t",
    );
    assert_eq!(big, "t|16777215");
    let mib =
        f.db.psql("SELECT length(gman_do('echo', repeat('x', 1048576)))");
    assert_eq!(mib, "1048576");
}

fn errors_have_sqlstates_and_reasons(f: &Fixture) {
    let fail = f.db.try_psql("SELECT gman_do('fail', 'x')").unwrap_err();
    assert!(
        fail.contains("gman_do: Gearman job \"fail\" failed: the worker sent WORK_FAIL"),
        "{fail}"
    );
    let exception =
        f.db.try_psql("SELECT gman_do('exception', 'x')")
            .unwrap_err();
    assert!(exception.contains("boom: bad input"), "{exception}");
    let null_function = f.db.try_psql("SELECT gman_do(NULL, 'x')").unwrap_err();
    assert!(
        null_function.contains("gearman function cannot be NULL"),
        "{null_function}"
    );
    let null_workload =
        f.db.try_psql("SELECT gman_do('echo', NULL::text)")
            .unwrap_err();
    assert!(
        null_workload.contains("gearman workload cannot be NULL"),
        "{null_workload}"
    );
    // SQLSTATEs, through psql's verbose errors: 38000 for a failed job, 22004 for NULL.
    let verbose = |sql: &str| -> String {
        let out =
            f.db.psql_command()
                .args(["-v", "VERBOSITY=verbose", "-c", sql])
                .output()
                .unwrap();
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    assert!(verbose("SELECT gman_do('fail', 'x')").contains("ERROR:  38000"));
    assert!(verbose("SELECT gman_do(NULL, 'x')").contains("ERROR:  22004"));
}

fn server_settings_and_failover(f: &Fixture) {
    let down = gearman_testkit::closed_port();
    // No reachable server: a connection error (08006).
    let alone =
        f.db.try_psql(&format!(
            "SET gearman.default_servers = '127.0.0.1:{}'; SELECT gman_do('rev_bytes', 'x')",
            down.port
        ))
        .unwrap_err();
    assert!(alone.contains("gman_do: Gearman: "), "{alone}");
    // The dead server first: the call goes on to the next.
    let both = f.db.psql(&format!(
        "SET gearman.default_servers = '127.0.0.1:{},{}'; SELECT gman_do('rev_bytes', 'failover')",
        down.port,
        f.gearmand.addr()
    ));
    assert_eq!(both, "SET\nrevoliaf");
    // gman_servers_set wins over the setting for the rest of the session.
    let set = f.db.psql(&format!(
        "SET gearman.default_servers = '127.0.0.1:{}'; SELECT gman_servers_set('{}'); SELECT gman_do('rev_bytes', 'set')",
        down.port,
        f.gearmand.addr()
    ));
    assert_eq!(set, "SET\nt\ntes");
    // pggearman's setting is read when ours is empty.
    let old_name = f.db.psql(&format!(
        "SET gearman.default_servers = ''; SET pggearman.default_servers = '{}'; SELECT gman_do('rev_bytes', 'pg')",
        f.gearmand.addr()
    ));
    assert_eq!(old_name, "SET\nSET\ngp");
    let none =
        f.db.try_psql("SET gearman.default_servers = ''; SELECT gman_do('rev_bytes', 'x')")
            .unwrap_err();
    assert!(none.contains("no Gearman servers"), "{none}");
    let bad =
        f.db.try_psql("SELECT gman_servers_set('host:notaport')")
            .unwrap_err();
    assert!(bad.contains("bad server list"), "{bad}");
}

fn a_hung_worker_is_bounded_by_the_timeout(f: &Fixture) {
    let started = Instant::now();
    let err =
        f.db.try_psql("SET gearman.timeout = '1s'; SELECT gman_do('hang', 't')")
            .unwrap_err();
    let took = started.elapsed();
    assert!(err.contains("timed out after 1s"), "{err}");
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(5),
        "{took:?}"
    );
}

fn cancels_stop_the_wait(f: &Fixture) {
    // pg_cancel_backend from another session, with no timeout at all.
    let child =
        f.db.psql_command()
            .args(["-c", "SET gearman.timeout = 0; SELECT gman_do('hang', 'c')"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
    let running = gearman_testkit::wait_until(Duration::from_secs(10), || {
        f.db.psql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%gman_do(''hang''%' AND pid <> pg_backend_pid()") == "1"
    });
    assert!(running, "the query never started");
    let cancelled_at = Instant::now();
    f.db.psql("SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE '%gman_do(''hang''%' AND pid <> pg_backend_pid()");
    let out = child.wait_with_output().unwrap();
    let took = cancelled_at.elapsed();
    assert!(
        took < Duration::from_secs(2),
        "the cancelled query ran on for {took:?}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("canceling statement due to user request"),
        "{stderr}"
    );
    // statement_timeout.
    let started = Instant::now();
    let err =
        f.db.try_psql(
            "SET gearman.timeout = 0; SET statement_timeout = '1s'; SELECT gman_do('hang', 's')",
        )
        .unwrap_err();
    assert!(
        err.contains("canceling statement due to statement timeout"),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
}

fn many_sessions_call_at_once(f: &Fixture) {
    let sessions: Vec<_> = (0..SESSIONS)
        .map(|s| {
            let selects: Vec<String> = (0..CALLS)
                .map(|i| format!("SELECT gman_do('rev_bytes', '{}');", session_workload(s, i)))
                .collect();
            let file = f.db.dir.join(format!("session-{s}.sql"));
            std::fs::write(&file, selects.join("\n")).unwrap();
            f.db.psql_command()
                .arg("-f")
                .arg(&file)
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    check_sessions(sessions);
}

/// The classic use: a trigger queues a background job for each new row.
fn an_after_insert_trigger_queues_a_job_per_row(f: &Fixture) {
    let recorded = f.recorded.lock().unwrap();
    while recorded.try_recv().is_ok() {}
    f.db.psql(
        "DROP TABLE IF EXISTS orders;
         CREATE TABLE orders (id serial PRIMARY KEY, item text);
         CREATE FUNCTION orders_audit() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN PERFORM gman_do_background('audit', NEW.id::text); RETURN NEW; END $$;
         CREATE TRIGGER orders_audit AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION orders_audit();
         INSERT INTO orders (item) SELECT 'item-' || i FROM generate_series(1, 1000) i;
         DROP TABLE orders; DROP FUNCTION orders_audit();",
    );
    assert_eq!(recorded_ids(&recorded, 1000), (1..=1000).collect());
}
