<?php
// One load script for both PHP extensions (whichever `gearman` is loaded): N foreground jobs,
// 1 in flight (doNormal in a loop) or INFLIGHT at a time (addTask × INFLIGHT, then runTasks).
// Prints jobs/s and this process's CPU time per job in µs.   Usage: load.php PORT INFLIGHT JOBS
[$port, $inflight, $jobs] = [(int)$argv[1], (int)$argv[2], (int)$argv[3]];
$client = new GearmanClient();
$client->addServer('127.0.0.1', $port);
$payload = '0123456789';
if ($client->doNormal('bench_echo', $payload) !== $payload) {
    fwrite(STDERR, "warm-up failed: rc " . $client->returnCode() . "\n");
    exit(1);
}
function cpu(): float {
    $u = getrusage();
    return $u['ru_utime.tv_sec'] + $u['ru_utime.tv_usec'] / 1e6 + $u['ru_stime.tv_sec'] + $u['ru_stime.tv_usec'] / 1e6;
}
$done = 0;
$client->setCompleteCallback(function (GearmanTask $task) use (&$done, $payload) {
    if ($task->data() === $payload) {
        $done++;
    }
});
[$t0, $c0] = [microtime(true), cpu()];
if ($inflight <= 1) {
    for ($i = 0; $i < $jobs; $i++) {
        if ($client->doNormal('bench_echo', $payload) === $payload) {
            $done++;
        }
    }
} else {
    for ($i = 0; $i < intdiv($jobs, $inflight); $i++) {
        for ($k = 0; $k < $inflight; $k++) {
            $client->addTask('bench_echo', $payload);
        }
        $client->runTasks();
    }
}
[$wall, $used] = [microtime(true) - $t0, cpu() - $c0];
if ($done !== $jobs) {
    fwrite(STDERR, "only $done of $jobs jobs completed\n");
    exit(1);
}
printf("%.0f %.1f\n", $jobs / $wall, $used * 1e6 / $jobs);
