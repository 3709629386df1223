"""A worker process for the tests: reverse (with status, data and warning), fail, raise, slow."""

import os
import time

import gearman

PORT = int(os.environ["PORT"])


def reverse(worker, job):
    worker.send_job_status(job, 1, 2)
    worker.send_job_data(job, b"partial")
    worker.send_job_warning(job, b"careful")
    return job.data[::-1]


def fail(worker, job):
    worker.send_job_failure(job)


def explode(worker, job):
    raise RuntimeError("boom")


def echo(worker, job):
    return job.data


def record(worker, job):
    with open(os.environ.get("RECORD", "/dev/null"), "a") as f:
        f.write(job.data.decode() + "\n")
    return b"ok"


worker = gearman.GearmanWorker(["127.0.0.1:%d" % PORT])
worker.set_client_id("py-test-worker")
worker.register_task("reverse", reverse)
worker.register_task(b"fail", fail)
worker.register_task("explode", explode)
worker.register_task("record", record)
worker.register_task("echo", echo)
worker.work(poll_timeout=1.0)
