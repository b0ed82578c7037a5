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

/// The RAUC bootloader backend on a stand-in ESP: an update is written to the other slot, boots on
/// trial, and either is blessed or, after its tries run out, leaves the box on the old slot; the
/// status the server shows follows each step.
#[test]
fn rauc_bootloader_backend_updates_on_trial_and_falls_back() {
    let tmp = tempfile::tempdir().unwrap();
    let esp = tmp.path().join("esp");
    let cmdline = tmp.path().join("cmdline");
    let slot_dir = tmp.path().join("slot");
    std::fs::create_dir_all(slot_dir.join("usr/lib/hakobune/boot")).unwrap();
    std::fs::write(slot_dir.join("usr/lib/hakobune/boot/hakobune.efi"), b"MZ new kernel").unwrap();
    let backend = |args: &[&str], version: &str| {
        std::fs::write(slot_dir.join("usr/lib/os-release"), format!("ID=debian\nIMAGE_VERSION=\"{version}\"\n"))
            .unwrap();
        Command::new(repo().join("image-build/bin/rauc-bootloader"))
            .args(args)
            .env("HAKOBUNE_ESP", &esp)
            .env("HAKOBUNE_SLOT_DIR", &slot_dir)
            .env("HAKOBUNE_CMDLINE", &cmdline)
            .output()
            .unwrap()
    };
    let ok = |args: &[&str], version: &str| {
        let out = backend(args, version);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let status = || {
        let out = Command::new(crate::harness::bin())
            .args(["firmware", "status", "--json", "--esp"])
            .arg(&esp)
            .arg("--cmdline")
            .arg(&cmdline)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let entries = || {
        let mut v: Vec<String> = std::fs::read_dir(esp.join("loader/entries"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };

    // Factory state: slot A written and blessed by the image build.
    ok(&["set-primary", "A"], "2026.11.0");
    ok(&["set-state", "A", "good"], "2026.11.0");
    std::fs::write(&cmdline, "root=PARTLABEL=root-a rauc.slot=A ro\n").unwrap();
    assert_eq!(entries(), ["hakobune-a.conf"]);
    assert_eq!(ok(&["get-current"], ""), "A");
    assert_eq!(ok(&["get-state", "B"], ""), "bad");
    assert_eq!(status()["last_update"]["result"], "none");

    // RAUC installs 2026.12.0 into B: first unbootable, then written, then primary on trial.
    ok(&["set-state", "B", "bad"], "");
    ok(&["set-primary", "B"], "2026.12.0");
    assert_eq!(entries(), ["hakobune-a.conf", "hakobune-b+3.conf"]);
    assert_eq!(ok(&["get-primary"], ""), "B");
    let entry = std::fs::read_to_string(esp.join("loader/entries/hakobune-b+3.conf")).unwrap();
    assert!(entry.contains("options root=PARTLABEL=root-b rauc.slot=B ro"), "{entry}");
    assert_eq!(std::fs::read(esp.join("EFI/hakobune/b.efi")).unwrap(), b"MZ new kernel");
    assert_eq!(status()["last_update"]["result"], "pending");

    // Three boots of B without passing the self-check: systemd-boot leaves +0-3 and boots A.
    std::fs::rename(esp.join("loader/entries/hakobune-b+3.conf"), esp.join("loader/entries/hakobune-b+0-3.conf"))
        .unwrap();
    assert_eq!(ok(&["get-primary"], ""), "A");
    assert_eq!(ok(&["get-state", "B"], ""), "bad");
    let s = status();
    assert_eq!(s["last_update"]["result"], "rolled-back", "{s}");
    assert_eq!(s["last_update"]["failed"], "2026.12.0");
    assert_eq!(s["running_version"], "2026.11.0");

    // A fixed 2026.12.1 goes the same way and is blessed after its first boot.
    ok(&["set-state", "B", "bad"], "");
    assert_eq!(entries(), ["hakobune-a.conf"]);
    ok(&["set-primary", "B"], "2026.12.1");
    std::fs::rename(esp.join("loader/entries/hakobune-b+3.conf"), esp.join("loader/entries/hakobune-b+2-1.conf"))
        .unwrap();
    std::fs::write(&cmdline, "root=PARTLABEL=root-b rauc.slot=B ro\n").unwrap();
    assert_eq!(status()["last_update"]["result"], "on-trial");
    ok(&["set-state", "B", "good"], "");
    assert_eq!(entries(), ["hakobune-a.conf", "hakobune-b.conf"]);
    let s = status();
    assert_eq!((s["last_update"]["result"].as_str(), s["running_version"].as_str()), (Some("kept"), Some("2026.12.1")));

    // No downgrades, and nothing but the version scheme.
    ok(&["set-state", "A", "bad"], "");
    for (version, why) in [
        ("2026.11.5", "not newer"),
        ("2026.12.1", "not newer"),
        ("12.0", "no valid firmware version"),
        ("2027.01.0", "no valid firmware version"),
    ] {
        let out = backend(&["set-primary", "A"], version);
        assert!(!out.status.success(), "{version} accepted");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(why),
            "{version}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(ok(&["get-primary"], ""), "B");
}

#[test]
fn boot_check_and_firmware_status_units_verify() {
    let dir = repo().join("image-build/systemd");
    for unit in [
        "hakobune-boot-check.service",
        "hakobune-firmware-status.service",
        "hakobune-firmware-status.timer",
        "hakobune-firstboot.service",
        "hakobune-data-setup.service",
        "hakobune-raid.service",
        "hakobune-nut-config.service",
    ] {
        let out = Command::new("systemd-analyze").args(["verify", "--man=no"]).arg(dir.join(unit)).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let complaints: Vec<_> = stderr
            .lines()
            .filter(|l| {
                !l.contains("/usr/libexec/hakobune")
                    && !l.contains("/usr/bin/hakobune")
                    && !l.contains("is not executable")
                    && !l.contains("hakobune.service")
                    && !l.trim().is_empty()
            })
            .collect();
        assert!(complaints.is_empty(), "{unit}: {complaints:?}");
    }
}

/// The media labels the appliance reacts to must fit a FAT file system (11 characters), since a
/// vendor's USB stick is usually FAT: mkfs.fat itself is the judge.
#[test]
fn media_labels_fit_a_fat_usb_stick() {
    let rules = std::fs::read_to_string(repo().join("image-build/udev/99-hakobune-media.rules")).unwrap();
    let firstboot = std::fs::read_to_string(repo().join("image-build/bin/hakobune-firstboot")).unwrap();
    let mut labels: Vec<String> = rules
        .split("ID_FS_LABEL}==\"")
        .skip(1)
        .chain(firstboot.split("blkid -L ").skip(1))
        .map(|rest| rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect())
        .collect();
    labels.sort();
    labels.dedup();
    assert_eq!(labels, ["HAKOBUNECFG", "HAKOBUNEUPD"], "{labels:?}");
    let tmp = tempfile::tempdir().unwrap();
    for label in labels {
        let img = tmp.path().join(format!("{label}.img"));
        let out = Command::new("mkfs.fat")
            .args(["-C", "-n", &label])
            .arg(&img)
            .arg("1440")
            .output()
            .expect("mkfs.fat (Debian's dosfstools, installed by the README's test command)");
        assert!(out.status.success(), "{label}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// First boot's NUT passwords: `hakobune-nut-config` fills the committed templates with this box's
/// own random passwords, gives upsmon and the server the same ones that upsd checks, keeps them
/// across boots, and leaves no file others can read.
#[test]
fn nut_config_gives_each_box_its_own_passwords_and_keeps_them() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let templates = tmp.path().join("templates");
    std::fs::create_dir(&templates).unwrap();
    for f in ["upsd.users", "upsmon.conf"] {
        std::fs::copy(repo().join("ups-config").join(f), templates.join(f)).unwrap();
    }
    let me = {
        let id = |flag: &str| String::from_utf8(Command::new("id").arg(flag).output().unwrap().stdout).unwrap();
        format!("{}:{}", id("-u").trim(), id("-g").trim())
    };
    let run = |secrets: &Path, out: &Path, server: &Path| {
        let o = Command::new(repo().join("image-build/bin/hakobune-nut-config"))
            .env("HAKOBUNE_NUT_TEMPLATES", &templates)
            .env("HAKOBUNE_NUT_SECRETS", secrets)
            .env("HAKOBUNE_NUT_OUT", out)
            .env("HAKOBUNE_UPS_PASSWORD_FILE", server)
            .env("HAKOBUNE_NUT_OWNER", &me)
            .env("HAKOBUNE_SERVER_OWNER", &me)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    let read = |p: &Path| std::fs::read_to_string(p).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let password_of = |users: &str, user: &str| -> String {
        let lines = section(users, user);
        let line = lines.iter().find(|l| l.starts_with("password")).unwrap();
        line.split('=').nth(1).unwrap().trim().to_owned()
    };

    let (secrets, out, server) = (tmp.path().join("secrets"), tmp.path().join("run"), tmp.path().join("ups.password"));
    run(&secrets, &out, &server);
    let users = read(&out.join("upsd.users"));
    let upsmon = read(&out.join("upsmon.conf"));
    assert!(!users.contains("_PASSWORD@") && !upsmon.contains("_PASSWORD@"), "a placeholder is left");
    let monitor_pw = password_of(&users, "upsmon-local");
    let server_pw = password_of(&users, "hakobune");
    for pw in [&monitor_pw, &server_pw] {
        assert_eq!(pw.len(), 32, "{pw}");
        assert!(pw.chars().all(|c| c.is_ascii_alphanumeric()), "{pw}");
    }
    assert_ne!(monitor_pw, server_pw);
    let monitor = upsmon.lines().find(|l| l.starts_with("MONITOR")).unwrap();
    assert!(monitor.contains(&format!(" upsmon-local {monitor_pw} primary")), "{monitor}");
    assert_eq!(read(&server).trim(), server_pw);
    assert_eq!(mode(&server), 0o600);
    assert_eq!(mode(&out.join("upsd.users")), 0o640);
    assert_eq!(mode(&out.join("upsmon.conf")), 0o640);
    assert_eq!(mode(&secrets), 0o700);

    // The next boot (a fresh /run) finds the same passwords; another box gets other ones.
    std::fs::remove_dir_all(&out).unwrap();
    run(&secrets, &out, &server);
    assert_eq!(read(&out.join("upsd.users")), users);
    assert_eq!(read(&server).trim(), server_pw);
    let other = tmp.path().join("other");
    std::fs::create_dir(&other).unwrap();
    run(&other.join("secrets"), &other.join("run"), &other.join("ups.password"));
    assert_ne!(password_of(&read(&other.join("run/upsd.users")), "hakobune"), server_pw);
}

/// SSH is enabled only with real public keys: `hakobune-ssh-setup --check-keys` (what first boot
/// runs on the medium's `ssh-authorized-keys` before it writes anything) takes Ed25519, ECDSA and
/// RSA of 3072 bits or more, and refuses an empty file, a stray line, a short RSA key, a private key.
#[test]
fn ssh_keys_from_the_medium_are_checked_before_first_boot_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let keygen = |name: &str, args: &[&str]| -> String {
        let path = tmp.path().join(name);
        let out = Command::new("ssh-keygen")
            .args(["-q", "-N", "", "-C", name, "-f"])
            .arg(&path)
            .args(args)
            .output()
            .expect("ssh-keygen (openssh-client)");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        std::fs::read_to_string(path.with_extension("pub")).unwrap()
    };
    let ed = keygen("ed", &["-t", "ed25519"]);
    let ec = keygen("ec", &["-t", "ecdsa", "-b", "384"]);
    let rsa_ok = keygen("rsa3072", &["-t", "rsa", "-b", "3072"]);
    let rsa_short = keygen("rsa2048", &["-t", "rsa", "-b", "2048"]);
    let check = |text: &str| -> (bool, String) {
        let f = tmp.path().join("ssh-authorized-keys");
        std::fs::write(&f, text).unwrap();
        let out = Command::new(repo().join("image-build/bin/hakobune-ssh-setup"))
            .arg("--check-keys")
            .arg(&f)
            .output()
            .unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (ok, why) = check(&format!("# vendor maintenance keys\n{ed}\n{ec}{rsa_ok}"));
    assert!(ok, "Ed25519, ECDSA and RSA-3072 refused: {why}");
    let (ok, why) = check(&format!("{ed}not a key\n"));
    assert!(!ok && why.contains("1 of 2"), "{why}");
    assert!(!check(&rsa_short).0, "a 2048-bit RSA key is accepted");
    assert!(!check("# only a comment\n\n").0, "a file without keys is accepted");
    let private = std::fs::read_to_string(tmp.path().join("ed")).unwrap();
    assert!(!check(&private).0, "a private key is accepted");
}

/// The appliance's sshd settings say what the hardening table says: keys only, root only, no
/// forwarding, host keys on the data disk. (The image's own sshd checks and uses them in
/// hw-tests/boot.sh: `sshd -t` before it starts, then a key login and passwords refused.)
#[test]
fn sshd_settings_are_keys_only() {
    let conf =
        std::fs::read_to_string(repo().join("image-build/mkosi.extra/etc/ssh/sshd_config.d/50-hakobune.conf")).unwrap();
    for line in [
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "AuthenticationMethods publickey",
        "PermitRootLogin prohibit-password",
        "AllowTcpForwarding no",
        "X11Forwarding no",
        "AuthorizedKeysFile /var/lib/hakobune/ssh/authorized_keys",
    ] {
        assert!(conf.lines().any(|l| l.trim() == line), "missing: {line}");
    }
    assert!(conf.lines().filter(|l| l.starts_with("HostKey ")).all(|l| l.contains("/var/lib/hakobune/ssh/")));
}
