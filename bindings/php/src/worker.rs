//! `GearmanWorker`: pecl's worker on gearman-core's libgearman model.
//!
//! The model registers functions, grabs jobs and turns what a callback answered into packets;
//! this file calls the PHP callbacks (with no borrow held, so a job can report from inside its
//! callback) and keeps pecl's warnings and return values.

use std::cell::{RefCell, RefMut};
use std::rc::Rc;

use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendClassObject, Zval};
use gearman_core::libgearman::{LibJob, LibWorker, WorkReply};
use gearman_core::return_code::{self, SUCCESS};

use crate::args::{CallableArg, Defaulted, Flag, Long, Str};
use crate::convert::{bool_zval, string_of, PhpBytes};
use crate::error::{exception_option_failed, text_zval, warn, warn_last};
use crate::job::GearmanJob;
use crate::objects::Initial;
use crate::servers::{self, ServerArgs};

/// What the client of a job whose callback threw sees, as with pecl.
const THROWN_EXCEPTION_TEXT: &[u8] = b"Unable to add worker function";

/// A function's PHP callback and the context `addFunction()` gave it.
struct PhpFunction {
    callback: Zval,
    context: Zval,
}

#[php_class]
#[php(name = "GearmanWorker")]
pub struct GearmanWorker {
    model: RefCell<LibWorker<Rc<PhpFunction>>>,
}

/// Codes after which `work()` returns false without a warning.
fn is_quiet(code: i32) -> bool {
    use gearman_core::return_code::*;
    matches!(
        code,
        IO_WAIT | WORK_FAIL | WORK_EXCEPTION | NO_JOBS | TIMEOUT
    )
}

/// A GearmanJob object as a zval.
fn job_object(job: GearmanJob) -> Zval {
    let mut zval = Zval::new();
    // Setting an object into a fresh zval cannot fail.
    let _ = ext_php_rs::convert::IntoZval::set_zval(ZendClassObject::new(job), &mut zval, false);
    zval
}

impl GearmanWorker {
    fn model(&self, call: &str) -> Option<RefMut<'_, LibWorker<Rc<PhpFunction>>>> {
        match self.model.try_borrow_mut() {
            Ok(model) => Some(model),
            Err(_) => {
                warn(&format!(
                    "{call}(GEARMAN_IN_PROGRESS) the worker is busy in another call"
                ));
                None
            }
        }
    }

    /// The outcome of a model call as pecl reports it: true, or a warning (unless quiet) and
    /// false.
    fn outcome(
        &self,
        call: &str,
        result: impl FnOnce(&mut LibWorker<Rc<PhpFunction>>) -> Result<(), i32>,
    ) -> bool {
        let Some(mut model) = self.model(call) else {
            return false;
        };
        match result(&mut model) {
            Ok(()) => {
                model.last.succeed();
                true
            }
            Err(code) => {
                if !is_quiet(code) {
                    warn_last(&model.last);
                }
                false
            }
        }
    }

    /// Connects now and asks for exceptions (pecl's exception handler set-up).
    fn connect_for_exceptions(&self, call: &str) -> PhpResult<bool> {
        let Some(mut model) = self.model(call) else {
            return Ok(false);
        };
        if !model.set_server_option(call, b"exceptions") {
            // No servers yet: later connections ask for exceptions.
            return Ok(true);
        }
        match model.connect_all(call) {
            Ok(()) => {
                model.last.succeed();
                Ok(true)
            }
            Err(_) => Err(exception_option_failed()),
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
            return self.connect_for_exceptions(call);
        }
        if let Some(mut model) = self.model(call) {
            model.last.succeed();
        }
        Ok(true)
    }

    /// One job: grab it, run its callback with no borrow held, send what the callback answered.
    fn work_one(&self) -> bool {
        let call = "work";
        let grabbed = match self.model(call) {
            Some(mut model) => model.grab_for_work(call).map_err(|code| {
                if !is_quiet(code) {
                    warn_last(&model.last);
                }
            }),
            None => return false,
        };
        let Ok((job, function)) = grabbed else {
            return false;
        };
        let job = GearmanJob::assigned(job);
        job.in_work.set(true);
        let object = job_object(job);
        let returned = function.callback.try_call(vec![&object, &function.context]);
        let Some(job_object) = object
            .object()
            .and_then(ZendClassObject::<GearmanJob>::from_zend_obj)
        else {
            return false;
        };
        job_object.in_work.set(false);
        let Ok(mut slot) = job_object.job.try_borrow_mut() else {
            return false;
        };
        let Some(job) = slot.as_mut() else {
            return false;
        };
        let code = match returned {
            // The PHP exception stays pending; the client learns of it as pecl reports it.
            Err(_) => self.finish(call, job, WorkReply::Raised(THROWN_EXCEPTION_TEXT)),
            Ok(value) => {
                let job_code = job_object.code.get();
                if job.is_finished() || job_code != SUCCESS {
                    self.finish(
                        call,
                        job,
                        WorkReply::Result {
                            result: &[],
                            ret: job_code,
                        },
                    )
                } else {
                    match string_of(&value) {
                        Some(result) => self.finish(
                            call,
                            job,
                            WorkReply::Result {
                                result: &result,
                                ret: SUCCESS,
                            },
                        ),
                        // Converting the return value threw; that exception is pending.
                        None => self.finish(call, job, WorkReply::Raised(THROWN_EXCEPTION_TEXT)),
                    }
                }
            }
        };
        code == SUCCESS
    }

    /// The model sends the job's end; a code other than SUCCESS warns unless quiet.
    fn finish(&self, call: &str, job: &mut LibJob, reply: WorkReply) -> i32 {
        let Some(mut model) = self.model(call) else {
            return return_code::IN_PROGRESS;
        };
        let raised = matches!(reply, WorkReply::Raised(_));
        let code = model.finish_work(call, job, reply);
        if code != SUCCESS && !raised && !is_quiet(code) {
            warn_last(&model.last);
        }
        code
    }
}

impl Initial for GearmanWorker {
    fn initial() -> GearmanWorker {
        GearmanWorker {
            model: RefCell::new(LibWorker::new()),
        }
    }
}

#[php_impl]
impl GearmanWorker {
    pub fn __construct() -> PhpResult<GearmanWorker> {
        Ok(GearmanWorker::initial())
    }

    /// Frees the connections and registered functions, as pecl's frees the libgearman worker;
    /// the object stays usable, as a new worker. Inside `work()` (a callback) it does nothing.
    pub fn __destruct(&self) {
        if let Ok(mut model) = self.model.try_borrow_mut() {
            let old = std::mem::replace(&mut *model, LibWorker::new());
            drop(model);
            // The functions' PHP callbacks and contexts may run destructors: no borrow is held.
            drop(old);
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
            .map_or(0, |m| i64::from(m.options()))
    }

    /// Always true, as pecl declares (libgearman's option setters cannot fail).
    pub fn set_options(&self, option: Long) -> bool {
        if let Some(mut model) = self.model("setOptions") {
            take_tls_files(&mut model, option.0);
            model.set_options(option.0 as i32);
        }
        true
    }

    /// Always true, as pecl declares (libgearman's option setters cannot fail).
    pub fn add_options(&self, option: Long) -> bool {
        if let Some(mut model) = self.model("addOptions") {
            take_tls_files(&mut model, option.0);
            model.add_options(option.0 as i32);
        }
        true
    }

    /// Always true, as pecl declares (libgearman's option setters cannot fail).
    pub fn remove_options(&self, option: Long) -> bool {
        if let Some(mut model) = self.model("removeOptions") {
            model.remove_options(option.0 as i32);
        }
        true
    }

    pub fn timeout(&self) -> i64 {
        self.model
            .try_borrow()
            .map_or(-1, |m| i64::from(m.timeout()))
    }

    /// Always true, as pecl declares.
    pub fn set_timeout(&self, timeout: Long) -> bool {
        if let Some(mut model) = self.model("setTimeout") {
            model.set_timeout(timeout.0 as i32);
        }
        true
    }

    pub fn set_id(&self, id: Str) -> bool {
        self.outcome("setId", |m| m.set_identifier("setId", id.as_bytes()))
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

    /// Connects to the servers; in blocking mode there is nothing else to wait for.
    pub fn wait(&self) -> bool {
        self.outcome("wait", |m| m.connect_all("wait"))
    }

    #[php(defaults(timeout = 0))]
    pub fn register(&self, function_name: Str, timeout: Defaulted<Long>) -> bool {
        let timeout = u32::try_from(timeout.0 .0.max(0)).unwrap_or(u32::MAX);
        self.outcome("register", |m| {
            m.register("register", function_name.as_bytes(), timeout, None)
        })
    }

    pub fn unregister(&self, function_name: Str) -> bool {
        self.outcome("unregister", |m| {
            m.unregister("unregister", function_name.as_bytes())
        })
    }

    pub fn unregister_all(&self) -> bool {
        self.outcome("unregisterAll", |m| m.unregister_all("unregisterAll"))
    }

    /// pecl declares GearmanWorker|false but returns a GearmanJob.
    pub fn grab_job(&self) -> Zval {
        let call = "grabJob";
        let Some(mut model) = self.model(call) else {
            return bool_zval(false);
        };
        match model.grab(call) {
            Ok(job) => {
                model.last.succeed();
                drop(model);
                job_object(GearmanJob::assigned(job))
            }
            // Non-blocking with no job: an empty GearmanJob, as pecl gives.
            Err(return_code::IO_WAIT) => job_object(GearmanJob::inert()),
            Err(code) => {
                if !is_quiet(code) {
                    warn_last(&model.last);
                }
                bool_zval(false)
            }
        }
    }

    #[php(optional = context, defaults(timeout = 0))]
    pub fn add_function(
        &self,
        function_name: Str,
        function: CallableArg,
        context: Option<&Zval>,
        timeout: Defaulted<Long>,
    ) -> bool {
        let call = "addFunction";
        let function = function.0;
        if !function.is_callable() {
            let shown = crate::client::callable_name(function);
            warn(&format!("Function '{shown}' is not a valid callback"));
            return false;
        }
        let timeout = u32::try_from(timeout.0 .0.max(0)).unwrap_or(u32::MAX);
        let callback = Rc::new(PhpFunction {
            callback: function.shallow_clone(),
            context: context.map_or_else(Zval::new, Zval::shallow_clone),
        });
        self.outcome(call, |m| {
            m.register(call, function_name.as_bytes(), timeout, Some(callback))
        })
    }

    /// True only when a job ran and succeeded; see `is_quiet` for the codes that give a quiet
    /// false.
    pub fn work(&self) -> bool {
        self.work_one()
    }

    pub fn ping(&self, data: Str) -> bool {
        self.outcome("ping", |m| m.echo("ping", data.as_bytes()))
    }

    pub fn enable_exception_handler(&self) -> PhpResult<bool> {
        self.connect_for_exceptions("enableExceptionHandler")
    }
}

/// Before GEARMAN_WORKER_SSL is set: the certificate paths from php.ini.
fn take_tls_files(model: &mut LibWorker<Rc<PhpFunction>>, options: i64) {
    if crate::tls::asks_tls(options, gearman_core::libgearman::options::WORKER_SSL) {
        let (ca, certificate, key) = crate::tls::ini_files();
        model.set_tls_files(ca, certificate, key);
    }
}
