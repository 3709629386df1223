//! The types of pecl 2.1.5 that ext-php-rs 0.16 cannot declare, written into the registered
//! arginfo once the classes exist (the first request's start-up), so that Reflection, and
//! subclasses checked against it, see pecl's signatures: union types (`string|false`,
//! `GearmanTask|false`, `string|int|float`), `true` returns, and `int $port = 0` where ext-php-rs
//! declared `?int` (see `args::Defaulted`). The methods return exactly these types; release
//! builds of PHP do not check an internal function's types anyway.

use std::ffi::c_void;

use ext_php_rs::class::RegisteredClass;
use ext_php_rs::ffi::{
    compiler_globals, zend_function, zend_hash_str_find_ptr_lc, zend_internal_arg_info, HashTable,
};
use ext_php_rs::types::ZendStr;

use crate::{GearmanClient, GearmanJob, GearmanTask, GearmanWorker};

const MAY_BE_NULL: u32 = 1 << 1;
const MAY_BE_FALSE: u32 = 1 << 2;
const MAY_BE_TRUE: u32 = 1 << 3;
const MAY_BE_LONG: u32 = 1 << 4;
const MAY_BE_DOUBLE: u32 = 1 << 5;
const MAY_BE_STRING: u32 = 1 << 6;
const MAY_BE_ARRAY: u32 = 1 << 7;
/// `_ZEND_TYPE_NAME_BIT`: the type names a class (`ptr` is its name).
const TYPE_NAME_BIT: u32 = 1 << 24;
/// `_ZEND_TYPE_MASK`: the type bits; the bits above hold the argument's send mode.
const TYPE_MASK: u32 = (1 << 25) - 1;
const ACC_HAS_RETURN_TYPE: u32 = 1 << 13;

/// A declared type: builtin type bits, optionally with a class.
#[derive(Clone, Copy)]
struct Type {
    mask: u32,
    class: Option<&'static str>,
}

const STRING_OR_FALSE: Type = Type {
    mask: MAY_BE_STRING | MAY_BE_FALSE,
    class: None,
};
const INT_OR_FALSE: Type = Type {
    mask: MAY_BE_LONG | MAY_BE_FALSE,
    class: None,
};
const ARRAY_OR_FALSE: Type = Type {
    mask: MAY_BE_ARRAY | MAY_BE_FALSE,
    class: None,
};
const WORKLOAD: Type = Type {
    mask: MAY_BE_STRING | MAY_BE_LONG | MAY_BE_DOUBLE,
    class: None,
};

const TRUE: Type = Type {
    mask: MAY_BE_TRUE,
    class: None,
};

const fn class_or_false(class: &'static str) -> Type {
    Type {
        mask: MAY_BE_FALSE,
        class: Some(class),
    }
}

/// Where a type goes: the return value (0) or a parameter (1-based).
type Slot = usize;

/// (class, or "" for a function; method or function name; slot; type), as pecl 2.1.5 declares.
const TYPES: &[(&str, &str, Slot, Type)] = &[
    (
        "",
        "gearman_client_create",
        0,
        class_or_false("GearmanClient"),
    ),
    (
        "",
        "gearman_worker_create",
        0,
        class_or_false("GearmanWorker"),
    ),
    ("GearmanClient", "error", 0, STRING_OR_FALSE),
    ("", "gearman_client_error", 0, STRING_OR_FALSE),
    ("GearmanWorker", "error", 0, STRING_OR_FALSE),
    ("", "gearman_worker_error", 0, STRING_OR_FALSE),
    (
        "GearmanWorker",
        "grabJob",
        0,
        class_or_false("GearmanWorker"),
    ),
    (
        "",
        "gearman_worker_grab_job",
        0,
        class_or_false("GearmanWorker"),
    ),
    (
        "GearmanClient",
        "addTaskStatus",
        0,
        class_or_false("GearmanTask"),
    ),
    (
        "",
        "gearman_client_add_task_status",
        0,
        class_or_false("GearmanTask"),
    ),
    ("GearmanJob", "handle", 0, STRING_OR_FALSE),
    ("GearmanJob", "functionName", 0, STRING_OR_FALSE),
    ("GearmanJob", "unique", 0, STRING_OR_FALSE),
    ("", "gearman_job_handle", 0, STRING_OR_FALSE),
    ("", "gearman_job_function_name", 0, STRING_OR_FALSE),
    ("", "gearman_job_unique", 0, STRING_OR_FALSE),
    ("GearmanTask", "functionName", 0, STRING_OR_FALSE),
    ("GearmanTask", "unique", 0, STRING_OR_FALSE),
    ("GearmanTask", "jobHandle", 0, STRING_OR_FALSE),
    ("GearmanTask", "taskNumerator", 0, INT_OR_FALSE),
    ("GearmanTask", "taskDenominator", 0, INT_OR_FALSE),
    ("GearmanTask", "data", 0, STRING_OR_FALSE),
    ("GearmanTask", "dataSize", 0, INT_OR_FALSE),
    ("GearmanTask", "sendWorkload", 0, INT_OR_FALSE),
    ("GearmanTask", "recvData", 0, ARRAY_OR_FALSE),
    ("", "gearman_task_function_name", 0, STRING_OR_FALSE),
    ("", "gearman_task_unique", 0, STRING_OR_FALSE),
    ("", "gearman_task_job_handle", 0, STRING_OR_FALSE),
    ("", "gearman_task_numerator", 0, INT_OR_FALSE),
    ("", "gearman_task_denominator", 0, INT_OR_FALSE),
    ("", "gearman_task_data", 0, STRING_OR_FALSE),
    ("", "gearman_task_data_size", 0, INT_OR_FALSE),
    ("", "gearman_task_send_workload", 0, INT_OR_FALSE),
    ("", "gearman_task_recv_data", 0, ARRAY_OR_FALSE),
    ("GearmanWorker", "setOptions", 0, TRUE),
    ("GearmanWorker", "addOptions", 0, TRUE),
    ("GearmanWorker", "removeOptions", 0, TRUE),
    ("GearmanWorker", "setTimeout", 0, TRUE),
    ("", "gearman_worker_set_options", 0, TRUE),
    ("", "gearman_worker_add_options", 0, TRUE),
    ("", "gearman_worker_remove_options", 0, TRUE),
    ("", "gearman_worker_set_timeout", 0, TRUE),
];

/// The `int` and `bool` parameters with a default (`args::Defaulted`): (class, or "" for a
/// function; name; slots).
const DEFAULTED: &[(&str, &str, &[Slot])] = &[
    ("GearmanClient", "addServer", &[2, 3]),
    ("GearmanClient", "addServers", &[2]),
    ("GearmanWorker", "addServer", &[2, 3]),
    ("GearmanWorker", "addServers", &[2]),
    ("GearmanWorker", "register", &[2]),
    ("GearmanWorker", "addFunction", &[4]),
    ("", "gearman_client_add_server", &[3, 4]),
    ("", "gearman_client_add_servers", &[3]),
    ("", "gearman_worker_add_server", &[3, 4]),
    ("", "gearman_worker_add_servers", &[3]),
    ("", "gearman_worker_register", &[3]),
    ("", "gearman_worker_add_function", &[5]),
];

/// The `addTask*` variants: `GearmanTask|false`, and a `string|int|float` workload.
const ADD_TASK: &[&str] = &[
    "addTask",
    "addTaskHigh",
    "addTaskLow",
    "addTaskBackground",
    "addTaskHighBackground",
    "addTaskLowBackground",
];
const ADD_TASK_FUNCTIONS: &[&str] = &[
    "gearman_client_add_task",
    "gearman_client_add_task_high",
    "gearman_client_add_task_low",
    "gearman_client_add_task_background",
    "gearman_client_add_task_high_background",
    "gearman_client_add_task_low_background",
];

/// A registered method or function, or NULL: functions are in the compiler's table (the
/// executor's too, by then), methods in their classes.
fn find(class: &str, name: &str) -> *mut zend_function {
    let table: *const HashTable = match class {
        // SAFETY: the engine's compiler globals (NTS), read at request start-up.
        "" => unsafe { (*std::ptr::addr_of!(compiler_globals)).function_table },
        "GearmanClient" => &GearmanClient::get_metadata().ce().function_table,
        "GearmanWorker" => &GearmanWorker::get_metadata().ce().function_table,
        "GearmanJob" => &GearmanJob::get_metadata().ce().function_table,
        "GearmanTask" => &GearmanTask::get_metadata().ce().function_table,
        _ => return std::ptr::null_mut(),
    };
    if table.is_null() {
        return std::ptr::null_mut();
    }
    let lower = name.to_ascii_lowercase();
    // SAFETY: a live function table, keyed by lower-case names; a name and its length.
    unsafe { zend_hash_str_find_ptr_lc(table, lower.as_ptr().cast(), lower.len()) }.cast()
}

/// Writes `ty` into `slot` of an internal function's arginfo.
///
/// # Safety
/// `function` is an internal function of this module, before any script runs.
unsafe fn declare(function: *mut zend_function, slot: Slot, ty: Type) {
    // SAFETY: an internal function (the caller's promise); its arginfo has `num_args` entries
    // after the return-value entry at index -1.
    unsafe {
        let internal = &mut (*function).internal_function;
        if internal.arg_info.is_null() || slot > internal.num_args as usize {
            return;
        }
        let info: &mut zend_internal_arg_info = &mut *internal.arg_info.offset(slot as isize - 1);
        let mut mask = ty.mask;
        if let Some(class) = ty.class {
            info.type_.ptr = ZendStr::new_interned(class, true)
                .into_raw()
                .cast::<c_void>();
            mask |= TYPE_NAME_BIT;
        }
        info.type_.type_mask = (info.type_.type_mask & !TYPE_MASK) | mask;
        if slot == 0 {
            internal.fn_flags |= ACC_HAS_RETURN_TYPE;
        }
    }
}

/// Takes the `?` off a parameter's type.
///
/// # Safety
/// As for [`declare`].
unsafe fn not_nullable(function: *mut zend_function, slot: Slot) {
    // SAFETY: as in `declare`.
    unsafe {
        let internal = &mut (*function).internal_function;
        if internal.arg_info.is_null() || slot == 0 || slot > internal.num_args as usize {
            return;
        }
        (*internal.arg_info.add(slot - 1)).type_.type_mask &= !MAY_BE_NULL;
    }
}

/// Declares pecl's types (once, before the first script runs).
pub fn declare_types() {
    let add_task = ADD_TASK
        .iter()
        .map(|m| ("GearmanClient", *m, 2))
        .chain(ADD_TASK_FUNCTIONS.iter().map(|f| ("", *f, 3)));
    for (class, name, workload) in add_task {
        let function = find(class, name);
        if !function.is_null() {
            // SAFETY: a method or function of this module, before any script runs.
            unsafe {
                declare(function, 0, class_or_false("GearmanTask"));
                declare(function, workload, WORKLOAD);
            }
        }
    }
    for &(class, name, slot, ty) in TYPES {
        let function = find(class, name);
        if !function.is_null() {
            // SAFETY: as above.
            unsafe { declare(function, slot, ty) };
        }
    }
    for &(class, name, slots) in DEFAULTED {
        let function = find(class, name);
        if !function.is_null() {
            for &slot in slots {
                // SAFETY: as above.
                unsafe { not_nullable(function, slot) };
            }
        }
    }
}
