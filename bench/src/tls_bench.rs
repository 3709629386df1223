//! TLS against plaintext on our gearmand, same load generator, same run: foreground jobs/s with
//! 50 in flight (8 echo workers), background submits/s with 100 in flight, foreground jobs/s
//! with 1 in flight, and connection set-up time (connect, TLS handshake, first echo). Runs
//! alternate between a plaintext and a TLS server, five times; medians are printed (the load
//! generator and the server share two cores, so single runs vary by ±15%).
//!
//! `cargo run --release -p gearman-bench --bin tls-bench [-- --quick]`; with
//! `TLS_BENCH_PROFILE=tls` (or `plain`), one long 50-in-flight run only, to profile the server.

use std::time::{Duration, Instant};

use gearman_core::{ServerAddr, TlsConnector, TlsOptions};
use gearman_testkit::pki::Pki;
use gearman_testkit::Server;

mod load;
use load::{client_tls, cpu_micros, median, pipelined, spawn_workers_tls};

struct Sizes {
    fg_single: usize,
    fg_many: usize,
    bg: usize,
    connections: usize,
}

#[derive(Default, Clone, Copy)]
struct Run {
    fg_single: f64,
    fg_many: f64,
    /// CPU µs per job, 50 in flight: the server's, and the load generator's (client, workers).
    fg_many_server_cpu: f64,
    fg_many_load_cpu: f64,
    bg: f64,
    /// Median microseconds from connect to the first echo answered.
    setup_us: f64,
}

/// Connects `count` times in turn, each to one echo; the median set-up time in µs.
async fn setup_time(addr: &str, tls: Option<&TlsConnector>, count: usize) -> f64 {
    let addr = ServerAddr::parse(addr).unwrap();
    let mut times = Vec::with_capacity(count);
    for _ in 0..count {
        let start = Instant::now();
        let mut conn = gearman_core::connection::Connection::connect(
            &addr,
            Duration::from_secs(5),
            1 << 20,
            tls,
        )
        .await
        .unwrap();
        conn.send(gearman_core::protocol::PacketType::EchoReq, &[b"x"])
            .await
            .unwrap();
        conn.read_packet().await.unwrap();
        times.push(start.elapsed().as_secs_f64() * 1e6);
    }
    median(&mut times)
}

async fn measure(server: &Server, tls: Option<&TlsConnector>, sizes: &Sizes) -> Run {
    let addr = server.addr();
    let mut run = Run::default();
    let workers = spawn_workers_tls(&addr, "echo", 1, tls);
    let mut c = client_tls(&addr, tls).await;
    pipelined(&mut c, "echo", 200, 1, false).await; // warm-up
    run.fg_single = pipelined(&mut c, "echo", sizes.fg_single, 1, false).await;
    workers.into_iter().for_each(|w| w.abort());
    let workers = spawn_workers_tls(&addr, "echo50", 8, tls);
    let (server_cpu, load_cpu) = (cpu_micros(server.pid()), cpu_micros(std::process::id()));
    run.fg_many = pipelined(&mut c, "echo50", sizes.fg_many, 50, false).await;
    run.fg_many_server_cpu = (cpu_micros(server.pid()) - server_cpu) / sizes.fg_many as f64;
    run.fg_many_load_cpu = (cpu_micros(std::process::id()) - load_cpu) / sizes.fg_many as f64;
    workers.into_iter().for_each(|w| w.abort());
    run.bg = pipelined(&mut c, "bg", sizes.bg, 100, true).await;
    run.setup_us = setup_time(&addr, tls, sizes.connections).await;
    run
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let sizes = if quick {
        Sizes {
            fg_single: 2_000,
            fg_many: 20_000,
            bg: 20_000,
            connections: 100,
        }
    } else {
        Sizes {
            fg_single: 10_000,
            fg_many: 100_000,
            bg: 200_000,
            connections: 500,
        }
    };
    let pki = Pki::new(&gearman_testkit::temp_dir("tls-bench"));
    let tls = TlsOptions::new(Some(pki.ca.clone()), None, None)
        .connector()
        .unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // TLS_BENCH_PROFILE=tls|plain: one long run of the 50-in-flight load only, to profile.
    if let Ok(mode) = std::env::var("TLS_BENCH_PROFILE") {
        let (server, tls) = match mode.as_str() {
            "plain" => (Server::ours(), None),
            _ => (
                Server::ours_tls(&[
                    &format!("--ssl-certificate={}", pki.server.cert.display()),
                    &format!("--ssl-key={}", pki.server.key.display()),
                ]),
                Some(&tls),
            ),
        };
        eprintln!("server pid {}", server.pid());
        let rate = runtime.block_on(async {
            let workers = spawn_workers_tls(&server.addr(), "echo50", 8, tls);
            let mut c = client_tls(&server.addr(), tls).await;
            let rate = pipelined(&mut c, "echo50", 500_000, 50, false).await;
            workers.into_iter().for_each(|w| w.abort());
            rate
        });
        println!("{mode} foreground jobs/s, 50 in flight: {rate:.0}");
        return;
    }
    let (mut plain_runs, mut tls_runs) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        // A fresh server per run: a background run leaves 200k jobs queued.
        let plain = Server::ours();
        plain_runs.push(runtime.block_on(measure(&plain, None, &sizes)));
        drop(plain);
        let secure = Server::ours_tls(&[
            &format!("--ssl-certificate={}", pki.server.cert.display()),
            &format!("--ssl-key={}", pki.server.key.display()),
        ]);
        tls_runs.push(runtime.block_on(measure(&secure, Some(&tls), &sizes)));
    }
    let pick =
        |runs: &[Run], f: fn(&Run) -> f64| median(&mut runs.iter().map(f).collect::<Vec<_>>());
    println!("\nTLS benchmark: our gearmand, plaintext and TLS (rustls, TLS 1.3, ECDSA P-256), same load generator; medians of 5 alternating runs (2 cores, loopback)");
    println!(
        "{:<44} {:>14} {:>14} {:>10}",
        "measure", "plaintext", "TLS", "TLS/plain"
    );
    let rate = |name: &str, f: fn(&Run) -> f64| {
        let (p, t) = (pick(&plain_runs, f), pick(&tls_runs, f));
        println!("{name:<44} {p:>14.0} {t:>14.0} {:>9.0}%", 100.0 * t / p);
    };
    rate("foreground jobs/s, 50 in flight", |r| r.fg_many);
    let cpu = |name: &str, f: fn(&Run) -> f64| {
        let (p, t) = (pick(&plain_runs, f), pick(&tls_runs, f));
        println!("{name:<44} {p:>14.1} {t:>14.1} {:>9.0}%", 100.0 * t / p);
    };
    cpu("  server CPU µs per job", |r| r.fg_many_server_cpu);
    cpu("  load generator CPU µs per job", |r| r.fg_many_load_cpu);
    rate("background submits/s, 100 in flight", |r| r.bg);
    rate("foreground jobs/s, 1 in flight", |r| r.fg_single);
    let (p, t) = (
        pick(&plain_runs, |r| r.setup_us),
        pick(&tls_runs, |r| r.setup_us),
    );
    println!(
        "{:<44} {p:>14.0} {t:>14.0} {:>9.1}x",
        "connection set-up µs (connect to first echo)",
        t / p
    );
    let _ = std::fs::remove_dir_all(&pki.dir);
}
