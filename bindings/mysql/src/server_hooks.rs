//! What the UDFs ask of the database server they run in, found at run time with `dlsym`:
//! MariaDB's `mariadbd` exports `_current_thd`, `thd_kill_level` and `my_printf_error`, but
//! UDFs get no service API for them, and other servers (MySQL) may lack them. Where missing,
//! a call is still bounded by its timeout, and errors are only the NULL result.

use std::ffi::{c_char, c_int, c_uint, c_ulong, c_void, CStr, CString};
use std::sync::OnceLock;

type CurrentThd = unsafe extern "C" fn() -> *mut c_void;
type ThdKillLevel = unsafe extern "C" fn(*const c_void) -> c_int;
type PrintfError = unsafe extern "C" fn(c_uint, *const c_char, c_ulong, ...);

/// `ER_UNKNOWN_ERROR`: the code MariaDB gives messages it has no code for.
const ER_UNKNOWN_ERROR: c_uint = 1105;
/// `ER_QUERY_INTERRUPTED` (`KILL QUERY`) and `ER_STATEMENT_TIMEOUT` (`max_statement_time`).
const ER_QUERY_INTERRUPTED: c_uint = 1317;
const ER_STATEMENT_TIMEOUT: c_uint = 1969;
/// `thd_kill_level`'s answer for a soft kill (`max_statement_time`, `KILL SOFT`).
const THD_ABORT_SOFTLY: c_int = 50;
/// `ME_WARNING` (my_sys.h): report as a warning of the statement, not an error.
const ME_WARNING: c_ulong = 2048;

struct Hooks {
    current_thd: Option<CurrentThd>,
    thd_kill_level: Option<ThdKillLevel>,
    printf_error: Option<PrintfError>,
}

fn symbol(name: &CStr) -> Option<*mut c_void> {
    // SAFETY: dlsym with RTLD_DEFAULT and a NUL-terminated name only looks the symbol up.
    let address = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
    (!address.is_null()).then_some(address)
}

fn hooks() -> &'static Hooks {
    static HOOKS: OnceLock<Hooks> = OnceLock::new();
    HOOKS.get_or_init(|| {
        // SAFETY: each symbol, when present, is the mariadbd function of that name, whose C
        // signature the type it is cast to spells out (sql/sql_class.cc, mysys/my_error.c).
        unsafe {
            Hooks {
                current_thd: symbol(c"_current_thd")
                    .map(|a| std::mem::transmute::<*mut c_void, CurrentThd>(a)),
                thd_kill_level: symbol(c"thd_kill_level")
                    .map(|a| std::mem::transmute::<*mut c_void, ThdKillLevel>(a)),
                printf_error: symbol(c"my_printf_error")
                    .map(|a| std::mem::transmute::<*mut c_void, PrintfError>(a)),
            }
        }
    })
}

/// How hard the statement running on this thread was killed: 0 not at all, 50 softly
/// (`max_statement_time`, which `thd_killed` would not report), 100 at once (`KILL QUERY`).
fn kill_level() -> c_int {
    let hooks = hooks();
    let (Some(current_thd), Some(kill_level)) = (hooks.current_thd, hooks.thd_kill_level) else {
        return 0;
    };
    // SAFETY: called on the thread of the statement running the UDF, where `_current_thd`
    // returns its THD; `thd_kill_level` must not get NULL, which is checked.
    unsafe {
        let thd = current_thd();
        if thd.is_null() {
            0
        } else {
            kill_level(thd)
        }
    }
}

/// Whether the statement running on this thread was killed.
pub fn statement_killed() -> bool {
    kill_level() != 0
}

/// Fails the statement with the server's own error for its kill: the UDF stopped waiting,
/// and the server would otherwise send the row's NULL as if nothing happened.
pub fn interrupted(name: &str) {
    let (code, text) = if kill_level() == THD_ABORT_SOFTLY {
        (
            ER_STATEMENT_TIMEOUT,
            "Query execution was interrupted (max_statement_time exceeded)",
        )
    } else {
        (ER_QUERY_INTERRUPTED, "Query execution was interrupted")
    };
    report(code, 0, &format!("{text} while {name} waited for its job"));
}

/// Adds `message` to the statement's warnings (`SHOW WARNINGS`); where the server offers no
/// way, it goes to the server's error log.
pub fn warn(message: &str) {
    report(ER_UNKNOWN_ERROR, ME_WARNING, message);
}

/// `my_printf_error(code, "%s", flags, message)`, or the error log where it is missing.
fn report(code: c_uint, flags: c_ulong, message: &str) {
    let text = CString::new(message.replace('\0', " ")).unwrap_or_default();
    match hooks().printf_error {
        // SAFETY: "%s" consumes exactly the one NUL-terminated string passed.
        Some(printf_error) => unsafe {
            printf_error(code, c"%s".as_ptr(), flags, text.as_ptr());
        },
        None => eprintln!("gearman udf: {message}"),
    }
}
