--TEST--
Several servers with one dead: jobs go to the live one; a callback's non-zero return pauses runTasks()
--FILE--
<?php
require __DIR__ . '/gearman.inc';
$tag = 'pause';
$pid = fork_worker($tag, [fname('echo') => fn ($job) => 'echo:' . $job->workload()]);
$c = new GearmanClient();
var_dump($c->addServers('127.0.0.1:' . dead_port() . ',' . test_host() . ':' . test_port(), false));
$results = [];
for ($i = 0; $i < 4; $i++) {
    $results[] = $c->doNormal(fname('echo'), "$i");
}
var_dump($results, $c->returnCode());

$c = test_client();
$events = [];
$pauses = 0;
$c->setCreatedCallback(function ($task) use (&$events, &$pauses) {
    $events[] = 'created ' . $task->unique();
    // A paused task's callback runs again when runTasks() resumes it.
    return $pauses++ < 2 ? GEARMAN_PAUSE : GEARMAN_SUCCESS;
});
$c->setCompleteCallback(function ($task) use (&$events) { $events[] = 'complete ' . $task->data(); });
$c->addTask(fname('echo'), 'a', null, 'pause-a');
$rounds = 0;
do {
    $ok = $c->runTasks();
    $rounds++;
    $events[] = "runTasks " . json_encode($ok) . " rc=" . $c->returnCode();
} while ($c->returnCode() == GEARMAN_PAUSE && $rounds < 5);
var_dump($events);
stop_worker($pid, $tag);
--EXPECTF--
bool(true)
array(4) {
  [0]=>
  string(6) "echo:0"
  [1]=>
  string(6) "echo:1"
  [2]=>
  string(6) "echo:2"
  [3]=>
  string(6) "echo:3"
}
int(0)
array(7) {
  [0]=>
  string(15) "created pause-a"
  [1]=>
  string(19) "runTasks true rc=38"
  [2]=>
  string(15) "created pause-a"
  [3]=>
  string(19) "runTasks true rc=38"
  [4]=>
  string(15) "created pause-a"
  [5]=>
  string(15) "complete echo:a"
  [6]=>
  string(18) "runTasks true rc=0"
}
