"""A worker process over TLS for test_tls.py: reverses `reverse` jobs. Environment: PORT, CA,
CERT, KEY."""

import os

import gearman

worker = gearman.GearmanWorker(["localhost:%s" % os.environ["PORT"]], ssl_ca=os.environ["CA"],
                               ssl_cert=os.environ["CERT"], ssl_key=os.environ["KEY"])
worker.register_task("reverse", lambda w, job: job.data[::-1])
worker.work()
