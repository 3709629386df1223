//! The error record every libgearman object keeps: a return code, libgearman's text for it and
//! the `errno` of a failed socket call.

use std::ffi::{CStr, CString};

use crate::error::Error;
use crate::return_code;

/// Where error texts go as they are recorded: libgearman's log callback (text, level).
pub type Logger = Box<dyn FnMut(&CStr, i32)>;

/// libgearman's verbosity levels that errors are logged at.
pub const VERBOSE_FATAL: i32 = 1;
pub const VERBOSE_ERROR: i32 = 2;

#[derive(Default)]
pub struct LastError {
    code: i32,
    text: Option<CString>,
    errno: i32,
    logger: Option<(Logger, i32)>,
}

impl std::fmt::Debug for LastError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LastError")
            .field("code", &self.code)
            .field("text", &self.text)
            .field("errno", &self.errno)
            .finish()
    }
}

impl LastError {
    pub fn code(&self) -> i32 {
        self.code
    }

    pub fn errno(&self) -> i32 {
        self.errno
    }

    /// The text of the last failure; kept across later successes, as libgearman keeps it.
    pub fn text(&self) -> Option<&CStr> {
        self.text.as_deref()
    }

    /// A call succeeded: the code is SUCCESS again (the text stays).
    pub fn succeed(&mut self) {
        self.code = return_code::SUCCESS;
        self.errno = 0;
    }

    /// Records a code without a new text (codes that report an outcome, not a failure).
    pub fn set_code(&mut self, code: i32) {
        self.code = code;
        self.errno = 0;
    }

    /// Sends every error recorded from now on to `logger` when `verbose` reaches its level
    /// (ERROR; FATAL for an allocation failure), as libgearman's `set_log_fn` does.
    pub fn set_logger(&mut self, logger: Option<Logger>, verbose: i32) {
        self.logger = logger.map(|l| (l, verbose));
    }

    /// Records `code` with libgearman's text, `call(GEARMAN_<NAME>) detail`; returns `code`.
    pub fn set(&mut self, code: i32, call: &str, detail: &str) -> i32 {
        let text = return_code::describe(call, code, detail);
        let end = text.find('\0').unwrap_or(text.len());
        self.text = CString::new(&text[..end]).ok();
        self.code = code;
        self.errno = 0;
        let level = match code {
            return_code::MEMORY_ALLOCATION_FAILURE => VERBOSE_FATAL,
            _ => VERBOSE_ERROR,
        };
        if let (Some((logger, verbose)), Some(text)) = (self.logger.as_mut(), self.text.as_deref())
        {
            if *verbose >= level {
                logger(text, level);
            }
        }
        code
    }

    /// Records a core error with its code and errno; returns the code.
    pub fn record(&mut self, call: &str, error: &Error) -> i32 {
        let code = self.set(return_code::of_error(error), call, &error.to_string());
        self.errno = return_code::errno_of(error);
        code
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_names_the_call_and_code_and_survives_success() {
        let mut last = LastError::default();
        assert_eq!(last.text(), None);
        last.set(
            return_code::NO_SERVERS,
            "gearman_client_do",
            "no servers added",
        );
        assert_eq!(
            last.text().unwrap().to_str().unwrap(),
            "gearman_client_do(GEARMAN_NO_SERVERS) no servers added"
        );
        last.succeed();
        assert_eq!(last.code(), return_code::SUCCESS);
        assert!(last.text().is_some());
        let refused = Error::Connect {
            server: "127.0.0.1:1".into(),
            kind: std::io::ErrorKind::ConnectionRefused,
            message: "refused".into(),
        };
        assert_eq!(last.record("x", &refused), return_code::COULD_NOT_CONNECT);
        assert_eq!(last.errno(), libc::ECONNREFUSED);
    }
}
