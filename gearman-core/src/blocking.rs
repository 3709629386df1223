//! Blocking facades for hosts that are not async (C, PHP, Python, the CLI).
//!
//! Each facade drives the async client, worker or admin client with
//! [`poll_driver::block_on`] on the caller's thread: no runtime, no background thread, nothing
//! running between calls. A facade created after `fork()` works in the child, and a child that
//! drops a facade inherited from its parent only closes its own copies of the sockets.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use bytes::Bytes;

use crate::admin_client::AdminClient;
use crate::client::{Client, ClientOptions, Event, JobId};
use crate::connection::ServerAddr;
use crate::error::Error;
use crate::job::{JobRequest, JobResult, JobStatus};
use crate::poll_driver::{block_on, block_on_until, StopWhen, Stopped};
use crate::protocol::PacketType;
use crate::worker::{AssignedJob, Worker, WorkerOptions};

/// A blocking [`Client`].
#[derive(Debug)]
pub struct BlockingClient {
    client: Client,
}

/// A blocking facade over a client (infallible: nothing is started).
impl From<Client> for BlockingClient {
    fn from(client: Client) -> BlockingClient {
        BlockingClient { client }
    }
}

impl BlockingClient {
    pub fn new(options: ClientOptions) -> Result<BlockingClient, Error> {
        Ok(BlockingClient {
            client: Client::new(options),
        })
    }

    /// The async client, for settings and inspection.
    pub fn inner(&self) -> &Client {
        &self.client
    }

    pub fn inner_mut(&mut self) -> &mut Client {
        &mut self.client
    }

    pub fn add_server(&mut self, addr: ServerAddr) {
        self.client.add_server(addr);
    }

    /// See [`Client::add_server_tls`].
    pub fn add_server_tls(&mut self, addr: ServerAddr, tls: Option<crate::tls::TlsConnector>) {
        self.client.add_server_tls(addr, tls);
    }

    pub fn add_servers(&mut self, list: &str) -> Result<(), Error> {
        self.client.add_servers(list)
    }

    pub fn submit(&mut self, request: JobRequest) -> Result<JobId, Error> {
        block_on(self.client.submit(request))
    }

    pub fn run(&mut self, request: JobRequest) -> Result<JobResult, Error> {
        block_on(self.client.run(request))
    }

    pub fn submit_background(&mut self, request: JobRequest) -> Result<Bytes, Error> {
        block_on(self.client.submit_background(request))
    }

    /// [`BlockingClient::run`] that gives up as `stop` says. After giving up, the client may
    /// be in the middle of an exchange: drop it.
    pub fn run_until(
        &mut self,
        request: JobRequest,
        stop: StopWhen<'_>,
    ) -> Result<Result<JobResult, Error>, Stopped> {
        block_on_until(self.client.run(request), stop)
    }

    /// [`BlockingClient::submit_background`] that gives up as `stop` says (then drop the client).
    pub fn submit_background_until(
        &mut self,
        request: JobRequest,
        stop: StopWhen<'_>,
    ) -> Result<Result<Bytes, Error>, Stopped> {
        block_on_until(self.client.submit_background(request), stop)
    }

    /// [`BlockingClient::wait_all`] that gives up as `stop` says (then drop the client).
    pub fn wait_all_until(
        &mut self,
        ids: &[JobId],
        stop: StopWhen<'_>,
    ) -> Result<Result<(), Error>, Stopped> {
        block_on_until(self.client.wait_all(ids), stop)
    }

    pub fn wait(&mut self, id: JobId) -> Result<JobResult, Error> {
        block_on(self.client.wait(id))
    }

    pub fn wait_all(&mut self, ids: &[JobId]) -> Result<(), Error> {
        block_on(self.client.wait_all(ids))
    }

    pub fn next_event(&mut self) -> Result<Option<Event>, Error> {
        // Events already received need no trip through the driver.
        if let Some(event) = self.client.pop_event() {
            return Ok(Some(event));
        }
        block_on(self.client.next_event())
    }

    pub fn flush(&mut self) -> Result<(), Error> {
        block_on(self.client.flush())
    }

    pub fn job(&self, id: JobId) -> Option<&JobResult> {
        self.client.job(id)
    }

    pub fn take(&mut self, id: JobId) -> Option<JobResult> {
        self.client.take(id)
    }

    pub fn job_status(&mut self, handle: &[u8]) -> Result<JobStatus, Error> {
        block_on(self.client.job_status(handle))
    }

    pub fn job_status_unique(&mut self, unique: &[u8]) -> Result<JobStatus, Error> {
        block_on(self.client.job_status_unique(unique))
    }

    pub fn echo(&mut self, data: &[u8]) -> Result<Bytes, Error> {
        block_on(self.client.echo(data))
    }

    pub fn set_server_option(&mut self, name: &[u8]) -> Result<(), Error> {
        block_on(self.client.set_server_option(name))
    }

    pub fn request_ack(&mut self, kind: PacketType, arg: &[u8]) -> Result<(), Error> {
        block_on(self.client.request_ack(kind, arg))
    }

    /// libgearman 1.1's `cancel_job`; see [`Client::send_work_fail`](crate::Client::send_work_fail).
    pub fn send_work_fail(&mut self, handle: &[u8]) -> Result<(), Error> {
        block_on(self.client.send_work_fail(handle))
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
        block_on(self.worker.worker.send_data(&self.job, data))
    }

    pub fn send_warning(&mut self, data: &[u8]) -> Result<(), Error> {
        block_on(self.worker.worker.send_warning(&self.job, data))
    }

    pub fn send_status(&mut self, numerator: u64, denominator: u64) -> Result<(), Error> {
        block_on(
            self.worker
                .worker
                .send_status(&self.job, numerator, denominator),
        )
    }
}

/// A blocking [`Worker`].
#[derive(Debug)]
pub struct BlockingWorker {
    worker: Worker,
}

impl BlockingWorker {
    /// A blocking facade over a new worker (infallible: nothing is started).
    pub fn with_options(options: WorkerOptions) -> BlockingWorker {
        BlockingWorker {
            worker: Worker::new(options),
        }
    }

    pub fn new(options: WorkerOptions) -> Result<BlockingWorker, Error> {
        Ok(BlockingWorker {
            worker: Worker::new(options),
        })
    }

    pub fn inner(&self) -> &Worker {
        &self.worker
    }

    pub fn inner_mut(&mut self) -> &mut Worker {
        &mut self.worker
    }

    pub fn add_server(&mut self, addr: ServerAddr) {
        self.worker.add_server(addr);
    }

    /// See [`Worker::add_server_tls`].
    pub fn add_server_tls(&mut self, addr: ServerAddr, tls: Option<crate::tls::TlsConnector>) {
        self.worker.add_server_tls(addr, tls);
    }

    pub fn add_servers(&mut self, list: &str) -> Result<(), Error> {
        self.worker.add_servers(list)
    }

    pub fn register(
        &mut self,
        name: impl Into<Bytes>,
        timeout_ms: Option<u32>,
    ) -> Result<(), Error> {
        self.worker.register(name, timeout_ms)
    }

    /// Sends everything queued.
    pub fn flush(&mut self) {
        block_on(self.worker.flush());
    }

    pub fn connect_all(&mut self) -> Result<(), Error> {
        block_on(self.worker.connect_all())
    }

    pub fn grab_job(&mut self) -> Result<AssignedJob, Error> {
        block_on(self.worker.grab_job())
    }

    pub fn echo(&mut self, data: &[u8]) -> Result<Bytes, Error> {
        block_on(self.worker.echo(data))
    }

    pub fn send_complete(&mut self, job: &AssignedJob, result: &[u8]) -> Result<(), Error> {
        block_on(self.worker.send_complete(job, result))
    }

    pub fn send_fail(&mut self, job: &AssignedJob) -> Result<(), Error> {
        block_on(self.worker.send_fail(job))
    }

    pub fn send_exception(&mut self, job: &AssignedJob, data: &[u8]) -> Result<(), Error> {
        block_on(self.worker.send_exception(job, data))
    }

    pub fn send_data(&mut self, job: &AssignedJob, data: &[u8]) -> Result<(), Error> {
        block_on(self.worker.send_data(job, data))
    }

    pub fn send_warning(&mut self, job: &AssignedJob, data: &[u8]) -> Result<(), Error> {
        block_on(self.worker.send_warning(job, data))
    }

    pub fn send_status(
        &mut self,
        job: &AssignedJob,
        numerator: u64,
        denominator: u64,
    ) -> Result<(), Error> {
        block_on(self.worker.send_status(job, numerator, denominator))
    }

    /// Grabs one job and runs `handler` on it. The handler's `Ok` becomes WORK_COMPLETE, its
    /// [`JobFailure`] WORK_FAIL or WORK_EXCEPTION, and a panic WORK_EXCEPTION carrying the
    /// panic message: the worker itself never goes down with a job.
    pub fn work_one<F>(&mut self, handler: &mut F) -> Result<AssignedJob, Error>
    where
        F: FnMut(&mut JobContext<'_>) -> Result<Bytes, JobFailure>,
    {
        let job = self.run_handler(handler)?;
        block_on(self.worker.flush());
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
            Ok(Ok(result)) => self.worker.queue_complete(&job, &result),
            Ok(Err(JobFailure::Fail)) => self.worker.queue_fail(&job),
            Ok(Err(JobFailure::Exception(data))) => self.worker.queue_exception(&job, &data),
            Err(panic) => {
                let message = panic_message(&panic);
                tracing::error!(handle = ?job.handle, %message, "job handler panicked");
                let data = format!("panic: {message}");
                self.worker.queue_exception(&job, data.as_bytes())
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
        block_on(self.worker.flush());
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
    admin: AdminClient,
}

impl BlockingAdminClient {
    pub fn connect(addr: &ServerAddr, timeout: Duration) -> Result<BlockingAdminClient, Error> {
        Self::connect_with(addr, timeout, None)
    }

    /// Connects, over TLS when `tls` is given.
    pub fn connect_with(
        addr: &ServerAddr,
        timeout: Duration,
        tls: Option<&crate::tls::TlsConnector>,
    ) -> Result<BlockingAdminClient, Error> {
        let admin = block_on(AdminClient::connect_with(addr, timeout, tls))?;
        Ok(BlockingAdminClient { admin })
    }

    /// Runs any async admin call to completion.
    pub fn call<'a, T, F, Fut>(&'a mut self, f: F) -> Result<T, Error>
    where
        F: FnOnce(&'a mut AdminClient) -> Fut,
        Fut: std::future::Future<Output = Result<T, Error>> + 'a,
    {
        block_on(f(&mut self.admin))
    }
}
