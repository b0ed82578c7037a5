//! The SS-MIX2 standardized storage tree: placing files and versioning them by condition flag.

use std::io::Write;
use std::path::{Path, PathBuf};

use hakobune_index::{Entry, Processing};

use crate::{Layout, StoreError};

/// Applies one record to the tree. State-based and idempotent: see the crate documentation.
///
/// `tmp_name` must be unique among files being written (the record's sequence number).
pub(crate) fn apply(layout: &Layout, entry: &Entry, raw: &[u8], tmp_name: &str) -> Result<(), StoreError> {
    let dir = layout.ssmix2_root(&entry.facility_id).join(&entry.out_rel_directory);
    // A folder this call creates is empty: no versions to look at.
    let new_dir = match std::fs::create_dir(&dir) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => false,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(&dir).map_err(StoreError::io("create directory", &dir))?;
            true
        }
        Err(e) => return Err(StoreError::io("create directory", &dir)(e)),
    };
    let own_flag = match entry.processing {
        Processing::Ins => '1',
        Processing::Del => '0',
    };
    let mut own_existing: Option<String> = None;
    let names = if new_dir { Vec::new() } else { read_names(&dir)? };
    for name in names {
        let Some((stem, flag, ext)) = split_flag(&name) else {
            continue;
        };
        if stem == entry.stem {
            own_existing = Some(name.clone());
            continue;
        }
        if !stem.starts_with(&entry.key_prefix) {
            continue;
        }
        let new_flag = match (entry.processing, flag) {
            (Processing::Ins, '1') => '2',
            (Processing::Del, '1' | '2') => '0',
            _ => continue,
        };
        rename(&dir, &name, &format!("{stem}_{new_flag}{ext}"))?;
    }
    let own_name = format!("{}_{}", entry.stem, own_flag);
    match own_existing {
        Some(existing) => {
            if existing != own_name {
                rename(&dir, &existing, &own_name)?;
            }
            // After a power loss a renamed file may exist with the wrong bytes: compare and rewrite.
            let path = dir.join(&own_name);
            let current = std::fs::read(&path).map_err(StoreError::io("read", &path))?;
            if current != raw {
                tracing::warn!(file = %path.display(), "rewriting a stored file whose bytes differ from the write-ahead log");
                write_new(layout, &dir, &own_name, raw, tmp_name)?;
            }
        }
        None => write_new(layout, &dir, &own_name, raw, tmp_name)?,
    }
    Ok(())
}

/// Splits `<stem>_<flag>[.hl7|.txt]` where flag is 0, 1 or 2. Files written by older systems may
/// carry a `.hl7` or `.txt` extension; they are versioned like the others and keep their extension.
fn split_flag(name: &str) -> Option<(&str, char, &str)> {
    let (base, ext) = match name.len().checked_sub(4).map(|i| name.split_at(i)) {
        Some((base, ext)) if ext.eq_ignore_ascii_case(".hl7") || ext.eq_ignore_ascii_case(".txt") => (base, ext),
        _ => (name, ""),
    };
    let (stem, flag) = base.rsplit_once('_')?;
    match flag {
        "0" => Some((stem, '0', ext)),
        "1" => Some((stem, '1', ext)),
        "2" => Some((stem, '2', ext)),
        _ => None,
    }
}

fn read_names(dir: &Path) -> Result<Vec<String>, StoreError> {
    let mut names = Vec::new();
    for ent in std::fs::read_dir(dir).map_err(StoreError::io("read directory", dir))? {
        let ent = ent.map_err(StoreError::io("read directory", dir))?;
        if let Ok(name) = ent.file_name().into_string() {
            names.push(name);
        }
    }
    Ok(names)
}

fn rename(dir: &Path, from: &str, to: &str) -> Result<(), StoreError> {
    let (a, b) = (dir.join(from), dir.join(to));
    std::fs::rename(&a, &b).map_err(StoreError::io("rename", &a))
}

fn write_new(layout: &Layout, dir: &Path, name: &str, raw: &[u8], tmp_name: &str) -> Result<(), StoreError> {
    let tmp = layout.tmp_dir().join(tmp_name);
    let mut f = std::fs::File::create(&tmp).map_err(StoreError::io("create", &tmp))?;
    f.write_all(raw).map_err(StoreError::io("write", &tmp))?;
    drop(f);
    let dest = dir.join(name);
    std::fs::rename(&tmp, &dest).map_err(StoreError::io("rename into place", &dest))
}

/// A file found in a standardized storage tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedFile {
    /// Directory relative to the facility root (`999/901/9999013/-/ADT-00`).
    pub rel_dir: String,
    /// File name.
    pub name: String,
    /// Full path.
    pub path: PathBuf,
}

/// Every file of a facility's standardized storage (for `verify` and index rebuilds), sorted.
pub fn list_storage_files(facility_root: &Path) -> Result<Vec<ListedFile>, StoreError> {
    let mut out = Vec::new();
    walk(facility_root, facility_root, &mut out)?;
    out.sort_by(|a, b| (&a.rel_dir, &a.name).cmp(&(&b.rel_dir, &b.name)));
    Ok(out)
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<ListedFile>) -> Result<(), StoreError> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(StoreError::io("read directory", dir)(e)),
    };
    for ent in rd {
        let ent = ent.map_err(StoreError::io("read directory", dir))?;
        let path = ent.path();
        let ft = ent.file_type().map_err(StoreError::io("stat", &path))?;
        if ft.is_dir() {
            walk(root, &path, out)?;
        } else if ft.is_file() {
            let rel_dir = dir.strip_prefix(root).unwrap_or(dir).to_string_lossy().into_owned();
            out.push(ListedFile { rel_dir, name: ent.file_name().to_string_lossy().into_owned(), path });
        }
    }
    Ok(())
}
