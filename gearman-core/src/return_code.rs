//! libgearman's `gearman_return_t`: the numbers and names every front end (C, PHP) reports, and
//! the code for each core error.

use crate::error::Error;
use crate::protocol::ProtocolError;

macro_rules! return_codes {
    ($($name:ident = $value:literal;)*) => {
        $(
            #[doc = concat!("`GEARMAN_", stringify!($name), "`")]
            pub const $name: i32 = $value;
        )*

        /// Names of the return codes, by value: the one table the C header, the PHP constants
        /// and every error text are checked against or built from.
        pub const NAMES: [&str; 54] = [$(concat!("GEARMAN_", stringify!($name)),)*];
    };
}

return_codes! {
    SUCCESS = 0;
    IO_WAIT = 1;
    SHUTDOWN = 2;
    SHUTDOWN_GRACEFUL = 3;
    ERRNO = 4;
    EVENT = 5;
    TOO_MANY_ARGS = 6;
    NO_ACTIVE_FDS = 7;
    INVALID_MAGIC = 8;
    INVALID_COMMAND = 9;
    INVALID_PACKET = 10;
    UNEXPECTED_PACKET = 11;
    GETADDRINFO = 12;
    NO_SERVERS = 13;
    LOST_CONNECTION = 14;
    MEMORY_ALLOCATION_FAILURE = 15;
    JOB_EXISTS = 16;
    JOB_QUEUE_FULL = 17;
    SERVER_ERROR = 18;
    WORK_ERROR = 19;
    WORK_DATA = 20;
    WORK_WARNING = 21;
    WORK_STATUS = 22;
    WORK_EXCEPTION = 23;
    WORK_FAIL = 24;
    NOT_CONNECTED = 25;
    COULD_NOT_CONNECT = 26;
    SEND_IN_PROGRESS = 27;
    RECV_IN_PROGRESS = 28;
    NOT_FLUSHING = 29;
    DATA_TOO_LARGE = 30;
    INVALID_FUNCTION_NAME = 31;
    INVALID_WORKER_FUNCTION = 32;
    NO_REGISTERED_FUNCTION = 33;
    NO_REGISTERED_FUNCTIONS = 34;
    NO_JOBS = 35;
    ECHO_DATA_CORRUPTION = 36;
    NEED_WORKLOAD_FN = 37;
    PAUSE = 38;
    UNKNOWN_STATE = 39;
    PTHREAD = 40;
    PIPE_EOF = 41;
    QUEUE_ERROR = 42;
    FLUSH_DATA = 43;
    SEND_BUFFER_TOO_SMALL = 44;
    IGNORE_PACKET = 45;
    UNKNOWN_OPTION = 46;
    TIMEOUT = 47;
    ARGUMENT_TOO_LARGE = 48;
    INVALID_ARGUMENT = 49;
    IN_PROGRESS = 50;
    INVALID_SERVER_OPTION = 51;
    JOB_NOT_FOUND = 52;
    MAX_RETURN = 53;
}

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
