//! The opt-in monitoring listener (`--http-status ADDR:PORT`): `/metrics` in Prometheus' text
//! format, `/status.json`, and `/`, a live status page (one HTML file with its script inline;
//! no external assets, no build step) that polls `/status.json` every second.
//!
//! Every answer is made from one [`Engine::snapshot`](crate::engine::Engine::snapshot), read
//! under the engine lock and rendered outside it.

use std::convert::Infallible;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use hyper::{Method, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

use crate::engine::metrics::{Histogram, BUCKETS};
use crate::engine::{FunctionStats, Snapshot};
use crate::server::{accept_each, lock, SharedEngine, Stop};

const PAGE: &str = include_str!("status_page.html");

/// `--http-status`: a port alone means loopback.
pub fn parse_addr(text: &str) -> Result<std::net::SocketAddr, String> {
    let text = text.trim();
    let with_host = if text.parse::<u16>().is_ok() {
        format!("127.0.0.1:{text}")
    } else {
        text.to_string()
    };
    std::net::ToSocketAddrs::to_socket_addrs(&with_host)
        .map_err(|e| format!("--http-status {text}: {e}"))?
        .next()
        .ok_or_else(|| format!("--http-status {text}: no address"))
}

/// Most monitoring connections served at once (scrapers and open status pages).
const MAX_CONNECTIONS: usize = 64;

/// Serves the monitoring listener until the server stops.
pub async fn serve(
    listener: TcpListener,
    engine: SharedEngine,
    max_functions: usize,
    stop: watch::Sender<Stop>,
) {
    let shared = Arc::new((engine, max_functions));
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    accept_each(listener, slots, &stop, move |stream, peer| {
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        async move {
            let service = hyper::service::service_fn(move |request| {
                let shared = shared.clone();
                async move { Ok::<_, Infallible>(answer(&request, &shared.0, shared.1)) }
            });
            let served = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(30))
                .max_header_size(16 * 1024)
                .serve_connection(TokioIo::new(stream), service)
                .await;
            if let Err(e) = served {
                tracing::debug!(%peer, error = %e, "status connection ended");
            }
        }
    })
    .await;
}

fn answer(
    request: &hyper::Request<Incoming>,
    engine: &SharedEngine,
    max_functions: usize,
) -> hyper::Response<Full<Bytes>> {
    let (status, kind, body) = match (request.method(), request.uri().path()) {
        (&Method::GET, "/metrics") => (
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            metrics(&lock(engine).snapshot(), max_functions),
        ),
        (&Method::GET, "/status.json") => (
            StatusCode::OK,
            "application/json",
            status_json(&lock(engine).snapshot()),
        ),
        (&Method::GET, "/") => (StatusCode::OK, "text/html; charset=utf-8", PAGE.to_string()),
        (&Method::GET, _) => (
            StatusCode::NOT_FOUND,
            "text/plain",
            "not found: /, /metrics, /status.json\n".into(),
        ),
        _ => (
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            "GET only\n".into(),
        ),
    };
    let mut response = hyper::Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(kind));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A label value with Prometheus' escapes.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// At most `max` functions, the busiest first; the rest summed into one named `_other`.
fn capped(functions: &[FunctionStats], max: usize) -> Vec<FunctionStats> {
    if functions.len() <= max {
        return functions.to_vec();
    }
    let mut sorted = functions.to_vec();
    sorted.sort_by_key(|f| std::cmp::Reverse(f.total + f.workers));
    let rest = sorted.split_off(max.saturating_sub(1));
    let mut other = FunctionStats {
        name: "_other".into(),
        queued: [0; 3],
        delayed: 0,
        running: 0,
        workers: 0,
        total: 0,
    };
    for f in rest {
        for (sum, q) in other.queued.iter_mut().zip(f.queued) {
            *sum += q;
        }
        other.delayed += f.delayed;
        other.running += f.running;
        other.workers += f.workers;
        other.total += f.total;
    }
    sorted.push(other);
    sorted
}

fn histogram(out: &mut String, name: &str, help: &str, h: &Histogram) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
    let mut cumulative = 0;
    for (bound, count) in BUCKETS.iter().zip(h.buckets) {
        cumulative += count;
        let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
    }
    let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}", h.count);
    let _ = writeln!(out, "{name}_sum {}\n{name}_count {}", h.sum, h.count);
}

/// The Prometheus text exposition of a snapshot.
pub fn metrics(s: &Snapshot, max_functions: usize) -> String {
    let mut out = String::new();
    let functions = capped(&s.functions, max_functions.max(1));
    let gauge = |out: &mut String, name: &str, help: &str| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
    };
    gauge(
        &mut out,
        "gearman_jobs_queued",
        "Jobs waiting for a worker, by function and priority.",
    );
    for f in &functions {
        for (priority, n) in ["high", "normal", "low"].iter().zip(f.queued) {
            let _ = writeln!(
                out,
                "gearman_jobs_queued{{function=\"{}\",priority=\"{priority}\"}} {n}",
                label(&f.name)
            );
        }
    }
    // (metric, help, the function's value)
    type PerFunction = (&'static str, &'static str, fn(&FunctionStats) -> u64);
    let per_function: [PerFunction; 3] = [
        (
            "gearman_jobs_scheduled",
            "Epoch jobs not yet due, by function.",
            |f| f.delayed,
        ),
        (
            "gearman_jobs_running",
            "Jobs a worker is running, by function.",
            |f| f.running,
        ),
        (
            "gearman_workers",
            "Connections that registered the function.",
            |f| f.workers,
        ),
    ];
    for (name, help, value) in per_function {
        gauge(&mut out, name, help);
        for f in &functions {
            let _ = writeln!(
                out,
                "{name}{{function=\"{}\"}} {}",
                label(&f.name),
                value(f)
            );
        }
    }
    let totals = [
        ("submitted", "Jobs submitted.", s.totals.submitted),
        (
            "completed",
            "Jobs a worker completed (WORK_COMPLETE).",
            s.totals.completed,
        ),
        (
            "failed",
            "Jobs a worker failed (WORK_FAIL).",
            s.totals.failed,
        ),
        (
            "exceptions",
            "Jobs that ended in WORK_EXCEPTION.",
            s.totals.exceptions,
        ),
        (
            "retried",
            "Jobs requeued because their worker went away or timed out.",
            s.totals.retried,
        ),
        (
            "timed_out",
            "Runs that passed their CAN_DO_TIMEOUT.",
            s.totals.timed_out,
        ),
    ];
    for (what, help, n) in totals {
        let _ = writeln!(
            out,
            "# HELP gearman_jobs_{what}_total {help}\n# TYPE gearman_jobs_{what}_total counter\ngearman_jobs_{what}_total {n}"
        );
    }
    gauge(&mut out, "gearman_connections", "Open connections.");
    let _ = writeln!(out, "gearman_connections {}", s.connections);
    gauge(
        &mut out,
        "gearman_jobs",
        "Jobs the server holds: queued, scheduled and running.",
    );
    let _ = writeln!(out, "gearman_jobs {}", s.jobs);
    histogram(
        &mut out,
        "gearman_job_wait_seconds",
        "From queued to assigned to a worker.",
        &s.wait,
    );
    histogram(
        &mut out,
        "gearman_job_run_seconds",
        "From assigned to WORK_COMPLETE, WORK_FAIL or WORK_EXCEPTION.",
        &s.run,
    );
    if let Some(commits) = &s.commits {
        histogram(
            &mut out,
            "gearman_queue_commit_seconds",
            "Durable queue group commits.",
            commits,
        );
    }
    out
}

/// What the status page shows, as JSON.
pub fn status_json(s: &Snapshot) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let value = serde_json::json!({
        "time_ms": now,
        "version": crate::VERSION_STRING,
        "connections": s.connections,
        "jobs": s.jobs,
        "totals": {
            "submitted": s.totals.submitted,
            "completed": s.totals.completed,
            "failed": s.totals.failed,
            "exceptions": s.totals.exceptions,
            "retried": s.totals.retried,
            "timed_out": s.totals.timed_out,
        },
        "functions": s.functions.iter().map(|f| serde_json::json!({
            "name": f.name,
            "total": f.total,
            "running": f.running,
            "workers": f.workers,
            "queued": {"high": f.queued[0], "normal": f.queued[1], "low": f.queued[2]},
            "scheduled": f.delayed,
        })).collect::<Vec<_>>(),
        "workers": s.workers.iter().map(|w| serde_json::json!({
            "fd": w.fd,
            "ip": w.ip,
            "client_id": w.client_id,
            "functions": w.functions,
            "running": w.running,
        })).collect::<Vec<_>>(),
    });
    value.to_string()
}
