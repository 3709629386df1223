//! Debian's prebuilt `gearman` tool, unmodified, loading our `libgearman.so.8` through
//! `LD_LIBRARY_PATH`: worker (`-c N`), client (plain, `-n`, `-b`, a failing job), each run under
//! valgrind (no invalid reads, writes or frees) and compared with the same command on Debian's
//! libgearman, against our gearmand and Debian's. (`gearadmin` does not link libgearman.)

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use gearman_testkit::{ChildGuard, Kind, Server};

const GEARMAN: &str = "/usr/bin/gearman";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Library {
    Ours,
    Debian,
}

/// A directory holding our library under its soname, for the loader.
fn our_lib_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = gearman_testkit::temp_dir("cli-lib");
        std::fs::copy(
            gearman_testkit::our_libgearman(),
            dir.join("libgearman.so.8"),
        )
        .unwrap();
        dir
    })
}

/// `gearman ARGS` on `library`; ours runs under valgrind, whose errors exit 99.
fn gearman(library: Library, server: &Server, args: &[&str]) -> Command {
    let port = server.port.to_string();
    let mut command = match library {
        Library::Ours => {
            let mut c = Command::new("valgrind");
            c.args(["-q", "--error-exitcode=99", "--leak-check=no", GEARMAN])
                .env("LD_LIBRARY_PATH", our_lib_dir());
            c
        }
        Library::Debian => Command::new(GEARMAN),
    };
    command
        .args(["-h", "127.0.0.1", "-p", &port])
        .args(args)
        .env_remove("GEARMAN_SERVERS");
    command
}

/// Runs a client with `input` on stdin, bounded in time (`timeout`).
fn client(library: Library, server: &Server, args: &[&str], input: &[u8]) -> Output {
    let command = gearman(library, server, args);
    let stdin = gearman_testkit::temp_dir("cli-in").join("stdin");
    std::fs::write(&stdin, input).unwrap();
    Command::new("timeout")
        .arg("60")
        .arg(command.get_program())
        .args(command.get_args())
        .envs(command.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))))
        .env_remove("GEARMAN_SERVERS")
        .stdin(std::fs::File::open(&stdin).unwrap())
        .output()
        .expect("run gearman")
}

/// A worker running `-c jobs`, once its functions show in `status`.
fn worker(library: Library, server: &Server, jobs: usize, args: &[&str]) -> ChildGuard {
    let count = jobs.to_string();
    let mut command = gearman(library, server, &["-w", "-c", &count]);
    command
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let guard = ChildGuard::spawn(&mut command);
    let function = args[args.iter().position(|a| *a == "-f").unwrap() + 1];
    assert!(
        gearman_testkit::wait_until(Duration::from_secs(30), || {
            gearman_testkit::admin(server.port, "status")
                .lines()
                .any(|l| l.starts_with(&format!("{function}\t")) && !l.ends_with("\t0"))
        }),
        "the {library:?} worker did not register"
    );
    guard
}

/// Waits for a `-c N` worker to exit and checks it exited cleanly (no abort, no valgrind error).
fn finished_cleanly(mut worker: ChildGuard, library: Library) {
    let status = worker.wait_timeout(Duration::from_secs(60));
    let mut stderr = String::new();
    if let Some(mut pipe) = worker.0.stderr.take() {
        use std::io::Read;
        let _ = pipe.read_to_string(&mut stderr);
    }
    let status = status.unwrap_or_else(|| panic!("the {library:?} worker did not finish"));
    assert!(status.success(), "{library:?} worker: {status}\n{stderr}");
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The same session on each library: what the clients print and how they exit.
fn session(library: Library, kind: Kind) -> Vec<(String, Option<i32>)> {
    let server = kind.start();
    let passwd = std::fs::read("/etc/passwd").unwrap();
    let mut seen = Vec::new();
    let mut record = |out: Output| {
        assert_ne!(
            out.status.code(),
            Some(99),
            "valgrind: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        seen.push((text(&out), out.status.code()));
    };

    // The classic count_lines worker, three plain clients.
    let w = worker(
        library,
        &server,
        3,
        &["-f", "count_lines", "--", "wc", "-l"],
    );
    for _ in 0..3 {
        record(client(library, &server, &["-f", "count_lines"], &passwd));
    }
    finished_cleanly(w, library);

    // One job per line, pipelined (-n), results in order.
    let lines: String = (1..=50).map(|i| format!("line {i}\n")).collect();
    let w = worker(library, &server, 50, &["-f", "rev", "--", "rev"]);
    record(client(
        library,
        &server,
        &["-n", "-f", "rev"],
        lines.as_bytes(),
    ));
    finished_cleanly(w, library);

    // A failing worker command: the client reports the failure.
    let w = worker(library, &server, 1, &["-f", "fails", "--", "false"]);
    record(client(library, &server, &["-f", "fails"], b"x"));
    finished_cleanly(w, library);

    // Background jobs (-b) are queued and the client exits at once.
    record(client(library, &server, &["-b", "-f", "later"], b"one"));
    record(client(library, &server, &["-b", "-f", "later"], b"two"));
    let status = gearman_testkit::admin(server.port, "status");
    let queued = status.lines().find(|l| l.starts_with("later\t"));
    seen.push((queued.unwrap_or("later not queued").to_string(), None));
    seen
}

fn same_session(kind: Kind) {
    let debian = session(Library::Debian, kind);
    let ours = session(Library::Ours, kind);
    assert_eq!(
        ours, debian,
        "Debian's gearman on our libgearman vs on its own ({kind:?} gearmand)"
    );
    let count = std::fs::read_to_string("/etc/passwd")
        .unwrap()
        .lines()
        .count();
    assert_eq!(ours[0].0.trim(), count.to_string(), "count_lines result");
}

#[test]
fn debians_gearman_tool_runs_on_our_library_against_our_gearmand() {
    same_session(Kind::Ours);
}

#[test]
fn debians_gearman_tool_runs_on_our_library_against_debians_gearmand() {
    same_session(Kind::Debian);
}
