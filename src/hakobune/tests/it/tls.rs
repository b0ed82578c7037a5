//! MLLP over mutual TLS, as a hospital gateway on the network speaks it: the real server with a
//! certificate of a throwaway regional CA, real rustls clients with and without certificates.

use std::time::Duration;

use hakobune_mllp::MllpClient;
use hakobune_tls::test_pki::{Issued, TestCa};
use hakobune_tls::tokio_rustls::TlsConnector;
use hakobune_tls::{Identity, client_config, server_name};
use tokio::io::AsyncWriteExt;

use crate::harness::*;

/// The public sample of patient 9999013 from sender SEND (the sample facility).
fn sample() -> Vec<u8> {
    let path = samples_dir().join(
        "nhoHQ_SSMIX2DataTestingTool/sampleData/999/901/9999013/-/ADT-00/9999013_-_ADT-00_999999999999999_20111220224447339_-_1",
    );
    hakobune_ssmix2::strip_storage_artifacts(&std::fs::read(path).unwrap()).to_vec()
}

/// Sends `message` over TLS to `server` as `client` (a certificate, or none); the ACK, or the error.
async fn send_tls(server: &Server, ca: &TestCa, client: Option<&Issued>, message: &[u8]) -> Result<Vec<u8>, String> {
    let identity = client.map(|c| Identity { cert_file: c.cert_file.clone(), key_file: c.key_file.clone() });
    let config = client_config(&ca.ca_file(), identity.as_ref()).unwrap();
    let tcp = tokio::net::TcpStream::connect(server.mllp_tls.expect("the server has an MLLP/TLS listener"))
        .await
        .map_err(|e| e.to_string())?;
    let tls =
        TlsConnector::from(config).connect(server_name("127.0.0.1").unwrap(), tcp).await.map_err(|e| e.to_string())?;
    let mut mllp = MllpClient::new(tls).with_timeout(Duration::from_secs(20));
    mllp.send(message).await.map(|b| b.to_vec()).map_err(|e| e.to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn gateways_send_over_mutual_tls_and_only_for_their_own_facility() {
    let pki = tempfile::tempdir().unwrap();
    let region = TestCa::new(pki.path(), "region");
    let stranger = TestCa::new(pki.path(), "stranger");
    let appliance = region.server("appliance", &["127.0.0.1"]);
    let gw_send = region.client("gw-send", "gw.send.example.jp");
    let gw_other = region.client("gw-other", "gw.other-hospital.example.jp");
    let gw_stranger = stranger.client("gw-stranger", "gw.send.example.jp");

    let tls_table = format!(
        "[tls]\ncertificate = {:?}\nkey = {:?}\nclient_ca = {:?}\n",
        appliance.cert_file,
        appliance.key_file,
        region.ca_file()
    );
    let facility = sample_facility()
        .replace("msh4 = [\"SEND\"]\n", "msh4 = [\"SEND\"]\ntls_client_subjects = [\"CN=gw.send.example.jp\"]\n");
    let server = Server::start("mllp_tls_listen = \"127.0.0.1:0\"\n", &format!("{tls_table}\n{facility}"));
    let health = server.get_json("/healthz").await;
    assert_eq!(health["server"]["mllp_tls"].as_str(), server.mllp_tls.map(|a| a.to_string()).as_deref(), "{health}");

    // The facility's own gateway: stored.
    let message = sample();
    let ack = send_tls(&server, &region, Some(&gw_send), &message).await.unwrap();
    assert_eq!(ack_code(&ack), "AA", "{}", ack_text(&ack));

    // The same with `hakobune send`, as a vendor checks a gateway's certificate from the command line.
    let sample_file = pki.path().join("sample.hl7");
    std::fs::write(&sample_file, &message).unwrap();
    let out = std::process::Command::new(bin())
        .args(["send", "--to", &server.mllp_tls.unwrap().to_string(), "--ca"])
        .arg(region.ca_file())
        .arg("--cert")
        .arg(&gw_send.cert_file)
        .arg("--key")
        .arg(&gw_send.key_file)
        .arg(&sample_file)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && said.contains("MSA|AA") && said.contains("duplicate"),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = std::process::Command::new(bin())
        .args(["send", "--to", &server.mllp_tls.unwrap().to_string(), "--ca"])
        .arg(region.ca_file())
        .arg(&sample_file)
        .output()
        .unwrap();
    assert!(!out.status.success(), "sent without a client certificate: {}", String::from_utf8_lossy(&out.stdout));

    // Another hospital's gateway (same regional CA) may not send for this facility: AR, kept.
    let ack = send_tls(&server, &region, Some(&gw_other), &message).await.unwrap();
    assert_eq!(ack_code(&ack), "AR", "{}", ack_text(&ack));
    assert!(ack_text(&ack).contains("tls_client_subjects"), "{}", ack_text(&ack));
    let kept = server.quarantined();
    assert!(
        kept.iter().any(|q| q["kind"] == "tls-client-not-of-facility"
            && q["peer"].as_str().unwrap_or("").contains("CN=gw.other-hospital.example.jp")),
        "{kept:?}"
    );

    // No certificate, a certificate of another CA, plain MLLP on the TLS port: no ACK at all.
    for (who, client, ca) in [("no certificate", None, &region), ("another CA", Some(&gw_stranger), &region)] {
        let r = send_tls(&server, ca, client, &message).await;
        assert!(r.is_err(), "{who}: answered {:?}", r.map(|a| ack_text(&a)));
    }
    // The server presents a certificate the stranger CA does not vouch for: the client refuses.
    assert!(send_tls(&server, &stranger, Some(&gw_stranger), &message).await.is_err());
    let mut plain = tokio::net::TcpStream::connect(server.mllp_tls.unwrap()).await.unwrap();
    plain.write_all(&[&[0x0b][..], &message, &[0x1c, 0x0d]].concat()).await.unwrap();
    let mut buf = Vec::new();
    let read =
        tokio::time::timeout(Duration::from_secs(20), tokio::io::AsyncReadExt::read_to_end(&mut plain, &mut buf)).await;
    assert!(!buf.windows(4).any(|w| w == b"MSA|"), "plain MLLP on the TLS port was answered: {read:?}");

    let metrics = reqwest::get(format!("http://{}/metrics", server.http)).await.unwrap().text().await.unwrap();
    let failures: u64 = metrics
        .lines()
        .find(|l| l.starts_with("hakobune_mllp_tls_handshake_failures_total "))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert!(failures >= 3, "handshake failures counted: {failures}\n{metrics}");

    // Plain MLLP on loopback still works beside it (the appliance's local senders).
    let mut client = server.client().await;
    let ack = client.send(&message).await.unwrap();
    assert_eq!(ack_code(&ack), "AA");
    assert!(ack_text(&ack).contains("duplicate"), "{}", ack_text(&ack));
}

#[test]
fn a_tls_listener_without_its_certificate_does_not_start() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("hakobune.toml");
    let region = TestCa::new(dir.path(), "region");
    let appliance = region.server("appliance", &["127.0.0.1"]);
    std::fs::write(
        &cfg,
        format!(
            "[server]\ndata_dir = {:?}\nmllp_listen = \"127.0.0.1:0\"\nhttp_listen = \"127.0.0.1:0\"\nmllp_tls_listen = \"127.0.0.1:0\"\n[tls]\ncertificate = {:?}\nkey = {:?}\nclient_ca = {:?}\n",
            dir.path().join("data"),
            dir.path().join("missing.pem"),
            appliance.key_file,
            region.ca_file()
        ),
    )
    .unwrap();
    let out = std::process::Command::new(bin()).args(["serve", "--config"]).arg(&cfg).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("missing.pem") && err.contains("[tls]"), "{err}");
}
