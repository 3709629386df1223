//! A throwaway MariaDB server for the queue tests: a data directory made by
//! `mariadb-install-db`, a free loopback port, database `gearman` open to user `gearman` with
//! no password, stopped by its PID when dropped. Never the machine's own MySQL service.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{listening_ports, signal, temp_dir};

pub const MARIADBD: &str = "/usr/sbin/mariadbd";

pub struct MariadbServer {
    child: Child,
    pub port: u16,
    pub dir: PathBuf,
}

fn free_port() -> u16 {
    let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).expect("bind");
    listener.local_addr().expect("address").port()
}

fn spawn(dir: &Path, port: u16) -> Child {
    Command::new(MARIADBD)
        .arg("--no-defaults")
        .arg(format!("--datadir={}", dir.join("data").display()))
        .arg(format!("--socket={}", dir.join("mysqld.sock").display()))
        .arg(format!("--pid-file={}", dir.join("mysqld.pid").display()))
        .arg(format!("--log-error={}", dir.join("error.log").display()))
        .arg(format!("--port={port}"))
        .args([
            "--bind-address=127.0.0.1",
            "--user=root",
            "--skip-name-resolve",
        ])
        .args(["--innodb-flush-log-at-trx-commit=1", "--skip-log-bin"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot start {MARIADBD}: {e} (scripts/install-deps.sh installs mariadb-server)")
        })
}

impl MariadbServer {
    pub fn start() -> MariadbServer {
        let dir = temp_dir("mariadb");
        let output = Command::new("mariadb-install-db")
            .arg("--no-defaults")
            .arg(format!("--datadir={}", dir.join("data").display()))
            .args([
                "--user=root",
                "--auth-root-authentication-method=socket",
                "--skip-test-db",
            ])
            .output()
            .expect("mariadb-install-db");
        assert!(
            output.status.success(),
            "mariadb-install-db failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        for _ in 0..5 {
            let port = free_port();
            let mut server = MariadbServer {
                child: spawn(&dir, port),
                port,
                dir: dir.clone(),
            };
            if server.wait_ready() {
                server.sql(
                    "CREATE DATABASE gearman; CREATE USER gearman@'127.0.0.1';
                     GRANT ALL ON gearman.* TO gearman@'127.0.0.1';",
                );
                return server;
            }
            server.stop();
        }
        panic!(
            "mariadbd did not start; its log:\n{}",
            std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
        );
    }

    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if listening_ports(self.child.id()).contains(&self.port) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Runs SQL as root over the server's own socket; its output (tab-separated, no headers).
    pub fn sql(&self, sql: &str) -> String {
        let output = Command::new("mariadb")
            .arg("--no-defaults")
            .arg(format!(
                "--socket={}",
                self.dir.join("mysqld.sock").display()
            ))
            .args(["-u", "root", "-N", "-B", "-e", sql])
            .output()
            .expect("mariadb client");
        assert!(
            output.status.success(),
            "mariadb {sql:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops it at once (SIGKILL: what it committed is in its redo log).
    pub fn stop(&mut self) {
        signal(self.child.id(), libc::SIGKILL);
        let _ = self.child.wait();
    }

    /// Starts it again on the same port and data directory.
    pub fn restart(&mut self) {
        self.stop();
        self.child = spawn(&self.dir, self.port);
        assert!(
            self.wait_ready(),
            "mariadbd did not come back on port {}",
            self.port
        );
    }
}

impl Drop for MariadbServer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            signal(self.child.id(), libc::SIGTERM);
            let _ = self.child.wait();
        }
    }
}
