//! What the engine counts for `/metrics` and the status page: job totals by outcome, and how
//! long jobs wait to be assigned and then run. Kept by the engine under its lock; a job's
//! queue time is a u32 of milliseconds that fits in padding the job already had.

use std::time::Instant;

/// Upper bounds of the latency histograms' buckets, in seconds (then +Inf).
pub const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A Prometheus histogram: per-bucket counts (not cumulative; the last is +Inf), sum, count.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Histogram {
    pub buckets: [u64; BUCKETS.len() + 1],
    pub sum: f64,
    pub count: u64,
}

impl Histogram {
    pub fn observe(&mut self, seconds: f64) {
        let i = BUCKETS
            .iter()
            .position(|&bound| seconds <= bound)
            .unwrap_or(BUCKETS.len());
        self.buckets[i] += 1;
        self.sum += seconds;
        self.count += 1;
    }
}

/// Jobs by what became of them, since the server started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub submitted: u64,
    pub completed: u64,
    pub failed: u64,
    pub exceptions: u64,
    /// Requeued because the worker running them went away.
    pub retried: u64,
    /// Requeued because the worker passed its CAN_DO_TIMEOUT.
    pub timed_out: u64,
}

#[derive(Debug, Clone)]
pub struct Metrics {
    pub totals: Totals,
    /// Queued (or requeued) → assigned to a worker.
    pub wait: Histogram,
    /// Assigned → WORK_COMPLETE, WORK_FAIL or WORK_EXCEPTION.
    pub run: Histogram,
    start: Instant,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            totals: Totals::default(),
            wait: Histogram::default(),
            run: Histogram::default(),
            start: Instant::now(),
        }
    }
}

impl Metrics {
    /// Milliseconds since the engine started, wrapping after 49 days (differences stay right).
    pub fn now_ms(&self) -> u32 {
        self.start.elapsed().as_millis() as u32
    }

    /// Seconds since `since_ms` (a [`Self::now_ms`] reading).
    pub fn seconds_since(&self, since_ms: u32) -> f64 {
        f64::from(self.now_ms().wrapping_sub(since_ms)) / 1000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_land_in_their_buckets() {
        let mut h = Histogram::default();
        for s in [0.0001, 0.0005, 0.003, 20.0] {
            h.observe(s);
        }
        assert_eq!(h.buckets[0], 2);
        assert_eq!(h.buckets[3], 1);
        assert_eq!(h.buckets[BUCKETS.len()], 1);
        assert_eq!(h.count, 4);
    }
}
