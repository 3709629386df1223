//! PHP values to and from bytes, with PHP's own string conversion.
//!
//! Gearman payloads are binary, so strings cross as bytes, never as UTF-8 `String`s. Scalars
//! passed where pecl declares `string` are converted as PHP converts them (`1` → `"1"`,
//! `2.0` → `"2"`, `true` → `"1"`), by the engine itself.

use std::borrow::Cow;

use ext_php_rs::boxed::ZBox;
use ext_php_rs::convert::{FromZval, IntoZval};
use ext_php_rs::flags::DataType;
use ext_php_rs::types::{ZendHashTable, ZendStr, Zval};

extern "C" {
    /// The engine's in-place string conversion (`convert_to_string`): warns "Array to string
    /// conversion" for arrays and calls `__toString` on objects, exactly as `(string)` does.
    fn _convert_to_string(op: *mut Zval);
}

/// A string argument as bytes; other scalars are converted as PHP converts them.
pub struct PhpBytes<'a>(pub Cow<'a, [u8]>);

/// As a parameter, a `?string`'s value when not null (`Option<PhpBytes>`): null is `None`, other
/// values are parsed as ZPP parses a string (see [`crate::args`]).
impl<'a> FromZval<'a> for PhpBytes<'a> {
    const TYPE: DataType = DataType::String;

    fn from_zval(zval: &'a Zval) -> Option<Self> {
        crate::args::NullableStr::from_zval(zval).map(|s| s.0)
    }
}

/// A workload as pecl's `addTask*()` take it: any value, converted as `(string)` converts it
/// (arrays give "Array" with PHP's warning, objects their `__toString`).
pub struct Workload<'a>(pub PhpBytes<'a>);

impl<'a> FromZval<'a> for Workload<'a> {
    const TYPE: DataType = DataType::String;

    fn from_zval(zval: &'a Zval) -> Option<Self> {
        let value = zval.dereference();
        if let Some(s) = value.zend_str() {
            return Some(Workload(PhpBytes(Cow::Borrowed(s.as_bytes()))));
        }
        string_of(value).map(|b| Workload(PhpBytes(Cow::Owned(b))))
    }
}

impl Workload<'_> {
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl PhpBytes<'_> {
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// The bytes of `(string) $value`, or `None` if the conversion threw (an object without
/// `__toString`, or one whose `__toString` throws); the exception is then pending.
pub fn string_of(value: &Zval) -> Option<Vec<u8>> {
    let value = value.dereference();
    if let Some(s) = value.zend_str() {
        return Some(s.as_bytes().to_vec());
    }
    let mut copy = value.shallow_clone();
    // SAFETY: `copy` holds its own reference (shallow_clone added one), which the conversion
    // releases in place; the converted string is owned by `copy` and freed when it drops.
    unsafe { _convert_to_string(&mut copy) };
    if ext_php_rs::zend::ExecutorGlobals::has_exception() {
        return None;
    }
    copy.zend_str().map(|s| s.as_bytes().to_vec())
}

/// A PHP string holding `bytes`.
pub fn bytes_zval(bytes: &[u8]) -> Zval {
    let mut zval = Zval::new();
    zval.set_zend_string(ZendStr::new(bytes, false));
    zval
}

pub fn bool_zval(value: bool) -> Zval {
    let mut zval = Zval::new();
    zval.set_bool(value);
    zval
}

pub fn long_zval(value: i64) -> Zval {
    let mut zval = Zval::new();
    zval.set_long(value);
    zval
}

/// A PHP array of the given values, in order.
pub fn array_zval(values: Vec<Zval>) -> Zval {
    let mut table: ZBox<ZendHashTable> = ZendHashTable::new();
    for value in values {
        // Pushing onto a fresh packed array cannot fail short of memory exhaustion, which the
        // engine itself reports.
        let _ = table.push(value);
    }
    let mut zval = Zval::new();
    zval.set_hashtable(table);
    zval
}

/// A number as PHP's `int`, saturating.
pub fn to_long(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// A return value that is always a PHP string: declared `string` in arginfo, as pecl declares it.
pub struct StringZval(pub Zval);

impl IntoZval for StringZval {
    const TYPE: DataType = DataType::String;
    const NULLABLE: bool = false;

    fn set_zval(self, zv: &mut Zval, _persistent: bool) -> ext_php_rs::error::Result<()> {
        *zv = self.0;
        Ok(())
    }
}

/// A return value that is always a PHP array: declared `array`, as pecl declares it.
pub struct ArrayZval(pub Zval);

impl IntoZval for ArrayZval {
    const TYPE: DataType = DataType::Array;
    const NULLABLE: bool = false;

    fn set_zval(self, zv: &mut Zval, _persistent: bool) -> ext_php_rs::error::Result<()> {
        *zv = self.0;
        Ok(())
    }
}
