--TEST--
Fresh objects: options, timeouts, return codes, context, option setters
--FILE--
<?php
$c = new GearmanClient();
var_dump($c->options(), $c->timeout(), $c->returnCode(), $c->error(), $c->getErrno());
var_dump($c->setOptions(GEARMAN_CLIENT_NON_BLOCKING), $c->options());
var_dump($c->addOptions(GEARMAN_CLIENT_FREE_TASKS), $c->options());
var_dump($c->removeOptions(GEARMAN_CLIENT_NON_BLOCKING | GEARMAN_CLIENT_FREE_TASKS), $c->options());
var_dump($c->setTimeout(3), $c->timeout());
var_dump($c->context(), $c->setContext("ctx-data"), $c->context());
var_dump($c->doJobHandle(), $c->doStatus());
var_dump($c->clearCallbacks());

$w = new GearmanWorker();
var_dump($w->options(), $w->timeout(), $w->returnCode(), $w->error(), $w->getErrno());
var_dump($w->setOptions(GEARMAN_WORKER_NON_BLOCKING), $w->options());
$w2 = new GearmanWorker();
var_dump($w2->addOptions(GEARMAN_WORKER_NON_BLOCKING), $w2->options());
var_dump($w2->removeOptions(GEARMAN_WORKER_NON_BLOCKING), $w2->options());
var_dump($w->setTimeout(5), $w->timeout());

$j = new GearmanJob();
var_dump($j->returnCode(), $j->setReturn(GEARMAN_TIMEOUT), $j->returnCode());
var_dump($j->handle(), $j->functionName(), $j->unique(), $j->workload(), $j->workloadSize());

$t = new GearmanTask();
var_dump($t->returnCode(), $t->functionName(), $t->jobHandle(), $t->isKnown(), $t->isRunning(), $t->data());

var_dump(gearman_client_options($c), gearman_worker_options($w), gearman_worker_timeout($w));
--EXPECT--
int(32)
int(-1)
int(0)
bool(false)
int(0)
bool(true)
int(2)
bool(true)
int(34)
bool(true)
int(0)
bool(true)
int(3)
string(0) ""
bool(true)
string(8) "ctx-data"
string(0) ""
array(2) {
  [0]=>
  int(0)
  [1]=>
  int(0)
}
bool(true)
int(644)
int(-1)
int(0)
bool(false)
int(0)
bool(true)
int(6)
bool(true)
int(646)
bool(true)
int(644)
bool(true)
int(5)
int(0)
bool(true)
int(47)
bool(false)
bool(false)
bool(false)
string(0) ""
int(0)
int(0)
bool(false)
bool(false)
bool(false)
bool(false)
bool(false)
int(0)
int(262)
int(5)
