//! A connection's outgoing byte queue: ordered, bounded, and written by the connection's writer.
//!
//! The engine appends while holding its lock; the writer takes whole chunks. A connection whose
//! queue grows past the cap (a peer that stopped reading) is closed rather than allowed to
//! exhaust memory.

use std::sync::Mutex;

use bytes::BytesMut;
use gearman_core::protocol::{encode_packet, Magic, PacketType};
use tokio::sync::Notify;

/// Largest amount of unsent output a connection may accumulate.
pub const MAX_PENDING_OUTPUT: usize = 256 * 1024 * 1024;

#[derive(Default)]
struct Pending {
    buf: BytesMut,
    closing: bool,
}

/// The outgoing queue of one connection.
#[derive(Default)]
pub struct Output {
    pending: Mutex<Pending>,
    notify: Notify,
}

impl Output {
    fn with<R>(&self, f: impl FnOnce(&mut Pending) -> R) -> R {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let result = f(&mut pending);
        if pending.buf.len() > MAX_PENDING_OUTPUT && !pending.closing {
            tracing::warn!(bytes = pending.buf.len(), "peer is not reading; closing it");
            pending.closing = true;
            pending.buf.clear();
        }
        drop(pending);
        self.notify.notify_one();
        result
    }

    /// Queues a response packet.
    pub fn packet(&self, kind: PacketType, fields: &[&[u8]]) {
        self.with(|p| {
            if !p.closing {
                encode_packet(Magic::Response, kind, fields, &mut p.buf)
            }
        });
    }

    /// Queues raw bytes (admin replies).
    pub fn raw(&self, bytes: &[u8]) {
        self.with(|p| {
            if !p.closing {
                p.buf.extend_from_slice(bytes)
            }
        });
    }

    /// Sends what is queued, then closes the connection.
    pub fn close(&self) {
        self.with(|p| p.closing = true);
    }

    /// Takes everything queued, and whether the connection should close after writing it.
    pub fn take(&self) -> (BytesMut, bool) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let buf = pending.buf.split();
        (buf, pending.closing)
    }

    /// Waits until something is queued or the connection is closing.
    pub async fn ready(&self) {
        self.notify.notified().await
    }
}
