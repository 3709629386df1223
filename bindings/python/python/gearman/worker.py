"""GearmanWorker: the python-gearman 2.0 worker on the native core.

Differences from python-gearman, on purpose: jobs are seen as soon as the server sends NOOP (not
up to `poll_timeout` late); a server that goes away is reconnected and re-registered instead of
ending work() with ServerUnavailable; an exception in a callback is sent as WORK_EXCEPTION with
its text (clients that did not ask for exceptions get WORK_FAIL from the server, as before).
"""

import logging
import sys
import traceback

from . import _native
from .encoder import NoopEncoder
from .errors import InvalidWorkerState
from .job import GearmanJob
from .util import parse_host_list, to_bytes, to_text

log = logging.getLogger("gearman.worker")


class GearmanWorker:
    data_encoder = NoopEncoder
    job_class = GearmanJob

    def __init__(self, host_list=None):
        self._servers = parse_host_list(host_list)
        self._native = _native.Worker(self._servers)
        self.worker_abilities = {}
        self.worker_client_id = None

    def register_task(self, task, callback_function):
        if not callable(callback_function):
            raise TypeError("callback_function must be callable")
        name = to_text(task)
        if not name:
            raise ValueError("task name is empty")
        self._native.register(to_bytes(name, "task"))
        self.worker_abilities[name] = callback_function
        return task

    def unregister_task(self, task):
        name = to_text(task)
        self.worker_abilities.pop(name, None)
        self._native.unregister(to_bytes(name, "task"))
        return task

    def set_client_id(self, client_id):
        self._native.set_client_id(to_bytes(client_id, "client_id"))
        self.worker_client_id = client_id
        return client_id

    # --- the work loop --------------------------------------------------------------------------

    def work(self, poll_timeout=60.0):
        """Handles jobs until after_poll (or after_job) returns False."""
        continue_working = self.after_poll(False)
        while continue_working:
            grabbed = self._native.grab(poll_timeout)
            if grabbed is None:
                continue_working = self.after_poll(False)
                continue
            token, handle, task, unique, data = grabbed
            job = self.job_class(None, handle, to_text(task), to_text(unique), self.data_encoder.decode(data))
            job._token = token
            self.on_job_execute(job)
            continue_working = self.after_poll(True) and self.after_job()

    def shutdown(self):
        self._native = _native.Worker(self._servers)
        for name in self.worker_abilities:
            self._native.register(to_bytes(name, "task"))

    # --- hooks ----------------------------------------------------------------------------------

    def after_poll(self, any_activity):
        return True

    def after_job(self):
        return True

    def on_job_execute(self, current_job):
        try:
            callback = self.worker_abilities[current_job.task]
            job_result = callback(self, current_job)
        except Exception:
            return self.on_job_exception(current_job, sys.exc_info())
        return self.on_job_complete(current_job, job_result)

    def on_job_exception(self, current_job, exc_info):
        text = "".join(traceback.format_exception_only(exc_info[0], exc_info[1])).strip()
        log.error("job %r raised %s", current_job.task, text)
        token = self._finishing(current_job)
        if token is not None:
            self._native.send_exception(token, to_bytes(text))
        return False

    def on_job_complete(self, current_job, job_result):
        self.send_job_complete(current_job, job_result)
        return True

    # --- reporting from inside a job ------------------------------------------------------------

    @staticmethod
    def _token(job):
        token = getattr(job, "_token", None)
        if token is None:
            raise InvalidWorkerState("this job was not handed out by this worker")
        return token

    def send_job_status(self, current_job, numerator, denominator, poll_timeout=None):
        if not isinstance(numerator, int) or not isinstance(denominator, int):
            raise TypeError("numerator and denominator must be integers")
        if numerator < 0 or denominator < 0:
            raise ValueError("numerator and denominator must not be negative")
        self._native.send_status(self._token(current_job), numerator, denominator)

    def send_job_data(self, current_job, data, poll_timeout=None):
        self._native.send_data(self._token(current_job), to_bytes(self.data_encoder.encode(data)))

    def send_job_warning(self, current_job, data, poll_timeout=None):
        self._native.send_warning(self._token(current_job), to_bytes(self.data_encoder.encode(data)))

    @classmethod
    def _finishing(cls, job):
        """The job's token if it is still open; None (and a log line) if it already ended, as
        when a callback sends its own failure and then returns."""
        token = cls._token(job)
        if getattr(job, "_finished", False):
            log.debug("job %r already finished; ignoring the second result", job.handle)
            return None
        job._finished = True
        return token

    def send_job_complete(self, current_job, data, poll_timeout=None):
        token = self._finishing(current_job)
        if token is not None:
            result = b"" if data is None else to_bytes(self.data_encoder.encode(data))
            self._native.send_complete(token, result)

    def send_job_failure(self, current_job, poll_timeout=None):
        token = self._finishing(current_job)
        if token is not None:
            self._native.send_fail(token)

    def send_job_exception(self, current_job, data, poll_timeout=None):
        """Sends WORK_EXCEPTION, which finishes the job (python-gearman also sent WORK_FAIL,
        which servers refuse once the exception has finished the job)."""
        token = self._finishing(current_job)
        if token is not None:
            self._native.send_exception(token, to_bytes(self.data_encoder.encode(data)))
