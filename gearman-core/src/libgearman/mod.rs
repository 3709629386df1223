//! libgearman 1.1's programming model, once, for every front end that offers libgearman's API:
//! the C ABI (gearman-ffi) and the PHP extension (bindings/php) wrap it and keep only their
//! language's conventions (pointers and callbacks in C, zvals and warnings in PHP).
//!
//! - [`client`]: tasks, `run_tasks` with callbacks and pausing, `do`/background/status/echo,
//!   libgearman's argument rules;
//! - [`worker`]: the function table, `work()` and how a callback's answer becomes packets;
//! - [`options`]: the option bits and how set/add/remove change them;
//! - [`last_error`]: the per-object error record (`error()`, `error_code()`, `errno()`);
//! - [`crate::return_code`]: the `gearman_return_t` table.
//!
//! Nothing here holds a borrow while user code runs: callbacks are called by the front end
//! between two short calls into the model, so a callback may call back into the library.

pub mod client;
pub mod last_error;
pub mod options;
pub mod task;
pub mod worker;

use std::ffi::CStr;

pub use client::{Callback, LibClient, TaskEvents};
pub use last_error::LastError;
pub use task::{c_string, Task, TaskKind, TaskRef, TaskState};
pub use worker::{LibJob, LibWorker, WorkReply};

/// What `gearman_version()` reports: the libgearman release whose API this is, and ours.
pub const VERSION: &CStr = c"1.1.20-gearman-rs";
/// What `gearman_bugreport()` reports.
pub const BUGREPORT: &CStr = c"https://github.com/gearman/gearmand/issues";

/// `gearman_verbose_name()`: the name of a verbosity level.
pub fn verbose_name(level: i64) -> &'static CStr {
    match level {
        0 => c"NEVER",
        1 => c"FATAL",
        2 => c"ERROR",
        3 => c"INFO",
        4 => c"DEBUG",
        5 => c"CRAZY",
        _ => c"UNKNOWN",
    }
}

/// The servers of a libgearman client or worker, added under libgearman's rules: names
/// resolved when added (GETADDRINFO on failure), `"h1:p1,h2"` lists whose entries before a bad
/// one stay added, and the `GEARMAN_SERVERS` default at create time.
pub trait ServerList {
    /// Adds a resolved server to the object and its connection.
    fn push_server(&mut self, addr: crate::ServerAddr);
    /// Whether any server was added (the connection's own list says).
    fn has_servers(&self) -> bool;
    /// The servers added so far, in order.
    fn server_addrs(&self) -> Vec<crate::ServerAddr>;
    /// Where failures are recorded.
    fn last_error(&mut self) -> &mut LastError;
    /// The call name `add_servers_from_env` reports under.
    const CREATE_CALL: &'static str;

    /// Adds one server (empty host: localhost; port 0: 4730), resolving it now.
    fn add_server(&mut self, call: &str, host: &str, port: u16) -> Result<(), i32> {
        let addr = crate::server_list::resolve(host, port).map_err(|detail| {
            self.last_error()
                .set(crate::return_code::GETADDRINFO, call, &detail)
        })?;
        self.push_server(addr);
        Ok(())
    }

    /// Adds `"h1:p1,h2"`; servers before a bad entry stay added, as in libgearman.
    fn add_servers(&mut self, call: &str, list: &str) -> Result<(), i32> {
        let entries = crate::server_list::split_list(list).map_err(|detail| {
            self.last_error()
                .set(crate::return_code::INVALID_ARGUMENT, call, &detail)
        })?;
        entries
            .into_iter()
            .try_for_each(|(host, port)| self.add_server(call, host, port))
    }

    /// Adds the servers `GEARMAN_SERVERS` names, if set (libgearman does at create time).
    fn add_servers_from_env(&mut self) {
        if let Some(list) = crate::server_list::from_env() {
            let _ = self.add_servers(Self::CREATE_CALL, &list);
        }
    }

    /// NO_SERVERS, recorded, when there are none.
    fn check_servers(&mut self, call: &str) -> Result<(), i32> {
        if !self.has_servers() {
            return Err(self.last_error().set(
                crate::return_code::NO_SERVERS,
                call,
                "no servers added",
            ));
        }
        Ok(())
    }
}

/// libgearman refuses to echo nothing.
pub(crate) fn check_echo_payload(last: &mut LastError, call: &str, data: &[u8]) -> Result<(), i32> {
    if data.is_empty() {
        return Err(last.set(
            crate::return_code::INVALID_ARGUMENT,
            call,
            "workload_size was 0",
        ));
    }
    Ok(())
}

/// libgearman's limit on a unique: longer ones are refused, and 63 bytes are kept.
pub const UNIQUE_MAX: usize = 64;
