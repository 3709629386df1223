--TEST--
pecl 2.1.5: the worker's addServer()/addServers() connect at once and throw for a dead server; enableExceptionHandler()
--SKIPIF--
<?php
// pecl 2.1.0 (Debian) has no $setupExceptionHandler parameter on the worker and no
// GearmanWorker::enableExceptionHandler(); this is 2.1.5's API.
if (version_compare(phpversion('gearman'), '2.1.5', '<')) die('skip pecl 2.1.5 API');
?>
--FILE--
<?php
require __DIR__ . '/gearman.inc';
$dead = dead_port();
foreach ([
    'worker addServer' => fn () => (new GearmanWorker())->addServer('127.0.0.1', $dead),
    'worker addServers' => fn () => (new GearmanWorker())->addServers("127.0.0.1:$dead," . test_host() . ':' . test_port()),
    'worker lazy addServer' => fn () => (new GearmanWorker())->addServer('127.0.0.1', $dead, false),
    'client enableExceptionHandler' => function () use ($dead) {
        $c = new GearmanClient();
        $c->addServer('127.0.0.1', $dead, false);
        return $c->enableExceptionHandler();
    },
    'worker enableExceptionHandler' => function () use ($dead) {
        $w = new GearmanWorker();
        $w->addServer('127.0.0.1', $dead, false);
        return $w->enableExceptionHandler();
    },
    'live worker' => fn () => (new GearmanWorker())->addServer(test_host(), test_port()),
    'live client enableExceptionHandler' => fn () => test_client()->enableExceptionHandler(),
] as $what => $call) {
    try {
        $result = json_encode($call());
    } catch (GearmanException $e) {
        $result = get_class($e) . ' ' . $e->getMessage() . ' ' . $e->getCode();
    }
    echo $what, ': ', $result, "\n";
}
--EXPECT--
worker addServer: GearmanException Failed to set exception option 0
worker addServers: GearmanException Failed to set exception option 0
worker lazy addServer: true
client enableExceptionHandler: GearmanException Failed to set exception option 0
worker enableExceptionHandler: GearmanException Failed to set exception option 0
live worker: true
live client enableExceptionHandler: true
