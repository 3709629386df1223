//! A throwaway PostgreSQL server for the queue and extension tests: a cluster made by `initdb` in its own
//! directory, a free loopback port, run as the `postgres` user (PostgreSQL refuses root).
//! Never the machine's own PostgreSQL service.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::service::Service;
use crate::temp_dir;

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

fn spawn(dir: &Path, port: u16) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("postgres.log"))
        .expect("log file");
    as_postgres(&bin_dir().join("postgres"))
        .args(["-D", &dir.join("data").display().to_string()])
        .args(["-p", &port.to_string(), "-k", &dir.display().to_string()])
        .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=on"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start postgres")
}

fn accepts_connections(_: &Path, port: u16) -> bool {
    Command::new(bin_dir().join("pg_isready"))
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-q"])
        .status()
        .is_ok_and(|s| s.success())
}

/// Stopped, restarted and dropped as its [`Service`].
pub struct PostgresServer {
    service: Service,
}

crate::service::derefs_to_service!(PostgresServer);

impl PostgresServer {
    pub fn start() -> PostgresServer {
        let dir = temp_dir("postgres");
        let status = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&dir)
            .status()
            .expect("chown");
        assert!(status.success());
        let output = as_postgres(&bin_dir().join("initdb"))
            .args(["-D", &dir.join("data").display().to_string()])
            .args(["-A", "trust", "-U", "gearman", "-E", "UTF8", "--no-sync"])
            .output()
            .expect("initdb");
        assert!(
            output.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        // SIGQUIT: stop at once, without a shutdown checkpoint.
        let service = Service::start(
            "postgres",
            dir,
            spawn,
            accepts_connections,
            libc::SIGQUIT,
            "postgres.log",
        );
        PostgresServer { service }
    }

    /// libpq's connection string for it (user `gearman`, database `postgres`).
    pub fn conninfo(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user=gearman dbname=postgres",
            self.port
        )
    }

    /// `psql` as user `gearman` on database `postgres`, unaligned, tuples only (`-c SQL` or
    /// `-f FILE` to add), to run SQL in a session of its own.
    pub fn psql_command(&self) -> Command {
        let mut command = Command::new(bin_dir().join("psql"));
        command
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "gearman",
            ])
            .args(["-d", "postgres", "-At", "-v", "ON_ERROR_STOP=1"]);
        command
    }

    /// Runs SQL with psql; its output.
    pub fn psql(&self, sql: &str) -> String {
        self.try_psql(sql)
            .unwrap_or_else(|e| panic!("psql {sql:?}: {e}"))
    }

    /// Runs SQL with psql (in one session): its output, or psql's error text.
    pub fn try_psql(&self, sql: &str) -> Result<String, String> {
        let output = self
            .psql_command()
            .args(["-c", sql])
            .output()
            .expect("psql");
        if !output.status.success() {
            return Err(String::from_utf8_lossy(&output.stderr).into_owned());
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
    }

    /// Copies a loadable module (an extension's `.so`) into the server's directory, where
    /// the server can read it; its path there, for `CREATE FUNCTION ... AS 'path'`.
    pub fn install_library(&self, library: &Path) -> PathBuf {
        let target = self
            .service
            .dir
            .join(library.file_name().expect("a library file"));
        std::fs::copy(library, &target)
            .unwrap_or_else(|e| panic!("copy {}: {e}", library.display()));
        target
    }

    /// `pg_config` of the PostgreSQL the server runs (for building extensions against it).
    pub fn pg_config() -> PathBuf {
        bin_dir().join("pg_config")
    }
}
