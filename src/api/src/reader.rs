//! Reading patient data, only with a grant.

use std::sync::Mutex;

use hakobune_access::{Action, Grant};
use hakobune_index::{Document, DocumentQuery, Index, IndexError};
use hakobune_store::Layout;

/// Why a read failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The grant does not cover this read (a programming error, refused rather than served).
    #[error("the access grant does not cover this read")]
    NotCovered,
    /// No such document.
    #[error("no such document")]
    NotFound,
    /// The index failed.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// The stored file could not be read.
    #[error("reading stored file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Reads documents from the index and the storage tree.
pub struct Reader {
    layout: Layout,
    pool: Mutex<Vec<Index>>,
}

impl Reader {
    /// A reader over the data directory.
    pub fn new(layout: Layout) -> Reader {
        Reader { layout, pool: Mutex::new(Vec::new()) }
    }

    fn with_index<T>(&self, f: impl FnOnce(&Index) -> Result<T, ReadError>) -> Result<T, ReadError> {
        let conn = self.pool.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match conn {
            Some(c) => c,
            None => Index::open_read_only(&self.layout.index_path())?,
        };
        let out = f(&conn);
        let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < 8 {
            pool.push(conn);
        }
        out
    }

    /// Which facility and patient a document belongs to (no patient data: used to build the
    /// resource that the gate decides on).
    pub fn owner(&self, id: i64) -> Result<(String, String), ReadError> {
        self.with_index(|ix| {
            let d = ix.document(id)?.ok_or(ReadError::NotFound)?;
            Ok((d.facility_id, d.patient_id))
        })
    }

    /// A patient's documents.
    pub fn documents(&self, grant: &Grant, q: &DocumentQuery) -> Result<Vec<Document>, ReadError> {
        if !grant.covers(Action::ListDocuments, &q.facility_id, &q.patient_id, None) {
            return Err(ReadError::NotCovered);
        }
        self.with_index(|ix| Ok(ix.documents(q)?))
    }

    /// One document's index row and stored bytes.
    pub fn document(&self, grant: &Grant, id: i64) -> Result<(Document, Vec<u8>), ReadError> {
        // A version may be renamed (`_1` -> `_2`) between reading the row and opening the file:
        // read the row again and retry once.
        for attempt in 0..3 {
            let doc = self.with_index(|ix| ix.document(id)?.ok_or(ReadError::NotFound))?;
            if !grant.covers(Action::ReadDocument, &doc.facility_id, &doc.patient_id, Some(id)) {
                return Err(ReadError::NotCovered);
            }
            let path = self.layout.ssmix2_root(&doc.facility_id).join(&doc.directory).join(&doc.file_name);
            match std::fs::read(&path) {
                Ok(bytes) => return Ok((doc, bytes)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && attempt < 2 => {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                Err(source) => {
                    return Err(ReadError::Io { path: path.display().to_string(), source });
                }
            }
        }
        Err(ReadError::NotFound)
    }
}
