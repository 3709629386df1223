//! `gman_do` from SQL against our C client's `gearman_client_do`: the same job (10 bytes to
//! an echo worker) on the same server and worker, in the same run. SQL runs 10,000 calls in
//! one session (one statement over 10,000 rows); the time per call is that statement's time
//! minus the same statement without the call, over 10,000. The C figure is `bench/c/load.c`
//! with 1 job in flight, built against our libgearman. Each database is measured five times,
//! alternating with the C client (the two cores are shared, so conditions drift during a run),
//! and the medians are compared.
//!
//! `cargo run --release -p gearman-bench --bin sql-bench`

use std::path::Path;
use std::time::{Duration, Instant};

use gearman_testkit::mariadb::MariadbServer;
use gearman_testkit::postgres::{self, PostgresServer};
use gearman_testkit::Kind;

mod c_programs;
mod load;

const CALLS: u32 = 10_000;
const ROUNDS: usize = 5;

/// The time `run` takes.
fn timed(run: impl FnOnce()) -> Duration {
    let started = Instant::now();
    run();
    started.elapsed()
}

/// µs per call: the statement with the call, less the statement without it.
fn per_call(with: Duration, without: Duration) -> f64 {
    with.saturating_sub(without).as_secs_f64() * 1e6 / f64::from(CALLS)
}

/// Medians of µs per call over alternating rounds: (C client, `sql_per_call`).
fn alternating(c_per_call: &dyn Fn() -> f64, sql_per_call: &dyn Fn() -> f64) -> (f64, f64) {
    let (mut c, mut sql) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        c.push(c_per_call());
        sql.push(sql_per_call());
    }
    (load::median(&mut c), load::median(&mut sql))
}

fn mariadb(addr: &str, c_per_call: &dyn Fn() -> f64) -> (f64, f64) {
    let dir = gearman_testkit::cargo_build(&["-p", "gearman-mysql-udf", "--lib"]);
    let db = MariadbServer::start();
    db.install_plugin(&dir.join("libgearman_mysql_udf.so"));
    db.sql(
        "CREATE FUNCTION gman_do RETURNS STRING SONAME 'libgearman_mysql_udf.so';
         CREATE FUNCTION gman_servers_set RETURNS STRING SONAME 'libgearman_mysql_udf.so';",
    );
    let rows = format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {CALLS}) SELECT COUNT({{}}) FROM n"
    );
    let session = |expression: &str| {
        format!(
            "SET SESSION max_recursive_iterations = {CALLS}; SELECT gman_servers_set('{addr}'); {}",
            rows.replace("{}", expression)
        )
    };
    let with = session("gman_do('bench_echo', LEFT(CONCAT(i, '0123456789'), 10))");
    let without = session("LEFT(CONCAT(i, '0123456789'), 10)");
    let expected = format!("{addr}\n{CALLS}");
    assert_eq!(db.sql(&with), expected);
    alternating(c_per_call, &|| {
        per_call(
            timed(|| assert_eq!(db.sql(&with), expected)),
            timed(|| assert_eq!(db.sql(&without), expected)),
        )
    })
}

fn postgres(addr: &str, c_per_call: &dyn Fn() -> f64) -> (f64, f64) {
    let lib_dir = gearman_testkit::cargo_build(&["-p", "gearman-pg", "--lib"]);
    let stage = postgres::build_extension(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../bindings/postgres"),
        &lib_dir.join("libgearman_pg.a"),
    );
    let db = PostgresServer::start_with_installed(&stage);
    db.psql("CREATE EXTENSION gearman");
    let session = |expression: &str| {
        format!(
            "SET gearman.default_servers = '{addr}'; SELECT count({expression}) FROM generate_series(1, {CALLS}) i"
        )
    };
    let with = session("gman_do('bench_echo', left(i || '0123456789', 10))");
    let without = session("left(i || '0123456789', 10)");
    let expected = format!("SET\n{CALLS}");
    assert_eq!(db.psql(&with), expected);
    alternating(c_per_call, &|| {
        per_call(
            timed(|| assert_eq!(db.psql(&with), expected)),
            timed(|| assert_eq!(db.psql(&without), expected)),
        )
    })
}

fn main() {
    let server = Kind::Ours.start();
    let addr = server.addr();
    let runtime = c_programs::echo_workers(&addr, 1);
    let c_client = c_programs::compile(true);
    let c_per_call = || 1e6 / c_programs::run(&c_client, server.port, 1, CALLS).0;
    let rows = [
        ("MariaDB gman_do (UDF)", mariadb(&addr, &c_per_call)),
        (
            "PostgreSQL gman_do (extension)",
            postgres(&addr, &c_per_call),
        ),
    ];
    println!("\ngman_do from SQL vs our C client's gearman_client_do: {CALLS} calls, same server and worker,");
    println!("medians of {ROUNDS} rounds, each database alternating with the C client");
    println!(
        "{:<32} {:>14} {:>14} {:>8}",
        "caller", "C µs per call", "µs per call", "vs C"
    );
    for (name, (c, sql)) in rows {
        println!("{name:<32} {c:>14.1} {sql:>14.1} {:>7.2}x", sql / c);
    }
    println!("(target: within 1.3x of C)");
    drop(runtime);
    drop(server);
}
