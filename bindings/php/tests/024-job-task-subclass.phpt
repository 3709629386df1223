--TEST--
Subclasses of GearmanJob and GearmanTask stay their own class
--FILE--
<?php
class MyJob extends GearmanJob {}
class MyTask extends GearmanTask {}
$job = new MyJob();
$task = new MyTask();
var_dump(get_class($job), $job instanceof GearmanJob, $job->returnCode());
var_dump(get_class($task), $task instanceof GearmanTask, $task->returnCode());
--EXPECT--
string(5) "MyJob"
bool(true)
int(0)
string(6) "MyTask"
bool(true)
int(0)
