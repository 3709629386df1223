//! Shared pieces of the `gearman` and `gearadmin` tools.

use std::io::Write;
use std::path::{Path, PathBuf};

use gearman_core::{Error, ServerAddr, TlsConnector, TlsOptions, DEFAULT_PORT};

/// The TLS options both tools take: `-S` as in the C tools, and the certificate paths, which
/// the C tools only read from the environment (`GEARMAND_CA_CERTIFICATE`,
/// `GEARMAN_CLIENT_PEM`, `GEARMAN_CLIENT_KEY`; those still apply when an option is not given).
#[derive(clap::Args, Debug, Clone)]
pub struct TlsArgs {
    /// Connect with TLS. The server's certificate is checked against the CA file, or the
    /// system's roots when there is none.
    #[arg(short = 'S', long = "ssl")]
    pub ssl: bool,
    /// CA certificates (PEM) for the server's certificate [env GEARMAND_CA_CERTIFICATE, else
    /// /etc/ssl/certs/gearmand-ca.pem if it exists, else the system's roots].
    #[arg(long = "ssl-ca-file", value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Client certificate (PEM), for servers that require one [env GEARMAN_CLIENT_PEM, else
    /// /etc/ssl/certs/gearman.pem if it exists].
    #[arg(long = "ssl-certificate", value_name = "FILE")]
    pub certificate: Option<PathBuf>,
    /// Key of the client certificate (PEM) [env GEARMAN_CLIENT_KEY, else
    /// /etc/ssl/certs/gearman.key if it exists].
    #[arg(long = "ssl-key", value_name = "FILE")]
    pub key: Option<PathBuf>,
}

impl TlsArgs {
    /// The connector `-S` asks for, its files read now; `None` without `-S`.
    pub fn connector(&self) -> Result<Option<TlsConnector>, String> {
        if !self.ssl {
            if self.ca_file.is_some() || self.certificate.is_some() || self.key.is_some() {
                return Err("--ssl-ca-file, --ssl-certificate and --ssl-key need -S".into());
            }
            return Ok(None);
        }
        TlsOptions::new(
            self.ca_file.clone(),
            self.certificate.clone(),
            self.key.clone(),
        )
        .connector()
        .map(Some)
        .map_err(|e| e.to_string())
    }
}

/// Resolves the servers the way the C tools do: `-h`/`-p` win; otherwise `GEARMAN_SERVERS`
/// (libgearman) or `GEARMAN_SERVER` (the tool); otherwise localhost:4730.
pub fn servers(host: Option<&str>, port: Option<u16>) -> Result<Vec<ServerAddr>, Error> {
    if host.is_some() || port.is_some() {
        let host = host.unwrap_or("localhost");
        let port = port.unwrap_or(DEFAULT_PORT);
        return Ok(vec![ServerAddr::new(host, port)]);
    }
    for var in ["GEARMAN_SERVERS", "GEARMAN_SERVER"] {
        if let Ok(list) = std::env::var(var) {
            if !list.trim().is_empty() {
                return ServerAddr::parse_list(&list);
            }
        }
    }
    Ok(vec![ServerAddr::new("localhost", DEFAULT_PORT)])
}

/// Parses a port given as a number or a service name (`gearman` = 4730).
pub fn parse_port(text: &str) -> Result<u16, String> {
    match text {
        "gearman" => Ok(DEFAULT_PORT),
        _ => text.parse().map_err(|_| format!("invalid port {text:?}")),
    }
}

/// Writes the current process id to `path`.
pub fn write_pid_file(path: &Path) -> std::io::Result<()> {
    let mut file = std::fs::File::create(path)?;
    writeln!(file, "{}", std::process::id())
}

/// Detaches from the terminal (fork, setsid), keeping the working directory.
pub fn daemonize() -> std::io::Result<()> {
    // SAFETY: called before any thread or runtime exists; daemon() forks and the parent exits.
    let rc = unsafe { libc::daemon(1, 0) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Sends `tracing` output to stderr, quiet unless `RUST_LOG` asks for more.
pub fn init_logging(verbose: bool) {
    let default = if verbose { "info" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Parses the command line; on a usage error prints it and exits 1 (the C tools' status).
/// Returns `None` after printing the help when `help` says it was asked for.
pub fn parse_args<T: clap::Parser + clap::CommandFactory>(help: impl Fn(&T) -> bool) -> Option<T> {
    let args = match T::try_parse() {
        Ok(args) => args,
        Err(e) => {
            let _ = e.print();
            std::process::exit(1);
        }
    };
    if help(&args) {
        let _ = T::command().print_help();
        return None;
    }
    Some(args)
}
