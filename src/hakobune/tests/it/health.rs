//! RAID and disk health as the server reports it. This machine has no md driver, so the server reads
//! recorded /proc/mdstat outputs (fixtures of `hakobune-health`) from a configured path.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../health/tests/fixtures/mdstat").join(name)
}

fn has_alarm(s: &serde_json::Value, id: &str) -> bool {
    s["alarms"].as_array().unwrap().iter().any(|a| a["id"] == id)
}

/// A minimal HTTP receiver standing in for the operator's alerting system: records each POSTed JSON.
async fn webhook_receiver() -> (String, Arc<Mutex<Vec<serde_json::Value>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/alerts", listener.local_addr().unwrap());
    let received: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
    let rec = received.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else { return };
            let rec = rec.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let Ok(n) = sock.read(&mut chunk).await else { return };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else { continue };
                    let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    if buf.len() < end + 4 + len {
                        continue;
                    }
                    rec.lock().unwrap().push(serde_json::from_slice(&buf[end + 4..end + 4 + len]).unwrap());
                    let _ = sock.write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n").await;
                    return;
                }
            });
        }
    });
    (url, received)
}

#[tokio::test(flavor = "multi_thread")]
async fn degraded_rebuilding_then_healthy_raid_is_reported_raised_and_cleared() {
    let dir = tempfile::tempdir().unwrap();
    let mdstat = dir.path().join("mdstat");
    std::fs::copy(fixture("raid1-degraded.txt"), &mdstat).unwrap();
    let (webhook, received) = webhook_receiver().await;
    let config = format!(
        "[health]\nmdstat_path = {mdstat:?}\nmdadm_command = []\nsmartctl_command = []\n\n\
         [alerts]\nwebhook_url = \"{webhook}\"\n\n\
         [[facility]]\nid = \"2212345678\"\nname = \"登呂総合病院\"\nmsh4 = [\"TORO\"]\n"
    );
    let server = Server::start("health_check_interval_secs = 1", &config);

    let s = server.wait_for_status("degraded alarm", |s| has_alarm(s, "raid.md0.degraded")).await;
    let alarm = s["alarms"].as_array().unwrap().iter().find(|a| a["id"] == "raid.md0.degraded").unwrap().clone();
    assert_eq!(alarm["severity"], "critical");
    assert!(alarm["message_ja"].as_str().unwrap().contains("md0"), "{alarm}");
    assert!(alarm["raised_at"].is_string());
    assert_eq!(s["health"]["arrays"][0]["name"], "md0", "{s}");
    let metrics = reqwest::get(format!("http://{}/metrics", server.http)).await.unwrap().text().await.unwrap();
    assert!(metrics.contains("hakobune_raid_arrays{state=\"degraded\"} 1"), "{metrics}");
    assert!(metrics.contains("hakobune_alarms_critical 1"), "{metrics}");

    // A replacement disk was added: rebuilding (a warning with progress), no longer degraded.
    std::fs::copy(fixture("raid1-recovering.txt"), &mdstat).unwrap();
    let s = server
        .wait_for_status("rebuilding", |s| has_alarm(s, "raid.md0.rebuilding") && !has_alarm(s, "raid.md0.degraded"))
        .await;
    assert!(s.to_string().contains("37.4"), "progress is shown: {s}");

    // Rebuilt: healthy, every alarm cleared, with the times it was raised and cleared.
    std::fs::copy(fixture("raid1-healthy.txt"), &mdstat).unwrap();
    let s = server.wait_for_status("healthy", |s| s["alarms"].as_array().unwrap().is_empty()).await;
    let cleared: Vec<&str> =
        s["cleared_alarms"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert!(cleared.contains(&"raid.md0.degraded") && cleared.contains(&"raid.md0.rebuilding"), "{s}");
    let metrics = reqwest::get(format!("http://{}/metrics", server.http)).await.unwrap().text().await.unwrap();
    assert!(metrics.contains("hakobune_raid_arrays{state=\"healthy\"} 1"), "{metrics}");

    // The operator's alerting system heard about each change, in order.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let events: Vec<(String, String)> = received
            .lock()
            .unwrap()
            .iter()
            .map(|e| (e["event"].as_str().unwrap().to_owned(), e["alarm"]["id"].as_str().unwrap().to_owned()))
            .collect();
        let want = [
            ("raised".to_owned(), "raid.md0.degraded".to_owned()),
            ("cleared".to_owned(), "raid.md0.degraded".to_owned()),
            ("raised".to_owned(), "raid.md0.rebuilding".to_owned()),
            ("cleared".to_owned(), "raid.md0.rebuilding".to_owned()),
        ];
        if want.iter().all(|w| events.contains(w)) {
            let first_degraded = events.iter().position(|e| e == &want[0]).unwrap();
            assert!(events.iter().position(|e| e == &want[1]).unwrap() > first_degraded, "{events:?}");
            break;
        }
        assert!(Instant::now() < deadline, "webhook events: {events:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
