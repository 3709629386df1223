//! `AsyncClient` and `AsyncWorker`: gearman-core's async client and worker awaited from asyncio
//! through pyo3-async-runtimes (on its tokio runtime), for `gearman.aio`.
//!
//! One connection per object. Concurrent calls share it: each call submits under the lock, then
//! takes turns driving the connection one event at a time until its own jobs are done; results
//! are read from what the core recorded per job, so no call misses another's events.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex as SyncMutex};

use bytes::Bytes;
use gearman_core::{
    AssignedJob, Client as CoreClient, ClientOptions, Error, GrabMode, JobResult,
    Worker as CoreWorker, WorkerOptions,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use tokio::sync::Mutex;

use crate::{
    deadline_of, outcome_tuple, request_of, run_is_settled, servers, to_py, JobSpec, ServerSpec,
};

fn py_error(error: &Error) -> PyErr {
    Python::attach(|py| to_py(py, error))
}

/// Awaitable client: `run` is the async twin of `Client.run`.
#[pyclass(module = "gearman._native")]
pub struct AsyncClient {
    inner: Arc<Mutex<CoreClient>>,
}

#[pymethods]
impl AsyncClient {
    #[new]
    #[pyo3(signature = (servers, exceptions = false))]
    fn new(servers: Vec<ServerSpec>, exceptions: bool) -> PyResult<Self> {
        let mut client = CoreClient::new(ClientOptions {
            exceptions,
            ..Default::default()
        });
        for (addr, tls) in self::servers(servers)? {
            client.add_server_tls(addr, tls);
        }
        Ok(AsyncClient {
            inner: Arc::new(Mutex::new(client)),
        })
    }

    /// Submits `jobs` and resolves, once each is accepted (and, with `wait_until_complete`,
    /// finished) or `timeout` passes, to the same tuples as `Client.run`.
    #[pyo3(signature = (jobs, background, wait_until_complete, timeout = None))]
    fn run<'py>(
        &self,
        py: Python<'py>,
        jobs: Vec<JobSpec>,
        background: bool,
        wait_until_complete: bool,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let client = self.inner.clone();
        let until = deadline_of(timeout);
        pyo3_async_runtimes::tokio::future_into_py(py, async move {
            let ids = {
                let mut c = client.lock().await;
                let mut ids = Vec::with_capacity(jobs.len());
                for spec in jobs {
                    let request = request_of(spec, background);
                    ids.push(c.submit(request).await.map_err(|e| py_error(&e))?);
                }
                c.flush().await.map_err(|e| py_error(&e))?;
                ids
            };
            let done = |c: &CoreClient, id: &u64| {
                c.job(*id)
                    .is_none_or(|r| run_is_settled(r, background, wait_until_complete))
            };
            let mut c = loop {
                let mut c = client.lock().await;
                if ids.iter().all(|id| done(&c, id)) {
                    break c;
                }
                let step = match until {
                    Some(at) => match tokio::time::timeout_at(at.into(), c.next_event()).await {
                        Ok(step) => step,
                        Err(_) => break c,
                    },
                    None => c.next_event().await,
                };
                match step {
                    Ok(Some(_)) => {}
                    Ok(None) => break c,
                    Err(e) => return Err(py_error(&e)),
                }
            };
            let results: Vec<(u64, JobResult)> = ids
                .iter()
                .map(|&id| (id, c.take_final_or_copy(id).unwrap_or_default()))
                .collect();
            drop(c);
            Python::attach(|py| {
                results
                    .iter()
                    .map(|(id, r)| outcome_tuple(py, *id, r))
                    .collect::<PyResult<Vec<_>>>()
            })
        })
    }

    /// GET_STATUS: resolves to `(known, running, numerator, denominator)`.
    fn job_status<'py>(&self, py: Python<'py>, handle: Vec<u8>) -> PyResult<Bound<'py, PyAny>> {
        let client = self.inner.clone();
        pyo3_async_runtimes::tokio::future_into_py(py, async move {
            let status = client
                .lock()
                .await
                .job_status(&handle)
                .await
                .map_err(|e| py_error(&e))?;
            Ok((
                status.known,
                status.running,
                status.numerator,
                status.denominator,
            ))
        })
    }
}

/// Awaitable worker: `grab` and the `send_*` reports are awaitables.
#[pyclass(module = "gearman._native")]
pub struct AsyncWorker {
    inner: Arc<Mutex<CoreWorker>>,
    jobs: Arc<SyncMutex<HashMap<u64, AssignedJob>>>,
    next_token: Arc<AtomicU64>,
}

enum Report {
    Data(Vec<u8>),
    Warning(Vec<u8>),
    Status(u64, u64),
    Complete(Vec<u8>),
    Fail,
    Exception(Vec<u8>),
}

impl AsyncWorker {
    fn report<'py>(
        &self,
        py: Python<'py>,
        token: u64,
        report: Report,
    ) -> PyResult<Bound<'py, PyAny>> {
        let finish = matches!(
            report,
            Report::Complete(_) | Report::Fail | Report::Exception(_)
        );
        let job = {
            let mut jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
            if finish {
                jobs.remove(&token)
            } else {
                jobs.get(&token).cloned()
            }
        }
        .ok_or_else(|| PyValueError::new_err("unknown or finished job"))?;
        let worker = self.inner.clone();
        pyo3_async_runtimes::tokio::future_into_py(py, async move {
            let mut w = worker.lock().await;
            let sent = match report {
                Report::Data(d) => w.send_data(&job, &d).await,
                Report::Warning(d) => w.send_warning(&job, &d).await,
                Report::Status(n, d) => w.send_status(&job, n, d).await,
                Report::Complete(d) => w.send_complete(&job, &d).await,
                Report::Fail => w.send_fail(&job).await,
                Report::Exception(d) => w.send_exception(&job, &d).await,
            };
            sent.map_err(|e| py_error(&e))
        })
    }
}

#[pymethods]
impl AsyncWorker {
    #[new]
    #[pyo3(signature = (servers, grab_unique = true))]
    fn new(servers: Vec<ServerSpec>, grab_unique: bool) -> PyResult<Self> {
        let grab = if grab_unique {
            GrabMode::Unique
        } else {
            GrabMode::Plain
        };
        let mut worker = CoreWorker::new(WorkerOptions {
            grab,
            ..Default::default()
        });
        for (addr, tls) in self::servers(servers)? {
            worker.add_server_tls(addr, tls);
        }
        Ok(AsyncWorker {
            inner: Arc::new(Mutex::new(worker)),
            jobs: Arc::new(SyncMutex::new(HashMap::new())),
            next_token: Arc::new(AtomicU64::new(1)),
        })
    }

    // Registration changes happen between awaits, when no grab holds the worker.
    fn register(&self, function: Vec<u8>) -> PyResult<()> {
        let mut worker = self
            .inner
            .try_lock()
            .map_err(|_| PyValueError::new_err("the worker is busy in a grab"))?;
        worker
            .register(Bytes::from(function), None)
            .map_err(|e| PyValueError::new_err(e.to_string()))
    }

    fn unregister(&self, function: Vec<u8>) -> PyResult<bool> {
        let mut worker = self
            .inner
            .try_lock()
            .map_err(|_| PyValueError::new_err("the worker is busy in a grab"))?;
        Ok(worker.unregister(&function))
    }

    fn set_client_id(&self, client_id: Vec<u8>) -> PyResult<()> {
        let mut worker = self
            .inner
            .try_lock()
            .map_err(|_| PyValueError::new_err("the worker is busy in a grab"))?;
        worker.set_client_id(client_id);
        Ok(())
    }

    /// Resolves to a job `(token, handle, function, unique, data)`, or None after `timeout`.
    #[pyo3(signature = (timeout = None))]
    fn grab<'py>(&self, py: Python<'py>, timeout: Option<f64>) -> PyResult<Bound<'py, PyAny>> {
        let worker = self.inner.clone();
        let jobs = self.jobs.clone();
        let next_token = self.next_token.clone();
        let until = deadline_of(timeout);
        pyo3_async_runtimes::tokio::future_into_py(py, async move {
            let mut w = worker.lock().await;
            let grabbed = match until {
                Some(at) => match tokio::time::timeout_at(at.into(), w.grab_job()).await {
                    Ok(grabbed) => grabbed,
                    Err(_) => return Ok(None),
                },
                None => w.grab_job().await,
            };
            let job = grabbed.map_err(|e| py_error(&e))?;
            let server = w.server_of(&job).map(|a| (a.host.clone(), a.port));
            drop(w);
            let token = next_token.fetch_add(1, Ordering::Relaxed);
            let tuple = Python::attach(|py| -> PyResult<Py<PyAny>> {
                let tuple = (
                    token,
                    PyBytes::new(py, &job.handle),
                    PyBytes::new(py, &job.function),
                    PyBytes::new(py, &job.unique),
                    PyBytes::new(py, &job.workload),
                    server,
                );
                Ok(tuple.into_pyobject(py)?.into_any().unbind())
            })?;
            jobs.lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(token, job);
            Ok(Some(tuple))
        })
    }

    fn send_data<'py>(
        &self,
        py: Python<'py>,
        token: u64,
        data: Vec<u8>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.report(py, token, Report::Data(data))
    }

    fn send_warning<'py>(
        &self,
        py: Python<'py>,
        token: u64,
        data: Vec<u8>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.report(py, token, Report::Warning(data))
    }

    fn send_status<'py>(
        &self,
        py: Python<'py>,
        token: u64,
        numerator: u64,
        denominator: u64,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.report(py, token, Report::Status(numerator, denominator))
    }

    fn send_complete<'py>(
        &self,
        py: Python<'py>,
        token: u64,
        data: Vec<u8>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.report(py, token, Report::Complete(data))
    }

    fn send_fail<'py>(&self, py: Python<'py>, token: u64) -> PyResult<Bound<'py, PyAny>> {
        self.report(py, token, Report::Fail)
    }

    fn send_exception<'py>(
        &self,
        py: Python<'py>,
        token: u64,
        data: Vec<u8>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.report(py, token, Report::Exception(data))
    }
}
