//! The C types, laid out exactly as libgearman 1.1's. Their C definitions are written by hand in
//! `header/types.h` (unions, C-only typedefs and enums that cbindgen cannot express); here they
//! are mirrored for Rust. Enums cross the boundary as `c_int`, so an out-of-range value from C is
//! a number to reject, never undefined behaviour.
#![allow(non_camel_case_types)]

use std::ffi::{c_char, c_int, c_void};

pub type gearman_return_t = c_int;
pub type gearman_job_priority_t = c_int;
pub type gearman_verbose_t = c_int;
pub type gearman_client_options_t = c_int;
pub type gearman_worker_options_t = c_int;
pub type gearman_signal_t = c_int;
pub type in_port_t = u16;
pub type time_t = libc::time_t;

pub use gearman_core::return_code::{
    name as return_name, of_server_error as return_code_of, NAMES as RETURN_NAMES,
};

pub(crate) const GEARMAN_JOB_PRIORITY_HIGH: c_int = 0;
pub(crate) const GEARMAN_JOB_PRIORITY_LOW: c_int = 2;

pub(crate) const GEARMAN_TASK_ATTR_FOREGROUND: c_int = 0;
pub(crate) const GEARMAN_TASK_ATTR_BACKGROUND: c_int = 1;
pub(crate) const GEARMAN_TASK_ATTR_EPOCH: c_int = 2;

pub(crate) const GEARMAN_WORKER_FUNCTION_NULL: c_int = 0;
pub(crate) const GEARMAN_WORKER_FUNCTION_V1: c_int = 1;
pub(crate) const GEARMAN_WORKER_FUNCTION_V2: c_int = 2;
pub(crate) const GEARMAN_WORKER_FUNCTION_PARTITION: c_int = 3;

#[repr(C)]
pub struct HandleOptions {
    pub is_allocated: bool,
    pub is_initialized: bool,
}

#[repr(C)]
pub struct gearman_client_st {
    pub options: HandleOptions,
    pub _impl: *mut c_void,
}

#[repr(C)]
pub struct gearman_worker_st {
    pub options: HandleOptions,
    pub _impl: *mut c_void,
}

#[repr(C)]
pub struct gearman_job_st {
    pub options: HandleOptions,
    pub _impl: *mut c_void,
}

#[repr(C)]
pub struct TaskOptions {
    pub is_allocated: bool,
}

#[repr(C)]
pub struct gearman_task_st {
    pub options: TaskOptions,
    pub _impl: *mut c_void,
}

/// Opaque to C: a task's result (execute API).
pub struct gearman_result_st {
    pub value: ResultValue,
}

/// Opaque to C: the aggregator context of map/reduce.
pub struct gearman_aggregator_st {
    pub context: *mut c_void,
}

#[derive(Debug, Clone, Default)]
pub enum ResultValue {
    #[default]
    Null,
    Bytes(Vec<u8>),
    Integer(i64),
    Boolean(bool),
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct gearman_string_t {
    pub c_str: *const c_char,
    pub size: usize,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct gearman_argument_t {
    pub name: gearman_string_t,
    pub value: gearman_string_t,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct gearman_task_attr_t {
    pub kind: c_int,
    pub priority: c_int,
    pub epoch: time_t,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct gearman_function_t {
    pub kind: c_int,
    pub func: *const c_void,
    pub aggregator: *const c_void,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct gearman_status_t {
    pub version: c_int,
    pub result_rc: c_int,
    pub is_known: bool,
    pub is_running: bool,
    pub numerator: u32,
    pub denominator: u32,
    pub client_count: u32,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct gearman_id_t {
    pub read_fd: c_int,
    pub write_fd: c_int,
}

pub(crate) type gearman_worker_fn_ptr = unsafe extern "C" fn(
    job: *mut gearman_job_st,
    context: *mut c_void,
    result_size: *mut usize,
    ret_ptr: *mut gearman_return_t,
) -> *mut c_void;
pub(crate) type gearman_function_fn_ptr =
    unsafe extern "C" fn(job: *mut gearman_job_st, context: *mut c_void) -> gearman_return_t;
pub(crate) type gearman_task_fn_ptr =
    unsafe extern "C" fn(task: *mut gearman_task_st) -> gearman_return_t;
pub(crate) type gearman_parse_server_fn_ptr = unsafe extern "C" fn(
    host: *const c_char,
    port: in_port_t,
    context: *mut c_void,
) -> gearman_return_t;
pub(crate) type gearman_task_context_free_fn_ptr =
    unsafe extern "C" fn(task: *mut gearman_task_st, context: *mut c_void);
pub(crate) type gearman_malloc_fn_ptr =
    unsafe extern "C" fn(size: usize, context: *mut c_void) -> *mut c_void;
pub(crate) type gearman_free_fn_ptr = unsafe extern "C" fn(ptr: *mut c_void, context: *mut c_void);
pub(crate) type gearman_log_fn_ptr =
    unsafe extern "C" fn(line: *const c_char, verbose: gearman_verbose_t, context: *mut c_void);

/// libgearman's log callback as the model's error logger.
///
/// # Safety
/// `function` is NULL or a C function of `gearman_log_fn`'s type; `context` is what it expects.
pub(crate) unsafe fn logger(
    function: *mut gearman_log_fn,
    context: *mut c_void,
) -> Option<gearman_core::libgearman::last_error::Logger> {
    // SAFETY: forwarded from the caller.
    let function: gearman_log_fn_ptr = unsafe { fn_ptr(function) }?;
    Some(Box::new(move |line: &std::ffi::CStr, level: i32| {
        // SAFETY: the caller's log callback, given a C string valid during the call.
        unsafe { function(line.as_ptr(), level, context) }
    }))
}

/// C function types (`typedef R (name)(args)`), used only behind pointers. Their C typedefs are
/// in header/types.h; here they are opaque so the prototypes read `gearman_created_fn *`, as
/// libgearman's do. [`fn_ptr`] turns such a pointer into a Rust function pointer.
macro_rules! c_function_types {
    ($($name:ident),*) => {$(
        #[repr(C)]
        pub struct $name {
            _opaque: [u8; 0],
        }
    )*};
}
c_function_types!(
    gearman_worker_fn,
    gearman_function_fn,
    gearman_aggregator_fn,
    gearman_workload_fn,
    gearman_created_fn,
    gearman_data_fn,
    gearman_warning_fn,
    gearman_universal_status_fn,
    gearman_complete_fn,
    gearman_exception_fn,
    gearman_fail_fn,
    gearman_log_fn,
    gearman_malloc_fn,
    gearman_free_fn,
    gearman_realloc_fn,
    gearman_calloc_fn,
    gearman_parse_server_fn,
    gearman_task_context_free_fn
);

/// The Rust function pointer behind a C function pointer, or `None` for NULL.
///
/// # Safety
/// `pointer` is NULL or a function of the C type that `F` mirrors.
pub(crate) unsafe fn fn_ptr<C, F: Copy>(pointer: *mut C) -> Option<F> {
    assert_eq!(std::mem::size_of::<F>(), std::mem::size_of::<*mut C>());
    // SAFETY: same size (checked), and the caller promises the function's type.
    (!pointer.is_null()).then(|| unsafe { std::mem::transmute_copy(&pointer) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_match_libgearman() {
        assert_eq!(std::mem::size_of::<gearman_client_st>(), 16);
        assert_eq!(std::mem::size_of::<gearman_task_st>(), 16);
        assert_eq!(std::mem::size_of::<gearman_task_attr_t>(), 16);
        assert_eq!(std::mem::size_of::<gearman_function_t>(), 24);
        assert_eq!(std::mem::size_of::<gearman_status_t>(), 24);
        assert_eq!(std::mem::size_of::<gearman_string_t>(), 16);
        assert_eq!(std::mem::size_of::<gearman_argument_t>(), 32);
        assert_eq!(std::mem::size_of::<gearman_id_t>(), 8);
        assert_eq!(return_name(99), "GEARMAN_MAX_RETURN");
        assert_eq!(return_code_of("QUEUE_ERROR"), 42);
        assert_eq!(return_code_of("JOB_NOT_FOUND"), 52);
        assert_eq!(
            return_code_of("nonsense"),
            gearman_core::return_code::SERVER_ERROR
        );
    }
}
