//! kill -9 at any moment loses no acknowledged message and leaves no torn file visible.

use std::time::Duration;

use crate::harness::*;

const FAC: &str = "2212345678";

fn slow() -> bool {
    std::env::var("HAKOBUNE_SLOW_TESTS").is_ok_and(|v| v == "1")
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_under_load_loses_no_acknowledged_message() {
    let facility = format!("[[facility]]\nid = \"{FAC}\"\nname = \"登呂総合病院\"\nmsh4 = [\"TORO\"]\n");
    let mut server = Server::start("", &facility);
    let cycles = if slow() { 12 } else { 3 };
    let acked: Acked = Acked::default();
    let mut next = 0u64;
    for cycle in 0..cycles {
        let mut tasks = Vec::new();
        for sender in 0..8u64 {
            let acked = acked.clone();
            let addr = server.mllp;
            let base = next + sender * 1_000_000;
            tasks.push(tokio::spawn(async move {
                let Ok(mut c) = hakobune_mllp::MllpClient::connect(addr).await else {
                    return;
                };
                for i in base.. {
                    let control = format!("K{i}");
                    let pid = format!("{:07}", 3_000_000 + i % 700);
                    let t = i % 86_400;
                    let msh7 = format!("20261120{:02}{:02}{:02}.{:03}", t / 3600, t / 60 % 60, t % 60, i % 1000);
                    let msg = if i % 2 == 0 {
                        adt08("TORO", &control, &pid, &msh7)
                    } else {
                        rde("TORO", &control, &pid, &format!("{:015}", i % 5000), "NW", &msh7)
                    };
                    match c.send(&msg).await {
                        Ok(ack) if ack_code(&ack) == "AA" => acked.lock().unwrap().push((control, msg)),
                        Ok(ack) => panic!("refused: {}", ack_text(&ack)),
                        Err(_) => return, // the server died mid-message: not acknowledged
                    }
                }
            }));
        }
        next += 100_000_000;
        let delay = 300 + (cycle as u64 * 137) % 700;
        tokio::time::sleep(Duration::from_millis(delay)).await;
        server.kill9();
        for t in tasks {
            t.await.unwrap();
        }
        server.restart();
        assert!(server.log().contains("storage recovered"), "restart after kill -9 must recover:\n{}", server.log());
    }
    server.settle().await;
    assert!(server.stop().success());

    let acked = acked.lock().unwrap();
    assert!(acked.len() > 100, "too little load to mean anything: {}", acked.len());
    let index = hakobune_index::Index::open_read_only(&server.data.join("index.sqlite")).unwrap();
    let mut missing = 0;
    for (control, msg) in acked.iter() {
        if !index.contains_message(FAC, control, &hakobune_store::sha256_hex(msg)).unwrap() {
            missing += 1;
        }
    }
    assert_eq!(missing, 0, "{missing} of {} acknowledged messages are missing", acked.len());
    // verify re-reads every file against its recorded SHA-256 and checks tree, index and
    // transaction storage agree: a torn file would fail it.
    let (ok, out) = server.verify(false);
    assert!(ok, "{out}");
    eprintln!("{} acknowledged messages survived {cycles} kill -9 cycles", acked.len());
}
