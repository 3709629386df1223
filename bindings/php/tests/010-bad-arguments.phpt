--TEST--
Bad arguments: non-callables, wrong types, out-of-range codes, bad hosts give warnings or TypeErrors, never a crash
--FILE--
<?php
require __DIR__ . '/gearman.inc';
$c = new GearmanClient();
var_dump($c->setCompleteCallback('no_such_function'));
var_dump($c->setFailCallback([1, 2]));
var_dump($c->setDataCallback(null));
$w = new GearmanWorker();
var_dump($w->addFunction('f', 'no_such_function'));
var_dump($w->addFunction('f', 42));
$j = new GearmanJob();
var_dump($j->setReturn(99), $j->setReturn(-1), $j->setReturn(GEARMAN_WORK_FAIL), $j->returnCode());
foreach ([
    fn () => $c->doNormal('f', []),
    fn () => $c->doNormal([], 'x'),
    fn () => $c->setTimeout('soon'),
    fn () => $w->setTimeout([]),
    fn () => $j->sendStatus('a', 'b'),
    fn () => gearman_client_do_normal(new GearmanWorker(), 'f', 'x'),
    fn () => gearman_job_handle('not a job'),
] as $i => $call) {
    try {
        $call();
        echo "$i: no error\n";
    } catch (Throwable $e) {
        echo "$i: ", $e instanceof TypeError ? 'TypeError' : get_class($e), "\n";
    }
}
var_dump(@$c->addServer('no-such-host.invalid', 4730, false), $c->returnCode());
var_dump(@$c->addServers('no-such-host.invalid:4730', false), $c->returnCode());
var_dump(gearman_verbose_name(-1));
echo "alive\n";
--EXPECTF--

Warning: GearmanClient::setCompleteCallback(): function no_such_function is not callable in %s on line %d
bool(false)

Warning: GearmanClient::setFailCallback(): function Array is not callable in %s on line %d
bool(false)

Warning: GearmanClient::setDataCallback(): function  is not callable in %s on line %d
bool(false)

Warning: GearmanWorker::addFunction(): Function 'no_such_function' is not a valid callback in %s on line %d
bool(false)

Warning: GearmanWorker::addFunction(): Function '42' is not a valid callback in %s on line %d
bool(false)

Warning: GearmanJob::setReturn(): Invalid gearman_return_t: 99 in %s on line %d

Warning: GearmanJob::setReturn(): Invalid gearman_return_t: -1 in %s on line %d
bool(false)
bool(false)
bool(true)
int(24)
0: TypeError
1: TypeError
2: TypeError
3: TypeError
4: TypeError
5: TypeError
6: TypeError
bool(false)
int(12)
bool(false)
int(12)

Warning: gearman_verbose_name(): Input must be an integer greater than 0. in %s on line %d
NULL
alive
