//! pecl's error conventions: a stored return code and text per object (gearman-core's
//! [`LastError`]), E_WARNINGs for failures, and the final `GearmanException` for the two cases
//! pecl throws.

use std::sync::atomic::{AtomicPtr, Ordering};

use ext_php_rs::builders::{ClassBuilder, ClassProperty};
use ext_php_rs::convert::IntoZval;
use ext_php_rs::error::php_error;
use ext_php_rs::exception::PhpException;
use ext_php_rs::flags::{ClassFlags, ErrorType, PropertyFlags};
use ext_php_rs::types::Zval;
use ext_php_rs::zend::{ce, ClassEntry};
use gearman_core::libgearman::LastError;

/// `GearmanException`'s class entry, registered at module start-up.
static EXCEPTION_CLASS: AtomicPtr<ClassEntry> = AtomicPtr::new(std::ptr::null_mut());

/// Registers (at module start-up) `final class GearmanException extends Exception { public $code = 0; }` as a
/// plain engine class, as pecl does: constructible from PHP with Exception's constructor, and
/// with the file, line and trace of the PHP call that raised it.
pub fn register_exception() -> i32 {
    let code = ClassProperty {
        name: "code".into(),
        flags: PropertyFlags::Public,
        default: Some(Box::new(|| 0i64.into_zval(false))),
        docs: &[],
        ty: None,
        nullable: false,
        readonly: false,
        default_stub: Some("0".into()),
    };
    let registered = ClassBuilder::new("GearmanException")
        .extends((ce::exception, "\\Exception"))
        .flags(ClassFlags::Final)
        .property(code)
        .registration(|class, tables| {
            EXCEPTION_CLASS.store(class, Ordering::Release);
            // No methods: the tables hold nothing the engine uses, but keep them as the
            // engine might.
            std::mem::forget(tables);
        })
        .register();
    match registered {
        Ok(()) => 0,
        Err(_) => -1,
    }
}

/// The class to throw; Exception itself if start-up has not registered ours.
fn exception_class() -> &'static ClassEntry {
    // SAFETY: set once at module start-up to a class entry the engine keeps for the process.
    unsafe { EXCEPTION_CLASS.load(Ordering::Acquire).as_ref() }.unwrap_or_else(ce::exception)
}

/// The one message pecl throws from `addServer()` and friends when the server cannot be reached.
pub fn exception_option_failed() -> PhpException {
    PhpException::new(
        "Failed to set exception option".into(),
        0,
        exception_class(),
    )
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
