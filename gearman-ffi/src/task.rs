//! `gearman_task_st`: a handle on one of [`LibClient`](gearman_core::libgearman::LibClient)'s
//! tasks, and its accessors.

use std::cell::RefCell;
use std::ffi::{c_char, c_void, CStr};
use std::ptr;
use std::rc::Weak;

use gearman_core::libgearman::{TaskRef, TaskState};
use gearman_core::return_code as rc;

use crate::boundary::{boundary, with_handle, with_handle_or, RecordsErrors};
use crate::client::ClientImpl;
use crate::handle::{get, release};
use crate::types::*;
use crate::{malloc_copy, set_out};

/// What the C side keeps with each of the model's tasks: its struct and its context.
pub struct CTask {
    pub handle: *mut gearman_task_st,
    pub context: *mut c_void,
    /// The client's callbacks when the task was added: libgearman binds them then.
    pub actions: crate::client::Actions,
}

pub struct TaskImpl {
    pub task: TaskRef<CTask>,
    client: Weak<ClientImpl>,
    /// The execute API's result (`gearman_task_result`).
    result: RefCell<gearman_result_st>,
}

impl RecordsErrors for TaskImpl {
    fn record_panic(&self, call: &str, text: &str) {
        if let Some(client) = self.client.upgrade() {
            client.record_panic(call, text);
        }
    }
}

impl TaskImpl {
    pub fn new(task: TaskRef<CTask>, client: Weak<ClientImpl>) -> TaskImpl {
        TaskImpl {
            task,
            client,
            result: RefCell::new(gearman_result_st {
                value: ResultValue::Null,
            }),
        }
    }

    /// The result of a completed job (its data chunks followed by the final payload), built
    /// when first asked for: most callers never ask, and a pointer given out stays valid.
    fn result(&self) -> *mut gearman_result_st {
        let task = self.task.borrow();
        let mut result = self.result.borrow_mut();
        if task.state == TaskState::Complete && matches!(result.value, ResultValue::Null) {
            let mut all = task.streamed.to_vec();
            all.extend_from_slice(&task.data);
            result.value = ResultValue::Bytes(all);
        }
        drop(result);
        self.result.as_ptr()
    }
}

#[no_mangle]
pub unsafe extern "C" fn gearman_task_free(task: *mut gearman_task_st) {
    boundary(|| {
        // SAFETY: `task` is NULL or a task handle.
        let Some(imp) = (unsafe { get(task) }) else {
            return;
        };
        match imp.client.upgrade() {
            Some(client) => client.free_task(task, &imp.task),
            // SAFETY: the client is gone; only the struct is left to release.
            None => drop(unsafe { release(task) }),
        }
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_task_context(task: *const gearman_task_st) -> *mut c_void {
    with_handle(task, "gearman_task_context", |t| {
        t.task
            .borrow()
            .user
            .as_ref()
            .map_or(ptr::null_mut(), |u| u.context)
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_task_set_context(
    task: *mut gearman_task_st,
    context: *mut c_void,
) {
    with_handle(task, "gearman_task_set_context", |t| {
        if let Some(user) = t.task.borrow_mut().user.as_mut() {
            user.context = context;
        }
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_task_function_name(task: *const gearman_task_st) -> *const c_char {
    with_handle(task, "gearman_task_function_name", |t| {
        let task = t.task.borrow();
        match task.function.as_bytes() {
            [] => ptr::null(),
            _ => task.function.as_ptr(),
        }
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_task_unique(task: *const gearman_task_st) -> *const c_char {
    with_handle(task, "gearman_task_unique", |t| {
        t.task.borrow().unique.as_ptr()
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_task_job_handle(task: *const gearman_task_st) -> *const c_char {
    with_handle(task, "gearman_task_job_handle", |t| {
        t.task.borrow().handle.as_ptr()
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_task_is_known(task: *const gearman_task_st) -> bool {
    with_handle(task, "gearman_task_is_known", |t| t.task.borrow().known)
}

#[no_mangle]
pub unsafe extern "C" fn gearman_task_is_running(task: *const gearman_task_st) -> bool {
    with_handle(task, "gearman_task_is_running", |t| t.task.borrow().running)
}

#[no_mangle]
pub unsafe extern "C" fn gearman_task_numerator(task: *const gearman_task_st) -> u32 {
    with_handle(task, "gearman_task_numerator", |t| {
        t.task.borrow().numerator as u32
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_task_denominator(task: *const gearman_task_st) -> u32 {
    with_handle(task, "gearman_task_denominator", |t| {
        t.task.borrow().denominator as u32
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_task_data(task: *const gearman_task_st) -> *const c_void {
    with_handle(task, "gearman_task_data", |t| {
        let task = t.task.borrow();
        match &task.data[..] {
            [] => ptr::null(),
            data => data.as_ptr().cast(),
        }
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_task_data_size(task: *const gearman_task_st) -> usize {
    with_handle(task, "gearman_task_data_size", |t| {
        t.task.borrow().data.len()
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_task_return(task: *const gearman_task_st) -> gearman_return_t {
    with_handle(task, "gearman_task_return", |t| t.task.borrow().ret)
}

#[no_mangle]
pub unsafe extern "C" fn gearman_task_is_finished(task: *const gearman_task_st) -> bool {
    with_handle(task, "gearman_task_is_finished", |t| {
        t.task.borrow().is_finished_state()
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_task_has_exception(task: *const gearman_task_st) -> bool {
    with_handle(task, "gearman_task_has_exception", |t| {
        !t.task.borrow().exception.is_empty()
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_task_error(task: *const gearman_task_st) -> *const c_char {
    with_handle(task, "gearman_task_error", |t| {
        t.task
            .borrow()
            .error
            .as_deref()
            .map_or(ptr::null(), CStr::as_ptr)
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_task_strstate(task: *const gearman_task_st) -> *const c_char {
    with_handle(task, "gearman_task_strstate", |t| {
        t.task.borrow().state.name().as_ptr()
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_task_exception(task: *const gearman_task_st) -> gearman_string_t {
    with_handle(task, "gearman_task_exception", |t| {
        let task = t.task.borrow();
        gearman_string_t {
            c_str: task.exception.as_ptr().cast(),
            size: task.exception.len(),
        }
    })
}

/// Transfers the current payload to the caller, who `free()`s it.
#[no_mangle]
pub unsafe extern "C" fn gearman_task_take_data(
    task: *mut gearman_task_st,
    data_size: *mut usize,
) -> *mut c_void {
    with_handle(task, "gearman_task_take_data", |t| {
        let data = std::mem::take(&mut t.task.borrow_mut().data);
        // SAFETY: `data_size` is NULL or writable.
        unsafe { set_out(data_size, data.len()) };
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
    // SAFETY: `ret_ptr` is NULL or writable.
    unsafe { set_out(ret_ptr, rc::INVALID_ARGUMENT) };
    with_handle(task, "gearman_task_recv_data", |t| {
        if buf.is_null() && size > 0 {
            return 0;
        }
        let mut task = t.task.borrow_mut();
        let n = size.min(task.data.len());
        // SAFETY: `buf` has room for `size` >= n bytes; the payload has n readable bytes.
        unsafe { ptr::copy_nonoverlapping(task.data.as_ptr(), buf.cast::<u8>(), n) };
        let _ = task.data.split_to(n);
        // SAFETY: as above.
        unsafe { set_out(ret_ptr, rc::SUCCESS) };
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
    // SAFETY: `ret_ptr` is NULL or writable.
    unsafe { set_out(ret_ptr, rc::INVALID_ARGUMENT) };
    0
}

/// The result of a task run by `gearman_execute`; it lives as long as the task.
#[no_mangle]
pub unsafe extern "C" fn gearman_task_result(task: *mut gearman_task_st) -> *mut gearman_result_st {
    with_handle(task, "gearman_task_result", |t| t.result())
}

/// The next task after `task` in its client's list.
#[no_mangle]
pub unsafe extern "C" fn gearman_next(task: *mut gearman_task_st) -> *mut gearman_task_st {
    with_handle_or(task, "gearman_next", ptr::null_mut(), |t| {
        let Some(client) = t.client.upgrade() else {
            return ptr::null_mut();
        };
        let next = client.model.borrow().task_after(&t.task);
        next.and_then(|n| n.borrow().user.as_ref().map(|u| u.handle))
            .unwrap_or(ptr::null_mut())
    })
}
