//! Handle life cycles without a server, small enough for Miri (`cargo +nightly miri test -p
//! gearman-ffi --lib`), which checks every pointer and reference they make: handles in caller
//! storage and on the heap, tasks freed by the caller and by their client, objects kept alive
//! while a call still holds them, and calls on freed caller-storage handles.

use std::ffi::CStr;
use std::ptr;

use gearman_core::return_code as rc;

use crate::client::*;
use crate::handle::{get, release};
use crate::task::*;
use crate::types::*;
use crate::worker::*;

fn zeroed<T>() -> T {
    // SAFETY: the handle structs are plain C structs for which all-zero is valid.
    unsafe { std::mem::zeroed() }
}

#[test]
fn tasks_in_caller_storage_and_on_the_heap() {
    // SAFETY: every pointer passed is NULL, a live handle, or a live local struct.
    unsafe {
        let client = gearman_client_create(ptr::null_mut());
        assert!(!client.is_null());
        assert!(gearman_client_has_option(client, 1), "library-allocated");
        let mut stack_task: gearman_task_st = zeroed();
        // One pointer for the whole test, as C holds one: a new `&mut` would invalidate the
        // one the client keeps.
        let stack_task = ptr::addr_of_mut!(stack_task);
        let mut ret = -1;
        let mut marker = 7u8;
        let context: *mut std::ffi::c_void = ptr::addr_of_mut!(marker).cast();
        let a = gearman_client_add_task(
            client,
            stack_task,
            context,
            c"f".as_ptr(),
            ptr::null(),
            b"x".as_ptr().cast(),
            1,
            &mut ret,
        );
        assert_eq!((a, ret), (stack_task, rc::SUCCESS));
        let b = gearman_client_add_task_background(
            client,
            ptr::null_mut(),
            ptr::null_mut(),
            c"g".as_ptr(),
            c"u".as_ptr(),
            ptr::null(),
            0,
            &mut ret,
        );
        assert!(!b.is_null());
        let c = gearman_client_add_task_status(
            client,
            ptr::null_mut(),
            ptr::null_mut(),
            c"H:x:1".as_ptr(),
            &mut ret,
        );
        assert!(!c.is_null());
        // libgearman's list runs newest first.
        assert_eq!(gearman_next(c), b);
        assert_eq!(gearman_next(b), a);
        assert!(gearman_next(a).is_null());
        assert_eq!(gearman_task_context(a), context);
        assert_eq!(
            CStr::from_ptr(gearman_task_function_name(a)).to_bytes(),
            b"f"
        );
        assert_eq!(CStr::from_ptr(gearman_task_unique(b)).to_bytes(), b"u");
        assert_eq!(
            CStr::from_ptr(gearman_task_strstate(b)).to_bytes(),
            b"GEARMAN_TASK_STATE_NEW"
        );
        gearman_task_free(b);
        assert_eq!(gearman_next(c), a);
        assert!(gearman_client_has_tasks(client));
        // No servers: run_tasks says so and keeps the tasks.
        assert_eq!(gearman_client_run_tasks(client), rc::NO_SERVERS);
        assert!(!gearman_client_error(client).is_null());
        gearman_client_free(client);
        // The caller-storage task was freed with its client: calls on it fail cleanly.
        assert!(gearman_task_context(stack_task).is_null());
        assert_eq!(gearman_task_return(stack_task), rc::INVALID_ARGUMENT);
        gearman_task_free(stack_task);
    }
}

#[test]
fn an_object_lives_while_a_call_holds_it() {
    // SAFETY: a local struct, then NULL-safe calls on it after it is released.
    unsafe {
        let mut storage: gearman_client_st = zeroed();
        let client = gearman_client_create(ptr::addr_of_mut!(storage));
        assert!(!gearman_client_has_option(client, 1), "caller storage");
        let held = get(client).expect("a live handle");
        // What a callback freeing its own client does: the running call keeps the object.
        drop(release(client));
        assert!(get(client).is_none());
        assert_eq!(held.model.borrow().timeout(), -1);
        drop(held);
        assert_eq!(gearman_client_timeout(client), -1);
        assert!(gearman_client_error(client).is_null());
        gearman_client_free(client);
    }
}

#[test]
fn worker_settings_and_freed_handles() {
    // SAFETY: a live heap handle, then a live local struct released twice.
    unsafe {
        let worker = gearman_worker_create(ptr::null_mut());
        assert_eq!(gearman_worker_options(worker), 644 | 1);
        gearman_worker_set_timeout(worker, 5);
        assert_eq!(gearman_worker_timeout(worker), 5);
        assert_eq!(gearman_worker_options(worker) & 256, 256, "TIMEOUT_RETURN");
        let mut ret = -1;
        assert!(gearman_worker_grab_job(worker, ptr::null_mut(), &mut ret).is_null());
        assert_eq!(ret, rc::NO_SERVERS);
        let copy = gearman_worker_clone(ptr::null_mut(), worker);
        assert_eq!(gearman_worker_timeout(copy), 5);
        gearman_worker_free(copy);
        gearman_worker_free(worker);
        let mut storage: gearman_worker_st = zeroed();
        let worker = gearman_worker_create(ptr::addr_of_mut!(storage));
        gearman_worker_free(worker);
        gearman_worker_free(worker);
        assert_eq!(gearman_worker_work(worker), rc::INVALID_ARGUMENT);
    }
}
