//! libgearman's `gearman_return_t`: the numbers and names every front end (C, PHP) reports, and
//! the code for each core error.

use crate::error::Error;
use crate::protocol::ProtocolError;

pub const SUCCESS: i32 = 0;
pub const IO_WAIT: i32 = 1;
pub const INVALID_MAGIC: i32 = 8;
pub const INVALID_COMMAND: i32 = 9;
pub const INVALID_PACKET: i32 = 10;
pub const UNEXPECTED_PACKET: i32 = 11;
pub const GETADDRINFO: i32 = 12;
pub const NO_SERVERS: i32 = 13;
pub const LOST_CONNECTION: i32 = 14;
pub const SERVER_ERROR: i32 = 18;
pub const WORK_DATA: i32 = 20;
pub const WORK_WARNING: i32 = 21;
pub const WORK_STATUS: i32 = 22;
pub const WORK_EXCEPTION: i32 = 23;
pub const WORK_FAIL: i32 = 24;
pub const COULD_NOT_CONNECT: i32 = 26;
pub const INVALID_FUNCTION_NAME: i32 = 31;
pub const NO_REGISTERED_FUNCTION: i32 = 33;
pub const NO_REGISTERED_FUNCTIONS: i32 = 34;
pub const NO_JOBS: i32 = 35;
pub const ECHO_DATA_CORRUPTION: i32 = 36;
pub const PAUSE: i32 = 38;
pub const UNKNOWN_STATE: i32 = 39;
pub const TIMEOUT: i32 = 47;
pub const INVALID_ARGUMENT: i32 = 49;
pub const IN_PROGRESS: i32 = 50;
pub const JOB_NOT_FOUND: i32 = 52;
pub const MAX_RETURN: i32 = 53;

/// Names of the return codes, by value.
pub const NAMES: [&str; 54] = [
    "GEARMAN_SUCCESS",
    "GEARMAN_IO_WAIT",
    "GEARMAN_SHUTDOWN",
    "GEARMAN_SHUTDOWN_GRACEFUL",
    "GEARMAN_ERRNO",
    "GEARMAN_EVENT",
    "GEARMAN_TOO_MANY_ARGS",
    "GEARMAN_NO_ACTIVE_FDS",
    "GEARMAN_INVALID_MAGIC",
    "GEARMAN_INVALID_COMMAND",
    "GEARMAN_INVALID_PACKET",
    "GEARMAN_UNEXPECTED_PACKET",
    "GEARMAN_GETADDRINFO",
    "GEARMAN_NO_SERVERS",
    "GEARMAN_LOST_CONNECTION",
    "GEARMAN_MEMORY_ALLOCATION_FAILURE",
    "GEARMAN_JOB_EXISTS",
    "GEARMAN_JOB_QUEUE_FULL",
    "GEARMAN_SERVER_ERROR",
    "GEARMAN_WORK_ERROR",
    "GEARMAN_WORK_DATA",
    "GEARMAN_WORK_WARNING",
    "GEARMAN_WORK_STATUS",
    "GEARMAN_WORK_EXCEPTION",
    "GEARMAN_WORK_FAIL",
    "GEARMAN_NOT_CONNECTED",
    "GEARMAN_COULD_NOT_CONNECT",
    "GEARMAN_SEND_IN_PROGRESS",
    "GEARMAN_RECV_IN_PROGRESS",
    "GEARMAN_NOT_FLUSHING",
    "GEARMAN_DATA_TOO_LARGE",
    "GEARMAN_INVALID_FUNCTION_NAME",
    "GEARMAN_INVALID_WORKER_FUNCTION",
    "GEARMAN_NO_REGISTERED_FUNCTION",
    "GEARMAN_NO_REGISTERED_FUNCTIONS",
    "GEARMAN_NO_JOBS",
    "GEARMAN_ECHO_DATA_CORRUPTION",
    "GEARMAN_NEED_WORKLOAD_FN",
    "GEARMAN_PAUSE",
    "GEARMAN_UNKNOWN_STATE",
    "GEARMAN_PTHREAD",
    "GEARMAN_PIPE_EOF",
    "GEARMAN_QUEUE_ERROR",
    "GEARMAN_FLUSH_DATA",
    "GEARMAN_SEND_BUFFER_TOO_SMALL",
    "GEARMAN_IGNORE_PACKET",
    "GEARMAN_UNKNOWN_OPTION",
    "GEARMAN_TIMEOUT",
    "GEARMAN_ARGUMENT_TOO_LARGE",
    "GEARMAN_INVALID_ARGUMENT",
    "GEARMAN_IN_PROGRESS",
    "GEARMAN_INVALID_SERVER_OPTION",
    "GEARMAN_JOB_NOT_FOUND",
    "GEARMAN_MAX_RETURN",
];

/// The name of a return code, e.g. `"GEARMAN_SUCCESS"`; `GEARMAN_MAX_RETURN` when out of range.
pub fn name(rc: i32) -> &'static str {
    usize::try_from(rc)
        .ok()
        .and_then(|i| NAMES.get(i))
        .copied()
        .unwrap_or("GEARMAN_MAX_RETURN")
}

/// The code of a server ERROR packet's code string; unknown strings are SERVER_ERROR.
pub fn of_server_error(code: &str) -> i32 {
    NAMES
        .iter()
        .position(|n| n.strip_prefix("GEARMAN_") == Some(code))
        .map_or(SERVER_ERROR, |i| i as i32)
}

/// The return code libgearman reports for a core error.
pub fn of_error(error: &Error) -> i32 {
    match error {
        Error::Connect { .. } | Error::NoServerAvailable(_) => COULD_NOT_CONNECT,
        Error::Io { .. } => LOST_CONNECTION,
        Error::Protocol { source, .. } => match source {
            ProtocolError::BadMagic(_) | ProtocolError::WrongMagic { .. } => INVALID_MAGIC,
            ProtocolError::UnknownType(_) => INVALID_COMMAND,
            _ => INVALID_PACKET,
        },
        Error::UnexpectedPacket { .. } => UNEXPECTED_PACKET,
        Error::Server { code, .. } => of_server_error(code),
        Error::Admin { .. } => SERVER_ERROR,
        Error::Timeout(_) => TIMEOUT,
        Error::NoServers => NO_SERVERS,
        Error::InvalidArgument(_) => INVALID_ARGUMENT,
        Error::UnknownJob => JOB_NOT_FOUND,
    }
}

/// libgearman's error text: `call(GEARMAN_<NAME>) detail`.
pub fn describe(call: &str, code: i32, detail: &str) -> String {
    format!("{call}({}) {detail}", name(code))
}

/// The `errno` libgearman reports beside a connection error; 0 for other errors.
pub fn errno_of(error: &Error) -> i32 {
    use std::io::ErrorKind as K;
    match error {
        Error::Connect { kind, .. } | Error::Io { kind, .. } => match kind {
            K::ConnectionRefused => libc::ECONNREFUSED,
            K::ConnectionReset => libc::ECONNRESET,
            K::TimedOut => libc::ETIMEDOUT,
            K::NotConnected => libc::ENOTCONN,
            K::ConnectionAborted => libc::ECONNABORTED,
            _ => 0,
        },
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_numbers() {
        assert_eq!(name(SUCCESS), "GEARMAN_SUCCESS");
        assert_eq!(name(COULD_NOT_CONNECT), "GEARMAN_COULD_NOT_CONNECT");
        assert_eq!(name(TIMEOUT), "GEARMAN_TIMEOUT");
        assert_eq!(name(JOB_NOT_FOUND), "GEARMAN_JOB_NOT_FOUND");
        assert_eq!(name(-1), "GEARMAN_MAX_RETURN");
        assert_eq!(of_server_error("JOB_QUEUE_FULL"), 17);
        assert_eq!(of_server_error("nonsense"), SERVER_ERROR);
    }
}
