use super::*;

fn entry(slot: &str, version: &str) -> String {
    format!(
        "title Hakobune {version} ({slot})\nversion {version}\nsort-key hakobune\nefi /EFI/hakobune/{}.efi\n\
         options root=PARTLABEL=root-{} rauc.slot={slot} ro quiet\n",
        slot.to_lowercase(),
        slot.to_lowercase()
    )
}

fn v(s: &str) -> Version {
    Version::parse(s).unwrap()
}

#[test]
fn versions() {
    assert_eq!(v("2026.11.0").to_string(), "2026.11.0");
    assert!(v("2026.11.10") > v("2026.11.9"));
    assert!(v("2027.1.0") > v("2026.12.3"));
    assert_eq!(v("2026.3.0").to_string(), "2026.3.0");
    for bad in ["2026.13.0", "2026.03.0", "2026.3.01", "26.11.0", "2026.11", "2026.11.0.1", "2026.11.x", "", "2026.0.1"]
    {
        assert_eq!(Version::parse(bad), None, "{bad}");
    }
}

#[test]
fn entries_and_their_boot_counters() {
    let e = parse_entry("hakobune-a.conf", &entry("A", "2026.11.0")).unwrap();
    assert_eq!((e.slot.as_str(), e.version, e.boot), ("A", v("2026.11.0"), BootState::Good));
    let e = parse_entry("hakobune-b+3.conf", &entry("B", "2026.12.0")).unwrap();
    assert_eq!(e.boot, BootState::Trying { left: 3, done: 0 });
    let e = parse_entry("hakobune-b+1-2.conf", &entry("B", "2026.12.0")).unwrap();
    assert_eq!(e.boot, BootState::Trying { left: 1, done: 2 });
    let e = parse_entry("hakobune-b+0-3.conf", &entry("B", "2026.12.0")).unwrap();
    assert_eq!(e.boot, BootState::Bad { done: 3 });
    // Not ours, or not complete: ignored.
    assert_eq!(parse_entry("debian.conf", &entry("A", "2026.11.0")), None);
    assert_eq!(parse_entry("hakobune-a.conf", "title x\nversion 2026.11.0\n"), None);
    assert_eq!(parse_entry("hakobune-a+x.conf", &entry("A", "2026.11.0")), None);
    assert_eq!(parse_entry("hakobune-a.conf", &entry("A", "1.0")), None);
    assert_eq!(booted_slot("BOOT_IMAGE=x root=PARTLABEL=root-b rauc.slot=B ro"), Some("B".into()));
    assert_eq!(booted_slot("root=/dev/vda2"), None);
}

fn st(files: &[(&str, &str, &str)], booted: &str) -> FirmwareStatus {
    let entries = files.iter().map(|(f, s, ver)| parse_entry(f, &entry(s, ver)).unwrap()).collect();
    status(entries, Some(booted.to_owned()))
}

#[test]
fn the_last_update_as_the_slots_tell_it() {
    let factory = st(&[("hakobune-a.conf", "A", "2026.11.0")], "A");
    assert_eq!(factory.last_update, LastUpdate::None);
    assert_eq!(factory.running_version, Some(v("2026.11.0")));

    let pending = st(&[("hakobune-a.conf", "A", "2026.11.0"), ("hakobune-b+3.conf", "B", "2026.12.0")], "A");
    assert_eq!(pending.last_update, LastUpdate::Pending { version: v("2026.12.0") });

    let trial = st(&[("hakobune-a.conf", "A", "2026.11.0"), ("hakobune-b+2-1.conf", "B", "2026.12.0")], "B");
    assert_eq!(trial.last_update, LastUpdate::OnTrial { version: v("2026.12.0"), boots_left: 2 });

    let kept = st(&[("hakobune-a.conf", "A", "2026.11.0"), ("hakobune-b.conf", "B", "2026.12.0")], "B");
    assert_eq!(kept.last_update, LastUpdate::Kept { version: v("2026.12.0") });

    let back = st(&[("hakobune-a.conf", "A", "2026.11.0"), ("hakobune-b+0-3.conf", "B", "2026.12.0")], "A");
    assert_eq!(
        back.last_update,
        LastUpdate::RolledBack { failed: v("2026.12.0"), attempts: 3, running: v("2026.11.0") }
    );
    let json = serde_json::to_value(&back).unwrap();
    assert_eq!(json["last_update"]["result"], "rolled-back", "{json}");
    assert_eq!(json["last_update"]["failed"], "2026.12.0", "{json}");
    assert_eq!(json["slots"][1]["boot"]["state"], "bad", "{json}");
}

#[test]
fn reads_an_esp_folder() {
    let dir = tempfile::tempdir().unwrap();
    let entries = dir.path().join("loader/entries");
    std::fs::create_dir_all(&entries).unwrap();
    std::fs::write(entries.join("hakobune-b+0-3.conf"), entry("B", "2026.12.0")).unwrap();
    std::fs::write(entries.join("hakobune-a.conf"), entry("A", "2026.11.0")).unwrap();
    std::fs::write(entries.join("memtest.conf"), "title memtest\n").unwrap();
    let read = read_entries(dir.path()).unwrap();
    assert_eq!(read.iter().map(|e| e.slot.as_str()).collect::<Vec<_>>(), ["A", "B"]);
    assert!(read_entries(&dir.path().join("absent")).unwrap_err().to_string().contains("absent"));
}
