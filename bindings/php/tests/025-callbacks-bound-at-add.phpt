--TEST--
A task uses the callbacks set when it was added (libgearman binds them then): one set later is not called for it, one replaced later is called in its new form
--FILE--
<?php
require __DIR__ . '/gearman.inc';
$tag = 'bound';
$pid = fork_worker($tag, [fname('echo') => fn ($job) => $job->workload()]);
$c = test_client();
$c->addTask(fname('echo'), 'added before any callback');
$c->setCompleteCallback(function ($task) { echo 'first callback: ', $task->data(), "\n"; });
$c->addTask(fname('echo'), 'added after the first callback');
$c->setCompleteCallback(function ($task) { echo 'second callback: ', $task->data(), "\n"; });
var_dump($c->runTasks());
stop_worker($pid, $tag);
--EXPECT--
second callback: added after the first callback
bool(true)
