--TEST--
serialize / unserialize of every class never crashes
--FILE--
<?php
foreach (['GearmanClient', 'GearmanWorker', 'GearmanJob', 'GearmanTask'] as $class) {
    $object = new $class();
    $text = serialize($object);
    echo $text, "\n";
    for ($i = 0; $i < 6; $i++) {
        try {
            $copy = unserialize($text);
            $text = serialize($copy);
        } catch (Throwable $e) {
            echo get_class($e), "\n";
        }
    }
    echo get_class($copy ?? null), "\n";
}
--EXPECTF--
O:13:"GearmanClient":0:{}
GearmanClient
O:13:"GearmanWorker":0:{}
GearmanWorker
O:10:"GearmanJob":0:{}
GearmanJob
O:11:"GearmanTask":0:{}
GearmanTask
