//! Helpers for tests that run real job servers: a server process started in the foreground on
//! a port the kernel picks, found through `/proc` as our child's own listening socket, and
//! stopped by its PID when dropped; our binaries built by cargo before they run.

pub mod mariadb;
pub mod pki;
pub mod postgres;
pub mod redis;
pub mod service;
pub mod tls_peers;

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Debian's reference job server.
pub const DEBIAN_GEARMAND: &str = "/usr/sbin/gearmand";

/// A port on 127.0.0.1 that refuses connections for as long as the value lives: the socket is
/// bound but never listens, so nothing else can take the port meanwhile.
pub struct ClosedPort {
    _socket: socket2::Socket,
    pub port: u16,
}

/// A port on 127.0.0.1 where connecting is refused (for "server is down" tests).
pub fn closed_port() -> ClosedPort {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
    socket
        .bind(&SocketAddr::from((Ipv4Addr::LOCALHOST, 0)).into())
        .expect("bind 127.0.0.1:0");
    let port = socket
        .local_addr()
        .ok()
        .and_then(|a| a.as_socket())
        .map(|a| a.port())
        .expect("bound address");
    ClosedPort {
        _socket: socket,
        port,
    }
}

/// Whether `version` answers on the port.
pub fn answers_version(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream.write_all(b"version\n").is_err() {
        return false;
    }
    let mut line = String::new();
    // `OK <version>` (an HTTP port answers `version` with a 400).
    BufReader::new(stream).read_line(&mut line).is_ok() && line.starts_with("OK")
}

/// The TCP ports (IPv4 and IPv6) on which process `pid` itself holds a listening socket, read
/// from `/proc`, IPv4 first: a port some other process listens on is never reported.
pub fn listening_ports(pid: u32) -> Vec<u16> {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Vec::new();
    };
    let inodes: Vec<String> = fds
        .flatten()
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .filter_map(|link| {
            let link = link.to_string_lossy().into_owned();
            let inode = link.strip_prefix("socket:[")?.strip_suffix(']')?;
            Some(inode.to_string())
        })
        .collect();
    let mut ports = Vec::new();
    for table in ["tcp", "tcp6"] {
        let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/net/{table}")) else {
            continue;
        };
        // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (Some(local), Some(&"0A"), Some(inode)) =
                (fields.get(1), fields.get(3), fields.get(9))
            else {
                continue;
            };
            let port = local
                .rsplit(':')
                .next()
                .and_then(|hex| u16::from_str_radix(hex, 16).ok());
            if let Some(port) = port.filter(|_| inodes.iter().any(|i| i == inode)) {
                if !ports.contains(&port) {
                    ports.push(port);
                }
            }
        }
    }
    ports
}

/// A job server process, killed (by PID) and reaped on drop.
pub struct Server {
    child: Child,
    pub port: u16,
    pub dir: PathBuf,
    program: PathBuf,
    args: Vec<String>,
    /// Whether the server on a port is ready to serve.
    ready: fn(u16) -> bool,
}

impl Server {
    /// Starts Debian's gearmand.
    pub fn debian() -> Server {
        Self::debian_with(&[])
    }

    /// Starts Debian's gearmand with extra options.
    pub fn debian_with(extra: &[&str]) -> Server {
        let (program, args, dir) = Kind::Debian.command(extra);
        Self::start(program, args, dir)
    }

    /// Starts our gearmand (built first, see [`our_gearmand`]).
    pub fn ours() -> Server {
        Self::ours_with(&[])
    }

    /// Starts our gearmand with TLS (`--ssl` and `extra`); ready once it listens.
    pub fn ours_tls(extra: &[&str]) -> Server {
        let mut tls = vec!["--ssl", "--verbose=INFO"];
        tls.extend_from_slice(extra);
        let (program, args, dir) = Kind::Ours.command(&tls);
        Self::start_probed(program, args, dir, |_| true)
    }

    /// Starts our gearmand with extra options.
    pub fn ours_with(extra: &[&str]) -> Server {
        let (program, args, dir) = Kind::Ours.command(extra);
        Self::start(program, args, dir)
    }

    /// Starts a gearmand-compatible binary with `args` and `--port=0`: the kernel picks a free
    /// port and the server is ready once its own process listens there and answers `version`.
    /// `args` must make it listen on one address only (`--listen=127.0.0.1`).
    pub fn start(program: PathBuf, args: Vec<String>, dir: PathBuf) -> Server {
        Self::start_probed(program, args, dir, answers_version)
    }

    /// [`Server::start`] with another readiness probe (a TLS port does not answer a plaintext
    /// `version`).
    pub fn start_probed(
        program: PathBuf,
        args: Vec<String>,
        dir: PathBuf,
        ready: fn(u16) -> bool,
    ) -> Server {
        let mut server = Self::spawned(program, args, dir, ready);
        server.port = server.wait_listening(None);
        server.wait_ready();
        server
    }

    /// The server started with `--port=0`, not yet waited for.
    fn spawned(
        program: PathBuf,
        args: Vec<String>,
        dir: PathBuf,
        ready: fn(u16) -> bool,
    ) -> Server {
        Server {
            child: spawn(&program, &args, 0),
            port: 0,
            dir,
            program,
            args,
            ready,
        }
    }

    /// Waits until the child listens (on `port` if given) and returns the port; panics with the
    /// server's log if it exits first (for example because `port` was taken meanwhile).
    fn wait_listening(&mut self, port: Option<u16>) -> u16 {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "server {} exited ({status}) before listening{}; its log:\n{}",
                    self.program.display(),
                    port.map(|p| format!(" on port {p}")).unwrap_or_default(),
                    self.log()
                );
            }
            let ports = listening_ports(self.child.id());
            match port {
                Some(p) if ports.contains(&p) => return p,
                None if ports.len() == 1 => return ports[0],
                None if ports.len() > 1 => panic!(
                    "server {} listens on several ports {ports:?}: pass --listen=127.0.0.1",
                    self.program.display()
                ),
                _ => {}
            }
            assert!(
                Instant::now() < deadline,
                "server {} (pid {}) is not listening{} after 10 s; its log:\n{}",
                self.program.display(),
                self.child.id(),
                port.map(|p| format!(" on port {p}")).unwrap_or_default(),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn wait_ready(&self) {
        assert!(
            wait_until(Duration::from_secs(10), || (self.ready)(self.port)),
            "server {} is not ready on port {}; its log:\n{}",
            self.program.display(),
            self.port,
            self.log()
        );
    }

    /// The server's log file (both servers are started with `--log-file` in `dir`).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("gearmand.log")).unwrap_or_default()
    }

    /// `127.0.0.1:PORT`
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the server with SIGKILL and reaps it.
    pub fn kill(&mut self) {
        signal(self.child.id(), libc::SIGKILL);
        let _ = self.child.wait();
    }

    /// Kills the server and starts it again on the same port with the same options; panics
    /// clearly if another process took the port in between.
    pub fn restart(&mut self) {
        self.kill();
        self.child = spawn(&self.program, &self.args, self.port);
        self.wait_listening(Some(self.port));
        self.wait_ready();
    }
}

impl Server {
    /// SIGTERM, then SIGKILL after 5 s.
    fn stop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            signal(self.child.id(), libc::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            signal(self.child.id(), libc::SIGKILL);
            let _ = self.child.wait();
        }
    }
}

impl Drop for Server {
    /// Stops the server and removes its directory (thousands of test runs must not fill the
    /// disk).
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Where cargo put the running test (or benchmark) and with which profile, so that what it
/// builds for the test comes from the same build: `(target dir, --target triple, profile)`.
fn build_of_running_exe() -> (PathBuf, Option<String>, String) {
    let exe = std::env::current_exe().expect("current exe");
    // Tests run from <target>/[<triple>/]<profile>/deps, benchmarks from <target>/<profile>.
    let mut out = exe.parent().expect("exe dir").to_path_buf();
    if matches!(
        out.file_name().and_then(|n| n.to_str()),
        Some("deps" | "examples")
    ) {
        out.pop();
    }
    let profile = match out.file_name().and_then(|n| n.to_str()) {
        Some("debug") => "dev".to_string(),
        Some(other) => other.to_string(),
        None => panic!("{} is not in a cargo target directory", exe.display()),
    };
    let parent = out.parent().expect("target dir").to_path_buf();
    let is_target_dir = |dir: &Path| dir.join("CACHEDIR.TAG").is_file();
    match parent.parent() {
        Some(grand) if !is_target_dir(&parent) && is_target_dir(grand) => {
            let triple = parent.file_name().map(|n| n.to_string_lossy().into_owned());
            (grand.to_path_buf(), triple, profile)
        }
        _ => (parent, None, profile),
    }
}

/// Runs `cargo build ARGS` for this workspace with the cargo, target directory, target and
/// profile of the running test, and returns the directory the artifacts are in. `cargo test`
/// builds only what each test crate depends on, so a test that runs one of our other artifacts
/// builds it first and never picks up a stale one.
pub fn cargo_build(args: &[&str]) -> PathBuf {
    let (target_dir, triple, profile) = build_of_running_exe();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml");
    let mut command = Command::new(cargo);
    command
        .args(["build", "--quiet", "--manifest-path"])
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&target_dir)
        .args(["--profile", &profile])
        .args(args);
    if let Some(triple) = &triple {
        command.args(["--target", triple]);
    }
    let out = command.output().expect("run cargo");
    assert!(
        out.status.success(),
        "{command:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut dir = target_dir;
    if let Some(triple) = triple {
        dir.push(triple);
    }
    dir.push(if profile == "dev" { "debug" } else { &profile });
    dir
}

/// Our artifacts that tests run, built once per test process in one cargo invocation: the
/// `gearmand` binary and the libgearman cdylib.
fn our_build() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        cargo_build(&[
            "-p",
            "gearman-server",
            "--bin",
            "gearmand",
            "-p",
            "gearman-ffi",
            "--lib",
        ])
    })
}

/// Our gearmand binary, freshly built (see [`cargo_build`]).
pub fn our_gearmand() -> PathBuf {
    our_build().join("gearmand")
}

/// Our libgearman cdylib (`libgearman.so`), freshly built (see [`cargo_build`]).
pub fn our_libgearman() -> PathBuf {
    our_build().join("libgearman.so")
}

/// A job server with gearmand's HTTP protocol (`-r http --http-port=0`), and the port the
/// kernel gave its HTTP listener.
pub struct HttpServer {
    pub server: Server,
    pub http_port: u16,
}

impl Kind {
    /// Starts this kind of server with `-r http` and `extra`; ready once both ports listen
    /// and the Gearman one answers `version`.
    pub fn start_http(self, extra: &[&str]) -> HttpServer {
        let mut args = vec!["-r", "http", "--http-port=0"];
        args.extend_from_slice(extra);
        let (server, http_port) = self.start_with_second_listener(&args);
        HttpServer { server, http_port }
    }

    /// Starts this kind of server with `args` that open a second listener on a port the
    /// kernel picks (`--http-port=0`, `--http-status=0`); returns the server and that port.
    pub fn start_with_second_listener(self, extra: &[&str]) -> (Server, u16) {
        let (program, args, dir) = self.command(extra);
        let mut server = Server::spawned(program, args, dir, answers_version);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("server exited ({status}); its log:\n{}", server.log());
            }
            let ports = listening_ports(server.child.id());
            if ports.len() == 2 {
                if let Some(gear) = ports.iter().copied().find(|&p| answers_version(p)) {
                    server.port = gear;
                    let other = ports.into_iter().find(|&p| p != gear).unwrap();
                    return (server, other);
                }
            }
            assert!(
                Instant::now() < deadline,
                "server with a second listener not ready after 10 s; its log:\n{}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Which job server a shared test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Debian,
    Ours,
}

impl Kind {
    pub fn start(self) -> Server {
        self.start_with(&[])
    }

    pub fn start_with(self, extra: &[&str]) -> Server {
        match self {
            Kind::Debian => Server::debian_with(extra),
            Kind::Ours => Server::ours_with(extra),
        }
    }

    /// The program, the arguments every test server gets (loopback only, log and pid file in
    /// a fresh directory, Debian's gearmand on one thread) followed by `extra`, and that
    /// directory.
    fn command(self, extra: &[&str]) -> (PathBuf, Vec<String>, PathBuf) {
        let (program, dir) = match self {
            Kind::Debian => {
                assert!(
                    Path::new(DEBIAN_GEARMAND).exists(),
                    "{DEBIAN_GEARMAND} is missing: install gearman-job-server (scripts/test.sh does)"
                );
                (PathBuf::from(DEBIAN_GEARMAND), temp_dir("gearmand"))
            }
            Kind::Ours => (our_gearmand(), temp_dir("ours")),
        };
        let mut args = vec!["--listen=127.0.0.1".to_string()];
        if self == Kind::Debian {
            args.push("--threads=1".into());
        }
        args.push(format!("--log-file={}", dir.join("gearmand.log").display()));
        args.push(format!("--pid-file={}", dir.join("gearmand.pid").display()));
        args.extend(extra.iter().map(|s| s.to_string()));
        (program, args, dir)
    }
}

/// Runs `command` with `stdin` as its input; its exit status and output.
pub fn run_with_stdin(command: &mut Command, stdin: &[u8]) -> std::process::Output {
    use std::io::Write;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(stdin)
        .unwrap();
    child.wait_with_output().unwrap()
}

fn spawn(program: &Path, args: &[String], port: u16) -> Child {
    Command::new(program)
        .args(args)
        .arg(format!("--port={port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()))
}

/// Sends a signal to one of our own child processes.
pub fn signal(pid: u32, sig: i32) {
    // SAFETY: kill(2) on a PID we started.
    unsafe {
        libc::kill(pid as i32, sig);
    }
}

/// A fresh directory under the system temp dir.
pub fn temp_dir(tag: &str) -> PathBuf {
    temp_dir_in(&std::env::temp_dir(), tag)
}

/// [`temp_dir`] under `root` (a benchmark's file on tmpfs, say).
pub fn temp_dir_in(root: &Path, tag: &str) -> PathBuf {
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = root.join(format!("gearman-test-{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A child process killed by PID on drop (workers started by tests).
pub struct ChildGuard(pub Child);

impl ChildGuard {
    pub fn spawn(command: &mut Command) -> ChildGuard {
        ChildGuard(command.spawn().expect("spawn"))
    }

    /// Waits up to `limit` for the process to exit.
    pub fn wait_timeout(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.0.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            signal(self.0.id(), libc::SIGKILL);
            let _ = self.0.wait();
        }
    }
}

/// Waits until `probe` holds, up to `limit`.
pub fn wait_until(limit: Duration, mut probe: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if probe() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

/// Sends a text admin command and returns the reply up to and including the final `.` line
/// (listings) or the first line (everything else).
pub fn admin(port: u16, command: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream.write_all(format!("{command}\n").as_bytes()).unwrap();
    let mut reader = BufReader::new(stream);
    let listing = matches!(
        command.split(' ').next().unwrap_or(""),
        "status" | "workers" | "prioritystatus" | "show"
    );
    let mut out = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return out;
        }
        out.push_str(&line);
        if !listing || line == ".\n" || line.starts_with("ERR") {
            return out;
        }
    }
}

/// Generates `debian_gearmand::NAME` and `our_gearmand::NAME` tests calling `NAME(Kind)` for each
/// name, so a suite runs against both servers.
#[macro_export]
macro_rules! against_both {
    ($($name:ident),* $(,)?) => {
        mod debian_gearmand {
            $(#[test] fn $name() { super::$name($crate::Kind::Debian) })*
        }
        mod our_gearmand {
            $(#[test] fn $name() { super::$name($crate::Kind::Ours) })*
        }
    };
}
