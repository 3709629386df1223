--TEST--
Fork safety: objects created in forked children work, several clients and workers at once
--FILE--
<?php
require __DIR__ . '/gearman.inc';
$f = fname('forked');
// Created before the forks and used only by the parent. It must not connect before forking:
// with libgearman, a child's exit shuts down the inherited socket (ours only closes its copy).
$before = new GearmanClient();
$before->addServer(test_host(), test_port(), false);
$workers = [];
for ($i = 0; $i < 2; $i++) {
    $pid = pcntl_fork();
    if ($pid === 0) {
        $w = new GearmanWorker();
        $w->addServer(test_host(), test_port());
        $w->setTimeout(3000);
        $w->addFunction($f, function ($job) use ($i) { return $job->workload() * 2; });
        while ($w->work());
        exit(0);
    }
    $workers[] = $pid;
}
$clients = [];
for ($i = 0; $i < 3; $i++) {
    $pid = pcntl_fork();
    if ($pid === 0) {
        $c = test_client();
        $sum = 0;
        for ($n = 1; $n <= 20; $n++) { $sum += (int)$c->doNormal($f, (string)$n); }
        exit($sum === 420 ? 0 : 1);
    }
    $clients[] = $pid;
}
foreach ($clients as $pid) {
    pcntl_waitpid($pid, $status);
    var_dump(pcntl_wexitstatus($status));
}
var_dump($before->doNormal($f, '21'));
foreach ($workers as $pid) { pcntl_waitpid($pid, $status); }
echo "done\n";
--EXPECTF--
int(0)
int(0)
int(0)
string(2) "42"
done
