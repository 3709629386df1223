//! The one place that turns C handle structs into Rust objects and back.
//!
//! A handle struct (16 bytes, libgearman's layout) lives in caller storage or in memory this
//! library `calloc`ed; its `_impl` holds one strong count of an `Rc<Impl>`. [`get`] hands out
//! another count, so an object freed by a callback lives until the call that ran the callback
//! returns. After `free`, `_impl` is NULL, so a caller-storage struct may still be passed (every
//! call then fails cleanly); a library-allocated struct is gone and must not be used again.

use std::ffi::c_void;
use std::rc::Rc;

use crate::types::*;

/// A libgearman handle struct whose `_impl` points at an `Rc<Impl>`.
pub trait Handle: Sized {
    type Impl;
    fn impl_ptr(&self) -> *mut c_void;
    fn set_impl(&mut self, imp: *mut c_void);
    fn set_allocated(&mut self, allocated: bool);
    fn is_allocated(&self) -> bool;
}

macro_rules! handle {
    ($st:ty, $impl:ty, initialized) => {
        handle!($st, $impl, |h: &mut $st| h.options.is_initialized = true);
    };
    ($st:ty, $impl:ty) => {
        handle!($st, $impl, |_h: &mut $st| {});
    };
    ($st:ty, $impl:ty, |$h:ident: &mut $hty:ty| $init:expr) => {
        impl Handle for $st {
            type Impl = $impl;
            fn impl_ptr(&self) -> *mut c_void {
                self._impl
            }
            fn set_impl(&mut self, imp: *mut c_void) {
                self._impl = imp;
            }
            fn set_allocated(&mut self, allocated: bool) {
                self.options.is_allocated = allocated;
                let $h: &mut $hty = self;
                $init
            }
            fn is_allocated(&self) -> bool {
                self.options.is_allocated
            }
        }
    };
}

handle!(gearman_client_st, crate::client::ClientImpl, initialized);
handle!(gearman_worker_st, crate::worker::WorkerImpl, initialized);
handle!(gearman_job_st, crate::worker::JobImpl, initialized);
handle!(gearman_task_st, crate::task::TaskImpl);

/// Installs `imp` in the caller's storage, or in a newly allocated struct when `storage` is NULL.
/// Returns the handle and whether the library allocated it; NULL when allocation fails.
///
/// # Safety
/// `storage` is NULL or points to a writable handle struct.
pub unsafe fn install<H: Handle>(storage: *mut H, imp: Rc<H::Impl>) -> (*mut H, bool) {
    let (handle, allocated) = if storage.is_null() {
        // SAFETY: calloc of one zeroed struct; all-zero is a valid handle struct.
        let p = unsafe { libc::calloc(1, std::mem::size_of::<H>()) }.cast::<H>();
        if p.is_null() {
            return (std::ptr::null_mut(), false);
        }
        (p, true)
    } else {
        (storage, false)
    };
    // SAFETY: `handle` is writable (the caller's struct or the one just allocated).
    let h = unsafe { &mut *handle };
    h.set_impl(Rc::into_raw(imp).cast_mut().cast());
    h.set_allocated(allocated);
    (handle, allocated)
}

/// The implementation behind a handle (a new strong count), or `None` for NULL or a freed one.
///
/// # Safety
/// `handle` is NULL or a handle struct this library initialised and that is still allocated.
pub unsafe fn get<H: Handle>(handle: *const H) -> Option<Rc<H::Impl>> {
    // SAFETY: the caller promises a valid struct when non-NULL.
    let imp = unsafe { handle.as_ref() }?.impl_ptr().cast::<H::Impl>();
    if imp.is_null() {
        return None;
    }
    // SAFETY: `_impl` holds a count of an `Rc<H::Impl>` made by `install`; we add one for the
    // `Rc` returned.
    unsafe {
        Rc::increment_strong_count(imp);
        Some(Rc::from_raw(imp))
    }
}

/// Takes the implementation out of a handle (leaving `_impl` NULL) and releases the struct if
/// the library allocated it. The object itself lives while anyone still holds it.
///
/// # Safety
/// As [`get`]; a library-allocated `handle` is freed and must not be used again.
pub unsafe fn release<H: Handle>(handle: *mut H) -> Option<Rc<H::Impl>> {
    // SAFETY: the caller promises a valid struct when non-NULL.
    let h = unsafe { handle.as_mut() }?;
    let imp = h.impl_ptr().cast::<H::Impl>();
    h.set_impl(std::ptr::null_mut());
    let allocated = h.is_allocated();
    // SAFETY: `_impl` held one count of an `Rc` from `install`; it is taken over here.
    let rc = (!imp.is_null()).then(|| unsafe { Rc::from_raw(imp.cast_const()) });
    if allocated {
        // SAFETY: the struct came from `calloc` in `install`.
        unsafe { libc::free(handle.cast()) };
    }
    rc
}
