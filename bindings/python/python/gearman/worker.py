"""GearmanWorker: the python-gearman 2.0 worker on the native core.

Differences from python-gearman, on purpose: jobs are seen as soon as the server sends NOOP (not
up to `poll_timeout` late); a server that goes away is reconnected and re-registered instead of
ending work() with ServerUnavailable; an exception in a callback is sent as WORK_EXCEPTION with
its text (clients that did not ask for exceptions get WORK_FAIL from the server, as before).
"""

import logging
import sys
import time
import traceback

from . import _native
from .connection_manager import GearmanConnectionManager
from .encoder import NoopEncoder
from .errors import ConnectionError, InvalidWorkerState  # noqa: F401 - importable from here in python-gearman
from .job import GearmanJob
from .util import to_bytes, to_text
from .worker_handler import GearmanWorkerCommandHandler

log = logging.getLogger("gearman.worker")

POLL_TIMEOUT_IN_SECONDS = 60.0


class GearmanWorker(GearmanConnectionManager):
    command_handler_class = GearmanWorkerCommandHandler
    data_encoder = NoopEncoder
    job_class = GearmanJob

    def __init__(self, host_list=None, *, ssl=False, ssl_ca=None, ssl_cert=None, ssl_key=None):
        self.worker_abilities = {}  # task name as bytes -> callback, as job.task arrives
        self.worker_client_id = None
        self.command_handler_holding_job_lock = None
        self._native = None
        super().__init__(host_list, ssl=ssl, ssl_ca=ssl_ca, ssl_cert=ssl_cert, ssl_key=ssl_key)
        self._rebuild_native()
        self._update_initial_state()

    def _new_native(self):
        return _native.Worker(self._servers)

    def _rebuild_native(self):
        self._native = self._new_native()
        for name in self.worker_abilities:
            self._native.register(name)
        if self.worker_client_id is not None:
            self._native.set_client_id(to_bytes(self.worker_client_id, "client_id"))
        self._job_handler = GearmanWorkerCommandHandler(connection_manager=self)

    def _update_initial_state(self):
        self.handler_initial_state["abilities"] = list(self.worker_abilities)
        self.handler_initial_state["client_id"] = self.worker_client_id

    def _established_handlers(self):
        return [h for h in self.handler_to_connection_map if h is not self._job_handler]

    def add_connection(self, hostport_tuple):
        connection = super().add_connection(hostport_tuple)
        if self._native is not None:
            self._rebuild_native()
        return connection

    def register_task(self, task, callback_function):
        if not callable(callback_function):
            raise TypeError("callback_function must be callable")
        name = to_bytes(task, "task")
        if not name:
            raise ValueError("task name is empty")
        self._native.register(name)
        self.worker_abilities[name] = callback_function
        self._update_initial_state()
        for handler in self._established_handlers():
            handler.set_abilities(self.handler_initial_state["abilities"])
        return task

    def unregister_task(self, task):
        name = to_bytes(task, "task")
        self.worker_abilities.pop(name, None)
        self._native.unregister(name)
        self._update_initial_state()
        for handler in self._established_handlers():
            handler.set_abilities(self.handler_initial_state["abilities"])
        return task

    def set_client_id(self, client_id):
        self._native.set_client_id(to_bytes(client_id, "client_id"))
        self.worker_client_id = client_id
        self._update_initial_state()
        for handler in self._established_handlers():
            handler.set_client_id(client_id)
        return client_id

    # --- the work loop --------------------------------------------------------------------------

    def work(self, poll_timeout=POLL_TIMEOUT_IN_SECONDS):
        """Handles jobs until after_poll (or after_job) returns False."""
        continue_working = self.after_poll(False)
        while continue_working:
            if not self._work_once(poll_timeout):
                continue_working = self.after_poll(False)
                continue
            continue_working = self.after_poll(True) and self.after_job()

    def _work_once(self, timeout):
        """Grabs one job within `timeout` and runs it under the job lock; False if none came."""
        grabbed = self._native.grab(timeout)
        if grabbed is None:
            return False
        token, handle, task, unique, data, server = grabbed
        handler = self._job_handler
        self.handler_to_connection_map[handler] = self._connection_to(server)
        self.set_job_lock(handler, lock=True)
        try:
            job = self.create_job(handler, handle, task, unique, self.data_encoder.decode(data))
            job._token = token
            self.on_job_execute(job)
        finally:
            self.set_job_lock(handler, lock=False)
            self.handler_to_connection_map.pop(handler, None)
        return True

    def _connection_to(self, server):
        """The connection of the server (host, port) that assigned a job."""
        for connection in self.connection_list:
            if server is not None and (connection.gearman_host, int(connection.gearman_port)) == tuple(server):
                return connection
        return self.connection_list[0] if self.connection_list else None

    def poll_connections_until_stopped(self, submitted_connections, callback_fxn, timeout=None):
        """Runs jobs from gearman-core's worker, calling callback_fxn(any_activity) first and
        after each job, until it returns False (False is returned) or `timeout` runs out (True, as python-gearman).
        Connections established with establish_connection are polled as in python-gearman."""
        if any(c.connected for c in submitted_connections):
            return super().poll_connections_until_stopped(submitted_connections, callback_fxn, timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        callback_ok = callback_fxn(False)
        while callback_ok:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not self._work_once(left):
                return True
            callback_ok = callback_fxn(True)
        return False

    def establish_worker_connections(self):
        """The connections jobs come through (gearman-core connects, reconnects and
        re-registers on its own)."""
        return list(self.connection_list)

    def shutdown(self):
        self.command_handler_holding_job_lock = None
        super().shutdown()
        self._rebuild_native()

    # --- the worker-wide job lock (one job at a time across all connections) ------------------

    def set_job_lock(self, command_handler, lock):
        """Takes (lock=True) or releases the lock for `command_handler`; False if it is held by
        another handler, not held by this one, or the handler is unknown."""
        if command_handler not in self.handler_to_connection_map:
            return False
        holder = self.command_handler_holding_job_lock
        if (lock and holder is not None) or (not lock and holder is not command_handler):
            return False
        self.command_handler_holding_job_lock = command_handler if lock else None
        return True

    def has_job_lock(self):
        return self.command_handler_holding_job_lock is not None

    def check_job_lock(self, command_handler):
        return self.command_handler_holding_job_lock is command_handler

    def create_job(self, command_handler, job_handle, task, unique, data):
        """The job handed to on_job_execute: job_class(connection, handle, task, unique, data)
        with task and unique as bytes, as they arrive."""
        return self.job_class(self.handler_to_connection_map[command_handler], job_handle, task, unique, data)

    def handle_error(self, current_connection):
        handler = self.connection_to_handler_map.get(current_connection)
        if handler is not None:
            self.set_job_lock(handler, lock=False)
        super().handle_error(current_connection)

    # --- hooks ----------------------------------------------------------------------------------

    def after_poll(self, any_activity):
        return True

    def after_job(self):
        return True

    def on_job_execute(self, current_job):
        try:
            callback = self.worker_abilities[to_bytes(current_job.task, "task")]
            job_result = callback(self, current_job)
        except Exception:
            return self.on_job_exception(current_job, sys.exc_info())
        return self.on_job_complete(current_job, job_result)

    def on_job_exception(self, current_job, exc_info):
        text = "".join(traceback.format_exception_only(exc_info[0], exc_info[1])).strip()
        log.error("job %r raised %s", current_job.task, text)
        if self._python_handler(current_job) is not None:
            self.send_job_failure(current_job)
            return False
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

    def _python_handler(self, job):
        """The handler of a connection established with establish_connection that handed out
        `job`, or None for jobs from gearman-core."""
        if getattr(job, "_token", None) is not None:
            return None
        return self.connection_to_handler_map.get(job.connection)

    def wait_until_updates_sent(self, multiple_gearman_jobs, poll_timeout=None):
        """Waits until the updates for these jobs are written. gearman-core writes each update
        before send_job_* returns, so only connections established here can have any pending."""
        pending = {job.connection for job in multiple_gearman_jobs
                   if self._python_handler(job) is not None and job.connection.connected}
        if pending:
            super().poll_connections_until_stopped(
                pending, lambda any_activity: any(c.writable() for c in pending), timeout=poll_timeout)

    def send_job_status(self, current_job, numerator, denominator, poll_timeout=None):
        handler = self._python_handler(current_job)
        if handler is not None:
            handler.send_job_status(current_job, numerator, denominator)
            return self.wait_until_updates_sent([current_job], poll_timeout=poll_timeout)
        if not isinstance(numerator, int) or not isinstance(denominator, int):
            raise TypeError("numerator and denominator must be integers")
        if numerator < 0 or denominator < 0:
            raise ValueError("numerator and denominator must not be negative")
        self._native.send_status(self._token(current_job), numerator, denominator)

    def send_job_data(self, current_job, data, poll_timeout=None):
        handler = self._python_handler(current_job)
        if handler is not None:
            handler.send_job_data(current_job, data)
            return self.wait_until_updates_sent([current_job], poll_timeout=poll_timeout)
        self._native.send_data(self._token(current_job), to_bytes(self.data_encoder.encode(data)))

    def send_job_warning(self, current_job, data, poll_timeout=None):
        handler = self._python_handler(current_job)
        if handler is not None:
            handler.send_job_warning(current_job, data)
            return self.wait_until_updates_sent([current_job], poll_timeout=poll_timeout)
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
        handler = self._python_handler(current_job)
        if handler is not None:
            handler.send_job_complete(current_job, data)
            return self.wait_until_updates_sent([current_job], poll_timeout=poll_timeout)
        token = self._finishing(current_job)
        if token is not None:
            result = b"" if data is None else to_bytes(self.data_encoder.encode(data))
            self._native.send_complete(token, result)

    def send_job_failure(self, current_job, poll_timeout=None):
        handler = self._python_handler(current_job)
        if handler is not None:
            handler.send_job_failure(current_job)
            return self.wait_until_updates_sent([current_job], poll_timeout=poll_timeout)
        token = self._finishing(current_job)
        if token is not None:
            self._native.send_fail(token)

    def send_job_exception(self, current_job, data, poll_timeout=None):
        """Sends WORK_EXCEPTION, which finishes the job (python-gearman also sent WORK_FAIL,
        which servers refuse once the exception has finished the job)."""
        handler = self._python_handler(current_job)
        if handler is not None:
            handler.send_job_exception(current_job, data)
            handler.send_job_failure(current_job)
            return self.wait_until_updates_sent([current_job], poll_timeout=poll_timeout)
        token = self._finishing(current_job)
        if token is not None:
            self._native.send_exception(token, to_bytes(self.data_encoder.encode(data)))
