//! The command line as an operator meets it: send, check-config, serve with a bad configuration.

use std::path::Path;
use std::process::Command;

use crate::harness::*;

#[tokio::test(flavor = "multi_thread")]
async fn send_prints_one_ack_per_file() {
    let server = Server::start("", &sample_facility());
    let files: Vec<_> = hakobune_ssmix2::samples::self_consistent()
        .take(3)
        .map(|s| samples_dir().join(s.storage_root).join(s.path))
        .collect();
    let out = Command::new(bin()).args(["send", "--to", &server.mllp.to_string()]).args(&files).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout.lines().filter(|l| l.contains("MSA|AA|")).count(), 3, "{stdout}");

    // A refused file makes the exit status non-zero.
    let bad = server.dir.path().join("bad.hl7");
    std::fs::write(&bad, b"MSH|^~\\&|HIS|NOBODY|GW|RCV|20261120103000||ADT^A08^ADT_A01|X1|P|2.5\rPID|0001||1234567\r")
        .unwrap();
    let out = Command::new(bin()).args(["send", "--to", &server.mllp.to_string()]).arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stdout).contains("MSA|AR|X1"));
}

#[test]
fn configuration_is_checked_before_anything_starts() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/hakobune.example.toml");
    let out = Command::new(bin()).arg("check-config").arg(&example).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("登呂総合病院"));

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[server]\nmllp_listn = \"127.0.0.1:1\"\n").unwrap();
    let out = Command::new(bin()).arg("check-config").arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&out.stderr).contains("mllp_listn"));
    let out = Command::new(bin()).args(["serve", "--config"]).arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(64), "serve must refuse a bad configuration before binding");
}

#[tokio::test(flavor = "multi_thread")]
async fn self_check_passes_for_a_running_server_and_fails_without_one() {
    let mut server = Server::start("", &sample_facility());
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, format!("[server]\nhttp_listen = \"{}\"\n", server.http)).unwrap();
    let out = Command::new(bin()).args(["self-check", "--wait", "10", "--config"]).arg(&cfg).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("healthy"));
    assert!(server.stop().success());
    let out = Command::new(bin()).args(["self-check", "--wait", "1", "--config"]).arg(&cfg).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("NOT healthy"));
}

#[tokio::test(flavor = "multi_thread")]
async fn firmware_status_reads_the_boot_entries_and_the_server_shows_it() {
    let dir = tempfile::tempdir().unwrap();
    let entries = dir.path().join("esp/loader/entries");
    std::fs::create_dir_all(&entries).unwrap();
    let entry = |slot: &str, version: &str| {
        let s = slot.to_lowercase();
        format!(
            "title Hakobune {version} ({slot})\nversion {version}\nsort-key hakobune\nefi /EFI/hakobune/{s}.efi\n\
             options root=PARTLABEL=root-{s} rauc.slot={slot} ro\n"
        )
    };
    std::fs::write(entries.join("hakobune-a.conf"), entry("A", "2026.11.0")).unwrap();
    std::fs::write(entries.join("hakobune-b+0-3.conf"), entry("B", "2026.12.0")).unwrap();
    let cmdline = dir.path().join("cmdline");
    std::fs::write(&cmdline, "root=PARTLABEL=root-a rauc.slot=A ro quiet\n").unwrap();
    let status = |json: bool| {
        let mut c = Command::new(bin());
        c.args(["firmware", "status", "--esp"]).arg(dir.path().join("esp")).arg("--cmdline").arg(&cmdline);
        c.arg("--install-record").arg(dir.path().join("last-install.json"));
        if json {
            c.arg("--json");
        }
        let out = c.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    assert!(status(true).contains("\"last_install\": null"));
    std::fs::write(
        dir.path().join("last-install.json"),
        r#"{"at": "2026-12-01T01:02:03Z", "result": "refused", "bundle": "hakobune-2026.12.1.raucb", "message": "signature verification failed"}"#,
    )
    .unwrap();
    let text = status(false);
    assert!(text.contains("hakobune-2026.12.1.raucb (refused) signature verification failed"), "{text}");
    assert!(text.contains("2026.12.0 FAILED after 3 boots; rolled back to 2026.11.0"), "{text}");
    assert!(text.contains("更新失敗"), "{text}");
    let json_file = dir.path().join("firmware.json");
    std::fs::write(&json_file, status(true)).unwrap();

    let server = Server::start(&format!("firmware_status_file = {json_file:?}\n"), &sample_facility());
    let s = server.get_json("/api/v1/appliance/status").await;
    assert_eq!(s["firmware"]["booted_slot"], "A", "{s}");
    assert_eq!(s["firmware"]["last_update"]["result"], "rolled-back", "{s}");
    assert_eq!(s["firmware"]["last_update"]["failed"], "2026.12.0", "{s}");
    let s = server
        .wait_for_status("rollback alarm", |s| {
            s["alarms"].as_array().unwrap().iter().any(|a| a["id"] == "firmware-rolled-back")
        })
        .await;
    let alarm = s["alarms"].as_array().unwrap().iter().find(|a| a["id"] == "firmware-rolled-back").unwrap().clone();
    assert!(alarm["message_ja"].as_str().unwrap().contains("2026.11.0 に自動で戻しました"), "{alarm}");
    let refused = s["alarms"].as_array().unwrap().iter().find(|a| a["id"] == "firmware-update-refused").unwrap();
    assert!(refused["message_en"].as_str().unwrap().contains("signature verification failed"), "{refused}");
    // Not an appliance: no firmware section.
    let plain = Server::start("", &sample_facility());
    assert!(plain.get_json("/api/v1/appliance/status").await["firmware"].is_null());
}
