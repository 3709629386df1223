"""The python-gearman API level this module implements (its 2.0.2 release); gearman-rs's own
version is gearman._native.VERSION."""

__version_info__ = (2, 0, 2)
__version__ = ".".join(str(part) for part in __version_info__)
