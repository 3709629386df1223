<?php
// Prints, as JSON, the parameters (name, type) of every method and procedural function of the
// loaded gearman extension, for coercion.php.
$out = [];
foreach (['GearmanClient', 'GearmanWorker', 'GearmanJob', 'GearmanTask'] as $class) {
    foreach ((new ReflectionClass($class))->getMethods() as $m) {
        if ($m->getDeclaringClass()->getName() !== $class || str_starts_with($m->getName(), '__')) {
            continue;
        }
        $out["$class::" . $m->getName()] = array_map(
            fn ($p) => [$p->getName(), (string)$p->getType()],
            $m->getParameters()
        );
    }
}
foreach ((new ReflectionExtension('gearman'))->getFunctions() as $f) {
    $out[$f->getName()] = array_map(fn ($p) => [$p->getName(), (string)$p->getType()], $f->getParameters());
}
ksort($out);
echo json_encode($out, JSON_PRETTY_PRINT), "\n";
