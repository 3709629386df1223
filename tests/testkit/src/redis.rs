//! A throwaway Redis server for the queue tests: its own directory, a free loopback port,
//! append-only file with fsync on every write (so a restart keeps every acknowledged job),
//! stopped by its PID when dropped. Never the machine's own Redis service.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{listening_ports, signal, temp_dir};

pub const REDIS_SERVER: &str = "/usr/bin/redis-server";

pub struct RedisServer {
    child: Child,
    pub port: u16,
    pub dir: PathBuf,
}

/// A port the kernel says is free now. Redis cannot be asked for port 0, so the start below
/// checks that the Redis process itself listens there, and tries another port if not.
fn free_port() -> u16 {
    let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).expect("bind");
    listener.local_addr().expect("address").port()
}

fn spawn(dir: &std::path::Path, port: u16) -> Child {
    Command::new(REDIS_SERVER)
        .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
        .args(["--dir", &dir.display().to_string()])
        .args([
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
        ])
        .args(["--daemonize", "no", "--protected-mode", "no"])
        .args(["--logfile", &dir.join("redis.log").display().to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot start {REDIS_SERVER}: {e} (scripts/install-deps.sh installs redis-server)"
            )
        })
}

/// Waits until `child` listens on `port`; false if it exited or did not in 10 s.
fn wait_listening(child: &mut Child, port: u16) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if listening_ports(child.id()).contains(&port) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

impl RedisServer {
    pub fn start() -> RedisServer {
        let dir = temp_dir("redis");
        for _ in 0..5 {
            let port = free_port();
            let mut child = spawn(&dir, port);
            if wait_listening(&mut child, port) {
                return RedisServer { child, port, dir };
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!(
            "redis-server did not start; its log:\n{}",
            std::fs::read_to_string(dir.join("redis.log")).unwrap_or_default()
        );
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops it (SIGKILL: what it acknowledged is in its append-only file already).
    pub fn stop(&mut self) {
        signal(self.child.id(), libc::SIGKILL);
        let _ = self.child.wait();
    }

    /// Starts it again on the same port and directory (it reloads its append-only file).
    pub fn restart(&mut self) {
        self.stop();
        self.child = spawn(&self.dir, self.port);
        assert!(
            wait_listening(&mut self.child, self.port),
            "redis-server did not come back on port {}",
            self.port
        );
    }

    /// How many keys the database holds (`DBSIZE`).
    pub fn dbsize(&self) -> usize {
        use std::io::{BufRead, BufReader, Write};
        let mut stream =
            std::net::TcpStream::connect(("127.0.0.1", self.port)).expect("connect to redis");
        stream.write_all(b"*1\r\n$6\r\nDBSIZE\r\n").unwrap();
        let mut line = String::new();
        BufReader::new(stream).read_line(&mut line).unwrap();
        line.trim()
            .strip_prefix(':')
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("DBSIZE answered {line:?}"))
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            signal(self.child.id(), libc::SIGTERM);
            let _ = self.child.wait();
        }
    }
}
