"""GearmanAdminClientCommandHandler: the text admin protocol's replies, parsed line by line into
python-gearman's shapes. GearmanAdminClient's current_handler is one; send_text_command and
send_echo_request on it run through gearman-core, and wait_until_server_responds returns the
parsed reply."""

import collections
import logging

from .command_handler import GearmanCommandHandler
from .errors import InvalidAdminClientState, ProtocolError
from .protocol import (
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

log = logging.getLogger("gearman.admin_client_handler")

# Longest first, so "show unique jobs" is not taken for "show jobs".
EXPECTED_GEARMAN_SERVER_COMMANDS = {
    GEARMAN_SERVER_COMMAND_STATUS,
    GEARMAN_SERVER_COMMAND_VERSION,
    GEARMAN_SERVER_COMMAND_WORKERS,
    GEARMAN_SERVER_COMMAND_MAXQUEUE,
    GEARMAN_SERVER_COMMAND_SHUTDOWN,
    GEARMAN_SERVER_COMMAND_GETPID,
    GEARMAN_SERVER_COMMAND_SHOW_JOBS,
    GEARMAN_SERVER_COMMAND_CANCEL_JOB,
    GEARMAN_SERVER_COMMAND_SHOW_UNIQUE_JOBS,
}

# Commands answered by several lines ending with ".".
LISTING_COMMANDS = {
    GEARMAN_SERVER_COMMAND_STATUS,
    GEARMAN_SERVER_COMMAND_WORKERS,
    GEARMAN_SERVER_COMMAND_SHOW_JOBS,
    GEARMAN_SERVER_COMMAND_SHOW_UNIQUE_JOBS,
}


def server_command_of(command_line):
    """The admin command word(s) `command_line` starts with, or None."""
    for command in sorted(EXPECTED_GEARMAN_SERVER_COMMANDS, key=len, reverse=True):
        if command_line.startswith(command):
            return command
    return None


class GearmanAdminClientCommandHandler(GearmanCommandHandler):
    STATUS_FIELDS = 4
    WORKERS_FIELDS = 4
    JOB_FIELDS = 4
    UNIQUE_JOB_FIELDS = 1

    def __init__(self, connection_manager=None):
        super().__init__(connection_manager=connection_manager)
        self._sent_commands = collections.deque()
        self._recv_responses = collections.deque()
        self._status_response = []
        self._workers_response = []

    @property
    def response_ready(self):
        return bool(self._recv_responses)

    def pop_response(self):
        if not self._sent_commands or not self._recv_responses:
            raise InvalidAdminClientState("Attempted to pop a response for a command that is not ready")
        return self._sent_commands.popleft(), self._recv_responses.popleft()

    def send_text_command(self, command_line):
        command = server_command_of(command_line)
        if command is None:
            raise ProtocolError("Attempted to send an unknown server command: %r" % command_line)
        self._sent_commands.append(command)
        self.send_command(GEARMAN_COMMAND_TEXT_COMMAND, raw_text="%s\n" % command_line)

    def send_echo_request(self, echo_string):
        self._sent_commands.append(GEARMAN_COMMAND_ECHO_REQ)
        self.send_command(GEARMAN_COMMAND_ECHO_REQ, data=echo_string)

    def recv_echo_res(self, data):
        self._recv_responses.append(data.decode() if isinstance(data, bytes) else data)
        return False

    def recv_text_command(self, raw_text):
        """Routes one reply line to recv_server_<command> for the oldest command awaiting one."""
        raw_text = raw_text.decode() if isinstance(raw_text, bytes) else raw_text
        if not self._sent_commands:
            raise InvalidAdminClientState("Received an unexpected server response")
        return getattr(self, "recv_server_" + self._sent_commands[0].replace(" ", "_"))(raw_text)

    def _reply(self, response):
        self._recv_responses.append(response)
        return False

    def _row(self, rows, raw_text, fields, make):
        """Adds one parsed line to `rows`; on "." files the whole listing as the reply."""
        if raw_text == ".":
            self._recv_responses.append(tuple(rows))
            rows.clear()
            return False
        tokens = raw_text.split("\t")
        if len(tokens) != fields:
            raise ProtocolError("Received %d tokens, expected %d tokens: %r" % (len(tokens), fields, tokens))
        rows.append(make(tokens))
        return True

    def recv_server_status(self, raw_text):
        return self._row(self._status_response, raw_text, self.STATUS_FIELDS,
                         lambda t: dict(task=t[0], queued=int(t[1]), running=int(t[2]), workers=int(t[3])))

    def recv_server_version(self, raw_text):
        return self._reply(raw_text)

    def recv_server_workers(self, raw_text):
        if raw_text == ".":
            return self._row(self._workers_response, raw_text, 0, None)
        tokens = raw_text.split(" ")
        if len(tokens) < self.WORKERS_FIELDS or tokens[3] != ":":
            raise ProtocolError("Malformed worker response: %r" % (tokens,))
        self._workers_response.append(dict(file_descriptor=tokens[0], ip=tokens[1], client_id=tokens[2],
                                           tasks=tuple(tokens[4:])))
        return True

    def recv_server_maxqueue(self, raw_text):
        if raw_text.rstrip("\r") != "OK":  # gearmand ends this one reply with \r\n
            raise ProtocolError("Expected 'OK', received: %s" % raw_text)
        return self._reply("OK")

    def recv_server_shutdown(self, raw_text):
        return self._reply(None)

    def recv_server_getpid(self, raw_text):
        return self._reply(raw_text)

    def recv_server_show_jobs(self, raw_text):
        return self._row(self._status_response, raw_text, self.JOB_FIELDS,
                         lambda t: dict(handle=t[0], queued=int(t[1]), canceled=int(t[2]), enabled=int(t[3])))

    def recv_server_cancel_job(self, raw_text):
        return self._reply(raw_text)

    def recv_server_show_unique_jobs(self, raw_text):
        return self._row(self._status_response, raw_text, self.UNIQUE_JOB_FIELDS, lambda t: dict(unique=t[0]))
