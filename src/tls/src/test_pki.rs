//! Throwaway certificate authorities for tests (feature `test-pki`): the repository holds no keys,
//! every test generates its own.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};

/// A test CA that issues server and client certificates into a folder.
pub struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
    dir: PathBuf,
    name: String,
}

/// Files of one issued certificate.
#[derive(Debug, Clone)]
pub struct Issued {
    /// PEM certificate.
    pub cert_file: PathBuf,
    /// PEM private key (PKCS#8, mode 600).
    pub key_file: PathBuf,
}

fn write_private(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).expect("write key");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod key");
}

impl TestCa {
    /// A new CA named `name`; its certificate is written to `dir/<name>-ca.pem`.
    pub fn new(dir: &Path, name: &str) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, format!("{name} test CA"));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().expect("CA key");
        let cert = params.self_signed(&key).expect("CA certificate");
        let pem = cert.pem();
        std::fs::write(dir.join(format!("{name}-ca.pem")), &pem).expect("write CA");
        TestCa { issuer: Issuer::new(params, key), pem, dir: dir.to_owned(), name: name.to_owned() }
    }

    /// The CA certificate file.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join(format!("{}-ca.pem", self.name))
    }

    /// The CA certificate, PEM.
    pub fn ca_pem(&self) -> &str {
        &self.pem
    }

    fn issue(&self, file: &str, names: &[&str], usage: ExtendedKeyUsagePurpose) -> Issued {
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).expect("leaf params");
        params.distinguished_name.push(DnType::CommonName, names.first().copied().unwrap_or(file));
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![usage];
        params.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate().expect("leaf key");
        let cert = params.signed_by(&key, &self.issuer).expect("leaf certificate");
        let issued =
            Issued { cert_file: self.dir.join(format!("{file}.pem")), key_file: self.dir.join(format!("{file}.key")) };
        std::fs::write(&issued.cert_file, cert.pem()).expect("write certificate");
        write_private(&issued.key_file, &key.serialize_pem());
        issued
    }

    /// A server certificate for `names` (DNS names or IP addresses), files `dir/<file>.pem|.key`.
    pub fn server(&self, file: &str, names: &[&str]) -> Issued {
        self.issue(file, names, ExtendedKeyUsagePurpose::ServerAuth)
    }

    /// A client certificate with common name `cn`, files `dir/<file>.pem|.key`.
    pub fn client(&self, file: &str, cn: &str) -> Issued {
        self.issue(file, &[cn], ExtendedKeyUsagePurpose::ClientAuth)
    }
}
