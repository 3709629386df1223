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
pub use task::{Task, TaskKind, TaskRef, TaskState};
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

/// libgearman's `add_server`: the address resolved now, or GETADDRINFO recorded on `last`.
pub(crate) fn resolve_server(
    last: &mut LastError,
    call: &str,
    host: &str,
    port: u16,
) -> Result<crate::ServerAddr, i32> {
    crate::server_list::resolve(host, port)
        .map_err(|detail| last.set(crate::return_code::GETADDRINFO, call, &detail))
}

/// libgearman's `add_servers`: the addresses resolved before the first bad entry (libgearman
/// keeps those), and the outcome.
pub(crate) fn resolve_servers(
    last: &mut LastError,
    call: &str,
    list: &str,
) -> (Vec<crate::ServerAddr>, Result<(), i32>) {
    let entries = match crate::server_list::split_list(list) {
        Ok(entries) => entries,
        Err(detail) => {
            let code = last.set(crate::return_code::INVALID_ARGUMENT, call, &detail);
            return (Vec::new(), Err(code));
        }
    };
    let mut resolved = Vec::with_capacity(entries.len());
    for (host, port) in entries {
        match resolve_server(last, call, host, port) {
            Ok(addr) => resolved.push(addr),
            Err(code) => return (resolved, Err(code)),
        }
    }
    (resolved, Ok(()))
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

/// NO_SERVERS recorded on `last` when there are none.
pub(crate) fn check_servers(
    last: &mut LastError,
    call: &str,
    servers: &[crate::ServerAddr],
) -> Result<(), i32> {
    if servers.is_empty() {
        return Err(last.set(crate::return_code::NO_SERVERS, call, "no servers added"));
    }
    Ok(())
}

/// libgearman's limit on a unique: longer ones are refused, and 63 bytes are kept.
pub const UNIQUE_MAX: usize = 64;
