"""Host lists in every python-gearman form, and data conversion."""

from . import constants


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


def parse_host_list(host_list):
    """A list of (host, port) from one host or a list of hosts, in any python-gearman form."""
    if host_list is None:
        return [("localhost", constants.DEFAULT_GEARMAN_PORT)]
    if isinstance(host_list, (str, bytes, dict)):
        return [parse_host(host_list)]
    if isinstance(host_list, tuple) and len(host_list) == 2 and isinstance(host_list[1], int):
        return [parse_host(host_list)]
    try:
        entries = list(host_list)
    except TypeError:
        raise TypeError("host_list must be a host or a list of hosts, not %r" % (host_list,)) from None
    if not entries:
        raise ValueError("host_list is empty")
    return [parse_host(entry) for entry in entries]


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
