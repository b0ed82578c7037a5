//! The SS-MIX2 index database: one SQLite file per appliance.
//!
//! Brief overview:
//! - [`Index`] owns a SQLite connection (WAL mode, `synchronous=FULL`). It holds the table
//!   `ssmixidx`, which has the eleven SSMIXIDX columns of the SS-MIX2 guideline (VolumeLabel …
//!   UpdateDatetime) plus what queries and recovery need (condition flag, control ID, hash, the
//!   write-ahead-log sequence number that produced the row), and a small `meta` table that holds
//!   the recovery checkpoint.
//! - [`Entry`] describes one stored message; [`Index::apply`] mirrors, row for row, what
//!   the storage tree does for that message (INS: the key's current `_1` becomes `_2` and the new
//!   file is `_1`; DEL: every version becomes `_0` and the cancel message is stored as `_0`).
//!   Applying the same sequence of entries again from any earlier point converges to the same
//!   state, which is what crash recovery relies on.
//! - [`DocumentQuery`] / [`Document`] answer the read API.
//!
//! Architecture invariants: this is the only crate that issues SQL. The index is derived data:
//! it can always be rebuilt from the SS-MIX2 files (see `hakobune verify --repair`), so it never
//! holds anything that exists nowhere else, except the checkpoint, which only says how much of
//! the write-ahead log is already reflected in files and rows.

#![deny(missing_docs)]

use std::path::Path;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde::Serialize;

/// Errors of the index database.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// SQLite reported an error.
    #[error("index database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The database was written by a newer schema than this build knows.
    #[error("index schema version {found} is newer than this build supports ({supported})")]
    SchemaTooNew {
        /// Version found in the file.
        found: i64,
        /// Highest version this build knows.
        supported: i64,
    },
}

type Result<T> = std::result::Result<T, IndexError>;

const SCHEMA_VERSION: i64 = 2;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS ssmixidx (
    id                   INTEGER PRIMARY KEY,  -- UniqueID (allowed by guideline Ver.1.2 P.35)
    volume_label         TEXT NOT NULL,        -- VolumeLabel VARCHAR(20)
    facility_id          TEXT NOT NULL,        -- FacilityID CHAR(10)
    patient_id           TEXT NOT NULL,        -- PatientID VARCHAR(15)
    order_date           TEXT NOT NULL,        -- OrderDate VARCHAR(8): 診療日 or '-'
    data_kind            TEXT NOT NULL,        -- DataKind VARCHAR(180)
    order_no             TEXT NOT NULL,        -- OrderNo VARCHAR(22)
    processing_type      TEXT NOT NULL,        -- ProcessingType VARCHAR(3): INS / DEL
    enter_org_cd         TEXT NOT NULL,        -- EnterOrgCD VARCHAR(5)
    transaction_datetime TEXT NOT NULL,        -- TransactionDatetime VARCHAR(17)
    out_rel_directory    TEXT NOT NULL,        -- OutRelDirectory VARCHAR(260), relative to the volume root
    file_name            TEXT NOT NULL,        -- FileName VARCHAR(260), current name (flag included)
    update_datetime      TEXT NOT NULL,        -- UpdateDatetime TIMESTAMP
    stem                 TEXT NOT NULL,        -- file name without the condition flag
    key_prefix           TEXT NOT NULL,        -- '<pid>_<date>_<type>_<order>_': the version key
    condition_flag       INTEGER NOT NULL,     -- 0 deleted, 1 current, 2 superseded
    control_id           TEXT NOT NULL,        -- MSH-10
    message_type         TEXT NOT NULL,        -- MSH-9.1^MSH-9.2
    byte_len             INTEGER NOT NULL,
    sha256               TEXT NOT NULL,        -- hex digest of the stored bytes
    extension            TEXT NOT NULL DEFAULT '', -- '.hl7' / '.txt' on files written by older systems
    wal_seq              INTEGER NOT NULL,     -- write-ahead-log record that produced the row
    received_at          TEXT NOT NULL,        -- when the appliance accepted it (UTC, RFC 3339)
    UNIQUE (facility_id, out_rel_directory, stem)
);
CREATE INDEX IF NOT EXISTS ssmixidx_patient ON ssmixidx (facility_id, patient_id, order_date);
CREATE INDEX IF NOT EXISTS ssmixidx_key ON ssmixidx (facility_id, out_rel_directory, key_prefix, condition_flag);
CREATE INDEX IF NOT EXISTS ssmixidx_control ON ssmixidx (facility_id, control_id);
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"#;

/// INS or DEL, the SS-MIX2 processing type (処理区分).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum Processing {
    /// A new or updated version (処理区分 INS).
    #[serde(rename = "INS")]
    Ins,
    /// A deletion or cancellation (処理区分 DEL).
    #[serde(rename = "DEL")]
    Del,
}

impl Processing {
    /// `INS` or `DEL`.
    pub fn as_str(self) -> &'static str {
        match self {
            Processing::Ins => "INS",
            Processing::Del => "DEL",
        }
    }

    fn parse(s: &str) -> Processing {
        if s == "DEL" { Processing::Del } else { Processing::Ins }
    }
}

/// One stored message, as the index needs to know it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Entry {
    /// VolumeLabel, e.g. `STD01`.
    pub volume_label: String,
    /// 医療施設ID (10 digits).
    pub facility_id: String,
    /// 患者ID.
    pub patient_id: String,
    /// 診療日 `YYYYMMDD` or `-`.
    pub order_date: String,
    /// データ種別, e.g. `OMP-01`.
    pub data_kind: String,
    /// オーダNo (15 characters).
    pub order_no: String,
    /// INS or DEL.
    pub processing: Processing,
    /// 診療科コード or `-`.
    pub enter_org_cd: String,
    /// 発生日時, 17 digits.
    pub transaction_datetime: String,
    /// Directory relative to the facility's storage root.
    pub out_rel_directory: String,
    /// File name without the trailing `_<flag>`.
    pub stem: String,
    /// `<pid>_<date>_<type>_<order>_`: every version of one key shares it.
    pub key_prefix: String,
    /// MSH-10.
    pub control_id: String,
    /// MSH-9 type^trigger.
    pub message_type: String,
    /// Length of the stored bytes.
    pub byte_len: u64,
    /// Hex SHA-256 of the stored bytes.
    pub sha256: String,
    /// Write-ahead-log sequence number.
    pub wal_seq: u64,
    /// When the appliance accepted the message (UTC, RFC 3339).
    pub received_at: String,
    /// `.hl7` or `.txt` on a file an older system wrote; empty for files this appliance writes.
    #[serde(default)]
    pub extension: String,
}

/// Where recovery starts: everything up to `wal_seq` is in files and rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checkpoint {
    /// Last write-ahead-log sequence number whose effects are durable.
    pub wal_seq: u64,
    /// Opaque state the store saves with the checkpoint (open transaction-storage files).
    pub store_state: String,
}

/// A document as the read API lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Document {
    /// Stable ID of the row (`/api/v1/documents/{id}`).
    pub id: i64,
    /// 医療施設ID.
    pub facility_id: String,
    /// 患者ID.
    pub patient_id: String,
    /// 診療日 or `-`.
    pub care_date: String,
    /// データ種別.
    pub data_type: String,
    /// オーダNo.
    pub order_no: String,
    /// INS / DEL.
    pub processing_type: String,
    /// 診療科コード.
    pub department: String,
    /// 発生日時.
    pub transaction_datetime: String,
    /// 0, 1 or 2.
    pub condition_flag: u8,
    /// Directory relative to the facility root.
    pub directory: String,
    /// Current file name.
    pub file_name: String,
    /// MSH-10.
    pub control_id: String,
    /// MSH-9.
    pub message_type: String,
    /// Size in bytes.
    pub byte_len: u64,
    /// Hex SHA-256.
    pub sha256: String,
    /// When accepted.
    pub received_at: String,
}

/// Filters for [`Index::documents`].
#[derive(Debug, Clone, Default)]
pub struct DocumentQuery {
    /// 医療施設ID.
    pub facility_id: String,
    /// 患者ID.
    pub patient_id: String,
    /// Only this data type.
    pub data_type: Option<String>,
    /// 診療日 on or after (YYYYMMDD). Documents without a date (`-`) are kept when no range is given.
    pub from: Option<String>,
    /// 診療日 on or before (YYYYMMDD).
    pub to: Option<String>,
    /// Include superseded (`_2`) and deleted (`_0`) versions.
    pub include_history: bool,
    /// At most this many rows.
    pub limit: Option<u32>,
}

/// Counts for health and metrics.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    /// Rows in the index.
    pub documents: u64,
    /// Distinct (facility, patient).
    pub patients: u64,
    /// Distinct facilities.
    pub facilities: u64,
}

/// The index database.
pub struct Index {
    conn: Connection,
}

impl Index {
    /// Opens (creating if needed) the index at `path` for reading and writing.
    pub fn open(path: &Path) -> Result<Index> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.execute_batch(SCHEMA)?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(IndexError::SchemaTooNew { found: version, supported: SCHEMA_VERSION });
        }
        if version == 1 {
            // Version 1 had no extension column (legacy .hl7/.txt file names).
            conn.execute_batch("ALTER TABLE ssmixidx ADD COLUMN extension TEXT NOT NULL DEFAULT ''")?;
        }
        conn.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        Ok(Index { conn })
    }

    /// Opens an existing index read-only (for the HTTP API and `verify`).
    pub fn open_read_only(path: &Path) -> Result<Index> {
        let conn =
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        Ok(Index { conn })
    }

    /// Starts a write batch: every change inside it commits atomically.
    pub fn batch(&mut self) -> Result<Batch<'_>> {
        Ok(Batch { tx: self.conn.transaction()? })
    }

    /// The recovery checkpoint (zero on a new index).
    pub fn checkpoint(&self) -> Result<Checkpoint> {
        let seq: Option<String> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'checkpoint_wal_seq'", [], |r| r.get(0))
            .optional()?;
        let state: Option<String> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'checkpoint_store_state'", [], |r| r.get(0))
            .optional()?;
        Ok(Checkpoint {
            wal_seq: seq.and_then(|s| s.parse().ok()).unwrap_or(0),
            store_state: state.unwrap_or_default(),
        })
    }

    /// Whether a message with this control ID and these exact bytes is already stored.
    pub fn contains_message(&self, facility_id: &str, control_id: &str, sha256: &str) -> Result<bool> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT 1 FROM ssmixidx WHERE facility_id = ?1 AND control_id = ?2 AND sha256 = ?3 LIMIT 1",
        )?;
        Ok(stmt.exists(params![facility_id, control_id, sha256])?)
    }

    /// Whether a file stem is already taken in a directory (any condition flag).
    pub fn stem_exists(&self, facility_id: &str, directory: &str, stem: &str) -> Result<bool> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT 1 FROM ssmixidx WHERE facility_id = ?1 AND out_rel_directory = ?2 AND stem = ?3 LIMIT 1",
        )?;
        Ok(stmt.exists(params![facility_id, directory, stem])?)
    }

    /// Documents of one patient at one facility, newest 診療日 first.
    pub fn documents(&self, q: &DocumentQuery) -> Result<Vec<Document>> {
        let mut sql = String::from(DOC_SELECT);
        sql.push_str(" WHERE facility_id = ?1 AND patient_id = ?2");
        let mut args: Vec<String> = vec![q.facility_id.clone(), q.patient_id.clone()];
        if let Some(t) = &q.data_type {
            args.push(t.clone());
            sql.push_str(&format!(" AND data_kind = ?{}", args.len()));
        }
        if let Some(from) = &q.from {
            args.push(from.clone());
            sql.push_str(&format!(" AND order_date <> '-' AND order_date >= ?{}", args.len()));
        }
        if let Some(to) = &q.to {
            args.push(to.clone());
            sql.push_str(&format!(" AND order_date <> '-' AND order_date <= ?{}", args.len()));
        }
        if !q.include_history {
            sql.push_str(" AND condition_flag = 1");
        }
        sql.push_str(" ORDER BY order_date DESC, transaction_datetime DESC, id DESC");
        if let Some(limit) = q.limit {
            sql.push_str(&format!(" LIMIT {limit}"));
        }
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), row_to_document)?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// One document by ID.
    pub fn document(&self, id: i64) -> Result<Option<Document>> {
        let sql = format!("{DOC_SELECT} WHERE id = ?1");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        Ok(stmt.query_row([id], row_to_document).optional()?)
    }

    /// Every row, in storage order, for `verify`.
    pub fn all_documents(&self) -> Result<Vec<Document>> {
        let sql = format!("{DOC_SELECT} ORDER BY facility_id, out_rel_directory, file_name");
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([], row_to_document)?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// Counts of documents, patients and facilities.
    pub fn stats(&self) -> Result<Stats> {
        Ok(self.conn.query_row(
            "SELECT (SELECT count(*) FROM ssmixidx),
                    (SELECT count(*) FROM (SELECT DISTINCT facility_id, patient_id FROM ssmixidx)),
                    (SELECT count(DISTINCT facility_id) FROM ssmixidx)",
            [],
            |r| {
                Ok(Stats {
                    documents: r.get::<_, i64>(0)? as u64,
                    patients: r.get::<_, i64>(1)? as u64,
                    facilities: r.get::<_, i64>(2)? as u64,
                })
            },
        )?)
    }

    /// Folds SQLite's own write-ahead log into the database file and empties it (orderly shutdown).
    pub fn truncate_wal(&self) -> Result<()> {
        self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// Deletes every document row (used by `verify --repair` before a rebuild). The checkpoint is
    /// kept: it describes the write-ahead log, which a rebuild does not change.
    pub fn clear(&mut self) -> Result<()> {
        self.conn.execute_batch("DELETE FROM ssmixidx;")?;
        Ok(())
    }
}

const DOC_SELECT: &str = "SELECT id, facility_id, patient_id, order_date, data_kind, order_no, \
     processing_type, enter_org_cd, transaction_datetime, condition_flag, out_rel_directory, \
     file_name, control_id, message_type, byte_len, sha256, received_at FROM ssmixidx";

fn row_to_document(r: &rusqlite::Row<'_>) -> rusqlite::Result<Document> {
    Ok(Document {
        id: r.get(0)?,
        facility_id: r.get(1)?,
        patient_id: r.get(2)?,
        care_date: r.get(3)?,
        data_type: r.get(4)?,
        order_no: r.get(5)?,
        processing_type: r.get(6)?,
        department: r.get(7)?,
        transaction_datetime: r.get(8)?,
        condition_flag: r.get(9)?,
        directory: r.get(10)?,
        file_name: r.get(11)?,
        control_id: r.get(12)?,
        message_type: r.get(13)?,
        byte_len: r.get::<_, i64>(14)? as u64,
        sha256: r.get(15)?,
        received_at: r.get(16)?,
    })
}

/// A write transaction on the index.
pub struct Batch<'a> {
    tx: rusqlite::Transaction<'a>,
}

impl Batch<'_> {
    /// Records one stored message with the SS-MIX2 version rules. Idempotent in sequence: replaying
    /// entries in their original order from any earlier point gives the same rows.
    pub fn apply(&mut self, e: &Entry, now: &str) -> Result<()> {
        let own_flag = match e.processing {
            Processing::Ins => {
                // The key's current version (other than this one) is superseded.
                self.tx
                    .prepare_cached(
                        "UPDATE ssmixidx SET condition_flag = 2, file_name = stem || '_2' || extension, update_datetime = ?5
                         WHERE facility_id = ?1 AND out_rel_directory = ?2 AND key_prefix = ?3
                           AND condition_flag = 1 AND stem <> ?4",
                    )?
                    .execute(params![e.facility_id, e.out_rel_directory, e.key_prefix, e.stem, now])?;
                1
            }
            Processing::Del => {
                // Every version of the key is deleted.
                self.tx
                    .prepare_cached(
                        "UPDATE ssmixidx SET condition_flag = 0, file_name = stem || '_0' || extension, update_datetime = ?4
                         WHERE facility_id = ?1 AND out_rel_directory = ?2 AND key_prefix = ?3
                           AND condition_flag <> 0",
                    )?
                    .execute(params![e.facility_id, e.out_rel_directory, e.key_prefix, now])?;
                0
            }
        };
        self.upsert(e, own_flag, now)
    }

    /// Records a file exactly as found on disk, with its own condition flag (index rebuilds).
    pub fn insert_as_found(&mut self, e: &Entry, flag: u8, now: &str) -> Result<()> {
        self.upsert(e, flag, now)
    }

    fn upsert(&mut self, e: &Entry, flag: u8, now: &str) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO ssmixidx (volume_label, facility_id, patient_id, order_date, data_kind, order_no,
                    processing_type, enter_org_cd, transaction_datetime, out_rel_directory, file_name,
                    update_datetime, stem, key_prefix, condition_flag, control_id, message_type, byte_len,
                    sha256, wal_seq, received_at, extension)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11 || '_' || ?15 || ?21, ?12, ?11, ?13, ?15, ?14,
                    ?16, ?17, ?18, ?19, ?20, ?21)
                 ON CONFLICT (facility_id, out_rel_directory, stem) DO UPDATE SET
                    condition_flag = excluded.condition_flag, file_name = excluded.file_name,
                    update_datetime = excluded.update_datetime",
            )?
            .execute(params![
                e.volume_label,
                e.facility_id,
                e.patient_id,
                e.order_date,
                e.data_kind,
                e.order_no,
                e.processing.as_str(),
                e.enter_org_cd,
                e.transaction_datetime,
                e.out_rel_directory,
                e.stem,
                now,
                e.key_prefix,
                e.control_id,
                flag,
                e.message_type,
                e.byte_len as i64,
                e.sha256,
                e.wal_seq as i64,
                e.received_at,
                e.extension,
            ])?;
        Ok(())
    }

    /// Stores the recovery checkpoint.
    pub fn set_checkpoint(&mut self, cp: &Checkpoint) -> Result<()> {
        let mut stmt = self.tx.prepare_cached(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )?;
        stmt.execute(params!["checkpoint_wal_seq", cp.wal_seq.to_string()])?;
        stmt.execute(params!["checkpoint_store_state", cp.store_state])?;
        Ok(())
    }

    /// Commits the batch (durably: `synchronous=FULL`).
    pub fn commit(self) -> Result<()> {
        Ok(self.tx.commit()?)
    }
}

impl Document {
    /// The processing type as an enum.
    pub fn processing(&self) -> Processing {
        Processing::parse(&self.processing_type)
    }
}

/// Entries for tests of the crates above the index.
#[cfg(any(test, feature = "test-fixtures"))]
pub mod fixtures {
    use super::{Entry, Processing};

    /// An OMP-01 (prescription order) entry of patient 9999013 at facility 1234567890, 診療日
    /// 2011-07-01, order `order`, transaction time `ts` (17 digits), control ID `control`.
    pub fn omp01(order: &str, ts: &str, processing: Processing, control: &str) -> Entry {
        let key_prefix = format!("9999013_20110701_OMP-01_{order}_");
        Entry {
            volume_label: String::new(),
            facility_id: "1234567890".into(),
            patient_id: "9999013".into(),
            order_date: "20110701".into(),
            data_kind: "OMP-01".into(),
            order_no: order.into(),
            processing,
            enter_org_cd: "01".into(),
            transaction_datetime: ts.into(),
            out_rel_directory: "999/901/9999013/20110701/OMP-01".into(),
            stem: format!("{key_prefix}{ts}_01"),
            key_prefix,
            control_id: control.into(),
            message_type: "RDE^O11".into(),
            byte_len: 0,
            sha256: String::new(),
            wal_seq: 0,
            received_at: "2026-11-25T10:00:00.000+09:00".into(),
            extension: String::new(),
        }
    }
}

#[cfg(test)]
mod tests;
