//! Material no one here wrote: the public SS-MIX2 samples, sent over MLLP, must land at the path
//! and under the name the sample itself has, byte for byte.

use crate::harness::*;

#[tokio::test(flavor = "multi_thread")]
async fn self_consistent_samples_land_at_their_own_path_byte_identical() {
    let server = Server::start("", &sample_facility());
    let mut client = server.client().await;
    let mut sent = Vec::new();
    // The default rules' self-consistent samples, plus OMP-11, which is consistent once this
    // sender's 診療日 for RAS^O17 comes from ORC-9 (see harness::sample_facility).
    let extra = "999/901/9999013/20110630/OMP-11/9999013_20110630_OMP-11_123456789012345_20110701113813225_01_1";
    let samples: Vec<(String, String)> = hakobune_ssmix2::samples::self_consistent()
        .map(|s| (s.storage_root.to_owned(), s.path.to_owned()))
        .chain(std::iter::once(("nhoHQ_SSMIX2DataTestingTool/sampleData".to_owned(), extra.to_owned())))
        .collect();
    assert!(samples.len() >= 9, "{samples:?}");
    for (root, path) in &samples {
        let bytes = std::fs::read(samples_dir().join(root).join(path)).unwrap();
        // The sample files end with 0x0D 0x1C: the 0x1C is an MLLP end-block byte left in the
        // file, not part of the message, and cannot travel inside an MLLP frame.
        let message = hakobune_ssmix2::strip_storage_artifacts(&bytes).to_vec();
        let ack = client.send(&message).await.unwrap();
        assert_eq!(ack_code(&ack), "AA", "{path}:\n{}", ack_text(&ack));
        sent.push((path.clone(), message));
    }
    server.settle().await;
    for (path, message) in &sent {
        let stored = std::fs::read(server.storage_root(SAMPLE_FACILITY).join(path))
            .unwrap_or_else(|e| panic!("{path} not stored at the sample's own path: {e}"));
        assert_eq!(&stored, message, "{path}: stored bytes differ");
    }

    // The HTTP API lists them and serves the same bytes.
    let list = server
        .get_json(&format!("/api/v1/facilities/{SAMPLE_FACILITY}/patients/9999013/documents?include_history=true"))
        .await;
    assert_eq!(list["count"].as_u64().unwrap() as usize, sent.len(), "{list}");
    for doc in list["documents"].as_array().unwrap() {
        let (status, body) = server.get_bytes(doc["href"].as_str().unwrap()).await;
        assert_eq!(status, 200);
        let name = doc["file_name"].as_str().unwrap();
        let (_, message) = sent.iter().find(|(p, _)| p.ends_with(name)).expect("listed document was sent");
        assert_eq!(&body, message);
    }
    let decoded = server.get_json(&format!("{}?format=json", list["documents"][0]["href"].as_str().unwrap())).await;
    assert!(decoded["message"].to_string().contains("患者"), "{decoded}");

    // Resending every sample (a sender that lost its ACKs) stores nothing twice.
    for (_, message) in &sent {
        let ack = client.send(message).await.unwrap();
        assert_eq!(ack_code(&ack), "AA");
        assert!(ack_text(&ack).contains("duplicate"), "{}", ack_text(&ack));
    }
    server.settle().await;
    let again = server
        .get_json(&format!("/api/v1/facilities/{SAMPLE_FACILITY}/patients/9999013/documents?include_history=true"))
        .await;
    assert_eq!(again["count"], list["count"]);

    let mut server = server;
    assert!(server.stop().success(), "{}", server.log());
    let (ok, out) = server.verify(false);
    assert!(ok, "{out}");
}
