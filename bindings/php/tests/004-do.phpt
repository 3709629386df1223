--TEST--
doNormal / doHigh / doLow / doBackground* through a forked worker: data chunks, fail, exception, status, coalescing
--FILE--
<?php
require __DIR__ . '/gearman.inc';
$tag = 'do';
$pid = fork_worker($tag, [
    fname('reverse') => function (GearmanJob $job) { return strrev($job->workload()); },
    fname('chunks') => function (GearmanJob $job) {
        $job->sendData('d1');
        $job->sendStatus(1, 2);
        $job->sendData('d2');
        return 'final';
    },
    fname('fail') => function (GearmanJob $job) { $job->sendFail(); },
    fname('exception') => function (GearmanJob $job) { $job->sendException('boom'); },
    fname('binary') => function (GearmanJob $job) { return $job->workload() . "\0" . $job->workloadSize(); },
    fname('unique') => function (GearmanJob $job) { return $job->unique(); },
]);
$c = test_client();
var_dump($c->doNormal(fname('reverse'), 'Hello'), $c->returnCode());
var_dump($c->doJobHandle());
var_dump($c->doHigh(fname('reverse'), 'high'), $c->doLow(fname('reverse'), 'low'));
var_dump($c->doNormal(fname('reverse'), 12345));
var_dump($c->doNormal(fname('chunks'), 'x'), $c->returnCode());
var_dump($c->doNormal(fname('fail'), 'x'), $c->returnCode());
var_dump($c->doNormal(fname('exception'), 'x'), $c->returnCode());
var_dump(bin2hex($c->doNormal(fname('binary'), "a\0b")));
var_dump($c->doNormal(fname('unique'), 'x', 'my-unique'));
var_dump(strlen($c->doNormal(fname('unique'), 'x')));
var_dump($c->ping('echo me'));

// Background jobs for a function no worker serves stay queued.
$h1 = $c->doBackground(fname('nobody'), 'x', 'same-unique');
$h2 = $c->doBackground(fname('nobody'), 'y', 'same-unique');
var_dump(preg_match('/^H:.+:\d+$/', $h1), $h1 === $h2, $c->doJobHandle() === $h2);
var_dump(preg_match('/^H:/', $c->doHighBackground(fname('nobody'), 'h')), preg_match('/^H:/', $c->doLowBackground(fname('nobody'), 'l')));
// Status queries on a client of their own: libgearman 1.1.20 hangs in the next submission after
// a GET_STATUS for an unknown handle.
$s = test_client();
var_dump($s->jobStatus($h1), $s->returnCode());
var_dump($s->jobStatusByUniqueKey('same-unique'));
var_dump($s->jobStatus('H:nowhere:12345'), $s->returnCode());
stop_worker($pid, $tag);
--EXPECTF--
string(5) "olleH"
int(0)
string(0) ""
string(4) "hgih"
string(3) "wol"
string(5) "54321"
string(9) "d1d2final"
int(0)
string(0) ""
int(24)
string(0) ""
int(23)
string(10) "6100620033"
string(9) "my-unique"
int(36)
bool(true)
int(1)
bool(true)
bool(true)
int(1)
int(1)
array(4) {
  [0]=>
  bool(true)
  [1]=>
  bool(false)
  [2]=>
  int(0)
  [3]=>
  int(0)
}
int(0)
array(4) {
  [0]=>
  bool(true)
  [1]=>
  bool(false)
  [2]=>
  int(0)
  [3]=>
  int(0)
}
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
int(0)
