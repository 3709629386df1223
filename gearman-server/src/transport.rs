//! Where a connection's outgoing bytes go: straight to its socket, or through its TLS session
//! and then to the socket. Both write without waiting; what the socket will not take now is
//! left for the connection's writer task (see [`crate::output`]).

use std::io::{self, Write};
use std::sync::{Arc, Mutex, MutexGuard};

use rustls::ServerConnection;
use tokio::net::tcp::OwnedWriteHalf;

pub enum Transport {
    Plain(Arc<OwnedWriteHalf>),
    Tls {
        socket: Arc<OwnedWriteHalf>,
        /// Shared with the connection's reader, which feeds it the records it reads.
        session: Arc<Mutex<ServerConnection>>,
    },
}

/// A socket as rustls' record writer: never blocks.
struct SocketWriter<'a>(&'a OwnedWriteHalf);

impl Write for SocketWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.try_write(buf)
    }

    /// Several records in one system call (the default would write only the first).
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        self.0.try_write_vectored(bufs)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

pub fn lock(session: &Mutex<ServerConnection>) -> MutexGuard<'_, ServerConnection> {
    session.lock().unwrap_or_else(|p| p.into_inner())
}

/// Writes the session's records until none is left or the socket is full (`WouldBlock`).
fn write_records(session: &mut ServerConnection, socket: &OwnedWriteHalf) -> io::Result<()> {
    while session.wants_write() {
        session.write_tls(&mut SocketWriter(socket))?;
    }
    Ok(())
}

impl Transport {
    pub fn socket(&self) -> &OwnedWriteHalf {
        match self {
            Transport::Plain(socket) | Transport::Tls { socket, .. } => socket,
        }
    }

    /// Takes as much of `buf` as it can now (written, or encrypted into records that go out
    /// as the socket takes them); `WouldBlock` when it took nothing.
    pub fn write_some(&self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Transport::Plain(socket) => socket.try_write(buf),
            Transport::Tls { socket, session } => {
                let mut session = lock(session);
                // The session holds a bounded amount of records (rustls' buffer limit): it
                // takes less, or nothing, while the socket is behind.
                let taken = session.writer().write(buf)?;
                match write_records(&mut session, socket) {
                    Err(e) if e.kind() != io::ErrorKind::WouldBlock => return Err(e),
                    _ => {}
                }
                if taken == 0 {
                    return Err(io::ErrorKind::WouldBlock.into());
                }
                Ok(taken)
            }
        }
    }

    /// Writes what an earlier call left in the session; `WouldBlock` when the socket is full.
    pub fn flush_records(&self) -> io::Result<()> {
        match self {
            Transport::Plain(_) => Ok(()),
            Transport::Tls { socket, session } => write_records(&mut lock(session), socket),
        }
    }

    /// Whether encrypted bytes wait for the socket.
    pub fn has_records(&self) -> bool {
        match self {
            Transport::Plain(_) => false,
            Transport::Tls { session, .. } => lock(session).wants_write(),
        }
    }

    /// Ends the stream: TLS's close_notify (as far as the socket takes it at once), then
    /// the socket's write side.
    pub fn shutdown(&self) {
        if let Transport::Tls { socket, session } = self {
            let mut session = lock(session);
            session.send_close_notify();
            let _ = write_records(&mut session, socket);
        }
        let socket: &tokio::net::TcpStream = self.socket().as_ref();
        let _ = socket2::SockRef::from(socket).shutdown(std::net::Shutdown::Write);
    }
}
