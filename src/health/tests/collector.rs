//! End to end: `collect` against fixture trees and fake `mdadm` / `smartctl` commands.

use std::fs;
use std::path::{Path, PathBuf};

use hakobune_health::{
    ArrayState, DiskReason, DiskState, HealthReport, HealthSources, OverallStatus, Severity, SourceStatus,
    SpaceThresholds, SyncAction, collect,
};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A scenario: an mdstat file and the outputs the fake commands print, by device name.
struct Scenario {
    dir: tempfile::TempDir,
}

impl Scenario {
    fn new(mdstat: Option<&str>) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::create_dir(dir.path().join("mdadm")).expect("mkdir");
        fs::create_dir(dir.path().join("smartctl")).expect("mkdir");
        if let Some(name) = mdstat {
            fs::copy(fixtures().join("mdstat").join(name), dir.path().join("mdstat")).expect("copy mdstat");
        }
        Scenario { dir }
    }

    fn mdadm(self, array: &str, fixture: &str) -> Self {
        fs::copy(fixtures().join("mdadm").join(fixture), self.dir.path().join("mdadm").join(format!("{array}.txt")))
            .expect("copy mdadm fixture");
        self
    }

    fn smartctl(self, disk: &str, fixture: &str) -> Self {
        fs::copy(
            fixtures().join("smartctl").join(fixture),
            self.dir.path().join("smartctl").join(format!("{disk}.json")),
        )
        .expect("copy smartctl fixture");
        self
    }

    fn sources(&self) -> HealthSources {
        let fake = |name: &str, dir: &str, args: &[&str]| {
            let mut argv = vec![
                "sh".to_owned(),
                fixtures().join("bin").join(name).to_string_lossy().into_owned(),
                self.dir.path().join(dir).to_string_lossy().into_owned(),
            ];
            argv.extend(args.iter().map(|a| (*a).to_owned()));
            argv
        };
        HealthSources {
            mdstat_path: self.dir.path().join("mdstat"),
            mdadm_command: Some(fake("fake-mdadm.sh", "mdadm", &["--detail"])),
            smartctl_command: Some(fake("fake-smartctl.sh", "smartctl", &["-j", "-H", "-A", "-i"])),
            data_path: Some(self.dir.path().to_owned()),
            command_timeout_seconds: 20,
            thresholds: hakobune_health::Thresholds { free_space: no_space_thresholds(), ..Default::default() },
            ..HealthSources::default()
        }
    }
}

/// Free-space thresholds that the machine running the tests cannot cross.
fn no_space_thresholds() -> SpaceThresholds {
    SpaceThresholds {
        warning_percent: 0.0,
        critical_percent: 0.0,
        warning_bytes: 0,
        critical_bytes: 0,
        inodes_warning_percent: 0.0,
        inodes_critical_percent: 0.0,
    }
}

fn alarm_ids(report: &HealthReport) -> Vec<(&str, Severity)> {
    report.alarms.iter().map(|a| (a.id.as_str(), a.severity)).collect()
}

fn disk_devices(report: &HealthReport) -> Vec<&str> {
    report.disks.iter().map(|d| d.device.as_str()).collect()
}

#[test]
fn healthy_mirror() {
    let s = Scenario::new(Some("raid1-healthy.txt"))
        .mdadm("md0", "md0-clean.txt")
        .smartctl("sda", "sata-ssd-healthy.json")
        .smartctl("sdb", "sata-ssd-healthy.json");
    let report = collect(&s.sources());
    assert_eq!(report.mdstat, SourceStatus::Ok);
    assert_eq!(report.arrays.len(), 1);
    let md0 = &report.arrays[0];
    assert_eq!(md0.state, ArrayState::Healthy);
    assert_eq!(md0.detail_source, SourceStatus::Ok);
    assert_eq!(md0.detail.as_ref().and_then(|d| d.uuid.as_deref()), Some("5c3e9a1f:0b7d24e6:9a41c2d8:e3f07b15"));
    assert_eq!(disk_devices(&report), ["/dev/sda", "/dev/sdb"], "discovered from the members");
    for disk in &report.disks {
        assert_eq!(disk.state, DiskState::Ok, "{}", disk.device);
        assert_eq!(disk.member_of, ["md0"]);
        assert_eq!(disk.smart.as_ref().and_then(|s| s.model.as_deref()), Some("Samsung SSD 870 EVO 1TB"));
    }
    assert_eq!(report.filesystem_source, SourceStatus::Ok);
    assert!(report.filesystem.as_ref().is_some_and(|f| f.stats.total_bytes > 0));
    assert!(report.alarms.is_empty(), "{:?}", report.alarms);
    assert_eq!(report.status, OverallStatus::Ok);

    let json = serde_json::to_value(&report).expect("serializes");
    assert_eq!(json["status"], "ok");
    assert_eq!(json["arrays"][0]["state"]["state"], "healthy");
    assert_eq!(json["disks"][0]["state"]["state"], "ok");
}

#[test]
fn degraded_mirror_with_failing_disk() {
    let s = Scenario::new(Some("raid1-degraded.txt"))
        .mdadm("md0", "md0-degraded.txt")
        .smartctl("sda", "sata-ssd-healthy.json")
        .smartctl("sdb", "sata-hdd-failing.json");
    let report = collect(&s.sources());
    assert_eq!(report.arrays[0].state, ArrayState::Degraded);
    let sdb = &report.disks[1];
    assert_eq!(sdb.device, "/dev/sdb");
    assert!(matches!(&sdb.state, DiskState::Failing(r) if r.first() == Some(&DiskReason::SmartFailed)));
    assert_eq!(sdb.source, SourceStatus::Ok, "exit status 24 is a finding, not a failure to run");
    assert_eq!(
        alarm_ids(&report),
        [("raid.md0.degraded", Severity::Critical), ("disk.sdb.failing", Severity::Critical)]
    );
    assert_eq!(report.alarms[0].message_en, "RAID md0 degraded: sdb1 failed");
    assert_eq!(report.alarms[0].message_ja, "RAID md0 が縮退しています（sdb1 故障）");
    assert!(report.alarms[1].message_en.starts_with("Disk sdb (ST2000DM008-2FR102, S/N ZFL1A2BC, md0) is failing"));
    assert_eq!(report.status, OverallStatus::Critical);
}

#[test]
fn rebuilding_onto_a_worn_disk() {
    let s = Scenario::new(Some("raid1-recovering.txt"))
        .mdadm("md0", "md0-recovering.txt")
        .smartctl("sda", "sata-ssd-healthy.json")
        .smartctl("sdc", "sata-hdd-reallocated-pending.json");
    let report = collect(&s.sources());
    let ArrayState::Rebuilding { action, progress_percent, eta } = &report.arrays[0].state else {
        panic!("{:?}", report.arrays[0].state)
    };
    assert_eq!(*action, SyncAction::Recovery);
    assert!((progress_percent - 37.4).abs() < 0.01);
    assert_eq!(eta.map(|d| d.as_secs()), Some(3138));
    assert_eq!(report.arrays[0].detail.as_ref().and_then(|d| d.sync_status).map(|s| s.percent), Some(37));
    assert_eq!(disk_devices(&report), ["/dev/sda", "/dev/sdc"]);
    assert_eq!(
        alarm_ids(&report),
        [("raid.md0.rebuilding", Severity::Warning), ("disk.sdc.warning", Severity::Warning)]
    );
    assert_eq!(report.alarms[0].message_ja, "RAID md0 を再構築中です（37.4% 完了、残り約 52 分）");
    assert!(report.alarms[1].message_en.contains("48 reallocated sectors; 8 pending sectors"));
    assert_eq!(report.status, OverallStatus::Warning);
    let json = serde_json::to_value(&report).expect("serializes");
    assert_eq!(json["arrays"][0]["state"]["eta_seconds"], 3138);
}

#[test]
fn failed_raid5_and_inactive_foreign_array() {
    // Two scenarios in one: a FAILED raid5, and an inactive md127 whose mdadm fixture is absent
    // (the fake mdadm then fails like the real one).
    let failed = Scenario::new(Some("raid5-failed.txt")).mdadm("md1", "md1-failed.txt");
    let mut sources = failed.sources();
    sources.smartctl_command = None;
    let report = collect(&sources);
    assert_eq!(report.arrays[0].state, ArrayState::Failed);
    assert_eq!(alarm_ids(&report), [("raid.md1.failed", Severity::Critical)]);
    assert!(report.alarms[0].message_en.contains("sdd1, sdc1 failed"));
    assert!(report.disks.iter().all(|d| d.state == DiskState::Unknown && d.source == SourceStatus::Disabled));

    let inactive = Scenario::new(Some("inactive.txt"));
    let report = collect(&inactive.sources());
    assert_eq!(report.arrays[0].state, ArrayState::Inactive);
    let SourceStatus::Failed { detail } = &report.arrays[0].detail_source else {
        panic!("{:?}", report.arrays[0].detail_source)
    };
    assert!(detail.contains("mdadm: cannot open /dev/md127"), "{detail}");
    // The fake smartctl has no fixture for sdc: it answers like smartctl for a missing device.
    let SourceStatus::Failed { detail } = &report.disks[0].source else { panic!("{:?}", report.disks[0].source) };
    assert!(detail.contains("Smartctl open device: /dev/sdc failed"), "{detail}");
    assert_eq!(
        alarm_ids(&report),
        [("raid.md127.inactive", Severity::Critical), ("disk.sdc.unknown", Severity::Warning)]
    );
}

#[test]
fn two_arrays_sharing_disks() {
    let s = Scenario::new(Some("two-arrays-delayed.txt"))
        .smartctl("sda", "sata-ssd-healthy.json")
        .smartctl("sdb", "sata-ssd-healthy.json");
    let report = collect(&s.sources());
    let states: Vec<_> = report.arrays.iter().map(|a| (a.name.as_str(), a.state.label())).collect();
    assert_eq!(states, [("md1", "degraded"), ("md0", "rebuilding")]);
    assert_eq!(disk_devices(&report), ["/dev/sda", "/dev/sdb"]);
    assert_eq!(report.disks[0].member_of, ["md1", "md0"]);
    assert_eq!(
        alarm_ids(&report),
        [("raid.md1.degraded", Severity::Critical), ("raid.md0.rebuilding", Severity::Warning)]
    );
    assert!(report.alarms[0].message_en.ends_with("rebuild waiting"));
}

#[test]
fn explicit_nvme_disks_without_md() {
    let s =
        Scenario::new(None).smartctl("nvme0n1", "nvme-healthy.json").smartctl("nvme1n1", "nvme-critical-warning.json");
    let mut sources = s.sources();
    sources.disks = vec![PathBuf::from("/dev/nvme0n1"), PathBuf::from("/dev/nvme1n1")];
    let report = collect(&sources);
    assert!(matches!(report.mdstat, SourceStatus::NotPresent { .. }));
    assert!(report.arrays.is_empty());
    assert_eq!(report.disks[0].state, DiskState::Ok);
    assert!(matches!(&report.disks[1].state, DiskState::Failing(_)));
    assert_eq!(alarm_ids(&report), [("disk.nvme1n1.failing", Severity::Critical)]);
    assert!(
        report.alarms[0].message_ja.contains("予備領域 3%（しきい値 10% 未満）"),
        "{}",
        report.alarms[0].message_ja
    );
}

#[test]
fn no_md_driver_is_a_clean_report() {
    let s = Scenario::new(None);
    let report = collect(&s.sources());
    let SourceStatus::NotPresent { detail } = &report.mdstat else { panic!("{:?}", report.mdstat) };
    assert!(detail.starts_with("no md RAID present"), "{detail}");
    assert!(report.arrays.is_empty());
    assert!(report.disks.is_empty());
    assert!(report.alarms.is_empty(), "{:?}", report.alarms);
    assert_eq!(report.status, OverallStatus::Ok);

    // On the appliance the absence of RAID is critical.
    let mut sources = s.sources();
    sources.require_md_raid = true;
    assert_eq!(alarm_ids(&collect(&sources)), [("raid.missing", Severity::Critical)]);
}

#[test]
fn missing_commands_are_unavailable_not_errors() {
    let s = Scenario::new(Some("raid1-healthy.txt"));
    let mut sources = s.sources();
    sources.mdadm_command = Some(vec!["/nonexistent/mdadm".into(), "--detail".into()]);
    sources.smartctl_command = Some(vec!["/nonexistent/smartctl".into(), "-j".into()]);
    let report = collect(&sources);
    assert_eq!(report.arrays[0].state, ArrayState::Healthy, "mdstat alone suffices");
    assert!(matches!(report.arrays[0].detail_source, SourceStatus::Unavailable { .. }));
    assert_eq!(report.disks.len(), 2);
    assert!(report.disks.iter().all(|d| d.state == DiskState::Unknown
        && matches!(&d.source, SourceStatus::Unavailable { detail } if detail.contains("/nonexistent/smartctl"))));
    assert_eq!(alarm_ids(&report), [("disk.smartctl-unavailable", Severity::Warning)], "one alarm, not one per disk");

    // Disabled commands raise nothing.
    sources.mdadm_command = None;
    sources.smartctl_command = None;
    let report = collect(&sources);
    assert_eq!(report.arrays[0].detail_source, SourceStatus::Disabled);
    assert!(report.alarms.is_empty(), "{:?}", report.alarms);
}

#[test]
fn hung_and_garbage_commands_fail_cleanly() {
    let s = Scenario::new(Some("raid1-healthy.txt"));
    let mut sources = s.sources();
    sources.command_timeout_seconds = 1;
    sources.mdadm_command = Some(vec!["sh".into(), "-c".into(), "echo not mdadm output".into(), "sh".into()]);
    sources.smartctl_command = Some(vec!["sh".into(), "-c".into(), "sleep 30".into(), "sh".into()]);
    let report = collect(&sources);
    assert_eq!(report.arrays[0].state, ArrayState::Healthy);
    assert!(
        matches!(&report.arrays[0].detail_source, SourceStatus::Failed { detail } if detail.contains("mdadm --detail")),
        "{:?}",
        report.arrays[0].detail_source
    );
    for disk in &report.disks {
        assert!(
            matches!(&disk.source, SourceStatus::Failed { detail } if detail.contains("did not finish within 1 s")),
            "{:?}",
            disk.source
        );
    }
    let ids: Vec<_> = report.alarms.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["disk.sda.unknown", "disk.sdb.unknown"]);
}

#[test]
fn unreadable_sources() {
    let s = Scenario::new(None);
    let mut sources = s.sources();
    // A directory instead of a file: read fails with something other than "not found".
    sources.mdstat_path = s.dir.path().to_owned();
    fs::write(s.dir.path().join("garbage"), "md0 : exploded\n").expect("write");
    sources.data_path = Some(s.dir.path().join("no-such-dir"));
    let report = collect(&sources);
    assert!(matches!(report.mdstat, SourceStatus::Failed { .. }), "{:?}", report.mdstat);
    assert!(report.filesystem.is_none());
    assert_eq!(alarm_ids(&report), [("raid.mdstat", Severity::Warning), ("space.unknown", Severity::Warning)]);

    sources.mdstat_path = s.dir.path().join("garbage");
    let report = collect(&sources);
    let SourceStatus::Failed { detail } = &report.mdstat else { panic!("{:?}", report.mdstat) };
    assert!(detail.contains("line 1"), "{detail}");
}

#[test]
fn free_space_floor() {
    let s = Scenario::new(None);
    let mut sources = s.sources();
    sources.thresholds.free_space =
        SpaceThresholds { critical_bytes: u64::MAX, warning_bytes: u64::MAX, ..no_space_thresholds() };
    let report = collect(&sources);
    assert_eq!(alarm_ids(&report), [("space.low", Severity::Critical)]);
    assert_eq!(report.status, OverallStatus::Critical);
}

#[test]
fn defaults_on_this_machine() {
    // Whatever this machine has (development machines have no md driver and no smartctl), the
    // collector returns a report.
    let report = collect(&HealthSources::default());
    if !Path::new("/proc/mdstat").exists() {
        assert!(matches!(report.mdstat, SourceStatus::NotPresent { .. }));
        assert!(report.arrays.is_empty());
        assert!(report.disks.is_empty());
        assert!(report.alarms.is_empty(), "{:?}", report.alarms);
    }
    assert_eq!(report.filesystem_source, SourceStatus::Disabled);
}

#[test]
fn health_table_in_toml() {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Config {
        health: HealthSources,
    }
    let config: Config = toml::from_str(
        r#"
        [health]
        mdadm_command = []
        smartctl_command = ["sudo", "-n", "smartctl", "-j", "-H", "-A", "-i"]
        disks = ["/dev/sda", "/dev/sdb"]
        data_path = "/var/lib/hakobune"
        require_md_raid = true

        [health.thresholds.free_space]
        warning_percent = 15.0
        critical_bytes = 1073741824

        [health.thresholds.disk]
        ignore_ata_attributes = [188]
        "#,
    )
    .expect("parses");
    let h = config.health;
    assert_eq!(h.mdstat_path, PathBuf::from("/proc/mdstat"));
    assert_eq!(h.mdadm_command, None, "[] disables");
    assert_eq!(h.smartctl_command.as_ref().map(Vec::len), Some(7));
    assert_eq!(h.disks.len(), 2);
    assert!(h.require_md_raid);
    assert_eq!(h.thresholds.free_space.warning_percent, 15.0);
    assert_eq!(h.thresholds.free_space.critical_percent, 5.0, "unset keys keep their defaults");
    assert_eq!(h.thresholds.disk.ignore_ata_attributes, [188]);
    assert_eq!(h.command_timeout_seconds, 30);
    h.validate().expect("valid");

    let empty: Config = toml::from_str("[health]\n").expect("parses");
    assert_eq!(empty.health, HealthSources::default());
    assert!(toml::from_str::<Config>("[health]\nmdstat = \"/x\"\n").is_err(), "unknown keys are errors");

    // Serializing and reading back gives the same settings.
    let text = toml::to_string(&HealthSources { mdadm_command: None, ..HealthSources::default() }).expect("serializes");
    let back: HealthSources = toml::from_str(&text).expect("round trip");
    assert_eq!(back.mdadm_command, None);
    assert_eq!(back.smartctl_command, HealthSources::default().smartctl_command);
}
