<?php
// php-gearman (pecl on libgearman) against a job server: a forked worker, a reverse job with
// status and data, a background job, a status query.
$port = (int) getenv("PORT");
$pid = pcntl_fork();
if ($pid === 0) {
    $worker = new GearmanWorker();
    $worker->addServer("127.0.0.1", $port);
    $worker->addFunction("reverse", function (GearmanJob $job) {
        $job->sendStatus(1, 2);
        $job->sendData("partial");
        return strrev($job->workload());
    });
    $worker->setTimeout(10000);
    $worker->work();
    exit(0);
}

function check($ok, $what) {
    if (!$ok) {
        fwrite(STDERR, "php-gearman: FAILED: $what\n");
        exit(1);
    }
}

$client = new GearmanClient();
check($client->addServer("127.0.0.1", $port), "addServer");
$result = $client->doNormal("reverse", "Hello gearman");
check($client->returnCode() === GEARMAN_SUCCESS, "doNormal return code " . $client->returnCode());
// pecl returns the WORK_DATA chunks followed by the final result.
check($result === "partialnamraeg olleH", "result $result");

$handle = $client->doBackground("php_bg", "later");
check($client->returnCode() === GEARMAN_SUCCESS, "doBackground");
check(strpos($handle, "H:") === 0, "handle $handle");
$status = $client->jobStatus($handle);
check($status === [true, false, 0, 0], "jobStatus " . json_encode($status));

pcntl_waitpid($pid, $status_code);
check(pcntl_wexitstatus($status_code) === 0, "worker exit");
echo "php-gearman: ok\n";
