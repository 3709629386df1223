"""Servers for the tests: our gearmand and Debian's, each on 127.0.0.1 on a port the kernel picks
(found as the server's own listening socket in /proc), stopped by PID. Workers run in separate
processes."""

import functools
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


@functools.cache
def our_gearmand():
    """Our gearmand, built now by cargo (a no-op when fresh), never a stale binary."""
    subprocess.run([os.environ.get("CARGO", "cargo"), "build", "--quiet", "--manifest-path",
                    str(ROOT / "Cargo.toml"), "-p", "gearman-server", "--bin", "gearmand"],
                   check=True)
    return str(ROOT / "target" / "debug" / "gearmand")


def listening_ports(pid):
    """The TCP ports (IPv4) on which process `pid` itself holds a listening socket."""
    inodes = set()
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.add(link[len("socket:["):-1])
        with open("/proc/%d/net/tcp" % pid) as table:
            rows = [line.split() for line in table.readlines()[1:]]
    except OSError:
        return []
    return [int(r[1].rsplit(":", 1)[1], 16) for r in rows if r[3] == "0A" and r[9] in inodes]


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
        self.port = 0
        self.dir = tempfile.mkdtemp(prefix="gearman-py-")
        self.start()

    def command(self):
        log = os.path.join(self.dir, "log")
        if self.kind == "ours":
            return [our_gearmand(), "--listen=127.0.0.1", "--port=%d" % self.port,
                    "--log-file=" + log]
        return ["/usr/sbin/gearmand", "--listen=127.0.0.1", "--port=%d" % self.port, "--threads=1",
                "--log-file=" + log, "--pid-file=" + os.path.join(self.dir, "pid")]

    def log(self):
        try:
            with open(os.path.join(self.dir, "log")) as f:
                return f.read()
        except OSError:
            return ""

    def start(self):
        """Starts on port 0 the first time, on the same port after that (restart)."""
        self.process = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL)
        deadline = time.time() + 10
        while True:
            assert self.process.poll() is None, "server exited:\n" + self.log()
            ports = listening_ports(self.process.pid)
            if (ports and not self.port) or self.port in ports:
                self.port = self.port or ports[0]
                if answers(self.port):
                    return
            assert time.time() < deadline, "server did not start:\n" + self.log()
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
