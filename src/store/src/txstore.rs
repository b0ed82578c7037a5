//! SS-MIX2 transaction storage: `transactions/<facility>/<year>/TR_<ts17>_<nnnnn>.DAT`, each a
//! sequence of `#SSMIX,...` header lines, each followed by the message as received.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use hakobune_index::Entry;
use serde::{Deserialize, Serialize};

use crate::{Layout, StoreError};

/// A file switches when the day changes or it would grow past this.
const FILE_LIMIT: u64 = 64 * 1024 * 1024;

/// Checkpointed state of one facility's current transaction file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct FileState {
    /// `<year>/TR_<ts17>_<nnnnn>.DAT`, relative to the facility's transaction root.
    file: String,
    /// Length at the checkpoint.
    len: u64,
    /// The `nnnnn` of this file.
    counter: u32,
    /// YYYYMMDD the file belongs to.
    day: String,
}

/// The `#SSMIX` header line of a record (guideline: transaction storage header).
pub fn header_line(e: &Entry) -> String {
    hakobune_ssmix2::HeaderFields {
        version: hakobune_ssmix2::HEADER_VERSION,
        facility_id: &e.facility_id,
        patient_id: &e.patient_id,
        care_date: &e.order_date,
        data_type: &e.data_kind,
        order_number: &e.order_no,
        processing: e.processing.as_str(),
        department: &e.enter_org_cd,
        transaction_time: &e.transaction_datetime,
    }
    .line()
}

/// ts17 (YYYYMMDDHHMMSSfff) of an RFC 3339 local timestamp such as `2026-11-25T20:41:03.123+09:00`.
fn ts17(received_at: &str) -> String {
    let digits: String = received_at.chars().take(23).filter(|c| c.is_ascii_digit()).collect();
    let mut s: String = digits.chars().take(17).collect();
    while s.len() < 17 {
        s.push('0');
    }
    s
}

/// Appends records to the transaction storage (owned by the materializer thread).
pub(crate) struct TxStorage {
    layout: Layout,
    state: BTreeMap<String, FileState>,
    open: BTreeMap<String, BufWriter<File>>,
}

impl TxStorage {
    /// Restores the checkpointed state, cutting every file back to it and removing files that were
    /// started after the checkpoint (the replay writes them again).
    pub(crate) fn recover(layout: &Layout, saved: &str) -> Result<TxStorage, StoreError> {
        let state: BTreeMap<String, FileState> =
            if saved.trim().is_empty() { BTreeMap::new() } else { serde_json::from_str(saved).unwrap_or_default() };
        let base = layout.root().join("transactions");
        if let Ok(rd) = std::fs::read_dir(&base) {
            for fac in rd.flatten() {
                let facility = fac.file_name().to_string_lossy().into_owned();
                let keep = state.get(&facility);
                for (rel, path) in tr_files(&fac.path())? {
                    match keep {
                        Some(s) if rel < s.file => {}
                        Some(s) if rel == s.file => {
                            let f =
                                OpenOptions::new().write(true).open(&path).map_err(StoreError::io("open", &path))?;
                            let len = f.metadata().map_err(StoreError::io("stat", &path))?.len();
                            if len > s.len {
                                f.set_len(s.len).map_err(StoreError::io("truncate", &path))?;
                            }
                        }
                        _ => {
                            std::fs::remove_file(&path).map_err(StoreError::io("remove", &path))?;
                        }
                    }
                }
            }
        }
        Ok(TxStorage { layout: layout.clone(), state, open: BTreeMap::new() })
    }

    /// Appends one record.
    pub(crate) fn append(&mut self, e: &Entry, raw: &[u8]) -> Result<(), StoreError> {
        let ts = ts17(&e.received_at);
        let day = ts[..8].to_string();
        let header = header_line(e);
        let add = (header.len() + 1 + raw.len() + 1) as u64;
        let root = self.layout.transactions_root(&e.facility_id);
        let switch = match self.state.get(&e.facility_id) {
            None => true,
            Some(s) => s.day != day || s.len + add > FILE_LIMIT,
        };
        if switch {
            if let Some(mut w) = self.open.remove(&e.facility_id) {
                w.flush().map_err(StoreError::io("write", &root))?;
            }
            let counter = self.state.get(&e.facility_id).map(|s| (s.counter + 1) % 100_000).unwrap_or(1);
            let file = format!("{}/TR_{}_{:05}.DAT", &ts[..4], ts, counter);
            self.state.insert(e.facility_id.clone(), FileState { file, len: 0, counter, day });
        }
        let st = self.state.get_mut(&e.facility_id).expect("state inserted above");
        let w = match self.open.entry(e.facility_id.clone()) {
            std::collections::btree_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::btree_map::Entry::Vacant(v) => {
                let path = root.join(&st.file);
                let parent = path.parent().expect("file has a parent");
                std::fs::create_dir_all(parent).map_err(StoreError::io("create directory", parent))?;
                let f =
                    OpenOptions::new().create(true).append(true).open(&path).map_err(StoreError::io("open", &path))?;
                let len = f.metadata().map_err(StoreError::io("stat", &path))?.len();
                if len != st.len {
                    f.set_len(st.len).map_err(StoreError::io("truncate", &path))?;
                }
                v.insert(BufWriter::with_capacity(256 * 1024, f))
            }
        };
        let io = |e| StoreError::Io { op: "append to transaction storage", path: root.clone(), source: e };
        w.write_all(header.as_bytes()).map_err(io)?;
        w.write_all(b"\r").map_err(io)?;
        w.write_all(raw).map_err(io)?;
        let mut written = add - 1;
        if !raw.ends_with(b"\r") {
            w.write_all(b"\r").map_err(io)?;
            written += 1;
        }
        st.len += written;
        Ok(())
    }

    /// Flushes buffers to the OS (durability comes from the checkpoint's syncfs).
    pub(crate) fn flush(&mut self) -> Result<(), StoreError> {
        for w in self.open.values_mut() {
            w.flush().map_err(StoreError::io("flush transaction storage", self.layout.root()))?;
        }
        Ok(())
    }

    /// The state to save with a checkpoint (call after [`TxStorage::flush`]).
    pub(crate) fn checkpoint_state(&self) -> String {
        serde_json::to_string(&self.state).expect("state serializes")
    }
}

/// Transaction files under a facility root, as (`<year>/<name>`, path), sorted.
fn tr_files(facility_root: &Path) -> Result<Vec<(String, PathBuf)>, StoreError> {
    let mut out = Vec::new();
    let Ok(years) = std::fs::read_dir(facility_root) else {
        return Ok(out);
    };
    for y in years.flatten() {
        let year = y.file_name().to_string_lossy().into_owned();
        let Ok(files) = std::fs::read_dir(y.path()) else {
            continue;
        };
        for f in files.flatten() {
            let name = f.file_name().to_string_lossy().into_owned();
            if name.starts_with("TR_") && name.ends_with(".DAT") {
                out.push((format!("{year}/{name}"), f.path()));
            }
        }
    }
    out.sort();
    Ok(out)
}
