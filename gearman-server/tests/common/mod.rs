//! In-process server and a raw-bytes peer for byte-exact tests.
#![allow(dead_code)]

pub mod durable;
pub mod queue;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gearman_core::protocol::{encode_packet, Magic, PacketType};
use gearman_server::engine::{Engine, EngineConfig};
use gearman_server::server::{self, Limits, Stop};
use tokio::sync::watch;

/// A server running on its own runtime thread, stopped on drop.
pub struct TestServer {
    pub port: u16,
    stop: watch::Sender<Stop>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    pub fn start() -> TestServer {
        Self::with(
            EngineConfig {
                handle_prefix: "H:test".into(),
                ..Default::default()
            },
            Limits::default(),
        )
    }

    pub fn with(config: EngineConfig, limits: Limits) -> TestServer {
        let (stop, _) = watch::channel(Stop::Running);
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        let stop_for_server = stop.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                port_tx.send(listener.local_addr().unwrap().port()).unwrap();
                let engine = Arc::new(Mutex::new(Engine::new(config)));
                server::run(vec![listener], Vec::new(), engine, limits, stop_for_server).await;
            });
        });
        let port = port_rx.recv().unwrap();
        TestServer {
            port,
            stop,
            thread: Some(thread),
        }
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Whether the server thread has ended (after a `shutdown`).
    pub fn wait_stopped(&mut self, limit: Duration) -> bool {
        gearman_testkit::wait_until(limit, || {
            self.thread.as_ref().is_none_or(|t| t.is_finished())
        })
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.stop.send(Stop::Now);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A raw protocol peer.
pub struct Raw {
    pub stream: TcpStream,
}

pub fn packet(magic: Magic, kind: PacketType, fields: &[&[u8]]) -> Vec<u8> {
    let mut buf = bytes::BytesMut::new();
    encode_packet(magic, kind, fields, &mut buf);
    buf.to_vec()
}

pub fn res(kind: PacketType, fields: &[&[u8]]) -> Vec<u8> {
    packet(Magic::Response, kind, fields)
}

impl Raw {
    pub fn connect(port: u16) -> Raw {
        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream.set_nodelay(true).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        Raw { stream }
    }

    pub fn send(&mut self, kind: PacketType, fields: &[&[u8]]) {
        self.stream
            .write_all(&packet(Magic::Request, kind, fields))
            .unwrap();
    }

    pub fn send_bytes(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    /// Reads one whole packet's bytes (header included).
    pub fn read_packet(&mut self) -> Vec<u8> {
        let mut header = [0u8; 12];
        self.stream
            .read_exact(&mut header)
            .expect("a packet header");
        let len = u32::from_be_bytes([header[8], header[9], header[10], header[11]]) as usize;
        let mut out = header.to_vec();
        out.resize(12 + len, 0);
        self.stream
            .read_exact(&mut out[12..])
            .expect("a packet payload");
        out
    }

    /// Reads one packet and asserts it is exactly `expected`.
    pub fn expect(&mut self, kind: PacketType, fields: &[&[u8]]) {
        let got = self.read_packet();
        let want = res(kind, fields);
        assert_eq!(show(&got), show(&want));
    }

    /// The payload of the next packet, which must be of `kind`.
    pub fn expect_kind(&mut self, kind: PacketType) -> Vec<u8> {
        let got = self.read_packet();
        let number = u32::from_be_bytes([got[4], got[5], got[6], got[7]]);
        assert_eq!(number, kind as u32, "got {}", show(&got));
        got[12..].to_vec()
    }

    /// Grabs a job the way a worker does: GRAB_JOB, and on NO_JOB sleep (PRE_SLEEP) until the
    /// server's NOOP and ask again. Returns the JOB_ASSIGN payload; fails after 5 s of silence.
    pub fn grab_waiting(&mut self) -> Vec<u8> {
        loop {
            self.send(PacketType::GrabJob, &[]);
            let got = self.read_packet();
            let number = u32::from_be_bytes([got[4], got[5], got[6], got[7]]);
            if number == PacketType::JobAssign as u32 {
                return got[12..].to_vec();
            }
            assert_eq!(number, PacketType::NoJob as u32, "got {}", show(&got));
            self.send(PacketType::PreSleep, &[]);
            self.expect(PacketType::Noop, &[]);
        }
    }

    /// Asserts nothing arrives within `wait`.
    pub fn expect_silence(&mut self, wait: Duration) {
        self.stream.set_read_timeout(Some(wait)).unwrap();
        let mut byte = [0u8; 1];
        match self.stream.read(&mut byte) {
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            other => panic!("expected silence, got {other:?} {byte:?}"),
        }
        self.stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
    }

    /// Asserts the server closed the connection.
    pub fn expect_closed(&mut self) {
        let mut rest = Vec::new();
        match self.stream.read_to_end(&mut rest) {
            Ok(_) => assert!(rest.is_empty(), "unexpected bytes {}", show(&rest)),
            Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset),
        }
    }

    /// Sends an admin line and returns the raw reply: through `.\n` for listings, else one line.
    pub fn admin(&mut self, line: &str, listing: bool) -> String {
        self.stream.write_all(line.as_bytes()).unwrap();
        let mut reader = BufReader::new(&self.stream);
        let mut out = String::new();
        loop {
            let mut l = String::new();
            reader.read_line(&mut l).unwrap();
            out.push_str(&l);
            if l.is_empty() || !listing || l == ".\n" {
                return out;
            }
        }
    }

    /// Submits and returns the handle from JOB_CREATED.
    pub fn submit(
        &mut self,
        kind: PacketType,
        function: &str,
        unique: &str,
        data: &[u8],
    ) -> String {
        self.send(kind, &[function.as_bytes(), unique.as_bytes(), data]);
        String::from_utf8(self.expect_kind(PacketType::JobCreated)).unwrap()
    }
}

/// Bytes as readable text: printable ASCII kept, NUL as `\0`, others as `\xNN`.
pub fn show(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            0 => "\\0".to_string(),
            b' '..=b'~' => (b as char).to_string(),
            _ => format!("\\x{b:02x}"),
        })
        .collect()
}
