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
use crate::message::{Request, Response};
use crate::protocol::{Packet, PacketType, ProtocolError, DEFAULT_MAX_PAYLOAD};

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
    /// Speak TLS to every server.
    pub tls: Option<crate::tls::TlsConnector>,
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
            tls: None,
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
    /// This server's own TLS, instead of the options' (`add_server_tls`).
    tls: Option<crate::tls::TlsConnector>,
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
        self.add_server_tls(addr, None);
    }

    /// Adds a server reached over TLS with `tls`, whatever the options say for the others
    /// (`None`: as the options say).
    pub fn add_server_tls(&mut self, addr: ServerAddr, tls: Option<crate::tls::TlsConnector>) {
        if self.servers.iter().any(|s| s.addr == addr) {
            return;
        }
        self.servers.push(Server {
            addr,
            tls,
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

    /// The server that assigned `job` (None once the server list was cleared).
    pub fn server_of(&self, job: &AssignedJob) -> Option<&ServerAddr> {
        self.servers.get(job.server).map(|s| &s.addr)
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
            conn.queue_request(&Request::CantDo { function: name });
        }
        before != self.functions.len()
    }

    /// Unregisters every function (RESET_ABILITIES).
    pub fn unregister_all(&mut self) {
        self.functions.clear();
        for conn in self.servers.iter_mut().filter_map(|s| s.conn.as_mut()) {
            conn.queue_request(&Request::<&[u8]>::ResetAbilities);
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
            conn.queue_request(&Request::SetClientId { id: &id[..] });
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
                conn.queue_request(&Request::EchoReq { data });
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
            let grab: Request<&[u8]> = match self.options.grab {
                GrabMode::Plain => Request::GrabJob,
                GrabMode::Unique => Request::GrabJobUniq,
                GrabMode::All => Request::GrabJobAll,
            };
            for server in &mut self.servers {
                if let (Some(conn), Phase::Idle) = (server.conn.as_mut(), server.phase) {
                    conn.queue_request(&grab);
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
            server.tls.as_ref().or(self.options.tls.as_ref()),
        )
        .await
        {
            Ok(mut conn) => {
                if server.backoff.is_failing() {
                    tracing::info!(server = %server.addr, "reconnected; registering again");
                }
                server.backoff.succeeded();
                if let Some(id) = &self.options.client_id {
                    conn.queue_request(&Request::SetClientId { id });
                }
                if self.options.exceptions {
                    conn.queue_request(&Request::OptionReq {
                        name: &b"exceptions"[..],
                    });
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
        let kind = packet.kind;
        let response = match Response::from_packet(packet) {
            Ok(response) => response,
            Err(e) => {
                let server = self.servers[i].addr.to_string();
                let error = match e {
                    ProtocolError::UnexpectedKind(kind) => Error::UnexpectedPacket { server, kind },
                    source => Error::Protocol { server, source },
                };
                return self.drop_connection(i, &error);
            }
        };
        let server = &mut self.servers[i];
        let assigned = |handle, function, unique, reducer: Option<Bytes>, workload| AssignedJob {
            handle,
            function,
            unique,
            reducer: reducer.filter(|r| !r.is_empty()),
            workload,
            server: i,
        };
        let job = match response {
            Response::Noop => {
                if server.phase == Phase::Sleeping {
                    server.phase = Phase::Idle;
                }
                return;
            }
            Response::NoJob => {
                if grabbing {
                    if let Some(conn) = server.conn.as_mut() {
                        conn.queue_request(&Request::<&[u8]>::PreSleep);
                    }
                    server.phase = Phase::Sleeping;
                } else {
                    server.phase = Phase::Idle;
                }
                return;
            }
            Response::JobAssign {
                handle,
                function,
                data,
            } => assigned(handle, function, Bytes::new(), None, data),
            Response::JobAssignUniq {
                handle,
                function,
                unique,
                data,
            } => assigned(handle, function, unique, None, data),
            Response::JobAssignAll {
                handle,
                function,
                unique,
                reducer,
                data,
            } => assigned(handle, function, unique, Some(reducer), data),
            Response::EchoRes { data } if server.echo_waiting => {
                server.echo_waiting = false;
                self.echo_reply = Some(data);
                return;
            }
            Response::Error { code, text } => {
                tracing::warn!(
                    server = %server.addr,
                    code = %String::from_utf8_lossy(&code),
                    text = %String::from_utf8_lossy(&text),
                    "server error"
                );
                return;
            }
            Response::OptionRes { .. } | Response::EchoRes { .. } => return,
            _ => {
                let error = Error::UnexpectedPacket {
                    server: server.addr.to_string(),
                    kind,
                };
                return self.drop_connection(i, &error);
            }
        };
        server.phase = Phase::Idle;
        self.assigned.push_back(job);
    }

    /// Queues a WORK_* packet for `job` without sending it; the next grab (or [`Worker::flush`])
    /// sends it together with whatever follows, saving a write per job.
    /// `data` holds the fields after the handle ([`Request::work`] says which).
    pub fn queue(
        &mut self,
        job: &AssignedJob,
        kind: PacketType,
        data: &[&[u8]],
    ) -> Result<(), Error> {
        let request = Request::work(kind, &job.handle, data).ok_or_else(|| {
            Error::InvalidArgument(format!(
                "{kind:?} with {} fields is no work result",
                data.len()
            ))
        })?;
        self.queue_request(job, &request)
    }

    /// Queues a typed request about `job` on the connection it came from, without sending it.
    fn queue_request(&mut self, job: &AssignedJob, request: &Request<&[u8]>) -> Result<(), Error> {
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
        conn.queue_request(request);
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
        self.flush_job_server(job).await
    }

    async fn send_request(
        &mut self,
        job: &AssignedJob,
        request: &Request<&[u8]>,
    ) -> Result<(), Error> {
        self.queue_request(job, request)?;
        self.flush_job_server(job).await
    }

    async fn flush_job_server(&mut self, job: &AssignedJob) -> Result<(), Error> {
        let Some(conn) = self.servers[job.server].conn.as_mut() else {
            return Ok(());
        };
        if let Err(e) = conn.flush().await {
            self.drop_connection(job.server, &e);
            return Err(e);
        }
        Ok(())
    }

    /// Queues WORK_COMPLETE for `job` (sent with the next grab or [`Worker::flush`]).
    pub fn queue_complete(&mut self, job: &AssignedJob, result: &[u8]) -> Result<(), Error> {
        let handle = &job.handle[..];
        self.queue_request(
            job,
            &Request::WorkComplete {
                handle,
                data: result,
            },
        )
    }

    /// Queues WORK_FAIL for `job` (sent with the next grab or [`Worker::flush`]).
    pub fn queue_fail(&mut self, job: &AssignedJob) -> Result<(), Error> {
        let handle = &job.handle[..];
        self.queue_request(job, &Request::WorkFail { handle })
    }

    /// Queues WORK_EXCEPTION for `job` (sent with the next grab or [`Worker::flush`]).
    pub fn queue_exception(&mut self, job: &AssignedJob, data: &[u8]) -> Result<(), Error> {
        let handle = &job.handle[..];
        self.queue_request(job, &Request::WorkException { handle, data })
    }

    pub async fn send_data(&mut self, job: &AssignedJob, data: &[u8]) -> Result<(), Error> {
        let handle = &job.handle[..];
        self.send_request(job, &Request::WorkData { handle, data })
            .await
    }

    pub async fn send_warning(&mut self, job: &AssignedJob, data: &[u8]) -> Result<(), Error> {
        let handle = &job.handle[..];
        self.send_request(job, &Request::WorkWarning { handle, data })
            .await
    }

    pub async fn send_status(
        &mut self,
        job: &AssignedJob,
        numerator: u64,
        denominator: u64,
    ) -> Result<(), Error> {
        let (n, d) = (numerator.to_string(), denominator.to_string());
        let request = Request::WorkStatus {
            handle: &job.handle[..],
            numerator: n.as_bytes(),
            denominator: d.as_bytes(),
        };
        self.send_request(job, &request).await
    }

    pub async fn send_complete(&mut self, job: &AssignedJob, result: &[u8]) -> Result<(), Error> {
        let handle = &job.handle[..];
        self.send_request(
            job,
            &Request::WorkComplete {
                handle,
                data: result,
            },
        )
        .await
    }

    pub async fn send_fail(&mut self, job: &AssignedJob) -> Result<(), Error> {
        let handle = &job.handle[..];
        self.send_request(job, &Request::WorkFail { handle }).await
    }

    pub async fn send_exception(&mut self, job: &AssignedJob, data: &[u8]) -> Result<(), Error> {
        let handle = &job.handle[..];
        self.send_request(job, &Request::WorkException { handle, data })
            .await
    }
}

fn queue_registration(conn: &mut Connection, f: &Registration) {
    let function = &f.name[..];
    match f.timeout_ms {
        Some(ms) => conn.queue_request(&Request::CanDoTimeout {
            function,
            timeout: u64::from(ms),
        }),
        None => conn.queue_request(&Request::CanDo { function }),
    }
}
