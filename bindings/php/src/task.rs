//! `GearmanTask`: one job submitted through `addTask*()` / `runTasks()`.
//!
//! The client keeps the PHP object itself and hands that same object to every callback. Once
//! `runTasks()` has finished a task, the task is released as libgearman's FREE_TASKS does, and the
//! object reports "dead" (false) from its accessors while `returnCode()` keeps its value.

use std::cell::RefCell;

use bytes::Bytes;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendClassObject, Zval};
use gearman_core::{JobId, Priority};

use crate::convert::{bytes_zval, long_zval, to_long};

/// What kind of request a task makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskKind {
    Job {
        priority: Priority,
        background: bool,
    },
    /// GET_STATUS for a handle (`addTaskStatus`).
    Status,
}

#[derive(Debug)]
pub struct TaskState {
    /// False for `new GearmanTask()` and once the client released the task.
    pub alive: bool,
    pub kind: TaskKind,
    pub function: Bytes,
    pub unique: Bytes,
    pub workload: Bytes,
    pub handle: Bytes,
    pub known: bool,
    pub running: bool,
    pub numerator: u64,
    pub denominator: u64,
    /// The payload of the packet being reported (data chunk, warning, exception, result).
    pub data: Bytes,
    /// pecl's task return code: that of the task's own calls (sendWorkload / recvData), so 0
    /// whatever the job's outcome.
    pub code: i32,
    /// `Some` only when a context argument was passed, even `null`: callbacks then get it.
    pub context: Option<Zval>,
    pub job: Option<JobId>,
    pub finished: bool,
}

impl TaskState {
    pub fn new(kind: TaskKind) -> TaskState {
        TaskState {
            alive: false,
            kind,
            function: Bytes::new(),
            unique: Bytes::new(),
            workload: Bytes::new(),
            handle: Bytes::new(),
            known: false,
            running: false,
            numerator: 0,
            denominator: 0,
            data: Bytes::new(),
            code: 0,
            context: None,
            job: None,
            finished: false,
        }
    }
}

#[php_class]
#[php(name = "GearmanTask")]
pub struct GearmanTask {
    pub state: RefCell<TaskState>,
}

/// The task state behind a task object the client holds.
pub fn task_of(object: &Zval) -> Option<&GearmanTask> {
    let object = object.object()?;
    ZendClassObject::<GearmanTask>::from_zend_obj(object).map(|o| &**o)
}

impl GearmanTask {
    pub fn with_state(state: TaskState) -> GearmanTask {
        GearmanTask {
            state: RefCell::new(state),
        }
    }

    /// Runs `read` on a live task; a dead or busy task gives `false`.
    fn live(&self, read: impl FnOnce(&TaskState) -> Zval) -> Zval {
        match self.state.try_borrow() {
            Ok(state) if state.alive => read(&state),
            _ => crate::convert::bool_zval(false),
        }
    }
}

#[php_impl]
impl GearmanTask {
    pub fn __construct() -> GearmanTask {
        GearmanTask::with_state(TaskState::new(TaskKind::Status))
    }

    pub fn return_code(&self) -> i64 {
        self.state.try_borrow().map_or(0, |s| i64::from(s.code))
    }

    pub fn function_name(&self) -> Zval {
        self.live(|s| bytes_zval(&s.function))
    }

    pub fn unique(&self) -> Zval {
        self.live(|s| bytes_zval(&s.unique))
    }

    pub fn job_handle(&self) -> Zval {
        self.live(|s| bytes_zval(&s.handle))
    }

    pub fn is_known(&self) -> bool {
        self.state.try_borrow().is_ok_and(|s| s.alive && s.known)
    }

    pub fn is_running(&self) -> bool {
        self.state.try_borrow().is_ok_and(|s| s.alive && s.running)
    }

    pub fn task_numerator(&self) -> Zval {
        self.live(|s| long_zval(to_long(s.numerator)))
    }

    pub fn task_denominator(&self) -> Zval {
        self.live(|s| long_zval(to_long(s.denominator)))
    }

    pub fn data(&self) -> Zval {
        self.live(|s| bytes_zval(&s.data))
    }

    pub fn data_size(&self) -> Zval {
        self.live(|s| long_zval(s.data.len() as i64))
    }

    /// Streaming workloads are not supported: the whole workload is sent with the submission.
    pub fn send_workload(&self, data: crate::convert::PhpBytes) -> Zval {
        let _ = data;
        crate::error::warn("GearmanTask::sendWorkload(GEARMAN_INVALID_ARGUMENT) streaming workloads are not supported; the workload is sent whole by addTask()");
        crate::convert::bool_zval(false)
    }

    /// Copies up to `data_len` bytes of the current data: `[length, data]`.
    pub fn recv_data(&self, data_len: i64) -> Zval {
        self.live(|s| {
            let n = usize::try_from(data_len.max(0))
                .unwrap_or(0)
                .min(s.data.len());
            crate::convert::array_zval(vec![long_zval(n as i64), bytes_zval(&s.data[..n])])
        })
    }
}
