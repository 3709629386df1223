"""gear's TLS client and worker (Python's ssl module, TLS 1.2, a client certificate) against a
TLS job server: a foreground job with data and status, a background job run by the worker, and
an admin `status` over TLS. Environment: PORT, and CA, CERT, KEY (PEM files)."""
import os
import time

import gear

PORT = int(os.environ["PORT"])
TLS = dict(ssl_ca=os.environ["CA"], ssl_cert=os.environ["CERT"], ssl_key=os.environ["KEY"])


def wait(predicate, limit=10):
    deadline = time.time() + limit
    while not predicate():
        assert time.time() < deadline, "timed out"
        time.sleep(0.01)


worker = gear.Worker("gear-tls-worker")
worker.addServer("127.0.0.1", PORT, **TLS)
worker.waitForServer(timeout=10)
worker.registerFunction("reverse")
client = gear.Client()
client.addServer("127.0.0.1", PORT, **TLS)
client.waitForServer(timeout=10)

job = gear.Job(b"reverse", b"Hello over TLS")
client.submitJob(job)
work = worker.getJob()
assert work.arguments == b"Hello over TLS", work.arguments
work.sendWorkStatus(1, 2)
work.sendWorkData(b"partial")
work.sendWorkComplete(work.arguments[::-1])
wait(lambda: job.complete)
assert job.data == [b"partial", b"SLT revo olleH"], job.data

bg = gear.Job(b"reverse", b"in the background")
client.submitJob(bg, background=True)
work = worker.getJob()
assert work.arguments == b"in the background", work.arguments
work.sendWorkComplete(b"")

status = gear.StatusAdminRequest()
client.active_connections[0].sendAdminRequest(status, timeout=10)
text = status.response.decode()
assert "reverse\t0\t0\t1" in text, text
client.shutdown()
worker.shutdown()
print("gear over TLS: ok")
