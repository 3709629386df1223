--TEST--
Worker registration, grabJob, setId, ping, unregister
--FILE--
<?php
require __DIR__ . '/gearman.inc';
$w = new GearmanWorker();
var_dump($w->addServer(test_host(), test_port()));
var_dump($w->setId('php-worker-' . getmypid()));
var_dump($w->ping('hello'));
var_dump($w->register(fname('grab')), $w->register(fname('other'), 5));
var_dump($w->unregister(fname('other')));
$c = test_client();
$h = $c->doBackground(fname('grab'), 'grab-me', 'grab-unique');
$job = $w->grabJob();
var_dump(get_class($job), $job->handle() === $h, $job->workload(), $job->unique());
var_dump(preg_replace('/-\d+$/', '', $job->functionName()));
var_dump($job->sendStatus(1, 3), $job->sendComplete('done'));
var_dump($c->jobStatus($h));
var_dump($w->unregisterAll());
$w2 = new GearmanWorker();
var_dump(@$w2->work(), $w2->returnCode());
--EXPECTF--
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
string(10) "GearmanJob"
bool(true)
string(7) "grab-me"
string(11) "grab-unique"
string(4) "grab"
bool(true)
bool(true)
array(4) {
  [0]=>
  bool(false)
  [1]=>
  bool(false)
  [2]=>
  int(0)
  [3]=>
  int(0)
}
bool(true)
bool(false)
int(13)
