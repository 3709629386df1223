//! `gearman_worker_st` and `gearman_job_st`: registration, `work()`, `grab_job()` and the job API.

use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_void, CString};
use std::ptr;
use std::time::Duration;

use bytes::Bytes;
use gearman_core::blocking::BlockingWorker;
use gearman_core::protocol::PacketType;
use gearman_core::{AssignedJob, Error, GrabMode, ServerAddr, WorkerOptions};

use crate::handle::{get, install, release};
use crate::types::*;
use crate::{c_bytes, c_slice, guard, malloc_copy, LastError};

/// A registered function's callback.
#[derive(Clone, Copy)]
enum Callback {
    /// Registered with `gearman_worker_register`: grab_job only.
    None,
    V1(gearman_worker_fn_ptr),
    V2(gearman_function_fn_ptr),
}

#[derive(Clone, Copy)]
struct Function {
    callback: Callback,
    context: *mut c_void,
}

pub struct WorkerImpl {
    core: BlockingWorker,
    options: c_int,
    timeout: c_int,
    context: *mut c_void,
    error: LastError,
    namespace: Vec<u8>,
    namespace_c: CString,
    identifier: Option<Vec<u8>>,
    functions: HashMap<Vec<u8>, Function>,
    servers: Vec<ServerAddr>,
    /// Whether the library allocated the handle struct (reported as GEARMAN_WORKER_ALLOCATED).
    heap: bool,
}

pub struct JobImpl {
    worker: *mut WorkerImpl,
    job: AssignedJob,
    handle: CString,
    function: CString,
    unique: CString,
    workload: Vec<u8>,
    finished: bool,
    error: Option<CString>,
}

impl WorkerImpl {
    fn new() -> Option<WorkerImpl> {
        let core = BlockingWorker::new(WorkerOptions::default()).ok()?;
        let mut w = WorkerImpl {
            core,
            options: GEARMAN_WORKER_GRAB_ALL
                | GEARMAN_WORKER_GRAB_UNIQ
                | GEARMAN_WORKER_PACKET_INIT,
            timeout: -1,
            context: ptr::null_mut(),
            error: LastError::default(),
            namespace: Vec::new(),
            namespace_c: CString::default(),
            identifier: None,
            functions: HashMap::new(),
            servers: Vec::new(),
            heap: false,
        };
        if let Some(list) = crate::servers::from_env() {
            let _ = w.add_servers(&list);
        }
        Some(w)
    }

    fn add_server(&mut self, host: &str, port: u16) -> c_int {
        match crate::servers::resolve(host, port) {
            Ok(addr) => {
                self.core.add_server(addr.clone());
                self.servers.push(addr);
                GEARMAN_SUCCESS
            }
            Err(detail) => {
                self.error
                    .set(GEARMAN_GETADDRINFO, "gearman_worker_add_server", &detail)
            }
        }
    }

    fn add_servers(&mut self, list: &str) -> c_int {
        let entries = match crate::servers::split_list(list) {
            Ok(entries) => entries,
            Err(detail) => {
                return self.error.set(
                    GEARMAN_INVALID_ARGUMENT,
                    "gearman_worker_add_servers",
                    &detail,
                )
            }
        };
        for (host, port) in entries {
            let rc = self.add_server(host, port);
            if rc != GEARMAN_SUCCESS {
                return rc;
            }
        }
        GEARMAN_SUCCESS
    }

    fn apply_options(&mut self) {
        let grab = if self.options & GEARMAN_WORKER_GRAB_ALL != 0 {
            GrabMode::All
        } else if self.options & GEARMAN_WORKER_GRAB_UNIQ != 0 {
            GrabMode::Unique
        } else {
            GrabMode::Plain
        };
        let options = self.core.inner_mut().options_mut();
        options.grab = grab;
        options.timeout = u64::try_from(self.timeout).ok().map(Duration::from_millis);
    }

    fn register(&mut self, name: &[u8], timeout: u32, function: Function) -> c_int {
        if name.is_empty() {
            return self.error.set(
                GEARMAN_INVALID_ARGUMENT,
                "gearman_worker_register",
                "function name is empty",
            );
        }
        let mut full = self.namespace.clone();
        full.extend_from_slice(name);
        let timeout = (timeout > 0).then_some(timeout);
        if let Err(e) = self.core.register(Bytes::from(full.clone()), timeout) {
            return self.error.from_error("gearman_worker_register", &e);
        }
        self.functions.insert(full, function);
        GEARMAN_SUCCESS
    }

    fn grab(&mut self, call: &str) -> Result<AssignedJob, c_int> {
        if self.servers.is_empty() {
            return Err(self.error.set(GEARMAN_NO_SERVERS, call, "no servers added"));
        }
        if self.functions.is_empty() {
            return Err(self.error.set(
                GEARMAN_NO_REGISTERED_FUNCTIONS,
                call,
                "no functions registered",
            ));
        }
        self.apply_options();
        self.core
            .grab_job()
            .map_err(|e| self.error.from_error(call, &e))
    }

    /// `gearman_worker_work`: grabs one job, runs its function, sends the outcome.
    fn work(&mut self) -> c_int {
        let call = "gearman_worker_work";
        let assigned = match self.grab(call) {
            Ok(job) => job,
            Err(rc) => return rc,
        };
        let Some(function) = self.functions.get(&assigned.function[..]).copied() else {
            let _ = self.core.send_fail(&assigned);
            return self.error.set(
                GEARMAN_INVALID_FUNCTION_NAME,
                call,
                "job for a function without a callback",
            );
        };
        let mut job_st = gearman_job_st {
            options: HandleOptions {
                is_allocated: false,
                is_initialized: true,
            },
            _impl: ptr::null_mut(),
        };
        let job_ptr = unsafe {
            install(
                &mut job_st,
                Box::new(JobImpl::new(self as *mut WorkerImpl, assigned.clone())),
            )
        };
        let rc = match function.callback {
            Callback::None => {
                let _ = self.core.send_fail(&assigned);
                self.error.set(
                    GEARMAN_INVALID_WORKER_FUNCTION,
                    call,
                    "function registered without a callback",
                )
            }
            Callback::V1(f) => {
                let mut size = 0usize;
                let mut ret = GEARMAN_SUCCESS;
                let result = unsafe { f(job_ptr, function.context, &mut size, &mut ret) };
                let payload = if result.is_null() {
                    &[][..]
                } else {
                    unsafe { std::slice::from_raw_parts(result.cast::<u8>(), size) }
                };
                let finished = unsafe { get(job_ptr) }.is_some_and(|j| j.finished);
                let rc = match ret {
                    _ if finished => GEARMAN_SUCCESS,
                    GEARMAN_SUCCESS => {
                        self.send_final(&assigned, PacketType::WorkComplete, payload)
                    }
                    GEARMAN_SHUTDOWN => {
                        self.send_final(&assigned, PacketType::WorkComplete, payload);
                        GEARMAN_SHUTDOWN
                    }
                    GEARMAN_LOST_CONNECTION => {
                        self.core.inner_mut().drop_server_connection(&assigned);
                        GEARMAN_LOST_CONNECTION
                    }
                    other => {
                        self.send_final(&assigned, PacketType::WorkFail, &[]);
                        other
                    }
                };
                if !result.is_null() {
                    unsafe { libc::free(result) };
                }
                rc
            }
            Callback::V2(f) => {
                let ret = unsafe { f(job_ptr, function.context) };
                let finished = unsafe { get(job_ptr) }.is_some_and(|j| j.finished);
                match ret {
                    GEARMAN_SUCCESS => {
                        if !finished {
                            self.send_final(&assigned, PacketType::WorkComplete, &[]);
                        }
                        GEARMAN_SUCCESS
                    }
                    GEARMAN_SHUTDOWN => {
                        if !finished {
                            self.send_final(&assigned, PacketType::WorkComplete, &[]);
                        }
                        GEARMAN_SHUTDOWN
                    }
                    GEARMAN_WORK_FAIL | GEARMAN_WORK_EXCEPTION => {
                        if !finished {
                            self.send_final(&assigned, PacketType::WorkFail, &[]);
                        }
                        GEARMAN_WORK_FAIL
                    }
                    _ => {
                        // GEARMAN_ERROR and anything unknown: drop the connection so the
                        // server gives the job to another worker.
                        if !finished {
                            self.core.inner_mut().drop_server_connection(&assigned);
                        }
                        GEARMAN_WORK_ERROR
                    }
                }
            }
        };
        drop(unsafe { release(job_ptr) });
        rc
    }

    fn send_final(&mut self, job: &AssignedJob, kind: PacketType, data: &[u8]) -> c_int {
        let fields: Vec<&[u8]> = if kind == PacketType::WorkFail {
            vec![]
        } else {
            vec![data]
        };
        match self.core.inner_mut().queue(job, kind, &fields) {
            Ok(()) => {
                self.core.flush();
                GEARMAN_SUCCESS
            }
            Err(e) => self.error.from_error("gearman_worker_work", &e),
        }
    }
}

impl JobImpl {
    fn new(worker: *mut WorkerImpl, job: AssignedJob) -> JobImpl {
        JobImpl {
            worker,
            handle: crate::c_string(&job.handle),
            function: crate::c_string(&job.function),
            unique: crate::c_string(&job.unique),
            workload: job.workload.to_vec(),
            job,
            finished: false,
            error: None,
        }
    }

    fn send(&mut self, kind: PacketType, fields: &[&[u8]]) -> c_int {
        let Some(worker) = (unsafe { self.worker.as_mut() }) else {
            return GEARMAN_INVALID_ARGUMENT;
        };
        if self.finished {
            return GEARMAN_INVALID_ARGUMENT;
        }
        let result: Result<(), Error> = match kind {
            PacketType::WorkData => worker.core.send_data(&self.job, fields[0]),
            PacketType::WorkWarning => worker.core.send_warning(&self.job, fields[0]),
            PacketType::WorkComplete => worker.core.send_complete(&self.job, fields[0]),
            PacketType::WorkException => worker.core.send_exception(&self.job, fields[0]),
            PacketType::WorkFail => worker.core.send_fail(&self.job),
            _ => Ok(()),
        };
        if matches!(
            kind,
            PacketType::WorkComplete | PacketType::WorkException | PacketType::WorkFail
        ) {
            self.finished = true;
        }
        match result {
            Ok(()) => GEARMAN_SUCCESS,
            Err(e) => {
                let rc = crate::rc_of(&e);
                self.error = Some(crate::c_string(e.to_string().as_bytes()));
                rc
            }
        }
    }
}

unsafe fn worker<'a>(ptr: *const gearman_worker_st) -> Option<&'a mut WorkerImpl> {
    get(ptr)
}

macro_rules! worker_fn {
    ($(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty, $fail:expr, |$w:ident| $body:expr) => {
        $(#[$doc])*
        #[no_mangle]
        pub unsafe extern "C" fn $name(worker: *mut gearman_worker_st $(, $arg: $ty)*) -> $ret {
            guard($fail, || match self::worker(worker) {
                Some($w) => $body,
                None => $fail,
            })
        }
    };
}

macro_rules! job_fn {
    ($(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty, $fail:expr, |$j:ident| $body:expr) => {
        $(#[$doc])*
        #[no_mangle]
        pub unsafe extern "C" fn $name(job: *mut gearman_job_st $(, $arg: $ty)*) -> $ret {
            guard($fail, || match get(job) {
                Some($j) => $body,
                None => $fail,
            })
        }
    };
}

#[no_mangle]
pub unsafe extern "C" fn gearman_worker_create(
    worker: *mut gearman_worker_st,
) -> *mut gearman_worker_st {
    guard(ptr::null_mut(), || match WorkerImpl::new() {
        Some(imp) => mark_heap(install(worker, Box::new(imp))),
        None => ptr::null_mut(),
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_worker_clone(
    destination: *mut gearman_worker_st,
    source: *const gearman_worker_st,
) -> *mut gearman_worker_st {
    guard(ptr::null_mut(), || {
        let Some(src) = self::worker(source) else {
            return gearman_worker_create(destination);
        };
        let Some(mut imp) = WorkerImpl::new() else {
            return ptr::null_mut();
        };
        imp.core.inner_mut().remove_servers();
        imp.servers.clear();
        for server in src.servers.clone() {
            imp.core.add_server(server.clone());
            imp.servers.push(server);
        }
        imp.options = src.options;
        imp.timeout = src.timeout;
        imp.context = src.context;
        imp.namespace = src.namespace.clone();
        imp.namespace_c = src.namespace_c.clone();
        if let Some(id) = &src.identifier {
            imp.identifier = Some(id.clone());
            imp.core
                .inner_mut()
                .set_client_id(Bytes::copy_from_slice(id));
        }
        mark_heap(install(destination, Box::new(imp)))
    })
}

unsafe fn mark_heap(handle: *mut gearman_worker_st) -> *mut gearman_worker_st {
    if let Some(imp) = get(handle) {
        imp.heap = (*handle).options.is_allocated;
    }
    handle
}

#[no_mangle]
pub unsafe extern "C" fn gearman_worker_free(worker: *mut gearman_worker_st) {
    guard((), || drop(release(worker)))
}

worker_fn!(gearman_worker_error() -> *const c_char, ptr::null(), |w| w.error.text_ptr());
worker_fn!(gearman_worker_errno() -> c_int, 0, |w| w.error.errno);
worker_fn!(gearman_worker_options() -> gearman_worker_options_t, 0, |w| {
    let allocated = if w.heap { GEARMAN_WORKER_ALLOCATED } else { 0 };
    w.options | allocated | if w.identifier.is_some() { GEARMAN_WORKER_IDENTIFIER } else { 0 }
});
worker_fn!(gearman_worker_set_options(options: gearman_worker_options_t) -> (), (), |w| {
    w.options = (options & WORKER_SETTABLE) | GEARMAN_WORKER_PACKET_INIT;
    w.apply_options()
});
worker_fn!(gearman_worker_add_options(options: gearman_worker_options_t) -> (), (), |w| {
    w.options |= options & WORKER_SETTABLE;
    w.apply_options()
});
worker_fn!(gearman_worker_remove_options(options: gearman_worker_options_t) -> (), (), |w| {
    w.options &= !(options & WORKER_SETTABLE);
    w.apply_options()
});
worker_fn!(gearman_worker_timeout() -> c_int, -1, |w| w.timeout);
worker_fn!(gearman_worker_set_timeout(timeout: c_int) -> (), (), |w| {
    w.timeout = timeout;
    w.apply_options()
});
worker_fn!(gearman_worker_context() -> *mut c_void, ptr::null_mut(), |w| w.context);
worker_fn!(gearman_worker_set_context(context: *mut c_void) -> (), (), |w| w.context = context);
worker_fn!(
    /// Accepted; this library logs through `tracing`, not through a callback.
    gearman_worker_set_log_fn(_function: *mut gearman_log_fn, _context: *mut c_void, _verbose: gearman_verbose_t) -> (), (), |_w| ()
);
worker_fn!(
    /// Accepted; workloads handed to the caller always come from malloc().
    gearman_worker_set_workload_malloc_fn(_function: *mut gearman_malloc_fn, _context: *mut c_void) -> (), (), |_w| ()
);
worker_fn!(
    /// Accepted; workloads handed to the caller are released with free().
    gearman_worker_set_workload_free_fn(_function: *mut gearman_free_fn, _context: *mut c_void) -> (), (), |_w| ()
);
worker_fn!(
    /// Accepted; the library allocates with malloc().
    gearman_worker_set_memory_allocators(_malloc: *mut gearman_malloc_fn, _free: *mut gearman_free_fn, _realloc: *mut gearman_realloc_fn, _calloc: *mut gearman_calloc_fn, _context: *mut c_void) -> gearman_return_t, GEARMAN_INVALID_ARGUMENT, |_w| GEARMAN_SUCCESS
);
worker_fn!(
    /// TLS is not supported by this build; asking for it is recorded.
    gearman_worker_set_ssl(ssl: bool, _ca_file: *const c_char, _certificate: *const c_char, _key_file: *const c_char) -> (), (), |w| {
        if ssl {
            w.options |= GEARMAN_WORKER_SSL;
        }
    }
);
worker_fn!(gearman_worker_add_server(host: *const c_char, port: in_port_t) -> gearman_return_t, GEARMAN_INVALID_ARGUMENT, |w| {
    w.add_server(&crate::text_arg(host).unwrap_or_default(), port)
});
worker_fn!(gearman_worker_add_servers(servers: *const c_char) -> gearman_return_t, GEARMAN_INVALID_ARGUMENT, |w| {
    let list = crate::text_arg(servers).unwrap_or_else(crate::servers::default_list);
    w.add_servers(&list)
});
worker_fn!(gearman_worker_remove_servers() -> (), (), |w| {
    w.core.inner_mut().remove_servers();
    w.servers.clear()
});
worker_fn!(
    /// Calls block, so there is never anything to wait for.
    gearman_worker_wait() -> gearman_return_t, GEARMAN_INVALID_ARGUMENT, |w| {
        if w.servers.is_empty() { GEARMAN_NO_SERVERS } else { GEARMAN_SUCCESS }
    }
);
worker_fn!(gearman_worker_register(function_name: *const c_char, timeout: u32) -> gearman_return_t, GEARMAN_INVALID_ARGUMENT, |w| {
    let Some(name) = c_bytes(function_name) else {
        return w.error.set(GEARMAN_INVALID_ARGUMENT, "gearman_worker_register", "function name is NULL");
    };
    let name = name.to_vec();
    w.register(&name, timeout, Function { callback: Callback::None, context: ptr::null_mut() })
});
worker_fn!(gearman_worker_unregister(function_name: *const c_char) -> gearman_return_t, GEARMAN_INVALID_ARGUMENT, |w| {
    let Some(name) = c_bytes(function_name) else {
        return w.error.set(GEARMAN_INVALID_ARGUMENT, "gearman_worker_unregister", "function name is NULL");
    };
    let mut full = w.namespace.clone();
    full.extend_from_slice(name);
    if w.functions.remove(&full).is_none() {
        return w.error.set(GEARMAN_NO_REGISTERED_FUNCTION, "gearman_worker_unregister", "function not registered");
    }
    w.core.inner_mut().unregister(&full);
    GEARMAN_SUCCESS
});
worker_fn!(gearman_worker_unregister_all() -> gearman_return_t, GEARMAN_INVALID_ARGUMENT, |w| {
    if w.functions.is_empty() {
        return w.error.set(GEARMAN_NO_REGISTERED_FUNCTIONS, "gearman_worker_unregister_all", "no functions registered");
    }
    w.functions.clear();
    w.core.inner_mut().unregister_all();
    GEARMAN_SUCCESS
});
worker_fn!(gearman_worker_function_exist(function_name: *const c_char, size: usize) -> bool, false, |w| {
    let Some(name) = c_slice(function_name.cast(), size) else { return false };
    let mut full = w.namespace.clone();
    full.extend_from_slice(name);
    w.functions.contains_key(&full)
});
worker_fn!(gearman_worker_add_function(function_name: *const c_char, timeout: u32, function: *mut gearman_worker_fn, context: *mut c_void) -> gearman_return_t, GEARMAN_INVALID_ARGUMENT, |w| {
    let (Some(name), Some(function)) = (c_bytes(function_name), fn_ptr::<_, gearman_worker_fn_ptr>(function)) else {
        return w.error.set(GEARMAN_INVALID_ARGUMENT, "gearman_worker_add_function", "function name or callback is NULL");
    };
    let name = name.to_vec();
    w.register(&name, timeout, Function { callback: Callback::V1(function), context })
});
worker_fn!(gearman_worker_define_function(function_name: *const c_char, size: usize, function: gearman_function_t, timeout: u32, context: *mut c_void) -> gearman_return_t, GEARMAN_INVALID_ARGUMENT, |w| {
    let Some(name) = c_slice(function_name.cast(), size).filter(|n| !n.is_empty()) else {
        return w.error.set(GEARMAN_INVALID_ARGUMENT, "gearman_worker_define_function", "function name is NULL or empty");
    };
    let name = name.to_vec();
    let callback = match (function.kind, function.func.is_null()) {
        (_, true) => None,
        (GEARMAN_WORKER_FUNCTION_V1, false) => Some(Callback::V1(std::mem::transmute::<*const c_void, gearman_worker_fn_ptr>(function.func))),
        (GEARMAN_WORKER_FUNCTION_V2 | GEARMAN_WORKER_FUNCTION_PARTITION, false) => {
            Some(Callback::V2(std::mem::transmute::<*const c_void, gearman_function_fn_ptr>(function.func)))
        }
        _ => None,
    };
    let Some(callback) = callback else {
        return w.error.set(GEARMAN_INVALID_ARGUMENT, "gearman_worker_define_function", "bad gearman_function_t");
    };
    w.register(&name, timeout, Function { callback, context })
});
worker_fn!(gearman_worker_work() -> gearman_return_t, GEARMAN_INVALID_ARGUMENT, |w| w.work());
worker_fn!(gearman_worker_grab_job(job: *mut gearman_job_st, ret_ptr: *mut gearman_return_t) -> *mut gearman_job_st, ptr::null_mut(), |w| {
    let set = |rc| if !ret_ptr.is_null() { *ret_ptr = rc };
    // Like libgearman, a grab that finds nothing before the timeout reports NO_JOBS.
    let grabbed = match w.grab("gearman_worker_grab_job") {
        Err(GEARMAN_TIMEOUT) => Err(w.error.set(GEARMAN_NO_JOBS, "gearman_worker_grab_job", "no job to grab")),
        other => other,
    };
    match grabbed {
        Ok(assigned) => {
            set(GEARMAN_SUCCESS);
            install(job, Box::new(JobImpl::new(w as *mut WorkerImpl, assigned)))
        }
        Err(rc) => {
            set(rc);
            ptr::null_mut()
        }
    }
});
worker_fn!(gearman_worker_echo(workload: *const c_void, size: usize) -> gearman_return_t, GEARMAN_INVALID_ARGUMENT, |w| {
    let Some(data) = c_slice(workload, size) else {
        return w.error.set(GEARMAN_INVALID_ARGUMENT, "gearman_worker_echo", "workload is NULL");
    };
    if w.servers.is_empty() {
        return w.error.set(GEARMAN_NO_SERVERS, "gearman_worker_echo", "no servers added");
    }
    w.apply_options();
    match w.core.echo(data) {
        Ok(reply) if reply[..] == *data => GEARMAN_SUCCESS,
        Ok(_) => w.error.set(GEARMAN_ECHO_DATA_CORRUPTION, "gearman_worker_echo", "echo reply differs"),
        Err(e) => w.error.from_error("gearman_worker_echo", &e),
    }
});
worker_fn!(gearman_worker_set_server_option(option: *const c_char, size: usize) -> bool, false, |w| {
    let Some(option) = c_slice(option.cast(), size) else { return false };
    if option.eq_ignore_ascii_case(b"exceptions") {
        w.core.inner_mut().options_mut().exceptions = true;
        return !w.servers.is_empty();
    }
    w.error.set(GEARMAN_INVALID_ARGUMENT, "gearman_worker_set_server_option", "unknown option");
    false
});
worker_fn!(gearman_worker_set_namespace(namespace: *const c_char, size: usize) -> (), (), |w| {
    w.namespace = c_slice(namespace.cast(), size).map(<[u8]>::to_vec).unwrap_or_default();
    w.namespace_c = crate::c_string(&w.namespace);
});
worker_fn!(gearman_worker_namespace() -> *const c_char, ptr::null(), |w| {
    if w.namespace.is_empty() { ptr::null() } else { w.namespace_c.as_ptr() }
});
worker_fn!(gearman_worker_set_identifier(id: *const c_char, size: usize) -> gearman_return_t, GEARMAN_INVALID_ARGUMENT, |w| {
    let Some(id) = c_slice(id.cast(), size).filter(|i| !i.is_empty() && !i.contains(&b' ')) else {
        return w.error.set(GEARMAN_INVALID_ARGUMENT, "gearman_worker_set_identifier", "identifier is empty or contains a space");
    };
    w.identifier = Some(id.to_vec());
    w.core.inner_mut().set_client_id(Bytes::copy_from_slice(id));
    GEARMAN_SUCCESS
});
worker_fn!(
    /// There is no wake-up pipe: blocking calls honour the worker timeout instead.
    gearman_worker_id() -> gearman_id_t, gearman_id_t { read_fd: -1, write_fd: -1 }, |_w| gearman_id_t { read_fd: -1, write_fd: -1 }
);
worker_fn!(gearman_worker_shutdown_handle() -> gearman_id_t, gearman_id_t { read_fd: -1, write_fd: -1 }, |_w| gearman_id_t { read_fd: -1, write_fd: -1 });
worker_fn!(
    /// Jobs from grab_job are owned by the caller and freed with gearman_job_free.
    gearman_job_free_all() -> (), (), |_w| ()
);

#[no_mangle]
pub unsafe extern "C" fn gearman_job_free(job: *mut gearman_job_st) {
    guard((), || drop(release(job)))
}

job_fn!(gearman_job_send_data(data: *const c_void, size: usize) -> gearman_return_t, GEARMAN_INVALID_ARGUMENT, |j| {
    match c_slice(data, size) { Some(d) => j.send(PacketType::WorkData, &[d]), None => GEARMAN_INVALID_ARGUMENT }
});
job_fn!(gearman_job_send_warning(data: *const c_void, size: usize) -> gearman_return_t, GEARMAN_INVALID_ARGUMENT, |j| {
    match c_slice(data, size) { Some(d) => j.send(PacketType::WorkWarning, &[d]), None => GEARMAN_INVALID_ARGUMENT }
});
job_fn!(gearman_job_send_status(numerator: u32, denominator: u32) -> gearman_return_t, GEARMAN_INVALID_ARGUMENT, |j| {
    let Some(worker) = j.worker.as_mut() else { return GEARMAN_INVALID_ARGUMENT };
    match worker.core.send_status(&j.job, numerator.into(), denominator.into()) {
        Ok(()) => GEARMAN_SUCCESS,
        Err(e) => crate::rc_of(&e),
    }
});
job_fn!(gearman_job_send_complete(result: *const c_void, size: usize) -> gearman_return_t, GEARMAN_INVALID_ARGUMENT, |j| {
    match c_slice(result, size) { Some(d) => j.send(PacketType::WorkComplete, &[d]), None => GEARMAN_INVALID_ARGUMENT }
});
job_fn!(gearman_job_send_exception(exception: *const c_void, size: usize) -> gearman_return_t, GEARMAN_INVALID_ARGUMENT, |j| {
    match c_slice(exception, size) { Some(d) => j.send(PacketType::WorkException, &[d]), None => GEARMAN_INVALID_ARGUMENT }
});
job_fn!(gearman_job_send_fail() -> gearman_return_t, GEARMAN_INVALID_ARGUMENT, |j| {
    if j.job.reducer.is_some() {
        return GEARMAN_INVALID_ARGUMENT;
    }
    j.send(PacketType::WorkFail, &[])
});
job_fn!(gearman_job_handle() -> *const c_char, ptr::null(), |j| j.handle.as_ptr());
job_fn!(gearman_job_function_name() -> *const c_char, ptr::null(), |j| j.function.as_ptr());
job_fn!(gearman_job_unique() -> *const c_char, ptr::null(), |j| j.unique.as_ptr());
job_fn!(gearman_job_workload() -> *const c_void, ptr::null(), |j| {
    if j.workload.is_empty() { ptr::null() } else { j.workload.as_ptr().cast() }
});
job_fn!(gearman_job_workload_size() -> usize, 0, |j| j.workload.len());
job_fn!(gearman_job_take_workload(data_size: *mut usize) -> *mut c_void, ptr::null_mut(), |j| {
    let data = std::mem::take(&mut j.workload);
    if !data_size.is_null() {
        *data_size = data.len();
    }
    if data.is_empty() { ptr::null_mut() } else { malloc_copy(&data) }
});
job_fn!(gearman_job_error() -> *const c_char, ptr::null(), |j| j.error.as_ref().map_or(ptr::null(), |e| e.as_ptr()));
job_fn!(
    /// Map/reduce helpers are not provided; the caller creates its own worker.
    gearman_job_clone_worker() -> *mut gearman_worker_st, ptr::null_mut(), |_j| ptr::null_mut()
);
job_fn!(
    /// Map/reduce helpers are not provided; the caller creates its own client.
    gearman_job_use_client() -> *mut gearman_client_st, ptr::null_mut(), |_j| ptr::null_mut()
);
