"""GearmanConnection: one server as python-gearman models it.

GearmanClient, GearmanWorker and GearmanAdminClient keep one per server in `connection_list`
(and hand one to each job as `job.connection`), but their own traffic goes through gearman-core's
connections. This class is a plain-socket client connection for code that drives connections
itself through the GearmanConnectionManager methods (establish_connection,
poll_connections_until_stopped, ...).
"""

import collections
import socket
import ssl
import time

from .constants import DEFAULT_GEARMAN_PORT
from .errors import ConnectionError, ProtocolError, ServerUnavailable
from .protocol import (  # noqa: F401 - NULL_CHAR is importable from here in python-gearman
    NULL_CHAR,
    GEARMAN_COMMAND_TEXT_COMMAND,
    GEARMAN_PARAMS_FOR_COMMAND,
    get_command_name,
    pack_binary_command,
    pack_text_command,
    parse_binary_command,
    parse_text_command,
)


class GearmanConnection:
    connect_cooldown_seconds = 1.0

    def __init__(self, host=None, port=DEFAULT_GEARMAN_PORT, keyfile=None, certfile=None, ca_certs=None,
                 ssl=False):
        if host is None:
            raise ServerUnavailable("No host specified")
        self.gearman_host = host
        self.gearman_port = port or DEFAULT_GEARMAN_PORT
        self.keyfile = keyfile
        self.certfile = certfile
        self.ca_certs = ca_certs
        # TLS when asked, or when any file is given (a CA file alone checks the server only).
        self.use_ssl = bool(ssl or keyfile or certfile or ca_certs)
        self._reset_connection()

    def __repr__(self):
        return "%s(host=%r, port=%r)" % (type(self).__name__, self.gearman_host, self.gearman_port)

    def _reset_connection(self):
        self.connected = False
        self.gearman_socket = None
        self.allowed_connect_time = 0.0
        self._is_client_side = None
        self._is_server_side = None
        self._incoming_buffer = bytearray()
        self._outgoing_buffer = b""
        self._incoming_commands = collections.deque()
        self._outgoing_commands = collections.deque()

    def get_address(self):
        return self.gearman_host, self.gearman_port

    def tls_files(self):
        """(ca_certs, certfile, keyfile) for gearman-core when this connection uses TLS, else None."""
        return (self.ca_certs, self.certfile, self.keyfile) if self.use_ssl else None

    def fileno(self):
        if not self.gearman_socket:
            self.throw_exception(message="no socket set")
        return self.gearman_socket.fileno()

    def readable(self):
        return self.connected

    def writable(self):
        return self.connected and bool(self._outgoing_commands or self._outgoing_buffer)

    def connect(self):
        """Opens the socket; ConnectionError if that fails or comes within the cooldown of the
        previous attempt."""
        if self.connected:
            self.throw_exception(message="connection already established")
        now = time.time()
        if now < self.allowed_connect_time:
            self.throw_exception(message="attempted to connect before required cooldown")
        self._reset_connection()
        self.allowed_connect_time = now + self.connect_cooldown_seconds
        try:
            sock = socket.create_connection((self.gearman_host, self.gearman_port))
            if self.use_ssl:
                context = ssl.create_default_context(cafile=self.ca_certs)
                if self.certfile:
                    context.load_cert_chain(self.certfile, self.keyfile)
                sock = context.wrap_socket(sock, server_hostname=self.gearman_host)
        except OSError as e:
            self.throw_exception(exception=e)
        self.set_socket(sock)
        self.connected = True
        self._is_client_side = True
        self._is_server_side = False

    def set_socket(self, current_socket):
        if self.gearman_socket:
            self.throw_exception(message="socket already bound")
        current_socket.setblocking(False)
        current_socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.gearman_socket = current_socket

    # --- commands <-> buffers <-> socket --------------------------------------------------------

    def read_command(self):
        return self._incoming_commands.popleft() if self._incoming_commands else None

    def read_commands_from_buffer(self):
        count = 0
        while self._incoming_buffer:
            if self._incoming_buffer[0] == 0:
                cmd_type, cmd_args, used = parse_binary_command(self._incoming_buffer,
                                                                is_response=bool(self._is_client_side))
            else:
                cmd_type, cmd_args, used = parse_text_command(self._incoming_buffer)
            if not used:
                break
            del self._incoming_buffer[:used]
            self._incoming_commands.append((cmd_type, cmd_args))
            count += 1
        return count

    def read_data_from_socket(self, bytes_to_read=4096):
        if not self.connected:
            self.throw_exception(message="disconnected")
        try:
            received = self.gearman_socket.recv(bytes_to_read)
        except (BlockingIOError, ssl.SSLWantReadError):
            return len(self._incoming_buffer)
        except OSError as e:
            self.throw_exception(exception=e)
        if not received:
            self.throw_exception(message="remote disconnected")
        self._incoming_buffer += received
        return len(self._incoming_buffer)

    def send_command(self, cmd_type, cmd_args):
        self._outgoing_commands.append((cmd_type, cmd_args))

    def send_commands_to_buffer(self):
        packed = [self._outgoing_buffer]
        while self._outgoing_commands:
            packed.append(self._pack_command(*self._outgoing_commands.popleft()))
        self._outgoing_buffer = b"".join(p.encode("utf-8") if isinstance(p, str) else p for p in packed)

    def send_data_to_socket(self):
        if not self.connected:
            self.throw_exception(message="disconnected")
        if not self._outgoing_buffer:
            return 0
        try:
            sent = self.gearman_socket.send(self._outgoing_buffer)
        except (BlockingIOError, ssl.SSLWantWriteError):
            sent = 0
        except OSError as e:
            self.throw_exception(exception=e)
        self._outgoing_buffer = self._outgoing_buffer[sent:]
        return len(self._outgoing_buffer)

    def _pack_command(self, cmd_type, cmd_args):
        if cmd_type not in GEARMAN_PARAMS_FOR_COMMAND:
            raise ProtocolError("Unknown command: %r" % get_command_name(cmd_type))
        if cmd_type == GEARMAN_COMMAND_TEXT_COMMAND:
            return pack_text_command(cmd_type, cmd_args)
        return pack_binary_command(cmd_type, cmd_args, bool(self._is_server_side))

    def close(self):
        if self.gearman_socket:
            try:
                self.gearman_socket.close()
            except OSError:
                pass
        self._reset_connection()

    def throw_exception(self, message=None, exception=None):
        """Marks the connection dead (keeping its buffers for inspection) and raises
        ConnectionError."""
        self.connected = False
        if exception is not None:
            message = repr(exception)
        raise ConnectionError("<%s:%d> %s" % (self.gearman_host, self.gearman_port, message))
