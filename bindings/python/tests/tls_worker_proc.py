"""A worker process over TLS for test_tls.py: reverses `reverse` jobs. Environment: PORT, CA,
CERT, KEY (empty: no client certificate)."""

import os

import gearman

worker = gearman.GearmanWorker(["localhost:%s" % os.environ["PORT"]], ssl_ca=os.environ["CA"],
                               ssl_cert=os.environ["CERT"] or None, ssl_key=os.environ["KEY"] or None)
worker.register_task("reverse", lambda w, job: job.data[::-1])
worker.work()
