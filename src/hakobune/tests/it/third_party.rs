//! A real third-party MLLP client: `mllp_send` from the `hl7` package on PyPI (installed by the
//! README's test command).

use std::process::Command;

use crate::harness::*;

#[tokio::test(flavor = "multi_thread")]
async fn python_hl7_mllp_send_delivers_and_gets_acks() {
    let server = Server::start("", &sample_facility());
    // The sample files end with 0x0D 0x1C, which is exactly the stream format mllp_send reads
    // (messages separated by the end-block byte), so they are fed to it as they are.
    let samples: Vec<_> = hakobune_ssmix2::samples::self_consistent().take(4).collect();
    let mut stream = Vec::new();
    for s in &samples {
        stream.extend(std::fs::read(samples_dir().join(s.storage_root).join(s.path)).unwrap());
    }
    let file = server.dir.path().join("batch.hl7");
    std::fs::write(&file, &stream).unwrap();
    // `python3 -m hl7.client` is the `mllp_send` console script, without depending on PATH.
    let out = Command::new("python3")
        .args(["-m", "hl7.client", "--port", &server.mllp.port().to_string(), "--file"])
        .arg(&file)
        .arg("127.0.0.1")
        .output()
        .expect("mllp_send (pip install hl7) must be installed: run the README's test command");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let acks = ack_text(&out.stdout);
    assert_eq!(acks.matches("MSA|AA|").count(), samples.len(), "{acks}");
    server.settle().await;
    for s in &samples {
        // mllp_send strips the final CR of each message; the stored file is what it sent.
        let stored = std::fs::read(server.storage_root(SAMPLE_FACILITY).join(s.path)).unwrap();
        let original = std::fs::read(samples_dir().join(s.storage_root).join(s.path)).unwrap();
        assert_eq!(stored, original[..original.len() - 2], "{}", s.path);
    }
}
