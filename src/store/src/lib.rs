//! Durable SS-MIX2 storage.
//!
//! Brief overview:
//! - [`Store`] is the storage engine. [`Store::submit`] takes one classified message and resolves
//!   only once the message is durable; the caller may then acknowledge it (HL7 AA).
//! - [`Layout`] names every path under the data directory.
//! - [`Quarantine`] keeps rejected input with the reason, durably, for inspection.
//!
//! # Durability protocol
//!
//! ```text
//!  submit ──► committer thread ──► WAL append + fdatasync ──► reply (ACK may be sent)
//!                                        │ "committed up to seq N"
//!                                        ▼
//!                     materializer thread: reads records N.. back from the WAL, writes the
//!                     SS-MIX2 file (tmp + rename), appends transaction storage, index rows
//!                                        │ about every second:
//!                                        ▼
//!                     checkpoint thread: syncfs(data filesystem) ──► index checkpoint = seq
//!                                                                 ──► old WAL segments recycled
//! ```
//!
//! 1. **Group commit.** The committer takes every submission waiting in its queue, appends them
//!    to the write-ahead log (`wal/<first-seq>.wal`; each record is length + CRC32C + sequence
//!    number + the index entry as JSON + the message bytes) and calls `fdatasync` once for the whole
//!    batch. Only then does any submission of the batch resolve. While one batch syncs, the next
//!    one gathers, so the number of fsyncs per message falls as load rises. Segments are written
//!    full of zeros once (a background thread keeps a spare ready) or are recycled checkpointed
//!    segments, so an append never changes file size or block map and `fdatasync` never waits for
//!    a filesystem journal commit.
//! 2. **Materialization.** The materializer reads committed records back from the log (normally
//!    from the page cache) and applies them in sequence order, so it can fall behind a burst by up
//!    to `max_unapplied` records without holding them in memory; past that, new submissions wait.
//!    An SS-MIX2 file is written to `tmp/` and renamed into place, so no file is ever visible
//!    half-written. Versions follow the condition-flag rules: INS renames the key's `_1` to `_2`
//!    and creates the new `_1`; DEL renames every version to `_0` and stores the cancel message as
//!    `_0`.
//! 3. **Checkpoint.** `syncfs` makes every file, rename and transaction-storage append durable, and
//!    only then is the checkpoint (last applied sequence number, transaction-storage file lengths)
//!    committed to the index. WAL segments wholly at or below the checkpoint are recycled or
//!    deleted.
//! 4. **Recovery** (on [`Store::open`]): the WAL is scanned; a torn record at the tail of the last
//!    segment (a write that was never acknowledged) is zeroed; records of an older segment left in
//!    a recycled one are recognised by their sequence numbers; transaction-storage files are cut
//!    back to their checkpointed lengths; every record after the checkpoint is applied again.
//!    Application is state-based (it looks at what is on disk and forces each record's own file to
//!    its flag, rewriting it when its bytes differ), so applying a record twice, or a sequence
//!    again from any earlier point, converges to the same tree and index.
//!
//! Crash at any point therefore loses no acknowledged message (it is in the WAL) and shows no torn
//! file (files appear only by rename; after a power loss the replay rewrites any file whose bytes
//! differ from the WAL).
//!
//! Architecture invariant: this is the only crate that creates, renames or deletes files under the
//! data directory (the index database file is opened through `hakobune-index`). It knows nothing
//! about HL7 parsing, MLLP or HTTP: it stores what it is told to store, where it is told.

#![deny(missing_docs)]

mod engine;
mod layout;
mod quarantine;
mod tree;
mod txstore;
mod wal;

pub use engine::{Outcome, RecoveryReport, Status, Store, StoreOptions, Submission};
pub use layout::Layout;
pub use quarantine::{Quarantine, QuarantineReason};
pub use tree::{ListedFile, list_storage_files};
pub use wal::WalError;

/// Errors of the storage engine.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A filesystem operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// On which path.
        path: std::path::PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The write-ahead log is damaged somewhere other than its tail.
    #[error(transparent)]
    Wal(#[from] WalError),
    /// The index database failed.
    #[error(transparent)]
    Index(#[from] hakobune_index::IndexError),
    /// Another process holds the data directory.
    #[error("data directory {0} is in use by another hakobune process")]
    Locked(std::path::PathBuf),
    /// The engine has stopped (shutdown or a fatal error); nothing more is accepted.
    #[error("storage engine is not running")]
    Stopped,
    /// The data filesystem is below its free-space floor.
    #[error("data filesystem has {free} bytes free, below the floor of {floor} bytes")]
    DiskFull {
        /// Free bytes.
        free: u64,
        /// Configured floor.
        floor: u64,
    },
}

impl StoreError {
    pub(crate) fn io(
        op: &'static str,
        path: impl Into<std::path::PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> StoreError {
        let path = path.into();
        move |source| StoreError::Io { op, path, source }
    }
}

/// Hex SHA-256 of bytes, as the index stores it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in digest {
        use std::fmt::Write;
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Makes a directory entry durable: fsync of the directory itself.
pub(crate) fn fsync_dir(path: &std::path::Path) -> Result<(), StoreError> {
    std::fs::File::open(path).and_then(|f| f.sync_all()).map_err(StoreError::io("fsync directory", path))
}

#[cfg(test)]
mod tests;
