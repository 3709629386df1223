//! libgearman's worker: the function table, `work()` and the job API.
//!
//! The connection is shared (`Rc<RefCell<…>>`) between the worker and the jobs it hands out,
//! so a job can report from inside its function's callback while the worker is not borrowed.
//! `work()` is split in two ([`LibWorker::grab_for_work`], [`LibWorker::finish_work`]) so the
//! front end calls the user's function with no borrow held.

use std::cell::RefCell;
use std::ffi::CString;
use std::rc::Rc;
use std::time::Duration;

use bytes::Bytes;
use hashbrown::HashMap;

use super::last_error::LastError;
use super::options::{GrabCommand, LibTls, WorkerFlags, WorkerSideEffects};
use super::task::c_string;
use super::ServerList;
use crate::blocking::BlockingWorker;
use crate::connection::ServerAddr;
use crate::error::Error;
use crate::return_code::{self as rc, SUCCESS};
use crate::worker::{AssignedJob, GrabMode, WorkerOptions};

/// What a function's callback answered.
#[derive(Debug)]
pub enum WorkReply<'a> {
    /// libgearman's `gearman_worker_fn`: its result and the code it set.
    Result { result: &'a [u8], ret: i32 },
    /// `gearman_function_fn` (the v2 API): only a code; results went through the job API.
    Code(i32),
    /// The callback raised (PHP): the job ends with WORK_EXCEPTION carrying this text.
    Raised(&'a [u8]),
}

/// A registered function: `None` when registered without a callback (for `grab_job` only).
struct Function<F> {
    callback: Option<F>,
}

pub struct LibWorker<F> {
    core: Rc<RefCell<BlockingWorker>>,
    pub flags: WorkerFlags,
    pub last: LastError,
    timeout: i32,
    namespace: Vec<u8>,
    namespace_c: CString,
    identifier: Option<Vec<u8>>,
    functions: HashMap<Vec<u8>, Function<F>>,
    tls: LibTls,
}

/// A job handed to a worker, with the means to report on it.
pub struct LibJob {
    core: Rc<RefCell<BlockingWorker>>,
    pub assigned: AssignedJob,
    pub handle: CString,
    pub function: CString,
    pub unique: CString,
    /// The workload, until taken.
    pub workload: Bytes,
    /// WORK_COMPLETE, WORK_FAIL or WORK_EXCEPTION went out: later reports are ignored.
    finished: bool,
    pub error: Option<CString>,
}

impl<F: Clone> Default for LibWorker<F> {
    fn default() -> Self {
        LibWorker::new()
    }
}

impl<F: Clone> LibWorker<F> {
    pub fn new() -> LibWorker<F> {
        let mut worker = LibWorker {
            core: Rc::new(RefCell::new(BlockingWorker::with_options(
                WorkerOptions::default(),
            ))),
            flags: WorkerFlags::default(),
            last: LastError::default(),
            timeout: -1,
            namespace: Vec::new(),
            namespace_c: CString::default(),
            identifier: None,
            functions: HashMap::new(),
            tls: LibTls::default(),
        };
        worker.apply_flags();
        worker
    }

    /// `gearman_worker_clone`: settings and servers, no functions.
    pub fn clone_settings(&self) -> LibWorker<F> {
        let mut copy = LibWorker::new();
        for server in self.server_addrs() {
            copy.push_server(server);
        }
        copy.flags = self.flags;
        copy.tls = self.tls.clone();
        copy.timeout = self.timeout;
        copy.namespace = self.namespace.clone();
        copy.namespace_c = self.namespace_c.clone();
        if let Some(id) = &self.identifier {
            let _ = copy.set_identifier("gearman_worker_clone", id);
        }
        copy.apply_flags();
        copy
    }

    fn apply_flags(&mut self) {
        let grab = match self.flags.grab {
            GrabCommand::All => GrabMode::All,
            GrabCommand::Unique => GrabMode::Unique,
            GrabCommand::Plain => GrabMode::Plain,
        };
        let tls = self.tls.connector(self.flags.ssl);
        let mut core = self.core.borrow_mut();
        let options = core.inner_mut().options_mut();
        options.tls = tls;
        options.grab = grab;
        options.timeout = u64::try_from(self.timeout).ok().map(Duration::from_millis);
    }

    // --- servers -------------------------------------------------------------------------

    pub fn remove_servers(&mut self) {
        self.core.borrow_mut().inner_mut().remove_servers();
    }

    // --- settings ------------------------------------------------------------------------

    pub fn options(&self) -> i32 {
        self.flags.bits(self.identifier.is_some())
    }

    fn change_options(&mut self, change: impl FnOnce(&mut WorkerFlags, &mut WorkerSideEffects)) {
        let mut effects = WorkerSideEffects::default();
        change(&mut self.flags, &mut effects);
        if let Some(timeout) = effects.timeout {
            self.timeout = timeout;
        }
        match effects.identifier {
            Some(true) => {
                let id = crate::job::UniqueGenerator::new().next_unique();
                let _ = self.set_identifier("gearman_worker_add_options", &id);
            }
            Some(false) => {
                self.identifier = None;
                self.core.borrow_mut().inner_mut().options_mut().client_id = None;
            }
            None => {}
        }
        self.apply_flags();
    }

    pub fn set_options(&mut self, options: i32) {
        self.change_options(|flags, effects| flags.set(options, effects));
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
        self.apply_flags();
    }

    /// `gearman_worker_set_ssl`: TLS on or off, and its files (`None` for the default).
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

    pub fn add_options(&mut self, options: i32) {
        self.change_options(|flags, effects| flags.add(options, effects));
    }

    pub fn remove_options(&mut self, options: i32) {
        self.change_options(|flags, effects| flags.remove(options, effects));
    }

    pub fn timeout(&self) -> i32 {
        self.timeout
    }

    /// Milliseconds (negative: forever); like libgearman this turns TIMEOUT_RETURN on.
    pub fn set_timeout(&mut self, timeout: i32) {
        self.flags.timeout_return = true;
        self.timeout = timeout;
        self.apply_flags();
    }

    pub fn namespace(&self) -> Option<&std::ffi::CStr> {
        (!self.namespace.is_empty()).then_some(self.namespace_c.as_c_str())
    }

    pub fn set_namespace(&mut self, namespace: &[u8]) {
        self.namespace = namespace.to_vec();
        self.namespace_c = c_string(namespace);
    }

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
            .borrow_mut()
            .inner_mut()
            .set_client_id(Bytes::copy_from_slice(id));
        Ok(())
    }

    /// The only server option is "exceptions": later connections ask for it.
    pub fn set_server_option(&mut self, call: &str, option: &[u8]) -> bool {
        if option.eq_ignore_ascii_case(b"exceptions") {
            self.core.borrow_mut().inner_mut().options_mut().exceptions = true;
            return self.has_servers();
        }
        self.last
            .set(rc::INVALID_ARGUMENT, call, "unknown server option");
        false
    }

    // --- functions -----------------------------------------------------------------------

    fn full_name(&self, name: &[u8]) -> Vec<u8> {
        let mut full = Vec::with_capacity(self.namespace.len() + name.len());
        full.extend_from_slice(&self.namespace);
        full.extend_from_slice(name);
        full
    }

    /// CAN_DO (or CAN_DO_TIMEOUT for a timeout > 0) for `name` with the namespace.
    pub fn register(
        &mut self,
        call: &str,
        name: &[u8],
        timeout: u32,
        callback: Option<F>,
    ) -> Result<(), i32> {
        if name.is_empty() {
            return Err(self
                .last
                .set(rc::INVALID_ARGUMENT, call, "function name is empty"));
        }
        let full = self.full_name(name);
        let timeout = (timeout > 0).then_some(timeout);
        let registered = self
            .core
            .borrow_mut()
            .register(Bytes::from(full.clone()), timeout);
        registered.map_err(|e| self.last.record(call, &e))?;
        self.functions.insert(full, Function { callback });
        Ok(())
    }

    pub fn unregister(&mut self, call: &str, name: &[u8]) -> Result<(), i32> {
        let full = self.full_name(name);
        if self.functions.remove(&full).is_none() {
            return Err(self
                .last
                .set(rc::NO_REGISTERED_FUNCTION, call, "function not registered"));
        }
        self.core.borrow_mut().inner_mut().unregister(&full);
        Ok(())
    }

    pub fn unregister_all(&mut self, call: &str) -> Result<(), i32> {
        if self.functions.is_empty() {
            return Err(self.last.set(
                rc::NO_REGISTERED_FUNCTIONS,
                call,
                "no functions registered",
            ));
        }
        self.functions.clear();
        self.core.borrow_mut().inner_mut().unregister_all();
        Ok(())
    }

    pub fn function_exists(&self, name: &[u8]) -> bool {
        self.functions.contains_key(&self.full_name(name))
    }

    // --- jobs ----------------------------------------------------------------------------

    /// Waits for a job (GRAB_JOB*, PRE_SLEEP). With NON_BLOCKING only what has arrived is
    /// taken, and none is IO_WAIT; a timeout is NO_JOBS for `grab_job`, TIMEOUT for `work`.
    pub fn grab(&mut self, call: &str) -> Result<LibJob, i32> {
        self.check_servers(call)?;
        if self.functions.is_empty() {
            return Err(self.last.set(
                rc::NO_REGISTERED_FUNCTIONS,
                call,
                "no functions registered",
            ));
        }
        self.apply_flags();
        let grabbed = {
            let mut core = self.core.borrow_mut();
            if self.flags.non_blocking {
                let saved = core.inner().options().timeout;
                core.inner_mut().options_mut().timeout = Some(Duration::ZERO);
                let grabbed = core.grab_job();
                core.inner_mut().options_mut().timeout = saved;
                grabbed
            } else {
                core.grab_job()
            }
        };
        match grabbed {
            Ok(job) => Ok(LibJob::new(self.core.clone(), job)),
            Err(Error::Timeout(_)) if self.flags.non_blocking => {
                self.last.set_code(rc::IO_WAIT);
                Err(rc::IO_WAIT)
            }
            Err(e) => Err(self.last.record(call, &e)),
        }
    }

    /// `work()`, first half: a job and the callback of its function. A job for a function
    /// without a callback is failed here.
    pub fn grab_for_work(&mut self, call: &str) -> Result<(LibJob, F), i32> {
        let mut job = self.grab(call)?;
        let callback = self
            .functions
            .get(&job.assigned.function[..])
            .map(|f| f.callback.clone());
        match callback {
            Some(Some(callback)) => Ok((job, callback)),
            Some(None) => {
                let _ = job.send_fail_final();
                Err(self.last.set(
                    rc::INVALID_WORKER_FUNCTION,
                    call,
                    "function registered without a callback",
                ))
            }
            None => {
                let _ = job.send_fail_final();
                Err(self.last.set(
                    rc::INVALID_FUNCTION_NAME,
                    call,
                    "job for a function that is not registered",
                ))
            }
        }
    }

    /// `work()`, second half: what the callback answered becomes WORK_COMPLETE / WORK_FAIL /
    /// WORK_EXCEPTION (unless the callback already ended the job) and work()'s return code.
    pub fn finish_work(&mut self, call: &str, job: &mut LibJob, reply: WorkReply) -> i32 {
        let already = job.finished;
        let complete = |job: &mut LibJob, result: &[u8]| match already {
            true => Ok(()),
            false => job.send_complete_final(result),
        };
        let fail = |job: &mut LibJob| match already {
            true => Ok(()),
            false => job.send_fail_final(),
        };
        let (sent, code) = match reply {
            WorkReply::Result { .. } if already => (Ok(()), SUCCESS),
            WorkReply::Result { result, ret } => match ret {
                SUCCESS | rc::SHUTDOWN => (complete(job, result), ret),
                rc::LOST_CONNECTION => {
                    job.drop_connection();
                    (Ok(()), rc::LOST_CONNECTION)
                }
                other => (fail(job), other),
            },
            WorkReply::Code(ret) => match ret {
                SUCCESS | rc::SHUTDOWN => (complete(job, &[]), ret),
                rc::WORK_FAIL | rc::WORK_EXCEPTION => (fail(job), rc::WORK_FAIL),
                _ => {
                    // GEARMAN_ERROR and anything unknown: the server gives the job to another
                    // worker once this connection is gone.
                    if !already {
                        job.drop_connection();
                    }
                    (Ok(()), rc::WORK_ERROR)
                }
            },
            WorkReply::Raised(_) if already => (Ok(()), rc::WORK_EXCEPTION),
            WorkReply::Raised(text) => (job.send_exception_final(text), rc::WORK_EXCEPTION),
        };
        match sent {
            Err(e) => self.last.record(call, &e),
            Ok(()) if code == SUCCESS => {
                self.last.succeed();
                SUCCESS
            }
            Ok(()) => {
                self.last
                    .set(code, call, "the job's function returned this code");
                code
            }
        }
    }

    /// ECHO_REQ to the first server; the reply must be the same bytes.
    pub fn echo(&mut self, call: &str, data: &[u8]) -> Result<(), i32> {
        self.check_servers(call)?;
        super::check_echo_payload(&mut self.last, call, data)?;
        self.apply_flags();
        let echoed = self.core.borrow_mut().echo(data);
        match echoed {
            Ok(reply) if reply[..] == *data => Ok(()),
            Ok(_) => Err(self
                .last
                .set(rc::ECHO_DATA_CORRUPTION, call, "the echo reply differs")),
            Err(e) => Err(self.last.record(call, &e)),
        }
    }

    /// Connects to every server now (pecl's `wait()` and exception handler set-up).
    pub fn connect_all(&mut self, call: &str) -> Result<(), i32> {
        let connected = self.core.borrow_mut().connect_all();
        connected.map_err(|e| self.last.record(call, &e))
    }
}

impl<F: Clone> ServerList for LibWorker<F> {
    const CREATE_CALL: &'static str = "gearman_worker_create";

    fn push_server(&mut self, addr: ServerAddr) {
        self.core.borrow_mut().add_server(addr);
    }

    fn has_servers(&self) -> bool {
        self.core.borrow().inner().servers().next().is_some()
    }

    fn server_addrs(&self) -> Vec<ServerAddr> {
        self.core.borrow().inner().servers().cloned().collect()
    }

    fn last_error(&mut self) -> &mut LastError {
        &mut self.last
    }
}

impl LibJob {
    fn new(core: Rc<RefCell<BlockingWorker>>, assigned: AssignedJob) -> LibJob {
        LibJob {
            core,
            handle: c_string(&assigned.handle),
            function: c_string(&assigned.function),
            unique: c_string(&assigned.unique),
            workload: assigned.workload.clone(),
            assigned,
            finished: false,
            error: None,
        }
    }

    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Sends a report unless the job has ended (then it is ignored, as libgearman does).
    fn report(
        &mut self,
        ends: bool,
        send: impl FnOnce(&mut BlockingWorker, &AssignedJob) -> Result<(), Error>,
    ) -> Result<(), i32> {
        if self.finished {
            return Ok(());
        }
        let sent = match self.core.try_borrow_mut() {
            Ok(mut core) => send(&mut core, &self.assigned),
            Err(_) => return Err(rc::IN_PROGRESS),
        };
        match sent {
            Ok(()) => {
                self.finished |= ends;
                Ok(())
            }
            Err(e) => {
                self.error = Some(c_string(e.to_string().as_bytes()));
                Err(rc::of_error(&e))
            }
        }
    }

    pub fn send_data(&mut self, data: &[u8]) -> Result<(), i32> {
        self.report(false, |core, job| core.send_data(job, data))
    }

    pub fn send_warning(&mut self, data: &[u8]) -> Result<(), i32> {
        self.report(false, |core, job| core.send_warning(job, data))
    }

    pub fn send_status(&mut self, numerator: u64, denominator: u64) -> Result<(), i32> {
        self.report(false, |core, job| {
            core.send_status(job, numerator, denominator)
        })
    }

    /// WORK_COMPLETE; refused for a map/reduce job, whose result the reducer makes.
    pub fn send_complete(&mut self, result: &[u8]) -> Result<(), i32> {
        if self.assigned.reducer.is_some() && !self.finished {
            return Err(rc::INVALID_ARGUMENT);
        }
        self.report(true, |core, job| core.send_complete(job, result))
    }

    /// WORK_EXCEPTION; an empty exception is refused.
    pub fn send_exception(&mut self, exception: &[u8]) -> Result<(), i32> {
        if exception.is_empty() {
            return Err(rc::INVALID_ARGUMENT);
        }
        self.report(true, |core, job| core.send_exception(job, exception))
    }

    /// WORK_FAIL; refused for a map/reduce job.
    pub fn send_fail(&mut self) -> Result<(), i32> {
        if self.assigned.reducer.is_some() && !self.finished {
            return Err(rc::INVALID_ARGUMENT);
        }
        self.report(true, |core, job| core.send_fail(job))
    }

    fn send_complete_final(&mut self, result: &[u8]) -> Result<(), Error> {
        self.send_final(|core, job| core.send_complete(job, result))
    }

    fn send_fail_final(&mut self) -> Result<(), Error> {
        self.send_final(|core, job| core.send_fail(job))
    }

    fn send_exception_final(&mut self, text: &[u8]) -> Result<(), Error> {
        self.send_final(|core, job| core.send_exception(job, text))
    }

    /// The end of a job that `work()` sends for its callback.
    fn send_final(
        &mut self,
        send: impl FnOnce(&mut BlockingWorker, &AssignedJob) -> Result<(), Error>,
    ) -> Result<(), Error> {
        self.finished = true;
        let mut core = self.core.borrow_mut();
        send(&mut core, &self.assigned)
    }

    /// Drops the connection the job came on, so the server gives the job to another worker.
    fn drop_connection(&mut self) {
        self.finished = true;
        self.core
            .borrow_mut()
            .inner_mut()
            .drop_server_connection(&self.assigned);
    }
}
