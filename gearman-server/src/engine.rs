//! The job engine: every queue, job, registration and sleeping-worker flag, under one owner.
//!
//! The server keeps one `Engine` behind one lock, and every packet is handled start to finish
//! while holding it. So "enqueue, then wake the sleepers" and "PRE_SLEEP re-checks the queues" are
//! each one critical section, and a wake-up can never be lost between them.

use std::collections::{BTreeSet, VecDeque};
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use gearman_core::admin::{url_encode, AdminCommand};
use gearman_core::job::{Priority, UniqueGenerator};
use gearman_core::message::{Request, Response};
use gearman_core::protocol::MAX_UNIQUE_LEN;

use self::metrics::Metrics;
use hashbrown::{HashMap, HashTable};
use tokio::sync::Notify;

use crate::output::Sink;
use crate::store::{Ack, StoreOp, StoredJob};
use function_names::FunctionNames;

/// Identifies a connection for its whole life; never reused.
pub type ConnId = u64;

/// Gearman's three priorities, as queue indexes.
const HIGH: usize = 0;
const NORMAL: usize = 1;
const LOW: usize = 2;

/// Settings the engine needs.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Handles are `<prefix>:<n>`.
    pub handle_prefix: String,
    /// Drop a job once it has been lost (worker gone, timeout) this many times; 0 = never.
    pub job_retries: u32,
    /// NOOPs sent per queued job; 0 = every sleeping worker.
    pub worker_wakeup: usize,
    /// Exceptions forwarded by default to every connection.
    pub exceptions: bool,
    /// Reported by the `version` admin command.
    pub version: String,
    /// The `verbose` admin command's answer.
    pub verbose: String,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            handle_prefix: format!("H:{}", crate::hostname()),
            job_retries: 0,
            worker_wakeup: 0,
            exceptions: false,
            version: crate::VERSION_STRING.to_string(),
            verbose: "ERROR".to_string(),
        }
    }
}

const FLAG_BACKGROUND: u8 = 1;
const FLAG_IGNORED: u8 = 2;
const FLAG_QUEUED: u8 = 4;
const FLAG_PERSISTED: u8 = 8;
const FLAG_DELAYED: u8 = 16;

/// One job. Kept small: a million queued background jobs cost their bytes plus about 150.
struct Job {
    no: u64,
    /// unique ++ reducer ++ workload, in one allocation.
    blob: Box<[u8]>,
    /// Run-at time in epoch seconds; 0 = now.
    when: u64,
    /// Only for jobs with clients attached or a worker running them.
    extra: Option<Box<JobExtra>>,
    func: u32,
    reducer_len: u16,
    unique_len: u8,
    priority: u8,
    flags: u8,
    retries: u8,
    /// When it was queued last ([`Metrics::now_ms`]); in padding the struct already had.
    queued_ms: u32,
}

#[derive(Default)]
struct JobExtra {
    /// Attached foreground clients, once per submit.
    clients: Vec<ConnId>,
    /// The worker running the job, or 0.
    worker: ConnId,
    numerator: u64,
    denominator: u64,
    /// CAN_DO_TIMEOUT deadline of the current run.
    deadline: Option<Instant>,
    /// When the current run was assigned.
    assigned: Option<Instant>,
}

impl Job {
    fn unique(&self) -> &[u8] {
        &self.blob[..self.unique_len as usize]
    }

    fn reducer(&self) -> &[u8] {
        let start = self.unique_len as usize;
        &self.blob[start..start + self.reducer_len as usize]
    }

    fn data(&self) -> &[u8] {
        &self.blob[self.unique_len as usize + self.reducer_len as usize..]
    }

    fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    fn extra(&mut self) -> &mut JobExtra {
        self.extra.get_or_insert_with(Box::default)
    }

    fn worker(&self) -> ConnId {
        self.extra.as_ref().map_or(0, |e| e.worker)
    }

    fn clients(&self) -> &[ConnId] {
        self.extra.as_ref().map_or(&[], |e| &e.clients)
    }

    /// What coalescing compares: the unique, or the workload for unique `-`; `None` for none.
    fn coalesce_key(&self) -> Option<(bool, &[u8])> {
        coalesce_key(self.unique(), self.data())
    }
}

fn coalesce_key<'a>(unique: &'a [u8], data: &'a [u8]) -> Option<(bool, &'a [u8])> {
    match unique {
        b"" => None,
        b"-" => Some((true, data)),
        u => Some((false, u)),
    }
}

struct Function {
    name: Bytes,
    /// Creation order, which `status` lists by (ids are reused).
    seq: u64,
    /// Job numbers by priority; boxed and made on first use, so that a function only
    /// registered by workers (200k of them, in a hostile burst) costs 88 bytes less.
    queues: Option<Box<[VecDeque<u64>; 3]>>,
    queued: [u64; 3],
    delayed: u64,
    running: u64,
    /// Connections that registered the function, in registration order.
    workers: Vec<ConnId>,
    max_queue: [u64; 3],
    wake_cursor: usize,
}

impl Function {
    fn new(name: Bytes, seq: u64) -> Function {
        Function {
            name,
            seq,
            queues: Default::default(),
            queued: [0; 3],
            delayed: 0,
            running: 0,
            workers: Vec::new(),
            max_queue: [0; 3],
            wake_cursor: 0,
        }
    }

    /// Whether nothing needs this entry: no job (queued, delayed or running, hence no waiting
    /// client), no registered worker, no maxqueue setting.
    fn is_unused(&self) -> bool {
        self.total() == 0 && self.workers.is_empty() && self.max_queue == [0; 3]
    }

    fn total(&self) -> u64 {
        self.queued.iter().sum::<u64>() + self.delayed + self.running
    }
}

struct Conn {
    fd: i32,
    ip: String,
    loopback: bool,
    out: Arc<dyn Sink>,
    client_id: Bytes,
    /// Registered functions, newest first; a grab moves the function it served to the back.
    abilities: VecDeque<u32>,
    /// Each registered function's CAN_DO_TIMEOUT in ms (0 = none); the O(1) duplicate check.
    /// Entries are 8 bytes, so that growing it to 200k functions stalls for well under 1 ms.
    timeouts: HashMap<u32, u32>,
    sleeping: bool,
    noop_sent: bool,
    exceptions: bool,
    /// Jobs this connection runs as a worker.
    held: Vec<u64>,
    /// Foreground jobs this connection waits on as a client.
    waiting: Vec<u64>,
}

/// What the connection task must do after a packet.
#[derive(Debug)]
pub enum Next {
    Continue,
    /// A background job is being made durable; its JOB_CREATED (or ERROR) is sent by the store.
    /// Handle nothing else from this connection until `done` says whether it was stored.
    Stored {
        no: u64,
        done: tokio::sync::oneshot::Receiver<bool>,
    },
    /// Send what is queued, then close.
    Close,
    /// Stop the server (admin `shutdown`).
    Shutdown {
        graceful: bool,
    },
}

/// One function in a [`Snapshot`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionStats {
    pub name: String,
    /// Queued jobs by priority: high, normal, low.
    pub queued: [u64; 3],
    /// Epoch jobs not yet due.
    pub delayed: u64,
    pub running: u64,
    pub workers: u64,
    /// What `status` shows as the total: queued, delayed and running.
    pub total: u64,
}

/// One connection with registered functions, in a [`Snapshot`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerStats {
    pub fd: i32,
    pub ip: String,
    pub client_id: String,
    pub functions: Vec<String>,
    pub running: usize,
}

/// The engine's state for monitoring ([`Engine::snapshot`]).
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// In `status` order.
    pub functions: Vec<FunctionStats>,
    pub workers: Vec<WorkerStats>,
    pub connections: usize,
    pub jobs: usize,
    pub totals: metrics::Totals,
    pub wait: metrics::Histogram,
    pub run: metrics::Histogram,
    /// Group commit times of the durable queue, if there is one.
    pub commits: Option<metrics::Histogram>,
}

/// The engine. See the module docs.
pub struct Engine {
    config: EngineConfig,
    conns: HashMap<ConnId, Conn>,
    functions: Vec<Function>,
    function_ids: FunctionNames,
    /// Slots of `functions` whose function was forgotten, for reuse.
    free_functions: BTreeSet<u32>,
    next_function_seq: u64,
    jobs: HashMap<u64, Job>,
    uniques: HashTable<u64>,
    hasher: hashbrown::DefaultHashBuilder,
    next_job: u64,
    /// Epoch jobs not yet due: (when, job).
    delayed: BTreeSet<(u64, u64)>,
    /// CAN_DO_TIMEOUT deadlines: (deadline, job).
    deadlines: BTreeSet<(Instant, u64)>,
    timer: Arc<Notify>,
    store: Option<std::sync::mpsc::Sender<StoreOp>>,
    /// Uniques for durable background jobs submitted without one (UUIDs, as clients make).
    uniques_made: UniqueGenerator,
    pid: u32,
    metrics: Metrics,
    commit_times: Option<crate::store::CommitTimes>,
}

impl Engine {
    pub fn new(config: EngineConfig) -> Engine {
        Engine {
            config,
            conns: HashMap::new(),
            functions: Vec::new(),
            function_ids: FunctionNames::default(),
            free_functions: BTreeSet::new(),
            next_function_seq: 0,
            jobs: HashMap::new(),
            uniques: HashTable::new(),
            hasher: Default::default(),
            next_job: 1,
            delayed: BTreeSet::new(),
            deadlines: BTreeSet::new(),
            timer: Arc::new(Notify::new()),
            store: None,
            uniques_made: UniqueGenerator::new(),
            pid: std::process::id(),
            metrics: Metrics::default(),
            commit_times: None,
        }
    }

    /// Persists background jobs through `store` from now on.
    pub fn set_store(&mut self, store: std::sync::mpsc::Sender<StoreOp>) {
        self.store = Some(store);
    }

    /// Where the store records its commit times, for [`Engine::snapshot`].
    pub fn set_commit_times(&mut self, times: crate::store::CommitTimes) {
        self.commit_times = Some(times);
    }

    /// Notified whenever a timer (epoch or CAN_DO_TIMEOUT) is armed.
    pub fn timer_notify(&self) -> Arc<Notify> {
        self.timer.clone()
    }

    /// Number of jobs known (queued, delayed or running).
    pub fn job_count(&self) -> usize {
        self.jobs.len()
    }

    pub fn connect(&mut self, id: ConnId, fd: i32, peer: std::net::SocketAddr, out: Arc<dyn Sink>) {
        let ip = peer.ip().to_canonical();
        self.conns.insert(
            id,
            Conn {
                fd,
                ip: ip.to_string(),
                loopback: ip.is_loopback(),
                out,
                client_id: Bytes::from_static(b"-"),
                abilities: VecDeque::new(),
                timeouts: HashMap::new(),
                sleeping: false,
                noop_sent: false,
                exceptions: self.config.exceptions,
                held: Vec::new(),
                waiting: Vec::new(),
            },
        );
    }

    /// A connection went away: requeue what it ran, detach it from what it waited on.
    pub fn disconnect(&mut self, id: ConnId) {
        let Some(conn) = self.conns.remove(&id) else {
            return;
        };
        let woken = conn.sleeping && conn.noop_sent;
        for &func in &conn.abilities {
            if let Some(f) = self.functions.get_mut(func as usize) {
                f.workers.retain(|&w| w != id);
            }
        }
        for no in conn.held {
            self.requeue(no, true);
        }
        for no in conn.waiting {
            self.detach_client(no, id);
        }
        if woken {
            for &func in &conn.abilities {
                self.wake_again(func);
            }
        }
        for func in conn.abilities {
            self.forget_if_unused(func);
        }
    }

    /// Unregisters up to `max` of connection `id`'s functions, as a CANT_DO each would, except
    /// that the jobs it runs stay with it (disconnecting requeues them); true once none is
    /// left. A worker that leaves with 200k functions is released in slices this way, so
    /// that its disconnect does not hold the engine for 100 ms.
    pub fn release_abilities(&mut self, id: ConnId, max: usize) -> bool {
        let Some(conn) = self.conns.get_mut(&id) else {
            return true;
        };
        let woken = conn.sleeping && conn.noop_sent;
        // Newest first: new functions take the highest slots, so the table shrinks as we go.
        let n = conn.abilities.len().min(max);
        let released: Vec<u32> = conn.abilities.drain(..n).collect();
        for func in &released {
            conn.timeouts.remove(func);
        }
        let done = conn.abilities.is_empty();
        for func in released {
            if let Some(f) = self.functions.get_mut(func as usize) {
                f.workers.retain(|&w| w != id);
            }
            if woken {
                self.wake_again(func);
            }
            self.forget_if_unused(func);
        }
        done
    }

    /// Wakes workers of `func` again if it has queued jobs: called when a worker that was sent
    /// a NOOP leaves `func` without grabbing (it disconnects, or unregisters it), since with
    /// `-w N` it may have been the only one woken for those jobs. (Found by the engine fuzzer;
    /// gearmand leaves the jobs waiting.)
    fn wake_again(&mut self, func: u32) {
        let queued = self
            .functions
            .get(func as usize)
            .is_some_and(|f| f.queued.iter().any(|&n| n > 0));
        if queued {
            self.wake(func as usize);
        }
    }

    fn out(&self, id: ConnId) -> Option<&Arc<dyn Sink>> {
        self.conns.get(&id).map(|c| &c.out)
    }

    fn reply(&self, id: ConnId, response: &Response<&[u8]>) {
        if let Some(out) = self.out(id) {
            out.send(response);
        }
    }

    fn error(&self, id: ConnId, code: &str, text: &str) {
        let (code, text) = (code.as_bytes(), text.as_bytes());
        self.reply(id, &Response::Error { code, text });
    }

    /// Tells every client of job `no` that it failed.
    fn fail_clients(&self, no: u64) {
        let handle = self.handle_of(no);
        let handle = handle.as_bytes();
        for &client in self.jobs.get(&no).map_or(&[][..], |j| j.clients()) {
            self.reply(client, &Response::WorkFail { handle });
        }
    }

    fn handle_of(&self, no: u64) -> String {
        format!("{}:{}", self.config.handle_prefix, no)
    }

    fn job_no(&self, handle: &[u8]) -> Option<u64> {
        let handle = handle.strip_suffix(b"\0").unwrap_or(handle);
        let rest = handle
            .strip_prefix(self.config.handle_prefix.as_bytes())?
            .strip_prefix(b":")?;
        std::str::from_utf8(rest).ok()?.parse().ok()
    }

    fn function_id(&mut self, name: &[u8]) -> u32 {
        if let Some(id) = self.function_ids.get(&self.functions, name) {
            return id;
        }
        let function = Function::new(Bytes::copy_from_slice(name), self.next_function_seq);
        self.next_function_seq += 1;
        let id = match self.free_functions.pop_first() {
            Some(id) => {
                self.functions[id as usize] = function;
                id
            }
            None => {
                self.functions.push(function);
                (self.functions.len() - 1) as u32
            }
        };
        self.function_ids.insert(name, id);
        id
    }

    /// Forgets function `func` if nothing needs it any more (see [`Function::is_unused`]), so
    /// that a stream of distinct throwaway names does not grow the table forever. Called
    /// wherever a function can lose its last job, worker or setting.
    fn forget_if_unused(&mut self, func: u32) {
        if self
            .functions
            .get(func as usize)
            .is_some_and(Function::is_unused)
        {
            self.forget_function(func);
        }
    }

    /// Removes function `func` from the table and frees its slot; a no-op if already gone.
    fn forget_function(&mut self, func: u32) {
        let Some(f) = self.functions.get_mut(func as usize) else {
            return;
        };
        if !self.function_ids.remove(&f.name, func) {
            return;
        }
        f.name = Bytes::new();
        // Only stale entries can be left in the queues; release their memory now.
        f.queues = None;
        f.workers = Vec::new();
        self.free_functions.insert(func);
        self.trim_function_table();
    }

    /// Drops the free slots at the end of the function table (new functions take the lowest
    /// free slot, so the table stays dense), and gives the memory back once the table holds a
    /// quarter of what it once did: a burst of throwaway names does not keep its memory.
    fn trim_function_table(&mut self) {
        while let Some(&last) = self.free_functions.last() {
            if last as usize + 1 != self.functions.len() {
                break;
            }
            self.free_functions.pop_last();
            self.functions.pop();
        }
        // By length, not by live count: free slots below the end cannot be given back, and
        // shrinking to a length that stays put would trim the heap at every forget.
        let len = self.functions.len().max(256);
        if self.functions.capacity() > 4 * len {
            self.functions.shrink_to_fit();
            self.function_ids.shrink_if_sparse();
            crate::memory::give_back();
        }
    }

    fn unique_hash(&self, func: u32, key: (bool, &[u8])) -> u64 {
        hash_key(&self.hasher, func, key)
    }

    fn find_coalesced(&self, func: u32, key: (bool, &[u8])) -> Option<u64> {
        let hash = self.unique_hash(func, key);
        let jobs = &self.jobs;
        self.uniques
            .find(hash, |no| {
                jobs.get(no)
                    .is_some_and(|j| j.func == func && j.coalesce_key() == Some(key))
            })
            .copied()
    }

    fn index_unique(&mut self, no: u64) {
        let Some(job) = self.jobs.get(&no) else {
            return;
        };
        let Some(key) = job.coalesce_key() else {
            return;
        };
        let hash = self.unique_hash(job.func, key);
        let hasher = &self.hasher;
        let jobs = &self.jobs;
        self.uniques.insert_unique(hash, no, |other| {
            // Every indexed job exists: free_job unindexes before it removes.
            jobs.get(other)
                .and_then(|j| j.coalesce_key().map(|k| hash_key(hasher, j.func, k)))
                .unwrap_or(0)
        });
    }

    fn unindex_unique(&mut self, no: u64) {
        let Some(job) = self.jobs.get(&no) else {
            return;
        };
        let Some(key) = job.coalesce_key() else {
            return;
        };
        let hash = self.unique_hash(job.func, key);
        if let Ok(entry) = self.uniques.find_entry(hash, |&n| n == no) {
            entry.remove();
        }
    }

    /// Handles one request from connection `id`.
    pub fn request(&mut self, id: ConnId, request: Request) -> Next {
        match request {
            Request::SubmitJob {
                function,
                unique,
                data,
                priority,
                background,
            } => {
                let priority = match priority {
                    Priority::High => HIGH,
                    Priority::Normal => NORMAL,
                    Priority::Low => LOW,
                };
                let submit = Submit {
                    function,
                    unique,
                    reducer: Bytes::new(),
                    data,
                    priority,
                    background,
                    when: 0,
                };
                return self.submit(id, submit);
            }
            Request::SubmitJobEpoch {
                function,
                unique,
                epoch,
                data,
            } => {
                let submit = Submit {
                    function,
                    unique,
                    reducer: Bytes::new(),
                    data,
                    priority: NORMAL,
                    background: true,
                    when: epoch,
                };
                return self.submit(id, submit);
            }
            Request::SubmitReduceJob {
                function,
                unique,
                reducer,
                data,
                background,
            } => {
                let submit = Submit {
                    function,
                    unique,
                    reducer,
                    data,
                    priority: NORMAL,
                    background,
                    when: 0,
                };
                return self.submit(id, submit);
            }
            Request::GrabJob => self.grab(id, Grab::Plain),
            Request::GrabJobUniq => self.grab(id, Grab::Unique),
            Request::GrabJobAll => self.grab(id, Grab::All),
            Request::PreSleep => self.pre_sleep(id),
            Request::CanDo { function } => self.can_do(id, &function, 0),
            Request::CanDoTimeout { function, timeout } => {
                self.can_do(id, &function, timeout.try_into().unwrap_or(u32::MAX))
            }
            Request::CantDo { function } => self.cant_do(id, &function),
            Request::ResetAbilities => self.reset_abilities(id),
            Request::WorkStatus {
                handle,
                numerator,
                denominator,
            } => self.work(id, &handle, Work::Status(&numerator, &denominator)),
            Request::WorkData { handle, data } => self.work(id, &handle, Work::Data(&data)),
            Request::WorkWarning { handle, data } => self.work(id, &handle, Work::Warning(&data)),
            Request::WorkComplete { handle, data } => self.work(id, &handle, Work::Complete(&data)),
            Request::WorkFail { handle } => self.work(id, &handle, Work::Fail),
            Request::WorkException { handle, data } => {
                self.work(id, &handle, Work::Exception(&data))
            }
            Request::GetStatus { handle } => self.get_status(id, &handle),
            Request::GetStatusUnique { unique } => self.get_status_unique(id, &unique),
            Request::EchoReq { data } => self.reply(id, &Response::EchoRes { data: &data }),
            Request::OptionReq { name } => self.option(id, &name),
            Request::SetClientId { id: mut client_id } => {
                client_id.truncate(127);
                if let Some(conn) = self.conns.get_mut(&id) {
                    conn.client_id = client_id;
                }
            }
        }
        Next::Continue
    }

    /// Answers a packet type no server handles (a response type, SUBMIT_JOB_SCHED, ALL_YOURS).
    pub fn unexpected(&mut self, id: ConnId) {
        self.error(id, "INVALID_COMMAND", "Command not expected");
    }

    fn submit(&mut self, id: ConnId, submit: Submit) -> Next {
        let Submit {
            function,
            unique,
            reducer,
            data,
            priority,
            background,
            when,
        } = submit;
        if unique.len() > MAX_UNIQUE_LEN {
            self.error(id, "ARGUMENT_TOO_LARGE", "Unique value too large");
            return Next::Continue;
        }
        if reducer.len() > u16::MAX as usize || function.is_empty() {
            self.error(id, "INVALID_ARGUMENT", "Invalid function or reducer name");
            return Next::Continue;
        }
        let func = self.function_id(&function);
        if let Some(key) = coalesce_key(&unique, &data) {
            if let Some(no) = self.find_coalesced(func, key) {
                if !background {
                    self.attach_client(no, id);
                }
                let handle = self.handle_of(no);
                self.reply(
                    id,
                    &Response::JobCreated {
                        handle: handle.as_bytes(),
                    },
                );
                return Next::Continue;
            }
        }
        let f = &self.functions[func as usize];
        let limit = f.max_queue[priority];
        if limit > 0 && f.total() >= limit {
            self.error(id, "QUEUE_ERROR", "Job queue is full");
            return Next::Continue;
        }
        let no = self.next_job;
        self.next_job += 1;
        // A durable row is keyed by (unique, function), as gearmand keys it: a background job
        // without a unique (or with `-`) gets one, as libgearman's clients make one, so that
        // such jobs do not overwrite each other (gearmand's table keeps only the last).
        let unique = if background && self.store.is_some() && matches!(&unique[..], b"" | b"-") {
            self.uniques_made.next_unique()
        } else {
            unique
        };
        let created = self.create_job(
            func, no, &unique, &reducer, &data, priority, background, when,
        );
        if let Err(e) = created {
            tracing::warn!(conn = id, bytes = data.len(), error = %e, "no memory for a job; closing");
            self.forget_if_unused(func);
            return Next::Close;
        }
        self.metrics.totals.submitted += 1;
        // The stored row shares the request's buffers: no copy.
        let stored = (background && self.store.is_some()).then(|| StoredJob {
            no,
            function,
            unique,
            reducer,
            data,
            priority: priority as u8,
            when,
        });
        if !background {
            self.attach_client(no, id);
        }
        if let (Some(store), Some(stored)) = (&self.store, stored) {
            if let Some(job) = self.jobs.get_mut(&no) {
                job.flags |= FLAG_PERSISTED;
            }
            let handle = Bytes::from(self.handle_of(no));
            let (done, done_rx) = tokio::sync::oneshot::channel();
            let ack = self.out(id).cloned().map(|out| Ack { out, handle, done });
            let _ = store.send(StoreOp::Insert { job: stored, ack });
            return Next::Stored { no, done: done_rx };
        }
        let handle = self.handle_of(no);
        self.reply(
            id,
            &Response::JobCreated {
                handle: handle.as_bytes(),
            },
        );
        Next::Continue
    }

    /// The store could not write job `no`: the submitter was told; the job must not run.
    pub fn store_failed(&mut self, no: u64) {
        if let Some(job) = self.jobs.get_mut(&no) {
            job.flags &= !FLAG_PERSISTED;
        }
        self.fail_clients(no);
        self.free_job(no);
    }

    /// Creates a job and makes it runnable (or delayed), waking workers.
    #[allow(clippy::too_many_arguments)]
    fn create_job(
        &mut self,
        func: u32,
        no: u64,
        unique: &[u8],
        reducer: &[u8],
        data: &[u8],
        priority: usize,
        background: bool,
        when: u64,
    ) -> Result<(), std::collections::TryReserveError> {
        // The workload's size is the peer's choice: running out of memory for it costs that
        // peer its connection, not the server its life.
        let mut blob = Vec::new();
        blob.try_reserve_exact(unique.len() + reducer.len() + data.len())?;
        blob.extend_from_slice(unique);
        blob.extend_from_slice(reducer);
        blob.extend_from_slice(data);
        let job = Job {
            no,
            blob: blob.into_boxed_slice(),
            when,
            extra: None,
            func,
            reducer_len: reducer.len() as u16,
            unique_len: unique.len() as u8,
            priority: priority as u8,
            flags: if background { FLAG_BACKGROUND } else { 0 },
            retries: 0,
            queued_ms: 0,
        };
        self.jobs.insert(no, job);
        self.index_unique(no);
        if when > 0 && when > now_epoch() {
            self.delay(no);
        } else {
            self.enqueue(no);
        }
        Ok(())
    }

    /// Re-creates a stored background job at start-up.
    pub fn restore(&mut self, job: StoredJob) {
        let func = self.function_id(&job.function);
        self.next_job = self.next_job.max(job.no + 1);
        if let Some(key) = coalesce_key(&job.unique, &job.data) {
            if self.find_coalesced(func, key).is_some() {
                // gearmand's `-` rows coalesce by workload: the job already exists.
                return;
            }
        }
        let priority = (job.priority as usize).min(LOW);
        let created = self.create_job(
            func,
            job.no,
            &job.unique,
            &job.reducer,
            &job.data,
            priority,
            true,
            job.when,
        );
        if let Err(e) = created {
            tracing::error!(job = job.no, bytes = job.data.len(), error = %e, "no memory to restore a job");
            return;
        }
        if let Some(j) = self.jobs.get_mut(&job.no) {
            j.flags |= FLAG_PERSISTED;
        }
    }

    fn delay(&mut self, no: u64) {
        let Some(job) = self.jobs.get_mut(&no) else {
            return;
        };
        job.flags |= FLAG_DELAYED;
        self.functions[job.func as usize].delayed += 1;
        self.delayed.insert((job.when, no));
        self.timer.notify_one();
    }

    /// Appends a job to its queue and wakes sleeping workers of its function.
    fn enqueue(&mut self, no: u64) {
        let now = self.metrics.now_ms();
        let Some(job) = self.jobs.get_mut(&no) else {
            return;
        };
        job.flags |= FLAG_QUEUED;
        job.queued_ms = now;
        let (func, prio) = (job.func as usize, job.priority as usize);
        let f = &mut self.functions[func];
        f.queues.get_or_insert_default()[prio].push_back(no);
        f.queued[prio] += 1;
        self.wake(func);
    }

    fn wake(&mut self, func: usize) {
        let f = &mut self.functions[func];
        let n = f.workers.len();
        if n == 0 {
            return;
        }
        let limit = if self.config.worker_wakeup == 0 {
            n
        } else {
            self.config.worker_wakeup
        };
        let start = f.wake_cursor % n;
        let mut woken = 0;
        for k in 0..n {
            let conn_id = f.workers[(start + k) % n];
            if let Some(conn) = self.conns.get_mut(&conn_id) {
                if conn.sleeping && !conn.noop_sent {
                    conn.noop_sent = true;
                    conn.out.send(&Response::<&[u8]>::Noop);
                    woken += 1;
                    if woken >= limit {
                        break;
                    }
                }
            }
        }
        f.wake_cursor = (start + 1) % n;
    }

    fn attach_client(&mut self, no: u64, id: ConnId) {
        if let Some(job) = self.jobs.get_mut(&no) {
            job.extra().clients.push(id);
            if let Some(conn) = self.conns.get_mut(&id) {
                conn.waiting.push(no);
            }
        }
    }

    /// A client stopped waiting on a job; a foreground job nobody waits for is dropped.
    fn detach_client(&mut self, no: u64, id: ConnId) {
        let Some(job) = self.jobs.get_mut(&no) else {
            return;
        };
        if let Some(extra) = job.extra.as_mut() {
            extra.clients.retain(|&c| c != id);
        }
        if job.has(FLAG_BACKGROUND) || !job.clients().is_empty() {
            return;
        }
        if job.worker() != 0 {
            // Running: the worker finishes and the result is dropped.
            job.flags |= FLAG_IGNORED;
        } else {
            self.free_job(no);
        }
    }

    /// Removes a job everywhere. Clients are not told; callers do that first.
    fn free_job(&mut self, no: u64) {
        self.unindex_unique(no);
        let Some(job) = self.jobs.remove(&no) else {
            return;
        };
        let f = &mut self.functions[job.func as usize];
        if job.has(FLAG_QUEUED) {
            decrement(&mut f.queued[job.priority as usize], "queued");
        }
        if job.has(FLAG_DELAYED) {
            decrement(&mut f.delayed, "delayed");
            self.delayed.remove(&(job.when, no));
        }
        if let Some(extra) = &job.extra {
            if extra.worker != 0 {
                decrement(&mut f.running, "running");
                if let Some(worker) = self.conns.get_mut(&extra.worker) {
                    worker.held.retain(|&h| h != no);
                }
            }
            if let Some(deadline) = extra.deadline {
                self.deadlines.remove(&(deadline, no));
            }
            for client in &extra.clients {
                if let Some(conn) = self.conns.get_mut(client) {
                    if let Some(pos) = conn.waiting.iter().position(|&w| w == no) {
                        conn.waiting.swap_remove(pos);
                    }
                }
            }
        }
        if job.has(FLAG_PERSISTED) {
            if let Some(store) = &self.store {
                let _ = store.send(StoreOp::Delete {
                    function: self.functions[job.func as usize].name.clone(),
                    unique: Bytes::copy_from_slice(job.unique()),
                });
            }
        }
        self.forget_if_unused(job.func);
    }

    /// A worker lost a job (disconnect, CANT_DO, timeout): queue it again, or drop it once it has
    /// been lost `job_retries` times.
    fn requeue(&mut self, no: u64, count_retry: bool) {
        let Some(job) = self.jobs.get_mut(&no) else {
            return;
        };
        let worker = job.worker();
        if worker == 0 {
            return;
        }
        if let Some(extra) = job.extra.as_mut() {
            extra.worker = 0;
            extra.numerator = 0;
            extra.denominator = 0;
            if let Some(deadline) = extra.deadline.take() {
                self.deadlines.remove(&(deadline, no));
            }
        }
        if count_retry {
            job.retries = job.retries.saturating_add(1);
            self.metrics.totals.retried += 1;
        }
        let (func, retries, ignored) = (job.func as usize, job.retries, job.has(FLAG_IGNORED));
        decrement(&mut self.functions[func].running, "running");
        if let Some(conn) = self.conns.get_mut(&worker) {
            conn.held.retain(|&h| h != no);
        }
        let limit = self.config.job_retries;
        if ignored || (limit > 0 && u32::from(retries) >= limit) {
            self.fail_clients(no);
            self.free_job(no);
            return;
        }
        self.enqueue(no);
    }

    fn has_runnable(&self, id: ConnId) -> bool {
        let Some(conn) = self.conns.get(&id) else {
            return false;
        };
        conn.abilities
            .iter()
            .any(|&func| self.functions[func as usize].queued.iter().any(|&n| n > 0))
    }

    fn pre_sleep(&mut self, id: ConnId) {
        let runnable = self.has_runnable(id);
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        conn.sleeping = true;
        if runnable {
            // A job arrived while the worker decided to sleep: wake it at once.
            conn.noop_sent = true;
            conn.out.send(&Response::<&[u8]>::Noop);
        } else {
            conn.noop_sent = false;
        }
    }

    /// Takes the next runnable job of function `func` at priority `prio`.
    fn pop_runnable(&mut self, func: usize, prio: usize) -> Option<u64> {
        loop {
            let no = self.functions[func].queues.as_mut()?[prio].pop_front()?;
            if let Some(job) = self.jobs.get_mut(&no) {
                if job.has(FLAG_QUEUED) {
                    job.flags &= !FLAG_QUEUED;
                    decrement(&mut self.functions[func].queued[prio], "queued");
                    return Some(no);
                }
            }
        }
    }

    fn grab(&mut self, id: ConnId, kind: Grab) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        conn.sleeping = false;
        conn.noop_sent = false;
        let abilities: Vec<(u32, Option<Duration>)> = conn
            .abilities
            .iter()
            .map(|&f| {
                let ms = conn.timeouts[&f];
                (f, (ms > 0).then(|| Duration::from_millis(ms.into())))
            })
            .collect();
        // Strict priority across all the worker's functions, then round-robin among them.
        let mut found = None;
        'scan: for prio in [HIGH, NORMAL, LOW] {
            for (index, &(func, timeout)) in abilities.iter().enumerate() {
                if self.functions[func as usize].queued[prio] == 0 {
                    continue;
                }
                if let Some(no) = self.pop_runnable(func as usize, prio) {
                    found = Some((index, no, timeout));
                    break 'scan;
                }
            }
        }
        let Some((index, no, timeout)) = found else {
            return self.reply(id, &Response::NoJob);
        };
        if let Some(conn) = self.conns.get_mut(&id) {
            if let Some(func) = conn.abilities.remove(index) {
                conn.abilities.push_back(func);
            }
            conn.held.push(no);
        }
        let handle = self.handle_of(no);
        let job = self.jobs.get_mut(&no).expect("popped job exists");
        let now = Instant::now();
        let deadline = timeout.map(|t| now + t);
        self.metrics
            .wait
            .observe(self.metrics.seconds_since(job.queued_ms));
        let extra = job.extra();
        extra.worker = id;
        extra.deadline = deadline;
        extra.assigned = Some(now);
        let func = job.func as usize;
        self.functions[func].running += 1;
        if let Some(deadline) = deadline {
            self.deadlines.insert((deadline, no));
            self.timer.notify_one();
        }
        let job = &self.jobs[&no];
        let name = &self.functions[func].name;
        let out = &self.conns[&id].out;
        let (handle, function) = (handle.as_bytes(), &name[..]);
        let (unique, data) = (job.unique(), job.data());
        let response = match kind {
            Grab::Plain => Response::JobAssign {
                handle,
                function,
                data,
            },
            Grab::All if job.reducer_len > 0 => Response::JobAssignAll {
                handle,
                function,
                unique,
                reducer: job.reducer(),
                data,
            },
            Grab::All | Grab::Unique => Response::JobAssignUniq {
                handle,
                function,
                unique,
                data,
            },
        };
        out.send(&response);
    }

    fn can_do(&mut self, id: ConnId, name: &[u8], timeout_ms: u32) {
        if name.is_empty() {
            return self.error(id, "INVALID_ARGUMENT", "Empty function name");
        }
        let func = self.function_id(name);
        let Some(conn) = self.conns.get_mut(&id) else {
            return self.forget_if_unused(func);
        };
        // Registrations are de-duplicated per connection (gearmand counts each CAN_DO).
        if let Some(existing) = conn.timeouts.get_mut(&func) {
            *existing = timeout_ms;
            return;
        }
        conn.timeouts.insert(func, timeout_ms);
        conn.abilities.push_front(func);
        let f = &mut self.functions[func as usize];
        f.workers.push(id);
        // A worker asleep (PRE_SLEEP) that registers a function with queued jobs would
        // otherwise wait for a NOOP no new job triggers (gearmand leaves it asleep).
        if conn.sleeping && !conn.noop_sent && f.queued.iter().any(|&n| n > 0) {
            conn.noop_sent = true;
            conn.out.send(&Response::<&[u8]>::Noop);
        }
    }

    fn cant_do(&mut self, id: ConnId, name: &[u8]) {
        let Some(func) = self.function_ids.get(&self.functions, name) else {
            return;
        };
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        if conn.timeouts.remove(&func).is_none() {
            // Not registered here: nothing to undo (and an idle function stays listed).
            return;
        }
        conn.abilities.retain(|&a| a != func);
        let woken = conn.sleeping && conn.noop_sent;
        self.functions[func as usize].workers.retain(|&w| w != id);
        let held: Vec<u64> = conn.held.clone();
        for no in held {
            if self.jobs.get(&no).is_some_and(|j| j.func == func) {
                self.requeue(no, true);
            }
        }
        if woken {
            self.wake_again(func);
        }
        self.forget_if_unused(func);
    }

    fn reset_abilities(&mut self, id: ConnId) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        let abilities = std::mem::take(&mut conn.abilities);
        conn.timeouts.clear();
        let woken = conn.sleeping && conn.noop_sent;
        let held = conn.held.clone();
        for &func in &abilities {
            self.functions[func as usize].workers.retain(|&w| w != id);
        }
        for no in held {
            self.requeue(no, true);
        }
        if woken {
            for &func in &abilities {
                self.wake_again(func);
            }
        }
        for func in abilities {
            self.forget_if_unused(func);
        }
    }

    fn work(&mut self, id: ConnId, handle: &[u8], work: Work<'_>) {
        let held = self
            .job_no(handle)
            .filter(|no| self.jobs.get(no).is_some_and(|j| j.worker() == id));
        let Some(no) = held else {
            return self.error(id, "JOB_NOT_FOUND", "Job given in work result not found");
        };
        let job = self.jobs.get_mut(&no).expect("held job");
        let totals = &mut self.metrics.totals;
        let ended = match work {
            Work::Complete(_) => Some(&mut totals.completed),
            Work::Fail => Some(&mut totals.failed),
            Work::Exception(_) => Some(&mut totals.exceptions),
            _ => None,
        };
        if let Some(count) = ended {
            *count += 1;
            if let Some(assigned) = job.extra.as_ref().and_then(|e| e.assigned) {
                self.metrics.run.observe(assigned.elapsed().as_secs_f64());
            }
        }
        let relay = match work {
            Work::Status(numerator, denominator) => {
                let extra = job.extra();
                extra.numerator = gearman_core::job::parse_number(numerator);
                extra.denominator = gearman_core::job::parse_number(denominator);
                Response::WorkStatus {
                    handle,
                    numerator,
                    denominator,
                }
            }
            Work::Data(data) => Response::WorkData { handle, data },
            Work::Warning(data) => Response::WorkWarning { handle, data },
            Work::Complete(data) => Response::WorkComplete { handle, data },
            Work::Fail => Response::WorkFail { handle },
            Work::Exception(data) => {
                // Only clients that asked for exceptions get them; the others see a failure,
                // even when the job's result is otherwise ignored.
                for client in job.clients() {
                    match self.conns.get(client) {
                        Some(c) if c.exceptions => {
                            c.out.send(&Response::WorkException { handle, data })
                        }
                        Some(c) => c.out.send(&Response::WorkFail { handle }),
                        None => {}
                    }
                }
                self.free_job(no);
                return;
            }
        };
        if !job.has(FLAG_IGNORED) {
            for client in job.clients() {
                if let Some(c) = self.conns.get(client) {
                    c.out.send(&relay);
                }
            }
        }
        if matches!(work, Work::Complete(_) | Work::Fail) {
            self.free_job(no);
        }
    }

    fn get_status(&mut self, id: ConnId, handle: &[u8]) {
        let job = self.job_no(handle).and_then(|no| self.jobs.get(&no));
        let (known, running, numerator, denominator) = status_fields(job);
        self.reply(
            id,
            &Response::StatusRes {
                handle,
                known,
                running,
                numerator,
                denominator,
            },
        );
    }

    fn get_status_unique(&mut self, id: ConnId, unique: &[u8]) {
        // No job has a longer unique; echoing one back would let a peer make the server copy
        // any amount it sends.
        if unique.len() > MAX_UNIQUE_LEN {
            self.error(id, "ARGUMENT_TOO_LARGE", "Unique value too large");
            return;
        }
        let job = match coalesce_key(unique, b"") {
            Some(key) if !key.0 => (0..self.functions.len() as u32)
                .find_map(|f| self.find_coalesced(f, key))
                .and_then(|no| self.jobs.get(&no)),
            _ => None,
        };
        let clients = job.map_or(0, |j| j.clients().len()) as u64;
        let (known, running, numerator, denominator) = status_fields(job);
        self.reply(
            id,
            &Response::StatusResUnique {
                unique,
                known,
                running,
                numerator,
                denominator,
                clients,
            },
        );
    }

    fn option(&mut self, id: ConnId, name: &[u8]) {
        if name.eq_ignore_ascii_case(b"exceptions") {
            if let Some(conn) = self.conns.get_mut(&id) {
                conn.exceptions = true;
            }
            self.reply(id, &Response::OptionRes { name });
        } else {
            self.error(
                id,
                "UNKNOWN_OPTION",
                "Server does not recognize given option",
            );
        }
    }

    /// The next time a timer must fire, if any.
    pub fn next_timer(&self) -> Option<Instant> {
        let epoch = self.delayed.first().map(|&(when, _)| {
            let now = now_epoch();
            Instant::now() + Duration::from_secs(when.saturating_sub(now))
        });
        let deadline = self.deadlines.first().map(|&(d, _)| d);
        match (epoch, deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Fires due timers: epoch jobs become runnable (waking workers), timed-out runs requeue.
    pub fn fire_timers(&mut self) {
        self.fire_timers_at(Instant::now(), now_epoch());
    }

    /// [`Engine::fire_timers`] with the clocks given: `instant` for CAN_DO_TIMEOUT deadlines,
    /// `now` (epoch seconds) for epoch jobs (tests and the fuzzer control the clocks).
    pub fn fire_timers_at(&mut self, instant: Instant, now: u64) {
        while let Some(&(when, no)) = self.delayed.first() {
            if when > now {
                break;
            }
            self.delayed.remove(&(when, no));
            if let Some(job) = self.jobs.get_mut(&no) {
                job.flags &= !FLAG_DELAYED;
                decrement(&mut self.functions[job.func as usize].delayed, "delayed");
                self.enqueue(no);
            }
        }
        while let Some(&(deadline, no)) = self.deadlines.first() {
            if deadline > instant {
                break;
            }
            self.deadlines.remove(&(deadline, no));
            if let Some(job) = self.jobs.get_mut(&no) {
                if let Some(extra) = job.extra.as_mut() {
                    if extra.deadline == Some(deadline) {
                        extra.deadline = None;
                        tracing::info!(job = no, "worker timed out (CAN_DO_TIMEOUT); requeueing");
                        self.metrics.totals.timed_out += 1;
                        self.requeue(no, true);
                    }
                }
            }
        }
    }

    /// Handles one text admin line from connection `id`.
    pub fn admin(&mut self, id: ConnId, line: &[u8]) -> Next {
        let command = AdminCommand::parse(line);
        let mut reply = String::new();
        let mut next = Next::Continue;
        match command {
            AdminCommand::Status => {
                for f in self.live_functions() {
                    let workers = f.workers.len();
                    reply.push_str(&format!(
                        "{}\t{}\t{}\t{}\n",
                        String::from_utf8_lossy(&f.name),
                        f.total(),
                        f.running,
                        workers
                    ));
                }
                reply.push_str(".\n");
            }
            AdminCommand::PriorityStatus => {
                for f in self.live_functions() {
                    reply.push_str(&format!(
                        "{}\t{}\t{}\t{}\t{}\n",
                        String::from_utf8_lossy(&f.name),
                        f.queued[HIGH],
                        f.queued[NORMAL] + f.delayed,
                        f.queued[LOW],
                        f.workers.len()
                    ));
                }
                reply.push_str(".\n");
            }
            AdminCommand::Workers => {
                let mut conns: Vec<(&ConnId, &Conn)> = self.conns.iter().collect();
                conns.sort_by_key(|(id, _)| std::cmp::Reverse(**id));
                for (_, c) in conns {
                    reply.push_str(&format!(
                        "{} {} {} :",
                        c.fd,
                        c.ip,
                        String::from_utf8_lossy(&c.client_id)
                    ));
                    for &func in &c.abilities {
                        reply.push(' ');
                        reply.push_str(&String::from_utf8_lossy(
                            &self.functions[func as usize].name,
                        ));
                    }
                    reply.push('\n');
                }
                reply.push_str(".\n");
            }
            AdminCommand::Version => reply = format!("OK {}\n", self.config.version),
            AdminCommand::GetPid => reply = format!("OK {}\n", self.pid),
            AdminCommand::Verbose => reply = format!("OK {}\n", self.config.verbose),
            AdminCommand::MaxQueueIncomplete => {
                reply = err_line(
                    "INVALID_ARGUMENTS",
                    "An incomplete set of arguments was sent to this command maxqueue",
                )
            }
            AdminCommand::MaxQueue { function, limits } => {
                if let Some(func) = self.function_ids.get(&self.functions, &function) {
                    let clamp = |v: i64| v.max(0) as u64;
                    let f = &mut self.functions[func as usize];
                    f.max_queue = match limits.as_slice() {
                        [] => [0; 3],
                        [n] => [clamp(*n); 3],
                        [h, n] => [clamp(*h), clamp(*n), 0],
                        [h, n, l, ..] => [clamp(*h), clamp(*n), clamp(*l)],
                    };
                    self.forget_if_unused(func);
                }
                // `OK\n`, not gearmand's `OK\r\n`: python-gearman's admin clients accept only it.
                reply = "OK\n".into();
            }
            AdminCommand::ShowJobs => {
                let mut jobs: Vec<&Job> = self.jobs.values().collect();
                jobs.sort_by_key(|j| j.no);
                for j in jobs {
                    reply.push_str(&format!(
                        "{}\t{}\t{}\t{}\n",
                        self.handle_of(j.no),
                        j.retries,
                        u8::from(j.has(FLAG_IGNORED)),
                        u8::from(j.has(FLAG_BACKGROUND))
                    ));
                }
                reply.push_str(".\n");
            }
            AdminCommand::ShowUniqueJobs => {
                let mut jobs: Vec<&Job> = self.jobs.values().collect();
                jobs.sort_by_key(|j| j.no);
                for j in jobs {
                    reply.push_str(&String::from_utf8_lossy(j.unique()));
                    reply.push('\n');
                }
                reply.push_str(".\n");
            }
            AdminCommand::ShowUnknown => reply = "ERR UNKNOWN_SHOW_ARGUMENTS\r\n".into(),
            AdminCommand::CancelJob(handle) => {
                reply = match self.job_no(&handle).filter(|no| self.jobs.contains_key(no)) {
                    Some(no) => {
                        self.cancel(no);
                        "OK\r\n".into()
                    }
                    None => "ERR UNKNOWN_JOB\r\n".into(),
                };
            }
            AdminCommand::CancelMalformed => reply = "ERR UNKNOWN_ERROR\r\n".into(),
            AdminCommand::CreateFunction(name) => {
                self.function_id(&name);
                reply = "OK\r\n".into();
            }
            AdminCommand::DropFunction(name) => reply = self.drop_function(&name),
            AdminCommand::DropIncomplete => {
                reply = err_line(
                    "INVALID_ARGUMENTS",
                    "An incomplete set of arguments was sent to this command drop",
                )
            }
            AdminCommand::Shutdown { graceful } => {
                if self.conns.get(&id).is_some_and(|c| c.loopback) {
                    reply = "OK\r\n".into();
                    next = Next::Shutdown { graceful };
                } else {
                    reply = err_line(
                        "PERMISSION_DENIED",
                        "shutdown is accepted from loopback only",
                    );
                }
            }
            AdminCommand::Unknown(word) => {
                reply = err_line(
                    "UNKNOWN_COMMAND",
                    &format!("Unknown server command{}", String::from_utf8_lossy(&word)),
                )
            }
        }
        if let Some(out) = self.out(id) {
            out.raw(reply.as_bytes());
        }
        next
    }

    /// What `/metrics`, `/status.json` and the status page show, read at once.
    pub fn snapshot(&self) -> Snapshot {
        let functions = self
            .live_functions()
            .map(|f| FunctionStats {
                name: String::from_utf8_lossy(&f.name).into_owned(),
                queued: f.queued,
                delayed: f.delayed,
                running: f.running,
                workers: f.workers.len() as u64,
                total: f.total(),
            })
            .collect();
        let workers = self
            .conns
            .values()
            .filter(|c| !c.abilities.is_empty())
            .map(|c| WorkerStats {
                fd: c.fd,
                ip: c.ip.clone(),
                client_id: String::from_utf8_lossy(&c.client_id).into_owned(),
                functions: c
                    .abilities
                    .iter()
                    .map(|&f| {
                        String::from_utf8_lossy(&self.functions[f as usize].name).into_owned()
                    })
                    .collect(),
                running: c.held.len(),
            })
            .collect();
        Snapshot {
            functions,
            workers,
            connections: self.conns.len(),
            jobs: self.jobs.len(),
            totals: self.metrics.totals,
            wait: self.metrics.wait.clone(),
            run: self.metrics.run.clone(),
            commits: self
                .commit_times
                .as_ref()
                .map(|t| t.lock().unwrap_or_else(|p| p.into_inner()).clone()),
        }
    }

    fn live_functions(&self) -> impl Iterator<Item = &Function> {
        let mut live: Vec<&Function> = self
            .function_ids
            .ids()
            .map(|id| &self.functions[id as usize])
            .collect();
        live.sort_unstable_by_key(|f| f.seq);
        live.into_iter()
    }

    /// `cancel job`: attached clients get WORK_FAIL; the job is gone.
    fn cancel(&mut self, no: u64) {
        self.fail_clients(no);
        self.free_job(no);
    }

    fn drop_function(&mut self, name: &[u8]) -> String {
        let found = self
            .function_ids
            .ids()
            .find(|&id| self.functions[id as usize].name.eq_ignore_ascii_case(name));
        let Some(func) = found else {
            return "ERR function not found\r\n".into();
        };
        let f = &self.functions[func as usize];
        if !f.workers.is_empty() || f.running > 0 {
            return "ERR there are still connected workers or executing clients\r\n".into();
        }
        let doomed: Vec<u64> = self
            .jobs
            .values()
            .filter(|j| j.func == func)
            .map(|j| j.no)
            .collect();
        for no in doomed {
            self.cancel(no);
        }
        // Cancelling the last job may have forgotten it already; a maxqueue setting may not.
        self.forget_function(func);
        "OK\r\n".into()
    }
}

/// Takes one from a function's job count. Each count moves in step with a job flag (QUEUED,
/// DELAYED, a worker set), and is only decremented when that flag is cleared, so it cannot go
/// below zero unless that bookkeeping breaks: debug builds then stop at the bug; release
/// builds keep the count at zero rather than wrap it to 2^64 in `status`.
fn decrement(count: &mut u64, what: &str) {
    debug_assert!(*count > 0, "{what} count underflow");
    *count = count.saturating_sub(1);
}

fn hash_key(hasher: &hashbrown::DefaultHashBuilder, func: u32, key: (bool, &[u8])) -> u64 {
    let mut h = hasher.build_hasher();
    func.hash(&mut h);
    key.hash(&mut h);
    h.finish()
}

/// known, running, numerator, denominator.
fn status_fields(job: Option<&Job>) -> (bool, bool, u64, u64) {
    match job {
        None => (false, false, 0, 0),
        Some(j) => {
            let (n, d) = j
                .extra
                .as_ref()
                .map_or((0, 0), |e| (e.numerator, e.denominator));
            (true, j.worker() != 0, n, d)
        }
    }
}

/// A submission, whichever packet carried it: slices of the received frame.
struct Submit {
    function: Bytes,
    unique: Bytes,
    reducer: Bytes,
    data: Bytes,
    priority: usize,
    background: bool,
    /// Run-at time in epoch seconds; 0 = now.
    when: u64,
}

/// Which JOB_ASSIGN variant a grab asks for.
#[derive(Debug, Clone, Copy)]
enum Grab {
    Plain,
    Unique,
    All,
}

/// A WORK_* update from the worker running a job.
#[derive(Debug, Clone, Copy)]
enum Work<'a> {
    Status(&'a [u8], &'a [u8]),
    Data(&'a [u8]),
    Warning(&'a [u8]),
    Complete(&'a [u8]),
    Fail,
    Exception(&'a [u8]),
}

fn err_line(code: &str, text: &str) -> String {
    format!("ERR {code} {}\r\n", url_encode(text))
}

fn now_epoch() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

mod function_names;
mod invariants;
pub mod metrics;
#[cfg(test)]
mod tests;
