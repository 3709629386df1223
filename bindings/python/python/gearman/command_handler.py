"""GearmanCommandHandler: the per-connection state machine of python-gearman's design. It does no
I/O: it sends through its connection manager and gets each received command as a recv_* call."""

import logging

from .errors import UnknownCommandError
from .protocol import get_command_name

log = logging.getLogger("gearman.command_handler")


class GearmanCommandHandler:
    def __init__(self, connection_manager=None):
        self.connection_manager = connection_manager

    def __repr__(self):
        return "%s(connection_manager=%r)" % (type(self).__name__, self.connection_manager)

    def initial_state(self, *largs, **kwargs):
        """Called once the connection is up, before any command is sent."""

    def on_io_error(self):
        """Called when the connection fails."""

    def decode_data(self, data):
        return self.connection_manager.data_encoder.decode(data)

    def encode_data(self, data):
        return self.connection_manager.data_encoder.encode(data)

    def fetch_commands(self):
        """Hands every received command to recv_command until one answers False."""
        while True:
            command = self.connection_manager.read_command(self)
            if command is None:
                return
            cmd_type, cmd_args = command
            if not self.recv_command(cmd_type, **cmd_args):
                return

    def send_command(self, cmd_type, **cmd_args):
        self.connection_manager.send_command(self, cmd_type, cmd_args)

    def recv_command(self, cmd_type, **cmd_args):
        """Calls recv_<command name>(**cmd_args), e.g. recv_job_created(job_handle=...)."""
        name = get_command_name(cmd_type)
        if not isinstance(name, str):
            message = "Could not handle command: %r - %r" % (name, cmd_args)
            log.error(message)
            raise ValueError(message)
        callback = getattr(self, "recv_" + name[len("GEARMAN_COMMAND_"):].lower(), None)
        if callback is None:
            message = "Could not handle command: %r - %r" % (name, cmd_args)
            log.error(message)
            raise UnknownCommandError(message)
        return callback(**cmd_args)

    def recv_error(self, error_code, error_text):
        return self.connection_manager.on_gearman_error(error_code, error_text)
