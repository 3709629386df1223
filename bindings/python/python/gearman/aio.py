"""asyncio front ends on the same core: `Client` and `Worker` for code that lives in an event loop.

Each blocking call runs in a worker thread (the native calls release the GIL), so the event loop
keeps running; concurrent calls use separate connections from a small pool.

    client = gearman.aio.Client(["127.0.0.1:4730"])
    request = await client.submit_job("reverse", b"hello")
    results = await asyncio.gather(*(client.submit_job("reverse", b"%d" % i) for i in range(50)))
"""

import asyncio
import functools
import inspect

from .client import GearmanClient
from .worker import GearmanWorker


class Client:
    """Awaitable python-gearman client methods."""

    client_class = GearmanClient

    def __init__(self, host_list=None, max_connections=16):
        self._host_list = host_list
        self._idle = []
        self._slots = asyncio.Semaphore(max_connections)

    async def _call(self, method, *args, **kwargs):
        async with self._slots:
            client = self._idle.pop() if self._idle else self.client_class(self._host_list)
            try:
                loop = asyncio.get_running_loop()
                return await loop.run_in_executor(None, functools.partial(getattr(client, method), *args, **kwargs))
            finally:
                self._idle.append(client)

    async def submit_job(self, task, data, **kwargs):
        return await self._call("submit_job", task, data, **kwargs)

    async def submit_multiple_jobs(self, jobs_to_submit, **kwargs):
        return await self._call("submit_multiple_jobs", jobs_to_submit, **kwargs)

    async def get_job_status(self, job_request, poll_timeout=None):
        return await self._call("get_job_status", job_request, poll_timeout=poll_timeout)

    def shutdown(self):
        self._idle.clear()


class Worker:
    """Runs a python-gearman worker loop in a thread; callbacks may be coroutine functions, which
    run on the event loop."""

    worker_class = GearmanWorker

    def __init__(self, host_list=None):
        self._worker = self.worker_class(host_list)
        self._stop = False

    def register_task(self, task, callback):
        def call(worker, job):
            result = callback(worker, job)
            if inspect.isawaitable(result):
                return asyncio.run_coroutine_threadsafe(result, self._loop).result()
            return result

        return self._worker.register_task(task, call)

    def set_client_id(self, client_id):
        return self._worker.set_client_id(client_id)

    def stop(self):
        """Ends `work()` after the current poll (at most `poll_timeout` later)."""
        self._stop = True

    async def work(self, poll_timeout=1.0):
        self._loop = asyncio.get_running_loop()
        worker = self._worker
        worker.after_poll = lambda any_activity: not self._stop
        await self._loop.run_in_executor(None, functools.partial(worker.work, poll_timeout=poll_timeout))
