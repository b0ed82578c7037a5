//! The write-ahead log: numbered segments of checksummed records.
//!
//! Record layout (little endian):
//!
//! ```text
//! magic  u32  "HKW1"
//! len    u32  length of body
//! crc    u32  CRC32C of body
//! body:  seq u64 | meta_len u32 | meta (JSON of hakobune_index::Entry) | message bytes
//! ```

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use hakobune_index::Entry;

use crate::StoreError;

const MAGIC: u32 = u32::from_le_bytes(*b"HKW1");
const HEADER: usize = 12;
/// A record body larger than this is corruption, not data (messages are limited far below).
const MAX_BODY: u32 = 256 * 1024 * 1024;

/// Damage in the write-ahead log that recovery cannot repair by itself.
#[derive(Debug, thiserror::Error)]
pub enum WalError {
    /// A record in a segment that is not the last one is damaged: acknowledged data may be lost.
    #[error("write-ahead log segment {path} is damaged at byte {offset} (not its tail): {what}")]
    Corrupt {
        /// The segment.
        path: PathBuf,
        /// Where.
        offset: u64,
        /// What is wrong.
        what: String,
    },
    /// Sequence numbers do not follow each other.
    #[error("write-ahead log sequence jumps from {prev} to {next} in {path}")]
    Gap {
        /// The segment.
        path: PathBuf,
        /// Last good sequence number.
        prev: u64,
        /// The next one found.
        next: u64,
    },
}

/// One committed message.
#[derive(Debug, Clone)]
pub struct Record {
    /// Sequence number, from 1, without gaps.
    pub seq: u64,
    /// Where and how to store it.
    pub entry: Entry,
    /// The message bytes as received.
    pub raw: Vec<u8>,
}

/// Appends one record to `buf`.
pub fn encode(buf: &mut Vec<u8>, seq: u64, entry: &Entry, raw: &[u8]) {
    let meta = serde_json::to_vec(entry).expect("Entry serializes");
    let body_len = 8 + 4 + meta.len() + raw.len();
    let start = buf.len();
    buf.extend_from_slice(&MAGIC.to_le_bytes());
    buf.extend_from_slice(&(body_len as u32).to_le_bytes());
    buf.extend_from_slice(&[0; 4]);
    let body_start = buf.len();
    buf.extend_from_slice(&seq.to_le_bytes());
    buf.extend_from_slice(&(meta.len() as u32).to_le_bytes());
    buf.extend_from_slice(&meta);
    buf.extend_from_slice(raw);
    let crc = crc32c::crc32c(&buf[body_start..]);
    buf[start + 8..start + 12].copy_from_slice(&crc.to_le_bytes());
}

/// Result of decoding at an offset.
enum Decoded {
    Record(Box<Record>, usize),
    /// Clean end of data.
    End,
    /// Damaged or incomplete record.
    Bad(String),
}

fn decode(data: &[u8]) -> Decoded {
    if data.is_empty() {
        return Decoded::End;
    }
    if data.len() < HEADER {
        return Decoded::Bad("incomplete record header".into());
    }
    let word = |i: usize| u32::from_le_bytes(data[i..i + 4].try_into().expect("4 bytes"));
    if word(0) != MAGIC {
        return Decoded::Bad("bad magic".into());
    }
    let len = word(4);
    if len > MAX_BODY || (len as usize) < 12 {
        return Decoded::Bad(format!("implausible record length {len}"));
    }
    let len = len as usize;
    if data.len() < HEADER + len {
        return Decoded::Bad("incomplete record body".into());
    }
    let body = &data[HEADER..HEADER + len];
    if crc32c::crc32c(body) != word(8) {
        return Decoded::Bad("checksum mismatch".into());
    }
    let seq = u64::from_le_bytes(body[0..8].try_into().expect("8 bytes"));
    let meta_len = u32::from_le_bytes(body[8..12].try_into().expect("4 bytes")) as usize;
    if 12 + meta_len > body.len() {
        return Decoded::Bad("metadata length beyond record".into());
    }
    let entry: Entry = match serde_json::from_slice(&body[12..12 + meta_len]) {
        Ok(e) => e,
        Err(e) => return Decoded::Bad(format!("metadata: {e}")),
    };
    let raw = body[12 + meta_len..].to_vec();
    Decoded::Record(Box::new(Record { seq, entry, raw }), HEADER + len)
}

fn segment_name(first_seq: u64) -> String {
    format!("{first_seq:020}.wal")
}

/// Segments in the WAL directory, by first sequence number.
pub fn segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>, StoreError> {
    let mut out = Vec::new();
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(StoreError::io("read directory", dir)(e)),
    };
    for ent in rd {
        let ent = ent.map_err(StoreError::io("read directory", dir))?;
        let name = ent.file_name();
        let name = name.to_string_lossy();
        if let Some(num) = name.strip_suffix(".wal")
            && let Ok(n) = num.parse::<u64>()
        {
            out.push((n, ent.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// What a scan of the log found.
pub struct Scan {
    /// Records with seq > `after`, in order.
    pub records: Vec<Record>,
    /// Highest sequence number in the log (0 when empty).
    pub last_seq: u64,
    /// Bytes cut from the tail of the last segment (an unacknowledged, torn write).
    pub truncated_bytes: u64,
}

/// Reads every segment, cuts a torn tail off the last one, and returns the records after `after`.
pub fn scan(dir: &Path, after: u64) -> Result<Scan, StoreError> {
    let segs = segments(dir)?;
    let mut records = Vec::new();
    let mut last_seq = 0u64;
    let mut truncated_bytes = 0;
    for (i, (first, path)) in segs.iter().enumerate() {
        let is_last = i + 1 == segs.len();
        let mut data = Vec::new();
        File::open(path).and_then(|mut f| f.read_to_end(&mut data)).map_err(StoreError::io("read", path))?;
        let mut off = 0usize;
        let mut expected = *first;
        loop {
            match decode(&data[off..]) {
                Decoded::End => break,
                Decoded::Record(rec, used) => {
                    if rec.seq != expected {
                        return Err(WalError::Gap {
                            path: path.clone(),
                            prev: expected.saturating_sub(1),
                            next: rec.seq,
                        }
                        .into());
                    }
                    expected += 1;
                    last_seq = rec.seq;
                    if rec.seq > after {
                        records.push(*rec);
                    }
                    off += used;
                }
                Decoded::Bad(what) => {
                    if !is_last {
                        return Err(WalError::Corrupt { path: path.clone(), offset: off as u64, what }.into());
                    }
                    truncated_bytes = (data.len() - off) as u64;
                    tracing::warn!(segment = %path.display(), offset = off, bytes = truncated_bytes, %what,
                        "cutting a torn, never-acknowledged write from the tail of the write-ahead log");
                    let f = OpenOptions::new().write(true).open(path).map_err(StoreError::io("open", path))?;
                    f.set_len(off as u64).map_err(StoreError::io("truncate", path))?;
                    f.sync_all().map_err(StoreError::io("fsync", path))?;
                    break;
                }
            }
        }
    }
    Ok(Scan { records, last_seq, truncated_bytes })
}

/// The appending side of the log (owned by the committer thread).
pub struct Writer {
    dir: PathBuf,
    file: File,
    size: u64,
    segment_limit: u64,
}

impl Writer {
    /// Opens the last segment for appending, or starts segment `next_seq`.
    pub fn open(dir: &Path, next_seq: u64, segment_limit: u64) -> Result<Writer, StoreError> {
        std::fs::create_dir_all(dir).map_err(StoreError::io("create directory", dir))?;
        let segs = segments(dir)?;
        match segs.last() {
            Some((_, path)) => {
                let file = OpenOptions::new().append(true).open(path).map_err(StoreError::io("open", path))?;
                let size = file.metadata().map_err(StoreError::io("stat", path))?.len();
                Ok(Writer { dir: dir.to_owned(), file, size, segment_limit })
            }
            None => Writer::create(dir, next_seq, segment_limit),
        }
    }

    fn create(dir: &Path, first_seq: u64, segment_limit: u64) -> Result<Writer, StoreError> {
        let path = dir.join(segment_name(first_seq));
        let file =
            OpenOptions::new().create_new(true).append(true).open(&path).map_err(StoreError::io("create", &path))?;
        crate::fsync_dir(dir)?;
        Ok(Writer { dir: dir.to_owned(), file, size: 0, segment_limit })
    }

    /// Appends a batch that begins with record `first_seq` and makes it durable.
    pub fn append_durable(&mut self, first_seq: u64, bytes: &[u8]) -> Result<(), StoreError> {
        if self.size > 0 && self.size + bytes.len() as u64 > self.segment_limit {
            *self = Writer::create(&self.dir, first_seq, self.segment_limit)?;
        }
        let dir = &self.dir;
        self.file.write_all(bytes).map_err(StoreError::io("append to write-ahead log in", dir))?;
        self.file.sync_data().map_err(StoreError::io("fdatasync write-ahead log in", dir))?;
        self.size += bytes.len() as u64;
        Ok(())
    }
}

/// Deletes segments whose records are all at or below `checkpoint` (never the last segment).
pub fn remove_checkpointed(dir: &Path, checkpoint: u64) -> Result<usize, StoreError> {
    let segs = segments(dir)?;
    let mut removed = 0;
    for pair in segs.windows(2) {
        let (_, path) = &pair[0];
        let (next_first, _) = pair[1];
        if next_first.saturating_sub(1) <= checkpoint {
            std::fs::remove_file(path).map_err(StoreError::io("remove", path))?;
            removed += 1;
        }
    }
    if removed > 0 {
        crate::fsync_dir(dir)?;
    }
    Ok(removed)
}
