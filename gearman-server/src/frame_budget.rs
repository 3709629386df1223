//! The memory all connections together may hold in large frames still arriving.
//!
//! A connection's read buffer grows only with the bytes that arrive, but many connections each
//! sending a large frame slowly would still add up to more memory than the machine has. Each
//! large frame claims its declared size from one budget when its header arrives; a frame the
//! budget cannot cover is refused (the connection gets an ERROR and is closed), and the claim is
//! returned when the frame is complete or the connection ends.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use gearman_core::protocol::HEADER_LEN;

/// Frames at least this large claim from the budget; smaller ones are not worth counting.
pub const LARGE_FRAME: usize = 1024 * 1024;

/// Bytes claimed by large frames in progress, across all connections, and the cap.
#[derive(Debug)]
pub struct FrameBudget {
    cap: usize,
    used: AtomicUsize,
}

impl FrameBudget {
    pub fn new(cap: usize) -> Arc<FrameBudget> {
        Arc::new(FrameBudget {
            cap,
            used: AtomicUsize::new(0),
        })
    }

    fn reserve(&self, len: usize) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(len).filter(|&total| total <= self.cap)
            })
            .is_ok()
    }

    fn release(&self, len: usize) {
        self.used.fetch_sub(len, Ordering::AcqRel);
    }

    /// Bytes claimed now.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Acquire)
    }
}

/// The size of the large binary frame `buf` starts with, if it has not fully arrived.
fn incomplete_large_frame(buf: &[u8]) -> Option<usize> {
    if buf.len() < HEADER_LEN || buf[0] != 0 {
        return None;
    }
    let len = u32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]) as usize;
    let total = HEADER_LEN + len;
    (len >= LARGE_FRAME && buf.len() < total).then_some(total)
}

/// One connection's claim on the budget.
pub struct FrameClaim {
    budget: Arc<FrameBudget>,
    held: usize,
}

impl FrameClaim {
    pub fn new(budget: Arc<FrameBudget>) -> FrameClaim {
        FrameClaim { budget, held: 0 }
    }

    /// Claims what the frame at the start of `buf` (what remains after every complete frame
    /// was handled) needs; false if the budget cannot cover it.
    pub fn cover(&mut self, buf: &[u8]) -> bool {
        let needed = incomplete_large_frame(buf).unwrap_or(0);
        if needed == self.held {
            return true;
        }
        self.budget.release(self.held);
        self.held = 0;
        if needed == 0 {
            return true;
        }
        if self.budget.reserve(needed) {
            self.held = needed;
            true
        } else {
            false
        }
    }
}

impl Drop for FrameClaim {
    fn drop(&mut self) {
        self.budget.release(self.held);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(len: u32) -> Vec<u8> {
        let mut h = b"\0REQ\0\0\0\x12".to_vec();
        h.extend_from_slice(&len.to_be_bytes());
        h
    }

    #[test]
    fn large_frames_claim_until_complete_and_the_cap_refuses_more() {
        let budget = FrameBudget::new(3 * LARGE_FRAME);
        let mut a = FrameClaim::new(budget.clone());
        let mut b = FrameClaim::new(budget.clone());
        let big = header(2 * LARGE_FRAME as u32);
        assert!(a.cover(&big));
        assert_eq!(budget.used(), HEADER_LEN + 2 * LARGE_FRAME);
        // The same frame, more bytes: no new claim.
        let mut more = big.clone();
        more.extend_from_slice(&[0; 100]);
        assert!(a.cover(&more));
        assert_eq!(budget.used(), HEADER_LEN + 2 * LARGE_FRAME);
        // Another connection's large frame does not fit.
        assert!(!b.cover(&big));
        // Small frames never claim.
        assert!(b.cover(&header(100)));
        // Complete (nothing left in the buffer): the claim is returned.
        assert!(a.cover(&[]));
        assert_eq!(budget.used(), 0);
        assert!(b.cover(&big));
        drop(b);
        assert_eq!(budget.used(), 0);
    }
}
