//! `mdadm --detail /dev/mdX`: mdadm's view of one array.
//!
//! The format is mdadm's `Detail.c` (checked against mdadm 4.2): `Key : value` lines, then a device
//! table. `/proc/mdstat` stays the primary source; the detail adds the words mdadm uses (`FAILED`,
//! `Not Started`), the device counts and which slots are `removed`.

use serde::Serialize;

use crate::HealthError;
use crate::mdstat::SyncAction;

const WHAT: &str = "mdadm --detail";

/// Parsed `mdadm --detail` output.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct MdadmDetail {
    /// The first line without its colon (`/dev/md0`).
    pub device: Option<String>,
    /// `Raid Level` (`raid1`).
    pub raid_level: Option<String>,
    /// `Array Size` in KiB.
    pub array_size_kib: Option<u64>,
    /// The `State` line, split into its words.
    pub state: Vec<DetailState>,
    /// `Raid Devices`.
    pub raid_devices: Option<u32>,
    /// `Total Devices`.
    pub total_devices: Option<u32>,
    /// `Active Devices`.
    pub active_devices: Option<u32>,
    /// `Working Devices`.
    pub working_devices: Option<u32>,
    /// `Failed Devices`.
    pub failed_devices: Option<u32>,
    /// `Spare Devices`.
    pub spare_devices: Option<u32>,
    /// `Rebuild Status : 37% complete` (or `Resync`, `Reshape`, `Check`).
    pub sync_status: Option<DetailSync>,
    /// `UUID`.
    pub uuid: Option<String>,
    /// `Name` (`hakobune:0  (local to host hakobune)`).
    pub name: Option<String>,
    /// `Events`.
    pub events: Option<u64>,
    /// The device table.
    pub devices: Vec<DetailDevice>,
}

impl MdadmDetail {
    /// Whether the `State` line has the word.
    pub fn has_state(&self, state: &DetailState) -> bool {
        self.state.contains(state)
    }
}

/// One word of the `State` line (`clean, degraded, recovering`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DetailState {
    /// `clean`: no writes in flight.
    Clean,
    /// `active`: writes in flight (the normal state of a busy array).
    Active,
    /// `degraded`: running without full redundancy.
    Degraded,
    /// `FAILED`: too few devices to run.
    Failed,
    /// `recovering`.
    Recovering,
    /// `resyncing`.
    Resyncing,
    /// `reshaping`.
    Reshaping,
    /// `checking`.
    Checking,
    /// `Not Started`.
    NotStarted,
    /// `inactive`.
    Inactive,
    /// `(DELAYED)`.
    Delayed,
    /// `(PENDING)`.
    Pending,
    /// Any other word mdadm printed (`readonly`, `read-auto`, `broken`, …), lowercased.
    Other(String),
}

impl DetailState {
    fn from_word(word: &str) -> Self {
        match word.to_ascii_lowercase().as_str() {
            "clean" => DetailState::Clean,
            "active" => DetailState::Active,
            "degraded" => DetailState::Degraded,
            "failed" => DetailState::Failed,
            "recovering" => DetailState::Recovering,
            "resyncing" => DetailState::Resyncing,
            "reshaping" => DetailState::Reshaping,
            "checking" => DetailState::Checking,
            "not started" => DetailState::NotStarted,
            "inactive" => DetailState::Inactive,
            "delayed" => DetailState::Delayed,
            "pending" => DetailState::Pending,
            other => DetailState::Other(other.to_owned()),
        }
    }
}

/// `Rebuild Status : 37% complete`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DetailSync {
    /// `Rebuild` is a recovery; `Resync`, `Reshape`, `Check` as in `/proc/mdstat`.
    pub action: SyncAction,
    /// Whole percent, as mdadm prints it.
    pub percent: u8,
}

/// One row of the device table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DetailDevice {
    /// `Number` (descriptor); `None` for `-`.
    pub number: Option<u32>,
    /// `Major`.
    pub major: u32,
    /// `Minor`.
    pub minor: u32,
    /// `RaidDevice` (slot); `None` for `-` (not in a slot: faulty, spare).
    pub raid_device: Option<u32>,
    /// What the row says the device is.
    pub role: DeviceRole,
    /// The state words as printed (`active`, `sync`, `set-A`, `writemostly`, …).
    pub flags: Vec<String>,
    /// Device path (`/dev/sda1`); `None` for `removed` rows (and `missing` devices).
    pub path: Option<String>,
}

/// The role of a device in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceRole {
    /// `active sync`: an in-sync member.
    ActiveSync,
    /// `spare rebuilding`: being rebuilt into a slot.
    SpareRebuilding,
    /// `spare`.
    Spare,
    /// `faulty`.
    Faulty,
    /// `removed`: an empty slot.
    Removed,
    /// `journal`.
    Journal,
    /// Anything else (including the state-less rows of an inactive array).
    Other,
}

impl DeviceRole {
    fn from_flags(flags: &[String]) -> Self {
        let has = |w: &str| flags.iter().any(|f| f == w);
        if has("faulty") {
            DeviceRole::Faulty
        } else if has("removed") {
            DeviceRole::Removed
        } else if has("journal") {
            DeviceRole::Journal
        } else if has("spare") && has("rebuilding") {
            DeviceRole::SpareRebuilding
        } else if has("spare") {
            DeviceRole::Spare
        } else if has("active") && has("sync") {
            DeviceRole::ActiveSync
        } else {
            DeviceRole::Other
        }
    }
}

/// Parses `mdadm --detail` output for one array.
///
/// Errors when the text has none of `Raid Level`, `State`, `Raid Devices` (mdadm's error messages
/// go to standard error, so empty or foreign output lands here), or when a device table row is
/// malformed.
pub fn parse_mdadm_detail(text: &str) -> Result<MdadmDetail, HealthError> {
    let mut out = MdadmDetail::default();
    let mut recognised = false;
    let mut in_table = false;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        if in_table {
            out.devices.push(parse_row(trimmed, number)?);
            continue;
        }
        if trimmed.starts_with("Number ") && trimmed.contains("RaidDevice") {
            in_table = true;
            continue;
        }
        if out.device.is_none() && !line.starts_with(' ') && trimmed.ends_with(':') {
            out.device = trimmed.strip_suffix(':').map(str::to_owned);
            continue;
        }
        let Some((key, value)) = line.split_once(" : ") else { continue };
        let (key, value) = (key.trim(), value.trim());
        match key {
            "Raid Level" => {
                recognised = true;
                out.raid_level = Some(value.to_owned());
            }
            "Array Size" => out.array_size_kib = first_number(value),
            "State" => {
                recognised = true;
                out.state = parse_state(value);
            }
            "Raid Devices" => {
                recognised = true;
                out.raid_devices = first_number(value);
            }
            "Total Devices" => out.total_devices = first_number(value),
            "Active Devices" => out.active_devices = first_number(value),
            "Working Devices" => out.working_devices = first_number(value),
            "Failed Devices" => out.failed_devices = first_number(value),
            "Spare Devices" => out.spare_devices = first_number(value),
            "UUID" => out.uuid = Some(value.to_owned()),
            "Name" => out.name = Some(value.to_owned()),
            "Events" => out.events = first_number(value),
            _ => {
                if let Some(kind) = key.strip_suffix(" Status") {
                    out.sync_status = parse_sync_status(kind, value);
                }
            }
        }
    }
    if !recognised {
        return Err(HealthError::parse(WHAT, 0, "no Raid Level, State or Raid Devices line"));
    }
    Ok(out)
}

fn first_number<T: std::str::FromStr>(value: &str) -> Option<T> {
    value.split_whitespace().next().and_then(|w| w.parse().ok())
}

/// `clean, degraded, recovering ` / `active, FAILED, Not Started` / `clean, degraded (DELAYED)`.
fn parse_state(value: &str) -> Vec<DetailState> {
    let mut out = Vec::new();
    for part in value.split(',') {
        let mut part = part.trim();
        // Parenthesised words (`(DELAYED)`, `(auto-read-only)`) are states of their own.
        while let Some(open) = part.rfind('(') {
            let (head, paren) = part.split_at(open);
            let word = paren.trim_start_matches('(').trim_end_matches(')').trim();
            if !word.is_empty() {
                out.push(DetailState::from_word(word));
            }
            part = head.trim();
        }
        if !part.is_empty() {
            out.push(DetailState::from_word(part));
        }
    }
    out
}

fn parse_sync_status(kind: &str, value: &str) -> Option<DetailSync> {
    let action = match kind {
        "Rebuild" => SyncAction::Recovery,
        "Resync" => SyncAction::Resync,
        "Reshape" => SyncAction::Reshape,
        "Check" => SyncAction::Check,
        _ => return None,
    };
    let percent = value.split('%').next()?.trim().parse::<u8>().ok()?;
    Some(DetailSync { action, percent })
}

/// `       0       8        1        0      active sync   /dev/sda1`
/// `       -       0        0        1      removed`
/// `       1       8       17        -      faulty   /dev/sdb1`
fn parse_row(line: &str, number: usize) -> Result<DetailDevice, HealthError> {
    let bad = || HealthError::parse(WHAT, number, format!("bad device row {line:?}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    let [num, major, minor, slot, rest @ ..] = words.as_slice() else { return Err(bad()) };
    let optional = |w: &str| -> Result<Option<u32>, HealthError> {
        if w == "-" { Ok(None) } else { w.parse().map(Some).map_err(|_| bad()) }
    };
    let mut flags: Vec<String> = rest.iter().map(|w| (*w).to_owned()).collect();
    let path = match flags.last() {
        Some(last) if last.starts_with('/') => flags.pop(),
        Some(last) if last == "missing" => {
            flags.pop();
            None
        }
        _ => None,
    };
    Ok(DetailDevice {
        number: optional(num)?,
        major: major.parse().map_err(|_| bad())?,
        minor: minor.parse().map_err(|_| bad())?,
        raid_device: optional(slot)?,
        role: DeviceRole::from_flags(&flags),
        flags,
        path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> MdadmDetail {
        let path = format!("{}/tests/fixtures/mdadm/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        parse_mdadm_detail(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn clean() {
        let d = fixture("md0-clean.txt");
        assert_eq!(d.device.as_deref(), Some("/dev/md0"));
        assert_eq!(d.raid_level.as_deref(), Some("raid1"));
        assert_eq!(d.array_size_kib, Some(976_628_736));
        assert_eq!(d.state, [DetailState::Clean]);
        assert_eq!(
            (d.raid_devices, d.total_devices, d.active_devices, d.working_devices, d.failed_devices, d.spare_devices),
            (Some(2), Some(2), Some(2), Some(2), Some(0), Some(0))
        );
        assert_eq!(d.sync_status, None);
        assert_eq!(d.uuid.as_deref(), Some("5c3e9a1f:0b7d24e6:9a41c2d8:e3f07b15"));
        assert_eq!(d.name.as_deref(), Some("hakobune:0  (local to host hakobune)"));
        assert_eq!(d.events, Some(1893));
        assert_eq!(d.devices.len(), 2);
        assert_eq!(
            d.devices[1],
            DetailDevice {
                number: Some(1),
                major: 8,
                minor: 17,
                raid_device: Some(1),
                role: DeviceRole::ActiveSync,
                flags: vec!["active".into(), "sync".into()],
                path: Some("/dev/sdb1".into()),
            }
        );
    }

    #[test]
    fn degraded() {
        let d = fixture("md0-degraded.txt");
        assert_eq!(d.state, [DetailState::Clean, DetailState::Degraded]);
        assert_eq!(d.failed_devices, Some(1));
        let roles: Vec<_> = d.devices.iter().map(|r| r.role).collect();
        assert_eq!(roles, [DeviceRole::ActiveSync, DeviceRole::Removed, DeviceRole::Faulty]);
        assert_eq!(d.devices[1].number, None);
        assert_eq!(d.devices[1].raid_device, Some(1));
        assert_eq!(d.devices[1].path, None);
        assert_eq!(d.devices[2].raid_device, None);
        assert_eq!(d.devices[2].path.as_deref(), Some("/dev/sdb1"));
    }

    #[test]
    fn recovering() {
        let d = fixture("md0-recovering.txt");
        assert_eq!(d.state, [DetailState::Clean, DetailState::Degraded, DetailState::Recovering]);
        assert_eq!(d.sync_status, Some(DetailSync { action: SyncAction::Recovery, percent: 37 }));
        assert_eq!(d.devices[1].role, DeviceRole::SpareRebuilding);
        assert_eq!(d.devices[1].path.as_deref(), Some("/dev/sdc1"));
    }

    #[test]
    fn failed() {
        let d = fixture("md1-failed.txt");
        assert!(d.has_state(&DetailState::Failed));
        assert_eq!(d.raid_level.as_deref(), Some("raid5"));
        assert_eq!(d.devices.iter().filter(|r| r.role == DeviceRole::Removed).count(), 2);
        assert_eq!(d.devices.iter().filter(|r| r.role == DeviceRole::Faulty).count(), 2);
    }

    #[test]
    fn inactive() {
        let d = fixture("md127-inactive.txt");
        assert_eq!(d.state, [DetailState::Inactive]);
        assert_eq!(d.active_devices, None);
        assert_eq!(d.devices.len(), 1);
        assert_eq!(d.devices[0].role, DeviceRole::Other);
        assert_eq!(d.devices[0].path.as_deref(), Some("/dev/sdc1"));
    }

    #[test]
    fn state_words() {
        assert_eq!(
            parse_state("active, FAILED, Not Started "),
            [DetailState::Active, DetailState::Failed, DetailState::NotStarted]
        );
        assert_eq!(
            parse_state("clean, degraded, resyncing (DELAYED) "),
            [DetailState::Clean, DetailState::Degraded, DetailState::Delayed, DetailState::Resyncing]
        );
        assert_eq!(parse_state("read-auto"), [DetailState::Other("read-auto".into())]);
        assert_eq!(
            parse_sync_status("Check", "12% complete"),
            Some(DetailSync { action: SyncAction::Check, percent: 12 })
        );
        assert_eq!(parse_sync_status("Check", "lots"), None);
    }

    #[test]
    fn errors() {
        assert!(parse_mdadm_detail("").is_err());
        assert!(parse_mdadm_detail("mdadm: cannot open /dev/md0: No such file or directory\n").is_err());
        let bad_row =
            "/dev/md0:\n        Raid Level : raid1\n    Number   Major   Minor   RaidDevice State\n       x\n";
        let err = parse_mdadm_detail(bad_row).unwrap_err();
        assert!(err.to_string().contains("line 4"), "{err}");
    }
}
