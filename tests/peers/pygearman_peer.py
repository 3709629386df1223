"""pygearman (python-gearman 2.x API, bytes flavour) against a job server: reverse job with
status and data, a background job, a status query, and the admin client."""
import os
import threading
import time

import gearman

PORT = int(os.environ["PORT"])
HOSTS = ["127.0.0.1:%d" % PORT]
done = threading.Event()


class Worker(gearman.GearmanWorker):
    def after_poll(self, any_activity):
        return not done.is_set()


def reverse(worker, job):
    worker.send_job_status(job, 1, 2)
    worker.send_job_data(job, b"partial")
    return job.data[::-1]


worker = Worker(HOSTS)
worker.set_client_id("pygearman-worker")
worker.register_task(b"reverse", reverse)
thread = threading.Thread(target=worker.work, kwargs={"poll_timeout": 0.2}, daemon=True)
thread.start()

client = gearman.GearmanClient(HOSTS)
request = client.submit_job("reverse", b"Hello gearman", poll_timeout=10)
assert request.state == gearman.JOB_COMPLETE, request.state
assert request.result == b"namraeg olleH", request.result
assert list(request.data_updates) == [b"partial"], request.data_updates
assert request.status["numerator"] == 1 and request.status["denominator"] == 2, request.status

bg = client.submit_job("pyg_bg", b"later", background=True, wait_until_complete=False, poll_timeout=10)
assert bg.state == gearman.JOB_CREATED, bg.state
status = client.get_job_status(bg, poll_timeout=10)
assert status.status["known"] is True and status.status["running"] is False, status.status

admin = gearman.GearmanAdminClient(HOSTS, poll_timeout=5)
admin.ping_server()
names = {s["task"] for s in admin.get_status()}
assert "reverse" in names and "pyg_bg" in names, names
workers = admin.get_workers()
assert any(w["client_id"] == "pygearman-worker" for w in workers), workers
version = admin.get_version()
assert version.startswith("OK 1.1.20"), version
done.set()
thread.join(5)
print("pygearman: ok")
