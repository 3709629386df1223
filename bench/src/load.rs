//! The load generator the server benchmarks share: echo workers and a client that keeps a
//! window of jobs in flight, over plaintext or TLS.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use bytes::Bytes;
use gearman_core::protocol::PacketType;
use gearman_core::{
    Client, ClientOptions, JobEvent, JobRequest, TlsConnector, Worker, WorkerOptions,
};

/// CPU time (user + system) the process has used, in microseconds.
pub fn cpu_micros(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, r)| r)
        .split_whitespace()
        .collect();
    let ticks: f64 = fields.get(11..13).map_or(0.0, |f| {
        f.iter().filter_map(|v| v.parse::<f64>().ok()).sum()
    });
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    ticks * 1e6 / hz
}

/// The middle of `values` (sorted in place).
pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

pub fn options() -> ClientOptions {
    ClientOptions {
        timeout: Some(Duration::from_secs(60)),
        ..Default::default()
    }
}

pub async fn client(addr: &str) -> Client {
    client_tls(addr, None).await
}

/// A client of `addr`, over TLS with `tls`.
pub async fn client_tls(addr: &str, tls: Option<&TlsConnector>) -> Client {
    let mut c = Client::new(ClientOptions {
        tls: tls.cloned(),
        ..options()
    });
    c.add_servers(addr).unwrap();
    c
}

pub fn spawn_workers(addr: &str, function: &str, count: usize) -> Vec<tokio::task::JoinHandle<()>> {
    spawn_workers_tls(addr, function, count, None)
}

/// Echo workers: each returns the workload as the result.
pub fn spawn_workers_tls(
    addr: &str,
    function: &str,
    count: usize,
    tls: Option<&TlsConnector>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..count)
        .map(|_| {
            let addr = addr.to_string();
            let function = function.to_string();
            let tls = tls.cloned();
            tokio::spawn(async move {
                let mut w = Worker::new(WorkerOptions {
                    tls,
                    ..Default::default()
                });
                w.add_servers(&addr).unwrap();
                w.register(function, None).unwrap();
                // The result goes out in one write with the next grab.
                while let Ok(job) = w.grab_job().await {
                    let workload = job.workload.clone();
                    if w.queue(&job, PacketType::WorkComplete, &[&workload])
                        .is_err()
                    {
                        return;
                    }
                }
            })
        })
        .collect()
}

/// Runs `total` jobs keeping `window` in flight; returns jobs per second.
pub async fn pipelined(
    c: &mut Client,
    function: &str,
    total: usize,
    window: usize,
    background: bool,
) -> f64 {
    let payload = Bytes::from_static(b"0123456789");
    let start = Instant::now();
    let mut submitted = 0;
    let mut done = 0;
    while submitted < window.min(total) {
        c.submit(JobRequest::new(function.to_string(), payload.clone()).background(background))
            .await
            .unwrap();
        submitted += 1;
    }
    while done < total {
        let event = c.next_event().await.unwrap().expect("jobs in flight");
        if let JobEvent::Finished(outcome) = event.event {
            assert!(outcome.is_success(), "{outcome:?}");
            c.take(event.job);
            done += 1;
            if submitted < total {
                c.submit(
                    JobRequest::new(function.to_string(), payload.clone()).background(background),
                )
                .await
                .unwrap();
                submitted += 1;
            }
        }
    }
    total as f64 / start.elapsed().as_secs_f64()
}
