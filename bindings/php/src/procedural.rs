//! The procedural twins of every method, `gearman_<class>_<method>($obj, …)`, as pecl has
//! them (php-api.md §9).

use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendClassObject, Zval};

use crate::args::{CallableArg, Defaulted, Flag, Long, Str};
use crate::client::GearmanClient;
use crate::convert::PhpBytes;
use crate::convert::{ArrayZval, StringZval, Workload};
use crate::job::GearmanJob;
use crate::task::GearmanTask;
use crate::worker::GearmanWorker;

/// Declares `fn name(obj, args…) { obj.method(args…) }` for each line and a `register`
/// that adds them all to the module.
macro_rules! procedural {
    ($(
        $(#[$attr:meta])*
        $name:ident: $class:ty => $method:ident($($arg:ident: $ty:ty),*) -> $ret:ty;
    )*) => {
        $(
            #[php_function]
            $(#[$attr])*
            pub fn $name(obj: &ZendClassObject<$class>, $($arg: $ty),*) -> $ret {
                obj.$method($($arg),*)
            }
        )*

        pub fn register(module: ModuleBuilder) -> ModuleBuilder {
            module $(.function(wrap_function!($name)))*
        }
    };
}

procedural! {
    gearman_client_return_code: GearmanClient => return_code() -> i64;
    gearman_client_error: GearmanClient => error() -> Zval;
    gearman_client_get_errno: GearmanClient => get_errno() -> i64;
    gearman_client_options: GearmanClient => options() -> i64;
    gearman_client_set_options: GearmanClient => set_options(option: Long) -> bool;
    gearman_client_add_options: GearmanClient => add_options(option: Long) -> bool;
    gearman_client_remove_options: GearmanClient => remove_options(option: Long) -> bool;
    gearman_client_timeout: GearmanClient => timeout() -> i64;
    gearman_client_set_timeout: GearmanClient => set_timeout(timeout: Long) -> bool;
    #[php(optional = host, defaults(port = 0, setupExceptionHandler = true))]
    gearman_client_add_server: GearmanClient => add_server(host: Option<PhpBytes>, port: Defaulted<Long>, setupExceptionHandler: Defaulted<Flag>) -> PhpResult<bool>;
    #[php(optional = servers, defaults(setupExceptionHandler = true))]
    gearman_client_add_servers: GearmanClient => add_servers(servers: Option<PhpBytes>, setupExceptionHandler: Defaulted<Flag>) -> PhpResult<bool>;
    gearman_client_wait: GearmanClient => wait() -> bool;
    gearman_client_do_normal: GearmanClient => do_normal(function: Str, workload: Str, unique: Option<PhpBytes>) -> StringZval;
    gearman_client_do_high: GearmanClient => do_high(function: Str, workload: Str, unique: Option<PhpBytes>) -> StringZval;
    gearman_client_do_low: GearmanClient => do_low(function: Str, workload: Str, unique: Option<PhpBytes>) -> StringZval;
    gearman_client_do_background: GearmanClient => do_background(function: Str, workload: Str, unique: Option<PhpBytes>) -> StringZval;
    gearman_client_do_high_background: GearmanClient => do_high_background(function: Str, workload: Str, unique: Option<PhpBytes>) -> StringZval;
    gearman_client_do_low_background: GearmanClient => do_low_background(function: Str, workload: Str, unique: Option<PhpBytes>) -> StringZval;
    gearman_client_do_job_handle: GearmanClient => do_job_handle() -> StringZval;
    gearman_client_do_status: GearmanClient => do_status() -> ArrayZval;
    gearman_client_job_status: GearmanClient => job_status(job_handle: Str) -> ArrayZval;
    gearman_client_job_status_by_unique_key: GearmanClient => job_status_by_unique_key(unique_key: Str) -> ArrayZval;
    gearman_client_ping: GearmanClient => ping(workload: Str) -> bool;
    #[php(optional = context)]
    gearman_client_add_task: GearmanClient => add_task(function_name: Str, workload: Workload, context: Option<&Zval>, unique_key: Option<PhpBytes>) -> Zval;
    #[php(optional = context)]
    gearman_client_add_task_high: GearmanClient => add_task_high(function_name: Str, workload: Workload, context: Option<&Zval>, unique_key: Option<PhpBytes>) -> Zval;
    #[php(optional = context)]
    gearman_client_add_task_low: GearmanClient => add_task_low(function_name: Str, workload: Workload, context: Option<&Zval>, unique_key: Option<PhpBytes>) -> Zval;
    #[php(optional = context)]
    gearman_client_add_task_background: GearmanClient => add_task_background(function_name: Str, workload: Workload, context: Option<&Zval>, unique_key: Option<PhpBytes>) -> Zval;
    #[php(optional = context)]
    gearman_client_add_task_high_background: GearmanClient => add_task_high_background(function_name: Str, workload: Workload, context: Option<&Zval>, unique_key: Option<PhpBytes>) -> Zval;
    #[php(optional = context)]
    gearman_client_add_task_low_background: GearmanClient => add_task_low_background(function_name: Str, workload: Workload, context: Option<&Zval>, unique_key: Option<PhpBytes>) -> Zval;
    gearman_client_run_tasks: GearmanClient => run_tasks() -> bool;
    #[php(optional = context)]
    gearman_client_add_task_status: GearmanClient => add_task_status(job_handle: Str, context: Option<&Zval>) -> Zval;
    gearman_client_set_workload_callback: GearmanClient => set_workload_callback(function: CallableArg) -> bool;
    gearman_client_set_created_callback: GearmanClient => set_created_callback(function: CallableArg) -> bool;
    gearman_client_set_data_callback: GearmanClient => set_data_callback(function: CallableArg) -> bool;
    gearman_client_set_warning_callback: GearmanClient => set_warning_callback(function: CallableArg) -> bool;
    gearman_client_set_status_callback: GearmanClient => set_status_callback(function: CallableArg) -> bool;
    gearman_client_set_complete_callback: GearmanClient => set_complete_callback(function: CallableArg) -> bool;
    gearman_client_set_exception_callback: GearmanClient => set_exception_callback(function: CallableArg) -> PhpResult<bool>;
    gearman_client_set_fail_callback: GearmanClient => set_fail_callback(function: CallableArg) -> bool;
    gearman_client_clear_callbacks: GearmanClient => clear_callbacks() -> bool;
    gearman_client_context: GearmanClient => context() -> StringZval;
    gearman_client_set_context: GearmanClient => set_context(data: Str) -> bool;
    gearman_client_enable_exception_handler: GearmanClient => enable_exception_handler() -> PhpResult<bool>;

    gearman_job_return_code: GearmanJob => return_code() -> i64;
    gearman_job_set_return: GearmanJob => set_return(gearman_return_t: Long) -> bool;
    gearman_job_send_data: GearmanJob => send_data(data: Str) -> bool;
    gearman_job_send_warning: GearmanJob => send_warning(warning: Str) -> bool;
    gearman_job_send_status: GearmanJob => send_status(numerator: Long, denominator: Long) -> bool;
    gearman_job_send_complete: GearmanJob => send_complete(result: Str) -> bool;
    gearman_job_send_exception: GearmanJob => send_exception(exception: Str) -> bool;
    gearman_job_send_fail: GearmanJob => send_fail() -> bool;
    gearman_job_handle: GearmanJob => handle() -> Zval;
    gearman_job_function_name: GearmanJob => function_name() -> Zval;
    gearman_job_unique: GearmanJob => unique() -> Zval;
    gearman_job_workload: GearmanJob => workload() -> StringZval;
    gearman_job_workload_size: GearmanJob => workload_size() -> i64;

    gearman_task_return_code: GearmanTask => return_code() -> i64;
    gearman_task_function_name: GearmanTask => function_name() -> Zval;
    gearman_task_unique: GearmanTask => unique() -> Zval;
    gearman_task_job_handle: GearmanTask => job_handle() -> Zval;
    gearman_task_is_known: GearmanTask => is_known() -> bool;
    gearman_task_is_running: GearmanTask => is_running() -> bool;
    gearman_task_numerator: GearmanTask => task_numerator() -> Zval;
    gearman_task_denominator: GearmanTask => task_denominator() -> Zval;
    gearman_task_data: GearmanTask => data() -> Zval;
    gearman_task_data_size: GearmanTask => data_size() -> Zval;
    gearman_task_send_workload: GearmanTask => send_workload(data: Str) -> Zval;
    gearman_task_recv_data: GearmanTask => recv_data(data_len: Long) -> Zval;

    gearman_worker_return_code: GearmanWorker => return_code() -> i64;
    gearman_worker_error: GearmanWorker => error() -> Zval;
    gearman_worker_errno: GearmanWorker => get_errno() -> i64;
    gearman_worker_options: GearmanWorker => options() -> i64;
    gearman_worker_set_options: GearmanWorker => set_options(option: Long) -> bool;
    gearman_worker_add_options: GearmanWorker => add_options(option: Long) -> bool;
    gearman_worker_remove_options: GearmanWorker => remove_options(option: Long) -> bool;
    gearman_worker_timeout: GearmanWorker => timeout() -> i64;
    gearman_worker_set_timeout: GearmanWorker => set_timeout(timeout: Long) -> bool;
    gearman_worker_set_id: GearmanWorker => set_id(id: Str) -> bool;
    #[php(optional = host, defaults(port = 0, setupExceptionHandler = true))]
    gearman_worker_add_server: GearmanWorker => add_server(host: Option<PhpBytes>, port: Defaulted<Long>, setupExceptionHandler: Defaulted<Flag>) -> PhpResult<bool>;
    #[php(optional = servers, defaults(setupExceptionHandler = true))]
    gearman_worker_add_servers: GearmanWorker => add_servers(servers: Option<PhpBytes>, setupExceptionHandler: Defaulted<Flag>) -> PhpResult<bool>;
    gearman_worker_wait: GearmanWorker => wait() -> bool;
    #[php(defaults(timeout = 0))]
    gearman_worker_register: GearmanWorker => register(function_name: Str, timeout: Defaulted<Long>) -> bool;
    gearman_worker_unregister: GearmanWorker => unregister(function_name: Str) -> bool;
    gearman_worker_unregister_all: GearmanWorker => unregister_all() -> bool;
    gearman_worker_grab_job: GearmanWorker => grab_job() -> Zval;
    #[php(optional = context, defaults(timeout = 0))]
    gearman_worker_add_function: GearmanWorker => add_function(function_name: Str, function: CallableArg, context: Option<&Zval>, timeout: Defaulted<Long>) -> bool;
    gearman_worker_work: GearmanWorker => work() -> bool;
    gearman_worker_ping: GearmanWorker => ping(data: Str) -> bool;
    gearman_worker_enable_exception_handler: GearmanWorker => enable_exception_handler() -> PhpResult<bool>;
}
