//! The one way an export runs: its handle turned into its implementation, its body run with
//! panics caught, and a failure value that follows from its return type.

use std::any::Any;
use std::ffi::c_int;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::rc::Rc;

use std::cell::RefCell;

use gearman_core::libgearman::ServerList;
use gearman_core::return_code;

use crate::handle::{get, Handle};
use crate::types::*;

/// What an export returns when it cannot do its work: a NULL or freed handle, or a panic.
pub trait Failure {
    fn failure() -> Self;
}

impl Failure for () {
    fn failure() {}
}

impl Failure for bool {
    fn failure() -> bool {
        false
    }
}

/// `gearman_return_t`: INVALID_ARGUMENT, as libgearman answers a NULL handle.
impl Failure for c_int {
    fn failure() -> c_int {
        return_code::INVALID_ARGUMENT
    }
}

impl Failure for usize {
    fn failure() -> usize {
        0
    }
}

impl Failure for u32 {
    fn failure() -> u32 {
        0
    }
}

impl Failure for i64 {
    fn failure() -> i64 {
        0
    }
}

impl<T> Failure for *mut T {
    fn failure() -> *mut T {
        ptr::null_mut()
    }
}

impl<T> Failure for *const T {
    fn failure() -> *const T {
        ptr::null()
    }
}

impl Failure for gearman_status_t {
    fn failure() -> gearman_status_t {
        gearman_status_t {
            result_rc: return_code::INVALID_ARGUMENT,
            ..Default::default()
        }
    }
}

impl Failure for gearman_id_t {
    fn failure() -> gearman_id_t {
        gearman_id_t {
            read_fd: -1,
            write_fd: -1,
        }
    }
}

impl Failure for gearman_string_t {
    fn failure() -> gearman_string_t {
        gearman_string_t {
            c_str: ptr::null(),
            size: 0,
        }
    }
}

/// The text of a panic's payload.
fn panic_text(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// Runs `body`; a panic becomes `failure` instead of crossing into C.
pub fn boundary_with<T>(failure: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(failure)
}

/// Runs `body`; a panic becomes the return type's failure value.
pub fn boundary<T: Failure>(body: impl FnOnce() -> T) -> T {
    boundary_with(T::failure(), body)
}

/// Implementations that keep a [`LastError`], where a panic is recorded as its own error.
pub trait RecordsErrors {
    fn record_panic(&self, call: &str, text: &str);
}

/// Runs `body` on the implementation behind `handle`; NULL or a freed handle gives `failure`,
/// and a panic is recorded on the object (`GEARMAN_UNKNOWN_STATE`, "internal error: …").
///
/// Called only by the exports, with the handle C gave them: the export's contract (NULL or a
/// live handle of this library) is what makes reading it sound, as in rustls-ffi's helpers.
#[allow(clippy::not_unsafe_ptr_arg_deref)]
pub(crate) fn with_handle_or<H, T>(
    handle: *const H,
    call: &str,
    failure: T,
    body: impl FnOnce(&Rc<H::Impl>) -> T,
) -> T
where
    H: Handle,
    H::Impl: RecordsErrors,
{
    // SAFETY: the caller passes NULL or a handle made by this library.
    let Some(imp) = (unsafe { get(handle) }) else {
        return failure;
    };
    match catch_unwind(AssertUnwindSafe(|| body(&imp))) {
        Ok(value) => value,
        Err(payload) => {
            imp.record_panic(call, &panic_text(payload.as_ref()));
            failure
        }
    }
}

/// [`with_handle_or`] with the return type's failure value.
pub(crate) fn with_handle<H, T: Failure>(
    handle: *const H,
    call: &str,
    body: impl FnOnce(&Rc<H::Impl>) -> T,
) -> T
where
    H: Handle,
    H::Impl: RecordsErrors,
{
    with_handle_or(handle, call, T::failure(), body)
}

/// Records a panic on a client's or worker's last error, unless the model is borrowed (then the
/// panic interrupted a call that holds it, and the record is dropped).
pub fn record_panic_in<M: ServerList>(model: &RefCell<M>, call: &str, text: &str) {
    if let Ok(mut model) = model.try_borrow_mut() {
        model.last_error().set(
            return_code::UNKNOWN_STATE,
            call,
            &format!("internal error: {text}"),
        );
    }
}
