--TEST--
libgearman's argument checks: an empty ping payload, a status task's function name, enableExceptionHandler() without servers
--FILE--
<?php
require __DIR__ . '/gearman.inc';
$c = test_client();
// 49 is GEARMAN_INVALID_ARGUMENT, for which pecl declares no constant.
var_dump(@$c->ping(''), $c->returnCode() === 49);
var_dump($c->ping('x'), $c->returnCode());
$task = $c->addTaskStatus('H:nowhere:1');
var_dump($task->functionName(), $task->jobHandle());
try {
    (new GearmanClient())->enableExceptionHandler();
} catch (GearmanException $e) {
    echo get_class($e), ': ', $e->getMessage(), "\n";
}
--EXPECT--
bool(false)
bool(true)
bool(true)
int(0)
string(11) "H:nowhere:1"
string(11) "H:nowhere:1"
GearmanException: Failed to set exception option
