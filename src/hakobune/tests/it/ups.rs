//! UPS-driven graceful shutdown against a real NUT upsd with the dummy-ups driver (Debian's
//! nut-server, installed by the README's test command).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::*;

const FAC: &str = "2212345678";

/// upsd + dummy-ups in a temporary directory, on a free loopback port.
struct UpsSim {
    dir: tempfile::TempDir,
    port: u16,
    driver: Option<Child>,
    upsd: Option<Child>,
}

fn nut_bin(name: &str) -> PathBuf {
    for dir in ["/lib/nut", "/usr/lib/nut", "/usr/sbin", "/sbin"] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return p;
        }
    }
    panic!("NUT's {name} is not installed (apt-get install nut-server): run the README's test command")
}

impl UpsSim {
    fn start() -> UpsSim {
        UpsSim::start_with(|_| String::new())
    }

    /// upsd offering STARTTLS with a server certificate for `127.0.0.1` issued by `ca`, kept, as
    /// Debian's NSS-based upsd wants it, in an NSS database (CERTPATH) under the nickname `upsd`.
    fn start_tls(ca: &hakobune_tls::test_pki::TestCa) -> UpsSim {
        UpsSim::start_with(|dir| {
            let srv = ca.server("upsd", &["127.0.0.1", "localhost"]);
            let p12 = dir.join("upsd.p12");
            let db = dir.join("nssdb");
            std::fs::create_dir_all(&db).unwrap();
            run(Command::new("openssl")
                .args(["pkcs12", "-export", "-name", "upsd", "-passout", "pass:transfer"])
                .arg("-in")
                .arg(&srv.cert_file)
                .arg("-inkey")
                .arg(&srv.key_file)
                .arg("-certfile")
                .arg(ca.ca_file())
                .arg("-out")
                .arg(&p12));
            run(Command::new(nss_tool("certutil"))
                .args(["-N", "--empty-password", "-d"])
                .arg(format!("sql:{}", db.display())));
            run(Command::new(nss_tool("pk12util"))
                .arg("-i")
                .arg(&p12)
                .args(["-W", "transfer", "-K", "", "-d"])
                .arg(format!("sql:{}", db.display())));
            format!("CERTPATH {}\nCERTIDENT \"upsd\" \"\"\nDISABLE_WEAK_SSL true\n", db.display())
        })
    }

    fn start_with(upsd_extra: impl FnOnce(&Path) -> String) -> UpsSim {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let etc = dir.path().join("etc");
        std::fs::create_dir_all(&etc).unwrap();
        std::fs::create_dir_all(dir.path().join("state")).unwrap();
        std::fs::write(
            etc.join("ups.conf"),
            "[sim]\n  driver = dummy-ups\n  port = sim.dev\n  desc = \"simulated UPS\"\n",
        )
        .unwrap();
        let extra = upsd_extra(dir.path());
        std::fs::write(etc.join("upsd.conf"), format!("LISTEN 127.0.0.1 {port}\n{extra}")).unwrap();
        std::fs::write(etc.join("upsd.users"), "[hakobune]\n  password = test-only\n  upsmon secondary\n").unwrap();
        std::fs::write(etc.join("nut.conf"), "MODE=standalone\n").unwrap();
        let mut sim = UpsSim { dir, port, driver: None, upsd: None };
        sim.set("OL", 100, 1800);
        sim.driver = Some(sim.nut("dummy-ups", &["-a", "sim", "-u", "root", "-F"]));
        std::thread::sleep(Duration::from_millis(500));
        sim.upsd = Some(sim.nut("upsd", &["-u", "root", "-F"]));
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "upsd did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        sim
    }

    fn nut(&self, name: &str, args: &[&str]) -> Child {
        Command::new(nut_bin(name))
            .args(args)
            .env("NUT_CONFPATH", self.dir.path().join("etc"))
            .env("NUT_STATEPATH", self.dir.path().join("state"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    }

    /// Switches the simulated UPS (the driver re-reads the file when it changes).
    fn set(&self, status: &str, charge: u32, runtime: u32) {
        let path = self.dir.path().join("etc/sim.dev");
        let tmp = self.dir.path().join("etc/sim.dev.tmp");
        std::fs::write(&tmp, format!("ups.status: {status}\nbattery.charge: {charge}\nbattery.runtime: {runtime}\n"))
            .unwrap();
        std::fs::rename(tmp, path).unwrap();
    }

    fn stop_upsd(&mut self) {
        if let Some(mut c) = self.upsd.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn config(&self, poweroff_marker: &Path) -> String {
        let pw = self.dir.path().join("ups.password");
        std::fs::write(&pw, "test-only\n").unwrap();
        std::fs::set_permissions(&pw, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
        format!(
            "[[facility]]\nid = \"{FAC}\"\nname = \"登呂総合病院\"\nmsh4 = [\"TORO\"]\n\n[ups]\nhost = \"127.0.0.1\"\nport = {}\nups = \"sim\"\n\
             username = \"hakobune\"\npassword_file = {:?}\npoll_interval_secs = 1\nshutdown_delay_secs = 1\n\
             poweroff_command = [\"touch\", {:?}]\n",
            self.port, pw, poweroff_marker
        )
    }
}

fn nss_tool(name: &str) -> &str {
    assert!(
        Path::new("/usr/bin").join(name).exists(),
        "NSS's {name} is not installed (apt-get install libnss3-tools): run the README's test command"
    );
    name
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
}

impl Drop for UpsSim {
    fn drop(&mut self) {
        for c in [self.driver.take(), self.upsd.take()].into_iter().flatten() {
            let mut c = c;
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn alarm_ids(s: &serde_json::Value) -> Vec<String> {
    s["alarms"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn power_loss_then_low_battery_shuts_down_cleanly_under_load() {
    let ups = UpsSim::start();
    let marker = ups.dir.path().join("powered-off");
    let mut server = Server::start("", &ups.config(&marker));
    server.wait_for_status("UPS online", |s| s["ups"]["state"] == "online").await;

    // Senders push messages the whole time; every AA is recorded.
    let acked: Acked = Acked::default();
    let mut senders = Vec::new();
    for sender in 0..4u64 {
        let (acked, addr) = (acked.clone(), server.mllp);
        senders.push(tokio::spawn(async move {
            let Ok(mut c) = hakobune_mllp::MllpClient::connect(addr).await else { return (0, 0) };
            let (mut ok, mut retry_later) = (0, 0);
            for i in 0u64.. {
                let n = sender * 1_000_000 + i;
                let t = n % 86_400;
                let msh7 = format!("20261120{:02}{:02}{:02}.{:03}", t / 3600, t / 60 % 60, t % 60, n % 1000);
                let msg = adt08("TORO", &format!("U{n}"), &format!("{:07}", 4_000_000 + n % 300), &msh7);
                match c.send(&msg).await {
                    Ok(ack) if ack_code(&ack) == "AA" => {
                        ok += 1;
                        acked.lock().unwrap().push((format!("U{n}"), msg));
                    }
                    Ok(ack) => {
                        assert!(ack_text(&ack).contains("207^"), "only retry-later NAKs expected: {}", ack_text(&ack));
                        retry_later += 1;
                    }
                    Err(_) => return (ok, retry_later),
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            (ok, retry_later)
        }));
    }

    tokio::time::sleep(Duration::from_millis(500)).await;
    ups.set("OB DISCHRG", 80, 1500);
    let s = server.wait_for_status("on-battery alarm", |s| alarm_ids(s).contains(&"ups-on-battery".to_owned())).await;
    assert_eq!(s["ups"]["connected"], true);
    tokio::time::sleep(Duration::from_millis(500)).await;
    ups.set("OB DISCHRG LB", 10, 120);

    let status = server.wait_exit(Duration::from_secs(60));
    assert!(status.success(), "{}", server.log());
    let mut totals = (0, 0);
    for s in senders {
        let (ok, retry) = s.await.unwrap();
        totals.0 += ok;
        totals.1 += retry;
    }
    assert!(marker.exists(), "the power-off command did not run:\n{}", server.log());
    let log = server.log();
    for step in ["begin", "listeners", "storage", "replication", "poweroff", "end"] {
        assert!(log.contains(&format!("step=\"{step}\"")), "missing step {step} in:\n{log}");
    }
    assert!(log.contains("low battery"), "{log}");

    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() > 20, "too little load: {totals:?}");
    let index = hakobune_index::Index::open_read_only(&server.data.join("index.sqlite")).unwrap();
    for (control, msg) in &acked {
        assert!(index.contains_message(FAC, control, &hakobune_store::sha256_hex(msg)).unwrap(), "{control} lost");
    }
    drop(index);
    let (ok, out) = server.verify(false);
    assert!(ok, "{out}");
    assert!(out.contains("previous shutdown clean"), "{out}");

    // Power is back: the next start reports the clean shutdown and serves again.
    ups.set("OL CHRG", 15, 200);
    server.restart();
    assert!(server.log().contains("the previous shutdown was clean"), "{}", server.log());
    eprintln!("{} acknowledged, {} told to retry later; all acknowledged messages stored", totals.0, totals.1);
}

#[tokio::test(flavor = "multi_thread")]
async fn power_back_before_low_battery_means_no_shutdown_and_a_missing_upsd_is_only_a_warning() {
    let mut ups = UpsSim::start();
    let marker = ups.dir.path().join("powered-off");
    let mut server = Server::start("", &ups.config(&marker));
    server.wait_for_status("UPS online", |s| s["ups"]["state"] == "online").await;
    ups.set("OB DISCHRG", 90, 1700);
    server.wait_for_status("on battery", |s| s["ups"]["state"] == "on-battery").await;
    server.wait_for_status("on-battery alarm", |s| alarm_ids(s).contains(&"ups-on-battery".to_owned())).await;
    ups.set("OL CHRG", 90, 1700);
    let s = server
        .wait_for_status("back online, alarm cleared", |s| {
            s["ups"]["state"] == "online" && !alarm_ids(s).contains(&"ups-on-battery".to_owned())
        })
        .await;
    let cleared = &s["cleared_alarms"][0];
    assert_eq!(cleared["id"], "ups-on-battery", "{s}");
    assert!(cleared["raised_at"].as_str().unwrap() <= cleared["cleared_at"].as_str().unwrap(), "{s}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(server.is_running(), "the server stopped although power came back:\n{}", server.log());
    assert!(!marker.exists());

    // upsd goes away: an alarm and a metric, never a crash.
    ups.stop_upsd();
    let s = server.wait_for_status("unreachable alarm", |s| alarm_ids(s).contains(&"ups-unreachable".to_owned())).await;
    assert_eq!(s["ups"]["connected"], false);
    // The UPS gauges are refreshed every second.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let metrics = reqwest::get(format!("http://{}/metrics", server.http)).await.unwrap().text().await.unwrap();
        if metrics.contains("hakobune_ups_connected 0") {
            break;
        }
        assert!(Instant::now() < deadline, "{metrics}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(server.is_running());
    let ack = server.client().await.send(&adt08("TORO", "after", "1234567", "20261120103000")).await.unwrap();
    assert_eq!(ack_code(&ack), "AA");
    assert!(server.stop().success());
}

/// upsd on another box: STARTTLS with the operator's CA, the NUT login inside TLS; a certificate
/// from another CA, or an upsd without TLS, means "unreachable", never plain text.
#[tokio::test(flavor = "multi_thread")]
async fn upsd_over_tls_verifies_the_certificate_and_never_falls_back_to_plain_text() {
    let pki = tempfile::tempdir().unwrap();
    let ca = hakobune_tls::test_pki::TestCa::new(pki.path(), "region");
    let stranger = hakobune_tls::test_pki::TestCa::new(pki.path(), "stranger");
    let ups = UpsSim::start_tls(&ca);
    let marker = ups.dir.path().join("powered-off");
    let with_tls = |ca_file: &Path| format!("{}\n[ups.tls]\nca_file = {ca_file:?}\n", ups.config(&marker));

    let server = Server::start("", &with_tls(&ca.ca_file()));
    let s = server.wait_for_status("UPS online over TLS", |s| s["ups"]["state"] == "online").await;
    assert_eq!(s["ups"]["tls"], true, "{s}");
    assert_eq!(s["ups"]["connected"], true, "{s}");
    // Readings keep flowing through the tunnel.
    ups.set("OB DISCHRG", 80, 1500);
    let s = server.wait_for_status("on battery over TLS", |s| s["ups"]["state"] == "on-battery").await;
    assert_eq!(s["ups"]["reading"]["charge"], 80.0, "{s}");

    let wrong_ca = Server::start("", &with_tls(&stranger.ca_file()));
    let s = wrong_ca
        .wait_for_status("certificate refused, alarm raised", |s| {
            s["ups"]["last_error"].as_str().is_some_and(|e| e.contains("handshake"))
                && alarm_ids(s).contains(&"ups-unreachable".to_owned())
        })
        .await;
    assert_eq!(s["ups"]["connected"], false, "{s}");
    assert!(alarm_ids(&s).contains(&"ups-unreachable".to_owned()), "{s}");
    assert!(s["ups"]["last_error"].as_str().unwrap().contains("UnknownIssuer"), "{s}");

    let plain = UpsSim::start();
    let plain_marker = plain.dir.path().join("powered-off");
    let no_tls =
        Server::start("", &format!("{}\n[ups.tls]\nca_file = {:?}\n", plain.config(&plain_marker), ca.ca_file()));
    let s = no_tls
        .wait_for_status("plain upsd refused", |s| {
            s["ups"]["last_error"].as_str().is_some_and(|e| e.contains("does not offer TLS"))
        })
        .await;
    assert_eq!(s["ups"]["connected"], false, "{s}");
    for mut server in [server, wrong_ca, no_tls] {
        assert!(server.is_running(), "{}", server.log());
        assert!(server.stop().success());
    }
    assert!(!marker.exists() && !plain_marker.exists());
}
