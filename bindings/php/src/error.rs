//! pecl's error conventions: a stored return code and text per object (gearman-core's
//! [`LastError`]), E_WARNINGs for failures, and the final `GearmanException` for the two cases
//! pecl throws.

use ext_php_rs::error::php_error;
use ext_php_rs::exception::PhpException;
use ext_php_rs::flags::ClassFlags;
use ext_php_rs::flags::ErrorType;
use ext_php_rs::prelude::*;
use ext_php_rs::types::Zval;
use ext_php_rs::zend::ce;
use gearman_core::libgearman::LastError;

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

/// Prints the last error's text as an E_WARNING.
pub fn warn_last(last: &LastError) {
    if let Some(text) = last.text() {
        warn(&text.to_string_lossy());
    }
}

/// `error()`: the text, or false before any failure.
pub fn text_zval(last: &LastError) -> Zval {
    match last.text() {
        Some(text) => crate::convert::bytes_zval(text.to_bytes()),
        None => crate::convert::bool_zval(false),
    }
}
