//! The async worker: registers functions on several servers, grabs jobs with the
//! GRAB / NO_JOB / PRE_SLEEP / NOOP cycle, and sends results.
//!
//! A server that goes away is reconnected with back-off (at most 1 s between attempts), and on
//! every reconnection the worker re-sends its functions, client id and options, so a restarted
//! gearmand gets the worker back without the worker exiting.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::connection::{Backoff, Connection, ServerAddr};
use crate::error::Error;
use crate::protocol::{Packet, PacketType, DEFAULT_MAX_PAYLOAD};

/// Which grab packet the worker sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GrabMode {
    /// GRAB_JOB: handle, function and workload.
    Plain,
    /// GRAB_JOB_UNIQ: adds the unique.
    Unique,
    /// GRAB_JOB_ALL: adds the unique and, for reduce jobs, the reducer (libgearman's default).
    #[default]
    All,
}

/// Worker settings.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Limit on waiting for a job; `None` waits forever.
    pub timeout: Option<Duration>,
    pub connect_timeout: Duration,
    pub client_id: Option<Bytes>,
    pub grab: GrabMode,
    /// Send OPTION_REQ `exceptions` on connect.
    pub exceptions: bool,
    pub max_payload: usize,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            timeout: None,
            connect_timeout: Duration::from_secs(5),
            client_id: None,
            grab: GrabMode::All,
            exceptions: false,
            max_payload: DEFAULT_MAX_PAYLOAD,
        }
    }
}

/// A job handed to this worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignedJob {
    pub handle: Bytes,
    pub function: Bytes,
    pub unique: Bytes,
    pub reducer: Option<Bytes>,
    pub workload: Bytes,
    server: usize,
}

#[derive(Debug, Clone)]
struct Registration {
    name: Bytes,
    timeout_ms: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Should send a grab.
    Idle,
    /// A grab is outstanding.
    Grabbing,
    /// Sent PRE_SLEEP; waiting for NOOP.
    Sleeping,
}

#[derive(Debug)]
struct Server {
    addr: ServerAddr,
    conn: Option<Connection>,
    backoff: Backoff,
    phase: Phase,
    echo_waiting: bool,
}

/// An async Gearman worker.
#[derive(Debug)]
pub struct Worker {
    options: WorkerOptions,
    servers: Vec<Server>,
    functions: Vec<Registration>,
    assigned: VecDeque<AssignedJob>,
    echo_reply: Option<Bytes>,
    poll_start: usize,
}

impl Default for Worker {
    fn default() -> Self {
        Worker::new(WorkerOptions::default())
    }
}

impl Worker {
    pub fn new(options: WorkerOptions) -> Worker {
        Worker {
            options,
            servers: Vec::new(),
            functions: Vec::new(),
            assigned: VecDeque::new(),
            echo_reply: None,
            poll_start: 0,
        }
    }

    pub fn options(&self) -> &WorkerOptions {
        &self.options
    }

    pub fn options_mut(&mut self) -> &mut WorkerOptions {
        &mut self.options
    }

    /// Adds a server; the connection is made on the next wait.
    pub fn add_server(&mut self, addr: ServerAddr) {
        if self.servers.iter().any(|s| s.addr == addr) {
            return;
        }
        self.servers.push(Server {
            addr,
            conn: None,
            backoff: Backoff::default(),
            phase: Phase::Idle,
            echo_waiting: false,
        });
    }

    pub fn add_servers(&mut self, list: &str) -> Result<(), Error> {
        for addr in ServerAddr::parse_list(list)? {
            self.add_server(addr);
        }
        Ok(())
    }

    pub fn remove_servers(&mut self) {
        self.servers.clear();
        self.assigned.clear();
    }

    pub fn servers(&self) -> impl Iterator<Item = &ServerAddr> {
        self.servers.iter().map(|s| &s.addr)
    }

    /// Registers a function, with an optional per-job timeout in milliseconds (CAN_DO_TIMEOUT).
    pub fn register(
        &mut self,
        name: impl Into<Bytes>,
        timeout_ms: Option<u32>,
    ) -> Result<(), Error> {
        let name = name.into();
        if name.is_empty() || name.contains(&0) || name.len() > crate::FUNCTION_MAX_SIZE {
            return Err(Error::InvalidArgument(format!(
                "bad function name {name:?}"
            )));
        }
        self.functions.retain(|f| f.name != name);
        let registration = Registration {
            name,
            timeout_ms: timeout_ms.filter(|&t| t > 0),
        };
        for server in &mut self.servers {
            if let Some(conn) = server.conn.as_mut() {
                queue_registration(conn, &registration);
                if server.phase == Phase::Sleeping {
                    // A sleeping connection is not woken for jobs of a new function; look now.
                    server.phase = Phase::Idle;
                }
            }
        }
        self.functions.push(registration);
        Ok(())
    }

    /// Unregisters a function (CANT_DO).
    pub fn unregister(&mut self, name: &[u8]) -> bool {
        let before = self.functions.len();
        self.functions.retain(|f| &f.name[..] != name);
        for conn in self.servers.iter_mut().filter_map(|s| s.conn.as_mut()) {
            conn.queue(PacketType::CantDo, &[name]);
        }
        before != self.functions.len()
    }

    /// Unregisters every function (RESET_ABILITIES).
    pub fn unregister_all(&mut self) {
        self.functions.clear();
        for conn in self.servers.iter_mut().filter_map(|s| s.conn.as_mut()) {
            conn.queue(PacketType::ResetAbilities, &[]);
        }
    }

    /// Whether a function is registered.
    pub fn is_registered(&self, name: &[u8]) -> bool {
        self.functions.iter().any(|f| &f.name[..] == name)
    }

    /// The registered function names.
    pub fn functions(&self) -> impl Iterator<Item = &Bytes> {
        self.functions.iter().map(|f| &f.name)
    }

    /// Sets the id shown by the admin `workers` command.
    pub fn set_client_id(&mut self, id: impl Into<Bytes>) {
        let id = id.into();
        for conn in self.servers.iter_mut().filter_map(|s| s.conn.as_mut()) {
            conn.queue(PacketType::SetClientId, &[&id]);
        }
        self.options.client_id = Some(id);
    }

    /// Sends ECHO_REQ to the first reachable server and returns the answer.
    pub async fn echo(&mut self, data: &[u8]) -> Result<Bytes, Error> {
        if self.servers.is_empty() {
            return Err(Error::NoServers);
        }
        let mut last = Error::NoServers;
        for i in 0..self.servers.len() {
            if let Err(e) = self.connect(i).await {
                last = e;
                continue;
            }
            self.echo_reply = None;
            let server = &mut self.servers[i];
            server.echo_waiting = true;
            if let Some(conn) = server.conn.as_mut() {
                conn.queue(PacketType::EchoReq, &[data]);
            }
            let deadline = self
                .options
                .timeout
                .and_then(crate::poll_driver::deadline_after);
            loop {
                if let Some(reply) = self.echo_reply.take() {
                    return Ok(reply);
                }
                if self.servers[i].conn.is_none() {
                    last = Error::Io {
                        server: self.servers[i].addr.to_string(),
                        kind: std::io::ErrorKind::ConnectionAborted,
                        message: "connection lost during echo".into(),
                    };
                    break;
                }
                self.pump(deadline, false).await?;
            }
        }
        Err(last)
    }

    /// Connects to every server now (sending the client id, the exceptions option and the
    /// registrations) and flushes; fails on the first server that cannot be reached. PHP's
    /// `addServer()` does this so that a dead server is reported at once.
    pub async fn connect_all(&mut self) -> Result<(), Error> {
        if self.servers.is_empty() {
            return Err(Error::NoServers);
        }
        for i in 0..self.servers.len() {
            self.connect(i).await?;
        }
        self.flush_all().await;
        match self.servers.iter().find(|s| s.conn.is_none()) {
            Some(lost) => Err(Error::Io {
                server: lost.addr.to_string(),
                kind: std::io::ErrorKind::ConnectionAborted,
                message: "connection lost while connecting".into(),
            }),
            None => Ok(()),
        }
    }

    /// Waits for the next job from any server.
    pub async fn grab_job(&mut self) -> Result<AssignedJob, Error> {
        if self.servers.is_empty() {
            return Err(Error::NoServers);
        }
        let deadline = self
            .options
            .timeout
            .and_then(crate::poll_driver::deadline_after);
        loop {
            if let Some(job) = self.assigned.pop_front() {
                return Ok(job);
            }
            self.reconnect_due().await;
            let grab = match self.options.grab {
                GrabMode::Plain => PacketType::GrabJob,
                GrabMode::Unique => PacketType::GrabJobUniq,
                GrabMode::All => PacketType::GrabJobAll,
            };
            for server in &mut self.servers {
                if let (Some(conn), Phase::Idle) = (server.conn.as_mut(), server.phase) {
                    conn.queue(grab, &[]);
                    server.phase = Phase::Grabbing;
                }
            }
            self.pump(deadline, true).await?;
        }
    }

    /// Tries servers whose back-off has expired.
    async fn reconnect_due(&mut self) {
        for i in 0..self.servers.len() {
            let server = &self.servers[i];
            if server.conn.is_none() && server.backoff.ready() {
                let _ = self.connect(i).await;
            }
        }
    }

    async fn connect(&mut self, i: usize) -> Result<(), Error> {
        let server = &mut self.servers[i];
        if server.conn.is_some() {
            return Ok(());
        }
        match Connection::connect(
            &server.addr,
            self.options.connect_timeout,
            self.options.max_payload,
        )
        .await
        {
            Ok(mut conn) => {
                if server.backoff.is_failing() {
                    tracing::info!(server = %server.addr, "reconnected; registering again");
                }
                server.backoff.succeeded();
                if let Some(id) = &self.options.client_id {
                    conn.queue(PacketType::SetClientId, &[id]);
                }
                if self.options.exceptions {
                    conn.queue(PacketType::OptionReq, &[b"exceptions"]);
                }
                for f in &self.functions {
                    queue_registration(&mut conn, f);
                }
                server.conn = Some(conn);
                server.phase = Phase::Idle;
                Ok(())
            }
            Err(e) => {
                tracing::debug!(server = %server.addr, error = %e, "connect failed");
                server.backoff.failed();
                Err(e)
            }
        }
    }

    fn drop_connection(&mut self, i: usize, error: &Error) {
        let server = &mut self.servers[i];
        tracing::info!(server = %server.addr, %error, "server connection lost");
        server.conn = None;
        server.phase = Phase::Idle;
        server.echo_waiting = false;
        server.backoff.failed();
    }

    async fn flush_all(&mut self) {
        for i in 0..self.servers.len() {
            if let Some(conn) = self.servers[i].conn.as_mut() {
                if let Err(e) = conn.flush().await {
                    self.drop_connection(i, &e);
                }
            }
        }
    }

    /// Flushes, then handles one packet, one connection failure, or a reconnect deadline.
    async fn pump(&mut self, deadline: Option<Instant>, grabbing: bool) -> Result<(), Error> {
        self.flush_all().await;
        // Only a grab reconnects (echo does not), so only a grab wakes up for it; a past retry
        // time would otherwise end every wait at once.
        let reconnect_at = self
            .servers
            .iter()
            .filter(|s| grabbing && s.conn.is_none())
            .filter_map(|s| s.backoff.retry_at())
            .min();
        let wake_at = match (deadline, reconnect_at) {
            (Some(d), Some(r)) => Some(d.min(r)),
            (d, r) => d.or(r),
        };
        let n = self.servers.len();
        let start = self.poll_start;
        self.poll_start = (start + 1) % n.max(1);
        let servers = &mut self.servers;
        let read = poll_fn(|cx| {
            for k in 0..n {
                let i = (start + k) % n;
                if let Some(conn) = servers[i].conn.as_mut() {
                    if let Poll::Ready(r) = conn.poll_packet(cx) {
                        return Poll::Ready(Some((i, r)));
                    }
                }
            }
            Poll::Pending
        });
        let outcome = match wake_at {
            Some(at) => crate::poll_driver::timeout_at(at, read).await.flatten(),
            None => read.await,
        };
        match outcome {
            Some((i, Ok(packet))) => self.handle_packet(i, packet, grabbing),
            Some((i, Err(e))) => self.drop_connection(i, &e),
            None => {
                if let Some(d) = deadline {
                    if Instant::now() >= d {
                        return Err(Error::Timeout(self.options.timeout.unwrap_or_default()));
                    }
                }
            }
        }
        Ok(())
    }

    fn handle_packet(&mut self, i: usize, packet: Packet, grabbing: bool) {
        let server = &mut self.servers[i];
        match packet.kind {
            PacketType::Noop => {
                if server.phase == Phase::Sleeping {
                    server.phase = Phase::Idle;
                }
            }
            PacketType::NoJob => {
                if grabbing {
                    if let Some(conn) = server.conn.as_mut() {
                        conn.queue(PacketType::PreSleep, &[]);
                    }
                    server.phase = Phase::Sleeping;
                } else {
                    server.phase = Phase::Idle;
                }
            }
            PacketType::JobAssign | PacketType::JobAssignUniq | PacketType::JobAssignAll => {
                server.phase = Phase::Idle;
                let (unique, reducer, workload) = match packet.kind {
                    PacketType::JobAssign => (Bytes::new(), None, packet.arg_bytes(2)),
                    PacketType::JobAssignUniq => (packet.arg_bytes(2), None, packet.arg_bytes(3)),
                    _ => (
                        packet.arg_bytes(2),
                        Some(packet.arg_bytes(3)),
                        packet.arg_bytes(4),
                    ),
                };
                self.assigned.push_back(AssignedJob {
                    handle: packet.arg_bytes(0),
                    function: packet.arg_bytes(1),
                    unique,
                    reducer: reducer.filter(|r| !r.is_empty()),
                    workload,
                    server: i,
                });
            }
            PacketType::EchoRes if server.echo_waiting => {
                server.echo_waiting = false;
                self.echo_reply = Some(packet.arg_bytes(0));
            }
            PacketType::Error => {
                tracing::warn!(
                    server = %server.addr,
                    code = %String::from_utf8_lossy(packet.arg(0)),
                    text = %String::from_utf8_lossy(packet.arg(1)),
                    "server error"
                );
            }
            PacketType::OptionRes | PacketType::EchoRes => {}
            kind => {
                let error = Error::UnexpectedPacket {
                    server: server.addr.to_string(),
                    kind,
                };
                self.drop_connection(i, &error);
            }
        }
    }

    /// Queues a WORK_* packet for `job` without sending it; the next grab (or [`Worker::flush`])
    /// sends it together with whatever follows, saving a write per job.
    pub fn queue(
        &mut self,
        job: &AssignedJob,
        kind: PacketType,
        data: &[&[u8]],
    ) -> Result<(), Error> {
        let Some(server) = self.servers.get_mut(job.server) else {
            return Err(Error::UnknownJob);
        };
        let Some(conn) = server.conn.as_mut() else {
            return Err(Error::Io {
                server: server.addr.to_string(),
                kind: std::io::ErrorKind::NotConnected,
                message: "not connected; the server will requeue the job".into(),
            });
        };
        let mut fields: Vec<&[u8]> = Vec::with_capacity(1 + data.len());
        fields.push(&job.handle);
        fields.extend_from_slice(data);
        conn.queue(kind, &fields);
        Ok(())
    }

    /// Drops the connection a job came from, so its server requeues the job (libgearman's way of
    /// failing a job "by disconnect"). The worker reconnects on its next grab.
    pub fn drop_server_connection(&mut self, job: &AssignedJob) {
        if job.server < self.servers.len() {
            let error = Error::Io {
                server: self.servers[job.server].addr.to_string(),
                kind: std::io::ErrorKind::ConnectionAborted,
                message: "dropped on purpose so the job is requeued".into(),
            };
            self.drop_connection(job.server, &error);
        }
    }

    /// Sends everything queued.
    pub async fn flush(&mut self) {
        self.flush_all().await;
    }

    /// Sends a WORK_* packet for `job` to its server.
    pub async fn send(
        &mut self,
        job: &AssignedJob,
        kind: PacketType,
        data: &[&[u8]],
    ) -> Result<(), Error> {
        self.queue(job, kind, data)?;
        let Some(conn) = self.servers[job.server].conn.as_mut() else {
            return Ok(());
        };
        if let Err(e) = conn.flush().await {
            self.drop_connection(job.server, &e);
            return Err(e);
        }
        Ok(())
    }

    pub async fn send_data(&mut self, job: &AssignedJob, data: &[u8]) -> Result<(), Error> {
        self.send(job, PacketType::WorkData, &[data]).await
    }

    pub async fn send_warning(&mut self, job: &AssignedJob, data: &[u8]) -> Result<(), Error> {
        self.send(job, PacketType::WorkWarning, &[data]).await
    }

    pub async fn send_status(
        &mut self,
        job: &AssignedJob,
        numerator: u64,
        denominator: u64,
    ) -> Result<(), Error> {
        let (n, d) = (numerator.to_string(), denominator.to_string());
        self.send(job, PacketType::WorkStatus, &[n.as_bytes(), d.as_bytes()])
            .await
    }

    pub async fn send_complete(&mut self, job: &AssignedJob, result: &[u8]) -> Result<(), Error> {
        self.send(job, PacketType::WorkComplete, &[result]).await
    }

    pub async fn send_fail(&mut self, job: &AssignedJob) -> Result<(), Error> {
        self.send(job, PacketType::WorkFail, &[]).await
    }

    pub async fn send_exception(&mut self, job: &AssignedJob, data: &[u8]) -> Result<(), Error> {
        self.send(job, PacketType::WorkException, &[data]).await
    }
}

fn queue_registration(conn: &mut Connection, f: &Registration) {
    match f.timeout_ms {
        Some(ms) => conn.queue(
            PacketType::CanDoTimeout,
            &[&f.name, ms.to_string().as_bytes()],
        ),
        None => conn.queue(PacketType::CanDo, &[&f.name]),
    }
}
