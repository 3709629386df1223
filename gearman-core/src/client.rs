//! The async client: many jobs in flight over connections to several servers, with failover.
//!
//! The client spawns no tasks. Every method drives its own I/O, so the same code runs under a
//! multi-threaded runtime or under the blocking facade's current-thread runtime.
//!
//! Several servers: each new job goes to a server chosen by its caller-given unique (so duplicates
//! meet on one server and coalesce) or round-robin. When a server's connection dies, every
//! foreground job it held that has not finished is resubmitted, with the same unique, to the next
//! server that answers; the caller gets a result, not an error.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use hashbrown::HashMap;

use crate::connection::{Backoff, Connection, ServerAddr};
use crate::error::Error;
use crate::job::{parse_number, JobRequest, JobResult, JobStatus, Outcome};
use crate::message::{Request, Response};
use crate::poll_driver;
use crate::protocol::{Packet, PacketType, ProtocolError, DEFAULT_MAX_PAYLOAD};

/// Identifies a job within one client.
pub type JobId = u64;

/// Queued events beyond which stale ones are swept from the whole queue, not just its front.
const STALE_SWEEP_AT: usize = 4096;

/// Client settings.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Limit on every wait for a server reply; `None` waits forever.
    pub timeout: Option<Duration>,
    /// Limit on establishing a connection.
    pub connect_timeout: Duration,
    /// Ask servers to forward WORK_EXCEPTION (OPTION_REQ `exceptions`).
    pub exceptions: bool,
    /// Sent with SET_CLIENT_ID on every (re)connection.
    pub client_id: Option<Bytes>,
    /// Largest packet payload accepted from a server.
    pub max_payload: usize,
    /// Resubmit unfinished foreground jobs when their server dies.
    pub resubmit: bool,
    /// Speak TLS to every server.
    pub tls: Option<crate::tls::TlsConnector>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            timeout: None,
            connect_timeout: Duration::from_secs(5),
            exceptions: false,
            client_id: None,
            max_payload: DEFAULT_MAX_PAYLOAD,
            resubmit: true,
            tls: None,
        }
    }
}

/// Something that happened to a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobEvent {
    /// The server accepted the job and named it.
    Created(Bytes),
    Data(Bytes),
    Warning(Bytes),
    Status {
        numerator: u64,
        denominator: u64,
    },
    /// The job is final; the outcome is also in its [`JobResult`].
    Finished(Outcome),
}

/// An event for one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub job: JobId,
    pub event: JobEvent,
}

/// What a reply in a connection's in-order reply queue belongs to.
#[derive(Debug, Clone, Copy)]
enum Awaiting {
    Created(JobId),
    Status(u64),
    Echo(u64),
    OptionAck,
    /// A request answered by OPTION_RES or ERROR.
    Ack(u64),
}

#[derive(Debug)]
struct Server {
    addr: ServerAddr,
    /// This server's own TLS, instead of the options' (`add_server_tls`).
    tls: Option<crate::tls::TlsConnector>,
    conn: Option<Connection>,
    backoff: Backoff,
    awaiting: VecDeque<Awaiting>,
    /// Live handles on this server → the jobs attached to each (a client's coalesced submits
    /// share a handle).
    handles: HashMap<Bytes, Vec<JobId>>,
}

#[derive(Debug)]
struct JobEntry {
    request: JobRequest,
    server: usize,
    result: JobResult,
    submissions: u32,
}

impl JobEntry {
    fn is_done(&self) -> bool {
        self.result.outcome.is_some()
    }
}

/// An async Gearman client.
#[derive(Debug)]
pub struct Client {
    options: ClientOptions,
    servers: Vec<Server>,
    jobs: HashMap<JobId, JobEntry>,
    next_job: JobId,
    next_request: u64,
    round_robin: usize,
    poll_start: usize,
    events: VecDeque<Event>,
    replies: HashMap<u64, Result<Reply, Error>>,
    /// Jobs submitted and not yet final, so waits need not scan every job.
    unfinished: usize,
    uniques: crate::job::UniqueGenerator,
    /// Queue length that triggers the next full sweep of stale events.
    sweep_at: usize,
}

#[derive(Debug)]
enum Reply {
    Status(JobStatus),
    Echo(Bytes),
    Ack,
}

impl Default for Client {
    fn default() -> Self {
        Client::new(ClientOptions::default())
    }
}

impl Client {
    pub fn new(options: ClientOptions) -> Client {
        Client {
            options,
            servers: Vec::new(),
            jobs: HashMap::new(),
            next_job: 1,
            next_request: 1,
            round_robin: 0,
            poll_start: 0,
            events: VecDeque::new(),
            replies: HashMap::new(),
            unfinished: 0,
            uniques: crate::job::UniqueGenerator::new(),
            sweep_at: STALE_SWEEP_AT,
        }
    }

    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    pub fn options_mut(&mut self) -> &mut ClientOptions {
        &mut self.options
    }

    /// Adds a server; connecting happens on first use.
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
            awaiting: VecDeque::new(),
            handles: HashMap::new(),
        });
    }

    /// Adds every server of a comma-separated list.
    pub fn add_servers(&mut self, list: &str) -> Result<(), Error> {
        for addr in ServerAddr::parse_list(list)? {
            self.add_server(addr);
        }
        Ok(())
    }

    /// Drops every server and its connection; unfinished jobs fail.
    pub fn remove_servers(&mut self) {
        for i in 0..self.servers.len() {
            self.servers[i].conn = None;
        }
        let ids: Vec<JobId> = self
            .jobs
            .iter()
            .filter(|(_, j)| !j.is_done())
            .map(|(i, _)| *i)
            .collect();
        for id in ids {
            self.finish(id, Outcome::Error(Error::NoServers));
        }
        self.servers.clear();
    }

    /// A new unique id, as given to submissions that have none.
    pub fn new_unique(&mut self) -> Bytes {
        self.uniques.next_unique()
    }

    pub fn servers(&self) -> impl Iterator<Item = &ServerAddr> {
        self.servers.iter().map(|s| &s.addr)
    }

    /// Queues a job on a server and returns its id. The request is sent by the next wait, or by
    /// [`Client::flush`]. Fails only when the request is invalid or no server can be reached.
    pub async fn submit(&mut self, mut request: JobRequest) -> Result<JobId, Error> {
        request.validate()?;
        let start = match &request.unique {
            Some(unique) => self.server_for_unique(unique),
            None => {
                self.round_robin = self.round_robin.wrapping_add(1);
                self.round_robin
            }
        };
        if request.unique.is_none() {
            request.unique = Some(self.uniques.next_unique());
        }
        let id = self.next_job;
        self.next_job += 1;
        let unique = request.unique.clone().unwrap_or_default();
        let entry = JobEntry {
            request,
            server: 0,
            result: JobResult {
                unique,
                ..JobResult::default()
            },
            submissions: 0,
        };
        self.jobs.insert(id, entry);
        match self.send_submission(id, start).await {
            Ok(()) => {
                self.unfinished += 1;
                Ok(id)
            }
            Err(e) => {
                self.jobs.remove(&id);
                Err(e)
            }
        }
    }

    /// Submits a job and waits for its final outcome.
    pub async fn run(&mut self, request: JobRequest) -> Result<JobResult, Error> {
        let id = self.submit(request).await?;
        self.wait_or_forget(id).await
    }

    /// Waits for job `id`; on failure (a timeout) the job is forgotten, so that its late
    /// events are dropped and it is not resubmitted after a server failure.
    async fn wait_or_forget(&mut self, id: JobId) -> Result<JobResult, Error> {
        let result = self.wait(id).await;
        if result.is_err() {
            self.take(id);
        }
        result
    }

    /// Submits a background job and returns its handle once the server accepted it.
    pub async fn submit_background(&mut self, request: JobRequest) -> Result<Bytes, Error> {
        let request = request.background(true);
        let id = self.submit(request).await?;
        let result = self.wait_or_forget(id).await?;
        match result.outcome {
            Some(Outcome::Queued) => Ok(result.handle.unwrap_or_default()),
            Some(Outcome::Error(e)) => Err(e),
            other => Err(Error::InvalidArgument(format!(
                "unexpected outcome {other:?}"
            ))),
        }
    }

    /// Waits until job `id` is final and returns (and forgets) its result.
    pub async fn wait(&mut self, id: JobId) -> Result<JobResult, Error> {
        loop {
            match self.jobs.get(&id) {
                None => return Err(Error::UnknownJob),
                Some(job) if job.is_done() => {
                    let result = self.jobs.remove(&id).map(|j| j.result).unwrap_or_default();
                    self.drop_stale_events();
                    return Ok(result);
                }
                Some(_) => {}
            }
            self.step().await?;
        }
    }

    /// Waits until every job given is final.
    pub async fn wait_all(&mut self, ids: &[JobId]) -> Result<(), Error> {
        for &id in ids {
            while self.jobs.get(&id).is_some_and(|j| !j.is_done()) {
                self.step().await?;
            }
        }
        Ok(())
    }

    /// The next event of any job, or `None` when no job is unfinished and no event is queued.
    pub async fn next_event(&mut self) -> Result<Option<Event>, Error> {
        loop {
            if let Some(event) = self.pop_event() {
                return Ok(Some(event));
            }
            if self.unfinished == 0 {
                return Ok(None);
            }
            self.step().await?;
        }
    }

    /// The next event already received, without waiting or doing any I/O.
    /// Events of jobs already taken (or waited for) are skipped.
    pub fn pop_event(&mut self) -> Option<Event> {
        while let Some(event) = self.events.pop_front() {
            if self.jobs.contains_key(&event.job) {
                return Some(event);
            }
        }
        None
    }

    /// Forgets queued events of jobs no longer tracked, so that callers who only wait for
    /// results (and never pop events) do not accumulate them.
    fn drop_stale_events(&mut self) {
        if self.jobs.is_empty() {
            self.events.clear();
            return;
        }
        while self
            .events
            .front()
            .is_some_and(|e| !self.jobs.contains_key(&e.job))
        {
            self.events.pop_front();
        }
        // Stale events behind a live job's: sweep them once the queue grows.
        if self.events.len() > self.sweep_at {
            let jobs = &self.jobs;
            self.events.retain(|e| jobs.contains_key(&e.job));
            // Live events stay; sweeping again only after the queue doubles keeps this O(1)
            // per event.
            self.sweep_at = (self.events.len() * 2).max(STALE_SWEEP_AT);
        }
    }

    /// What is known so far about a job that has not been taken.
    pub fn job(&self, id: JobId) -> Option<&JobResult> {
        self.jobs.get(&id).map(|j| &j.result)
    }

    /// Removes a job's record; returns it. An unfinished job is no longer tracked.
    pub fn take(&mut self, id: JobId) -> Option<JobResult> {
        let entry = self.jobs.remove(&id)?;
        if !entry.is_done() {
            self.count_finished();
        }
        if let Some(handle) = &entry.result.handle {
            if let Some(server) = self.servers.get_mut(entry.server) {
                detach(&mut server.handles, handle, id);
            }
        }
        self.drop_stale_events();
        Some(entry.result)
    }

    /// A job's record for a caller that stops waiting for it: taken (and forgotten) when the
    /// job is final, a copy when it is not (it stays tracked, so its events keep arriving).
    pub fn take_final_or_copy(&mut self, id: JobId) -> Option<JobResult> {
        match self.jobs.get(&id) {
            Some(job) if job.is_done() => self.take(id),
            Some(job) => Some(job.result.clone()),
            None => None,
        }
    }

    /// Sends everything queued to every server.
    pub async fn flush(&mut self) -> Result<(), Error> {
        for i in 0..self.servers.len() {
            self.flush_server(i).await;
        }
        Ok(())
    }

    /// Asks for the status of a job by handle. A handle of one of this client's jobs goes to that
    /// job's server; any other goes to each server in turn until one knows it.
    pub async fn job_status(&mut self, handle: &[u8]) -> Result<JobStatus, Error> {
        let known_server = self
            .jobs
            .values()
            .find_map(|j| (j.result.handle.as_deref() == Some(handle)).then_some(j.server));
        let order: Vec<usize> = match known_server {
            Some(s) => vec![s],
            None => (0..self.servers.len()).collect(),
        };
        self.status_query(order, Request::GetStatus { handle })
            .await
    }

    /// Asks every server in turn for the status of a job by its unique id.
    pub async fn job_status_unique(&mut self, unique: &[u8]) -> Result<JobStatus, Error> {
        let order = (0..self.servers.len()).collect();
        self.status_query(order, Request::GetStatusUnique { unique })
            .await
    }

    async fn status_query(
        &mut self,
        order: Vec<usize>,
        query: Request<&[u8]>,
    ) -> Result<JobStatus, Error> {
        if self.servers.is_empty() {
            return Err(Error::NoServers);
        }
        let mut last = Err(Error::NoServers);
        for server in order {
            let reply = self
                .request(server, &query, Awaiting::Status)
                .await
                .and_then(|r| match r {
                    Reply::Status(s) => Ok(s),
                    _ => Err(Error::NoServers),
                });
            if matches!(&reply, Ok(status) if status.known) {
                return reply;
            }
            if last.is_err() || reply.is_ok() {
                last = reply;
            }
        }
        last
    }

    /// Sets the id sent with SET_CLIENT_ID, now on open connections and on every reconnect.
    pub fn set_client_id(&mut self, id: Bytes) {
        for conn in self.servers.iter_mut().filter_map(|s| s.conn.as_mut()) {
            conn.queue_request(&Request::SetClientId { id: &id[..] });
        }
        self.options.client_id = Some(id);
    }

    /// Sends OPTION_REQ to every server now and waits for each answer. `exceptions` is also
    /// remembered and sent again on every reconnect.
    pub async fn set_server_option(&mut self, name: &[u8]) -> Result<(), Error> {
        if self.servers.is_empty() {
            return Err(Error::NoServers);
        }
        for server in 0..self.servers.len() {
            self.request(server, &Request::OptionReq { name }, Awaiting::Ack)
                .await?;
        }
        if name.eq_ignore_ascii_case(b"exceptions") {
            self.options.exceptions = true;
        }
        Ok(())
    }

    /// Sends a request whose only answer is an ERROR or OPTION_RES, to the first server, and
    /// returns that answer (libgearman's `cancel_job` sends WORK_FAIL this way). `kind` must be
    /// a request carrying one field; see [`Client::send_work_fail`] for the one use there is.
    pub async fn request_ack(&mut self, kind: PacketType, arg: &[u8]) -> Result<(), Error> {
        if self.servers.is_empty() {
            return Err(Error::NoServers);
        }
        let packet = Packet::request(kind, vec![Bytes::copy_from_slice(arg)]);
        let request = Request::from_packet(packet)
            .map_err(|e| Error::InvalidArgument(format!("{kind:?} as a one-field request: {e}")))?;
        self.request(0, &request, Awaiting::Ack).await.map(drop)
    }

    /// libgearman 1.1's `cancel_job`: sends WORK_FAIL for `handle` on the client connection to
    /// the first server and returns its answer (servers refuse it with JOB_NOT_FOUND).
    pub async fn send_work_fail(&mut self, handle: &[u8]) -> Result<(), Error> {
        if self.servers.is_empty() {
            return Err(Error::NoServers);
        }
        self.request(0, &Request::WorkFail { handle }, Awaiting::Ack)
            .await
            .map(drop)
    }

    /// Sends ECHO_REQ to the first reachable server and returns its answer.
    pub async fn echo(&mut self, data: &[u8]) -> Result<Bytes, Error> {
        if self.servers.is_empty() {
            return Err(Error::NoServers);
        }
        let mut last = Err(Error::NoServers);
        for server in 0..self.servers.len() {
            match self
                .request(server, &Request::EchoReq { data }, Awaiting::Echo)
                .await
            {
                Ok(Reply::Echo(data)) => return Ok(data),
                Ok(_) => {}
                Err(e) if e.is_connection_error() => last = Err(e),
                Err(e) => return Err(e),
            }
        }
        last
    }

    /// Sends one request with an in-order reply to one server and waits for that reply.
    async fn request<B: AsRef<[u8]>>(
        &mut self,
        server: usize,
        request: &Request<B>,
        awaiting: impl Fn(u64) -> Awaiting,
    ) -> Result<Reply, Error> {
        self.ensure_connected(server).await?;
        let id = self.next_request;
        self.next_request += 1;
        let slot = &mut self.servers[server];
        if let Some(conn) = slot.conn.as_mut() {
            conn.queue_request(request);
        }
        slot.awaiting.push_back(awaiting(id));
        loop {
            if let Some(reply) = self.replies.remove(&id) {
                return reply;
            }
            self.step().await?;
        }
    }

    fn server_for_unique(&self, unique: &[u8]) -> usize {
        let mut hasher = DefaultHasher::new();
        unique.hash(&mut hasher);
        hasher.finish() as usize
    }

    /// Candidate servers for a submission: healthy ones first, from `start` round the ring.
    fn candidates(&self, start: usize) -> Vec<usize> {
        let n = self.servers.len();
        let ring = (0..n).map(|k| (start + k) % n);
        let (healthy, failing): (Vec<usize>, Vec<usize>) =
            ring.partition(|&i| self.servers[i].conn.is_some() || self.servers[i].backoff.ready());
        healthy.into_iter().chain(failing).collect()
    }

    /// Queues job `id`'s SUBMIT on the first server that is or can be connected.
    async fn send_submission(&mut self, id: JobId, start: usize) -> Result<(), Error> {
        if self.servers.is_empty() {
            return Err(Error::NoServers);
        }
        // The usual case: the preferred server is connected.
        let preferred = start % self.servers.len();
        if self.servers[preferred].conn.is_some() {
            self.queue_submission(id, preferred);
            return Ok(());
        }
        let mut last_error = None;
        for server in self.candidates(start) {
            match self.ensure_connected(server).await {
                Ok(()) => {
                    self.queue_submission(id, server);
                    return Ok(());
                }
                Err(e) => last_error = Some(e),
            }
        }
        let detail = last_error.map(|e| e.to_string()).unwrap_or_default();
        if self.servers.len() == 1 {
            // One server: its own error says it best ("could not connect to …").
            return Err(self.last_connect_error(detail));
        }
        Err(Error::NoServerAvailable(detail))
    }

    /// Queues job `id`'s SUBMIT on connected server `server`.
    fn queue_submission(&mut self, id: JobId, server: usize) {
        let Some(job) = self.jobs.get_mut(&id) else {
            return;
        };
        job.server = server;
        job.submissions += 1;
        job.result.handle = None;
        let slot = &mut self.servers[server];
        if let Some(conn) = slot.conn.as_mut() {
            queue_submit(conn, &job.request);
            slot.awaiting.push_back(Awaiting::Created(id));
        }
    }

    fn last_connect_error(&self, detail: String) -> Error {
        let server = self.servers[0].addr.to_string();
        let message = detail
            .strip_prefix(&format!("could not connect to {server}: "))
            .unwrap_or(&detail)
            .to_string();
        Error::Connect {
            server,
            kind: std::io::ErrorKind::Other,
            message,
        }
    }

    async fn ensure_connected(&mut self, server: usize) -> Result<(), Error> {
        let Some(slot) = self.servers.get_mut(server) else {
            return Err(Error::NoServers);
        };
        if slot.conn.is_some() {
            return Ok(());
        }
        let mut conn = match Connection::connect(
            &slot.addr,
            self.options.connect_timeout,
            self.options.max_payload,
            slot.tls.as_ref().or(self.options.tls.as_ref()),
        )
        .await
        {
            Ok(conn) => conn,
            Err(e) => {
                slot.backoff.failed();
                tracing::debug!(server = %slot.addr, error = %e, "connect failed");
                return Err(e);
            }
        };
        slot.backoff.succeeded();
        if self.options.exceptions {
            conn.queue_request(&Request::OptionReq {
                name: &b"exceptions"[..],
            });
            slot.awaiting.push_back(Awaiting::OptionAck);
        }
        if let Some(id) = &self.options.client_id {
            conn.queue_request(&Request::SetClientId { id: &id[..] });
        }
        slot.conn = Some(conn);
        Ok(())
    }

    async fn flush_server(&mut self, server: usize) {
        let Some(conn) = self.servers[server].conn.as_mut() else {
            return;
        };
        if !conn.has_pending_writes() {
            return;
        }
        if let Err(e) = conn.flush().await {
            self.server_failed(server, e).await;
        }
    }

    /// Flushes, then handles one packet (or one connection failure). Errors only on timeout.
    async fn step(&mut self) -> Result<(), Error> {
        self.flush().await?;
        if self.servers.iter().all(|s| s.conn.is_none()) {
            // Nothing can arrive: fail whatever still waits.
            let waiting: Vec<JobId> = self
                .jobs
                .iter()
                .filter(|(_, j)| !j.is_done())
                .map(|(id, _)| *id)
                .collect();
            for id in waiting {
                self.finish(id, Outcome::Error(Error::NoServers));
            }
            return Ok(());
        }
        let n = self.servers.len();
        let start = self.poll_start;
        self.poll_start = (self.poll_start + 1) % n.max(1);
        let servers = &mut self.servers;
        let read = poll_fn(|cx| {
            for k in 0..n {
                let i = (start + k) % n;
                if let Some(conn) = servers[i].conn.as_mut() {
                    if let Poll::Ready(r) = conn.poll_packet(cx) {
                        return Poll::Ready((i, r));
                    }
                }
            }
            Poll::Pending
        });
        let (server, result) = match self.options.timeout {
            Some(limit) => match poll_driver::timeout(limit, read).await {
                Some(r) => r,
                None => return Err(Error::Timeout(limit)),
            },
            None => read.await,
        };
        let first = match result {
            Ok(packet) => packet,
            Err(e) => {
                self.server_failed(server, e).await;
                return Ok(());
            }
        };
        self.handle_packet(server, first).await;
        // Handle whatever else that read brought in, so that a burst of replies costs one
        // wake-up and the next flush carries every request they prompted.
        while let Some(conn) = self.servers[server].conn.as_mut() {
            match conn.try_buffered_packet() {
                Ok(Some(packet)) => self.handle_packet(server, packet).await,
                Ok(None) => break,
                Err(e) => {
                    self.server_failed(server, e).await;
                    break;
                }
            }
        }
        Ok(())
    }

    async fn handle_packet(&mut self, server: usize, packet: Packet) {
        let kind = packet.kind;
        let response = match Response::from_packet(packet) {
            Ok(response) => response,
            Err(e) => {
                let addr = self.servers[server].addr.to_string();
                let error = match e {
                    ProtocolError::UnexpectedKind(kind) => {
                        Error::UnexpectedPacket { server: addr, kind }
                    }
                    source => Error::Protocol {
                        server: addr,
                        source,
                    },
                };
                self.server_failed(server, error).await;
                return;
            }
        };
        match response {
            Response::JobCreated { handle } => match self.servers[server].awaiting.pop_front() {
                Some(Awaiting::Created(id)) => self.job_created(server, id, handle),
                other => self.protocol_violation(server, other, kind).await,
            },
            Response::StatusRes {
                handle: key,
                known,
                running,
                numerator,
                denominator,
            } => {
                let status = JobStatus {
                    key,
                    known,
                    running,
                    numerator,
                    denominator,
                    client_count: None,
                };
                self.status_reply(server, status, kind).await;
            }
            Response::StatusResUnique {
                unique: key,
                known,
                running,
                numerator,
                denominator,
                clients,
            } => {
                let status = JobStatus {
                    key,
                    known,
                    running,
                    numerator,
                    denominator,
                    client_count: Some(clients),
                };
                self.status_reply(server, status, kind).await;
            }
            Response::EchoRes { data } => match self.servers[server].awaiting.pop_front() {
                Some(Awaiting::Echo(req)) => {
                    self.replies.insert(req, Ok(Reply::Echo(data)));
                }
                other => self.protocol_violation(server, other, kind).await,
            },
            Response::OptionRes { .. } => match self.servers[server].awaiting.pop_front() {
                Some(Awaiting::OptionAck) => {}
                Some(Awaiting::Ack(req)) => {
                    self.replies.insert(req, Ok(Reply::Ack));
                }
                other => self.protocol_violation(server, other, kind).await,
            },
            Response::Error { code, text } => {
                let error = Error::Server {
                    code: String::from_utf8_lossy(&code).into_owned(),
                    text: String::from_utf8_lossy(&text).into_owned(),
                };
                match self.servers[server].awaiting.pop_front() {
                    Some(Awaiting::Created(id)) => self.finish(id, Outcome::Error(error)),
                    Some(Awaiting::Status(req) | Awaiting::Echo(req) | Awaiting::Ack(req)) => {
                        self.replies.insert(req, Err(error));
                    }
                    Some(Awaiting::OptionAck) => {
                        tracing::warn!(server = %self.servers[server].addr, %error, "option refused");
                    }
                    None => {
                        tracing::warn!(server = %self.servers[server].addr, %error, "server error")
                    }
                }
            }
            Response::WorkData { handle, data } => {
                self.work_event(server, handle, kind, JobEvent::Data(data))
            }
            Response::WorkWarning { handle, data } => {
                self.work_event(server, handle, kind, JobEvent::Warning(data))
            }
            Response::WorkStatus {
                handle,
                numerator,
                denominator,
            } => {
                let event = JobEvent::Status {
                    numerator: parse_number(&numerator),
                    denominator: parse_number(&denominator),
                };
                self.work_event(server, handle, kind, event)
            }
            Response::WorkComplete { handle, data } => {
                let event = JobEvent::Finished(Outcome::Complete(data));
                self.work_event(server, handle, kind, event)
            }
            Response::WorkException { handle, data } => {
                let event = JobEvent::Finished(Outcome::Exception(data));
                self.work_event(server, handle, kind, event)
            }
            Response::WorkFail { handle } => {
                let event = JobEvent::Finished(Outcome::Failed);
                self.work_event(server, handle, kind, event)
            }
            Response::Noop => {}
            Response::NoJob
            | Response::JobAssign { .. }
            | Response::JobAssignUniq { .. }
            | Response::JobAssignAll { .. } => {
                let addr = self.servers[server].addr.to_string();
                self.server_failed(server, Error::UnexpectedPacket { server: addr, kind })
                    .await;
            }
        }
    }

    async fn status_reply(&mut self, server: usize, status: JobStatus, kind: PacketType) {
        match self.servers[server].awaiting.pop_front() {
            Some(Awaiting::Status(req)) => {
                self.replies.insert(req, Ok(Reply::Status(status)));
            }
            other => self.protocol_violation(server, other, kind).await,
        }
    }

    async fn protocol_violation(
        &mut self,
        server: usize,
        awaited: Option<Awaiting>,
        kind: PacketType,
    ) {
        if let Some(awaited) = awaited {
            self.servers[server].awaiting.push_front(awaited);
        }
        let addr = self.servers[server].addr.to_string();
        self.server_failed(server, Error::UnexpectedPacket { server: addr, kind })
            .await;
    }

    fn job_created(&mut self, server: usize, id: JobId, handle: Bytes) {
        let Some(job) = self.jobs.get_mut(&id) else {
            return;
        };
        if job.is_done() {
            return;
        }
        job.result.handle = Some(handle.clone());
        let background = job.request.is_background();
        self.events.push_back(Event {
            job: id,
            event: JobEvent::Created(handle.clone()),
        });
        if background {
            self.finish(id, Outcome::Queued);
        } else {
            self.servers[server]
                .handles
                .entry(handle)
                .or_default()
                .push(id);
        }
    }

    fn work_event(&mut self, server: usize, mut handle: Bytes, kind: PacketType, event: JobEvent) {
        // gearmand's WORK_FAIL after an exception carries the handle plus one NUL.
        if handle.last() == Some(&0) {
            handle.truncate(handle.len() - 1);
        }
        let Some(ids) = self.servers[server].handles.get(&handle).cloned() else {
            tracing::debug!(?handle, ?kind, "packet for an unknown handle");
            return;
        };
        for id in ids {
            match event.clone() {
                JobEvent::Finished(outcome) => self.finish(id, outcome),
                event => {
                    if let Some(job) = self.jobs.get_mut(&id) {
                        match &event {
                            JobEvent::Data(d) => job.result.data.push(d.clone()),
                            JobEvent::Warning(w) => job.result.warnings.push(w.clone()),
                            JobEvent::Status {
                                numerator,
                                denominator,
                            } => {
                                job.result.status = Some((*numerator, *denominator));
                            }
                            _ => {}
                        }
                        self.events.push_back(Event { job: id, event });
                    }
                }
            }
        }
    }

    /// One job fewer is unfinished. Each job is counted once when its submission is queued and
    /// uncounted once, when it becomes final or is taken unfinished; the count cannot go below
    /// zero unless that pairing breaks, which debug builds report and release builds absorb.
    fn count_finished(&mut self) {
        debug_assert!(self.unfinished > 0, "unfinished job count underflow");
        self.unfinished = self.unfinished.saturating_sub(1);
    }

    /// Marks a job final and records the event.
    fn finish(&mut self, id: JobId, outcome: Outcome) {
        let Some(job) = self.jobs.get_mut(&id) else {
            return;
        };
        if job.is_done() {
            return;
        }
        if let Some(handle) = &job.result.handle {
            if let Some(server) = self.servers.get_mut(job.server) {
                detach(&mut server.handles, handle, id);
            }
        }
        job.result.outcome = Some(outcome.clone());
        self.count_finished();
        self.events.push_back(Event {
            job: id,
            event: JobEvent::Finished(outcome),
        });
    }

    /// A server's connection is gone: fail its pending requests and move its unfinished
    /// foreground jobs (and not yet accepted background jobs) to another server.
    async fn server_failed(&mut self, server: usize, error: Error) {
        let slot = &mut self.servers[server];
        tracing::info!(server = %slot.addr, %error, "server connection lost");
        slot.conn = None;
        slot.backoff.failed();
        let awaiting: Vec<Awaiting> = slot.awaiting.drain(..).collect();
        let held: Vec<JobId> = slot.handles.drain().flat_map(|(_, ids)| ids).collect();
        let mut orphans = Vec::new();
        for awaited in awaiting {
            match awaited {
                Awaiting::Created(id) => orphans.push(id),
                Awaiting::Status(req) | Awaiting::Echo(req) | Awaiting::Ack(req) => {
                    self.replies.insert(req, Err(error.clone()));
                }
                Awaiting::OptionAck => {}
            }
        }
        orphans.extend(held);
        for id in orphans {
            let Some(job) = self.jobs.get(&id) else {
                continue;
            };
            if job.is_done() {
                continue;
            }
            let limit = (self.servers.len() as u32).saturating_mul(2).max(2);
            // Only a lost connection is worth a resubmission; a server that sent garbage
            // would do it again, and the caller should hear why.
            let lost = matches!(error, Error::Io { .. });
            if !self.options.resubmit || !lost || job.submissions >= limit {
                self.finish(id, Outcome::Error(error.clone()));
                continue;
            }
            let next = server + 1;
            if let Err(e) = Box::pin(self.send_submission(id, next)).await {
                // Report what broke the job, not the failed attempt to rescue it.
                tracing::debug!(job = id, error = %e, "could not resubmit");
                self.finish(id, Outcome::Error(error.clone()));
            } else {
                tracing::debug!(job = id, "resubmitted after server failure");
            }
        }
    }
}

fn detach(handles: &mut HashMap<Bytes, Vec<JobId>>, handle: &Bytes, id: JobId) {
    if let Some(ids) = handles.get_mut(handle) {
        ids.retain(|&j| j != id);
        if ids.is_empty() {
            handles.remove(handle);
        }
    }
}

fn queue_submit(conn: &mut Connection, request: &JobRequest) {
    conn.queue_request(&request.to_request());
}
