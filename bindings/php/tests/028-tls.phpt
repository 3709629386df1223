--TEST--
TLS through libgearman's option bits (GEARMAN_CLIENT_SSL, GEARMAN_WORKER_SSL; not in pecl) with the certificate paths from php.ini
--SKIPIF--
<?php
if (!defined('GEARMAN_CLIENT_SSL')) die('skip pecl has no TLS option');
if (!getenv('GEARMAN_TEST_TLS_PORT')) die('skip no TLS server (run.sh starts one)');
?>
--FILE--
<?php
$pki = getenv('GEARMAN_TEST_PKI');

/** A foreground and a background job over TLS on $port, with a worker in a forked child. */
function jobs_over_tls(int $port): void {
    $pid = pcntl_fork();
    if ($pid === 0) {
        $worker = new GearmanWorker();
        $worker->addOptions(GEARMAN_WORKER_SSL);
        $worker->addServer('localhost', $port);
        $worker->setTimeout(10000);
        $worker->addFunction('tls_reverse', fn ($job) => strrev($job->workload()));
        for ($i = 0; $i < 2; $i++) {
            $worker->work();
        }
        exit(0);
    }
    $client = new GearmanClient();
    $client->addOptions(GEARMAN_CLIENT_SSL);
    $client->addServer('localhost', $port);
    $client->setTimeout(10000);
    var_dump(($client->options() & GEARMAN_CLIENT_SSL) !== 0);
    var_dump($client->doNormal('tls_reverse', 'hello tls'), $client->returnCode());
    var_dump(preg_match('/^H:/', $client->doBackground('tls_reverse', 'background')));
    pcntl_waitpid($pid, $status);
    var_dump(pcntl_wexitstatus($status));
}

// With a client certificate, against the server that requires one.
ini_set('gearman.ssl_ca_file', "$pki/ca.pem");
ini_set('gearman.ssl_certificate', "$pki/client.pem");
ini_set('gearman.ssl_key', "$pki/client.key");
var_dump(ini_get('gearman.ssl_ca_file') === "$pki/ca.pem");
jobs_over_tls((int)getenv('GEARMAN_TEST_TLS_PORT'));
// With none, against the server that does not.
ini_set('gearman.ssl_certificate', '');
ini_set('gearman.ssl_key', '');
jobs_over_tls((int)getenv('GEARMAN_TEST_TLS_OPEN_PORT'));

$port = (int)getenv('GEARMAN_TEST_TLS_PORT');
// No client certificate where one is required: refused.
$nocert = new GearmanClient();
$nocert->addOptions(GEARMAN_CLIENT_SSL);
$nocert->addServer('localhost', $port, false);
$nocert->setTimeout(5000);
var_dump(@$nocert->doNormal('tls_reverse', 'x') === '' && $nocert->returnCode() !== GEARMAN_SUCCESS);

// Without the option, the TLS server refuses the plaintext client and says why. (addServer's
// third argument false: pecl's default sends OPTION_REQ at once, whose refusal would throw.)
$plain = new GearmanClient();
$plain->addServer('localhost', $port, false);
$plain->setTimeout(5000);
var_dump(@$plain->doNormal('tls_reverse', 'x') === '' && $plain->returnCode() !== GEARMAN_SUCCESS);
var_dump(strpos($plain->error(), 'TLS_REQUIRED') !== false);

// A CA file that does not exist: the connection fails and the error names it.
ini_set('gearman.ssl_ca_file', '/nonexistent/ca.pem');
$broken = new GearmanClient();
$broken->addOptions(GEARMAN_CLIENT_SSL);
$broken->addServer('localhost', $port, false);
var_dump(@$broken->doNormal('tls_reverse', 'x') === '' && $broken->returnCode() !== GEARMAN_SUCCESS);
var_dump(strpos($broken->error(), '/nonexistent/ca.pem') !== false);
--EXPECT--
bool(true)
bool(true)
string(9) "slt olleh"
int(0)
int(1)
int(0)
bool(true)
string(9) "slt olleh"
int(0)
int(1)
int(0)
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
