//! `libgearman_mysql_udf.so`: the Gearman functions of the Gearman MySQL UDFs 0.x, for MariaDB
//! and MySQL, on gearman-core.
//!
//! ```sql
//! CREATE FUNCTION gman_servers_set RETURNS STRING SONAME 'libgearman_mysql_udf.so';
//! CREATE FUNCTION gman_do RETURNS STRING SONAME 'libgearman_mysql_udf.so';
//! SELECT gman_servers_set('127.0.0.1:4730');
//! SELECT gman_do('count_lines', body) FROM documents;
//! ```
//!
//! Where ours differs from the originals, it is to be safer: a failed job is that row's NULL
//! plus a warning with the reason (the originals set the UDF error flag, which MariaDB keeps,
//! so every later row of the statement was NULL too, and said nothing); every call is bounded
//! by `gman_timeout_set(seconds)` (30 s by default, 0 = no limit; the originals waited
//! forever); and a killed query (`KILL QUERY`, `max_statement_time`) stops waiting within
//! 100 ms. No panic reaches the server: each call catches its own.

mod server_hooks;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use gearman_sql::{servers_for, set_servers, CallError, Caller, Job, Limits, Priority};
use udf::prelude::*;

use server_hooks::{interrupted, statement_killed, warn};

/// Largest result a `gman_do*` declares (MariaDB then types it LONGBLOB).
const MAX_RESULT: u64 = 16 << 20;

/// Milliseconds every call may take (`gman_timeout_set`), shared by every connection of the
/// server, like the server lists; 0 = no limit.
static TIMEOUT_MS: AtomicU64 = AtomicU64::new(30_000);

fn timeout() -> Option<Duration> {
    let ms = TIMEOUT_MS.load(Ordering::Relaxed);
    (ms > 0).then(|| Duration::from_millis(ms))
}

fn limits(cancelled: &mut dyn FnMut() -> bool) -> Limits<'_> {
    Limits {
        timeout: timeout(),
        cancelled,
    }
}

/// Argument `index` as bytes (every argument is coerced to a string at init); `None` for NULL.
fn bytes_arg<'a>(args: &'a ArgList<'a, Process>, index: usize) -> Option<&'a [u8]> {
    match args.get(index)?.value() {
        SqlResult::String(bytes) => bytes,
        SqlResult::Decimal(text) => text.map(str::as_bytes),
        _ => None,
    }
}

/// The argument checks of `gman_do*` and `gman_sum`: `(function, workload [, unique])`.
fn init_job_args(name: &str, cfg: &UdfCfg<Init>, args: &ArgList<Init>) -> Result<(), String> {
    if !(2..=3).contains(&args.len()) {
        return Err(format!(
            "{name}: must give two or three arguments (function, workload [, unique])"
        ));
    }
    for mut arg in args.iter() {
        arg.set_type_coercion(SqlType::String);
    }
    cfg.set_maybe_null(true);
    cfg.set_max_len(MAX_RESULT);
    Ok(())
}

/// Runs `call`, turning a panic into an error (it must not unwind into the server).
fn guarded<T>(
    caller: &mut Caller,
    call: impl FnOnce(&mut Caller) -> Result<T, CallError>,
) -> Result<T, CallError> {
    catch_unwind(AssertUnwindSafe(|| call(caller))).unwrap_or_else(|_| {
        caller.reset();
        Err(CallError::Invalid(
            "internal error (see the server's error log)".into(),
        ))
    })
}

/// Reports why a call of SQL function `name` has no result: a killed statement fails with
/// the server's own error for it; anything else is a warning beside the row's NULL.
fn report(name: &str, error: &CallError) {
    match error {
        CallError::Cancelled => interrupted(name),
        e => warn(&format!("{name}: {e}")),
    }
}

/// A `gman_do*` statement's state: its connections and the last row's result.
#[derive(Default)]
pub struct DoState {
    caller: Caller,
    result: Vec<u8>,
}

impl DoState {
    fn call(
        &mut self,
        name: &str,
        args: &ArgList<Process>,
        priority: Priority,
        background: bool,
    ) -> Option<&[u8]> {
        let Some(function) = bytes_arg(args, 0) else {
            warn(&format!("{name}: the function name is NULL"));
            return None;
        };
        let Some(servers) = servers_for(function, None) else {
            warn(&format!("{name}: {}", CallError::NoServers));
            return None;
        };
        let job = Job {
            function,
            workload: bytes_arg(args, 1).unwrap_or_default(),
            unique: bytes_arg(args, 2),
            priority,
        };
        let mut killed = statement_killed;
        let outcome = guarded(&mut self.caller, |caller| {
            if background {
                caller
                    .background(&servers, &job, limits(&mut killed))
                    .map(Some)
            } else {
                caller.run(&servers, &job, limits(&mut killed))
            }
        });
        match outcome {
            Ok(Some(bytes)) => {
                self.result.clear();
                self.result.extend_from_slice(&bytes);
                Some(&self.result)
            }
            // An empty result is NULL, as in the originals.
            Ok(None) => None,
            Err(e) => {
                report(name, &e);
                None
            }
        }
    }
}

/// One `gman_do*` function: its SQL name, the job's priority, and whether it runs in the
/// background (the result is then the job handle).
macro_rules! gman_do {
    ($(#[$doc:meta])* $ty:ident, $name:tt, $priority:expr, $background:expr) => {
        $(#[$doc])*
        #[derive(Default)]
        pub struct $ty(DoState);

        #[register(name = $name)]
        impl BasicUdf for $ty {
            type Returns<'a> = Option<&'a [u8]>;

            fn init(cfg: &UdfCfg<Init>, args: &ArgList<Init>) -> Result<Self, String> {
                init_job_args($name, cfg, args)?;
                Ok(Self::default())
            }

            fn process<'a>(
                &'a mut self,
                _cfg: &UdfCfg<Process>,
                args: &ArgList<Process>,
                _error: Option<NonZeroU8>,
            ) -> Result<Self::Returns<'a>, ProcessError> {
                Ok(self.0.call($name, args, $priority, $background))
            }
        }
    };
}

gman_do!(
    /// `gman_do(function, workload [, unique])`: the job's result.
    GmanDo, "gman_do", Priority::Normal, false
);
gman_do!(
    /// `gman_do_high(function, workload [, unique])`: the job's result.
    GmanDoHigh, "gman_do_high", Priority::High, false
);
gman_do!(
    /// `gman_do_low(function, workload [, unique])`: the job's result.
    GmanDoLow, "gman_do_low", Priority::Low, false
);
gman_do!(
    /// `gman_do_background(function, workload [, unique])`: the job handle.
    GmanDoBackground, "gman_do_background", Priority::Normal, true
);
gman_do!(
    /// `gman_do_high_background(function, workload [, unique])`: the job handle.
    GmanDoHighBackground, "gman_do_high_background", Priority::High, true
);
gman_do!(
    /// `gman_do_low_background(function, workload [, unique])`: the job handle.
    GmanDoLowBackground, "gman_do_low_background", Priority::Low, true
);

/// `gman_servers_set(servers [, function])`: the servers of `function`, or of every function
/// without its own; returns the list. A bad list is NULL and a warning (the originals returned
/// the error text as if it were the list).
#[derive(Default)]
pub struct GmanServersSet {
    list: Vec<u8>,
}

#[register(name = "gman_servers_set")]
impl BasicUdf for GmanServersSet {
    type Returns<'a> = Option<&'a [u8]>;

    fn init(cfg: &UdfCfg<Init>, args: &ArgList<Init>) -> Result<Self, String> {
        if !(1..=2).contains(&args.len()) {
            return Err(
                "gman_servers_set: must give one or two arguments (servers [, function])".into(),
            );
        }
        for mut arg in args.iter() {
            arg.set_type_coercion(SqlType::String);
        }
        cfg.set_maybe_null(true);
        Ok(Self::default())
    }

    fn process<'a>(
        &'a mut self,
        _cfg: &UdfCfg<Process>,
        args: &ArgList<Process>,
        _error: Option<NonZeroU8>,
    ) -> Result<Self::Returns<'a>, ProcessError> {
        let Some(list) = bytes_arg(args, 0) else {
            warn("gman_servers_set: the server list is NULL");
            return Ok(None);
        };
        let function = bytes_arg(args, 1);
        if args.len() == 2 && function.is_none() {
            warn("gman_servers_set: the function name is NULL");
            return Ok(None);
        }
        let list = String::from_utf8_lossy(list).into_owned();
        match set_servers(&list, function) {
            Ok(()) => {
                self.list = list.into_bytes();
                Ok(Some(&self.list))
            }
            Err(e) => {
                warn(&format!("gman_servers_set: {e}"));
                Ok(None)
            }
        }
    }
}

/// `gman_timeout_set(seconds)`: how long every later call may take, for every connection
/// (0 = no limit; 30 by default); returns the seconds now in effect.
#[derive(Default)]
pub struct GmanTimeoutSet;

#[register(name = "gman_timeout_set")]
impl BasicUdf for GmanTimeoutSet {
    type Returns<'a> = Option<f64>;

    fn init(cfg: &UdfCfg<Init>, args: &ArgList<Init>) -> Result<Self, String> {
        if args.len() != 1 {
            return Err("gman_timeout_set: must give one argument (seconds)".into());
        }
        args.get(0)
            .expect("checked")
            .set_type_coercion(SqlType::Real);
        cfg.set_maybe_null(true);
        Ok(GmanTimeoutSet)
    }

    fn process<'a>(
        &'a mut self,
        _cfg: &UdfCfg<Process>,
        args: &ArgList<Process>,
        _error: Option<NonZeroU8>,
    ) -> Result<Self::Returns<'a>, ProcessError> {
        let seconds = match args.get(0).map(|a| a.value()) {
            Some(SqlResult::Real(Some(s))) => s,
            Some(SqlResult::Int(Some(s))) => s as f64,
            _ => {
                warn("gman_timeout_set: the timeout is NULL");
                return Ok(None);
            }
        };
        if !seconds.is_finite() || seconds < 0.0 {
            warn("gman_timeout_set: the timeout must be 0 (no limit) or a positive number of seconds");
            return Ok(None);
        }
        let ms = (seconds * 1000.0).round().min(u64::MAX as f64) as u64;
        TIMEOUT_MS.store(ms, Ordering::Relaxed);
        Ok(Some(ms as f64 / 1000.0))
    }
}

/// One server list's jobs of a `gman_sum` group, with their functions (for messages).
struct SumJobs {
    servers: String,
    caller: Caller,
    ids: Vec<gearman_sql::JobId>,
    functions: Vec<Vec<u8>>,
}

/// `gman_sum(function, workload [, unique])`, aggregate: submits each row's job as the rows
/// come (they run side by side), then adds up their results read as integers (as C's `atoi`
/// reads them). Any failed job makes the group NULL, with a warning.
#[derive(Default)]
pub struct GmanSum {
    jobs: Vec<SumJobs>,
    failure: Option<CallError>,
}

impl GmanSum {
    fn add_row(&mut self, args: &ArgList<Process>) -> Result<(), CallError> {
        let function = bytes_arg(args, 0)
            .ok_or_else(|| CallError::Invalid("the function name is NULL".into()))?;
        let servers = servers_for(function, None).ok_or(CallError::NoServers)?;
        let job = Job {
            function,
            workload: bytes_arg(args, 1).unwrap_or_default(),
            unique: bytes_arg(args, 2),
            priority: Priority::Normal,
        };
        let index = match self.jobs.iter().position(|j| j.servers == servers) {
            Some(index) => index,
            None => {
                self.jobs.push(SumJobs {
                    servers: servers.clone(),
                    caller: Caller::new(),
                    ids: Vec::new(),
                    functions: Vec::new(),
                });
                self.jobs.len() - 1
            }
        };
        let group = &mut self.jobs[index];
        let mut killed = statement_killed;
        let id = guarded(&mut group.caller, |caller| {
            caller.submit(&servers, &job, limits(&mut killed))
        })?;
        group.ids.push(id);
        group.functions.push(function.to_vec());
        Ok(())
    }

    fn total(&mut self) -> Result<i64, CallError> {
        let mut sum: i64 = 0;
        for group in &mut self.jobs {
            let mut killed = statement_killed;
            let (servers, ids) = (&group.servers, &group.ids);
            let results = guarded(&mut group.caller, |caller| {
                caller.results(servers, ids, limits(&mut killed))
            })?;
            for (result, function) in results.into_iter().zip(&group.functions) {
                let result = result.map_err(|e| e.of(function))?;
                sum = sum.wrapping_add(atoi(result.as_deref().unwrap_or_default()));
            }
        }
        Ok(sum)
    }
}

#[register(name = "gman_sum")]
impl BasicUdf for GmanSum {
    type Returns<'a> = Option<i64>;

    fn init(cfg: &UdfCfg<Init>, args: &ArgList<Init>) -> Result<Self, String> {
        init_job_args("gman_sum", cfg, args)?;
        cfg.set_max_len(21);
        Ok(Self::default())
    }

    fn process<'a>(
        &'a mut self,
        _cfg: &UdfCfg<Process>,
        _args: &ArgList<Process>,
        _error: Option<NonZeroU8>,
    ) -> Result<Self::Returns<'a>, ProcessError> {
        let total = match self.failure.take() {
            Some(failure) => Err(failure),
            None => self.total(),
        };
        match total {
            Ok(sum) => Ok(Some(sum)),
            Err(e) => {
                report("gman_sum", &e);
                Ok(None)
            }
        }
    }
}

#[register(name = "gman_sum")]
impl AggregateUdf for GmanSum {
    fn clear(
        &mut self,
        _cfg: &UdfCfg<Process>,
        _error: Option<NonZeroU8>,
    ) -> Result<(), NonZeroU8> {
        self.jobs.clear();
        self.failure = None;
        Ok(())
    }

    fn add(
        &mut self,
        _cfg: &UdfCfg<Process>,
        args: &ArgList<Process>,
        _error: Option<NonZeroU8>,
    ) -> Result<(), NonZeroU8> {
        if self.failure.is_none() {
            if let Err(e) = self.add_row(args) {
                self.failure = Some(e);
            }
        }
        Ok(())
    }
}

/// C's `atoi`: leading white space, an optional sign, digits; anything else ends it (0 if no
/// digit), and an overflow wraps instead of being undefined.
pub fn atoi(text: &[u8]) -> i64 {
    let text = text.trim_ascii_start();
    let (negative, digits) = match text.first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let value = digits
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .fold(0i64, |n, &c| {
            n.wrapping_mul(10).wrapping_add(i64::from(c - b'0'))
        });
    if negative {
        value.wrapping_neg()
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::atoi;

    #[test]
    fn atoi_reads_as_c_does() {
        assert_eq!(atoi(b"42"), 42);
        assert_eq!(atoi(b"  -17 apples"), -17);
        assert_eq!(atoi(b"+5"), 5);
        assert_eq!(atoi(b"apples"), 0);
        assert_eq!(atoi(b""), 0);
        assert_eq!(atoi(b"12\n"), 12);
    }
}
