//! Where everything lives under the data directory.

use std::path::{Path, PathBuf};

/// The data directory's layout.
///
/// ```text
/// <data>/ssmix2/<facility-id>/...      standardized storage root of each sending facility
/// <data>/transactions/<facility-id>/<year>/TR_<ts17>_<nnnnn>.DAT   transaction storage
/// <data>/wal/<first-seq>.wal           write-ahead log segments
/// <data>/tmp/                          files being written (emptied at start)
/// <data>/quarantine/<YYYYMMDD>/        rejected input, each with a .json reason
/// <data>/index.sqlite                  SSMIXIDX index and recovery checkpoint
/// <data>/audit.sqlite                  access audit trail
/// <data>/hakobune.lock                 held while a server runs
/// ```
#[derive(Debug, Clone)]
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    /// A layout rooted at the data directory.
    pub fn new(root: impl Into<PathBuf>) -> Layout {
        Layout { root: root.into() }
    }

    /// The data directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Standardized storage root of a facility.
    pub fn ssmix2_root(&self, facility_id: &str) -> PathBuf {
        self.root.join("ssmix2").join(facility_id)
    }

    /// Parent of all facilities' standardized storage roots.
    pub fn ssmix2_base(&self) -> PathBuf {
        self.root.join("ssmix2")
    }

    /// Transaction storage root of a facility.
    pub fn transactions_root(&self, facility_id: &str) -> PathBuf {
        self.root.join("transactions").join(facility_id)
    }

    /// Write-ahead log directory.
    pub fn wal_dir(&self) -> PathBuf {
        self.root.join("wal")
    }

    /// Scratch directory for files being written.
    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// Quarantine directory.
    pub fn quarantine_dir(&self) -> PathBuf {
        self.root.join("quarantine")
    }

    /// The index database file.
    pub fn index_path(&self) -> PathBuf {
        self.root.join("index.sqlite")
    }

    /// The audit database file.
    pub fn audit_path(&self) -> PathBuf {
        self.root.join("audit.sqlite")
    }

    /// The lock file.
    pub fn lock_path(&self) -> PathBuf {
        self.root.join("hakobune.lock")
    }
}
