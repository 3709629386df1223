"""Host lists in every python-gearman form, data conversion, and python-gearman's own helpers
(Stopwatch, disambiguate_server_parameter, select, unlist)."""

import select as _select
import time

from . import constants
from .constants import DEFAULT_GEARMAN_PORT  # noqa: F401 - importable from here in python-gearman


def parse_host(entry):
    """('host', port) from 'host:port', 'host', ('host', port) or {'host': ..., 'port': ...}."""
    if isinstance(entry, dict):
        if "host" not in entry:
            raise ValueError("a host dict needs a 'host' key: %r" % (entry,))
        return str(entry["host"]), int(entry.get("port") or constants.DEFAULT_GEARMAN_PORT)
    if isinstance(entry, (tuple, list)):
        if len(entry) != 2:
            raise ValueError("a host tuple is (host, port): %r" % (entry,))
        return str(entry[0]), int(entry[1])
    if isinstance(entry, bytes):
        entry = entry.decode()
    if not isinstance(entry, str):
        raise TypeError("a host is 'host:port', 'host', (host, port) or a dict, not %r" % (entry,))
    text = entry.strip()
    if not text:
        raise ValueError("empty host")
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:
        host, port = text, ""
    return host, int(port) if port else constants.DEFAULT_GEARMAN_PORT


def parse_host_list(host_list, keep_dicts=False):
    """A list of (host, port) from one host or a list of hosts, in any python-gearman form;
    with keep_dicts, a dict entry comes back as a dict with 'host' and 'port' filled in."""
    if host_list is None:
        return [("localhost", constants.DEFAULT_GEARMAN_PORT)]
    if isinstance(host_list, (str, bytes, dict)):
        host_list = [host_list]
    if isinstance(host_list, tuple) and len(host_list) == 2 and isinstance(host_list[1], int):
        host_list = [host_list]
    try:
        entries = list(host_list)
    except TypeError:
        raise TypeError("host_list must be a host or a list of hosts, not %r" % (host_list,)) from None
    if not entries:
        raise ValueError("host_list is empty")
    if keep_dicts:
        return [_host_dict(entry) if isinstance(entry, dict) else parse_host(entry) for entry in entries]
    return [parse_host(entry) for entry in entries]


def _host_dict(entry):
    host, port = parse_host(entry)
    return dict(entry, host=host, port=port)


def to_bytes(value, what="data"):
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    raise TypeError("%s must be bytes or str, not %s" % (what, type(value).__name__))


def to_text(value):
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class Stopwatch:
    """Time left of a budget of `time_remaining` seconds (None: no limit)."""

    def __init__(self, time_remaining):
        self.stop_time = None if time_remaining is None else time.time() + time_remaining

    def get_time_remaining(self):
        if self.stop_time is None:
            return None
        return max(0.0, self.stop_time - time.time())

    def has_time_remaining(self, time_comparison=None):
        if self.stop_time is None:
            return True
        return (time.time() if time_comparison is None else time_comparison) < self.stop_time


def disambiguate_server_parameter(hostport_tuple):
    """(host, port) from 'host:port', 'host' or ('host', port)."""
    return parse_host(hostport_tuple)


def select(rlist, wlist, xlist, timeout=None):
    """select.select that treats an interrupted call as no activity."""
    try:
        return _select.select(rlist, wlist, xlist, *([] if timeout is None else [timeout]))
    except InterruptedError:
        return [], [], []


def unlist(given_list):
    """None for an empty list, its item for a one-item list; ValueError otherwise."""
    if not given_list:
        return None
    if len(given_list) == 1:
        return given_list[0]
    raise ValueError(len(given_list))
