//! A libgearman task: one request added with `add_task*` (a job, or a status query) and what
//! the server has reported about it so far.

use std::cell::RefCell;
use std::ffi::CString;
use std::rc::Rc;

use bytes::{Bytes, BytesMut};

use crate::client::JobId;
use crate::job::JobRequest;
use crate::return_code;

/// Tasks are shared by the client's lists and the front end's task handle or object.
pub type TaskRef<U> = Rc<RefCell<Task<U>>>;

/// What a task asks of the server.
#[derive(Debug, Clone)]
pub enum TaskKind {
    Job(JobRequest),
    /// GET_STATUS for a job handle.
    Status,
    /// GET_STATUS_UNIQUE for a unique.
    StatusUnique,
}

/// `gearman_task_state_t`, numbered as libgearman numbers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum TaskState {
    New = 0,
    Submit = 1,
    Workload = 2,
    Work = 3,
    Created = 4,
    Data = 5,
    Warning = 6,
    Status = 7,
    Complete = 8,
    Exception = 9,
    Fail = 10,
    Finished = 11,
}

impl TaskState {
    /// `gearman_task_strstate()`.
    pub fn name(self) -> &'static std::ffi::CStr {
        match self {
            TaskState::New => c"GEARMAN_TASK_STATE_NEW",
            TaskState::Submit => c"GEARMAN_TASK_STATE_SUBMIT",
            TaskState::Workload => c"GEARMAN_TASK_STATE_WORKLOAD",
            TaskState::Work => c"GEARMAN_TASK_STATE_WORK",
            TaskState::Created => c"GEARMAN_TASK_STATE_CREATED",
            TaskState::Data => c"GEARMAN_TASK_STATE_DATA",
            TaskState::Warning => c"GEARMAN_TASK_STATE_WARNING",
            TaskState::Status => c"GEARMAN_TASK_STATE_STATUS",
            TaskState::Complete => c"GEARMAN_TASK_STATE_COMPLETE",
            TaskState::Exception => c"GEARMAN_TASK_STATE_EXCEPTION",
            TaskState::Fail => c"GEARMAN_TASK_STATE_FAIL",
            TaskState::Finished => c"GEARMAN_TASK_STATE_FINISHED",
        }
    }
}

/// One task. `user` is the front end's own data (the C handle and context, the PHP object);
/// the client takes it back when it releases the task, which ends any cycle through it.
#[derive(Debug)]
pub struct Task<U> {
    pub kind: TaskKind,
    pub state: TaskState,
    /// The core job once submitted.
    pub job: Option<JobId>,
    pub function: CString,
    pub unique: CString,
    /// The job handle: from JOB_CREATED, or the handle a status task asks about.
    pub handle: CString,
    pub known: bool,
    pub running: bool,
    pub numerator: u64,
    pub denominator: u64,
    /// The payload of the packet being reported (data chunk, warning, exception, result).
    pub data: Bytes,
    /// Every WORK_DATA payload so far: the execute API's result is these plus the last one.
    pub streamed: BytesMut,
    pub exception: Bytes,
    /// The task's outcome as a return code (`gearman_task_return()`).
    pub ret: i32,
    /// The text of an error that ended the task.
    pub error: Option<CString>,
    /// The task has ended (its state stays at its last event, as in libgearman).
    pub done: bool,
    /// No longer in its client's lists: freed by the caller or released by FREE_TASKS.
    pub detached: bool,
    pub user: Option<U>,
}

/// A C string from bytes, cut at the first NUL (handles and names never hold one).
pub fn c_string(bytes: &[u8]) -> CString {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    CString::new(&bytes[..end]).unwrap_or_default()
}

impl<U> Task<U> {
    pub fn new(kind: TaskKind, key: &[u8], user: U) -> Task<U> {
        let (function, unique, handle) = match &kind {
            TaskKind::Job(r) => (
                c_string(&r.function),
                c_string(r.unique.as_deref().unwrap_or_default()),
                CString::default(),
            ),
            // libgearman reports a status task's handle as its function name too.
            TaskKind::Status => (c_string(key), CString::default(), c_string(key)),
            TaskKind::StatusUnique => (CString::default(), c_string(key), CString::default()),
        };
        Task {
            kind,
            state: TaskState::New,
            job: None,
            function,
            unique,
            known: false,
            handle,
            running: false,
            numerator: 0,
            denominator: 0,
            data: Bytes::new(),
            streamed: BytesMut::new(),
            exception: Bytes::new(),
            ret: return_code::SUCCESS,
            error: None,
            done: false,
            detached: false,
            user: Some(user),
        }
    }

    /// libgearman's `gearman_task_is_finished`: the state is FINISHED.
    pub fn is_finished_state(&self) -> bool {
        self.state == TaskState::Finished
    }
}
