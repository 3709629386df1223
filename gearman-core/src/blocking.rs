//! Blocking facades for hosts that are not async (C, PHP, Python, the CLI).
//!
//! Each facade owns a current-thread tokio runtime and drives it with `block_on` on the caller's
//! thread. No background thread is started, so a facade created after `fork()` works in the
//! child, and nothing runs between calls.
//!
//! A facade created before a `fork()` belongs to the process that created it: when a child drops
//! its inherited copy, nothing is torn down, because deregistering the sockets from the epoll
//! instance the child shares with its parent would silence the parent's own connections.

use std::mem::ManuallyDrop;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use bytes::Bytes;
use tokio::runtime::{Builder, Runtime};

use crate::admin_client::AdminClient;
use crate::client::{Client, ClientOptions, Event, JobId};
use crate::connection::ServerAddr;
use crate::error::Error;
use crate::job::{JobRequest, JobResult, JobStatus};
use crate::protocol::PacketType;
use crate::worker::{AssignedJob, Worker, WorkerOptions};

fn runtime() -> Result<Runtime, Error> {
    // I/O and timers only: the signal driver would add a pipe read to every park.
    Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(|e| Error::InvalidArgument(format!("cannot create an I/O runtime: {e}")))
}

/// The runtime and the I/O objects on it, torn down only by the process that created them.
#[derive(Debug)]
struct Owned<T> {
    runtime: ManuallyDrop<Runtime>,
    value: ManuallyDrop<T>,
    owner: u32,
}

impl<T> Owned<T> {
    fn new(runtime: Runtime, value: T) -> Owned<T> {
        Owned {
            runtime: ManuallyDrop::new(runtime),
            value: ManuallyDrop::new(value),
            owner: std::process::id(),
        }
    }
}

impl<T> Drop for Owned<T> {
    fn drop(&mut self) {
        if std::process::id() != self.owner {
            // A forked child's copy: leave the parent's registrations alone (see module docs).
            return;
        }
        // SAFETY: dropped once, here, and never used again.
        unsafe {
            ManuallyDrop::drop(&mut self.runtime);
            ManuallyDrop::drop(&mut self.value);
        }
    }
}

/// A blocking [`Client`].
#[derive(Debug)]
pub struct BlockingClient {
    owned: Owned<Client>,
}

impl BlockingClient {
    pub fn new(options: ClientOptions) -> Result<BlockingClient, Error> {
        Ok(BlockingClient {
            owned: Owned::new(runtime()?, Client::new(options)),
        })
    }

    /// The async client, for settings and inspection.
    pub fn inner(&self) -> &Client {
        &self.owned.value
    }

    pub fn inner_mut(&mut self) -> &mut Client {
        &mut self.owned.value
    }

    pub fn add_server(&mut self, addr: ServerAddr) {
        self.owned.value.add_server(addr);
    }

    pub fn add_servers(&mut self, list: &str) -> Result<(), Error> {
        self.owned.value.add_servers(list)
    }

    pub fn submit(&mut self, request: JobRequest) -> Result<JobId, Error> {
        self.owned
            .runtime
            .block_on(self.owned.value.submit(request))
    }

    pub fn run(&mut self, request: JobRequest) -> Result<JobResult, Error> {
        self.owned.runtime.block_on(self.owned.value.run(request))
    }

    pub fn submit_background(&mut self, request: JobRequest) -> Result<Bytes, Error> {
        self.owned
            .runtime
            .block_on(self.owned.value.submit_background(request))
    }

    pub fn wait(&mut self, id: JobId) -> Result<JobResult, Error> {
        self.owned.runtime.block_on(self.owned.value.wait(id))
    }

    pub fn wait_all(&mut self, ids: &[JobId]) -> Result<(), Error> {
        self.owned.runtime.block_on(self.owned.value.wait_all(ids))
    }

    pub fn next_event(&mut self) -> Result<Option<Event>, Error> {
        // Events already received need no trip through the runtime.
        if let Some(event) = self.owned.value.pop_event() {
            return Ok(Some(event));
        }
        self.owned.runtime.block_on(self.owned.value.next_event())
    }

    pub fn flush(&mut self) -> Result<(), Error> {
        self.owned.runtime.block_on(self.owned.value.flush())
    }

    pub fn job(&self, id: JobId) -> Option<&JobResult> {
        self.owned.value.job(id)
    }

    pub fn take(&mut self, id: JobId) -> Option<JobResult> {
        self.owned.value.take(id)
    }

    pub fn job_status(&mut self, handle: &[u8]) -> Result<JobStatus, Error> {
        self.owned
            .runtime
            .block_on(self.owned.value.job_status(handle))
    }

    pub fn job_status_unique(&mut self, unique: &[u8]) -> Result<JobStatus, Error> {
        self.owned
            .runtime
            .block_on(self.owned.value.job_status_unique(unique))
    }

    pub fn echo(&mut self, data: &[u8]) -> Result<Bytes, Error> {
        self.owned.runtime.block_on(self.owned.value.echo(data))
    }

    pub fn set_server_option(&mut self, name: &[u8]) -> Result<(), Error> {
        self.owned
            .runtime
            .block_on(self.owned.value.set_server_option(name))
    }

    pub fn request_ack(&mut self, kind: PacketType, arg: &[u8]) -> Result<(), Error> {
        self.owned
            .runtime
            .block_on(self.owned.value.request_ack(kind, arg))
    }
}

/// How a job handler says the job did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobFailure {
    /// Send WORK_FAIL.
    Fail,
    /// Send WORK_EXCEPTION with this data.
    Exception(Bytes),
}

/// A job being handled, with the means to report progress to its clients.
pub struct JobContext<'a> {
    worker: &'a mut BlockingWorker,
    job: AssignedJob,
}

impl JobContext<'_> {
    pub fn job(&self) -> &AssignedJob {
        &self.job
    }

    pub fn send_data(&mut self, data: &[u8]) -> Result<(), Error> {
        self.worker
            .owned
            .runtime
            .block_on(self.worker.owned.value.send_data(&self.job, data))
    }

    pub fn send_warning(&mut self, data: &[u8]) -> Result<(), Error> {
        self.worker
            .owned
            .runtime
            .block_on(self.worker.owned.value.send_warning(&self.job, data))
    }

    pub fn send_status(&mut self, numerator: u64, denominator: u64) -> Result<(), Error> {
        let worker = &mut self.worker.owned.value;
        self.worker
            .owned
            .runtime
            .block_on(worker.send_status(&self.job, numerator, denominator))
    }
}

/// A blocking [`Worker`].
#[derive(Debug)]
pub struct BlockingWorker {
    owned: Owned<Worker>,
}

impl BlockingWorker {
    pub fn new(options: WorkerOptions) -> Result<BlockingWorker, Error> {
        Ok(BlockingWorker {
            owned: Owned::new(runtime()?, Worker::new(options)),
        })
    }

    pub fn inner(&self) -> &Worker {
        &self.owned.value
    }

    pub fn inner_mut(&mut self) -> &mut Worker {
        &mut self.owned.value
    }

    pub fn add_server(&mut self, addr: ServerAddr) {
        self.owned.value.add_server(addr);
    }

    pub fn add_servers(&mut self, list: &str) -> Result<(), Error> {
        self.owned.value.add_servers(list)
    }

    pub fn register(
        &mut self,
        name: impl Into<Bytes>,
        timeout_ms: Option<u32>,
    ) -> Result<(), Error> {
        self.owned.value.register(name, timeout_ms)
    }

    /// Sends everything queued.
    pub fn flush(&mut self) {
        self.owned.runtime.block_on(self.owned.value.flush());
    }

    pub fn connect_all(&mut self) -> Result<(), Error> {
        self.owned.runtime.block_on(self.owned.value.connect_all())
    }

    pub fn grab_job(&mut self) -> Result<AssignedJob, Error> {
        self.owned.runtime.block_on(self.owned.value.grab_job())
    }

    pub fn echo(&mut self, data: &[u8]) -> Result<Bytes, Error> {
        self.owned.runtime.block_on(self.owned.value.echo(data))
    }

    pub fn send_complete(&mut self, job: &AssignedJob, result: &[u8]) -> Result<(), Error> {
        self.owned
            .runtime
            .block_on(self.owned.value.send_complete(job, result))
    }

    pub fn send_fail(&mut self, job: &AssignedJob) -> Result<(), Error> {
        self.owned.runtime.block_on(self.owned.value.send_fail(job))
    }

    pub fn send_exception(&mut self, job: &AssignedJob, data: &[u8]) -> Result<(), Error> {
        self.owned
            .runtime
            .block_on(self.owned.value.send_exception(job, data))
    }

    pub fn send_data(&mut self, job: &AssignedJob, data: &[u8]) -> Result<(), Error> {
        self.owned
            .runtime
            .block_on(self.owned.value.send_data(job, data))
    }

    pub fn send_warning(&mut self, job: &AssignedJob, data: &[u8]) -> Result<(), Error> {
        self.owned
            .runtime
            .block_on(self.owned.value.send_warning(job, data))
    }

    pub fn send_status(
        &mut self,
        job: &AssignedJob,
        numerator: u64,
        denominator: u64,
    ) -> Result<(), Error> {
        self.owned
            .runtime
            .block_on(self.owned.value.send_status(job, numerator, denominator))
    }

    /// Grabs one job and runs `handler` on it. The handler's `Ok` becomes WORK_COMPLETE, its
    /// [`JobFailure`] WORK_FAIL or WORK_EXCEPTION, and a panic WORK_EXCEPTION carrying the
    /// panic message: the worker itself never goes down with a job.
    pub fn work_one<F>(&mut self, handler: &mut F) -> Result<AssignedJob, Error>
    where
        F: FnMut(&mut JobContext<'_>) -> Result<Bytes, JobFailure>,
    {
        let job = self.run_handler(handler)?;
        self.owned.runtime.block_on(self.owned.value.flush());
        Ok(job)
    }

    /// Grabs a job, runs the handler and queues its result (sent with the next grab or flush).
    fn run_handler<F>(&mut self, handler: &mut F) -> Result<AssignedJob, Error>
    where
        F: FnMut(&mut JobContext<'_>) -> Result<Bytes, JobFailure>,
    {
        let job = self.grab_job()?;
        let mut context = JobContext {
            worker: self,
            job: job.clone(),
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| handler(&mut context)));
        let queued = match outcome {
            Ok(Ok(result)) => self
                .owned
                .value
                .queue(&job, PacketType::WorkComplete, &[&result]),
            Ok(Err(JobFailure::Fail)) => self.owned.value.queue(&job, PacketType::WorkFail, &[]),
            Ok(Err(JobFailure::Exception(data))) => {
                self.owned
                    .value
                    .queue(&job, PacketType::WorkException, &[&data])
            }
            Err(panic) => {
                let message = panic_message(&panic);
                tracing::error!(handle = ?job.handle, %message, "job handler panicked");
                let data = format!("panic: {message}");
                self.owned
                    .value
                    .queue(&job, PacketType::WorkException, &[data.as_bytes()])
            }
        };
        if let Err(e) = queued {
            // The server requeues a job whose worker vanished; the worker carries on.
            tracing::warn!(error = %e, "could not send the job result");
        }
        Ok(job)
    }

    /// Handles jobs until `limit` are done (`None`: forever) or waiting for a job fails (for
    /// example on the worker's timeout). Each result goes out in one write with the next grab.
    pub fn work<F>(&mut self, limit: Option<u64>, mut handler: F) -> Result<(), Error>
    where
        F: FnMut(&mut JobContext<'_>) -> Result<Bytes, JobFailure>,
    {
        let mut done = 0;
        let mut result = Ok(());
        while limit.is_none_or(|l| done < l) {
            if let Err(e) = self.run_handler(&mut handler) {
                result = Err(e);
                break;
            }
            done += 1;
        }
        self.owned.runtime.block_on(self.owned.value.flush());
        result
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

/// A blocking [`AdminClient`].
#[derive(Debug)]
pub struct BlockingAdminClient {
    owned: Owned<AdminClient>,
}

impl BlockingAdminClient {
    pub fn connect(addr: &ServerAddr, timeout: Duration) -> Result<BlockingAdminClient, Error> {
        let runtime = runtime()?;
        let admin = runtime.block_on(AdminClient::connect(addr, timeout))?;
        Ok(BlockingAdminClient {
            owned: Owned::new(runtime, admin),
        })
    }

    /// Runs any async admin call on this facade's runtime.
    pub fn call<'a, T, F, Fut>(&'a mut self, f: F) -> Result<T, Error>
    where
        F: FnOnce(&'a mut AdminClient) -> Fut,
        Fut: std::future::Future<Output = Result<T, Error>> + 'a,
    {
        let owned = &mut self.owned;
        owned.runtime.block_on(f(&mut owned.value))
    }
}
