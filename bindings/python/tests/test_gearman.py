"""The python-gearman API of our module, with clients and workers in separate processes, through
our gearmand and Debian's; and interop with the pure-Python fork pygearman."""

import json
import os
import pathlib
import subprocess
import tempfile
import time

import pytest

import gearman
from gearman import errors

from conftest import HERE, ROOT, wait_for_worker


def client(server, **kw):
    return gearman.GearmanClient(server.hosts, **kw)


def test_foreground_job_with_status_data_and_warning(server, workers):
    workers.start(server)
    wait_for_worker(server, "reverse")
    request = client(server).submit_job("reverse", b"Hello gearman", poll_timeout=10)
    assert request.state == gearman.JOB_COMPLETE
    assert request.complete and not request.timed_out
    assert request.result == b"namraeg olleH"
    assert list(request.data_updates) == [b"partial"]
    assert list(request.warning_updates) == [b"careful"]
    assert request.status["numerator"] == 1 and request.status["denominator"] == 2
    assert request.job.handle.startswith(b"H:")


def test_str_data_is_accepted_and_results_are_bytes(server, workers):
    workers.start(server)
    wait_for_worker(server, "reverse")
    request = client(server).submit_job(b"reverse", "abc", poll_timeout=10)
    assert request.result == b"cba"


def test_background_job_and_status(server):
    c = client(server)
    request = c.submit_job("py_bg", b"later", background=True, poll_timeout=10)
    assert request.state == gearman.JOB_CREATED and request.complete
    status = c.get_job_status(request).status
    assert status["known"] is True and status["running"] is False
    assert (status["numerator"], status["denominator"]) == (0, 0)


def test_priorities_order_queued_jobs(server, workers, tmp_path):
    c = client(server)
    jobs = [dict(task="record", data=d, priority=p) for d, p in
            [("low", gearman.PRIORITY_LOW), ("normal", gearman.PRIORITY_NONE), ("high", gearman.PRIORITY_HIGH)]]
    requests = c.submit_multiple_jobs(jobs, background=True, poll_timeout=10)
    assert all(r.state == gearman.JOB_CREATED for r in requests)
    record = tmp_path / "order"
    os.environ["RECORD"] = str(record)
    try:
        workers.start(server)
        deadline = time.time() + 10
        while time.time() < deadline and (not record.exists() or len(record.read_text().split()) < 3):
            time.sleep(0.02)
    finally:
        del os.environ["RECORD"]
    assert record.read_text().split() == ["high", "normal", "low"]


def test_same_unique_coalesces(server, workers):
    c = client(server)
    first = c.submit_job("reverse", b"one", unique="same-unique", wait_until_complete=False, poll_timeout=10)
    second = c.submit_job("reverse", b"two", unique="same-unique", wait_until_complete=False, poll_timeout=10)
    assert first.job.handle == second.job.handle
    workers.start(server)
    done = c.wait_until_jobs_completed([first, second], poll_timeout=10)
    assert [r.result for r in done] == [b"eno", b"eno"]


def test_generated_uniques_differ_across_fork(server, workers):
    """Jobs without a unique must never coalesce, also between a parent and its forked child."""
    workers.start(server)
    wait_for_worker(server, "reverse")
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            request = client(server).submit_job("reverse", b"child", poll_timeout=10)
            os.write(write_end, json.dumps([request.job.unique, request.result.decode()]).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    request = client(server).submit_job("reverse", b"parent", poll_timeout=10)
    os.waitpid(pid, 0)
    child_unique, child_result = json.loads(os.read(read_end, 4096))
    os.close(read_end)
    assert (request.result, child_result) == (b"tnerap", "dlihc")
    assert len(request.job.unique) == len(child_unique) == 32
    assert request.job.unique != child_unique


def test_multiple_jobs_in_flight(server, workers):
    workers.start(server)
    wait_for_worker(server, "reverse")
    jobs = [dict(task="reverse", data=("job-%d" % i).encode()) for i in range(200)]
    requests = client(server).submit_multiple_jobs(jobs, poll_timeout=30)
    assert [r.result for r in requests] == [("job-%d" % i).encode()[::-1] for i in range(200)]


def test_failures_are_reported_not_raised(server, workers):
    workers.start(server)
    wait_for_worker(server, "fail")
    c = client(server)
    failed = c.submit_job("fail", b"x", poll_timeout=10)
    assert failed.state == gearman.JOB_FAILED and failed.complete
    # A callback that raises: the worker sends WORK_EXCEPTION; a client without the exceptions
    # option gets WORK_FAIL from the server. The worker lives on.
    exploded = c.submit_job("explode", b"x", poll_timeout=10)
    assert exploded.state == gearman.JOB_FAILED
    assert c.submit_job("reverse", b"still here", poll_timeout=10).result == b"ereh llits"


def test_poll_timeout_sets_timed_out(server):
    started = time.time()
    request = client(server).submit_job("nobody_serves_this", b"x", poll_timeout=0.3)
    assert request.timed_out and not request.complete
    assert time.time() - started < 5


def test_dead_server_raises_server_unavailable():
    with pytest.raises(errors.ServerUnavailable) as info:
        gearman.GearmanClient(["127.0.0.1:1"]).submit_job("f", b"x", poll_timeout=2)
    assert isinstance(info.value, errors.GearmanError)
    assert "connection refused" in str(info.value)


def test_worker_reconnects_after_server_restart(server, workers):
    workers.start(server)
    wait_for_worker(server, "reverse")
    assert client(server).submit_job("reverse", b"ab", poll_timeout=10).result == b"ba"
    server.restart()
    request = client(server).submit_job("reverse", b"cd", poll_timeout=10)
    assert request.result == b"dc", request


def test_admin_client(server, workers):
    workers.start(server)
    wait_for_worker(server, "reverse")
    c = client(server)
    c.submit_job("admin_bg", b"x", background=True)
    admin = gearman.GearmanAdminClient(server.hosts)
    assert admin.ping_server() < 5
    assert admin.get_version().startswith("OK 1.1.20")
    status = {s["task"]: s for s in admin.get_status()}
    assert status["admin_bg"]["queued"] == 1 and status["reverse"]["workers"] == 1
    assert any(w["client_id"] == "py-test-worker" and "reverse" in w["tasks"] for w in admin.get_workers())
    assert admin.get_pid() == "OK %d" % server.process.pid
    # gearmand answers maxqueue with "OK\r\n": stripping the \r makes this work against it too.
    assert admin.send_maxqueue("admin_bg", 10) == "OK"
    jobs = admin.get_jobs()
    assert len(jobs) == 1 and jobs[0]["handle"].startswith("H:")
    assert admin.cancel_job(jobs[0]["handle"]) == "OK"
    with pytest.raises(errors.ProtocolError):
        admin.cancel_job("H:nowhere:1")


class JSONEncoder(gearman.DataEncoder):
    @classmethod
    def encode(cls, encodable_object):
        return json.dumps(encodable_object).encode()

    @classmethod
    def decode(cls, decodable_string):
        return json.loads(decodable_string)


class JSONClient(gearman.GearmanClient):
    data_encoder = JSONEncoder


def test_data_encoder_subclass(our_server, workers):
    workers.start(our_server)
    wait_for_worker(our_server, "echo")
    # The client encodes to JSON, the worker echoes the bytes, the client decodes them.
    request = JSONClient(our_server.hosts).submit_job("echo", {"n": [1, 2]}, poll_timeout=10)
    assert request.result == {"n": [1, 2]}


def test_bad_arguments_raise_clear_errors(our_server):
    c = client(our_server)
    with pytest.raises(TypeError):
        c.submit_job("f", 12345)
    with pytest.raises(ValueError):
        c.submit_job("", b"x")
    with pytest.raises(ValueError):
        c.submit_job("f", b"x", priority="URGENT")
    with pytest.raises(TypeError):
        c.submit_multiple_jobs("not a list")
    with pytest.raises(ValueError):
        c.submit_job("f", b"x", unique="u" * 65, poll_timeout=1)
    with pytest.raises(TypeError):
        gearman.GearmanClient([object()])
    with pytest.raises(ValueError):
        gearman.GearmanClient(["host:notaport"])
    with pytest.raises(errors.InvalidAdminClientState):
        gearman.GearmanAdminClient(["a:1", "b:2"])
    w = gearman.GearmanWorker(our_server.hosts)
    with pytest.raises(TypeError):
        w.register_task("f", "not callable")
    with pytest.raises(errors.InvalidWorkerState):
        w.send_job_complete(gearman.GearmanJob(None, b"H:x:1", "f", "u", b""), b"x")
    request = c.submit_job("f", b"x", background=True)
    with pytest.raises(errors.InvalidClientState):
        c.get_job_status(gearman.GearmanJobRequest(gearman.GearmanJob(None, None, "f", "u", b"")))
    assert request.complete


def test_huge_and_odd_timeouts_are_no_crash(our_server, workers):
    """Timeouts beyond what the clock can represent mean no limit; NaN and negatives mean now."""
    workers.start(our_server)
    wait_for_worker(our_server, "reverse")
    c = client(our_server)
    for timeout in (1e300, float("inf")):
        assert c.submit_job("reverse", b"abc", poll_timeout=timeout).result == b"cba"
        request = c.submit_job("reverse", b"x", background=True, poll_timeout=timeout)
        assert c.get_job_status(request, poll_timeout=timeout).status["known"] in (True, False)
    admin = gearman.GearmanAdminClient(our_server.hosts, poll_timeout=1e300)
    assert admin.get_version()
    for timeout in (float("nan"), -5):
        request = c.submit_job("reverse", b"late", poll_timeout=timeout)
        assert request.timed_out or request.result == b"etal"


def pygearman_python():
    python = ROOT / "target" / "peers" / "venv-pygearman" / "bin" / "python"
    if not python.exists():
        pytest.fail("pygearman's venv is missing: tests/peers/run.sh creates it (scripts/test.sh runs it)")
    return str(python)


def test_pygearman_client_against_our_worker(server, workers):
    workers.start(server)
    wait_for_worker(server, "reverse")
    out = subprocess.run([pygearman_python(), str(HERE / "pygearman_client.py")],
                         env=dict(os.environ, PORT=str(server.port)), capture_output=True, timeout=60,
                         cwd=tempfile.gettempdir())
    assert out.returncode == 0, out.stderr.decode()
    assert out.stdout.decode().strip() == "COMPLETE poretni [b'partial']"


def test_our_client_against_a_pygearman_worker(server, workers):
    workers.start(server, pygearman_python(), "pygearman_worker.py")
    wait_for_worker(server, "pyg_reverse")
    request = client(server).submit_job("pyg_reverse", b"interop", poll_timeout=10)
    assert request.result == b"poretni"
    assert list(request.data_updates) == [b"partial"]


def test_asyncio_client_and_worker(our_server):
    import asyncio

    import gearman.aio

    async def scenario():
        worker = gearman.aio.Worker(our_server.hosts)

        async def reverse(w, job):
            await asyncio.sleep(0)
            return job.data[::-1]

        worker.register_task("aio_reverse", reverse)
        serving = asyncio.ensure_future(worker.work(poll_timeout=0.2))
        client = gearman.aio.Client(our_server.hosts)
        requests = await asyncio.gather(*(client.submit_job("aio_reverse", b"job-%d" % i, poll_timeout=10)
                                          for i in range(20)))
        worker.stop()
        await serving
        return [r.result for r in requests]

    results = asyncio.run(scenario())
    assert results == [(b"job-%d" % i)[::-1] for i in range(20)]


def test_asyncio_paths_against_both_servers(server):
    """gearman.aio on pyo3-async-runtimes: data and status from a coroutine callback, failure and
    exception outcomes, background jobs with status, a poll_timeout, one connection for all."""
    import asyncio

    import gearman.aio

    async def scenario():
        worker = gearman.aio.Worker(server.hosts)

        async def steps(w, job):
            await w.send_job_data(job, b"partial")
            await w.send_job_status(job, 1, 2)
            return job.data.upper()

        def fails(w, job):
            raise RuntimeError("broken on purpose")

        async def refuses(w, job):
            await w.send_job_failure(job)

        worker.register_task("aio_steps", steps)
        worker.register_task("aio_raises", fails)
        worker.register_task("aio_fails", refuses)
        serving = asyncio.ensure_future(worker.work(poll_timeout=0.2))
        client = gearman.aio.Client(server.hosts)
        many = await asyncio.gather(*(client.submit_job("aio_steps", b"x%d" % i, poll_timeout=10)
                                      for i in range(50)))
        raised = await client.submit_job("aio_raises", b"x", poll_timeout=10)
        refused = await client.submit_job("aio_fails", b"x", poll_timeout=10)
        background = await client.submit_job("aio_nobody", b"x", background=True, poll_timeout=10)
        status = await client.get_job_status(background, poll_timeout=5)
        late = await client.submit_job("aio_nobody_fg", b"x", poll_timeout=0.3)
        worker.stop()
        await serving
        return many, raised, refused, background, status, late

    many, raised, refused, background, status, late = asyncio.run(scenario())
    assert [r.result for r in many] == [b"X%d" % i for i in range(50)]
    assert all(list(r.data_updates) == [b"partial"] for r in many)
    assert all(r.status["numerator"] == 1 and r.status["denominator"] == 2 for r in many)
    assert raised.state == gearman.JOB_FAILED and raised.result is None
    assert refused.state == gearman.JOB_FAILED
    assert background.state == gearman.JOB_CREATED and background.job.handle.startswith(b"H:")
    assert status.status["known"] is True and status.status["running"] is False
    assert late.timed_out and late.state == gearman.JOB_CREATED
