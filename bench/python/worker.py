"""Echo worker for the Python benchmark (our module)."""
import sys

import gearman

worker = gearman.GearmanWorker(["127.0.0.1:%s" % sys.argv[1]])
worker.register_task("bench_echo", lambda w, job: job.data)
worker.work(poll_timeout=5.0)
