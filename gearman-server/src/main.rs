//! `gearmand`: the job server binary.

use std::fs::File;
use std::io::Write;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gearman_server::engine::{Engine, EngineConfig};
use gearman_server::options::Options;
use gearman_server::server::{self, Keepalive, Limits, Stop};
use gearman_server::store::{
    self, Backend, MysqlOptions, MysqlStore, PostgresStore, RedisStore, SqliteStore, StoredJob,
};
use gearman_server::tls::{ServerTls, TlsFiles};
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::watch;

fn main() -> ExitCode {
    let options = match Options::from_env() {
        Ok(o) => o,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 1 } else { 0 });
        }
    };
    if options.version {
        println!(
            "\ngearmand {} - https://gearman.org",
            gearman_server::VERSION_STRING
        );
        return ExitCode::SUCCESS;
    }
    if let Err(e) = options.validate() {
        eprintln!("gearmand: {e}");
        return ExitCode::from(1);
    }
    if options.check_args {
        return ExitCode::SUCCESS;
    }
    match start(options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gearmand: {e}");
            tracing::error!("{e}");
            ExitCode::from(1)
        }
    }
}

/// A log destination that SIGHUP can reopen.
#[derive(Clone)]
struct LogFile {
    path: Option<PathBuf>,
    file: Arc<Mutex<Option<File>>>,
}

impl LogFile {
    fn open(spec: &str) -> Result<LogFile, String> {
        let path = match spec {
            "stderr" | "-" => None,
            "none" => Some(PathBuf::from("/dev/null")),
            path => Some(PathBuf::from(path)),
        };
        let log = LogFile {
            path,
            file: Arc::new(Mutex::new(None)),
        };
        log.reopen()?;
        Ok(log)
    }

    fn reopen(&self) -> Result<(), String> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("cannot open log file {}: {e}", path.display()))?;
        *self.file.lock().unwrap_or_else(|p| p.into_inner()) = Some(file);
        Ok(())
    }
}

impl Write for LogFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.file.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
            Some(file) => file.write(buf),
            None => std::io::stderr().write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn init_logging(options: &Options) -> Result<LogFile, String> {
    let log = LogFile::open(&options.log_file)?;
    let level = match options.level()? {
        "FATAL" | "ALERT" | "CRITICAL" | "ERROR" => "error",
        "WARNING" => "warn",
        "NOTICE" | "INFO" => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let writer = log.clone();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .try_init();
    Ok(log)
}

fn listen_addresses(options: &Options) -> Result<(Vec<SocketAddr>, bool), String> {
    let explicit = !options.listen.is_empty();
    let hosts: Vec<String> = if explicit {
        options.listen.clone()
    } else {
        vec!["127.0.0.1".into(), "::1".into()]
    };
    let mut addrs = Vec::new();
    for host in hosts {
        let resolved = (host.trim_matches(|c| c == '[' || c == ']'), options.port)
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve listen address {host:?}: {e}"))?;
        for addr in resolved {
            if !addrs.contains(&addr) {
                addrs.push(addr);
            }
        }
    }
    Ok((addrs, explicit))
}

fn bind(addr: SocketAddr, backlog: u32) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv6() {
        TcpSocket::new_v6()?
    } else {
        TcpSocket::new_v4()?
    };
    socket.set_reuseaddr(true)?;
    if addr.is_ipv6() {
        socket2::SockRef::from(&socket).set_only_v6(true)?;
    }
    socket.bind(addr)?;
    socket.listen(backlog)
}

fn raise_fd_limit(n: u64) {
    let limit = libc::rlimit {
        rlim_cur: n as libc::rlim_t,
        rlim_max: n as libc::rlim_t,
    };
    // SAFETY: setrlimit with a valid pointer to an rlimit.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
        tracing::warn!(limit = n, "cannot raise the open-file limit");
    }
}

fn switch_user(user: &str) -> Result<(), String> {
    let name = std::ffi::CString::new(user).map_err(|_| format!("bad user name {user:?}"))?;
    // SAFETY: getpwnam with a valid C string; the result is read before any other call.
    let pw = unsafe { libc::getpwnam(name.as_ptr()) };
    if pw.is_null() {
        return Err(format!("no such user {user:?}"));
    }
    let (uid, gid) = unsafe { ((*pw).pw_uid, (*pw).pw_gid) };
    // SAFETY: plain system calls.
    unsafe {
        if libc::getuid() == uid {
            return Ok(());
        }
        if libc::setgid(gid) != 0 || libc::setuid(uid) != 0 {
            return Err(format!(
                "cannot switch to user {user:?}: {}",
                std::io::Error::last_os_error()
            ));
        }
    }
    Ok(())
}

fn start(options: Options) -> Result<(), String> {
    if options.daemon {
        // SAFETY: no threads exist yet; the parent exits inside daemon().
        if unsafe { libc::daemon(1, 0) } != 0 {
            return Err(format!(
                "cannot daemonize: {}",
                std::io::Error::last_os_error()
            ));
        }
    }
    let log = init_logging(&options)?;
    if let Some(n) = options.file_descriptors {
        raise_fd_limit(n);
    }
    let threads = match options.threads {
        None => 1,
        Some(0) => std::thread::available_parallelism().map_or(1, |n| n.get()),
        Some(n) => n,
    };
    // One thread: a current-thread runtime, with no cross-thread wake-ups at all.
    let mut builder = if threads == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(threads);
        b
    };
    let runtime = builder
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(serve(options, log))
}

async fn serve(options: Options, log: LogFile) -> Result<(), String> {
    // Read before binding and before switching user: key files are often root's alone.
    let tls = server_tls(&options)?;
    let (addrs, explicit) = listen_addresses(&options)?;
    let mut listeners = Vec::new();
    for addr in addrs {
        match bind(addr, options.backlog) {
            Ok(l) => listeners.push(l),
            Err(e) if !explicit && addr.is_ipv6() => {
                tracing::warn!(%addr, error = %e, "IPv6 loopback unavailable; listening on IPv4 only")
            }
            Err(e) => return Err(format!("cannot listen on {addr}: {e}")),
        }
    }
    if listeners.is_empty() {
        return Err("no address to listen on".into());
    }
    let mut http_listeners = Vec::new();
    if options.protocol.is_some() {
        for gear in &listeners {
            let addr = gear.local_addr().map_err(|e| e.to_string())?;
            let addr = SocketAddr::new(addr.ip(), options.http_port);
            let listener = bind(addr, options.backlog)
                .map_err(|e| format!("cannot listen for HTTP on {addr}: {e}"))?;
            http_listeners.push(listener);
        }
    }
    // Bound with the others, before switching user: a privileged port needs it.
    let status_listener = match options.http_status.as_deref() {
        Some(text) => {
            let addr = gearman_server::status::parse_addr(text)?;
            Some(
                bind(addr, options.backlog)
                    .map_err(|e| format!("cannot listen for --http-status on {addr}: {e}"))?,
            )
        }
        None => None,
    };
    if let Some(user) = &options.user {
        switch_user(user)?;
    }
    let mut config = EngineConfig {
        job_retries: options.job_retries.max(0) as u32,
        worker_wakeup: options.worker_wakeup,
        exceptions: options.exceptions,
        verbose: options.level()?.to_string(),
        ..EngineConfig::default()
    };
    if let Some(prefix) = &options.job_handle_prefix {
        config.handle_prefix = prefix.clone();
    }
    let mut engine = Engine::new(config);
    if let Some((backend, stored)) = open_queue(&options).await? {
        let (count, name) = (stored.len(), backend.name());
        let times = store::CommitTimes::default();
        engine.set_commit_times(times.clone());
        engine.set_store(store::spawn(backend, times));
        for job in stored {
            engine.restore(job);
        }
        tracing::info!(jobs = count, queue = %name, "replayed stored background jobs");
    }
    if let Some(path) = &options.pid_file {
        std::fs::write(path, format!("{}\n", std::process::id()))
            .map_err(|e| format!("cannot write pid file {}: {e}", path.display()))?;
    }
    let limits = Limits {
        max_payload: options.max_packet_size,
        max_line: options.max_line_length,
        max_connections: options.max_connections,
        max_buffered: options.max_buffered_bytes,
        keepalive: options.keepalive.then(|| Keepalive {
            idle: secs(options.keepalive_idle),
            interval: secs(options.keepalive_interval),
            count: u32::try_from(options.keepalive_count)
                .ok()
                .filter(|&c| c > 0),
        }),
        tls: tls.clone(),
    };
    for l in &listeners {
        if let Ok(addr) = l.local_addr() {
            tracing::info!(%addr, "listening");
        }
    }
    for l in &http_listeners {
        if let Ok(addr) = l.local_addr() {
            tracing::info!(%addr, "listening (HTTP)");
        }
    }
    let (stop, _) = watch::channel(Stop::Running);
    let engine = Arc::new(Mutex::new(engine));
    if let Some(listener) = status_listener {
        if let Ok(addr) = listener.local_addr() {
            tracing::info!(%addr, "listening (status page and /metrics)");
        }
        tokio::spawn(gearman_server::status::serve(
            listener,
            engine.clone(),
            options.metrics_max_functions,
            stop.clone(),
        ));
    }
    tokio::spawn(signals(stop.clone(), log, tls));
    server::run(listeners, http_listeners, engine, limits, stop).await;
    if let Some(path) = &options.pid_file {
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}

fn secs(v: i64) -> Option<Duration> {
    u64::try_from(v)
        .ok()
        .filter(|&s| s > 0)
        .map(Duration::from_secs)
}

/// TLS as `--ssl` asks, its files read now: a file missing or wrong stops the server from
/// starting (never plaintext in its place).
fn server_tls(options: &Options) -> Result<Option<Arc<ServerTls>>, String> {
    if !options.ssl {
        if options.ssl_certificate.is_some()
            || options.ssl_key.is_some()
            || options.ssl_ca_file.is_some()
        {
            tracing::warn!(
                "--ssl-certificate, --ssl-key and --ssl-ca-file have no effect without --ssl"
            );
        }
        return Ok(None);
    }
    let files = TlsFiles::resolve(
        options.ssl_certificate.clone(),
        options.ssl_key.clone(),
        options.ssl_ca_file.clone(),
    );
    let tls = ServerTls::new(
        files.clone(),
        Duration::from_secs(options.ssl_handshake_timeout),
    )?;
    tracing::info!(
        certificate = %files.certificate.display(),
        key = %files.key.display(),
        client_certificates = %files.ca_file.as_ref().map_or("not asked".to_string(), |ca| format!("required, signed by {}", ca.display())),
        "TLS on every listener"
    );
    Ok(Some(Arc::new(tls)))
}

async fn signals(stop: watch::Sender<Stop>, log: LogFile, tls: Option<Arc<ServerTls>>) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int), Ok(mut usr1), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::user_defined1()),
        signal(SignalKind::hangup()),
    ) else {
        tracing::error!("cannot install signal handlers");
        return;
    };
    loop {
        tokio::select! {
            _ = term.recv() => { let _ = stop.send(Stop::Now); }
            _ = int.recv() => { let _ = stop.send(Stop::Now); }
            _ = usr1.recv() => { let _ = stop.send(Stop::Graceful); }
            _ = hup.recv() => {
                if let Err(e) = log.reopen() {
                    tracing::error!("{e}");
                } else {
                    tracing::info!("log file reopened");
                }
                if let Some(tls) = &tls {
                    match tls.reload() {
                        Ok(()) => tracing::info!("TLS certificate and key reloaded"),
                        Err(e) => tracing::error!("TLS reload failed, keeping the old certificate: {e}"),
                    }
                }
            }
        }
    }
}

/// The durable queue `-q` asks for, opened and read (every stored job) on a blocking thread,
/// since both are blocking I/O; None for the in-memory queue.
async fn open_queue(
    options: &Options,
) -> Result<Option<(Box<dyn Backend>, Vec<StoredJob>)>, String> {
    let options = options.clone();
    let opened = tokio::task::spawn_blocking(move || {
        let Some(mut backend) = open_backend(&options)? else {
            return Ok(None);
        };
        let stored = backend
            .load()
            .map_err(|e| format!("{}: {e}", backend.name()))?;
        Ok(Some((backend, stored)))
    });
    opened.await.map_err(|e| format!("queue: {e}"))?
}

/// Connects to the queue `-q` names; None for the in-memory queue.
fn open_backend(options: &Options) -> Result<Option<Box<dyn Backend>>, String> {
    let store: Box<dyn Backend> = match options.queue_type.to_ascii_lowercase().as_str() {
        "builtin" => return Ok(None),
        "postgres" | "libpq" | "postgresql" => {
            let conninfo = options
                .libpq_conninfo
                .as_deref()
                .ok_or("-q Postgres needs --libpq-conninfo")?;
            Box::new(PostgresStore::open(conninfo, &options.libpq_table)?)
        }
        "mysql" => Box::new(MysqlStore::open(&MysqlOptions {
            host: &options.mysql_host,
            port: options.mysql_port,
            user: &options.mysql_user,
            password: &options.mysql_password,
            db: &options.mysql_db,
            table: &options.mysql_table,
        })?),
        "redis" => Box::new(RedisStore::open(
            &options.redis_server,
            options.redis_port,
            options.redis_password.as_deref(),
            &options.redis_prefix,
        )?),
        _ => {
            let path = options
                .sqlite_db
                .as_ref()
                .ok_or("-q libsqlite3 needs --libsqlite3-db FILE")?;
            Box::new(SqliteStore::open(path, &options.sqlite_table).map_err(|e| e.to_string())?)
        }
    };
    Ok(Some(store))
}
