//! Scalar parameters parsed as the Zend engine parses an internal function's (ZPP), so that code
//! written for pecl gearman runs unchanged: in weak mode `'4730'`, `' 5'`, `5.0`, `true` (and
//! `null`, with PHP's deprecation) are an `int`, numbers and `__toString` objects a `string`;
//! under `declare(strict_types=1)` the caller gets PHP's own `TypeError`
//! (`Class::method(): Argument #2 ($port) must be of type int, string given`).
//!
//! The conversions are the engine's own (`zend_parse_arg_*_slow`, which also decide weak or strict
//! from the calling frame); a value of the exact type takes no call at all.

use std::borrow::Cow;
use std::ffi::c_int;

use ext_php_rs::convert::{FromZval, StubLiteral};
use ext_php_rs::ffi::{zend_execute_data, zend_string};
use ext_php_rs::flags::DataType;
use ext_php_rs::types::Zval;
use ext_php_rs::zend::ExecutorGlobals;

use crate::convert::PhpBytes;

extern "C" {
    fn zend_parse_arg_long_slow(arg: *mut Zval, dest: *mut i64, arg_num: u32) -> bool;
    fn zend_parse_arg_bool_slow(arg: *mut Zval, dest: *mut bool, arg_num: u32) -> bool;
    fn zend_parse_arg_str_slow(arg: *mut Zval, dest: *mut *mut zend_string, arg_num: u32) -> bool;
    fn zend_wrong_parameter_type_error(num: u32, expected: c_int, arg: *mut Zval);
}

/// `zend_expected_type` values (Zend/zend_API.h, `Z_EXPECTED_TYPES`).
const EXPECTED_LONG: c_int = 0;
const EXPECTED_BOOL: c_int = 2;
const EXPECTED_STRING: c_int = 4;
const EXPECTED_STRING_OR_NULL: c_int = 5;

/// The position (1-based) of `arg` among the running call's arguments, which ZPP's messages
/// name. Arguments live in the call frame right after its `zend_execute_data`.
fn arg_num(arg: &Zval) -> u32 {
    let frame: *mut zend_execute_data = ExecutorGlobals::get().current_execute_data;
    if frame.is_null() {
        return 1;
    }
    let slot = std::mem::size_of::<Zval>();
    let frame_slots = std::mem::size_of::<zend_execute_data>().div_ceil(slot);
    let first = frame as usize + frame_slots * slot;
    let offset = (arg as *const Zval as usize).wrapping_sub(first) / slot;
    // SAFETY: a live frame; `This.u2.num_args` is the argument count of every call frame.
    let count = unsafe { (*frame).This.u2.num_args };
    if offset < count as usize {
        offset as u32 + 1
    } else {
        1
    }
}

/// Runs an engine conversion on a copy of `arg` (the caller's value is left as it is); on
/// failure throws PHP's TypeError for `expected` and gives `None`.
fn convert<T>(
    arg: &Zval,
    expected: c_int,
    parse: impl FnOnce(*mut Zval, u32) -> Option<T>,
) -> Option<T> {
    let num = arg_num(arg);
    let mut copy = arg.dereference().shallow_clone();
    match parse(&mut copy, num) {
        Some(value) => Some(value),
        None => {
            if !ExecutorGlobals::has_exception() {
                // SAFETY: `copy` is a live zval; the engine only reads it to name its type.
                unsafe { zend_wrong_parameter_type_error(num, expected, &mut copy) };
            }
            None
        }
    }
}

/// An `int` parameter.
#[derive(Debug, Clone, Copy)]
pub struct Long(pub i64);

impl FromZval<'_> for Long {
    const TYPE: DataType = DataType::Long;

    fn from_zval(zval: &Zval) -> Option<Self> {
        if let Some(value) = zval.long() {
            return Some(Long(value));
        }
        convert(zval, EXPECTED_LONG, |arg, num| {
            let mut value = 0;
            // SAFETY: a live zval and a place for the result; the engine reads the caller's
            // strict_types from the current frame.
            unsafe { zend_parse_arg_long_slow(arg, &mut value, num) }.then_some(Long(value))
        })
    }
}

impl From<i64> for Long {
    fn from(value: i64) -> Long {
        Long(value)
    }
}

/// Defaults appear in arginfo and reflection as PHP literals.
impl StubLiteral for Long {
    fn stub_literal(&self) -> String {
        self.0.to_string()
    }
}

/// A `bool` parameter.
#[derive(Debug, Clone, Copy)]
pub struct Flag(pub bool);

impl FromZval<'_> for Flag {
    const TYPE: DataType = DataType::Bool;

    fn from_zval(zval: &Zval) -> Option<Self> {
        if let Some(value) = zval.bool() {
            return Some(Flag(value));
        }
        convert(zval, EXPECTED_BOOL, |arg, num| {
            let mut value = false;
            // SAFETY: as for `Long`.
            unsafe { zend_parse_arg_bool_slow(arg, &mut value, num) }.then_some(Flag(value))
        })
    }
}

impl From<bool> for Flag {
    fn from(value: bool) -> Flag {
        Flag(value)
    }
}

impl StubLiteral for Flag {
    fn stub_literal(&self) -> String {
        self.0.to_string()
    }
}

/// An `int` or `bool` parameter with a default (`int $port = 0`). An explicit `null` is what
/// ZPP makes of it: 0 / false with PHP's deprecation in weak mode, PHP's TypeError in strict
/// mode. ext-php-rs would throw its own TypeError before converting unless the type is
/// nullable, so it is declared nullable here and arginfo.rs takes the `?` off again.
#[derive(Debug, Clone, Copy)]
pub struct Defaulted<T>(pub T);

/// What ZPP makes of `null` for the type.
pub trait FromNull {
    const FROM_NULL: Self;
}

impl FromNull for Long {
    const FROM_NULL: Long = Long(0);
}

impl FromNull for Flag {
    const FROM_NULL: Flag = Flag(false);
}

impl<'a, T: FromZval<'a> + FromNull> FromZval<'a> for Defaulted<T> {
    const TYPE: DataType = T::TYPE;
    const NULLABLE: bool = true;

    fn from_zval(zval: &'a Zval) -> Option<Self> {
        T::from_zval(zval).map(Defaulted)
    }

    fn from_missing() -> Option<Self> {
        Some(Defaulted(T::FROM_NULL))
    }
}

impl From<i64> for Defaulted<Long> {
    fn from(value: i64) -> Self {
        Defaulted(Long(value))
    }
}

impl From<bool> for Defaulted<Flag> {
    fn from(value: bool) -> Self {
        Defaulted(Flag(value))
    }
}

impl<T: StubLiteral> StubLiteral for Defaulted<T> {
    fn stub_literal(&self) -> String {
        self.0.stub_literal()
    }
}

/// A `string` parameter, as bytes.
pub struct Str<'a>(pub PhpBytes<'a>);

impl<'a> FromZval<'a> for Str<'a> {
    const TYPE: DataType = DataType::String;

    fn from_zval(zval: &'a Zval) -> Option<Self> {
        Str::parse(zval, EXPECTED_STRING)
    }
}

impl<'a> Str<'a> {
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    pub fn into_bytes(self) -> PhpBytes<'a> {
        self.0
    }

    /// A string as ZPP takes it; `expected` names the type in PHP's TypeError.
    fn parse(zval: &'a Zval, expected: c_int) -> Option<Self> {
        if let Some(s) = zval.dereference().zend_str() {
            return Some(Str(PhpBytes(Cow::Borrowed(s.as_bytes()))));
        }
        convert(zval, expected, |arg, num| {
            let mut dest: *mut zend_string = std::ptr::null_mut();
            // SAFETY: a live zval (our copy, which the engine may convert in place) and a
            // place for the string, which the copy owns until it drops below.
            let ok = unsafe { zend_parse_arg_str_slow(arg, &mut dest, num) };
            if !ok {
                return None;
            }
            // SAFETY: on success `dest` is the converted string, alive while the copy is.
            let bytes = unsafe { dest.as_ref() }?.as_bytes();
            Some(Str(PhpBytes(Cow::Owned(bytes.to_vec()))))
        })
    }
}

/// A `?string` parameter's value when it is not null: use as `Option<NullableStr>`, which
/// gives `None` for null (a plain `Str` would coerce null to "" with a deprecation).
pub struct NullableStr<'a>(pub PhpBytes<'a>);

impl<'a> FromZval<'a> for NullableStr<'a> {
    const TYPE: DataType = DataType::String;

    fn from_zval(zval: &'a Zval) -> Option<Self> {
        if zval.dereference().is_null() {
            return None;
        }
        Str::parse(zval, EXPECTED_STRING_OR_NULL).map(|s| NullableStr(s.0))
    }
}

/// A `callable` parameter as pecl declares it; the value is checked by the method, which warns
/// as pecl does (the engine does not check an internal function's declared types).
pub struct CallableArg<'a>(pub &'a Zval);

impl<'a> FromZval<'a> for CallableArg<'a> {
    const TYPE: DataType = DataType::Callable;

    fn from_zval(zval: &'a Zval) -> Option<Self> {
        Some(CallableArg(zval))
    }
}
