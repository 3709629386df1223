"""GearmanAdminClient: the text admin protocol, one server."""

import time

from . import _native
from .errors import GearmanError, InvalidAdminClientState, ProtocolError
from .util import parse_host_list

ECHO_STRING = b"ping? pong!"


class GearmanAdminClient:
    def __init__(self, host_list=None, poll_timeout=10.0):
        servers = parse_host_list(host_list)
        if len(servers) != 1:
            raise InvalidAdminClientState("GearmanAdminClient takes exactly one host")
        self.host, self.port = servers[0]
        self.poll_timeout = poll_timeout
        self._admin = _native.Admin(self.host, self.port, float(poll_timeout or 10.0))

    def _listing(self, line):
        try:
            return self._admin.listing(line)
        except GearmanError as e:
            raise ProtocolError(str(e)) from e

    def _command(self, line):
        try:
            return self._admin.command(line)
        except GearmanError as e:
            raise ProtocolError(str(e)) from e

    def ping_server(self):
        client = _native.Client([(self.host, self.port)])
        start = time.time()
        reply = client.echo(ECHO_STRING, self.poll_timeout)
        if reply is None:
            raise InvalidAdminClientState("ping timed out")
        if reply != ECHO_STRING:
            raise InvalidAdminClientState("ping reply differs")
        return time.time() - start

    def send_maxqueue(self, task, max_size):
        self._command("maxqueue %s %d" % (task, int(max_size)))
        return "OK"

    def send_shutdown(self, graceful=True):
        self._command("shutdown graceful" if graceful else "shutdown")

    def get_status(self):
        rows = []
        for line in self._listing("status"):
            task, total, running, workers = line.split("\t")
            rows.append(dict(task=task, queued=int(total), running=int(running), workers=int(workers)))
        return tuple(rows)

    def get_version(self):
        return "OK " + self._command("version")

    def get_pid(self):
        return "OK " + self._command("getpid")

    def get_workers(self):
        rows = []
        for line in self._listing("workers"):
            head, _, tasks = line.partition(":")
            fd, ip, client_id = head.split()
            rows.append(dict(file_descriptor=fd, ip=ip, client_id=client_id, tasks=tuple(tasks.split())))
        return tuple(rows)

    def cancel_job(self, handle):
        if isinstance(handle, bytes):
            handle = handle.decode()
        self._command("cancel job %s" % handle)
        return "OK"

    def get_jobs(self):
        rows = []
        for line in self._listing("show jobs"):
            handle, queued, canceled, enabled = line.split("\t")
            rows.append(dict(handle=handle, queued=int(queued), canceled=int(canceled), enabled=int(enabled)))
        return tuple(rows)

    def get_unique_jobs(self):
        return tuple(dict(unique=line) for line in self._listing("show unique jobs"))
