//! The one error type of gearman-core. Every variant says, in one line, what went wrong and where.

use std::io;

use crate::connection::ServerAddr;
use crate::protocol::{PacketType, ProtocolError};

/// Errors from connections, clients, workers and the admin client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("could not connect to {server}: {message}")]
    Connect {
        server: String,
        kind: io::ErrorKind,
        message: String,
    },
    #[error("lost connection to {server}: {message}")]
    Io {
        server: String,
        kind: io::ErrorKind,
        message: String,
    },
    #[error("bad data from {server}: {source}")]
    Protocol {
        server: String,
        source: ProtocolError,
    },
    #[error("unexpected {kind:?} packet from {server}")]
    UnexpectedPacket { server: String, kind: PacketType },
    #[error("server error {code}: {text}")]
    Server { code: String, text: String },
    #[error("admin command failed: {code} {text}")]
    Admin { code: String, text: String },
    #[error("timed out after {0:?}")]
    Timeout(std::time::Duration),
    #[error("no servers configured")]
    NoServers,
    #[error("no server could be reached: {0}")]
    NoServerAvailable(String),
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    #[error("unknown job")]
    UnknownJob,
}

/// `Connection refused (os error 111)` → `connection refused`.
fn describe(e: &io::Error) -> String {
    let text = e.to_string();
    let text = match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    };
    // "Connection refused" → "connection refused", but "TLS …" stays.
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(first), Some(second)) if !second.is_uppercase() => first
            .to_lowercase()
            .chain(text[first.len_utf8()..].chars())
            .collect(),
        _ => text,
    }
}

impl Error {
    pub(crate) fn connect(addr: &ServerAddr, e: io::Error) -> Error {
        Error::Connect {
            server: addr.to_string(),
            kind: e.kind(),
            message: describe(&e),
        }
    }

    pub(crate) fn io(addr: &ServerAddr, e: io::Error) -> Error {
        Error::Io {
            server: addr.to_string(),
            kind: e.kind(),
            message: describe(&e),
        }
    }

    /// Whether the error came from the network (the server may be tried again later).
    pub fn is_connection_error(&self) -> bool {
        matches!(
            self,
            Error::Connect { .. }
                | Error::Io { .. }
                | Error::Protocol { .. }
                | Error::UnexpectedPacket { .. }
                | Error::NoServerAvailable(_)
        )
    }

    /// The server ERROR code, if this came from an ERROR packet.
    pub fn server_code(&self) -> Option<&str> {
        match self {
            Error::Server { code, .. } | Error::Admin { code, .. } => Some(code),
            _ => None,
        }
    }
}
