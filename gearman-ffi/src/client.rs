//! `gearman_client_st`: C arguments in, [`LibClient`] does the work, C results out.

use std::cell::{Cell, RefCell};
use std::ffi::{c_char, c_int, c_void, CStr};
use std::ptr;
use std::rc::Rc;

use bytes::Bytes;
use gearman_core::libgearman::client::{execute as execute_task, run_tasks};
use gearman_core::libgearman::options::CLIENT_ALLOCATED;
use gearman_core::libgearman::{Callback, LibClient, ServerList, TaskEvents, TaskKind, TaskRef};
use gearman_core::return_code as rc;
use gearman_core::{JobRequest, JobStatus, Priority};

use crate::allocator::Allocator;
use crate::boundary::{boundary, record_panic_in, with_handle, with_handle_or, RecordsErrors};
use crate::handle::{get, install, release};
use crate::task::{CTask, TaskImpl};
use crate::types::*;
use crate::{alloc_copy, c_bytes, c_slice, set_out, text_arg};

/// The callbacks `run_tasks` calls, one per event, shared by all tasks.
#[derive(Default, Clone, Copy)]
pub struct Actions {
    pub workload: Option<gearman_task_fn_ptr>,
    pub created: Option<gearman_task_fn_ptr>,
    pub data: Option<gearman_task_fn_ptr>,
    pub warning: Option<gearman_task_fn_ptr>,
    pub status: Option<gearman_task_fn_ptr>,
    pub complete: Option<gearman_task_fn_ptr>,
    pub exception: Option<gearman_task_fn_ptr>,
    pub fail: Option<gearman_task_fn_ptr>,
}

impl Actions {
    fn get(&self, which: Callback) -> Option<gearman_task_fn_ptr> {
        match which {
            Callback::Workload => self.workload,
            Callback::Created => self.created,
            Callback::Data => self.data,
            Callback::Warning => self.warning,
            Callback::Status => self.status,
            Callback::Complete => self.complete,
            Callback::Exception => self.exception,
            Callback::Fail => self.fail,
        }
    }
}

pub struct ClientImpl {
    pub model: RefCell<LibClient<CTask>>,
    pub actions: Cell<Actions>,
    pub context: Cell<*mut c_void>,
    pub task_context_free: Cell<Option<gearman_task_context_free_fn_ptr>>,
    pub allocator: Cell<Allocator>,
    /// The library allocated the handle struct (GEARMAN_CLIENT_ALLOCATED).
    heap: Cell<bool>,
}

impl RecordsErrors for ClientImpl {
    fn record_panic(&self, call: &str, text: &str) {
        record_panic_in(&self.model, call, text);
    }
}

impl ClientImpl {
    fn new(model: LibClient<CTask>) -> ClientImpl {
        ClientImpl {
            model: RefCell::new(model),
            actions: Cell::new(Actions::default()),
            context: Cell::new(ptr::null_mut()),
            task_context_free: Cell::new(None),
            allocator: Cell::new(Allocator::default()),
            heap: Cell::new(false),
        }
    }

    /// Unlinks a task from this client and frees its C struct, calling the context-free
    /// callback first.
    pub fn free_task(&self, task: *mut gearman_task_st, entry: &TaskRef<CTask>) {
        let user = self.model.borrow_mut().forget(entry);
        self.release_task(task, user);
    }

    /// Frees a task's C struct once the client has let go of it.
    fn release_task(&self, task: *mut gearman_task_st, user: Option<CTask>) {
        if let (Some(free_fn), Some(user)) = (self.task_context_free.get(), &user) {
            // SAFETY: the caller's callback, given the task it registered for and its context.
            unsafe { free_fn(task, user.context) };
        }
        // SAFETY: `task` is the struct this client installed the task in.
        drop(unsafe { release(task) });
    }

    fn free_all_tasks(&self) {
        let all = self.model.borrow_mut().forget_all();
        for (_, user) in all {
            let handle = user.handle;
            self.release_task(handle, Some(user));
        }
    }

    /// Installs a new task in `storage` (or on the heap) and links it to the model's task.
    fn install_task(
        self: &Rc<Self>,
        storage: *mut gearman_task_st,
        kind: TaskKind,
        key: &[u8],
        context: *mut c_void,
    ) -> *mut gearman_task_st {
        let entry = self.model.borrow_mut().add_task(
            kind,
            key,
            CTask {
                handle: ptr::null_mut(),
                context,
                actions: self.actions.get(),
            },
        );
        let imp = Rc::new(TaskImpl::new(entry.clone(), Rc::downgrade(self)));
        // SAFETY: `storage` is NULL or the caller's task struct.
        let (task, _) = unsafe { install(storage, imp) };
        if task.is_null() {
            self.model.borrow_mut().forget(&entry);
            return task;
        }
        if let Some(user) = entry.borrow_mut().user.as_mut() {
            user.handle = task;
        }
        task
    }
}

impl Drop for ClientImpl {
    fn drop(&mut self) {
        self.free_all_tasks();
    }
}

/// What `run_tasks` asks of the C side: call the C callbacks and free released tasks.
struct CEvents<'a> {
    client: &'a ClientImpl,
}

impl TaskEvents<CTask> for CEvents<'_> {
    type Abort = std::convert::Infallible;

    fn call(&mut self, task: &TaskRef<CTask>, which: Callback) -> Result<c_int, Self::Abort> {
        let user = task.borrow().user.as_ref().map(|u| (u.handle, u.actions));
        let Some((handle, actions)) = user else {
            return Ok(rc::SUCCESS);
        };
        Ok(match actions.get(which) {
            // SAFETY: the caller's callback, given its task.
            Some(f) => unsafe { f(handle) },
            None => rc::SUCCESS,
        })
    }

    fn released(&mut self, _task: &TaskRef<CTask>, user: CTask) {
        let handle = user.handle;
        self.client.release_task(handle, Some(user));
    }
}

fn priority_of(p: c_int) -> Priority {
    match p {
        GEARMAN_JOB_PRIORITY_HIGH => Priority::High,
        GEARMAN_JOB_PRIORITY_LOW => Priority::Low,
        _ => Priority::Normal,
    }
}

/// The checked job request of a `do`/`add_task` call.
///
/// # Safety
/// Pointer arguments are NULL or valid C strings / buffers of `size` bytes.
unsafe fn request(
    model: &mut LibClient<CTask>,
    call: &str,
    function: *const c_char,
    unique: *const c_char,
    workload: *const c_void,
    size: usize,
) -> Result<JobRequest, c_int> {
    // SAFETY: forwarded from the caller.
    let (function, unique, workload) =
        unsafe { (c_bytes(function), c_bytes(unique), c_slice(workload, size)) };
    let Some(workload) = workload else {
        return Err(model
            .last
            .set(rc::INVALID_ARGUMENT, call, "workload is NULL"));
    };
    model.job_request(
        call,
        function.unwrap_or_default(),
        unique,
        Bytes::copy_from_slice(workload),
    )
}

/// `gearman_client_do*`.
///
/// # Safety
/// As [`request`]; `result_size` and `ret_ptr` are NULL or writable.
#[allow(clippy::too_many_arguments)]
unsafe fn do_job(
    client: *mut gearman_client_st,
    call: &str,
    priority: Priority,
    function: *const c_char,
    unique: *const c_char,
    workload: *const c_void,
    size: usize,
    result_size: *mut usize,
    ret_ptr: *mut gearman_return_t,
) -> *mut c_void {
    // SAFETY: out-pointers are NULL or writable, as the caller promises.
    unsafe {
        set_out(result_size, 0);
        set_out(ret_ptr, rc::INVALID_ARGUMENT);
    }
    with_handle(client, call, |c| {
        let mut model = c.model.borrow_mut();
        // SAFETY: forwarded from the caller.
        let outcome = unsafe { request(&mut model, call, function, unique, workload, size) }
            .and_then(|r| model.do_job(call, r.priority(priority)));
        drop(model);
        let result = match outcome {
            Ok(result) => result,
            Err(code) => {
                // SAFETY: as above.
                unsafe { set_out(ret_ptr, code) };
                return ptr::null_mut();
            }
        };
        let allocator = c.allocator.get();
        let copy = alloc_copy(&result, |n| allocator.malloc(n));
        let code = if copy.is_null() {
            c.model.borrow_mut().last.set(
                rc::MEMORY_ALLOCATION_FAILURE,
                call,
                "the workload malloc function failed",
            )
        } else {
            // SAFETY: as above.
            unsafe { set_out(result_size, result.len()) };
            rc::SUCCESS
        };
        // SAFETY: as above.
        unsafe { set_out(ret_ptr, code) };
        copy
    })
}

/// `gearman_client_do_background*`.
///
/// # Safety
/// As [`request`]; `job_handle` is NULL or has room for GEARMAN_JOB_HANDLE_SIZE (64) bytes.
#[allow(clippy::too_many_arguments)]
unsafe fn do_background(
    client: *mut gearman_client_st,
    call: &str,
    priority: Priority,
    function: *const c_char,
    unique: *const c_char,
    workload: *const c_void,
    size: usize,
    job_handle: *mut c_char,
) -> gearman_return_t {
    with_handle(client, call, |c| {
        let mut model = c.model.borrow_mut();
        // SAFETY: forwarded from the caller.
        let outcome = unsafe { request(&mut model, call, function, unique, workload, size) }
            .and_then(|r| model.do_background(call, r.priority(priority)));
        match outcome {
            Ok(handle) => {
                if !job_handle.is_null() {
                    let n = handle.len().min(63);
                    // SAFETY: the caller's buffer holds 64 bytes; n + 1 <= 64.
                    unsafe {
                        ptr::copy_nonoverlapping(handle.as_ptr(), job_handle.cast::<u8>(), n);
                        *job_handle.add(n) = 0;
                    }
                }
                rc::SUCCESS
            }
            Err(code) => code,
        }
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_create(
    client: *mut gearman_client_st,
) -> *mut gearman_client_st {
    boundary(|| {
        let mut model = LibClient::new();
        model.add_servers_from_env();
        let imp = Rc::new(ClientImpl::new(model));
        // SAFETY: `client` is NULL or the caller's struct.
        let (handle, allocated) = unsafe { install(client, imp.clone()) };
        imp.heap.set(allocated);
        handle
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_clone(
    destination: *mut gearman_client_st,
    source: *const gearman_client_st,
) -> *mut gearman_client_st {
    boundary(|| {
        // SAFETY: `source` is NULL or a client handle.
        let Some(src) = (unsafe { get(source) }) else {
            // SAFETY: forwarded.
            return unsafe { gearman_client_create(destination) };
        };
        let model = src.model.borrow().clone_settings();
        let imp = Rc::new(ClientImpl::new(model));
        imp.actions.set(src.actions.get());
        imp.context.set(src.context.get());
        imp.task_context_free.set(src.task_context_free.get());
        imp.allocator.set(src.allocator.get());
        // SAFETY: `destination` is NULL or the caller's struct.
        let (handle, allocated) = unsafe { install(destination, imp.clone()) };
        imp.heap.set(allocated);
        handle
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_free(client: *mut gearman_client_st) {
    // SAFETY: `client` is NULL or a client handle; its tasks are freed with the object.
    boundary(|| drop(unsafe { release(client) }))
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_error(client: *const gearman_client_st) -> *const c_char {
    with_handle(client, "gearman_client_error", |c| {
        c.model
            .borrow()
            .last
            .text()
            .map_or(ptr::null(), CStr::as_ptr)
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_error_code(
    client: *const gearman_client_st,
) -> gearman_return_t {
    with_handle(client, "gearman_client_error_code", |c| {
        c.model.borrow().last.code()
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_errno(client: *const gearman_client_st) -> c_int {
    with_handle_or(client, "gearman_client_errno", 0, |c| {
        c.model.borrow().last.errno()
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_options(
    client: *const gearman_client_st,
) -> gearman_client_options_t {
    with_handle_or(client, "gearman_client_options", 0, |c| {
        let allocated = if c.heap.get() { CLIENT_ALLOCATED } else { 0 };
        c.model.borrow().flags.bits() | allocated
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_has_option(
    client: *mut gearman_client_st,
    option: gearman_client_options_t,
) -> bool {
    with_handle(client, "gearman_client_has_option", |c| {
        if option == CLIENT_ALLOCATED {
            return c.heap.get();
        }
        c.model.borrow().flags.has(option)
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_set_options(
    client: *mut gearman_client_st,
    options: gearman_client_options_t,
) {
    with_handle(client, "gearman_client_set_options", |c| {
        c.model
            .borrow_mut()
            .set_options("gearman_client_set_options", options)
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_add_options(
    client: *mut gearman_client_st,
    options: gearman_client_options_t,
) {
    with_handle(client, "gearman_client_add_options", |c| {
        c.model
            .borrow_mut()
            .add_options("gearman_client_add_options", options)
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_remove_options(
    client: *mut gearman_client_st,
    options: gearman_client_options_t,
) {
    with_handle(client, "gearman_client_remove_options", |c| {
        c.model.borrow_mut().remove_options(options)
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_timeout(client: *mut gearman_client_st) -> c_int {
    with_handle_or(client, "gearman_client_timeout", -1, |c| {
        c.model.borrow().timeout()
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_set_timeout(
    client: *mut gearman_client_st,
    timeout: c_int,
) {
    with_handle(client, "gearman_client_set_timeout", |c| {
        c.model.borrow_mut().set_timeout(timeout)
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_context(client: *const gearman_client_st) -> *mut c_void {
    with_handle(client, "gearman_client_context", |c| c.context.get())
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_set_context(
    client: *mut gearman_client_st,
    context: *mut c_void,
) {
    with_handle(client, "gearman_client_set_context", |c| {
        c.context.set(context)
    })
}

/// Error texts go to `function` as they are recorded, when `verbose` is GEARMAN_VERBOSE_ERROR or
/// more (FATAL for allocation failures), as libgearman logs them.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_set_log_fn(
    client: *mut gearman_client_st,
    function: *mut gearman_log_fn,
    context: *mut c_void,
    verbose: gearman_verbose_t,
) {
    with_handle(client, "gearman_client_set_log_fn", |c| {
        // SAFETY: a C function of gearman_log_fn's type, or NULL, with its context.
        let logger = unsafe { logger(function, context) };
        c.model.borrow_mut().last.set_logger(logger, verbose)
    })
}

/// `gearman_client_do*()` results come from this function (`fn(size + 1, context)`).
#[no_mangle]
pub unsafe extern "C" fn gearman_client_set_workload_malloc_fn(
    client: *mut gearman_client_st,
    function: *mut gearman_malloc_fn,
    context: *mut c_void,
) {
    with_handle(client, "gearman_client_set_workload_malloc_fn", |c| {
        // SAFETY: a C function of gearman_malloc_fn's type, or NULL.
        unsafe { Allocator::set_malloc(&c.allocator, function, context) }
    })
}

/// Registers the function that releases what the malloc function gave.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_set_workload_free_fn(
    client: *mut gearman_client_st,
    function: *mut gearman_free_fn,
    context: *mut c_void,
) {
    with_handle(client, "gearman_client_set_workload_free_fn", |c| {
        // SAFETY: a C function of gearman_free_fn's type, or NULL.
        unsafe { Allocator::set_free(&c.allocator, function, context) }
    })
}

/// The malloc and free functions are used as the workload functions are; this library has no
/// other allocations to route through realloc and calloc.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_set_memory_allocators(
    client: *mut gearman_client_st,
    malloc: *mut gearman_malloc_fn,
    free: *mut gearman_free_fn,
    _realloc: *mut gearman_realloc_fn,
    _calloc: *mut gearman_calloc_fn,
    context: *mut c_void,
) -> gearman_return_t {
    with_handle(client, "gearman_client_set_memory_allocators", |c| {
        // SAFETY: C functions of the named types, or NULL.
        unsafe { Allocator::set_both(&c.allocator, malloc, free, context) };
        rc::SUCCESS
    })
}

/// TLS on or off for connections made from now on, with its PEM files. A NULL or empty
/// path means libgearman's default: `GEARMAND_CA_CERTIFICATE`, `GEARMAN_CLIENT_PEM`,
/// `GEARMAN_CLIENT_KEY`, else the files under /etc/ssl/certs (see README, TLS). A file that
/// cannot be used fails each connection with the reason (this call returns nothing).
#[no_mangle]
pub unsafe extern "C" fn gearman_client_set_ssl(
    client: *mut gearman_client_st,
    ssl: bool,
    ca_file: *const c_char,
    certificate: *const c_char,
    key_file: *const c_char,
) {
    with_handle(client, "gearman_client_set_ssl", |c| {
        // SAFETY: each is NULL or a C string.
        let path = |p| crate::path_arg(unsafe { crate::c_bytes(p) });
        let (ca_file, certificate, key_file) = (path(ca_file), path(certificate), path(key_file));
        c.model
            .borrow_mut()
            .set_ssl(ssl, ca_file, certificate, key_file);
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_add_server(
    client: *mut gearman_client_st,
    host: *const c_char,
    port: in_port_t,
) -> gearman_return_t {
    let call = "gearman_client_add_server";
    with_handle(client, call, |c| {
        // SAFETY: `host` is NULL or a C string.
        let host = unsafe { text_arg(host) }.unwrap_or_default();
        match c.model.borrow_mut().add_server(call, &host, port) {
            Ok(()) => rc::SUCCESS,
            Err(code) => code,
        }
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_add_servers(
    client: *mut gearman_client_st,
    servers: *const c_char,
) -> gearman_return_t {
    let call = "gearman_client_add_servers";
    with_handle(client, call, |c| {
        // SAFETY: `servers` is NULL or a C string.
        let list = unsafe { text_arg(servers) }.unwrap_or_else(crate::servers::default_list);
        match c.model.borrow_mut().add_servers(call, &list) {
            Ok(()) => rc::SUCCESS,
            Err(code) => code,
        }
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_remove_servers(client: *mut gearman_client_st) {
    with_handle(client, "gearman_client_remove_servers", |c| {
        c.model.borrow_mut().remove_servers()
    })
}

/// In non-blocking mode, waits (up to the timeout) until a running task has something to
/// report; blocking calls leave nothing to wait for.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_wait(client: *mut gearman_client_st) -> gearman_return_t {
    let call = "gearman_client_wait";
    with_handle(client, call, |c| match c.model.borrow_mut().wait(call) {
        Ok(()) => rc::SUCCESS,
        Err(code) => code,
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_compare(
    first: *const gearman_client_st,
    second: *const gearman_client_st,
) -> bool {
    boundary(|| {
        // SAFETY: each is NULL or a client handle.
        match unsafe { (get(first), get(second)) } {
            (Some(a), Some(b)) => {
                let (a, b) = (a.model.borrow(), b.model.borrow());
                a.has_servers() && a.server_addrs() == b.server_addrs()
            }
            _ => false,
        }
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_set_server_option(
    client: *mut gearman_client_st,
    option: *const c_char,
    size: usize,
) -> bool {
    let call = "gearman_client_set_server_option";
    with_handle(client, call, |c| {
        // SAFETY: `option` is NULL or `size` readable bytes.
        let Some(option) = (unsafe { c_slice(option.cast(), size) }) else {
            return false;
        };
        c.model.borrow_mut().set_server_option(call, option)
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_set_namespace(
    client: *mut gearman_client_st,
    namespace: *const c_char,
    size: usize,
) {
    with_handle(client, "gearman_client_set_namespace", |c| {
        // SAFETY: `namespace` is NULL or `size` readable bytes.
        let namespace = unsafe { c_slice(namespace.cast(), size) }.unwrap_or_default();
        c.model.borrow_mut().set_namespace(namespace)
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_set_identifier(
    client: *mut gearman_client_st,
    id: *const c_char,
    size: usize,
) -> gearman_return_t {
    let call = "gearman_client_set_identifier";
    with_handle(client, call, |c| {
        // SAFETY: `id` is NULL or `size` readable bytes.
        let id = unsafe { c_slice(id.cast(), size) }.unwrap_or_default();
        match c.model.borrow_mut().set_identifier(call, id) {
            Ok(()) => rc::SUCCESS,
            Err(code) => code,
        }
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_has_tasks(client: *const gearman_client_st) -> bool {
    with_handle(client, "gearman_client_has_tasks", |c| {
        !c.model.borrow().tasks().is_empty()
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_has_active_tasks(client: *mut gearman_client_st) -> bool {
    with_handle(client, "gearman_client_has_active_tasks", |c| {
        c.model.borrow().has_active_tasks()
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_do(
    client: *mut gearman_client_st,
    function: *const c_char,
    unique: *const c_char,
    workload: *const c_void,
    size: usize,
    result_size: *mut usize,
    ret_ptr: *mut gearman_return_t,
) -> *mut c_void {
    let call = "gearman_client_do";
    let priority = Priority::Normal;
    // SAFETY: the caller's arguments, as documented.
    unsafe {
        do_job(
            client,
            call,
            priority,
            function,
            unique,
            workload,
            size,
            result_size,
            ret_ptr,
        )
    }
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_do_high(
    client: *mut gearman_client_st,
    function: *const c_char,
    unique: *const c_char,
    workload: *const c_void,
    size: usize,
    result_size: *mut usize,
    ret_ptr: *mut gearman_return_t,
) -> *mut c_void {
    let call = "gearman_client_do_high";
    let priority = Priority::High;
    // SAFETY: the caller's arguments, as documented.
    unsafe {
        do_job(
            client,
            call,
            priority,
            function,
            unique,
            workload,
            size,
            result_size,
            ret_ptr,
        )
    }
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_do_low(
    client: *mut gearman_client_st,
    function: *const c_char,
    unique: *const c_char,
    workload: *const c_void,
    size: usize,
    result_size: *mut usize,
    ret_ptr: *mut gearman_return_t,
) -> *mut c_void {
    let call = "gearman_client_do_low";
    let priority = Priority::Low;
    // SAFETY: the caller's arguments, as documented.
    unsafe {
        do_job(
            client,
            call,
            priority,
            function,
            unique,
            workload,
            size,
            result_size,
            ret_ptr,
        )
    }
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_do_job_handle(
    client: *mut gearman_client_st,
) -> *const c_char {
    with_handle(client, "gearman_client_do_job_handle", |c| {
        c.model.borrow().do_handle().as_ptr()
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_do_status(
    client: *mut gearman_client_st,
    numerator: *mut u32,
    denominator: *mut u32,
) {
    with_handle(client, "gearman_client_do_status", |c| {
        let (n, d) = c.model.borrow().do_status();
        // SAFETY: out-pointers are NULL or writable.
        unsafe {
            set_out(numerator, n as u32);
            set_out(denominator, d as u32);
        }
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_do_background(
    client: *mut gearman_client_st,
    function: *const c_char,
    unique: *const c_char,
    workload: *const c_void,
    size: usize,
    job_handle: *mut c_char,
) -> gearman_return_t {
    let call = "gearman_client_do_background";
    let priority = Priority::Normal;
    // SAFETY: the caller's arguments, as documented.
    unsafe {
        do_background(
            client, call, priority, function, unique, workload, size, job_handle,
        )
    }
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_do_high_background(
    client: *mut gearman_client_st,
    function: *const c_char,
    unique: *const c_char,
    workload: *const c_void,
    size: usize,
    job_handle: *mut c_char,
) -> gearman_return_t {
    let call = "gearman_client_do_high_background";
    let priority = Priority::High;
    // SAFETY: the caller's arguments, as documented.
    unsafe {
        do_background(
            client, call, priority, function, unique, workload, size, job_handle,
        )
    }
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_do_low_background(
    client: *mut gearman_client_st,
    function: *const c_char,
    unique: *const c_char,
    workload: *const c_void,
    size: usize,
    job_handle: *mut c_char,
) -> gearman_return_t {
    let call = "gearman_client_do_low_background";
    let priority = Priority::Low;
    // SAFETY: the caller's arguments, as documented.
    unsafe {
        do_background(
            client, call, priority, function, unique, workload, size, job_handle,
        )
    }
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_job_status(
    client: *mut gearman_client_st,
    job_handle: *const c_char,
    is_known: *mut bool,
    is_running: *mut bool,
    numerator: *mut u32,
    denominator: *mut u32,
) -> gearman_return_t {
    let call = "gearman_client_job_status";
    with_handle(client, call, |c| {
        let mut model = c.model.borrow_mut();
        // SAFETY: `job_handle` is NULL or a C string.
        let Some(handle) = (unsafe { c_bytes(job_handle) }) else {
            return model
                .last
                .set(rc::INVALID_ARGUMENT, call, "job handle is NULL");
        };
        // As libgearman: a failed query reports "unknown, 0/0" (callers such as php-gearman
        // read the values whatever the code), and a caller asking for neither flag learns the
        // job's state from the code.
        let (status, code) = match model.status(call, handle, false) {
            Ok(s) if is_known.is_null() && is_running.is_null() && s.running => {
                (s, rc::IN_PROGRESS)
            }
            Ok(s) if is_known.is_null() && is_running.is_null() && s.known => (s, rc::JOB_EXISTS),
            Ok(s) => (s, rc::SUCCESS),
            Err(code) => (JobStatus::default(), code),
        };
        // SAFETY: out-pointers are NULL or writable.
        unsafe {
            set_out(is_known, status.known);
            set_out(is_running, status.running);
            set_out(numerator, status.numerator as u32);
            set_out(denominator, status.denominator as u32);
        }
        code
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_unique_status(
    client: *mut gearman_client_st,
    unique: *const c_char,
    size: usize,
) -> gearman_status_t {
    let call = "gearman_client_unique_status";
    with_handle(client, call, |c| {
        let fail = |rc| gearman_status_t {
            result_rc: rc,
            ..Default::default()
        };
        let mut model = c.model.borrow_mut();
        // SAFETY: `unique` is NULL or `size` readable bytes.
        let unique = unsafe { c_slice(unique.cast(), size) }.filter(|u| !u.is_empty());
        let Some(unique) = unique else {
            return fail(
                model
                    .last
                    .set(rc::INVALID_ARGUMENT, call, "unique is NULL or empty"),
            );
        };
        match model.status(call, unique, true) {
            Ok(s) => gearman_status_t {
                version: 0,
                result_rc: rc::SUCCESS,
                is_known: s.known,
                is_running: s.running,
                numerator: s.numerator as u32,
                denominator: s.denominator as u32,
                client_count: s.client_count.unwrap_or(0) as u32,
            },
            Err(code) => fail(code),
        }
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_echo(
    client: *mut gearman_client_st,
    workload: *const c_void,
    size: usize,
) -> gearman_return_t {
    let call = "gearman_client_echo";
    with_handle(client, call, |c| {
        let mut model = c.model.borrow_mut();
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

/// libgearman 1.1's cancel: sends WORK_FAIL on the client connection, which servers refuse
/// with JOB_NOT_FOUND; nothing is cancelled. Use the admin "cancel job" command instead.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_cancel_job(
    client: *mut gearman_client_st,
    job_handle: *const c_char,
) -> gearman_return_t {
    let call = "gearman_client_cancel_job";
    with_handle(client, call, |c| {
        let mut model = c.model.borrow_mut();
        // SAFETY: `job_handle` is NULL or a C string.
        let Some(handle) = (unsafe { c_bytes(job_handle) }) else {
            return model
                .last
                .set(rc::INVALID_ARGUMENT, call, "job handle is NULL");
        };
        match model.cancel_job(call, handle) {
            Ok(()) => rc::SUCCESS,
            Err(code) => code,
        }
    })
}

/// One `gearman_client_add_task*` variant.
///
/// # Safety
/// As [`request`]; `task` is NULL or the caller's task struct; `ret_ptr` NULL or writable.
#[allow(clippy::too_many_arguments)]
unsafe fn add_task(
    client: *mut gearman_client_st,
    call: &str,
    priority: Priority,
    background: bool,
    task: *mut gearman_task_st,
    context: *mut c_void,
    function: *const c_char,
    unique: *const c_char,
    workload: *const c_void,
    size: usize,
    ret_ptr: *mut gearman_return_t,
) -> *mut gearman_task_st {
    // SAFETY: `ret_ptr` is NULL or writable.
    unsafe { set_out(ret_ptr, rc::INVALID_ARGUMENT) };
    with_handle(client, call, |c| {
        let request = {
            let mut model = c.model.borrow_mut();
            // SAFETY: forwarded from the caller.
            unsafe { request(&mut model, call, function, unique, workload, size) }
        };
        let request = match request {
            Ok(r) => r.priority(priority).background(background),
            Err(code) => {
                // SAFETY: as above.
                unsafe { set_out(ret_ptr, code) };
                return ptr::null_mut();
            }
        };
        let handle = c.install_task(task, TaskKind::Job(request), &[], context);
        let code = if handle.is_null() {
            rc::MEMORY_ALLOCATION_FAILURE
        } else {
            rc::SUCCESS
        };
        // SAFETY: as above.
        unsafe { set_out(ret_ptr, code) };
        handle
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_add_task(
    client: *mut gearman_client_st,
    task: *mut gearman_task_st,
    context: *mut c_void,
    function: *const c_char,
    unique: *const c_char,
    workload: *const c_void,
    size: usize,
    ret_ptr: *mut gearman_return_t,
) -> *mut gearman_task_st {
    let (call, priority, background) = ("gearman_client_add_task", Priority::Normal, false);
    // SAFETY: the caller's arguments, as documented.
    unsafe {
        add_task(
            client, call, priority, background, task, context, function, unique, workload, size,
            ret_ptr,
        )
    }
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_add_task_high(
    client: *mut gearman_client_st,
    task: *mut gearman_task_st,
    context: *mut c_void,
    function: *const c_char,
    unique: *const c_char,
    workload: *const c_void,
    size: usize,
    ret_ptr: *mut gearman_return_t,
) -> *mut gearman_task_st {
    let (call, priority, background) = ("gearman_client_add_task_high", Priority::High, false);
    // SAFETY: the caller's arguments, as documented.
    unsafe {
        add_task(
            client, call, priority, background, task, context, function, unique, workload, size,
            ret_ptr,
        )
    }
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_add_task_low(
    client: *mut gearman_client_st,
    task: *mut gearman_task_st,
    context: *mut c_void,
    function: *const c_char,
    unique: *const c_char,
    workload: *const c_void,
    size: usize,
    ret_ptr: *mut gearman_return_t,
) -> *mut gearman_task_st {
    let (call, priority, background) = ("gearman_client_add_task_low", Priority::Low, false);
    // SAFETY: the caller's arguments, as documented.
    unsafe {
        add_task(
            client, call, priority, background, task, context, function, unique, workload, size,
            ret_ptr,
        )
    }
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_add_task_background(
    client: *mut gearman_client_st,
    task: *mut gearman_task_st,
    context: *mut c_void,
    function: *const c_char,
    unique: *const c_char,
    workload: *const c_void,
    size: usize,
    ret_ptr: *mut gearman_return_t,
) -> *mut gearman_task_st {
    let (call, priority, background) =
        ("gearman_client_add_task_background", Priority::Normal, true);
    // SAFETY: the caller's arguments, as documented.
    unsafe {
        add_task(
            client, call, priority, background, task, context, function, unique, workload, size,
            ret_ptr,
        )
    }
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_add_task_high_background(
    client: *mut gearman_client_st,
    task: *mut gearman_task_st,
    context: *mut c_void,
    function: *const c_char,
    unique: *const c_char,
    workload: *const c_void,
    size: usize,
    ret_ptr: *mut gearman_return_t,
) -> *mut gearman_task_st {
    let (call, priority, background) = (
        "gearman_client_add_task_high_background",
        Priority::High,
        true,
    );
    // SAFETY: the caller's arguments, as documented.
    unsafe {
        add_task(
            client, call, priority, background, task, context, function, unique, workload, size,
            ret_ptr,
        )
    }
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_add_task_low_background(
    client: *mut gearman_client_st,
    task: *mut gearman_task_st,
    context: *mut c_void,
    function: *const c_char,
    unique: *const c_char,
    workload: *const c_void,
    size: usize,
    ret_ptr: *mut gearman_return_t,
) -> *mut gearman_task_st {
    let (call, priority, background) = (
        "gearman_client_add_task_low_background",
        Priority::Low,
        true,
    );
    // SAFETY: the caller's arguments, as documented.
    unsafe {
        add_task(
            client, call, priority, background, task, context, function, unique, workload, size,
            ret_ptr,
        )
    }
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_add_task_status(
    client: *mut gearman_client_st,
    task: *mut gearman_task_st,
    context: *mut c_void,
    job_handle: *const c_char,
    ret_ptr: *mut gearman_return_t,
) -> *mut gearman_task_st {
    let call = "gearman_client_add_task_status";
    // SAFETY: `ret_ptr` is NULL or writable.
    unsafe { set_out(ret_ptr, rc::INVALID_ARGUMENT) };
    with_handle(client, call, |c| {
        // SAFETY: `job_handle` is NULL or a C string.
        let Some(handle) = (unsafe { c_bytes(job_handle) }) else {
            let code =
                c.model
                    .borrow_mut()
                    .last
                    .set(rc::INVALID_ARGUMENT, call, "job handle is NULL");
            // SAFETY: as above.
            unsafe { set_out(ret_ptr, code) };
            return ptr::null_mut();
        };
        // SAFETY: as above.
        unsafe { set_out(ret_ptr, rc::SUCCESS) };
        c.install_task(task, TaskKind::Status, handle, context)
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_add_task_status_by_unique(
    client: *mut gearman_client_st,
    task: *mut gearman_task_st,
    unique: *const c_char,
    ret_ptr: *mut gearman_return_t,
) -> *mut gearman_task_st {
    let call = "gearman_client_add_task_status_by_unique";
    // SAFETY: `ret_ptr` is NULL or writable.
    unsafe { set_out(ret_ptr, rc::INVALID_ARGUMENT) };
    with_handle(client, call, |c| {
        // SAFETY: `unique` is NULL or a C string.
        let unique = unsafe { c_bytes(unique) }.filter(|u| !u.is_empty());
        let Some(unique) = unique else {
            let code = c.model.borrow_mut().last.set(
                rc::INVALID_ARGUMENT,
                call,
                "unique is NULL or empty",
            );
            // SAFETY: as above.
            unsafe { set_out(ret_ptr, code) };
            return ptr::null_mut();
        };
        // SAFETY: as above.
        unsafe { set_out(ret_ptr, rc::SUCCESS) };
        c.install_task(task, TaskKind::StatusUnique, unique, ptr::null_mut())
    })
}

/// Sets one of the task callbacks.
///
/// # Safety
/// `function` is NULL or a C function of the callback's type.
unsafe fn set_action<F>(
    client: *mut gearman_client_st,
    call: &str,
    function: *mut F,
    slot: impl FnOnce(&mut Actions) -> &mut Option<gearman_task_fn_ptr>,
) {
    with_handle(client, call, |c| {
        let mut actions = c.actions.get();
        // SAFETY: every task callback type has gearman_task_fn_ptr's shape.
        *slot(&mut actions) = unsafe { fn_ptr(function) };
        c.actions.set(actions);
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_set_workload_fn(
    client: *mut gearman_client_st,
    function: *mut gearman_workload_fn,
) {
    // SAFETY: forwarded from the caller.
    unsafe {
        set_action(client, "gearman_client_set_workload_fn", function, |a| {
            &mut a.workload
        })
    }
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_set_created_fn(
    client: *mut gearman_client_st,
    function: *mut gearman_created_fn,
) {
    // SAFETY: forwarded from the caller.
    unsafe {
        set_action(client, "gearman_client_set_created_fn", function, |a| {
            &mut a.created
        })
    }
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_set_data_fn(
    client: *mut gearman_client_st,
    function: *mut gearman_data_fn,
) {
    // SAFETY: forwarded from the caller.
    unsafe {
        set_action(client, "gearman_client_set_data_fn", function, |a| {
            &mut a.data
        })
    }
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_set_warning_fn(
    client: *mut gearman_client_st,
    function: *mut gearman_warning_fn,
) {
    // SAFETY: forwarded from the caller.
    unsafe {
        set_action(client, "gearman_client_set_warning_fn", function, |a| {
            &mut a.warning
        })
    }
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_set_status_fn(
    client: *mut gearman_client_st,
    function: *mut gearman_universal_status_fn,
) {
    // SAFETY: forwarded from the caller.
    unsafe {
        set_action(client, "gearman_client_set_status_fn", function, |a| {
            &mut a.status
        })
    }
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_set_complete_fn(
    client: *mut gearman_client_st,
    function: *mut gearman_complete_fn,
) {
    // SAFETY: forwarded from the caller.
    unsafe {
        set_action(client, "gearman_client_set_complete_fn", function, |a| {
            &mut a.complete
        })
    }
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_set_exception_fn(
    client: *mut gearman_client_st,
    function: *mut gearman_exception_fn,
) {
    // SAFETY: forwarded from the caller.
    unsafe {
        set_action(client, "gearman_client_set_exception_fn", function, |a| {
            &mut a.exception
        })
    }
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_set_fail_fn(
    client: *mut gearman_client_st,
    function: *mut gearman_fail_fn,
) {
    // SAFETY: forwarded from the caller.
    unsafe {
        set_action(client, "gearman_client_set_fail_fn", function, |a| {
            &mut a.fail
        })
    }
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_clear_fn(client: *mut gearman_client_st) {
    with_handle(client, "gearman_client_clear_fn", |c| {
        c.actions.set(Actions::default())
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_set_task_context_free_fn(
    client: *mut gearman_client_st,
    function: *mut gearman_task_context_free_fn,
) {
    with_handle(client, "gearman_client_set_task_context_free_fn", |c| {
        // SAFETY: a C function of gearman_task_context_free_fn's type, or NULL.
        c.task_context_free.set(unsafe { fn_ptr(function) })
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_task_free_all(client: *mut gearman_client_st) {
    with_handle(client, "gearman_client_task_free_all", |c| {
        c.free_all_tasks()
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_run_tasks(
    client: *mut gearman_client_st,
) -> gearman_return_t {
    let call = "gearman_client_run_tasks";
    with_handle(client, call, |c| {
        let mut events = CEvents { client: c };
        match run_tasks(&c.model, &mut events, call) {
            Ok(code) => code,
        }
    })
}

/// Submits one task and runs it: to completion for foreground attributes, to JOB_CREATED for
/// background and epoch ones.
#[no_mangle]
pub unsafe extern "C" fn gearman_execute(
    client: *mut gearman_client_st,
    function_name: *const c_char,
    function_length: usize,
    unique: *const c_char,
    unique_length: usize,
    attr: *mut gearman_task_attr_t,
    arguments: *mut gearman_argument_t,
    context: *mut c_void,
) -> *mut gearman_task_st {
    // SAFETY: the caller's arguments, as documented.
    unsafe {
        execute(
            client,
            ptr::null(),
            0,
            function_name,
            function_length,
            unique,
            unique_length,
            attr,
            arguments,
            context,
        )
    }
}

/// Map/reduce: SUBMIT_REDUCE_JOB with the partition function as function and `function_name` as
/// reducer.
#[no_mangle]
pub unsafe extern "C" fn gearman_execute_by_partition(
    client: *mut gearman_client_st,
    partition_function: *const c_char,
    partition_function_length: usize,
    function_name: *const c_char,
    function_name_length: usize,
    unique: *const c_char,
    unique_length: usize,
    attr: *mut gearman_task_attr_t,
    arguments: *mut gearman_argument_t,
    context: *mut c_void,
) -> *mut gearman_task_st {
    if partition_function.is_null() {
        return ptr::null_mut();
    }
    // SAFETY: the caller's arguments, as documented.
    unsafe {
        execute(
            client,
            function_name,
            function_name_length,
            partition_function,
            partition_function_length,
            unique,
            unique_length,
            attr,
            arguments,
            context,
        )
    }
}

/// # Safety
/// Strings are NULL or valid for their lengths; `attr` and `arguments` NULL or valid.
#[allow(clippy::too_many_arguments)]
unsafe fn execute(
    client: *mut gearman_client_st,
    reducer: *const c_char,
    reducer_length: usize,
    function_name: *const c_char,
    function_length: usize,
    unique: *const c_char,
    unique_length: usize,
    attr: *mut gearman_task_attr_t,
    arguments: *mut gearman_argument_t,
    context: *mut c_void,
) -> *mut gearman_task_st {
    let call = "gearman_execute";
    with_handle(client, call, |c| {
        // SAFETY: the caller's buffers, valid for their lengths.
        let (function, unique, reducer, arguments, attr) = unsafe {
            (
                c_slice(function_name.cast(), function_length).unwrap_or_default(),
                c_slice(unique.cast(), unique_length).filter(|u| !u.is_empty()),
                c_slice(reducer.cast(), reducer_length).filter(|r| !r.is_empty()),
                arguments.as_ref(),
                attr.as_ref(),
            )
        };
        let workload = match arguments {
            Some(arg) => {
                // SAFETY: the argument's value is valid for its size.
                unsafe { c_slice(arg.value.c_str.cast(), arg.value.size) }.unwrap_or_default()
            }
            None => &[],
        };
        let request = {
            let mut model = c.model.borrow_mut();
            if !model.has_servers() {
                model.last.set(rc::NO_SERVERS, call, "no servers added");
                return ptr::null_mut();
            }
            model.job_request(call, function, unique, Bytes::copy_from_slice(workload))
        };
        let Ok(mut request) = request else {
            return ptr::null_mut();
        };
        if let Some(reducer) = reducer {
            request = request.reducer(Bytes::copy_from_slice(reducer));
        }
        if let Some(attr) = attr {
            request = request.priority(priority_of(attr.priority));
            match attr.kind {
                GEARMAN_TASK_ATTR_BACKGROUND => request = request.background(true),
                GEARMAN_TASK_ATTR_EPOCH => request = request.run_at(attr.epoch.max(0) as u64),
                _ => {}
            }
        }
        let task = c.install_task(ptr::null_mut(), TaskKind::Job(request), &[], context);
        // SAFETY: the task just installed.
        let Some(imp) = (unsafe { get(task) }) else {
            return ptr::null_mut();
        };
        let mut events = CEvents { client: c };
        let Ok(code) = execute_task(&c.model, &mut events, call, &imp.task);
        let ret = imp.task.borrow().ret;
        let reported =
            code == rc::SUCCESS && matches!(ret, rc::SUCCESS | rc::WORK_FAIL | rc::WORK_EXCEPTION);
        if reported {
            task
        } else {
            c.free_task(task, &imp.task);
            ptr::null_mut()
        }
    })
}
