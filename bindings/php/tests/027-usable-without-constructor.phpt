--TEST--
Ours: a client or worker whose constructor was skipped works as a new one, also after __destruct(); a job's __destruct() inside its callback does not lose the answer
--SKIPIF--
<?php
// pecl's such objects fail every call with GEARMAN_INVALID_ARGUMENT (a zeroed libgearman struct);
// a job freed inside its callback is a use after free there.
if (strpos(gearman_version(), 'gearman-rs') === false || version_compare(phpversion('gearman'), '2.1.5', '<')) die('skip the reference fails on these objects');
?>
--FILE--
<?php
require __DIR__ . '/gearman.inc';
class NoParentClient extends GearmanClient { function __construct() {} }
class NoParentWorker extends GearmanWorker { function __construct() {} }

$tag = 'noctor';
$reverse = fname('reverse');
$pid = pcntl_fork();
if ($pid === 0) {
    $worker = new NoParentWorker();
    $worker->addServer(test_host(), test_port());
    $worker->setTimeout(10000);
    $worker->addFunction($reverse, function ($job) {
        $job->__destruct();
        return strrev($job->workload());
    });
    $worker->addFunction("quit_$tag", fn () => 'bye');
    // The reverse job, then the quit job.
    for ($jobs = 0; $jobs < 2 && @$worker->work(); $jobs++) {
    }
    exit(0);
}

$clients = [
    new NoParentClient(),
    (new ReflectionClass('GearmanClient'))->newInstanceWithoutConstructor(),
    unserialize(serialize(new GearmanClient())),
];
foreach ($clients as $client) {
    echo get_class($client), ': ';
    var_dump($client->addServer(test_host(), test_port()), $client->ping('hello'));
}
var_dump($clients[0]->doNormal($reverse, 'abc'), $clients[0]->returnCode());

// After __destruct() the client is a new one: no servers, no context, but usable again.
$client = $clients[1];
$client->setContext('kept?');
$client->__destruct();
var_dump($client->context(), @$client->ping('x'), $client->returnCode() == GEARMAN_NO_SERVERS);
var_dump($client->addServer(test_host(), test_port()), $client->doNormal("quit_$tag", ''));
pcntl_waitpid($pid, $status);
var_dump(pcntl_wexitstatus($status));
--EXPECT--
NoParentClient: bool(true)
bool(true)
GearmanClient: bool(true)
bool(true)
GearmanClient: bool(true)
bool(true)
string(3) "cba"
int(0)
string(0) ""
bool(false)
bool(true)
bool(true)
string(3) "bye"
int(0)
