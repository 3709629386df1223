//! TLS peers known to be right, for interop tests: stunnel (OpenSSL) in front of a plaintext
//! job server or behind a plaintext client, and gear's `geard` and gear's client and worker
//! (Python's ssl module). Each runs in its own directory on a kernel-chosen loopback port and
//! is killed by PID on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::pki::{CertFiles, Pki};
use crate::{listening_ports, signal, temp_dir};

pub const STUNNEL: &str = "/usr/bin/stunnel4";

/// A process listening on one loopback port, killed on drop.
pub struct Listener {
    child: Child,
    pub port: u16,
    pub dir: PathBuf,
    log: PathBuf,
}

impl Listener {
    fn start(mut command: Command, dir: PathBuf, log: PathBuf) -> Listener {
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
        let mut listener = Listener {
            child,
            port: 0,
            dir,
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = listener.child.try_wait() {
                panic!(
                    "{command:?} exited ({status}); its log:\n{}",
                    listener.log()
                );
            }
            if let [port] = listening_ports(listener.child.id())[..] {
                listener.port = port;
                return listener;
            }
            assert!(
                Instant::now() < deadline,
                "{command:?} does not listen after 20 s; its log:\n{}",
                listener.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        signal(self.child.id(), libc::SIGKILL);
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn stunnel(service: &str) -> Listener {
    assert!(
        Path::new(STUNNEL).exists(),
        "{STUNNEL} is missing: install stunnel4 (scripts/install-deps.sh does)"
    );
    let dir = temp_dir("stunnel");
    let log = dir.join("stunnel.log");
    let config = dir.join("stunnel.conf");
    let text = format!(
        "foreground = yes\npid =\noutput = {}\ndebug = 5\n[gearman]\naccept = 127.0.0.1:0\n{service}",
        log.display()
    );
    std::fs::write(&config, text).expect("stunnel.conf");
    let mut command = Command::new(STUNNEL);
    command.arg(&config);
    Listener::start(command, dir, log)
}

/// stunnel accepting TLS with `cert` and forwarding plaintext to `port`; with `client_ca`,
/// clients must present a certificate signed by it.
pub fn stunnel_server(port: u16, cert: &CertFiles, client_ca: Option<&Path>) -> Listener {
    let mut service = format!(
        "connect = 127.0.0.1:{port}\ncert = {}\nkey = {}\n",
        cert.cert.display(),
        cert.key.display()
    );
    if let Some(ca) = client_ca {
        service += &format!("CAfile = {}\nverifyChain = yes\n", ca.display());
    }
    stunnel(&service)
}

/// stunnel accepting plaintext and forwarding over TLS to `port`, checking the server's
/// certificate against `ca` and the name `localhost`, presenting `client` if given.
pub fn stunnel_client(port: u16, ca: &Path, client: Option<&CertFiles>) -> Listener {
    let mut service = format!(
        "client = yes\nconnect = 127.0.0.1:{port}\nCAfile = {}\nverifyChain = yes\ncheckHost = localhost\n",
        ca.display()
    );
    if let Some(client) = client {
        service += &format!(
            "cert = {}\nkey = {}\n",
            client.cert.display(),
            client.key.display()
        );
    }
    stunnel(&service)
}

/// The Python of a virtual environment with `package` installed, under the workspace's
/// `target/peers` (shared with tests/peers/run.sh), made once if missing.
pub fn peer_python(package: &str, module: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/peers");
    std::fs::create_dir_all(&root).expect("target/peers");
    let venv = root.join(format!("venv-{package}"));
    let python = venv.join("bin/python");
    // One maker at a time across test processes.
    let lock = std::fs::File::create(root.join(format!(".venv-{package}.lock"))).expect("lock");
    // SAFETY: flock(2) on a descriptor we own; released when `lock` is closed.
    unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&lock), libc::LOCK_EX) };
    let works = || {
        Command::new(&python)
            .args(["-c", &format!("import {module}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !works() {
        let _ = std::fs::remove_dir_all(&venv);
        let made = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .is_ok_and(|s| s.success())
            && Command::new(venv.join("bin/pip"))
                .args(["install", "-q", package])
                .status()
                .is_ok_and(|s| s.success());
        assert!(made && works(), "cannot make a venv with {package}");
    }
    python
}

/// gear's server, `geard`, on TLS with the PKI's server certificate; it requires client
/// certificates signed by the PKI's CA.
pub fn geard_tls(pki: &Pki) -> Listener {
    let python = peer_python("gear", "gear");
    let dir = temp_dir("geard");
    let log = dir.join("geard.log");
    let mut command = Command::new(python.with_file_name("geard"));
    command
        .args(["-d", "-p", "0", "--listen-address", "127.0.0.1"])
        .arg(format!("--pidfile={}", dir.join("geard.pid").display()))
        .arg(format!("--ssl-ca={}", pki.ca.display()))
        .arg(format!("--ssl-cert={}", pki.server.cert.display()))
        .arg(format!("--ssl-key={}", pki.server.key.display()))
        .arg(format!(
            "--log-config={}",
            write_log_config(&dir, &log).display()
        ));
    Listener::start(command, dir, log)
}

/// A logging configuration that sends geard's debug log to `log`.
fn write_log_config(dir: &Path, log: &Path) -> PathBuf {
    let path = dir.join("logging.conf");
    let text = format!(
        "[loggers]\nkeys=root\n[handlers]\nkeys=file\n[formatters]\nkeys=plain\n\
         [logger_root]\nlevel=DEBUG\nhandlers=file\n\
         [handler_file]\nclass=FileHandler\nformatter=plain\nargs=('{}',)\n\
         [formatter_plain]\nformat=%(asctime)s %(name)s %(message)s\n",
        log.display()
    );
    std::fs::write(&path, text).expect("logging.conf");
    path
}
