"""python-gearman's Python 2/3 helpers, kept because code written for it imports them."""

import sys

PY2 = sys.version_info[0] == 2
PY3 = sys.version_info[0] == 3

binary_type = bytes
unicode_type = str


def array_to_bytes(arr):
    return arr.tobytes()


def itervalues(d):
    return d.values()


def to_hex(binary_str):
    return bytes(binary_str).hex()
