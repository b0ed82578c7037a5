//! `hakobune demo`: a working server fed by three simulated hospitals.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use hakobune_config::{Config, FacilityConfig};
use hakobune_mllp::MllpClient;

use crate::server;

pub struct DemoArgs {
    pub data: PathBuf,
    pub mllp: SocketAddr,
    pub http: SocketAddr,
    pub seed: u64,
    pub patients: usize,
    pub exit: bool,
}

/// Pads to a display width, counting CJK characters as two columns.
fn pad(s: &str, width: usize) -> String {
    let w: usize = s.chars().map(|c| if (c as u32) < 0x1100 { 1 } else { 2 }).sum();
    format!("{s}{}", " ".repeat(width.saturating_sub(w)))
}

/// The configuration the demo runs with: embedded defaults plus the simulated hospitals.
pub fn demo_config(data: PathBuf, mllp: SocketAddr, http: SocketAddr) -> Config {
    let mut cfg = Config::default();
    cfg.server.data_dir = data;
    cfg.server.mllp_listen = mllp;
    cfg.server.http_listen = http;
    cfg.server.free_space_floor_mib = 64;
    cfg.facilities = hakobune_demo::hospitals()
        .into_iter()
        .map(|h| FacilityConfig {
            id: h.facility_id.to_owned(),
            name: h.name.to_owned(),
            name_en: Some(h.name_en.to_owned()),
            msh4: vec![h.sending_facility.to_owned()],
            tls_client_subjects: Vec::new(),
            non_jis_x0208: None,
            rules: sender_rules(&h),
        })
        .collect();
    cfg
}

/// The simulated sender's discriminators as configured classification rules (catch-alls are left
/// to the built-in fallbacks).
fn sender_rules(h: &hakobune_demo::DemoHospital) -> hakobune_ssmix2::Rules {
    let mut rules = hakobune_ssmix2::Rules::default();
    for r in &h.classification_rules {
        if r.field.is_empty() {
            continue;
        }
        let (Ok(field), Some(data_type)) = (r.field.parse(), hakobune_ssmix2::DataType::from_code(r.data_type)) else {
            continue;
        };
        let mut rule = hakobune_ssmix2::DataTypeRule::new(r.message_type, Some(field), data_type);
        rule.equals = Some(r.equals.to_owned());
        rules.data_type_rules.push(rule);
    }
    rules
}

#[derive(Default)]
struct Tally {
    sent: usize,
    aa: usize,
    duplicates: usize,
    refused: usize,
}

pub async fn run(a: DemoArgs) -> Result<ExitCode> {
    let cfg = demo_config(a.data.clone(), a.mllp, a.http);
    cfg.validate()?;
    let running = server::start(cfg.clone()).await?;
    let messages = hakobune_demo::generate(&hakobune_demo::DemoConfig {
        seed: a.seed,
        patients_per_hospital: a.patients,
        ..hakobune_demo::DemoConfig::default()
    });
    println!();
    println!("箱舟 Hakobune デモ / demo");
    println!("  3 つの模擬病院から {} 件の HL7 v2.5 メッセージを MLLP で送信します", messages.len());
    println!(
        "  sending {} HL7 v2.5 messages from {} simulated hospitals over MLLP to {}",
        messages.len(),
        cfg.facilities.len(),
        running.mllp_addr
    );

    // One connection per hospital, as each hospital's gateway would hold one; hospitals in parallel.
    let started = Instant::now();
    let mut per_hospital: BTreeMap<String, Vec<Vec<u8>>> = BTreeMap::new();
    for m in &messages {
        per_hospital.entry(m.facility_id.clone()).or_default().push(m.bytes.clone());
    }
    let mut tasks = Vec::new();
    for (facility, msgs) in per_hospital {
        let addr = running.mllp_addr;
        tasks.push(tokio::spawn(async move {
            let mut client = MllpClient::connect(addr).await.with_context(|| format!("connecting to {addr}"))?;
            let mut t = Tally::default();
            let mut refusals = Vec::new();
            for bytes in msgs {
                t.sent += 1;
                let ack = client.send(&bytes).await?;
                let text = encoding_rs::ISO_2022_JP.decode_without_bom_handling(&ack).0.into_owned();
                if text.contains("\rMSA|AA|") {
                    t.aa += 1;
                    if text.contains("duplicate") {
                        t.duplicates += 1;
                    }
                } else {
                    t.refused += 1;
                    refusals.push(text.replace('\r', "\n    "));
                }
            }
            anyhow::Ok((facility, t, refusals))
        }));
    }
    let mut total = Tally::default();
    let mut rows = Vec::new();
    for t in tasks {
        let (facility, tally, refusals) = t.await??;
        for r in refusals.iter().take(3) {
            println!("  refused by the server ({facility}):\n    {r}");
        }
        total.sent += tally.sent;
        total.aa += tally.aa;
        total.duplicates += tally.duplicates;
        total.refused += tally.refused;
        rows.push((facility, tally));
    }
    let committed = running.store.status().committed_seq;
    running.store.wait_applied(committed).await?;
    let elapsed = started.elapsed();

    println!();
    println!("  施設 facility                         送信 sent   受理 AA   重複 dup   拒否 AE/AR");
    for (facility, t) in &rows {
        let name = cfg.facilities.iter().find(|f| &f.id == facility).map(|f| f.name.as_str()).unwrap_or("");
        println!("  {facility} {}{:>9} {:>9} {:>10} {:>12}", pad(name, 26), t.sent, t.aa, t.duplicates, t.refused);
    }
    println!(
        "  合計 total: {} sent, {} accepted ({} already stored), {} refused, in {:.2} s",
        total.sent,
        total.aa,
        total.duplicates,
        total.refused,
        elapsed.as_secs_f64()
    );
    let example = messages.iter().find(|m| m.kind == "OMP-01").or(messages.first());
    println!();
    println!("見る場所 / where to look:");
    println!("  SS-MIX2 標準化ストレージ standardized storage : {}/ssmix2/<医療施設ID>/", a.data.display());
    println!("  トランザクションストレージ transaction storage : {}/transactions/", a.data.display());
    println!("  索引 index (SQLite, SSMIXIDX)                 : {}/index.sqlite", a.data.display());
    println!("  状態 health                                  : curl http://{}/healthz", running.http_addr);
    println!("  メトリクス metrics                            : curl http://{}/metrics", running.http_addr);
    if let Some(m) = example {
        let pid = &m.patient_id;
        println!(
            "  患者の文書 a patient's documents             : curl 'http://{}/api/v1/facilities/{}/patients/{pid}/documents?include_history=true'",
            running.http_addr, m.facility_id
        );
        println!(
            "  文書 a document (decoded)                    : curl 'http://{}/api/v1/documents/1?format=json'",
            running.http_addr
        );
    }
    let exe = std::env::current_exe().ok().and_then(|p| {
        let cwd = std::env::current_dir().ok()?;
        Some(p.strip_prefix(&cwd).map(|r| r.to_path_buf()).unwrap_or(p))
    });
    let exe = exe.map(|p| p.display().to_string()).unwrap_or_else(|| "hakobune".into());
    println!("  整合性検査 consistency check (after stopping)  : {exe} verify --data {}", a.data.display());

    if a.exit {
        running.stop(Duration::from_secs(10), server::StopRequest::Operator).await?;
        return Ok(if total.refused == 0 { ExitCode::SUCCESS } else { ExitCode::from(2) });
    }
    println!();
    println!("サーバは動作中です。Ctrl-C で停止します / the server keeps running; Ctrl-C stops it");
    let mut running = running;
    let why = running.wait_for_stop().await;
    running.stop(Duration::from_secs(30), why).await?;
    Ok(ExitCode::SUCCESS)
}
