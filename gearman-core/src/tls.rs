//! TLS for connections to a server, with rustls: one [`TlsConnector`] per client, worker or
//! admin client, shared by every connection it makes, under tokio or the blocking driver.
//!
//! What libgearman 1.1 reads, and where ours differs:
//! - the CA file from `GEARMAND_CA_CERTIFICATE`, else `/etc/ssl/certs/gearmand-ca.pem`; ours
//!   falls back further to the system's roots when that file does not exist;
//! - the client certificate and key from `GEARMAN_CLIENT_PEM` / `GEARMAN_CLIENT_KEY`, else
//!   `/etc/ssl/certs/gearman.pem` / `gearman.key`; libgearman requires both, ours sends none
//!   when neither exists (a server that wants one then refuses the handshake);
//! - libgearman never checks the server's certificate (OpenSSL's client default); ours always
//!   does, and checks the name connected to (host name or IP address) against it.

use std::fmt;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::BytesMut;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore};

use crate::error::Error;

/// libgearman's default CA file (`GEARMAND_CA_CERTIFICATE` overrides it).
pub const DEFAULT_CA_FILE: &str = "/etc/ssl/certs/gearmand-ca.pem";
/// libgearman's default client certificate (`GEARMAN_CLIENT_PEM` overrides it).
pub const DEFAULT_CERTIFICATE: &str = "/etc/ssl/certs/gearman.pem";
/// libgearman's default client key (`GEARMAN_CLIENT_KEY` overrides it).
pub const DEFAULT_KEY: &str = "/etc/ssl/certs/gearman.key";

/// Where a client's TLS settings come from. Unset fields fall back to libgearman's
/// environment variables, then to its default files when they exist.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// PEM file of the certificate authorities that may sign the server's certificate.
    pub ca_file: Option<PathBuf>,
    /// PEM file of this client's certificate chain, for servers that require one.
    pub certificate: Option<PathBuf>,
    /// PEM file of the private key of `certificate`.
    pub key: Option<PathBuf>,
}

fn explicit_or_env(path: &Option<PathBuf>, var: &str) -> Option<PathBuf> {
    path.clone().or_else(|| {
        std::env::var_os(var)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    })
}

fn existing_default(path: &str) -> Option<PathBuf> {
    Path::new(path).exists().then(|| PathBuf::from(path))
}

impl TlsOptions {
    pub fn new(
        ca_file: Option<PathBuf>,
        certificate: Option<PathBuf>,
        key: Option<PathBuf>,
    ) -> TlsOptions {
        TlsOptions {
            ca_file,
            certificate,
            key,
        }
    }

    /// The files that will be used: explicit, else environment, else libgearman's defaults
    /// where they exist. `None` for the CA file means the system's roots.
    pub fn resolved(&self) -> TlsOptions {
        let ca_file = explicit_or_env(&self.ca_file, "GEARMAND_CA_CERTIFICATE")
            .or_else(|| existing_default(DEFAULT_CA_FILE));
        let certificate = explicit_or_env(&self.certificate, "GEARMAN_CLIENT_PEM");
        let key = explicit_or_env(&self.key, "GEARMAN_CLIENT_KEY");
        let (certificate, key) = match (certificate, key) {
            (None, None) => match (
                existing_default(DEFAULT_CERTIFICATE),
                existing_default(DEFAULT_KEY),
            ) {
                (Some(c), Some(k)) => (Some(c), Some(k)),
                _ => (None, None),
            },
            pair => pair,
        };
        TlsOptions {
            ca_file,
            certificate,
            key,
        }
    }

    /// Reads the files and makes the connector; a missing or unreadable file, a certificate
    /// without its key, or a key that does not match is an error naming the file.
    pub fn connector(&self) -> Result<TlsConnector, Error> {
        let files = self.resolved();
        let roots = match &files.ca_file {
            Some(path) => roots_from_file(path)?,
            None => system_roots()?,
        };
        let builder = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::InvalidArgument(format!("TLS: {e}")))?
            .with_root_certificates(roots);
        let config = match (&files.certificate, &files.key) {
            (Some(certificate), Some(key)) => builder
                .with_client_auth_cert(read_certificates(certificate)?, read_key(key)?)
                .map_err(|e| {
                    Error::InvalidArgument(format!(
                        "TLS: certificate {} and key {} do not go together: {e}",
                        certificate.display(),
                        key.display()
                    ))
                })?,
            (None, None) => builder.with_no_client_auth(),
            (Some(certificate), None) => {
                return Err(Error::InvalidArgument(format!(
                    "TLS: certificate {} given without its key",
                    certificate.display()
                )))
            }
            (None, Some(key)) => {
                return Err(Error::InvalidArgument(format!(
                    "TLS: key {} given without its certificate",
                    key.display()
                )))
            }
        };
        Ok(TlsConnector {
            config: Ok(Arc::new(config)),
            files,
        })
    }

    /// [`Self::connector`], or when that fails, a connector whose every connection fails
    /// with the reason: for APIs that set TLS up in calls that cannot report an error
    /// (libgearman's `gearman_client_set_ssl` returns void; its connections report it).
    pub fn connector_or_failing(&self) -> TlsConnector {
        self.connector().unwrap_or_else(|e| {
            let reason = match e {
                Error::InvalidArgument(text) => text,
                other => other.to_string(),
            };
            TlsConnector {
                config: Err(reason.into()),
                files: self.clone(),
            }
        })
    }
}

/// The crypto provider of every TLS configuration here: *ring*, so that no C toolchain
/// beyond a compiler is needed.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Reads every certificate of a PEM file; none is an error.
pub fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, Error> {
    let certificates = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| file_error("certificate", path, e))?;
    if certificates.is_empty() {
        return Err(Error::InvalidArgument(format!(
            "TLS: no certificate in {}",
            path.display()
        )));
    }
    Ok(certificates)
}

/// Reads the first private key (PKCS#8, PKCS#1 or SEC1) of a PEM file.
pub fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, Error> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| file_error("key", path, e))
}

/// The certificates of a PEM CA file as trust anchors.
pub fn roots_from_file(path: &Path) -> Result<RootCertStore, Error> {
    let mut roots = RootCertStore::empty();
    for certificate in read_certificates(path)? {
        roots.add(certificate).map_err(|e| {
            Error::InvalidArgument(format!(
                "TLS: bad CA certificate in {}: {e}",
                path.display()
            ))
        })?;
    }
    Ok(roots)
}

fn system_roots() -> Result<RootCertStore, Error> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        return Err(Error::InvalidArgument(format!(
            "TLS: no CA file given ({DEFAULT_CA_FILE} does not exist, GEARMAND_CA_CERTIFICATE \
             is unset) and no system certificate could be loaded"
        )));
    }
    Ok(roots)
}

fn file_error(what: &str, path: &Path, e: rustls::pki_types::pem::Error) -> Error {
    let reason = match e {
        rustls::pki_types::pem::Error::Io(e) => e.to_string(),
        rustls::pki_types::pem::Error::NoItemsFound => "no PEM item found".to_string(),
        other => format!("{other:?}"),
    };
    Error::InvalidArgument(format!(
        "TLS: cannot read {what} {}: {reason}",
        path.display()
    ))
}

/// A client TLS configuration, cheap to clone.
#[derive(Clone)]
pub struct TlsConnector {
    /// The reason it could not be made, for a connector that fails every connection.
    config: Result<Arc<ClientConfig>, Arc<str>>,
    files: TlsOptions,
}

impl fmt::Debug for TlsConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConnector")
            .field("files", &self.files)
            .finish()
    }
}

impl PartialEq for TlsConnector {
    fn eq(&self, other: &Self) -> bool {
        match (&self.config, &other.config) {
            (Ok(a), Ok(b)) => Arc::ptr_eq(a, b),
            (Err(a), Err(b)) => a == b,
            _ => false,
        }
    }
}

impl TlsConnector {
    /// A connector from an already built rustls configuration.
    pub fn from_config(config: Arc<ClientConfig>) -> TlsConnector {
        TlsConnector {
            config: Ok(config),
            files: TlsOptions::default(),
        }
    }

    /// The files this connector was made from.
    pub fn files(&self) -> &TlsOptions {
        &self.files
    }

    /// A new session for `host`, checked against the server's certificate.
    pub(crate) fn session(&self, host: &str) -> io::Result<ClientConnection> {
        let config = match &self.config {
            Ok(config) => config,
            Err(reason) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    reason.to_string(),
                ))
            }
        };
        let name = ServerName::try_from(host.trim_start_matches('[').trim_end_matches(']'))
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?
            .to_owned();
        ClientConnection::new(config.clone(), name).map_err(io::Error::other)
    }
}

/// TLS records in and out of a session, kept apart from the socket so that the same code
/// serves tokio's sockets and the blocking driver's.
pub(crate) struct TlsSession {
    session: ClientConnection,
    /// Records waiting to be written to the socket.
    pub(crate) outgoing: Vec<u8>,
}

impl TlsSession {
    pub(crate) fn new(session: ClientConnection) -> TlsSession {
        let mut s = TlsSession {
            session,
            outgoing: Vec::new(),
        };
        s.collect_outgoing();
        s
    }

    pub(crate) fn is_handshaking(&self) -> bool {
        self.session.is_handshaking()
    }

    /// Moves every record rustls has ready into [`Self::outgoing`].
    fn collect_outgoing(&mut self) {
        while self.session.wants_write() {
            // Writing into a Vec cannot fail.
            if self.session.write_tls(&mut self.outgoing).is_err() {
                break;
            }
        }
    }

    /// Encrypts `plaintext` into [`Self::outgoing`].
    pub(crate) fn encrypt(&mut self, mut plaintext: &[u8]) -> io::Result<()> {
        while !plaintext.is_empty() {
            let n = self.session.writer().write(plaintext)?;
            plaintext = &plaintext[n..];
            self.collect_outgoing();
            if n == 0 && self.session.wants_write() {
                continue;
            }
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
        }
        Ok(())
    }

    /// Feeds records read from the socket; an error is the handshake's or the record layer's
    /// failure, with rustls' reason. Alerts to send are left in [`Self::outgoing`].
    pub(crate) fn receive(&mut self, mut records: &[u8]) -> io::Result<()> {
        while !records.is_empty() {
            self.session.read_tls(&mut records)?;
            let processed = self.session.process_new_packets();
            self.collect_outgoing();
            processed.map_err(|e| io::Error::new(io::ErrorKind::InvalidData, describe(&e)))?;
        }
        Ok(())
    }

    /// Moves decrypted bytes into the spare room of `buf`; see [`take_plaintext`].
    pub(crate) fn read_plaintext(&mut self, buf: &mut BytesMut) -> io::Result<Option<usize>> {
        take_plaintext(&mut self.session, buf, describe)
    }
}

/// Moves what a session has decrypted into the spare room of `buf` (none if it has no room):
/// `Some(n)` bytes, `Some(0)` once the peer closed the session, `None` when nothing is ready.
/// Only the bytes written are initialised first, not the whole spare room. A TLS error is
/// `InvalidData` with `describe`'s words.
pub fn take_plaintext<D>(
    session: &mut rustls::ConnectionCommon<D>,
    buf: &mut BytesMut,
    describe: fn(&rustls::Error) -> String,
) -> io::Result<Option<usize>> {
    let state = session
        .process_new_packets()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, describe(&e)))?;
    let ready = state.plaintext_bytes_to_read();
    if ready == 0 {
        return Ok(state.peer_has_closed().then_some(0));
    }
    let take = ready.min(buf.capacity() - buf.len());
    let filled = buf.len();
    buf.resize(filled + take, 0);
    session.reader().read_exact(&mut buf[filled..])?;
    Ok(Some(take))
}

/// rustls' reason, in the words a Gearman user needs.
fn describe(e: &rustls::Error) -> String {
    match e {
        rustls::Error::InvalidMessage(_) => format!(
            "TLS handshake failed: the server did not answer in TLS (is it a TLS port?): {e}"
        ),
        rustls::Error::InvalidCertificate(_) => {
            format!("TLS handshake failed: the server's certificate was refused: {e}")
        }
        rustls::Error::AlertReceived(_) => format!("TLS refused by the server: {e}"),
        _ => format!("TLS failed: {e}"),
    }
}
