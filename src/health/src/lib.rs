//! RAID and disk health of the appliance.
//!
//! The appliance keeps its clinical data on an md RAID1 of two disks, and a failing disk is an
//! expected fault. This crate reads the health sources and interprets them; the server exposes the
//! result (`GET /api/v1/appliance/status`, Prometheus metrics), raises the alarms and refuses new
//! data below the free-space floor.
//!
//! Brief overview:
//! - Parsers, pure functions over text: [`parse_mdstat`] (`/proc/mdstat` → [`Mdstat`]),
//!   [`parse_mdadm_detail`] (`mdadm --detail` → [`MdadmDetail`]), [`parse_smartctl_json`]
//!   (`smartctl -j` → [`SmartReport`]); free space via `statvfs` in [`check_space`].
//! - Judgements, pure: [`assess_array`] → [`ArrayState`] (`Healthy`, `Degraded`,
//!   `Rebuilding { progress_percent, eta }`, `Failed`, `Inactive`), [`assess_disk`] →
//!   [`DiskState`] (`Ok`, `Warning(reasons)`, `Failing(reasons)`, `Unknown`), [`assess_space`] →
//!   [`SpaceState`].
//! - [`HealthReport`] (serializable) gathers arrays, disks and filesystem space with the
//!   [`Alarm`]s that [`derive_alarms`] derives from them (English and Japanese messages, stable ids).
//! - [`collect`] reads everything a [`HealthSources`] names (the `[health]` table of the server's
//!   configuration; every path and command is configurable) and returns the report.
//!
//! Architecture invariant: [`collect`] never fails as a whole and the parsers never panic on any
//! input. A missing `/proc/mdstat` means "no md RAID present", a missing command is reported as
//! unavailable, a hung command is killed after its timeout; each is a [`SourceStatus`] in the
//! report, never an error. Everything but [`collect`] and [`check_space`] is free of I/O.

#![deny(missing_docs)]

mod alarm;
mod collect;
mod error;
mod mdadm;
mod mdstat;
mod model;
mod smart;
mod space;

pub use alarm::{Alarm, Severity, derive_alarms};
pub use collect::{HealthSources, Thresholds, collect, discover_disks};
pub use error::HealthError;
pub use mdadm::{DetailDevice, DetailState, DetailSync, DeviceRole, MdadmDetail, parse_mdadm_detail};
pub use mdstat::{
    ArrayAccess, MdArray, MdMember, Mdstat, Raid10Layout, SyncAction, SyncProgress, SyncStatus, parent_disk,
    parse_mdstat,
};
pub use model::{
    ArrayHealth, ArrayState, DiskHealth, DiskReason, DiskState, HealthReport, OverallStatus, SourceStatus, assess_array,
};
pub use smart::{
    ATA_ATTRIBUTES_OF_INTEREST, AtaAttribute, AtaHealth, DiskThresholds, NvmeHealth, SmartReport, SmartctlExit,
    assess_disk, parse_smartctl_json,
};
pub use space::{FilesystemSpace, SpaceState, SpaceStats, SpaceThresholds, assess_space, check_space, statvfs_stats};
