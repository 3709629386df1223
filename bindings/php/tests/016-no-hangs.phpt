--TEST--
Calls after a failed jobStatus() or after jobStatusByUniqueKey() return (libgearman 1.1.20 hangs in them)
--SKIPIF--
<?php
if (strpos(gearman_version(), 'gearman-rs') === false) die('skip the reference hangs here');
?>
--FILE--
<?php
require __DIR__ . '/gearman.inc';
$c = new GearmanClient();
$c->addServer('127.0.0.1', dead_port(), false);
var_dump(@$c->jobStatus('H:x:1'), $c->returnCode());
$c->addTask('f', 'x');
var_dump(@$c->runTasks(), $c->returnCode());

$c = test_client();
$h = $c->doBackground(fname('nobody'), 'x', 'no-hang-unique');
var_dump($c->jobStatusByUniqueKey('no-hang-unique')[0]);
var_dump(preg_match('/^H:/', $c->doHighBackground(fname('nobody'), 'h')), $c->ping('still here'));
--EXPECT--
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
int(26)
bool(false)
int(26)
bool(true)
int(1)
bool(true)
