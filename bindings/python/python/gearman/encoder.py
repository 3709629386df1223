"""Data encoders: subclass DataEncoder and set it as a client's or worker's `data_encoder`. They are
defined in gearman.connection_manager, where python-gearman has them."""

from .connection_manager import DataEncoder, NoopEncoder

__all__ = ["DataEncoder", "NoopEncoder"]
