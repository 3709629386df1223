//! A throwaway MariaDB server for the queue and UDF tests: a data directory made by
//! `mariadb-install-db`, a free loopback port, database `gearman` open to user `gearman` with
//! no password, its own plugin directory for UDF libraries. Never the machine's own MySQL
//! service.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::service::Service;
use crate::temp_dir;

pub const MARIADBD: &str = "/usr/sbin/mariadbd";

fn spawn(dir: &Path, port: u16) -> Child {
    Command::new(MARIADBD)
        .arg("--no-defaults")
        .arg(format!("--datadir={}", dir.join("data").display()))
        .arg(format!("--socket={}", dir.join("mysqld.sock").display()))
        .arg(format!("--pid-file={}", dir.join("mysqld.pid").display()))
        .arg(format!("--log-error={}", dir.join("error.log").display()))
        .arg(format!("--port={port}"))
        .arg(format!("--plugin-dir={}", dir.join("plugin").display()))
        .arg(format!("--tmpdir={}", dir.join("tmp").display()))
        // Room for 16 MiB workloads in a query and in a result.
        .arg("--max-allowed-packet=64M")
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

/// Runs SQL as root over the server's own socket; its output (tab-separated, no headers).
fn sql_in(dir: &Path, sql: &str) -> Result<String, String> {
    let output = client_in(dir)
        .args(["-e", sql])
        .output()
        .map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// The `mariadb` client as root over the server's socket: tab-separated, no headers.
fn client_in(dir: &Path) -> Command {
    let mut command = Command::new("mariadb");
    command
        .arg("--no-defaults")
        .arg(format!("--socket={}", dir.join("mysqld.sock").display()))
        .arg("--max-allowed-packet=64M")
        .args(["-u", "root", "-N", "-B"]);
    command
}

/// Makes the data directory. On a CI machine one bootstrap crashed mariadbd (signal 11 while
/// dropping an Aria temporary table) as four others ran beside it, all in the shared /tmp:
/// so one bootstrap at a time in this process, each with its own temporary directory, and a
/// crashed one is retried on a fresh data directory, its output printed rather than hidden.
fn install_db(dir: &Path) {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    const ATTEMPTS: u32 = 3;
    for attempt in 1..=ATTEMPTS {
        let data = dir.join("data");
        let _ = std::fs::remove_dir_all(&data);
        let output = Command::new("mariadb-install-db")
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--tmpdir={}", dir.join("tmp").display()))
            .args([
                "--user=root",
                "--auth-root-authentication-method=socket",
                "--skip-test-db",
            ])
            .output()
            .expect("mariadb-install-db");
        if output.status.success() {
            return;
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            attempt < ATTEMPTS,
            "mariadb-install-db failed {ATTEMPTS} times; the last: {stderr}"
        );
        eprintln!(
            "mariadb-install-db failed (attempt {attempt} of {ATTEMPTS}), retrying: {stderr}"
        );
    }
}

/// Stopped, restarted and dropped as its [`Service`].
pub struct MariadbServer {
    service: Service,
}

crate::service::derefs_to_service!(MariadbServer);

impl MariadbServer {
    pub fn start() -> MariadbServer {
        let dir = temp_dir("mariadb");
        std::fs::create_dir_all(dir.join("plugin")).expect("plugin directory");
        std::fs::create_dir_all(dir.join("tmp")).expect("tmp directory");
        install_db(&dir);
        let service = Service::start(
            "mariadbd",
            dir,
            spawn,
            |dir, _| sql_in(dir, "SELECT 1").is_ok(),
            libc::SIGKILL,
            "error.log",
        );
        let server = MariadbServer { service };
        server.sql(
            "CREATE DATABASE gearman; CREATE USER gearman@'127.0.0.1';
             GRANT ALL ON gearman.* TO gearman@'127.0.0.1';",
        );
        server
    }

    /// Runs SQL as root; its output (tab-separated, no headers).
    pub fn sql(&self, sql: &str) -> String {
        self.try_sql(sql)
            .unwrap_or_else(|e| panic!("mariadb {sql:?}: {e}"))
    }

    /// Runs SQL as root: its output, or the client's error text.
    pub fn try_sql(&self, sql: &str) -> Result<String, String> {
        sql_in(&self.service.dir, sql)
    }

    /// The `mariadb` client as root, to run SQL in a process of its own (`-e SQL` to add).
    pub fn client(&self) -> Command {
        client_in(&self.service.dir)
    }

    /// Copies a UDF library into the server's plugin directory, where `CREATE FUNCTION …
    /// SONAME` finds it.
    pub fn install_plugin(&self, library: &Path) {
        let name = library.file_name().expect("a library file");
        std::fs::copy(library, self.service.dir.join("plugin").join(name))
            .unwrap_or_else(|e| panic!("copy {}: {e}", library.display()));
    }
}
