"""A pygearman (pure-Python python-gearman fork) worker, run in pygearman's own venv."""

import os

import gearman

PORT = int(os.environ["PORT"])


def reverse(worker, job):
    worker.send_job_data(job, b"partial")
    return job.data[::-1]


worker = gearman.GearmanWorker(["127.0.0.1:%d" % PORT])
worker.register_task(b"pyg_reverse", reverse)
worker.work(poll_timeout=1.0)
