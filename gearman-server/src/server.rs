//! Listeners and connections: bytes in, engine calls, bytes out.

use std::collections::VecDeque;
use std::ops::{Deref, DerefMut};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use gearman_core::message::{Request, Response};
use gearman_core::protocol::{Decoder, Frame, ProtocolError};
use tokio::io::AsyncReadExt;
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

use crate::engine::{ConnId, Engine, Next};
use crate::frame_budget::{FrameBudget, FrameClaim};
use crate::output::{FlushOnDrop, Output, Sink, WriterStep};
use crate::transport::{self, Transport};

/// Limits applied to every connection.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest packet payload accepted.
    pub max_payload: usize,
    /// Longest admin line accepted.
    pub max_line: usize,
    /// Most connections served at once.
    pub max_connections: usize,
    /// Most bytes all connections together may claim for large frames still arriving.
    pub max_buffered: usize,
    /// TCP keepalive idle time, if enabled.
    pub keepalive: Option<Keepalive>,
    /// TLS on every listener, when `--ssl` is given.
    pub tls: Option<Arc<crate::tls::ServerTls>>,
}

#[derive(Debug, Clone, Copy)]
pub struct Keepalive {
    pub idle: Option<Duration>,
    pub interval: Option<Duration>,
    pub count: Option<u32>,
}

/// `--max-buffered-bytes`' default.
pub const DEFAULT_MAX_BUFFERED: usize = 1024 * 1024 * 1024;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_payload: gearman_core::protocol::DEFAULT_MAX_PAYLOAD,
            max_line: gearman_core::protocol::DEFAULT_MAX_LINE,
            max_connections: 65_536,
            max_buffered: DEFAULT_MAX_BUFFERED,
            keepalive: None,
            tls: None,
        }
    }
}

/// How the server was asked to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    Running,
    /// Close every connection now.
    Now,
    /// Stop accepting; exit once no job remains.
    Graceful,
}

/// The shared engine.
pub type SharedEngine = Arc<Mutex<Engine>>;

/// The engine, locked. When the guard goes, the lock is released first and then everything
/// the engine queued for any connection meanwhile is written out: no caller can forget to.
pub struct EngineGuard<'a> {
    // Fields drop in order: unlock, then flush.
    engine: MutexGuard<'a, Engine>,
    _flush: FlushOnDrop,
}

impl Deref for EngineGuard<'_> {
    type Target = Engine;
    fn deref(&self) -> &Engine {
        &self.engine
    }
}

impl DerefMut for EngineGuard<'_> {
    fn deref_mut(&mut self) -> &mut Engine {
        &mut self.engine
    }
}

/// Locks the engine.
///
/// A poisoned lock means a connection task panicked in the middle of an engine call. The
/// engine's state is kept and used: its maps stay structurally sound (every operation only
/// inserts, removes or updates entries, and its counters saturate), so the worst left behind
/// is one stale entry, whereas refusing the state would lose every queued job of every client.
/// The panicking connection is then disconnected like any other ([`ConnectionGuard`]), which
/// requeues the jobs it ran. The poison is cleared so that this is logged once per panic.
pub fn lock(engine: &SharedEngine) -> EngineGuard<'_> {
    let engine = engine.lock().unwrap_or_else(|poisoned| {
        tracing::error!("a connection panicked inside the engine; carrying on with its state");
        engine.clear_poison();
        poisoned.into_inner()
    });
    EngineGuard {
        engine,
        _flush: FlushOnDrop,
    }
}

/// A connection's registration with the engine: made by [`ConnectionGuard::connect`], undone
/// when the guard drops, on every exit path of the connection's task, a panic or an abort
/// included. Disconnecting requeues what the connection ran and detaches it from what it
/// waited on; then its output is closed.
pub struct ConnectionGuard {
    engine: SharedEngine,
    id: ConnId,
    out: Arc<dyn Sink>,
}

impl ConnectionGuard {
    /// Registers connection `id` with the engine.
    pub fn connect(
        engine: &SharedEngine,
        id: ConnId,
        fd: i32,
        peer: std::net::SocketAddr,
        out: Arc<dyn Sink>,
    ) -> ConnectionGuard {
        lock(engine).connect(id, fd, peer, out.clone());
        ConnectionGuard {
            engine: engine.clone(),
            id,
            out,
        }
    }
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        lock(&self.engine).disconnect(self.id);
        self.out.close();
    }
}

/// Serves `listeners` until `stop` says otherwise (or a loopback admin sends `shutdown`).
/// `http_listeners` serve gearmand's HTTP protocol (see [`crate::http`]).
pub async fn run(
    listeners: Vec<TcpListener>,
    http_listeners: Vec<TcpListener>,
    engine: SharedEngine,
    limits: Limits,
    stop: watch::Sender<Stop>,
) {
    let frames = FrameBudget::new(limits.max_buffered);
    let limits = Arc::new(limits);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let next_id = Arc::new(AtomicU64::new(1));
    let mut tasks = JoinSet::new();
    tasks.spawn(timers(engine.clone(), stop.subscribe()));
    let stop = Arc::new(stop);
    for listener in listeners {
        tasks.spawn(accept_loop(
            listener,
            engine.clone(),
            limits.clone(),
            frames.clone(),
            slots.clone(),
            next_id.clone(),
            stop.clone(),
        ));
    }
    for listener in http_listeners {
        tasks.spawn(crate::http::accept_loop(
            listener,
            engine.clone(),
            limits.clone(),
            slots.clone(),
            next_id.clone(),
            stop.clone(),
        ));
    }
    let mut state = stop.subscribe();
    loop {
        if *state.borrow_and_update() != Stop::Running {
            break;
        }
        if state.changed().await.is_err() {
            break;
        }
    }
    if *state.borrow() == Stop::Graceful {
        tracing::info!("graceful shutdown: waiting for queued and running jobs");
        while lock(&engine).job_count() > 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = stop.send(Stop::Now);
    }
    tasks.shutdown().await;
    tracing::info!("server stopped");
}

async fn accept_loop(
    listener: TcpListener,
    engine: SharedEngine,
    limits: Arc<Limits>,
    frames: Arc<FrameBudget>,
    slots: Arc<Semaphore>,
    next_id: Arc<AtomicU64>,
    stop: Arc<watch::Sender<Stop>>,
) {
    let stopper = stop.clone();
    accept_each(listener, slots, &stopper, move |stream, _peer| {
        let id = next_id.fetch_add(1, Ordering::Relaxed);
        let (engine, limits, stop) = (engine.clone(), limits.clone(), stop.clone());
        let claim = FrameClaim::new(frames.clone());
        async move { serve(stream, id, engine, &limits, claim, &stop).await }
    })
    .await;
}

/// Accepts connections on `listener`, each holding one of `slots` while `serve` runs it, until
/// the server stops accepting; then waits, with the connections going on, until it stops for
/// good. Shared by the Gearman, HTTP and monitoring listeners.
pub(crate) async fn accept_each<F, Fut>(
    listener: TcpListener,
    slots: Arc<Semaphore>,
    stop: &watch::Sender<Stop>,
    serve: F,
) where
    F: Fn(TcpStream, std::net::SocketAddr) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let mut stopping = stop.subscribe();
    let mut connections = JoinSet::new();
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stopping.changed() => break,
        };
        match accepted {
            Ok((stream, peer)) => {
                let served = serve(stream, peer);
                connections.spawn(async move {
                    served.await;
                    drop(permit);
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        while connections.try_join_next().is_some() {}
    }
    // Stop accepting; connections go on until the server stops for good.
    drop(listener);
    while *stopping.borrow() != Stop::Now {
        if stopping.changed().await.is_err() {
            break;
        }
    }
    connections.shutdown().await;
}

async fn timers(engine: SharedEngine, mut stop: watch::Receiver<Stop>) {
    let notify = lock(&engine).timer_notify();
    loop {
        let next = lock(&engine).next_timer();
        let sleep = async {
            match next {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = sleep => {}
            _ = notify.notified() => {}
            _ = stop.changed() => if *stop.borrow() == Stop::Now { return },
        }
        lock(&engine).fire_timers();
    }
}

fn configure(stream: &TcpStream, limits: &Limits) {
    if let Err(e) = stream.set_nodelay(true) {
        tracing::warn!(error = %e, "cannot set TCP_NODELAY");
    }
    if let Some(k) = limits.keepalive {
        let mut params = socket2::TcpKeepalive::new();
        if let Some(idle) = k.idle {
            params = params.with_time(idle);
        }
        if let Some(interval) = k.interval {
            params = params.with_interval(interval);
        }
        if let Some(count) = k.count {
            params = params.with_retries(count);
        }
        if let Err(e) = socket2::SockRef::from(stream).set_tcp_keepalive(&params) {
            tracing::warn!(error = %e, "cannot set TCP keepalive");
        }
    }
}

/// Serves one connection until it closes, errs, or the server stops.
async fn serve(
    stream: TcpStream,
    id: ConnId,
    engine: SharedEngine,
    limits: &Limits,
    mut frame_claim: FrameClaim,
    stop: &watch::Sender<Stop>,
) {
    configure(&stream, limits);
    let Ok(peer) = stream.peer_addr() else { return };
    let (stream, session) = match &limits.tls {
        Some(tls) => match tls.accept(stream, peer).await {
            Some((stream, session)) => (stream, Some(session)),
            None => return,
        },
        None => (stream, None),
    };
    let fd = stream.as_raw_fd();
    let (mut reader, writer) = stream.into_split();
    let writer = Arc::new(writer);
    let out = Output::new(match &session {
        Some(session) => Transport::Tls {
            socket: writer,
            session: session.clone(),
        },
        None => Transport::Plain(writer),
    });
    // TLS records read from the socket and not yet given to the session.
    let mut records = BytesMut::new();
    let registration = ConnectionGuard::connect(&engine, id, fd, peer, out.clone());
    tracing::debug!(conn = id, %peer, "connected");
    let mut writer = tokio::spawn(write_loop(out.clone()));
    let mut stopping = stop.subscribe();
    let decoder = Decoder::for_server()
        .max_payload(limits.max_payload)
        .max_line(limits.max_line);
    let mut buf = BytesMut::with_capacity(16 * 1024);
    let mut held = None;
    // Stored jobs of this connection awaiting their commit, oldest first. Reading goes on
    // meanwhile, and further background submissions join the next commit; anything else waits
    // until these are answered, so replies keep their order.
    let mut stored = StoreWaits::new();
    'conn: loop {
        // Handle everything buffered, pausing whenever a stored job awaits its commit.
        loop {
            let progress = handle_buffered(
                &engine,
                id,
                &decoder,
                &mut buf,
                &mut held,
                &out,
                &mut stored,
            );
            match progress {
                Progress::NeedMore => break,
                Progress::Yield => tokio::task::yield_now().await,
                Progress::Paused => settle_all(&engine, &mut stored).await,
                Progress::Close => break 'conn,
                Progress::Shutdown(graceful) => {
                    settle_all(&engine, &mut stored).await;
                    let _ = stop.send(if graceful { Stop::Graceful } else { Stop::Now });
                    if !graceful {
                        break 'conn;
                    }
                }
            }
        }
        // What is left is the start of a frame: a large one must fit the servers' budget.
        if !frame_claim.cover(&buf) {
            tracing::warn!(
                conn = id,
                "too much data in large frames still arriving; refusing a frame"
            );
            out.send(&Response::Error {
                code: &b"MEMORY_ALLOCATION_FAILURE"[..],
                text: &b"The server holds too much data in large packets still arriving; try again later"[..],
            });
            break;
        }
        if buf.capacity() - buf.len() < 4096 {
            if let Err(e) = gearman_core::protocol::try_reserve(&mut buf, 16 * 1024) {
                tracing::warn!(conn = id, bytes = buf.len(), error = %e, "cannot grow the read buffer; closing");
                break;
            }
        }
        // Back-pressure: a peer that does not read its replies is not read from either.
        let backlogged = out.is_backlogged();
        tokio::select! {
            // A short read clears readiness, so the next wait goes straight to epoll.
            read = read_input(&mut reader, session.as_deref(), &mut records, &mut buf, &out), if !backlogged => match read {
                Ok(0) => {
                    if !buf.is_empty() {
                        tracing::debug!(conn = id, "peer closed in the middle of a frame");
                    }
                    break;
                }
                Ok(_) => {}
                Err(e) if session.is_some() && e.kind() == std::io::ErrorKind::InvalidData => {
                    tracing::error!(conn = id, %peer, error = %e, "TLS failed; closing");
                    break;
                }
                Err(e) => {
                    tracing::debug!(conn = id, error = %e, "read failed");
                    break;
                }
            },
            _ = settle_first(&engine, &mut stored), if !stored.is_empty() => {}
            _ = out.wait_drained(), if backlogged => {}
            _ = &mut writer => break,
            _ = stopping.changed() => if *stopping.borrow() == Stop::Now { break },
        }
    }
    // A job whose commit failed must not run, even if its submitter is gone.
    settle_all(&engine, &mut stored).await;
    // Others are served between the slices of a big worker's unregistration.
    while !lock(&engine).release_abilities(id, RELEASE_PER_TURN) {
        tokio::task::yield_now().await;
    }
    drop(registration);
    if !writer.is_finished() {
        let _ = tokio::time::timeout(Duration::from_secs(5), &mut writer).await;
        writer.abort();
    }
    let large = out.grew_large() || buf.capacity() > 1024 * 1024;
    drop(out);
    drop(buf);
    if large {
        crate::memory::give_back();
    }
    tracing::debug!(conn = id, "disconnected");
}

enum Progress {
    NeedMore,
    /// A slice of input was handled; more is buffered. Let other connections have a turn.
    Yield,
    Paused,
    Close,
    Shutdown(bool),
}

/// Most frames one connection has handled before others get a turn (and the engine lock): a
/// connection that sends a burst (200k CAN_DO) must not stall the rest for its whole length.
const FRAMES_PER_TURN: usize = 256;

/// Most functions a departing worker unregisters per hold of the engine lock (~1 ms).
const RELEASE_PER_TURN: usize = 2048;

type StoreWaits = VecDeque<(u64, tokio::sync::oneshot::Receiver<bool>)>;

/// Waits for the oldest stored job's commit; a job the store could not write is dropped.
/// Cancel-safe: the job stays queued until its answer has been taken.
async fn settle_first(engine: &SharedEngine, stored: &mut StoreWaits) {
    let Some((no, done)) = stored.front_mut() else {
        return;
    };
    let written = matches!(done.await, Ok(true));
    let no = *no;
    stored.pop_front();
    if !written {
        lock(engine).store_failed(no);
    }
}

async fn settle_all(engine: &SharedEngine, stored: &mut StoreWaits) {
    while !stored.is_empty() {
        settle_first(engine, stored).await;
    }
}

/// One decoded unit of a connection's input.
enum Input {
    Request(Request),
    Admin(Bytes),
    /// A well-formed packet no server handles; answered with an error, the connection goes on.
    Unexpected,
}

impl Input {
    fn decode(decoder: &Decoder, buf: &mut BytesMut) -> Result<Option<Input>, ProtocolError> {
        let packet = match decoder.decode(buf)? {
            None => return Ok(None),
            Some(Frame::Text(line)) => return Ok(Some(Input::Admin(line))),
            Some(Frame::Packet(packet)) => packet,
        };
        match Request::from_packet(packet) {
            Ok(request) => Ok(Some(Input::Request(request))),
            Err(ProtocolError::UnexpectedKind(_)) => Ok(Some(Input::Unexpected)),
            Err(e) => Err(e),
        }
    }

    /// Whether this may join the group commit of stored jobs already waiting.
    fn joins_group_commit(&self) -> bool {
        matches!(self, Input::Request(r) if r.is_background_submit())
    }
}

/// Handles what `buf` holds. While stored jobs await their commit (`stored`), only more
/// background submissions go on (they join the group commit, and add to `stored`); anything
/// else is kept in `held` until then.
fn handle_buffered(
    engine: &SharedEngine,
    id: ConnId,
    decoder: &Decoder,
    buf: &mut BytesMut,
    held: &mut Option<Input>,
    out: &Arc<Output>,
    waits: &mut StoreWaits,
) -> Progress {
    let mut engine = lock(engine);
    for _ in 0..FRAMES_PER_TURN {
        let input = match held.take() {
            Some(input) => input,
            None => match Input::decode(decoder, buf) {
                Ok(Some(input)) => input,
                Ok(None) => return Progress::NeedMore,
                // The buffer is as it was: answer once the stored jobs are acknowledged.
                Err(_) if !waits.is_empty() => return Progress::Paused,
                Err(e) => {
                    tracing::info!(conn = id, error = %e, "bad input; closing");
                    reject(out, &e);
                    return Progress::Close;
                }
            },
        };
        if !waits.is_empty() && !input.joins_group_commit() {
            *held = Some(input);
            return Progress::Paused;
        }
        let next = match input {
            Input::Request(request) => engine.request(id, request),
            Input::Admin(line) => engine.admin(id, &line),
            Input::Unexpected => {
                engine.unexpected(id);
                Next::Continue
            }
        };
        match next {
            Next::Continue => {}
            Next::Stored { no, done } => waits.push_back((no, done)),
            Next::Close => return Progress::Close,
            Next::Shutdown { graceful } => return Progress::Shutdown(graceful),
        }
    }
    Progress::Yield
}

/// Tells the peer why its input is refused.
fn reject(out: &Arc<Output>, error: &ProtocolError) {
    let (code, text) = match error {
        ProtocolError::BadMagic(_) | ProtocolError::WrongMagic { .. } => {
            ("INVALID_MAGIC", "Request magic expected".to_string())
        }
        ProtocolError::UnknownType(n) => ("INVALID_COMMAND", format!("Invalid command {n}")),
        ProtocolError::PayloadTooLarge { len, max } => (
            "ARGUMENT_TOO_LARGE",
            format!("Packet of {len} bytes exceeds the {max}-byte limit"),
        ),
        ProtocolError::WrongArgCount { .. } => ("INVALID_PACKET", error.to_string()),
        ProtocolError::LineTooLong { max } => {
            let text = format!("Line longer than {max} bytes");
            let line = format!(
                "ERR ARGUMENT_TOO_LARGE {}\r\n",
                gearman_core::admin::url_encode(&text)
            );
            out.raw(line.as_bytes());
            out.close();
            return;
        }
        ProtocolError::UnexpectedText | ProtocolError::UnexpectedKind(_) => {
            ("INVALID_COMMAND", error.to_string())
        }
    };
    out.send(&Response::Error {
        code: code.as_bytes(),
        text: text.as_bytes(),
    });
    out.close();
}

/// Reads input into `buf`: from the socket, or for TLS, the plaintext of the records read
/// (`Ok(0)` at the end of the stream). Cancel-safe: what was read and not yet decrypted stays
/// in `records`.
async fn read_input(
    reader: &mut OwnedReadHalf,
    session: Option<&std::sync::Mutex<rustls::ServerConnection>>,
    records: &mut BytesMut,
    buf: &mut BytesMut,
    out: &Output,
) -> std::io::Result<usize> {
    let Some(session) = session else {
        return reader.read_buf(buf).await;
    };
    loop {
        let (progress, wants_write) = {
            let mut session = transport::lock(session);
            let progress = decrypt(&mut session, records, buf);
            (progress, session.wants_write())
        };
        if wants_write {
            // Alerts, or replies to the peer's key updates.
            out.flush_now();
        }
        if let Some(read) = progress? {
            return Ok(read);
        }
        records.reserve(16 * 1024);
        if reader.read_buf(records).await? == 0 {
            return Ok(0);
        }
    }
}

/// Moves plaintext out of the session into the spare room of `buf` (the caller keeps at least
/// 4 KiB), feeding it `records` as it asks for more: `Some(n)` when bytes (or the end of the
/// stream, `Some(0)`) came out, `None` when it needs more records.
fn decrypt(
    session: &mut rustls::ServerConnection,
    records: &mut BytesMut,
    buf: &mut BytesMut,
) -> std::io::Result<Option<usize>> {
    loop {
        if let Some(read) = gearman_core::tls::take_plaintext(session, buf, |e| e.to_string())? {
            return Ok(Some(read));
        }
        if records.is_empty() {
            return Ok(None);
        }
        let mut unread = &records[..];
        session.read_tls(&mut unread)?;
        let consumed = records.len() - unread.len();
        records.advance(consumed);
    }
}

/// Writes what the socket would not take at once, and shuts the socket down when closing.
async fn write_loop(out: Arc<Output>) {
    loop {
        match out.writer_step() {
            WriterStep::Finish => {
                out.transport().shutdown();
                return;
            }
            WriterStep::WaitWritable => {
                if out.transport().socket().writable().await.is_err() {
                    return;
                }
                out.flush_now();
            }
            WriterStep::Idle => out.notified().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use gearman_core::job::Priority;

    use super::*;
    use crate::engine::EngineConfig;
    use crate::output::MemorySink;

    fn submit(function: &str) -> Request {
        Request::SubmitJob {
            function: Bytes::copy_from_slice(function.as_bytes()),
            unique: Bytes::from_static(b"u"),
            data: Bytes::from_static(b"d"),
            priority: Priority::Normal,
            background: true,
        }
    }

    #[tokio::test]
    async fn a_connection_that_panics_inside_the_engine_is_disconnected_and_its_job_requeued() {
        let engine: SharedEngine = Arc::new(Mutex::new(Engine::new(EngineConfig {
            handle_prefix: "H:t".into(),
            ..EngineConfig::default()
        })));
        let peer: std::net::SocketAddr = "127.0.0.1:1".parse().unwrap();
        let client = MemorySink::new();
        let _client = ConnectionGuard::connect(&engine, 1, 10, peer, client.clone());
        lock(&engine).request(1, submit("f"));
        let worker = MemorySink::new();
        let task = {
            let (engine, worker) = (engine.clone(), worker.clone());
            tokio::spawn(async move {
                let _registration = ConnectionGuard::connect(&engine, 2, 11, peer, worker);
                let mut engine = lock(&engine);
                let function = Bytes::from_static(b"f");
                engine.request(2, Request::CanDo { function });
                engine.request(2, Request::GrabJob);
                panic!("a bug in the middle of an engine call");
            })
        };
        assert!(task.await.unwrap_err().is_panic());
        let assigned = worker.take();
        assert_eq!(
            &assigned[..8],
            b"\0RES\0\0\0\x0b",
            "the worker held the job (JOB_ASSIGN)"
        );
        assert!(worker.is_closed(), "the panicking connection was closed");
        // The lock works again, and the job the worker held is queued, not lost.
        let admin = MemorySink::new();
        let _admin = ConnectionGuard::connect(&engine, 3, 12, peer, admin.clone());
        lock(&engine).admin(3, b"status");
        assert_eq!(admin.take(), Bytes::from_static(b"f\t1\t0\t0\n.\n"));
        assert!(!engine.is_poisoned());
    }
}
