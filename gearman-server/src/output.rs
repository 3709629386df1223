//! A connection's outgoing bytes: ordered, bounded, and written through.
//!
//! The engine talks to a connection through the [`Sink`] trait only, so tests drive it with a
//! [`MemorySink`] and no socket. The server's sink is [`Output`]:
//!
//! The engine appends while holding its lock. Each output that received bytes is remembered on
//! the current thread, and once the lock is released the thread writes them straight to their
//! sockets (`flush_touched`, run by a [`FlushOnDrop`] guard, which the server's engine lock
//! guard contains). Only when a socket would block does the connection's writer task take over,
//! waiting for it to become writable. This keeps a reply from costing a task wake-up.
//!
//! A connection whose unsent output passes [`READ_PAUSE_OUTPUT`] is not read from until the
//! peer has taken most of it (back-pressure: a client that never reads cannot make the server
//! hold the results of ever more requests); one whose queue still grows past the hard cap (a
//! worker's results for a client that stopped reading) is closed rather than allowed to exhaust
//! memory.

use std::cell::RefCell;
use std::io;
use std::sync::{Arc, Mutex, Weak};

use bytes::{Buf, Bytes, BytesMut};
use gearman_core::message::Response;
use gearman_core::protocol::try_reserve;
use tokio::sync::Notify;

use crate::transport::Transport;

/// Largest amount of unsent output a connection may accumulate.
pub const MAX_PENDING_OUTPUT: usize = 256 * 1024 * 1024;

/// While a connection has this much unsent output, its input is not read.
pub const READ_PAUSE_OUTPUT: usize = 4 * 1024 * 1024;

/// An emptied queue larger than this is given back rather than kept for reuse.
const KEEP_CAPACITY: usize = 1024 * 1024;

#[derive(Default)]
struct Pending {
    buf: BytesMut,
    closing: bool,
    /// The socket failed; nothing more will be written.
    broken: bool,
    /// The queue once held more than [`KEEP_CAPACITY`].
    grew_large: bool,
}

/// Where the engine sends one connection's output.
pub trait Sink: Send + Sync {
    /// Appends `len` bytes to the connection's outgoing bytes: `write` is called at most once,
    /// with the queue to append to (not at all once the connection is closing, or when the
    /// bytes cannot be queued, which closes it).
    fn append(&self, len: usize, write: &mut dyn FnMut(&mut BytesMut));

    /// Sends what is queued, then closes the connection.
    fn close(&self);
}

impl dyn Sink + '_ {
    /// Queues a response packet.
    pub fn send<B: AsRef<[u8]>>(&self, response: &Response<B>) {
        self.append(response.encoded_len(), &mut |buf| response.encode(buf));
    }

    /// Queues raw bytes (admin replies).
    pub fn raw(&self, bytes: &[u8]) {
        self.append(bytes.len(), &mut |buf| buf.extend_from_slice(bytes));
    }
}

/// Runs `flush_touched` when dropped: whatever this thread queued while the guard lived is
/// written out when it goes, whichever way the scope is left.
#[must_use = "flushes when dropped"]
pub struct FlushOnDrop;

impl Drop for FlushOnDrop {
    fn drop(&mut self) {
        flush_touched();
    }
}

/// A sink that keeps everything in memory: the engine's tests read what it sent, and an HTTP
/// request (see [`crate::http`]) waits on it for the engine's replies.
#[derive(Default)]
pub struct MemorySink {
    buf: Mutex<BytesMut>,
    closed: std::sync::atomic::AtomicBool,
    /// Woken on each append and on close.
    changed: Notify,
}

impl MemorySink {
    pub fn new() -> Arc<MemorySink> {
        Arc::default()
    }

    /// Takes everything sent so far.
    pub fn take(&self) -> Bytes {
        self.buf
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .split()
            .freeze()
    }

    /// Whether the engine closed the connection.
    pub fn is_closed(&self) -> bool {
        self.closed.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Waits until something is appended or the sink is closed (at once if that happened
    /// since the last wait).
    pub async fn changed(&self) {
        self.changed.notified().await
    }
}

impl Sink for MemorySink {
    fn append(&self, _len: usize, write: &mut dyn FnMut(&mut BytesMut)) {
        if !self.is_closed() {
            write(&mut self.buf.lock().unwrap_or_else(|p| p.into_inner()));
            self.changed.notify_one();
        }
    }

    fn close(&self) {
        self.closed
            .store(true, std::sync::atomic::Ordering::Relaxed);
        self.changed.notify_one();
    }
}

/// The outgoing queue of one connection.
pub struct Output {
    pending: Mutex<Pending>,
    notify: Notify,
    /// Tells the connection's reader that the output fell below [`READ_PAUSE_OUTPUT`].
    drained: Notify,
    transport: Transport,
    /// This output, to remember it in [`TOUCHED`].
    me: Weak<Output>,
}

thread_local! {
    static TOUCHED: RefCell<Vec<Arc<Output>>> = const { RefCell::new(Vec::new()) };
}

/// Writes out everything this thread queued since the last call.
fn flush_touched() {
    let touched = TOUCHED.with(|t| std::mem::take(&mut *t.borrow_mut()));
    for out in touched {
        out.flush_now();
    }
}

/// What the writer task should do next.
pub enum WriterStep {
    /// Bytes remain that the socket would not take: wait until it is writable.
    WaitWritable,
    /// Nothing to do until notified.
    Idle,
    /// Closing and drained (or broken): shut the socket down.
    Finish,
}

impl Output {
    /// An output that writes through `transport`.
    pub fn new(transport: Transport) -> Arc<Output> {
        Arc::new_cyclic(|me| Output {
            pending: Mutex::new(Pending::default()),
            notify: Notify::new(),
            drained: Notify::new(),
            transport,
            me: me.clone(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn push(&self, len: usize, f: &mut dyn FnMut(&mut BytesMut)) {
        let mut pending = self.lock();
        if pending.closing || pending.broken {
            return;
        }
        let was_empty = pending.buf.is_empty();
        let total = pending.buf.len().saturating_add(len);
        let refused = if total > MAX_PENDING_OUTPUT {
            tracing::warn!(bytes = total, "peer is not reading; closing it");
            true
        } else if let Err(e) = try_reserve(&mut pending.buf, len) {
            tracing::warn!(bytes = total, error = %e, "no memory for a connection's output; closing it");
            true
        } else {
            false
        };
        if refused {
            pending.closing = true;
            pending.buf = BytesMut::new();
            drop(pending);
            self.notify.notify_one();
            return;
        }
        f(&mut pending.buf);
        if pending.buf.capacity() > KEEP_CAPACITY {
            pending.grew_large = true;
        }
        drop(pending);
        if was_empty {
            if let Some(me) = self.me.upgrade() {
                TOUCHED.with(|t| t.borrow_mut().push(me));
            }
        }
    }

    /// Queues a response packet.
    pub fn send<B: AsRef<[u8]>>(&self, response: &Response<B>) {
        self.push(response.encoded_len(), &mut |buf| response.encode(buf));
    }

    /// Queues raw bytes (admin replies).
    pub fn raw(&self, bytes: &[u8]) {
        self.push(bytes.len(), &mut |buf| buf.extend_from_slice(bytes));
    }

    /// Sends what is queued, then closes the connection.
    pub fn close(&self) {
        self.lock().closing = true;
        self.notify.notify_one();
        self.drained.notify_one();
    }

    /// Whether the queue ever held more than a megabyte (its memory is worth giving back to
    /// the system once the connection is gone).
    pub fn grew_large(&self) -> bool {
        self.lock().grew_large
    }

    /// Writes as much as the socket takes now; leaves the rest to the writer task.
    pub fn flush_now(&self) {
        let mut pending = self.lock();
        while !pending.broken {
            let written = if pending.buf.is_empty() {
                // Records a TLS session still holds (none for plaintext).
                self.transport.flush_records().map(|()| 0)
            } else {
                self.transport.write_some(&pending.buf)
            };
            match written {
                Ok(0) if pending.buf.is_empty() => break,
                Ok(n) => pending.buf.advance(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => pending.broken = true,
            }
        }
        if pending.buf.is_empty() && pending.buf.capacity() > KEEP_CAPACITY {
            pending.buf = BytesMut::new();
        }
        let unsent = !pending.buf.is_empty() || self.transport.has_records();
        let wake = unsent || pending.closing || pending.broken;
        let drained = pending.buf.len() < READ_PAUSE_OUTPUT || pending.closing || pending.broken;
        drop(pending);
        if wake {
            self.notify.notify_one();
        }
        if drained {
            self.drained.notify_one();
        }
    }

    /// Whether the peer is so far behind that its input should not be read.
    pub fn is_backlogged(&self) -> bool {
        let pending = self.lock();
        pending.buf.len() >= READ_PAUSE_OUTPUT && !pending.closing && !pending.broken
    }

    /// Waits until the output is no longer backlogged.
    pub async fn wait_drained(&self) {
        while self.is_backlogged() {
            self.drained.notified().await;
        }
    }

    /// Decides the writer task's next step.
    pub fn writer_step(&self) -> WriterStep {
        let pending = self.lock();
        let unsent = !pending.buf.is_empty() || self.transport.has_records();
        if pending.broken || (pending.closing && !unsent) {
            WriterStep::Finish
        } else if unsent {
            WriterStep::WaitWritable
        } else {
            WriterStep::Idle
        }
    }

    /// The socket and how to write to it.
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// Waits until something is queued or the connection is closing.
    pub async fn notified(&self) {
        self.notify.notified().await
    }
}

impl Sink for Output {
    fn append(&self, len: usize, write: &mut dyn FnMut(&mut BytesMut)) {
        self.push(len, write);
    }

    fn close(&self) {
        Output::close(self);
    }
}
