//! The Gearman side of PostgreSQL's `gearman` extension: `gearman.c` (built with PGXS) does
//! the PostgreSQL side (functions, settings, errors, interrupts) and calls these C functions,
//! which run the calls on gearman-core through `gearman-sql`.
//!
//! Memory crosses the boundary one way: what these functions hand out (a result, an error
//! text) is `malloc`ed here and freed by the caller with `gearman_pg_free`. No panic crosses:
//! each function catches its own and reports it as an error.

use std::ffi::{c_char, c_int, c_long, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::time::Duration;

use gearman_sql::{servers_for, set_servers, CallError, Caller, Job, Limits, Priority};

/// What a call ended with (`gearman.c` maps these to SQLSTATEs).
pub const GEARMAN_PG_OK: c_int = 0;
/// The result is SQL NULL (an empty result).
pub const GEARMAN_PG_NULL: c_int = 1;
/// The query was cancelled: the caller raises PostgreSQL's own error for it.
pub const GEARMAN_PG_CANCELLED: c_int = 2;
pub const GEARMAN_PG_TIMED_OUT: c_int = 3;
pub const GEARMAN_PG_NO_SERVERS: c_int = 4;
/// WORK_FAIL or WORK_EXCEPTION.
pub const GEARMAN_PG_JOB_FAILED: c_int = 5;
pub const GEARMAN_PG_BAD_ARGUMENT: c_int = 6;
/// A server could not be reached or answered wrongly.
pub const GEARMAN_PG_CONNECTION: c_int = 7;
pub const GEARMAN_PG_INTERNAL: c_int = 8;

thread_local! {
    /// The backend's connections (a backend is one process, with one thread).
    static CALLER: std::cell::RefCell<Caller> = std::cell::RefCell::new(Caller::new());
}

/// Copies `bytes` into a `malloc`ed, NUL-terminated buffer.
fn malloc_copy(bytes: &[u8]) -> *mut c_char {
    // SAFETY: a fresh allocation of len + 1 bytes, written in full before it is returned.
    unsafe {
        let buffer = libc::malloc(bytes.len() + 1).cast::<u8>();
        if buffer.is_null() {
            return ptr::null_mut();
        }
        ptr::copy_nonoverlapping(bytes.as_ptr(), buffer, bytes.len());
        *buffer.add(bytes.len()) = 0;
        buffer.cast()
    }
}

/// Sets `*out` to a copy of `text` when `out` is not NULL.
///
/// # Safety
/// `out` is NULL or valid for a write.
unsafe fn hand_out(out: *mut *mut c_char, text: &[u8]) {
    if !out.is_null() {
        *out = malloc_copy(text);
    }
}

/// `(pointer, length)` as a byte slice; NULL is empty.
///
/// # Safety
/// A non-NULL `data` is valid for `len` bytes.
unsafe fn bytes<'a>(data: *const c_char, len: usize) -> &'a [u8] {
    if data.is_null() || len == 0 {
        &[]
    } else {
        std::slice::from_raw_parts(data.cast(), len)
    }
}

fn code_of(error: &CallError) -> c_int {
    match error {
        CallError::NoServers => GEARMAN_PG_NO_SERVERS,
        CallError::Invalid(_) => GEARMAN_PG_BAD_ARGUMENT,
        CallError::Failed { .. } | CallError::Exception { .. } => GEARMAN_PG_JOB_FAILED,
        CallError::TimedOut(_) => GEARMAN_PG_TIMED_OUT,
        CallError::Cancelled => GEARMAN_PG_CANCELLED,
        CallError::Gearman(_) => GEARMAN_PG_CONNECTION,
    }
}

/// `gman_servers_set(list)`: the backend's servers from now on. 0 on success; otherwise an
/// error code with its text in `*error` (free it with `gearman_pg_free`).
///
/// # Safety
/// `list` is a NUL-terminated string; `error` is NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn gearman_pg_servers_set(
    list: *const c_char,
    error: *mut *mut c_char,
) -> c_int {
    if list.is_null() {
        hand_out(error, b"the server list is NULL");
        return GEARMAN_PG_BAD_ARGUMENT;
    }
    let list = CStr::from_ptr(list).to_string_lossy().into_owned();
    match catch_unwind(|| set_servers(&list, None)) {
        Ok(Ok(())) => GEARMAN_PG_OK,
        Ok(Err(e)) => {
            hand_out(error, e.to_string().as_bytes());
            GEARMAN_PG_BAD_ARGUMENT
        }
        Err(_) => {
            hand_out(error, b"internal error");
            GEARMAN_PG_INTERNAL
        }
    }
}

/// Runs one job: in the foreground (`*out` gets its result, `*out_len` its length) or in the
/// background (`*out` gets the job handle). `priority`: 0 normal, 1 high, 2 low.
/// `default_servers` (the `gearman.default_servers` setting, may be NULL) is used unless
/// `gman_servers_set` was called. `timeout_ms` bounds the call (0: no limit); `cancelled` is
/// asked after every wake-up and at least every 100 ms whether the query was cancelled.
/// Returns `GEARMAN_PG_OK` or `GEARMAN_PG_NULL`, or an error code with its text in `*error`.
///
/// # Safety
/// `function` and `workload` are valid for their lengths (or NULL with length 0);
/// `default_servers` is NULL or NUL-terminated; `out`, `out_len` and `error` are valid for
/// writes; `cancelled` is a function safe to call from here (it must not longjmp).
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn gearman_pg_call(
    default_servers: *const c_char,
    function: *const c_char,
    function_len: usize,
    workload: *const c_char,
    workload_len: usize,
    priority: c_int,
    background: c_int,
    timeout_ms: c_long,
    cancelled: Option<unsafe extern "C" fn() -> c_int>,
    out: *mut *mut c_char,
    out_len: *mut usize,
    error: *mut *mut c_char,
) -> c_int {
    let function = bytes(function, function_len);
    let workload = bytes(workload, workload_len);
    let fallback = (!default_servers.is_null()).then(|| {
        CStr::from_ptr(default_servers)
            .to_string_lossy()
            .into_owned()
    });
    let priority = match priority {
        1 => Priority::High,
        2 => Priority::Low,
        _ => Priority::Normal,
    };
    let timeout = (timeout_ms > 0).then(|| Duration::from_millis(timeout_ms as u64));
    let run = || -> Result<Option<Vec<u8>>, CallError> {
        let servers = servers_for(function, fallback.as_deref()).ok_or(CallError::NoServers)?;
        let job = Job {
            function,
            workload,
            unique: None,
            priority,
        };
        // SAFETY: the caller vouches for `cancelled`.
        let mut check = || cancelled.is_some_and(|f| unsafe { f() } != 0);
        let limits = Limits {
            timeout,
            cancelled: &mut check,
        };
        CALLER.with(|caller| {
            let mut caller = caller.borrow_mut();
            if background != 0 {
                caller
                    .background(&servers, &job, limits)
                    .map(|handle| Some(handle.to_vec()))
            } else {
                caller
                    .run(&servers, &job, limits)
                    .map(|result| result.map(|r| r.to_vec()))
            }
        })
    };
    match catch_unwind(AssertUnwindSafe(run)) {
        Ok(Ok(Some(result))) => {
            *out = malloc_copy(&result);
            *out_len = result.len();
            if (*out).is_null() {
                hand_out(error, b"out of memory");
                return GEARMAN_PG_INTERNAL;
            }
            GEARMAN_PG_OK
        }
        Ok(Ok(None)) => GEARMAN_PG_NULL,
        Ok(Err(e)) => {
            hand_out(error, e.to_string().as_bytes());
            code_of(&e)
        }
        Err(_) => {
            CALLER.with(|caller| caller.borrow_mut().reset());
            hand_out(error, b"internal error");
            GEARMAN_PG_INTERNAL
        }
    }
}

/// Frees what `gearman_pg_call` or `gearman_pg_servers_set` handed out; NULL is fine.
///
/// # Safety
/// `pointer` is NULL or came from those functions and was not freed yet.
#[no_mangle]
pub unsafe extern "C" fn gearman_pg_free(pointer: *mut c_char) {
    libc::free(pointer.cast());
}
