--TEST--
GearmanException is pecl's plain engine class: constructible with Exception's constructor, public $code, and the file, line and trace of the PHP call that raised it
--FILE--
<?php
require __DIR__ . '/gearman.inc';
$e = new GearmanException("m", 3);
var_dump($e->getMessage(), $e->getCode(), $e->code, get_parent_class($e), (new ReflectionClass($e))->isFinal());
$c = new GearmanClient();
try {
    $c->addServer(test_host(), dead_port());
} catch (GearmanException $e) {
    var_dump($e->getMessage(), basename($e->getFile()), $e->getLine() === __LINE__ - 2, count($e->getTrace()));
}
--EXPECT--
string(1) "m"
int(3)
int(3)
string(9) "Exception"
bool(true)
string(30) "Failed to set exception option"
string(17) "023-exception.php"
bool(true)
int(1)
