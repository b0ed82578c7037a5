//! The health model: what an array, a disk and the whole appliance are judged to be.

use std::time::Duration;

use serde::{Serialize, Serializer};

use crate::alarm::{Alarm, Severity};
use crate::mdadm::{DetailState, MdadmDetail};
use crate::mdstat::{MdArray, MdMember, SyncAction, SyncStatus};
use crate::smart::SmartReport;
use crate::space::FilesystemSpace;

/// The judged state of one md array.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ArrayState {
    /// Every slot in sync (a routine `check` may be running).
    Healthy,
    /// Running without full redundancy and not rebuilding.
    Degraded,
    /// Redundancy being (re)built: recovery onto a new device, a resync (after creation or an
    /// unclean shutdown), a reshape, or one of these waiting (`resync=DELAYED`/`PENDING`, progress 0).
    Rebuilding {
        /// What runs.
        action: SyncAction,
        /// Percent done.
        progress_percent: f32,
        /// The kernel's estimate of the time left.
        #[serde(rename = "eta_seconds", serialize_with = "duration_as_seconds")]
        eta: Option<Duration>,
    },
    /// Too few devices to hold the data (or mdadm says `FAILED`).
    Failed,
    /// Assembled but not started.
    Inactive,
}

impl ArrayState {
    /// A short stable word for metrics labels: `healthy`, `degraded`, `rebuilding`, `failed`,
    /// `inactive`.
    pub fn label(&self) -> &'static str {
        match self {
            ArrayState::Healthy => "healthy",
            ArrayState::Degraded => "degraded",
            ArrayState::Rebuilding { .. } => "rebuilding",
            ArrayState::Failed => "failed",
            ArrayState::Inactive => "inactive",
        }
    }
}

fn duration_as_seconds<S: Serializer>(eta: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match eta {
        Some(d) => s.serialize_some(&d.as_secs()),
        None => s.serialize_none(),
    }
}

/// The judged state of one disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "reasons", rename_all = "snake_case")]
pub enum DiskState {
    /// Nothing to report.
    Ok,
    /// Wear or errors worth watching; the disk still works.
    Warning(Vec<DiskReason>),
    /// The disk reports it is failing or about to: replace it.
    Failing(Vec<DiskReason>),
    /// No health data (smartctl missing, disabled, or unable to read the device).
    Unknown,
}

impl DiskState {
    /// A short stable word for metrics labels: `ok`, `warning`, `failing`, `unknown`.
    pub fn label(&self) -> &'static str {
        match self {
            DiskState::Ok => "ok",
            DiskState::Warning(_) => "warning",
            DiskState::Failing(_) => "failing",
            DiskState::Unknown => "unknown",
        }
    }

    /// The reasons of a warning or failing disk.
    pub fn reasons(&self) -> &[DiskReason] {
        match self {
            DiskState::Warning(r) | DiskState::Failing(r) => r,
            DiskState::Ok | DiskState::Unknown => &[],
        }
    }
}

/// Why a disk is a warning or failing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DiskReason {
    /// SMART overall-health self-assessment failed.
    SmartFailed,
    /// An attribute is at or below its failure threshold now.
    AttributeFailing {
        /// Attribute ID.
        id: u8,
        /// smartctl's name for it.
        name: String,
    },
    /// smartctl says pre-failure attributes are below threshold (exit bit 4) without naming one.
    PrefailBelowThreshold,
    /// An attribute was at or below its threshold in the past.
    AttributeFailedInPast {
        /// Attribute ID.
        id: u8,
        /// smartctl's name for it.
        name: String,
    },
    /// smartctl says attributes were below threshold in the past (exit bit 5) without naming one.
    BelowThresholdInPast,
    /// Attribute 5.
    ReallocatedSectors {
        /// Raw count.
        count: u64,
    },
    /// Attribute 197.
    PendingSectors {
        /// Raw count.
        count: u64,
    },
    /// Attribute 198.
    OfflineUncorrectable {
        /// Raw count.
        count: u64,
    },
    /// Attribute 187.
    ReportedUncorrectable {
        /// Raw count.
        count: u64,
    },
    /// Attribute 188.
    CommandTimeouts {
        /// Raw count.
        count: u64,
    },
    /// Attribute 199: interface CRC errors, usually the cable.
    CrcErrors {
        /// Raw count.
        count: u64,
    },
    /// Temperature at or above the configured limit.
    Temperature {
        /// Current temperature.
        celsius: i64,
        /// The limit.
        limit_celsius: i64,
    },
    /// NVMe critical warning bits.
    NvmeCriticalWarning {
        /// The bit mask.
        bits: u8,
    },
    /// NVMe available spare below its threshold.
    NvmeSpareLow {
        /// Available spare.
        spare_percent: u64,
        /// Threshold.
        threshold_percent: u64,
    },
    /// NVMe media and data integrity errors.
    NvmeMediaErrors {
        /// Count.
        count: u64,
    },
    /// NVMe endurance used at or above the configured limit.
    NvmeWear {
        /// Percentage used.
        percent_used: u64,
    },
    /// The device error log has entries (smartctl exit bit 6).
    ErrorLogEntries,
    /// The self-test log has errors (smartctl exit bit 7).
    SelfTestErrors,
}

impl DiskReason {
    /// English text for operators.
    pub fn message_en(&self) -> String {
        match self {
            DiskReason::SmartFailed => "SMART overall-health self-assessment FAILED".into(),
            DiskReason::AttributeFailing { id, name } => format!("attribute {id} {name} below its failure threshold"),
            DiskReason::PrefailBelowThreshold => "pre-failure attributes below threshold".into(),
            DiskReason::AttributeFailedInPast { id, name } => {
                format!("attribute {id} {name} was below its threshold in the past")
            }
            DiskReason::BelowThresholdInPast => "attributes were below threshold in the past".into(),
            DiskReason::ReallocatedSectors { count } => counted(*count, "reallocated sector"),
            DiskReason::PendingSectors { count } => counted(*count, "pending sector"),
            DiskReason::OfflineUncorrectable { count } => counted(*count, "offline uncorrectable sector"),
            DiskReason::ReportedUncorrectable { count } => counted(*count, "reported uncorrectable error"),
            DiskReason::CommandTimeouts { count } => counted(*count, "command timeout"),
            DiskReason::CrcErrors { count } => format!("{} (check the cable)", counted(*count, "interface CRC error")),
            DiskReason::Temperature { celsius, limit_celsius } => {
                format!("temperature {celsius} °C (limit {limit_celsius} °C)")
            }
            DiskReason::NvmeCriticalWarning { bits } => {
                format!("NVMe critical warning 0x{bits:02x} ({})", nvme_warning_words(*bits, false))
            }
            DiskReason::NvmeSpareLow { spare_percent, threshold_percent } => {
                format!("available spare {spare_percent}% below threshold {threshold_percent}%")
            }
            DiskReason::NvmeMediaErrors { count } => counted(*count, "media and data integrity error"),
            DiskReason::NvmeWear { percent_used } => format!("{percent_used}% of rated endurance used"),
            DiskReason::ErrorLogEntries => "device error log has entries".into(),
            DiskReason::SelfTestErrors => "self-test log has errors".into(),
        }
    }

    /// Japanese text for operators.
    pub fn message_ja(&self) -> String {
        match self {
            DiskReason::SmartFailed => "SMART 総合診断が不合格".into(),
            DiskReason::AttributeFailing { id, name } => format!("SMART 属性 {id} {name} がしきい値を下回っています"),
            DiskReason::PrefailBelowThreshold => "事前故障属性がしきい値を下回っています".into(),
            DiskReason::AttributeFailedInPast { id, name } => {
                format!("SMART 属性 {id} {name} が過去にしきい値を下回りました")
            }
            DiskReason::BelowThresholdInPast => "SMART 属性が過去にしきい値を下回りました".into(),
            DiskReason::ReallocatedSectors { count } => format!("代替処理済みセクタ {count}"),
            DiskReason::PendingSectors { count } => format!("代替処理保留中セクタ {count}"),
            DiskReason::OfflineUncorrectable { count } => format!("回復不能セクタ {count}"),
            DiskReason::ReportedUncorrectable { count } => format!("訂正不能エラー {count} 件"),
            DiskReason::CommandTimeouts { count } => format!("コマンドタイムアウト {count} 件"),
            DiskReason::CrcErrors { count } => format!("通信 CRC エラー {count} 件（ケーブルを確認してください）"),
            DiskReason::Temperature { celsius, limit_celsius } => {
                format!("温度 {celsius}℃（上限 {limit_celsius}℃）")
            }
            DiskReason::NvmeCriticalWarning { bits } => {
                format!("NVMe 重大警告 0x{bits:02x}（{}）", nvme_warning_words(*bits, true))
            }
            DiskReason::NvmeSpareLow { spare_percent, threshold_percent } => {
                format!("予備領域 {spare_percent}%（しきい値 {threshold_percent}% 未満）")
            }
            DiskReason::NvmeMediaErrors { count } => format!("メディア・データ整合性エラー {count} 件"),
            DiskReason::NvmeWear { percent_used } => format!("書き込み耐久性の {percent_used}% を消費"),
            DiskReason::ErrorLogEntries => "エラーログに記録があります".into(),
            DiskReason::SelfTestErrors => "セルフテストでエラーが記録されています".into(),
        }
    }
}

/// `1 pending sector`, `8 pending sectors`.
fn counted(count: u64, singular: &str) -> String {
    if count == 1 { format!("1 {singular}") } else { format!("{count} {singular}s") }
}

fn nvme_warning_words(bits: u8, japanese: bool) -> String {
    const WORDS: [(&str, &str); 6] = [
        ("spare below threshold", "予備領域不足"),
        ("temperature", "温度異常"),
        ("reliability degraded", "信頼性低下"),
        ("read-only", "読み取り専用化"),
        ("volatile memory backup failed", "揮発性メモリのバックアップ故障"),
        ("persistent memory region read-only", "永続メモリ領域の読み取り専用化"),
    ];
    let words: Vec<&str> = WORDS
        .iter()
        .enumerate()
        .filter(|(bit, _)| bits & (1 << bit) != 0)
        .map(|(_, (en, ja))| if japanese { *ja } else { *en })
        .collect();
    if words.is_empty() {
        return if japanese { "不明".into() } else { "unknown".into() };
    }
    words.join(if japanese { "、" } else { ", " })
}

/// Whether a source of health data could be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum SourceStatus {
    /// Read and understood.
    Ok,
    /// The thing monitored does not exist here (no md driver: no `/proc/mdstat`).
    NotPresent {
        /// Explanation.
        detail: String,
    },
    /// Switched off in the configuration.
    Disabled,
    /// The command is not installed or may not be run.
    Unavailable {
        /// Explanation.
        detail: String,
    },
    /// Ran or was read, but failed, timed out, or printed something not understood.
    Failed {
        /// Explanation.
        detail: String,
    },
}

/// One md array in the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArrayHealth {
    /// `md0`.
    pub name: String,
    /// The judgement.
    pub state: ArrayState,
    /// Everything `/proc/mdstat` says about it.
    pub mdstat: MdArray,
    /// What `mdadm --detail` says, when it ran.
    pub detail: Option<MdadmDetail>,
    /// Whether `mdadm --detail` could be used.
    pub detail_source: SourceStatus,
}

/// One disk in the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiskHealth {
    /// Device path as given to smartctl (`/dev/sda`).
    pub device: String,
    /// Arrays with a member on this disk.
    pub member_of: Vec<String>,
    /// The judgement.
    pub state: DiskState,
    /// What smartctl said, when it said anything.
    pub smart: Option<SmartReport>,
    /// Whether smartctl could be used for this disk.
    pub source: SourceStatus,
}

/// The most severe alarm, or `ok`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OverallStatus {
    /// No alarm.
    Ok,
    /// At least one warning, no critical alarm.
    Warning,
    /// At least one critical alarm.
    Critical,
}

/// Everything known about the appliance's storage health at one moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthReport {
    /// The most severe alarm.
    pub status: OverallStatus,
    /// Whether `/proc/mdstat` was read (`not_present`: no md RAID on this machine).
    pub mdstat: SourceStatus,
    /// Every md array.
    pub arrays: Vec<ArrayHealth>,
    /// Every disk checked with smartctl.
    pub disks: Vec<DiskHealth>,
    /// Free space of the data directory, when configured and readable.
    pub filesystem: Option<FilesystemSpace>,
    /// Whether the free space could be read (`disabled` when no data path is configured).
    pub filesystem_source: SourceStatus,
    /// Alarms derived from all of the above by [`derive_alarms`](crate::derive_alarms).
    pub alarms: Vec<Alarm>,
}

impl HealthReport {
    /// Builds a report from its parts, deriving the alarms and the overall status.
    ///
    /// `require_md_raid` makes the absence of any md array a critical alarm (set it on the
    /// appliance, whose data must be on RAID; leave it off on development machines).
    pub fn new(
        mdstat: SourceStatus,
        arrays: Vec<ArrayHealth>,
        disks: Vec<DiskHealth>,
        filesystem: Option<FilesystemSpace>,
        filesystem_source: SourceStatus,
        require_md_raid: bool,
    ) -> Self {
        let mut report = HealthReport {
            status: OverallStatus::Ok,
            mdstat,
            arrays,
            disks,
            filesystem,
            filesystem_source,
            alarms: Vec::new(),
        };
        report.alarms = crate::alarm::derive_alarms(&report, require_md_raid);
        report.status = match report.alarms.iter().map(|a| a.severity).max() {
            None => OverallStatus::Ok,
            Some(Severity::Warning) => OverallStatus::Warning,
            Some(Severity::Critical) => OverallStatus::Critical,
        };
        report
    }
}

/// Judges an array from `/proc/mdstat` and, when available, `mdadm --detail`.
///
/// `/proc/mdstat` is the kernel's live view and decides; the detail only adds what mdadm computes
/// (`FAILED` for layouts the slot map cannot judge, `Not Started`). Order of judgement: inactive,
/// failed, rebuilding (recovery, resync or reshape running or waiting), degraded, healthy. A
/// routine `check` leaves a healthy array healthy.
pub fn assess_array(array: &MdArray, detail: Option<&MdadmDetail>) -> ArrayState {
    if !array.active || detail.is_some_and(|d| d.has_state(&DetailState::Inactive)) {
        return ArrayState::Inactive;
    }
    if detail.is_some_and(|d| d.has_state(&DetailState::Failed)) || lost_data(array) {
        return ArrayState::Failed;
    }
    let missing = array.missing_disks().unwrap_or(0);
    match &array.sync {
        Some(SyncStatus::Running(p)) if p.action != SyncAction::Check => {
            return ArrayState::Rebuilding {
                action: p.action,
                progress_percent: p.percent,
                eta: p.finish_minutes.and_then(|m| Duration::try_from_secs_f64((m * 60.0).round()).ok()),
            };
        }
        Some(SyncStatus::Delayed | SyncStatus::Pending | SyncStatus::Remote) if missing == 0 => {
            return ArrayState::Rebuilding { action: SyncAction::Resync, progress_percent: 0.0, eta: None };
        }
        _ => {}
    }
    if missing > 0 { ArrayState::Degraded } else { ArrayState::Healthy }
}

/// Whether too many slots are empty for the level to hold the data (mdadm's `enough()`).
fn lost_data(array: &MdArray) -> bool {
    let level = array.level.as_deref().unwrap_or("");
    let Some(slots) = &array.slots else {
        // No slot map: raid0 and linear. They have no redundancy, so a failed member loses data.
        return matches!(level, "raid0" | "linear") && array.members.iter().any(|m: &MdMember| m.failed);
    };
    let total = slots.len();
    let missing = slots.iter().filter(|up| !**up).count();
    match level {
        "raid4" | "raid5" => missing > 1,
        "raid6" => missing > 2,
        "raid10" => {
            let layout = array.raid10_layout.unwrap_or(crate::mdstat::Raid10Layout {
                near_copies: 1,
                far_copies: 1,
                offset: false,
            });
            !raid10_enough(slots, layout.near_copies, layout.far_copies)
        }
        _ => total > 0 && missing == total,
    }
}

/// mdadm's `enough()` for RAID10: every group of `near × far` consecutive slots, starting every
/// `near` slots, must hold at least one in-sync device.
fn raid10_enough(slots: &[bool], near: u32, far: u32) -> bool {
    let disks = slots.len();
    if disks == 0 {
        return false;
    }
    let near = usize::try_from(near.max(1)).unwrap_or(1);
    // A group longer than the array wraps onto itself: looking at every slot once is enough.
    let copies = near.saturating_mul(usize::try_from(far.max(1)).unwrap_or(1)).min(disks);
    let step = near % disks;
    let mut first = 0usize;
    loop {
        let any_up = (0..copies).any(|k| slots.get((first + k) % disks).copied().unwrap_or(false));
        if !any_up {
            return false;
        }
        first = (first + step) % disks;
        if first == 0 {
            return true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mdadm::parse_mdadm_detail;
    use crate::mdstat::parse_mdstat;

    fn array(name: &str) -> MdArray {
        let path = format!("{}/tests/fixtures/mdstat/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        parse_mdstat(&text).expect("parses").arrays.into_iter().next().expect("an array")
    }

    fn detail(name: &str) -> MdadmDetail {
        let path = format!("{}/tests/fixtures/mdadm/{name}", env!("CARGO_MANIFEST_DIR"));
        parse_mdadm_detail(&std::fs::read_to_string(&path).expect("fixture")).expect("parses")
    }

    #[test]
    fn states_from_fixtures() {
        assert_eq!(assess_array(&array("raid1-healthy.txt"), Some(&detail("md0-clean.txt"))), ArrayState::Healthy);
        assert_eq!(assess_array(&array("raid1-degraded.txt"), Some(&detail("md0-degraded.txt"))), ArrayState::Degraded);
        assert_eq!(assess_array(&array("raid1-degraded-removed.txt"), None), ArrayState::Degraded);
        assert_eq!(
            assess_array(&array("raid1-recovering.txt"), Some(&detail("md0-recovering.txt"))),
            ArrayState::Rebuilding {
                action: SyncAction::Recovery,
                progress_percent: 37.4,
                eta: Some(Duration::from_secs(3138)),
            }
        );
        assert!(matches!(
            assess_array(&array("raid1-resync-initial.txt"), None),
            ArrayState::Rebuilding { action: SyncAction::Resync, .. }
        ));
        assert_eq!(assess_array(&array("two-arrays.txt"), None), ArrayState::Healthy, "a check is routine");
        assert_eq!(assess_array(&array("inactive.txt"), None), ArrayState::Inactive);
        assert_eq!(assess_array(&array("raid5-failed.txt"), None), ArrayState::Failed);
        assert_eq!(assess_array(&array("raid5-failed.txt"), Some(&detail("md1-failed.txt"))), ArrayState::Failed);
        assert_eq!(
            assess_array(&array("auto-read-only-pending.txt"), None),
            ArrayState::Rebuilding { action: SyncAction::Resync, progress_percent: 0.0, eta: None }
        );
        // The delayed array is degraded (its recovery waits); the other one recovers.
        let text = std::fs::read_to_string(format!(
            "{}/tests/fixtures/mdstat/two-arrays-delayed.txt",
            env!("CARGO_MANIFEST_DIR")
        ))
        .expect("fixture");
        let stat = parse_mdstat(&text).expect("parses");
        assert_eq!(assess_array(&stat.arrays[0], None), ArrayState::Degraded);
        assert!(matches!(assess_array(&stat.arrays[1], None), ArrayState::Rebuilding { .. }));
    }

    #[test]
    fn mdadm_failed_overrides() {
        let mut d = detail("md0-clean.txt");
        d.state.push(DetailState::Failed);
        assert_eq!(assess_array(&array("raid1-healthy.txt"), Some(&d)), ArrayState::Failed);
    }

    #[test]
    fn redundancy_by_level() {
        let with = |level: &str, slots: &str| MdArray {
            name: "md9".into(),
            active: true,
            level: Some(level.into()),
            slots: Some(slots.chars().map(|c| c == 'U').collect()),
            raid_disks: u32::try_from(slots.len()).ok(),
            in_sync_disks: u32::try_from(slots.chars().filter(|c| *c == 'U').count()).ok(),
            raid10_layout: (level == "raid10").then_some(crate::mdstat::Raid10Layout {
                near_copies: 2,
                far_copies: 1,
                offset: false,
            }),
            ..MdArray::default()
        };
        assert_eq!(assess_array(&with("raid1", "__"), None), ArrayState::Failed);
        assert_eq!(assess_array(&with("raid1", "_U_"), None), ArrayState::Degraded);
        assert_eq!(assess_array(&with("raid5", "U_U"), None), ArrayState::Degraded);
        assert_eq!(assess_array(&with("raid6", "U__U"), None), ArrayState::Degraded);
        assert_eq!(assess_array(&with("raid6", "U___"), None), ArrayState::Failed);
        // RAID10 near=2 on 4 disks: mirrors are slots (0,1) and (2,3).
        assert_eq!(assess_array(&with("raid10", "U_U_"), None), ArrayState::Degraded);
        assert_eq!(assess_array(&with("raid10", "__UU"), None), ArrayState::Failed);
        let mut raid0 = MdArray { name: "md3".into(), active: true, level: Some("raid0".into()), ..MdArray::default() };
        raid0.members.push(MdMember { device: "sda1".into(), ..MdMember::default() });
        assert_eq!(assess_array(&raid0, None), ArrayState::Healthy);
        raid0.members.push(MdMember { device: "sdb1".into(), failed: true, ..MdMember::default() });
        assert_eq!(assess_array(&raid0, None), ArrayState::Failed);
    }

    #[test]
    fn raid10_offset_and_far() {
        // far=2 on 2 disks: both copies span the pair; one disk suffices.
        assert!(raid10_enough(&[true, false], 1, 2));
        assert!(!raid10_enough(&[false, false], 1, 2));
        // near=2 on 3 disks (odd): groups (0,1), (2,0), (1,2).
        assert!(raid10_enough(&[true, false, true], 2, 1));
        assert!(!raid10_enough(&[false, false, true], 2, 1));
        assert!(!raid10_enough(&[], 2, 1));
        // Absurd geometry from a corrupt line neither hangs nor overflows.
        assert!(raid10_enough(&[true, false], u32::MAX, u32::MAX));
        assert!(!raid10_enough(&[false, false], u32::MAX, 1));
    }

    #[test]
    fn serialization_shapes() {
        let rebuilding = ArrayState::Rebuilding {
            action: SyncAction::Recovery,
            progress_percent: 37.4,
            eta: Some(Duration::from_secs(3138)),
        };
        let json = serde_json::to_value(&rebuilding).expect("serializes");
        assert_eq!(json["state"], "rebuilding");
        assert_eq!(json["action"], "recovery");
        assert_eq!(json["eta_seconds"], 3138);
        assert_eq!(serde_json::to_value(ArrayState::Healthy).expect("serializes")["state"], "healthy");
        let disk = DiskState::Warning(vec![DiskReason::PendingSectors { count: 8 }]);
        let json = serde_json::to_value(&disk).expect("serializes");
        assert_eq!(json["state"], "warning");
        assert_eq!(json["reasons"][0]["kind"], "pending_sectors");
        assert_eq!(json["reasons"][0]["count"], 8);
        assert_eq!(serde_json::to_value(DiskState::Ok).expect("serializes")["state"], "ok");
        let source = SourceStatus::NotPresent { detail: "x".into() };
        assert_eq!(serde_json::to_value(&source).expect("serializes")["status"], "not_present");
    }

    #[test]
    fn reason_messages() {
        let r = DiskReason::NvmeCriticalWarning { bits: 5 };
        assert_eq!(r.message_en(), "NVMe critical warning 0x05 (spare below threshold, reliability degraded)");
        assert_eq!(r.message_ja(), "NVMe 重大警告 0x05（予備領域不足、信頼性低下）");
        assert_eq!(DiskReason::NvmeCriticalWarning { bits: 0x80 }.message_en(), "NVMe critical warning 0x80 (unknown)");
        assert_eq!(DiskReason::CommandTimeouts { count: 1 }.message_en(), "1 command timeout");
        assert_eq!(DiskReason::CrcErrors { count: 3 }.message_en(), "3 interface CRC errors (check the cable)");
    }
}
