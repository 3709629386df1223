//! libgearman's allocator: where workloads handed to the caller come from (`gearman_*_do`
//! results, `gearman_job_take_workload`) and where the caller's results go back to
//! (`gearman_worker_fn` results). One context serves both functions, as in libgearman.

use std::cell::Cell;
use std::ffi::c_void;
use std::ptr;

use crate::types::*;

/// libgearman's allocator: where workloads handed to the caller come from and go back to.
#[derive(Clone, Copy)]
pub struct Allocator {
    pub malloc: Option<gearman_malloc_fn_ptr>,
    pub free: Option<gearman_free_fn_ptr>,
    pub context: *mut c_void,
}

impl Default for Allocator {
    fn default() -> Self {
        Allocator {
            malloc: None,
            free: None,
            context: ptr::null_mut(),
        }
    }
}

impl Allocator {
    /// `size` bytes from the registered malloc function, else from libc's `malloc`.
    pub fn malloc(&self, size: usize) -> *mut c_void {
        match self.malloc {
            // SAFETY: a C allocator registered for exactly this call shape.
            Some(f) => unsafe { f(size, self.context) },
            // SAFETY: malloc may be called with any size.
            None => unsafe { libc::malloc(size) },
        }
    }

    /// Releases memory through the registered free function, else libc's `free`.
    ///
    /// # Safety
    /// `ptr` came from the matching allocator (or is NULL).
    pub unsafe fn free(&self, ptr: *mut c_void) {
        match self.free {
            // SAFETY: the registered free function takes what the caller allocated.
            Some(f) => unsafe { f(ptr, self.context) },
            // SAFETY: forwarded from the caller.
            None => unsafe { libc::free(ptr) },
        }
    }

    /// `gearman_*_set_workload_malloc_fn`.
    ///
    /// # Safety
    /// `function` is NULL or a C function of `gearman_malloc_fn`'s type.
    pub unsafe fn set_malloc(
        cell: &Cell<Allocator>,
        function: *mut gearman_malloc_fn,
        context: *mut c_void,
    ) {
        let mut allocator = cell.get();
        // SAFETY: forwarded from the caller.
        allocator.malloc = unsafe { fn_ptr(function) };
        allocator.context = context;
        cell.set(allocator);
    }

    /// `gearman_*_set_workload_free_fn`.
    ///
    /// # Safety
    /// `function` is NULL or a C function of `gearman_free_fn`'s type.
    pub unsafe fn set_free(
        cell: &Cell<Allocator>,
        function: *mut gearman_free_fn,
        context: *mut c_void,
    ) {
        let mut allocator = cell.get();
        // SAFETY: forwarded from the caller.
        allocator.free = unsafe { fn_ptr(function) };
        allocator.context = context;
        cell.set(allocator);
    }

    /// `gearman_*_set_memory_allocators` (realloc and calloc have no use here).
    ///
    /// # Safety
    /// Each function is NULL or a C function of its type.
    pub unsafe fn set_both(
        cell: &Cell<Allocator>,
        malloc: *mut gearman_malloc_fn,
        free: *mut gearman_free_fn,
        context: *mut c_void,
    ) {
        // SAFETY: forwarded from the caller.
        let (malloc, free) = unsafe { (fn_ptr(malloc), fn_ptr(free)) };
        cell.set(Allocator {
            malloc,
            free,
            context,
        });
    }
}
