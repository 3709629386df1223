--TEST--
Objects whose constructor was skipped answer like pecl's; __destruct exists and subclasses may call it
--FILE--
<?php
class NoParentClient extends GearmanClient { function __construct() {} }
class NoParentWorker extends GearmanWorker { function __construct() {} }
class MyJob extends GearmanJob {}
class DestructingClient extends GearmanClient {
    function __destruct() { echo "subclass destructor\n"; parent::__destruct(); }
}
class DestructingWorker extends GearmanWorker {
    function __destruct() { echo "subclass destructor\n"; parent::__destruct(); }
}
class DestructingJob extends GearmanJob {
    function __destruct() { echo "subclass destructor\n"; parent::__destruct(); }
}

function without_constructor(string $class) {
    return (new ReflectionClass($class))->newInstanceWithoutConstructor();
}

$objects = [
    new NoParentClient(), without_constructor('GearmanClient'), unserialize('O:13:"GearmanClient":0:{}'),
    new NoParentWorker(), without_constructor('GearmanWorker'),
];
foreach ($objects as $o) {
    echo get_class($o), ': ';
    var_dump($o->returnCode(), $o->error(), $o->setTimeout(5));
}
foreach ([without_constructor('GearmanJob'), without_constructor('MyJob')] as $job) {
    echo get_class($job), ': ';
    var_dump($job->returnCode(), $job->handle(), $job->functionName(), $job->unique(),
        $job->workload(), $job->workloadSize(), @$job->sendData('x'));
}
$task = without_constructor('GearmanTask');
echo get_class($task), ': ';
var_dump($task->returnCode(), $task->functionName(), $task->unique(), $task->jobHandle(),
    $task->isKnown(), $task->isRunning(), $task->taskDenominator());

foreach (['GearmanClient', 'GearmanWorker', 'GearmanJob'] as $class) {
    echo "$class::__destruct: ", var_export(method_exists($class, '__destruct'), true), "\n";
}
$c = new DestructingClient();
$c->addServer(getenv('GEARMAN_TEST_HOST'), (int)getenv('GEARMAN_TEST_PORT'));
unset($c);
$w = new DestructingWorker();
unset($w);
$j = new DestructingJob();
unset($j);
echo "done\n";
--EXPECT--
NoParentClient: int(0)
bool(false)
bool(true)
GearmanClient: int(0)
bool(false)
bool(true)
GearmanClient: int(0)
bool(false)
bool(true)
NoParentWorker: int(0)
bool(false)
bool(true)
GearmanWorker: int(0)
bool(false)
bool(true)
GearmanJob: int(0)
bool(false)
bool(false)
bool(false)
string(0) ""
int(0)
bool(false)
MyJob: int(0)
bool(false)
bool(false)
bool(false)
string(0) ""
int(0)
bool(false)
GearmanTask: int(0)
bool(false)
bool(false)
bool(false)
bool(false)
bool(false)
bool(false)
GearmanClient::__destruct: true
GearmanWorker::__destruct: true
GearmanJob::__destruct: true
subclass destructor
subclass destructor
subclass destructor
done
