"""Data encoders: subclass DataEncoder and set it as a client's or worker's `data_encoder`."""

from .util import to_bytes


class DataEncoder:
    @classmethod
    def encode(cls, encodable_object):
        raise NotImplementedError

    @classmethod
    def decode(cls, decodable_string):
        raise NotImplementedError


class NoopEncoder(DataEncoder):
    """Sends bytes (str is UTF-8 encoded) and hands back bytes."""

    @classmethod
    def encode(cls, encodable_object):
        if type(encodable_object) is bytes:
            return encodable_object
        return to_bytes(encodable_object)

    @classmethod
    def decode(cls, decodable_string):
        return decodable_string
