--TEST--
addTask* / runTasks: every callback, the context argument rule, task identity, dead tasks afterwards, addTaskStatus
--FILE--
<?php
require __DIR__ . '/gearman.inc';
$tag = 'tasks';
$pid = fork_worker($tag, [
    fname('steps') => function (GearmanJob $job) {
        $job->sendData('chunk');
        $job->sendWarning('careful');
        $job->sendStatus(3, 4);
        return 'done:' . $job->workload();
    },
    fname('fail') => function (GearmanJob $job) { $job->sendFail(); },
    fname('exception') => function (GearmanJob $job) { $job->sendException('unhandled'); },
]);
$c = test_client();
$log = [];
$describe = function (string $what) use (&$log) {
    return function (GearmanTask $task, ...$rest) use ($what, &$log) {
        $extra = count($rest) ? ' ctx=' . json_encode($rest[0]) : ' (no ctx)';
        $log[] = sprintf('%s %s data=%s num=%s/%s known=%s running=%s rc=%d%s',
            $what, preg_replace('/-\d+$/', '', (string)$task->functionName()),
            json_encode($task->data()), json_encode($task->taskNumerator()), json_encode($task->taskDenominator()),
            json_encode($task->isKnown()), json_encode($task->isRunning()), $task->returnCode(), $extra);
    };
};
var_dump($c->setCreatedCallback($describe('created')));
var_dump($c->setDataCallback($describe('data')));
var_dump($c->setWarningCallback($describe('warning')));
var_dump($c->setStatusCallback($describe('status')));
var_dump($c->setCompleteCallback($describe('complete')));
var_dump($c->setFailCallback($describe('fail')));
var_dump($c->setExceptionCallback($describe('exception')));

$t1 = $c->addTask(fname('steps'), 'a', ['k' => 'v']);
var_dump(get_class($t1), $t1->functionName() === fname('steps'), preg_match('/^(.*)-(.*)-(.*)-(.*)-(.*)$/', $t1->unique()));
var_dump($t1->jobHandle(), $t1->isKnown());
var_dump($c->runTasks(), $c->returnCode());
sort($log);
echo implode("\n", $log), "\n";
var_dump($t1->functionName(), $t1->data(), $t1->jobHandle(), $t1->isKnown(), $t1->returnCode());

// No context argument: callbacks get only the task. A null context still counts as given.
$log = [];
$c->addTask(fname('steps'), 'b');
$c->addTask(fname('steps'), 'c', null, 'unique-c');
$failing = $c->addTask(fname('fail'), 'x', 'fail-ctx');
$throwing = $c->addTask(fname('exception'), 'x', 42);
var_dump($c->runTasks(), $c->returnCode(), $failing->returnCode(), $throwing->returnCode());
sort($log);
echo implode("\n", $log), "\n";

// The callback receives the very object addTask returned.
$same = null;
$c->clearCallbacks();
$c->setCompleteCallback(function ($task) use (&$same) { $same = $task; });
$t = $c->addTask(fname('steps'), 'd');
$c->runTasks();
var_dump($same === $t);

// Background tasks and a status task.
$c->clearCallbacks();
$handles = [];
$c->setCreatedCallback(function ($task) use (&$handles) { $handles[] = $task->jobHandle(); });
$c->addTaskBackground(fname('nobody'), 'x');
$c->addTaskHighBackground(fname('nobody'), 'x');
$c->addTaskLowBackground(fname('nobody'), 'x');
var_dump($c->runTasks(), count($handles), preg_match('/^H:/', $handles[0]));
$statuses = [];
$c->setStatusCallback(function ($task, $ctx) use (&$statuses) {
    $statuses[] = [$ctx, $task->isKnown(), $task->isRunning(), $task->taskNumerator(), $task->taskDenominator()];
});
$c->addTaskStatus($handles[0], 'status-ctx');
var_dump($c->runTasks());
var_dump($statuses);
var_dump($c->runTasks());
stop_worker($pid, $tag);
--EXPECTF--
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
string(11) "GearmanTask"
bool(true)
int(1)
string(0) ""
bool(false)
bool(true)
int(0)
complete steps data="done:a" num=3/4 known=false running=false rc=0 ctx={"k":"v"}
created steps data="" num=0/0 known=true running=false rc=0 ctx={"k":"v"}
data steps data="chunk" num=0/0 known=true running=true rc=0 ctx={"k":"v"}
status steps data="" num=3/4 known=true running=true rc=0 ctx={"k":"v"}
warning steps data="careful" num=0/0 known=true running=true rc=0 ctx={"k":"v"}
bool(false)
bool(false)
bool(false)
bool(false)
int(0)
bool(true)
int(0)
int(0)
int(0)
complete steps data="done:b" num=3/4 known=false running=false rc=0 (no ctx)
complete steps data="done:c" num=3/4 known=false running=false rc=0 ctx=null
created exception data="" num=0/0 known=true running=false rc=0 ctx=42
created fail data="" num=0/0 known=true running=false rc=0 ctx="fail-ctx"
created steps data="" num=0/0 known=true running=false rc=0 (no ctx)
created steps data="" num=0/0 known=true running=false rc=0 ctx=null
data steps data="chunk" num=0/0 known=true running=true rc=0 (no ctx)
data steps data="chunk" num=0/0 known=true running=true rc=0 ctx=null
exception exception data="unhandled" num=0/0 known=false running=false rc=0 ctx=42
fail fail data="" num=0/0 known=false running=false rc=0 ctx="fail-ctx"
status steps data="" num=3/4 known=true running=true rc=0 (no ctx)
status steps data="" num=3/4 known=true running=true rc=0 ctx=null
warning steps data="careful" num=0/0 known=true running=true rc=0 (no ctx)
warning steps data="careful" num=0/0 known=true running=true rc=0 ctx=null
bool(true)
bool(true)
int(3)
int(1)
bool(true)
array(1) {
  [0]=>
  array(5) {
    [0]=>
    string(10) "status-ctx"
    [1]=>
    bool(true)
    [2]=>
    bool(false)
    [3]=>
    int(0)
    [4]=>
    int(0)
  }
}
bool(true)
