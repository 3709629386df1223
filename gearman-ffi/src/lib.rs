//! The libgearman 1.1 C ABI on gearman-core: boundary code only.
//!
//! libgearman's semantics (tasks, `run_tasks`, `work()`, options, errors) live in
//! [`gearman_core::libgearman`], shared with the PHP extension; this crate converts C arguments,
//! calls C callbacks and keeps C's memory rules.
//!
//! Every export is a plain `extern "C" fn` whose body runs inside one of the boundary helpers in
//! [`boundary`]: they turn the handle into its implementation, catch panics, and return the
//! failure value that follows from the export's return type. Implementations are reference
//! counted (`Rc`), so a callback that frees its own task, job or client leaves the running call
//! with a live object; all their state is behind `Cell`/`RefCell`, and no borrow is held while
//! a C callback runs.
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]
#![allow(clippy::missing_safety_doc, non_camel_case_types)]

pub mod allocator;
pub mod boundary;
pub mod client;
pub mod handle;
pub mod misc;
pub use gearman_core::server_list as servers;
pub mod task;
pub mod types;
pub mod worker;

#[cfg(test)]
mod lifecycle_tests;

use std::ffi::{c_char, c_void, CStr};

pub(crate) use gearman_core::libgearman::c_string;

/// The bytes of a NUL-terminated C string, or `None` for NULL.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn c_bytes<'a>(ptr: *const c_char) -> Option<&'a [u8]> {
    // SAFETY: non-NULL, and the caller promises a NUL-terminated string.
    (!ptr.is_null()).then(|| unsafe { CStr::from_ptr(ptr) }.to_bytes())
}

/// A C string argument as text (lossy), or `None` for NULL.
///
/// # Safety
/// As [`c_bytes`].
pub(crate) unsafe fn text_arg(ptr: *const c_char) -> Option<String> {
    // SAFETY: forwarded from the caller.
    unsafe { c_bytes(ptr) }.map(|b| String::from_utf8_lossy(b).into_owned())
}

/// A file path from a C string's bytes; NULL or empty is `None` (libgearman: the default).
pub(crate) fn path_arg(bytes: Option<&[u8]>) -> Option<std::path::PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    bytes
        .filter(|b| !b.is_empty())
        .map(|b| std::path::PathBuf::from(std::ffi::OsStr::from_bytes(b)))
}

/// `len` bytes at `ptr`; NULL with a length of 0 is the empty slice, NULL otherwise is `None`.
///
/// # Safety
/// `ptr` is NULL or points to `len` readable bytes that outlive `'a`.
pub(crate) unsafe fn c_slice<'a>(ptr: *const c_void, len: usize) -> Option<&'a [u8]> {
    if len == 0 {
        return Some(&[]);
    }
    // SAFETY: non-NULL, and the caller promises `len` readable bytes.
    (!ptr.is_null()).then(|| unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) })
}

/// A copy of `bytes` in memory from `alloc` (libc's `malloc` by default), NUL-terminated past
/// its size, for the caller to release. NULL when the allocation fails.
pub(crate) fn alloc_copy(bytes: &[u8], alloc: impl FnOnce(usize) -> *mut c_void) -> *mut c_void {
    let ptr = alloc(bytes.len() + 1).cast::<u8>();
    if ptr.is_null() {
        return std::ptr::null_mut();
    }
    // SAFETY: `ptr` has room for len + 1 bytes, and `bytes` does not overlap fresh memory.
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr, bytes.len());
        *ptr.add(bytes.len()) = 0;
    }
    ptr.cast()
}

/// A copy of `bytes` from libc's `malloc`, for the caller to `free()`.
pub(crate) fn malloc_copy(bytes: &[u8]) -> *mut c_void {
    // SAFETY: malloc may be called with any size.
    alloc_copy(bytes, |size| unsafe { libc::malloc(size) })
}

/// Stores `value` through an optional out-pointer.
///
/// # Safety
/// `ptr` is NULL or valid for a write of `T`.
pub(crate) unsafe fn set_out<T>(ptr: *mut T, value: T) {
    if !ptr.is_null() {
        // SAFETY: non-NULL, and the caller promises it is writable.
        unsafe { ptr.write(value) };
    }
}
