//! Starts the real binary in a temporary directory and talks to it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hakobune_mllp::MllpClient;

pub const SAMPLE_FACILITY: &str = "9999999999";

/// The shared SS-MIX2 samples (beside the repository, in `../shared`).
pub fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/ssmix2-samples")
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_hakobune")
}

/// (control ID, message bytes) of every message a server acknowledged.
pub type Acked = std::sync::Arc<std::sync::Mutex<Vec<(String, Vec<u8>)>>>;

const READY_LINE: &str = "hakobune is accepting HL7 over MLLP and serving HTTP";

/// A facility table that accepts the samples (MSH-4 `SEND`).
pub fn sample_facility() -> String {
    format!(
        "[[facility]]\nid = \"{SAMPLE_FACILITY}\"\nname = \"見本病院\"\nmsh4 = [\"SEND\"]\n[facility.rules.care_date_fields]\n\"RAS^O17\" = \"ORC-9\"\n"
    )
}

pub struct Server {
    pub dir: tempfile::TempDir,
    pub data: PathBuf,
    pub mllp: SocketAddr,
    pub http: SocketAddr,
    /// The MLLP/TLS listener, when the configuration has one.
    pub mllp_tls: Option<SocketAddr>,
    config: PathBuf,
    child: Option<Child>,
    env: Vec<(String, String)>,
}

impl Server {
    /// Starts a server whose configuration is `[server]` defaults on fresh loopback ports, plus
    /// `server_extra` lines in `[server]` and the given facility tables.
    pub fn start(server_extra: &str, facilities: &str) -> Server {
        Server::start_with_env(server_extra, facilities, &[])
    }

    /// Like [`Server::start`], with extra environment variables for the server process.
    pub fn start_with_env(server_extra: &str, facilities: &str, env: &[(&str, &str)]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        // Port 0: the server binds free ports and logs them (no race between parallel tests).
        let mllp: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let http: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let config = dir.path().join("hakobune.toml");
        std::fs::write(
            &config,
            format!(
                "[server]\ndata_dir = {:?}\nmllp_listen = \"{mllp}\"\nhttp_listen = \"{http}\"\n{}{server_extra}\n{facilities}",
                data,
                if server_extra.contains("free_space_floor_mib") { "" } else { "free_space_floor_mib = 1\n" }
            ),
        )
        .unwrap();
        let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let mut s = Server { dir, data, mllp, http, mllp_tls: None, config, child: None, env };
        s.spawn();
        s
    }

    fn spawn(&mut self) {
        let log =
            std::fs::OpenOptions::new().create(true).append(true).open(self.dir.path().join("server.log")).unwrap();
        let child = Command::new(bin())
            .args(["serve", "--config"])
            .arg(&self.config)
            .env("HAKOBUNE_LOG", "info")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let starts_before = self.log().matches(READY_LINE).count();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let log = self.log();
            if log.matches(READY_LINE).count() > starts_before {
                let line = log.lines().rev().find(|l| l.contains(READY_LINE)).unwrap();
                let field = |name: &str| -> SocketAddr {
                    let v = line.split(&format!("{name}=")).nth(1).unwrap().split_whitespace().next().unwrap();
                    v.parse().unwrap()
                };
                self.mllp = field("mllp_addr");
                self.http = field("http_addr");
                self.mllp_tls = line
                    .split("mllp_tls_addr=")
                    .nth(1)
                    .and_then(|v| v.split_whitespace().next())
                    .and_then(|v| v.parse().ok());
                return;
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("server exited with {status}:\n{log}");
            }
            assert!(Instant::now() < deadline, "server did not start:\n{log}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The quarantine records (JSON) of refused inputs, each checked to have its bytes beside it.
    pub fn quarantined(&self) -> Vec<serde_json::Value> {
        let mut out = Vec::new();
        let Ok(days) = std::fs::read_dir(self.data.join("quarantine")) else {
            return out;
        };
        for day in days.flatten() {
            for f in std::fs::read_dir(day.path()).unwrap().flatten() {
                if f.path().extension().is_some_and(|e| e == "json") {
                    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(f.path()).unwrap()).unwrap();
                    assert!(f.path().with_extension("hl7").exists(), "quarantined bytes missing for {:?}", f.path());
                    out.push(v);
                }
            }
        }
        out
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// SIGKILL: no chance to clean up, as in a crash.
    pub fn kill9(&mut self) {
        let mut c = self.child.take().unwrap();
        c.kill().unwrap();
        c.wait().unwrap();
    }

    /// SIGTERM and wait: the orderly path.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let mut c = self.child.take().unwrap();
        let pid = rustix::process::Pid::from_raw(c.id() as i32).unwrap();
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
        c.wait().unwrap()
    }

    /// Waits for the server to exit by itself.
    pub fn wait_exit(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                self.child = None;
                return status;
            }
            assert!(Instant::now() < deadline, "server did not exit:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn is_running(&mut self) -> bool {
        self.child.as_mut().is_some_and(|c| c.try_wait().unwrap().is_none())
    }

    pub fn restart(&mut self) {
        self.spawn();
    }

    pub async fn client(&self) -> MllpClient<tokio::net::TcpStream> {
        MllpClient::connect(self.mllp).await.unwrap().with_timeout(Duration::from_secs(30))
    }

    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        let r = match reqwest::get(format!("http://{}{path}", self.http)).await {
            Ok(r) => r,
            Err(e) => panic!("GET {path}: {e}\nserver log:\n{}", self.log()),
        };
        r.json().await.unwrap()
    }

    pub async fn get_bytes(&self, path: &str) -> (u16, Vec<u8>) {
        let r = reqwest::get(format!("http://{}{path}", self.http)).await.unwrap();
        (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
    }

    /// Polls `GET /api/v1/appliance/status` until `pred` holds (30 s at most).
    pub async fn wait_for_status(&self, what: &str, pred: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let s = self.get_json("/api/v1/appliance/status").await;
            if pred(&s) {
                return s;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}: {s}\n{}", self.log());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until everything acknowledged is in files and index.
    pub async fn settle(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let h = self.get_json("/healthz").await;
            if h["store"]["applied_seq"] == h["store"]["committed_seq"] {
                return;
            }
            assert!(Instant::now() < deadline, "storage did not settle: {h}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn storage_root(&self, facility: &str) -> PathBuf {
        self.data.join("ssmix2").join(facility)
    }

    /// Runs `hakobune verify` on the data directory (server must be stopped).
    pub fn verify(&self, repair: bool) -> (bool, String) {
        let mut cmd = Command::new(bin());
        cmd.args(["verify", "--data"]).arg(&self.data);
        if repair {
            cmd.arg("--repair");
        }
        let out = cmd.output().unwrap();
        (
            out.status.success(),
            format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// An ACK decoded to UTF-8 with CR shown as newline.
pub fn ack_text(ack: &[u8]) -> String {
    encoding_rs::ISO_2022_JP.decode_without_bom_handling(ack).0.replace('\r', "\n")
}

/// MSA-1 of an ACK.
pub fn ack_code(ack: &[u8]) -> String {
    let t = ack_text(ack);
    t.lines().find(|l| l.starts_with("MSA|")).and_then(|l| l.split('|').nth(1)).unwrap_or("").to_owned()
}

/// A minimal valid SS-MIX2 ADT^A08 for a facility, in ISO-2022-JP.
pub fn adt08(msh4: &str, control_id: &str, pid: &str, msh7: &str) -> Vec<u8> {
    let text = format!(
        "MSH|^~\\&|HIS|{msh4}|GW|RCV|{msh7}||ADT^A08^ADT_A01|{control_id}|P|2.5||||||~ISO IR87||ISO 2022-1994\r\
         EVN||{msh7}\r\
         PID|0001||{pid}^^^^PI||山田^花子^^^^^L^I~ヤマダ^ハナコ^^^^^L^P||19700101|F\r"
    );
    encoding_rs::ISO_2022_JP.encode(&text).0.into_owned()
}

/// A minimal valid RDE^O11 prescription order.
pub fn rde(msh4: &str, control_id: &str, pid: &str, order: &str, orc1: &str, msh7: &str) -> Vec<u8> {
    let text = format!(
        "MSH|^~\\&|HIS|{msh4}|GW|RCV|{msh7}||RDE^O11^RDE_O11|{control_id}|P|2.5||||||~ISO IR87||ISO 2022-1994\r\
         PID|0001||{pid}^^^^PI||山田^花子^^^^^L^I~ヤマダ^ハナコ^^^^^L^P||19700101|F\r\
         PV1|0001|O|01^^^^^C||||110^医師^一郎^^^^^^^L^^^^^I|||01\r\
         ORC|{orc1}|{order}|||||||20261120103045|||110^医師^一郎^^^^^^^L^^^^^I|||||01^内科^99XY1\r\
         RXE||108665201^ダーゼン錠（５mg)^HOT9|1||TAB^錠^MR9P|||||15|TAB^錠^MR9P\r\
         RXR|PO^口^HL70162\r"
    );
    encoding_rs::ISO_2022_JP.encode(&text).0.into_owned()
}
