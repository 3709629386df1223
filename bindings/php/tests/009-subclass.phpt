--TEST--
PHP subclasses with their own constructors, method callbacks and an array context
--FILE--
<?php
require __DIR__ . '/gearman.inc';
class MyWorker extends GearmanWorker {
    public array $seen = [];
    public function __construct(private string $name) {
        parent::__construct();
        $this->addServer(test_host(), test_port());
        $this->addFunction($name, [$this, 'handler'], ['key' => 'value']);
        $this->addFunction($name . '-static', 'MyWorker::shout');
        $this->addFunction($name . '-string', 'strrev_job');
    }
    public function handler(GearmanJob $job, $context) {
        return $job->workload() . ':' . $context['key'];
    }
    public static function shout(GearmanJob $job) { return strtoupper($job->workload()); }
}
function strrev_job(GearmanJob $job) { return strrev($job->workload()); }

class MyClient extends GearmanClient {
    public function __construct(public string $label) {
        parent::__construct();
        $this->addServer(test_host(), test_port());
    }
    public function run(string $f, string $w) { return $this->label . '=' . $this->doNormal($f, $w); }
}

$name = fname('sub');
$pid = pcntl_fork();
if ($pid === 0) {
    $worker = new MyWorker($name);
    for ($i = 0; $i < 3; $i++) { $worker->work(); }
    exit(0);
}
$client = new MyClient('L');
var_dump($client instanceof GearmanClient, $client->options());
var_dump($client->run($name, 'w'));
var_dump($client->run($name . '-static', 'abc'));
var_dump($client->run($name . '-string', 'abc'));
pcntl_waitpid($pid, $status);
var_dump(pcntl_wexitstatus($status));
--EXPECTF--
bool(true)
int(32)
string(9) "L=w:value"
string(5) "L=ABC"
string(5) "L=cba"
int(0)
