//! `GearmanClient`: pecl's client on gearman-core's libgearman model.
//!
//! The model does libgearman's work (tasks, `run_tasks`, pausing, `do`, options, errors); this
//! file converts PHP values and keeps pecl's conventions (warnings, return values, callbacks
//! called with the task object). No borrow is held while PHP code runs, so a callback may call
//! back into the client; a call that finds the client busy gets a warning instead.

use std::cell::{RefCell, RefMut};

use bytes::Bytes;
use ext_php_rs::prelude::*;
use ext_php_rs::types::Zval;
use gearman_core::libgearman::client::run_tasks;
use gearman_core::libgearman::{Callback, LibClient, ServerList, TaskEvents, TaskKind, TaskRef};
use gearman_core::return_code::SUCCESS;
use gearman_core::Priority;

use crate::args::{CallableArg, Defaulted, Flag, Long, Str};
use crate::convert::Workload;
use crate::convert::{
    array_zval, bool_zval, bytes_zval, long_zval, to_long, ArrayZval, PhpBytes, StringZval,
};
use crate::error::{exception_option_failed, text_zval, warn, warn_last};
use crate::objects::Initial;
use crate::servers::{self, ServerArgs};
use crate::task::{new_task_object, task_of, PhpTask};

const CALLBACKS: usize = 8;

#[php_class]
#[php(name = "GearmanClient")]
pub struct GearmanClient {
    model: RefCell<LibClient<PhpTask>>,
    /// The task callbacks, indexed by [`Callback`].
    callbacks: RefCell<[Option<Zval>; CALLBACKS]>,
    /// `setContext()`'s value.
    context: RefCell<Bytes>,
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

fn callback_index(which: Callback) -> usize {
    which as usize
}

/// What `runTasks()` asks of PHP: call the callbacks with the task object.
struct PhpEvents<'a> {
    client: &'a GearmanClient,
}

impl TaskEvents<PhpTask> for PhpEvents<'_> {
    /// The callback threw; the exception is pending.
    type Abort = ();

    fn call(&mut self, task: &TaskRef<PhpTask>, which: Callback) -> Result<i32, ()> {
        let callback = match self.client.callbacks.try_borrow() {
            Ok(callbacks) => callbacks[callback_index(which)]
                .as_ref()
                .map(Zval::shallow_clone),
            Err(_) => None,
        };
        let Some(callback) = callback else {
            return Ok(SUCCESS);
        };
        let (object, context) = {
            let t = task.borrow();
            let Some(user) = t.user.as_ref().filter(|u| u.bound[callback_index(which)]) else {
                return Ok(SUCCESS);
            };
            (
                user.object.shallow_clone(),
                user.context.as_ref().map(Zval::shallow_clone),
            )
        };
        let outcome = match &context {
            Some(context) => callback.try_call(vec![&object, context]),
            None => callback.try_call(vec![&object]),
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

    /// The task object now reports "dead"; its context is dropped with `user`.
    fn released(&mut self, _task: &TaskRef<PhpTask>, user: PhpTask) {
        drop(user);
    }
}

impl GearmanClient {
    /// The model, or a warning when a callback re-enters a call that is using it.
    fn model(&self, call: &str) -> Option<RefMut<'_, LibClient<PhpTask>>> {
        match self.model.try_borrow_mut() {
            Ok(model) => Some(model),
            Err(_) => {
                warn(&format!(
                    "{call}(GEARMAN_IN_PROGRESS) the client is busy in another call"
                ));
                None
            }
        }
    }

    /// Warns about the last error unless its code is one pecl keeps quiet about.
    fn report(model: &LibClient<PhpTask>, code: i32) {
        if !is_quiet(code) {
            warn_last(&model.last);
        }
    }

    /// Runs a foreground job to its end: WORK_DATA chunks followed by the result.
    fn do_foreground(
        &self,
        call: &str,
        function: Str,
        workload: Str,
        unique: Option<PhpBytes>,
        priority: Priority,
    ) -> Zval {
        let Some(mut model) = self.model(call) else {
            return bytes_zval(b"");
        };
        let unique = unique.as_ref().map(PhpBytes::as_bytes);
        let workload = Bytes::copy_from_slice(workload.as_bytes());
        let result = model
            .job_request(call, function.as_bytes(), unique, workload)
            .and_then(|r| model.do_job(call, r.priority(priority)));
        match result {
            Ok(result) => {
                model.last.succeed();
                bytes_zval(&result)
            }
            Err(code) => {
                Self::report(&model, code);
                bytes_zval(b"")
            }
        }
    }

    fn submit_background(
        &self,
        call: &str,
        function: Str,
        workload: Str,
        unique: Option<PhpBytes>,
        priority: Priority,
    ) -> Zval {
        let Some(mut model) = self.model(call) else {
            return bytes_zval(b"");
        };
        let unique = unique.as_ref().map(PhpBytes::as_bytes);
        let workload = Bytes::copy_from_slice(workload.as_bytes());
        let handle = model
            .job_request(call, function.as_bytes(), unique, workload)
            .and_then(|r| model.do_background(call, r.priority(priority)));
        match handle {
            Ok(handle) => {
                model.last.succeed();
                bytes_zval(&handle)
            }
            Err(code) => {
                Self::report(&model, code);
                bytes_zval(b"")
            }
        }
    }

    /// Adds a task object for `kind`; `false` (with a warning) when the request is refused.
    fn add_task_of(
        &self,
        call: &str,
        kind: Option<(Priority, bool)>,
        key: &[u8],
        workload: &[u8],
        context: Option<&Zval>,
        unique_key: Option<PhpBytes>,
    ) -> Zval {
        let Some(mut model) = self.model(call) else {
            return bool_zval(false);
        };
        let kind = match kind {
            Some((priority, background)) => {
                let unique = unique_key.as_ref().map(PhpBytes::as_bytes);
                let workload = Bytes::copy_from_slice(workload);
                match model.job_request(call, key, unique, workload) {
                    Ok(r) => TaskKind::Job(r.priority(priority).background(background)),
                    Err(code) => {
                        Self::report(&model, code);
                        return bool_zval(false);
                    }
                }
            }
            None => TaskKind::Status,
        };
        let object = new_task_object();
        let bound = match self.callbacks.try_borrow() {
            Ok(callbacks) => callbacks.each_ref().map(Option::is_some),
            Err(_) => [false; CALLBACKS],
        };
        let user = PhpTask {
            object: object.shallow_clone(),
            context: context.map(Zval::shallow_clone),
            bound,
        };
        let task = model.add_task(kind, key, user);
        if matches!(task.borrow().kind, TaskKind::Status) {
            // pecl's status task knows its handle from the start.
            task.borrow_mut().known = true;
        }
        model.last.succeed();
        drop(model);
        if let Some(t) = task_of(&object) {
            *t.task.borrow_mut() = Some(task);
        }
        object
    }

    fn add_job_task(
        &self,
        call: &str,
        priority: Priority,
        background: bool,
        function_name: Str,
        workload: Workload,
        context: Option<&Zval>,
        unique_key: Option<PhpBytes>,
    ) -> Zval {
        self.add_task_of(
            call,
            Some((priority, background)),
            function_name.as_bytes(),
            workload.as_bytes(),
            context,
            unique_key,
        )
    }

    fn set_callback(&self, which: Callback, function: &Zval) -> bool {
        if !function.is_callable() {
            warn(&format!(
                "function {} is not callable",
                callable_name(function)
            ));
            return false;
        }
        match self.callbacks.try_borrow_mut() {
            Ok(mut callbacks) => {
                callbacks[callback_index(which)] = Some(function.shallow_clone());
                true
            }
            Err(_) => false,
        }
    }

    /// `runTasks()`: submit, then report events until every task has finished.
    fn run_all(&self) -> bool {
        let call = "runTasks";
        if self.model.try_borrow_mut().is_err() {
            warn(&format!(
                "{call}(GEARMAN_IN_PROGRESS) the client is busy in another call"
            ));
            return false;
        }
        let mut events = PhpEvents { client: self };
        let outcome = run_tasks(&self.model, &mut events, call);
        let Ok(mut model) = self.model.try_borrow_mut() else {
            return false;
        };
        match outcome {
            Ok(SUCCESS) => {
                model.last.succeed();
                true
            }
            Ok(code) if is_quiet(code) => true,
            Ok(_) => {
                warn_last(&model.last);
                false
            }
            // A callback threw: the exception is pending.
            Err(()) => is_quiet(model.last.code()),
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
        let Some(mut model) = self.model(call) else {
            return Self::status_array(false, false, 0, 0);
        };
        match model.status(call, key, by_unique) {
            Ok(s) => {
                model.last.succeed();
                Self::status_array(s.known, s.running, s.numerator, s.denominator)
            }
            Err(code) => {
                Self::report(&model, code);
                Self::status_array(false, false, 0, 0)
            }
        }
    }

    /// OPTION_REQ `exceptions` to every server now (pecl's exception handler set-up). Without
    /// servers the option waits for them, unless `require_servers` (then it throws, as pecl's
    /// `enableExceptionHandler()` does).
    fn send_exceptions_option(&self, call: &str, require_servers: bool) -> PhpResult<bool> {
        let Some(mut model) = self.model(call) else {
            return Ok(false);
        };
        if !model.has_servers() && !require_servers {
            model.core.inner_mut().options_mut().exceptions = true;
            return Ok(true);
        }
        if model.set_server_option(call, b"exceptions") {
            model.last.succeed();
            Ok(true)
        } else {
            Err(exception_option_failed())
        }
    }

    fn add_servers_then(
        &self,
        call: &str,
        args: ServerArgs,
        setup_exception_handler: bool,
    ) -> PhpResult<bool> {
        {
            let Some(mut model) = self.model(call) else {
                return Ok(false);
            };
            if !servers::add(&mut *model, call, &args) {
                return Ok(false);
            }
        }
        if setup_exception_handler {
            return self.send_exceptions_option(call, false);
        }
        Ok(true)
    }
}

impl Drop for GearmanClient {
    /// Tasks hold their PHP objects, and those objects the tasks: let go of every task so
    /// neither outlives the client.
    fn drop(&mut self) {
        let tasks = self.model.get_mut().forget_all();
        drop(tasks);
    }
}

fn new_model() -> LibClient<PhpTask> {
    let mut model = LibClient::new();
    // pecl creates its clients with FREE_TASKS.
    model.flags.free_tasks = true;
    model
}

impl Initial for GearmanClient {
    fn initial() -> GearmanClient {
        GearmanClient {
            model: RefCell::new(new_model()),
            callbacks: RefCell::new(Default::default()),
            context: RefCell::new(Bytes::new()),
        }
    }
}

#[php_impl]
impl GearmanClient {
    pub fn __construct() -> PhpResult<GearmanClient> {
        Ok(GearmanClient::initial())
    }

    /// Frees the connection, servers, tasks and context, as pecl's frees the libgearman client
    /// (the callbacks stay, as pecl's do); the object stays usable, as a new client. Inside one
    /// of the client's own calls (a callback) it does nothing.
    pub fn __destruct(&self) {
        if let Ok(mut model) = self.model.try_borrow_mut() {
            let old = std::mem::replace(&mut *model, new_model());
            drop(model);
            // The tasks' PHP objects may run destructors of their own: no borrow is held.
            drop(old);
            self.context.replace(Bytes::new());
        }
    }

    pub fn return_code(&self) -> i64 {
        self.model
            .try_borrow()
            .map_or(0, |m| i64::from(m.last.code()))
    }

    pub fn error(&self) -> Zval {
        self.model
            .try_borrow()
            .map_or_else(|_| bool_zval(false), |m| text_zval(&m.last))
    }

    pub fn get_errno(&self) -> i64 {
        self.model
            .try_borrow()
            .map_or(0, |m| i64::from(m.last.errno()))
    }

    pub fn options(&self) -> i64 {
        self.model
            .try_borrow()
            .map_or(0, |m| i64::from(m.flags.bits()))
    }

    pub fn set_options(&self, option: Long) -> bool {
        self.model("setOptions")
            .map(|mut m| {
                take_tls_files(&mut m, option.0);
                m.set_options("setOptions", option.0 as i32)
            })
            .is_some()
    }

    pub fn add_options(&self, option: Long) -> bool {
        self.model("addOptions")
            .map(|mut m| {
                take_tls_files(&mut m, option.0);
                m.add_options("addOptions", option.0 as i32)
            })
            .is_some()
    }

    pub fn remove_options(&self, option: Long) -> bool {
        self.model("removeOptions")
            .map(|mut m| m.remove_options(option.0 as i32))
            .is_some()
    }

    pub fn timeout(&self) -> i64 {
        self.model
            .try_borrow()
            .map_or(-1, |m| i64::from(m.timeout()))
    }

    pub fn set_timeout(&self, timeout: Long) -> bool {
        self.model("setTimeout")
            .map(|mut m| m.set_timeout(timeout.0 as i32))
            .is_some()
    }

    #[php(optional = host, defaults(port = 0, setupExceptionHandler = true))]
    pub fn add_server(
        &self,
        host: Option<PhpBytes>,
        port: Defaulted<Long>,
        setupExceptionHandler: Defaulted<Flag>,
    ) -> PhpResult<bool> {
        let args = ServerArgs::one(host.as_ref().map(PhpBytes::as_bytes), port.0 .0);
        self.add_servers_then("addServer", args, setupExceptionHandler.0 .0)
    }

    #[php(optional = servers, defaults(setupExceptionHandler = true))]
    pub fn add_servers(
        &self,
        servers: Option<PhpBytes>,
        setupExceptionHandler: Defaulted<Flag>,
    ) -> PhpResult<bool> {
        let args = ServerArgs::list(servers.as_ref().map(PhpBytes::as_bytes));
        self.add_servers_then("addServers", args, setupExceptionHandler.0 .0)
    }

    /// Waits for a running task's next event in non-blocking mode; with nothing running it is
    /// GEARMAN_NO_ACTIVE_FDS (a warning and false), as pecl reports libgearman's answer.
    pub fn wait(&self) -> bool {
        let call = "wait";
        let Some(mut model) = self.model(call) else {
            return false;
        };
        match model.wait(call) {
            Ok(()) => {
                model.last.succeed();
                true
            }
            Err(code) => {
                if code != gearman_core::return_code::TIMEOUT {
                    warn_last(&model.last);
                }
                false
            }
        }
    }

    pub fn do_normal(&self, function: Str, workload: Str, unique: Option<PhpBytes>) -> StringZval {
        StringZval(self.do_foreground("doNormal", function, workload, unique, Priority::Normal))
    }

    pub fn do_high(&self, function: Str, workload: Str, unique: Option<PhpBytes>) -> StringZval {
        StringZval(self.do_foreground("doHigh", function, workload, unique, Priority::High))
    }

    pub fn do_low(&self, function: Str, workload: Str, unique: Option<PhpBytes>) -> StringZval {
        StringZval(self.do_foreground("doLow", function, workload, unique, Priority::Low))
    }

    pub fn do_background(
        &self,
        function: Str,
        workload: Str,
        unique: Option<PhpBytes>,
    ) -> StringZval {
        StringZval(self.submit_background(
            "doBackground",
            function,
            workload,
            unique,
            Priority::Normal,
        ))
    }

    pub fn do_high_background(
        &self,
        function: Str,
        workload: Str,
        unique: Option<PhpBytes>,
    ) -> StringZval {
        StringZval({
            let call = "doHighBackground";
            self.submit_background(call, function, workload, unique, Priority::High)
        })
    }

    pub fn do_low_background(
        &self,
        function: Str,
        workload: Str,
        unique: Option<PhpBytes>,
    ) -> StringZval {
        StringZval(self.submit_background(
            "doLowBackground",
            function,
            workload,
            unique,
            Priority::Low,
        ))
    }

    pub fn do_job_handle(&self) -> StringZval {
        StringZval({
            match self.model.try_borrow() {
                Ok(m) => bytes_zval(m.do_handle().to_bytes()),
                Err(_) => bytes_zval(b""),
            }
        })
    }

    /// `[numerator, denominator]` of the running `do*()`. Calls block to the end, so no job is
    /// ever observed running.
    pub fn do_status(&self) -> ArrayZval {
        ArrayZval(array_zval(vec![long_zval(0), long_zval(0)]))
    }

    pub fn job_status(&self, job_handle: Str) -> ArrayZval {
        ArrayZval(self.job_status_of("jobStatus", job_handle.as_bytes(), false))
    }

    pub fn job_status_by_unique_key(&self, unique_key: Str) -> ArrayZval {
        ArrayZval(self.job_status_of("jobStatusByUniqueKey", unique_key.as_bytes(), true))
    }

    pub fn ping(&self, workload: Str) -> bool {
        let call = "ping";
        let Some(mut model) = self.model(call) else {
            return false;
        };
        match model.echo(call, workload.as_bytes()) {
            Ok(()) => {
                model.last.succeed();
                true
            }
            Err(_) => {
                warn_last(&model.last);
                false
            }
        }
    }

    #[php(optional = context)]
    pub fn add_task(
        &self,
        function_name: Str,
        workload: Workload,
        context: Option<&Zval>,
        unique_key: Option<PhpBytes>,
    ) -> Zval {
        let (call, priority, background) = ("addTask", Priority::Normal, false);
        self.add_job_task(
            call,
            priority,
            background,
            function_name,
            workload,
            context,
            unique_key,
        )
    }

    #[php(optional = context)]
    pub fn add_task_high(
        &self,
        function_name: Str,
        workload: Workload,
        context: Option<&Zval>,
        unique_key: Option<PhpBytes>,
    ) -> Zval {
        let (call, priority, background) = ("addTaskHigh", Priority::High, false);
        self.add_job_task(
            call,
            priority,
            background,
            function_name,
            workload,
            context,
            unique_key,
        )
    }

    #[php(optional = context)]
    pub fn add_task_low(
        &self,
        function_name: Str,
        workload: Workload,
        context: Option<&Zval>,
        unique_key: Option<PhpBytes>,
    ) -> Zval {
        let (call, priority, background) = ("addTaskLow", Priority::Low, false);
        self.add_job_task(
            call,
            priority,
            background,
            function_name,
            workload,
            context,
            unique_key,
        )
    }

    #[php(optional = context)]
    pub fn add_task_background(
        &self,
        function_name: Str,
        workload: Workload,
        context: Option<&Zval>,
        unique_key: Option<PhpBytes>,
    ) -> Zval {
        let (call, priority, background) = ("addTaskBackground", Priority::Normal, true);
        self.add_job_task(
            call,
            priority,
            background,
            function_name,
            workload,
            context,
            unique_key,
        )
    }

    #[php(optional = context)]
    pub fn add_task_high_background(
        &self,
        function_name: Str,
        workload: Workload,
        context: Option<&Zval>,
        unique_key: Option<PhpBytes>,
    ) -> Zval {
        let (call, priority, background) = ("addTaskHighBackground", Priority::High, true);
        self.add_job_task(
            call,
            priority,
            background,
            function_name,
            workload,
            context,
            unique_key,
        )
    }

    #[php(optional = context)]
    pub fn add_task_low_background(
        &self,
        function_name: Str,
        workload: Workload,
        context: Option<&Zval>,
        unique_key: Option<PhpBytes>,
    ) -> Zval {
        let (call, priority, background) = ("addTaskLowBackground", Priority::Low, true);
        self.add_job_task(
            call,
            priority,
            background,
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
    pub fn add_task_status(&self, job_handle: Str, context: Option<&Zval>) -> Zval {
        let call = "addTaskStatus";
        self.add_task_of(call, None, job_handle.as_bytes(), &[], context, None)
    }

    pub fn set_workload_callback(&self, function: CallableArg) -> bool {
        self.set_callback(Callback::Workload, function.0)
    }

    pub fn set_created_callback(&self, function: CallableArg) -> bool {
        self.set_callback(Callback::Created, function.0)
    }

    pub fn set_data_callback(&self, function: CallableArg) -> bool {
        self.set_callback(Callback::Data, function.0)
    }

    pub fn set_warning_callback(&self, function: CallableArg) -> bool {
        self.set_callback(Callback::Warning, function.0)
    }

    pub fn set_status_callback(&self, function: CallableArg) -> bool {
        self.set_callback(Callback::Status, function.0)
    }

    pub fn set_complete_callback(&self, function: CallableArg) -> bool {
        self.set_callback(Callback::Complete, function.0)
    }

    /// Also asks the servers to forward exceptions, as pecl does.
    pub fn set_exception_callback(&self, function: CallableArg) -> PhpResult<bool> {
        if !self.set_callback(Callback::Exception, function.0) {
            return Ok(false);
        }
        self.send_exceptions_option("setExceptionCallback", false)
    }

    pub fn set_fail_callback(&self, function: CallableArg) -> bool {
        self.set_callback(Callback::Fail, function.0)
    }

    pub fn clear_callbacks(&self) -> bool {
        if let Ok(mut callbacks) = self.callbacks.try_borrow_mut() {
            *callbacks = Default::default();
        }
        true
    }

    pub fn context(&self) -> StringZval {
        StringZval({
            match self.context.try_borrow() {
                Ok(c) => bytes_zval(&c),
                Err(_) => bytes_zval(b""),
            }
        })
    }

    pub fn set_context(&self, data: Str) -> bool {
        match self.context.try_borrow_mut() {
            Ok(mut c) => {
                *c = Bytes::copy_from_slice(data.as_bytes());
                true
            }
            Err(_) => false,
        }
    }

    pub fn enable_exception_handler(&self) -> PhpResult<bool> {
        self.send_exceptions_option("enableExceptionHandler", true)
    }
}

/// Before GEARMAN_CLIENT_SSL is set: the certificate paths from php.ini.
fn take_tls_files(model: &mut LibClient<PhpTask>, options: i64) {
    if crate::tls::asks_tls(options, gearman_core::libgearman::options::CLIENT_SSL) {
        let (ca, certificate, key) = crate::tls::ini_files();
        model.set_tls_files(ca, certificate, key);
    }
}
