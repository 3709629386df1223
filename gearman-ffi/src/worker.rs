//! `gearman_worker_st` and `gearman_job_st`: C arguments in, [`LibWorker`] and [`LibJob`] do
//! the work, C results out.

use std::cell::{Cell, RefCell};
use std::ffi::{c_char, c_int, c_void, CStr};
use std::ptr;
use std::rc::Rc;

use gearman_core::libgearman::options::WORKER_ALLOCATED;
use gearman_core::libgearman::{LibJob, LibWorker, ServerList, WorkReply};
use gearman_core::return_code as rc;

use crate::allocator::Allocator;
use crate::boundary::{boundary, record_panic_in, with_handle, with_handle_or, RecordsErrors};
use crate::handle::{get, install, release};
use crate::types::*;
use crate::{alloc_copy, c_bytes, c_slice, set_out, text_arg};

/// A registered function's callback.
#[derive(Clone, Copy)]
enum Callback {
    V1(gearman_worker_fn_ptr),
    V2(gearman_function_fn_ptr),
}

#[derive(Clone, Copy)]
pub struct CFunction {
    callback: Callback,
    context: *mut c_void,
}

pub struct WorkerImpl {
    model: RefCell<LibWorker<CFunction>>,
    context: Cell<*mut c_void>,
    /// Results of `gearman_worker_fn` callbacks go back through its free function.
    allocator: Cell<Allocator>,
    heap: Cell<bool>,
}

pub struct JobImpl {
    job: RefCell<LibJob>,
    /// Where `gearman_job_take_workload` allocates.
    allocator: Allocator,
}

impl RecordsErrors for WorkerImpl {
    fn record_panic(&self, call: &str, text: &str) {
        record_panic_in(&self.model, call, text);
    }
}

impl RecordsErrors for JobImpl {
    fn record_panic(&self, _call: &str, text: &str) {
        if let Ok(mut job) = self.job.try_borrow_mut() {
            job.error = Some(crate::c_string(
                format!("internal error: {text}").as_bytes(),
            ));
        }
    }
}

impl WorkerImpl {
    fn new(model: LibWorker<CFunction>) -> WorkerImpl {
        WorkerImpl {
            model: RefCell::new(model),
            context: Cell::new(ptr::null_mut()),
            allocator: Cell::new(Allocator::default()),
            heap: Cell::new(false),
        }
    }

    fn job_impl(&self, job: LibJob) -> Rc<JobImpl> {
        Rc::new(JobImpl {
            job: RefCell::new(job),
            allocator: self.allocator.get(),
        })
    }

    /// `gearman_worker_work`: a job, its function called with no borrow held, the answer sent.
    fn work(&self) -> c_int {
        let call = "gearman_worker_work";
        let grabbed = self.model.borrow_mut().grab_for_work(call);
        let (job, function) = match grabbed {
            Ok(grabbed) => grabbed,
            Err(code) => return code,
        };
        let imp = self.job_impl(job);
        let mut job_st = gearman_job_st {
            options: HandleOptions {
                is_allocated: false,
                is_initialized: true,
            },
            _impl: ptr::null_mut(),
        };
        // SAFETY: a struct on this stack frame, alive across the callback.
        let (job_ptr, _) = unsafe { install(&mut job_st, imp.clone()) };
        let code = match function.callback {
            Callback::V1(f) => {
                let mut size = 0usize;
                let mut ret = rc::SUCCESS;
                // SAFETY: the caller's callback with its job, context and out-parameters.
                let result = unsafe { f(job_ptr, function.context, &mut size, &mut ret) };
                let payload = match result.is_null() {
                    true => &[][..],
                    // SAFETY: the callback returned `size` bytes at `result`.
                    false => unsafe { std::slice::from_raw_parts(result.cast::<u8>(), size) },
                };
                let reply = WorkReply::Result {
                    result: payload,
                    ret,
                };
                let code = self.finish(call, &imp, reply);
                if !result.is_null() {
                    // SAFETY: the callback's result, released as libgearman releases it.
                    unsafe { self.allocator.get().free(result) };
                }
                code
            }
            Callback::V2(f) => {
                // SAFETY: the caller's callback with its job and context.
                let ret = unsafe { f(job_ptr, function.context) };
                self.finish(call, &imp, WorkReply::Code(ret))
            }
        };
        // SAFETY: the struct installed above; the callback may have released it already.
        drop(unsafe { release(job_ptr) });
        code
    }

    fn finish(&self, call: &str, imp: &JobImpl, reply: WorkReply) -> c_int {
        let mut job = imp.job.borrow_mut();
        self.model.borrow_mut().finish_work(call, &mut job, reply)
    }
}

#[no_mangle]
pub unsafe extern "C" fn gearman_worker_create(
    worker: *mut gearman_worker_st,
) -> *mut gearman_worker_st {
    boundary(|| {
        let mut model = LibWorker::new();
        model.add_servers_from_env();
        let imp = Rc::new(WorkerImpl::new(model));
        // SAFETY: `worker` is NULL or the caller's struct.
        let (handle, allocated) = unsafe { install(worker, imp.clone()) };
        imp.heap.set(allocated);
        handle
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_worker_clone(
    destination: *mut gearman_worker_st,
    source: *const gearman_worker_st,
) -> *mut gearman_worker_st {
    boundary(|| {
        // SAFETY: `source` is NULL or a worker handle.
        let Some(src) = (unsafe { get(source) }) else {
            // SAFETY: forwarded.
            return unsafe { gearman_worker_create(destination) };
        };
        let model = src.model.borrow().clone_settings();
        let imp = Rc::new(WorkerImpl::new(model));
        imp.context.set(src.context.get());
        imp.allocator.set(src.allocator.get());
        // SAFETY: `destination` is NULL or the caller's struct.
        let (handle, allocated) = unsafe { install(destination, imp.clone()) };
        imp.heap.set(allocated);
        handle
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_worker_free(worker: *mut gearman_worker_st) {
    // SAFETY: `worker` is NULL or a worker handle.
    boundary(|| drop(unsafe { release(worker) }))
}

#[no_mangle]
pub unsafe extern "C" fn gearman_worker_error(worker: *const gearman_worker_st) -> *const c_char {
    with_handle(worker, "gearman_worker_error", |w| {
        w.model
            .borrow()
            .last
            .text()
            .map_or(ptr::null(), CStr::as_ptr)
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_worker_errno(worker: *mut gearman_worker_st) -> c_int {
    with_handle_or(worker, "gearman_worker_errno", 0, |w| {
        w.model.borrow().last.errno()
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_worker_options(
    worker: *const gearman_worker_st,
) -> gearman_worker_options_t {
    with_handle_or(worker, "gearman_worker_options", 0, |w| {
        let allocated = if w.heap.get() { WORKER_ALLOCATED } else { 0 };
        w.model.borrow().options() | allocated
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_worker_set_options(
    worker: *mut gearman_worker_st,
    options: gearman_worker_options_t,
) {
    with_handle(worker, "gearman_worker_set_options", |w| {
        w.model.borrow_mut().set_options(options)
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_worker_add_options(
    worker: *mut gearman_worker_st,
    options: gearman_worker_options_t,
) {
    with_handle(worker, "gearman_worker_add_options", |w| {
        w.model.borrow_mut().add_options(options)
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_worker_remove_options(
    worker: *mut gearman_worker_st,
    options: gearman_worker_options_t,
) {
    with_handle(worker, "gearman_worker_remove_options", |w| {
        w.model.borrow_mut().remove_options(options)
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_worker_timeout(worker: *mut gearman_worker_st) -> c_int {
    with_handle_or(worker, "gearman_worker_timeout", -1, |w| {
        w.model.borrow().timeout()
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_worker_set_timeout(
    worker: *mut gearman_worker_st,
    timeout: c_int,
) {
    with_handle(worker, "gearman_worker_set_timeout", |w| {
        w.model.borrow_mut().set_timeout(timeout)
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_worker_context(worker: *const gearman_worker_st) -> *mut c_void {
    with_handle(worker, "gearman_worker_context", |w| w.context.get())
}

#[no_mangle]
pub unsafe extern "C" fn gearman_worker_set_context(
    worker: *mut gearman_worker_st,
    context: *mut c_void,
) {
    with_handle(worker, "gearman_worker_set_context", |w| {
        w.context.set(context)
    })
}

/// Error texts go to `function` as they are recorded, when `verbose` is GEARMAN_VERBOSE_ERROR or
/// more (FATAL for allocation failures), as libgearman logs them.
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_set_log_fn(
    worker: *mut gearman_worker_st,
    function: *mut gearman_log_fn,
    context: *mut c_void,
    verbose: gearman_verbose_t,
) {
    with_handle(worker, "gearman_worker_set_log_fn", |w| {
        // SAFETY: a C function of gearman_log_fn's type, or NULL, with its context.
        let logger = unsafe { logger(function, context) };
        w.model.borrow_mut().last.set_logger(logger, verbose)
    })
}

/// Workloads handed to the caller (`gearman_job_take_workload`) come from this function.
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_set_workload_malloc_fn(
    worker: *mut gearman_worker_st,
    function: *mut gearman_malloc_fn,
    context: *mut c_void,
) {
    with_handle(worker, "gearman_worker_set_workload_malloc_fn", |w| {
        // SAFETY: a C function of gearman_malloc_fn's type, or NULL.
        unsafe { Allocator::set_malloc(&w.allocator, function, context) }
    })
}

/// Results of `gearman_worker_fn` callbacks are released with this function (else `free()`).
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_set_workload_free_fn(
    worker: *mut gearman_worker_st,
    function: *mut gearman_free_fn,
    context: *mut c_void,
) {
    with_handle(worker, "gearman_worker_set_workload_free_fn", |w| {
        // SAFETY: a C function of gearman_free_fn's type, or NULL.
        unsafe { Allocator::set_free(&w.allocator, function, context) }
    })
}

/// The malloc and free functions are used as the workload functions are.
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_set_memory_allocators(
    worker: *mut gearman_worker_st,
    malloc: *mut gearman_malloc_fn,
    free: *mut gearman_free_fn,
    _realloc: *mut gearman_realloc_fn,
    _calloc: *mut gearman_calloc_fn,
    context: *mut c_void,
) -> gearman_return_t {
    with_handle(worker, "gearman_worker_set_memory_allocators", |w| {
        // SAFETY: C functions of the named types, or NULL.
        unsafe { Allocator::set_both(&w.allocator, malloc, free, context) };
        rc::SUCCESS
    })
}

/// TLS on or off for connections made from now on, with its PEM files. A NULL or empty
/// path means libgearman's default: `GEARMAND_CA_CERTIFICATE`, `GEARMAN_CLIENT_PEM`,
/// `GEARMAN_CLIENT_KEY`, else the files under /etc/ssl/certs (see README, TLS). A file that
/// cannot be used fails each connection with the reason (this call returns nothing).
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_set_ssl(
    worker: *mut gearman_worker_st,
    ssl: bool,
    ca_file: *const c_char,
    certificate: *const c_char,
    key_file: *const c_char,
) {
    with_handle(worker, "gearman_worker_set_ssl", |w| {
        // SAFETY: each is NULL or a C string.
        let path = |p| crate::path_arg(unsafe { crate::c_bytes(p) });
        let (ca_file, certificate, key_file) = (path(ca_file), path(certificate), path(key_file));
        w.model
            .borrow_mut()
            .set_ssl(ssl, ca_file, certificate, key_file);
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_worker_add_server(
    worker: *mut gearman_worker_st,
    host: *const c_char,
    port: in_port_t,
) -> gearman_return_t {
    let call = "gearman_worker_add_server";
    with_handle(worker, call, |w| {
        // SAFETY: `host` is NULL or a C string.
        let host = unsafe { text_arg(host) }.unwrap_or_default();
        match w.model.borrow_mut().add_server(call, &host, port) {
            Ok(()) => rc::SUCCESS,
            Err(code) => code,
        }
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_worker_add_servers(
    worker: *mut gearman_worker_st,
    servers: *const c_char,
) -> gearman_return_t {
    let call = "gearman_worker_add_servers";
    with_handle(worker, call, |w| {
        // SAFETY: `servers` is NULL or a C string.
        let list = unsafe { text_arg(servers) }.unwrap_or_else(crate::servers::default_list);
        match w.model.borrow_mut().add_servers(call, &list) {
            Ok(()) => rc::SUCCESS,
            Err(code) => code,
        }
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_worker_remove_servers(worker: *mut gearman_worker_st) {
    with_handle(worker, "gearman_worker_remove_servers", |w| {
        w.model.borrow_mut().remove_servers()
    })
}

/// Calls block, so there is never anything to wait for.
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_wait(worker: *mut gearman_worker_st) -> gearman_return_t {
    with_handle(worker, "gearman_worker_wait", |w| {
        if !w.model.borrow().has_servers() {
            rc::NO_SERVERS
        } else {
            rc::SUCCESS
        }
    })
}

/// Registers a function for `grab_job` (no callback: `work()` fails its jobs).
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_register(
    worker: *mut gearman_worker_st,
    function_name: *const c_char,
    timeout: u32,
) -> gearman_return_t {
    let call = "gearman_worker_register";
    with_handle(worker, call, |w| {
        let mut model = w.model.borrow_mut();
        // SAFETY: `function_name` is NULL or a C string.
        let Some(name) = (unsafe { c_bytes(function_name) }) else {
            return model
                .last
                .set(rc::INVALID_ARGUMENT, call, "function name is NULL");
        };
        match model.register(call, name, timeout, None) {
            Ok(()) => rc::SUCCESS,
            Err(code) => code,
        }
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_worker_unregister(
    worker: *mut gearman_worker_st,
    function_name: *const c_char,
) -> gearman_return_t {
    let call = "gearman_worker_unregister";
    with_handle(worker, call, |w| {
        let mut model = w.model.borrow_mut();
        // SAFETY: `function_name` is NULL or a C string.
        let Some(name) = (unsafe { c_bytes(function_name) }) else {
            return model
                .last
                .set(rc::INVALID_ARGUMENT, call, "function name is NULL");
        };
        match model.unregister(call, name) {
            Ok(()) => rc::SUCCESS,
            Err(code) => code,
        }
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_worker_unregister_all(
    worker: *mut gearman_worker_st,
) -> gearman_return_t {
    let call = "gearman_worker_unregister_all";
    with_handle(worker, call, |w| {
        match w.model.borrow_mut().unregister_all(call) {
            Ok(()) => rc::SUCCESS,
            Err(code) => code,
        }
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_worker_function_exist(
    worker: *mut gearman_worker_st,
    function_name: *const c_char,
    size: usize,
) -> bool {
    with_handle(worker, "gearman_worker_function_exist", |w| {
        // SAFETY: `function_name` is NULL or `size` readable bytes.
        let Some(name) = (unsafe { c_slice(function_name.cast(), size) }) else {
            return false;
        };
        w.model.borrow().function_exists(name)
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_worker_add_function(
    worker: *mut gearman_worker_st,
    function_name: *const c_char,
    timeout: u32,
    function: *mut gearman_worker_fn,
    context: *mut c_void,
) -> gearman_return_t {
    let call = "gearman_worker_add_function";
    with_handle(worker, call, |w| {
        let mut model = w.model.borrow_mut();
        // SAFETY: a C string or NULL, and a gearman_worker_fn or NULL.
        let (name, function) = unsafe {
            (
                c_bytes(function_name),
                fn_ptr::<_, gearman_worker_fn_ptr>(function),
            )
        };
        let (Some(name), Some(function)) = (name, function) else {
            return model.last.set(
                rc::INVALID_ARGUMENT,
                call,
                "function name or callback is NULL",
            );
        };
        let callback = CFunction {
            callback: Callback::V1(function),
            context,
        };
        match model.register(call, name, timeout, Some(callback)) {
            Ok(()) => rc::SUCCESS,
            Err(code) => code,
        }
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_worker_define_function(
    worker: *mut gearman_worker_st,
    function_name: *const c_char,
    size: usize,
    function: gearman_function_t,
    timeout: u32,
    context: *mut c_void,
) -> gearman_return_t {
    let call = "gearman_worker_define_function";
    with_handle(worker, call, |w| {
        let mut model = w.model.borrow_mut();
        // SAFETY: `function_name` is NULL or `size` readable bytes.
        let name = unsafe { c_slice(function_name.cast(), size) }.filter(|n| !n.is_empty());
        let Some(name) = name else {
            return model
                .last
                .set(rc::INVALID_ARGUMENT, call, "function name is NULL or empty");
        };
        let callback = match (function.kind, function.func.is_null()) {
            (_, true) => None,
            // SAFETY: a V1 descriptor carries a gearman_worker_fn.
            (GEARMAN_WORKER_FUNCTION_V1, false) => Some(Callback::V1(unsafe {
                std::mem::transmute::<*const c_void, gearman_worker_fn_ptr>(function.func)
            })),
            (GEARMAN_WORKER_FUNCTION_V2 | GEARMAN_WORKER_FUNCTION_PARTITION, false) => {
                // SAFETY: V2 and partition descriptors carry a gearman_function_fn.
                Some(Callback::V2(unsafe {
                    std::mem::transmute::<*const c_void, gearman_function_fn_ptr>(function.func)
                }))
            }
            _ => None,
        };
        let Some(callback) = callback else {
            return model
                .last
                .set(rc::INVALID_ARGUMENT, call, "bad gearman_function_t");
        };
        let callback = CFunction { callback, context };
        match model.register(call, name, timeout, Some(callback)) {
            Ok(()) => rc::SUCCESS,
            Err(code) => code,
        }
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_worker_work(worker: *mut gearman_worker_st) -> gearman_return_t {
    with_handle(worker, "gearman_worker_work", |w| w.work())
}

#[no_mangle]
pub unsafe extern "C" fn gearman_worker_grab_job(
    worker: *mut gearman_worker_st,
    job: *mut gearman_job_st,
    ret_ptr: *mut gearman_return_t,
) -> *mut gearman_job_st {
    let call = "gearman_worker_grab_job";
    // SAFETY: `ret_ptr` is NULL or writable.
    unsafe { set_out(ret_ptr, rc::INVALID_ARGUMENT) };
    with_handle(worker, call, |w| {
        let grabbed = {
            let mut model = w.model.borrow_mut();
            // Like libgearman, a grab that finds nothing before the timeout reports NO_JOBS.
            match model.grab(call) {
                Err(rc::TIMEOUT) => Err(model.last.set(rc::NO_JOBS, call, "no job to grab")),
                other => other,
            }
        };
        match grabbed {
            Ok(assigned) => {
                // SAFETY: as above.
                unsafe { set_out(ret_ptr, rc::SUCCESS) };
                // SAFETY: `job` is NULL or the caller's struct.
                unsafe { install(job, w.job_impl(assigned)) }.0
            }
            Err(code) => {
                // SAFETY: as above.
                unsafe { set_out(ret_ptr, code) };
                ptr::null_mut()
            }
        }
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_worker_echo(
    worker: *mut gearman_worker_st,
    workload: *const c_void,
    size: usize,
) -> gearman_return_t {
    let call = "gearman_worker_echo";
    with_handle(worker, call, |w| {
        let mut model = w.model.borrow_mut();
        // SAFETY: `workload` is NULL or `size` readable bytes.
        let Some(data) = (unsafe { c_slice(workload, size) }) else {
            return model
                .last
                .set(rc::INVALID_ARGUMENT, call, "workload is NULL");
        };
        match model.echo(call, data) {
            Ok(()) => rc::SUCCESS,
            Err(code) => code,
        }
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_worker_set_server_option(
    worker: *mut gearman_worker_st,
    option: *const c_char,
    size: usize,
) -> bool {
    let call = "gearman_worker_set_server_option";
    with_handle(worker, call, |w| {
        // SAFETY: `option` is NULL or `size` readable bytes.
        let Some(option) = (unsafe { c_slice(option.cast(), size) }) else {
            return false;
        };
        w.model.borrow_mut().set_server_option(call, option)
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_worker_set_namespace(
    worker: *mut gearman_worker_st,
    namespace: *const c_char,
    size: usize,
) {
    with_handle(worker, "gearman_worker_set_namespace", |w| {
        // SAFETY: `namespace` is NULL or `size` readable bytes.
        let namespace = unsafe { c_slice(namespace.cast(), size) }.unwrap_or_default();
        w.model.borrow_mut().set_namespace(namespace)
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_worker_namespace(worker: *mut gearman_worker_st) -> *const c_char {
    with_handle(worker, "gearman_worker_namespace", |w| {
        w.model
            .borrow()
            .namespace()
            .map_or(ptr::null(), CStr::as_ptr)
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_worker_set_identifier(
    worker: *mut gearman_worker_st,
    id: *const c_char,
    size: usize,
) -> gearman_return_t {
    let call = "gearman_worker_set_identifier";
    with_handle(worker, call, |w| {
        // SAFETY: `id` is NULL or `size` readable bytes.
        let id = unsafe { c_slice(id.cast(), size) }.unwrap_or_default();
        match w.model.borrow_mut().set_identifier(call, id) {
            Ok(()) => rc::SUCCESS,
            Err(code) => code,
        }
    })
}

/// There is no wake-up pipe: blocking calls honour the worker timeout instead.
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_id(worker: *mut gearman_worker_st) -> gearman_id_t {
    with_handle(worker, "gearman_worker_id", |_w| gearman_id_t {
        read_fd: -1,
        write_fd: -1,
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_worker_shutdown_handle(
    worker: *mut gearman_worker_st,
) -> gearman_id_t {
    with_handle(worker, "gearman_worker_shutdown_handle", |_w| {
        gearman_id_t {
            read_fd: -1,
            write_fd: -1,
        }
    })
}

/// Jobs from grab_job are owned by the caller and freed with gearman_job_free.
#[no_mangle]
pub unsafe extern "C" fn gearman_job_free_all(worker: *mut gearman_worker_st) {
    with_handle(worker, "gearman_job_free_all", |_w| ())
}

#[no_mangle]
pub unsafe extern "C" fn gearman_job_free(job: *mut gearman_job_st) {
    // SAFETY: `job` is NULL or a job handle.
    boundary(|| drop(unsafe { release(job) }))
}

/// Runs a job report and turns its outcome into a return code.
fn report(
    job: *mut gearman_job_st,
    call: &str,
    send: impl FnOnce(&mut LibJob) -> Result<(), c_int>,
) -> gearman_return_t {
    with_handle(job, call, |j| match send(&mut j.job.borrow_mut()) {
        Ok(()) => rc::SUCCESS,
        Err(code) => code,
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_job_send_data(
    job: *mut gearman_job_st,
    data: *const c_void,
    size: usize,
) -> gearman_return_t {
    // SAFETY: `data` is NULL or `size` readable bytes.
    let Some(data) = (unsafe { c_slice(data, size) }) else {
        return rc::INVALID_ARGUMENT;
    };
    report(job, "gearman_job_send_data", |j| j.send_data(data))
}

#[no_mangle]
pub unsafe extern "C" fn gearman_job_send_warning(
    job: *mut gearman_job_st,
    data: *const c_void,
    size: usize,
) -> gearman_return_t {
    // SAFETY: `data` is NULL or `size` readable bytes.
    let Some(data) = (unsafe { c_slice(data, size) }) else {
        return rc::INVALID_ARGUMENT;
    };
    report(job, "gearman_job_send_warning", |j| j.send_warning(data))
}

#[no_mangle]
pub unsafe extern "C" fn gearman_job_send_status(
    job: *mut gearman_job_st,
    numerator: u32,
    denominator: u32,
) -> gearman_return_t {
    report(job, "gearman_job_send_status", |j| {
        j.send_status(numerator.into(), denominator.into())
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_job_send_complete(
    job: *mut gearman_job_st,
    result: *const c_void,
    size: usize,
) -> gearman_return_t {
    // SAFETY: `result` is NULL or `size` readable bytes.
    let Some(result) = (unsafe { c_slice(result, size) }) else {
        return rc::INVALID_ARGUMENT;
    };
    report(job, "gearman_job_send_complete", |j| {
        j.send_complete(result)
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_job_send_exception(
    job: *mut gearman_job_st,
    exception: *const c_void,
    size: usize,
) -> gearman_return_t {
    // SAFETY: `exception` is NULL or `size` readable bytes.
    let Some(exception) = (unsafe { c_slice(exception, size) }) else {
        return rc::INVALID_ARGUMENT;
    };
    report(job, "gearman_job_send_exception", |j| {
        j.send_exception(exception)
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_job_send_fail(job: *mut gearman_job_st) -> gearman_return_t {
    report(job, "gearman_job_send_fail", LibJob::send_fail)
}

#[no_mangle]
pub unsafe extern "C" fn gearman_job_handle(job: *const gearman_job_st) -> *const c_char {
    with_handle(job, "gearman_job_handle", |j| {
        j.job.borrow().handle.as_ptr()
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_job_function_name(job: *const gearman_job_st) -> *const c_char {
    with_handle(job, "gearman_job_function_name", |j| {
        j.job.borrow().function.as_ptr()
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_job_unique(job: *const gearman_job_st) -> *const c_char {
    with_handle(job, "gearman_job_unique", |j| {
        j.job.borrow().unique.as_ptr()
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_job_workload(job: *const gearman_job_st) -> *const c_void {
    with_handle(job, "gearman_job_workload", |j| {
        let job = j.job.borrow();
        match &job.workload[..] {
            [] => ptr::null(),
            workload => workload.as_ptr().cast(),
        }
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_job_workload_size(job: *const gearman_job_st) -> usize {
    with_handle(job, "gearman_job_workload_size", |j| {
        j.job.borrow().workload.len()
    })
}

/// Transfers the workload to the caller, in memory from the worker's malloc function (or
/// `malloc`), for the matching free.
#[no_mangle]
pub unsafe extern "C" fn gearman_job_take_workload(
    job: *mut gearman_job_st,
    data_size: *mut usize,
) -> *mut c_void {
    with_handle(job, "gearman_job_take_workload", |j| {
        let data = std::mem::take(&mut j.job.borrow_mut().workload);
        // SAFETY: `data_size` is NULL or writable.
        unsafe { set_out(data_size, data.len()) };
        if data.is_empty() {
            return ptr::null_mut();
        }
        alloc_copy(&data, |n| j.allocator.malloc(n))
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_job_error(job: *mut gearman_job_st) -> *const c_char {
    with_handle(job, "gearman_job_error", |j| {
        j.job
            .borrow()
            .error
            .as_deref()
            .map_or(ptr::null(), CStr::as_ptr)
    })
}

/// Map/reduce helpers are not provided; the caller creates its own worker.
#[no_mangle]
pub unsafe extern "C" fn gearman_job_clone_worker(
    job: *mut gearman_job_st,
) -> *mut gearman_worker_st {
    with_handle(job, "gearman_job_clone_worker", |_j| ptr::null_mut())
}

/// Map/reduce helpers are not provided; the caller creates its own client.
#[no_mangle]
pub unsafe extern "C" fn gearman_job_use_client(
    job: *mut gearman_job_st,
) -> *mut gearman_client_st {
    with_handle(job, "gearman_job_use_client", |_j| ptr::null_mut())
}
