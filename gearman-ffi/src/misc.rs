//! Global functions and the small value types: versions, names, server lists, task attributes,
//! arguments, function descriptors, status and result accessors.

use std::ffi::{c_char, c_int, c_void, CString};
use std::ptr;

use crate::types::*;
use gearman_core::libgearman;
use gearman_core::return_code as rc;

use crate::boundary::boundary_with;
use crate::c_bytes;

#[no_mangle]
pub extern "C" fn gearman_version() -> *const c_char {
    libgearman::VERSION.as_ptr()
}

#[no_mangle]
pub extern "C" fn gearman_bugreport() -> *const c_char {
    libgearman::BUGREPORT.as_ptr()
}

#[no_mangle]
pub extern "C" fn gearman_verbose_name(verbose: gearman_verbose_t) -> *const c_char {
    libgearman::verbose_name(verbose.into()).as_ptr()
}

/// The enumerator name of a return code, e.g. "GEARMAN_SUCCESS".
#[no_mangle]
pub extern "C" fn gearman_strerror(rc: gearman_return_t) -> *const c_char {
    static NAMES: std::sync::OnceLock<Vec<CString>> = std::sync::OnceLock::new();
    let names = NAMES.get_or_init(|| {
        RETURN_NAMES
            .iter()
            .map(|n| CString::new(*n).unwrap_or_default())
            .collect()
    });
    let index = usize::try_from(rc)
        .ok()
        .filter(|&i| i < names.len())
        .unwrap_or(rc::MAX_RETURN as usize);
    names[index].as_ptr()
}

/// Calls `callback(host, port, context)` for each `host[:port]` of a comma-separated list; the
/// port is 0 when omitted.
#[no_mangle]
pub unsafe extern "C" fn gearman_parse_servers(
    servers: *const c_char,
    callback: *mut gearman_parse_server_fn,
    context: *mut c_void,
) -> gearman_return_t {
    boundary_with(rc::INVALID_ARGUMENT, || {
        // SAFETY: a gearman_parse_server_fn or NULL, and a C string or NULL.
        let callback = unsafe { fn_ptr::<_, gearman_parse_server_fn_ptr>(callback) };
        // SAFETY: `servers` is NULL or a C string.
        let (Some(list), Some(callback)) = (unsafe { c_bytes(servers) }, callback) else {
            return rc::INVALID_ARGUMENT;
        };
        let list = String::from_utf8_lossy(list).into_owned();
        let Ok(entries) = crate::servers::split_list(&list) else {
            return rc::INVALID_ARGUMENT;
        };
        for (host, port) in entries {
            let host = crate::c_string(host.as_bytes());
            // SAFETY: the caller's callback with a C string it may read during the call.
            let rc = unsafe { callback(host.as_ptr(), port, context) };
            if rc != rc::SUCCESS {
                return rc;
            }
        }
        rc::SUCCESS
    })
}

#[no_mangle]
pub extern "C" fn gearman_id_initialize() -> gearman_id_t {
    gearman_id_t {
        read_fd: -1,
        write_fd: -1,
    }
}

#[no_mangle]
pub extern "C" fn gearman_id_valid(handle: gearman_id_t) -> bool {
    handle.read_fd >= 0 && handle.write_fd >= 0
}

/// Workers here have no wake-up pipe (`gearman_worker_id` is invalid), so there is nothing to
/// signal.
#[no_mangle]
pub extern "C" fn gearman_kill(
    handle: gearman_id_t,
    _signal: gearman_signal_t,
) -> gearman_return_t {
    if gearman_id_valid(handle) {
        rc::SUCCESS
    } else {
        rc::INVALID_ARGUMENT
    }
}

#[no_mangle]
pub extern "C" fn gearman_argument_make(
    name: *const c_char,
    name_length: usize,
    value: *const c_char,
    value_size: usize,
) -> gearman_argument_t {
    gearman_argument_t {
        name: gearman_string_t {
            c_str: name,
            size: if name.is_null() { 0 } else { name_length },
        },
        value: gearman_string_t {
            c_str: value,
            size: if value.is_null() { 0 } else { value_size },
        },
    }
}

#[no_mangle]
pub extern "C" fn gearman_task_attr_init(priority: gearman_job_priority_t) -> gearman_task_attr_t {
    gearman_task_attr_t {
        kind: GEARMAN_TASK_ATTR_FOREGROUND,
        priority,
        epoch: 0,
    }
}

#[no_mangle]
pub extern "C" fn gearman_task_attr_init_background(
    priority: gearman_job_priority_t,
) -> gearman_task_attr_t {
    gearman_task_attr_t {
        kind: GEARMAN_TASK_ATTR_BACKGROUND,
        priority,
        epoch: 0,
    }
}

#[no_mangle]
pub extern "C" fn gearman_task_attr_init_epoch(
    epoch: time_t,
    priority: gearman_job_priority_t,
) -> gearman_task_attr_t {
    gearman_task_attr_t {
        kind: GEARMAN_TASK_ATTR_EPOCH,
        priority,
        epoch,
    }
}

fn function(kind: c_int, func: *const c_void, aggregator: *const c_void) -> gearman_function_t {
    gearman_function_t {
        kind: if func.is_null() {
            GEARMAN_WORKER_FUNCTION_NULL
        } else {
            kind
        },
        func,
        aggregator,
    }
}

#[no_mangle]
pub extern "C" fn gearman_function_create(func: *mut gearman_function_fn) -> gearman_function_t {
    function(
        GEARMAN_WORKER_FUNCTION_V2,
        func.cast_const().cast(),
        ptr::null(),
    )
}

#[no_mangle]
pub extern "C" fn gearman_function_create_v2(func: *mut gearman_function_fn) -> gearman_function_t {
    gearman_function_create(func)
}

#[no_mangle]
pub extern "C" fn gearman_function_create_v1(func: *mut gearman_worker_fn) -> gearman_function_t {
    function(
        GEARMAN_WORKER_FUNCTION_V1,
        func.cast_const().cast(),
        ptr::null(),
    )
}

#[no_mangle]
pub extern "C" fn gearman_function_create_partition(
    func: *mut gearman_function_fn,
    aggregator: *mut gearman_aggregator_fn,
) -> gearman_function_t {
    function(
        GEARMAN_WORKER_FUNCTION_PARTITION,
        func.cast_const().cast(),
        aggregator.cast_const().cast(),
    )
}

#[no_mangle]
pub unsafe extern "C" fn gearman_aggegator_context(
    aggregator: *mut gearman_aggregator_st,
) -> *mut c_void {
    // SAFETY: NULL or an aggregator this library handed out.
    unsafe { aggregator.as_ref() }.map_or(ptr::null_mut(), |a| a.context)
}

#[no_mangle]
pub extern "C" fn gearman_status_return(status: gearman_status_t) -> gearman_return_t {
    status.result_rc
}

#[no_mangle]
pub extern "C" fn gearman_status_is_known(status: gearman_status_t) -> bool {
    status.is_known
}

#[no_mangle]
pub extern "C" fn gearman_status_is_running(status: gearman_status_t) -> bool {
    status.is_running
}

#[no_mangle]
pub extern "C" fn gearman_status_numerator(status: gearman_status_t) -> u32 {
    status.numerator
}

#[no_mangle]
pub extern "C" fn gearman_status_denominator(status: gearman_status_t) -> u32 {
    status.denominator
}

/// The result behind a pointer from `gearman_task_result`, or `None` for NULL.
///
/// # Safety
/// `r` is NULL or a result of a live task.
unsafe fn result<'a>(r: *const gearman_result_st) -> Option<&'a gearman_result_st> {
    // SAFETY: forwarded from the caller.
    unsafe { r.as_ref() }
}

/// The result behind a pointer, for writing.
///
/// # Safety
/// As [`result`].
unsafe fn result_mut<'a>(r: *mut gearman_result_st) -> Option<&'a mut gearman_result_st> {
    // SAFETY: forwarded from the caller.
    unsafe { r.as_mut() }
}

fn result_bytes(r: &gearman_result_st) -> Vec<u8> {
    match &r.value {
        ResultValue::Null => Vec::new(),
        ResultValue::Bytes(b) => b.clone(),
        ResultValue::Integer(i) => i.to_string().into_bytes(),
        ResultValue::Boolean(b) => {
            if *b {
                b"1".to_vec()
            } else {
                b"0".to_vec()
            }
        }
    }
}

#[no_mangle]
pub unsafe extern "C" fn gearman_result_integer(r: *const gearman_result_st) -> i64 {
    // SAFETY: `r` is NULL or a result of a live task; the value is valid for its size.
    boundary_with(0, || match unsafe { result(r) }.map(|r| &r.value) {
        Some(ResultValue::Integer(i)) => *i,
        Some(ResultValue::Boolean(b)) => i64::from(*b),
        Some(ResultValue::Bytes(b)) => std::str::from_utf8(b)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0),
        _ => 0,
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_result_boolean(r: *const gearman_result_st) -> bool {
    // SAFETY: `r` is NULL or a result of a live task; the value is valid for its size.
    boundary_with(false, || match unsafe { result(r) }.map(|r| &r.value) {
        Some(ResultValue::Boolean(b)) => *b,
        Some(ResultValue::Integer(i)) => *i != 0,
        Some(ResultValue::Bytes(b)) => !b.is_empty(),
        _ => false,
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_result_string(r: *const gearman_result_st) -> gearman_string_t {
    let empty = gearman_string_t {
        c_str: ptr::null(),
        size: 0,
    };
    // SAFETY: `r` is NULL or a result of a live task; the value is valid for its size.
    boundary_with(empty, || match unsafe { result(r) }.map(|r| &r.value) {
        Some(ResultValue::Bytes(b)) => gearman_string_t {
            c_str: b.as_ptr().cast(),
            size: b.len(),
        },
        _ => empty,
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_result_size(r: *const gearman_result_st) -> usize {
    // SAFETY: `r` is NULL or a result of a live task; the value is valid for its size.
    boundary_with(0, || {
        // SAFETY: `r` is NULL or a result of a live task.
        unsafe { result(r) }.map_or(0, |r| result_bytes(r).len())
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_result_value(r: *const gearman_result_st) -> *const c_char {
    // SAFETY: `r` is NULL or a result of a live task; the value is valid for its size.
    boundary_with(ptr::null(), || {
        // SAFETY: `r` is NULL or a result of a live task.
        match unsafe { result(r) }.map(|r| &r.value) {
            Some(ResultValue::Bytes(b)) => b.as_ptr().cast(),
            _ => ptr::null(),
        }
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_result_is_null(r: *const gearman_result_st) -> bool {
    boundary_with(true, || {
        // SAFETY: `r` is NULL or a result of a live task; the value is valid for its size.
        unsafe { result(r) }.is_none_or(|r| matches!(r.value, ResultValue::Null))
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_result_store_string(
    r: *mut gearman_result_st,
    value: gearman_string_t,
) -> gearman_return_t {
    boundary_with(rc::INVALID_ARGUMENT, || {
        // SAFETY: `r` is NULL or a result of a live task; the value is valid for its size.
        let (Some(r), Some(bytes)) = (unsafe {
            (
                result_mut(r),
                crate::c_slice(value.c_str.cast(), value.size),
            )
        }) else {
            return rc::INVALID_ARGUMENT;
        };
        r.value = ResultValue::Bytes(bytes.to_vec());
        rc::SUCCESS
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_result_store_value(
    r: *mut gearman_result_st,
    value: *const c_void,
    size: usize,
) -> gearman_return_t {
    boundary_with(rc::INVALID_ARGUMENT, || {
        // SAFETY: `r` is NULL or a result of a live task; the value is valid for its size.
        let (Some(r), Some(bytes)) = (unsafe { (result_mut(r), crate::c_slice(value, size)) })
        else {
            return rc::INVALID_ARGUMENT;
        };
        r.value = ResultValue::Bytes(bytes.to_vec());
        rc::SUCCESS
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_result_store_integer(r: *mut gearman_result_st, value: i64) {
    boundary_with((), || {
        // SAFETY: `r` is NULL or a result of a live task.
        if let Some(r) = unsafe { result_mut(r) } {
            r.value = ResultValue::Integer(value);
        }
    })
}
