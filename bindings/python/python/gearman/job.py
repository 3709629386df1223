"""GearmanJob and GearmanJobRequest, as python-gearman has them."""

import collections

from .constants import JOB_COMPLETE, JOB_CREATED, JOB_FAILED, JOB_UNKNOWN, PRIORITY_NONE


class GearmanJob:
    def __init__(self, connection, handle, task, unique, data):
        self.connection = connection
        self.handle = handle
        self.task = task
        self.unique = unique
        self.data = data

    def to_dict(self):
        return dict(task=self.task, job_handle=self.handle, unique=self.unique, data=self.data)

    def __repr__(self):
        return "<GearmanJob handle=%r task=%r unique=%r>" % (self.handle, self.task, self.unique)


class GearmanJobRequest:
    def __init__(self, gearman_job, initial_priority=PRIORITY_NONE, background=False, max_attempts=1):
        self.gearman_job = gearman_job
        self.priority = initial_priority
        self.background = background
        self.connection_attempts = 0
        self.max_connection_attempts = max_attempts
        self.initialize_request()

    def initialize_request(self):
        self.result = None
        self.exception = None
        self.error = None
        self.warning_updates = collections.deque()
        self.data_updates = collections.deque()
        self.status = {}
        self.state = JOB_UNKNOWN
        self.timed_out = False

    def reset(self):
        """Back to the state of a new request, with no connection or handle."""
        self.initialize_request()
        self.connection = None
        self.handle = None

    @property
    def job(self):
        return self.gearman_job

    @property
    def status_updates(self):
        return self.data_updates

    @property
    def server_status(self):
        return self.status

    @property
    def complete(self):
        if self.background:
            return self.state in (JOB_CREATED, JOB_COMPLETE, JOB_FAILED)
        return self.state in (JOB_FAILED, JOB_COMPLETE)

    def __repr__(self):
        return "<GearmanJobRequest task=%r state=%s timed_out=%s>" % (
            self.gearman_job.task,
            self.state,
            self.timed_out,
        )
