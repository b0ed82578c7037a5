//! The files the appliance image installs: systemd unit sandboxing and NUT configuration.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn systemd_unit_exposure_is_low() {
    let unit = repo().join("image-build/systemd/hakobune.service");
    let out = Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--threshold=15"])
        .arg(&unit)
        .output()
        .expect("systemd-analyze (Debian's systemd package) is needed for this test");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "exposure above 1.5:\n{text}{}", String::from_utf8_lossy(&out.stderr));
    let verify = Command::new("systemd-analyze").args(["verify", "--man=no"]).arg(&unit).output().unwrap();
    let stderr = String::from_utf8_lossy(&verify.stderr);
    // The binary is not installed at /usr/bin on a build machine; every other complaint counts.
    let complaints: Vec<_> = stderr
        .lines()
        .filter(|l| !l.contains("/usr/bin/hakobune") && !l.contains("is not executable") && !l.trim().is_empty())
        .collect();
    assert!(complaints.is_empty(), "systemd-analyze verify: {complaints:?}");
}

#[test]
fn smart_snapshot_units_verify_and_the_server_reads_what_the_script_writes() {
    let dir = repo().join("image-build/systemd");
    for unit in ["hakobune-smart.service", "hakobune-smart.timer"] {
        let out = Command::new("systemd-analyze").args(["verify", "--man=no"]).arg(dir.join(unit)).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let complaints: Vec<_> = stderr
            .lines()
            .filter(|l| {
                !l.contains("/usr/libexec/hakobune") && !l.contains("is not executable") && !l.trim().is_empty()
            })
            .collect();
        assert!(complaints.is_empty(), "{unit}: {complaints:?}");
    }
    // The configured read command turns a disk path into the snapshot file the script writes.
    let cfg = hakobune_config::Config::load(&repo().join("docs/hakobune.example.toml")).unwrap();
    let cmd = cfg.health.smartctl_command.expect("smartctl_command is set");
    let tmp = tempfile::tempdir().unwrap();
    let script = cmd[2].replace("/run/hakobune-smart", tmp.path().to_str().unwrap());
    std::fs::write(tmp.path().join("sda.json"), b"{\"smartctl\": {\"exit_status\": 0}}").unwrap();
    let out = Command::new(&cmd[0]).args([&cmd[1], &script, &cmd[3], "/dev/sda"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.stdout, b"{\"smartctl\": {\"exit_status\": 0}}");
}

fn section(text: &str, name: &str) -> Vec<String> {
    let mut inside = false;
    let mut out = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.starts_with('#') && !l.is_empty()) {
        if line.starts_with('[') {
            inside = line == format!("[{name}]");
            continue;
        }
        if inside {
            out.push(line.to_owned());
        }
    }
    out
}

#[test]
fn ups_config_agrees_with_the_server() {
    let dir = repo().join("ups-config");
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    let cfg = hakobune_config::Config::load(&repo().join("docs/hakobune.example.toml")).unwrap();
    let ups = cfg.ups.expect("the example configuration documents [ups]");

    assert!(!section(&read("ups.conf"), &ups.ups).is_empty(), "ups.conf has no [{}]", ups.ups);
    assert!(
        read("upsd.conf").lines().any(|l| l.trim() == format!("LISTEN {} {}", ups.host, ups.port)),
        "upsd.conf does not listen where Hakobune connects"
    );
    let user = ups.username.clone().unwrap();
    let users = section(&read("upsd.users"), &user);
    assert!(users.iter().any(|l| l.starts_with("password")), "upsd.users has no [{user}] with a password");
    assert!(
        !users.iter().any(|l| l.starts_with("actions") || l.starts_with("instcmds")),
        "Hakobune's UPS user must be read-only"
    );
    let upsmon = read("upsmon.conf");
    let shutdown = upsmon.lines().find(|l| l.trim_start().starts_with("SHUTDOWNCMD")).unwrap();
    assert!(shutdown.contains(&ups.poweroff_command.join(" ")), "{shutdown} vs {:?}", ups.poweroff_command);
    assert!(upsmon.contains(&format!("MONITOR {}@localhost", ups.ups)));
    assert_eq!(read("nut.conf").lines().find(|l| l.starts_with("MODE=")), Some("MODE=standalone"));
    // No secrets in the repository: passwords are placeholders that first boot replaces.
    for f in ["upsd.users", "upsmon.conf"] {
        for line in read(f).lines().filter(|l| l.contains("password") || l.starts_with("MONITOR")) {
            if line.trim_start().starts_with('#') {
                continue;
            }
            assert!(line.contains('@'), "{f}: a real password is committed: {line}");
        }
    }
}

#[test]
fn smart_snapshot_script_finds_the_md_member_disks() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    // A stand-in smartctl that reports which device it was asked about.
    let fake = bin.join("smartctl");
    std::fs::write(&fake, "#!/bin/sh\nfor a; do last=$a; done\necho \"{\\\"device\\\": \\\"$last\\\"}\"\n").unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mdstat = repo().join("src/health/tests/fixtures/mdstat/two-arrays.txt");
    let out_dir = tmp.path().join("out");
    let status = Command::new("sh")
        .arg(repo().join("image-build/bin/hakobune-smart-snapshot"))
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("HAKOBUNE_MDSTAT", &mdstat)
        .env("HAKOBUNE_SMART_DIR", &out_dir)
        .status()
        .unwrap();
    assert!(status.success());
    let mut names: Vec<String> =
        std::fs::read_dir(&out_dir).unwrap().flatten().map(|e| e.file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["sda.json", "sdb.json"]);
    for n in &names {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(out_dir.join(n)).unwrap()).unwrap();
        assert_eq!(v["device"], format!("/dev/{}", n.trim_end_matches(".json")));
    }
}
