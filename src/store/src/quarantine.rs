//! Rejected input, kept for inspection: `quarantine/<YYYYMMDD>/<ts17>-<n>.hl7` with the bytes as
//! received and `<ts17>-<n>.json` with the reason. Both are durable before the sender hears of
//! the rejection.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::StoreError;

/// Why input was quarantined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantineReason {
    /// When it was received (RFC 3339, local offset).
    pub received_at: String,
    /// The peer address (and TLS identity, when there is one).
    pub peer: String,
    /// The facility, when it could be identified.
    pub facility_id: Option<String>,
    /// MSH-10, when it could be read.
    pub control_id: Option<String>,
    /// The acknowledgement code sent (AE or AR), or `none` when no ACK could be sent.
    pub ack_code: String,
    /// Machine-readable reason, e.g. `encoding`, `unknown-facility`, `classification`.
    pub kind: String,
    /// Human-readable explanation.
    pub detail: String,
}

/// The quarantine folder.
pub struct Quarantine {
    dir: PathBuf,
    tmp: PathBuf,
    counter: AtomicU64,
}

impl Quarantine {
    /// The quarantine under `dir`, with scratch space in `tmp` (same filesystem).
    pub fn new(dir: PathBuf, tmp: PathBuf) -> Quarantine {
        Quarantine { dir, tmp, counter: AtomicU64::new(0) }
    }

    /// Keeps `raw` with its reason, durably. Returns the path of the kept bytes.
    pub fn keep(&self, raw: &[u8], reason: &QuarantineReason) -> Result<PathBuf, StoreError> {
        let digits: String = reason.received_at.chars().take(23).filter(|c| c.is_ascii_digit()).collect();
        let day = digits.get(..8).unwrap_or("00000000");
        let dir = self.dir.join(day);
        std::fs::create_dir_all(&dir).map_err(StoreError::io("create directory", &dir))?;
        let json = serde_json::to_vec_pretty(reason).expect("reason serializes");
        loop {
            let n = self.counter.fetch_add(1, Ordering::Relaxed);
            let base = format!("{digits}-{n}");
            let data_path = dir.join(format!("{base}.hl7"));
            if data_path.exists() {
                continue;
            }
            write_durable(&self.tmp, &dir, &format!("{base}.json"), &json)?;
            write_durable(&self.tmp, &dir, &format!("{base}.hl7"), raw)?;
            crate::fsync_dir(&dir)?;
            return Ok(data_path);
        }
    }

    /// The quarantined items, newest first: (bytes path, reason).
    pub fn list(&self, limit: usize) -> Result<Vec<(PathBuf, QuarantineReason)>, StoreError> {
        let mut out = Vec::new();
        let mut days: Vec<_> = match std::fs::read_dir(&self.dir) {
            Ok(rd) => rd.flatten().map(|e| e.path()).collect(),
            Err(_) => return Ok(out),
        };
        days.sort();
        for day in days.iter().rev() {
            let mut files: Vec<_> = std::fs::read_dir(day)
                .map_err(StoreError::io("read directory", day))?
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            files.sort();
            for json in files.iter().rev() {
                if out.len() >= limit {
                    return Ok(out);
                }
                let Ok(bytes) = std::fs::read(json) else {
                    continue;
                };
                let Ok(reason) = serde_json::from_slice::<QuarantineReason>(&bytes) else {
                    continue;
                };
                out.push((json.with_extension("hl7"), reason));
            }
        }
        Ok(out)
    }
}

fn write_durable(tmp_dir: &Path, dir: &Path, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
    std::fs::create_dir_all(tmp_dir).map_err(StoreError::io("create directory", tmp_dir))?;
    let tmp = tmp_dir.join(format!("q-{name}"));
    let mut f = std::fs::File::create(&tmp).map_err(StoreError::io("create", &tmp))?;
    f.write_all(bytes).map_err(StoreError::io("write", &tmp))?;
    f.sync_all().map_err(StoreError::io("fsync", &tmp))?;
    let dest = dir.join(name);
    std::fs::rename(&tmp, &dest).map_err(StoreError::io("rename into place", &dest))
}
