//! The monitoring listener (`--http-status`): `/metrics` parsed by Prometheus' own Python
//! parser with counters that match a known job load exactly, the cap on functions, and the
//! status page in headless Chromium under load (its table against `gearadmin --status`, its
//! plots moving between two screenshots).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use bytes::Bytes;
use gearman_core::blocking::{BlockingClient, BlockingWorker, JobFailure};
use gearman_core::{ClientOptions, JobRequest, Priority, WorkerOptions};
use gearman_testkit::tls_peers::peer_python;
use gearman_testkit::{run_with_stdin, Kind, Server};

/// GET `path` from the status listener; the body.
fn get(port: u16, path: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.0 200"), "{head}");
    body.to_string()
}

fn client(server: &Server) -> BlockingClient {
    let mut c = BlockingClient::new(ClientOptions {
        timeout: Some(Duration::from_secs(10)),
        ..Default::default()
    })
    .unwrap();
    c.add_servers(&server.addr()).unwrap();
    c
}

fn worker(server: &Server, function: &str, timeout_ms: Option<u32>) -> BlockingWorker {
    let mut w = BlockingWorker::new(WorkerOptions {
        timeout: Some(Duration::from_secs(10)),
        ..Default::default()
    })
    .unwrap();
    w.add_servers(&server.addr()).unwrap();
    w.register(function.to_string(), timeout_ms).unwrap();
    w
}

/// `/metrics` as Prometheus' parser reads it: `name{labels}` → value, one line each, labels
/// sorted. Fails if the parser refuses the text.
fn parsed(text: &str) -> std::collections::BTreeMap<String, f64> {
    let python = peer_python("prometheus-client", "prometheus_client");
    let script = r#"
import sys
from prometheus_client.parser import text_string_to_metric_families
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        labels = ",".join("%s=%s" % kv for kv in sorted(s.labels.items()))
        print("%s{%s} %r" % (s.name, labels, s.value))
"#;
    let out = run_with_stdin(Command::new(python).args(["-c", script]), text.as_bytes());
    assert!(
        out.status.success(),
        "prometheus_client refused the text: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.rsplit_once(' '))
        .map(|(k, v)| (k.to_string(), v.parse().unwrap()))
        .collect()
}

#[test]
fn metrics_parse_and_count_a_known_load_exactly() {
    let (server, status_port) = Kind::Ours.start_with_second_listener(&["--http-status=0"]);
    // 5 completed, 2 failed, 1 exception, through one worker.
    let mut w = worker(&server, "work", None);
    let serving = std::thread::spawn(move || {
        w.work(Some(8), |job| match &job.job().workload[..] {
            b"fail" => Err(JobFailure::Fail),
            b"boom" => Err(JobFailure::Exception(Bytes::from("boom"))),
            _ => Ok(Bytes::from("done")),
        })
        .unwrap();
    });
    let mut c = client(&server);
    for workload in ["ok", "ok", "ok", "ok", "ok", "fail", "fail", "boom"] {
        c.run(JobRequest::new("work", workload)).unwrap();
    }
    serving.join().unwrap();
    // 3 queued with no worker: 1 high, 2 low.
    for priority in [Priority::High, Priority::Low, Priority::Low] {
        c.submit_background(JobRequest::new("backlog", "x").priority(priority))
            .unwrap();
    }
    // A worker that takes a job and goes away: retried once.
    c.submit_background(JobRequest::new("flaky", "x")).unwrap();
    let mut flaky = worker(&server, "flaky", None);
    flaky.grab_job().unwrap();
    drop(flaky);
    // A worker past its CAN_DO_TIMEOUT: timed out once (and retried).
    c.submit_background(JobRequest::new("slow", "x")).unwrap();
    let mut slow = worker(&server, "slow", Some(100));
    slow.grab_job().unwrap();
    std::thread::sleep(Duration::from_millis(400));
    drop(slow);
    assert!(gearman_testkit::wait_until(Duration::from_secs(5), || {
        gearman_testkit::admin(server.port, "status").contains("flaky\t1\t0\t0")
    }));

    let text = get(status_port, "/metrics");
    let m = parsed(&text);
    let expect = |key: &str, value: f64| {
        assert_eq!(m.get(key), Some(&value), "{key} in:\n{text}");
    };
    for (what, n) in [
        ("submitted", 13.0),
        ("completed", 5.0),
        ("failed", 2.0),
        ("exceptions", 1.0),
        ("retried", 2.0),
        ("timed_out", 1.0),
    ] {
        expect(&format!("gearman_jobs_{what}_total{{}}"), n);
    }
    expect("gearman_jobs_queued{function=backlog,priority=high}", 1.0);
    expect("gearman_jobs_queued{function=backlog,priority=normal}", 0.0);
    expect("gearman_jobs_queued{function=backlog,priority=low}", 2.0);
    expect("gearman_jobs_queued{function=flaky,priority=normal}", 1.0);
    expect("gearman_jobs_queued{function=slow,priority=normal}", 1.0);
    // The worker of "work" is gone, and with it the function (nothing queued or running).
    assert!(!text.contains("function=\"work\""), "{text}");
    expect("gearman_jobs{}", 5.0);
    // Eight runs ended; ten assignments (the eight, the flaky one and the slow one).
    expect("gearman_job_run_seconds_count{}", 8.0);
    expect("gearman_job_wait_seconds_count{}", 10.0);
    expect("gearman_job_wait_seconds_bucket{le=+Inf}", 10.0);

    // /status.json says the same.
    let json: serde_json::Value = serde_json::from_str(&get(status_port, "/status.json")).unwrap();
    assert_eq!(json["totals"]["completed"], 5);
    let backlog = json["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "backlog")
        .unwrap();
    assert_eq!(backlog["queued"]["low"], 2);
    assert_eq!(backlog["total"], 3);
}

#[test]
fn metrics_report_at_most_the_cap_of_functions() {
    let (server, status_port) =
        Kind::Ours.start_with_second_listener(&["--http-status=0", "--metrics-max-functions=3"]);
    let mut c = client(&server);
    for i in 0..10 {
        for _ in 0..=i {
            c.submit_background(JobRequest::new(format!("f{i}"), "x"))
                .unwrap();
        }
    }
    let m = parsed(&get(status_port, "/metrics"));
    let functions: std::collections::BTreeSet<&str> = m
        .keys()
        .filter_map(|k| k.strip_prefix("gearman_jobs_queued{function="))
        .map(|rest| rest.split(',').next().unwrap())
        .collect();
    // The two busiest, and the rest summed: 1 + 2 + … + 8 = 36 jobs.
    assert_eq!(
        functions,
        ["_other", "f8", "f9"].into_iter().collect(),
        "{m:?}"
    );
    assert_eq!(
        m["gearman_jobs_queued{function=_other,priority=normal}"],
        36.0
    );
}

const CHROMIUM: &str = "/usr/bin/chromium";

/// Chromium, headless, loading `url` and letting its script run for `ms` of virtual time;
/// `what` is `--dump-dom` or `--screenshot=FILE`.
fn chromium(url: &str, what: &str, ms: u32, profile: &Path) -> String {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: install chromium (scripts/install-deps.sh does)"
    );
    let out = Command::new("timeout")
        .arg("60")
        .arg(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=1200,640",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--virtual-time-budget={ms}"))
        .arg(what)
        .arg(url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "chromium: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The rows of the page's `status` table: function, total, running, workers.
fn table_rows(dom: &str) -> Vec<Vec<String>> {
    let table = dom
        .split("<table id=\"status\">")
        .nth(1)
        .and_then(|t| t.split("</table>").next())
        .expect("the status table");
    let body = table.split("<tbody>").nth(1).unwrap_or("");
    body.split("<tr>")
        .skip(1)
        .map(|row| {
            row.split("<td>")
                .skip(1)
                .map(|cell| cell.split("</td>").next().unwrap_or("").to_string())
                .take(4)
                .collect()
        })
        .collect()
}

#[test]
fn the_status_page_in_chromium_matches_gearadmin_and_its_plots_move() {
    let (server, status_port) = Kind::Ours.start_with_second_listener(&["--http-status=0"]);
    let url = format!("http://127.0.0.1:{status_port}/");
    // A steady load: a worker and a client running jobs, and a queue that grows.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut w = worker(&server, "resize", None);
    let load = {
        let stop = stop.clone();
        let addr = server.addr();
        std::thread::spawn(move || {
            let mut c = BlockingClient::new(ClientOptions::default()).unwrap();
            c.add_servers(&addr).unwrap();
            let mut i = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                c.run(JobRequest::new("resize", "img")).unwrap();
                if i.is_multiple_of(20) {
                    c.submit_background(JobRequest::new("thumbnail", "img"))
                        .unwrap();
                }
                i += 1;
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    let serving = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = w.work_one(&mut |_job| Ok(Bytes::from("ok")));
            }
        })
    };
    let dir = gearman_testkit::temp_dir("chromium");
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let first = shots.join("status-page-1.png");
    let second = shots.join("status-page-2.png");
    chromium(
        &url,
        &format!("--screenshot={}", first.display()),
        4000,
        &dir.join("a"),
    );
    std::thread::sleep(Duration::from_secs(2));
    chromium(
        &url,
        &format!("--screenshot={}", second.display()),
        6000,
        &dir.join("b"),
    );
    let dom = chromium(&url, "--dump-dom", 4000, &dir.join("c"));
    let admin = gearman_testkit::admin(server.port, "status");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    load.join().unwrap();
    serving.join().unwrap();

    // The table lists what gearadmin --status lists, function by function (the running
    // counts move under load; names, and workers, do not).
    let rows = table_rows(&dom);
    let listed: Vec<Vec<String>> = admin
        .lines()
        .filter(|l| *l != ".")
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect();
    let names =
        |rows: &[Vec<String>]| -> Vec<String> { rows.iter().map(|r| r[0].clone()).collect() };
    assert_eq!(names(&rows), names(&listed), "{rows:?} {listed:?}");
    for (row, line) in rows.iter().zip(&listed) {
        assert_eq!(row[3], line[3], "workers of {}", row[0]);
    }
    assert!(
        rows.iter().any(|r| r[0] == "thumbnail" && r[1] != "0"),
        "{rows:?}"
    );
    // The plots moved: the screenshots differ, and the page recorded throughput.
    let (a, b) = (
        std::fs::read(&first).unwrap(),
        std::fs::read(&second).unwrap(),
    );
    assert!(a.len() > 10_000 && a != b, "screenshots identical");
    assert!(dom.contains("\"throughput\":["), "{dom}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_durable_queue_reports_its_commit_times() {
    let dir = gearman_testkit::temp_dir("status-sqlite");
    let db = format!("--libsqlite3-db={}", dir.join("q.db").display());
    let (server, status_port) =
        Kind::Ours.start_with_second_listener(&["--http-status=0", "-q", "libsqlite3", &db]);
    let mut c = client(&server);
    for _ in 0..3 {
        c.submit_background(JobRequest::new("stored", "x")).unwrap();
    }
    let m = parsed(&get(status_port, "/metrics"));
    let commits = m["gearman_queue_commit_seconds_count{}"];
    assert!((1.0..=3.0).contains(&commits), "{m:?}");
    assert_eq!(
        m["gearman_jobs_queued{function=stored,priority=normal}"],
        3.0
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
