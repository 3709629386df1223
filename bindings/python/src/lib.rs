//! `gearman._native`: the blocking client, worker and admin client of gearman-core for Python.
//!
//! Each method converts its arguments, calls the core with the GIL released, and maps errors to
//! `gearman.errors`. Waits run in 100 ms slices so Ctrl-C raises KeyboardInterrupt promptly. The
//! python-gearman API itself (requests, hooks, encoders) is the Python package around this.

mod aio;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use gearman_core::blocking::{BlockingAdminClient, BlockingClient, BlockingWorker};
use gearman_core::{
    AssignedJob, ClientOptions, Error, GrabMode, JobEvent, JobRequest, JobResult, Outcome,
    Priority, ServerAddr, TlsConnector, TlsOptions, WorkerOptions,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// How long one uninterruptible wait lasts before signals are checked.
const SLICE: Duration = Duration::from_millis(100);

fn error_class<'py>(py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
    py.import("gearman.errors")?.getattr(name)
}

/// Maps a core error to the `gearman.errors` hierarchy.
fn to_py(py: Python<'_>, error: &Error) -> PyErr {
    let name = match error {
        Error::Connect { .. } | Error::NoServers | Error::NoServerAvailable(_) => {
            "ServerUnavailable"
        }
        Error::Io { .. } => "ConnectionError",
        Error::Protocol { .. } | Error::UnexpectedPacket { .. } => "ProtocolError",
        Error::Server { .. } => "ServerError",
        Error::Admin { .. } => "ProtocolError",
        Error::Timeout(_) => "TimeoutError",
        Error::InvalidArgument(_) => return PyValueError::new_err(error.to_string()),
        Error::UnknownJob => "InvalidClientState",
    };
    match error_class(py, name) {
        Ok(class) => match class.call1((error.to_string(),)) {
            Ok(instance) => PyErr::from_value(instance),
            Err(e) => e,
        },
        Err(e) => e,
    }
}

/// A timeout in seconds from Python: negative or NaN is 0, beyond what a `Duration` holds is
/// `Duration::MAX` (no limit).
fn duration_of(seconds: f64) -> Duration {
    Duration::try_from_secs_f64(seconds.max(0.0)).unwrap_or(Duration::MAX)
}

/// When a wait of `timeout` seconds from now ends; `None` for no timeout (or one too far away
/// to represent).
fn deadline_of(timeout: Option<f64>) -> Option<Instant> {
    timeout.and_then(|t| gearman_core::poll_driver::deadline_after(duration_of(t)))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs `op` without the GIL in slices until it succeeds, fails, or `timeout` (seconds) passes
/// (then `Ok(None)`). Signals are checked between slices.
fn sliced<T: Send>(
    py: Python<'_>,
    timeout: Option<f64>,
    mut op: impl FnMut() -> Result<T, Error> + Send,
) -> PyResult<Option<T>> {
    let deadline = deadline_of(timeout);
    loop {
        match py.detach(&mut op) {
            Ok(value) => return Ok(Some(value)),
            Err(Error::Timeout(_)) => {
                py.check_signals()?;
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    return Ok(None);
                }
            }
            Err(e) => return Err(to_py(py, &e)),
        }
    }
}

/// A server as Python passes it: `(host, port, tls)`, where `tls` is `None` for plaintext or
/// `(ca_file, certificate, key)`, each a path or `None` (libgearman's environment variables
/// and default files then apply, see gearman_core::tls).
pub(crate) type ServerSpec = (String, u16, Option<TlsFiles>);
type TlsFiles = (Option<PathBuf>, Option<PathBuf>, Option<PathBuf>);

/// The servers with their TLS connectors, each set of files read once; a file that cannot be
/// used is a ValueError naming it, raised when the object is made.
pub(crate) fn servers(list: Vec<ServerSpec>) -> PyResult<Vec<(ServerAddr, Option<TlsConnector>)>> {
    let mut made: Vec<(TlsFiles, TlsConnector)> = Vec::new();
    let mut out = Vec::with_capacity(list.len());
    for (host, port, tls) in list {
        let connector = match tls {
            None => None,
            Some(files) => match made.iter().find(|(f, _)| *f == files) {
                Some((_, connector)) => Some(connector.clone()),
                None => {
                    let (ca, cert, key) = files.clone();
                    let connector = TlsOptions::new(ca, cert, key)
                        .connector()
                        .map_err(|e| PyValueError::new_err(e.to_string()))?;
                    made.push((files, connector.clone()));
                    Some(connector)
                }
            },
        };
        out.push((ServerAddr::new(host, port), connector));
    }
    Ok(out)
}

/// A job for `Client::run`: `(function, data, unique, priority)`.
type JobSpec = (Vec<u8>, Vec<u8>, Option<Vec<u8>>, i32);

/// Whether `Client::run` (and its async twin) has finished waiting for a job.
fn run_is_settled(r: &JobResult, background: bool, wait_until_complete: bool) -> bool {
    r.outcome.is_some() || ((background || !wait_until_complete) && r.handle.is_some())
}

/// One job's outcome for the Python side:
/// `(id, handle, state, result, data, warnings, status, exception, error)` (data and warnings are
/// lists, or None when there are none), with state one of
/// PENDING, CREATED, COMPLETE, FAILED.
fn outcome_tuple(py: Python<'_>, id: u64, s: &JobResult) -> PyResult<Py<PyAny>> {
    let bytes = |b: &Option<Bytes>| b.as_ref().map(|b| PyBytes::new(py, b).unbind());
    // None rather than an empty list: most jobs send no data or warnings.
    let list = |v: &[Bytes]| {
        (!v.is_empty()).then(|| {
            v.iter()
                .map(|b| PyBytes::new(py, b).unbind())
                .collect::<Vec<_>>()
        })
    };
    let state = match (&s.outcome, &s.handle) {
        (Some(Outcome::Complete(_)), _) => "COMPLETE",
        (Some(Outcome::Queued), _) => "CREATED",
        (Some(_), _) => "FAILED",
        (None, Some(_)) => "CREATED",
        (None, None) => "PENDING",
    };
    let result = match &s.outcome {
        Some(Outcome::Complete(r)) => Some(r.clone()),
        _ => None,
    };
    let exception = match &s.outcome {
        Some(Outcome::Exception(e)) => Some(e.clone()),
        _ => None,
    };
    let error = match &s.outcome {
        Some(Outcome::Error(e)) => Some(e.to_string()),
        _ => None,
    };
    let tuple = (
        id,
        bytes(&s.handle),
        state,
        bytes(&result),
        list(&s.data),
        list(&s.warnings),
        s.status,
        bytes(&exception),
        error,
    );
    Ok(tuple.into_pyobject(py)?.into_any().unbind())
}

fn request_of((function, data, unique, priority): JobSpec, background: bool) -> JobRequest {
    let request = JobRequest::new(function, data)
        .priority(priority_of(priority))
        .background(background);
    match unique {
        Some(unique) => request.unique(unique),
        None => request,
    }
}

fn priority_of(priority: i32) -> Priority {
    match priority {
        0 => Priority::High,
        2 => Priority::Low,
        _ => Priority::Normal,
    }
}

/// `(known, running, numerator, denominator, waiting clients)` from GET_STATUS_UNIQUE.
type UniqueStatus = (bool, bool, u64, u64, u64);

/// Blocking client: submit jobs and read their events.
#[pyclass(module = "gearman._native")]
struct Client {
    inner: Mutex<BlockingClient>,
}

#[pymethods]
impl Client {
    #[new]
    #[pyo3(signature = (servers, exceptions = false))]
    fn new(servers: Vec<ServerSpec>, exceptions: bool) -> PyResult<Self> {
        let options = ClientOptions {
            timeout: Some(SLICE),
            exceptions,
            ..Default::default()
        };
        let mut client =
            BlockingClient::new(options).map_err(|e| PyValueError::new_err(e.to_string()))?;
        for (addr, tls) in self::servers(servers)? {
            client.add_server_tls(addr, tls);
        }
        Ok(Client {
            inner: Mutex::new(client),
        })
    }

    /// Queues a job; returns its id. Raises ServerUnavailable when no server can be reached.
    #[pyo3(signature = (function, data, unique, priority, background))]
    fn submit(
        &self,
        py: Python<'_>,
        function: Vec<u8>,
        data: Vec<u8>,
        unique: Option<Vec<u8>>,
        priority: i32,
        background: bool,
    ) -> PyResult<u64> {
        let request = request_of((function, data, unique, priority), background);
        let inner = &self.inner;
        py.detach(|| lock(inner).submit(request))
            .map_err(|e| to_py(py, &e))
    }

    /// Sends queued requests.
    fn flush(&self, py: Python<'_>) -> PyResult<()> {
        let inner = &self.inner;
        py.detach(|| lock(inner).flush()).map_err(|e| to_py(py, &e))
    }

    /// The next event as `(job, kind, value, extra)`, or None when `timeout` passes or no job
    /// is in flight. Kinds: created (handle), data, warning, status (numerator, denominator),
    /// complete, fail, exception, error (message, code).
    #[pyo3(signature = (timeout = None))]
    fn next_event(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<Py<PyAny>>> {
        let inner = &self.inner;
        let Some(event) = sliced(py, timeout, || lock(inner).next_event())?.flatten() else {
            return Ok(None);
        };
        let bytes = |b: &Bytes| PyBytes::new(py, b).into_any().unbind();
        let none = py.None();
        let (kind, value, extra) = match &event.event {
            JobEvent::Created(handle) => ("created", bytes(handle), none),
            JobEvent::Data(d) => ("data", bytes(d), none),
            JobEvent::Warning(d) => ("warning", bytes(d), none),
            JobEvent::Status {
                numerator,
                denominator,
            } => (
                "status",
                numerator.into_pyobject(py)?.into_any().unbind(),
                denominator.into_pyobject(py)?.into_any().unbind(),
            ),
            JobEvent::Finished(Outcome::Complete(d)) => ("complete", bytes(d), none),
            JobEvent::Finished(Outcome::Queued) => ("queued", none.clone_ref(py), none),
            JobEvent::Finished(Outcome::Failed) => ("fail", none.clone_ref(py), none),
            JobEvent::Finished(Outcome::Exception(d)) => ("exception", bytes(d), none),
            JobEvent::Finished(Outcome::Error(e)) => {
                let code = e.server_code().unwrap_or("").to_string();
                (
                    "error",
                    e.to_string().into_pyobject(py)?.into_any().unbind(),
                    code.into_pyobject(py)?.into_any().unbind(),
                )
            }
        };
        if matches!(event.event, JobEvent::Finished(_)) {
            lock(&self.inner).take(event.job);
        }
        Ok(Some(
            (event.job, kind, value, extra)
                .into_pyobject(py)?
                .into_any()
                .unbind(),
        ))
    }

    /// Submits `jobs` (`(function, data, unique, priority)` tuples) and waits, in one call,
    /// until each is accepted (and, with `wait_until_complete`, finished) or `timeout` passes.
    /// Returns per job `(id, handle, state, result, data, warnings, status, exception, error)`,
    /// with state one of PENDING, CREATED, COMPLETE, FAILED.
    #[pyo3(signature = (jobs, background, wait_until_complete, timeout = None))]
    fn run(
        &self,
        py: Python<'_>,
        jobs: Vec<JobSpec>,
        background: bool,
        wait_until_complete: bool,
        timeout: Option<f64>,
    ) -> PyResult<Vec<Py<PyAny>>> {
        let mut ids = Vec::with_capacity(jobs.len());
        {
            let inner = &self.inner;
            let submitted: Result<Vec<u64>, Error> = py.detach(|| {
                let mut client = lock(inner);
                let mut ids = Vec::with_capacity(jobs.len());
                for spec in jobs {
                    ids.push(client.submit(request_of(spec, background))?);
                }
                client.flush()?;
                Ok(ids)
            });
            ids.extend(submitted.map_err(|e| to_py(py, &e))?);
        }
        let deadline = deadline_of(timeout);
        let done = |r: &JobResult| run_is_settled(r, background, wait_until_complete);
        let inner = &self.inner;
        // The job records collect what happens; the events themselves are not needed here.
        // Jobs before `settled` are done (done-ness never reverts), so each check is O(1).
        let mut settled = 0;
        let mut wait = || {
            let mut client = lock(inner);
            // Back to Python at least once a slice, even while events keep coming, so that
            // signals and the deadline are checked.
            let slice_end = Instant::now() + SLICE;
            loop {
                while ids
                    .get(settled)
                    .is_some_and(|id| client.job(*id).is_none_or(done))
                {
                    settled += 1;
                }
                if settled == ids.len() {
                    return Ok(());
                }
                if Instant::now() >= slice_end {
                    return Err(Error::Timeout(SLICE));
                }
                if client.next_event()?.is_none() {
                    return Ok(());
                }
            }
        };
        loop {
            match py.detach(&mut wait) {
                Ok(()) => break,
                Err(Error::Timeout(_)) => {
                    py.check_signals()?;
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        break;
                    }
                }
                Err(e) => return Err(to_py(py, &e)),
            }
        }
        let mut client = lock(inner);
        ids.iter()
            .map(|&id| {
                let result = client.inner_mut().take_final_or_copy(id);
                outcome_tuple(py, id, &result.unwrap_or_default())
            })
            .collect()
    }

    /// GET_STATUS: `(known, running, numerator, denominator)`.
    #[pyo3(signature = (handle, timeout = None))]
    fn job_status(
        &self,
        py: Python<'_>,
        handle: Vec<u8>,
        timeout: Option<f64>,
    ) -> PyResult<Option<(bool, bool, u64, u64)>> {
        let inner = &self.inner;
        let status = with_timeout(py, inner, timeout, |c| c.job_status(&handle))?;
        Ok(status.map(|s| (s.known, s.running, s.numerator, s.denominator)))
    }

    /// GET_STATUS_UNIQUE: `(known, running, numerator, denominator, waiting clients)`.
    #[pyo3(signature = (unique, timeout = None))]
    fn unique_status(
        &self,
        py: Python<'_>,
        unique: Vec<u8>,
        timeout: Option<f64>,
    ) -> PyResult<Option<UniqueStatus>> {
        let inner = &self.inner;
        let status = with_timeout(py, inner, timeout, |c| c.job_status_unique(&unique))?;
        Ok(status.map(|s| {
            (
                s.known,
                s.running,
                s.numerator,
                s.denominator,
                s.client_count.unwrap_or(0),
            )
        }))
    }

    #[pyo3(signature = (data, timeout = None))]
    fn echo<'py>(
        &self,
        py: Python<'py>,
        data: Vec<u8>,
        timeout: Option<f64>,
    ) -> PyResult<Option<Bound<'py, PyBytes>>> {
        let inner = &self.inner;
        let reply = with_timeout(py, inner, timeout, |c| c.echo(&data))?;
        Ok(reply.map(|r| PyBytes::new(py, &r)))
    }
}

/// Runs a request/reply call with one overall timeout (default 30 s) instead of slices.
fn with_timeout<T: Send>(
    py: Python<'_>,
    inner: &Mutex<BlockingClient>,
    timeout: Option<f64>,
    op: impl FnOnce(&mut BlockingClient) -> Result<T, Error> + Send,
) -> PyResult<Option<T>> {
    let limit = duration_of(timeout.unwrap_or(30.0)).max(Duration::from_millis(1));
    let result = py.detach(|| {
        let mut client = lock(inner);
        client.inner_mut().options_mut().timeout = Some(limit);
        let result = op(&mut client);
        client.inner_mut().options_mut().timeout = Some(SLICE);
        result
    });
    match result {
        Ok(v) => Ok(Some(v)),
        Err(Error::Timeout(_)) => Ok(None),
        Err(e) => Err(to_py(py, &e)),
    }
}

/// Blocking worker: register functions, grab jobs, report on them.
#[pyclass(module = "gearman._native")]
struct Worker {
    inner: Mutex<BlockingWorker>,
    jobs: Mutex<HashMap<u64, AssignedJob>>,
    next_token: AtomicU64,
}

impl Worker {
    fn job(&self, token: u64, finish: bool) -> PyResult<AssignedJob> {
        let mut jobs = lock(&self.jobs);
        let job = if finish {
            jobs.remove(&token)
        } else {
            jobs.get(&token).cloned()
        };
        job.ok_or_else(|| PyValueError::new_err("unknown or finished job"))
    }

    fn send(
        &self,
        py: Python<'_>,
        token: u64,
        finish: bool,
        op: impl FnOnce(&mut BlockingWorker, &AssignedJob) -> Result<(), Error> + Send,
    ) -> PyResult<()> {
        let job = self.job(token, finish)?;
        let inner = &self.inner;
        py.detach(|| op(&mut lock(inner), &job))
            .map_err(|e| to_py(py, &e))
    }
}

#[pymethods]
impl Worker {
    #[new]
    #[pyo3(signature = (servers, grab_unique = true))]
    fn new(servers: Vec<ServerSpec>, grab_unique: bool) -> PyResult<Self> {
        let grab = if grab_unique {
            GrabMode::Unique
        } else {
            GrabMode::Plain
        };
        let options = WorkerOptions {
            timeout: Some(SLICE),
            grab,
            ..Default::default()
        };
        let mut worker =
            BlockingWorker::new(options).map_err(|e| PyValueError::new_err(e.to_string()))?;
        for (addr, tls) in self::servers(servers)? {
            worker.add_server_tls(addr, tls);
        }
        Ok(Worker {
            inner: Mutex::new(worker),
            jobs: Mutex::new(HashMap::new()),
            next_token: AtomicU64::new(1),
        })
    }

    #[pyo3(signature = (function, timeout = None))]
    fn register(&self, function: Vec<u8>, timeout: Option<u32>) -> PyResult<()> {
        lock(&self.inner)
            .register(function, timeout)
            .map_err(|e| PyValueError::new_err(e.to_string()))
    }

    fn unregister(&self, function: Vec<u8>) -> bool {
        lock(&self.inner).inner_mut().unregister(&function)
    }

    fn set_client_id(&self, client_id: Vec<u8>) {
        lock(&self.inner).inner_mut().set_client_id(client_id);
    }

    /// Waits for a job: `(token, handle, function, unique, data, (host, port) of its server)`,
    /// or None after `timeout`.
    #[pyo3(signature = (timeout = None))]
    fn grab(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<Py<PyAny>>> {
        let inner = &self.inner;
        let Some((job, server)) = sliced(py, timeout, || {
            let mut worker = lock(inner);
            let job = worker.grab_job()?;
            let server = worker
                .inner()
                .server_of(&job)
                .map(|a| (a.host.clone(), a.port));
            Ok((job, server))
        })?
        else {
            return Ok(None);
        };
        let token = self.next_token.fetch_add(1, Ordering::Relaxed);
        let tuple = (
            token,
            PyBytes::new(py, &job.handle),
            PyBytes::new(py, &job.function),
            PyBytes::new(py, &job.unique),
            PyBytes::new(py, &job.workload),
            server,
        );
        lock(&self.jobs).insert(token, job);
        Ok(Some(tuple.into_pyobject(py)?.into_any().unbind()))
    }

    fn send_data(&self, py: Python<'_>, token: u64, data: Vec<u8>) -> PyResult<()> {
        self.send(py, token, false, move |w, j| w.send_data(j, &data))
    }

    fn send_warning(&self, py: Python<'_>, token: u64, data: Vec<u8>) -> PyResult<()> {
        self.send(py, token, false, move |w, j| w.send_warning(j, &data))
    }

    fn send_status(
        &self,
        py: Python<'_>,
        token: u64,
        numerator: u64,
        denominator: u64,
    ) -> PyResult<()> {
        self.send(py, token, false, move |w, j| {
            w.send_status(j, numerator, denominator)
        })
    }

    fn send_complete(&self, py: Python<'_>, token: u64, data: Vec<u8>) -> PyResult<()> {
        self.send(py, token, true, move |w, j| w.send_complete(j, &data))
    }

    fn send_fail(&self, py: Python<'_>, token: u64) -> PyResult<()> {
        self.send(py, token, true, |w, j| w.send_fail(j))
    }

    fn send_exception(&self, py: Python<'_>, token: u64, data: Vec<u8>) -> PyResult<()> {
        self.send(py, token, true, move |w, j| w.send_exception(j, &data))
    }

    #[pyo3(signature = (data, timeout = None))]
    fn echo<'py>(
        &self,
        py: Python<'py>,
        data: Vec<u8>,
        timeout: Option<f64>,
    ) -> PyResult<Option<Bound<'py, PyBytes>>> {
        let inner = &self.inner;
        let reply = sliced(py, timeout.or(Some(10.0)), || lock(inner).echo(&data))?;
        Ok(reply.map(|r| PyBytes::new(py, &r)))
    }
}

/// One connection speaking the text admin protocol.
#[pyclass(module = "gearman._native")]
struct Admin {
    inner: Mutex<BlockingAdminClient>,
}

#[pymethods]
impl Admin {
    #[new]
    #[pyo3(signature = (host, port, timeout, tls = None))]
    fn new(
        py: Python<'_>,
        host: String,
        port: u16,
        timeout: f64,
        tls: Option<TlsFiles>,
    ) -> PyResult<Self> {
        let (addr, tls) = self::servers(vec![(host, port, tls)])?
            .pop()
            .expect("one server");
        let limit = duration_of(timeout).max(Duration::from_millis(1));
        let admin = py
            .detach(|| BlockingAdminClient::connect_with(&addr, limit, tls.as_ref()))
            .map_err(|e| to_py(py, &e))?;
        Ok(Admin {
            inner: Mutex::new(admin),
        })
    }

    /// A one-line command; returns the text after `OK`.
    fn command(&self, py: Python<'_>, line: String) -> PyResult<String> {
        let inner = &self.inner;
        py.detach(|| lock(inner).call(|a| a.command(&line)))
            .map_err(|e| to_py(py, &e))
    }

    /// A listing command; returns its lines without the final `.`.
    fn listing(&self, py: Python<'_>, line: String) -> PyResult<Vec<String>> {
        let inner = &self.inner;
        py.detach(|| lock(inner).call(|a| a.listing(&line)))
            .map_err(|e| to_py(py, &e))
    }
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Client>()?;
    m.add_class::<Worker>()?;
    m.add_class::<Admin>()?;
    m.add_class::<aio::AsyncClient>()?;
    m.add_class::<aio::AsyncWorker>()?;
    m.add("VERSION", gearman_core::VERSION)?;
    Ok(())
}
