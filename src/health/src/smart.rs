//! `smartctl -j -H -A -i /dev/X`: a disk's own health report (smartmontools 7.x JSON).
//!
//! Only what health needs is kept: identity, the overall self-assessment, smartctl's exit-status
//! bits, the ATA attributes that predict failure (5, 187, 188, 197, 198, 199, temperature in 194 or
//! 190, and any attribute that is or was below its threshold) and the NVMe health log.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::HealthError;
use crate::model::{DiskReason, DiskState};

const WHAT: &str = "smartctl JSON";

/// ATA attributes kept in [`AtaHealth::attributes`] even when they are not failing.
pub const ATA_ATTRIBUTES_OF_INTEREST: [u8; 8] = [5, 187, 188, 190, 194, 197, 198, 199];

/// What smartctl reported about one device.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct SmartReport {
    /// `device.name` (`/dev/sda`).
    pub device: Option<String>,
    /// `device.type` (`sat`, `nvme`, `scsi`).
    pub device_type: Option<String>,
    /// `device.protocol` (`ATA`, `NVMe`, `SCSI`).
    pub protocol: Option<String>,
    /// `model_name` (needs `-i`).
    pub model: Option<String>,
    /// `serial_number` (needs `-i`).
    pub serial: Option<String>,
    /// `firmware_version` (needs `-i`).
    pub firmware: Option<String>,
    /// smartctl's version (`7.3`).
    pub smartctl_version: Option<String>,
    /// `smartctl.exit_status`.
    pub exit_status: SmartctlExit,
    /// `smartctl.messages[].string`: why smartctl could not do something.
    pub messages: Vec<String>,
    /// `smart_status.passed`: the overall-health self-assessment (`-H`).
    pub smart_passed: Option<bool>,
    /// Current temperature: `temperature.current`, else the NVMe log, else ATA attribute 194/190.
    pub temperature_celsius: Option<i64>,
    /// `power_on_time.hours`.
    pub power_on_hours: Option<u64>,
    /// ATA attributes (`-A` on an ATA/SATA disk).
    pub ata: Option<AtaHealth>,
    /// NVMe SMART/health log (`-A` on an NVMe drive).
    pub nvme: Option<NvmeHealth>,
}

/// smartctl's exit status: a bit mask (see `man smartctl`, RETURN VALUES).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(transparent)]
pub struct SmartctlExit(pub u8);

impl SmartctlExit {
    /// Bit 0: the command line did not parse.
    pub fn command_line_error(self) -> bool {
        self.0 & 1 != 0
    }
    /// Bit 1: the device could not be opened, or did not identify itself (or is in standby with `-n`).
    pub fn device_open_failed(self) -> bool {
        self.0 & 2 != 0
    }
    /// Bit 2: a SMART or other command to the disk failed, or a checksum was wrong.
    pub fn smart_command_failed(self) -> bool {
        self.0 & 4 != 0
    }
    /// Bit 3: SMART status check returned "DISK FAILING".
    pub fn disk_failing(self) -> bool {
        self.0 & 8 != 0
    }
    /// Bit 4: pre-failure attributes are at or below their threshold now.
    pub fn prefail_below_threshold(self) -> bool {
        self.0 & 16 != 0
    }
    /// Bit 5: some attributes were at or below their threshold in the past.
    pub fn below_threshold_in_past(self) -> bool {
        self.0 & 32 != 0
    }
    /// Bit 6: the device error log has records (only read with `-l error` or `-a`).
    pub fn error_log_has_errors(self) -> bool {
        self.0 & 64 != 0
    }
    /// Bit 7: the self-test log has errors (only read with `-l selftest` or `-a`).
    pub fn self_test_log_has_errors(self) -> bool {
        self.0 & 128 != 0
    }
}

/// ATA SMART attributes that matter for health.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct AtaHealth {
    /// Attributes of interest ([`ATA_ATTRIBUTES_OF_INTEREST`]) and any attribute with a
    /// `when_failed`, in table order.
    pub attributes: Vec<AtaAttribute>,
    /// 5 `Reallocated_Sector_Ct`.
    pub reallocated_sectors: Option<u64>,
    /// 187 `Reported_Uncorrect`.
    pub reported_uncorrectable: Option<u64>,
    /// 188 `Command_Timeout` (low 16 bits of the raw value: vendors pack three counters into it).
    pub command_timeouts: Option<u64>,
    /// 197 `Current_Pending_Sector`.
    pub pending_sectors: Option<u64>,
    /// 198 `Offline_Uncorrectable`.
    pub offline_uncorrectable: Option<u64>,
    /// 199 `UDMA_CRC_Error_Count` (cable or connector trouble, not the platters).
    pub udma_crc_errors: Option<u64>,
}

/// One row of `ata_smart_attributes.table`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AtaAttribute {
    /// Attribute ID.
    pub id: u8,
    /// smartctl's name for it (vendors differ: 187 is also `Uncorrectable_Error_Cnt`).
    pub name: String,
    /// Normalised value.
    pub value: Option<u64>,
    /// Worst normalised value seen.
    pub worst: Option<u64>,
    /// Failure threshold of the normalised value.
    pub thresh: Option<u64>,
    /// `raw.value`.
    pub raw: u64,
    /// `raw.string`, as smartctl formats it (`38 (Min/Max 19/45)`).
    pub raw_string: String,
    /// `when_failed`: `now`, `past`, or empty.
    pub when_failed: String,
    /// Whether it is a pre-failure (rather than old-age) attribute.
    pub prefailure: bool,
}

impl AtaAttribute {
    /// The count the raw value stands for: the first number of `raw.string` (smartctl applies the
    /// drive database's raw format), else `raw.value`.
    pub fn count(&self) -> u64 {
        self.raw_string.split_whitespace().next().and_then(|w| w.parse().ok()).unwrap_or(self.raw)
    }
}

/// `nvme_smart_health_information_log`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct NvmeHealth {
    /// Critical warning bits: 0 spare below threshold, 1 temperature, 2 reliability degraded,
    /// 3 read-only, 4 volatile memory backup failed, 5 persistent memory region read-only.
    pub critical_warning: u8,
    /// Composite temperature in °C.
    pub temperature: Option<i64>,
    /// Available spare, percent.
    pub available_spare: Option<u64>,
    /// Threshold for the available spare, percent.
    pub available_spare_threshold: Option<u64>,
    /// Estimate of the rated endurance used, percent (may exceed 100).
    pub percentage_used: Option<u64>,
    /// Media and data integrity errors.
    pub media_errors: Option<u64>,
    /// Error information log entries.
    pub num_err_log_entries: Option<u64>,
    /// Unsafe shutdowns.
    pub unsafe_shutdowns: Option<u64>,
}

/// Disk-related thresholds, part of [`Thresholds`](crate::Thresholds).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiskThresholds {
    /// A disk at or above this temperature is a warning. Default 60 °C.
    pub temperature_warning_celsius: i64,
    /// An NVMe drive that used this much of its rated endurance is a warning. Default 90 %.
    pub nvme_percentage_used_warning: u64,
    /// ATA attribute IDs whose counts are not to raise warnings (for a vendor known to misreport
    /// one, e.g. `[188]`). Attributes failing their own threshold still count.
    pub ignore_ata_attributes: Vec<u8>,
}

impl Default for DiskThresholds {
    fn default() -> Self {
        DiskThresholds {
            temperature_warning_celsius: 60,
            nvme_percentage_used_warning: 90,
            ignore_ata_attributes: vec![],
        }
    }
}

/// Parses `smartctl -j` output.
///
/// smartctl prints JSON even when it fails (the reason is in `smartctl.messages` and the exit
/// status), so this errors only on text that is not smartctl JSON at all.
pub fn parse_smartctl_json(text: &str) -> Result<SmartReport, HealthError> {
    let root: Value = serde_json::from_str(text)?;
    let Some(smartctl) = root.get("smartctl").filter(|v| v.is_object()) else {
        return Err(HealthError::parse(WHAT, 0, "no \"smartctl\" object: not smartctl -j output"));
    };
    let text_at =
        |v: &Value, path: &[&str]| -> Option<String> { at(v, path).and_then(Value::as_str).map(str::to_owned) };
    let mut report = SmartReport {
        device: text_at(&root, &["device", "name"]),
        device_type: text_at(&root, &["device", "type"]),
        protocol: text_at(&root, &["device", "protocol"]),
        model: text_at(&root, &["model_name"]),
        serial: text_at(&root, &["serial_number"]),
        firmware: text_at(&root, &["firmware_version"]),
        smartctl_version: smartctl
            .get("version")
            .and_then(Value::as_array)
            .map(|parts| parts.iter().filter_map(Value::as_u64).map(|n| n.to_string()).collect::<Vec<_>>().join(".")),
        exit_status: SmartctlExit(
            smartctl.get("exit_status").and_then(Value::as_u64).map_or(0, |s| u8::try_from(s & 0xff).unwrap_or(0)),
        ),
        messages: smartctl
            .get("messages")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter().filter_map(|m| m.get("string").and_then(Value::as_str).map(str::to_owned)).collect()
            })
            .unwrap_or_default(),
        smart_passed: at(&root, &["smart_status", "passed"]).and_then(Value::as_bool),
        temperature_celsius: at(&root, &["temperature", "current"]).and_then(Value::as_i64),
        power_on_hours: at(&root, &["power_on_time", "hours"]).and_then(Value::as_u64),
        ata: None,
        nvme: None,
    };
    if let Some(table) = at(&root, &["ata_smart_attributes", "table"]).and_then(Value::as_array) {
        report.ata = Some(parse_ata(table));
    }
    if let Some(log) = root.get("nvme_smart_health_information_log").filter(|v| v.is_object()) {
        let num = |key: &str| log.get(key).and_then(Value::as_u64);
        report.nvme = Some(NvmeHealth {
            critical_warning: num("critical_warning").map_or(0, |w| u8::try_from(w & 0xff).unwrap_or(0)),
            temperature: log.get("temperature").and_then(Value::as_i64),
            available_spare: num("available_spare"),
            available_spare_threshold: num("available_spare_threshold"),
            percentage_used: num("percentage_used"),
            media_errors: num("media_errors"),
            num_err_log_entries: num("num_err_log_entries"),
            unsafe_shutdowns: num("unsafe_shutdowns"),
        });
    }
    if report.temperature_celsius.is_none() {
        report.temperature_celsius = report.nvme.as_ref().and_then(|n| n.temperature).or_else(|| {
            let ata = report.ata.as_ref()?;
            [194u8, 190].iter().find_map(|id| {
                let attr = ata.attributes.iter().find(|a| a.id == *id)?;
                let first = attr.raw_string.split_whitespace().next().and_then(|w| w.parse().ok());
                Some(first.unwrap_or(i64::try_from(attr.raw & 0xff).unwrap_or(0)))
            })
        });
    }
    Ok(report)
}

fn at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(value, |v, key| v.get(key))
}

fn parse_ata(table: &[Value]) -> AtaHealth {
    let mut ata = AtaHealth::default();
    for row in table {
        let Some(id) = row.get("id").and_then(Value::as_u64).and_then(|id| u8::try_from(id).ok()) else { continue };
        let num = |key: &str| row.get(key).and_then(Value::as_u64);
        let attr = AtaAttribute {
            id,
            name: row.get("name").and_then(Value::as_str).unwrap_or_default().to_owned(),
            value: num("value"),
            worst: num("worst"),
            thresh: num("thresh"),
            raw: at(row, &["raw", "value"]).and_then(Value::as_u64).unwrap_or(0),
            raw_string: at(row, &["raw", "string"]).and_then(Value::as_str).unwrap_or_default().to_owned(),
            when_failed: row.get("when_failed").and_then(Value::as_str).unwrap_or_default().trim().to_owned(),
            prefailure: at(row, &["flags", "prefailure"]).and_then(Value::as_bool).unwrap_or(false),
        };
        match id {
            5 => ata.reallocated_sectors = Some(attr.count()),
            187 => ata.reported_uncorrectable = Some(attr.count()),
            188 => ata.command_timeouts = Some(attr.raw & 0xffff),
            197 => ata.pending_sectors = Some(attr.count()),
            198 => ata.offline_uncorrectable = Some(attr.count()),
            199 => ata.udma_crc_errors = Some(attr.count()),
            _ => {}
        }
        if ATA_ATTRIBUTES_OF_INTEREST.contains(&id) || !attr.when_failed.is_empty() {
            ata.attributes.push(attr);
        }
    }
    ata
}

/// Builds the reason for a non-zero counter.
type CountReason = fn(u64) -> DiskReason;

/// Judges a disk from its SMART report.
///
/// - `Failing`: overall self-assessment failed (or exit bit 3), an attribute below its threshold
///   now (or exit bit 4), NVMe critical warning other than temperature, NVMe spare below its
///   threshold.
/// - `Warning`: reallocated, pending or offline-uncorrectable sectors, reported uncorrectable
///   errors, command timeouts, interface CRC errors, an attribute that failed in the past (exit
///   bit 5), error or self-test log entries (bits 6, 7), NVMe media errors, NVMe temperature
///   warning, NVMe endurance used, temperature at or above the limit.
/// - `Unknown`: smartctl could not open or identify the device, or reported no health data.
///
/// A failing disk's reasons include its warnings, after the failing ones.
pub fn assess_disk(report: &SmartReport, thresholds: &DiskThresholds) -> DiskState {
    let exit = report.exit_status;
    if exit.command_line_error() || exit.device_open_failed() {
        return DiskState::Unknown;
    }
    if report.smart_passed.is_none() && report.ata.is_none() && report.nvme.is_none() {
        return DiskState::Unknown;
    }
    let mut failing = Vec::new();
    let mut warning = Vec::new();
    if report.smart_passed == Some(false) || exit.disk_failing() {
        failing.push(DiskReason::SmartFailed);
    }
    if let Some(ata) = &report.ata {
        let mut failing_now = false;
        let mut failed_past = false;
        for attr in &ata.attributes {
            match attr.when_failed.as_str() {
                "now" => {
                    failing_now = true;
                    failing.push(DiskReason::AttributeFailing { id: attr.id, name: attr.name.clone() });
                }
                "past" => {
                    failed_past = true;
                    warning.push(DiskReason::AttributeFailedInPast { id: attr.id, name: attr.name.clone() });
                }
                _ => {}
            }
        }
        if exit.prefail_below_threshold() && !failing_now {
            failing.push(DiskReason::PrefailBelowThreshold);
        }
        if exit.below_threshold_in_past() && !failed_past {
            warning.push(DiskReason::BelowThresholdInPast);
        }
        let counters: [(u8, Option<u64>, CountReason); 6] = [
            (5, ata.reallocated_sectors, |count| DiskReason::ReallocatedSectors { count }),
            (197, ata.pending_sectors, |count| DiskReason::PendingSectors { count }),
            (198, ata.offline_uncorrectable, |count| DiskReason::OfflineUncorrectable { count }),
            (187, ata.reported_uncorrectable, |count| DiskReason::ReportedUncorrectable { count }),
            (188, ata.command_timeouts, |count| DiskReason::CommandTimeouts { count }),
            (199, ata.udma_crc_errors, |count| DiskReason::CrcErrors { count }),
        ];
        for (id, count, reason) in counters {
            if let Some(count) = count.filter(|c| *c > 0)
                && !thresholds.ignore_ata_attributes.contains(&id)
            {
                warning.push(reason(count));
            }
        }
    }
    if let Some(nvme) = &report.nvme {
        let bits = nvme.critical_warning;
        if bits & !0x02 != 0 {
            failing.push(DiskReason::NvmeCriticalWarning { bits });
        } else if bits & 0x02 != 0 {
            warning.push(DiskReason::NvmeCriticalWarning { bits });
        }
        if let (Some(spare), Some(threshold)) = (nvme.available_spare, nvme.available_spare_threshold)
            && spare < threshold
        {
            failing.push(DiskReason::NvmeSpareLow { spare_percent: spare, threshold_percent: threshold });
        }
        if let Some(count) = nvme.media_errors.filter(|c| *c > 0) {
            warning.push(DiskReason::NvmeMediaErrors { count });
        }
        if let Some(used) = nvme.percentage_used.filter(|u| *u >= thresholds.nvme_percentage_used_warning) {
            warning.push(DiskReason::NvmeWear { percent_used: used });
        }
    }
    if exit.error_log_has_errors() {
        warning.push(DiskReason::ErrorLogEntries);
    }
    if exit.self_test_log_has_errors() {
        warning.push(DiskReason::SelfTestErrors);
    }
    if let Some(celsius) = report.temperature_celsius.filter(|t| *t >= thresholds.temperature_warning_celsius) {
        warning.push(DiskReason::Temperature { celsius, limit_celsius: thresholds.temperature_warning_celsius });
    }
    if !failing.is_empty() {
        failing.extend(warning);
        DiskState::Failing(failing)
    } else if !warning.is_empty() {
        DiskState::Warning(warning)
    } else {
        DiskState::Ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> SmartReport {
        let path = format!("{}/tests/fixtures/smartctl/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        parse_smartctl_json(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn assess(name: &str) -> DiskState {
        assess_disk(&fixture(name), &DiskThresholds::default())
    }

    #[test]
    fn healthy_sata_ssd() {
        let r = fixture("sata-ssd-healthy.json");
        assert_eq!(r.device.as_deref(), Some("/dev/sda"));
        assert_eq!(r.protocol.as_deref(), Some("ATA"));
        assert_eq!(r.model.as_deref(), Some("Samsung SSD 870 EVO 1TB"));
        assert_eq!(r.serial.as_deref(), Some("S6PTNM0T412345A"));
        assert_eq!(r.smartctl_version.as_deref(), Some("7.3"));
        assert_eq!(r.exit_status, SmartctlExit(0));
        assert_eq!(r.smart_passed, Some(true));
        assert_eq!(r.temperature_celsius, Some(31));
        assert_eq!(r.power_on_hours, Some(8762));
        let ata = r.ata.as_ref().expect("ATA attributes");
        assert_eq!(ata.reallocated_sectors, Some(0));
        assert_eq!(ata.reported_uncorrectable, Some(0), "Samsung's name for 187 is Uncorrectable_Error_Cnt");
        assert_eq!(ata.pending_sectors, None, "this SSD has no attribute 197");
        let ids: Vec<u8> = ata.attributes.iter().map(|a| a.id).collect();
        assert_eq!(ids, [5, 187, 190, 199]);
        assert_eq!(r.nvme, None);
        assert_eq!(assess("sata-ssd-healthy.json"), DiskState::Ok);
    }

    #[test]
    fn hdd_with_reallocated_and_pending_sectors() {
        let r = fixture("sata-hdd-reallocated-pending.json");
        let ata = r.ata.as_ref().expect("ATA attributes");
        assert_eq!(ata.reallocated_sectors, Some(48));
        assert_eq!(ata.pending_sectors, Some(8));
        assert_eq!(ata.offline_uncorrectable, Some(0));
        assert_eq!(r.temperature_celsius, Some(37));
        assert_eq!(
            assess("sata-hdd-reallocated-pending.json"),
            DiskState::Warning(vec![
                DiskReason::ReallocatedSectors { count: 48 },
                DiskReason::PendingSectors { count: 8 },
            ])
        );
    }

    #[test]
    fn failing_hdd() {
        let r = fixture("sata-hdd-failing.json");
        assert_eq!(r.smart_passed, Some(false));
        assert!(r.exit_status.disk_failing() && r.exit_status.prefail_below_threshold());
        assert!(!r.exit_status.device_open_failed());
        let ata = r.ata.as_ref().expect("ATA attributes");
        assert_eq!(ata.command_timeouts, Some(1), "packed raw 4295032833 = 1 1 1");
        assert_eq!(ata.reported_uncorrectable, Some(2341));
        let t194 = ata.attributes.iter().find(|a| a.id == 194).expect("194");
        assert_eq!(t194.count(), 38);
        assert_eq!(r.temperature_celsius, Some(38));
        let DiskState::Failing(reasons) = assess("sata-hdd-failing.json") else { panic!() };
        assert_eq!(
            reasons,
            [
                DiskReason::SmartFailed,
                DiskReason::AttributeFailing { id: 5, name: "Reallocated_Sector_Ct".into() },
                DiskReason::ReallocatedSectors { count: 3984 },
                DiskReason::PendingSectors { count: 1184 },
                DiskReason::OfflineUncorrectable { count: 1184 },
                DiskReason::ReportedUncorrectable { count: 2341 },
                DiskReason::CommandTimeouts { count: 1 },
            ]
        );
    }

    #[test]
    fn nvme_healthy() {
        let r = fixture("nvme-healthy.json");
        assert_eq!(r.protocol.as_deref(), Some("NVMe"));
        assert_eq!(r.ata, None);
        let nvme = r.nvme.as_ref().expect("NVMe log");
        assert_eq!(nvme.critical_warning, 0);
        assert_eq!((nvme.available_spare, nvme.available_spare_threshold), (Some(100), Some(10)));
        assert_eq!(nvme.percentage_used, Some(3));
        assert_eq!(nvme.media_errors, Some(0));
        assert_eq!(r.temperature_celsius, Some(38));
        assert_eq!(assess("nvme-healthy.json"), DiskState::Ok);
    }

    #[test]
    fn nvme_critical_warning() {
        let r = fixture("nvme-critical-warning.json");
        assert_eq!(r.smart_passed, Some(false));
        let DiskState::Failing(reasons) = assess("nvme-critical-warning.json") else { panic!() };
        assert_eq!(
            reasons,
            [
                DiskReason::SmartFailed,
                DiskReason::NvmeCriticalWarning { bits: 5 },
                DiskReason::NvmeSpareLow { spare_percent: 3, threshold_percent: 10 },
                DiskReason::NvmeMediaErrors { count: 1437 },
                DiskReason::NvmeWear { percent_used: 112 },
            ]
        );
    }

    #[test]
    fn open_failed_is_unknown() {
        let r = fixture("open-failed.json");
        assert!(r.exit_status.device_open_failed());
        assert_eq!(r.messages, ["Smartctl open device: /dev/sda failed: Permission denied"]);
        assert_eq!(r.device, None);
        assert_eq!(assess("open-failed.json"), DiskState::Unknown);
    }

    #[test]
    fn thresholds_apply() {
        let r = fixture("sata-hdd-reallocated-pending.json");
        let t = DiskThresholds {
            temperature_warning_celsius: 35,
            ignore_ata_attributes: vec![5, 197],
            ..Default::default()
        };
        assert_eq!(
            assess_disk(&r, &t),
            DiskState::Warning(vec![DiskReason::Temperature { celsius: 37, limit_celsius: 35 }])
        );
        // Only the temperature bit of an NVMe critical warning: a warning, not failing.
        let mut r = fixture("nvme-healthy.json");
        if let Some(n) = r.nvme.as_mut() {
            n.critical_warning = 0x02;
        }
        assert_eq!(
            assess_disk(&r, &DiskThresholds::default()),
            DiskState::Warning(vec![DiskReason::NvmeCriticalWarning { bits: 2 }])
        );
    }

    #[test]
    fn exit_bits_alone() {
        let base = |status: u8| {
            format!(
                r#"{{"smartctl": {{"exit_status": {status}}}, "smart_status": {{"passed": true}}, "ata_smart_attributes": {{"table": []}}}}"#
            )
        };
        let judge =
            |status| assess_disk(&parse_smartctl_json(&base(status)).expect("json"), &DiskThresholds::default());
        assert_eq!(judge(0), DiskState::Ok);
        assert_eq!(judge(8), DiskState::Failing(vec![DiskReason::SmartFailed]));
        assert_eq!(judge(16), DiskState::Failing(vec![DiskReason::PrefailBelowThreshold]));
        assert_eq!(judge(32), DiskState::Warning(vec![DiskReason::BelowThresholdInPast]));
        assert_eq!(judge(64 | 128), DiskState::Warning(vec![DiskReason::ErrorLogEntries, DiskReason::SelfTestErrors]));
        assert_eq!(judge(2), DiskState::Unknown);
        assert_eq!(judge(1), DiskState::Unknown);
        let no_data = parse_smartctl_json(r#"{"smartctl": {"exit_status": 4}}"#).expect("json");
        assert_eq!(assess_disk(&no_data, &DiskThresholds::default()), DiskState::Unknown);
    }

    #[test]
    fn not_smartctl_output() {
        assert!(matches!(parse_smartctl_json("smartctl: invalid option -- 'j'"), Err(HealthError::Json(_))));
        assert!(matches!(parse_smartctl_json("[1, 2]"), Err(HealthError::Parse { .. })));
        assert!(matches!(parse_smartctl_json(r#"{"smartctl": 3}"#), Err(HealthError::Parse { .. })));
        // Wrong types inside are tolerated, not fatal.
        let odd = r#"{"smartctl": {"exit_status": 99999, "version": "7"}, "ata_smart_attributes": {"table": [{"id": 900}, {"id": 5, "raw": {"value": -1}}]}}"#;
        let r = parse_smartctl_json(odd).expect("tolerated");
        assert_eq!(r.ata.expect("ata").reallocated_sectors, Some(0));
    }
}
