--TEST--
A PHP exception thrown in a worker callback: WORK_EXCEPTION to the client, rethrown from work(), and the next job still runs
--SKIPIF--
<?php
// pecl on libgearman 1.1.20 returns true from the next work() without running a job, so one
// queued job is never processed and this test would hang there (php-api.md §4.2).
if (strpos(gearman_version(), 'gearman-rs') === false) die('skip the reference loses a job after a thrown exception');
// Debian's php-gearman (2.1.0) on our libgearman: the library is fixed, the extension is not.
if (version_compare(phpversion('gearman'), '2.1.5', '<')) die('skip pecl 2.1.0 sets returnCode() to 0 after a thrown callback');
?>
--FILE--
<?php
require __DIR__ . '/gearman.inc';
$tag = 'thrown';
clear_notes($tag);
$throws = fname('throws');
$fine = fname('fine');
$pid = pcntl_fork();
if ($pid === 0) {
    $worker = new GearmanWorker();
    $worker->addServer(test_host(), test_port());
    $worker->setTimeout(5000);
    $worker->addFunction($throws, function ($job) { throw new RuntimeException('thrown in callback'); });
    $worker->addFunction($fine, function ($job) { return 'fine:' . $job->workload(); });
    for ($i = 0; $i < 3; $i++) {
        try {
            $ok = $worker->work();
            child_note($tag, "work() returned " . json_encode($ok) . " rc=" . $worker->returnCode());
        } catch (RuntimeException $e) {
            child_note($tag, "work() threw " . $e->getMessage() . " rc=" . $worker->returnCode());
        }
    }
    exit(0);
}
$c = test_client();
$seen = [];
$c->setExceptionCallback(function ($task) use (&$seen) { $seen[] = $task->data(); });
var_dump($c->doNormal($throws, 'x'), $c->returnCode());
var_dump($c->doNormal($fine, 'one'));
$c->addTask($throws, 'y');
var_dump($c->runTasks(), $seen);
pcntl_waitpid($pid, $status);
echo child_notes($tag);
--EXPECT--
string(0) ""
int(23)
string(8) "fine:one"
bool(true)
array(1) {
  [0]=>
  string(29) "Unable to add worker function"
}
work() threw thrown in callback rc=23
work() returned true rc=0
work() threw thrown in callback rc=23
