//! `GearmanTask`: a PHP object on one of the client's libgearman tasks.
//!
//! The client keeps the PHP object with the task and hands that same object to every callback.
//! Once `runTasks()` has finished a task, the task is released as libgearman's FREE_TASKS does,
//! and the object reports "dead" (false) from its accessors while `returnCode()` keeps its value.

use std::cell::{Cell, RefCell};

use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendClassObject, Zval};
use gearman_core::libgearman::{Task, TaskRef};

use crate::args::{Long, Str};
use crate::convert::{bool_zval, bytes_zval, long_zval, to_long};
use crate::objects::Initial;

/// What the PHP side keeps with each of the model's tasks.
pub struct PhpTask {
    /// The GearmanTask object (this reference keeps it alive while the client holds the task).
    pub object: Zval,
    /// `Some` only when a context argument was passed, even `null`: callbacks then get it.
    pub context: Option<Zval>,
    /// Which callbacks were set when the task was added: libgearman binds a task to those (a
    /// callback set later is not called for it; one replaced later is called in its new form).
    pub bound: [bool; 8],
}

#[php_class]
#[php(name = "GearmanTask")]
pub struct GearmanTask {
    pub task: RefCell<Option<TaskRef<PhpTask>>>,
    /// pecl's task return code: that of the task's own calls (sendWorkload / recvData), so 0
    /// whatever the job's outcome.
    code: Cell<i32>,
}

/// The task object behind a zval the client holds.
pub fn task_of(object: &Zval) -> Option<&GearmanTask> {
    let object = object.object()?;
    ZendClassObject::<GearmanTask>::from_zend_obj(object).map(|o| &**o)
}

/// A new GearmanTask object, as a zval the client and PHP share.
pub fn new_task_object() -> Zval {
    let object = ZendClassObject::new(GearmanTask::unattached());
    let mut zval = Zval::new();
    // Setting an object into a fresh zval cannot fail.
    let _ = ext_php_rs::convert::IntoZval::set_zval(object, &mut zval, false);
    zval
}

impl Initial for GearmanTask {
    fn initial() -> GearmanTask {
        GearmanTask::unattached()
    }
}

impl GearmanTask {
    /// A task object not (yet) attached to a client's task.
    pub fn unattached() -> GearmanTask {
        GearmanTask {
            task: RefCell::new(None),
            code: Cell::new(0),
        }
    }

    /// Runs `read` on a live task; a dead (released) or unset task gives `false`.
    fn live(&self, read: impl FnOnce(&Task<PhpTask>) -> Zval) -> Zval {
        match self.task.try_borrow().ok().as_deref() {
            Some(Some(task)) => match task.try_borrow() {
                Ok(task) if !task.detached => read(&task),
                _ => bool_zval(false),
            },
            _ => bool_zval(false),
        }
    }

    fn live_bool(&self, read: impl FnOnce(&Task<PhpTask>) -> bool) -> bool {
        match self.task.try_borrow().ok().as_deref() {
            Some(Some(task)) => task.try_borrow().is_ok_and(|t| !t.detached && read(&t)),
            _ => false,
        }
    }
}

#[php_impl]
impl GearmanTask {
    pub fn __construct() -> GearmanTask {
        GearmanTask::unattached()
    }

    pub fn return_code(&self) -> i64 {
        i64::from(self.code.get())
    }

    pub fn function_name(&self) -> Zval {
        self.live(|t| bytes_zval(t.function.as_bytes()))
    }

    pub fn unique(&self) -> Zval {
        self.live(|t| bytes_zval(t.unique.as_bytes()))
    }

    pub fn job_handle(&self) -> Zval {
        self.live(|t| bytes_zval(t.handle.as_bytes()))
    }

    pub fn is_known(&self) -> bool {
        self.live_bool(|t| t.known)
    }

    pub fn is_running(&self) -> bool {
        self.live_bool(|t| t.running)
    }

    pub fn task_numerator(&self) -> Zval {
        self.live(|t| long_zval(to_long(t.numerator)))
    }

    pub fn task_denominator(&self) -> Zval {
        self.live(|t| long_zval(to_long(t.denominator)))
    }

    pub fn data(&self) -> Zval {
        self.live(|t| bytes_zval(&t.data))
    }

    pub fn data_size(&self) -> Zval {
        self.live(|t| long_zval(t.data.len() as i64))
    }

    /// Streaming workloads are not supported: the whole workload is sent with the submission.
    pub fn send_workload(&self, data: Str) -> Zval {
        let _ = data;
        crate::error::warn("GearmanTask::sendWorkload(GEARMAN_INVALID_ARGUMENT) streaming workloads are not supported; the workload is sent whole by addTask()");
        bool_zval(false)
    }

    /// Copies up to `data_len` bytes of the current data: `[length, data]`.
    pub fn recv_data(&self, data_len: Long) -> Zval {
        self.live(|t| {
            let n = usize::try_from(data_len.0.max(0))
                .unwrap_or(0)
                .min(t.data.len());
            crate::convert::array_zval(vec![long_zval(n as i64), bytes_zval(&t.data[..n])])
        })
    }
}
