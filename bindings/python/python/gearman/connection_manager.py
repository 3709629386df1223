"""GearmanConnectionManager: the base of GearmanClient, GearmanWorker and GearmanAdminClient.

It keeps python-gearman's model: `connection_list` holds a GearmanConnection per server, a command
handler per established connection tracks that connection's state, and
poll_connections_until_stopped runs the poll loop, calling `callback_fxn(any_activity)` until it
returns False. The three classes send their own jobs and commands through gearman-core, and
override the poll loop to drive it; the generic loop here serves connections that code
established itself with establish_connection.
"""

import errno
import logging
import time

from . import io as gearman_io
from .connection import GearmanConnection
from .errors import ConnectionError, GearmanError, ServerUnavailable
from .job import GearmanJob
from .util import parse_host, parse_host_list, to_bytes

log = logging.getLogger("gearman.connection_manager")

__all__ = ["DataEncoder", "NoopEncoder", "GearmanConnectionManager"]


class DataEncoder:
    """Subclass with both classmethods and set it as a client's or worker's `data_encoder`."""

    @classmethod
    def encode(cls, encodable_object):
        raise NotImplementedError

    @classmethod
    def decode(cls, decodable_string):
        raise NotImplementedError


class NoopEncoder(DataEncoder):
    """Sends bytes (str is UTF-8 encoded, bytearray and memoryview copied) and hands back bytes."""

    @classmethod
    def encode(cls, encodable_object):
        if type(encodable_object) is bytes:
            return encodable_object
        return to_bytes(encodable_object)

    @classmethod
    def decode(cls, decodable_string):
        return decodable_string


class GearmanConnectionManager:
    command_handler_class = None
    connection_class = GearmanConnection
    job_class = GearmanJob
    data_encoder = NoopEncoder

    def __init__(self, host_list=None, ssl=False, ssl_ca=None, ssl_cert=None, ssl_key=None):
        """`ssl_ca`, `ssl_cert`, `ssl_key` (PEM files; gear's names) or `ssl=True` put every
        server of `host_list` on TLS; a dict entry may carry its own files instead, under
        python-gearman's keys (ca_certs, certfile, keyfile) or gear's (ssl_ca, ssl_cert, ssl_key)."""
        self.connection_list = []
        self.handler_to_connection_map = {}
        self.connection_to_handler_map = {}
        self.handler_initial_state = {}
        tls = dict(ca_certs=ssl_ca, certfile=ssl_cert, keyfile=ssl_key)
        self._default_tls = tls if (ssl or any(tls.values())) else None
        for entry in parse_host_list(host_list, keep_dicts=True):
            entry_tls = _entry_tls(entry) if isinstance(entry, dict) else None
            if entry_tls:
                self.add_ssl_connection(entry["host"], entry.get("port"), entry_tls["keyfile"],
                                        entry_tls["certfile"], entry_tls["ca_certs"])
            else:
                self.add_connection(entry)

    def __repr__(self):
        return "<%s connection_list=%r>" % (type(self).__name__, self.connection_list)

    @property
    def _servers(self):
        """(host, port, tls) of each server, as gearman-core takes them."""
        return [(c.gearman_host, int(c.gearman_port), c.tls_files()) for c in self.connection_list]

    def shutdown(self):
        for connection in self.connection_list:
            connection.close()

    # --- connections ----------------------------------------------------------------------------

    def add_ssl_connection(self, host, port, keyfile, certfile, ca_certs):
        connection = self.connection_class(host=host, port=port, keyfile=keyfile, certfile=certfile,
                                           ca_certs=ca_certs, ssl=True)
        self.connection_list.append(connection)
        return connection

    def add_connection(self, hostport_tuple):
        host, port = parse_host(hostport_tuple)
        tls = getattr(self, "_default_tls", None)
        if tls is not None:
            return self.add_ssl_connection(host, port, tls["keyfile"], tls["certfile"], tls["ca_certs"])
        connection = self.connection_class(host=host, port=port)
        self.connection_list.append(connection)
        return connection

    def establish_connection(self, current_connection):
        """Connects `current_connection` (one of connection_list) unless it is connected, with a
        new command handler; raises ConnectionError if the server cannot be reached."""
        if current_connection not in self.connection_list:
            raise GearmanError("Unknown connection - %r" % (current_connection,))
        if current_connection.connected:
            return current_connection
        if self.command_handler_class is None:
            raise GearmanError("%s has no command_handler_class" % type(self).__name__)
        current_connection.connect()
        handler = self.command_handler_class(connection_manager=self)
        self.handler_to_connection_map[handler] = current_connection
        self.connection_to_handler_map[current_connection] = handler
        handler.initial_state(**self.handler_initial_state)
        return current_connection

    # --- the generic poll loop ------------------------------------------------------------------

    def poll_connections_once(self, poller, connection_map, timeout=None):
        """(readable, writable, failed) sets of connections after one poll of `poller`."""
        readable, writable, failed = set(), set(), set()
        for fileno, events in poller.poll(-1 if timeout is None else timeout):
            connection = connection_map.get(fileno)
            if connection is None:
                continue
            if events & gearman_io.READ:
                readable.add(connection)
            if events & gearman_io.WRITE:
                writable.add(connection)
            if events & gearman_io.ERROR:
                failed.add(connection)
        return readable, writable, failed

    def handle_connection_activity(self, rd_connections, wr_connections, ex_connections):
        dead = set()
        for connection in rd_connections:
            try:
                self.handle_read(connection)
            except ConnectionError:
                dead.add(connection)
        for connection in wr_connections:
            try:
                self.handle_write(connection)
            except ConnectionError:
                dead.add(connection)
        for connection in set(ex_connections) | dead:
            self.handle_error(connection)
        return rd_connections, wr_connections, set(ex_connections) | dead

    def _register_connections_with_poller(self, connections, poller):
        for connection in connections:
            if not connection.gearman_socket:
                continue
            try:
                poller.unregister(connection)
            except (OSError, KeyError) as e:
                if getattr(e, "errno", errno.ENOENT) != errno.ENOENT:
                    raise
            events = gearman_io.READ if connection.readable() else 0
            if connection.writable():
                events |= gearman_io.WRITE
            poller.register(connection, events)

    def poll_connections_until_stopped(self, submitted_connections, callback_fxn, timeout=None):
        """Polls until callback_fxn(any_activity) returns False (False is returned), the timeout
        runs out (True), or no submitted connection is alive (ServerUnavailable)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        connections = set(submitted_connections)
        callback_ok = callback_fxn(False)
        alive = any(c.connected for c in connections)
        poller = gearman_io.get_connection_poller()
        try:
            while alive and callback_ok:
                connection_map = {c.fileno(): c for c in connections if c.connected}
                self._register_connections_with_poller(connections, poller)
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    break
                activity = self.handle_connection_activity(*self.poll_connections_once(poller, connection_map, left))
                connections -= activity[2]
                callback_ok = callback_fxn(any(activity))
                alive = any(c.connected for c in connections)
        finally:
            poller.close()
        if not alive:
            raise ServerUnavailable("Found no valid connections in list: %r" % self.connection_list)
        return bool(alive and callback_ok)

    def handle_read(self, current_connection):
        handler = self.connection_to_handler_map[current_connection]
        current_connection.read_data_from_socket()
        current_connection.read_commands_from_buffer()
        handler.fetch_commands()

    def handle_write(self, current_connection):
        current_connection.send_commands_to_buffer()
        current_connection.send_data_to_socket()

    def handle_error(self, current_connection):
        handler = self.connection_to_handler_map.pop(current_connection, None)
        if handler is not None:
            handler.on_io_error()
            self.handler_to_connection_map.pop(handler, None)
        current_connection.close()

    # --- for command handlers -------------------------------------------------------------------

    def read_command(self, command_handler):
        return self.handler_to_connection_map[command_handler].read_command()

    def send_command(self, command_handler, cmd_type, cmd_args):
        self.handler_to_connection_map[command_handler].send_command(cmd_type, cmd_args)

    def on_gearman_error(self, error_code, error_text):
        """Called with a server's ERROR packet; the return value tells the handler whether to
        go on reading."""
        log.error("Received error from server: %s: %s", error_code, error_text)
        return False


def _entry_tls(entry):
    """A host_list dict's own TLS files, under python-gearman's or gear's keys; None without any."""
    tls = {key: entry.get(key) or entry.get(alias)
           for key, alias in (("ca_certs", "ssl_ca"), ("certfile", "ssl_cert"), ("keyfile", "ssl_key"))}
    return tls if (entry.get("ssl") or any(tls.values())) else None
