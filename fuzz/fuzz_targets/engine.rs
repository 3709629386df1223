//! The job server's engine driven in-process by arbitrary sequences of packets, admin commands,
//! connects, disconnects and clock jumps from several connections, as the server would feed it
//! (each packet through the server's decoder). After every step the engine's invariants must
//! hold (`Engine::check_invariants`: each job queued, delayed or running exactly once, the
//! records agree, counters match a recount, no lost wake-up), and no step may panic.
#![no_main]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arbitrary::Arbitrary;
use bytes::{Bytes, BytesMut};
use gearman_core::message::Request;
use gearman_core::protocol::{encode_packet, Decoder, Frame, Magic, PacketType, ProtocolError};
use gearman_server::engine::{ConnId, Engine, EngineConfig, Next};
use gearman_server::output::MemorySink;
use libfuzzer_sys::fuzz_target;

/// A field drawn mostly from a few values, so that packets meet each other (the same
/// function, unique, handle) often.
#[derive(Arbitrary, Debug)]
enum Field {
    Function(u8),
    Unique(u8),
    Handle(u8),
    Number(u16),
    Data(u8),
    Raw(Vec<u8>),
}

impl Field {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Field::Function(i) => [&b"f"[..], b"g", b"h"][*i as usize % 3].to_vec(),
            Field::Unique(i) => [&b""[..], b"-", b"u1", b"u2"][*i as usize % 4].to_vec(),
            Field::Handle(i) => format!("H:fuzz:{}", i % 8).into_bytes(),
            Field::Number(n) => n.to_string().into_bytes(),
            Field::Data(i) => [&b""[..], b"x", b"y"][*i as usize % 3].to_vec(),
            Field::Raw(bytes) => bytes.iter().take(80).copied().collect(),
        }
    }
}

const ADMIN: &[&str] = &[
    "status",
    "prioritystatus",
    "workers",
    "show jobs",
    "show unique jobs",
    "version",
    "getpid",
    "verbose",
    "maxqueue",
    "cancel job",
    "create function",
    "drop function",
];

#[derive(Arbitrary, Debug)]
enum Op {
    Connect(u8),
    Disconnect(u8),
    Packet { conn: u8, kind: u8, fields: Vec<Field> },
    Admin { conn: u8, command: u8, args: Vec<Field> },
    Timers { ms: u16, secs: u8 },
}

#[derive(Arbitrary, Debug)]
struct Input {
    retries: u8,
    wakeup: u8,
    exceptions: bool,
    ops: Vec<Op>,
}

struct Harness {
    engine: Engine,
    sinks: HashMap<ConnId, Arc<MemorySink>>,
    decoder: Decoder,
}

impl Harness {
    fn connect(&mut self, conn: ConnId) {
        if self.sinks.contains_key(&conn) {
            return;
        }
        let sink = MemorySink::new();
        let peer = "127.0.0.1:5000".parse().unwrap();
        self.engine.connect(conn, conn as i32, peer, sink.clone());
        self.sinks.insert(conn, sink);
    }

    /// As the server disconnects: the functions released one slice at a time (here one per
    /// slice, with the rules checked between), then the connection dropped.
    fn disconnect(&mut self, conn: ConnId) {
        if self.sinks.remove(&conn).is_some() {
            while !self.engine.release_abilities(conn, 1) {
                if let Err(broken) = self.engine.check_invariants() {
                    panic!("while releasing {conn}'s functions: {broken}");
                }
            }
            self.engine.disconnect(conn);
        }
    }

    /// What the server does with the bytes of one packet from `conn`.
    fn packet(&mut self, conn: ConnId, kind: PacketType, fields: &[Vec<u8>]) {
        self.connect(conn);
        let fields: Vec<&[u8]> = fields.iter().map(Vec::as_slice).collect();
        let mut buf = BytesMut::new();
        encode_packet(Magic::Request, kind, &fields, &mut buf);
        let next = match self.decoder.decode(&mut buf) {
            Ok(Some(Frame::Packet(packet))) => match Request::from_packet(packet) {
                Ok(request) => self.engine.request(conn, request),
                Err(ProtocolError::UnexpectedKind(_)) => {
                    self.engine.unexpected(conn);
                    Next::Continue
                }
                Err(_) => Next::Close,
            },
            _ => Next::Close,
        };
        if matches!(next, Next::Close) {
            self.disconnect(conn);
        }
    }

    fn admin(&mut self, conn: ConnId, line: &[u8]) {
        self.connect(conn);
        if matches!(self.engine.admin(conn, line), Next::Close) {
            self.disconnect(conn);
        }
    }
}

fuzz_target!(|input: Input| {
    let mut h = Harness {
        engine: Engine::new(EngineConfig {
            handle_prefix: "H:fuzz".into(),
            job_retries: u32::from(input.retries % 4),
            worker_wakeup: usize::from(input.wakeup % 3),
            exceptions: input.exceptions,
            ..EngineConfig::default()
        }),
        sinks: HashMap::new(),
        decoder: Decoder::for_server().max_payload(1 << 12),
    };
    let start = Instant::now();
    let mut elapsed = Duration::ZERO;
    let mut epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    for (step, op) in input.ops.iter().take(256).enumerate() {
        match op {
            Op::Connect(c) => h.connect(ConnId::from(c % 6) + 1),
            Op::Disconnect(c) => h.disconnect(ConnId::from(c % 6) + 1),
            Op::Packet { conn, kind, fields } => {
                let Some(kind) = PacketType::from_number(u32::from(*kind % 44)) else {
                    continue;
                };
                if kind == PacketType::Text {
                    continue;
                }
                let fields: Vec<Vec<u8>> = fields.iter().take(8).map(Field::bytes).collect();
                h.packet(ConnId::from(conn % 6) + 1, kind, &fields);
            }
            Op::Admin { conn, command, args } => {
                let mut line = ADMIN[*command as usize % ADMIN.len()].as_bytes().to_vec();
                for arg in args.iter().take(4) {
                    line.push(b' ');
                    line.extend(arg.bytes().into_iter().filter(|&b| b != b'\n' && b != b'\r'));
                }
                h.admin(ConnId::from(conn % 6) + 1, &line);
            }
            Op::Timers { ms, secs } => {
                elapsed += Duration::from_millis(u64::from(*ms));
                epoch += u64::from(*secs);
                h.engine.fire_timers_at(start + elapsed, epoch);
            }
        }
        if let Err(broken) = h.engine.check_invariants() {
            panic!("after step {step} ({op:?}): {broken}");
        }
        // What was sent is not inspected here; keep memory flat.
        for sink in h.sinks.values() {
            let _: Bytes = sink.take();
        }
    }
});
