"""One load script for both python-gearman implementations (whichever `gearman` the interpreter
imports): N foreground jobs, 1 in flight (submit_job) or 100 (submit_multiple_jobs). Prints
jobs/s and this process's CPU time per job in µs.   Usage: load.py PORT INFLIGHT JOBS"""
import resource
import sys
import time

import gearman

port, inflight, jobs = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
client = gearman.GearmanClient(["127.0.0.1:%d" % port])
payload = b"0123456789"
assert client.submit_job("bench_echo", payload, poll_timeout=30).result == payload  # warm-up


def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


t0, c0 = time.time(), cpu()
if inflight <= 1:
    for _ in range(jobs):
        request = client.submit_job("bench_echo", payload, poll_timeout=30)
        assert request.result == payload
else:
    for _ in range(jobs // inflight):
        batch = [dict(task="bench_echo", data=payload) for _ in range(inflight)]
        for request in client.submit_multiple_jobs(batch, poll_timeout=30):
            assert request.result == payload
wall, used = time.time() - t0, cpu() - c0
print("%.0f %.1f" % (jobs / wall, used * 1e6 / jobs))
