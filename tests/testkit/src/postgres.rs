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

/// The server binary: the system's, or the copy in the server's own installation tree
/// (`root/`, see [`PostgresServer::start_with_installed`]).
fn postgres_binary(dir: &Path) -> PathBuf {
    let system = bin_dir().join("postgres");
    let own = dir
        .join("root")
        .join(system.strip_prefix("/").expect("an absolute path"));
    if own.exists() {
        own
    } else {
        system
    }
}

fn spawn(dir: &Path, port: u16) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("postgres.log"))
        .expect("log file");
    as_postgres(&postgres_binary(dir))
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

/// Makes `to` a directory of links to what `from` holds, directories made real (one level
/// deep: enough for `lib/` and `share/extension/`) so files can be added beside the links.
fn link_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("tree");
    for entry in std::fs::read_dir(from)
        .expect("read the installation")
        .flatten()
    {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            std::fs::create_dir_all(&target).expect("tree");
            for inner in std::fs::read_dir(entry.path()).expect("read").flatten() {
                let _ = std::os::unix::fs::symlink(inner.path(), target.join(inner.file_name()));
            }
        } else {
            let _ = std::os::unix::fs::symlink(entry.path(), &target);
        }
    }
}

/// Copies the files under `from` to the same places under `to`, replacing links.
fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read the stage").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            std::fs::create_dir_all(&target).expect("tree");
            copy_tree(&entry.path(), &target);
        } else {
            let _ = std::fs::remove_file(&target);
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// Stopped, restarted and dropped as its [`Service`].
pub struct PostgresServer {
    service: Service,
}

crate::service::derefs_to_service!(PostgresServer);

impl PostgresServer {
    pub fn start() -> PostgresServer {
        PostgresServer::start_in(temp_dir("postgres"))
    }

    /// Starts a server whose installation also holds what `make install DESTDIR=stage` put in
    /// `stage` (an extension, for `CREATE EXTENSION`), without touching the system's: the
    /// server runs from a tree of its own (a copy of the `postgres` binary, which finds its
    /// share and lib directories relative to itself, and links to the system's files).
    pub fn start_with_installed(stage: &Path) -> PostgresServer {
        let dir = temp_dir("postgres");
        let root = dir.join("root");
        let bin = bin_dir();
        let version_dir = bin.parent().expect("…/postgresql/<version>");
        let version = version_dir.file_name().expect("a version");
        let share = Path::new("/usr/share/postgresql").join(version);
        let relative = |p: &Path| root.join(p.strip_prefix("/").expect("an absolute path"));
        let own_bin = relative(&bin);
        std::fs::create_dir_all(&own_bin).expect("tree");
        // A copy, not a link: PostgreSQL resolves links to find its own directory.
        std::fs::copy(bin.join("postgres"), own_bin.join("postgres")).expect("copy postgres");
        link_tree(
            &version_dir.join("lib"),
            &relative(&version_dir.join("lib")),
        );
        link_tree(&share, &relative(&share));
        copy_tree(stage, &root);
        PostgresServer::start_in(dir)
    }

    fn start_in(dir: PathBuf) -> PostgresServer {
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

    /// `pg_config` of the PostgreSQL the server runs (for building extensions against it).
    pub fn pg_config() -> PathBuf {
        bin_dir().join("pg_config")
    }
}

/// Builds and installs an extension with its PGXS Makefile in `source` (`make`, then `make
/// install DESTDIR=stage`), out of the source tree, passing `RUST_LIB` (the Rust static
/// library it links); returns the stage directory, which holds the installed files under
/// their system paths, for [`PostgresServer::start_with_installed`].
pub fn build_extension(source: &Path, rust_lib: &Path) -> PathBuf {
    let build = temp_dir("pg-extension");
    let stage = build.join("stage");
    for target in ["all", "install"] {
        let output = Command::new("make")
            // PGXS reads PROFILE as compiler flags.
            .env_remove("PROFILE")
            .arg("-C")
            .arg(&build)
            .arg("-f")
            .arg(source.join("Makefile"))
            .arg(format!("VPATH={}", source.display()))
            .arg(format!(
                "PG_CONFIG={}",
                PostgresServer::pg_config().display()
            ))
            .arg(format!("RUST_LIB={}", rust_lib.display()))
            .arg(format!("DESTDIR={}", stage.display()))
            .arg(target)
            .output()
            .expect("make");
        assert!(
            output.status.success(),
            "make {target} failed (scripts/install-deps.sh installs postgresql-server-dev): {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    stage
}
