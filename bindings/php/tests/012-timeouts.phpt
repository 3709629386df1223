--TEST--
Timeouts: a client waiting for a worker that never comes, a worker waiting for a job that never comes
--FILE--
<?php
require __DIR__ . '/gearman.inc';
$c = test_client();
$c->setTimeout(300);
$start = microtime(true);
var_dump($c->doNormal(fname('nobody'), 'x'), $c->returnCode());
$elapsed = microtime(true) - $start;
var_dump($elapsed >= 0.25 && $elapsed < 3);

$w = new GearmanWorker();
$w->addServer(test_host(), test_port());
$w->addFunction(fname('never'), function () { return 'x'; });
$w->setTimeout(200);
$start = microtime(true);
var_dump($w->work(), $w->returnCode());
$elapsed = microtime(true) - $start;
var_dump($elapsed >= 0.15 && $elapsed < 3);
--EXPECTF--

Warning: GearmanClient::doNormal(): %sGEARMAN_TIMEOUT%s in %s on line %d
string(0) ""
int(47)
bool(true)
bool(false)
int(47)
bool(true)
