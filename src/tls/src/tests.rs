use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;
use crate::test_pki::{Issued, TestCa};

/// A TLS echo-once server on loopback, optionally demanding client certificates from `client_ca`.
async fn server(issued: &Issued, client_ca: Option<&Path>) -> std::net::SocketAddr {
    let identity = Identity { cert_file: issued.cert_file.clone(), key_file: issued.key_file.clone() };
    let config = match client_ca {
        Some(ca) => server_config(&identity, ca).unwrap(),
        None => Arc::new(
            rustls::ServerConfig::builder_with_provider(provider())
                .with_protocol_versions(PROTOCOL_VERSIONS)
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(load_certs(&issued.cert_file).unwrap(), load_key(&issued.key_file).unwrap())
                .unwrap(),
        ),
    };
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(tcp).await {
                    let mut buf = [0u8; 5];
                    if tls.read_exact(&mut buf).await.is_ok() {
                        let _ = tls.write_all(&buf).await;
                        let _ = tls.shutdown().await;
                    }
                }
            });
        }
    });
    addr
}

async fn hello(config: Arc<rustls::ClientConfig>, addr: std::net::SocketAddr, name: &str) -> std::io::Result<String> {
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let mut tls = tokio_rustls::TlsConnector::from(config).connect(server_name(name).unwrap(), tcp).await?;
    assert_eq!(tls.get_ref().1.protocol_version(), Some(rustls::ProtocolVersion::TLSv1_3));
    tls.write_all(b"hello").await?;
    let mut back = String::new();
    tls.read_to_string(&mut back).await?;
    Ok(back)
}

#[tokio::test]
async fn trusts_only_the_named_ca_and_checks_the_name() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new(dir.path(), "region");
    let other = TestCa::new(dir.path(), "stranger");
    let srv = ca.server("ups", &["ups.example.jp", "127.0.0.1"]);
    let addr = server(&srv, None).await;

    let ok = client_config(&ca.ca_file(), None).unwrap();
    assert_eq!(hello(ok.clone(), addr, "ups.example.jp").await.unwrap(), "hello");
    assert_eq!(hello(ok.clone(), addr, "127.0.0.1").await.unwrap(), "hello");

    let wrong_name = hello(ok, addr, "other.example.jp").await.unwrap_err().to_string();
    assert!(wrong_name.contains("not valid for name"), "{wrong_name}");
    let unknown = hello(client_config(&other.ca_file(), None).unwrap(), addr, "ups.example.jp").await.unwrap_err();
    assert!(unknown.to_string().contains("UnknownIssuer"), "{unknown}");
}

#[tokio::test]
async fn presents_a_client_certificate_when_given_one() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new(dir.path(), "region");
    let srv = ca.server("partner", &["partner.example.jp"]);
    let addr = server(&srv, Some(&ca.ca_file())).await;
    let me = ca.client("me", "appliance-1.example.jp");
    let id = Identity { cert_file: me.cert_file, key_file: me.key_file };
    let with = client_config(&ca.ca_file(), Some(&id)).unwrap();
    assert_eq!(hello(with, addr, "partner.example.jp").await.unwrap(), "hello");
    // Without one, the server ends the handshake (TLS 1.3 reports it at the first read).
    let without = client_config(&ca.ca_file(), None).unwrap();
    assert!(hello(without, addr, "partner.example.jp").await.is_err());
}

#[test]
fn refuses_keys_others_can_read_and_files_that_hold_no_certificate() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new(dir.path(), "region");
    let me = ca.client("me", "appliance-1");
    std::fs::set_permissions(&me.key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let e = load_key(&me.key_file).unwrap_err().to_string();
    assert!(e.contains("chmod 600"), "{e}");
    let id = Identity { cert_file: me.cert_file.clone(), key_file: me.key_file.clone() };
    assert!(client_config(&ca.ca_file(), Some(&id)).is_err());

    let e = client_config(&me.key_file, None).unwrap_err().to_string();
    assert!(e.contains("no PEM certificate"), "{e}");
    let e = client_config(&dir.path().join("absent.pem"), None).unwrap_err().to_string();
    assert!(e.contains("absent.pem"), "{e}");
    assert!(server_name("not a name").is_err());
}

#[test]
fn a_csr_for_the_appliance_names_it_and_its_key() {
    let made = new_key_and_csr("hakobune-0f3a9c2e", &["hakobune-0f3a9c2e.region.example.jp".into()]).unwrap();
    assert!(made.key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    assert!(made.csr_pem.starts_with("-----BEGIN CERTIFICATE REQUEST-----"));
    assert_eq!(made.public_key_sha256.len(), 64);
    // openssl, an independent implementation, checks the request's self-signature and reads it.
    let dir = tempfile::tempdir().unwrap();
    let csr = dir.path().join("req.pem");
    std::fs::write(&csr, &made.csr_pem).unwrap();
    let out = std::process::Command::new("openssl")
        .args(["req", "-verify", "-noout", "-text", "-in"])
        .arg(&csr)
        .output()
        .expect("openssl (installed by the README's test command)");
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("CN=hakobune-0f3a9c2e") || text.contains("CN = hakobune-0f3a9c2e"), "{text}");
    assert!(text.contains("DNS:hakobune-0f3a9c2e.region.example.jp"), "{text}");
    assert!(text.contains("prime256v1") || text.contains("P-256"), "{text}");
    // The fingerprint the console shows is the one openssl computes from the request.
    let pubkey = dir.path().join("pub.pem");
    let ok = std::process::Command::new("openssl")
        .args(["req", "-pubkey", "-noout", "-in"])
        .arg(&csr)
        .stdout(std::fs::File::create(&pubkey).unwrap())
        .status()
        .unwrap();
    assert!(ok.success());
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("openssl pkey -pubin -outform DER -in {} | openssl dgst -sha256 -r", pubkey.display()))
        .output()
        .unwrap();
    let digest = String::from_utf8_lossy(&out.stdout);
    assert_eq!(digest.split_whitespace().next(), Some(made.public_key_sha256.as_str()), "{digest}");
    // A second request has a different key.
    let again = new_key_and_csr("hakobune-0f3a9c2e", &[]).unwrap();
    assert_ne!(again.public_key_sha256, made.public_key_sha256);
}

#[test]
fn a_client_is_named_by_its_certificate_subject() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new(dir.path(), "region");
    let gw = ca.client("gw", "gw.hospital-a.example.jp");
    let cert = load_certs(&gw.cert_file).unwrap().remove(0);
    let subject = peer_subject(&cert).unwrap();
    assert_eq!(subject, "CN=gw.hospital-a.example.jp");
    assert!(subject_matches(&subject, &["CN=gw.hospital-a.example.jp".into()]));
    assert!(subject_matches("CN=gw.a, O=Hospital A, C=JP", &["CN=gw.a".into()]));
    assert!(subject_matches("CN=gw.a, O=Hospital A, C=JP", &["CN=gw.a, O=Hospital A, C=JP".into()]));
    assert!(!subject_matches("CN=gw.b, O=Hospital B", &["CN=gw.a".into()]));
    assert!(!subject_matches("CN=gw.a", &[]));
    assert!(!subject_matches("O=CN=gw.a", &["CN=gw.a".into()]));
}
