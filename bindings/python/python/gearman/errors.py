"""Every exception the module raises derives from GearmanError."""


class GearmanError(Exception):
    pass


class ConnectionError(GearmanError):  # noqa: A001 - python-gearman's name
    pass


class ServerUnavailable(GearmanError):
    pass


class ProtocolError(GearmanError):
    pass


class UnknownCommandError(GearmanError):
    pass


class ExceededConnectionAttempts(GearmanError):
    pass


class InvalidClientState(GearmanError):
    pass


class InvalidWorkerState(GearmanError):
    pass


class InvalidAdminClientState(GearmanError):
    pass


class ServerError(GearmanError):
    """The server answered with an ERROR packet (for example QUEUE_ERROR when a queue is full)."""


class TimeoutError(GearmanError):  # noqa: A001
    pass
