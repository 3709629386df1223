//! `GearmanClient`: pecl's client on gearman-core's blocking client.
//!
//! State lives in a `RefCell` and no borrow is held while PHP code runs (callbacks), so a
//! callback may call back into the client. A re-entrant call that needs the connection while
//! `runTasks()` is using it gets a warning instead.

use std::cell::{RefCell, RefMut};
use std::time::Duration;

use bytes::Bytes;
use ext_php_rs::convert::IntoZval;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendClassObject, Zval};
use gearman_core::blocking::BlockingClient;
use gearman_core::return_code::{self, SUCCESS};
use gearman_core::{ClientOptions, JobEvent, JobId, JobRequest, Outcome, Priority};
use hashbrown::HashMap;

use crate::convert::{array_zval, bool_zval, bytes_zval, long_zval, to_long, PhpBytes};
use crate::error::{allocation_failure, exception_option_failed, warn, LastError};
use crate::task::{task_of, GearmanTask, TaskKind, TaskState};
use crate::{options, servers};

pub const CLIENT_FREE_TASKS: i64 = 32;

/// The eight task callbacks, in pecl's order.
#[derive(Debug, Clone, Copy)]
enum Callback {
    Workload,
    Created,
    Data,
    Warning,
    Status,
    Complete,
    Exception,
    Fail,
}

const CALLBACKS: usize = 8;

struct ClientState {
    core: BlockingClient,
    options: i64,
    timeout_ms: i64,
    last: LastError,
    context: Bytes,
    callbacks: [Option<Zval>; CALLBACKS],
    /// Tasks added and not yet submitted, in the order they were added.
    queued: Vec<Zval>,
    /// Submitted tasks not yet finished.
    running: HashMap<JobId, Zval>,
    /// The handle of the last `do*()` job.
    last_handle: Bytes,
    /// An event whose callback paused `runTasks()`, delivered again first by the next call.
    paused: Option<(Zval, JobEvent)>,
}

#[php_class]
#[php(name = "GearmanClient")]
pub struct GearmanClient {
    state: RefCell<ClientState>,
}

/// Codes after which `do*()`, `wait()` and `runTasks()` do not warn.
fn is_quiet(code: i32) -> bool {
    use gearman_core::return_code::*;
    matches!(
        code,
        SUCCESS
            | PAUSE
            | IO_WAIT
            | WORK_STATUS
            | WORK_DATA
            | WORK_EXCEPTION
            | WORK_WARNING
            | WORK_FAIL
    )
}

fn priority_of(kind: TaskKind) -> (Priority, bool) {
    match kind {
        TaskKind::Job {
            priority,
            background,
        } => (priority, background),
        TaskKind::Status => (Priority::Normal, false),
    }
}

/// How pecl names a value that is not callable in its warning.
pub fn callable_name(value: &Zval) -> String {
    if value.is_array() {
        return "Array".to_string();
    }
    if value.is_object() {
        return "Object".to_string();
    }
    crate::convert::string_of(value)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

impl GearmanClient {
    /// The state, or a warning when a callback re-enters a call that is using it.
    fn state(&self, call: &str) -> Option<RefMut<'_, ClientState>> {
        match self.state.try_borrow_mut() {
            Ok(state) => Some(state),
            Err(_) => {
                warn(&format!(
                    "{call}(GEARMAN_IN_PROGRESS) the client is busy in another call"
                ));
                None
            }
        }
    }

    /// Runs a foreground job to its end: WORK_DATA chunks followed by the result.
    fn do_foreground(
        &self,
        call: &str,
        function: PhpBytes,
        workload: PhpBytes,
        unique: Option<PhpBytes>,
        priority: Priority,
    ) -> Zval {
        let Some(mut state) = self.state(call) else {
            return bytes_zval(b"");
        };
        let request = job_request(&function, &workload, unique.as_ref(), priority);
        match state.core.run(request) {
            Ok(result) => {
                // libgearman forgets a foreground job's handle once the job is done.
                state.last_handle = Bytes::new();
                match result.outcome {
                    Some(Outcome::Complete(_)) => {
                        state.last.succeed();
                        bytes_zval(&result.data_then_result().unwrap_or_default())
                    }
                    Some(Outcome::Failed) => {
                        state.last.code = return_code::WORK_FAIL;
                        bytes_zval(b"")
                    }
                    Some(Outcome::Exception(_)) => {
                        state.last.code = return_code::WORK_EXCEPTION;
                        bytes_zval(b"")
                    }
                    Some(Outcome::Error(e)) => {
                        state.last.warn_error(call, &e);
                        bytes_zval(b"")
                    }
                    Some(Outcome::Queued) | None => {
                        state
                            .last
                            .warn(return_code::UNKNOWN_STATE, call, "the job did not finish");
                        bytes_zval(b"")
                    }
                }
            }
            Err(e) => {
                state.last.warn_error(call, &e);
                bytes_zval(b"")
            }
        }
    }

    fn submit_background(
        &self,
        call: &str,
        function: PhpBytes,
        workload: PhpBytes,
        unique: Option<PhpBytes>,
        priority: Priority,
    ) -> Zval {
        let Some(mut state) = self.state(call) else {
            return bytes_zval(b"");
        };
        let request = job_request(&function, &workload, unique.as_ref(), priority);
        match state.core.submit_background(request) {
            Ok(handle) => {
                state.last.succeed();
                state.last_handle = handle.clone();
                bytes_zval(&handle)
            }
            Err(e) => {
                state.last.warn_error(call, &e);
                bytes_zval(b"")
            }
        }
    }

    fn add_task_of(
        &self,
        call: &str,
        kind: TaskKind,
        function_name: PhpBytes,
        workload: PhpBytes,
        context: Option<&Zval>,
        unique_key: Option<PhpBytes>,
    ) -> Zval {
        let Some(mut state) = self.state(call) else {
            return bool_zval(false);
        };
        let unique = match unique_key {
            Some(u) if !u.as_bytes().is_empty() => Bytes::copy_from_slice(u.as_bytes()),
            _ => state.core.inner_mut().new_unique(),
        };
        let mut task = TaskState::new(kind);
        task.alive = true;
        task.function = Bytes::copy_from_slice(function_name.as_bytes());
        task.workload = Bytes::copy_from_slice(workload.as_bytes());
        task.unique = unique;
        task.context = context.map(Zval::shallow_clone);
        let object = new_task(task);
        state.queued.push(object.shallow_clone());
        state.last.succeed();
        object
    }

    fn set_callback(&self, call: &str, which: Callback, function: &Zval) -> bool {
        if !function.is_callable() {
            warn(&format!(
                "function {} is not callable",
                callable_name(function)
            ));
            return false;
        }
        let Some(mut state) = self.state(call) else {
            return false;
        };
        state.callbacks[which as usize] = Some(function.shallow_clone());
        true
    }

    /// Calls a task callback, if set: `cb($task)` or `cb($task, $context)`. Returns the code
    /// it returned (`null` is SUCCESS), or `Err` when it threw (the exception stays pending).
    fn fire(&self, which: Callback, task: &Zval) -> Result<i32, ()> {
        let callback = match self.state.try_borrow() {
            Ok(state) => state.callbacks[which as usize]
                .as_ref()
                .map(Zval::shallow_clone),
            Err(_) => None,
        };
        let Some(callback) = callback else {
            return Ok(SUCCESS);
        };
        let context = task_of(task).and_then(|t| {
            t.state
                .try_borrow()
                .ok()
                .and_then(|s| s.context.as_ref().map(Zval::shallow_clone))
        });
        let outcome = match &context {
            Some(context) => callback.try_call(vec![task, context]),
            None => callback.try_call(vec![task]),
        };
        match outcome {
            Ok(value) if value.is_null() => Ok(SUCCESS),
            Ok(value) => Ok(value
                .coerce_to_long()
                .and_then(|v| i32::try_from(v).ok())
                .unwrap_or(SUCCESS)),
            Err(_) => Err(()),
        }
    }

    /// Sends every queued task, most recently added first (libgearman 1.1 prepends).
    fn submit_queued(&self, call: &str) -> Result<(), ()> {
        let Some(mut state) = self.state(call) else {
            return Err(());
        };
        // In the order added; popping from the end sends the last added first.
        let mut queued = std::mem::take(&mut state.queued);
        let mut status_tasks = Vec::new();
        while let Some(object) = queued.pop() {
            let Some(task) = task_of(&object) else {
                continue;
            };
            let mut task_state = task.state.borrow_mut();
            if task_state.kind == TaskKind::Status {
                drop(task_state);
                status_tasks.push(object);
                continue;
            }
            let (priority, background) = priority_of(task_state.kind);
            let request = JobRequest::new(task_state.function.clone(), task_state.workload.clone())
                .unique(task_state.unique.clone())
                .priority(priority)
                .background(background);
            match state.core.submit(request) {
                Ok(id) => {
                    task_state.job = Some(id);
                    drop(task_state);
                    state.running.insert(id, object);
                }
                Err(e) => {
                    drop(task_state);
                    // The unsent tasks stay queued, in the order added, for a later runTasks().
                    queued.push(object);
                    queued.extend(status_tasks.into_iter().rev());
                    state.queued = queued;
                    state.last.warn_error(call, &e);
                    return Err(());
                }
            }
        }
        drop(state);
        let mut status_tasks = status_tasks.into_iter();
        while let Some(object) = status_tasks.next() {
            if self.run_status_task(call, &object).is_err() {
                // A pause, a failure or a PHP exception: the status tasks not yet run wait for
                // the next runTasks().
                let rest: Vec<Zval> = status_tasks.rev().collect();
                if let Ok(mut state) = self.state.try_borrow_mut() {
                    state.queued.splice(0..0, rest);
                }
                return Err(());
            }
        }
        Ok(())
    }

    /// GET_STATUS for an `addTaskStatus()` task, then its status callback.
    fn run_status_task(&self, call: &str, object: &Zval) -> Result<(), ()> {
        let Some(task) = task_of(object) else {
            return Ok(());
        };
        let handle = task.state.borrow().handle.clone();
        let status = {
            let Some(mut state) = self.state(call) else {
                return Err(());
            };
            match state.core.job_status(&handle) {
                Ok(status) => status,
                Err(e) => {
                    state.last.warn_error(call, &e);
                    return Err(());
                }
            }
        };
        {
            let mut t = task.state.borrow_mut();
            t.known = status.known;
            t.running = status.running;
            t.numerator = status.numerator;
            t.denominator = status.denominator;
            t.finished = true;
        }
        let code = self.fire(Callback::Status, object)?;
        self.release(object);
        if code != SUCCESS {
            return self.paused(code);
        }
        Ok(())
    }

    /// A callback asked to stop: `runTasks()` returns with its code.
    fn paused(&self, code: i32) -> Result<(), ()> {
        if let Ok(mut state) = self.state.try_borrow_mut() {
            state.last.code = code;
            if !is_quiet(code) {
                state
                    .last
                    .warn(code, "runTasks", "a task callback returned this code");
                return Err(());
            }
        }
        Err(())
    }

    /// libgearman frees finished tasks with FREE_TASKS; the PHP object then reports dead.
    fn release(&self, object: &Zval) {
        let free = self
            .state
            .try_borrow()
            .map_or(true, |s| s.options & CLIENT_FREE_TASKS != 0);
        if free {
            if let Some(task) = task_of(object) {
                if let Ok(mut t) = task.state.try_borrow_mut() {
                    t.alive = false;
                    t.context = None;
                }
            }
        }
    }

    /// The task object an event belongs to; a final event also forgets the job.
    fn task_for(state: &mut ClientState, job: JobId, event: &JobEvent) -> Option<Zval> {
        if matches!(event, JobEvent::Finished(_)) {
            let object = state.running.remove(&job);
            state.core.take(job);
            object
        } else {
            state.running.get(&job).map(Zval::shallow_clone)
        }
    }

    /// Applies one event to its task and fires the matching callback. When the callback asks to
    /// pause, the event is kept and delivered again by the next `runTasks()`, as libgearman
    /// re-runs a paused task's callback.
    fn deliver(&self, object: Zval, event: JobEvent) -> Result<(), ()> {
        let kept = event.clone();
        let Some(task) = task_of(&object) else {
            return Ok(());
        };
        let mut failure = None;
        let which = {
            let mut t = task.state.borrow_mut();
            match event {
                JobEvent::Created(handle) => {
                    t.handle = handle;
                    t.known = true;
                    t.running = false;
                    t.data = Bytes::new();
                    Some(Callback::Created)
                }
                JobEvent::Data(data) => {
                    t.running = true;
                    t.data = data;
                    Some(Callback::Data)
                }
                JobEvent::Warning(data) => {
                    t.running = true;
                    t.data = data;
                    Some(Callback::Warning)
                }
                JobEvent::Status {
                    numerator,
                    denominator,
                } => {
                    t.running = true;
                    t.data = Bytes::new();
                    t.numerator = numerator;
                    t.denominator = denominator;
                    Some(Callback::Status)
                }
                JobEvent::Finished(outcome) => {
                    t.finished = true;
                    t.known = false;
                    t.running = false;
                    match outcome {
                        Outcome::Complete(result) => {
                            t.data = result;
                            Some(Callback::Complete)
                        }
                        Outcome::Exception(data) => {
                            t.data = data;
                            Some(Callback::Exception)
                        }
                        Outcome::Failed => {
                            t.data = Bytes::new();
                            Some(Callback::Fail)
                        }
                        Outcome::Queued => None,
                        Outcome::Error(e) => {
                            failure = Some(e);
                            Some(Callback::Fail)
                        }
                    }
                }
            }
        };
        let code = match which {
            Some(which) => match self.fire(which, &object) {
                Ok(code) => code,
                Err(()) => {
                    // The callback threw: a finished task is released all the same.
                    if task.state.try_borrow().is_ok_and(|t| t.finished) {
                        self.release(&object);
                    }
                    return Err(());
                }
            },
            None => SUCCESS,
        };
        if code != SUCCESS && failure.is_none() {
            if let Ok(mut state) = self.state.try_borrow_mut() {
                state.paused = Some((object.shallow_clone(), kept));
            }
            return self.paused(code);
        }
        let finished = task.state.try_borrow().is_ok_and(|t| t.finished);
        if finished {
            self.release(&object);
        }
        if let Some(e) = failure {
            if let Ok(mut state) = self.state.try_borrow_mut() {
                state.last.warn_error("runTasks", &e);
            }
            return Err(());
        }
        Ok(())
    }

    /// `runTasks()`: submit, then process events until every task has finished.
    fn run_all(&self) -> bool {
        let call = "runTasks";
        let quiet = || self.state.try_borrow().is_ok_and(|s| is_quiet(s.last.code));
        loop {
            // Tasks added before the call, and by callbacks during it, are sent here.
            let has_queued = self.state.try_borrow().is_ok_and(|s| !s.queued.is_empty());
            if has_queued && self.submit_queued(call).is_err() {
                return quiet();
            }
            let (object, event) = {
                let Some(mut state) = self.state(call) else {
                    return false;
                };
                if let Some(paused) = state.paused.take() {
                    paused
                } else {
                    if state.running.is_empty() {
                        state.last.succeed();
                        return true;
                    }
                    let event = match state.core.next_event() {
                        Ok(Some(event)) => event,
                        Ok(None) => {
                            let orphans: Vec<Zval> =
                                state.running.drain().map(|(_, o)| o).collect();
                            state.last.succeed();
                            drop(state);
                            for object in &orphans {
                                self.release(object);
                            }
                            return true;
                        }
                        Err(e) => {
                            state.last.warn_error(call, &e);
                            return false;
                        }
                    };
                    match Self::task_for(&mut state, event.job, &event.event) {
                        Some(object) => (object, event.event),
                        None => continue,
                    }
                }
            };
            if let Err(()) = self.deliver(object, event) {
                return quiet();
            }
        }
    }

    fn status_array(known: bool, running: bool, numerator: u64, denominator: u64) -> Zval {
        array_zval(vec![
            bool_zval(known),
            bool_zval(running),
            long_zval(to_long(numerator)),
            long_zval(to_long(denominator)),
        ])
    }

    fn job_status_of(&self, call: &str, key: &[u8], by_unique: bool) -> Zval {
        let Some(mut state) = self.state(call) else {
            return Self::status_array(false, false, 0, 0);
        };
        let status = if by_unique {
            state.core.job_status_unique(key)
        } else {
            state.core.job_status(key)
        };
        match status {
            Ok(s) => {
                state.last.succeed();
                Self::status_array(s.known, s.running, s.numerator, s.denominator)
            }
            Err(e) => {
                state.last.warn_error(call, &e);
                Self::status_array(false, false, 0, 0)
            }
        }
    }

    /// OPTION_REQ `exceptions` to every server now (pecl's exception handler set-up).
    fn send_exceptions_option(&self, call: &str) -> PhpResult<bool> {
        let Some(mut state) = self.state(call) else {
            return Ok(false);
        };
        if state.core.inner().servers().next().is_none() {
            state.core.inner_mut().options_mut().exceptions = true;
            return Ok(true);
        }
        match state.core.set_server_option(b"exceptions") {
            Ok(()) => {
                state.last.succeed();
                Ok(true)
            }
            Err(e) => {
                state.last.record_error(call, &e);
                Err(exception_option_failed())
            }
        }
    }
}

fn job_request(
    function: &PhpBytes,
    workload: &PhpBytes,
    unique: Option<&PhpBytes>,
    priority: Priority,
) -> JobRequest {
    let mut request = JobRequest::new(
        Bytes::copy_from_slice(function.as_bytes()),
        Bytes::copy_from_slice(workload.as_bytes()),
    )
    .priority(priority);
    if let Some(unique) = unique.filter(|u| !u.as_bytes().is_empty()) {
        request = request.unique(Bytes::copy_from_slice(unique.as_bytes()));
    }
    request
}

/// A new GearmanTask object, as a zval the client and PHP share.
fn new_task(state: TaskState) -> Zval {
    let object = ZendClassObject::new(GearmanTask::with_state(state));
    let mut zval = Zval::new();
    // Setting an object into a fresh zval cannot fail.
    let _ = object.set_zval(&mut zval, false);
    zval
}

#[php_impl]
impl GearmanClient {
    pub fn __construct() -> PhpResult<GearmanClient> {
        let core =
            BlockingClient::new(ClientOptions::default()).map_err(|_| allocation_failure())?;
        Ok(GearmanClient {
            state: RefCell::new(ClientState {
                core,
                options: CLIENT_FREE_TASKS,
                timeout_ms: -1,
                last: LastError::default(),
                context: Bytes::new(),
                callbacks: Default::default(),
                queued: Vec::new(),
                running: HashMap::new(),
                last_handle: Bytes::new(),
                paused: None,
            }),
        })
    }

    pub fn return_code(&self) -> i64 {
        self.state
            .try_borrow()
            .map_or(0, |s| i64::from(s.last.code))
    }

    pub fn error(&self) -> Zval {
        self.state
            .try_borrow()
            .map_or_else(|_| bool_zval(false), |s| s.last.text_zval())
    }

    pub fn get_errno(&self) -> i64 {
        self.state
            .try_borrow()
            .map_or(0, |s| i64::from(s.last.errno))
    }

    pub fn options(&self) -> i64 {
        self.state.try_borrow().map_or(0, |s| s.options)
    }

    pub fn set_options(&self, option: i64) -> bool {
        self.state("setOptions")
            .map(|mut s| s.options = options::CLIENT.set(s.options, option))
            .is_some()
    }

    pub fn add_options(&self, option: i64) -> bool {
        self.state("addOptions")
            .map(|mut s| s.options = options::CLIENT.add(s.options, option))
            .is_some()
    }

    pub fn remove_options(&self, option: i64) -> bool {
        self.state("removeOptions")
            .map(|mut s| s.options = options::CLIENT.remove(s.options, option))
            .is_some()
    }

    pub fn timeout(&self) -> i64 {
        self.state.try_borrow().map_or(-1, |s| s.timeout_ms)
    }

    pub fn set_timeout(&self, timeout: i64) -> bool {
        let Some(mut state) = self.state("setTimeout") else {
            return false;
        };
        state.timeout_ms = timeout;
        state.core.inner_mut().options_mut().timeout =
            (timeout >= 0).then(|| Duration::from_millis(timeout.unsigned_abs()));
        true
    }

    #[php(optional = host)]
    pub fn add_server(
        &self,
        host: Option<PhpBytes>,
        port: Option<i64>,
        setupExceptionHandler: Option<bool>,
    ) -> PhpResult<bool> {
        let call = "addServer";
        let addr = {
            let Some(mut state) = self.state(call) else {
                return Ok(false);
            };
            match servers::resolve(host.as_ref().map(PhpBytes::as_bytes), port.unwrap_or(0)) {
                Ok(addr) => addr,
                Err(e) => {
                    state.last.warn(return_code::GETADDRINFO, call, &e);
                    return Ok(false);
                }
            }
        };
        if let Some(mut state) = self.state(call) {
            state.core.add_server(addr);
        }
        if setupExceptionHandler.unwrap_or(true) {
            return self.send_exceptions_option(call);
        }
        Ok(true)
    }

    #[php(optional = servers)]
    pub fn add_servers(
        &self,
        servers: Option<PhpBytes>,
        setupExceptionHandler: Option<bool>,
    ) -> PhpResult<bool> {
        let call = "addServers";
        {
            let Some(mut state) = self.state(call) else {
                return Ok(false);
            };
            let list = servers::list_or_default(servers.as_ref().map(PhpBytes::as_bytes));
            match servers::resolve_list(&list) {
                Ok(addrs) => {
                    for addr in addrs {
                        state.core.add_server(addr);
                    }
                }
                Err(e) => {
                    state.last.warn(return_code::GETADDRINFO, call, &e);
                    return Ok(false);
                }
            }
        }
        if setupExceptionHandler.unwrap_or(true) {
            return self.send_exceptions_option(call);
        }
        Ok(true)
    }

    /// Waits for I/O in non-blocking mode. This client's calls block until they are done,
    /// so there is never I/O left to wait for.
    pub fn wait(&self) -> bool {
        self.state("wait").map(|mut s| s.last.succeed()).is_some()
    }

    pub fn do_normal(
        &self,
        function: PhpBytes,
        workload: PhpBytes,
        unique: Option<PhpBytes>,
    ) -> Zval {
        self.do_foreground("doNormal", function, workload, unique, Priority::Normal)
    }

    pub fn do_high(
        &self,
        function: PhpBytes,
        workload: PhpBytes,
        unique: Option<PhpBytes>,
    ) -> Zval {
        self.do_foreground("doHigh", function, workload, unique, Priority::High)
    }

    pub fn do_low(&self, function: PhpBytes, workload: PhpBytes, unique: Option<PhpBytes>) -> Zval {
        self.do_foreground("doLow", function, workload, unique, Priority::Low)
    }

    pub fn do_background(
        &self,
        function: PhpBytes,
        workload: PhpBytes,
        unique: Option<PhpBytes>,
    ) -> Zval {
        self.submit_background("doBackground", function, workload, unique, Priority::Normal)
    }

    pub fn do_high_background(
        &self,
        function: PhpBytes,
        workload: PhpBytes,
        unique: Option<PhpBytes>,
    ) -> Zval {
        self.submit_background(
            "doHighBackground",
            function,
            workload,
            unique,
            Priority::High,
        )
    }

    pub fn do_low_background(
        &self,
        function: PhpBytes,
        workload: PhpBytes,
        unique: Option<PhpBytes>,
    ) -> Zval {
        self.submit_background("doLowBackground", function, workload, unique, Priority::Low)
    }

    pub fn do_job_handle(&self) -> Zval {
        match self.state.try_borrow() {
            Ok(s) => bytes_zval(&s.last_handle),
            Err(_) => bytes_zval(b""),
        }
    }

    /// `[numerator, denominator]` of the running `do*()`. Calls block to the end, so no job is
    /// ever observed running.
    pub fn do_status(&self) -> Zval {
        array_zval(vec![long_zval(0), long_zval(0)])
    }

    pub fn job_status(&self, job_handle: PhpBytes) -> Zval {
        self.job_status_of("jobStatus", job_handle.as_bytes(), false)
    }

    pub fn job_status_by_unique_key(&self, unique_key: PhpBytes) -> Zval {
        self.job_status_of("jobStatusByUniqueKey", unique_key.as_bytes(), true)
    }

    pub fn ping(&self, workload: PhpBytes) -> bool {
        let call = "ping";
        let Some(mut state) = self.state(call) else {
            return false;
        };
        match state.core.echo(workload.as_bytes()) {
            Ok(reply) if reply[..] == *workload.as_bytes() => {
                state.last.succeed();
                true
            }
            Ok(_) => {
                state.last.warn(
                    return_code::ECHO_DATA_CORRUPTION,
                    call,
                    "the echo reply differs from the request",
                );
                false
            }
            Err(e) => {
                state.last.warn_error(call, &e);
                false
            }
        }
    }

    #[php(optional = context)]
    pub fn add_task(
        &self,
        function_name: PhpBytes,
        workload: PhpBytes,
        context: Option<&Zval>,
        unique_key: Option<PhpBytes>,
    ) -> Zval {
        let kind = TaskKind::Job {
            priority: Priority::Normal,
            background: false,
        };
        self.add_task_of(
            "addTask",
            kind,
            function_name,
            workload,
            context,
            unique_key,
        )
    }

    #[php(optional = context)]
    pub fn add_task_high(
        &self,
        function_name: PhpBytes,
        workload: PhpBytes,
        context: Option<&Zval>,
        unique_key: Option<PhpBytes>,
    ) -> Zval {
        let kind = TaskKind::Job {
            priority: Priority::High,
            background: false,
        };
        self.add_task_of(
            "addTaskHigh",
            kind,
            function_name,
            workload,
            context,
            unique_key,
        )
    }

    #[php(optional = context)]
    pub fn add_task_low(
        &self,
        function_name: PhpBytes,
        workload: PhpBytes,
        context: Option<&Zval>,
        unique_key: Option<PhpBytes>,
    ) -> Zval {
        let kind = TaskKind::Job {
            priority: Priority::Low,
            background: false,
        };
        self.add_task_of(
            "addTaskLow",
            kind,
            function_name,
            workload,
            context,
            unique_key,
        )
    }

    #[php(optional = context)]
    pub fn add_task_background(
        &self,
        function_name: PhpBytes,
        workload: PhpBytes,
        context: Option<&Zval>,
        unique_key: Option<PhpBytes>,
    ) -> Zval {
        let kind = TaskKind::Job {
            priority: Priority::Normal,
            background: true,
        };
        self.add_task_of(
            "addTaskBackground",
            kind,
            function_name,
            workload,
            context,
            unique_key,
        )
    }

    #[php(optional = context)]
    pub fn add_task_high_background(
        &self,
        function_name: PhpBytes,
        workload: PhpBytes,
        context: Option<&Zval>,
        unique_key: Option<PhpBytes>,
    ) -> Zval {
        let kind = TaskKind::Job {
            priority: Priority::High,
            background: true,
        };
        self.add_task_of(
            "addTaskHighBackground",
            kind,
            function_name,
            workload,
            context,
            unique_key,
        )
    }

    #[php(optional = context)]
    pub fn add_task_low_background(
        &self,
        function_name: PhpBytes,
        workload: PhpBytes,
        context: Option<&Zval>,
        unique_key: Option<PhpBytes>,
    ) -> Zval {
        let kind = TaskKind::Job {
            priority: Priority::Low,
            background: true,
        };
        self.add_task_of(
            "addTaskLowBackground",
            kind,
            function_name,
            workload,
            context,
            unique_key,
        )
    }

    pub fn run_tasks(&self) -> bool {
        self.run_all()
    }

    #[php(optional = context)]
    pub fn add_task_status(&self, job_handle: PhpBytes, context: Option<&Zval>) -> Zval {
        let Some(mut state) = self.state("addTaskStatus") else {
            return bool_zval(false);
        };
        let mut task = TaskState::new(TaskKind::Status);
        task.alive = true;
        task.handle = Bytes::copy_from_slice(job_handle.as_bytes());
        task.known = true;
        task.context = context.map(Zval::shallow_clone);
        let object = new_task(task);
        state.queued.push(object.shallow_clone());
        object
    }

    pub fn set_workload_callback(&self, function: &Zval) -> bool {
        self.set_callback("setWorkloadCallback", Callback::Workload, function)
    }

    pub fn set_created_callback(&self, function: &Zval) -> bool {
        self.set_callback("setCreatedCallback", Callback::Created, function)
    }

    pub fn set_data_callback(&self, function: &Zval) -> bool {
        self.set_callback("setDataCallback", Callback::Data, function)
    }

    pub fn set_warning_callback(&self, function: &Zval) -> bool {
        self.set_callback("setWarningCallback", Callback::Warning, function)
    }

    pub fn set_status_callback(&self, function: &Zval) -> bool {
        self.set_callback("setStatusCallback", Callback::Status, function)
    }

    pub fn set_complete_callback(&self, function: &Zval) -> bool {
        self.set_callback("setCompleteCallback", Callback::Complete, function)
    }

    /// Also asks the servers to forward exceptions, as pecl does.
    pub fn set_exception_callback(&self, function: &Zval) -> PhpResult<bool> {
        if !self.set_callback("setExceptionCallback", Callback::Exception, function) {
            return Ok(false);
        }
        self.send_exceptions_option("setExceptionCallback")
    }

    pub fn set_fail_callback(&self, function: &Zval) -> bool {
        self.set_callback("setFailCallback", Callback::Fail, function)
    }

    pub fn clear_callbacks(&self) -> bool {
        if let Ok(mut state) = self.state.try_borrow_mut() {
            state.callbacks = Default::default();
        }
        true
    }

    pub fn context(&self) -> Zval {
        match self.state.try_borrow() {
            Ok(s) => bytes_zval(&s.context),
            Err(_) => bytes_zval(b""),
        }
    }

    pub fn set_context(&self, data: PhpBytes) -> bool {
        self.state("setContext")
            .map(|mut s| s.context = Bytes::copy_from_slice(data.as_bytes()))
            .is_some()
    }

    pub fn enable_exception_handler(&self) -> PhpResult<bool> {
        self.send_exceptions_option("enableExceptionHandler")
    }
}
