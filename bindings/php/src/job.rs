//! `GearmanJob`: a job handed to a worker (gearman-core's [`LibJob`]), with the means to report
//! on it.

use std::cell::{Cell, RefCell};

use ext_php_rs::prelude::*;
use ext_php_rs::types::Zval;
use gearman_core::libgearman::LibJob;
use gearman_core::return_code::{self, SUCCESS};

use crate::args::{Long, Str};
use crate::convert::{bool_zval, bytes_zval, StringZval};
use crate::error::warn;
use crate::objects::Initial;

#[php_class]
#[php(name = "GearmanJob")]
pub struct GearmanJob {
    pub job: RefCell<Option<LibJob>>,
    /// `returnCode()`: set by `setReturn()` and by the reports; the worker's `work()` reports
    /// it as the job's outcome.
    pub code: Cell<i32>,
    /// The worker's `work()` is running this job's callback: it still needs the job to send
    /// the callback's answer, so `__destruct()` leaves it.
    pub in_work: Cell<bool>,
}

impl Initial for GearmanJob {
    fn initial() -> GearmanJob {
        GearmanJob::inert()
    }
}

impl GearmanJob {
    /// A job with no assignment (`new GearmanJob()`, a non-blocking grab that found none).
    pub fn inert() -> GearmanJob {
        GearmanJob {
            job: RefCell::new(None),
            code: Cell::new(SUCCESS),
            in_work: Cell::new(false),
        }
    }

    pub fn assigned(job: LibJob) -> GearmanJob {
        GearmanJob {
            job: RefCell::new(Some(job)),
            code: Cell::new(SUCCESS),
            in_work: Cell::new(false),
        }
    }

    fn send(&self, call: &str, report: impl FnOnce(&mut LibJob) -> Result<(), i32>) -> bool {
        let Ok(mut job) = self.job.try_borrow_mut() else {
            warn(&format!("{call}(GEARMAN_IN_PROGRESS) the job is busy"));
            return false;
        };
        let Some(job) = job.as_mut() else {
            warn(&format!(
                "{call}(GEARMAN_INVALID_ARGUMENT) the job has no assignment"
            ));
            self.code.set(return_code::INVALID_ARGUMENT);
            return false;
        };
        match report(job) {
            Ok(()) => {
                self.code.set(SUCCESS);
                true
            }
            Err(code) => {
                self.code.set(code);
                let detail = job
                    .error
                    .as_ref()
                    .map(|e| e.to_string_lossy().into_owned())
                    .unwrap_or_default();
                warn(&format!("{call}({}) {detail}", return_code::name(code)));
                false
            }
        }
    }

    fn field(&self, read: impl FnOnce(&LibJob) -> &[u8]) -> Zval {
        match self.job.try_borrow().ok().as_deref() {
            Some(Some(job)) => bytes_zval(read(job)),
            _ => bool_zval(false),
        }
    }
}

#[php_impl]
impl GearmanJob {
    /// pecl's GearmanJob has no constructor, yet `new GearmanJob()` gives an inert job.
    pub fn __construct() -> GearmanJob {
        GearmanJob::inert()
    }

    /// Frees the job, as pecl's `gearman_job_free()`: it then answers as a job with no
    /// assignment (the server still holds the job for this worker until it disconnects). A job
    /// whose callback `work()` is running is left to `work()`, which answers for it.
    pub fn __destruct(&self) {
        if self.in_work.get() {
            return;
        }
        if let Ok(mut job) = self.job.try_borrow_mut() {
            *job = None;
        }
    }

    pub fn return_code(&self) -> i64 {
        i64::from(self.code.get())
    }

    /// The code the worker reports when the callback returns; outside 0..=53 it is refused.
    pub fn set_return(&self, gearman_return_t: Long) -> bool {
        match i32::try_from(gearman_return_t.0) {
            Ok(code) if (0..=return_code::MAX_RETURN).contains(&code) => {
                self.code.set(code);
                true
            }
            _ => {
                warn(&format!("Invalid gearman_return_t: {}", gearman_return_t.0));
                false
            }
        }
    }

    pub fn send_data(&self, data: Str) -> bool {
        self.send("sendData", |j| j.send_data(data.as_bytes()))
    }

    pub fn send_warning(&self, warning: Str) -> bool {
        self.send("sendWarning", |j| j.send_warning(warning.as_bytes()))
    }

    pub fn send_status(&self, numerator: Long, denominator: Long) -> bool {
        let n = u64::try_from(numerator.0).unwrap_or(0);
        let d = u64::try_from(denominator.0).unwrap_or(0);
        self.send("sendStatus", |j| j.send_status(n, d))
    }

    pub fn send_complete(&self, result: Str) -> bool {
        self.send("sendComplete", |j| j.send_complete(result.as_bytes()))
    }

    pub fn send_exception(&self, exception: Str) -> bool {
        self.send("sendException", |j| j.send_exception(exception.as_bytes()))
    }

    pub fn send_fail(&self) -> bool {
        self.send("sendFail", LibJob::send_fail)
    }

    pub fn handle(&self) -> Zval {
        self.field(|j| &j.assigned.handle)
    }

    pub fn function_name(&self) -> Zval {
        self.field(|j| &j.assigned.function)
    }

    pub fn unique(&self) -> Zval {
        self.field(|j| &j.assigned.unique)
    }

    pub fn workload(&self) -> StringZval {
        StringZval({
            match self.job.try_borrow().ok().as_deref() {
                Some(Some(job)) => bytes_zval(&job.workload),
                _ => bytes_zval(b""),
            }
        })
    }

    pub fn workload_size(&self) -> i64 {
        match self.job.try_borrow().ok().as_deref() {
            Some(Some(job)) => job.workload.len() as i64,
            _ => 0,
        }
    }
}
