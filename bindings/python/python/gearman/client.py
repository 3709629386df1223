"""GearmanClient: the python-gearman 2.0 client on the native core."""

import itertools
import logging
import os
import random
import time

from . import _native
from .client_handler import GearmanClientCommandHandler
from .connection_manager import GearmanConnectionManager
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
from .encoder import NoopEncoder
from .errors import (  # noqa: F401 - importable from here in python-gearman
    ConnectionError,
    ExceededConnectionAttempts,
    InvalidClientState,
    ServerUnavailable,
)
from .job import GearmanJob, GearmanJobRequest
from .util import to_bytes, to_text

log = logging.getLogger("gearman.client")

# python-gearman's default unique size: 16 random bytes, sent as 32 hex digits.
RANDOM_UNIQUE_BYTES = 16

_PRIORITIES = {PRIORITY_HIGH: 0, PRIORITY_NONE: 1, PRIORITY_LOW: 2}


class _UniqueGenerator:
    """Uniques as python-gearman makes them (32 hex digits for its default 16 random bytes), from a
    random per-process prefix and a counter: no system call per job. A forked child draws a new
    prefix, so parent and child never hand out the same unique."""

    def __init__(self):
        self._reseed()
        os.register_at_fork(after_in_child=self._reseed)

    def _reseed(self):
        self._prefix = os.urandom(8).hex()
        self._counter = itertools.count(1)

    def next(self, random_bytes):
        if random_bytes != 16:
            return os.urandom(random_bytes).hex()
        return "%s%016x" % (self._prefix, next(self._counter))


_uniques = _UniqueGenerator()


class GearmanClient(GearmanConnectionManager):
    """Submits jobs. Failures are reported on the returned requests, not raised."""

    command_handler_class = GearmanClientCommandHandler
    data_encoder = NoopEncoder
    job_class = GearmanJob
    job_request_class = GearmanJobRequest

    def __init__(self, host_list=None, random_unique_bytes=RANDOM_UNIQUE_BYTES, *, ssl=False, ssl_ca=None,
                 ssl_cert=None, ssl_key=None):
        self._requests = {}
        super().__init__(host_list, ssl=ssl, ssl_ca=ssl_ca, ssl_cert=ssl_cert, ssl_key=ssl_key)
        self.random_unique_bytes = random_unique_bytes
        self._native = self._new_native()

    def _new_native(self):
        return _native.Client(self._servers)

    def add_connection(self, hostport_tuple):
        """Adds a server; gearman-core's client is remade with it, so no request may be in flight."""
        if self._requests:
            raise InvalidClientState("cannot add a server while requests are in flight")
        connection = super().add_connection(hostport_tuple)
        if hasattr(self, "_native"):
            self._native = self._new_native()
        return connection

    def _connection(self):
        """The GearmanConnection jobs are bound to: gearman-core picks among several servers and
        fails over, so with more than one this is one of them at random."""
        connections = self.connection_list
        return connections[0] if len(connections) == 1 else random.choice(connections)

    # --- submission -----------------------------------------------------------------------------

    def submit_job(self, task, data, unique=None, priority=PRIORITY_NONE, background=False,
                   wait_until_complete=True, max_retries=0, poll_timeout=None):
        job_info = dict(task=task, data=data, unique=unique, priority=priority)
        request = self._create_request(job_info, background, max_retries)
        return self.submit_multiple_requests([request], wait_until_complete=wait_until_complete,
                                             poll_timeout=poll_timeout)[0]

    def submit_multiple_jobs(self, jobs_to_submit, background=False, wait_until_complete=True,
                             max_retries=0, poll_timeout=None):
        if not isinstance(jobs_to_submit, (list, tuple, set, frozenset)):
            raise TypeError("jobs_to_submit must be a list, tuple or set of dicts")
        requests = [self._create_request(info, background, max_retries) for info in jobs_to_submit]
        return self.submit_multiple_requests(requests, wait_until_complete=wait_until_complete,
                                             poll_timeout=poll_timeout)

    def submit_multiple_requests(self, job_requests, wait_until_complete=True, poll_timeout=None):
        if not self._requests and len({bool(r.background) for r in job_requests}) == 1:
            return self._run(job_requests, wait_until_complete, poll_timeout)
        deadline = None if poll_timeout is None else time.monotonic() + poll_timeout
        for request in job_requests:
            self._send(request)
        self._native.flush()
        processed = self.wait_until_jobs_accepted(job_requests, poll_timeout=self._left(deadline))
        if wait_until_complete and not any(r.timed_out for r in processed):
            processed = self.wait_until_jobs_completed(processed, poll_timeout=self._left(deadline))
        return processed

    def _run(self, job_requests, wait_until_complete, poll_timeout):
        """The fast path: one native call submits every request and waits for all of them."""
        jobs = [self._prepare(request) for request in job_requests]
        background = bool(job_requests[0].background) if job_requests else False
        outcomes = self._native.run(jobs, background, wait_until_complete, poll_timeout)
        for request in self._apply(job_requests, outcomes, wait_until_complete):
            self._requests[request._job_id] = request
        return job_requests

    def _apply(self, job_requests, outcomes, wait_until_complete):
        """Fills requests from the native outcome tuples; returns those still in flight."""
        decode = self.data_encoder.decode
        unfinished = []
        for request, outcome in zip(job_requests, outcomes):
            job_id, handle, state, result, data, warnings, status, exception, error = outcome
            request.job.handle = handle
            request.state = state
            request._job_id = job_id
            if state == JOB_COMPLETE and not (data or warnings or status):
                request.result = decode(result)
                continue  # the common case, done
            if result is not None:
                request.result = decode(result)
            if data:
                request.data_updates.extend(decode(d) for d in data)
            if warnings:
                request.warning_updates.extend(decode(w) for w in warnings)
            if status is not None:
                request.status = dict(handle=handle, known=True, running=True, numerator=status[0],
                                      denominator=status[1], time_received=time.time())
            if exception is not None:
                request.exception = decode(exception)
            if error is not None:
                request.error = error
                log.warning("job %s failed: %s", request.job.task, error)
            if state in (JOB_PENDING, JOB_CREATED) and not request.complete:
                unfinished.append(request)
            if state == JOB_PENDING or (wait_until_complete and not request.complete):
                request.timed_out = True
        return unfinished

    def _status(self, request, reply):
        if reply is None:
            request.timed_out = True
            return
        known, running, numerator, denominator = reply
        request.status = dict(handle=request.job.handle, known=known, running=running,
                              numerator=numerator, denominator=denominator, time_received=time.time())

    def _create_request(self, info, background, max_retries):
        if not isinstance(info, dict):
            raise TypeError("each job must be a dict with 'task' and 'data'")
        task = info.get("task")
        if task is None or "data" not in info:
            raise ValueError("each job needs 'task' and 'data'")
        if not to_text(task):
            raise ValueError("task name is empty")
        unique = info.get("unique")
        if unique is None:
            unique = _uniques.next(self.random_unique_bytes)
        priority = info.get("priority", PRIORITY_NONE)
        if priority not in _PRIORITIES:
            raise ValueError("priority must be PRIORITY_NONE, PRIORITY_LOW or PRIORITY_HIGH")
        job = self.job_class(self._connection(), None, task, unique, info["data"])
        return self.job_request_class(job, initial_priority=priority, background=background,
                                      max_attempts=max_retries + 1)

    def _prepare(self, request):
        """Counts an attempt and resets the request; returns the native job tuple."""
        if request.connection_attempts >= request.max_connection_attempts:
            raise ExceededConnectionAttempts("exceeded %d connection attempt(s)" % request.max_connection_attempts)
        if request.connection_attempts:
            request.initialize_request()  # a new request is already in its initial state
        request.connection_attempts += 1
        job = request.job
        unique = job.unique
        if unique is not None and type(unique) is not bytes:
            unique = to_bytes(unique, "unique")
        data = self.data_encoder.encode(job.data)
        if type(data) is not bytes:
            data = to_bytes(data)
        task = job.task
        task = task.encode() if type(task) is str else to_bytes(task, "task")
        return task, data, unique, _PRIORITIES[request.priority]

    def _send(self, request):
        task, data, unique, priority = self._prepare(request)
        job_id = self._native.submit(task, data, unique, priority, bool(request.background))
        request.state = JOB_PENDING
        request._job_id = job_id
        self._requests[job_id] = request

    # --- waiting --------------------------------------------------------------------------------

    @staticmethod
    def _left(deadline):
        return None if deadline is None else max(0.0, deadline - time.monotonic())

    def _pump(self, requests, done, poll_timeout):
        deadline = None if poll_timeout is None else time.monotonic() + poll_timeout
        while not all(done(r) for r in requests):
            event = self._native.next_event(self._left(deadline))
            if event is None:
                break
            self._handle(event)
        for request in requests:
            request.timed_out = not done(request)
        return requests

    def wait_until_jobs_accepted(self, job_requests, poll_timeout=None):
        for request in job_requests:
            if request.state == JOB_UNKNOWN:
                self._send(request)
        return self._pump(job_requests, lambda r: r.state != JOB_PENDING, poll_timeout)

    def wait_until_jobs_completed(self, job_requests, poll_timeout=None):
        return self._pump(job_requests, lambda r: r.complete or r.state == JOB_UNKNOWN, poll_timeout)

    def _handle(self, event):
        job_id, kind, value, extra = event
        request = self._requests.get(job_id)
        if request is None:
            return  # a late reply for a request that was dropped: harmless
        decode = self.data_encoder.decode
        if kind == "created":
            request.job.handle = value
            request.state = JOB_CREATED
        elif kind == "data":
            request.data_updates.append(decode(value))
        elif kind == "warning":
            request.warning_updates.append(decode(value))
        elif kind == "status":
            request.status = dict(handle=request.job.handle, known=True, running=True,
                                  numerator=value, denominator=extra, time_received=time.time())
        elif kind == "complete":
            request.result = decode(value)
            request.state = JOB_COMPLETE
        elif kind == "queued":
            request.state = JOB_CREATED
        elif kind == "fail":
            request.state = JOB_FAILED
        elif kind == "exception":
            request.exception = decode(value)
            request.state = JOB_FAILED
        elif kind == "error":
            request.error = value
            request.state = JOB_FAILED
            log.warning("job %s failed: %s", request.job.task, value)
            self.on_gearman_error(extra, value)
        if kind in ("complete", "queued", "fail", "exception", "error"):
            self._requests.pop(job_id, None)

    # --- status ---------------------------------------------------------------------------------

    def get_job_status(self, current_request=None, poll_timeout=None, *, job_request=None):
        """GET_STATUS for one request; `job_request=` is this module's earlier name for it."""
        if current_request is None:
            current_request = job_request
        if current_request is None:
            raise TypeError("get_job_status() needs current_request")
        return self.get_job_statuses([current_request], poll_timeout=poll_timeout)[0]

    def get_job_statuses(self, job_requests, poll_timeout=None):
        for request in job_requests:
            if request.job.handle is None:
                raise InvalidClientState("the job has no handle yet")
            request.status["last_time_received"] = request.status.get("time_received")
        return self.wait_until_job_statuses_received(job_requests, poll_timeout=poll_timeout)

    def wait_until_job_statuses_received(self, job_requests, poll_timeout=None):
        """Fetches STATUS_RES for each request whose status has not changed since
        get_job_statuses asked; `timed_out` says which did not arrive within poll_timeout."""
        deadline = None if poll_timeout is None else time.monotonic() + poll_timeout
        for request in job_requests:
            status = request.status
            if status and status.get("time_received") != status.get("last_time_received"):
                request.timed_out = False
                continue
            reply = self._native.job_status(to_bytes(request.job.handle), self._left(deadline))
            self._status(request, reply)
            request.timed_out = reply is None
        return job_requests

    # --- python-gearman's connection-manager surface, on gearman-core ---------------------------

    def establish_request_connection(self, current_request):
        """The connection `current_request` is bound to (gearman-core chooses and fails over)."""
        if current_request.job.connection is None:
            current_request.job.connection = self._connection()
        return current_request.job.connection

    def send_job_request(self, current_request):
        """Submits one request without waiting (counts an attempt; ExceededConnectionAttempts
        past max_retries)."""
        self.establish_request_connection(current_request)
        self._send(current_request)
        self._native.flush()
        current_request.timed_out = False
        return current_request

    def poll_connections_until_stopped(self, submitted_connections, callback_fxn, timeout=None):
        """Handles gearman-core's events for the in-flight requests, calling
        callback_fxn(any_activity) first and after each one, until it returns False (False is
        returned) or `timeout` runs out (True, as python-gearman). Connections established with
        establish_connection are polled as in python-gearman instead."""
        if any(c.connected for c in submitted_connections):
            return super().poll_connections_until_stopped(submitted_connections, callback_fxn, timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        callback_ok = callback_fxn(False)
        while callback_ok:
            event = self._native.next_event(self._left(deadline))
            if event is None:
                return True
            self._handle(event)
            callback_ok = callback_fxn(True)
        return False

    def shutdown(self):
        super().shutdown()
        self._requests.clear()
        self._native = self._new_native()
