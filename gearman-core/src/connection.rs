//! A TCP connection to a Gearman server: framing over a socket with TCP_NODELAY, optional TLS
//! (see [`crate::tls`]), connect timeouts, and reconnect back-off bookkeeping.
//!
//! A connection made under tokio uses tokio's socket; one made inside the blocking facades'
//! [`poll_driver::block_on`] uses a plain non-blocking socket (see [`crate::poll_driver`]).

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

use crate::error::Error;
use crate::message::Request;
use crate::poll_driver;
use crate::protocol::{encode_packet, Decoder, Frame, Magic, Packet, PacketType};
use crate::tls::{TlsConnector, TlsSession};

/// Default TCP port of a Gearman server.
pub const DEFAULT_PORT: u16 = 4730;

/// A server address, `host:port`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServerAddr {
    pub host: String,
    pub port: u16,
}

impl ServerAddr {
    pub fn new(host: impl Into<String>, port: u16) -> ServerAddr {
        let host = host.into();
        let host = if host.is_empty() {
            "localhost".to_string()
        } else {
            host
        };
        ServerAddr {
            host,
            port: if port == 0 { DEFAULT_PORT } else { port },
        }
    }

    /// Parses `host`, `host:port`, `[v6]:port` or a bare IPv6 address.
    pub fn parse(text: &str) -> Result<ServerAddr, Error> {
        let text = text.trim();
        let bad = || Error::InvalidArgument(format!("bad server address {text:?}"));
        if let Some(rest) = text.strip_prefix('[') {
            let (host, tail) = rest.split_once(']').ok_or_else(bad)?;
            let port = match tail.strip_prefix(':') {
                Some(p) => p.parse().map_err(|_| bad())?,
                None if tail.is_empty() => DEFAULT_PORT,
                None => return Err(bad()),
            };
            return Ok(ServerAddr::new(host, port));
        }
        match text.rsplit_once(':') {
            Some((host, port)) if !host.contains(':') => {
                Ok(ServerAddr::new(host, port.parse().map_err(|_| bad())?))
            }
            _ if text.is_empty() => Err(bad()),
            _ => Ok(ServerAddr::new(text, DEFAULT_PORT)),
        }
    }

    /// Parses a comma-separated list such as `GEARMAN_SERVERS` holds.
    pub fn parse_list(text: &str) -> Result<Vec<ServerAddr>, Error> {
        text.split(',')
            .filter(|s| !s.trim().is_empty())
            .map(ServerAddr::parse)
            .collect()
    }
}

impl fmt::Display for ServerAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// The socket under a connection, by the driver it was made for.
enum Stream {
    Tokio(TcpStream),
    Polled(std::net::TcpStream),
}

/// An open, framed connection. Writes are buffered until [`Connection::flush`].
pub struct Connection {
    stream: Stream,
    read_buf: BytesMut,
    write_buf: BytesMut,
    decoder: Decoder,
    addr: ServerAddr,
    /// A request went out, or the socket was emptied, since the last read: wait for
    /// readability before reading again (see [`poll_driver::wait_readable`]).
    poll_first: bool,
    /// The TLS session when the connection is encrypted; `read_buf` and `write_buf` then
    /// hold plaintext, and `records` what was read from the socket before decryption.
    tls: Option<Box<TlsSession>>,
    records: BytesMut,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("addr", &self.addr)
            .finish()
    }
}

impl Connection {
    /// Connects with a timeout, trying every resolved address, and sets TCP_NODELAY; with
    /// `tls`, completes the TLS handshake within the same timeout.
    pub async fn connect(
        addr: &ServerAddr,
        timeout: Duration,
        max_payload: usize,
        tls: Option<&TlsConnector>,
    ) -> Result<Connection, Error> {
        let started = Instant::now();
        let stream = if poll_driver::active() {
            Stream::Polled(
                poll_driver::connect(&addr.host, addr.port, timeout)
                    .map_err(|e| Error::connect(addr, e))?,
            )
        } else {
            Stream::Tokio(Self::connect_tokio(addr, timeout).await?)
        };
        let mut conn = Connection {
            stream,
            read_buf: BytesMut::with_capacity(8 * 1024),
            write_buf: BytesMut::with_capacity(8 * 1024),
            decoder: Decoder::for_client().max_payload(max_payload),
            addr: addr.clone(),
            poll_first: false,
            tls: None,
            records: BytesMut::new(),
        };
        if let Some(connector) = tls {
            let session = connector
                .session(&addr.host)
                .map_err(|e| Error::connect(addr, e))?;
            conn.tls = Some(Box::new(TlsSession::new(session)));
            conn.records = BytesMut::with_capacity(16 * 1024);
            let left = timeout.saturating_sub(started.elapsed());
            match poll_driver::timeout(left, conn.handshake()).await {
                Some(Ok(())) => {}
                Some(Err(e)) => return Err(Error::connect(addr, e)),
                None => {
                    return Err(Error::connect(
                        addr,
                        io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out"),
                    ))
                }
            }
        }
        Ok(conn)
    }

    /// Exchanges handshake records until the session is established.
    async fn handshake(&mut self) -> io::Result<()> {
        loop {
            self.send_records().await?;
            let Some(tls) = &self.tls else { return Ok(()) };
            if !tls.is_handshaking() {
                return Ok(());
            }
            let n = poll_fn(|cx| self.poll_records(cx)).await?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the server closed the connection during the TLS handshake \
                     (is it a TLS port? does it want a client certificate?)",
                ));
            }
            self.take_records()?;
        }
    }

    /// Writes the TLS records waiting to go out.
    async fn send_records(&mut self) -> io::Result<()> {
        let Some(tls) = &mut self.tls else {
            return Ok(());
        };
        if tls.outgoing.is_empty() {
            return Ok(());
        }
        let records = std::mem::take(&mut tls.outgoing);
        let written = write_raw(&mut self.stream, &records).await;
        if let Some(tls) = &mut self.tls {
            tls.outgoing = records;
            tls.outgoing.clear();
        }
        self.poll_first = true;
        written
    }

    /// Reads records from the socket into `records`.
    fn poll_records(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        if self.records.capacity() - self.records.len() < 4096 {
            self.records.reserve(16 * 1024);
        }
        poll_read_raw(
            &mut self.stream,
            &mut self.poll_first,
            &mut self.records,
            cx,
        )
    }

    /// Hands the records read to the TLS session.
    fn take_records(&mut self) -> io::Result<()> {
        let Some(tls) = &mut self.tls else {
            return Ok(());
        };
        let received = tls.receive(&self.records);
        self.records.clear();
        received
    }

    async fn connect_tokio(addr: &ServerAddr, timeout: Duration) -> Result<TcpStream, Error> {
        let target = (addr.host.as_str(), addr.port);
        let stream = match tokio::time::timeout(timeout, TcpStream::connect(target)).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => return Err(Error::connect(addr, e)),
            Err(_) => {
                return Err(Error::connect(
                    addr,
                    io::Error::new(io::ErrorKind::TimedOut, "connect timed out"),
                ))
            }
        };
        stream
            .set_nodelay(true)
            .map_err(|e| Error::connect(addr, e))?;
        Ok(stream)
    }

    /// Whether this connection is used under another driver than the one it was made for: it
    /// would never be woken there.
    fn driver_mismatch(&self) -> bool {
        matches!(self.stream, Stream::Polled(_)) != poll_driver::active()
    }

    /// The server this connection talks to.
    pub fn addr(&self) -> &ServerAddr {
        &self.addr
    }

    /// Queues a request packet; it is sent by the next flush.
    pub fn queue(&mut self, kind: PacketType, fields: &[&[u8]]) {
        encode_packet(Magic::Request, kind, fields, &mut self.write_buf);
    }

    /// Queues a typed request; it is sent by the next flush.
    pub fn queue_request<B: AsRef<[u8]>>(&mut self, request: &Request<B>) {
        request.encode(&mut self.write_buf);
    }

    /// Queues raw bytes (used for text admin commands).
    pub fn queue_raw(&mut self, bytes: &[u8]) {
        self.write_buf.extend_from_slice(bytes);
    }

    /// Whether anything waits to be sent.
    pub fn has_pending_writes(&self) -> bool {
        !self.write_buf.is_empty()
    }

    /// Sends everything queued.
    pub async fn flush(&mut self) -> Result<(), Error> {
        if self.write_buf.is_empty() {
            return Ok(());
        }
        if self.driver_mismatch() {
            return Err(Error::io(&self.addr, mismatch_error()));
        }
        let buf = self.write_buf.split();
        let written = match &mut self.tls {
            Some(tls) => match tls.encrypt(&buf) {
                Ok(()) => self.send_records().await,
                Err(e) => Err(e),
            },
            None => write_raw(&mut self.stream, &buf).await,
        };
        written.map_err(|e| Error::io(&self.addr, e))?;
        self.poll_first = true;
        self.write_buf = buf;
        self.write_buf.clear();
        Ok(())
    }

    /// Queues one packet and flushes.
    pub async fn send(&mut self, kind: PacketType, fields: &[&[u8]]) -> Result<(), Error> {
        self.queue(kind, fields);
        self.flush().await
    }

    /// Decodes a packet already buffered, without reading.
    pub fn try_buffered_packet(&mut self) -> Result<Option<Packet>, Error> {
        match self.decoder.decode(&mut self.read_buf) {
            Ok(Some(Frame::Packet(p))) => Ok(Some(p)),
            Ok(Some(Frame::Text(_))) => Err(Error::Protocol {
                server: self.addr.to_string(),
                source: crate::protocol::ProtocolError::UnexpectedText,
            }),
            Ok(None) => Ok(None),
            Err(source) => Err(Error::Protocol {
                server: self.addr.to_string(),
                source,
            }),
        }
    }

    /// Polls for the next packet. End of stream, including one in the middle of a frame, is an
    /// error.
    pub fn poll_packet(&mut self, cx: &mut Context<'_>) -> Poll<Result<Packet, Error>> {
        loop {
            if let Some(packet) = self.try_buffered_packet()? {
                return Poll::Ready(Ok(packet));
            }
            match self.poll_fill(cx) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(self.closed_error())),
                Poll::Ready(Ok(_)) => continue,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(Error::io(&self.addr, e))),
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// Waits for the next packet.
    pub async fn read_packet(&mut self) -> Result<Packet, Error> {
        poll_fn(|cx| self.poll_packet(cx)).await
    }

    /// Reads one text line (for admin replies), without `\n` and an optional `\r`.
    pub async fn read_line(&mut self, max_line: usize) -> Result<String, Error> {
        loop {
            if let Some(end) = self.read_buf.iter().position(|&b| b == b'\n') {
                let mut line = self.read_buf.split_to(end + 1);
                line.truncate(end);
                if line.last() == Some(&b'\r') {
                    line.truncate(end - 1);
                }
                return Ok(String::from_utf8_lossy(&line).into_owned());
            }
            if self.read_buf.len() > max_line {
                return Err(Error::Protocol {
                    server: self.addr.to_string(),
                    source: crate::protocol::ProtocolError::LineTooLong { max: max_line },
                });
            }
            match poll_fn(|cx| self.poll_fill(cx)).await {
                Ok(0) => return Err(self.closed_error()),
                Ok(_) => {}
                Err(e) => return Err(Error::io(&self.addr, e)),
            }
        }
    }

    fn closed_error(&self) -> Error {
        let detail = if self.read_buf.is_empty() {
            "connection closed by server"
        } else {
            "connection closed by server in the middle of a packet"
        };
        Error::io(
            &self.addr,
            io::Error::new(io::ErrorKind::UnexpectedEof, detail),
        )
    }

    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        if self.read_buf.capacity() - self.read_buf.len() < 4096 {
            if let Err(e) = crate::protocol::try_reserve(&mut self.read_buf, 16 * 1024) {
                return Poll::Ready(Err(io::Error::new(io::ErrorKind::OutOfMemory, e)));
            }
        }
        if self.driver_mismatch() {
            return Poll::Ready(Err(mismatch_error()));
        }
        if self.tls.is_none() {
            return poll_read_raw(
                &mut self.stream,
                &mut self.poll_first,
                &mut self.read_buf,
                cx,
            );
        }
        loop {
            if let Some(tls) = &mut self.tls {
                match tls.read_plaintext(&mut self.read_buf) {
                    Ok(Some(n)) => return Poll::Ready(Ok(n)),
                    Ok(None) => {}
                    Err(e) => return Poll::Ready(Err(e)),
                }
            }
            match self.poll_records(cx) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Ok(0)),
                Poll::Ready(Ok(_)) => {
                    if let Err(e) = self.take_records() {
                        return Poll::Ready(Err(e));
                    }
                }
                other => return other,
            }
        }
    }
}

/// Writes all of `bytes` to the socket.
async fn write_raw(stream: &mut Stream, bytes: &[u8]) -> io::Result<()> {
    match stream {
        Stream::Tokio(stream) => stream.write_all(bytes).await,
        Stream::Polled(stream) => poll_driver::write_all(stream, bytes).await,
    }
}

/// Reads what the socket has into the spare capacity of `buf`. On the blocking driver,
/// `poll_first` says to wait for readability before trying (something was just sent).
fn poll_read_raw(
    stream: &mut Stream,
    poll_first: &mut bool,
    buf: &mut BytesMut,
    cx: &mut Context<'_>,
) -> Poll<io::Result<usize>> {
    let spare = buf.spare_capacity_mut();
    let stream = match stream {
        Stream::Tokio(stream) => stream,
        Stream::Polled(stream) => {
            if std::mem::take(poll_first) {
                poll_driver::wait_readable(stream);
                return Poll::Pending;
            }
            let offered = spare.len();
            let filled = poll_driver::poll_recv(stream, spare);
            if let Poll::Ready(Ok(n)) = filled {
                // SAFETY: recv initialised the first `n` bytes of the spare capacity.
                unsafe { buf.set_len(buf.len() + n) };
                // A read that did not fill the buffer emptied the socket.
                *poll_first = n < offered;
            }
            return filled;
        }
    };
    let mut read = ReadBuf::uninit(spare);
    match Pin::new(stream).poll_read(cx, &mut read) {
        Poll::Ready(Ok(())) => {
            let n = read.filled().len();
            // SAFETY: poll_read initialised the first `n` bytes of the spare capacity.
            unsafe { buf.set_len(buf.len() + n) };
            Poll::Ready(Ok(n))
        }
        Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
        Poll::Pending => Poll::Pending,
    }
}

fn mismatch_error() -> io::Error {
    io::Error::other(
        "connection used outside the driver it was made under (a blocking facade's \
         connection under tokio, or a tokio connection inside a blocking facade)",
    )
}

/// Back-off bookkeeping for a server that failed: when it may be tried again.
#[derive(Debug, Clone, Default)]
pub struct Backoff {
    failures: u32,
    retry_at: Option<Instant>,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(50);
    const MAX: Duration = Duration::from_secs(1);

    /// Records a failure and schedules the next attempt (50 ms doubling, capped at 1 s).
    pub fn failed(&mut self) {
        let delay = Self::FIRST
            .saturating_mul(1 << self.failures.min(10))
            .min(Self::MAX);
        self.failures = self.failures.saturating_add(1);
        self.retry_at = Some(Instant::now() + delay);
    }

    /// Records a success.
    pub fn succeeded(&mut self) {
        *self = Backoff::default();
    }

    /// Whether an attempt may be made now.
    pub fn ready(&self) -> bool {
        self.retry_at.is_none_or(|t| Instant::now() >= t)
    }

    /// When the next attempt may be made, if the server is backing off.
    pub fn retry_at(&self) -> Option<Instant> {
        self.retry_at
    }

    /// Whether the server has failed since it last succeeded.
    pub fn is_failing(&self) -> bool {
        self.failures > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_addresses() {
        assert_eq!(ServerAddr::parse("h:1").unwrap(), ServerAddr::new("h", 1));
        assert_eq!(ServerAddr::parse("h").unwrap(), ServerAddr::new("h", 4730));
        assert_eq!(
            ServerAddr::parse("[::1]:5").unwrap(),
            ServerAddr::new("::1", 5)
        );
        assert_eq!(
            ServerAddr::parse("::1").unwrap(),
            ServerAddr::new("::1", 4730)
        );
        assert!(ServerAddr::parse("h:x").is_err());
        assert_eq!(ServerAddr::parse_list("a:1, b").unwrap().len(), 2);
        assert_eq!(ServerAddr::new("::1", 5).to_string(), "[::1]:5");
    }
}
