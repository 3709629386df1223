"""A pygearman client, run in pygearman's own venv: prints the result of one reverse job."""

import os
import sys

import gearman

PORT = int(os.environ["PORT"])
client = gearman.GearmanClient(["127.0.0.1:%d" % PORT])
request = client.submit_job("reverse", b"interop", poll_timeout=10)
sys.stdout.write("%s %s %s\n" % (request.state, request.result.decode(), list(request.data_updates)))
