//! HTTP and monitoring costs, same run:
//! - foreground jobs/s over gearmand's HTTP protocol (`-r http`), 50 concurrent requests,
//!   Debian's gearmand against ours (ours keeps HTTP/1.1 connections alive; gearmand closes
//!   each, so its clients reconnect), the same 8 echo workers behind each;
//! - the cost of monitoring: binary-protocol foreground jobs/s (50 in flight) on our server
//!   with `--http-status` scraped every second, against the same with it off.
//!
//! Runs alternate, five times each; medians are printed.
//! `cargo run --release -p gearman-bench --bin http-bench [-- --quick]`

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gearman_testkit::{Kind, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod load;
use load::{client, median, pipelined, spawn_workers};

/// One HTTP/1.1 POST on `conn` (connecting first if needed); the connection is kept when the
/// server keeps it (HTTP/1.1 without `Connection: close`).
async fn post(conn: &mut Option<TcpStream>, port: u16, body: &[u8]) {
    let mut stream = match conn.take() {
        Some(s) => s,
        None => {
            let s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
            s.set_nodelay(true).unwrap();
            s
        }
    };
    let head = format!(
        "POST /echo HTTP/1.1\r\nHost: bench\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let mut request = head.into_bytes();
    request.extend_from_slice(body);
    stream.write_all(&request).await.unwrap();
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 4096];
    let (head_end, length, keep) = loop {
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "closed before the answer");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            assert!(
                head.starts_with("http/1.") && head[9..].starts_with("200"),
                "{head}"
            );
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            let keep = head.starts_with("http/1.1") && !head.contains("connection: close");
            break (end + 4, length, keep);
        }
    };
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "closed in the body");
        buf.extend_from_slice(&chunk[..n]);
    }
    assert_eq!(&buf[head_end..head_end + length], body);
    if keep {
        *conn = Some(stream);
    }
}

/// Foreground jobs/s through the HTTP port, `concurrency` requests at a time.
async fn http_rate(port: u16, total: usize, concurrency: usize) -> f64 {
    let start = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            tokio::spawn(async move {
                let mut conn = None;
                for _ in 0..total / concurrency {
                    post(&mut conn, port, b"0123456789").await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    (total / concurrency * concurrency) as f64 / start.elapsed().as_secs_f64()
}

async fn http_run(kind: Kind, total: usize) -> f64 {
    let http = kind.start_http(&[]);
    let (server, http_port) = (http.server, http.http_port);
    let workers = spawn_workers(&server.addr(), "echo", 8);
    // Warm-up, and the workers registered.
    http_rate(http_port, 200, 10).await;
    let rate = http_rate(http_port, total, 50).await;
    workers.into_iter().for_each(|w| w.abort());
    drop(server);
    rate
}

/// Binary-protocol foreground jobs/s, 50 in flight; with `scrape`, `/metrics` is fetched every
/// second meanwhile.
async fn protocol_run(server: &Server, status_port: Option<u16>, total: usize) -> f64 {
    let addr = server.addr();
    let workers = spawn_workers(&addr, "echo50", 8);
    let mut c = client(&addr).await;
    pipelined(&mut c, "echo50", 2_000, 50, false).await; // warm-up
    let stop = Arc::new(AtomicBool::new(false));
    let scraper = status_port.map(|port| {
        let stop = stop.clone();
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
                s.write_all(b"GET /metrics HTTP/1.0\r\n\r\n").await.unwrap();
                let mut text = Vec::new();
                s.read_to_end(&mut text).await.unwrap();
                assert!(text.starts_with(b"HTTP/1.0 200"));
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        })
    });
    let rate = pipelined(&mut c, "echo50", total, 50, false).await;
    stop.store(true, Ordering::Relaxed);
    if let Some(s) = scraper {
        s.await.unwrap();
    }
    workers.into_iter().for_each(|w| w.abort());
    rate
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (http_total, protocol_total) = if quick {
        (5_000, 20_000)
    } else {
        (20_000, 100_000)
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (mut theirs, mut ours) = (Vec::new(), Vec::new());
    let (mut off, mut on) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        theirs.push(runtime.block_on(http_run(Kind::Debian, http_total)));
        ours.push(runtime.block_on(http_run(Kind::Ours, http_total)));
        let plain = Server::ours();
        off.push(runtime.block_on(protocol_run(&plain, None, protocol_total)));
        drop(plain);
        let (watched, port) = Kind::Ours.start_with_second_listener(&["--http-status=0"]);
        on.push(runtime.block_on(protocol_run(&watched, Some(port), protocol_total)));
    }
    let (theirs, ours) = (median(&mut theirs), median(&mut ours));
    let (off, on) = (median(&mut off), median(&mut on));
    println!("\nHTTP and monitoring benchmark: same load generator, medians of 5 alternating runs (2 cores, loopback)");
    println!(
        "{:<58} {:>12} {:>12} {:>8}",
        "measure", "reference", "ours", "ratio"
    );
    println!(
        "{:<58} {theirs:>12.0} {ours:>12.0} {:>7.2}x",
        "HTTP foreground jobs/s, 50 concurrent (gearmand -r http)",
        ours / theirs
    );
    println!(
        "{:<58} {off:>12.0} {on:>12.0} {:>7.0}%",
        "binary jobs/s, 50 in flight: status off / scraped every 1 s",
        100.0 * on / off
    );
}
