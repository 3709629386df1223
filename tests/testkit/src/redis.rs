//! A throwaway Redis server for the queue tests: its own directory, a free loopback port,
//! append-only file with fsync on every write (so a restart keeps every acknowledged job).
//! Never the machine's own Redis service.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::service::Service;
use crate::temp_dir;

pub const REDIS_SERVER: &str = "/usr/bin/redis-server";

/// Stopped, restarted and dropped as its [`Service`].
pub struct RedisServer {
    service: Service,
}

crate::service::derefs_to_service!(RedisServer);

fn spawn(dir: &Path, port: u16) -> Child {
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

impl RedisServer {
    pub fn start() -> RedisServer {
        let service = Service::start(
            "redis-server",
            temp_dir("redis"),
            spawn,
            |_, _| true,
            libc::SIGKILL,
            "redis.log",
        );
        RedisServer { service }
    }

    /// Sends one command; the first line of the reply.
    fn first_line(&self, args: &[&[u8]]) -> String {
        use std::io::{BufRead, BufReader, Write};
        let mut stream =
            std::net::TcpStream::connect(("127.0.0.1", self.port)).expect("connect to redis");
        let mut request = format!("*{}\r\n", args.len()).into_bytes();
        for arg in args {
            request.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
            request.extend_from_slice(arg);
            request.extend_from_slice(b"\r\n");
        }
        stream.write_all(&request).unwrap();
        let mut line = String::new();
        BufReader::new(stream).read_line(&mut line).unwrap();
        line.trim().to_string()
    }

    /// How many keys the database holds (`DBSIZE`).
    pub fn dbsize(&self) -> usize {
        let line = self.first_line(&[b"DBSIZE"]);
        line.strip_prefix(':')
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("DBSIZE answered {line:?}"))
    }

    /// How many keys match `pattern` (`KEYS`: a test's small database only).
    pub fn count_keys(&self, pattern: &[u8]) -> usize {
        let line = self.first_line(&[b"KEYS", pattern]);
        line.strip_prefix('*')
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("KEYS answered {line:?}"))
    }
}
