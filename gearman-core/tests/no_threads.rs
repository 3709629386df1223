//! The blocking facades start no thread, not even to resolve a host name. That is what makes
//! them safe to create after `fork()` (PHP-FPM, Python multiprocessing) and usable in hosts that
//! expect a library to stay on the caller's thread. (A tokio runtime resolves names on a
//! blocking-pool thread.) This file holds one test, so nothing else runs in its process.

use std::time::Duration;

use gearman_core::blocking::{BlockingAdminClient, BlockingClient, BlockingWorker};
use gearman_core::{ClientOptions, JobRequest, ServerAddr, WorkerOptions};
use gearman_testkit::Server;

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

#[test]
fn blocking_facades_start_no_thread() {
    let server = Server::ours();
    let by_name = ServerAddr::new("localhost", server.port);
    let before = threads();

    let mut client = BlockingClient::new(ClientOptions {
        timeout: Some(Duration::from_secs(10)),
        ..Default::default()
    })
    .unwrap();
    client.add_server(by_name.clone());
    let handle = client
        .submit_background(JobRequest::new("no_threads", "payload"))
        .unwrap();
    assert!(client.job_status(&handle).unwrap().known);
    assert_eq!(&client.echo(b"ping").unwrap()[..], b"ping");

    let mut worker = BlockingWorker::new(WorkerOptions {
        timeout: Some(Duration::from_secs(10)),
        ..Default::default()
    })
    .unwrap();
    worker.add_server(by_name.clone());
    worker.register("no_threads", None).unwrap();
    let job = worker.grab_job().unwrap();
    assert_eq!(&job.workload[..], b"payload");
    worker.send_complete(&job, b"done").unwrap();

    let mut admin = BlockingAdminClient::connect(&by_name, Duration::from_secs(10)).unwrap();
    let status = admin.call(|a| a.status()).unwrap();
    assert!(status.iter().any(|f| f.function == "no_threads"));

    assert_eq!(threads(), before, "a blocking facade started a thread");
}
