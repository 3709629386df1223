//! gearmand's HTTP protocol (`-r http`), ours side by side with Debian's gearmand 1.1.20: the
//! same curl requests, the same worker, and a table of cases whose status, headers and bodies
//! must match; then the cases where ours answers differently on purpose (gearmand is silent or
//! wrong there), and bad input.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use gearman_core::blocking::BlockingWorker;
use gearman_core::WorkerOptions;
use gearman_testkit::{HttpServer, Kind};

/// A worker thread for the cases: reverse, fail, chunks (WORK_DATA then the result) and
/// progress (WORK_STATUS then the result). It runs until the server goes away.
fn worker(server: &HttpServer) {
    let mut worker = BlockingWorker::new(WorkerOptions {
        timeout: Some(Duration::from_secs(60)),
        ..Default::default()
    })
    .unwrap();
    worker.add_servers(&server.server.addr()).unwrap();
    for f in ["reverse", "fail", "chunks", "progress"] {
        worker.register(f, None).unwrap();
    }
    worker.connect_all().unwrap();
    std::thread::spawn(move || {
        while let Ok(job) = worker.grab_job() {
            let sent = match &job.function[..] {
                b"fail" => worker.send_fail(&job),
                b"chunks" => worker
                    .send_data(&job, b"chunk-")
                    .and_then(|()| worker.send_complete(&job, b"done")),
                b"progress" => worker
                    .send_status(&job, 1, 2)
                    .and_then(|()| worker.send_complete(&job, b"done")),
                _ => {
                    let mut reversed = job.workload.to_vec();
                    reversed.reverse();
                    worker.send_complete(&job, &reversed)
                }
            };
            if sent.is_err() {
                return;
            }
        }
    });
    // Registered once `status` lists a worker for each function.
    assert!(gearman_testkit::wait_until(Duration::from_secs(10), || {
        let status = gearman_testkit::admin(server.server.port, "status");
        ["reverse", "fail", "chunks", "progress"].iter().all(|f| {
            status
                .lines()
                .any(|l| l.starts_with(&format!("{f}\t")) && !l.ends_with("\t0"))
        })
    }));
}

/// What curl saw: its exit code, the status line, headers (names lower-cased, handles and the
/// server's version masked), and the body.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    exit: i32,
    status: String,
    headers: BTreeMap<String, String>,
    body: String,
}

fn curl(port: u16, args: &[&str]) -> Seen {
    let out = Command::new("curl")
        .args(["-s", "-i", "--max-time", "3"])
        .args(args.iter().map(|a| a.replace("PORT", &port.to_string())))
        .output()
        .expect("curl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines.next().unwrap_or("").to_string();
    let headers = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(name, value)| {
            let name = name.to_ascii_lowercase();
            let value = match name.as_str() {
                "x-gearman-job-handle" if value.starts_with("H:") => "H:*".to_string(),
                "server" => value.split('/').next().unwrap_or("").to_string() + "/*",
                _ => value.to_string(),
            };
            (name, value)
        })
        .collect();
    Seen {
        exit: out.status.code().unwrap_or(-1),
        status,
        headers,
        body: body.to_string(),
    }
}

const URL: &str = "http://127.0.0.1:PORT";

/// Requests both servers answer the same way (curl's HTTP/1.0, as gearmand speaks).
fn same_cases() -> Vec<(&'static str, Vec<String>)> {
    let url = |path: &str| format!("{URL}{path}");
    let v = |args: &[&str]| {
        let mut all = vec!["--http1.0".to_string()];
        all.extend(args.iter().map(|s| s.to_string()));
        all
    };
    vec![
        (
            "POST a foreground job",
            v(&["--data-binary", "hello", &url("/reverse")]),
        ),
        ("GET with no body", v(&[&url("/reverse")])),
        (
            "PUT",
            v(&["-X", "PUT", "--data-binary", "put", &url("/reverse")]),
        ),
        (
            "background",
            v(&[
                "-H",
                "X-Gearman-Background: true",
                "--data-binary",
                "x",
                &url("/reverse"),
            ]),
        ),
        (
            "background, high priority, a unique",
            v(&[
                "-H",
                "X-Gearman-Background: true",
                "-H",
                "X-Gearman-Priority: high",
                "-H",
                "X-Gearman-Unique: u-1",
                "--data-binary",
                "y",
                &url("/reverse"),
            ]),
        ),
        (
            "foreground, low priority",
            v(&[
                "-H",
                "X-Gearman-Priority: low",
                "--data-binary",
                "low",
                &url("/reverse"),
            ]),
        ),
        (
            "HEAD of a background job",
            v(&["-I", "-H", "X-Gearman-Background: true", &url("/reverse")]),
        ),
        ("no function", v(&["--data-binary", "x", &url("/")])),
        ("WORK_FAIL", v(&["--data-binary", "x", &url("/fail")])),
        (
            "no worker: no answer",
            v(&["--data-binary", "x", &url("/nobody")]),
        ),
    ]
}

/// Debian's gearmand and ours, each with `-r http` and the cases' worker.
fn both_with_workers() -> (HttpServer, HttpServer) {
    let debian = Kind::Debian.start_http(&[]);
    let ours = Kind::Ours.start_http(&[]);
    worker(&debian);
    worker(&ours);
    (debian, ours)
}

#[test]
fn curl_gets_what_gearmand_answers() {
    let (debian, ours) = both_with_workers();
    let mut table = String::new();
    for (name, args) in same_cases() {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let theirs = curl(debian.http_port, &args);
        let mine = curl(ours.http_port, &args);
        table += &format!("{name}: {theirs:?}\n");
        assert_eq!(mine, theirs, "{name}");
    }
    // The foreground answers carry the results.
    assert!(table.contains(r#"body: "olleh""#), "{table}");
    assert!(table.contains("WORK_FAIL"), "{table}");
}

#[test]
fn where_ours_answers_more_clearly_than_gearmand() {
    let (debian, ours) = both_with_workers();
    let url = format!("{URL}/reverse");
    // DELETE: gearmand closes without a byte (curl: empty reply, exit 52); ours says 405.
    let args = ["--http1.0", "-X", "DELETE", url.as_str()];
    assert_eq!(curl(debian.http_port, &args).exit, 52);
    let seen = curl(ours.http_port, &args);
    assert!(seen.status.starts_with("HTTP/1.0 405"), "{seen:?}");
    assert_eq!(seen.headers["allow"], "GET, POST, PUT, HEAD, TRACE");

    // WORK_DATA before the result: all of it, in order (gearmand writes the data over the
    // start of its response).
    let chunks = format!("{URL}/chunks");
    let args = ["--http1.0", "--data-binary", "x", chunks.as_str()];
    let theirs = curl(debian.http_port, &args);
    let seen = curl(ours.http_port, &args);
    assert_eq!(
        (seen.exit, seen.body.as_str()),
        (0, "chunk-done"),
        "{seen:?}"
    );
    assert_ne!(theirs, seen);
    assert_eq!(seen.headers["x-gearman-command"], "WORK_COMPLETE");

    // WORK_STATUS before the result: the result (gearmand ends its response on the status).
    let progress = format!("{URL}/progress");
    let args = ["--http1.0", "--data-binary", "x", progress.as_str()];
    let theirs = curl(debian.http_port, &args);
    let seen = curl(ours.http_port, &args);
    assert_eq!((seen.exit, seen.body.as_str()), (0, "done"), "{seen:?}");
    assert_ne!(theirs.body, "done", "{theirs:?}");

    // HTTP/1.1: ours keeps the connection for the next request (gearmand answers HTTP/1.0
    // and closes); curl reuses it for the second URL.
    let out = Command::new("curl")
        .args(["-s", "-v", "--max-time", "5", "--data-binary", "ab"])
        .arg(format!("http://127.0.0.1:{}/reverse", ours.http_port))
        .arg("--next")
        .args(["--data-binary", "cd"])
        .arg(format!("http://127.0.0.1:{}/reverse", ours.http_port))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "badc");
    assert!(stderr.contains("< HTTP/1.1 200 OK"), "{stderr}");
    assert!(
        stderr.contains("Re-using existing connection") || stderr.contains("Reusing existing"),
        "{stderr}"
    );
}

#[test]
fn bad_input_gets_an_http_error_and_nothing_else_is_affected() {
    let ours = Kind::Ours.start_http(&["--max-packet-size=1000"]);
    worker(&ours);
    let url = format!("{URL}/reverse");
    // A body beyond --max-packet-size.
    let big = "x".repeat(5000);
    let seen = curl(ours.http_port, &["--data-binary", &big, &url]);
    assert!(seen.status.starts_with("HTTP/1.1 413"), "{seen:?}");
    // A garbage request line, and headers beyond the cap.
    let raw = |bytes: &[u8]| -> String {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", ours.http_port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let _ = s.write_all(bytes);
        let mut answer = Vec::new();
        let _ = s.read_to_end(&mut answer);
        String::from_utf8_lossy(&answer).into_owned()
    };
    assert!(raw(b"garbage\r\n\r\n").starts_with("HTTP/1.1 400"));
    let huge = format!(
        "GET /reverse HTTP/1.1\r\nX-Big: {}\r\n\r\n",
        "y".repeat(100_000)
    );
    let answer = raw(huge.as_bytes());
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer:?}");
    // A function name too long for Gearman.
    let long = format!("{URL}/{}", "f".repeat(600));
    let seen = curl(ours.http_port, &["--data-binary", "x", &long]);
    assert!(seen.status.starts_with("HTTP/1.1 414"), "{seen:?}");
    // Through all of it, jobs run, over HTTP and over Gearman.
    let seen = curl(ours.http_port, &["--data-binary", "still here", &url]);
    assert_eq!(seen.body, "ereh llits");
    assert!(gearman_testkit::admin(ours.server.port, "version").starts_with("OK"));
}
