//! How the engine builds our objects. Each starts out initialized, as its constructor would make
//! it, and of the class asked for: a subclass that skips `parent::__construct()`,
//! `ReflectionClass::newInstanceWithoutConstructor()` and `unserialize()` all get a usable object
//! of their own class. ext-php-rs's handler leaves such objects empty (every method then throws
//! "Failed to retrieve reference to `$this`"), or, given a `Default`, builds them as the parent
//! class.

use ext_php_rs::class::RegisteredClass;
use ext_php_rs::types::{ZendClassObject, ZendObject};
use ext_php_rs::zend::ClassEntry;

use crate::{GearmanClient, GearmanJob, GearmanTask, GearmanWorker};

/// The state an object of this class has before (or without) its constructor.
pub trait Initial {
    fn initial() -> Self;
}

/// The engine's `create_object` handler for `T` and its PHP subclasses.
extern "C" fn create_initialized<T: RegisteredClass + Initial>(
    ce: *mut ClassEntry,
) -> *mut ZendObject {
    // SAFETY: the engine passes the class it instantiates (T's or a subclass's), which lives
    // as long as the request at least; the object is initialized at once below.
    let mut object = unsafe { ZendClassObject::<T>::new_uninit(ce.as_ref()) };
    object.initialize(T::initial());
    let object = object.into_raw();
    // SAFETY: `into_raw` gives a valid object whose ownership passes to the engine.
    unsafe { (*object).get_mut_zend_obj() }
}

/// Installs the handler on our classes (user subclasses inherit it when they are declared).
pub fn install_create_handlers() {
    fn install<T: RegisteredClass + Initial>() {
        let metadata = T::get_metadata();
        if metadata.has_ce() {
            let ce = std::ptr::from_ref(metadata.ce()).cast_mut();
            // SAFETY: a class entry of this module, changed before any script runs.
            unsafe { (*ce).__bindgen_anon_2.create_object = Some(create_initialized::<T>) };
        }
    }
    install::<GearmanClient>();
    install::<GearmanWorker>();
    install::<GearmanJob>();
    install::<GearmanTask>();
}
