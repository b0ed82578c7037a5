//! `hakobune firstboot`: the appliance makes its own key, request, identity and one-time token,
//! and its configuration from the image's template plus a registration medium.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use crate::harness::bin;

const TEMPLATE: &str = "[server]\ndata_dir = \"/var/lib/hakobune/data\"\nmllp_listen = \"0.0.0.0:2575\"\n";
const REGISTRATION: &str = "[[facility]]\nid = \"2212345678\"\nname = \"登呂総合病院\"\nmsh4 = [\"TORO\"]\n\n\
                            [[facility]]\nid = \"2223456789\"\nname = \"駿河市民病院\"\nmsh4 = [\"SURUGA\"]\n";

fn firstboot(dir: &Path, medium: Option<&Path>) -> Output {
    let mut cmd = Command::new(bin());
    cmd.arg("firstboot")
        .arg("--state-dir")
        .arg(dir.join("state"))
        .arg("--template")
        .arg(dir.join("template.toml"))
        .arg("--console")
        .arg(dir.join("tty1"))
        .arg("--console")
        .arg(dir.join("ttyS0"))
        .args(["--hostname", "hakobune1.region.example.jp"]);
    if let Some(m) = medium {
        cmd.arg("--medium").arg(dir.join("no-medium-here")).arg("--medium").arg(m);
    }
    cmd.output().unwrap()
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn first_boot_makes_identity_key_token_and_configuration_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("template.toml"), TEMPLATE).unwrap();
    for tty in ["tty1", "ttyS0"] {
        std::fs::write(dir.path().join(tty), "").unwrap();
    }
    let medium = dir.path().join("medium");
    std::fs::create_dir_all(&medium).unwrap();
    std::fs::write(medium.join("hakobune-facilities.toml"), REGISTRATION).unwrap();

    let out = firstboot(dir.path(), Some(&medium));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{stdout}{stderr}");

    // The token is on both consoles, the same, and nowhere in what goes to the journal.
    let screen = std::fs::read_to_string(dir.path().join("tty1")).unwrap();
    assert_eq!(screen, std::fs::read_to_string(dir.path().join("ttyS0")).unwrap());
    let token_line = screen.lines().skip_while(|l| !l.contains("one-time administrator token")).nth(2).unwrap();
    let token = token_line.trim();
    assert_eq!(token.len(), 32 + 7, "{screen}");
    assert!(token.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-'), "{token}");
    assert!(!stdout.contains(token) && !stderr.contains(token));
    assert!(screen.contains("管理者初期設定トークン") && screen.contains("2212345678, 2223456789"), "{screen}");

    let etc = dir.path().join("state/etc");
    // Only a hash of the token is kept, readable by the service alone.
    let stored = std::fs::read_to_string(etc.join("bootstrap-token.sha256")).unwrap();
    let canonical: String = token.chars().filter(|c| *c != '-').collect();
    let out = Command::new("sh").arg("-c").arg(format!("printf %s {canonical} | sha256sum")).output().unwrap();
    assert_eq!(stored.trim(), String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap());
    assert_eq!(mode(&etc.join("bootstrap-token.sha256")), 0o600);
    assert_eq!(mode(&etc.join("tls/appliance.key")), 0o600);
    assert_eq!(mode(&etc.join("tls")), 0o700);

    // The certificate request is valid for openssl and names the appliance.
    let req = Command::new("openssl")
        .args(["req", "-verify", "-noout", "-text", "-in"])
        .arg(etc.join("tls/appliance.csr.pem"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&req.stdout);
    assert!(req.status.success(), "{text}");
    assert!(text.contains("DNS:hakobune1.region.example.jp"), "{text}");
    let identity: serde_json::Value =
        serde_json::from_slice(&std::fs::read(etc.join("identity.json")).unwrap()).unwrap();
    let cn = identity["common_name"].as_str().unwrap();
    assert!(text.contains(cn), "{text}");
    assert!(screen.contains(cn));
    let fp = identity["public_key_sha256"].as_str().unwrap();
    assert!(screen.contains(&fp[..4]) && screen.contains(&fp[60..]), "{screen}");

    // The configuration is the template plus the medium's facilities, and the server accepts it.
    let check = Command::new(bin()).arg("check-config").arg(etc.join("hakobune.toml")).output().unwrap();
    let listed = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "{listed}");
    assert!(listed.contains("2212345678 登呂総合病院") && listed.contains("0.0.0.0:2575"), "{listed}");

    // Once done, never again: no new key, no new token.
    let key = std::fs::read(etc.join("tls/appliance.key")).unwrap();
    let again = firstboot(dir.path(), Some(&medium));
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).contains("already initialised"));
    assert_eq!(std::fs::read(etc.join("tls/appliance.key")).unwrap(), key);
    assert_eq!(std::fs::read_to_string(dir.path().join("tty1")).unwrap(), screen);
}

#[test]
fn a_bad_registration_file_stops_first_boot_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("template.toml"), TEMPLATE).unwrap();
    std::fs::write(dir.path().join("tty1"), "").unwrap();
    std::fs::write(dir.path().join("ttyS0"), "").unwrap();
    let medium = dir.path().join("medium");
    std::fs::create_dir_all(&medium).unwrap();
    let cases = [
        (REGISTRATION.replace("2223456789", "22234"), "10 digits"),
        (format!("[server]\nmllp_listen = \"0.0.0.0:1\"\n{REGISTRATION}"), "only [[facility]] tables"),
        (REGISTRATION.replace("SURUGA", "TORO"), "claimed by"),
    ];
    for (text, why) in cases {
        std::fs::write(medium.join("hakobune-facilities.toml"), text).unwrap();
        let out = firstboot(dir.path(), Some(&medium));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(stderr.contains(why), "{why}: {stderr}");
        assert!(!dir.path().join("state").exists(), "{why}: state written");
        assert_eq!(std::fs::read_to_string(dir.path().join("tty1")).unwrap(), "", "{why}: token shown");
    }
    // Without a medium, the template alone (no facilities yet) is a valid start.
    let out = firstboot(dir.path(), None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::read_to_string(dir.path().join("tty1")).unwrap().contains("なし / none"));
}
