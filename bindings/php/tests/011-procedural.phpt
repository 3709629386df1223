--TEST--
The procedural twins against a worker
--FILE--
<?php
require __DIR__ . '/gearman.inc';
$f = fname('proc');
$pid = pcntl_fork();
if ($pid === 0) {
    $w = gearman_worker_create();
    gearman_worker_add_server($w, test_host(), test_port());
    gearman_worker_set_timeout($w, 5000);
    gearman_worker_add_function($w, $f, function ($job) {
        gearman_job_send_data($job, 'p-');
        gearman_job_send_status($job, 1, 1);
        return strtoupper(gearman_job_workload($job)) . gearman_job_workload_size($job);
    });
    for ($i = 0; $i < 2; $i++) { gearman_worker_work($w); }
    exit(0);
}
$c = gearman_client_create();
var_dump(gearman_client_add_server($c, test_host(), test_port()));
var_dump(gearman_client_do_normal($c, $f, 'abc'), gearman_client_return_code($c));
var_dump(gearman_client_ping($c, 'x'), gearman_client_timeout($c), gearman_client_set_timeout($c, 5000));
$done = [];
gearman_client_set_complete_callback($c, function ($task) use (&$done) {
    $done[] = [gearman_task_data($task), gearman_task_data_size($task), gearman_task_is_known($task),
               gearman_task_numerator($task), gearman_task_denominator($task)];
});
$task = gearman_client_add_task($c, $f, 'xyz');
var_dump(preg_match('/-/', gearman_task_unique($task)), gearman_task_function_name($task) === $f);
var_dump(gearman_client_run_tasks($c), $done);
pcntl_waitpid($pid, $status);
$h = gearman_client_do_background($c, fname('nobody'), 'x', 'proc-unique');
var_dump(gearman_client_job_status_by_unique_key($c, 'proc-unique'));
var_dump(gearman_client_options($c), gearman_client_set_options($c, 0), gearman_client_options($c));
var_dump(gearman_client_context($c), gearman_client_set_context($c, 'c'), gearman_client_context($c));
--EXPECTF--
bool(true)
string(6) "p-ABC3"
int(0)
bool(true)
int(-1)
bool(true)
int(1)
bool(true)
bool(true)
array(1) {
  [0]=>
  array(5) {
    [0]=>
    string(4) "XYZ3"
    [1]=>
    int(4)
    [2]=>
    bool(false)
    [3]=>
    int(1)
    [4]=>
    int(1)
  }
}
array(4) {
  [0]=>
  bool(true)
  [1]=>
  bool(false)
  [2]=>
  int(0)
  [3]=>
  int(0)
}
int(32)
bool(true)
int(0)
string(0) ""
bool(true)
string(1) "c"
