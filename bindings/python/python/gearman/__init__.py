"""gearman: the python-gearman 2.0 API on a Rust core (gearman-rs).

    import gearman
    client = gearman.GearmanClient(["127.0.0.1:4730"])
    request = client.submit_job("reverse", b"hello")
    print(request.state, request.result)
"""

import logging

from . import (
    admin_client,
    admin_client_handler,
    client,
    client_handler,
    command_handler,
    compat,
    connection,
    connection_manager,
    constants,
    errors,
    io,
    job,
    protocol,
    util,
    worker,
    worker_handler,
)
from .admin_client import GearmanAdminClient
from .client import GearmanClient
from .constants import (
    JOB_COMPLETE,
    JOB_CREATED,
    JOB_FAILED,
    JOB_PENDING,
    JOB_UNKNOWN,
    PRIORITY_HIGH,
    PRIORITY_LOW,
    PRIORITY_NONE,
)
from .encoder import DataEncoder, NoopEncoder
from .job import GearmanJob, GearmanJobRequest
from .version import __version__
from .worker import GearmanWorker

logging.getLogger("gearman").addHandler(logging.NullHandler())

__all__ = [
    "GearmanAdminClient", "GearmanClient", "GearmanWorker", "GearmanJob", "GearmanJobRequest",
    "DataEncoder", "NoopEncoder", "constants", "errors",
    "PRIORITY_NONE", "PRIORITY_LOW", "PRIORITY_HIGH",
    "JOB_UNKNOWN", "JOB_PENDING", "JOB_CREATED", "JOB_FAILED", "JOB_COMPLETE",
    "__version__",
]
