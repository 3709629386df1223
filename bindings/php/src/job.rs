//! `GearmanJob`: a job handed to a worker, with the means to report on it.

use std::cell::RefCell;
use std::rc::Rc;

use ext_php_rs::prelude::*;
use ext_php_rs::types::Zval;
use gearman_core::blocking::BlockingWorker;
use gearman_core::return_code::{self, SUCCESS};
use gearman_core::{AssignedJob, Error};

use crate::convert::{bool_zval, bytes_zval, PhpBytes};
use crate::error::warn;

#[derive(Default)]
pub struct JobState {
    pub worker: Option<Rc<RefCell<BlockingWorker>>>,
    pub job: Option<AssignedJob>,
    /// WORK_COMPLETE, WORK_FAIL or WORK_EXCEPTION was sent: later results are ignored.
    pub finished: bool,
    pub code: i32,
}

#[php_class]
#[php(name = "GearmanJob")]
#[derive(Default)]
pub struct GearmanJob {
    pub state: RefCell<JobState>,
}

enum Report<'a> {
    Data(&'a [u8]),
    Warning(&'a [u8]),
    Status(u64, u64),
    Complete(&'a [u8]),
    Exception(&'a [u8]),
    Fail,
}

impl GearmanJob {
    pub fn assigned(worker: Rc<RefCell<BlockingWorker>>, job: AssignedJob) -> GearmanJob {
        GearmanJob {
            state: RefCell::new(JobState {
                worker: Some(worker),
                job: Some(job),
                finished: false,
                code: SUCCESS,
            }),
        }
    }

    fn send(&self, call: &str, report: Report) -> bool {
        let Ok(mut state) = self.state.try_borrow_mut() else {
            return false;
        };
        let (Some(worker), Some(job)) = (state.worker.clone(), state.job.clone()) else {
            warn(&format!(
                "{call}(GEARMAN_INVALID_ARGUMENT) the job has no assignment"
            ));
            state.code = return_code::INVALID_ARGUMENT;
            return false;
        };
        let finishing = matches!(
            report,
            Report::Complete(_) | Report::Exception(_) | Report::Fail
        );
        if state.finished {
            // libgearman ignores reports on a finished job.
            return true;
        }
        let Ok(mut worker) = worker.try_borrow_mut() else {
            warn(&format!("{call}(GEARMAN_IN_PROGRESS) the worker is busy"));
            return false;
        };
        let sent: Result<(), Error> = match report {
            Report::Data(d) => worker.send_data(&job, d),
            Report::Warning(d) => worker.send_warning(&job, d),
            Report::Status(n, d) => worker.send_status(&job, n, d),
            Report::Complete(d) => worker.send_complete(&job, d),
            Report::Exception(d) => worker.send_exception(&job, d),
            Report::Fail => worker.send_fail(&job),
        };
        match sent {
            Ok(()) => {
                state.code = SUCCESS;
                state.finished |= finishing;
                true
            }
            Err(e) => {
                state.code = return_code::of_error(&e);
                warn(&format!("{call}({}) {e}", return_code::name(state.code)));
                false
            }
        }
    }

    fn field(&self, read: impl FnOnce(&AssignedJob) -> &[u8]) -> Zval {
        match self.state.try_borrow() {
            Ok(state) => match &state.job {
                Some(job) => bytes_zval(read(job)),
                None => bool_zval(false),
            },
            Err(_) => bool_zval(false),
        }
    }
}

#[php_impl]
impl GearmanJob {
    /// pecl's GearmanJob has no constructor, yet `new GearmanJob()` gives an inert job.
    pub fn __construct() -> GearmanJob {
        GearmanJob::default()
    }

    pub fn return_code(&self) -> i64 {
        self.state.try_borrow().map_or(0, |s| i64::from(s.code))
    }

    /// The code the worker reports when the callback returns; outside 0..=53 it is refused.
    pub fn set_return(&self, gearman_return_t: i64) -> bool {
        match i32::try_from(gearman_return_t) {
            Ok(code) if (0..=return_code::MAX_RETURN).contains(&code) => {
                if let Ok(mut state) = self.state.try_borrow_mut() {
                    state.code = code;
                }
                true
            }
            _ => {
                warn(&format!("Invalid gearman_return_t: {gearman_return_t}"));
                false
            }
        }
    }

    pub fn send_data(&self, data: PhpBytes) -> bool {
        self.send("sendData", Report::Data(data.as_bytes()))
    }

    pub fn send_warning(&self, warning: PhpBytes) -> bool {
        self.send("sendWarning", Report::Warning(warning.as_bytes()))
    }

    pub fn send_status(&self, numerator: i64, denominator: i64) -> bool {
        let n = u64::try_from(numerator).unwrap_or(0);
        let d = u64::try_from(denominator).unwrap_or(0);
        self.send("sendStatus", Report::Status(n, d))
    }

    pub fn send_complete(&self, result: PhpBytes) -> bool {
        self.send("sendComplete", Report::Complete(result.as_bytes()))
    }

    pub fn send_exception(&self, exception: PhpBytes) -> bool {
        self.send("sendException", Report::Exception(exception.as_bytes()))
    }

    pub fn send_fail(&self) -> bool {
        self.send("sendFail", Report::Fail)
    }

    pub fn handle(&self) -> Zval {
        self.field(|j| &j.handle)
    }

    pub fn function_name(&self) -> Zval {
        self.field(|j| &j.function)
    }

    pub fn unique(&self) -> Zval {
        self.field(|j| &j.unique)
    }

    pub fn workload(&self) -> Zval {
        match self.state.try_borrow() {
            Ok(state) => bytes_zval(state.job.as_ref().map_or(&[][..], |j| &j.workload)),
            Err(_) => bytes_zval(b""),
        }
    }

    pub fn workload_size(&self) -> i64 {
        self.state
            .try_borrow()
            .ok()
            .and_then(|s| s.job.as_ref().map(|j| j.workload.len() as i64))
            .unwrap_or(0)
    }
}
