<?php
// Prints every class, method and function of the loaded gearman extension with its parameters
// (type, name, default) and return type, one per line; run.sh compares ours with Debian's.
$ext = new ReflectionExtension('gearman');
$t = fn ($x) => $x === null ? '' : (string)$x;
foreach (['GearmanClient','GearmanWorker','GearmanJob','GearmanTask','GearmanException'] as $cn) {
  $c = new ReflectionClass($cn);
  echo "class $cn", $c->getParentClass() ? " extends ".$c->getParentClass()->getName() : "", $c->isFinal() ? " final" : "", "\n";
  $ms = $c->getMethods(); usort($ms, fn($a,$b)=>strcmp($a->getName(),$b->getName()));
  foreach ($ms as $m) {
    if ($m->getDeclaringClass()->getName() !== $cn) continue;
    $ps = array_map(fn($p) => trim($t($p->getType()).' $'.$p->getName().($p->isOptional() ? ($p->isDefaultValueAvailable() ? ' = '.var_export($p->getDefaultValue(), true) : ' = ?') : '')), $m->getParameters());
    echo "  ", $m->getName(), "(", implode(', ', $ps), "): ", $t($m->getReturnType()), "\n";
  }
}
$fs = $ext->getFunctions(); ksort($fs);
foreach ($fs as $f) {
  $ps = array_map(fn($p) => trim($t($p->getType()).' $'.$p->getName().($p->isOptional() ? ($p->isDefaultValueAvailable() ? ' = '.var_export($p->getDefaultValue(), true) : ' = ?') : '')), $f->getParameters());
  echo "function ", $f->getName(), "(", implode(', ', $ps), "): ", $t($f->getReturnType()), "\n";
}
