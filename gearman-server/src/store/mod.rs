//! Durable background jobs: what the engine hands the store, the store thread with group commit,
//! and the backends, each in the table or keys of gearmand's own queue plugin, so that gearmand
//! and ours can each run the jobs the other queued:
//! - [`sqlite`]: gearmand's `libsqlite3` table;
//! - [`postgres`]: gearmand's `Postgres` (libpq) table;
//! - [`mysql`]: gearmand's `MySQL` table (MySQL or MariaDB);
//! - [`redis`]: gearmand's `redis` keys.
//!
//! One thread owns the backend. Submissions from every connection are queued to it; it takes
//! all that is waiting, writes it as one transaction, and only then answers each submitter with
//! JOB_CREATED (or ERROR, and the job is not run). So an acknowledged background job is stored,
//! and a burst of concurrent submissions shares one commit. A delete that could not be written
//! (the database is gone for a while) is kept and written with a later batch.

pub mod mysql;
pub mod postgres;
pub mod redis;
pub mod sqlite;

use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use gearman_core::message::Response;
use tokio::sync::oneshot;

use crate::output::{FlushOnDrop, Sink};

pub use mysql::{MysqlOptions, MysqlStore};
pub use postgres::PostgresStore;
pub use redis::RedisStore;
pub use sqlite::SqliteStore;

/// A background job as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredJob {
    /// The handle number, kept across restarts (rows gearmand wrote get new ones at load).
    pub no: u64,
    pub function: Bytes,
    pub unique: Bytes,
    pub reducer: Bytes,
    pub data: Bytes,
    /// gearmand's `gearman_job_priority_t`: 0 high, 1 normal, 2 low.
    pub priority: u8,
    /// Unix time to run at; 0 for now.
    pub when: u64,
}

/// Who to answer once an insert is committed.
pub struct Ack {
    pub out: Arc<dyn Sink>,
    pub handle: Bytes,
    pub done: oneshot::Sender<bool>,
}

impl Ack {
    /// Answers the submitter once its job's write has ended: JOB_CREATED if `result` is Ok,
    /// else ERROR QUEUE_ERROR naming `queue` (and the job is not run).
    pub fn answer(self, queue: &str, result: &Result<(), String>) {
        match result {
            Ok(()) => self.out.send(&Response::JobCreated {
                handle: &self.handle,
            }),
            Err(e) => {
                let text = format!("{queue}: {e}");
                self.out.send(&Response::Error {
                    code: &b"QUEUE_ERROR"[..],
                    text: text.as_bytes(),
                });
            }
        }
        let _ = self.done.send(result.is_ok());
    }
}

/// Work for the store thread. A row is keyed as gearmand keys it: (unique, function).
pub enum StoreOp {
    Insert { job: StoredJob, ack: Option<Ack> },
    Delete { function: Bytes, unique: Bytes },
}

/// A queue backend: gearmand's storage for one of its queue plugins.
pub trait Backend: Send {
    /// How logs and errors name it (`sqlite queue /var/lib/gearman/q.db`); fixed once made.
    fn name(&self) -> String;

    /// Every stored job, in the order stored where the backend keeps one; jobs another server
    /// wrote are numbered after ours (see [`number_unnumbered`]).
    fn load(&mut self) -> Result<Vec<StoredJob>, String>;

    /// Writes a batch, all of it or none.
    fn write(&mut self, ops: &[StoreOp]) -> Result<(), String>;
}

/// When a backend whose server went away may try to connect again: at once the first time,
/// then after a wait that doubles from 100 ms to 2 s while it keeps failing.
pub struct Reconnect {
    retry_at: std::time::Instant,
    wait: Duration,
}

impl Default for Reconnect {
    fn default() -> Reconnect {
        Reconnect {
            retry_at: std::time::Instant::now(),
            wait: Duration::from_millis(100),
        }
    }
}

impl Reconnect {
    const MAX_WAIT: Duration = Duration::from_secs(2);

    /// Whether it is time to try.
    pub fn due(&self) -> bool {
        std::time::Instant::now() >= self.retry_at
    }

    pub fn failed(&mut self) {
        self.retry_at = std::time::Instant::now() + self.wait;
        self.wait = (self.wait * 2).min(Self::MAX_WAIT);
    }

    pub fn succeeded(&mut self) {
        *self = Reconnect::default();
    }

    /// The connection in `slot`; if it was lost, a new one from `connect` when it is time to
    /// try (logged as `queue` reconnected).
    pub fn connection<'a, C, E: std::fmt::Display>(
        &mut self,
        slot: &'a mut Option<C>,
        queue: &str,
        connect: impl FnOnce() -> Result<C, E>,
    ) -> Result<&'a mut C, String> {
        if slot.is_none() {
            if !self.due() {
                return Err("not connected; reconnecting".into());
            }
            match connect() {
                Ok(conn) => {
                    tracing::warn!(queue, "reconnected");
                    *slot = Some(conn);
                    self.succeeded();
                }
                Err(e) => {
                    self.failed();
                    return Err(format!("cannot reconnect: {e}"));
                }
            }
        }
        slot.as_mut().ok_or_else(|| "not connected".to_string())
    }
}

/// A stored job's key as gearmand's tables have it: (unique, function).
pub type RowKey<'a> = (&'a [u8], &'a [u8]);

/// What a batch leaves behind, key by key (unique, function): the jobs to write, and the keys to
/// delete. Only each key's last operation counts (a job finished and submitted again in one
/// batch is written), so a backend may write all rows in one statement and delete in another.
pub fn final_states(ops: &[StoreOp]) -> (Vec<&StoredJob>, Vec<RowKey<'_>>) {
    let mut last: std::collections::HashMap<RowKey, Option<&StoredJob>> =
        std::collections::HashMap::new();
    let mut order = Vec::new();
    for op in ops {
        let (key, value) = match op {
            StoreOp::Insert { job, .. } => ((&job.unique[..], &job.function[..]), Some(job)),
            StoreOp::Delete { function, unique } => ((&unique[..], &function[..]), None),
        };
        if last.insert(key, value).is_none() {
            order.push(key);
        }
    }
    let (mut writes, mut deletes) = (Vec::new(), Vec::new());
    for key in order {
        match last[&key] {
            Some(job) => writes.push(job),
            None => deletes.push(key),
        }
    }
    (writes, deletes)
}

/// Gives the jobs another server stored (number 0: gearmand keeps no handle) numbers after the
/// highest of ours, in their order.
pub fn number_unnumbered(jobs: &mut [StoredJob]) {
    let first_free = jobs.iter().map(|j| j.no).max().unwrap_or(0) + 1;
    let unnumbered = jobs.iter_mut().filter(|j| j.no == 0);
    for (no, job) in (first_free..).zip(unnumbered) {
        job.no = no;
    }
}

/// Most deletes kept for a later batch while the backend is unreachable; beyond it the oldest
/// are dropped (those jobs would run again after a restart) and the loss is logged.
const MAX_RETRIED_DELETES: usize = 100_000;

/// The store loop: runs until every sender is gone.
fn run(mut backend: Box<dyn Backend>, ops: Receiver<StoreOp>, times: CommitTimes) {
    // A backend's name is fixed when it is made: named once, not once per batch.
    let name = backend.name();
    const MAX_BATCH: usize = 4096;
    let mut retry: Vec<StoreOp> = Vec::new();
    let mut failing = FailureLog::default();
    loop {
        let first = if retry.is_empty() {
            match ops.recv() {
                Ok(op) => Some(op),
                Err(_) => return,
            }
        } else {
            // Deletes wait to be retried: try again within a second even if nothing new comes.
            match ops.recv_timeout(Duration::from_secs(1)) {
                Ok(op) => Some(op),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        };
        // Writes the acknowledgements queued below once the batch is answered.
        let _flush = FlushOnDrop;
        let mut batch = std::mem::take(&mut retry);
        batch.extend(first);
        while batch.len() < MAX_BATCH {
            match ops.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        let started = std::time::Instant::now();
        let result = backend.write(&batch);
        times
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .observe(started.elapsed().as_secs_f64());
        failing.record(&name, &result);
        for op in batch {
            match op {
                StoreOp::Insert { ack: Some(ack), .. } => ack.answer(&name, &result),
                StoreOp::Delete { .. } if result.is_err() => retry.push(op),
                _ => {}
            }
        }
        if retry.len() > MAX_RETRIED_DELETES {
            let dropped = retry.len() - MAX_RETRIED_DELETES;
            retry.drain(..dropped);
            tracing::error!(queue = %name, dropped, "too many deletes waiting for the queue: those jobs may run again after a restart");
        }
    }
}

/// Logs a backend's failures without flooding the log: the first, then one line a second
/// while it keeps failing, and the recovery.
#[derive(Default)]
struct FailureLog {
    since: Option<std::time::Instant>,
    last_logged: Option<std::time::Instant>,
    unlogged: u64,
}

impl FailureLog {
    fn record(&mut self, queue: &str, result: &Result<(), String>) {
        let now = std::time::Instant::now();
        match result {
            Ok(()) => {
                if let Some(since) = self.since.take() {
                    tracing::warn!(queue, down_for = ?now - since, "queue writes work again");
                }
                self.last_logged = None;
                self.unlogged = 0;
            }
            Err(e) => {
                self.since.get_or_insert(now);
                let due = self
                    .last_logged
                    .is_none_or(|at| now - at >= Duration::from_secs(1));
                if due {
                    tracing::error!(queue, error = %e, failed_since_last = self.unlogged, "queue write failed: its submitters get ERROR, deletes are retried");
                    self.last_logged = Some(now);
                    self.unlogged = 0;
                } else {
                    self.unlogged += 1;
                }
            }
        }
    }
}

/// How long each group commit took, for `/metrics`.
pub type CommitTimes = std::sync::Arc<std::sync::Mutex<crate::engine::metrics::Histogram>>;

/// Starts the store thread, which records each batch's write time in `times`; returns the
/// sender the engine uses.
pub fn spawn(backend: Box<dyn Backend>, times: CommitTimes) -> Sender<StoreOp> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("queue-store".into())
        .spawn(move || run(backend, rx, times))
        .expect("spawn the queue store thread");
    tx
}
