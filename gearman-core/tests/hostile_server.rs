//! A fake server that misbehaves: the client must answer with a clear error, never hang or panic.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use gearman_core::blocking::{BlockingClient, BlockingWorker};
use gearman_core::{ClientOptions, Error, JobRequest, Outcome, ServerAddr, WorkerOptions};

/// Answers every connection's first request with `reply`, then shuts down its sending side and
/// waits for the client to close (so the reply is never lost to a reset); serves connections
/// until `stop` is set (a client may reconnect and resubmit).
fn fake_server(reply: Vec<u8>, stop: Arc<AtomicBool>) -> (ServerAddr, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let handle = std::thread::spawn(move || {
        std::thread::scope(|scope| {
            while !stop.load(Ordering::SeqCst) {
                let Ok((stream, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                let reply = &reply;
                scope.spawn(move || answer_once(stream, reply));
            }
        })
    });
    (ServerAddr::new("127.0.0.1", port), handle)
}

fn answer_once(mut stream: TcpStream, reply: &[u8]) {
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut header = [0u8; 12];
    let _ = stream.read_exact(&mut header);
    let len = u32::from_be_bytes([header[8], header[9], header[10], header[11]]) as usize;
    let mut payload = vec![0u8; len];
    let _ = stream.read_exact(&mut payload);
    let _ = stream.write_all(reply);
    let _ = stream.shutdown(Shutdown::Write);
    let _ = stream.read_to_end(&mut Vec::new());
}

fn run_against(reply: Vec<u8>) -> gearman_core::JobResult {
    let stop = Arc::new(AtomicBool::new(false));
    let (addr, server) = fake_server(reply, stop.clone());
    let options = ClientOptions {
        timeout: Some(Duration::from_secs(5)),
        ..Default::default()
    };
    let mut client = BlockingClient::new(options).unwrap();
    client.add_server(addr);
    let result = client
        .run(JobRequest::new("f", "data"))
        .expect("an outcome, not a timeout");
    // Closing the client ends the server's connections; nothing connects after this.
    drop(client);
    stop.store(true, Ordering::SeqCst);
    server.join().unwrap();
    result
}

fn error_text(result: &gearman_core::JobResult) -> String {
    match &result.outcome {
        Some(Outcome::Error(e)) => e.to_string(),
        other => panic!("expected an error outcome, got {other:?}"),
    }
}

#[test]
fn garbage_gives_a_protocol_error() {
    let text = error_text(&run_against(b"HTTP/1.1 400 Bad Request\r\n\r\n".to_vec()));
    assert!(text.contains("bad data from 127.0.0.1:"), "{text}");
}

#[test]
fn bad_magic_gives_a_protocol_error() {
    let text = error_text(&run_against(b"\0XYZ\0\0\0\x08\0\0\0\0".to_vec()));
    assert!(text.contains("bad magic"), "{text}");
}

#[test]
fn oversized_length_is_refused_without_allocating() {
    let text = error_text(&run_against(b"\0RES\0\0\0\x08\xff\xff\xff\xff".to_vec()));
    assert!(text.contains("exceeds the"), "{text}");
}

#[test]
fn close_in_the_middle_of_a_frame_is_reported() {
    let text = error_text(&run_against(b"\0RES\0\0\0\x08\0\0\0\x10H:x".to_vec()));
    assert!(text.contains("in the middle of a packet"), "{text}");
}

#[test]
fn unexpected_packet_is_reported() {
    let text = error_text(&run_against(b"\0RES\0\0\0\x0a\0\0\0\0".to_vec()));
    assert!(text.contains("unexpected NoJob"), "{text}");
}

#[test]
fn server_error_packet_fails_the_job() {
    let reply = b"\0RES\0\0\0\x13\0\0\0\x16QUEUE_ERROR\0queue full".to_vec();
    match run_against(reply).outcome {
        Some(Outcome::Error(Error::Server { code, text })) => {
            assert_eq!(code, "QUEUE_ERROR");
            assert_eq!(text, "queue full");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn worker_times_out_against_a_silent_server() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let options = WorkerOptions {
        timeout: Some(Duration::from_millis(300)),
        ..Default::default()
    };
    let mut worker = BlockingWorker::new(options).unwrap();
    worker.add_server(ServerAddr::new("127.0.0.1", port));
    worker.register("f", None).unwrap();
    assert!(matches!(worker.grab_job(), Err(Error::Timeout(_))));
    drop(listener);
}
