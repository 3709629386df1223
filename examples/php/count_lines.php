<?php
// The classic count_lines client with pecl gearman's API (our extension):
//   php -d extension=bindings/php/target/release/libgearman.so count_lines.php HOST PORT < /etc/passwd
$client = new GearmanClient();
$client->addServer($argv[1] ?? 'localhost', (int)($argv[2] ?? 4730));
$client->setTimeout(30000);
$result = $client->doNormal('count_lines', file_get_contents('php://stdin'));
if ($client->returnCode() != GEARMAN_SUCCESS) {
    fwrite(STDERR, "count_lines: " . $client->error() . "\n");
    exit(1);
}
echo $result;
