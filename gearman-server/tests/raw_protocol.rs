//! Byte-exact tests of every packet and admin command against our server.

mod common;

use std::time::Duration;

use common::{Raw, TestServer};
use gearman_core::protocol::PacketType as T;
use gearman_server::engine::EngineConfig;
use gearman_server::server::Limits;

#[test]
fn example_exchange_from_protocol_md() {
    let server = TestServer::start();
    let mut w = Raw::connect(server.port);
    let mut c = Raw::connect(server.port);
    w.send_bytes(b"\0REQ\0\0\0\x01\0\0\0\x07reverse");
    w.send_bytes(b"\0REQ\0\0\0\x09\0\0\0\0");
    assert_eq!(w.read_packet(), b"\0RES\0\0\0\x0a\0\0\0\0");
    w.send_bytes(b"\0REQ\0\0\0\x04\0\0\0\0");
    c.send_bytes(b"\0REQ\0\0\0\x07\0\0\0\x0dreverse\0\0test");
    assert_eq!(c.read_packet(), b"\0RES\0\0\0\x08\0\0\0\x08H:test:1");
    assert_eq!(w.read_packet(), b"\0RES\0\0\0\x06\0\0\0\0");
    w.send_bytes(b"\0REQ\0\0\0\x09\0\0\0\0");
    assert_eq!(
        w.read_packet(),
        b"\0RES\0\0\0\x0b\0\0\0\x15H:test:1\0reverse\0test"
    );
    w.send_bytes(b"\0REQ\0\0\0\x0d\0\0\0\x0dH:test:1\0tset");
    assert_eq!(c.read_packet(), b"\0RES\0\0\0\x0d\0\0\0\x0dH:test:1\0tset");
}

#[test]
fn echo_option_and_client_id() {
    let server = TestServer::start();
    let mut c = Raw::connect(server.port);
    c.send(T::EchoReq, &[b"a\0b"]);
    c.expect(T::EchoRes, &[b"a\0b"]);
    c.send(T::OptionReq, &[b"Exceptions"]);
    c.expect(T::OptionRes, &[b"Exceptions"]);
    c.send(T::OptionReq, &[b"bogus"]);
    c.expect(
        T::Error,
        &[b"UNKNOWN_OPTION", b"Server does not recognize given option"],
    );
    c.send(T::SetClientId, &[b"me"]);
    let workers = c.admin("workers\n", true);
    assert!(workers.contains(" 127.0.0.1 me :\n"), "{workers}");
}

#[test]
fn status_replies() {
    let server = TestServer::start();
    let mut c = Raw::connect(server.port);
    c.send(T::GetStatus, &[b"H:test:999"]);
    c.expect(T::StatusRes, &[b"H:test:999", b"0", b"0", b"0", b"0"]);
    let h = c.submit(T::SubmitJobBg, "st", "u1", b"x");
    c.send(T::GetStatus, &[h.as_bytes()]);
    c.expect(T::StatusRes, &[h.as_bytes(), b"1", b"0", b"0", b"0"]);
    let mut w = Raw::connect(server.port);
    w.send(T::CanDo, &[b"st"]);
    w.send(T::GrabJob, &[]);
    w.expect_kind(T::JobAssign);
    w.send(T::WorkStatus, &[h.as_bytes(), b"3", b"10"]);
    w.send(T::EchoReq, &[b"sync"]);
    w.expect(T::EchoRes, &[b"sync"]);
    c.send(T::GetStatus, &[h.as_bytes()]);
    c.expect(T::StatusRes, &[h.as_bytes(), b"1", b"1", b"3", b"10"]);
    c.send(T::GetStatusUnique, &[b"u1"]);
    c.expect(T::StatusResUnique, &[b"u1", b"1", b"1", b"3", b"10", b"0"]);
    c.send(T::GetStatusUnique, &[b"nope"]);
    c.expect(T::StatusResUnique, &[b"nope", b"0", b"0", b"0", b"0", b"0"]);
}

#[test]
fn unique_status_counts_waiting_clients() {
    let server = TestServer::start();
    let mut a = Raw::connect(server.port);
    let mut b = Raw::connect(server.port);
    let h1 = a.submit(T::SubmitJob, "wait", "shared", b"x");
    let h2 = b.submit(T::SubmitJob, "wait", "shared", b"y");
    assert_eq!(h1, h2);
    a.send(T::GetStatusUnique, &[b"shared"]);
    a.expect(
        T::StatusResUnique,
        &[b"shared", b"1", b"0", b"0", b"0", b"2"],
    );
}

#[test]
fn unexpected_packets_get_an_error_and_the_connection_lives() {
    let server = TestServer::start();
    let mut c = Raw::connect(server.port);
    for kind in [T::AllYours, T::Noop, T::Unused, T::JobCreated] {
        c.send(kind, &[]);
        c.expect(T::Error, &[b"INVALID_COMMAND", b"Command not expected"]);
    }
    c.send(
        T::SubmitJobSched,
        &[b"f", b"u", b"", b"", b"", b"", b"", b"d"],
    );
    c.expect(T::Error, &[b"INVALID_COMMAND", b"Command not expected"]);
    c.send(T::EchoReq, &[b"alive"]);
    c.expect(T::EchoRes, &[b"alive"]);
}

#[test]
fn bad_frames_get_an_error_then_close_and_lose_nothing() {
    let limits = Limits {
        max_payload: 1024,
        max_line: 64,
        ..Limits::default()
    };
    let config = EngineConfig {
        handle_prefix: "H:test".into(),
        ..Default::default()
    };
    let server = TestServer::with(config, limits);
    let mut keeper = Raw::connect(server.port);
    let h = keeper.submit(T::SubmitJobBg, "keep", "k", b"safe");
    let cases: [(&[u8], &[u8]); 6] = [
        (b"\0RES\0\0\0\x10\0\0\0\0", b"INVALID_MAGIC"),
        (b"\0ABC\0\0\0\x10\0\0\0\0", b"INVALID_MAGIC"),
        (b"\0REQ\0\0\0\x63\0\0\0\0", b"INVALID_COMMAND"),
        (b"\0REQ\0\0\0\0\0\0\0\0", b"INVALID_COMMAND"),
        (b"\0REQ\0\0\0\x07\x7f\xff\xff\xff", b"ARGUMENT_TOO_LARGE"),
        (b"\0REQ\0\0\0\x07\0\0\0\x03abc", b"INVALID_PACKET"),
    ];
    for (bytes, code) in cases {
        let mut bad = Raw::connect(server.port);
        bad.send_bytes(bytes);
        let payload = bad.expect_kind(T::Error);
        assert!(payload.starts_with(code), "{}", common::show(&payload));
        bad.expect_closed();
    }
    let mut long = Raw::connect(server.port);
    long.send_bytes(&[b'X'; 100]);
    let reply = long.admin("", false);
    assert!(reply.starts_with("ERR ARGUMENT_TOO_LARGE "), "{reply}");
    long.expect_closed();
    // Other connections and their jobs are untouched.
    keeper.send(T::GetStatus, &[h.as_bytes()]);
    keeper.expect(T::StatusRes, &[h.as_bytes(), b"1", b"0", b"0", b"0"]);
}

#[test]
fn submit_limits_and_maxqueue() {
    let server = TestServer::start();
    let mut c = Raw::connect(server.port);
    let long = "u".repeat(65);
    c.send(T::SubmitJob, &[b"f", long.as_bytes(), b"x"]);
    c.expect(
        T::Error,
        &[b"ARGUMENT_TOO_LARGE", b"Unique value too large"],
    );
    c.send(
        T::SubmitReduceJob,
        &[b"f", long.as_bytes(), b"red", b"", b"x"],
    );
    c.expect(
        T::Error,
        &[b"ARGUMENT_TOO_LARGE", b"Unique value too large"],
    );
    c.submit(T::SubmitJobBg, "mq", "", b"1");
    assert_eq!(c.admin("maxqueue mq 1\n", false), "OK\n");
    c.send(T::SubmitJobBg, &[b"mq", b"", b"2"]);
    c.expect(T::Error, &[b"QUEUE_ERROR", b"Job queue is full"]);
    // Coalesced submits bypass the limit.
    c.submit(T::SubmitJobBg, "mq2", "same", b"1");
    assert_eq!(c.admin("maxqueue mq2 1\n", false), "OK\n");
    c.submit(T::SubmitJobBg, "mq2", "same", b"1");
}

#[test]
fn work_packets_for_jobs_not_held_are_refused() {
    let server = TestServer::start();
    let mut w = Raw::connect(server.port);
    for kind in [
        T::WorkComplete,
        T::WorkData,
        T::WorkWarning,
        T::WorkException,
    ] {
        w.send(kind, &[b"H:test:77", b"x"]);
        w.expect(
            T::Error,
            &[b"JOB_NOT_FOUND", b"Job given in work result not found"],
        );
    }
    w.send(T::WorkFail, &[b"H:test:77"]);
    w.expect(
        T::Error,
        &[b"JOB_NOT_FOUND", b"Job given in work result not found"],
    );
    w.send(T::WorkStatus, &[b"H:test:77", b"1", b"2"]);
    w.expect(
        T::Error,
        &[b"JOB_NOT_FOUND", b"Job given in work result not found"],
    );
}

#[test]
fn grab_variants_return_the_right_assign_packet() {
    let server = TestServer::start();
    let mut c = Raw::connect(server.port);
    let h1 = c.submit(T::SubmitJobBg, "g", "u1", b"d1");
    let h2 = c.submit(T::SubmitJobBg, "g", "", b"d2");
    c.send(
        T::SubmitReduceJobBackground,
        &[b"g", b"ru", b"reducer", b"", b"RD"],
    );
    let h3 = String::from_utf8(c.expect_kind(T::JobCreated)).unwrap();
    let h4 = c.submit(T::SubmitJobBg, "g", "u4", b"d4");
    let mut w = Raw::connect(server.port);
    w.send(T::CanDo, &[b"g"]);
    w.send(T::GrabJob, &[]);
    w.expect(T::JobAssign, &[h1.as_bytes(), b"g", b"d1"]);
    w.send(T::GrabJobUniq, &[]);
    w.expect(T::JobAssignUniq, &[h2.as_bytes(), b"g", b"", b"d2"]);
    w.send(T::GrabJobAll, &[]);
    w.expect(
        T::JobAssignAll,
        &[h3.as_bytes(), b"g", b"ru", b"reducer", b"RD"],
    );
    w.send(T::GrabJobAll, &[]);
    w.expect(T::JobAssignUniq, &[h4.as_bytes(), b"g", b"u4", b"d4"]);
    w.send(T::GrabJobAll, &[]);
    w.expect(T::NoJob, &[]);
}

#[test]
fn sleep_and_wake_rules() {
    let server = TestServer::start();
    let mut w = Raw::connect(server.port);
    let mut c = Raw::connect(server.port);
    w.send(T::CanDo, &[b"z"]);
    w.send(T::PreSleep, &[]);
    w.expect_silence(Duration::from_millis(100));
    c.submit(T::SubmitJobBg, "z", "", b"1");
    w.expect(T::Noop, &[]);
    // At most one NOOP per sleep cycle.
    c.submit(T::SubmitJobBg, "z", "", b"2");
    w.expect_silence(Duration::from_millis(100));
    // PRE_SLEEP with a runnable job answers NOOP at once.
    w.send(T::GrabJob, &[]);
    w.expect_kind(T::JobAssign);
    w.send(T::PreSleep, &[]);
    w.expect(T::Noop, &[]);
}

#[test]
fn priorities_and_round_robin() {
    let server = TestServer::start();
    let mut c = Raw::connect(server.port);
    c.submit(T::SubmitJobLowBg, "p", "", b"low");
    c.submit(T::SubmitJobBg, "p", "", b"normal");
    c.submit(T::SubmitJobHighBg, "p", "", b"high");
    let mut w = Raw::connect(server.port);
    w.send(T::CanDo, &[b"p"]);
    let mut order = Vec::new();
    for _ in 0..3 {
        w.send(T::GrabJob, &[]);
        let payload = w.expect_kind(T::JobAssign);
        order.push(
            String::from_utf8_lossy(payload.rsplit(|&b| b == 0).next().unwrap()).into_owned(),
        );
    }
    assert_eq!(order, ["high", "normal", "low"]);
    // Two functions alternate (round robin), as gearmand 2.0 does.
    for i in 0..4 {
        let f = if i % 2 == 0 { "ra" } else { "rb" };
        c.submit(T::SubmitJobBg, f, "", i.to_string().as_bytes());
    }
    let mut w = Raw::connect(server.port);
    w.send(T::CanDo, &[b"ra"]);
    w.send(T::CanDo, &[b"rb"]);
    let mut functions = Vec::new();
    for _ in 0..4 {
        w.send(T::GrabJob, &[]);
        let payload = w.expect_kind(T::JobAssign);
        functions
            .push(String::from_utf8_lossy(payload.split(|&b| b == 0).nth(1).unwrap()).into_owned());
    }
    assert_ne!(functions[0], functions[1]);
    assert_ne!(functions[1], functions[2]);
}

#[test]
fn exceptions_go_only_to_clients_that_asked() {
    let server = TestServer::start();
    let mut plain = Raw::connect(server.port);
    let mut asked = Raw::connect(server.port);
    asked.send(T::OptionReq, &[b"exceptions"]);
    asked.expect(T::OptionRes, &[b"exceptions"]);
    let h = plain.submit(T::SubmitJob, "ex", "same", b"x");
    asked.submit(T::SubmitJob, "ex", "same", b"x");
    let mut w = Raw::connect(server.port);
    w.send(T::CanDo, &[b"ex"]);
    w.send(T::GrabJob, &[]);
    w.expect_kind(T::JobAssign);
    w.send(T::WorkData, &[h.as_bytes(), b"chunk"]);
    w.send(T::WorkException, &[h.as_bytes(), b"boom"]);
    plain.expect(T::WorkData, &[h.as_bytes(), b"chunk"]);
    asked.expect(T::WorkData, &[h.as_bytes(), b"chunk"]);
    asked.expect(T::WorkException, &[h.as_bytes(), b"boom"]);
    plain.expect(T::WorkFail, &[h.as_bytes()]);
    // The exception finished the job: a following WORK_FAIL is refused.
    w.send(T::WorkFail, &[h.as_bytes()]);
    w.expect(
        T::Error,
        &[b"JOB_NOT_FOUND", b"Job given in work result not found"],
    );
}

#[test]
fn fail_frees_the_unique_so_a_resubmit_runs_again() {
    let server = TestServer::start();
    let mut c = Raw::connect(server.port);
    let mut w = Raw::connect(server.port);
    w.send(T::CanDo, &[b"ff"]);
    let h1 = c.submit(T::SubmitJob, "ff", "u", b"x");
    w.send(T::GrabJob, &[]);
    w.expect_kind(T::JobAssign);
    w.send(T::WorkFail, &[h1.as_bytes()]);
    c.expect(T::WorkFail, &[h1.as_bytes()]);
    let h2 = c.submit(T::SubmitJob, "ff", "u", b"x");
    assert_ne!(h1, h2);
    w.send(T::GrabJob, &[]);
    w.expect_kind(T::JobAssign);
    w.send(T::WorkComplete, &[h2.as_bytes(), b"ok"]);
    c.expect(T::WorkComplete, &[h2.as_bytes(), b"ok"]);
}

#[test]
fn dash_unique_coalesces_on_the_workload() {
    let server = TestServer::start();
    let mut c = Raw::connect(server.port);
    let a = c.submit(T::SubmitJobBg, "d", "-", b"same");
    let b = c.submit(T::SubmitJobBg, "d", "-", b"same");
    let other = c.submit(T::SubmitJobBg, "d", "-", b"different");
    let other_fn = c.submit(T::SubmitJobBg, "e", "-", b"same");
    let empty1 = c.submit(T::SubmitJobBg, "d", "", b"same");
    let empty2 = c.submit(T::SubmitJobBg, "d", "", b"same");
    assert_eq!(a, b);
    assert_ne!(a, other);
    assert_ne!(a, other_fn);
    assert_ne!(empty1, empty2);
}

#[test]
fn worker_disconnect_requeues_and_retries_are_counted() {
    let server = TestServer::start();
    let mut c = Raw::connect(server.port);
    let h = c.submit(T::SubmitJob, "rq", "", b"x");
    {
        let mut w = Raw::connect(server.port);
        w.send(T::CanDo, &[b"rq"]);
        w.send(T::GrabJob, &[]);
        w.expect_kind(T::JobAssign);
    }
    let mut admin = Raw::connect(server.port);
    assert!(gearman_testkit::wait_until(Duration::from_secs(5), || {
        admin.admin("show jobs\n", true) == format!("{h}\t1\t0\t0\n.\n")
    }));
    let mut w2 = Raw::connect(server.port);
    w2.send(T::CanDo, &[b"rq"]);
    w2.send(T::GrabJob, &[]);
    w2.expect_kind(T::JobAssign);
    w2.send(T::WorkComplete, &[h.as_bytes(), b"done"]);
    c.expect(T::WorkComplete, &[h.as_bytes(), b"done"]);
}

#[test]
fn job_retries_limit_drops_the_job_with_work_fail() {
    let config = EngineConfig {
        handle_prefix: "H:test".into(),
        job_retries: 2,
        ..Default::default()
    };
    let server = TestServer::with(config, Limits::default());
    let mut c = Raw::connect(server.port);
    let h = c.submit(T::SubmitJob, "jr", "", b"x");
    for _ in 0..2 {
        // Each worker vanishes with the job; the server requeues it when it sees the close,
        // which may come after the next worker's first GRAB_JOB.
        let mut w = Raw::connect(server.port);
        w.send(T::CanDo, &[b"jr"]);
        w.grab_waiting();
    }
    c.expect(T::WorkFail, &[h.as_bytes()]);
}

#[test]
fn client_disconnect_drops_its_queued_foreground_job() {
    let server = TestServer::start();
    {
        let mut c = Raw::connect(server.port);
        c.submit(T::SubmitJob, "gone", "", b"x");
    }
    let mut admin = Raw::connect(server.port);
    // With its only job gone and no worker, the function itself is forgotten.
    assert!(gearman_testkit::wait_until(Duration::from_secs(5), || {
        admin.admin("status\n", true) == ".\n"
    }));
    let mut w = Raw::connect(server.port);
    w.send(T::CanDo, &[b"gone"]);
    w.send(T::GrabJob, &[]);
    w.expect(T::NoJob, &[]);
}

#[test]
fn can_do_timeout_requeues_and_refuses_the_late_result() {
    let server = TestServer::start();
    let mut c = Raw::connect(server.port);
    let h = c.submit(T::SubmitJob, "slow", "", b"x");
    let mut late = Raw::connect(server.port);
    late.send(T::CanDoTimeout, &[b"slow", b"200"]);
    late.send(T::GrabJob, &[]);
    late.expect_kind(T::JobAssign);
    let mut w = Raw::connect(server.port);
    w.send(T::CanDo, &[b"slow"]);
    w.send(T::PreSleep, &[]);
    // After 200 ms the job is requeued and the sleeping worker woken.
    w.expect(T::Noop, &[]);
    w.send(T::GrabJob, &[]);
    w.expect(T::JobAssign, &[h.as_bytes(), b"slow", b"x"]);
    late.send(T::WorkComplete, &[h.as_bytes(), b"late"]);
    late.expect(
        T::Error,
        &[b"JOB_NOT_FOUND", b"Job given in work result not found"],
    );
    w.send(T::WorkComplete, &[h.as_bytes(), b"on time"]);
    c.expect(T::WorkComplete, &[h.as_bytes(), b"on time"]);
}

#[test]
fn epoch_jobs_wake_sleeping_workers_when_due() {
    let server = TestServer::start();
    let mut c = Raw::connect(server.port);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let when = (now + 2).to_string();
    c.send(T::SubmitJobEpoch, &[b"ep", b"", when.as_bytes(), b"later"]);
    let h = String::from_utf8(c.expect_kind(T::JobCreated)).unwrap();
    c.send(T::GetStatus, &[h.as_bytes()]);
    c.expect(T::StatusRes, &[h.as_bytes(), b"1", b"0", b"0", b"0"]);
    let mut w = Raw::connect(server.port);
    w.send(T::CanDo, &[b"ep"]);
    w.send(T::GrabJob, &[]);
    w.expect(T::NoJob, &[]);
    w.send(T::PreSleep, &[]);
    w.expect(T::Noop, &[]);
    w.send(T::GrabJob, &[]);
    w.expect(T::JobAssign, &[h.as_bytes(), b"ep", b"later"]);
}

#[test]
fn admin_commands_byte_exact() {
    let server = TestServer::start();
    let mut a = Raw::connect(server.port);
    let mut w = Raw::connect(server.port);
    w.send(T::SetClientId, &[b"wid"]);
    w.send(T::CanDo, &[b"fa"]);
    // The server reads connections in any order: a round trip makes the registration land first.
    w.send(T::EchoReq, &[b"sync"]);
    w.expect(T::EchoRes, &[b"sync"]);
    let h = a.submit(T::SubmitJobHighBg, "fa", "ua", b"1");
    a.submit(T::SubmitJobLowBg, "fb", "", b"2");
    assert_eq!(a.admin("status\r\n", true), "fa\t1\t0\t1\nfb\t1\t0\t0\n.\n");
    assert_eq!(a.admin("STATUS\n", true), "fa\t1\t0\t1\nfb\t1\t0\t0\n.\n");
    assert_eq!(
        a.admin("prioritystatus\n", true),
        "fa\t1\t0\t0\t1\nfb\t0\t0\t1\t0\n.\n"
    );
    assert_eq!(
        a.admin("show jobs\n", true),
        format!("{h}\t0\t0\t1\nH:test:2\t0\t0\t1\n.\n")
    );
    assert_eq!(a.admin("show unique jobs\n", true), "ua\n\n.\n");
    assert_eq!(
        a.admin("show foo\n", false),
        "ERR UNKNOWN_SHOW_ARGUMENTS\r\n"
    );
    let workers = a.admin("workers\n", true);
    assert!(workers.contains(" 127.0.0.1 wid : fa\n"), "{workers}");
    assert!(workers.contains(" 127.0.0.1 - :\n"), "{workers}");
    assert_eq!(
        a.admin("version\n", false),
        format!("OK {}\n", gearman_server::VERSION_STRING)
    );
    assert_eq!(
        a.admin("getpid\n", false),
        format!("OK {}\n", std::process::id())
    );
    assert_eq!(a.admin("verbose\n", false), "OK ERROR\n");
    assert_eq!(
        a.admin("maxqueue\n", false),
        "ERR INVALID_ARGUMENTS An+incomplete+set+of+arguments+was+sent+to+this+command+maxqueue\r\n"
    );
    assert_eq!(a.admin("maxqueue fa 3 2 1\n", false), "OK\n");
    assert_eq!(a.admin("cancel job H:test:2\n", false), "OK\r\n");
    assert_eq!(
        a.admin("cancel job H:test:2\n", false),
        "ERR UNKNOWN_JOB\r\n"
    );
    assert_eq!(a.admin("cancel x y\n", false), "ERR UNKNOWN_ERROR\r\n");
    assert_eq!(
        a.admin("cancel job\n", false),
        "ERR UNKNOWN_COMMAND Unknown+server+commandcancel\r\n"
    );
    // The real token, not gearmand's "length minus 2" (which would create "ba").
    assert_eq!(a.admin("create function bar\n", false), "OK\r\n");
    assert!(a.admin("status\n", true).contains("bar\t0\t0\t0\n"));
    assert_eq!(a.admin("drop function BAR\n", false), "OK\r\n");
    assert_eq!(
        a.admin("drop function bar\n", false),
        "ERR function not found\r\n"
    );
    assert_eq!(
        a.admin("drop function fa\n", false),
        "ERR there are still connected workers or executing clients\r\n"
    );
    assert_eq!(
        a.admin("drop x\n", false),
        "ERR INVALID_ARGUMENTS An+incomplete+set+of+arguments+was+sent+to+this+command+drop\r\n"
    );
    assert_eq!(
        a.admin("foo\n", false),
        "ERR UNKNOWN_COMMAND Unknown+server+commandfoo\r\n"
    );
    assert_eq!(
        a.admin("\n", false),
        "ERR UNKNOWN_COMMAND Unknown+server+command\r\n"
    );
    assert_eq!(
        a.admin("show\n", false),
        "ERR UNKNOWN_COMMAND Unknown+server+commandshow\r\n"
    );
}

#[test]
fn text_and_binary_interleave_on_one_connection() {
    let server = TestServer::start();
    let mut c = Raw::connect(server.port);
    c.send(T::EchoReq, &[b"1"]);
    c.expect(T::EchoRes, &[b"1"]);
    assert_eq!(c.admin("verbose\n", false), "OK ERROR\n");
    c.send(T::EchoReq, &[b"2"]);
    c.expect(T::EchoRes, &[b"2"]);
}

#[test]
fn shutdown_from_loopback_stops_the_server() {
    let mut server = TestServer::start();
    let mut a = Raw::connect(server.port);
    assert_eq!(a.admin("shutdown\n", false), "OK\r\n");
    assert!(server.wait_stopped(Duration::from_secs(5)));
}
