"""GearmanAdminClient: the text admin protocol, one server."""

import time

from . import _native
from .admin_client_handler import LISTING_COMMANDS, GearmanAdminClientCommandHandler, server_command_of
from .connection_manager import GearmanConnectionManager
from .errors import (  # noqa: F401 - ConnectionError is importable from here in python-gearman
    ConnectionError,
    GearmanError,
    InvalidAdminClientState,
    ProtocolError,
    ServerUnavailable,
)
from .protocol import (  # noqa: F401 - the command words are importable from here in python-gearman
    GEARMAN_COMMAND_ECHO_REQ,
    GEARMAN_COMMAND_TEXT_COMMAND,
    GEARMAN_SERVER_COMMAND_CANCEL_JOB,
    GEARMAN_SERVER_COMMAND_GETPID,
    GEARMAN_SERVER_COMMAND_MAXQUEUE,
    GEARMAN_SERVER_COMMAND_SHOW_JOBS,
    GEARMAN_SERVER_COMMAND_SHOW_UNIQUE_JOBS,
    GEARMAN_SERVER_COMMAND_SHUTDOWN,
    GEARMAN_SERVER_COMMAND_STATUS,
    GEARMAN_SERVER_COMMAND_VERSION,
    GEARMAN_SERVER_COMMAND_WORKERS,
)
from .util import unlist  # noqa: F401

ECHO_STRING = "ping? pong!"
DEFAULT_ADMIN_CLIENT_TIMEOUT = 10.0


class GearmanAdminClient(GearmanConnectionManager):
    """Connects on first use, so a client for a dead server constructs and its first call
    raises ServerUnavailable."""

    command_handler_class = GearmanAdminClientCommandHandler

    def __init__(self, host_list=None, poll_timeout=DEFAULT_ADMIN_CLIENT_TIMEOUT, *, ssl=False, ssl_ca=None,
                 ssl_cert=None, ssl_key=None):
        super().__init__(host_list, ssl=ssl, ssl_ca=ssl_ca, ssl_cert=ssl_cert, ssl_key=ssl_key)
        if len(self.connection_list) != 1:
            raise InvalidAdminClientState("GearmanAdminClient takes exactly one host")
        self.current_connection = self.connection_list[0]
        self.host, self.port, self._tls = self._servers[0]
        self.poll_timeout = poll_timeout
        self.current_handler = None
        self._admin = None

    def establish_admin_connection(self):
        """Connects (once) through gearman-core; ServerUnavailable if the server is down."""
        if self._admin is None:
            try:
                self._admin = _native.Admin(self.host, self.port, float(self.poll_timeout or DEFAULT_ADMIN_CLIENT_TIMEOUT),
                                            self._tls)
            except GearmanError as e:
                raise ServerUnavailable("Found no valid connections in list: %r: %s" % (self.connection_list, e)) from e
        if self.current_handler is None:
            self.current_handler = self.command_handler_class(connection_manager=self)
            self.handler_to_connection_map[self.current_handler] = self.current_connection
            self.connection_to_handler_map[self.current_connection] = self.current_handler
        return self._admin

    def send_command(self, command_handler, cmd_type, cmd_args):
        """Runs a handler's command through gearman-core and feeds the reply lines back to it."""
        if command_handler is not self.current_handler:
            return super().send_command(command_handler, cmd_type, cmd_args)
        if cmd_type == GEARMAN_COMMAND_ECHO_REQ:
            reply = self.establish_admin_connection() and _native.Client(self._servers).echo(
                bytes(cmd_args["data"], "utf-8") if isinstance(cmd_args["data"], str) else cmd_args["data"],
                self.poll_timeout)
            if reply is not None:
                command_handler.recv_echo_res(reply)
            return
        if cmd_type != GEARMAN_COMMAND_TEXT_COMMAND:
            raise ProtocolError("an admin client sends text commands and ECHO_REQ only")
        line = cmd_args["raw_text"].strip()
        admin = self.establish_admin_connection()
        if server_command_of(line) in LISTING_COMMANDS:
            lines = admin.listing(line) + ["."]
        else:
            try:
                lines = [("OK " + admin.command(line)).rstrip()]
            except GearmanError as e:
                lines = ["ERR %s" % e]
        for reply in lines:
            command_handler.recv_text_command(reply)

    def wait_until_server_responds(self, expected_type):
        """The parsed reply to the oldest command sent through current_handler."""
        handler = self.current_handler
        if handler is None or not handler.response_ready:
            raise InvalidAdminClientState("Admin client timed out after %f second(s)" % self.poll_timeout)
        cmd_type, response = handler.pop_response()
        if cmd_type != expected_type:
            raise InvalidAdminClientState("Received an unexpected response... got command %r, expecting command %r"
                                          % (cmd_type, expected_type))
        return response

    def poll_connections_until_stopped(self, submitted_connections, callback_fxn, timeout=None):
        """Replies are read as each command is sent, so this only asks callback_fxn once."""
        if any(c.connected for c in submitted_connections):
            return super().poll_connections_until_stopped(submitted_connections, callback_fxn, timeout)
        return bool(callback_fxn(False))

    def shutdown(self):
        super().shutdown()
        self._admin = None
        self.current_handler = None
        self.handler_to_connection_map.clear()
        self.connection_to_handler_map.clear()

    def _call(self, method, line):
        admin = self.establish_admin_connection()
        try:
            return getattr(admin, method)(line)
        except GearmanError as e:
            raise ProtocolError(str(e)) from e

    def _listing(self, line):
        return self._call("listing", line)

    def _command(self, line):
        return self._call("command", line)

    def ping_server(self):
        self.establish_admin_connection()
        client = _native.Client(self._servers)
        start = time.time()
        reply = client.echo(ECHO_STRING.encode(), self.poll_timeout)
        if reply is None:
            raise InvalidAdminClientState("ping timed out")
        if reply != ECHO_STRING.encode():
            raise InvalidAdminClientState("ping reply differs")
        return time.time() - start

    def send_maxqueue(self, task, max_size):
        self._command("maxqueue %s %d" % (task, int(max_size)))
        return "OK"

    def send_shutdown(self, graceful=True):
        """Returns None, as python-gearman does, whatever the server answers (gearmand 1.1.20
        answers ERR UNKNOWN_COMMAND) and also when it closes the connection by shutting down."""
        line = GEARMAN_SERVER_COMMAND_SHUTDOWN + (" graceful" if graceful else "")
        admin = self.establish_admin_connection()
        try:
            admin.command(line)
        except GearmanError:
            pass
        self._admin = None  # the server closes or refuses; the next call reconnects
        return None

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
