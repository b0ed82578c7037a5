//! Free space (and free inodes) of the filesystem holding the data directory, via `statvfs`.
//!
//! "Available" is what an unprivileged process may still use (`f_bavail`, `f_favail`), since the
//! server does not run as root: blocks reserved for root do not count.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::HealthError;

/// Free-space thresholds, part of [`Thresholds`](crate::Thresholds).
///
/// A threshold is crossed when the available space is below the percentage **or** below the
/// absolute size, so that both small and very large volumes are covered. A value of 0 disables
/// that threshold.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SpaceThresholds {
    /// Warning below this percentage available. Default 10.
    pub warning_percent: f64,
    /// Critical below this percentage available. Default 5.
    pub critical_percent: f64,
    /// Warning below this many bytes available. Default 20 GiB.
    pub warning_bytes: u64,
    /// Critical below this many bytes available. Default 5 GiB. The server refuses new data below
    /// the critical level.
    pub critical_bytes: u64,
    /// Warning below this percentage of inodes available (SS-MIX2 stores one file per message).
    /// Default 10. Ignored on filesystems that report no inode count (btrfs).
    pub inodes_warning_percent: f64,
    /// Critical below this percentage of inodes available. Default 5.
    pub inodes_critical_percent: f64,
}

impl Default for SpaceThresholds {
    fn default() -> Self {
        const GIB: u64 = 1 << 30;
        SpaceThresholds {
            warning_percent: 10.0,
            critical_percent: 5.0,
            warning_bytes: 20 * GIB,
            critical_bytes: 5 * GIB,
            inodes_warning_percent: 10.0,
            inodes_critical_percent: 5.0,
        }
    }
}

impl SpaceThresholds {
    /// Checks that percentages are within 0–100 and critical levels do not exceed warning levels.
    pub fn validate(&self) -> Result<(), HealthError> {
        let percents = [
            ("warning_percent", self.warning_percent),
            ("critical_percent", self.critical_percent),
            ("inodes_warning_percent", self.inodes_warning_percent),
            ("inodes_critical_percent", self.inodes_critical_percent),
        ];
        for (name, value) in percents {
            if !(0.0..=100.0).contains(&value) {
                return Err(HealthError::InvalidConfig(format!("free_space.{name} = {value}: must be within 0..=100")));
            }
        }
        if self.critical_percent > self.warning_percent
            || self.critical_bytes > self.warning_bytes
            || self.inodes_critical_percent > self.inodes_warning_percent
        {
            return Err(HealthError::InvalidConfig("free_space: a critical level exceeds its warning level".into()));
        }
        Ok(())
    }
}

/// How full the data filesystem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SpaceState {
    /// Above both warning thresholds.
    Ok,
    /// Below a warning threshold.
    Warning,
    /// Below a critical threshold: the server should refuse new data.
    Critical,
}

/// The numbers `statvfs` gives, in bytes and inodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct SpaceStats {
    /// Size of the filesystem.
    pub total_bytes: u64,
    /// Available to unprivileged processes.
    pub available_bytes: u64,
    /// Inodes in all (0 when the filesystem has no fixed count).
    pub total_inodes: u64,
    /// Inodes available to unprivileged processes.
    pub available_inodes: u64,
}

/// Free space of the data directory, judged.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FilesystemSpace {
    /// The path asked about.
    pub path: String,
    /// The raw numbers.
    #[serde(flatten)]
    pub stats: SpaceStats,
    /// Available bytes as a percentage of the total (`None` for a zero-sized filesystem).
    pub available_percent: Option<f64>,
    /// Available inodes as a percentage (`None` when the filesystem reports no inode count).
    pub available_inodes_percent: Option<f64>,
    /// The judgement.
    pub state: SpaceState,
    /// Whether inodes, rather than bytes only, are below a threshold.
    pub inodes_low: bool,
}

/// Reads `statvfs` for `path`.
pub fn statvfs_stats(path: &Path) -> Result<SpaceStats, HealthError> {
    let st = rustix::fs::statvfs(path).map_err(|source| HealthError::Statvfs { path: path.to_owned(), source })?;
    // f_frsize is the unit of the block counts; some filesystems leave it 0 and mean f_bsize.
    let unit = if st.f_frsize > 0 { st.f_frsize } else { st.f_bsize };
    Ok(SpaceStats {
        total_bytes: st.f_blocks.saturating_mul(unit),
        available_bytes: st.f_bavail.saturating_mul(unit),
        total_inodes: st.f_files,
        available_inodes: st.f_favail,
    })
}

/// Judges space figures against thresholds (pure).
pub fn assess_space(path: &str, stats: SpaceStats, thresholds: &SpaceThresholds) -> FilesystemSpace {
    let percent = |part: u64, whole: u64| (whole > 0).then(|| part.min(whole) as f64 * 100.0 / whole as f64);
    let available_percent = percent(stats.available_bytes, stats.total_bytes);
    let available_inodes_percent = percent(stats.available_inodes, stats.total_inodes);
    let below = |value: Option<f64>, limit: f64| value.is_some_and(|v| v < limit);
    let inodes_low = below(available_inodes_percent, thresholds.inodes_warning_percent);
    let state = if stats.available_bytes < thresholds.critical_bytes
        || below(available_percent, thresholds.critical_percent)
        || below(available_inodes_percent, thresholds.inodes_critical_percent)
    {
        SpaceState::Critical
    } else if stats.available_bytes < thresholds.warning_bytes
        || below(available_percent, thresholds.warning_percent)
        || below(available_inodes_percent, thresholds.inodes_warning_percent)
    {
        SpaceState::Warning
    } else {
        SpaceState::Ok
    };
    FilesystemSpace { path: path.to_owned(), stats, available_percent, available_inodes_percent, state, inodes_low }
}

/// `statvfs` plus [`assess_space`]: cheap enough for the server to call before accepting data.
pub fn check_space(path: &Path, thresholds: &SpaceThresholds) -> Result<FilesystemSpace, HealthError> {
    let stats = statvfs_stats(path)?;
    Ok(assess_space(&path.to_string_lossy(), stats, thresholds))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1 << 30;

    fn stats(total_gib: u64, available_gib: u64) -> SpaceStats {
        SpaceStats {
            total_bytes: total_gib * GIB,
            available_bytes: available_gib * GIB,
            total_inodes: 1_000_000,
            available_inodes: 900_000,
        }
    }

    #[test]
    fn thresholds_by_percent_and_bytes() {
        let t = SpaceThresholds::default();
        assert_eq!(assess_space("/d", stats(1000, 500), &t).state, SpaceState::Ok);
        // 9 % of 1 TB: below 10 %.
        assert_eq!(assess_space("/d", stats(1000, 90), &t).state, SpaceState::Warning);
        assert_eq!(assess_space("/d", stats(1000, 40), &t).state, SpaceState::Critical);
        // Small volume: plenty of percent, but below 20 GiB.
        assert_eq!(assess_space("/d", stats(30, 15), &t).state, SpaceState::Warning);
        assert_eq!(assess_space("/d", stats(30, 4), &t).state, SpaceState::Critical);
        let s = assess_space("/d", stats(1000, 250), &t);
        assert_eq!(s.available_percent, Some(25.0));
        assert_eq!(s.available_inodes_percent, Some(90.0));
    }

    #[test]
    fn inodes_and_degenerate_numbers() {
        let t = SpaceThresholds::default();
        let mut s = stats(1000, 500);
        s.available_inodes = 30_000;
        assert_eq!(assess_space("/d", s, &t).state, SpaceState::Critical);
        s.total_inodes = 0;
        assert_eq!(assess_space("/d", s, &t).state, SpaceState::Ok, "no inode count: not judged");
        let zero = SpaceStats::default();
        let judged = assess_space("/d", zero, &t);
        assert_eq!(judged.available_percent, None);
        assert_eq!(judged.state, SpaceState::Critical, "0 bytes available is below 5 GiB");
        let off = SpaceThresholds {
            warning_percent: 0.0,
            critical_percent: 0.0,
            warning_bytes: 0,
            critical_bytes: 0,
            inodes_warning_percent: 0.0,
            inodes_critical_percent: 0.0,
        };
        assert_eq!(assess_space("/d", zero, &off).state, SpaceState::Ok);
    }

    #[test]
    fn validation() {
        assert!(SpaceThresholds::default().validate().is_ok());
        let bad = SpaceThresholds { critical_percent: 20.0, ..SpaceThresholds::default() };
        assert!(bad.validate().is_err());
        let bad = SpaceThresholds { warning_percent: 120.0, critical_percent: 5.0, ..SpaceThresholds::default() };
        assert!(bad.validate().is_err());
        let bad = SpaceThresholds { warning_percent: f64::NAN, ..SpaceThresholds::default() };
        assert!(bad.validate().is_err());
    }

    #[test]
    fn real_statvfs() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = check_space(dir.path(), &SpaceThresholds::default()).expect("statvfs");
        assert!(s.stats.total_bytes > 0);
        assert!(s.stats.available_bytes <= s.stats.total_bytes);
        assert!(check_space(&dir.path().join("missing"), &SpaceThresholds::default()).is_err());
    }
}
