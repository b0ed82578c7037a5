//! Bad input gets a clear AE/AR with ERR segments, is kept in quarantine, and the connection stays
//! usable where the framing allows. Slow and idle clients are timed out; many clients are served.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::*;

const FAC: &str = "2212345678";

fn facility() -> String {
    format!("[[facility]]\nid = \"{FAC}\"\nname = \"登呂総合病院\"\nmsh4 = [\"TORO\"]\n")
}

fn quarantined(server: &Server) -> Vec<serde_json::Value> {
    server.quarantined()
}

#[tokio::test(flavor = "multi_thread")]
async fn each_kind_of_bad_input_gets_its_nak_and_is_quarantined() {
    let server = Server::start("max_message_bytes = 65536", &facility());
    let mut c = server.client().await;

    // Not HL7 at all.
    let ack = c.send(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
    assert_eq!(ack_code(&ack), "AR", "{}", ack_text(&ack));
    assert!(ack_text(&ack).contains("ERR|"), "{}", ack_text(&ack));

    // Shift_JIS bytes instead of ISO-2022-JP.
    let mut sjis = adt08("TORO", "E1", "1234567", "20261120103000");
    sjis.extend_from_slice(b"NTE|1||\x8a\xb3\x8e\xd2\r");
    let ack = c.send(&sjis).await.unwrap();
    assert_eq!(ack_code(&ack), "AE", "{}", ack_text(&ack));
    assert!(ack_text(&ack).contains("ERR||MSH^1^18|102^"), "{}", ack_text(&ack));
    assert!(ack_text(&ack).contains("E1"), "MSA-2 echoes the control ID: {}", ack_text(&ack));

    // Missing PID-3.
    let ack = c.send(&adt08("TORO", "E2", "", "20261120103000")).await.unwrap();
    assert_eq!(ack_code(&ack), "AE", "{}", ack_text(&ack));
    assert!(ack_text(&ack).contains("ERR||PID^1^3"), "{}", ack_text(&ack));
    assert!(ack_text(&ack).contains("101^Required field missing^HL70357"), "{}", ack_text(&ack));

    // Unknown sender.
    let ack = c.send(&adt08("NOBODY", "E3", "1234567", "20261120103000")).await.unwrap();
    assert_eq!(ack_code(&ack), "AR", "{}", ack_text(&ack));
    assert!(ack_text(&ack).contains("ERR||MSH^1^4"), "{}", ack_text(&ack));

    // Unknown message type.
    let text = "MSH|^~\\&|HIS|TORO|GW|RCV|20261120103000||ZZZ^Z99^ZZZ_Z99|E4|P|2.5\rPID|0001||1234567^^^^PI\r";
    let ack = c.send(text.as_bytes()).await.unwrap();
    assert_eq!(ack_code(&ack), "AR", "{}", ack_text(&ack));
    assert!(ack_text(&ack).contains("200^Unsupported message type"), "{}", ack_text(&ack));

    // A character outside JIS X 0208 (① is NEC row 13).
    let bad = encoding_rs::ISO_2022_JP
        .encode("MSH|^~\\&|HIS|TORO|GW|RCV|20261120103000||ADT^A08^ADT_A01|E5|P|2.5||||||~ISO IR87||ISO 2022-1994\rPID|0001||1234567^^^^PI||①^太郎^^^^^L^I\r")
        .0
        .into_owned();
    let ack = c.send(&bad).await.unwrap();
    assert_eq!(ack_code(&ack), "AE", "{}", ack_text(&ack));
    assert!(ack_text(&ack).contains("ERR||PID^1^5"), "{}", ack_text(&ack));
    assert!(ack_text(&ack).contains("JIS X 0208"), "{}", ack_text(&ack));

    // Oversize: refused, and the same connection then works.
    let mut big = adt08("TORO", "E6", "1234567", "20261120103000");
    big.extend(std::iter::repeat_n(b'A', 70_000));
    let ack = c.send(&big).await.unwrap();
    assert_eq!(ack_code(&ack), "AR", "{}", ack_text(&ack));
    assert!(ack_text(&ack).contains("65536"), "{}", ack_text(&ack));
    assert!(ack_text(&ack).contains("MSA|AR|E6"), "MSA-2 from the kept head: {}", ack_text(&ack));
    let ack = c.send(&adt08("TORO", "OK1", "1234567", "20261120103000")).await.unwrap();
    assert_eq!(ack_code(&ack), "AA", "{}", ack_text(&ack));

    let kinds: Vec<String> = quarantined(&server).iter().map(|q| q["kind"].as_str().unwrap().to_owned()).collect();
    for k in ["not-hl7", "encoding", "classification", "unknown-facility", "unsupported", "non-jis-x0208", "oversize"] {
        assert!(kinds.iter().any(|x| x == k), "no quarantined {k}: {kinds:?}");
    }
    let reasons = quarantined(&server);
    let missing_pid = reasons.iter().find(|q| q["control_id"] == "E2").unwrap();
    assert_eq!(missing_pid["ack_code"], "AE");
    assert_eq!(missing_pid["facility_id"], FAC);

    // Garbage before a frame is skipped and the frame is served on the same connection.
    let mut raw = tokio::net::TcpStream::connect(server.mllp).await.unwrap();
    let mut bytes = b"noise before the start block".to_vec();
    bytes.push(0x0b);
    bytes.extend(adt08("TORO", "OK2", "1234567", "20261120103001"));
    bytes.extend([0x1c, 0x0d]);
    raw.write_all(&bytes).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), raw.read(&mut buf)).await.unwrap().unwrap();
    assert_eq!(ack_code(&buf[..n]), "AA", "{}", ack_text(&buf[..n]));
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_and_slow_clients_are_disconnected() {
    let server = Server::start("idle_timeout_secs = 2\nframe_timeout_secs = 1", &facility());
    // Idle: connect and say nothing.
    let mut idle = tokio::net::TcpStream::connect(server.mllp).await.unwrap();
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(Duration::from_secs(10), idle.read(&mut buf))
        .await
        .expect("idle connection was not closed")
        .unwrap();
    assert_eq!(n, 0);
    // Slow: start a frame and never finish it.
    let mut slow = tokio::net::TcpStream::connect(server.mllp).await.unwrap();
    slow.write_all(b"\x0bMSH|^~\\&|HIS|TORO").await.unwrap();
    let n = tokio::time::timeout(Duration::from_secs(10), slow.read(&mut buf))
        .await
        .expect("slow connection was not closed")
        .unwrap();
    assert_eq!(n, 0);
    let metrics = reqwest::get(format!("http://{}/metrics", server.http)).await.unwrap().text().await.unwrap();
    assert!(metrics.contains("hakobune_mllp_timeouts_total 2"), "{metrics}");
}

#[tokio::test(flavor = "multi_thread")]
async fn many_connections_at_once_and_updates_and_cancellations() {
    let server = Server::start("", &facility());
    let mut tasks = Vec::new();
    for i in 0..200 {
        let addr = server.mllp;
        tasks.push(tokio::spawn(async move {
            let mut c = hakobune_mllp::MllpClient::connect(addr).await.unwrap();
            let ack = c
                .send(&adt08("TORO", &format!("M{i}"), &format!("{:07}", 2000000 + i), "20261120103000"))
                .await
                .unwrap();
            ack_code(&ack)
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), "AA");
    }
    // An order, its update, and its cancellation: _2, then everything _0.
    let mut c = server.client().await;
    for (ctrl, orc1, ts) in [("O1", "NW", "20261120103000.100"), ("O2", "XO", "20261120103500.200")] {
        let ack = c.send(&rde("TORO", ctrl, "7654321", "000000011000185", orc1, ts)).await.unwrap();
        assert_eq!(ack_code(&ack), "AA", "{}", ack_text(&ack));
    }
    server.settle().await;
    let dir = server.storage_root(FAC).join("765/432/7654321/20261120/OMP-01");
    let mut names: Vec<String> =
        std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            "7654321_20261120_OMP-01_000000011000185_20261120103000100_01_2",
            "7654321_20261120_OMP-01_000000011000185_20261120103500200_01_1",
        ]
    );
    let ack = c.send(&rde("TORO", "O3", "7654321", "000000011000185", "CA", "20261120104000.300")).await.unwrap();
    assert_eq!(ack_code(&ack), "AA", "{}", ack_text(&ack));
    server.settle().await;
    let mut names: Vec<String> =
        std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            "7654321_20261120_OMP-01_000000011000185_20261120103000100_01_0",
            "7654321_20261120_OMP-01_000000011000185_20261120103500200_01_0",
            "7654321_20261120_OMP-01_000000011000185_20261120104000300_01_0",
        ]
    );
    let list = server.get_json(&format!("/api/v1/facilities/{FAC}/patients/7654321/documents")).await;
    assert_eq!(list["count"], 0, "only current versions by default: {list}");
    let list =
        server.get_json(&format!("/api/v1/facilities/{FAC}/patients/7654321/documents?include_history=true")).await;
    assert_eq!(list["count"], 3);
    let mut server = server;
    assert!(server.stop().success());
    let (ok, out) = server.verify(false);
    assert!(ok, "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn below_the_free_space_floor_new_data_is_refused_with_retry_later() {
    // A floor no disk can meet: every message must be refused cleanly, nothing half-written.
    let server = Server::start("free_space_floor_mib = 1000000000", &facility());
    let mut c = server.client().await;
    let ack = c.send(&adt08("TORO", "F1", "1234567", "20261120103000")).await.unwrap();
    assert_eq!(ack_code(&ack), "AR", "{}", ack_text(&ack));
    assert!(ack_text(&ack).contains("207^Application internal error"), "{}", ack_text(&ack));
    assert!(ack_text(&ack).contains("空き容量"), "{}", ack_text(&ack));
    let h = server.get_json("/healthz").await;
    assert_eq!(h["store"]["committed_seq"], 0);
    // Not bad input: nothing is quarantined, the sender simply retries later.
    assert!(quarantined(&server).is_empty());
}
