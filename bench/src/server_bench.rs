//! Our gearmand against Debian's gearmand 1.1.20, with the same load generator (our Rust client
//! and worker) in the same run. Prints a table with the ratio ours / theirs.
//!
//! `cargo run --release -p gearman-bench --bin server-bench [-- --quick]`

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use gearman_testkit::Kind;

mod load;
mod queue_bound;
use load::{client, cpu_micros, median, pipelined, spawn_workers};

struct Sizes {
    fg_single: usize,
    fg_many: usize,
    bg: usize,
    queued: usize,
    probe: usize,
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[derive(Default)]
struct Results {
    fg_single: f64,
    fg_single_cpu: f64,
    fg_many: f64,
    fg_many_cpu: f64,
    bg: f64,
    bytes_per_job: f64,
    rate_empty: f64,
    rate_full: f64,
}

async fn measure(kind: Kind, sizes: &Sizes) -> Results {
    // BENCH_GEARMAND_ARGS / BENCH_OURS_ARGS add server options (e.g. "--threads=1").
    let var = match kind {
        Kind::Debian => "BENCH_GEARMAND_ARGS",
        Kind::Ours => "BENCH_OURS_ARGS",
    };
    let extra = std::env::var(var).unwrap_or_default();
    let extra: Vec<&str> = extra.split_whitespace().collect();
    let server = kind.start_with(&extra);
    let addr = server.addr();
    let mut r = Results::default();

    let workers = spawn_workers(&addr, "echo", 1);
    let mut c = client(&addr).await;
    pipelined(&mut c, "echo", 200, 1, false).await; // warm-up
    let cpu = cpu_micros(server.pid());
    r.fg_single = pipelined(&mut c, "echo", sizes.fg_single, 1, false).await;
    r.fg_single_cpu = (cpu_micros(server.pid()) - cpu) / sizes.fg_single as f64;
    workers.into_iter().for_each(|w| w.abort());

    let workers = spawn_workers(&addr, "echo50", 8);
    let cpu = cpu_micros(server.pid());
    r.fg_many = pipelined(&mut c, "echo50", sizes.fg_many, 50, false).await;
    r.fg_many_cpu = (cpu_micros(server.pid()) - cpu) / sizes.fg_many as f64;
    workers.into_iter().for_each(|w| w.abort());

    r.bg = pipelined(&mut c, "bg", sizes.bg, 100, true).await;

    // Memory and submit rate with a large queue (no worker for "queued").
    let mut c = client(&addr).await;
    let before = rss_kib(server.pid());
    r.rate_empty = pipelined(&mut c, "queued", sizes.probe, 100, true).await;

    pipelined(&mut c, "queued", sizes.queued - 2 * sizes.probe, 100, true).await;
    r.rate_full = pipelined(&mut c, "queued", sizes.probe, 100, true).await;
    // Measure once the server reports every job queued (each was acknowledged already).
    let (port, expected) = (server.port, sizes.queued);
    let all_queued = tokio::task::spawn_blocking(move || {
        gearman_testkit::wait_until(Duration::from_secs(30), || {
            gearman_testkit::admin(port, "status")
                .lines()
                .find_map(|l| l.strip_prefix("queued\t"))
                .and_then(|rest| rest.split('\t').next()?.parse::<usize>().ok())
                == Some(expected)
        })
    });
    assert!(all_queued.await.unwrap(), "the server lost queued jobs");
    let after = rss_kib(server.pid());
    // Each job carries a 10-byte payload and a 36-byte generated unique.
    let per_job = (after.saturating_sub(before) * 1024) as f64 / sizes.queued as f64;
    r.bytes_per_job = per_job - 46.0;
    drop(server);
    r
}

/// The SQLite queue again with its file on tmpfs ([`TMPFS`]), where flushing is free.
const TMPFS_SQLITE: &str = "libsqlite3 tmpfs";
const TMPFS: &str = "/dev/shm";

/// `--queue`: durable background submits/s, 100 in flight, with each queue backend (in the
/// table or keys of gearmand's own plugin) in gearmand and in ours, SQLite again on tmpfs, and
/// ours in memory; each run on a fresh database (SQLite file, throwaway MariaDB and PostgreSQL
/// with their default durability, throwaway Redis with `appendfsync always`).
fn durable_queues(runtime: &tokio::runtime::Runtime, quick: bool) {
    use gearman_testkit::mariadb::MariadbServer;
    use gearman_testkit::postgres::PostgresServer;
    use gearman_testkit::redis::RedisServer;
    let rate = |kind: Kind, backend: &str| -> f64 {
        // gearmand commits once per job: fewer jobs keep its run short.
        let total = match (kind, quick) {
            (Kind::Debian, true) => 1_000,
            (Kind::Debian, false) => 5_000,
            (Kind::Ours, true) => 20_000,
            (Kind::Ours, false) => 100_000,
        };
        // On tmpfs a flush costs nothing: the difference from "libsqlite3" is what the disk's
        // flushes cost.
        let root = if backend == TMPFS_SQLITE {
            PathBuf::from(TMPFS)
        } else {
            std::env::temp_dir()
        };
        let dir = gearman_testkit::temp_dir_in(&root, "bench-queue");
        let redis = (backend == "redis").then(RedisServer::start);
        let postgres = (backend == "Postgres").then(PostgresServer::start);
        let mariadb = (backend == "MySQL").then(MariadbServer::start);
        let args: Vec<String> = match backend {
            "libsqlite3" | TMPFS_SQLITE => vec![
                "-q".into(),
                "libsqlite3".into(),
                format!("--libsqlite3-db={}", dir.join("queue.db").display()),
            ],
            "redis" => vec![
                "-q".into(),
                "redis".into(),
                format!("--redis-port={}", redis.as_ref().map_or(0, |r| r.port)),
            ],
            "MySQL" => vec![
                "-q".into(),
                "MySQL".into(),
                "--mysql-host=127.0.0.1".into(),
                format!("--mysql-port={}", mariadb.as_ref().map_or(0, |m| m.port)),
                "--mysql-user=gearman".into(),
                "--mysql-db=gearman".into(),
            ],
            "Postgres" => vec![
                "-q".into(),
                "Postgres".into(),
                format!(
                    "--libpq-conninfo={}",
                    postgres.as_ref().map(|p| p.conninfo()).unwrap_or_default()
                ),
            ],
            _ => vec![],
        };
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let server = kind.start_with(&args);
        let rate = runtime.block_on(async {
            let mut c = client(&server.addr()).await;
            pipelined(&mut c, "warm", 200, 100, true).await;
            pipelined(&mut c, "durable", total, 100, true).await
        });
        drop(server);
        drop(redis);
        drop(postgres);
        drop(mariadb);
        let _ = std::fs::remove_dir_all(dir);
        rate
    };
    // The in-memory rate varies most from run to run: the median of three.
    let mut memory: Vec<f64> = (0..3).map(|_| rate(Kind::Ours, "builtin")).collect();
    let memory = median(&mut memory);
    println!(
        "\nDurable background submits/s, 100 in flight (gearmand's own table or keys; 2 cores)"
    );
    println!(
        "{:<17} {:>14} {:>12} {:>8} {:>16}",
        "queue", "gearmand 1.1", "ours", "ratio", "ours / in memory"
    );
    // BENCH_QUEUES=libsqlite3,redis runs only those.
    let only = std::env::var("BENCH_QUEUES").unwrap_or_default();
    let tmpfs = Path::new(TMPFS).is_dir();
    for backend in ["libsqlite3", TMPFS_SQLITE, "MySQL", "Postgres", "redis"] {
        let family = backend.split(' ').next().unwrap_or(backend);
        if !only.is_empty() && !only.split(',').any(|b| b == family) {
            continue;
        }
        if backend == TMPFS_SQLITE && !tmpfs {
            continue;
        }
        let theirs = rate(Kind::Debian, backend);
        let ours = rate(Kind::Ours, backend);
        println!(
            "{backend:<17} {theirs:>14.0} {ours:>12.0} {:>7.2}x {:>15.0}%",
            ours / theirs,
            100.0 * ours / memory
        );
    }
    println!("{:<17} {:>14} {memory:>12.0}", "in memory", "");
    println!("(in memory: the median of three runs)");
}

/// A raw request packet.
fn raw_request(kind: gearman_core::protocol::PacketType, fields: &[&[u8]]) -> Vec<u8> {
    let mut buf = bytes::BytesMut::new();
    gearman_core::protocol::encode_packet(
        gearman_core::protocol::Magic::Request,
        kind,
        fields,
        &mut buf,
    );
    buf.to_vec()
}

/// Sends ECHO_REQ on `stream` and waits for the whole ECHO_RES.
fn echo_round_trip(stream: &mut std::net::TcpStream, payload: &[u8]) {
    use std::io::{Read, Write};
    let request = raw_request(gearman_core::protocol::PacketType::EchoReq, &[payload]);
    stream.write_all(&request).unwrap();
    let mut reply = vec![0u8; request.len()];
    stream.read_exact(&mut reply).unwrap();
}

/// `--can-do`: one connection registers N distinct functions (pipelined CAN_DO, then an echo
/// to know they were all handled); returns the time that took and the slowest echo another
/// client saw meanwhile (probing every millisecond).
fn can_do_burst(port: u16, names: usize, round: usize) -> (Duration, Duration) {
    use std::io::Write;
    use std::sync::atomic::{AtomicBool, Ordering};
    let mut batch = Vec::new();
    for i in 0..names {
        batch.extend(raw_request(
            gearman_core::protocol::PacketType::CanDo,
            &[format!("burst-{round}-{i}").as_bytes()],
        ));
    }
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let probe = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut control = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
            control.set_nodelay(true).unwrap();
            let mut worst = Duration::ZERO;
            while !stop.load(Ordering::Relaxed) {
                let start = Instant::now();
                echo_round_trip(&mut control, b"probe");
                worst = worst.max(start.elapsed());
                std::thread::sleep(Duration::from_millis(1));
            }
            worst
        })
    };
    std::thread::sleep(Duration::from_millis(20));
    let mut worker = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    worker.set_nodelay(true).unwrap();
    // The echo after the registrations answers once all of them were handled.
    let echo = raw_request(
        gearman_core::protocol::PacketType::EchoReq,
        &[b"registered"],
    );
    batch.extend_from_slice(&echo);
    let start = Instant::now();
    let writer = {
        let mut stream = worker.try_clone().unwrap();
        std::thread::spawn(move || stream.write_all(&batch).unwrap())
    };
    let mut reply = vec![0u8; echo.len()];
    std::io::Read::read_exact(&mut worker, &mut reply).unwrap();
    let took = start.elapsed();
    writer.join().unwrap();
    stop.store(true, Ordering::Relaxed);
    let worst = probe.join().unwrap();
    (took, worst)
}

fn can_do(quick: bool) {
    // (N, bursts): each burst on a fresh server (gearmand never forgets a function, so a
    // second burst on the same one would measure its leak); the median time is reported.
    let sizes: &[(usize, usize)] = if quick {
        &[(10_000, 5), (100_000, 1)]
    } else {
        &[(10_000, 9), (100_000, 3), (200_000, 1)]
    };
    let run = |kind: Kind, names: usize, bursts: usize| -> (Duration, Duration) {
        let mut times = Vec::new();
        let mut worst = Duration::ZERO;
        for round in 0..bursts {
            let server = kind.start();
            let (took, slowest) = can_do_burst(server.port, names, round);
            times.push(took);
            worst = worst.max(slowest);
        }
        times.sort();
        (times[times.len() / 2], worst)
    };
    println!("\nCAN_DO registration: one connection registers N distinct functions; another client's slowest echo meanwhile");
    println!(
        "(median of the bursts, each on a fresh server; worst = slowest echo over all of them)"
    );
    println!(
        "{:<8} {:>7} {:>12} {:>9} {:>8} {:>18} {:>14}",
        "N", "bursts", "gearmand ms", "ours ms", "ratio", "gearmand worst ms", "ours worst ms"
    );
    for &(n, bursts) in sizes {
        let (t_theirs, w_theirs) = run(Kind::Debian, n, bursts);
        let (t_ours, w_ours) = run(Kind::Ours, n, bursts);
        println!(
            "{n:<8} {bursts:>7} {:>12.1} {:>9.1} {:>7.2}x {:>18.1} {:>14.1}",
            t_theirs.as_secs_f64() * 1e3,
            t_ours.as_secs_f64() * 1e3,
            t_theirs.as_secs_f64() / t_ours.as_secs_f64(),
            w_theirs.as_secs_f64() * 1e3,
            w_ours.as_secs_f64() * 1e3,
        );
    }
    println!("(ratio > 1 means ours is faster)");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(queue_bound::SERVE_FLAG) {
        queue_bound::serve(&args[2..]);
        return;
    }
    let given = |flag: &str| args.iter().any(|a| a == flag);
    let quick = given("--quick");
    if given("--can-do") {
        can_do(quick);
        return;
    }
    let sizes = if quick {
        Sizes {
            fg_single: 2_000,
            fg_many: 20_000,
            bg: 20_000,
            queued: 100_000,
            probe: 10_000,
        }
    } else {
        Sizes {
            fg_single: 10_000,
            fg_many: 100_000,
            bg: 200_000,
            queued: 1_000_000,
            probe: 50_000,
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    if given("--queue") {
        durable_queues(&runtime, quick);
        return;
    }
    if given("--queue-bound") {
        let (rounds, jobs) = if quick { (3, 20_000) } else { (7, 100_000) };
        queue_bound::run(&runtime, Path::new(TMPFS), rounds, jobs);
        return;
    }
    // BENCH_ONLY=ours skips gearmand (for profiling our server alone).
    let only_ours = std::env::var("BENCH_ONLY").is_ok_and(|v| v == "ours");
    let theirs = if only_ours {
        Results::default()
    } else {
        runtime.block_on(measure(Kind::Debian, &sizes))
    };
    let ours = runtime.block_on(measure(Kind::Ours, &sizes));
    println!("\ngearmand benchmark: the same Rust load generator against each server (2 cores, loopback)");
    println!(
        "{:<44} {:>14} {:>14} {:>8}",
        "measure", "gearmand 1.1", "ours", "ratio"
    );
    let row = |name: &str, theirs: f64, ours: f64, higher_is_better: bool| {
        let ratio = if higher_is_better {
            ours / theirs
        } else {
            theirs / ours
        };
        println!("{name:<44} {theirs:>14.0} {ours:>14.0} {ratio:>7.2}x");
    };
    row(
        "foreground jobs/s, 1 in flight",
        theirs.fg_single,
        ours.fg_single,
        true,
    );
    row(
        "foreground jobs/s, 50 in flight",
        theirs.fg_many,
        ours.fg_many,
        true,
    );
    let cpu_row = |name: &str, theirs: f64, ours: f64| {
        println!(
            "{name:<44} {theirs:>14.1} {ours:>14.1} {:>7.2}x",
            theirs / ours
        );
    };
    cpu_row(
        "server CPU µs per foreground job, 1 in flight",
        theirs.fg_single_cpu,
        ours.fg_single_cpu,
    );
    cpu_row(
        "server CPU µs per foreground job, 50 in flight",
        theirs.fg_many_cpu,
        ours.fg_many_cpu,
    );
    row(
        "background submits/s, 100 in flight",
        theirs.bg,
        ours.bg,
        true,
    );
    row(
        &format!(
            "bytes per queued job beyond payload+unique ({}k)",
            sizes.queued / 1000
        ),
        theirs.bytes_per_job,
        ours.bytes_per_job,
        false,
    );
    row(
        "submits/s with an empty queue",
        theirs.rate_empty,
        ours.rate_empty,
        true,
    );
    row(
        &format!("submits/s with {}k queued", sizes.queued / 1000),
        theirs.rate_full,
        ours.rate_full,
        true,
    );
    println!(
        "{:<44} {:>13.0}% {:>13.0}%",
        "full-queue rate / empty-queue rate",
        100.0 * theirs.rate_full / theirs.rate_empty,
        100.0 * ours.rate_full / ours.rate_empty
    );
    println!("(ratio > 1 means ours is better: ours / gearmand for rates, gearmand / ours for memory and CPU)");
}
