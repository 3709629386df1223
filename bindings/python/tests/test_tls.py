"""TLS in the Python module: keyword arguments on every class, and per-server files in host_list
(python-gearman's keys and gear's), against our gearmand with --ssl; with and without a client
certificate; refusals as clear errors. A throwaway CA is made with the openssl command."""

import asyncio
import os
import subprocess
import sys
import time

import pytest

import gearman
import gearman.aio

from conftest import HERE, ROOT, listening_ports, our_gearmand


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """ca.pem; server.pem/.key for localhost and 127.0.0.1; client.pem/.key; all signed by ca."""
    d = tmp_path_factory.mktemp("pki")
    subprocess.run([str(ROOT / "scripts" / "test-pki.sh"), str(d)], check=True)
    return {k: str(d / v) for k, v in dict(ca="ca.pem", server_cert="server.pem", server_key="server.key",
                                            cert="client.pem", key="client.key").items()}


class TlsServer:
    def __init__(self, pki, mutual):
        self.log = os.path.join(os.path.dirname(pki["ca"]), "gearmand-%d.log" % mutual)
        command = [our_gearmand(), "--listen=127.0.0.1", "--port=0", "--log-file=" + self.log, "--ssl",
                   "--ssl-certificate=" + pki["server_cert"], "--ssl-key=" + pki["server_key"]]
        if mutual:
            command.append("--ssl-ca-file=" + pki["ca"])
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL)
        deadline = time.time() + 10
        while not listening_ports(self.process.pid):
            assert self.process.poll() is None and time.time() < deadline, "server did not start"
            time.sleep(0.02)
        self.port = listening_ports(self.process.pid)[0]

    def stop(self):
        self.process.kill()
        self.process.wait()


@pytest.fixture(params=[False, True], ids=["server-auth", "mutual"])
def tls_server(request, pki):
    s = TlsServer(pki, request.param)
    s.mutual = request.param
    yield s
    s.stop()


def start_worker(server, pki):
    env = dict(os.environ, PORT=str(server.port), CA=pki["ca"], CERT=pki["cert"] or "", KEY=pki["key"] or "")
    return subprocess.Popen([sys.executable, str(HERE / "tls_worker_proc.py")], env=env,
                            stdin=subprocess.DEVNULL)


def test_client_worker_and_admin_over_tls(tls_server, pki):
    """With a client certificate against the server that requires one; with none (the CA
    file alone) against the one that does not."""
    cert = dict(cert=pki["cert"], key=pki["key"]) if tls_server.mutual else dict(cert=None, key=None)
    tls = dict(ssl_ca=pki["ca"], ssl_cert=cert["cert"], ssl_key=cert["key"])
    hosts = ["localhost:%d" % tls_server.port]
    worker = start_worker(tls_server, dict(pki, **cert))
    try:
        # The admin client with python-gearman's dict form.
        admin = gearman.GearmanAdminClient([dict(host="localhost", port=tls_server.port, ca_certs=pki["ca"],
                                                 certfile=cert["cert"], keyfile=cert["key"])])
        deadline = time.time() + 10
        while not any(s["task"] == "reverse" and s["workers"] for s in admin.get_status()):
            assert time.time() < deadline, "no TLS worker"
            time.sleep(0.02)
        client = gearman.GearmanClient(hosts, **tls)
        request = client.submit_job("reverse", b"hello tls", poll_timeout=10)
        assert request.complete and request.result == b"slt olleh", request
        background = client.submit_job("reverse", b"in the background", background=True, poll_timeout=10)
        assert background.job.handle.startswith(b"H:") if isinstance(background.job.handle, bytes) \
            else background.job.handle.startswith("H:")
        deadline = time.time() + 10
        while any(s["task"] == "reverse" and s["queued"] for s in admin.get_status()):
            assert time.time() < deadline, "background job not run"
            time.sleep(0.02)
        assert admin.ping_server() < 5
    finally:
        worker.kill()
        worker.wait()


def test_asyncio_classes_over_tls_with_gears_keys(tls_server, pki):
    entry = dict(host="127.0.0.1", port=tls_server.port, ssl_ca=pki["ca"], ssl_cert=pki["cert"], ssl_key=pki["key"])

    async def scenario():
        worker = gearman.aio.Worker([entry])
        worker.register_task("upper", lambda w, job: job.data.upper())
        serving = asyncio.ensure_future(worker.work(poll_timeout=0.2))
        client = gearman.aio.Client([entry])
        requests = await asyncio.gather(*(client.submit_job("upper", b"job %d" % i, poll_timeout=10)
                                          for i in range(10)))
        worker.stop()
        await serving
        return [r.result for r in requests]

    assert asyncio.run(scenario()) == [b"JOB %d" % i for i in range(10)]


def test_refusals_are_clear_errors(tls_server, pki, caplog):
    hosts = ["localhost:%d" % tls_server.port]
    with pytest.raises(ValueError) as info:
        gearman.GearmanClient(hosts, ssl_ca="/nonexistent/ca.pem")
    assert "/nonexistent/ca.pem" in str(info.value)
    # Plaintext against a TLS port: the job fails (reported, not raised, as python-gearman
    # does) and the log says why.
    request = gearman.GearmanClient(hosts).submit_job("reverse", b"x", poll_timeout=5)
    assert request.state == gearman.JOB_FAILED
    assert "TLS_REQUIRED" in caplog.text
    if tls_server.mutual:
        # No client certificate where the server requires one: failed at once, not hung.
        caplog.clear()
        started = time.time()
        request = gearman.GearmanClient(hosts, ssl_ca=pki["ca"]).submit_job("reverse", b"x", poll_timeout=5)
        assert request.state == gearman.JOB_FAILED and time.time() - started < 5
        assert "CertificateRequired" in caplog.text, caplog.text
