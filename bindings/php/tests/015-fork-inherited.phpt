--TEST--
A client and a worker connected before pcntl_fork() keep working in the parent after the children exit
--SKIPIF--
<?php
// With libgearman, a child's exit shuts down the socket it inherited, so the parent's connected
// objects break (the reference prints "lost connection to server during send").
if (strpos(gearman_version(), 'gearman-rs') === false) die('skip the reference breaks inherited connections');
?>
--FILE--
<?php
require __DIR__ . '/gearman.inc';
$f = fname('inherited');
$client = test_client();
$worker = new GearmanWorker();
$worker->addServer(test_host(), test_port());
$worker->addFunction($f, fn ($job) => 'from parent worker: ' . $job->workload());
var_dump($client->ping('before'), $worker->ping('before'));
for ($i = 0; $i < 3; $i++) {
    $pid = pcntl_fork();
    if ($pid === 0) {
        $mine = test_client();
        exit($mine->ping("child $i") ? 0 : 1);
    }
    pcntl_waitpid($pid, $status);
    var_dump(pcntl_wexitstatus($status));
}
$pid = pcntl_fork();
if ($pid === 0) {
    $mine = test_client();
    exit($mine->doNormal($f, 'job') === 'from parent worker: job' ? 0 : 1);
}
var_dump($worker->work());
pcntl_waitpid($pid, $status);
var_dump(pcntl_wexitstatus($status));
var_dump($client->ping('after'), $client->doBackground(fname('nobody'), 'x') !== '');
--EXPECT--
bool(true)
bool(true)
int(0)
int(0)
int(0)
bool(true)
int(0)
bool(true)
bool(true)
