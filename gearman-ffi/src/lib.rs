//! The libgearman 1.1 C ABI on gearman-core: boundary code only.
//!
//! Every exported function runs its body inside [`guard`], which catches panics and returns the
//! function's defined failure value; handles are turned into Rust objects by the few typed helpers
//! in [`handle`]. Results handed to C for `free()` come from libc's `malloc`.
#![allow(clippy::missing_safety_doc, non_camel_case_types)]

pub mod client;
pub mod handle;
pub mod misc;
pub use gearman_core::server_list as servers;
pub mod task;
pub mod types;
pub mod worker;

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use gearman_core::Error;

/// Runs `body`; a panic becomes `failure` instead of crossing into C.
pub(crate) fn guard<T>(failure: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(failure)
}

/// The bytes of a NUL-terminated C string, or `None` for NULL.
pub(crate) unsafe fn c_bytes<'a>(ptr: *const c_char) -> Option<&'a [u8]> {
    (!ptr.is_null()).then(|| CStr::from_ptr(ptr).to_bytes())
}

/// A C string argument as text (lossy), or `None` for NULL.
pub(crate) unsafe fn text_arg(ptr: *const c_char) -> Option<String> {
    c_bytes(ptr).map(|b| String::from_utf8_lossy(b).into_owned())
}

/// `len` bytes at `ptr`; NULL with a length of 0 is the empty slice, NULL otherwise is `None`.
pub(crate) unsafe fn c_slice<'a>(ptr: *const c_void, len: usize) -> Option<&'a [u8]> {
    if len == 0 {
        return Some(&[]);
    }
    (!ptr.is_null()).then(|| std::slice::from_raw_parts(ptr.cast::<u8>(), len))
}

/// A copy of `bytes` in `malloc`ed memory, NUL-terminated past its size, for the caller to `free()`.
pub(crate) fn malloc_copy(bytes: &[u8]) -> *mut c_void {
    // SAFETY: malloc of len + 1 bytes, then a copy of len bytes and a NUL into it.
    unsafe {
        let ptr = libc::malloc(bytes.len() + 1).cast::<u8>();
        if ptr.is_null() {
            return std::ptr::null_mut();
        }
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr, bytes.len());
        *ptr.add(bytes.len()) = 0;
        ptr.cast()
    }
}

/// A C string from bytes, cut at the first NUL.
pub(crate) fn c_string(bytes: &[u8]) -> CString {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    CString::new(&bytes[..end]).unwrap_or_default()
}

/// The return code for a core error.
pub(crate) fn rc_of(error: &Error) -> c_int {
    gearman_core::return_code::of_error(error)
}

/// The last error of a client or worker, as libgearman reports it.
#[derive(Default)]
pub struct LastError {
    text: Option<CString>,
    pub code: c_int,
    pub errno: c_int,
}

impl LastError {
    /// Records `rc` with a text carrying its `GEARMAN_<CODE>` name, and returns `rc`.
    pub fn set(&mut self, rc: c_int, call: &str, detail: &str) -> c_int {
        let text = gearman_core::return_code::describe(call, rc, detail);
        self.text = Some(c_string(text.as_bytes()));
        self.code = rc;
        self.errno = 0;
        rc
    }

    pub fn from_error(&mut self, call: &str, error: &Error) -> c_int {
        let rc = rc_of(error);
        let detail = error.to_string();
        let rc = self.set(rc, call, &detail);
        self.errno = gearman_core::return_code::errno_of(error);
        rc
    }

    pub fn text_ptr(&self) -> *const c_char {
        self.text.as_ref().map_or(std::ptr::null(), |t| t.as_ptr())
    }
}
