"""gear (OpenStack's threaded client/worker) against a job server: reverse job with status and
data, a background job, a status query, and admin requests."""
import os
import time

import gear

PORT = int(os.environ["PORT"])


def wait(predicate, limit=10):
    deadline = time.time() + limit
    while not predicate():
        assert time.time() < deadline, "timed out"
        time.sleep(0.01)


worker = gear.Worker("gear-worker")
worker.addServer("127.0.0.1", PORT)
worker.waitForServer()
worker.registerFunction("reverse")
client = gear.Client()
client.addServer("127.0.0.1", PORT)
client.waitForServer()

job = gear.Job(b"reverse", b"Hello gearman")
client.submitJob(job)
assert job.handle.startswith(b"H:"), job.handle
work = worker.getJob()
assert work.arguments == b"Hello gearman"
work.sendWorkStatus(1, 2)
work.sendWorkData(b"partial")
work.sendWorkComplete(work.arguments[::-1])
wait(lambda: job.complete)
assert job.data == [b"partial", b"namraeg olleH"], job.data
assert job.numerator == b"1" and job.denominator == b"2", (job.numerator, job.denominator)

bg = gear.Job(b"gear_bg", b"later")
client.submitJob(bg, background=True)
assert bg.handle.startswith(b"H:"), bg.handle

status = gear.StatusAdminRequest()
client.active_connections[0].sendAdminRequest(status, timeout=10)
text = status.response.decode()
assert "gear_bg\t1\t0\t0" in text, text
version = gear.VersionAdminRequest()
client.active_connections[0].sendAdminRequest(version, timeout=10)
assert version.response.startswith(b"OK 1.1.20"), version.response
workers = gear.WorkersAdminRequest()
client.active_connections[0].sendAdminRequest(workers, timeout=10)
assert b"gear-worker" in workers.response, workers.response

worker.shutdown()
client.shutdown()
print("gear: ok")
