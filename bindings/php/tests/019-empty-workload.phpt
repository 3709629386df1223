--TEST--
An empty workload is a valid job (libgearman 1.1.20 refuses it with GEARMAN_INVALID_ARGUMENT)
--SKIPIF--
<?php
if (strpos(gearman_version(), 'gearman-rs') === false) die('skip the reference refuses empty workloads');
?>
--FILE--
<?php
require __DIR__ . '/gearman.inc';
$tag = 'empty';
$pid = fork_worker($tag, [fname('size') => fn ($job) => 'size=' . $job->workloadSize()]);
$c = test_client();
var_dump($c->doNormal(fname('size'), ''), $c->returnCode());
var_dump(preg_match('/^H:/', $c->doBackground(fname('nobody'), '')), $c->returnCode());
$c->setCompleteCallback(function ($task) { var_dump($task->data()); });
$c->addTask(fname('size'), '');
var_dump($c->runTasks());
stop_worker($pid, $tag);
--EXPECT--
string(6) "size=0"
int(0)
int(1)
int(0)
string(6) "size=0"
bool(true)
