//! The appliance's TLS policy, in one place, on rustls.
//!
//! Brief overview:
//! - [`client_config`] builds a rustls client configuration that speaks TLS 1.2 or 1.3 only,
//!   trusts only the CA certificates in the file the operator names (never the public web roots:
//!   the peers of an appliance are its own UPS server, partner appliance and hospital gateways,
//!   whose certificates a regional CA issues), and presents a client certificate when one is
//!   given (mutual TLS).
//! - [`load_certs`] and [`load_key`] read PEM files; a private key that group or others can read
//!   is refused, as the MHLW security guideline expects keys to be readable by their service only.
//! - [`new_key_and_csr`] makes the appliance's own key (ECDSA P-256) and a certificate signing
//!   request for the regional CA, at first boot; the key never leaves the box.
//! - [`server_config`] builds the listener side for mutual TLS: the appliance's certificate and
//!   key, TLS 1.2 or 1.3 only, and every client must present a certificate of the CA the operator
//!   names (hospital gateways, the partner appliance); [`peer_subject`] names such a client.
//! - [`server_name`] checks a peer name (DNS name or IP address) once, when the configuration is
//!   read, rather than at the first connection.
//!
//! Architecture invariant: every TLS connection the appliance makes or accepts gets its rustls
//! configuration from this crate, so that the protocol floor and trust rules cannot drift apart
//! between subsystems. This crate does no I/O beyond reading the named files.

#![deny(missing_docs)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

pub use rustls;
pub use tokio_rustls;

/// Errors building a TLS configuration.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A certificate or key file could not be used.
    #[error("{path}: {why}")]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// The peer name is neither a DNS name nor an IP address.
    #[error("{0:?} is not a valid TLS server name (a DNS name or an IP address)")]
    ServerName(String),
    /// Key or request generation failed.
    #[error("generating the key or certificate request: {0}")]
    Csr(String),
    /// rustls refused the combination (for example a key that does not match the certificate).
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

fn file_err(path: &Path, why: impl ToString) -> TlsError {
    TlsError::File { path: path.to_owned(), why: why.to_string() }
}

/// The cryptography the appliance uses: rustls' ring provider, TLS 1.3 and 1.2 only.
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The protocol versions the appliance accepts: TLS 1.3 and TLS 1.2, nothing older.
pub const PROTOCOL_VERSIONS: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS13, &rustls::version::TLS12];

/// Reads every certificate of a PEM file (at least one).
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| file_err(path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_err(path, e))?;
    if certs.is_empty() {
        return Err(file_err(path, "no PEM certificate (-----BEGIN CERTIFICATE-----) in the file"));
    }
    Ok(certs)
}

/// Reads a PEM private key (PKCS#8, PKCS#1 or SEC1), refusing a file that group or others can read.
pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).map_err(|e| file_err(path, e))?.permissions().mode();
    if mode & 0o077 != 0 {
        return Err(file_err(
            path,
            format!("mode {:o} lets group or others read the private key; chmod 600", mode & 0o777),
        ));
    }
    PrivateKeyDer::from_pem_file(path).map_err(|e| file_err(path, e))
}

/// Checks a TLS server name: a DNS name (matched against the certificate's DNS names) or an IP
/// address (matched against its IP addresses).
pub fn server_name(name: &str) -> Result<ServerName<'static>, TlsError> {
    ServerName::try_from(name.to_owned()).map_err(|_| TlsError::ServerName(name.to_owned()))
}

/// A client certificate and its key, for mutual TLS.
#[derive(Debug, Clone)]
pub struct Identity {
    /// PEM certificate chain, the appliance's own certificate first.
    pub cert_file: PathBuf,
    /// PEM private key (mode 600).
    pub key_file: PathBuf,
}

/// The trust anchors of a CA file: every certificate in it, each one usable as a CA.
fn ca_roots(ca_file: &Path) -> Result<rustls::RootCertStore, TlsError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in load_certs(ca_file)? {
        roots.add(cert).map_err(|e| file_err(ca_file, format!("not a usable CA certificate: {e}")))?;
    }
    Ok(roots)
}

/// A client configuration: TLS 1.2+, server certificates verified against the CA certificates in
/// `ca_file` only, and `identity` presented when the server asks for a client certificate.
pub fn client_config(ca_file: &Path, identity: Option<&Identity>) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let builder = rustls::ClientConfig::builder_with_provider(provider()).with_protocol_versions(PROTOCOL_VERSIONS)?;
    let builder = builder.with_root_certificates(ca_roots(ca_file)?);
    let config = match identity {
        Some(id) => builder.with_client_auth_cert(load_certs(&id.cert_file)?, load_key(&id.key_file)?)?,
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// A server configuration for mutual TLS: TLS 1.2+, `identity` as the server's certificate chain and
/// key, and a client certificate required of every client, verified against the CA certificates in
/// `client_ca_file` only (no anonymous clients: the peers are hospital gateways and the partner
/// appliance, whose certificates the regional CA issues).
pub fn server_config(identity: &Identity, client_ca_file: &Path) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let verifier =
        rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(ca_roots(client_ca_file)?), provider())
            .build()
            .map_err(|e| file_err(client_ca_file, format!("no client certificate verifier: {e}")))?;
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(PROTOCOL_VERSIONS)?
        .with_client_cert_verifier(verifier)
        .with_single_cert(load_certs(&identity.cert_file)?, load_key(&identity.key_file)?)?;
    Ok(Arc::new(config))
}

/// The subject of a verified client certificate as RFC 4514-style text in the certificate's own
/// order (for example `CN=gw.hospital-a.example.jp, O=Hospital A, C=JP`), or `None` when the
/// certificate cannot be parsed. Facilities list these in `tls_client_subjects`.
pub fn peer_subject(cert: &CertificateDer<'_>) -> Option<String> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).ok()?;
    Some(parsed.subject().to_string())
}

/// Whether a client certificate's `subject` (as [`peer_subject`] gives it) matches one of a
/// facility's listed subjects: the whole subject, or only its common name written `CN=<name>`.
pub fn subject_matches(subject: &str, listed: &[String]) -> bool {
    let cn = subject.split(", ").find(|part| part.starts_with("CN="));
    listed.iter().any(|l| l == subject || Some(l.as_str()) == cn)
}

#[cfg(test)]
mod tests;

/// A new private key and the certificate signing request (PKCS#10) that names it.
#[derive(Debug)]
pub struct KeyAndCsr {
    /// The private key, PKCS#8 PEM. Write it with mode 600.
    pub key_pem: String,
    /// The request, PEM, for the regional CA.
    pub csr_pem: String,
    /// SHA-256 of the public key (SubjectPublicKeyInfo DER), hex: what the CA's operator compares
    /// over the phone with what the box's console shows.
    pub public_key_sha256: String,
}

/// Generates an ECDSA P-256 key and a CSR with `common_name` and the DNS names / IP addresses in
/// `names` as subject alternative names.
pub fn new_key_and_csr(common_name: &str, names: &[String]) -> Result<KeyAndCsr, TlsError> {
    let csr_err = |e: rcgen::Error| TlsError::Csr(e.to_string());
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(csr_err)?;
    let mut params = rcgen::CertificateParams::new(names.to_vec()).map_err(csr_err)?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(rcgen::DnType::CommonName, common_name);
    let csr = params.serialize_request(&key).map_err(csr_err)?;
    let spki = rcgen::PublicKeyData::subject_public_key_info(&key);
    use sha2::Digest;
    let public_key_sha256 = sha2::Sha256::digest(&spki).iter().map(|b| format!("{b:02x}")).collect();
    Ok(KeyAndCsr { key_pem: key.serialize_pem(), csr_pem: csr.pem().map_err(csr_err)?, public_key_sha256 })
}

#[cfg(any(test, feature = "test-pki"))]
pub mod test_pki;
