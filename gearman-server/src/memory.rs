//! Giving freed memory back to the system.

/// Returns freed heap memory to the system. The allocator keeps large freed blocks (a
/// connection's big frames or queued output, a function table that shrank) for reuse
/// otherwise, so a burst would keep its memory for the life of the server. Costs a walk of the
/// heap: call it after large frees only.
pub fn give_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory of the allocator's own heap.
    unsafe {
        libc::malloc_trim(0);
    }
}
