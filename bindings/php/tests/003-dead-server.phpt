--TEST--
A dead server or none: exceptions from addServer, warnings and return codes from every call
--FILE--
<?php
require __DIR__ . '/gearman.inc';
$dead = dead_port();

$c = new GearmanClient();
try {
    $c->addServer('127.0.0.1', $dead);
    echo "no exception\n";
} catch (GearmanException $e) {
    var_dump(get_class($e), $e->getMessage(), $e->getCode());
}
try {
    (new GearmanClient())->addServers("127.0.0.1:$dead," . test_host() . ':' . test_port());
    echo "no exception\n";
} catch (GearmanException $e) {
    echo "addServers: ", $e->getMessage(), "\n";
}

// A fresh client per call: libgearman 1.1.20 hangs in runTasks() after a failed jobStatus().
function dead_client(int $dead): GearmanClient {
    $c = new GearmanClient();
    $c->addServer('127.0.0.1', $dead, false);
    return $c;
}
$c = new GearmanClient();
var_dump($c->addServer('127.0.0.1', $dead, false));
var_dump($c->doNormal('f', 'x'), $c->returnCode());
var_dump(is_string($c->error()), $c->getErrno() > 0);
$c = dead_client($dead);
var_dump($c->doBackground('f', 'x'), $c->returnCode());
$c = dead_client($dead);
var_dump($c->jobStatus('H:x:1'), $c->returnCode());
$c = dead_client($dead);
var_dump($c->ping('x'), $c->returnCode());
$c = dead_client($dead);
$c->addTask('f', 'x');
var_dump($c->runTasks(), $c->returnCode());

$none = new GearmanClient();
var_dump($none->doNormal('f', 'x'), $none->returnCode());
var_dump($none->runTasks(), $none->returnCode());

var_dump(@$c->addServer('no-such-host.invalid', 4730, false), $c->returnCode());
--EXPECTF--
string(16) "GearmanException"
string(30) "Failed to set exception option"
int(0)
addServers: Failed to set exception option
bool(true)

Warning: GearmanClient::doNormal(): %sGEARMAN_COULD_NOT_CONNECT%s in %s on line %d
string(0) ""
int(26)
bool(true)
bool(false)

Warning: GearmanClient::doBackground(): %sGEARMAN_COULD_NOT_CONNECT%s in %s on line %d
string(0) ""
int(26)

Warning: GearmanClient::jobStatus(): %sGEARMAN_COULD_NOT_CONNECT%s in %s on line %d
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

Warning: GearmanClient::ping(): %sGEARMAN_COULD_NOT_CONNECT%s in %s on line %d
bool(false)
int(26)

Warning: GearmanClient::runTasks(): %sGEARMAN_COULD_NOT_CONNECT%s in %s on line %d
bool(false)
int(26)

Warning: GearmanClient::doNormal(): %sGEARMAN_NO_SERVERS%s in %s on line %d
string(0) ""
int(13)
bool(true)
int(0)
bool(false)
int(12)
