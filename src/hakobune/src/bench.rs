//! `hakobune bench`: measurements, not tests. Figures go to docs/benchmarks.md.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use hakobune_mllp::MllpClient;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Concurrent MLLP senders against a fresh server (a child process), plus the raw file rate of
    /// the same disk as the physical limit.
    Ingest {
        /// Concurrent MLLP connections.
        #[arg(long, default_value_t = 64)]
        connections: usize,
        /// Messages in all.
        #[arg(long, default_value_t = 50_000)]
        messages: usize,
        /// Distinct patients the messages are spread over.
        #[arg(long, default_value_t = 20_000)]
        patients: usize,
        /// Parent directory for the fresh data directory (default: target/bench).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Keep the data directory afterwards.
        #[arg(long)]
        keep: bool,
        /// Files for the raw disk measurement.
        #[arg(long, default_value_t = 20_000)]
        raw_files: usize,
    },
    /// One patient with many documents: time of `GET .../documents` over HTTP.
    Query {
        /// Documents of the patient.
        #[arg(long, default_value_t = 10_000)]
        documents: usize,
        /// Requests timed.
        #[arg(long, default_value_t = 50)]
        requests: usize,
        /// Parent directory for the fresh data directory (default: target/bench).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

pub async fn run(cmd: BenchCommand) -> Result<ExitCode> {
    match cmd {
        BenchCommand::Ingest { connections, messages, patients, dir, keep, raw_files } => {
            ingest(connections, messages, patients, dir, keep, raw_files).await
        }
        BenchCommand::Query { documents, requests, dir } => query(documents, requests, dir).await,
    }
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Realistic messages: the demo's traffic as templates, each copy with its own control ID and a
/// patient ID from a pool, so files spread over many patients as in a real region.
pub fn workload(n: usize, patients: usize) -> Vec<Vec<u8>> {
    let templates: Vec<_> =
        hakobune_demo::generate(&hakobune_demo::DemoConfig { seed: 7, ..hakobune_demo::DemoConfig::default() })
            .into_iter()
            .filter(|m| m.bytes.len() >= 600)
            .collect();
    (0..n)
        .map(|i| {
            let t = &templates[i % templates.len()];
            let text = encoding_rs::ISO_2022_JP.decode_without_bom_handling(&t.bytes).0.into_owned();
            let pid = format!("{:08}", 30_000_000 + (i * 7919) % patients.max(1));
            let rewritten: Vec<String> = text
                .split('\r')
                .map(|seg| {
                    let mut fields: Vec<&str> = seg.split('|').collect();
                    let owned;
                    if seg.starts_with("MSH") && fields.len() > 9 {
                        owned = format!("B{i:019}");
                        fields[9] = &owned;
                        fields.join("|")
                    } else if seg.starts_with("PID") && fields.len() > 3 {
                        let rest = fields[3].split_once('^').map(|(_, r)| format!("^{r}")).unwrap_or_default();
                        let v = format!("{pid}{rest}");
                        fields[3] = &v;
                        fields.join("|")
                    } else {
                        seg.to_owned()
                    }
                })
                .collect();
            let joined = rewritten.join("\r");
            encoding_rs::ISO_2022_JP.encode(&joined).0.into_owned()
        })
        .collect()
}

/// Create + write + group-sync of 1.5 KB files: what this disk can do at best.
fn raw_file_rate(dir: &Path, files: usize) -> Result<f64> {
    std::fs::create_dir_all(dir)?;
    let payload = vec![b'x'; 1536];
    let root = std::fs::File::open(dir)?;
    let started = Instant::now();
    for (g, chunk) in (0..files).collect::<Vec<_>>().chunks(256).enumerate() {
        let sub = dir.join(format!("{g:05}"));
        std::fs::create_dir_all(&sub)?;
        for i in chunk {
            let mut f = std::fs::File::create(sub.join(format!("{i:08}")))?;
            f.write_all(&payload)?;
        }
        rustix::fs::syncfs(&root)?;
    }
    let rate = files as f64 / started.elapsed().as_secs_f64();
    std::fs::remove_dir_all(dir)?;
    Ok(rate)
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()
}

/// A server in a child process on fresh loopback ports, with the demo hospitals registered.
struct BenchServer {
    child: Child,
    pid: u32,
    mllp_port: u16,
    http: String,
}

impl BenchServer {
    async fn start(data: &Path, max_connections: usize) -> Result<BenchServer> {
        let (mllp_port, http_port) = (free_port()?, free_port()?);
        let mut cfg = crate::demo::demo_config(
            data.join("data"),
            format!("127.0.0.1:{mllp_port}").parse()?,
            format!("127.0.0.1:{http_port}").parse()?,
        );
        cfg.server.max_connections = max_connections;
        let config_path = data.join("hakobune.toml");
        std::fs::write(&config_path, cfg.to_toml())?;
        let child = std::process::Command::new(std::env::current_exe()?)
            .args(["serve", "--config"])
            .arg(&config_path)
            .env("HAKOBUNE_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting the server")?;
        let server = BenchServer { pid: child.id(), child, mllp_port, http: format!("127.0.0.1:{http_port}") };
        let deadline = Instant::now() + Duration::from_secs(30);
        while health(&server.http).await.is_none() {
            if Instant::now() > deadline {
                bail!("the server did not come up");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(server)
    }

    async fn settle(&self) -> Result<()> {
        loop {
            let h = health(&self.http).await.context("health")?;
            if h["store"]["applied_seq"] == h["store"]["committed_seq"] {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn stop(mut self) -> Result<std::process::ExitStatus> {
        rustix::process::kill_process(
            rustix::process::Pid::from_raw(self.pid as i32).context("pid")?,
            rustix::process::Signal::TERM,
        )?;
        Ok(self.child.wait()?)
    }
}

impl Drop for BenchServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plain HTTP/1.0 GET (no client library in the measurement path): status and body.
fn http_get(addr: &str, path: &str) -> Option<(u16, Vec<u8>)> {
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut response = Vec::new();
    std::io::Read::read_to_end(&mut s, &mut response).ok()?;
    let split = response.windows(4).position(|w| w == b"\r\n\r\n")?;
    let status = std::str::from_utf8(&response[..split]).ok()?.split(' ').nth(1)?.parse().ok()?;
    Some((status, response[split + 4..].to_vec()))
}

async fn health(http: &str) -> Option<serde_json::Value> {
    let addr = http.to_owned();
    tokio::task::spawn_blocking(move || {
        let (_, body) = http_get(&addr, "/healthz")?;
        serde_json::from_slice(&body).ok()
    })
    .await
    .ok()
    .flatten()
}

async fn ingest(
    connections: usize,
    n: usize,
    patients: usize,
    dir: Option<PathBuf>,
    keep: bool,
    raw_files: usize,
) -> Result<ExitCode> {
    let parent = dir.unwrap_or_else(|| PathBuf::from("target/bench"));
    let stamp = time::OffsetDateTime::now_utc().unix_timestamp();
    let data = parent.join(format!("ingest-{stamp}"));
    std::fs::create_dir_all(&data)?;
    let data = data.canonicalize()?;

    eprintln!("measuring the raw file rate of {} ({raw_files} files of 1.5 KB, syncfs every 256)…", parent.display());
    let raw_rate = raw_file_rate(&parent.join(format!("raw-{stamp}")), raw_files)?;

    eprintln!("preparing {n} messages over {patients} patients…");
    let msgs = Arc::new(workload(n, patients));
    let avg = msgs.iter().map(|m| m.len()).sum::<usize>() / msgs.len().max(1);

    let server = BenchServer::start(&data, connections + 16).await?;
    let (mllp_port, http, pid) = (server.mllp_port, server.http.clone(), server.pid);

    eprintln!("sending {n} messages (avg {avg} bytes) over {connections} connections…");
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..connections {
        let msgs = msgs.clone();
        tasks.push(tokio::spawn(async move {
            let mut client = MllpClient::connect(("127.0.0.1", mllp_port)).await?;
            let mut hist = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
            let mut refused = 0usize;
            for i in (c..msgs.len()).step_by(connections) {
                let t = Instant::now();
                let ack = client.send(&msgs[i]).await?;
                hist.record(t.elapsed().as_micros().max(1) as u64)?;
                if !ack.windows(7).any(|w| w == b"\rMSA|AA") {
                    refused += 1;
                }
            }
            anyhow::Ok((hist, refused))
        }));
    }
    let mut hist = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let mut refused = 0;
    for t in tasks {
        let (h, r) = t.await??;
        hist.add(h)?;
        refused += r;
    }
    let elapsed = started.elapsed();
    let rate = n as f64 / elapsed.as_secs_f64();
    let drain_started = Instant::now();
    server.settle().await?;
    let drain = drain_started.elapsed();
    let h = health(&http).await.context("health")?;
    let rss = peak_rss_kib(pid).unwrap_or(0);
    let status = server.stop()?;

    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_default();
    println!("hakobune bench ingest");
    println!(
        "  machine            : {} cores, {cpu}",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
    );
    println!("  workload           : {n} messages, avg {avg} bytes, {connections} connections, {patients} patients");
    println!("  durable rate       : {rate:.0} messages/s ({:.2} s)", elapsed.as_secs_f64());
    println!(
        "  ACK latency        : p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms",
        hist.value_at_quantile(0.50) as f64 / 1000.0,
        hist.value_at_quantile(0.99) as f64 / 1000.0,
        hist.value_at_quantile(0.999) as f64 / 1000.0,
        hist.max() as f64 / 1000.0
    );
    println!(
        "  group commits      : {} (≈ {:.0} messages per fsync)",
        h["store"]["group_commits"],
        n as f64 / h["store"]["group_commits"].as_f64().unwrap_or(1.0).max(1.0)
    );
    println!(
        "  files materialized : all {n} in {:.2} s = {:.0} messages/s ({:.2} s after the last ACK)",
        (elapsed + drain).as_secs_f64(),
        n as f64 / (elapsed + drain).as_secs_f64(),
        drain.as_secs_f64()
    );
    println!("  server peak RSS    : {:.1} MiB", rss as f64 / 1024.0);
    println!("  raw file limit     : {raw_rate:.0} files/s (create + write 1.5 KB + syncfs per 256)");
    println!("  refused            : {refused}");
    println!("  server exit        : {status}");
    if !keep {
        std::fs::remove_dir_all(&data)?;
    }
    Ok(if refused == 0 && status.success() { ExitCode::SUCCESS } else { ExitCode::from(2) })
}

async fn query(documents: usize, requests: usize, dir: Option<PathBuf>) -> Result<ExitCode> {
    let parent = dir.unwrap_or_else(|| PathBuf::from("target/bench"));
    let data = parent.join(format!("query-{}", time::OffsetDateTime::now_utc().unix_timestamp()));
    std::fs::create_dir_all(&data)?;
    let data = data.canonicalize()?;
    let server = BenchServer::start(&data, 64).await?;
    let hospital = &hakobune_demo::hospitals()[0];
    let (facility, msh4) = (hospital.facility_id, hospital.sending_facility);
    let pid = "0009990001";
    eprintln!("storing {documents} prescription orders for patient {pid}…");
    let msgs: Vec<Vec<u8>> = (0..documents)
        .map(|i| {
            let day = 1 + i % 28;
            let month = 1 + (i / 28) % 12;
            let text = format!(
                "MSH|^~\\&|HIS|{msh4}|GW|RCV|2025{month:02}{day:02}103045.{:03}||RDE^O11^RDE_O11|Q{i:012}|P|2.5||||||~ISO IR87||ISO 2022-1994\r\
                 PID|0001||{pid}^^^^PI||患者^花子^^^^^L^I~カンジャ^ハナコ^^^^^L^P||19500101|F\r\
                 PV1|0001|O|01^^^^^C||||110^医師^一郎^^^^^^^L^^^^^I|||01\r\
                 ORC|NW|{i:015}|||||||2025{month:02}{day:02}103045|||110^医師^一郎^^^^^^^L^^^^^I|||||01^内科^99XY1\r\
                 RXE||108665201^ダーゼン錠（５mg)^HOT9|1||TAB^錠^MR9P|||||15|TAB^錠^MR9P\r\
                 TQ1|1||1013044400000000&内服・経口・１日３回朝昼夕食後&JAMISDP01|||5^d|2025{month:02}{day:02}\r\
                 RXR|PO^口^HL70162\r",
                i % 1000
            );
            encoding_rs::ISO_2022_JP.encode(&text).0.into_owned()
        })
        .collect();
    let msgs = Arc::new(msgs);
    let mut tasks = Vec::new();
    for c in 0..8 {
        let msgs = msgs.clone();
        let port = server.mllp_port;
        tasks.push(tokio::spawn(async move {
            let mut client = MllpClient::connect(("127.0.0.1", port)).await?;
            for i in (c..msgs.len()).step_by(8) {
                let ack = client.send(&msgs[i]).await?;
                if !ack.windows(7).any(|w| w == b"\rMSA|AA") {
                    bail!("refused: {}", String::from_utf8_lossy(&ack));
                }
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    server.settle().await?;
    let mut report = Vec::new();
    for (label, path) in [
        ("all current documents", format!("/api/v1/facilities/{facility}/patients/{pid}/documents")),
        (
            "one month (from/to)",
            format!("/api/v1/facilities/{facility}/patients/{pid}/documents?from=20250301&to=20250331"),
        ),
        ("newest 100 (limit)", format!("/api/v1/facilities/{facility}/patients/{pid}/documents?limit=100")),
        ("one document, raw", "/api/v1/documents/5000".to_owned()),
        ("one document, JSON", "/api/v1/documents/5000?format=json".to_owned()),
    ] {
        let http = server.http.clone();
        let (hist, bytes, count) = tokio::task::spawn_blocking(move || -> Result<_> {
            let mut hist = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
            let mut last = (0, Vec::new());
            for _ in 0..requests {
                let t = Instant::now();
                last = http_get(&http, &path).context("GET")?;
                hist.record(t.elapsed().as_micros().max(1) as u64)?;
            }
            if last.0 != 200 {
                bail!("{path}: HTTP {}", last.0);
            }
            let count = serde_json::from_slice::<serde_json::Value>(&last.1).ok().and_then(|v| v["count"].as_u64());
            Ok((hist, last.1.len(), count))
        })
        .await??;
        report.push((label, hist, bytes, count));
    }
    let status = server.stop()?;
    println!(
        "hakobune bench query: one patient with {documents} documents, {requests} requests each (HTTP/1.0, new connection per request)"
    );
    for (label, hist, bytes, count) in report {
        println!(
            "  {label:<24}: p50 {:.2} ms, p99 {:.2} ms, {} bytes{}",
            hist.value_at_quantile(0.5) as f64 / 1000.0,
            hist.value_at_quantile(0.99) as f64 / 1000.0,
            bytes,
            count.map(|c| format!(", {c} documents")).unwrap_or_default()
        );
    }
    std::fs::remove_dir_all(&data)?;
    Ok(if status.success() { ExitCode::SUCCESS } else { ExitCode::from(2) })
}
