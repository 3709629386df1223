//! Helpers for tests that run real job servers: a free port on 127.0.0.1, a server process
//! started in the foreground and stopped by its PID when dropped, and readiness by `version`.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Debian's reference job server.
pub const DEBIAN_GEARMAND: &str = "/usr/sbin/gearmand";

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind")
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
    BufReader::new(stream).read_line(&mut line).is_ok() && !line.is_empty()
}

/// A job server process, killed (by PID) and reaped on drop.
pub struct Server {
    child: Child,
    pub port: u16,
    pub dir: PathBuf,
    program: PathBuf,
    args: Vec<String>,
}

impl Server {
    /// Starts Debian's gearmand on a free port.
    pub fn debian() -> Server {
        Self::debian_with(&[])
    }

    /// Starts Debian's gearmand with extra options.
    pub fn debian_with(extra: &[&str]) -> Server {
        assert!(
            Path::new(DEBIAN_GEARMAND).exists(),
            "{DEBIAN_GEARMAND} is missing: install gearman-job-server (scripts/test.sh does)"
        );
        let port = free_port();
        let dir = temp_dir("gearmand");
        let mut args = vec![
            "--listen=127.0.0.1".to_string(),
            format!("--port={port}"),
            "--threads=1".into(),
            format!("--log-file={}", dir.join("gearmand.log").display()),
            format!("--pid-file={}", dir.join("gearmand.pid").display()),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        Self::start(DEBIAN_GEARMAND.into(), args, port, dir)
    }

    /// Starts our gearmand (built by `cargo test --workspace` / `cargo build`) on a free port.
    pub fn ours() -> Server {
        Self::ours_with(&[])
    }

    /// Starts our gearmand with extra options.
    pub fn ours_with(extra: &[&str]) -> Server {
        let program = our_gearmand();
        let port = free_port();
        let dir = temp_dir("ours");
        let mut args = vec![
            "--listen=127.0.0.1".to_string(),
            format!("--port={port}"),
            format!("--log-file={}", dir.join("gearmand.log").display()),
            format!("--pid-file={}", dir.join("gearmand.pid").display()),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        Self::start(program, args, port, dir)
    }

    /// Starts any server binary with `args`; `{port}` in an argument is replaced.
    pub fn start(program: PathBuf, args: Vec<String>, port: u16, dir: PathBuf) -> Server {
        let child = spawn(&program, &args);
        let server = Server {
            child,
            port,
            dir,
            program,
            args,
        };
        server.wait_ready();
        server
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if answers_version(self.port) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "server {} did not answer on port {}",
            self.program.display(),
            self.port
        );
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

    /// Kills the server and starts it again on the same port with the same options.
    pub fn restart(&mut self) {
        self.kill();
        self.child = spawn(&self.program, &self.args);
        self.wait_ready();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
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

/// Our gearmand binary: `$GEARMAND_BIN`, or `gearmand` in the cargo target directory that holds
/// the running test.
pub fn our_gearmand() -> PathBuf {
    if let Some(path) = std::env::var_os("GEARMAND_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("current exe");
    // Tests run from target/<profile>/deps, binaries such as benchmarks from target/<profile>.
    let candidates: Vec<PathBuf> = exe
        .ancestors()
        .skip(1)
        .take(2)
        .map(|dir| dir.join("gearmand"))
        .collect();
    let path = candidates.iter().find(|p| p.is_file()).cloned();
    let Some(path) = path else {
        panic!(
            "{} is missing: build it first (cargo build -p gearman-server)",
            candidates[0].display()
        )
    };
    path
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
}

fn spawn(program: &Path, args: &[String]) -> Child {
    Command::new(program)
        .args(args)
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
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("gearman-test-{tag}-{}-{n}", std::process::id()));
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
