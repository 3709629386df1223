//! gearman-server: a Gearman job server compatible with gearmand 1.1.
//!
//! - [`engine`]: jobs, queues, registrations and sleeping workers under one owner; it takes
//!   typed requests (`gearman_core::message`) and writes to each connection through the
//!   [`output::Sink`] trait, so its unit tests run without sockets;
//! - [`server`]: listeners and connections (`run` takes its listeners and stop signal, so tests
//!   bind `127.0.0.1:0` and talk raw bytes); `server::lock` returns a guard that flushes output
//!   when released, and `server::ConnectionGuard` disconnects a connection on every exit path;
//! - [`output`]: each connection's bounded, ordered output queue (and back-pressure);
//! - [`frame_budget`]: the memory all connections may hold in large frames still arriving;
//! - [`memory`]: giving freed memory back to the system after large frees;
//! - [`store`]: durable background jobs in gearmand's SQLite table, with group commit;
//! - [`options`]: gearmand's command line.

pub mod engine;
pub mod frame_budget;
pub mod http;
pub mod memory;
pub mod options;
pub mod output;
pub mod server;
pub mod status;
pub mod store;
pub mod tls;
pub mod transport;

/// What `version` answers and `-V` prints: the gearmand release we are compatible with, and ours.
pub const VERSION_STRING: &str = concat!("1.1.20-gearman-rs-", env!("CARGO_PKG_VERSION"));

/// The host name, for default job handles `H:<host>:<n>`.
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into buf.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "localhost".to_string();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}
