//! A throwaway PostgreSQL server for the queue tests: a cluster made by `initdb` in its own
//! directory, a free loopback port, run as the `postgres` user (PostgreSQL refuses root) and
//! stopped by its PID when dropped. Never the machine's own PostgreSQL service.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{listening_ports, signal, temp_dir};

/// The newest PostgreSQL installed (`/usr/lib/postgresql/<version>/bin`).
fn bin_dir() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is not installed (scripts/install-deps.sh installs it)")
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("postgres").exists())
        .collect();
    versions.sort();
    versions.pop().expect("no PostgreSQL server binary")
}

/// Runs as the `postgres` user, replacing this process (so a spawned child's PID is the
/// program's own).
fn as_postgres(program: &Path) -> Command {
    let mut command = Command::new("setpriv");
    command
        .args([
            "--reuid=postgres",
            "--regid=postgres",
            "--init-groups",
            "--",
        ])
        .arg(program);
    command
}

pub struct PostgresServer {
    child: Child,
    pub port: u16,
    pub dir: PathBuf,
    bin: PathBuf,
}

fn free_port() -> u16 {
    let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).expect("bind");
    listener.local_addr().expect("address").port()
}

impl PostgresServer {
    pub fn start() -> PostgresServer {
        let bin = bin_dir();
        let dir = temp_dir("postgres");
        let status = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&dir)
            .status()
            .expect("chown");
        assert!(status.success());
        let output = as_postgres(&bin.join("initdb"))
            .args(["-D", &dir.join("data").display().to_string()])
            .args(["-A", "trust", "-U", "gearman", "-E", "UTF8", "--no-sync"])
            .output()
            .expect("initdb");
        assert!(
            output.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        for _ in 0..5 {
            let port = free_port();
            let mut server = PostgresServer {
                child: Self::spawn(&bin, &dir, port),
                port,
                dir: dir.clone(),
                bin: bin.clone(),
            };
            if server.wait_ready() {
                return server;
            }
            server.stop();
        }
        panic!(
            "postgres did not start; its log:\n{}",
            std::fs::read_to_string(dir.join("postgres.log")).unwrap_or_default()
        );
    }

    fn spawn(bin: &Path, dir: &Path, port: u16) -> Child {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("postgres.log"))
            .expect("log file");
        as_postgres(&bin.join("postgres"))
            .args(["-D", &dir.join("data").display().to_string()])
            .args(["-p", &port.to_string(), "-k", &dir.display().to_string()])
            .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=on"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start postgres")
    }

    /// Waits until it listens and accepts connections; false if it exited or took over 20 s.
    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if listening_ports(self.child.id()).contains(&self.port) {
                let ready = Command::new(self.bin.join("pg_isready"))
                    .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-q"])
                    .status()
                    .is_ok_and(|s| s.success());
                if ready {
                    return true;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// libpq's connection string for it (user `gearman`, database `postgres`).
    pub fn conninfo(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user=gearman dbname=postgres",
            self.port
        )
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops it at once (SIGQUIT: no shutdown checkpoint; what it committed is in its WAL).
    pub fn stop(&mut self) {
        signal(self.child.id(), libc::SIGQUIT);
        if crate::wait_until(Duration::from_secs(10), || {
            matches!(self.child.try_wait(), Ok(Some(_)))
        }) {
            return;
        }
        signal(self.child.id(), libc::SIGKILL);
        let _ = self.child.wait();
    }

    /// Starts it again on the same port and data directory.
    pub fn restart(&mut self) {
        self.stop();
        self.child = Self::spawn(&self.bin, &self.dir, self.port);
        assert!(
            self.wait_ready(),
            "postgres did not come back on port {}",
            self.port
        );
    }

    /// Runs SQL with psql; its output.
    pub fn psql(&self, sql: &str) -> String {
        let output = Command::new(self.bin.join("psql"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "gearman",
            ])
            .args(["-d", "postgres", "-At", "-c", sql])
            .output()
            .expect("psql");
        assert!(
            output.status.success(),
            "psql {sql:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            signal(self.child.id(), libc::SIGQUIT);
            let _ = self.child.wait();
        }
    }
}
