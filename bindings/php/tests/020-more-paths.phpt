--TEST--
Tasks added by a callback run in the same runTasks(); a non-blocking worker
--FILE--
<?php
require __DIR__ . '/gearman.inc';
$tag = 'more';
clear_notes($tag);
$pid = fork_worker($tag, [
    fname('echo') => fn ($job) => 'echo:' . $job->workload(),
]);
$c = test_client();
$done = [];
$c->setCompleteCallback(function ($task) use ($c, &$done) {
    $done[] = $task->data();
    if ($task->data() === 'echo:first') {
        $c->addTask(fname('echo'), 'second');
    }
});
$c->addTask(fname('echo'), 'first');
var_dump($c->runTasks(), $done);

stop_worker($pid, $tag);

// Non-blocking: work() returns at once with IO_WAIT until a job is there.
$w = new GearmanWorker();
$w->addServer(test_host(), test_port());
$w->addOptions(GEARMAN_WORKER_NON_BLOCKING);
$w->addFunction(fname('nb'), fn ($job) => 'nb:' . $job->workload());
$start = microtime(true);
// libgearman says IO_WAIT or, depending on timing, NO_JOBS.
var_dump(@$w->work(), in_array($w->returnCode(), [GEARMAN_IO_WAIT, GEARMAN_NO_JOBS]));
var_dump(microtime(true) - $start < 1);
$h = $c->doBackground(fname('nb'), 'x');
$ran = false;
for ($i = 0; $i < 500 && !$ran; $i++) {
    $ran = @$w->work();
    if (!$ran) {
        usleep(10000);
    }
}
var_dump($ran, $w->returnCode());
--EXPECTF--
bool(true)
array(2) {
  [0]=>
  string(10) "echo:first"
  [1]=>
  string(11) "echo:second"
}
bool(false)
bool(true)
bool(true)
bool(true)
int(0)
