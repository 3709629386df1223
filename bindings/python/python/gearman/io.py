"""python-gearman's poller: epoll-style event bits and a poller over GearmanConnection objects."""

import select as _select

READ = _select.EPOLLIN if hasattr(_select, "EPOLLIN") else 0x01
WRITE = _select.EPOLLOUT if hasattr(_select, "EPOLLOUT") else 0x04
ERROR = (_select.EPOLLERR | _select.EPOLLHUP) if hasattr(_select, "EPOLLERR") else 0x18


def get_connection_poller():
    """select.epoll where it exists, otherwise an object with the same register/unregister/
    poll/close methods built on select.select."""
    if hasattr(_select, "epoll"):
        return _select.epoll()
    return _Select()


class _Select:
    def __init__(self):
        self._events = {}

    def register(self, fd, evmask):
        self._events[fd] = evmask

    def modify(self, fd, evmask):
        self._events[fd] = evmask

    def unregister(self, fd):
        self._events.pop(fd, None)

    def close(self):
        self._events.clear()

    def poll(self, timeout=None):
        if timeout is not None and timeout < 0:
            timeout = None
        want = self._events
        r, w, x = _select.select([f for f, e in want.items() if e & READ],
                                 [f for f, e in want.items() if e & WRITE],
                                 [f for f, e in want.items() if e & ERROR], timeout)
        found = {}
        for bit, ready in ((READ, r), (WRITE, w), (ERROR, x)):
            for f in ready:
                fileno = f if isinstance(f, int) else f.fileno()
                found[fileno] = found.get(fileno, 0) | bit
        return list(found.items())
