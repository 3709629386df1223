//! A database server process for the queue tests: started on a free loopback port in its own
//! directory, ready once its own process listens there and its readiness check passes, stopped
//! by its PID (at once, so a restart shows what it had committed). The databases themselves
//! (`redis`, `postgres`, `mariadb`) say how to start one and when it is ready.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use crate::{listening_ports, signal, wait_until};

/// Starts the server in `dir` on `port`.
pub type Spawn = fn(&Path, u16) -> Child;

pub struct Service {
    name: &'static str,
    child: Child,
    pub port: u16,
    pub dir: PathBuf,
    spawn: Spawn,
    /// Beyond listening: whether it accepts work (`pg_isready`, say).
    ready: fn(&Path, u16) -> bool,
    /// How to stop it at once.
    stop_signal: i32,
    log: &'static str,
}

/// A port the kernel says is free now. These servers cannot be given port 0, so `start` checks
/// that the server's own process listens there, and tries another port if not.
fn free_port() -> u16 {
    let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).expect("bind");
    listener.local_addr().expect("address").port()
}

impl Service {
    /// Starts `name` (its log is `dir/log`).
    pub fn start(
        name: &'static str,
        dir: PathBuf,
        spawn: Spawn,
        ready: fn(&Path, u16) -> bool,
        stop_signal: i32,
        log: &'static str,
    ) -> Service {
        for _ in 0..5 {
            let port = free_port();
            let mut service = Service {
                name,
                child: spawn(&dir, port),
                port,
                dir: dir.clone(),
                spawn,
                ready,
                stop_signal,
                log,
            };
            if service.wait_ready() {
                return service;
            }
            service.stop();
        }
        panic!(
            "{name} did not start; its log:\n{}",
            std::fs::read_to_string(dir.join(log)).unwrap_or_default()
        );
    }

    /// Waits (30 s at most) until it listens and is ready; false if it exited first.
    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if listening_ports(self.child.id()).contains(&self.port)
                && (self.ready)(&self.dir, self.port)
            {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops it at once; what it committed is in its log on disk.
    pub fn stop(&mut self) {
        signal(self.child.id(), self.stop_signal);
        let exited = wait_until(Duration::from_secs(10), || {
            matches!(self.child.try_wait(), Ok(Some(_)))
        });
        if !exited {
            signal(self.child.id(), libc::SIGKILL);
        }
        let _ = self.child.wait();
    }

    /// Starts it again on the same port and directory.
    pub fn restart(&mut self) {
        self.stop();
        self.child = (self.spawn)(&self.dir, self.port);
        assert!(
            self.wait_ready(),
            "{} did not come back on port {}; its log:\n{}",
            self.name,
            self.port,
            std::fs::read_to_string(self.dir.join(self.log)).unwrap_or_default()
        );
    }
}

impl Drop for Service {
    /// Stops the server and removes its directory: a MariaDB data directory alone is 143 MB,
    /// and every test run makes several.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.stop();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A database server type that holds its [`Service`] in a `service` field is used as one (its
/// port, stop, restart).
macro_rules! derefs_to_service {
    ($server:ty) => {
        impl std::ops::Deref for $server {
            type Target = $crate::service::Service;

            fn deref(&self) -> &$crate::service::Service {
                &self.service
            }
        }

        impl std::ops::DerefMut for $server {
            fn deref_mut(&mut self) -> &mut $crate::service::Service {
                &mut self.service
            }
        }
    };
}
pub(crate) use derefs_to_service;
