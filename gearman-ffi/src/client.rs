//! `gearman_client_st`: configuration, blocking calls, tasks and `run_tasks`.

use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_void, CString};
use std::ptr;
use std::time::Duration;

use bytes::Bytes;
use gearman_core::blocking::BlockingClient;
use gearman_core::protocol::PacketType;
use gearman_core::{ClientOptions, JobEvent, JobId, JobRequest, Outcome, Priority, ServerAddr};

use crate::handle::{get, install, release};
use crate::task::*;
use crate::types::*;
use crate::{c_bytes, c_slice, guard, malloc_copy, LastError};

/// The callbacks `run_tasks` calls, one per event, shared by all tasks.
#[derive(Default, Clone, Copy)]
pub struct Actions {
    pub workload: Option<gearman_task_fn_ptr>,
    pub created: Option<gearman_task_fn_ptr>,
    pub data: Option<gearman_task_fn_ptr>,
    pub warning: Option<gearman_task_fn_ptr>,
    pub status: Option<gearman_task_fn_ptr>,
    pub complete: Option<gearman_task_fn_ptr>,
    pub exception: Option<gearman_task_fn_ptr>,
    pub fail: Option<gearman_task_fn_ptr>,
}

pub struct ClientImpl {
    pub core: BlockingClient,
    /// The settable option bits (ALLOCATED is derived from the handle).
    pub options: c_int,
    pub timeout: c_int,
    pub context: *mut c_void,
    pub error: LastError,
    pub namespace: Vec<u8>,
    pub identifier: Option<Vec<u8>>,
    pub actions: Actions,
    pub task_context_free: Option<gearman_task_context_free_fn_ptr>,
    /// Tasks in the order they were added.
    pub tasks: Vec<*mut gearman_task_st>,
    /// Which task a core job belongs to.
    jobs: HashMap<JobId, *mut gearman_task_st>,
    pub servers: Vec<ServerAddr>,
    do_handle: CString,
    do_status: (u32, u32),
    /// Whether the library allocated the handle struct (reported as GEARMAN_CLIENT_ALLOCATED).
    heap: bool,
}

impl ClientImpl {
    fn new() -> Option<ClientImpl> {
        let core = BlockingClient::new(ClientOptions::default()).ok()?;
        let mut client = ClientImpl {
            core,
            options: 0,
            timeout: -1,
            context: ptr::null_mut(),
            error: LastError::default(),
            namespace: Vec::new(),
            identifier: None,
            actions: Actions::default(),
            task_context_free: None,
            tasks: Vec::new(),
            jobs: HashMap::new(),
            servers: Vec::new(),
            do_handle: CString::default(),
            do_status: (0, 0),
            heap: false,
        };
        if let Some(list) = crate::servers::from_env() {
            let _ = client.add_servers(&list);
        }
        Some(client)
    }

    fn add_server(&mut self, host: &str, port: u16) -> c_int {
        match crate::servers::resolve(host, port) {
            Ok(addr) => {
                self.core.add_server(addr.clone());
                self.servers.push(addr);
                GEARMAN_SUCCESS
            }
            Err(detail) => {
                self.error
                    .set(GEARMAN_GETADDRINFO, "gearman_client_add_server", &detail)
            }
        }
    }

    fn add_servers(&mut self, list: &str) -> c_int {
        let entries = match crate::servers::split_list(list) {
            Ok(entries) => entries,
            Err(detail) => {
                return self.error.set(
                    GEARMAN_INVALID_ARGUMENT,
                    "gearman_client_add_servers",
                    &detail,
                )
            }
        };
        for (host, port) in entries {
            let rc = self.add_server(host, port);
            if rc != GEARMAN_SUCCESS {
                return rc;
            }
        }
        GEARMAN_SUCCESS
    }

    fn apply_timeout(&mut self) {
        let timeout = u64::try_from(self.timeout).ok().map(Duration::from_millis);
        self.core.inner_mut().options_mut().timeout = timeout;
    }

    /// A job request for `function` with the namespace, checking libgearman's unique rules.
    fn request(
        &mut self,
        call: &str,
        function: *const c_char,
        unique: *const c_char,
        workload: *const c_void,
        size: usize,
    ) -> Result<JobRequest, c_int> {
        let Some(function) = (unsafe { c_bytes(function) }).filter(|f| !f.is_empty()) else {
            return Err(self.error.set(
                GEARMAN_INVALID_ARGUMENT,
                call,
                "function name is NULL or empty",
            ));
        };
        let Some(workload) = (unsafe { c_slice(workload, size) }) else {
            return Err(self
                .error
                .set(GEARMAN_INVALID_ARGUMENT, call, "workload is NULL"));
        };
        let mut name = self.namespace.clone();
        name.extend_from_slice(function);
        let mut request = JobRequest::new(Bytes::from(name), Bytes::copy_from_slice(workload));
        if let Some(unique) = unsafe { c_bytes(unique) }.filter(|u| !u.is_empty()) {
            if unique.len() > 64 {
                return Err(self.error.set(
                    GEARMAN_INVALID_ARGUMENT,
                    call,
                    "unique longer than 64 bytes",
                ));
            }
            // libgearman keeps at most 63 bytes of a unique.
            request = request.unique(Bytes::copy_from_slice(&unique[..unique.len().min(63)]));
        }
        Ok(request)
    }

    fn check_servers(&mut self, call: &str) -> Result<(), c_int> {
        if self.servers.is_empty() {
            return Err(self.error.set(GEARMAN_NO_SERVERS, call, "no servers added"));
        }
        Ok(())
    }

    /// # Safety
    /// `task` is NULL or a task handle of this client.
    pub unsafe fn forget_task(&mut self, task: *mut gearman_task_st) {
        // Tasks are usually freed soon after they were added: search from the end.
        if let Some(pos) = self.tasks.iter().rposition(|&t| t == task) {
            self.tasks.remove(pos);
        }
        if let Some(job) = get(task).and_then(|t| t.job) {
            self.jobs.remove(&job);
        }
    }

    pub fn task_after(&self, task: *mut gearman_task_st) -> *mut gearman_task_st {
        // The list is walked newest first, as libgearman's prepended list is.
        let pos = self.tasks.iter().rposition(|&t| t == task);
        match pos {
            Some(0) | None => ptr::null_mut(),
            Some(i) => self.tasks[i - 1],
        }
    }

    fn add_task(
        &mut self,
        storage: *mut gearman_task_st,
        kind: TaskKind,
        context: *mut c_void,
    ) -> *mut gearman_task_st {
        let imp = Box::new(TaskImpl::new(self as *mut ClientImpl, kind, context));
        let task = unsafe { install(storage, imp) };
        if !task.is_null() {
            self.tasks.push(task);
        }
        task
    }

    /// Runs a callback; a result other than SUCCESS pauses `run_tasks`.
    fn call(&mut self, callback: Option<gearman_task_fn_ptr>, task: *mut gearman_task_st) -> c_int {
        match callback {
            Some(f) => unsafe { f(task) },
            None => GEARMAN_SUCCESS,
        }
    }

    fn finish_task(&mut self, task: *mut gearman_task_st) {
        let Some(imp) = (unsafe { get(task) }) else {
            return;
        };
        imp.done = true;
        if !matches!(imp.state, STATE_COMPLETE | STATE_FAIL | STATE_EXCEPTION) {
            imp.state = STATE_FINISHED;
        }
        if let Some(job) = imp.job.take() {
            self.core.take(job);
            self.jobs.remove(&job);
        }
        if self.options & GEARMAN_CLIENT_FREE_TASKS != 0 {
            unsafe { free_task(task) };
        }
    }

    /// Sends every new task (newest first, as libgearman 1.1 does) and handles events until all
    /// are finished or a callback pauses.
    fn run_tasks(&mut self) -> c_int {
        if let Err(rc) = self.check_servers("gearman_client_run_tasks") {
            return rc;
        }
        let new: Vec<*mut gearman_task_st> = self
            .tasks
            .iter()
            .rev()
            .copied()
            .filter(|&t| unsafe { get(t) }.is_some_and(|i| i.state == STATE_NEW))
            .collect();
        for task in new {
            let rc = self.start_task(task);
            if rc != GEARMAN_SUCCESS {
                return rc;
            }
        }
        while !self.jobs.is_empty() {
            let event = match self.core.next_event() {
                Ok(Some(event)) => event,
                Ok(None) => break,
                Err(e) => return self.error.from_error("gearman_client_run_tasks", &e),
            };
            let Some(&task) = self.jobs.get(&event.job) else {
                continue;
            };
            let rc = self.dispatch(task, event.event);
            if rc != GEARMAN_SUCCESS {
                return rc;
            }
        }
        GEARMAN_SUCCESS
    }

    fn start_task(&mut self, task: *mut gearman_task_st) -> c_int {
        let Some(imp) = (unsafe { get(task) }) else {
            return GEARMAN_SUCCESS;
        };
        match &imp.kind {
            TaskKind::Job(request) => {
                let request = request.clone();
                match self.core.submit(request) {
                    Ok(job) => {
                        imp.job = Some(job);
                        imp.state = STATE_WORK;
                        self.jobs.insert(job, task);
                        GEARMAN_SUCCESS
                    }
                    Err(e) => {
                        imp.ret = crate::rc_of(&e);
                        imp.state = STATE_FINISHED;
                        imp.done = true;
                        self.error.from_error("gearman_client_run_tasks", &e)
                    }
                }
            }
            TaskKind::Status(key) | TaskKind::StatusUnique(key) => {
                let unique = matches!(imp.kind, TaskKind::StatusUnique(_));
                let key = key.clone();
                let status = if unique {
                    self.core.job_status_unique(&key)
                } else {
                    self.core.job_status(&key)
                };
                match status {
                    Ok(s) => {
                        imp.is_known = s.known;
                        imp.is_running = s.running;
                        imp.numerator = s.numerator as u32;
                        imp.denominator = s.denominator as u32;
                        imp.state = STATE_STATUS;
                        imp.ret = GEARMAN_SUCCESS;
                        let rc = self.call(self.actions.status, task);
                        self.finish_task(task);
                        rc
                    }
                    Err(e) => {
                        imp.ret = crate::rc_of(&e);
                        imp.state = STATE_FINISHED;
                        imp.done = true;
                        self.error.from_error("gearman_client_run_tasks", &e)
                    }
                }
            }
        }
    }

    fn dispatch(&mut self, task: *mut gearman_task_st, event: JobEvent) -> c_int {
        let Some(imp) = (unsafe { get(task) }) else {
            return GEARMAN_SUCCESS;
        };
        match event {
            JobEvent::Created(handle) => {
                imp.handle = crate::c_string(&handle);
                imp.is_known = true;
                imp.state = STATE_CREATED;
                self.call(self.actions.created, task)
            }
            JobEvent::Data(data) => {
                imp.data = data.to_vec();
                imp.streamed.extend_from_slice(&data);
                imp.state = STATE_DATA;
                self.call(self.actions.data, task)
            }
            JobEvent::Warning(data) => {
                imp.data = data.to_vec();
                imp.state = STATE_WARNING;
                self.call(self.actions.warning, task)
            }
            JobEvent::Status {
                numerator,
                denominator,
            } => {
                imp.is_running = true;
                imp.numerator = numerator as u32;
                imp.denominator = denominator as u32;
                imp.state = STATE_STATUS;
                self.call(self.actions.status, task)
            }
            JobEvent::Finished(outcome) => {
                let (rc, callback) = match outcome {
                    Outcome::Queued => {
                        imp.ret = GEARMAN_SUCCESS;
                        (GEARMAN_SUCCESS, None)
                    }
                    Outcome::Complete(data) => {
                        imp.data = data.to_vec();
                        let mut all = std::mem::take(&mut imp.streamed);
                        all.extend_from_slice(&data);
                        imp.result.value = ResultValue::Bytes(all);
                        imp.ret = GEARMAN_SUCCESS;
                        imp.state = STATE_COMPLETE;
                        (GEARMAN_SUCCESS, self.actions.complete)
                    }
                    Outcome::Failed => {
                        imp.data.clear();
                        imp.ret = GEARMAN_WORK_FAIL;
                        imp.state = STATE_FAIL;
                        (GEARMAN_SUCCESS, self.actions.fail)
                    }
                    Outcome::Exception(data) => {
                        imp.data = data.to_vec();
                        imp.exception = data.to_vec();
                        imp.ret = GEARMAN_WORK_EXCEPTION;
                        imp.state = STATE_EXCEPTION;
                        (GEARMAN_SUCCESS, self.actions.exception)
                    }
                    Outcome::Error(e) => {
                        let rc = crate::rc_of(&e);
                        imp.ret = rc;
                        imp.error = Some(crate::c_string(e.to_string().as_bytes()));
                        self.error.from_error("gearman_client_run_tasks", &e);
                        (rc, self.actions.fail)
                    }
                };
                let callback_rc = self.call(callback, task);
                self.finish_task(task);
                if rc != GEARMAN_SUCCESS {
                    rc
                } else {
                    callback_rc
                }
            }
        }
    }

    /// `gearman_client_do*`: runs one job, returns the data chunks followed by the result.
    fn do_job(
        &mut self,
        call: &str,
        priority: Priority,
        function: *const c_char,
        unique: *const c_char,
        workload: *const c_void,
        size: usize,
        result_size: *mut usize,
        ret_ptr: *mut gearman_return_t,
    ) -> *mut c_void {
        let set = |rc: c_int| unsafe {
            if !ret_ptr.is_null() {
                *ret_ptr = rc;
            }
            if !result_size.is_null() {
                *result_size = 0;
            }
        };
        if let Err(rc) = self.check_servers(call) {
            set(rc);
            return ptr::null_mut();
        }
        let request = match self.request(call, function, unique, workload, size) {
            Ok(r) => r.priority(priority),
            Err(rc) => {
                set(rc);
                return ptr::null_mut();
            }
        };
        let result = match self.core.run(request) {
            Ok(r) => r,
            Err(e) => {
                set(self.error.from_error(call, &e));
                return ptr::null_mut();
            }
        };
        // Like libgearman, the handle of a `do` is only known while it runs.
        self.do_handle = CString::default();
        let (numerator, denominator) = result.status.unwrap_or_default();
        self.do_status = (numerator as u32, denominator as u32);
        match result.outcome {
            Some(Outcome::Complete(_)) => {
                let all = result.data_then_result().unwrap_or_default();
                set(GEARMAN_SUCCESS);
                if !result_size.is_null() {
                    unsafe { *result_size = all.len() };
                }
                malloc_copy(&all)
            }
            Some(Outcome::Failed) => {
                set(self.error.set(GEARMAN_WORK_FAIL, call, "the job failed"));
                ptr::null_mut()
            }
            Some(Outcome::Exception(data)) => {
                let text = String::from_utf8_lossy(&data).into_owned();
                set(self.error.set(GEARMAN_WORK_EXCEPTION, call, &text));
                ptr::null_mut()
            }
            Some(Outcome::Error(e)) => {
                set(self.error.from_error(call, &e));
                ptr::null_mut()
            }
            Some(Outcome::Queued) | None => {
                set(self.error.set(GEARMAN_UNKNOWN_STATE, call, "no result"));
                ptr::null_mut()
            }
        }
    }

    fn do_background(
        &mut self,
        call: &str,
        priority: Priority,
        function: *const c_char,
        unique: *const c_char,
        workload: *const c_void,
        size: usize,
        handle: *mut c_char,
    ) -> c_int {
        if let Err(rc) = self.check_servers(call) {
            return rc;
        }
        let request = match self.request(call, function, unique, workload, size) {
            Ok(r) => r.priority(priority).background(true),
            Err(rc) => return rc,
        };
        match self.core.submit_background(request) {
            Ok(h) => {
                self.do_handle = crate::c_string(&h);
                if !handle.is_null() {
                    let n = h.len().min(63);
                    unsafe {
                        ptr::copy_nonoverlapping(h.as_ptr(), handle.cast::<u8>(), n);
                        *handle.add(n) = 0;
                    }
                }
                GEARMAN_SUCCESS
            }
            Err(e) => self.error.from_error(call, &e),
        }
    }

    fn free_all_tasks(&mut self) {
        for task in std::mem::take(&mut self.tasks) {
            unsafe { free_task(task) };
        }
        self.jobs.clear();
    }
}

impl Drop for ClientImpl {
    fn drop(&mut self) {
        self.free_all_tasks();
    }
}

unsafe fn client<'a>(ptr: *const gearman_client_st) -> Option<&'a mut ClientImpl> {
    get(ptr)
}

fn priority_of(p: c_int) -> Priority {
    match p {
        GEARMAN_JOB_PRIORITY_HIGH => Priority::High,
        GEARMAN_JOB_PRIORITY_LOW => Priority::Low,
        _ => Priority::Normal,
    }
}

/// Defines an exported client function: `$fail` is returned for a NULL client or a panic.
macro_rules! client_fn {
    ($(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty, $fail:expr, |$c:ident| $body:expr) => {
        $(#[$doc])*
        #[no_mangle]
        pub unsafe extern "C" fn $name(client: *mut gearman_client_st $(, $arg: $ty)*) -> $ret {
            guard($fail, || match self::client(client) {
                Some($c) => $body,
                None => $fail,
            })
        }
    };
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_create(
    client: *mut gearman_client_st,
) -> *mut gearman_client_st {
    guard(ptr::null_mut(), || match ClientImpl::new() {
        Some(imp) => mark_heap(install(client, Box::new(imp))),
        None => ptr::null_mut(),
    })
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_clone(
    destination: *mut gearman_client_st,
    source: *const gearman_client_st,
) -> *mut gearman_client_st {
    guard(ptr::null_mut(), || {
        let Some(src) = self::client(source) else {
            return gearman_client_create(destination);
        };
        let Ok(core) = BlockingClient::new(ClientOptions::default()) else {
            return ptr::null_mut();
        };
        let mut imp = ClientImpl {
            core,
            options: src.options,
            timeout: src.timeout,
            context: src.context,
            error: LastError::default(),
            namespace: src.namespace.clone(),
            identifier: src.identifier.clone(),
            actions: src.actions,
            task_context_free: src.task_context_free,
            tasks: Vec::new(),
            jobs: HashMap::new(),
            servers: Vec::new(),
            do_handle: CString::default(),
            do_status: (0, 0),
            heap: false,
        };
        for server in src.servers.clone() {
            imp.core.add_server(server.clone());
            imp.servers.push(server);
        }
        imp.apply_timeout();
        imp.core.inner_mut().options_mut().exceptions = imp.options & GEARMAN_CLIENT_EXCEPTION != 0;
        if let Some(id) = &imp.identifier {
            imp.core
                .inner_mut()
                .set_client_id(Bytes::copy_from_slice(id));
        }
        mark_heap(install(destination, Box::new(imp)))
    })
}

unsafe fn mark_heap(handle: *mut gearman_client_st) -> *mut gearman_client_st {
    if let Some(imp) = get(handle) {
        imp.heap = (*handle).options.is_allocated;
    }
    handle
}

#[no_mangle]
pub unsafe extern "C" fn gearman_client_free(client: *mut gearman_client_st) {
    guard((), || drop(release(client)))
}

client_fn!(gearman_client_error() -> *const c_char, ptr::null(), |c| c.error.text_ptr());
client_fn!(gearman_client_error_code() -> gearman_return_t, GEARMAN_INVALID_ARGUMENT, |c| c.error.code);
client_fn!(gearman_client_errno() -> c_int, 0, |c| c.error.errno);
client_fn!(gearman_client_options() -> gearman_client_options_t, 0, |c| {
    let allocated = if c.heap { GEARMAN_CLIENT_ALLOCATED } else { 0 };
    c.options | allocated
});
client_fn!(gearman_client_has_option(option: gearman_client_options_t) -> bool, false, |c| {
    let allocated = if c.heap { GEARMAN_CLIENT_ALLOCATED } else { 0 };
    (c.options | allocated) & option == option && option != 0
});
client_fn!(gearman_client_set_options(options: gearman_client_options_t) -> (), (), |c| set_client_options(c, options & CLIENT_SETTABLE));
client_fn!(gearman_client_add_options(options: gearman_client_options_t) -> (), (), |c| {
    let options = c.options | (options & CLIENT_SETTABLE);
    set_client_options(c, options)
});
client_fn!(gearman_client_remove_options(options: gearman_client_options_t) -> (), (), |c| {
    let options = c.options & !options;
    set_client_options(c, options)
});

fn set_client_options(c: &mut ClientImpl, options: c_int) {
    let had_exceptions = c.options & GEARMAN_CLIENT_EXCEPTION != 0;
    c.options = options;
    let exceptions = options & GEARMAN_CLIENT_EXCEPTION != 0;
    c.core.inner_mut().options_mut().exceptions = exceptions;
    if exceptions && !had_exceptions && !c.servers.is_empty() {
        // Connections already open must hear it too.
        let _ = c.core.set_server_option(b"exceptions");
    }
}

client_fn!(gearman_client_timeout() -> c_int, -1, |c| c.timeout);
client_fn!(gearman_client_set_timeout(timeout: c_int) -> (), (), |c| {
    c.timeout = timeout;
    c.apply_timeout()
});
client_fn!(gearman_client_context() -> *mut c_void, ptr::null_mut(), |c| c.context);
client_fn!(gearman_client_set_context(context: *mut c_void) -> (), (), |c| c.context = context);
client_fn!(
    /// Accepted; this library logs through `tracing`, not through a callback.
    gearman_client_set_log_fn(_function: *mut gearman_log_fn, _context: *mut c_void, _verbose: gearman_verbose_t) -> (), (), |_c| ()
);
client_fn!(
    /// Accepted; results handed to the caller always come from malloc().
    gearman_client_set_workload_malloc_fn(_function: *mut gearman_malloc_fn, _context: *mut c_void) -> (), (), |_c| ()
);
client_fn!(
    /// Accepted; results handed to the caller are released with free().
    gearman_client_set_workload_free_fn(_function: *mut gearman_free_fn, _context: *mut c_void) -> (), (), |_c| ()
);
client_fn!(
    /// Accepted; the library allocates with malloc().
    gearman_client_set_memory_allocators(_malloc: *mut gearman_malloc_fn, _free: *mut gearman_free_fn, _realloc: *mut gearman_realloc_fn, _calloc: *mut gearman_calloc_fn, _context: *mut c_void) -> gearman_return_t, GEARMAN_INVALID_ARGUMENT, |_c| GEARMAN_SUCCESS
);
client_fn!(
    /// TLS is not supported by this build: asking for it is recorded and refused at connect.
    gearman_client_set_ssl(ssl: bool, _ca_file: *const c_char, _certificate: *const c_char, _key_file: *const c_char) -> (), (), |c| {
        if ssl {
            c.options |= GEARMAN_CLIENT_SSL;
        }
    }
);
client_fn!(gearman_client_add_server(host: *const c_char, port: in_port_t) -> gearman_return_t, GEARMAN_INVALID_ARGUMENT, |c| {
    c.add_server(&crate::text_arg(host).unwrap_or_default(), port)
});
client_fn!(gearman_client_add_servers(servers: *const c_char) -> gearman_return_t, GEARMAN_INVALID_ARGUMENT, |c| {
    let list = crate::text_arg(servers).unwrap_or_else(crate::servers::default_list);
    c.add_servers(&list)
});
client_fn!(gearman_client_remove_servers() -> (), (), |c| {
    c.core.inner_mut().remove_servers();
    c.servers.clear()
});
client_fn!(
    /// Calls block, so there is never anything to wait for.
    gearman_client_wait() -> gearman_return_t, GEARMAN_INVALID_ARGUMENT, |c| {
        if c.servers.is_empty() { GEARMAN_NO_SERVERS } else { GEARMAN_SUCCESS }
    }
);

#[no_mangle]
pub unsafe extern "C" fn gearman_client_compare(
    first: *const gearman_client_st,
    second: *const gearman_client_st,
) -> bool {
    guard(false, || {
        match (self::client(first), self::client(second)) {
            (Some(a), Some(b)) => !a.servers.is_empty() && a.servers == b.servers,
            _ => false,
        }
    })
}

client_fn!(gearman_client_set_server_option(option: *const c_char, size: usize) -> bool, false, |c| {
    let Some(option) = c_slice(option.cast(), size) else { return false };
    match c.core.set_server_option(option) {
        Ok(()) => true,
        Err(e) => {
            c.error.from_error("gearman_client_set_server_option", &e);
            false
        }
    }
});
client_fn!(gearman_client_set_namespace(namespace: *const c_char, size: usize) -> (), (), |c| {
    c.namespace = c_slice(namespace.cast(), size).map(<[u8]>::to_vec).unwrap_or_default()
});
client_fn!(gearman_client_set_identifier(id: *const c_char, size: usize) -> gearman_return_t, GEARMAN_INVALID_ARGUMENT, |c| {
    let Some(id) = c_slice(id.cast(), size).filter(|i| !i.is_empty() && !i.contains(&b' ')) else {
        return c.error.set(GEARMAN_INVALID_ARGUMENT, "gearman_client_set_identifier", "identifier is empty or contains a space");
    };
    c.identifier = Some(id.to_vec());
    c.core.inner_mut().set_client_id(Bytes::copy_from_slice(id));
    GEARMAN_SUCCESS
});
client_fn!(gearman_client_has_tasks() -> bool, false, |c| !c.tasks.is_empty());
client_fn!(gearman_client_has_active_tasks() -> bool, false, |c| {
    c.tasks.iter().any(|&t| get(t).is_some_and(|i| !i.is_finished()))
});

client_fn!(gearman_client_do(function: *const c_char, unique: *const c_char, workload: *const c_void, size: usize, result_size: *mut usize, ret_ptr: *mut gearman_return_t) -> *mut c_void, ptr::null_mut(), |c| {
    c.do_job("gearman_client_do", Priority::Normal, function, unique, workload, size, result_size, ret_ptr)
});
client_fn!(gearman_client_do_high(function: *const c_char, unique: *const c_char, workload: *const c_void, size: usize, result_size: *mut usize, ret_ptr: *mut gearman_return_t) -> *mut c_void, ptr::null_mut(), |c| {
    c.do_job("gearman_client_do_high", Priority::High, function, unique, workload, size, result_size, ret_ptr)
});
client_fn!(gearman_client_do_low(function: *const c_char, unique: *const c_char, workload: *const c_void, size: usize, result_size: *mut usize, ret_ptr: *mut gearman_return_t) -> *mut c_void, ptr::null_mut(), |c| {
    c.do_job("gearman_client_do_low", Priority::Low, function, unique, workload, size, result_size, ret_ptr)
});
client_fn!(gearman_client_do_job_handle() -> *const c_char, ptr::null(), |c| c.do_handle.as_ptr());
client_fn!(gearman_client_do_status(numerator: *mut u32, denominator: *mut u32) -> (), (), |c| {
    if !numerator.is_null() {
        *numerator = c.do_status.0;
    }
    if !denominator.is_null() {
        *denominator = c.do_status.1;
    }
});
client_fn!(gearman_client_do_background(function: *const c_char, unique: *const c_char, workload: *const c_void, size: usize, job_handle: *mut c_char) -> gearman_return_t, GEARMAN_INVALID_ARGUMENT, |c| {
    c.do_background("gearman_client_do_background", Priority::Normal, function, unique, workload, size, job_handle)
});
client_fn!(gearman_client_do_high_background(function: *const c_char, unique: *const c_char, workload: *const c_void, size: usize, job_handle: *mut c_char) -> gearman_return_t, GEARMAN_INVALID_ARGUMENT, |c| {
    c.do_background("gearman_client_do_high_background", Priority::High, function, unique, workload, size, job_handle)
});
client_fn!(gearman_client_do_low_background(function: *const c_char, unique: *const c_char, workload: *const c_void, size: usize, job_handle: *mut c_char) -> gearman_return_t, GEARMAN_INVALID_ARGUMENT, |c| {
    c.do_background("gearman_client_do_low_background", Priority::Low, function, unique, workload, size, job_handle)
});
client_fn!(gearman_client_job_status(job_handle: *const c_char, is_known: *mut bool, is_running: *mut bool, numerator: *mut u32, denominator: *mut u32) -> gearman_return_t, GEARMAN_INVALID_ARGUMENT, |c| {
    let Some(handle) = c_bytes(job_handle) else {
        return c.error.set(GEARMAN_INVALID_ARGUMENT, "gearman_client_job_status", "job handle is NULL");
    };
    if let Err(rc) = c.check_servers("gearman_client_job_status") {
        return rc;
    }
    match c.core.job_status(handle) {
        Ok(s) => {
            if !is_known.is_null() { *is_known = s.known; }
            if !is_running.is_null() { *is_running = s.running; }
            if !numerator.is_null() { *numerator = s.numerator as u32; }
            if !denominator.is_null() { *denominator = s.denominator as u32; }
            GEARMAN_SUCCESS
        }
        Err(e) => c.error.from_error("gearman_client_job_status", &e),
    }
});
client_fn!(gearman_client_unique_status(unique: *const c_char, size: usize) -> gearman_status_t, gearman_status_t { result_rc: GEARMAN_INVALID_ARGUMENT, ..Default::default() }, |c| {
    let fail = |rc| gearman_status_t { result_rc: rc, ..Default::default() };
    let Some(unique) = c_slice(unique.cast(), size).filter(|u| !u.is_empty()) else {
        return fail(c.error.set(GEARMAN_INVALID_ARGUMENT, "gearman_client_unique_status", "unique is NULL or empty"));
    };
    if let Err(rc) = c.check_servers("gearman_client_unique_status") {
        return fail(rc);
    }
    match c.core.job_status_unique(unique) {
        Ok(s) => gearman_status_t {
            version: 0,
            result_rc: GEARMAN_SUCCESS,
            is_known: s.known,
            is_running: s.running,
            numerator: s.numerator as u32,
            denominator: s.denominator as u32,
            client_count: s.client_count.unwrap_or(0) as u32,
        },
        Err(e) => fail(c.error.from_error("gearman_client_unique_status", &e)),
    }
});
client_fn!(gearman_client_echo(workload: *const c_void, size: usize) -> gearman_return_t, GEARMAN_INVALID_ARGUMENT, |c| {
    let Some(data) = c_slice(workload, size) else {
        return c.error.set(GEARMAN_INVALID_ARGUMENT, "gearman_client_echo", "workload is NULL");
    };
    if let Err(rc) = c.check_servers("gearman_client_echo") {
        return rc;
    }
    match c.core.echo(data) {
        Ok(reply) if reply[..] == *data => GEARMAN_SUCCESS,
        Ok(_) => c.error.set(GEARMAN_ECHO_DATA_CORRUPTION, "gearman_client_echo", "echo reply differs"),
        Err(e) => c.error.from_error("gearman_client_echo", &e),
    }
});
client_fn!(
    /// libgearman 1.1's cancel: sends WORK_FAIL on the client connection, which servers refuse
    /// with JOB_NOT_FOUND; nothing is cancelled. Use the admin "cancel job" command instead.
    gearman_client_cancel_job(job_handle: *const c_char) -> gearman_return_t, GEARMAN_INVALID_ARGUMENT, |c| {
        let Some(handle) = c_bytes(job_handle) else {
            return c.error.set(GEARMAN_INVALID_ARGUMENT, "gearman_client_cancel_job", "job handle is NULL");
        };
        if let Err(rc) = c.check_servers("gearman_client_cancel_job") {
            return rc;
        }
        match c.core.request_ack(PacketType::WorkFail, handle) {
            Ok(()) => GEARMAN_SUCCESS,
            Err(e) => c.error.from_error("gearman_client_cancel_job", &e),
        }
    }
);

/// Defines one `gearman_client_add_task*` variant.
macro_rules! add_task_fn {
    ($name:ident, $priority:expr, $background:expr) => {
        client_fn!($name(task: *mut gearman_task_st, context: *mut c_void, function: *const c_char, unique: *const c_char, workload: *const c_void, size: usize, ret_ptr: *mut gearman_return_t) -> *mut gearman_task_st, ptr::null_mut(), |c| {
            let set = |rc| if !ret_ptr.is_null() { *ret_ptr = rc };
            match c.request(stringify!($name), function, unique, workload, size) {
                Ok(mut request) => {
                    if request.unique.is_none() {
                        // libgearman generates the unique when the task is added.
                        request.unique = Some(c.core.inner_mut().new_unique());
                    }
                    let request = request.priority($priority).background($background);
                    let task = c.add_task(task, TaskKind::Job(request), context);
                    set(if task.is_null() { 15 } else { GEARMAN_SUCCESS });
                    task
                }
                Err(rc) => {
                    set(rc);
                    ptr::null_mut()
                }
            }
        });
    };
}

add_task_fn!(gearman_client_add_task, Priority::Normal, false);
add_task_fn!(gearman_client_add_task_high, Priority::High, false);
add_task_fn!(gearman_client_add_task_low, Priority::Low, false);
add_task_fn!(gearman_client_add_task_background, Priority::Normal, true);
add_task_fn!(
    gearman_client_add_task_high_background,
    Priority::High,
    true
);
add_task_fn!(gearman_client_add_task_low_background, Priority::Low, true);

client_fn!(gearman_client_add_task_status(task: *mut gearman_task_st, context: *mut c_void, job_handle: *const c_char, ret_ptr: *mut gearman_return_t) -> *mut gearman_task_st, ptr::null_mut(), |c| {
    let set = |rc| if !ret_ptr.is_null() { *ret_ptr = rc };
    let Some(handle) = c_bytes(job_handle) else {
        set(c.error.set(GEARMAN_INVALID_ARGUMENT, "gearman_client_add_task_status", "job handle is NULL"));
        return ptr::null_mut();
    };
    set(GEARMAN_SUCCESS);
    c.add_task(task, TaskKind::Status(handle.to_vec()), context)
});
client_fn!(gearman_client_add_task_status_by_unique(task: *mut gearman_task_st, unique: *const c_char, ret_ptr: *mut gearman_return_t) -> *mut gearman_task_st, ptr::null_mut(), |c| {
    let set = |rc| if !ret_ptr.is_null() { *ret_ptr = rc };
    let Some(unique) = c_bytes(unique).filter(|u| !u.is_empty()) else {
        set(c.error.set(GEARMAN_INVALID_ARGUMENT, "gearman_client_add_task_status_by_unique", "unique is NULL or empty"));
        return ptr::null_mut();
    };
    set(GEARMAN_SUCCESS);
    c.add_task(task, TaskKind::StatusUnique(unique.to_vec()), ptr::null_mut())
});

client_fn!(gearman_client_set_workload_fn(function: *mut gearman_workload_fn) -> (), (), |c| c.actions.workload = fn_ptr(function));
client_fn!(gearman_client_set_created_fn(function: *mut gearman_created_fn) -> (), (), |c| c.actions.created = fn_ptr(function));
client_fn!(gearman_client_set_data_fn(function: *mut gearman_data_fn) -> (), (), |c| c.actions.data = fn_ptr(function));
client_fn!(gearman_client_set_warning_fn(function: *mut gearman_warning_fn) -> (), (), |c| c.actions.warning = fn_ptr(function));
client_fn!(gearman_client_set_status_fn(function: *mut gearman_universal_status_fn) -> (), (), |c| c.actions.status = fn_ptr(function));
client_fn!(gearman_client_set_complete_fn(function: *mut gearman_complete_fn) -> (), (), |c| c.actions.complete = fn_ptr(function));
client_fn!(gearman_client_set_exception_fn(function: *mut gearman_exception_fn) -> (), (), |c| c.actions.exception = fn_ptr(function));
client_fn!(gearman_client_set_fail_fn(function: *mut gearman_fail_fn) -> (), (), |c| c.actions.fail = fn_ptr(function));
client_fn!(gearman_client_clear_fn() -> (), (), |c| c.actions = Actions::default());
client_fn!(gearman_client_set_task_context_free_fn(function: *mut gearman_task_context_free_fn) -> (), (), |c| c.task_context_free = fn_ptr(function));
client_fn!(gearman_client_task_free_all() -> (), (), |c| c.free_all_tasks());
client_fn!(gearman_client_run_tasks() -> gearman_return_t, GEARMAN_INVALID_ARGUMENT, |c| c.run_tasks());

/// Submits one task and runs it: to completion for foreground attributes, to JOB_CREATED for
/// background and epoch ones.
#[no_mangle]
pub unsafe extern "C" fn gearman_execute(
    client: *mut gearman_client_st,
    function_name: *const c_char,
    function_length: usize,
    unique: *const c_char,
    unique_length: usize,
    attr: *mut gearman_task_attr_t,
    arguments: *mut gearman_argument_t,
    context: *mut c_void,
) -> *mut gearman_task_st {
    execute(
        client,
        ptr::null(),
        0,
        function_name,
        function_length,
        unique,
        unique_length,
        attr,
        arguments,
        context,
    )
}

/// Map/reduce: SUBMIT_REDUCE_JOB with the partition function as function and `function_name` as
/// reducer.
#[no_mangle]
pub unsafe extern "C" fn gearman_execute_by_partition(
    client: *mut gearman_client_st,
    partition_function: *const c_char,
    partition_function_length: usize,
    function_name: *const c_char,
    function_name_length: usize,
    unique: *const c_char,
    unique_length: usize,
    attr: *mut gearman_task_attr_t,
    arguments: *mut gearman_argument_t,
    context: *mut c_void,
) -> *mut gearman_task_st {
    if partition_function.is_null() {
        return ptr::null_mut();
    }
    execute(
        client,
        function_name,
        function_name_length,
        partition_function,
        partition_function_length,
        unique,
        unique_length,
        attr,
        arguments,
        context,
    )
}

#[allow(clippy::too_many_arguments)]
unsafe fn execute(
    client: *mut gearman_client_st,
    reducer: *const c_char,
    reducer_length: usize,
    function_name: *const c_char,
    function_length: usize,
    unique: *const c_char,
    unique_length: usize,
    attr: *mut gearman_task_attr_t,
    arguments: *mut gearman_argument_t,
    context: *mut c_void,
) -> *mut gearman_task_st {
    guard(ptr::null_mut(), || {
        let Some(c) = self::client(client) else {
            return ptr::null_mut();
        };
        let call = "gearman_execute";
        let Some(function) =
            c_slice(function_name.cast(), function_length).filter(|f| !f.is_empty())
        else {
            c.error.set(
                GEARMAN_INVALID_ARGUMENT,
                call,
                "function name is NULL or empty",
            );
            return ptr::null_mut();
        };
        if c.check_servers(call).is_err() {
            return ptr::null_mut();
        }
        let workload = match arguments.as_ref() {
            Some(arg) => c_slice(arg.value.c_str.cast(), arg.value.size)
                .unwrap_or_default()
                .to_vec(),
            None => Vec::new(),
        };
        let mut name = c.namespace.clone();
        name.extend_from_slice(function);
        let mut request = JobRequest::new(Bytes::from(name), Bytes::from(workload));
        match c_slice(unique.cast(), unique_length).filter(|u| !u.is_empty()) {
            Some(u) if u.len() > 64 => {
                c.error.set(
                    GEARMAN_INVALID_ARGUMENT,
                    call,
                    "unique longer than 64 bytes",
                );
                return ptr::null_mut();
            }
            Some(u) => request = request.unique(Bytes::copy_from_slice(u)),
            None => request = request.unique(c.core.inner_mut().new_unique()),
        }
        if let Some(reducer) = c_slice(reducer.cast(), reducer_length).filter(|r| !r.is_empty()) {
            request = request.reducer(Bytes::copy_from_slice(reducer));
        }
        if let Some(attr) = attr.as_ref() {
            request = request.priority(priority_of(attr.priority));
            match attr.kind {
                GEARMAN_TASK_ATTR_BACKGROUND => request = request.background(true),
                GEARMAN_TASK_ATTR_EPOCH => request = request.run_at(attr.epoch.max(0) as u64),
                _ => {}
            }
        }
        let task = c.add_task(ptr::null_mut(), TaskKind::Job(request), context);
        if task.is_null() {
            return ptr::null_mut();
        }
        // Run just this task: the others keep their state.
        let rc = c.start_task(task);
        if rc != GEARMAN_SUCCESS {
            free_task(task);
            return ptr::null_mut();
        }
        while get(task).is_some_and(|t| !t.is_finished()) {
            let event = match c.core.next_event() {
                Ok(Some(e)) => e,
                Ok(None) => break,
                Err(e) => {
                    c.error.from_error(call, &e);
                    free_task(task);
                    return ptr::null_mut();
                }
            };
            if let Some(&owner) = c.jobs.get(&event.job) {
                let saved = c.options;
                c.options &= !GEARMAN_CLIENT_FREE_TASKS;
                c.dispatch(owner, event.event);
                c.options = saved;
            }
        }
        match get(task) {
            Some(t)
                if t.ret == GEARMAN_SUCCESS
                    || t.ret == GEARMAN_WORK_FAIL
                    || t.ret == GEARMAN_WORK_EXCEPTION =>
            {
                task
            }
            _ => {
                free_task(task);
                ptr::null_mut()
            }
        }
    })
}
