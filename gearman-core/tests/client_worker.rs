//! The client, worker and admin client against Debian's gearmand 1.1.20 (the reference peer) and
//! against our gearmand: every test runs against both.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use gearman_core::blocking::{
    BlockingAdminClient, BlockingClient, BlockingWorker, JobContext, JobFailure,
};
use gearman_core::{
    ClientOptions, Error, JobRequest, Outcome, Priority, ServerAddr, WorkerOptions,
};
use gearman_testkit::{closed_port, Kind, Server};

fn client(servers: &[&Server]) -> BlockingClient {
    client_with(
        servers,
        ClientOptions {
            timeout: Some(Duration::from_secs(20)),
            ..Default::default()
        },
    )
}

fn client_with(servers: &[&Server], options: ClientOptions) -> BlockingClient {
    let mut c = BlockingClient::new(options).unwrap();
    for s in servers {
        c.add_servers(&s.addr()).unwrap();
    }
    c
}

type Handler = dyn FnMut(&mut JobContext<'_>) -> Result<Bytes, JobFailure> + Send;

/// A worker thread serving `function` on the servers for up to `jobs` jobs.
fn worker(
    servers: &[&Server],
    function: &str,
    jobs: u64,
    mut handler: Box<Handler>,
) -> JoinHandle<()> {
    let addrs: Vec<String> = servers.iter().map(|s| s.addr()).collect();
    let function = function.to_string();
    std::thread::spawn(move || {
        let options = WorkerOptions {
            timeout: Some(Duration::from_secs(20)),
            ..Default::default()
        };
        let mut w = BlockingWorker::new(options).unwrap();
        for a in &addrs {
            w.add_servers(a).unwrap();
        }
        w.register(function, None).unwrap();
        w.work(Some(jobs), |job| handler(job)).unwrap();
    })
}

fn reverse(job: &mut JobContext<'_>) -> Result<Bytes, JobFailure> {
    let mut data = job.job().workload.to_vec();
    data.reverse();
    Ok(Bytes::from(data))
}

fn foreground_job_streams_data_warnings_and_status(kind: Kind) {
    let server = kind.start();
    let w = worker(
        &[&server],
        "rev",
        1,
        Box::new(|job| {
            job.send_status(1, 2).unwrap();
            job.send_data(b"partial").unwrap();
            job.send_warning(b"careful").unwrap();
            reverse(job)
        }),
    );
    let mut c = client(&[&server]);
    let result = c.run(JobRequest::new("rev", "Hello gearman")).unwrap();
    assert_eq!(
        result.outcome,
        Some(Outcome::Complete(Bytes::from("namraeg olleH")))
    );
    assert_eq!(result.data, vec![Bytes::from("partial")]);
    assert_eq!(result.warnings, vec![Bytes::from("careful")]);
    assert_eq!(result.status, Some((1, 2)));
    assert!(result.handle.unwrap().starts_with(b"H:"));
    w.join().unwrap();
}

fn background_job_status_by_handle_and_unique(kind: Kind) {
    let server = kind.start();
    let mut c = client(&[&server]);
    let handle = c
        .submit_background(JobRequest::new("bg", "x").unique("u-bg-1"))
        .unwrap();
    let status = c.job_status(&handle).unwrap();
    assert!(status.known && !status.running);
    assert_eq!((status.numerator, status.denominator), (0, 0));
    let by_unique = c.job_status_unique(b"u-bg-1").unwrap();
    assert!(by_unique.known);
    assert_eq!(by_unique.client_count, Some(0));
    let w = worker(&[&server], "bg", 1, Box::new(reverse));
    w.join().unwrap();
    assert!(gearman_testkit::wait_until(Duration::from_secs(5), || !c
        .job_status(&handle)
        .unwrap()
        .known));
    let unknown = c.job_status(b"H:nowhere:999").unwrap();
    assert!(!unknown.known);
}

fn priorities_order_queued_jobs(kind: Kind) {
    let server = kind.start();
    let mut c = client(&[&server]);
    for (data, prio) in [
        ("low", Priority::Low),
        ("normal", Priority::Normal),
        ("high", Priority::High),
    ] {
        c.submit_background(JobRequest::new("prio", data).priority(prio))
            .unwrap();
    }
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    worker(
        &[&server],
        "prio",
        3,
        Box::new(move |job| {
            log.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&job.job().workload).into_owned());
            Ok(Bytes::new())
        }),
    )
    .join()
    .unwrap();
    assert_eq!(*seen.lock().unwrap(), vec!["high", "normal", "low"]);
}

fn same_unique_coalesces_across_clients(kind: Kind) {
    let server = kind.start();
    let mut a = client(&[&server]);
    let mut b = client(&[&server]);
    let ja = a
        .submit(JobRequest::new("co", "payload").unique("same"))
        .unwrap();
    while a.job(ja).unwrap().handle.is_none() {
        a.next_event().unwrap();
    }
    let jb = b
        .submit(JobRequest::new("co", "other").unique("same"))
        .unwrap();
    b.flush().unwrap();
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    let w = worker(
        &[&server],
        "co",
        1,
        Box::new(move |job| {
            counter.fetch_add(1, Ordering::SeqCst);
            reverse(job)
        }),
    );
    let ra = a.wait(ja).unwrap();
    let rb = b.wait(jb).unwrap();
    w.join().unwrap();
    assert_eq!(ra.handle, rb.handle);
    assert_eq!(ra.result(), Some(&Bytes::from("daolyap")));
    assert_eq!(rb.result(), Some(&Bytes::from("daolyap")));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

fn failures_exceptions_and_panics_reach_the_client(kind: Kind) {
    let server = kind.start();
    let w = worker(
        &[&server],
        "bad",
        4,
        Box::new(|job| match &job.job().workload[..] {
            b"fail" => Err(JobFailure::Fail),
            b"exception" => Err(JobFailure::Exception(Bytes::from("boom"))),
            b"panic" => panic!("handler bug"),
            _ => reverse(job),
        }),
    );
    let mut plain = client(&[&server]);
    assert_eq!(
        plain.run(JobRequest::new("bad", "fail")).unwrap().outcome,
        Some(Outcome::Failed)
    );
    let mut with_exceptions = client_with(
        &[&server],
        ClientOptions {
            exceptions: true,
            timeout: Some(Duration::from_secs(20)),
            ..Default::default()
        },
    );
    assert_eq!(
        with_exceptions
            .run(JobRequest::new("bad", "exception"))
            .unwrap()
            .outcome,
        Some(Outcome::Exception(Bytes::from("boom")))
    );
    // A panicking handler becomes WORK_EXCEPTION, which gearmand turns into WORK_FAIL for a
    // client without the exceptions option; the worker lives on and serves the next job.
    assert_eq!(
        plain.run(JobRequest::new("bad", "panic")).unwrap().outcome,
        Some(Outcome::Failed)
    );
    assert_eq!(
        plain.run(JobRequest::new("bad", "ok")).unwrap().result(),
        Some(&Bytes::from("ko"))
    );
    w.join().unwrap();
}

fn echo_epoch_and_reduce_jobs(kind: Kind) {
    let server = kind.start();
    let mut c = client(&[&server]);
    assert_eq!(
        c.echo(b"ping\0pong").unwrap(),
        Bytes::from(&b"ping\0pong"[..])
    );
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let handle = c
        .submit_background(JobRequest::new("later", "e").run_at(now + 1))
        .unwrap();
    assert!(c.job_status(&handle).unwrap().known);
    c.submit_background(JobRequest::new("red", "RD").unique("ru").reducer("reducer"))
        .unwrap();
    // Wait for the due time itself, not for the job: Debian's gearmand never hands out an epoch
    // job to a worker that asked before it was due, and its time(2) is a coarse clock that may
    // lag ours by a few milliseconds.
    let due = UNIX_EPOCH + Duration::from_secs(now + 1) + Duration::from_millis(200);
    assert!(gearman_testkit::wait_until(Duration::from_secs(3), || {
        SystemTime::now() >= due
    }));
    let options = WorkerOptions {
        timeout: Some(Duration::from_secs(10)),
        ..Default::default()
    };
    let mut w = BlockingWorker::new(options).unwrap();
    w.add_servers(&server.addr()).unwrap();
    w.register("later", None).unwrap();
    w.register("red", None).unwrap();
    let mut jobs = vec![w.grab_job().unwrap(), w.grab_job().unwrap()];
    jobs.sort_by(|a, b| a.function.cmp(&b.function));
    assert_eq!(jobs[0].workload, Bytes::from("e"));
    assert_eq!(jobs[1].reducer, Some(Bytes::from("reducer")));
    assert_eq!(jobs[1].unique, Bytes::from("ru"));
    for job in &jobs {
        w.send_complete(job, b"").unwrap();
    }
}

fn waits_time_out_and_dead_servers_fail_fast(kind: Kind) {
    let server = kind.start();
    let mut c = client_with(
        &[&server],
        ClientOptions {
            timeout: Some(Duration::from_millis(300)),
            ..Default::default()
        },
    );
    assert!(matches!(
        c.run(JobRequest::new("nobody", "x")),
        Err(Error::Timeout(_))
    ));
    let mut dead = BlockingClient::new(ClientOptions::default()).unwrap();
    let closed = closed_port();
    dead.add_server(ServerAddr::new("127.0.0.1", closed.port));
    let err = dead.run(JobRequest::new("f", "x")).unwrap_err();
    assert!(
        err.to_string().contains("could not connect to 127.0.0.1:"),
        "{err}"
    );
    assert!(err.to_string().ends_with("connection refused"), "{err}");
    let mut none = BlockingClient::new(ClientOptions::default()).unwrap();
    assert_eq!(
        none.run(JobRequest::new("f", "x")).unwrap_err(),
        Error::NoServers
    );
    assert!(matches!(
        c.run(JobRequest::new("f", "x").unique(vec![b'u'; 65])),
        Err(Error::InvalidArgument(_))
    ));
}

fn admin_client_parses_gearmand_replies(kind: Kind) {
    let server = kind.start();
    let addr = ServerAddr::parse(&server.addr()).unwrap();
    let options = WorkerOptions {
        client_id: Some(Bytes::from("admin-test-worker")),
        ..Default::default()
    };
    let mut w = BlockingWorker::new(options).unwrap();
    w.add_server(addr.clone());
    w.register("listed", None).unwrap();
    assert_eq!(w.echo(b"x").unwrap(), Bytes::from("x"));
    let mut c = client(&[&server]);
    let handle = c
        .submit_background(JobRequest::new("listed", "q").priority(Priority::High))
        .unwrap();
    let mut admin = BlockingAdminClient::connect(&addr, Duration::from_secs(5)).unwrap();
    assert!(admin.call(|a| a.version()).unwrap().starts_with("1.1.20"));
    assert_eq!(admin.call(|a| a.getpid()).unwrap(), server.pid());
    let status = admin.call(|a| a.status()).unwrap();
    let listed = status.iter().find(|s| s.function == "listed").unwrap();
    assert_eq!((listed.total, listed.running, listed.workers), (1, 0, 1));
    let prio = admin.call(|a| a.priority_status()).unwrap();
    assert_eq!(
        prio.iter().find(|s| s.function == "listed").unwrap().high,
        1
    );
    let workers = admin.call(|a| a.workers()).unwrap();
    assert!(workers
        .iter()
        .any(|w| w.client_id == "admin-test-worker" && w.functions == ["listed"]));
    let jobs = admin.call(|a| a.show_jobs()).unwrap();
    assert!(jobs
        .iter()
        .any(|j| j.handle.as_bytes() == &handle[..] && j.background));
    admin.call(|a| a.maxqueue("listed", &[5])).unwrap();
    admin.call(|a| a.create_function("made")).unwrap();
    assert!(admin
        .call(|a| a.status())
        .unwrap()
        .iter()
        .any(|s| s.function == "made"));
    admin.call(|a| a.drop_function("made")).unwrap();
    let err = admin
        .call(|a| a.drop_function("never-existed"))
        .unwrap_err();
    assert!(matches!(err, Error::Admin { .. }), "{err}");
    admin
        .call(|a| a.cancel_job(std::str::from_utf8(&handle).unwrap()))
        .unwrap();
    assert!(admin.call(|a| a.cancel_job("H:nope:1")).is_err());
}

fn failover_keeps_all_1000_foreground_results(kind: Kind) {
    let mut a = kind.start();
    let b = kind.start();
    let addrs = format!("{},{}", a.addr(), b.addr());
    let served = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..2 {
        let addrs = addrs.clone();
        let served = served.clone();
        workers.push(std::thread::spawn(move || {
            let options = WorkerOptions {
                timeout: Some(Duration::from_secs(3)),
                ..Default::default()
            };
            let mut w = BlockingWorker::new(options).unwrap();
            w.add_servers(&addrs).unwrap();
            w.register("slow_rev", None).unwrap();
            // Serve until no job has come for 3 s.
            let _ = w.work(None, |job| {
                std::thread::sleep(Duration::from_millis(2));
                served.fetch_add(1, Ordering::SeqCst);
                reverse(job)
            });
        }));
    }
    let mut c = BlockingClient::new(ClientOptions {
        timeout: Some(Duration::from_secs(30)),
        ..Default::default()
    })
    .unwrap();
    c.add_servers(&addrs).unwrap();
    let ids: Vec<_> = (0..1000)
        .map(|i| {
            c.submit(JobRequest::new("slow_rev", format!("job-{i}")))
                .unwrap()
        })
        .collect();
    c.flush().unwrap();
    assert!(gearman_testkit::wait_until(
        Duration::from_secs(20),
        || served.load(Ordering::SeqCst) >= 100
    ));
    a.kill();
    for (i, id) in ids.into_iter().enumerate() {
        let result = c.wait(id).unwrap();
        let expected: Vec<u8> = format!("job-{i}").bytes().rev().collect();
        assert_eq!(
            result.result(),
            Some(&Bytes::from(expected)),
            "job {i}: {:?}",
            result.outcome
        );
    }
    for w in workers {
        w.join().unwrap();
    }
}

fn worker_survives_a_gearmand_restart(kind: Kind) {
    let mut server = kind.start();
    let w = worker(&[&server], "survivor", 2, Box::new(reverse));
    let mut c = client(&[&server]);
    assert_eq!(
        c.run(JobRequest::new("survivor", "ab")).unwrap().result(),
        Some(&Bytes::from("ba"))
    );
    server.restart();
    let started = std::time::Instant::now();
    let mut c = client_with(
        &[&server],
        ClientOptions {
            timeout: Some(Duration::from_secs(5)),
            ..Default::default()
        },
    );
    assert_eq!(
        c.run(JobRequest::new("survivor", "cd")).unwrap().result(),
        Some(&Bytes::from("dc"))
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    w.join().unwrap();
}

gearman_testkit::against_both!(
    foreground_job_streams_data_warnings_and_status,
    background_job_status_by_handle_and_unique,
    priorities_order_queued_jobs,
    same_unique_coalesces_across_clients,
    failures_exceptions_and_panics_reach_the_client,
    echo_epoch_and_reduce_jobs,
    waits_time_out_and_dead_servers_fail_fast,
    admin_client_parses_gearmand_replies,
    failover_keeps_all_1000_foreground_results,
    worker_survives_a_gearmand_restart
);
