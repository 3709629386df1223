//! The C programs in tests/c, compiled with `gcc -std=c99 -Wall -Werror` against our header and
//! library and against Debian's libgearman-dev, run against our gearmand and Debian's: the two
//! libraries must print the same. Our builds also run under valgrind.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use gearman_testkit::Kind;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A directory holding our library under its soname, for linking and for the loader. The
/// cdylib is built first: `cargo test` builds only the rlib this test links.
fn our_lib_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let built = gearman_testkit::our_libgearman();
        let dir = gearman_testkit::temp_dir("libgearman");
        std::fs::copy(&built, dir.join("libgearman.so.8")).unwrap();
        std::os::unix::fs::symlink("libgearman.so.8", dir.join("libgearman.so")).unwrap();
        dir
    })
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Library {
    Ours,
    Debian,
}

fn compile(program: &str, library: Library) -> PathBuf {
    compile_with(program, library, &[])
}

/// Builds `program` with extra compiler flags (e.g. `-fsanitize=address`).
fn compile_with(program: &str, library: Library, flags: &[&str]) -> PathBuf {
    let source = root()
        .join("gearman-ffi/tests/c")
        .join(format!("{program}.c"));
    let name = format!("{program}-{library:?}{}", flags.concat());
    let out = gearman_testkit::temp_dir("cbin").join(name);
    let mut gcc = Command::new("gcc");
    gcc.args(["-std=c99", "-Wall", "-Werror", "-g"])
        .args(flags)
        .arg("-o")
        .arg(&out)
        .arg(&source);
    match library {
        Library::Ours => {
            let lib = our_lib_dir();
            gcc.arg(format!("-I{}", root().join("include").display()))
                .arg(format!("-L{}", lib.display()))
                .arg(format!("-Wl,-rpath,{}", lib.display()));
        }
        Library::Debian => {
            assert!(
                Path::new("/usr/include/libgearman-1.0/gearman.h").exists(),
                "install libgearman-dev (scripts/test.sh does)"
            );
        }
    }
    gcc.arg("-lgearman");
    let result = gcc.output().expect("gcc");
    assert!(
        result.status.success(),
        "{program} ({library:?}) does not compile:\n{}",
        String::from_utf8_lossy(&result.stderr)
    );
    out
}

fn run(binary: &Path, port: u16, valgrind: bool) -> Output {
    run_with(binary, port, valgrind, &[])
}

fn run_with(binary: &Path, port: u16, valgrind: bool, env: &[(&str, &str)]) -> Output {
    let mut command = if valgrind {
        let mut c = Command::new("valgrind");
        c.args([
            "-q",
            "--error-exitcode=99",
            "--leak-check=full",
            "--errors-for-leak-kinds=definite",
        ])
        .arg(binary);
        c
    } else {
        Command::new(binary)
    };
    command
        .env("PORT", port.to_string())
        .env_remove("GEARMAN_SERVERS");
    for (k, v) in env {
        command.env(k, v);
    }
    let out = Command::new("timeout")
        .arg("120")
        .args(command_line(&command))
        .envs(command.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))))
        .output()
        .expect("run");
    out
}

fn command_line(command: &Command) -> Vec<std::ffi::OsString> {
    std::iter::once(command.get_program().to_os_string())
        .chain(command.get_args().map(|a| a.to_os_string()))
        .collect()
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Builds `program` against both libraries, runs each against `server`, and compares.
fn same_behaviour(program: &str, server: Kind) {
    let ours = compile(program, Library::Ours);
    let theirs = compile(program, Library::Debian);
    let server_a = server.start();
    let out_ours = run(&ours, server_a.port, false);
    let server_b = server.start();
    let out_theirs = run(&theirs, server_b.port, false);
    assert!(
        out_theirs.status.success(),
        "Debian's build failed:\n{}{}",
        text(&out_theirs),
        String::from_utf8_lossy(&out_theirs.stderr)
    );
    assert!(
        out_ours.status.success(),
        "our build failed:\n{}{}",
        text(&out_ours),
        String::from_utf8_lossy(&out_ours.stderr)
    );
    // The version line names each library's own version; everything else must match.
    let strip = |s: String| {
        s.lines()
            .filter(|l| !l.starts_with("version macros:"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        strip(text(&out_ours)),
        strip(text(&out_theirs)),
        "{program} against {server:?} gearmand"
    );
    if program == "basics" {
        assert!(text(&out_ours).contains("version macros: 1.1.20 1"));
    }
}

fn under_valgrind(program: &str) {
    let binary = compile(program, Library::Ours);
    let server = Kind::Ours.start();
    let out = run(&binary, server.port, true);
    assert!(
        out.status.success(),
        "{program} under valgrind (exit {:?}):\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn basics_match_libgearman() {
    same_behaviour("basics", Kind::Debian);
    same_behaviour("basics", Kind::Ours);
}

#[test]
fn workers_match_libgearman() {
    same_behaviour("workers", Kind::Debian);
    same_behaviour("workers", Kind::Ours);
}

#[test]
fn tasks_match_libgearman() {
    same_behaviour("tasks", Kind::Debian);
    same_behaviour("tasks", Kind::Ours);
}

#[test]
fn foreground_execute_returns_the_result() {
    let binary = compile("tasks", Library::Ours);
    for kind in [Kind::Ours, Kind::Debian] {
        let server = kind.start();
        let out = run_with(&binary, server.port, false, &[("EXECUTE_FOREGROUND", "1")]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            text(&out).contains("execute: GEARMAN_SUCCESS [em-etucexe]\n"),
            "{}",
            text(&out)
        );
    }
}

#[test]
fn null_and_freed_handles_are_safe() {
    let binary = compile("null_safety", Library::Ours);
    let server = Kind::Ours.start();
    let out = run(&binary, server.port, false);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(text(&out), "null safety: ok\n");
}

#[test]
fn no_memory_errors_or_leaks_under_valgrind() {
    for program in [
        "basics",
        "workers",
        "tasks",
        "null_safety",
        "reentrancy",
        "allocators",
        "nonblocking",
    ] {
        under_valgrind(program);
    }
}

/// Workload malloc/free functions and the log callback are used as libgearman 1.1.20 uses them.
#[test]
fn allocators_and_log_match_libgearman() {
    same_behaviour("allocators", Kind::Ours);
    same_behaviour("allocators", Kind::Debian);
}

/// GEARMAN_CLIENT_NON_BLOCKING's run_tasks / gearman_client_wait loop, as on libgearman.
#[test]
fn non_blocking_client_matches_libgearman() {
    same_behaviour("nonblocking", Kind::Ours);
    same_behaviour("nonblocking", Kind::Debian);
}

/// Callbacks that call back into the library (job reports, add_task, freeing another task,
/// setting a context) behave as on libgearman; nested run_tasks and a task freeing itself, which
/// libgearman does not survive, work on ours under valgrind and AddressSanitizer.
#[test]
fn callbacks_may_call_back_into_the_library() {
    same_behaviour("reentrancy", Kind::Ours);
    same_behaviour("reentrancy", Kind::Debian);
    let nested = [("NESTED", "1")];
    let checked = |out: Output, how: &str| {
        let printed = text(&out);
        assert!(
            out.status.success(),
            "{how}: exit {:?}\n{printed}{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        for line in [
            "nested run_tasks: GEARMAN_SUCCESS\n",
            "add_task from a callback: GEARMAN_SUCCESS\n",
            "complete added: done\n",
            "completes 3 fails 1 nested runs 1\n",
            "third: GEARMAN_WORK_FAIL context failed\n",
            "worker exit 0\n",
        ] {
            assert!(printed.contains(line), "{how}: no {line:?} in\n{printed}");
        }
    };
    let server = Kind::Ours.start();
    let binary = compile("reentrancy", Library::Ours);
    checked(run_with(&binary, server.port, true, &nested), "valgrind");
    let asan = compile_with("reentrancy", Library::Ours, &["-fsanitize=address"]);
    let out = run_with(&asan, server.port, false, &nested);
    checked(out, "AddressSanitizer");
}

/// TLS through `gearman_*_set_ssl` and through the SSL option bits with libgearman's
/// environment variables: with a client certificate against our TLS server requiring one, and
/// with none against one that does not. Ours only: Debian's libgearman is built without TLS.
#[test]
fn tls_through_set_ssl_and_the_option_bits() {
    let pki = gearman_testkit::pki::Pki::new(&gearman_testkit::temp_dir("c-tls"));
    let server_args = [
        format!("--ssl-certificate={}", pki.server.cert.display()),
        format!("--ssl-key={}", pki.server.key.display()),
    ];
    let mutual_arg = format!("--ssl-ca-file={}", pki.ca.display());
    let mutual =
        gearman_testkit::Server::ours_tls(&[&server_args[0], &server_args[1], &mutual_arg]);
    let server_auth = gearman_testkit::Server::ours_tls(&[&server_args[0], &server_args[1]]);
    let binary = compile("tls", Library::Ours);
    let (ca, cert, key) = (
        pki.ca.to_str().unwrap(),
        pki.client.cert.to_str().unwrap(),
        pki.client.key.to_str().unwrap(),
    );
    let expected = "ssl option: 1\n\
                    background: GEARMAN_SUCCESS 1\n\
                    do: GEARMAN_SUCCESS [slt olleh]\n\
                    worker exit: 0\n\
                    missing CA: GEARMAN_COULD_NOT_CONNECT names the file 1\n";
    // (MODE, server, further environment)
    type Case<'a> = (
        &'a str,
        &'a gearman_testkit::Server,
        Vec<(&'a str, &'a str)>,
    );
    let cases: [Case; 3] = [
        (
            "explicit",
            &mutual,
            vec![("CERT", cert), ("KEY", key), ("MUTUAL", "1")],
        ),
        (
            "options",
            &mutual,
            vec![
                ("CERT", cert),
                ("KEY", key),
                ("MUTUAL", "1"),
                ("GEARMAND_CA_CERTIFICATE", ca),
                ("GEARMAN_CLIENT_PEM", cert),
                ("GEARMAN_CLIENT_KEY", key),
            ],
        ),
        ("explicit", &server_auth, vec![("CERT", ""), ("KEY", "")]),
    ];
    for (mode, server, extra) in cases {
        let mut env = vec![("MODE", mode), ("CA", ca)];
        env.extend(extra.iter().copied());
        let mutual = env.contains(&("MUTUAL", "1"));
        let out = run_with(&binary, server.port, false, &env);
        assert!(
            out.status.success(),
            "{mode}: {}{}",
            text(&out),
            String::from_utf8_lossy(&out.stderr)
        );
        let refused = if mutual {
            "no client certificate: refused 1\n"
        } else {
            ""
        };
        assert_eq!(
            text(&out),
            format!("{expected}{refused}"),
            "{mode}, mutual {mutual}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn header_compiles_as_cpp() {
    let source = gearman_testkit::temp_dir("cpp").join("header.cc");
    std::fs::write(
        &source,
        "#include <libgearman-1.0/gearman.h>\n#include <libgearman/gearman.h>\n\
         int main() { gearman_return_t rc = GEARMAN_SUCCESS; gearman_client_st c; \
         gearman_client_create(&c); rc = gearman_client_echo(&c, \"x\", 1); gearman_client_free(&c); \
         in_port_t p = GEARMAN_DEFAULT_TCP_PORT; time_t t = 0; size_t s = 0; (void)p; (void)t; (void)s; \
         return gearman_success(rc) ? 0 : 1; }\n",
    )
    .unwrap();
    let out = Command::new("g++")
        .args(["-Wall", "-Werror", "-fsyntax-only"])
        .arg(format!("-I{}", root().join("include").display()))
        .arg(&source)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
