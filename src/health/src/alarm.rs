//! Alarms: what an operator must be told, in English and Japanese, derived from a report.

use serde::Serialize;

use crate::mdstat::{ArrayAccess, SyncAction, SyncStatus};
use crate::model::{ArrayHealth, ArrayState, DiskHealth, DiskState, HealthReport, SourceStatus};
use crate::space::{FilesystemSpace, SpaceState};

/// How urgent an alarm is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Needs attention soon; nothing is lost.
    Warning,
    /// Needs attention now: redundancy or data at risk, or the appliance will refuse data.
    Critical,
}

/// One alarm.
///
/// `id` is stable while the condition lasts (`raid.md0.degraded`, `disk.sdb.failing`,
/// `space.low`), so the server can raise it once and clear it when it disappears; the messages may
/// change in the meantime (rebuild progress, counts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alarm {
    /// Stable identifier of the condition.
    pub id: String,
    /// Warning or critical.
    pub severity: Severity,
    /// English message.
    pub message_en: String,
    /// Japanese message.
    pub message_ja: String,
}

impl Alarm {
    fn new(id: String, severity: Severity, message_en: String, message_ja: String) -> Self {
        Alarm { id, severity, message_en, message_ja }
    }
}

/// Derives the alarms of a report (pure; ignores the report's own `alarms` and `status`).
///
/// Critical alarms come first, otherwise RAID, disks, space in that order.
///
/// | condition | id | severity |
/// | --- | --- | --- |
/// | array failed | `raid.<md>.failed` | critical |
/// | array inactive | `raid.<md>.inactive` | critical |
/// | array degraded | `raid.<md>.degraded` | critical |
/// | array rebuilding / resyncing / reshaping | `raid.<md>.rebuilding` | warning |
/// | failed member in a still-redundant array | `raid.<md>.member-failed` | warning |
/// | array read-only (by an administrator) | `raid.<md>.read-only` | warning |
/// | `/proc/mdstat` unreadable | `raid.mdstat` | warning |
/// | no md array although required | `raid.missing` | critical |
/// | disk failing | `disk.<name>.failing` | critical |
/// | disk warning | `disk.<name>.warning` | warning |
/// | disk health unknown | `disk.<name>.unknown` | warning |
/// | smartctl not installed / not runnable | `disk.smartctl-unavailable` | warning |
/// | free space below critical / warning | `space.low` | critical / warning |
/// | free space unreadable | `space.unknown` | warning |
pub fn derive_alarms(report: &HealthReport, require_md_raid: bool) -> Vec<Alarm> {
    let mut alarms = Vec::new();
    match &report.mdstat {
        SourceStatus::Failed { detail } | SourceStatus::Unavailable { detail } => alarms.push(Alarm::new(
            "raid.mdstat".into(),
            Severity::Warning,
            format!("Cannot read the RAID status: {detail}"),
            format!("RAID の状態を読み取れません（{detail}）"),
        )),
        SourceStatus::Ok | SourceStatus::NotPresent { .. } | SourceStatus::Disabled => {
            if require_md_raid && report.arrays.is_empty() {
                alarms.push(Alarm::new(
                    "raid.missing".into(),
                    Severity::Critical,
                    "No md RAID array is present: the data is not mirrored".into(),
                    "md RAID アレイがありません（データが二重化されていません）".into(),
                ));
            }
        }
    }
    for array in &report.arrays {
        array_alarms(array, &mut alarms);
    }
    let mut smartctl_unavailable = None;
    for disk in &report.disks {
        if let (DiskState::Unknown, SourceStatus::Unavailable { detail }) = (&disk.state, &disk.source) {
            smartctl_unavailable.get_or_insert_with(|| detail.clone());
            continue;
        }
        disk_alarms(disk, &mut alarms);
    }
    if let Some(detail) = smartctl_unavailable {
        alarms.push(Alarm::new(
            "disk.smartctl-unavailable".into(),
            Severity::Warning,
            format!("Disk health cannot be checked: {detail}"),
            format!("ディスクの健全性を確認できません（{detail}）"),
        ));
    }
    if let Some(fs) = &report.filesystem {
        space_alarms(fs, &mut alarms);
    } else if let SourceStatus::Failed { detail } | SourceStatus::Unavailable { detail } = &report.filesystem_source {
        alarms.push(Alarm::new(
            "space.unknown".into(),
            Severity::Warning,
            format!("Cannot read the free space of the data directory: {detail}"),
            format!("データ領域の空き容量を取得できません（{detail}）"),
        ));
    }
    alarms.sort_by_key(|a| std::cmp::Reverse(a.severity));
    alarms
}

fn array_alarms(array: &ArrayHealth, alarms: &mut Vec<Alarm>) {
    let md = &array.name;
    let failed: Vec<&str> = array.mdstat.failed_members().map(|m| m.device.as_str()).collect();
    let failed_list = failed.join(", ");
    let failed_list_ja = failed.join("、");
    match &array.state {
        ArrayState::Failed => {
            let (en, ja) = if failed.is_empty() {
                (String::new(), String::new())
            } else {
                (format!(" ({failed_list} failed)"), format!("（{failed_list_ja} 故障）"))
            };
            alarms.push(Alarm::new(
                format!("raid.{md}.failed"),
                Severity::Critical,
                format!("RAID {md} failed: too many devices lost{en}; data may be inaccessible"),
                format!("RAID {md} が故障しています{ja}。データにアクセスできない可能性があります"),
            ));
        }
        ArrayState::Inactive => alarms.push(Alarm::new(
            format!("raid.{md}.inactive"),
            Severity::Critical,
            format!("RAID {md} is inactive (assembled but not started)"),
            format!("RAID {md} が停止しています（未起動）"),
        )),
        ArrayState::Degraded => {
            let (mut en, mut ja) = if !failed.is_empty() {
                (format!("{failed_list} failed"), format!("{failed_list_ja} 故障"))
            } else {
                let total = array.mdstat.raid_disks.unwrap_or(0);
                let missing = array.mdstat.missing_disks().unwrap_or(0);
                (format!("{missing} of {total} devices missing"), format!("{total} 台中 {missing} 台が欠落"))
            };
            if matches!(array.mdstat.sync, Some(SyncStatus::Delayed | SyncStatus::Pending)) {
                en.push_str(", rebuild waiting");
                ja.push_str("、再構築待ち");
            }
            alarms.push(Alarm::new(
                format!("raid.{md}.degraded"),
                Severity::Critical,
                format!("RAID {md} degraded: {en}"),
                format!("RAID {md} が縮退しています（{ja}）"),
            ));
        }
        ArrayState::Rebuilding { action, progress_percent, eta } => {
            let waiting = !matches!(array.mdstat.sync, Some(SyncStatus::Running(_)));
            let (verb_en, verb_ja) = match action {
                SyncAction::Recovery => ("rebuilding", "を再構築中です"),
                SyncAction::Resync | SyncAction::Check => ("resyncing", "を同期中です"),
                SyncAction::Reshape => ("reshaping", "の構成を変更中です"),
            };
            let (en, ja) = if waiting {
                (format!("RAID {md} resync pending"), format!("RAID {md} は同期待ちです"))
            } else {
                let (left_en, left_ja) = match eta.map(|d| d.as_secs()) {
                    Some(s) if s >= 7200 => {
                        let h = s as f64 / 3600.0;
                        (format!(", about {h:.1} h left"), format!("、残り約 {h:.1} 時間"))
                    }
                    Some(s) => {
                        let m = (s.saturating_add(30) / 60).max(1);
                        (format!(", about {m} min left"), format!("、残り約 {m} 分"))
                    }
                    None => (String::new(), String::new()),
                };
                (
                    format!("RAID {md} {verb_en}: {progress_percent:.1}% done{left_en}"),
                    format!("RAID {md} {verb_ja}（{progress_percent:.1}% 完了{left_ja}）"),
                )
            };
            alarms.push(Alarm::new(format!("raid.{md}.rebuilding"), Severity::Warning, en, ja));
        }
        ArrayState::Healthy => {}
    }
    if !failed.is_empty() && !matches!(array.state, ArrayState::Failed | ArrayState::Degraded) {
        alarms.push(Alarm::new(
            format!("raid.{md}.member-failed"),
            Severity::Warning,
            format!("RAID {md}: {failed_list} failed (the array is still redundant); replace it"),
            format!("RAID {md} の {failed_list_ja} が故障しています（冗長性は維持）。交換してください"),
        ));
    }
    if array.mdstat.access == ArrayAccess::ReadOnly {
        alarms.push(Alarm::new(
            format!("raid.{md}.read-only"),
            Severity::Warning,
            format!("RAID {md} is read-only"),
            format!("RAID {md} が読み取り専用になっています"),
        ));
    }
}

fn disk_label(disk: &DiskHealth) -> (String, String, String) {
    let name = disk.device.rsplit('/').next().unwrap_or(&disk.device).to_owned();
    let mut en = name.clone();
    let mut ja = name.clone();
    let smart = disk.smart.as_ref();
    let model = smart.and_then(|s| s.model.as_deref());
    let serial = smart.and_then(|s| s.serial.as_deref());
    let mut extra = Vec::new();
    if let Some(model) = model {
        extra.push(model.to_owned());
    }
    if let Some(serial) = serial {
        extra.push(format!("S/N {serial}"));
    }
    if !disk.member_of.is_empty() {
        extra.push(disk.member_of.join(", "));
    }
    if extra.is_empty() {
        // Japanese puts a space between a Latin name and the particle, none after a bracket.
        ja.push(' ');
    } else {
        en.push_str(&format!(" ({})", extra.join(", ")));
        ja.push_str(&format!("（{}）", extra.join("、")));
    }
    (name, en, ja)
}

fn disk_alarms(disk: &DiskHealth, alarms: &mut Vec<Alarm>) {
    let (name, label_en, label_ja) = disk_label(disk);
    let reasons_en = || disk.state.reasons().iter().map(|r| r.message_en()).collect::<Vec<_>>().join("; ");
    let reasons_ja = || disk.state.reasons().iter().map(|r| r.message_ja()).collect::<Vec<_>>().join("、");
    match &disk.state {
        DiskState::Ok => {}
        DiskState::Failing(_) => alarms.push(Alarm::new(
            format!("disk.{name}.failing"),
            Severity::Critical,
            format!("Disk {label_en} is failing: {}; replace it", reasons_en()),
            format!("ディスク {label_ja}に故障の兆候があります（{}）。交換してください", reasons_ja()),
        )),
        DiskState::Warning(_) => alarms.push(Alarm::new(
            format!("disk.{name}.warning"),
            Severity::Warning,
            format!("Disk {label_en} needs attention: {}", reasons_en()),
            format!("ディスク {label_ja}に注意が必要です（{}）", reasons_ja()),
        )),
        DiskState::Unknown => {
            if matches!(disk.source, SourceStatus::Disabled) {
                return;
            }
            let detail = match &disk.source {
                SourceStatus::Failed { detail }
                | SourceStatus::Unavailable { detail }
                | SourceStatus::NotPresent { detail } => detail.clone(),
                SourceStatus::Ok | SourceStatus::Disabled => "no health data".into(),
            };
            alarms.push(Alarm::new(
                format!("disk.{name}.unknown"),
                Severity::Warning,
                format!("Disk {label_en}: SMART health unknown ({detail})"),
                format!("ディスク {label_ja}の SMART 情報を取得できません（{detail}）"),
            ));
        }
    }
}

fn space_alarms(fs: &FilesystemSpace, alarms: &mut Vec<Alarm>) {
    let size = human_bytes(fs.stats.available_bytes);
    let mut figures_en = format!("{size} available");
    let mut figures_ja = format!("残り {size}");
    if let Some(p) = fs.available_percent {
        figures_en.push_str(&format!(" ({p:.1}%)"));
        figures_ja.push_str(&format!("、{p:.1}%"));
    }
    if fs.inodes_low
        && let Some(p) = fs.available_inodes_percent
    {
        figures_en.push_str(&format!(", inodes {p:.1}% available"));
        figures_ja.push_str(&format!("、inode 残り {p:.1}%"));
    }
    let path = &fs.path;
    match fs.state {
        SpaceState::Ok => {}
        SpaceState::Warning => alarms.push(Alarm::new(
            "space.low".into(),
            Severity::Warning,
            format!("Data filesystem filling up: {figures_en} at {path}"),
            format!("データ領域の空き容量が少なくなっています（{figures_ja}、{path}）"),
        )),
        SpaceState::Critical => alarms.push(Alarm::new(
            "space.low".into(),
            Severity::Critical,
            format!("Data filesystem almost full: {figures_en} at {path}; new data is refused below this level"),
            format!("データ領域の空き容量が危険な水準です（{figures_ja}、{path}）。新しいデータを受け付けません"),
        )),
    }
}

fn human_bytes(bytes: u64) -> String {
    const MIB: f64 = (1u64 << 20) as f64;
    const GIB: f64 = (1u64 << 30) as f64;
    const TIB: f64 = (1u64 << 40) as f64;
    let b = bytes as f64;
    if b >= TIB {
        format!("{:.1} TiB", b / TIB)
    } else if b >= GIB {
        format!("{:.1} GiB", b / GIB)
    } else {
        format!("{:.1} MiB", b / MIB)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::mdstat::{MdArray, MdMember, SyncProgress};
    use crate::model::{DiskReason, HealthReport};
    use crate::smart::SmartReport;
    use crate::space::{SpaceStats, SpaceThresholds, assess_space};

    fn array(name: &str, state: ArrayState, failed: &[&str]) -> ArrayHealth {
        let mut mdstat = MdArray {
            name: name.into(),
            active: true,
            level: Some("raid1".into()),
            raid_disks: Some(2),
            in_sync_disks: Some(1),
            ..MdArray::default()
        };
        mdstat.members.push(MdMember { device: "sda1".into(), ..MdMember::default() });
        for dev in failed {
            mdstat.members.push(MdMember { device: (*dev).into(), failed: true, ..MdMember::default() });
        }
        ArrayHealth { name: name.into(), state, mdstat, detail: None, detail_source: SourceStatus::Disabled }
    }

    fn disk(device: &str, state: DiskState, source: SourceStatus) -> DiskHealth {
        DiskHealth { device: device.into(), member_of: vec!["md0".into()], state, smart: None, source }
    }

    fn report(arrays: Vec<ArrayHealth>, disks: Vec<DiskHealth>) -> HealthReport {
        HealthReport::new(SourceStatus::Ok, arrays, disks, None, SourceStatus::Disabled, false)
    }

    #[test]
    fn degraded_message_names_the_failed_member() {
        let r = report(vec![array("md0", ArrayState::Degraded, &["sdb1"])], vec![]);
        assert_eq!(
            r.alarms,
            [Alarm {
                id: "raid.md0.degraded".into(),
                severity: Severity::Critical,
                message_en: "RAID md0 degraded: sdb1 failed".into(),
                message_ja: "RAID md0 が縮退しています（sdb1 故障）".into(),
            }]
        );
        let removed = report(vec![array("md0", ArrayState::Degraded, &[])], vec![]);
        assert_eq!(removed.alarms[0].message_en, "RAID md0 degraded: 1 of 2 devices missing");
        assert_eq!(removed.alarms[0].message_ja, "RAID md0 が縮退しています（2 台中 1 台が欠落）");
    }

    #[test]
    fn rebuilding_is_a_warning_with_progress() {
        let mut a = array(
            "md0",
            ArrayState::Rebuilding {
                action: SyncAction::Recovery,
                progress_percent: 37.4,
                eta: Some(Duration::from_secs(3138)),
            },
            &[],
        );
        a.mdstat.sync = Some(SyncStatus::Running(SyncProgress {
            action: SyncAction::Recovery,
            percent: 37.4,
            done_blocks: 1,
            total_blocks: 2,
            finish_minutes: Some(52.3),
            speed_kib_per_sec: None,
        }));
        let r = report(vec![a], vec![]);
        assert_eq!(r.alarms.len(), 1);
        assert_eq!(r.alarms[0].severity, Severity::Warning);
        assert_eq!(r.alarms[0].message_en, "RAID md0 rebuilding: 37.4% done, about 52 min left");
        assert_eq!(r.alarms[0].message_ja, "RAID md0 を再構築中です（37.4% 完了、残り約 52 分）");
        assert_eq!(r.status, crate::OverallStatus::Warning);
    }

    #[test]
    fn failed_inactive_and_member_failed() {
        let r = report(
            vec![
                array("md1", ArrayState::Failed, &["sdc1", "sdd1"]),
                array("md127", ArrayState::Inactive, &[]),
                array("md2", ArrayState::Healthy, &["sde1"]),
            ],
            vec![],
        );
        let ids: Vec<_> = r.alarms.iter().map(|a| (a.id.as_str(), a.severity)).collect();
        assert_eq!(
            ids,
            [
                ("raid.md1.failed", Severity::Critical),
                ("raid.md127.inactive", Severity::Critical),
                ("raid.md2.member-failed", Severity::Warning),
            ]
        );
        assert!(r.alarms[0].message_en.contains("sdc1, sdd1 failed"));
        assert!(r.alarms[0].message_ja.contains("sdc1、sdd1 故障"));
        assert_eq!(r.status, crate::OverallStatus::Critical);
    }

    #[test]
    fn disk_alarms_and_single_unavailable_alarm() {
        let mut failing = disk(
            "/dev/sdb",
            DiskState::Failing(vec![DiskReason::SmartFailed, DiskReason::PendingSectors { count: 1184 }]),
            SourceStatus::Ok,
        );
        failing.smart = Some(SmartReport {
            model: Some("ST2000DM008-2FR102".into()),
            serial: Some("ZFL1A2BC".into()),
            ..SmartReport::default()
        });
        let unavailable = SourceStatus::Unavailable { detail: "smartctl is unavailable: not found".into() };
        let r = report(
            vec![],
            vec![
                failing,
                disk(
                    "/dev/sdc",
                    DiskState::Warning(vec![DiskReason::ReallocatedSectors { count: 48 }]),
                    SourceStatus::Ok,
                ),
                disk("/dev/sdd", DiskState::Unknown, unavailable.clone()),
                disk("/dev/sde", DiskState::Unknown, unavailable),
                disk("/dev/sdf", DiskState::Unknown, SourceStatus::Failed { detail: "Permission denied".into() }),
                disk("/dev/sdg", DiskState::Unknown, SourceStatus::Disabled),
            ],
        );
        let ids: Vec<_> = r.alarms.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["disk.sdb.failing", "disk.sdc.warning", "disk.sdf.unknown", "disk.smartctl-unavailable"]);
        assert_eq!(
            r.alarms[0].message_en,
            "Disk sdb (ST2000DM008-2FR102, S/N ZFL1A2BC, md0) is failing: \
             SMART overall-health self-assessment FAILED; 1184 pending sectors; replace it"
        );
        assert_eq!(
            r.alarms[0].message_ja,
            "ディスク sdb（ST2000DM008-2FR102、S/N ZFL1A2BC、md0）に故障の兆候があります\
             （SMART 総合診断が不合格、代替処理保留中セクタ 1184）。交換してください"
        );
        assert_eq!(r.alarms[1].message_ja, "ディスク sdc（md0）に注意が必要です（代替処理済みセクタ 48）");
    }

    #[test]
    fn space_and_missing_raid() {
        const GIB: u64 = 1 << 30;
        let stats =
            SpaceStats { total_bytes: 100 * GIB, available_bytes: 3 * GIB, total_inodes: 0, available_inodes: 0 };
        let fs = assess_space("/var/lib/hakobune", stats, &SpaceThresholds::default());
        let r = HealthReport::new(
            SourceStatus::NotPresent { detail: "no md".into() },
            vec![],
            vec![],
            Some(fs),
            SourceStatus::Ok,
            true,
        );
        let ids: Vec<_> = r.alarms.iter().map(|a| (a.id.as_str(), a.severity)).collect();
        assert_eq!(ids, [("raid.missing", Severity::Critical), ("space.low", Severity::Critical)]);
        assert_eq!(
            r.alarms[1].message_ja,
            "データ領域の空き容量が危険な水準です（残り 3.0 GiB、3.0%、/var/lib/hakobune）。新しいデータを受け付けません"
        );
        let unread = HealthReport::new(
            SourceStatus::Failed { detail: "EIO".into() },
            vec![],
            vec![],
            None,
            SourceStatus::Failed { detail: "statvfs: ENOENT".into() },
            false,
        );
        let ids: Vec<_> = unread.alarms.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["raid.mdstat", "space.unknown"]);
    }

    #[test]
    fn clean_report_has_no_alarms() {
        let r = HealthReport::new(
            SourceStatus::NotPresent { detail: "no md".into() },
            vec![],
            vec![],
            None,
            SourceStatus::Disabled,
            false,
        );
        assert!(r.alarms.is_empty());
        assert_eq!(r.status, crate::OverallStatus::Ok);
        assert_eq!(human_bytes(512 << 20), "512.0 MiB");
        assert_eq!(human_bytes(3 << 40), "3.0 TiB");
    }
}
