"""GearmanClientCommandHandler: a client connection's state (requests awaiting handles, requests
by handle) for code that drives GearmanConnection objects itself."""

import collections
import time
import weakref

from .command_handler import GearmanCommandHandler
from .constants import JOB_COMPLETE, JOB_CREATED, JOB_FAILED, JOB_PENDING, JOB_UNKNOWN
from .errors import InvalidClientState
from .protocol import GEARMAN_COMMAND_GET_STATUS, submit_cmd_for_background_priority


class GearmanClientCommandHandler(GearmanCommandHandler):
    def __init__(self, connection_manager=None):
        super().__init__(connection_manager=connection_manager)
        self.requests_awaiting_handles = collections.deque()
        self.handle_to_request_map = weakref.WeakValueDictionary()

    def send_job_request(self, current_request):
        self._assert_request_state(current_request, JOB_UNKNOWN)
        job = current_request.job
        self.send_command(submit_cmd_for_background_priority(current_request.background, current_request.priority),
                          task=job.task, unique=job.unique, data=self.encode_data(job.data))
        current_request.state = JOB_PENDING
        self.requests_awaiting_handles.append(current_request)

    def send_get_status_of_job(self, current_request):
        self._register_request(current_request)
        self.send_command(GEARMAN_COMMAND_GET_STATUS, job_handle=current_request.job.handle)

    def on_io_error(self):
        for request in list(self.requests_awaiting_handles) + list(self.handle_to_request_map.values()):
            request.state = JOB_UNKNOWN

    def _register_request(self, current_request):
        self.handle_to_request_map[current_request.job.handle] = current_request

    def _assert_request_state(self, current_request, expected_state):
        if current_request.state != expected_state:
            raise InvalidClientState("Expected handle (%s) to be in state %r, got %r"
                                     % (current_request.job.handle, expected_state, current_request.state))

    def _created(self, job_handle):
        request = self.handle_to_request_map[job_handle]
        self._assert_request_state(request, JOB_CREATED)
        return request

    def recv_job_created(self, job_handle):
        if not self.requests_awaiting_handles:
            raise InvalidClientState("Received a job_handle with no pending requests")
        request = self.requests_awaiting_handles.popleft()
        self._assert_request_state(request, JOB_PENDING)
        request.job.handle = job_handle
        request.state = JOB_CREATED
        self._register_request(request)
        return True

    def recv_work_data(self, job_handle, data):
        self._created(job_handle).data_updates.append(self.decode_data(data))
        return True

    def recv_work_warning(self, job_handle, data):
        self._created(job_handle).warning_updates.append(self.decode_data(data))
        return True

    def recv_work_status(self, job_handle, numerator, denominator):
        self._created(job_handle).status = dict(handle=job_handle, known=True, running=True, numerator=int(numerator),
                                                denominator=int(denominator), time_received=time.time())
        return True

    def recv_work_complete(self, job_handle, data):
        request = self._created(job_handle)
        request.result = self.decode_data(data)
        request.state = JOB_COMPLETE
        return True

    def recv_work_fail(self, job_handle):
        self._created(job_handle).state = JOB_FAILED
        return True

    def recv_work_exception(self, job_handle, data):
        self._created(job_handle).exception = self.decode_data(data)
        return True

    def recv_status_res(self, job_handle, known, running, numerator, denominator):
        self.handle_to_request_map[job_handle].status = dict(
            handle=job_handle, known=known == b"1", running=running == b"1", numerator=int(numerator),
            denominator=int(denominator), time_received=time.time())
        return True
