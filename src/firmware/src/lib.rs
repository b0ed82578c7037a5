//! The appliance's firmware slots, read from where the boot loader keeps them.
//!
//! Brief overview: the box has two root slots, A and B. Each has a systemd-boot entry on the EFI
//! system partition, `loader/entries/hakobune-<slot>[+LEFT[-DONE]].conf`, whose `version` is the
//! firmware version written into that slot and whose `options` carry `rauc.slot=<A|B>`. An update
//! (RAUC) writes the inactive slot and gives its entry a boot counter (`+3`): systemd-boot boots
//! the newest good-or-trying entry and counts down; `hakobune self-check` passing lets
//! systemd-bless-boot drop the counter (the update is kept); three failed boots leave `+0-3`, an
//! entry systemd-boot sorts last, so the box is back on the old slot by itself.
//!
//! - [`Version`] is the scheme `YYYY.M.N` (year, month, release of that month).
//! - [`parse_entry`] reads one entry file; [`read_entries`] a whole ESP.
//! - [`status`] turns entries plus the booted slot into a [`FirmwareStatus`]: per-slot state and
//!   the last update's outcome (kept, on trial, rolled back).
//!
//! Architecture invariant: reads only; never writes the ESP (that is the RAUC bootloader backend's
//! job, `image-build/bin/rauc-bootloader`). Parsing is pure and never panics.

#![deny(missing_docs)]

use std::fmt;
use std::path::Path;

use serde::Serialize;

/// A firmware version, `YYYY.M.N`: year, month (1-12, no leading zero), release of that month
/// (from 0), e.g. `2026.11.0`; also valid semver, as RAUC compares versions. Serialized as that
/// string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    /// Year.
    pub year: u16,
    /// Month, 1 to 12.
    pub month: u8,
    /// Release within the month, from 0.
    pub release: u16,
}

impl Version {
    /// Parses `YYYY.M.N`; anything else is `None`.
    pub fn parse(s: &str) -> Option<Version> {
        let mut it = s.trim().split('.');
        let (y, m, n) = (it.next()?, it.next()?, it.next()?);
        // No leading zeros (the scheme must also be valid semver, which RAUC compares).
        let canonical = |t: &str| !t.is_empty() && (t == "0" || !t.starts_with('0'));
        if it.next().is_some() || y.len() != 4 || !canonical(m) || !canonical(n) {
            return None;
        }
        let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if !(all_digits(y) && all_digits(m) && all_digits(n)) {
            return None;
        }
        let v = Version { year: y.parse().ok()?, month: m.parse().ok()?, release: n.parse().ok()? };
        (1..=12).contains(&v.month).then_some(v)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.year, self.month, self.release)
    }
}

impl Serialize for Version {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Where an entry stands with systemd-boot's boot counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "state")]
pub enum BootState {
    /// No counter: this slot booted and passed its self-check.
    Good,
    /// On trial: boots left before systemd-boot gives up on it.
    Trying {
        /// Boots left.
        left: u32,
        /// Boots already tried.
        done: u32,
    },
    /// No boots left: the slot failed its trial.
    Bad {
        /// Boots tried.
        done: u32,
    },
}

/// One slot's boot entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BootEntry {
    /// Entry file name.
    pub file: String,
    /// `A` or `B` (from `rauc.slot=` in the options).
    pub slot: String,
    /// The firmware version in the slot.
    pub version: Version,
    /// Boot counting state.
    pub boot: BootState,
}

/// Parses an entry of ours (`hakobune-*.conf` with `rauc.slot=` and a `YYYY.M.N` version);
/// anything else is `None`.
pub fn parse_entry(file_name: &str, text: &str) -> Option<BootEntry> {
    let stem = file_name.strip_prefix("hakobune-")?.strip_suffix(".conf")?;
    let boot = match stem.split_once('+') {
        None => BootState::Good,
        Some((_, counter)) => {
            let (left, done) = match counter.split_once('-') {
                Some((l, d)) => (l.parse().ok()?, d.parse().ok()?),
                None => (counter.parse().ok()?, 0),
            };
            if left == 0 { BootState::Bad { done } } else { BootState::Trying { left, done } }
        }
    };
    let mut version = None;
    let mut slot = None;
    for line in text.lines() {
        let line = line.trim();
        let (key, value) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        match key {
            "version" => version = Version::parse(value),
            "options" => {
                slot = value.split_whitespace().find_map(|o| o.strip_prefix("rauc.slot=")).map(str::to_owned);
            }
            _ => {}
        }
    }
    Some(BootEntry { file: file_name.to_owned(), slot: slot?, version: version?, boot })
}

/// Errors reading the ESP.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct FirmwareError {
    /// What was being read.
    pub path: String,
    /// Why it failed.
    pub source: std::io::Error,
}

/// Reads our entries from `<esp>/loader/entries`, sorted by slot.
pub fn read_entries(esp: &Path) -> Result<Vec<BootEntry>, FirmwareError> {
    let dir = esp.join("loader/entries");
    let err = |source| FirmwareError { path: dir.display().to_string(), source };
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir).map_err(err)? {
        let e = e.map_err(err)?;
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.starts_with("hakobune-") {
            continue;
        }
        let text = std::fs::read_to_string(e.path()).map_err(err)?;
        out.extend(parse_entry(&name, &text));
    }
    out.sort_by(|a, b| a.slot.cmp(&b.slot));
    Ok(out)
}

/// The booted slot, from the kernel command line (`rauc.slot=`).
pub fn booted_slot(cmdline: &str) -> Option<String> {
    cmdline.split_whitespace().find_map(|o| o.strip_prefix("rauc.slot=")).map(str::to_owned)
}

/// The last update, as the slots tell it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "result")]
pub enum LastUpdate {
    /// Only the factory slot has ever been written.
    None,
    /// The newest version booted, passed its self-check and is kept.
    Kept {
        /// The version.
        version: Version,
    },
    /// The newest version is running on trial: the self-check has not passed yet.
    OnTrial {
        /// The version.
        version: Version,
        /// Boots left before the box falls back.
        boots_left: u32,
    },
    /// The newest version failed its trial and the box fell back to the older slot.
    RolledBack {
        /// The version that failed.
        failed: Version,
        /// Boots it was given.
        attempts: u32,
        /// The version running now.
        running: Version,
    },
    /// The newest version's slot is written but the box has not booted it yet.
    Pending {
        /// The version waiting for a reboot.
        version: Version,
    },
}

/// What `hakobune firmware status` and `/api/v1/appliance/status` show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FirmwareStatus {
    /// The slot running now (`A`/`B`), when the command line says.
    pub booted_slot: Option<String>,
    /// The version running now.
    pub running_version: Option<Version>,
    /// Each slot's entry.
    pub slots: Vec<BootEntry>,
    /// The last update's outcome.
    pub last_update: LastUpdate,
}

/// Derives the status from the entries and the booted slot.
pub fn status(entries: Vec<BootEntry>, booted: Option<String>) -> FirmwareStatus {
    let running = booted.as_ref().and_then(|b| entries.iter().find(|e| &e.slot == b));
    let running_version = running.map(|e| e.version);
    let newest = entries.iter().max_by_key(|e| e.version);
    let last_update = match (newest, running) {
        _ if entries.len() < 2 => LastUpdate::None,
        (Some(n), Some(r)) if n.slot == r.slot => match n.boot {
            BootState::Trying { left, .. } => LastUpdate::OnTrial { version: n.version, boots_left: left },
            _ => LastUpdate::Kept { version: n.version },
        },
        (Some(n), Some(r)) => match n.boot {
            BootState::Bad { done } => LastUpdate::RolledBack { failed: n.version, attempts: done, running: r.version },
            BootState::Trying { done, .. } if done > 0 => {
                LastUpdate::RolledBack { failed: n.version, attempts: done, running: r.version }
            }
            BootState::Trying { .. } => LastUpdate::Pending { version: n.version },
            // A newer good slot that is not running: someone booted the old slot by hand.
            BootState::Good => LastUpdate::Kept { version: n.version },
        },
        _ => LastUpdate::None,
    };
    FirmwareStatus { booted_slot: booted, running_version, slots: entries, last_update }
}

#[cfg(test)]
mod tests;
