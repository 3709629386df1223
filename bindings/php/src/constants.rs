//! pecl gearman's 157 constants with their values (php-api.md §10), generated once from that
//! table; the return codes and option bits come from gearman-core's libgearman model, the one
//! source the C header is checked against too. A test counts them from PHP.

use gearman_core::libgearman::options;
use gearman_core::return_code;

/// `GEARMAN_DEFAULT_TCP_HOST`, the only string constant.
pub const DEFAULT_TCP_HOST: (&str, &str) = ("GEARMAN_DEFAULT_TCP_HOST", "localhost");

/// The integer constants pecl declares before the return codes.
pub const INTEGERS_BEFORE: &[(&str, i64)] = &[
    ("GEARMAN_DEFAULT_TCP_PORT", 4730),
    ("GEARMAN_DEFAULT_SOCKET_TIMEOUT", 10),
    ("GEARMAN_DEFAULT_SOCKET_SEND_SIZE", 32768),
    ("GEARMAN_DEFAULT_SOCKET_RECV_SIZE", 32768),
    ("GEARMAN_MAX_ERROR_SIZE", 2048),
    ("GEARMAN_PACKET_HEADER_SIZE", 12),
    ("GEARMAN_JOB_HANDLE_SIZE", 64),
    ("GEARMAN_OPTION_SIZE", 64),
    ("GEARMAN_UNIQUE_SIZE", 64),
    ("GEARMAN_MAX_COMMAND_ARGS", 8),
    ("GEARMAN_ARGS_BUFFER_SIZE", 128),
    ("GEARMAN_SEND_BUFFER_SIZE", 8192),
    ("GEARMAN_RECV_BUFFER_SIZE", 8192),
    ("GEARMAN_WORKER_WAIT_TIMEOUT", 10000),
];

/// Return codes pecl 2.1.5 does not declare (newer than its constant table).
const RETURN_CODES_NOT_IN_PECL: &[i32] = &[
    return_code::NO_REGISTERED_FUNCTION,
    return_code::ARGUMENT_TOO_LARGE,
    return_code::INVALID_ARGUMENT,
    return_code::IN_PROGRESS,
    return_code::INVALID_SERVER_OPTION,
    return_code::JOB_NOT_FOUND,
];

/// pecl's `GEARMAN_<RETURN_CODE>` constants, from gearman-core's one table of return codes.
pub fn return_codes() -> impl Iterator<Item = (&'static str, i64)> {
    return_code::NAMES
        .iter()
        .enumerate()
        .filter(|(code, _)| !RETURN_CODES_NOT_IN_PECL.contains(&(*code as i32)))
        .map(|(code, name)| (*name, code as i64))
}

/// The integer constants pecl declares after the return codes.
pub const INTEGERS_AFTER: &[(&str, i64)] = &[
    ("GEARMAN_VERBOSE_FATAL", 1),
    ("GEARMAN_VERBOSE_ERROR", 2),
    ("GEARMAN_VERBOSE_INFO", 3),
    ("GEARMAN_VERBOSE_DEBUG", 4),
    ("GEARMAN_VERBOSE_CRAZY", 5),
    ("GEARMAN_VERBOSE_MAX", 6),
    ("GEARMAN_NON_BLOCKING", 0),
    ("GEARMAN_DONT_TRACK_PACKETS", 1),
    ("GEARMAN_CON_READY", 0),
    ("GEARMAN_CON_PACKET_IN_USE", 1),
    ("GEARMAN_CON_EXTERNAL_FD", 2),
    ("GEARMAN_CON_IGNORE_LOST_CONNECTION", 3),
    ("GEARMAN_CON_CLOSE_AFTER_FLUSH", 4),
    ("GEARMAN_CON_SEND_STATE_NONE", 0),
    ("GEARMAN_CON_RECV_STATE_READ_DATA", 2),
    ("GEARMAN_COMMAND_TEXT", 0),
    ("GEARMAN_COMMAND_CAN_DO", 1),
    ("GEARMAN_COMMAND_CANT_DO", 2),
    ("GEARMAN_COMMAND_RESET_ABILITIES", 3),
    ("GEARMAN_COMMAND_PRE_SLEEP", 4),
    ("GEARMAN_COMMAND_UNUSED", 5),
    ("GEARMAN_COMMAND_NOOP", 6),
    ("GEARMAN_COMMAND_SUBMIT_JOB", 7),
    ("GEARMAN_COMMAND_JOB_CREATED", 8),
    ("GEARMAN_COMMAND_GRAB_JOB", 9),
    ("GEARMAN_COMMAND_NO_JOB", 10),
    ("GEARMAN_COMMAND_JOB_ASSIGN", 11),
    ("GEARMAN_COMMAND_WORK_STATUS", 12),
    ("GEARMAN_COMMAND_WORK_COMPLETE", 13),
    ("GEARMAN_COMMAND_WORK_FAIL", 14),
    ("GEARMAN_COMMAND_GET_STATUS", 15),
    ("GEARMAN_COMMAND_ECHO_REQ", 16),
    ("GEARMAN_COMMAND_ECHO_RES", 17),
    ("GEARMAN_COMMAND_SUBMIT_JOB_BG", 18),
    ("GEARMAN_COMMAND_ERROR", 19),
    ("GEARMAN_COMMAND_STATUS_RES", 20),
    ("GEARMAN_COMMAND_SUBMIT_JOB_HIGH", 21),
    ("GEARMAN_COMMAND_SET_CLIENT_ID", 22),
    ("GEARMAN_COMMAND_CAN_DO_TIMEOUT", 23),
    ("GEARMAN_COMMAND_ALL_YOURS", 24),
    ("GEARMAN_COMMAND_WORK_EXCEPTION", 25),
    ("GEARMAN_COMMAND_OPTION_REQ", 26),
    ("GEARMAN_COMMAND_OPTION_RES", 27),
    ("GEARMAN_COMMAND_WORK_DATA", 28),
    ("GEARMAN_COMMAND_WORK_WARNING", 29),
    ("GEARMAN_COMMAND_GRAB_JOB_UNIQ", 30),
    ("GEARMAN_COMMAND_JOB_ASSIGN_UNIQ", 31),
    ("GEARMAN_COMMAND_SUBMIT_JOB_HIGH_BG", 32),
    ("GEARMAN_COMMAND_SUBMIT_JOB_LOW", 33),
    ("GEARMAN_COMMAND_SUBMIT_JOB_LOW_BG", 34),
    ("GEARMAN_COMMAND_SUBMIT_JOB_SCHED", 35),
    ("GEARMAN_COMMAND_SUBMIT_JOB_EPOCH", 36),
    ("GEARMAN_COMMAND_MAX", 43),
    ("GEARMAN_TASK_STATE_NEW", 0),
    ("GEARMAN_TASK_STATE_SUBMIT", 1),
    ("GEARMAN_TASK_STATE_WORKLOAD", 2),
    ("GEARMAN_TASK_STATE_WORK", 3),
    ("GEARMAN_TASK_STATE_CREATED", 4),
    ("GEARMAN_TASK_STATE_DATA", 5),
    ("GEARMAN_TASK_STATE_WARNING", 6),
    ("GEARMAN_TASK_STATE_STATUS", 7),
    ("GEARMAN_TASK_STATE_COMPLETE", 8),
    ("GEARMAN_TASK_STATE_EXCEPTION", 9),
    ("GEARMAN_TASK_STATE_FAIL", 10),
    ("GEARMAN_TASK_STATE_FINISHED", 11),
    ("GEARMAN_JOB_PRIORITY_HIGH", 0),
    ("GEARMAN_JOB_PRIORITY_NORMAL", 1),
    ("GEARMAN_JOB_PRIORITY_LOW", 2),
    ("GEARMAN_JOB_PRIORITY_MAX", 3),
    ("GEARMAN_CLIENT_ALLOCATED", options::CLIENT_ALLOCATED as i64),
    (
        "GEARMAN_CLIENT_NON_BLOCKING",
        options::CLIENT_NON_BLOCKING as i64,
    ),
    (
        "GEARMAN_CLIENT_TASK_IN_USE",
        options::CLIENT_TASK_IN_USE as i64,
    ),
    (
        "GEARMAN_CLIENT_UNBUFFERED_RESULT",
        options::CLIENT_UNBUFFERED_RESULT as i64,
    ),
    ("GEARMAN_CLIENT_NO_NEW", options::CLIENT_NO_NEW as i64),
    (
        "GEARMAN_CLIENT_FREE_TASKS",
        options::CLIENT_FREE_TASKS as i64,
    ),
    // Not in pecl: libgearman's TLS option, with the files from php.ini (see tls.rs).
    ("GEARMAN_CLIENT_SSL", options::CLIENT_SSL as i64),
    ("GEARMAN_CLIENT_STATE_IDLE", 0),
    ("GEARMAN_CLIENT_STATE_NEW", 1),
    ("GEARMAN_CLIENT_STATE_SUBMIT", 2),
    ("GEARMAN_CLIENT_STATE_PACKET", 3),
    ("GEARMAN_WORKER_ALLOCATED", options::WORKER_ALLOCATED as i64),
    (
        "GEARMAN_WORKER_NON_BLOCKING",
        options::WORKER_NON_BLOCKING as i64,
    ),
    (
        "GEARMAN_WORKER_PACKET_INIT",
        options::WORKER_PACKET_INIT as i64,
    ),
    ("GEARMAN_WORKER_GRAB_JOB_IN_USE", 8),
    ("GEARMAN_WORKER_PRE_SLEEP_IN_USE", 16),
    ("GEARMAN_WORKER_WORK_JOB_IN_USE", 32),
    ("GEARMAN_WORKER_CHANGE", options::WORKER_CHANGE as i64),
    ("GEARMAN_WORKER_GRAB_UNIQ", options::WORKER_GRAB_UNIQ as i64),
    (
        "GEARMAN_WORKER_TIMEOUT_RETURN",
        options::WORKER_TIMEOUT_RETURN as i64,
    ),
    // Not in pecl: libgearman's TLS option, with the files from php.ini (see tls.rs).
    ("GEARMAN_WORKER_SSL", options::WORKER_SSL as i64),
    ("GEARMAN_WORKER_STATE_START", 0),
    ("GEARMAN_WORKER_STATE_FUNCTION_SEND", 1),
    ("GEARMAN_WORKER_STATE_CONNECT", 2),
    ("GEARMAN_WORKER_STATE_GRAB_JOB_SEND", 3),
    ("GEARMAN_WORKER_STATE_GRAB_JOB_RECV", 4),
    ("GEARMAN_WORKER_STATE_PRE_SLEEP", 5),
];
