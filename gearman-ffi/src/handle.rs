//! The one place that turns C handle structs into Rust objects and back.

use std::ffi::c_void;

use crate::types::*;

/// A 16-byte libgearman handle struct whose `_impl` points at a boxed `Impl`.
pub trait Handle: Sized {
    type Impl;
    fn impl_slot(&mut self) -> &mut *mut c_void;
    fn impl_ptr(&self) -> *mut c_void;
    fn set_flags(&mut self, allocated: bool);
    fn is_allocated(&self) -> bool;
}

macro_rules! handle {
    ($st:ty, $impl:ty, two_flags) => {
        impl Handle for $st {
            type Impl = $impl;
            fn impl_slot(&mut self) -> &mut *mut c_void {
                &mut self._impl
            }
            fn impl_ptr(&self) -> *mut c_void {
                self._impl
            }
            fn set_flags(&mut self, allocated: bool) {
                self.options.is_allocated = allocated;
                self.options.is_initialized = true;
            }
            fn is_allocated(&self) -> bool {
                self.options.is_allocated
            }
        }
    };
}

handle!(gearman_client_st, crate::client::ClientImpl, two_flags);
handle!(gearman_worker_st, crate::worker::WorkerImpl, two_flags);
handle!(gearman_job_st, crate::worker::JobImpl, two_flags);

impl Handle for gearman_task_st {
    type Impl = crate::task::TaskImpl;
    fn impl_slot(&mut self) -> &mut *mut c_void {
        &mut self._impl
    }
    fn impl_ptr(&self) -> *mut c_void {
        self._impl
    }
    fn set_flags(&mut self, allocated: bool) {
        self.options.is_allocated = allocated;
    }
    fn is_allocated(&self) -> bool {
        self.options.is_allocated
    }
}

/// Installs `imp` in the caller's storage, or in a newly allocated struct when `storage` is NULL.
/// Returns the handle, or NULL when allocation fails.
pub unsafe fn install<H: Handle>(storage: *mut H, imp: Box<H::Impl>) -> *mut H {
    let (handle, allocated) = if storage.is_null() {
        let p = libc::calloc(1, std::mem::size_of::<H>()).cast::<H>();
        if p.is_null() {
            return std::ptr::null_mut();
        }
        (p, true)
    } else {
        (storage, false)
    };
    let h = &mut *handle;
    *h.impl_slot() = Box::into_raw(imp).cast();
    h.set_flags(allocated);
    handle
}

/// The implementation behind a handle, or `None` for NULL or a freed handle.
pub unsafe fn get<'a, H: Handle>(handle: *const H) -> Option<&'a mut H::Impl> {
    if handle.is_null() {
        return None;
    }
    let imp = (*handle).impl_ptr();
    (!imp.is_null()).then(|| &mut *imp.cast::<H::Impl>())
}

/// Takes the implementation out of a handle (leaving `_impl` NULL) and releases the struct if the
/// library allocated it.
pub unsafe fn release<H: Handle>(handle: *mut H) -> Option<Box<H::Impl>> {
    if handle.is_null() {
        return None;
    }
    let h = &mut *handle;
    let imp = std::mem::replace(h.impl_slot(), std::ptr::null_mut());
    let allocated = h.is_allocated();
    let boxed = (!imp.is_null()).then(|| Box::from_raw(imp.cast::<H::Impl>()));
    if allocated {
        libc::free(handle.cast());
    }
    boxed
}
