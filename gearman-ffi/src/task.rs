//! `gearman_task_st`: tasks queued by `gearman_client_add_task*` and their accessors.

use std::ffi::{c_char, c_int, c_void, CString};
use std::ptr;

use gearman_core::{JobId, JobRequest};

use crate::client::ClientImpl;
use crate::handle::{get, release};
use crate::types::*;
use crate::{guard, malloc_copy};

pub(crate) const STATE_NEW: c_int = 0;
pub(crate) const STATE_WORK: c_int = 3;
pub(crate) const STATE_CREATED: c_int = 4;
pub(crate) const STATE_DATA: c_int = 5;
pub(crate) const STATE_WARNING: c_int = 6;
pub(crate) const STATE_STATUS: c_int = 7;
pub(crate) const STATE_COMPLETE: c_int = 8;
pub(crate) const STATE_EXCEPTION: c_int = 9;
pub(crate) const STATE_FAIL: c_int = 10;
pub(crate) const STATE_FINISHED: c_int = 11;

const STATE_NAMES: [&CStrLit; 12] = [
    c"GEARMAN_TASK_STATE_NEW",
    c"GEARMAN_TASK_STATE_SUBMIT",
    c"GEARMAN_TASK_STATE_WORKLOAD",
    c"GEARMAN_TASK_STATE_WORK",
    c"GEARMAN_TASK_STATE_CREATED",
    c"GEARMAN_TASK_STATE_DATA",
    c"GEARMAN_TASK_STATE_WARNING",
    c"GEARMAN_TASK_STATE_STATUS",
    c"GEARMAN_TASK_STATE_COMPLETE",
    c"GEARMAN_TASK_STATE_EXCEPTION",
    c"GEARMAN_TASK_STATE_FAIL",
    c"GEARMAN_TASK_STATE_FINISHED",
];
type CStrLit = std::ffi::CStr;

/// What a task asks of the server.
pub enum TaskKind {
    Job(JobRequest),
    Status(Vec<u8>),
    StatusUnique(Vec<u8>),
}

pub struct TaskImpl {
    pub client: *mut ClientImpl,
    pub kind: TaskKind,
    pub job: Option<JobId>,
    pub context: *mut c_void,
    pub state: c_int,
    pub function_name: CString,
    pub unique: CString,
    pub handle: CString,
    pub is_known: bool,
    pub is_running: bool,
    pub numerator: u32,
    pub denominator: u32,
    /// The payload of the packet being reported to a callback.
    pub data: Vec<u8>,
    /// Every WORK_DATA payload so far; the execute API's result is these plus the final one.
    pub streamed: Vec<u8>,
    /// Whether the task has ended (its state stays at its last event, as in libgearman).
    pub done: bool,
    pub ret: c_int,
    pub result: gearman_result_st,
    pub exception: Vec<u8>,
    pub error: Option<CString>,
}

impl TaskImpl {
    pub fn new(client: *mut ClientImpl, kind: TaskKind, context: *mut c_void) -> TaskImpl {
        let (function_name, unique) = match &kind {
            TaskKind::Job(r) => (
                crate::c_string(&r.function),
                crate::c_string(r.unique.as_deref().unwrap_or_default()),
            ),
            TaskKind::Status(_) | TaskKind::StatusUnique(_) => {
                (CString::default(), CString::default())
            }
        };
        let handle = match &kind {
            TaskKind::Status(h) => crate::c_string(h),
            _ => CString::default(),
        };
        TaskImpl {
            client,
            kind,
            job: None,
            context,
            state: STATE_NEW,
            function_name,
            unique,
            handle,
            is_known: false,
            is_running: false,
            numerator: 0,
            denominator: 0,
            data: Vec::new(),
            streamed: Vec::new(),
            done: false,
            ret: GEARMAN_SUCCESS,
            result: gearman_result_st {
                value: ResultValue::Null,
            },
            exception: Vec::new(),
            error: None,
        }
    }

    pub fn is_finished(&self) -> bool {
        self.done
    }
}

/// Frees a task: unlinks it from its client, runs the client's context-free callback, and
/// releases the struct if the library allocated it.
pub unsafe fn free_task(task: *mut gearman_task_st) {
    let Some(imp) = get(task) else { return };
    if let Some(client) = imp.client.as_mut() {
        client.forget_task(task);
        if let Some(free_fn) = client.task_context_free {
            free_fn(task, imp.context);
        }
    }
    drop(release(task));
}

macro_rules! task_accessor {
    ($(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty, $fail:expr, |$imp:ident| $body:expr) => {
        $(#[$doc])*
        #[no_mangle]
        pub unsafe extern "C" fn $name(task: *const gearman_task_st $(, $arg: $ty)*) -> $ret {
            guard($fail, || match get(task) {
                Some($imp) => $body,
                None => $fail,
            })
        }
    };
}

task_accessor!(gearman_task_context() -> *mut c_void, ptr::null_mut(), |imp| imp.context);
task_accessor!(gearman_task_function_name() -> *const c_char, ptr::null(), |imp| {
    if imp.function_name.is_empty() { ptr::null() } else { imp.function_name.as_ptr() }
});
task_accessor!(gearman_task_unique() -> *const c_char, ptr::null(), |imp| imp.unique.as_ptr());
task_accessor!(gearman_task_job_handle() -> *const c_char, ptr::null(), |imp| imp.handle.as_ptr());
task_accessor!(gearman_task_is_known() -> bool, false, |imp| imp.is_known);
task_accessor!(gearman_task_is_running() -> bool, false, |imp| imp.is_running);
task_accessor!(gearman_task_numerator() -> u32, 0, |imp| imp.numerator);
task_accessor!(gearman_task_denominator() -> u32, 0, |imp| imp.denominator);
task_accessor!(gearman_task_data() -> *const c_void, ptr::null(), |imp| {
    if imp.data.is_empty() { ptr::null() } else { imp.data.as_ptr().cast() }
});
task_accessor!(gearman_task_data_size() -> usize, 0, |imp| imp.data.len());
task_accessor!(gearman_task_return() -> gearman_return_t, GEARMAN_INVALID_ARGUMENT, |imp| imp.ret);
task_accessor!(gearman_task_is_finished() -> bool, false, |imp| imp.state == STATE_FINISHED);
task_accessor!(gearman_task_has_exception() -> bool, false, |imp| !imp.exception.is_empty());
task_accessor!(gearman_task_error() -> *const c_char, ptr::null(), |imp| {
    imp.error.as_ref().map_or(ptr::null(), |e| e.as_ptr())
});
task_accessor!(gearman_task_strstate() -> *const c_char, ptr::null(), |imp| {
    STATE_NAMES.get(imp.state as usize).map_or(ptr::null(), |s| s.as_ptr())
});
task_accessor!(gearman_task_exception() -> gearman_string_t, gearman_string_t { c_str: ptr::null(), size: 0 }, |imp| {
    gearman_string_t { c_str: imp.exception.as_ptr().cast(), size: imp.exception.len() }
});

#[no_mangle]
pub unsafe extern "C" fn gearman_task_free(task: *mut gearman_task_st) {
    guard((), || free_task(task))
}

#[no_mangle]
pub unsafe extern "C" fn gearman_task_set_context(
    task: *mut gearman_task_st,
    context: *mut c_void,
) {
    guard((), || {
        if let Some(imp) = get(task) {
            imp.context = context;
        }
    })
}

/// Transfers the current payload to the caller, who `free()`s it.
#[no_mangle]
pub unsafe extern "C" fn gearman_task_take_data(
    task: *mut gearman_task_st,
    data_size: *mut usize,
) -> *mut c_void {
    guard(ptr::null_mut(), || {
        let Some(imp) = get(task) else {
            return ptr::null_mut();
        };
        let data = std::mem::take(&mut imp.data);
        if !data_size.is_null() {
            *data_size = data.len();
        }
        if data.is_empty() {
            return ptr::null_mut();
        }
        malloc_copy(&data)
    })
}

/// Copies the current payload out (for unbuffered results).
#[no_mangle]
pub unsafe extern "C" fn gearman_task_recv_data(
    task: *mut gearman_task_st,
    buf: *mut c_void,
    size: usize,
    ret_ptr: *mut gearman_return_t,
) -> usize {
    guard(0, || {
        let set = |rc| {
            if !ret_ptr.is_null() {
                *ret_ptr = rc;
            }
        };
        let Some(imp) = get(task) else {
            set(GEARMAN_INVALID_ARGUMENT);
            return 0;
        };
        if buf.is_null() && size > 0 {
            set(GEARMAN_INVALID_ARGUMENT);
            return 0;
        }
        let n = size.min(imp.data.len());
        ptr::copy_nonoverlapping(imp.data.as_ptr(), buf.cast::<u8>(), n);
        imp.data.drain(..n);
        set(GEARMAN_SUCCESS);
        n
    })
}

/// Streaming workloads are not supported: the whole workload is given at add time.
#[no_mangle]
pub unsafe extern "C" fn gearman_task_give_workload(
    _task: *mut gearman_task_st,
    _workload: *const c_void,
    _size: usize,
) {
}

#[no_mangle]
pub unsafe extern "C" fn gearman_task_send_workload(
    _task: *mut gearman_task_st,
    _workload: *const c_void,
    _size: usize,
    ret_ptr: *mut gearman_return_t,
) -> usize {
    if !ret_ptr.is_null() {
        *ret_ptr = GEARMAN_INVALID_ARGUMENT;
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn gearman_task_result(task: *mut gearman_task_st) -> *mut gearman_result_st {
    guard(ptr::null_mut(), || match get(task) {
        Some(imp) => &mut imp.result,
        None => ptr::null_mut(),
    })
}

/// The next task after `task` in its client's list.
#[no_mangle]
pub unsafe extern "C" fn gearman_next(task: *mut gearman_task_st) -> *mut gearman_task_st {
    guard(ptr::null_mut(), || {
        let Some(imp) = get(task) else {
            return ptr::null_mut();
        };
        let Some(client) = imp.client.as_ref() else {
            return ptr::null_mut();
        };
        client.task_after(task)
    })
}
