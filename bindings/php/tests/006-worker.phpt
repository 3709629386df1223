--TEST--
Worker callbacks: arguments, return value conversion, early completion, setReturn, job methods; LIFO task order
--FILE--
<?php
require __DIR__ . '/gearman.inc';
$tag = 'worker';
clear_notes($tag);
$pid = fork_worker($tag, [
    fname('int') => function ($job) { return 42; },
    fname('null') => function ($job) { },
    fname('array') => function ($job) { return @[1, 2]; },
    fname('early') => function ($job) { $job->sendComplete('early'); return 'late'; },
    fname('setreturn') => function ($job) { $job->setReturn(GEARMAN_WORK_FAIL); return 'ignored'; },
    fname('methods') => function ($job, $context) use ($tag) {
        child_note($tag, json_encode([
            'context' => $context,
            'data' => $job->sendData('d'), 'warning' => $job->sendWarning('w'),
            'status' => $job->sendStatus(1, 2), 'rc' => $job->returnCode(),
            'handle' => (bool)preg_match('/^H:/', $job->handle()),
            'function' => preg_replace('/-\d+$/', '', $job->functionName()),
            'unique' => $job->unique(), 'workload' => $job->workload(), 'size' => $job->workloadSize(),
        ]));
        return 'ok';
    },
    fname('complete') => function ($job) use ($tag) { child_note($tag, 'sendComplete ' . json_encode($job->sendComplete('c'))); },
    fname('fail') => function ($job) use ($tag) { child_note($tag, 'sendFail ' . json_encode($job->sendFail())); },
    fname('exception') => function ($job) use ($tag) { child_note($tag, 'sendException ' . json_encode($job->sendException('e'))); },
]);
$c = test_client();
var_dump($c->doNormal(fname('int'), 'x'));
var_dump($c->doNormal(fname('null'), 'x'));
var_dump($c->doNormal(fname('array'), 'x'));
var_dump($c->doNormal(fname('early'), 'x'));
var_dump($c->doNormal(fname('setreturn'), 'x'), $c->returnCode());
var_dump($c->doNormal(fname('methods'), 'payload', 'u-1'));
var_dump($c->doNormal(fname('complete'), 'x'));
var_dump($c->doNormal(fname('fail'), 'x'), $c->returnCode());
var_dump($c->doNormal(fname('exception'), 'x'), $c->returnCode());
stop_worker($pid, $tag);
echo child_notes($tag);

// One worker that starts after six tasks are queued sees them in LIFO order, by priority.
$order = fname('order');
$c->addTask($order, 'normal');
$c->addTaskBackground($order, 'normalbg');
$c->addTaskHigh($order, 1);
$c->addTaskHighBackground($order, 2.0);
$c->addTaskLow($order, 'low');
$c->addTaskLowBackground($order, true);
$pid = fork_worker('order', [$order => function ($job) { child_note('order', $job->workload()); return 'x'; }], 300);
var_dump($c->runTasks());
stop_worker($pid, 'order');
echo str_replace("\n", ' ', child_notes('order')), "\n";
--EXPECTF--
string(2) "42"
string(0) ""
string(5) "Array"
string(5) "early"
string(0) ""
int(24)
string(3) "dok"
string(1) "c"
string(0) ""
int(24)
string(0) ""
int(23)
{"context":null,"data":true,"warning":true,"status":true,"rc":0,"handle":true,"function":"methods","unique":"u-1","workload":"payload","size":7}
sendComplete true
sendFail true
sendException true
bool(true)
2 1 normalbg normal 1 low 
