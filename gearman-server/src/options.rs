//! gearmand's command line: the options, the config file, and what they turn into.

use std::path::PathBuf;

use clap::Parser;

/// The verbosity names gearmand knows, lowest first.
pub const LEVELS: [&str; 8] = [
    "FATAL", "ALERT", "CRITICAL", "ERROR", "WARNING", "NOTICE", "INFO", "DEBUG",
];

#[derive(Parser, Debug, Clone)]
#[command(
    name = "gearmand",
    disable_version_flag = true,
    args_override_self = true,
    about = "Gearman job server (gearman-rs), compatible with gearmand 1.1",
    after_help = "Unlike gearmand, the default is to listen on loopback only (127.0.0.1 and ::1);\n\
                  pass -L 0.0.0.0 (or -L ::) to accept connections from other hosts."
)]
pub struct Options {
    /// Port to listen on (default 4730, or GEARMAND_PORT).
    #[arg(
        short = 'p',
        long = "port",
        env = "GEARMAND_PORT",
        default_value_t = 4730
    )]
    pub port: u16,
    /// Address to listen on; repeatable (default: 127.0.0.1 and ::1).
    #[arg(short = 'L', long = "listen", value_name = "ADDRESS")]
    pub listen: Vec<String>,
    /// Detach and run in the background.
    #[arg(short = 'd', long = "daemon")]
    pub daemon: bool,
    /// Write the process id to this file.
    #[arg(short = 'P', long = "pid-file", value_name = "FILE")]
    pub pid_file: Option<PathBuf>,
    /// Log file; `stderr` (default) or `none` are accepted.
    #[arg(
        short = 'l',
        long = "log-file",
        value_name = "FILE",
        default_value = "stderr"
    )]
    pub log_file: String,
    /// Log level: FATAL ALERT CRITICAL ERROR WARNING NOTICE INFO DEBUG.
    #[arg(long = "verbose", value_name = "LEVEL")]
    pub verbose: Option<String>,
    /// Raise verbosity one level per use (legacy; `gearmand -d -v` works).
    #[arg(short = 'v', action = clap::ArgAction::Count)]
    pub more_verbose: u8,
    /// Threads (default 1: one thread serves everything, with no cross-thread wake-ups; 0 = one
    /// per CPU).
    #[arg(short = 't', long = "threads", value_name = "N")]
    pub threads: Option<usize>,
    /// Drop a job after it was lost by this many workers (0 or -1 = never).
    #[arg(
        short = 'j',
        long = "job-retries",
        value_name = "N",
        default_value_t = 0,
        allow_hyphen_values = true
    )]
    pub job_retries: i64,
    /// NOOPs sent per queued job (0 = all sleeping workers).
    #[arg(
        short = 'w',
        long = "worker-wakeup",
        value_name = "N",
        default_value_t = 0
    )]
    pub worker_wakeup: usize,
    /// Job handle prefix (default H:<hostname>).
    #[arg(long = "job-handle-prefix", value_name = "PREFIX")]
    pub job_handle_prefix: Option<String>,
    /// Queue type: builtin (memory only), libsqlite3 (also `sqlite`), MySQL, Postgres or redis.
    #[arg(
        short = 'q',
        long = "queue-type",
        value_name = "TYPE",
        default_value = "builtin"
    )]
    pub queue_type: String,
    /// SQLite database file for `-q sqlite`.
    #[arg(long = "sqlite-db", alias = "libsqlite3-db", value_name = "FILE")]
    pub sqlite_db: Option<PathBuf>,
    /// SQLite table name.
    #[arg(
        long = "sqlite-table",
        alias = "libsqlite3-table",
        value_name = "NAME",
        default_value = "gearman_queue"
    )]
    pub sqlite_table: String,
    /// PostgreSQL connection string for `-q Postgres` (libpq's `host=… port=… user=…
    /// dbname=…`, or a `postgresql://` URL).
    #[arg(long = "libpq-conninfo", value_name = "CONNINFO")]
    pub libpq_conninfo: Option<String>,
    /// PostgreSQL table for `-q Postgres`.
    #[arg(long = "libpq-table", value_name = "NAME", default_value = "queue")]
    pub libpq_table: String,
    /// MySQL / MariaDB host for `-q MySQL`.
    #[arg(long = "mysql-host", value_name = "HOST", default_value = "localhost")]
    pub mysql_host: String,
    /// MySQL port for `-q MySQL`.
    #[arg(long = "mysql-port", value_name = "PORT", default_value_t = 3306)]
    pub mysql_port: u16,
    /// MySQL user for `-q MySQL`.
    #[arg(long = "mysql-user", value_name = "USER", default_value = "")]
    pub mysql_user: String,
    /// MySQL password for `-q MySQL`.
    #[arg(long = "mysql-password", value_name = "PASSWORD", default_value = "")]
    pub mysql_password: String,
    /// MySQL database for `-q MySQL`.
    #[arg(long = "mysql-db", value_name = "DB", default_value = "")]
    pub mysql_db: String,
    /// MySQL table for `-q MySQL`.
    #[arg(
        long = "mysql-table",
        value_name = "NAME",
        default_value = "gearman_queue"
    )]
    pub mysql_table: String,
    /// Redis server for `-q redis`.
    #[arg(
        long = "redis-server",
        value_name = "HOST",
        default_value = "127.0.0.1"
    )]
    pub redis_server: String,
    /// Redis port for `-q redis`.
    #[arg(long = "redis-port", value_name = "PORT", default_value_t = 6379)]
    pub redis_port: u16,
    /// Redis password for `-q redis`.
    #[arg(long = "redis-password", value_name = "PASSWORD")]
    pub redis_password: Option<String>,
    /// Prefix of the Redis keys of `-q redis` (gearmand's default).
    #[arg(long = "redis-prefix", value_name = "PREFIX", default_value = "_gear_")]
    pub redis_prefix: String,
    /// Accepted for compatibility; jobs are always written when submitted.
    #[arg(long = "store-queue-on-shutdown")]
    pub store_queue_on_shutdown: bool,
    /// Read long options from this file (default /etc/gearmand.conf if it exists).
    #[arg(long = "config-file", value_name = "FILE")]
    pub config_file: Option<PathBuf>,
    /// Listen backlog.
    #[arg(short = 'b', long = "backlog", default_value_t = 32)]
    pub backlog: u32,
    /// Enable TCP keepalive.
    #[arg(long = "keepalive")]
    pub keepalive: bool,
    /// Keepalive idle seconds.
    #[arg(long = "keepalive-idle", default_value_t = -1, allow_hyphen_values = true)]
    pub keepalive_idle: i64,
    /// Keepalive interval seconds.
    #[arg(long = "keepalive-interval", default_value_t = -1, allow_hyphen_values = true)]
    pub keepalive_interval: i64,
    /// Keepalive probe count.
    #[arg(long = "keepalive-count", default_value_t = -1, allow_hyphen_values = true)]
    pub keepalive_count: i64,
    /// Forward WORK_EXCEPTION to every client by default.
    #[arg(long = "exceptions")]
    pub exceptions: bool,
    /// Round-robin across a worker's functions (always on; accepted for compatibility).
    #[arg(short = 'R', long = "round-robin")]
    pub round_robin: bool,
    /// Raise the open-file limit to N.
    #[arg(short = 'f', long = "file-descriptors", value_name = "N")]
    pub file_descriptors: Option<u64>,
    /// Switch to this user after binding.
    #[arg(short = 'u', long = "user", value_name = "USER")]
    pub user: Option<String>,
    /// Protocol plugin: `http` adds gearmand's HTTP protocol (POST /FUNCTION runs a job) on
    /// --http-port, on the same addresses as the Gearman port.
    #[arg(short = 'r', long = "protocol", value_name = "NAME")]
    pub protocol: Option<String>,
    /// Monitoring listener: /metrics (Prometheus), /status.json and a live status page at /.
    /// ADDR:PORT, or a port alone for loopback. Off unless given.
    #[arg(long = "http-status", value_name = "ADDR:PORT")]
    pub http_status: Option<String>,
    /// Most functions /metrics reports one by one; the rest are summed as `_other`.
    #[arg(
        long = "metrics-max-functions",
        value_name = "N",
        default_value_t = 100
    )]
    pub metrics_max_functions: usize,
    /// Port of the HTTP protocol (with -r http).
    #[arg(long = "http-port", value_name = "PORT", default_value_t = crate::http::DEFAULT_PORT)]
    pub http_port: u16,
    /// Every listener speaks TLS only (never plaintext beside it). Without --ssl-ca-file,
    /// clients need no certificate; with it, each must present one signed by that CA.
    #[arg(long = "ssl")]
    pub ssl: bool,
    /// PEM certificate chain of the server [env GEARMAND_SERVER_PEM, else
    /// /etc/ssl/certs/gearmand.pem]. Reloaded on SIGHUP.
    #[arg(long = "ssl-certificate", value_name = "FILE")]
    pub ssl_certificate: Option<PathBuf>,
    /// PEM private key of the certificate [env GEARMAND_SERVER_KEY, else
    /// /etc/ssl/certs/gearmand.key]. Reloaded on SIGHUP.
    #[arg(long = "ssl-key", value_name = "FILE")]
    pub ssl_key: Option<PathBuf>,
    /// PEM CA certificates: clients must present a certificate signed by one (mutual TLS)
    /// [env GEARMAND_CA_CERTIFICATE; unset: no client certificate asked].
    #[arg(long = "ssl-ca-file", value_name = "FILE")]
    pub ssl_ca_file: Option<PathBuf>,
    /// Seconds a new connection has to complete its TLS handshake.
    #[arg(
        long = "ssl-handshake-timeout",
        value_name = "SECONDS",
        default_value_t = 10
    )]
    pub ssl_handshake_timeout: u64,
    /// Accepted for compatibility; ignored.
    #[arg(long = "syslog")]
    pub syslog: bool,
    /// Accepted for compatibility; ignored.
    #[arg(long = "coredump")]
    pub coredump: bool,
    /// Accepted for compatibility; ignored (tables grow on demand).
    #[arg(long = "hashtable-buckets", value_name = "N")]
    pub hashtable_buckets: Option<u64>,
    /// Largest packet payload accepted, in bytes.
    #[arg(long = "max-packet-size", value_name = "BYTES", default_value_t = gearman_core::protocol::DEFAULT_MAX_PAYLOAD)]
    pub max_packet_size: usize,
    /// Longest admin command line accepted, in bytes.
    #[arg(long = "max-line-length", value_name = "BYTES", default_value_t = gearman_core::protocol::DEFAULT_MAX_LINE)]
    pub max_line_length: usize,
    /// Most connections served at once.
    #[arg(long = "max-connections", value_name = "N", default_value_t = 65_536)]
    pub max_connections: usize,
    /// Most bytes all connections together may hold in large packets (1 MiB or more) still
    /// arriving; a packet beyond it is refused with ERROR and its connection closed.
    #[arg(long = "max-buffered-bytes", value_name = "BYTES", default_value_t = crate::server::DEFAULT_MAX_BUFFERED)]
    pub max_buffered_bytes: usize,
    /// Print the version and exit.
    #[arg(short = 'V', long = "version")]
    pub version: bool,
    /// Validate the options and exit.
    #[arg(long = "check-args", hide = true)]
    pub check_args: bool,
}

impl Options {
    /// Parses the process arguments, with a config file's options placed first.
    pub fn from_env() -> Result<Options, clap::Error> {
        let args: Vec<String> = std::env::args().collect();
        Options::try_parse_from(
            with_config_file(args)
                .map_err(|e| clap::Error::raw(clap::error::ErrorKind::Io, format!("{e}\n")))?,
        )
    }

    /// The effective verbosity name (one of [`LEVELS`]).
    pub fn level(&self) -> Result<&'static str, String> {
        let base = match &self.verbose {
            None => 3,
            Some(name) => LEVELS
                .iter()
                .position(|l| l.eq_ignore_ascii_case(name))
                .ok_or_else(|| {
                    format!(
                        "unknown --verbose level {name:?}; use one of {}",
                        LEVELS.join(" ")
                    )
                })?,
        };
        Ok(LEVELS[(base + self.more_verbose as usize).min(LEVELS.len() - 1)])
    }

    /// Checks combinations that cannot work.
    pub fn validate(&self) -> Result<(), String> {
        if self.ssl && self.ssl_handshake_timeout == 0 {
            return Err("--ssl-handshake-timeout must be at least 1 second".into());
        }
        if let Some(p) = self
            .protocol
            .as_ref()
            .filter(|p| !p.eq_ignore_ascii_case("http"))
        {
            return Err(format!(
                "--protocol {p}: no such protocol plugin (this build has http)"
            ));
        }
        match self.queue_type.to_ascii_lowercase().as_str() {
            "builtin" => {}
            "sqlite" | "libsqlite3" | "sqlite3" => {
                if self.sqlite_db.is_none() {
                    return Err("-q sqlite needs --sqlite-db FILE".into());
                }
            }
            "redis" | "mysql" => {}
            "postgres" | "libpq" | "postgresql" => {
                if self.libpq_conninfo.is_none() {
                    return Err("-q Postgres needs --libpq-conninfo".into());
                }
            }
            other => {
                return Err(format!(
                    "queue type {other:?} is not supported (builtin, libsqlite3, MySQL, Postgres, redis)"
                ))
            }
        }
        self.level()?;
        Ok(())
    }
}

/// Prepends the options found in the config file (`--config-file F`, `@F`, or
/// `/etc/gearmand.conf` if it exists) to the command line.
fn with_config_file(args: Vec<String>) -> Result<Vec<String>, String> {
    let mut explicit = None;
    let mut rest = Vec::with_capacity(args.len());
    let mut iter = args.into_iter();
    if let Some(program) = iter.next() {
        rest.push(program);
    }
    while let Some(arg) = iter.next() {
        if let Some(path) = arg.strip_prefix("--config-file=") {
            explicit = Some(path.to_string());
        } else if arg == "--config-file" {
            explicit = iter.next();
        } else if let Some(path) = arg.strip_prefix('@') {
            explicit = Some(path.to_string());
        } else {
            rest.push(arg);
        }
    }
    let (path, required) = match explicit {
        Some(p) => (PathBuf::from(p), true),
        None => (PathBuf::from("/etc/gearmand.conf"), false),
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(_) if !required => return Ok(rest),
        Err(e) => return Err(format!("cannot read config file {}: {e}", path.display())),
    };
    let from_file: Vec<String> = text
        .lines()
        .map(|l| l.split('#').next().unwrap_or(""))
        .flat_map(str::split_whitespace)
        .map(str::to_string)
        .collect();
    let mut merged = vec![rest.remove(0)];
    merged.extend(from_file);
    merged.extend(rest);
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_v_raises_the_level() {
        let o = Options::try_parse_from(["gearmand", "-d", "-v", "-p", "5"]).unwrap();
        assert_eq!(o.level().unwrap(), "WARNING");
        let o = Options::try_parse_from(["gearmand", "--verbose=INFO", "-vv"]).unwrap();
        assert_eq!(o.level().unwrap(), "DEBUG");
        let o = Options::try_parse_from(["gearmand", "--verbose", "bogus"]).unwrap();
        assert!(o.level().is_err());
    }

    #[test]
    fn config_file_options_come_first() {
        let dir = std::env::temp_dir().join(format!("gearmand-conf-{}", std::process::id()));
        std::fs::write(&dir, "--port=4999 # comment\n--job-retries=3\n").unwrap();
        let args = vec![
            "gearmand".to_string(),
            format!("--config-file={}", dir.display()),
            "-j".into(),
            "5".into(),
        ];
        let o = Options::try_parse_from(with_config_file(args).unwrap()).unwrap();
        assert_eq!((o.port, o.job_retries), (4999, 5));
        std::fs::remove_file(&dir).unwrap();
        let missing = vec![
            "gearmand".to_string(),
            "--config-file=/nonexistent/x".into(),
        ];
        assert!(with_config_file(missing).is_err());
    }

    #[test]
    fn refuses_what_it_cannot_do() {
        let o =
            Options::try_parse_from(["gearmand", "--ssl", "--ssl-handshake-timeout=0"]).unwrap();
        assert!(o.validate().unwrap_err().contains("handshake"));
        let o = Options::try_parse_from(["gearmand", "-q", "sqlite"]).unwrap();
        assert!(o.validate().is_err());
        let o = Options::try_parse_from(["gearmand", "-q", "Postgres"]).unwrap();
        assert!(o.validate().unwrap_err().contains("--libpq-conninfo"));
        let o = Options::try_parse_from(["gearmand", "-q", "libmemcached"]).unwrap();
        assert!(o.validate().unwrap_err().contains("not supported"));
        for queue in ["redis", "MySQL", "builtin"] {
            let o = Options::try_parse_from(["gearmand", "-q", queue]).unwrap();
            assert!(o.validate().is_ok(), "{queue}");
        }
    }
}
