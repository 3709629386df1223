"""The classic count_lines client with the python-gearman API (our module):
    python count_lines.py HOST:PORT < /etc/passwd"""
import sys

import gearman

client = gearman.GearmanClient([sys.argv[1] if len(sys.argv) > 1 else "localhost:4730"])
request = client.submit_job("count_lines", sys.stdin.buffer.read(), poll_timeout=30)
if request.state != gearman.JOB_COMPLETE:
    sys.exit("count_lines: %s%s" % (request.state, " (timed out)" if request.timed_out else ""))
sys.stdout.write(request.result.decode())
