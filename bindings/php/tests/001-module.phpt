--TEST--
Module facts: name, version, classes, functions, constants
--FILE--
<?php
var_dump(extension_loaded('gearman'));
var_dump(version_compare(phpversion('gearman'), '2.1.0', '>='));
var_dump(gearman_bugreport());
var_dump(gearman_verbose_name(3), gearman_verbose_name(GEARMAN_VERBOSE_DEBUG));
var_dump(is_string(gearman_version()));
foreach (['GearmanClient', 'GearmanWorker', 'GearmanJob', 'GearmanTask', 'GearmanException'] as $class) {
    $r = new ReflectionClass($class);
    echo $class, ' final=', var_export($r->isFinal(), true), "\n";
}
var_dump(is_subclass_of('GearmanException', 'Exception'));
$constants = get_defined_constants(true)['gearman'];
// Ours adds libgearman's TLS options, which pecl lacks (028-tls.phpt).
unset($constants['GEARMAN_CLIENT_SSL'], $constants['GEARMAN_WORKER_SSL']);
var_dump(count($constants));
var_dump(GEARMAN_DEFAULT_TCP_HOST, GEARMAN_DEFAULT_TCP_PORT, GEARMAN_SUCCESS, GEARMAN_WORK_FAIL,
    GEARMAN_TIMEOUT, GEARMAN_MAX_RETURN, GEARMAN_COMMAND_SUBMIT_JOB_EPOCH, GEARMAN_COMMAND_MAX,
    GEARMAN_CLIENT_FREE_TASKS, GEARMAN_WORKER_GRAB_UNIQ, GEARMAN_WORKER_TIMEOUT_RETURN,
    GEARMAN_TASK_STATE_FINISHED, GEARMAN_JOB_PRIORITY_LOW, GEARMAN_VERBOSE_MAX);
var_dump(defined('GEARMAN_NO_REGISTERED_FUNCTION'), defined('GEARMAN_WORKER_GRAB_ALL'));
$functions = get_extension_funcs('gearman');
var_dump(count($functions) >= 93);
foreach (['gearman_client_do_normal', 'gearman_client_get_errno', 'gearman_worker_errno',
          'gearman_task_numerator', 'gearman_task_is_known', 'gearman_job_set_return'] as $f) {
    echo $f, ' ', var_export(function_exists($f), true), "\n";
}
var_dump(gearman_client_create() instanceof GearmanClient, gearman_worker_create() instanceof GearmanWorker);
// What `php --ri gearman` prints.
ob_start();
(new ReflectionExtension('gearman'))->info();
$info = ob_get_clean();
foreach (['gearman support', 'extension version', 'libgearman version', 'Default TCP Host', 'Default TCP Port'] as $row) {
    preg_match('/^' . $row . ' => (.*)$/m', $info, $m);
    echo $row, ': ', in_array($row, ['extension version', 'libgearman version']) ? (bool)$m : $m[1], "\n";
}
--EXPECT--
bool(true)
bool(true)
string(42) "https://github.com/gearman/gearmand/issues"
string(4) "INFO"
string(5) "DEBUG"
bool(true)
GearmanClient final=false
GearmanWorker final=false
GearmanJob final=false
GearmanTask final=false
GearmanException final=true
bool(true)
int(157)
string(9) "localhost"
int(4730)
int(0)
int(24)
int(47)
int(53)
int(36)
int(43)
int(32)
int(128)
int(256)
int(11)
int(2)
int(6)
bool(false)
bool(false)
bool(true)
gearman_client_do_normal true
gearman_client_get_errno true
gearman_worker_errno true
gearman_task_numerator true
gearman_task_is_known true
gearman_job_set_return true
bool(true)
bool(true)
gearman support: enabled
extension version: 1
libgearman version: 1
Default TCP Host: localhost
Default TCP Port: 4730
