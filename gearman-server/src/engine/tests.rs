//! The engine driven in-process through [`MemorySink`]s: no sockets, no runtime, no sleeping.
//!
//! Each scenario is a table row: a configuration and a script of steps (connect, send a packet,
//! expect a packet, run an admin command, disconnect, advance the clocks). Every connection must
//! have received exactly what the script expects: a scenario ends by checking that nothing is
//! left unread.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use gearman_core::message::Request;
use gearman_core::protocol::{Decoder, Frame, Packet, PacketType as T};

use super::*;
use crate::output::MemorySink;

#[derive(Debug, Clone, Copy)]
enum Step {
    /// Connects `id` from 127.0.0.1.
    Connect(ConnId),
    /// Connects `id` from another host.
    ConnectRemote(ConnId),
    /// `id` sends a request (fields as in the packet table; `{now+N}` is the epoch N s ahead).
    Send(ConnId, T, &'static [&'static str]),
    /// The next packet `id` received.
    Recv(ConnId, T, &'static [&'static str]),
    /// `id` has received nothing more.
    Quiet(ConnId),
    /// `id` runs an admin command; the exact reply (`{pid}`, `{version}` filled in).
    Admin(ConnId, &'static str, &'static str),
    /// The last request or admin command asked the server to stop.
    Stops {
        graceful: bool,
    },
    Disconnect(ConnId),
    /// Fires the timers as if `ms` milliseconds (deadlines) and `secs` seconds (epochs) passed.
    Advance {
        ms: u64,
        secs: u64,
    },
}

use Step::*;

#[derive(Clone, Copy, Default)]
struct Setup {
    retries: u32,
    wakeup: usize,
    exceptions: bool,
}

struct Scenario {
    name: &'static str,
    setup: Setup,
    steps: &'static [Step],
}

/// An engine plus the sinks of its connections.
struct Harness {
    engine: Engine,
    sinks: HashMap<ConnId, Arc<MemorySink>>,
    unread: HashMap<ConnId, BytesMut>,
    last: Option<Next>,
}

impl Harness {
    fn new(setup: Setup) -> Harness {
        Harness {
            engine: Engine::new(EngineConfig {
                handle_prefix: "H:t".into(),
                job_retries: setup.retries,
                worker_wakeup: setup.wakeup,
                exceptions: setup.exceptions,
                ..EngineConfig::default()
            }),
            sinks: HashMap::new(),
            unread: HashMap::new(),
            last: None,
        }
    }

    fn connect(&mut self, id: ConnId, ip: &str) {
        let sink = MemorySink::new();
        let peer = format!("{ip}:40000").parse().unwrap();
        self.engine.connect(id, id as i32, peer, sink.clone());
        self.sinks.insert(id, sink);
    }

    fn send(&mut self, id: ConnId, kind: T, fields: &[&str]) {
        let args = fields.iter().map(|f| Bytes::from(fill(f))).collect();
        let request = Request::from_packet(Packet::request(kind, args)).expect("a request");
        self.last = Some(self.engine.request(id, request));
    }

    fn unread(&mut self, id: ConnId) -> &mut BytesMut {
        let taken = self.sinks[&id].take();
        let buf = self.unread.entry(id).or_default();
        buf.extend_from_slice(&taken);
        buf
    }

    fn recv(&mut self, id: ConnId) -> Option<Packet> {
        let buf = self.unread(id);
        match Decoder::for_client().decode(buf).expect("a response") {
            Some(Frame::Packet(p)) => Some(p),
            Some(Frame::Text(t)) => panic!("text {t:?}"),
            None if buf.is_empty() => None,
            None => panic!("a partial packet: {buf:?}"),
        }
    }

    fn admin(&mut self, id: ConnId, line: &str) -> String {
        self.quiet(id, "before an admin command");
        self.last = Some(self.engine.admin(id, line.as_bytes()));
        String::from_utf8(self.unread(id).split().to_vec()).unwrap()
    }

    fn quiet(&mut self, id: ConnId, context: &str) {
        if let Some(p) = self.recv(id) {
            panic!("conn {id} {context}: unexpected {:?} {:?}", p.kind, p.args);
        }
    }

    fn run(&mut self, steps: &[Step]) {
        for (i, step) in steps.iter().enumerate() {
            let at = format!("step {i} {step:?}");
            match *step {
                Connect(id) => self.connect(id, "127.0.0.1"),
                ConnectRemote(id) => self.connect(id, "192.0.2.7"),
                Send(id, kind, fields) => self.send(id, kind, fields),
                Recv(id, kind, fields) => {
                    let p = self
                        .recv(id)
                        .unwrap_or_else(|| panic!("{at}: nothing received"));
                    let got: Vec<String> = p
                        .args
                        .iter()
                        .map(|a| String::from_utf8_lossy(a).into_owned())
                        .collect();
                    let want: Vec<String> = fields.iter().map(|f| fill(f)).collect();
                    assert_eq!((p.kind, got), (kind, want), "{at}");
                }
                Quiet(id) => self.quiet(id, &at),
                Admin(id, line, want) => {
                    let want = want
                        .replace("{pid}", &std::process::id().to_string())
                        .replace("{version}", crate::VERSION_STRING);
                    assert_eq!(self.admin(id, line), want, "{at}");
                }
                Stops { graceful } => assert!(
                    matches!(self.last, Some(Next::Shutdown { graceful: g }) if g == graceful),
                    "{at}: {:?}",
                    self.last
                ),
                Disconnect(id) => {
                    self.quiet(id, &at);
                    self.engine.disconnect(id);
                    self.sinks.remove(&id);
                }
                Advance { ms, secs } => self.engine.fire_timers_at(
                    Instant::now() + Duration::from_millis(ms),
                    now_epoch() + secs,
                ),
            }
            if let Err(broken) = self.engine.check_invariants() {
                panic!("{at}: {broken}");
            }
        }
        let ids: Vec<ConnId> = self.sinks.keys().copied().collect();
        for id in ids {
            self.quiet(id, "at the end");
        }
    }
}

/// `{now+N}` → the epoch second N seconds from now.
fn fill(field: &str) -> String {
    match field
        .strip_prefix("{now+")
        .and_then(|r| r.strip_suffix('}'))
    {
        Some(n) => (now_epoch() + n.parse::<u64>().unwrap()).to_string(),
        None => field.to_string(),
    }
}

/// One byte over `MAX_UNIQUE_LEN`.
const TOO_LONG_UNIQUE: &str = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";

const DEFAULT: Setup = Setup {
    retries: 0,
    wakeup: 0,
    exceptions: false,
};

const ADMIN: &[Scenario] = &[
    Scenario {
        name: "status, prioritystatus and workers describe queues and registrations",
        setup: DEFAULT,
        steps: &[
            Connect(1),
            Connect(2),
            Connect(3),
            Send(1, T::SubmitJobHighBg, &["f", "a", "x"]),
            Recv(1, T::JobCreated, &["H:t:1"]),
            Send(1, T::SubmitJobLowBg, &["f", "b", "x"]),
            Recv(1, T::JobCreated, &["H:t:2"]),
            Send(1, T::SubmitJobBg, &["g", "c", "x"]),
            Recv(1, T::JobCreated, &["H:t:3"]),
            Send(2, T::SetClientId, &["w"]),
            Send(2, T::CanDo, &["f"]),
            Send(2, T::CanDo, &["g"]),
            Send(2, T::GrabJob, &[]),
            Recv(2, T::JobAssign, &["H:t:1", "f", "x"]),
            Admin(3, "status", "f\t2\t1\t1\ng\t1\t0\t1\n.\n"),
            Admin(3, "prioritystatus", "f\t0\t0\t1\t1\ng\t0\t1\t0\t1\n.\n"),
            // Newest connection first; a worker's functions newest first, the one it last
            // ran last.
            Admin(
                3,
                "workers",
                "3 127.0.0.1 - :\n2 127.0.0.1 w : g f\n1 127.0.0.1 - :\n.\n",
            ),
        ],
    },
    Scenario {
        name: "version, getpid and verbose",
        setup: DEFAULT,
        steps: &[
            Connect(1),
            Admin(1, "version", "OK {version}\n"),
            Admin(1, "getpid", "OK {pid}\n"),
            Admin(1, "verbose", "OK ERROR\n"),
            Admin(
                1,
                "bogus",
                "ERR UNKNOWN_COMMAND Unknown+server+commandbogus\r\n",
            ),
        ],
    },
    Scenario {
        name: "show jobs and show unique jobs list every job in handle order",
        setup: DEFAULT,
        steps: &[
            Connect(1),
            Send(1, T::SubmitJobBg, &["f", "u1", "x"]),
            Recv(1, T::JobCreated, &["H:t:1"]),
            Send(1, T::SubmitJob, &["f", "u2", "x"]),
            Recv(1, T::JobCreated, &["H:t:2"]),
            Admin(1, "show jobs", "H:t:1\t0\t0\t1\nH:t:2\t0\t0\t0\n.\n"),
            Admin(1, "show unique jobs", "u1\nu2\n.\n"),
            Admin(1, "show nothing", "ERR UNKNOWN_SHOW_ARGUMENTS\r\n"),
        ],
    },
    Scenario {
        name: "cancel job fails its clients and forgets it",
        setup: DEFAULT,
        steps: &[
            Connect(1),
            Connect(2),
            Send(1, T::SubmitJob, &["f", "u", "x"]),
            Recv(1, T::JobCreated, &["H:t:1"]),
            Admin(2, "cancel job H:t:1", "OK\r\n"),
            Recv(1, T::WorkFail, &["H:t:1"]),
            Admin(2, "cancel job H:t:1", "ERR UNKNOWN_JOB\r\n"),
            Admin(2, "cancel it now", "ERR UNKNOWN_ERROR\r\n"),
            Admin(2, "show jobs", ".\n"),
        ],
    },
    Scenario {
        name: "create function and drop function",
        setup: DEFAULT,
        steps: &[
            Connect(1),
            Connect(2),
            Connect(3),
            Admin(1, "create function made", "OK\r\n"),
            Admin(1, "status", "made\t0\t0\t0\n.\n"),
            Send(2, T::CanDo, &["f"]),
            Send(1, T::SubmitJob, &["f", "u", "x"]),
            Recv(1, T::JobCreated, &["H:t:1"]),
            Admin(
                1,
                "drop function f",
                "ERR there are still connected workers or executing clients\r\n",
            ),
            Disconnect(2),
            // Case-insensitive; the queued job is cancelled.
            Admin(3, "drop function F", "OK\r\n"),
            Recv(1, T::WorkFail, &["H:t:1"]),
            Admin(1, "drop function f", "ERR function not found\r\n"),
            Admin(
                1,
                "drop function",
                "ERR INVALID_ARGUMENTS An+incomplete+set+of+arguments+was+sent+to+this+command+drop\r\n",
            ),
            Admin(1, "status", "made\t0\t0\t0\n.\n"),
        ],
    },
    Scenario {
        name: "maxqueue limits a function's queue; no argument is an error",
        setup: DEFAULT,
        steps: &[
            Connect(1),
            Admin(1, "create function f", "OK\r\n"),
            Admin(1, "maxqueue f 1", "OK\n"),
            Send(1, T::SubmitJobBg, &["f", "a", "x"]),
            Recv(1, T::JobCreated, &["H:t:1"]),
            Send(1, T::SubmitJobBg, &["f", "b", "x"]),
            Recv(1, T::Error, &["QUEUE_ERROR", "Job queue is full"]),
            // A coalesced submit adds no job, so the limit does not apply.
            Send(1, T::SubmitJobBg, &["f", "a", "x"]),
            Recv(1, T::JobCreated, &["H:t:1"]),
            Admin(1, "maxqueue f", "OK\n"),
            Send(1, T::SubmitJobBg, &["f", "b", "x"]),
            Recv(1, T::JobCreated, &["H:t:2"]),
            Admin(
                1,
                "maxqueue",
                "ERR INVALID_ARGUMENTS An+incomplete+set+of+arguments+was+sent+to+this+command+maxqueue\r\n",
            ),
        ],
    },
    Scenario {
        name: "shutdown is accepted from loopback only",
        setup: DEFAULT,
        steps: &[
            Connect(1),
            ConnectRemote(2),
            Admin(
                2,
                "shutdown",
                "ERR PERMISSION_DENIED shutdown+is+accepted+from+loopback+only\r\n",
            ),
            Admin(1, "shutdown graceful", "OK\r\n"),
            Stops { graceful: true },
            Admin(1, "shutdown", "OK\r\n"),
            Stops { graceful: false },
        ],
    },
];

const JOBS: &[Scenario] = &[
    Scenario {
        // Found by the engine fuzzer: with -w 1, a woken worker that left without grabbing
        // took the only wake-up with it.
        name: "a woken worker that leaves without grabbing hands its wake-up on",
        setup: Setup {
            wakeup: 1,
            ..DEFAULT
        },
        steps: &[
            Connect(1),
            Connect(2),
            Connect(3),
            Send(1, T::CanDo, &["f"]),
            Send(2, T::CanDo, &["f"]),
            Send(1, T::PreSleep, &[]),
            Send(2, T::PreSleep, &[]),
            Send(3, T::SubmitJobBg, &["f", "u", "x"]),
            Recv(3, T::JobCreated, &["H:t:1"]),
            Recv(1, T::Noop, &[]),
            Quiet(2),
            Disconnect(1),
            Recv(2, T::Noop, &[]),
            Send(2, T::CantDo, &["f"]),
        ],
    },
    Scenario {
        // Found by the engine fuzzer: gearmand leaves such a worker asleep with work queued.
        name: "a sleeping worker that registers a function with queued jobs is woken",
        setup: DEFAULT,
        steps: &[
            Connect(1),
            Connect(2),
            Send(1, T::SubmitJobBg, &["f", "u", "x"]),
            Recv(1, T::JobCreated, &["H:t:1"]),
            Send(2, T::PreSleep, &[]),
            Quiet(2),
            Send(2, T::CanDo, &["f"]),
            Recv(2, T::Noop, &[]),
            Send(2, T::GrabJob, &[]),
            Recv(2, T::JobAssign, &["H:t:1", "f", "x"]),
        ],
    },
    Scenario {
        name: "foreground job: created, assigned, progress relayed, completed",
        setup: DEFAULT,
        steps: &[
            Connect(1),
            Connect(2),
            Send(2, T::CanDo, &["f"]),
            Send(1, T::SubmitJob, &["f", "u", "work"]),
            Recv(1, T::JobCreated, &["H:t:1"]),
            Send(2, T::GrabJob, &[]),
            Recv(2, T::JobAssign, &["H:t:1", "f", "work"]),
            Send(2, T::WorkData, &["H:t:1", "d"]),
            Send(2, T::WorkWarning, &["H:t:1", "w"]),
            Send(2, T::WorkStatus, &["H:t:1", "1", "2"]),
            Recv(1, T::WorkData, &["H:t:1", "d"]),
            Recv(1, T::WorkWarning, &["H:t:1", "w"]),
            Recv(1, T::WorkStatus, &["H:t:1", "1", "2"]),
            Send(1, T::GetStatus, &["H:t:1"]),
            Recv(1, T::StatusRes, &["H:t:1", "1", "1", "1", "2"]),
            Send(2, T::WorkComplete, &["H:t:1", "done"]),
            Recv(1, T::WorkComplete, &["H:t:1", "done"]),
            Send(1, T::GetStatus, &["H:t:1"]),
            Recv(1, T::StatusRes, &["H:t:1", "0", "0", "0", "0"]),
        ],
    },
    Scenario {
        name: "background job: the submitter hears nothing after JOB_CREATED",
        setup: DEFAULT,
        steps: &[
            Connect(1),
            Connect(2),
            Send(1, T::SubmitJobBg, &["f", "u", "work"]),
            Recv(1, T::JobCreated, &["H:t:1"]),
            Send(2, T::CanDo, &["f"]),
            Send(2, T::GrabJobUniq, &[]),
            Recv(2, T::JobAssignUniq, &["H:t:1", "f", "u", "work"]),
            Send(2, T::WorkData, &["H:t:1", "d"]),
            Send(2, T::WorkComplete, &["H:t:1", "done"]),
            Quiet(1),
            Admin(1, "show jobs", ".\n"),
        ],
    },
    Scenario {
        name: "same function and unique coalesce; every waiting client gets the result",
        setup: DEFAULT,
        steps: &[
            Connect(1),
            Connect(2),
            Connect(3),
            Connect(4),
            Send(1, T::SubmitJob, &["f", "u", "a"]),
            Recv(1, T::JobCreated, &["H:t:1"]),
            Send(2, T::SubmitJobHigh, &["f", "u", "other data"]),
            Recv(2, T::JobCreated, &["H:t:1"]),
            Send(2, T::SubmitJobBg, &["f", "u", "a"]),
            Recv(2, T::JobCreated, &["H:t:1"]),
            // Another function, or no unique at all, is another job.
            Send(2, T::SubmitJobBg, &["g", "u", "a"]),
            Recv(2, T::JobCreated, &["H:t:2"]),
            Send(2, T::SubmitJobBg, &["f", "", "a"]),
            Recv(2, T::JobCreated, &["H:t:3"]),
            Send(2, T::SubmitJobBg, &["f", "", "a"]),
            Recv(2, T::JobCreated, &["H:t:4"]),
            Send(3, T::GetStatusUnique, &["u"]),
            Recv(3, T::StatusResUnique, &["u", "1", "0", "0", "0", "2"]),
            // No unique is longer than a submission may give: a longer one is refused, not
            // echoed back.
            Send(3, T::GetStatusUnique, &[TOO_LONG_UNIQUE]),
            Recv(
                3,
                T::Error,
                &["ARGUMENT_TOO_LARGE", "Unique value too large"],
            ),
            Send(4, T::CanDo, &["f"]),
            Send(4, T::GrabJob, &[]),
            Recv(4, T::JobAssign, &["H:t:1", "f", "a"]),
            Send(4, T::WorkComplete, &["H:t:1", "r"]),
            Recv(1, T::WorkComplete, &["H:t:1", "r"]),
            Recv(2, T::WorkComplete, &["H:t:1", "r"]),
            // The unique is free again: a new submit is a new job.
            Send(1, T::SubmitJobBg, &["f", "u", "a"]),
            Recv(1, T::JobCreated, &["H:t:5"]),
        ],
    },
    Scenario {
        name: "unique '-' coalesces on the workload",
        setup: DEFAULT,
        steps: &[
            Connect(1),
            Send(1, T::SubmitJobBg, &["f", "-", "same"]),
            Recv(1, T::JobCreated, &["H:t:1"]),
            Send(1, T::SubmitJobBg, &["f", "-", "same"]),
            Recv(1, T::JobCreated, &["H:t:1"]),
            Send(1, T::SubmitJobBg, &["f", "-", "different"]),
            Recv(1, T::JobCreated, &["H:t:2"]),
            Send(1, T::SubmitJobBg, &["e", "-", "same"]),
            Recv(1, T::JobCreated, &["H:t:3"]),
        ],
    },
    Scenario {
        name: "high before normal before low, across the worker's functions",
        setup: DEFAULT,
        steps: &[
            Connect(1),
            Connect(2),
            Send(1, T::SubmitJobLowBg, &["f", "1", "low"]),
            Recv(1, T::JobCreated, &["H:t:1"]),
            Send(1, T::SubmitJobBg, &["g", "2", "normal"]),
            Recv(1, T::JobCreated, &["H:t:2"]),
            Send(1, T::SubmitJobHighBg, &["f", "3", "high"]),
            Recv(1, T::JobCreated, &["H:t:3"]),
            Send(1, T::SubmitJobBg, &["f", "4", "normal"]),
            Recv(1, T::JobCreated, &["H:t:4"]),
            Send(2, T::CanDo, &["f"]),
            Send(2, T::CanDo, &["g"]),
            Send(2, T::GrabJob, &[]),
            Recv(2, T::JobAssign, &["H:t:3", "f", "high"]),
            Send(2, T::GrabJob, &[]),
            // f ran last, so g comes first among the normal jobs (round-robin).
            Recv(2, T::JobAssign, &["H:t:2", "g", "normal"]),
            Send(2, T::GrabJob, &[]),
            Recv(2, T::JobAssign, &["H:t:4", "f", "normal"]),
            Send(2, T::GrabJob, &[]),
            Recv(2, T::JobAssign, &["H:t:1", "f", "low"]),
            Send(2, T::GrabJob, &[]),
            Recv(2, T::NoJob, &[]),
        ],
    },
    Scenario {
        name: "grab variants: JOB_ASSIGN_ALL for reduce jobs, JOB_ASSIGN_UNIQ otherwise",
        setup: DEFAULT,
        steps: &[
            Connect(1),
            Connect(2),
            Send(1, T::SubmitReduceJobBackground, &["f", "u", "r", "", "d"]),
            Recv(1, T::JobCreated, &["H:t:1"]),
            Send(1, T::SubmitJobBg, &["f", "v", "e"]),
            Recv(1, T::JobCreated, &["H:t:2"]),
            Send(2, T::CanDo, &["f"]),
            Send(2, T::GrabJobAll, &[]),
            Recv(2, T::JobAssignAll, &["H:t:1", "f", "u", "r", "d"]),
            Send(2, T::GrabJobAll, &[]),
            Recv(2, T::JobAssignUniq, &["H:t:2", "f", "v", "e"]),
        ],
    },
    Scenario {
        name: "a lost worker's job is queued again, its retry counted, and runs elsewhere",
        setup: DEFAULT,
        steps: &[
            Connect(1),
            Connect(2),
            Connect(3),
            Send(2, T::CanDo, &["f"]),
            Send(1, T::SubmitJob, &["f", "u", "x"]),
            Recv(1, T::JobCreated, &["H:t:1"]),
            Send(2, T::GrabJob, &[]),
            Recv(2, T::JobAssign, &["H:t:1", "f", "x"]),
            Admin(3, "status", "f\t1\t1\t1\n.\n"),
            Disconnect(2),
            Admin(3, "status", "f\t1\t0\t0\n.\n"),
            Admin(3, "show jobs", "H:t:1\t1\t0\t0\n.\n"),
            Send(3, T::CanDo, &["f"]),
            Send(3, T::GrabJob, &[]),
            Recv(3, T::JobAssign, &["H:t:1", "f", "x"]),
            Send(3, T::WorkComplete, &["H:t:1", "ok"]),
            Recv(1, T::WorkComplete, &["H:t:1", "ok"]),
        ],
    },
    Scenario {
        name: "CANT_DO and RESET_ABILITIES give back the jobs a worker holds",
        setup: DEFAULT,
        steps: &[
            Connect(1),
            Connect(2),
            Send(2, T::CanDo, &["f"]),
            Send(1, T::SubmitJobBg, &["f", "u", "x"]),
            Recv(1, T::JobCreated, &["H:t:1"]),
            Send(2, T::GrabJob, &[]),
            Recv(2, T::JobAssign, &["H:t:1", "f", "x"]),
            Send(2, T::CantDo, &["f"]),
            Admin(1, "status", "f\t1\t0\t0\n.\n"),
            Send(2, T::CanDo, &["f"]),
            Send(2, T::GrabJob, &[]),
            Recv(2, T::JobAssign, &["H:t:1", "f", "x"]),
            Send(2, T::ResetAbilities, &[]),
            Admin(1, "status", "f\t1\t0\t0\n.\n"),
            Admin(1, "show jobs", "H:t:1\t2\t0\t1\n.\n"),
        ],
    },
    Scenario {
        name: "with -j 2 a job lost twice is dropped and its client told",
        setup: Setup {
            retries: 2,
            ..DEFAULT
        },
        steps: &[
            Connect(1),
            Connect(2),
            Connect(3),
            Send(1, T::SubmitJob, &["f", "u", "x"]),
            Recv(1, T::JobCreated, &["H:t:1"]),
            Send(2, T::CanDo, &["f"]),
            Send(2, T::GrabJob, &[]),
            Recv(2, T::JobAssign, &["H:t:1", "f", "x"]),
            Disconnect(2),
            Quiet(1),
            Send(3, T::CanDo, &["f"]),
            Send(3, T::GrabJob, &[]),
            Recv(3, T::JobAssign, &["H:t:1", "f", "x"]),
            Disconnect(3),
            Recv(1, T::WorkFail, &["H:t:1"]),
            Admin(1, "show jobs", ".\n"),
        ],
    },
    Scenario {
        name: "CAN_DO_TIMEOUT: an overdue run is requeued and its late result refused",
        setup: DEFAULT,
        steps: &[
            Connect(1),
            Connect(2),
            Send(2, T::CanDoTimeout, &["f", "1000"]),
            Send(1, T::SubmitJob, &["f", "u", "x"]),
            Recv(1, T::JobCreated, &["H:t:1"]),
            Send(2, T::GrabJob, &[]),
            Recv(2, T::JobAssign, &["H:t:1", "f", "x"]),
            Advance { ms: 500, secs: 0 },
            Admin(1, "status", "f\t1\t1\t1\n.\n"),
            Advance { ms: 1001, secs: 0 },
            Admin(1, "status", "f\t1\t0\t1\n.\n"),
            Send(2, T::WorkComplete, &["H:t:1", "late"]),
            Recv(
                2,
                T::Error,
                &["JOB_NOT_FOUND", "Job given in work result not found"],
            ),
            Send(2, T::GrabJob, &[]),
            Recv(2, T::JobAssign, &["H:t:1", "f", "x"]),
            Send(2, T::WorkComplete, &["H:t:1", "in time"]),
            Recv(1, T::WorkComplete, &["H:t:1", "in time"]),
        ],
    },
    Scenario {
        name: "epoch job: delayed until due, then wakes the sleeping worker",
        setup: DEFAULT,
        steps: &[
            Connect(1),
            Connect(2),
            Send(1, T::SubmitJobEpoch, &["f", "u", "{now+100}", "later"]),
            Recv(1, T::JobCreated, &["H:t:1"]),
            Send(2, T::CanDo, &["f"]),
            Send(2, T::GrabJob, &[]),
            Recv(2, T::NoJob, &[]),
            Send(2, T::PreSleep, &[]),
            Admin(1, "prioritystatus", "f\t0\t1\t0\t1\n.\n"),
            Advance { ms: 0, secs: 50 },
            Quiet(2),
            Advance { ms: 0, secs: 100 },
            Recv(2, T::Noop, &[]),
            Send(2, T::GrabJob, &[]),
            Recv(2, T::JobAssign, &["H:t:1", "f", "later"]),
            // An epoch already past runs at once.
            Send(1, T::SubmitJobEpoch, &["f", "v", "1", "now"]),
            Recv(1, T::JobCreated, &["H:t:2"]),
            Send(2, T::GrabJob, &[]),
            Recv(2, T::JobAssign, &["H:t:2", "f", "now"]),
        ],
    },
    Scenario {
        name: "WORK_FAIL is relayed; WORK_EXCEPTION only to clients that asked, others fail",
        setup: DEFAULT,
        steps: &[
            Connect(1),
            Connect(2),
            Connect(3),
            Send(2, T::OptionReq, &["exceptions"]),
            Recv(2, T::OptionRes, &["exceptions"]),
            Send(3, T::CanDo, &["f"]),
            Send(1, T::SubmitJob, &["f", "u", "x"]),
            Recv(1, T::JobCreated, &["H:t:1"]),
            Send(2, T::SubmitJob, &["f", "u", "x"]),
            Recv(2, T::JobCreated, &["H:t:1"]),
            Send(3, T::GrabJob, &[]),
            Recv(3, T::JobAssign, &["H:t:1", "f", "x"]),
            Send(3, T::WorkException, &["H:t:1", "boom"]),
            Recv(1, T::WorkFail, &["H:t:1"]),
            Recv(2, T::WorkException, &["H:t:1", "boom"]),
            Send(1, T::SubmitJob, &["f", "v", "x"]),
            Recv(1, T::JobCreated, &["H:t:2"]),
            Send(3, T::GrabJob, &[]),
            Recv(3, T::JobAssign, &["H:t:2", "f", "x"]),
            Send(3, T::WorkFail, &["H:t:2"]),
            Recv(1, T::WorkFail, &["H:t:2"]),
            Admin(1, "show jobs", ".\n"),
        ],
    },
    Scenario {
        name: "the exceptions option (--exceptions) forwards exceptions to every client",
        setup: Setup {
            exceptions: true,
            ..DEFAULT
        },
        steps: &[
            Connect(1),
            Connect(2),
            Send(2, T::CanDo, &["f"]),
            Send(1, T::SubmitJob, &["f", "u", "x"]),
            Recv(1, T::JobCreated, &["H:t:1"]),
            Send(2, T::GrabJob, &[]),
            Recv(2, T::JobAssign, &["H:t:1", "f", "x"]),
            Send(2, T::WorkException, &["H:t:1", "boom"]),
            Recv(1, T::WorkException, &["H:t:1", "boom"]),
        ],
    },
    Scenario {
        name: "PRE_SLEEP and NOOP: one wake-up per sleep, at once if work is queued",
        setup: DEFAULT,
        steps: &[
            Connect(1),
            Connect(2),
            Send(2, T::CanDo, &["f"]),
            Send(2, T::PreSleep, &[]),
            Quiet(2),
            Send(1, T::SubmitJobBg, &["f", "a", "x"]),
            Recv(1, T::JobCreated, &["H:t:1"]),
            Recv(2, T::Noop, &[]),
            Send(1, T::SubmitJobBg, &["f", "b", "x"]),
            Recv(1, T::JobCreated, &["H:t:2"]),
            Quiet(2),
            // Jobs of a function the worker cannot do wake nobody.
            Send(1, T::SubmitJobBg, &["g", "c", "x"]),
            Recv(1, T::JobCreated, &["H:t:3"]),
            Quiet(2),
            Send(2, T::PreSleep, &[]),
            Recv(2, T::Noop, &[]),
            Send(2, T::GrabJob, &[]),
            Recv(2, T::JobAssign, &["H:t:1", "f", "x"]),
        ],
    },
    Scenario {
        name: "--worker-wakeup 1 wakes one sleeper per job, taking turns",
        setup: Setup {
            wakeup: 1,
            ..DEFAULT
        },
        steps: &[
            Connect(1),
            Connect(2),
            Connect(3),
            Send(2, T::CanDo, &["f"]),
            Send(3, T::CanDo, &["f"]),
            Send(2, T::PreSleep, &[]),
            Send(3, T::PreSleep, &[]),
            Send(1, T::SubmitJobBg, &["f", "a", "x"]),
            Recv(1, T::JobCreated, &["H:t:1"]),
            Recv(2, T::Noop, &[]),
            Quiet(3),
            Send(1, T::SubmitJobBg, &["f", "b", "x"]),
            Recv(1, T::JobCreated, &["H:t:2"]),
            Recv(3, T::Noop, &[]),
        ],
    },
    Scenario {
        name: "a client that goes away drops its queued job; a running one is ignored",
        setup: DEFAULT,
        steps: &[
            Connect(1),
            Connect(2),
            Connect(3),
            Send(1, T::SubmitJob, &["f", "a", "x"]),
            Recv(1, T::JobCreated, &["H:t:1"]),
            Send(1, T::SubmitJob, &["f", "b", "x"]),
            Recv(1, T::JobCreated, &["H:t:2"]),
            Send(2, T::CanDo, &["f"]),
            Send(2, T::GrabJob, &[]),
            Recv(2, T::JobAssign, &["H:t:1", "f", "x"]),
            Disconnect(1),
            Admin(3, "show jobs", "H:t:1\t0\t1\t0\n.\n"),
            Send(2, T::WorkData, &["H:t:1", "d"]),
            Send(2, T::WorkComplete, &["H:t:1", "nobody listens"]),
            Admin(3, "show jobs", ".\n"),
        ],
    },
    Scenario {
        name: "work results for jobs the connection does not hold are refused",
        setup: DEFAULT,
        steps: &[
            Connect(1),
            Connect(2),
            Send(1, T::SubmitJob, &["f", "a", "x"]),
            Recv(1, T::JobCreated, &["H:t:1"]),
            Send(2, T::WorkComplete, &["H:t:1", "r"]),
            Recv(
                2,
                T::Error,
                &["JOB_NOT_FOUND", "Job given in work result not found"],
            ),
            Send(2, T::WorkStatus, &["H:t:99", "1", "2"]),
            Recv(
                2,
                T::Error,
                &["JOB_NOT_FOUND", "Job given in work result not found"],
            ),
            Send(2, T::WorkFail, &["nonsense"]),
            Recv(
                2,
                T::Error,
                &["JOB_NOT_FOUND", "Job given in work result not found"],
            ),
        ],
    },
    Scenario {
        name: "bad submissions and registrations get an ERROR and change nothing",
        setup: DEFAULT,
        steps: &[
            Connect(1),
            Send(
                1,
                T::SubmitJob,
                &[
                    "f",
                    "0123456789012345678901234567890123456789012345678901234567890123456789",
                    "x",
                ],
            ),
            Recv(
                1,
                T::Error,
                &["ARGUMENT_TOO_LARGE", "Unique value too large"],
            ),
            Send(1, T::SubmitJob, &["", "u", "x"]),
            Recv(
                1,
                T::Error,
                &["INVALID_ARGUMENT", "Invalid function or reducer name"],
            ),
            Send(1, T::CanDo, &[""]),
            Recv(1, T::Error, &["INVALID_ARGUMENT", "Empty function name"]),
            Admin(1, "show jobs", ".\n"),
        ],
    },
    Scenario {
        name: "echo, options and the client id",
        setup: DEFAULT,
        steps: &[
            Connect(1),
            Send(1, T::EchoReq, &["ping"]),
            Recv(1, T::EchoRes, &["ping"]),
            Send(1, T::OptionReq, &["nope"]),
            Recv(
                1,
                T::Error,
                &["UNKNOWN_OPTION", "Server does not recognize given option"],
            ),
            Send(1, T::SetClientId, &["me"]),
            Send(1, T::CanDo, &["f"]),
            Admin(1, "workers", "1 127.0.0.1 me : f\n.\n"),
        ],
    },
];

const FUNCTION_TABLE: &[Scenario] = &[
    Scenario {
        name: "a function with no job, worker or setting left is forgotten",
        setup: DEFAULT,
        steps: &[
            Connect(1),
            Connect(2),
            Connect(3),
            Send(1, T::SubmitJob, &["tmp", "", "x"]),
            Recv(1, T::JobCreated, &["H:t:1"]),
            Admin(3, "status", "tmp\t1\t0\t0\n.\n"),
            Disconnect(1),
            Admin(3, "status", ".\n"),
            Send(2, T::CanDo, &["w"]),
            Admin(3, "status", "w\t0\t0\t1\n.\n"),
            Send(2, T::CantDo, &["w"]),
            Admin(3, "status", ".\n"),
            Send(2, T::CanDo, &["w"]),
            Send(2, T::CanDo, &["v"]),
            Send(2, T::ResetAbilities, &[]),
            Admin(3, "status", ".\n"),
            Send(2, T::CanDo, &["w"]),
            Disconnect(2),
            Admin(3, "status", ".\n"),
            // Created by an admin, it stays until something happens to it; a CANT_DO from a
            // connection that never registered it is not such a thing.
            Admin(3, "create function idle", "OK\r\n"),
            Send(3, T::CantDo, &["idle"]),
            Admin(3, "status", "idle\t0\t0\t0\n.\n"),
        ],
    },
    Scenario {
        name: "a registered worker or a maxqueue setting keeps a function listed",
        setup: DEFAULT,
        steps: &[
            Connect(1),
            Connect(2),
            Send(2, T::CanDo, &["f"]),
            Send(1, T::SubmitJobBg, &["f", "a", "x"]),
            Recv(1, T::JobCreated, &["H:t:1"]),
            Send(1, T::SubmitJobBg, &["g", "b", "x"]),
            Recv(1, T::JobCreated, &["H:t:2"]),
            Admin(1, "maxqueue g 5", "OK\n"),
            Send(2, T::GrabJob, &[]),
            Recv(2, T::JobAssign, &["H:t:1", "f", "x"]),
            Send(2, T::WorkComplete, &["H:t:1", ""]),
            Admin(1, "cancel job H:t:2", "OK\r\n"),
            Admin(1, "status", "f\t0\t0\t1\ng\t0\t0\t0\n.\n"),
            Admin(1, "maxqueue g", "OK\n"),
            Admin(1, "status", "f\t0\t0\t1\n.\n"),
            // A forgotten name comes back as a new function, listed after the older ones.
            Send(1, T::SubmitJobBg, &["g", "c", "x"]),
            Recv(1, T::JobCreated, &["H:t:3"]),
            Send(1, T::SubmitJobBg, &["e", "d", "x"]),
            Recv(1, T::JobCreated, &["H:t:4"]),
            Admin(1, "status", "f\t0\t0\t1\ng\t1\t0\t0\ne\t1\t0\t0\n.\n"),
            Admin(1, "drop function g", "OK\r\n"),
            Admin(1, "status", "f\t0\t0\t1\ne\t1\t0\t0\n.\n"),
        ],
    },
];

fn run_table(table: &[Scenario]) {
    for scenario in table {
        let result = std::panic::catch_unwind(|| Harness::new(scenario.setup).run(scenario.steps));
        if let Err(panic) = result {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!("scenario {:?} failed: {message}", scenario.name);
        }
    }
}

#[test]
fn admin_commands() {
    run_table(ADMIN);
}

#[test]
fn job_transitions() {
    run_table(JOBS);
}

#[test]
fn unexpected_packets_get_an_error() {
    let mut h = Harness::new(DEFAULT);
    h.connect(1, "127.0.0.1");
    h.engine.unexpected(1);
    h.run(&[Recv(
        1,
        T::Error,
        &["INVALID_COMMAND", "Command not expected"],
    )]);
}

#[test]
fn function_table() {
    run_table(FUNCTION_TABLE);
}

#[test]
fn throwaway_function_names_do_not_accumulate() {
    let mut h = Harness::new(DEFAULT);
    for i in 0..100_000u64 {
        h.connect(i + 1, "127.0.0.1");
        let function = Bytes::from(format!("throwaway-{i}"));
        let request = Request::SubmitJob {
            function,
            unique: Bytes::new(),
            data: Bytes::from_static(b"x"),
            priority: Priority::Normal,
            background: false,
        };
        h.engine.request(i + 1, request);
        h.engine.disconnect(i + 1);
        h.sinks.remove(&(i + 1));
    }
    assert_eq!(h.engine.job_count(), 0);
    assert!(h.engine.function_ids.is_empty());
    assert!(
        h.engine.functions.is_empty(),
        "a free slot at the end is dropped"
    );
    assert!(h.engine.functions.capacity() <= 1024);
}

#[test]
fn registering_100k_functions_on_one_connection_is_fast() {
    let mut h = Harness::new(DEFAULT);
    h.connect(1, "127.0.0.1");
    let names: Vec<Bytes> = (0..100_000)
        .map(|i| Bytes::from(format!("function-{i}")))
        .collect();
    let started = thread_cpu_time();
    for function in &names {
        let function = function.clone();
        h.engine.request(1, Request::CanDo { function });
    }
    // Registering again is a duplicate: found at once, nothing added.
    for function in names.iter().take(1000) {
        let (function, timeout) = (function.clone(), 5000);
        h.engine
            .request(1, Request::CanDoTimeout { function, timeout });
    }
    let elapsed = thread_cpu_time() - started;
    assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");
    let conn = &h.engine.conns[&1];
    assert_eq!(conn.abilities.len(), 100_000);
    assert_eq!(conn.timeouts[&0], 5000);
    assert_eq!(h.engine.function_ids.len(), 100_000);
    h.run(&[Quiet(1)]);
    h.engine.disconnect(1);
    assert!(h.engine.function_ids.is_empty());
}

/// A departing worker with many functions is unregistered in slices (the connection task
/// releases the engine between them): the engine is consistent after every slice, the job
/// the worker ran is requeued by the disconnect that follows, and the other worker is woken.
#[test]
fn a_departing_worker_is_released_in_slices() {
    let mut h = Harness::new(DEFAULT);
    h.run(&[
        Connect(1),
        Connect(2),
        Connect(3),
        Send(1, T::CanDo, &["f"]),
        Send(3, T::CanDo, &["f"]),
        Send(3, T::PreSleep, &[]),
        Send(2, T::SubmitJob, &["f", "", "x"]),
        Recv(2, T::JobCreated, &["H:t:1"]),
        Recv(3, T::Noop, &[]),
        Send(1, T::GrabJob, &[]),
        Recv(1, T::JobAssign, &["H:t:1", "f", "x"]),
    ]);
    for i in 0..5000 {
        let function = Bytes::from(format!("other-{i}"));
        h.engine.request(1, Request::CanDo { function });
    }
    let mut slices = 0;
    while !h.engine.release_abilities(1, 1000) {
        slices += 1;
        h.engine.check_invariants().unwrap();
        assert_eq!(
            h.engine.jobs[&1].worker(),
            1,
            "the job stays with its worker"
        );
    }
    assert_eq!(slices, 5);
    assert!(h.engine.conns[&1].abilities.is_empty());
    assert_eq!(
        h.engine.function_ids.len(),
        1,
        "only f, still registered by 3"
    );
    h.run(&[
        Disconnect(1),
        Send(3, T::GrabJob, &[]),
        Recv(3, T::JobAssign, &["H:t:1", "f", "x"]),
    ]);
}

/// CPU time of this thread: unlike wall time, not inflated by other processes on a busy machine.
fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0);
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}
