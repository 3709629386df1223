//! libgearman's client: configuration, the blocking `do` calls, and tasks run by `run_tasks`.
//!
//! The client lives in a `RefCell` owned by the front end. [`run_tasks`] and [`execute`] borrow
//! it only between callbacks, so a callback may add tasks, free tasks or run tasks again.

use std::cell::RefCell;
use std::ffi::{CStr, CString};
use std::rc::Rc;
use std::time::Duration;

use bytes::Bytes;
use hashbrown::HashMap;

use super::last_error::LastError;
use super::options::{ClientFlags, LibTls};
use super::task::{c_string, Task, TaskKind, TaskRef, TaskState};
use super::ServerList;
use crate::blocking::BlockingClient;
use crate::client::{Client, ClientOptions, Event, JobEvent, JobId};
use crate::connection::ServerAddr;
use crate::error::Error;
use crate::job::{JobRequest, JobStatus, Outcome};
use crate::return_code::{self as rc, SUCCESS};

/// The task callbacks, in libgearman's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Callback {
    Workload,
    Created,
    Data,
    Warning,
    Status,
    Complete,
    Exception,
    Fail,
}

/// What the front end does for the client while tasks run. Called with no borrow held.
pub trait TaskEvents<U> {
    /// How a callback stops everything at once (a PHP exception); C never aborts.
    type Abort;
    /// Calls the callback for `which`, if one is set. SUCCESS goes on; any other code pauses
    /// `run_tasks`, which returns it and calls this callback again next time.
    fn call(&mut self, task: &TaskRef<U>, which: Callback) -> Result<i32, Self::Abort>;
    /// The client let go of a finished task (FREE_TASKS) and hands back the front end's data.
    fn released(&mut self, task: &TaskRef<U>, user: U);
}

/// A callback that paused `run_tasks`: called again first by the next call.
struct Paused<U> {
    task: TaskRef<U>,
    which: Callback,
    /// The event ended the task: it finishes once the callback lets it.
    finishes: bool,
}

pub struct LibClient<U> {
    pub core: BlockingClient,
    pub flags: ClientFlags,
    pub last: LastError,
    timeout: i32,
    namespace: Vec<u8>,
    identifier: Option<Vec<u8>>,
    /// Every task, in the order added.
    tasks: Vec<TaskRef<U>>,
    /// Tasks not yet submitted.
    new_tasks: usize,
    /// Submitted tasks by their core job.
    jobs: HashMap<JobId, TaskRef<U>>,
    paused: Option<Paused<U>>,
    /// An event `wait()` took in non-blocking mode, reported first by the next `run_tasks`.
    waited: Option<Event>,
    /// `gearman_execute` keeps the tasks it reports on, whatever FREE_TASKS says.
    keep_finished: bool,
    do_handle: CString,
    do_status: (u64, u64),
    tls: LibTls,
}

impl<U> Default for LibClient<U> {
    fn default() -> Self {
        LibClient::new()
    }
}

impl<U> LibClient<U> {
    pub fn new() -> LibClient<U> {
        LibClient {
            core: BlockingClient::from(Client::new(ClientOptions::default())),
            flags: ClientFlags::default(),
            last: LastError::default(),
            timeout: -1,
            namespace: Vec::new(),
            identifier: None,
            tasks: Vec::new(),
            new_tasks: 0,
            jobs: HashMap::new(),
            paused: None,
            waited: None,
            keep_finished: false,
            do_handle: CString::default(),
            do_status: (0, 0),
            tls: LibTls::default(),
        }
    }

    /// `gearman_client_clone`: a new client with this one's settings and servers, no tasks.
    pub fn clone_settings(&self) -> LibClient<U> {
        let mut copy = LibClient::new();
        for server in self.server_addrs() {
            copy.push_server(server);
        }
        copy.flags = self.flags;
        copy.tls = self.tls.clone();
        copy.apply_tls();
        copy.set_timeout(self.timeout);
        copy.core.inner_mut().options_mut().exceptions = self.flags.exceptions;
        copy.namespace = self.namespace.clone();
        if let Some(id) = &self.identifier {
            copy.identifier = Some(id.clone());
            copy.core
                .inner_mut()
                .set_client_id(Bytes::copy_from_slice(id));
        }
        copy
    }

    // --- servers -------------------------------------------------------------------------

    pub fn remove_servers(&mut self) {
        self.core.inner_mut().remove_servers();
    }

    // --- settings ------------------------------------------------------------------------

    pub fn timeout(&self) -> i32 {
        self.timeout
    }

    /// Milliseconds; negative waits forever.
    pub fn set_timeout(&mut self, timeout: i32) {
        self.timeout = timeout;
        self.core.inner_mut().options_mut().timeout =
            u64::try_from(timeout).ok().map(Duration::from_millis);
    }

    /// Asks every server to forward exceptions; libgearman's EXCEPTION option is this.
    fn ask_exceptions(&mut self, call: &str) -> bool {
        self.has_servers() && self.set_server_option(call, b"exceptions")
    }

    pub fn set_options(&mut self, call: &str, options: i32) {
        let mut flags = self.flags;
        flags.set(options, || self.ask_exceptions(call));
        self.flags = flags;
        self.apply_tls();
    }

    pub fn add_options(&mut self, call: &str, options: i32) {
        let mut flags = self.flags;
        flags.add(options, || self.ask_exceptions(call));
        self.flags = flags;
        self.apply_tls();
    }

    /// `gearman_client_set_ssl`: TLS on or off, and its files (`None` for the default).
    /// Connections made from now on use it.
    pub fn set_ssl(
        &mut self,
        ssl: bool,
        ca_file: Option<std::path::PathBuf>,
        certificate: Option<std::path::PathBuf>,
        key: Option<std::path::PathBuf>,
    ) {
        self.flags.ssl = ssl;
        self.set_tls_files(ca_file, certificate, key);
    }

    /// The TLS files only (the SSL option unchanged): for front ends that take them from
    /// their own settings (PHP's ini).
    pub fn set_tls_files(
        &mut self,
        ca_file: Option<std::path::PathBuf>,
        certificate: Option<std::path::PathBuf>,
        key: Option<std::path::PathBuf>,
    ) {
        self.tls.set_files(ca_file, certificate, key);
        self.apply_tls();
    }

    fn apply_tls(&mut self) {
        let connector = self.tls.connector(self.flags.ssl);
        self.core.inner_mut().options_mut().tls = connector;
    }

    pub fn remove_options(&mut self, options: i32) {
        self.flags.remove(options);
    }

    /// OPTION_REQ to every server now, and to every later connection.
    pub fn set_server_option(&mut self, call: &str, option: &[u8]) -> bool {
        match self.core.set_server_option(option) {
            Ok(()) => {
                if option.eq_ignore_ascii_case(b"exceptions") {
                    self.flags.exceptions = true;
                    self.core.inner_mut().options_mut().exceptions = true;
                }
                true
            }
            Err(e) => {
                self.last.record(call, &e);
                false
            }
        }
    }

    pub fn set_namespace(&mut self, namespace: &[u8]) {
        self.namespace = namespace.to_vec();
    }

    /// SET_CLIENT_ID: not empty, no spaces.
    pub fn set_identifier(&mut self, call: &str, id: &[u8]) -> Result<(), i32> {
        if id.is_empty() || id.contains(&b' ') {
            return Err(self.last.set(
                rc::INVALID_ARGUMENT,
                call,
                "identifier is empty or contains a space",
            ));
        }
        self.identifier = Some(id.to_vec());
        self.core
            .inner_mut()
            .set_client_id(Bytes::copy_from_slice(id));
        Ok(())
    }

    // --- requests ------------------------------------------------------------------------

    /// A job for `function` (with the namespace) under libgearman's rules: a function name is
    /// required, a unique may have 64 bytes of which 63 are kept.
    pub fn job_request(
        &mut self,
        call: &str,
        function: &[u8],
        unique: Option<&[u8]>,
        workload: Bytes,
    ) -> Result<JobRequest, i32> {
        if function.is_empty() {
            return Err(self
                .last
                .set(rc::INVALID_ARGUMENT, call, "function name is empty"));
        }
        let mut name = Vec::with_capacity(self.namespace.len() + function.len());
        name.extend_from_slice(&self.namespace);
        name.extend_from_slice(function);
        let mut request = JobRequest::new(Bytes::from(name), workload);
        if let Some(unique) = unique.filter(|u| !u.is_empty()) {
            if unique.len() > super::UNIQUE_MAX {
                return Err(self.last.set(
                    rc::INVALID_ARGUMENT,
                    call,
                    "unique longer than 64 bytes",
                ));
            }
            request = request.unique(Bytes::copy_from_slice(
                &unique[..unique.len().min(super::UNIQUE_MAX - 1)],
            ));
        }
        Ok(request)
    }

    /// `gearman_client_do*`: runs a job to its end; the data chunks followed by the result.
    pub fn do_job(&mut self, call: &str, request: JobRequest) -> Result<Bytes, i32> {
        self.check_servers(call)?;
        let result = self
            .core
            .run(request)
            .map_err(|e| self.last.record(call, &e))?;
        // As in libgearman, a `do` job's handle is known only while it runs.
        self.do_handle = CString::default();
        self.do_status = result.status.unwrap_or_default();
        match &result.outcome {
            Some(Outcome::Complete(_)) => Ok(result.data_then_result().unwrap_or_default()),
            Some(Outcome::Failed) => Err(self.last.set(rc::WORK_FAIL, call, "the job failed")),
            Some(Outcome::Exception(data)) => {
                Err(self
                    .last
                    .set(rc::WORK_EXCEPTION, call, &String::from_utf8_lossy(data)))
            }
            Some(Outcome::Error(e)) => Err(self.last.record(call, e)),
            Some(Outcome::Queued) | None => {
                Err(self
                    .last
                    .set(rc::UNKNOWN_STATE, call, "the job did not finish"))
            }
        }
    }

    /// `gearman_client_do_background*`: the job handle.
    pub fn do_background(&mut self, call: &str, request: JobRequest) -> Result<Bytes, i32> {
        self.check_servers(call)?;
        let handle = self
            .core
            .submit_background(request.background(true))
            .map_err(|e| self.last.record(call, &e))?;
        self.do_handle = c_string(&handle);
        Ok(handle)
    }

    /// The handle of the last background `do`.
    pub fn do_handle(&self) -> &CStr {
        &self.do_handle
    }

    /// The last WORK_STATUS of the last `do`.
    pub fn do_status(&self) -> (u64, u64) {
        self.do_status
    }

    /// GET_STATUS (by handle) or GET_STATUS_UNIQUE.
    pub fn status(&mut self, call: &str, key: &[u8], by_unique: bool) -> Result<JobStatus, i32> {
        self.check_servers(call)?;
        let status = if by_unique {
            self.core.job_status_unique(key)
        } else {
            self.core.job_status(key)
        };
        status.map_err(|e| self.last.record(call, &e))
    }

    /// ECHO_REQ; the reply must be the same bytes. An empty payload is refused, as libgearman
    /// refuses it.
    pub fn echo(&mut self, call: &str, data: &[u8]) -> Result<(), i32> {
        self.check_servers(call)?;
        super::check_echo_payload(&mut self.last, call, data)?;
        match self.core.echo(data) {
            Ok(reply) if reply[..] == *data => Ok(()),
            Ok(_) => Err(self
                .last
                .set(rc::ECHO_DATA_CORRUPTION, call, "the echo reply differs")),
            Err(e) => Err(self.last.record(call, &e)),
        }
    }

    /// libgearman 1.1's cancel: WORK_FAIL on the client connection, which servers refuse with
    /// JOB_NOT_FOUND. Nothing is cancelled (the admin "cancel job" command does that).
    pub fn cancel_job(&mut self, call: &str, handle: &[u8]) -> Result<(), i32> {
        self.check_servers(call)?;
        self.core
            .send_work_fail(handle)
            .map_err(|e| self.last.record(call, &e))
    }

    /// `gearman_client_wait`: in non-blocking mode, blocks (up to the timeout) until a running
    /// task has something to report, which the next `run_tasks` reports. With nothing running
    /// (blocking calls never leave anything) it is NO_ACTIVE_FDS, as in libgearman.
    pub fn wait(&mut self, call: &str) -> Result<(), i32> {
        if self.waited.is_some() {
            return Ok(());
        }
        if self.jobs.is_empty() {
            return Err(self
                .last
                .set(rc::NO_ACTIVE_FDS, call, "no active file descriptors"));
        }
        match self.core.next_event() {
            Ok(event) => {
                self.waited = event;
                Ok(())
            }
            Err(e) => Err(self.last.record(call, &e)),
        }
    }

    /// The next event for `run_tasks`: one `wait()` took first; in non-blocking mode only what
    /// has arrived (`Error::Timeout` when nothing has).
    fn next_event(&mut self) -> Result<Option<Event>, Error> {
        if let Some(event) = self.waited.take() {
            return Ok(Some(event));
        }
        if !self.flags.non_blocking {
            return self.core.next_event();
        }
        let options = self.core.inner_mut().options_mut();
        let saved = options.timeout.replace(Duration::ZERO);
        let event = self.core.next_event();
        self.core.inner_mut().options_mut().timeout = saved;
        event
    }

    // --- tasks ---------------------------------------------------------------------------

    /// Adds a task. A job without a unique gets one now, as libgearman generates it here.
    pub fn add_task(&mut self, mut kind: TaskKind, key: &[u8], user: U) -> TaskRef<U> {
        if let TaskKind::Job(request) = &mut kind {
            if request.unique.is_none() {
                request.unique = Some(self.core.inner_mut().new_unique());
            }
        }
        let task = Rc::new(RefCell::new(Task::new(kind, key, user)));
        self.tasks.push(task.clone());
        self.new_tasks += 1;
        task
    }

    pub fn tasks(&self) -> &[TaskRef<U>] {
        &self.tasks
    }

    pub fn has_active_tasks(&self) -> bool {
        self.tasks.iter().any(|t| !t.borrow().done)
    }

    /// The task after `task` in libgearman's list, which runs newest first.
    pub fn task_after(&self, task: &TaskRef<U>) -> Option<TaskRef<U>> {
        let pos = self.tasks.iter().rposition(|t| Rc::ptr_eq(t, task))?;
        pos.checked_sub(1).map(|i| self.tasks[i].clone())
    }

    /// Unlinks a task (the caller frees it) and hands back the front end's data.
    pub fn forget(&mut self, task: &TaskRef<U>) -> Option<U> {
        if let Some(pos) = self.tasks.iter().rposition(|t| Rc::ptr_eq(t, task)) {
            self.tasks.remove(pos);
        }
        if self
            .paused
            .as_ref()
            .is_some_and(|p| Rc::ptr_eq(&p.task, task))
        {
            self.paused = None;
        }
        let mut t = task.borrow_mut();
        if t.state == TaskState::New {
            self.new_tasks = self.new_tasks.saturating_sub(1);
        }
        if let Some(job) = t.job.take() {
            self.jobs.remove(&job);
            self.core.take(job);
        }
        t.detached = true;
        t.user.take()
    }

    /// Unlinks every task; the front end frees them.
    pub fn forget_all(&mut self) -> Vec<(TaskRef<U>, U)> {
        let tasks = std::mem::take(&mut self.tasks);
        tasks
            .into_iter()
            .filter_map(|t| {
                let user = self.forget(&t)?;
                Some((t, user))
            })
            .collect()
    }

    /// Applies an event to its task: the callback to call and whether the event ends the task.
    fn apply(task: &mut Task<U>, event: JobEvent) -> (Option<Callback>, Option<Error>) {
        match event {
            JobEvent::Created(handle) => {
                task.handle = c_string(&handle);
                task.known = true;
                task.running = false;
                task.data = Bytes::new();
                task.state = TaskState::Created;
                (Some(Callback::Created), None)
            }
            JobEvent::Data(data) => {
                task.running = true;
                task.streamed.extend_from_slice(&data);
                task.data = data;
                task.state = TaskState::Data;
                (Some(Callback::Data), None)
            }
            JobEvent::Warning(data) => {
                task.running = true;
                task.data = data;
                task.state = TaskState::Warning;
                (Some(Callback::Warning), None)
            }
            JobEvent::Status {
                numerator,
                denominator,
            } => {
                task.running = true;
                task.data = Bytes::new();
                task.numerator = numerator;
                task.denominator = denominator;
                task.state = TaskState::Status;
                (Some(Callback::Status), None)
            }
            JobEvent::Finished(outcome) => {
                task.known = false;
                task.running = false;
                match outcome {
                    Outcome::Queued => {
                        task.ret = SUCCESS;
                        (None, None)
                    }
                    Outcome::Complete(data) => {
                        task.data = data;
                        task.ret = SUCCESS;
                        task.state = TaskState::Complete;
                        (Some(Callback::Complete), None)
                    }
                    Outcome::Failed => {
                        task.data = Bytes::new();
                        task.ret = rc::WORK_FAIL;
                        task.state = TaskState::Fail;
                        (Some(Callback::Fail), None)
                    }
                    Outcome::Exception(data) => {
                        task.exception = data.clone();
                        task.data = data;
                        task.ret = rc::WORK_EXCEPTION;
                        task.state = TaskState::Exception;
                        (Some(Callback::Exception), None)
                    }
                    Outcome::Error(e) => {
                        task.ret = rc::of_error(&e);
                        task.error = Some(c_string(e.to_string().as_bytes()));
                        (Some(Callback::Fail), Some(e))
                    }
                }
            }
        }
    }

    /// Marks a task ended; with FREE_TASKS the client lets go of it (returned for `released`).
    fn finish(&mut self, task: &TaskRef<U>) -> Option<U> {
        let mut t = task.borrow_mut();
        t.done = true;
        if !matches!(
            t.state,
            TaskState::Complete | TaskState::Fail | TaskState::Exception
        ) {
            t.state = TaskState::Finished;
        }
        if let Some(job) = t.job.take() {
            self.jobs.remove(&job);
            self.core.take(job);
        }
        if !self.flags.free_tasks || self.keep_finished || t.detached {
            return None;
        }
        drop(t);
        self.forget(task)
    }

    /// Submits one new job task.
    fn submit(&mut self, call: &str, task: &TaskRef<U>) -> Result<(), i32> {
        let mut t = task.borrow_mut();
        let TaskKind::Job(request) = &t.kind else {
            return Ok(());
        };
        match self.core.submit(request.clone()) {
            Ok(job) => {
                t.job = Some(job);
                t.state = TaskState::Work;
                self.new_tasks = self.new_tasks.saturating_sub(1);
                self.jobs.insert(job, task.clone());
                Ok(())
            }
            Err(e) => {
                let code = self.last.record(call, &e);
                t.ret = code;
                Err(code)
            }
        }
    }

    /// The new tasks, newest first (libgearman's list order), jobs before status queries.
    fn new_tasks(&self) -> (Vec<TaskRef<U>>, Vec<TaskRef<U>>) {
        if self.new_tasks == 0 {
            return (Vec::new(), Vec::new());
        }
        self.tasks
            .iter()
            .rev()
            .filter(|t| t.borrow().state == TaskState::New)
            .cloned()
            .partition(|t| matches!(t.borrow().kind, TaskKind::Job(_)))
    }

    /// GET_STATUS for a status task; the task keeps what the server said.
    fn query_status(&mut self, call: &str, task: &TaskRef<U>) -> Result<(), i32> {
        let (key, by_unique) = {
            let t = task.borrow();
            match t.kind {
                TaskKind::StatusUnique => (t.unique.as_bytes().to_vec(), true),
                _ => (t.handle.as_bytes().to_vec(), false),
            }
        };
        let status = self.status(call, &key, by_unique);
        let mut t = task.borrow_mut();
        match status {
            Ok(s) => {
                t.known = s.known;
                t.running = s.running;
                t.numerator = s.numerator;
                t.denominator = s.denominator;
                t.state = TaskState::Status;
                t.ret = SUCCESS;
                self.new_tasks = self.new_tasks.saturating_sub(1);
                Ok(())
            }
            Err(code) => {
                t.ret = code;
                Err(code)
            }
        }
    }
}

impl<U> ServerList for LibClient<U> {
    const CREATE_CALL: &'static str = "gearman_client_create";

    fn push_server(&mut self, addr: ServerAddr) {
        self.core.add_server(addr);
    }

    fn has_servers(&self) -> bool {
        self.core.inner().servers().next().is_some()
    }

    fn server_addrs(&self) -> Vec<ServerAddr> {
        self.core.inner().servers().cloned().collect()
    }

    fn last_error(&mut self) -> &mut LastError {
        &mut self.last
    }
}

/// Calls a callback with no borrow held, then settles the task: a code other than SUCCESS
/// pauses (the callback runs again next time), an ending event finishes the task.
fn deliver<U, E: TaskEvents<U>>(
    cell: &RefCell<LibClient<U>>,
    events: &mut E,
    call: &str,
    task: TaskRef<U>,
    which: Option<Callback>,
    finishes: bool,
) -> Result<i32, E::Abort> {
    if let Some(which) = which {
        let code = match events.call(&task, which) {
            Ok(code) => code,
            Err(abort) => {
                // The front end stops at once; an ended task is still let go of.
                if finishes {
                    let released = cell.borrow_mut().finish(&task);
                    if let Some(user) = released {
                        events.released(&task, user);
                    }
                }
                return Err(abort);
            }
        };
        if code != SUCCESS {
            let mut c = cell.borrow_mut();
            c.last.set(code, call, "a task callback returned this code");
            if !task.borrow().detached {
                c.paused = Some(Paused {
                    task,
                    which,
                    finishes,
                });
            }
            return Ok(code);
        }
    }
    if finishes {
        let released = cell.borrow_mut().finish(&task);
        if let Some(user) = released {
            events.released(&task, user);
        }
    }
    Ok(SUCCESS)
}

/// Sends the new tasks (jobs, then status queries, whose callbacks run at once).
fn start_new<U, E: TaskEvents<U>>(
    cell: &RefCell<LibClient<U>>,
    events: &mut E,
    call: &str,
) -> Result<i32, E::Abort> {
    let (jobs, statuses) = cell.borrow().new_tasks();
    if jobs.is_empty() && statuses.is_empty() {
        // Nothing is new whatever the count says: never loop on a stale count.
        cell.borrow_mut().new_tasks = 0;
    }
    for task in jobs {
        if let Err(code) = cell.borrow_mut().submit(call, &task) {
            return Ok(code);
        }
    }
    for task in statuses {
        if task.borrow().detached || task.borrow().state != TaskState::New {
            continue;
        }
        if let Err(code) = cell.borrow_mut().query_status(call, &task) {
            return Ok(code);
        }
        let code = deliver(cell, events, call, task, Some(Callback::Status), true)?;
        if code != SUCCESS {
            return Ok(code);
        }
    }
    Ok(SUCCESS)
}

/// What the loop does next.
enum Next<U> {
    Deliver(TaskRef<U>, Option<Callback>, bool, Option<Error>),
    Resume(Paused<U>),
    Return(i32),
    Again,
}

fn next_step<U>(c: &mut LibClient<U>, call: &str, until: Option<&TaskRef<U>>) -> Next<U> {
    if let Some(paused) = c.paused.take() {
        return Next::Resume(paused);
    }
    if until.is_some_and(|t| t.borrow().done) {
        return Next::Return(SUCCESS);
    }
    if c.jobs.is_empty() {
        return if c.new_tasks > 0 && until.is_none() {
            Next::Again
        } else {
            Next::Return(SUCCESS)
        };
    }
    let event = match c.next_event() {
        Ok(Some(event)) => event,
        Err(Error::Timeout(_)) if c.flags.non_blocking => {
            // Nothing has arrived: the caller waits (`wait()`) and runs the tasks again.
            c.last.set_code(rc::IO_WAIT);
            return Next::Return(rc::IO_WAIT);
        }
        Ok(None) => {
            // The core has nothing left to report for these jobs: they are over.
            for (_, task) in c.jobs.drain() {
                task.borrow_mut().job = None;
            }
            return Next::Return(SUCCESS);
        }
        Err(e) => return Next::Return(c.last.record(call, &e)),
    };
    let Some(task) = c.jobs.get(&event.job).cloned() else {
        return Next::Again;
    };
    let ends = matches!(event.event, JobEvent::Finished(_));
    let (which, failure) = LibClient::apply(&mut task.borrow_mut(), event.event);
    Next::Deliver(task, which, ends, failure)
}

/// `gearman_client_run_tasks`: sends new tasks (also those callbacks add) and reports events
/// until every task has ended or a callback pauses.
pub fn run_tasks<U, E: TaskEvents<U>>(
    cell: &RefCell<LibClient<U>>,
    events: &mut E,
    call: &str,
) -> Result<i32, E::Abort> {
    {
        let mut c = cell.borrow_mut();
        if c.tasks.is_empty() && c.paused.is_none() {
            return Ok(SUCCESS);
        }
        if let Err(code) = c.check_servers(call) {
            return Ok(code);
        }
    }
    run_loop(cell, events, call, None)
}

fn run_loop<U, E: TaskEvents<U>>(
    cell: &RefCell<LibClient<U>>,
    events: &mut E,
    call: &str,
    until: Option<&TaskRef<U>>,
) -> Result<i32, E::Abort> {
    loop {
        if until.is_none() {
            let code = start_new(cell, events, call)?;
            if code != SUCCESS {
                return Ok(code);
            }
        }
        let next = next_step(&mut cell.borrow_mut(), call, until);
        let code = match next {
            Next::Return(code) => return Ok(code),
            Next::Again => continue,
            Next::Resume(p) => {
                if p.task.borrow().detached {
                    continue;
                }
                deliver(cell, events, call, p.task, Some(p.which), p.finishes)?
            }
            Next::Deliver(task, which, finishes, failure) => {
                let code = deliver(cell, events, call, task, which, finishes)?;
                match failure {
                    Some(e) if code == SUCCESS => cell.borrow_mut().last.record(call, &e),
                    _ => code,
                }
            }
        };
        if code != SUCCESS {
            return Ok(code);
        }
    }
}

/// `gearman_execute`: submits one task and runs just it, to its end (foreground) or to
/// JOB_CREATED (background); events of other tasks are reported on the way, and no task is
/// released meanwhile.
pub fn execute<U, E: TaskEvents<U>>(
    cell: &RefCell<LibClient<U>>,
    events: &mut E,
    call: &str,
    task: &TaskRef<U>,
) -> Result<i32, E::Abort> {
    {
        let mut c = cell.borrow_mut();
        if let Err(code) = c.check_servers(call) {
            return Ok(code);
        }
        if let Err(code) = c.submit(call, task) {
            return Ok(code);
        }
    }
    let saved = std::mem::replace(&mut cell.borrow_mut().keep_finished, true);
    let result = run_loop(cell, events, call, Some(task));
    cell.borrow_mut().keep_finished = saved;
    result
}
