"""Code written for python-gearman 2.0 runs unchanged (issue #13): the module surface compared
name by name with pygearman's, and the behaviours such code relies on, through our gearmand and
Debian's."""

import json
import socket
import subprocess
import sys
import threading

import pytest

import gearman
from gearman import errors, protocol

from conftest import HERE
from test_gearman import pygearman_python

# Where our surface differs from pygearman's on purpose: key -> reason.
DELIBERATE = {
    "gearman.__version__": "the python-gearman API level we implement (2.0.2), not pygearman's fork number",
    "gearman.version.__version__": "as gearman.__version__",
    "gearman.version.__version_info__": "as gearman.__version__",
    "gearman.client.GearmanClient.get_job_status":
        "also takes job_request=, this module's earlier name for current_request",
    "gearman.client.GearmanClient.submit_job":
        "names background, wait_until_complete, max_retries and poll_timeout instead of **kwargs: "
        "the same calls work and a misspelt keyword fails at the call",
    "gearman.client.GearmanClient.submit_multiple_jobs": "as submit_job",
    # TLS (issue #16): keyword-only additions; every call written for pygearman still works.
    "gearman.admin_client.GearmanAdminClient.__init__": "TLS keywords ssl, ssl_ca, ssl_cert, ssl_key",
    "gearman.client.GearmanClient.__init__": "TLS keywords ssl, ssl_ca, ssl_cert, ssl_key",
    "gearman.worker.GearmanWorker.__init__": "TLS keywords ssl, ssl_ca, ssl_cert, ssl_key",
    "gearman.connection_manager.GearmanConnectionManager.__init__": "TLS keywords ssl, ssl_ca, ssl_cert, ssl_key",
    "gearman.connection.GearmanConnection.__init__": "ssl=True: TLS without files (system roots)",
}

# Names only we have: key prefix -> reason.
ADDITIONS = {
    "gearman.admin_client.GEARMAN_COMMAND_TEXT_COMMAND": "imported for the handler path on gearman-core",
    "gearman.admin_client.LISTING_COMMANDS": "imported for the handler path on gearman-core",
    "gearman.admin_client_handler.LISTING_COMMANDS": "which admin commands answer with a listing",
    "gearman.admin_client_handler.server_command_of": "the admin command word of a line",
    "gearman.connection.GearmanConnection.tls_files": "a connection's TLS files, for gearman-core",
    "gearman.client.GearmanClient.job_request_class": "python-gearman HEAD's subclassing point for requests",
    "gearman.client.JOB_": "imported state constants",
    "gearman.client.PRIORITY_": "imported priority constants",
    "gearman.errors.ServerError": "a server's ERROR packet, under GearmanError",
    "gearman.errors.TimeoutError": "under GearmanError",
    "gearman.job.GearmanJobRequest.server_status": "python-gearman 2.0.2's deprecated alias of status",
    "gearman.job.GearmanJobRequest.status_updates": "python-gearman 2.0.2's deprecated alias of data_updates",
    "gearman.util.parse_host": "host lists in every python-gearman form (and IPv6 [host]:port)",
    "gearman.util.to_bytes": "str/bytearray/memoryview data accepted",
    "gearman.util.to_text": "task names as str or bytes",
}


def surface(python):
    out = subprocess.run([str(python), str(HERE / "api_surface.py")], capture_output=True, text=True,
                         timeout=60, check=True)
    return json.loads(out.stdout)


def test_public_surface_matches_pygearman():
    theirs, ours = surface(pygearman_python()), surface(sys.executable)
    differences = []
    for key, description in sorted(theirs.items()):
        if ours.get(key) != description and key not in DELIBERATE:
            differences.append("%s: pygearman %s, ours %s" % (key, description, ours.get(key, "missing")))
    for key, description in sorted(ours.items()):
        if key not in theirs and description != "imported" and not any(key.startswith(p) for p in ADDITIONS):
            differences.append("%s: only ours (%s)" % (key, description))
    assert not differences, "\n".join(differences)
    assert all(k in theirs for k in DELIBERATE), "stale entries in DELIBERATE"


def test_protocol_packs_as_pygearman_does():
    code = ("import json, gearman.protocol as p\n"
            "print(json.dumps([p.pack_binary_command(7, dict(task=b't', unique=b'u', data=b'd\\x00x')).hex(),"
            " p.pack_binary_command(13, dict(job_handle=b'H:1', data=b'r'), is_response=True).hex(),"
            " p.submit_cmd_for_background_priority(True, 'LOW'), p.get_command_name(31)]))")
    theirs = json.loads(subprocess.run([str(pygearman_python()), "-c", code], capture_output=True, text=True,
                                       check=True).stdout)
    packed = protocol.pack_binary_command(7, dict(task="t", unique=b"u", data=b"d\x00x"))
    assert [packed.hex(), protocol.pack_binary_command(13, dict(job_handle=b"H:1", data=b"r"), True).hex(),
            protocol.submit_cmd_for_background_priority(True, "LOW"), protocol.get_command_name(31)] == theirs
    complete = protocol.pack_binary_command(13, dict(job_handle=b"H:1", data=b"r"), True)
    assert protocol.parse_binary_command(complete + b"\x00RES") == (13, dict(job_handle=b"H:1", data=b"r"), len(complete))
    assert protocol.parse_binary_command(packed[:-1], is_response=False) == (None, None, 0)


class ThreadWorker(gearman.GearmanWorker):
    """A worker in a thread of the test process (waits release the GIL)."""

    def __init__(self, hosts):
        super().__init__(hosts)
        self.stop = threading.Event()
        self.created = []

    def after_poll(self, any_activity):
        return not self.stop.is_set()

    def create_job(self, command_handler, job_handle, task, unique, data):
        self.created.append((self.check_job_lock(command_handler), self.has_job_lock()))
        return super().create_job(command_handler, job_handle, task, unique, data)

    def start(self):
        self.thread = threading.Thread(target=self.work, kwargs=dict(poll_timeout=0.1), daemon=True)
        self.thread.start()
        return self

    def finish(self):
        self.stop.set()
        self.thread.join(10)


def test_worker_jobs_carry_bytes_and_a_connection(server):
    seen = []

    def record(worker, job):
        seen.append((job.task, job.unique, job.connection.get_address(), isinstance(job.connection,
                     gearman.connection.GearmanConnection)))
        return job.data

    worker = ThreadWorker(server.hosts)
    worker.register_task("echo", record)  # a str name is accepted, as before
    worker.start()
    try:
        client = gearman.GearmanClient(server.hosts)
        by_str = client.submit_job("echo", b"a", unique="u-1", poll_timeout=10)
        by_bytes = client.submit_job(b"echo", b"b", unique=b"u-2", poll_timeout=10)
    finally:
        worker.finish()
    assert (by_str.result, by_bytes.result) == (b"a", b"b")
    assert by_str.job.task == "echo" and by_bytes.job.task == b"echo"  # the type it was given
    assert seen == [(b"echo", b"u-1", ("127.0.0.1", server.port), True),
                    (b"echo", b"u-2", ("127.0.0.1", server.port), True)]
    assert worker.created == [(True, True), (True, True)]  # create_job runs under the job lock
    assert not worker.has_job_lock() and b"echo" in worker.worker_abilities


def test_job_connection_is_the_server_that_assigned_it(server, our_server):
    seen = []

    def record(worker, job):
        seen.append(job.connection.get_address())
        return job.data

    worker = ThreadWorker(server.hosts + our_server.hosts)
    worker.register_task("where", record)
    worker.start()
    try:
        for s in (our_server, server):
            client = gearman.GearmanClient(s.hosts)
            assert client.submit_job("where", b"x", poll_timeout=10).result == b"x"
    finally:
        worker.finish()
    assert seen == [("127.0.0.1", our_server.port), ("127.0.0.1", server.port)]


def test_timed_out_clears_when_a_later_wait_completes(server):
    client = gearman.GearmanClient(server.hosts)
    request = client.submit_job("late", b"x", poll_timeout=0.3)
    assert request.timed_out and request.state == gearman.JOB_CREATED
    worker = ThreadWorker(server.hosts)
    worker.register_task("late", lambda w, job: job.data * 2)
    worker.start()
    try:
        client.wait_until_jobs_completed([request], poll_timeout=10)
    finally:
        worker.finish()
    assert (request.timed_out, request.state, request.result) == (False, gearman.JOB_COMPLETE, b"xx")


def test_get_job_status_keywords_and_statuses_received(server):
    client = gearman.GearmanClient(server.hosts)
    request = client.submit_job("nobody", b"x", background=True)
    assert client.get_job_status(current_request=request, poll_timeout=5) is request
    assert (request.status["known"], request.status["running"], request.timed_out) == (True, False, False)
    first = request.status["time_received"]
    client.get_job_status(job_request=request, poll_timeout=5)  # our earlier name still works
    assert request.status["time_received"] >= first and request.status["known"]
    assert client.wait_until_job_statuses_received([request], poll_timeout=5) == [request]


def test_request_reset_and_connection_manager_surface(server):
    client = gearman.GearmanClient(server.hosts)
    assert isinstance(client, gearman.connection_manager.GearmanConnectionManager)
    assert [c.get_address() for c in client.connection_list] == [("127.0.0.1", server.port)]
    request = client.submit_job("nobody", b"x", background=True)
    request.reset()
    assert (request.state, request.handle, request.connection, request.timed_out) == (gearman.JOB_UNKNOWN, None,
                                                                                       None, False)
    # python-gearman's own poll machinery on a connection established here
    connection = client.establish_connection(client.connection_list[0])
    assert connection.connected and client.connection_to_handler_map[connection]
    client.shutdown()
    assert not connection.connected
    errors_seen = []

    class Client(gearman.GearmanClient):
        def on_gearman_error(self, error_code, error_text):
            errors_seen.append(error_code)
            return False

    assert Client(server.hosts).on_gearman_error(b"E", b"text") is False and errors_seen == [b"E"]


def test_admin_client_for_a_dead_server_fails_on_first_use():
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        admin = gearman.GearmanAdminClient(["127.0.0.1:%d" % unused.getsockname()[1]])
        with pytest.raises(errors.ServerUnavailable):
            admin.get_status()
        with pytest.raises(errors.ServerUnavailable):
            admin.establish_admin_connection()


def test_admin_handler_path_and_send_shutdown(server):
    admin = gearman.GearmanAdminClient(server.hosts)
    admin.establish_admin_connection()
    admin.current_handler.send_text_command(protocol.GEARMAN_SERVER_COMMAND_STATUS)
    assert admin.wait_until_server_responds(protocol.GEARMAN_SERVER_COMMAND_STATUS) == admin.get_status()
    admin.current_handler.send_text_command("version")
    assert admin.wait_until_server_responds("version").startswith("OK ")
    code = ("import gearman, sys\n"
            "print(repr(gearman.GearmanAdminClient([sys.argv[1]]).send_shutdown()))")
    theirs = subprocess.run([str(pygearman_python()), "-c", code, server.hosts[0]], capture_output=True,
                            text=True, timeout=30)
    assert theirs.stdout.strip() == "None"  # gearmand 1.1.20 refuses it; ours shuts down
    server.restart()
    assert gearman.GearmanAdminClient(server.hosts).send_shutdown() is None
