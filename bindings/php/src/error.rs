//! pecl's error conventions: a stored return code and text per object, E_WARNINGs for failures,
//! and the final `GearmanException` for the two cases pecl throws.

use ext_php_rs::error::php_error;
use ext_php_rs::exception::PhpException;
use ext_php_rs::flags::ClassFlags;
use ext_php_rs::flags::ErrorType;
use ext_php_rs::prelude::*;
use ext_php_rs::zend::ce;
use gearman_core::return_code::{self, SUCCESS};
use gearman_core::Error;

#[php_class]
#[php(name = "GearmanException")]
#[php(extends(ce = ce::exception, stub = "\\Exception"))]
#[php(flags = ClassFlags::Final)]
#[derive(Default)]
pub struct GearmanException;

/// The one message pecl throws from `addServer()` and friends when the server cannot be reached.
pub fn exception_option_failed() -> PhpException {
    PhpException::from_class::<GearmanException>("Failed to set exception option".into())
}

/// Thrown by constructors when the I/O runtime cannot be created.
pub fn allocation_failure() -> PhpException {
    PhpException::from_class::<GearmanException>("Memory allocation failure".into())
}

pub fn warn(message: &str) {
    php_error(&ErrorType::Warning, message);
}

/// What `returnCode()`, `error()` and `getErrno()` report.
#[derive(Debug, Default)]
pub struct LastError {
    pub code: i32,
    pub text: Option<String>,
    pub errno: i32,
}

impl LastError {
    pub fn succeed(&mut self) {
        self.code = SUCCESS;
        self.errno = 0;
    }

    /// Records `code` with a text carrying its `GEARMAN_<CODE>` name, as libgearman words it.
    pub fn set(&mut self, code: i32, call: &str, detail: &str) -> i32 {
        self.code = code;
        self.errno = 0;
        self.text = Some(return_code::describe(call, code, detail));
        code
    }

    /// Records `code` as [`LastError::set`] does and prints it as an E_WARNING.
    pub fn warn(&mut self, code: i32, call: &str, detail: &str) -> i32 {
        self.set(code, call, detail);
        self.warn_last();
        code
    }

    pub fn record_error(&mut self, call: &str, error: &Error) -> i32 {
        let code = self.set(return_code::of_error(error), call, &error.to_string());
        self.errno = return_code::errno_of(error);
        code
    }

    /// Records the error and prints it as an E_WARNING.
    pub fn warn_error(&mut self, call: &str, error: &Error) -> i32 {
        let code = self.record_error(call, error);
        self.warn_last();
        code
    }

    /// `error()`: the text, or false before any failure.
    pub fn text_zval(&self) -> ext_php_rs::types::Zval {
        match &self.text {
            Some(text) => crate::convert::bytes_zval(text.as_bytes()),
            None => crate::convert::bool_zval(false),
        }
    }

    pub fn warn_last(&self) {
        if let Some(text) = &self.text {
            warn(text);
        }
    }
}
