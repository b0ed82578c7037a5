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
use std::io::Read;
use std::os::unix::fs::FileExt;
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
    // Segments are preallocated with zeros: a zero header is where the written log ends.
    if data.is_empty() || data[..data.len().min(HEADER)].iter().all(|&b| b == 0) {
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
    /// Where the written part of the last segment ends (the next append goes there).
    pub tail_end: u64,
}

/// Reads every segment, cuts a torn tail off the last one, and returns the records after `after`.
pub fn scan(dir: &Path, after: u64) -> Result<Scan, StoreError> {
    let segs = segments(dir)?;
    let mut records = Vec::new();
    let mut last_seq = 0u64;
    let mut truncated_bytes = 0;
    let mut tail_end = 0;
    for (i, (first, path)) in segs.iter().enumerate() {
        let is_last = i + 1 == segs.len();
        let mut data = Vec::new();
        File::open(path).and_then(|mut f| f.read_to_end(&mut data)).map_err(StoreError::io("read", path))?;
        let mut off = 0usize;
        let mut expected = *first;
        loop {
            match decode(&data[off..]) {
                Decoded::End => {
                    tail_end = off as u64;
                    break;
                }
                Decoded::Record(rec, used) => {
                    if rec.seq != expected && is_last {
                        // A recycled segment: what follows the newest record is an older segment's
                        // content, whose sequence numbers cannot continue this one's.
                        tail_end = off as u64;
                        break;
                    }
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
                    // Zero the rest of the segment (keeping its preallocated length), so that the
                    // next append starts from a clean tail.
                    let garbage_end = data.len() - data.iter().rev().take_while(|&&b| b == 0).count();
                    truncated_bytes = garbage_end.saturating_sub(off) as u64;
                    tracing::warn!(segment = %path.display(), offset = off, bytes = truncated_bytes, %what,
                        "cutting a torn, never-acknowledged write from the tail of the write-ahead log");
                    let f = OpenOptions::new().write(true).open(path).map_err(StoreError::io("open", path))?;
                    f.write_all_at(&vec![0u8; data.len() - off], off as u64).map_err(StoreError::io("zero", path))?;
                    f.sync_all().map_err(StoreError::io("fsync", path))?;
                    tail_end = off as u64;
                    break;
                }
            }
        }
    }
    Ok(Scan { records, last_seq, truncated_bytes, tail_end })
}

/// The appending side of the log (owned by the committer thread).
///
/// Segments are created at their full size, filled with zeros and fsync'd once. Appends then
/// overwrite zeros in place: neither the file size nor its block map changes, so `fdatasync` only
/// has to write the new data blocks and never waits for a filesystem journal commit (which, under
/// heavy file creation by the materializer, would make every group commit slow).
pub struct Writer {
    dir: PathBuf,
    file: File,
    pos: u64,
    segment_limit: u64,
    /// A background thread keeps one zero-filled segment ready, so that rotating does not stall
    /// the group commit for the time it takes to write a whole segment of zeros.
    spare: Option<std::sync::mpsc::Receiver<std::io::Result<PathBuf>>>,
}

const SPARE: &str = "spare.wal.new";
/// A checkpointed segment kept for reuse: already allocated and written, so appending over it
/// changes no file metadata either. Its old records are recognised by their sequence numbers.
const RECYCLED: &str = "recycled.wal.old";

fn preallocate(path: &Path, size: u64) -> std::io::Result<File> {
    let file = OpenOptions::new().create(true).truncate(true).write(true).open(path)?;
    let zeros = vec![0u8; 1 << 20];
    let mut left = size;
    let mut off = 0;
    while left > 0 {
        let n = left.min(zeros.len() as u64) as usize;
        file.write_all_at(&zeros[..n], off)?;
        left -= n as u64;
        off += n as u64;
    }
    file.sync_all()?;
    Ok(file)
}

impl Writer {
    /// Continues the last segment at `tail_end` (from [`scan`]), or starts segment `next_seq`.
    pub fn open(dir: &Path, next_seq: u64, segment_limit: u64, tail_end: u64) -> Result<Writer, StoreError> {
        std::fs::create_dir_all(dir).map_err(StoreError::io("create directory", dir))?;
        let segs = segments(dir)?;
        let mut w = match segs.last() {
            Some((_, path)) => {
                let file = OpenOptions::new().write(true).open(path).map_err(StoreError::io("open", path))?;
                Writer { dir: dir.to_owned(), file, pos: tail_end, segment_limit, spare: None }
            }
            None => {
                let path = dir.join(segment_name(next_seq));
                let tmp = dir.join(format!("{}.new", segment_name(next_seq)));
                let file = preallocate(&tmp, segment_limit).map_err(StoreError::io("preallocate", &tmp))?;
                std::fs::rename(&tmp, &path).map_err(StoreError::io("rename", &tmp))?;
                crate::fsync_dir(dir)?;
                Writer { dir: dir.to_owned(), file, pos: 0, segment_limit, spare: None }
            }
        };
        w.prepare_spare();
        Ok(w)
    }

    fn prepare_spare(&mut self) {
        let (tx, rx) = std::sync::mpsc::channel();
        let path = self.dir.join(SPARE);
        let size = self.segment_limit;
        let spawned = std::thread::Builder::new().name("hkb-wal-spare".into()).spawn(move || {
            let _ = tx.send(preallocate(&path, size).map(|_| path));
        });
        self.spare = spawned.ok().map(|_| rx);
    }

    /// Starts segment `first_seq`: the spare when it is ready, else a new one made now.
    fn rotate(&mut self, first_seq: u64) -> Result<(), StoreError> {
        let path = self.dir.join(segment_name(first_seq));
        let recycled = self.dir.join(RECYCLED);
        if std::fs::rename(&recycled, &path).is_ok() {
            crate::fsync_dir(&self.dir)?;
            self.file = OpenOptions::new().write(true).open(&path).map_err(StoreError::io("open", &path))?;
            self.pos = 0;
            return Ok(());
        }
        let spare = self.spare.take().and_then(|rx| rx.recv().ok()).and_then(|r| r.ok());
        match spare {
            Some(ready) => std::fs::rename(&ready, &path).map_err(StoreError::io("rename", &ready))?,
            None => {
                let tmp = self.dir.join(format!("{}.new", segment_name(first_seq)));
                preallocate(&tmp, self.segment_limit).map_err(StoreError::io("preallocate", &tmp))?;
                std::fs::rename(&tmp, &path).map_err(StoreError::io("rename", &tmp))?;
            }
        }
        crate::fsync_dir(&self.dir)?;
        self.file = OpenOptions::new().write(true).open(&path).map_err(StoreError::io("open", &path))?;
        self.pos = 0;
        self.prepare_spare();
        Ok(())
    }

    /// Appends a batch that begins with record `first_seq` and makes it durable.
    pub fn append_durable(&mut self, first_seq: u64, bytes: &[u8]) -> Result<(), StoreError> {
        if self.pos > 0 && self.pos + bytes.len() as u64 > self.segment_limit {
            self.rotate(first_seq)?;
        }
        let dir = &self.dir;
        self.file.write_all_at(bytes, self.pos).map_err(StoreError::io("append to write-ahead log in", dir))?;
        self.file.sync_data().map_err(StoreError::io("fdatasync write-ahead log in", dir))?;
        self.pos += bytes.len() as u64;
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
            let recycled = dir.join(RECYCLED);
            if !recycled.exists() {
                std::fs::rename(path, &recycled).map_err(StoreError::io("recycle", path))?;
            } else {
                std::fs::remove_file(path).map_err(StoreError::io("remove", path))?;
            }
            removed += 1;
        }
    }
    if removed > 0 {
        crate::fsync_dir(dir)?;
    }
    Ok(removed)
}

/// Removes segments whose preallocation never finished (`*.wal.new`, left by a crash).
pub fn remove_unfinished_segments(dir: &Path) -> Result<(), StoreError> {
    for ent in std::fs::read_dir(dir).map_err(StoreError::io("read directory", dir))?.flatten() {
        if ent.file_name().to_string_lossy().ends_with(".wal.new") {
            let p = ent.path();
            std::fs::remove_file(&p).map_err(StoreError::io("remove", &p))?;
        }
    }
    Ok(())
}

/// Reads committed records back from the log, in order (owned by the materializer thread).
///
/// The materializer applies what the committer has made durable by reading it from the log (from
/// the page cache, normally) rather than from memory, so it may fall behind a burst by many
/// records without the server holding them all in memory.
pub struct Reader {
    dir: PathBuf,
    file: Option<File>,
    offset: u64,
    next_seq: u64,
}

impl Reader {
    /// A reader whose next record is `next_seq`.
    pub fn new(dir: &Path, next_seq: u64) -> Reader {
        Reader { dir: dir.to_owned(), file: None, offset: 0, next_seq }
    }

    /// The sequence number of the next record to read.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Opens the segment holding `next_seq` and positions at that record.
    fn locate(&mut self) -> Result<(), StoreError> {
        let segs = segments(&self.dir)?;
        let Some((_, path)) = segs.iter().rev().find(|(first, _)| *first <= self.next_seq) else {
            return Err(WalError::Corrupt {
                path: self.dir.clone(),
                offset: 0,
                what: format!("no segment holds record {}", self.next_seq),
            }
            .into());
        };
        let file = File::open(path).map_err(StoreError::io("open", path))?;
        let mut offset = 0u64;
        loop {
            match read_record(&file, offset)? {
                Some((rec, used)) if rec.seq < self.next_seq => offset += used as u64,
                _ => break,
            }
        }
        self.file = Some(file);
        self.offset = offset;
        Ok(())
    }

    /// Reads records up to and including `last` (which must be committed), at most `max` of them.
    pub fn read_up_to(&mut self, last: u64, max: usize) -> Result<Vec<Record>, StoreError> {
        let mut out = Vec::new();
        let mut relocated = false;
        while self.next_seq <= last && out.len() < max {
            if self.file.is_none() {
                self.locate()?;
            }
            let file = self.file.as_ref().expect("located above");
            match read_record(file, self.offset)? {
                Some((rec, used)) if rec.seq == self.next_seq => {
                    self.offset += used as u64;
                    self.next_seq += 1;
                    relocated = false;
                    out.push(rec);
                }
                _ => {
                    // The rest of this segment is zeros or an older segment's records: the next
                    // record starts the next segment.
                    if relocated {
                        return Err(WalError::Corrupt {
                            path: self.dir.clone(),
                            offset: self.offset,
                            what: format!("committed record {} is not in the log", self.next_seq),
                        }
                        .into());
                    }
                    self.file = None;
                    relocated = true;
                }
            }
        }
        Ok(out)
    }
}

/// One record at `offset`, if a valid one is there.
fn read_record(file: &File, offset: u64) -> Result<Option<(Record, usize)>, StoreError> {
    let mut header = [0u8; HEADER];
    match file.read_exact_at(&mut header, offset) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(StoreError::Io { op: "read write-ahead log", path: PathBuf::new(), source: e }),
    }
    let len = u32::from_le_bytes(header[4..8].try_into().expect("4 bytes"));
    if u32::from_le_bytes(header[0..4].try_into().expect("4 bytes")) != MAGIC || !(12..=MAX_BODY).contains(&len) {
        return Ok(None);
    }
    let mut data = vec![0u8; HEADER + len as usize];
    data[..HEADER].copy_from_slice(&header);
    match file.read_exact_at(&mut data[HEADER..], offset + HEADER as u64) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(StoreError::Io { op: "read write-ahead log", path: PathBuf::new(), source: e }),
    }
    Ok(match decode(&data) {
        Decoded::Record(rec, used) => Some((*rec, used)),
        _ => None,
    })
}
