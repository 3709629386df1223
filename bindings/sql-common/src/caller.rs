//! One caller's connections and its calls, each bounded by a timeout and stopped by a
//! cancelled query.

use std::time::Duration;

use bytes::Bytes;
use gearman_core::blocking::BlockingClient;
use gearman_core::poll_driver::{deadline_after, StopWhen, Stopped};
use gearman_core::{ClientOptions, JobId, JobRequest, JobResult, Outcome, Priority};

/// How often a waiting call asks whether its query was cancelled: MariaDB's KILL QUERY sends
/// no signal, so only this check sees it.
const CANCEL_CHECK: Duration = Duration::from_millis(100);

/// One job as an SQL function gives it.
pub struct Job<'a> {
    pub function: &'a [u8],
    pub workload: &'a [u8],
    pub unique: Option<&'a [u8]>,
    pub priority: Priority,
}

/// What bounds a call: the time it may take (`None`: no limit) and whether its query was
/// cancelled (asked after every wake-up, and at least every 100 ms).
pub struct Limits<'a> {
    pub timeout: Option<Duration>,
    pub cancelled: &'a mut dyn FnMut() -> bool,
}

#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("no Gearman servers: call gman_servers_set('host:port') or set them in the database's settings")]
    NoServers,
    #[error("{0}")]
    Invalid(String),
    #[error("Gearman job {function:?} failed: the worker sent WORK_FAIL")]
    Failed { function: String },
    #[error("Gearman job {function:?} failed with an exception: {text}")]
    Exception { function: String, text: String },
    #[error("Gearman call timed out after {0:?}")]
    TimedOut(Duration),
    #[error("Gearman call cancelled")]
    Cancelled,
    #[error("Gearman: {0}")]
    Gearman(#[from] gearman_core::Error),
}

/// A caller's client, made for one server list and kept while that list stays; dropped after
/// a call that gave up midway (its exchange with the server is then unfinished).
#[derive(Default)]
pub struct Caller {
    client: Option<(String, BlockingClient)>,
}

impl Caller {
    pub fn new() -> Caller {
        Caller::default()
    }

    fn client(&mut self, servers: &str, limits: &Limits) -> Result<&mut BlockingClient, CallError> {
        if self.client.as_ref().is_some_and(|(s, _)| s != servers) {
            self.client = None;
        }
        if self.client.is_none() {
            let options = ClientOptions {
                // WORK_EXCEPTION's text is only forwarded to clients that ask for it.
                exceptions: true,
                connect_timeout: limits
                    .timeout
                    .map_or(Duration::from_secs(5), |t| t.min(Duration::from_secs(5))),
                ..ClientOptions::default()
            };
            let mut client = BlockingClient::new(options)?;
            client.add_servers(servers)?;
            self.client = Some((servers.to_string(), client));
        }
        Ok(&mut self.client.as_mut().expect("just made").1)
    }

    /// Runs `job` under `limits`; a call that gives up drops the client.
    fn bounded<T>(
        &mut self,
        servers: &str,
        limits: &mut Limits,
        call: impl FnOnce(
            &mut BlockingClient,
            StopWhen,
        ) -> Result<Result<T, gearman_core::Error>, Stopped>,
    ) -> Result<T, CallError> {
        let deadline = limits.timeout.and_then(deadline_after);
        let timeout = limits.timeout;
        let client = self.client(servers, limits)?;
        let stop = StopWhen {
            deadline,
            tick: CANCEL_CHECK,
            cancelled: &mut *limits.cancelled,
        };
        match call(client, stop) {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(e.into()),
            Err(stopped) => {
                self.client = None;
                Err(match stopped {
                    Stopped::TimedOut => CallError::TimedOut(timeout.unwrap_or_default()),
                    Stopped::Cancelled => CallError::Cancelled,
                })
            }
        }
    }

    /// `gman_do*`: the job's data chunks and result, or `None` for an empty result.
    pub fn run(
        &mut self,
        servers: &str,
        job: &Job,
        mut limits: Limits,
    ) -> Result<Option<Bytes>, CallError> {
        let request = request(job)?;
        let result = self.bounded(servers, &mut limits, |client, stop| {
            client.run_until(request, stop)
        })?;
        outcome(&result)
            .map(|r| r.filter(|r| !r.is_empty()))
            .map_err(|e| e.of(job.function))
    }

    /// `gman_do*_background`: the job handle.
    pub fn background(
        &mut self,
        servers: &str,
        job: &Job,
        mut limits: Limits,
    ) -> Result<Bytes, CallError> {
        let request = request(job)?.background(true);
        self.bounded(servers, &mut limits, |client, stop| {
            client.submit_background_until(request, stop)
        })
    }

    /// Submits a foreground job without waiting for it (`gman_sum`'s rows run side by side);
    /// [`Caller::results`] waits for them.
    pub fn submit(
        &mut self,
        servers: &str,
        job: &Job,
        mut limits: Limits,
    ) -> Result<JobId, CallError> {
        let request = request(job)?;
        // Sent now, so the jobs run while the database reads its next rows.
        self.bounded(servers, &mut limits, |client, _| {
            Ok(client
                .submit(request)
                .and_then(|id| client.flush().map(|()| id)))
        })
    }

    /// Waits for `ids` (submitted with [`Caller::submit`] on `servers`); each one's data
    /// chunks and result, or why it has none, in order.
    pub fn results(
        &mut self,
        servers: &str,
        ids: &[JobId],
        mut limits: Limits,
    ) -> Result<Vec<Result<Option<Bytes>, JobFailed>>, CallError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.bounded(servers, &mut limits, |client, stop| {
            client.wait_all_until(ids, stop)
        })?;
        let client = &mut self.client.as_mut().ok_or(CallError::Cancelled)?.1;
        Ok(ids
            .iter()
            .map(|&id| outcome(&client.take(id).unwrap_or_default()))
            .collect())
    }

    /// Forgets the connections (after a statement's jobs were abandoned, say).
    pub fn reset(&mut self) {
        self.client = None;
    }
}

fn request(job: &Job) -> Result<JobRequest, CallError> {
    if job.function.is_empty() {
        return Err(CallError::Invalid(
            "the Gearman function name is empty".into(),
        ));
    }
    let mut request = JobRequest::new(
        Bytes::copy_from_slice(job.function),
        Bytes::copy_from_slice(job.workload),
    )
    .priority(job.priority);
    if let Some(unique) = job.unique {
        request = request.unique(Bytes::copy_from_slice(unique));
    }
    request
        .validate()
        .map_err(|e| CallError::Invalid(e.to_string()))?;
    Ok(request)
}

/// Why a job that ran has no result.
#[derive(Debug)]
pub enum JobFailed {
    Fail,
    Exception(String),
    Other(CallError),
}

impl JobFailed {
    /// The error of a call that ran `function`.
    pub fn of(self, function: &[u8]) -> CallError {
        let function = String::from_utf8_lossy(function).into_owned();
        match self {
            JobFailed::Fail => CallError::Failed { function },
            JobFailed::Exception(text) => CallError::Exception { function, text },
            JobFailed::Other(e) => e,
        }
    }
}

/// A finished job's data chunks and result, or why it has none.
fn outcome(result: &JobResult) -> Result<Option<Bytes>, JobFailed> {
    match &result.outcome {
        Some(Outcome::Complete(_)) => Ok(result.data_then_result()),
        Some(Outcome::Failed) => Err(JobFailed::Fail),
        Some(Outcome::Exception(text)) => Err(JobFailed::Exception(
            String::from_utf8_lossy(text).into_owned(),
        )),
        Some(Outcome::Error(e)) => Err(JobFailed::Other(CallError::Gearman(e.clone()))),
        Some(Outcome::Queued) | None => Err(JobFailed::Other(CallError::Invalid(
            "the Gearman job did not finish".into(),
        ))),
    }
}
