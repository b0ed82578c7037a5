use std::sync::Arc;

use hakobune_access::{AuditLog, Gate};
use hakobune_index::Processing;
use hakobune_store::{Layout, Store, StoreOptions, Submission};
use prometheus_client::registry::Registry;

use crate::*;

use hakobune_index::fixtures::omp01 as entry;

fn msg(control: &str) -> Vec<u8> {
    // 患者 in ISO-2022-JP between ESC $ B and ESC ( B.
    let mut m = format!("MSH|^~\\&|HIS|SEND|GW|RCV|20110701000000||RDE^O11^RDE_O11|{control}|P|2.5||||||~ISO IR87||ISO 2022-1994\rPID|0001||9999013^^^^PI||").into_bytes();
    m.extend_from_slice(b"\x1b$B45<T\x1b(B^\x1b$BB@O:\x1b(B\r");
    m
}

struct Server {
    base: String,
    _dir: tempfile::TempDir,
    stop: tokio_util::sync::CancellationToken,
    gate: Arc<Gate>,
}

async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let layout = Layout::new(dir.path());
    let opts = StoreOptions { free_space_floor: 0, ..Default::default() };
    let (store, _) = Store::open(layout.clone(), opts).unwrap();
    let store = Arc::new(store);
    store
        .submit(Submission {
            entry: entry("000000000000001", "20110701100000000", Processing::Ins, "A"),
            raw: msg("A"),
        })
        .await
        .unwrap();
    store
        .submit(Submission {
            entry: entry("000000000000001", "20110701110000000", Processing::Ins, "B"),
            raw: msg("B"),
        })
        .await
        .unwrap();
    store
        .submit(Submission {
            entry: entry("000000000000002", "20110701120000000", Processing::Ins, "C"),
            raw: msg("C"),
        })
        .await
        .unwrap();
    store.wait_applied(3).await.unwrap();
    let gate = Arc::new(Gate::new(AuditLog::open(&layout.audit_path()).unwrap()));
    let mut registry = Registry::default();
    let metrics = ApiMetrics::new(&mut registry);
    let state = ApiState {
        store,
        gate: gate.clone(),
        reader: Arc::new(Reader::new(layout)),
        registry: Arc::new(registry),
        metrics,
        health_extra: Arc::new(|| serde_json::json!({})),
        appliance_status: Arc::new(|| serde_json::json!({"alarms": []})),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let stop = tokio_util::sync::CancellationToken::new();
    tokio::spawn(serve(listener, router(state), stop.clone()));
    Server { base, _dir: dir, stop, gate }
}

#[tokio::test(flavor = "multi_thread")]
async fn documents_raw_json_health_metrics_and_problems() {
    let s = start().await;
    let c = reqwest::Client::new();
    let list: serde_json::Value = c
        .get(format!("{}/api/v1/facilities/1234567890/patients/9999013/documents", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["count"], 2, "{list}");
    let hist: serde_json::Value = c
        .get(format!("{}/api/v1/facilities/1234567890/patients/9999013/documents?include_history=true&type=OMP-01&from=20110701&to=20110701", s.base))
        .send().await.unwrap().json().await.unwrap();
    assert_eq!(hist["count"], 3);
    let flags: Vec<u64> =
        hist["documents"].as_array().unwrap().iter().map(|d| d["condition_flag"].as_u64().unwrap()).collect();
    assert_eq!(flags, vec![1, 1, 2]);
    let href = list["documents"][0]["href"].as_str().unwrap().to_string();

    let raw = c.get(format!("{}{href}", s.base)).send().await.unwrap();
    assert_eq!(raw.status(), 200);
    assert_eq!(raw.headers()["content-type"], "application/hl7-v2; charset=ISO-2022-JP");
    assert_eq!(raw.bytes().await.unwrap().to_vec(), msg("C"));

    let json: serde_json::Value =
        c.get(format!("{}{href}?format=json", s.base)).send().await.unwrap().json().await.unwrap();
    let text = json["message"].to_string();
    assert!(text.contains("患者") && text.contains("太郎"), "{text}");

    let missing = c.get(format!("{}/api/v1/documents/999", s.base)).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(missing.headers()["content-type"], "application/problem+json");
    let bad = c.get(format!("{}/api/v1/facilities/12/patients/9999013/documents", s.base)).send().await.unwrap();
    assert_eq!(bad.status(), 400);
    let problem: serde_json::Value = bad.json().await.unwrap();
    assert_eq!(problem["status"], 400);

    let health: serde_json::Value = c.get(format!("{}/healthz", s.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["store"]["committed_seq"], 3);
    let metrics = c.get(format!("{}/metrics", s.base)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("hakobune_store_committed_seq 3"), "{metrics}");
    assert!(metrics.contains("hakobune_http_requests_total"), "{metrics}");

    // Every patient-data read above was decided and audited: two lists and two document reads
    // (the 404 never reached the gate because the document does not exist).
    let audit = s.gate.audit().recent(100).unwrap();
    assert_eq!(audit.len(), 4, "{audit:?}");
    assert!(audit.iter().all(|a| a.decision == "permit" && a.principal_id == "local"));
    s.stop.cancel();
}
