"""asyncio front ends on the same core: `Client` and `Worker` for code that lives in an event loop.

The core's async client and worker run on pyo3-async-runtimes' tokio runtime and are awaited
from asyncio: no thread per call, and one connection serves any number of concurrent calls.

    client = gearman.aio.Client(["127.0.0.1:4730"])
    request = await client.submit_job("reverse", b"hello")
    results = await asyncio.gather(*(client.submit_job("reverse", b"%d" % i) for i in range(50)))

    worker = gearman.aio.Worker(["127.0.0.1:4730"])
    worker.register_task("reverse", reverse)          # plain or coroutine functions
    await worker.work()                               # until worker.stop()
"""

import asyncio
import inspect
import logging
import sys
import traceback

from . import _native
from .client import GearmanClient
from .constants import PRIORITY_NONE
from .errors import InvalidClientState, InvalidWorkerState
from .util import to_bytes
from .worker import GearmanWorker

log = logging.getLogger("gearman.aio")


class Client(GearmanClient):
    """python-gearman's client methods as coroutines: submit_job, submit_multiple_jobs,
    submit_multiple_requests, get_job_status. Requests, encoders and failure reporting are
    GearmanClient's."""

    def _new_native(self):
        return _native.AsyncClient(self._servers)

    async def submit_job(self, task, data, unique=None, priority=PRIORITY_NONE, background=False,
                         wait_until_complete=True, max_retries=0, poll_timeout=None):
        job_info = dict(task=task, data=data, unique=unique, priority=priority)
        requests = await self.submit_multiple_jobs([job_info], background=background,
                                                   wait_until_complete=wait_until_complete,
                                                   max_retries=max_retries, poll_timeout=poll_timeout)
        return requests[0]

    async def submit_multiple_jobs(self, jobs_to_submit, background=False, wait_until_complete=True,
                                   max_retries=0, poll_timeout=None):
        if not isinstance(jobs_to_submit, (list, tuple, set, frozenset)):
            raise TypeError("jobs_to_submit must be a list, tuple or set of dicts")
        requests = [self._create_request(info, background, max_retries) for info in jobs_to_submit]
        return await self.submit_multiple_requests(requests, wait_until_complete=wait_until_complete,
                                                   poll_timeout=poll_timeout)

    async def submit_multiple_requests(self, job_requests, wait_until_complete=True, poll_timeout=None):
        # One native run per background mode, so mixed lists work too.
        for background in (False, True):
            group = [r for r in job_requests if bool(r.background) == background]
            if group:
                jobs = [self._prepare(request) for request in group]
                outcomes = await self._native.run(jobs, background, wait_until_complete, poll_timeout)
                self._apply(group, outcomes, wait_until_complete)
        return job_requests

    async def get_job_status(self, job_request, poll_timeout=None):
        return (await self.get_job_statuses([job_request], poll_timeout=poll_timeout))[0]

    async def get_job_statuses(self, job_requests, poll_timeout=None):
        for request in job_requests:
            if request.job.handle is None:
                raise InvalidClientState("the job has no handle yet")
            try:
                reply = await asyncio.wait_for(self._native.job_status(to_bytes(request.job.handle)),
                                               poll_timeout)
            except asyncio.TimeoutError:
                reply = None
            self._status(request, reply)
        return job_requests

    def wait_until_jobs_accepted(self, job_requests, poll_timeout=None):
        raise InvalidClientState("gearman.aio.Client waits inside submit_* calls")

    wait_until_jobs_completed = wait_until_jobs_accepted

    def shutdown(self):
        self._requests.clear()
        self._native = self._new_native()


class Worker(GearmanWorker):
    """python-gearman's worker with `work()` as a coroutine. Callbacks `(worker, job)` may be
    plain or coroutine functions and run on the event loop; `send_job_*` are coroutines."""

    def __init__(self, host_list=None, *, ssl=False, ssl_ca=None, ssl_cert=None, ssl_key=None):
        self._stop = False
        super().__init__(host_list, ssl=ssl, ssl_ca=ssl_ca, ssl_cert=ssl_cert, ssl_key=ssl_key)

    def _new_native(self):
        return _native.AsyncWorker(self._servers)

    def stop(self):
        """Ends `work()` after the current poll (at most `poll_timeout` later)."""
        self._stop = True

    async def work(self, poll_timeout=60.0):
        """Handles jobs until stop(), or until after_poll / after_job return False."""
        self._stop = False
        continue_working = self.after_poll(False) and not self._stop
        while continue_working:
            grabbed = await self._native.grab(poll_timeout)
            if grabbed is None:
                continue_working = self.after_poll(False) and not self._stop
                continue
            token, handle, task, unique, data, server = grabbed
            job = self.job_class(self._connection_to(server), handle, task, unique, self.data_encoder.decode(data))
            job._token = token
            await self._execute(job)
            continue_working = self.after_poll(True) and self.after_job() and not self._stop

    async def _execute(self, job):
        try:
            callback = self.worker_abilities[to_bytes(job.task, "task")]
            result = callback(self, job)
            if inspect.isawaitable(result):
                result = await result
        except Exception:
            exc_info = sys.exc_info()
            text = "".join(traceback.format_exception_only(exc_info[0], exc_info[1])).strip()
            log.error("job %r raised %s", job.task, text)
            token = self._finishing(job)
            if token is not None:
                await self._native.send_exception(token, to_bytes(text))
            return
        await self.send_job_complete(job, result)

    async def send_job_status(self, current_job, numerator, denominator, poll_timeout=None):
        if not isinstance(numerator, int) or not isinstance(denominator, int):
            raise TypeError("numerator and denominator must be integers")
        if numerator < 0 or denominator < 0:
            raise ValueError("numerator and denominator must not be negative")
        await self._native.send_status(self._token(current_job), numerator, denominator)

    async def send_job_data(self, current_job, data, poll_timeout=None):
        await self._native.send_data(self._token(current_job), to_bytes(self.data_encoder.encode(data)))

    async def send_job_warning(self, current_job, data, poll_timeout=None):
        await self._native.send_warning(self._token(current_job), to_bytes(self.data_encoder.encode(data)))

    async def send_job_complete(self, current_job, data, poll_timeout=None):
        token = self._finishing(current_job)
        if token is not None:
            result = b"" if data is None else to_bytes(self.data_encoder.encode(data))
            await self._native.send_complete(token, result)

    async def send_job_failure(self, current_job, poll_timeout=None):
        token = self._finishing(current_job)
        if token is not None:
            await self._native.send_fail(token)

    async def send_job_exception(self, current_job, data, poll_timeout=None):
        token = self._finishing(current_job)
        if token is not None:
            await self._native.send_exception(token, to_bytes(self.data_encoder.encode(data)))

    def shutdown(self):
        raise InvalidWorkerState("create a new gearman.aio.Worker instead")
