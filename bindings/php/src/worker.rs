//! `GearmanWorker`: pecl's worker on gearman-core's blocking worker.
//!
//! The connection is shared (`Rc`) with the GearmanJob objects it hands out, so a job can report
//! from inside its callback. No borrow is held while PHP code runs.

use std::cell::{RefCell, RefMut};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use bytes::Bytes;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendClassObject, Zval};
use gearman_core::blocking::BlockingWorker;
use gearman_core::return_code::{self, SUCCESS};
use gearman_core::{AssignedJob, Error, WorkerOptions};

use crate::convert::{bool_zval, string_of, PhpBytes};
use crate::error::{allocation_failure, exception_option_failed, warn, LastError};
use crate::job::GearmanJob;
use crate::{options, servers};

/// GRAB_ALL (512, no PHP constant) + GRAB_UNIQ (128) + PACKET_INIT (4), as libgearman starts.
const WORKER_DEFAULT_OPTIONS: i64 = 644;
const WORKER_NON_BLOCKING: i64 = 2;
/// GEARMAN_WORKER_TIMEOUT_RETURN, which libgearman turns on with every setTimeout().
const WORKER_TIMEOUT_RETURN: i64 = 256;

/// What the client of a job whose callback threw sees, as with pecl.
const THROWN_EXCEPTION_TEXT: &[u8] = b"Unable to add worker function";

struct Function {
    callback: Zval,
    context: Zval,
}

struct WorkerState {
    options: i64,
    timeout_ms: i64,
    last: LastError,
    functions: HashMap<Bytes, Function>,
}

#[php_class]
#[php(name = "GearmanWorker")]
pub struct GearmanWorker {
    state: RefCell<WorkerState>,
    core: Rc<RefCell<BlockingWorker>>,
}

/// Codes after which `work()` returns false without a warning.
fn is_quiet(code: i32) -> bool {
    use gearman_core::return_code::*;
    matches!(
        code,
        IO_WAIT | WORK_FAIL | WORK_EXCEPTION | NO_JOBS | TIMEOUT
    )
}

impl GearmanWorker {
    fn state(&self, call: &str) -> Option<RefMut<'_, WorkerState>> {
        match self.state.try_borrow_mut() {
            Ok(state) => Some(state),
            Err(_) => {
                warn(&format!(
                    "{call}(GEARMAN_IN_PROGRESS) the worker is busy in another call"
                ));
                None
            }
        }
    }

    fn core(&self, call: &str) -> Option<RefMut<'_, BlockingWorker>> {
        match self.core.try_borrow_mut() {
            Ok(core) => Some(core),
            Err(_) => {
                warn(&format!(
                    "{call}(GEARMAN_IN_PROGRESS) the worker is busy in another call"
                ));
                None
            }
        }
    }

    /// Records a core error; warns unless the code is one pecl keeps quiet about.
    fn fail(&self, call: &str, error: &Error) -> i32 {
        let Ok(mut state) = self.state.try_borrow_mut() else {
            return return_code::of_error(error);
        };
        let code = state.last.record_error(call, error);
        if !is_quiet(code) {
            state.last.warn_last();
        }
        code
    }

    fn succeed(&self) {
        if let Ok(mut state) = self.state.try_borrow_mut() {
            state.last.succeed();
        }
    }

    fn set_code(&self, code: i32) {
        if let Ok(mut state) = self.state.try_borrow_mut() {
            state.last.code = code;
        }
    }

    /// Connects now and asks for exceptions (pecl's exception handler set-up).
    fn connect_for_exceptions(&self, call: &str) -> PhpResult<bool> {
        let Some(mut core) = self.core(call) else {
            return Ok(false);
        };
        core.inner_mut().options_mut().exceptions = true;
        if core.inner().servers().next().is_none() {
            return Ok(true);
        }
        match core.connect_all() {
            Ok(()) => {
                drop(core);
                self.succeed();
                Ok(true)
            }
            Err(e) => {
                drop(core);
                if let Ok(mut state) = self.state.try_borrow_mut() {
                    state.last.record_error(call, &e);
                }
                Err(exception_option_failed())
            }
        }
    }

    fn add_resolved(
        &self,
        call: &str,
        resolved: Result<Vec<gearman_core::ServerAddr>, String>,
        setup_exception_handler: bool,
    ) -> PhpResult<bool> {
        match resolved {
            Ok(addrs) => {
                let Some(mut core) = self.core(call) else {
                    return Ok(false);
                };
                for addr in addrs {
                    core.add_server(addr);
                }
            }
            Err(e) => {
                if let Some(mut state) = self.state(call) {
                    state.last.warn(return_code::GETADDRINFO, call, &e);
                }
                return Ok(false);
            }
        }
        if setup_exception_handler {
            return self.connect_for_exceptions(call);
        }
        self.succeed();
        Ok(true)
    }

    fn new_job_object(&self, job: AssignedJob) -> Zval {
        let object = ZendClassObject::new(GearmanJob::assigned(self.core.clone(), job));
        let mut zval = Zval::new();
        // Setting an object into a fresh zval cannot fail.
        let _ = ext_php_rs::convert::IntoZval::set_zval(object, &mut zval, false);
        zval
    }

    /// Waits for a job; with GEARMAN_WORKER_NON_BLOCKING it only takes what has arrived and
    /// otherwise gives IO_WAIT (quietly), as libgearman does.
    fn grab(&self, call: &str) -> Result<AssignedJob, i32> {
        let non_blocking = self
            .state
            .try_borrow()
            .is_ok_and(|s| s.options & WORKER_NON_BLOCKING != 0);
        let grabbed = match self.core(call) {
            Some(mut core) if non_blocking => {
                let saved = core.inner().options().timeout;
                core.inner_mut().options_mut().timeout = Some(Duration::ZERO);
                let grabbed = core.grab_job();
                core.inner_mut().options_mut().timeout = saved;
                grabbed
            }
            Some(mut core) => core.grab_job(),
            None => return Err(return_code::IN_PROGRESS),
        };
        match grabbed {
            Ok(job) => Ok(job),
            Err(Error::Timeout(_)) if non_blocking => {
                self.set_code(return_code::IO_WAIT);
                Err(return_code::IO_WAIT)
            }
            Err(e) => Err(self.fail(call, &e)),
        }
    }

    /// One job: grab it, run its callback, send what the callback returned.
    fn work_one(&self) -> bool {
        let call = "work";
        let job = match self.grab(call) {
            Ok(job) => job,
            Err(_) => return false,
        };
        let function = self.state.try_borrow().ok().and_then(|s| {
            s.functions.get(&job.function).map(|f| Function {
                callback: f.callback.shallow_clone(),
                context: f.context.shallow_clone(),
            })
        });
        let Some(function) = function else {
            if let Some(mut core) = self.core(call) {
                let _ = core.send_fail(&job);
            }
            if let Some(mut state) = self.state(call) {
                state.last.warn(
                    return_code::INVALID_FUNCTION_NAME,
                    call,
                    "a job arrived for a function without a callback",
                );
            }
            return false;
        };
        let object = self.new_job_object(job.clone());
        let returned = function.callback.try_call(vec![&object, &function.context]);
        let job_object = object
            .object()
            .and_then(ZendClassObject::<GearmanJob>::from_zend_obj);
        let (finished, job_code) = job_object
            .and_then(|j| j.state.try_borrow().ok().map(|s| (s.finished, s.code)))
            .unwrap_or((false, SUCCESS));
        let returned = match returned {
            Ok(value) => value,
            Err(_) => {
                // The PHP exception stays pending and leaves work() unchanged; the client
                // learns of it as pecl reports it.
                if !finished {
                    if let Some(mut core) = self.core(call) {
                        let _ = core.send_exception(&job, THROWN_EXCEPTION_TEXT);
                    }
                }
                self.set_code(return_code::WORK_EXCEPTION);
                return false;
            }
        };
        if finished {
            self.succeed();
            return true;
        }
        // From here work() sends the result, so the job object must not send another.
        if let Some(mut state) = job_object.and_then(|j| j.state.try_borrow_mut().ok()) {
            state.finished = true;
        }
        if job_code != SUCCESS {
            if let Some(mut core) = self.core(call) {
                let _ = core.send_fail(&job);
            }
            if let Some(mut state) = self.state(call) {
                state
                    .last
                    .set(job_code, call, "the job callback set this return code");
                if !is_quiet(job_code) {
                    state.last.warn_last();
                }
            }
            return false;
        }
        let Some(result) = string_of(&returned) else {
            // Converting the return value threw; that exception is pending.
            if let Some(mut core) = self.core(call) {
                let _ = core.send_exception(&job, THROWN_EXCEPTION_TEXT);
            }
            self.set_code(return_code::WORK_EXCEPTION);
            return false;
        };
        let sent = match self.core(call) {
            Some(mut core) => core.send_complete(&job, &result),
            None => return false,
        };
        match sent {
            Ok(()) => {
                self.succeed();
                true
            }
            Err(e) => {
                self.fail(call, &e);
                false
            }
        }
    }
}

#[php_impl]
impl GearmanWorker {
    pub fn __construct() -> PhpResult<GearmanWorker> {
        let core =
            BlockingWorker::new(WorkerOptions::default()).map_err(|_| allocation_failure())?;
        Ok(GearmanWorker {
            state: RefCell::new(WorkerState {
                options: WORKER_DEFAULT_OPTIONS,
                timeout_ms: -1,
                last: LastError::default(),
                functions: HashMap::new(),
            }),
            core: Rc::new(RefCell::new(core)),
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
            .map(|mut s| s.options = options::WORKER.set(s.options, option))
            .is_some()
    }

    pub fn add_options(&self, option: i64) -> bool {
        self.state("addOptions")
            .map(|mut s| s.options = options::WORKER.add(s.options, option))
            .is_some()
    }

    pub fn remove_options(&self, option: i64) -> bool {
        self.state("removeOptions")
            .map(|mut s| s.options = options::WORKER.remove(s.options, option))
            .is_some()
    }

    pub fn timeout(&self) -> i64 {
        self.state.try_borrow().map_or(-1, |s| s.timeout_ms)
    }

    pub fn set_timeout(&self, timeout: i64) -> bool {
        let Some(mut state) = self.state("setTimeout") else {
            return false;
        };
        let Some(mut core) = self.core("setTimeout") else {
            return false;
        };
        state.timeout_ms = timeout;
        state.options |= WORKER_TIMEOUT_RETURN;
        core.inner_mut().options_mut().timeout =
            (timeout >= 0).then(|| Duration::from_millis(timeout.unsigned_abs()));
        true
    }

    pub fn set_id(&self, id: PhpBytes) -> bool {
        let Some(mut core) = self.core("setId") else {
            return false;
        };
        core.inner_mut()
            .set_client_id(Bytes::copy_from_slice(id.as_bytes()));
        drop(core);
        self.succeed();
        true
    }

    #[php(optional = host)]
    pub fn add_server(
        &self,
        host: Option<PhpBytes>,
        port: Option<i64>,
        setupExceptionHandler: Option<bool>,
    ) -> PhpResult<bool> {
        let resolved = servers::resolve(host.as_ref().map(PhpBytes::as_bytes), port.unwrap_or(0))
            .map(|a| vec![a]);
        self.add_resolved("addServer", resolved, setupExceptionHandler.unwrap_or(true))
    }

    #[php(optional = servers)]
    pub fn add_servers(
        &self,
        servers: Option<PhpBytes>,
        setupExceptionHandler: Option<bool>,
    ) -> PhpResult<bool> {
        let list = servers::list_or_default(servers.as_ref().map(PhpBytes::as_bytes));
        self.add_resolved(
            "addServers",
            servers::resolve_list(&list),
            setupExceptionHandler.unwrap_or(true),
        )
    }

    /// Connects to the servers; in blocking mode there is nothing else to wait for.
    pub fn wait(&self) -> bool {
        let call = "wait";
        let connected = match self.core(call) {
            Some(mut core) => core.connect_all(),
            None => return false,
        };
        match connected {
            Ok(()) => {
                self.succeed();
                true
            }
            Err(e) => {
                self.fail(call, &e);
                false
            }
        }
    }

    #[php(optional = timeout)]
    pub fn register(&self, function_name: PhpBytes, timeout: Option<i64>) -> bool {
        let call = "register";
        let name = Bytes::copy_from_slice(function_name.as_bytes());
        let timeout = timeout
            .filter(|t| *t > 0)
            .map(|t| u32::try_from(t).unwrap_or(u32::MAX));
        let registered = match self.core(call) {
            Some(mut core) => core.register(name, timeout),
            None => return false,
        };
        match registered {
            Ok(()) => {
                self.succeed();
                true
            }
            Err(e) => {
                self.fail(call, &e);
                false
            }
        }
    }

    pub fn unregister(&self, function_name: PhpBytes) -> bool {
        let call = "unregister";
        let Some(mut core) = self.core(call) else {
            return false;
        };
        let known = core.inner_mut().unregister(function_name.as_bytes());
        drop(core);
        if let Some(mut state) = self.state(call) {
            state.functions.remove(function_name.as_bytes());
            if known {
                state.last.succeed();
            } else {
                state.last.warn(
                    return_code::NO_REGISTERED_FUNCTION,
                    call,
                    "the function is not registered",
                );
            }
        }
        known
    }

    pub fn unregister_all(&self) -> bool {
        let call = "unregisterAll";
        let Some(mut core) = self.core(call) else {
            return false;
        };
        let any = core.inner().functions().next().is_some();
        core.inner_mut().unregister_all();
        drop(core);
        if let Some(mut state) = self.state(call) {
            state.functions.clear();
            if any {
                state.last.succeed();
            } else {
                state.last.warn(
                    return_code::NO_REGISTERED_FUNCTIONS,
                    call,
                    "no functions are registered",
                );
            }
        }
        any
    }

    /// pecl declares GearmanWorker|false but returns a GearmanJob.
    pub fn grab_job(&self) -> Zval {
        match self.grab("grabJob") {
            Ok(job) => {
                self.succeed();
                self.new_job_object(job)
            }
            // Non-blocking with no job: an empty GearmanJob, as pecl gives.
            Err(return_code::IO_WAIT) => {
                let mut zval = Zval::new();
                let _ = ext_php_rs::convert::IntoZval::set_zval(
                    ZendClassObject::new(GearmanJob::default()),
                    &mut zval,
                    false,
                );
                zval
            }
            Err(_) => bool_zval(false),
        }
    }

    #[php(optional = context)]
    pub fn add_function(
        &self,
        function_name: PhpBytes,
        function: &Zval,
        context: Option<&Zval>,
        timeout: Option<i64>,
    ) -> bool {
        let call = "addFunction";
        if !function.is_callable() {
            let shown = crate::client::callable_name(function);
            warn(&format!("Function '{shown}' is not a valid callback"));
            return false;
        }
        if !self.register(
            PhpBytes(std::borrow::Cow::Borrowed(function_name.as_bytes())),
            timeout,
        ) {
            return false;
        }
        let Some(mut state) = self.state(call) else {
            return false;
        };
        state.functions.insert(
            Bytes::copy_from_slice(function_name.as_bytes()),
            Function {
                callback: function.shallow_clone(),
                context: context.map_or_else(Zval::new, Zval::shallow_clone),
            },
        );
        true
    }

    /// True only when a job ran and succeeded; see `is_quiet` for the codes that give a quiet
    /// false.
    pub fn work(&self) -> bool {
        self.work_one()
    }

    pub fn ping(&self, data: PhpBytes) -> bool {
        let call = "ping";
        let echoed = match self.core(call) {
            Some(mut core) => core.echo(data.as_bytes()),
            None => return false,
        };
        match echoed {
            Ok(reply) if reply[..] == *data.as_bytes() => {
                self.succeed();
                true
            }
            Ok(_) => {
                if let Some(mut state) = self.state(call) {
                    state.last.warn(
                        return_code::ECHO_DATA_CORRUPTION,
                        call,
                        "the echo reply differs from the request",
                    );
                }
                false
            }
            Err(e) => {
                self.fail(call, &e);
                false
            }
        }
    }

    pub fn enable_exception_handler(&self) -> PhpResult<bool> {
        self.connect_for_exceptions("enableExceptionHandler")
    }
}
