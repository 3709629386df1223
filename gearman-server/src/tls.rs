//! TLS on the server's listeners, with rustls: the configuration (reloaded on SIGHUP), the
//! handshake of each connection (bounded by a timeout, refusing plaintext peers clearly), and
//! the session a handshaken connection keeps for the reader and the output to share.
//!
//! Refusals are logged at ERROR, gearmand's default level (as its SSL_accept failures are), so
//! that certificate problems show without raising the verbosity.
//!
//! After the handshake a connection is not served through a TLS stream: its reader feeds
//! records to the session and takes plaintext out, and its [`crate::output::Output`]
//! encrypts and writes straight to the socket (see [`crate::transport`]), as plaintext
//! connections write, with no task between.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use gearman_core::message::Response;
use gearman_core::tls::{provider, read_certificates, read_key, roots_from_file};
use rustls::server::WebPkiClientVerifier;
use rustls::{ServerConfig, ServerConnection};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// gearmand's default server certificate (`GEARMAND_SERVER_PEM` overrides it).
pub const DEFAULT_CERTIFICATE: &str = "/etc/ssl/certs/gearmand.pem";
/// gearmand's default server key (`GEARMAND_SERVER_KEY` overrides it).
pub const DEFAULT_KEY: &str = "/etc/ssl/certs/gearmand.key";

/// The first byte of a TLS handshake record.
const TLS_HANDSHAKE: u8 = 0x16;

/// The files a TLS listener is made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub certificate: PathBuf,
    pub key: PathBuf,
    /// With a CA file, every client must present a certificate signed by it.
    pub ca_file: Option<PathBuf>,
}

impl TlsFiles {
    /// Options first, then gearmand's environment variables, then its default paths.
    pub fn resolve(
        certificate: Option<PathBuf>,
        key: Option<PathBuf>,
        ca_file: Option<PathBuf>,
    ) -> TlsFiles {
        let env = |var: &str| {
            std::env::var_os(var)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        TlsFiles {
            certificate: certificate
                .or_else(|| env("GEARMAND_SERVER_PEM"))
                .unwrap_or_else(|| DEFAULT_CERTIFICATE.into()),
            key: key
                .or_else(|| env("GEARMAND_SERVER_KEY"))
                .unwrap_or_else(|| DEFAULT_KEY.into()),
            ca_file: ca_file.or_else(|| env("GEARMAND_CA_CERTIFICATE")),
        }
    }

    /// Reads the files into a rustls configuration; the error names the file at fault.
    pub fn config(&self) -> Result<Arc<ServerConfig>, String> {
        let builder = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?;
        let builder = match &self.ca_file {
            Some(ca) => {
                let roots = roots_from_file(ca).map_err(strip)?;
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
                        .build()
                        .map_err(|e| format!("TLS: CA file {}: {e}", ca.display()))?;
                builder.with_client_cert_verifier(verifier)
            }
            None => builder.with_no_client_auth(),
        };
        let certificates = read_certificates(&self.certificate).map_err(strip)?;
        let key = read_key(&self.key).map_err(strip)?;
        let config = builder.with_single_cert(certificates, key).map_err(|e| {
            format!(
                "TLS: certificate {} and key {} do not go together: {e}",
                self.certificate.display(),
                self.key.display()
            )
        })?;
        Ok(Arc::new(config))
    }
}

/// gearman-core's `invalid argument: TLS: …` → `TLS: …`.
fn strip(e: gearman_core::Error) -> String {
    match e {
        gearman_core::Error::InvalidArgument(text) => text,
        other => other.to_string(),
    }
}

/// The TLS side of every listener: the files, the configuration made from them, and the
/// handshake timeout.
pub struct ServerTls {
    files: TlsFiles,
    current: RwLock<Arc<ServerConfig>>,
    pub handshake_timeout: Duration,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTls")
            .field("files", &self.files)
            .field("handshake_timeout", &self.handshake_timeout)
            .finish()
    }
}

impl ServerTls {
    /// Reads the files; an error means the server must not start.
    pub fn new(files: TlsFiles, handshake_timeout: Duration) -> Result<ServerTls, String> {
        let config = files.config()?;
        Ok(ServerTls {
            files,
            current: RwLock::new(config),
            handshake_timeout,
        })
    }

    pub fn files(&self) -> &TlsFiles {
        &self.files
    }

    /// Reads the files again (SIGHUP). Connections already made keep their sessions; new
    /// ones get the new certificate. On an error the old configuration stays.
    pub fn reload(&self) -> Result<(), String> {
        let config = self.files.config()?;
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = config;
        Ok(())
    }

    fn config(&self) -> Arc<ServerConfig> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Completes the handshake of a new connection within the timeout. A peer that speaks
    /// plaintext is told so in its own protocol before it is closed; every failure is one
    /// log line naming the peer and the reason.
    pub async fn accept(
        &self,
        stream: TcpStream,
        peer: SocketAddr,
    ) -> Option<(TcpStream, Arc<Mutex<ServerConnection>>)> {
        let first = match tokio::time::timeout(self.handshake_timeout, first_byte(&stream)).await {
            Ok(Ok(Some(byte))) => byte,
            Ok(Ok(None)) => {
                tracing::debug!(%peer, "closed before the TLS handshake");
                return None;
            }
            Ok(Err(e)) => {
                tracing::error!(%peer, error = %e, "TLS handshake failed");
                return None;
            }
            Err(_) => {
                tracing::error!(%peer, timeout = ?self.handshake_timeout, "TLS handshake timed out");
                return None;
            }
        };
        if first != TLS_HANDSHAKE {
            tracing::error!(%peer, "refused: plaintext on a TLS port");
            refuse_plaintext(stream, first).await;
            return None;
        }
        let acceptor = tokio_rustls::TlsAcceptor::from(self.config());
        match tokio::time::timeout(self.handshake_timeout, acceptor.accept(stream)).await {
            Ok(Ok(tls)) => {
                let (stream, session) = tls.into_inner();
                Some((stream, Arc::new(Mutex::new(session))))
            }
            Ok(Err(e)) => {
                tracing::error!(%peer, error = %e, "TLS handshake failed");
                None
            }
            Err(_) => {
                tracing::error!(%peer, timeout = ?self.handshake_timeout, "TLS handshake timed out");
                None
            }
        }
    }
}

async fn first_byte(stream: &TcpStream) -> std::io::Result<Option<u8>> {
    let mut byte = [0u8];
    match stream.peek(&mut byte).await? {
        0 => Ok(None),
        _ => Ok(Some(byte[0])),
    }
}

/// Answers a plaintext peer in its protocol: an ERROR packet for a binary request, an `ERR`
/// line for an admin command.
async fn refuse_plaintext(mut stream: TcpStream, first: u8) {
    const TEXT: &str = "this port requires TLS (connect with TLS, e.g. gearman -S)";
    let mut reply = bytes::BytesMut::new();
    if first == 0 {
        Response::Error {
            code: &b"TLS_REQUIRED"[..],
            text: TEXT.as_bytes(),
        }
        .encode(&mut reply);
    } else {
        reply.extend_from_slice(
            format!(
                "ERR TLS_REQUIRED {}\r\n",
                gearman_core::admin::url_encode(TEXT)
            )
            .as_bytes(),
        );
    }
    // Unread input at close would reset the connection and could discard the reply: send it,
    // then read what the peer still sends, for a moment, before closing.
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        stream.write_all(&reply).await?;
        stream.shutdown().await?;
        let mut sink = [0u8; 4096];
        while stream.read(&mut sink).await? > 0 {}
        Ok::<(), std::io::Error>(())
    })
    .await;
}
