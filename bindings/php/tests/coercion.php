<?php
// Calls every int, bool and string parameter of every method and procedural function with
// every kind of value, and prints how the call's arguments were taken: accepted, a deprecation,
// or the exception and its message. run.sh runs it under each extension, in weak mode and in
// strict mode (STRICT=1), and compares the outputs line by line.
//
// Which parameters are int/bool/string comes from the reflection of the extension named by
// $argv[1] (ours, whose arginfo follows pecl 2.1.5), so both extensions are called alike.
// No server is configured: calls fail fast (GEARMAN_NO_SERVERS), and only the argument
// handling is printed, not the results.

$types_from = $argv[1] ?? '';
$types = json_decode(file_get_contents($types_from), true);

$values = [
    'int' => 5,
    'numeric string' => '4730',
    'padded numeric' => ' 5',
    'leading numeric' => '5 apples',
    'non-numeric string' => 'abc',
    'integral float' => 5.0,
    'fractional float' => 5.5,
    'true' => true,
    'false' => false,
    'null' => null,
    'array' => [1],
    'Stringable' => new class { public function __toString(): string { return 'str'; } },
    'plain object' => new stdClass(),
];

function filler(string $type) {
    $type = ltrim($type, '?');
    if (class_exists($type)) {
        return target($type);
    }
    return match ($type) {
        'int' => 0,
        'bool' => false,
        'string' => '127.0.0.1',
        'callable' => fn () => null,
        default => null,
    };
}

function target(string $class) {
    return match ($class) {
        'GearmanClient' => new GearmanClient(),
        'GearmanWorker' => new GearmanWorker(),
        'GearmanJob' => new GearmanJob(),
        'GearmanTask' => new GearmanTask(),
        default => null,
    };
}

$notes = [];
set_error_handler(function ($no, $message) use (&$notes) {
    if ($no === E_DEPRECATED || $no === E_USER_DEPRECATED) {
        $notes[] = "Deprecated: $message";
    }
    return true; // other warnings belong to the call's outcome, not its arguments
});

$strict = getenv('STRICT') === '1';
$runner = $strict ? __DIR__ . '/coercion_strict.inc' : __DIR__ . '/coercion_weak.inc';
require $runner;

foreach ($types as $callable => $params) {
    foreach ($params as $i => [$name, $type]) {
        if (!in_array(ltrim($type, '?'), ['int', 'bool', 'string', 'string|int|float'], true)) {
            continue;
        }
        foreach ($values as $label => $value) {
            $args = [];
            foreach ($params as $j => [$_, $t]) {
                $args[] = $j === $i ? $value : filler($t);
            }
            $notes = [];
            $outcome = 'accepted';
            try {
                [$class, $method] = array_pad(explode('::', $callable), 2, null);
                if ($method === null) {
                    call_as_caller($callable, $args);
                } else {
                    call_as_caller([target($class), $method], $args);
                }
            } catch (ArgumentCountError $e) {
                $outcome = 'ArgumentCountError';
            } catch (TypeError $e) {
                $outcome = 'TypeError: ' . $e->getMessage();
            } catch (Throwable $e) {
                $outcome = 'accepted';
            }
            $note = $notes ? ' [' . implode('; ', array_unique($notes)) . ']' : '';
            echo "$callable #", $i + 1, " \$$name ($type) <- $label: $outcome$note\n";
        }
    }
}
