"""Servers for the tests: our gearmand and Debian's, each on a free port of 127.0.0.1, stopped by
PID. Workers run in separate processes."""

import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
HERE = pathlib.Path(__file__).resolve().parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"version\n")
            return bool(s.recv(64))
    except OSError:
        return False


class Server:
    def __init__(self, kind):
        self.kind = kind
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="gearman-py-")
        self.start()

    def command(self):
        log = os.path.join(self.dir, "log")
        if self.kind == "ours":
            binary = os.environ.get("GEARMAND_BIN") or str(ROOT / "target" / "debug" / "gearmand")
            return [binary, "--listen=127.0.0.1", "--port=%d" % self.port, "--log-file=" + log]
        return ["/usr/sbin/gearmand", "--listen=127.0.0.1", "--port=%d" % self.port, "--threads=1",
                "--log-file=" + log, "--pid-file=" + os.path.join(self.dir, "pid")]

    def start(self):
        self.process = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL)
        deadline = time.time() + 10
        while not answers(self.port):
            assert time.time() < deadline, "server did not start"
            time.sleep(0.02)

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def restart(self):
        self.stop()
        self.start()

    @property
    def hosts(self):
        return ["127.0.0.1:%d" % self.port]


@pytest.fixture(params=["ours", "debian"])
def server(request):
    s = Server(request.param)
    yield s
    s.stop()


@pytest.fixture
def our_server():
    s = Server("ours")
    yield s
    s.stop()


class Workers:
    def __init__(self):
        self.processes = []

    def start(self, server, python=sys.executable, script="worker_proc.py", *args):
        env = dict(os.environ, PORT=str(server.port))
        p = subprocess.Popen([python, str(HERE / script), *args], env=env, stdin=subprocess.DEVNULL)
        self.processes.append(p)
        return p

    def stop(self):
        for p in self.processes:
            if p.poll() is None:
                p.kill()
                p.wait()


@pytest.fixture
def workers():
    w = Workers()
    yield w
    w.stop()


def wait_for_worker(server, task, timeout=10):
    """Waits until `task` has a registered worker."""
    import gearman

    admin = gearman.GearmanAdminClient(server.hosts)
    deadline = time.time() + timeout
    while time.time() < deadline:
        if any(s["task"] == task and s["workers"] > 0 for s in admin.get_status()):
            return
        time.sleep(0.02)
    raise AssertionError("no worker for %s" % task)
