//! The pecl gearman 2.1.5 PHP extension (`extension=gearman.so`) on gearman-core.
//!
//! Classes `GearmanClient`, `GearmanWorker`, `GearmanJob`, `GearmanTask` and the final
//! `GearmanException`, their procedural twins and pecl's constants, behaving as pecl does on
//! libgearman (php-api.md). Calls block on the caller's thread through gearman-core's blocking
//! facades: no thread is started, so objects created after `pcntl_fork()` work in the child.

// PHP 8 named arguments use the Rust parameter names, so `$setupExceptionHandler` is spelled
// as pecl spells it.
#![allow(non_snake_case)]

mod arginfo;
mod args;
mod client;
mod constants;
mod convert;
mod error;
mod job;
mod objects;
mod procedural;
mod servers;
mod task;
mod tls;
mod worker;

use ext_php_rs::class::RegisteredClass;
use ext_php_rs::flags::ClassFlags;
use ext_php_rs::prelude::*;
use ext_php_rs::zend::ModuleEntry;
use ext_php_rs::{info_table_end, info_table_row, info_table_start};

pub use client::GearmanClient;
pub use job::GearmanJob;
pub use task::GearmanTask;
pub use worker::GearmanWorker;

/// The pecl release whose API this is.
const PECL_VERSION: &str = "2.1.5";
/// What `gearman_version()` reports for the library underneath.
fn library_version() -> &'static str {
    gearman_core::libgearman::VERSION
        .to_str()
        .unwrap_or_default()
}

#[php_function]
pub fn gearman_version() -> &'static str {
    library_version()
}

#[php_function]
pub fn gearman_bugreport() -> &'static str {
    "https://github.com/gearman/gearmand/issues"
}

#[php_function]
pub fn gearman_verbose_name(verbose: args::Long) -> Option<&'static str> {
    let verbose = verbose.0;
    if verbose < 0 {
        error::warn("Input must be an integer greater than 0.");
        return None;
    }
    gearman_core::libgearman::verbose_name(verbose)
        .to_str()
        .ok()
}

#[php_function]
pub fn gearman_client_create() -> PhpResult<GearmanClient> {
    GearmanClient::__construct()
}

#[php_function]
pub fn gearman_worker_create() -> PhpResult<GearmanWorker> {
    GearmanWorker::__construct()
}

/// MINIT (before ext-php-rs registers the other classes): pecl's exception class.
extern "C" fn module_startup(_type: i32, module: i32) -> i32 {
    tls::register_ini(module);
    error::register_exception()
}

/// `php --ri gearman`.
extern "C" fn module_info(_module: *mut ModuleEntry) {
    info_table_start!();
    info_table_row!("gearman support", "enabled");
    info_table_row!("extension version", PECL_VERSION);
    info_table_row!("libgearman version", library_version());
    info_table_row!("Default TCP Host", constants::DEFAULT_TCP_HOST.1);
    info_table_row!("Default TCP Port", "4730");
    info_table_end!();
}

/// ext-php-rs marks its classes not serializable; pecl's serialize to `O:13:"GearmanClient":0:{}`.
/// Class entries exist only after module start-up, so this runs per request (it is idempotent).
extern "C" fn allow_serialization(_type: i32, _module: i32) -> i32 {
    fn clear<T: RegisteredClass>() {
        let metadata = T::get_metadata();
        if metadata.has_ce() {
            let ce = metadata.ce() as *const _ as *mut ext_php_rs::zend::ClassEntry;
            // SAFETY: the class entry lives as long as the module; only its flags change,
            // before any script of this request runs.
            unsafe { (*ce).ce_flags &= !ClassFlags::NotSerializable.bits() };
        }
    }
    clear::<GearmanClient>();
    clear::<GearmanWorker>();
    clear::<GearmanJob>();
    clear::<GearmanTask>();
    // Once per process, now that every class exists: the types ext-php-rs cannot declare, and
    // objects that are usable without their constructor.
    static DECLARED: std::sync::Once = std::sync::Once::new();
    DECLARED.call_once(|| {
        arginfo::declare_types();
        objects::install_create_handlers();
    });
    0
}

#[php_module]
pub fn get_module(module: ModuleBuilder) -> ModuleBuilder {
    let mut module = module
        .name("gearman")
        .version(PECL_VERSION)
        .class::<GearmanClient>()
        .class::<GearmanWorker>()
        .class::<GearmanJob>()
        .class::<GearmanTask>()
        .function(wrap_function!(gearman_version))
        .function(wrap_function!(gearman_bugreport))
        .function(wrap_function!(gearman_verbose_name))
        .function(wrap_function!(gearman_client_create))
        .function(wrap_function!(gearman_worker_create))
        .constant((
            constants::DEFAULT_TCP_HOST.0,
            constants::DEFAULT_TCP_HOST.1,
            &[],
        ))
        .startup_function(module_startup)
        .info_function(module_info)
        .request_startup_function(allow_serialization);
    let integers = constants::INTEGERS_BEFORE
        .iter()
        .copied()
        .chain(constants::return_codes())
        .chain(constants::INTEGERS_AFTER.iter().copied());
    for (name, value) in integers {
        module = module.constant((name, value, &[]));
    }
    procedural::register(module)
}
