//! A throwaway certificate authority for the TLS tests, made with rcgen into a directory of
//! PEM files: a CA, a server certificate for `localhost`, `127.0.0.1` and `::1`, a client
//! certificate, and the certificates the refusal tests need (another CA's, an expired one,
//! a second server certificate for reloads).

use std::path::{Path, PathBuf};

use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};

/// A certificate and its key, as PEM files.
#[derive(Debug, Clone)]
pub struct CertFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The files of a test PKI; all under one directory, removed by the caller's temp dir.
#[derive(Debug, Clone)]
pub struct Pki {
    pub dir: PathBuf,
    /// The CA every good certificate is signed by.
    pub ca: PathBuf,
    /// A CA that signed nothing this PKI's servers trust.
    pub other_ca: PathBuf,
    /// The server's certificate (localhost, 127.0.0.1, ::1).
    pub server: CertFiles,
    /// Another server certificate from the same CA (CN "reloaded"), for SIGHUP tests.
    pub server_reloaded: CertFiles,
    /// A server certificate that expired in 2001.
    pub server_expired: CertFiles,
    /// A server certificate signed by `other_ca`.
    pub server_other_ca: CertFiles,
    /// A client certificate signed by `ca`.
    pub client: CertFiles,
    /// A client certificate signed by `other_ca`.
    pub client_other_ca: CertFiles,
}

struct Authority {
    params: CertificateParams,
    key: KeyPair,
}

impl Authority {
    fn new(name: &str) -> Authority {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        Authority {
            params,
            key: KeyPair::generate().expect("CA key"),
        }
    }

    fn pem(&self) -> String {
        self.params
            .self_signed(&self.key)
            .expect("CA certificate")
            .pem()
    }

    fn sign(&self, params: CertificateParams) -> (String, String) {
        let key = KeyPair::generate().expect("key");
        let issuer = Issuer::from_params(&self.params, &self.key);
        let cert = params.signed_by(&key, &issuer).expect("certificate");
        (cert.pem(), key.serialize_pem())
    }
}

fn leaf(name: &str, sans: &[&str], purpose: ExtendedKeyUsagePurpose) -> CertificateParams {
    let sans: Vec<String> = sans.iter().map(|s| s.to_string()).collect();
    let mut params = CertificateParams::new(sans).expect("leaf params");
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![purpose];
    params
}

const SERVER_NAMES: &[&str] = &["localhost", "127.0.0.1", "::1"];

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    path
}

fn write_pair(dir: &Path, name: &str, (cert, key): (String, String)) -> CertFiles {
    CertFiles {
        cert: write(dir, &format!("{name}.pem"), &cert),
        key: write(dir, &format!("{name}.key"), &key),
    }
}

impl Pki {
    /// Makes every file in `dir` (created if needed).
    pub fn new(dir: &Path) -> Pki {
        std::fs::create_dir_all(dir).expect("pki directory");
        let ca = Authority::new("gearman-rs test CA");
        let other = Authority::new("some other CA");
        let server = || {
            leaf(
                "gearman test server",
                SERVER_NAMES,
                ExtendedKeyUsagePurpose::ServerAuth,
            )
        };
        let mut expired = server();
        expired.not_before = date_time_ymd(2000, 1, 1);
        expired.not_after = date_time_ymd(2001, 1, 1);
        let reloaded = leaf(
            "reloaded",
            SERVER_NAMES,
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        let client = || {
            leaf(
                "gearman test client",
                &[],
                ExtendedKeyUsagePurpose::ClientAuth,
            )
        };
        Pki {
            dir: dir.to_path_buf(),
            ca: write(dir, "ca.pem", &ca.pem()),
            other_ca: write(dir, "other-ca.pem", &other.pem()),
            server: write_pair(dir, "server", ca.sign(server())),
            server_reloaded: write_pair(dir, "server-reloaded", ca.sign(reloaded)),
            server_expired: write_pair(dir, "server-expired", ca.sign(expired)),
            server_other_ca: write_pair(dir, "server-other-ca", other.sign(server())),
            client: write_pair(dir, "client", ca.sign(client())),
            client_other_ca: write_pair(dir, "client-other-ca", other.sign(client())),
        }
    }
}
