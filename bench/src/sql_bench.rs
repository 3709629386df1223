//! `gman_do` from SQL against our C client's `gearman_client_do`: the same job (10 bytes to
//! an echo worker) on the same server and worker, in the same run. SQL runs 10,000 calls in
//! one session (one statement over 10,000 rows); the time per call is that statement's time
//! minus the same statement without the call, over 10,000. The C figure is `bench/c/load.c`
//! with 1 job in flight, built against our libgearman.
//!
//! `cargo run --release -p gearman-bench --bin sql-bench`

use std::path::Path;
use std::time::{Duration, Instant};

use gearman_testkit::mariadb::MariadbServer;
use gearman_testkit::postgres::{self, PostgresServer};
use gearman_testkit::Kind;

mod c_programs;

const CALLS: u32 = 10_000;

/// The time `run` takes, the best of three (the machine is shared by client, server, worker).
fn best_of_three(mut run: impl FnMut()) -> Duration {
    (0..3)
        .map(|_| {
            let started = Instant::now();
            run();
            started.elapsed()
        })
        .min()
        .unwrap()
}

/// µs per call: the statement with the call, less the statement without it.
fn per_call(with: Duration, without: Duration) -> f64 {
    with.saturating_sub(without).as_secs_f64() * 1e6 / f64::from(CALLS)
}

fn mariadb(addr: &str) -> f64 {
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
    per_call(
        best_of_three(|| assert_eq!(db.sql(&with), expected)),
        best_of_three(|| assert_eq!(db.sql(&without), expected)),
    )
}

fn postgres(addr: &str) -> f64 {
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
    per_call(
        best_of_three(|| assert_eq!(db.psql(&with), expected)),
        best_of_three(|| assert_eq!(db.psql(&without), expected)),
    )
}

fn main() {
    let server = Kind::Ours.start();
    let addr = server.addr();
    let runtime = c_programs::echo_workers(&addr, 1);
    let c_client = c_programs::compile(true);
    let c = (0..3)
        .map(|_| 1e6 / c_programs::run(&c_client, server.port, 1, CALLS).0)
        .fold(f64::INFINITY, f64::min);
    let mariadb = mariadb(&addr);
    let postgres = postgres(&addr);
    println!("\ngman_do from SQL vs our C client's gearman_client_do: {CALLS} calls, same server and worker, best of 3");
    println!("{:<36} {:>12} {:>10}", "caller", "µs per call", "vs C");
    println!(
        "{:<36} {:>12.1} {:>9.2}x",
        "C gearman_client_do (our libgearman)", c, 1.0
    );
    println!(
        "{:<36} {:>12.1} {:>9.2}x",
        "MariaDB gman_do (UDF)",
        mariadb,
        mariadb / c
    );
    println!(
        "{:<36} {:>12.1} {:>9.2}x",
        "PostgreSQL gman_do (extension)",
        postgres,
        postgres / c
    );
    println!("(target: within 1.3x of C)");
    drop(runtime);
    drop(server);
}
