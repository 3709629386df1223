<?php
// Echo worker for the PHP benchmark; runs until idle for 5 s.
$worker = new GearmanWorker();
$worker->addServer('127.0.0.1', (int)$argv[1]);
$worker->setTimeout(5000);
$worker->addFunction('bench_echo', fn (GearmanJob $job) => $job->workload());
while ($worker->work());
