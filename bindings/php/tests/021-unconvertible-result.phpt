--TEST--
A worker callback result that cannot become a string reaches the client as an exception, not as an empty success
--SKIPIF--
<?php
// pecl sends WORK_COMPLETE with '' (the client sees success) while the Error is thrown in the worker.
if (strpos(gearman_version(), 'gearman-rs') === false) die('skip the reference reports success');
// Debian's php-gearman (2.1.0) on our libgearman: the library is fixed, the extension is not.
if (version_compare(phpversion('gearman'), '2.1.5', '<')) die('skip pecl 2.1.0 reports success');
?>
--FILE--
<?php
require __DIR__ . '/gearman.inc';
$tag = 'unconvertible';
$pid = fork_worker($tag, [fname('object') => fn ($job) => new stdClass()]);
$c = test_client();
var_dump($c->doNormal(fname('object'), 'x'), $c->returnCode());
stop_worker($pid, $tag);
--EXPECT--
string(0) ""
int(23)
