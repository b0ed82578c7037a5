//! Who may read which patient data, and the record that they did.
//!
//! Brief overview:
//! - [`Gate::check`] is the one door to patient data. It calls [`decide`], the single access
//!   decision function, writes one audit record whatever the answer, and on a permit returns a
//!   [`Grant`] for exactly that principal, action and resource.
//! - A [`Grant`] can only be made here (its constructor is private). The code that reads patient
//!   data (`hakobune-api`'s reader) takes a `&Grant` and checks that it covers what it is about to
//!   read, so no path can read patient data without having passed the gate and been audited.
//! - [`AuditLog`] is an append-only SQLite table in its own file, hash-chained (each record carries
//!   the SHA-256 of the previous one), written with `synchronous=FULL` before the data is returned.
//!
//! Today's policy (until accounts, roles and consent arrive): the appliance's own operators, i.e.
//! requests from the loopback interface, may read; every other principal is denied. Accounts,
//! roles, consent and period limits plug into [`decide`] and nowhere else.
//!
//! Architecture invariant: patient data is read only with a [`Grant`], and a `Grant` exists only
//! after an audit record was durably written.

#![deny(missing_docs)]

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

/// Errors of the gate.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// The policy said no (the refusal was audited).
    #[error("access denied: {0}")]
    Denied(String),
    /// The audit record could not be written, so nothing may be read.
    #[error("audit trail unavailable: {0}")]
    Audit(#[from] rusqlite::Error),
}

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    /// What kind of principal.
    pub kind: PrincipalKind,
    /// A stable identifier (account name, certificate subject, or `local`).
    pub id: String,
    /// Network peer, when known.
    pub peer: Option<String>,
}

/// Kinds of principals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PrincipalKind {
    /// Someone on the appliance itself (loopback): the local panel, the CLI.
    LocalOperator,
    /// A client from the network that has not authenticated.
    Anonymous,
    /// The appliance itself (system events, never patient data).
    System,
}

impl Principal {
    /// The principal of an HTTP request, from its peer address: loopback peers are local operators.
    pub fn from_peer(peer: SocketAddr) -> Principal {
        if peer.ip().is_loopback() {
            Principal { kind: PrincipalKind::LocalOperator, id: "local".into(), peer: Some(peer.to_string()) }
        } else {
            Principal { kind: PrincipalKind::Anonymous, id: "anonymous".into(), peer: Some(peer.to_string()) }
        }
    }
}

/// What the principal wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// List a patient's documents.
    ListDocuments,
    /// Read one document.
    ReadDocument,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::ListDocuments => "list-documents",
            Action::ReadDocument => "read-document",
        }
    }
}

/// Which patient data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resource {
    /// 医療施設ID of the storage the data is in.
    pub facility_id: String,
    /// 患者ID at that facility.
    pub patient_id: String,
    /// A single document, when the action is about one.
    pub document_id: Option<i64>,
}

/// The policy's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Allowed, and why.
    Permit(String),
    /// Refused, and why.
    Deny(String),
}

/// The single access decision function. Every read of patient data is decided here.
pub fn decide(principal: &Principal, _action: Action, _resource: &Resource) -> Decision {
    match principal.kind {
        PrincipalKind::LocalOperator => Decision::Permit("local operator on the appliance".into()),
        PrincipalKind::Anonymous => Decision::Deny("no authenticated account (remote access is not enabled)".into()),
        PrincipalKind::System => Decision::Deny("the system principal never reads patient data".into()),
    }
}

/// Proof that a principal passed the gate for one action on one resource.
#[derive(Debug)]
pub struct Grant {
    principal: Principal,
    action: Action,
    resource: Resource,
    audit_id: i64,
}

impl Grant {
    /// Who was granted.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// The granted action.
    pub fn action(&self) -> Action {
        self.action
    }

    /// The granted resource.
    pub fn resource(&self) -> &Resource {
        &self.resource
    }

    /// The audit record written for this grant.
    pub fn audit_id(&self) -> i64 {
        self.audit_id
    }

    /// Whether the grant covers reading this document of this patient.
    pub fn covers(&self, action: Action, facility_id: &str, patient_id: &str, document_id: Option<i64>) -> bool {
        self.action == action
            && self.resource.facility_id == facility_id
            && self.resource.patient_id == patient_id
            && (self.resource.document_id.is_none() || self.resource.document_id == document_id)
    }
}

/// The door to patient data: decision plus audit.
pub struct Gate {
    audit: AuditLog,
}

impl Gate {
    /// A gate writing to this audit log.
    pub fn new(audit: AuditLog) -> Gate {
        Gate { audit }
    }

    /// Decides and audits. Returns a [`Grant`] on permit.
    pub fn check(&self, principal: &Principal, action: Action, resource: &Resource) -> Result<Grant, AccessError> {
        let decision = decide(principal, action, resource);
        let audit_id = self.audit.record(principal, action, resource, &decision)?;
        match decision {
            Decision::Permit(_) => {
                Ok(Grant { principal: principal.clone(), action, resource: resource.clone(), audit_id })
            }
            Decision::Deny(why) => Err(AccessError::Denied(why)),
        }
    }

    /// The audit log.
    pub fn audit(&self) -> &AuditLog {
        &self.audit
    }
}

/// One audit record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRecord {
    /// Sequence number.
    pub id: i64,
    /// When (UTC, RFC 3339).
    pub at: String,
    /// Principal kind.
    pub principal_kind: String,
    /// Principal ID.
    pub principal_id: String,
    /// Peer address.
    pub peer: String,
    /// Action.
    pub action: String,
    /// 医療施設ID.
    pub facility_id: String,
    /// 患者ID.
    pub patient_id: String,
    /// Document, if one.
    pub document_id: Option<i64>,
    /// `permit` or `deny`.
    pub decision: String,
    /// Why.
    pub reason: String,
    /// SHA-256 over the previous record's hash and this record's fields.
    pub hash: String,
}

/// The append-only, hash-chained audit trail.
pub struct AuditLog {
    conn: Mutex<Connection>,
}

impl AuditLog {
    /// Opens (creating) the audit database.
    pub fn open(path: &Path) -> Result<AuditLog, AccessError> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS audit (
                id INTEGER PRIMARY KEY,
                at TEXT NOT NULL,
                principal_kind TEXT NOT NULL,
                principal_id TEXT NOT NULL,
                peer TEXT NOT NULL,
                action TEXT NOT NULL,
                facility_id TEXT NOT NULL,
                patient_id TEXT NOT NULL,
                document_id INTEGER,
                decision TEXT NOT NULL,
                reason TEXT NOT NULL,
                hash TEXT NOT NULL
            );
            CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
                BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
            CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
                BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;",
        )?;
        Ok(AuditLog { conn: Mutex::new(conn) })
    }

    fn record(&self, p: &Principal, action: Action, r: &Resource, d: &Decision) -> Result<i64, AccessError> {
        let (decision, reason) = match d {
            Decision::Permit(w) => ("permit", w.as_str()),
            Decision::Deny(w) => ("deny", w.as_str()),
        };
        self.append(p, action.as_str(), r, decision, reason)
    }

    fn append(
        &self,
        p: &Principal,
        action: &str,
        r: &Resource,
        decision: &str,
        reason: &str,
    ) -> Result<i64, AccessError> {
        let at =
            time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
        let kind = serde_plain(&p.kind);
        let peer = p.peer.clone().unwrap_or_default();
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let prev: String = conn
            .query_row("SELECT hash FROM audit ORDER BY id DESC LIMIT 1", [], |row| row.get(0))
            .optional()?
            .unwrap_or_default();
        let doc = r.document_id.map(|d| d.to_string()).unwrap_or_default();
        let hash = chain_hash(&[
            &prev,
            &at,
            &kind,
            &p.id,
            &peer,
            action,
            &r.facility_id,
            &r.patient_id,
            &doc,
            decision,
            reason,
        ]);
        conn.execute(
            "INSERT INTO audit (at, principal_kind, principal_id, peer, action, facility_id, patient_id, document_id, decision, reason, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![at, kind, p.id, peer, action, r.facility_id, r.patient_id, r.document_id, decision, reason, hash],
        )?;
        let id = conn.last_insert_rowid();
        tracing::info!(target: "audit", id, principal = %p.id, action, facility = %r.facility_id,
            patient = %r.patient_id, document = ?r.document_id, decision, "patient data access");
        Ok(id)
    }

    /// Records a system event (startup, power loss, shutdown steps…) in the same hash chain.
    pub fn system_event(&self, action: &str, detail: &str) -> Result<i64, AccessError> {
        let system = Principal { kind: PrincipalKind::System, id: "hakobune".into(), peer: None };
        let resource = Resource { facility_id: String::new(), patient_id: String::new(), document_id: None };
        self.append(&system, action, &resource, "event", detail)
    }

    /// The newest records, newest first.
    pub fn recent(&self, limit: u32) -> Result<Vec<AuditRecord>, AccessError> {
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let mut stmt = conn.prepare(
            "SELECT id, at, principal_kind, principal_id, peer, action, facility_id, patient_id, document_id, decision, reason, hash
             FROM audit ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit], |row| {
            Ok(AuditRecord {
                id: row.get(0)?,
                at: row.get(1)?,
                principal_kind: row.get(2)?,
                principal_id: row.get(3)?,
                peer: row.get(4)?,
                action: row.get(5)?,
                facility_id: row.get(6)?,
                patient_id: row.get(7)?,
                document_id: row.get(8)?,
                decision: row.get(9)?,
                reason: row.get(10)?,
                hash: row.get(11)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Recomputes the hash chain; returns the ID of the first record that does not match, if any.
    pub fn verify_chain(&self) -> Result<Option<i64>, AccessError> {
        let mut records = self.recent(u32::MAX)?;
        records.reverse();
        let mut prev = String::new();
        for r in records {
            let doc = r.document_id.map(|d| d.to_string()).unwrap_or_default();
            let h = chain_hash(&[
                &prev,
                &r.at,
                &r.principal_kind,
                &r.principal_id,
                &r.peer,
                &r.action,
                &r.facility_id,
                &r.patient_id,
                &doc,
                &r.decision,
                &r.reason,
            ]);
            if h != r.hash {
                return Ok(Some(r.id));
            }
            prev = r.hash;
        }
        Ok(None)
    }
}

fn serde_plain(k: &PrincipalKind) -> String {
    match k {
        PrincipalKind::LocalOperator => "local-operator".into(),
        PrincipalKind::Anonymous => "anonymous".into(),
        PrincipalKind::System => "system".into(),
    }
}

fn chain_hash(parts: &[&str]) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource() -> Resource {
        Resource { facility_id: "1234567890".into(), patient_id: "9999013".into(), document_id: None }
    }

    #[test]
    fn loopback_is_permitted_remote_is_denied_and_both_are_audited() {
        let dir = tempfile::tempdir().unwrap();
        let gate = Gate::new(AuditLog::open(&dir.path().join("audit.sqlite")).unwrap());
        let local = Principal::from_peer("127.0.0.1:40000".parse().unwrap());
        let remote = Principal::from_peer("192.0.2.7:40000".parse().unwrap());
        let grant = gate.check(&local, Action::ListDocuments, &resource()).unwrap();
        assert!(grant.covers(Action::ListDocuments, "1234567890", "9999013", None));
        assert!(!grant.covers(Action::ListDocuments, "1234567890", "9999014", None));
        assert!(!grant.covers(Action::ReadDocument, "1234567890", "9999013", Some(1)));
        assert!(matches!(gate.check(&remote, Action::ListDocuments, &resource()), Err(AccessError::Denied(_))));
        let recent = gate.audit().recent(10).unwrap();
        assert_eq!(recent.len(), 2);
        assert_eq!(recent[0].decision, "deny");
        assert_eq!(recent[1].decision, "permit");
        assert_eq!(recent[1].id, grant.audit_id());
        assert_eq!(gate.audit().verify_chain().unwrap(), None);
    }

    #[test]
    fn audit_records_cannot_be_changed_or_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.sqlite");
        let gate = Gate::new(AuditLog::open(&path).unwrap());
        let local = Principal::from_peer("127.0.0.1:1".parse().unwrap());
        gate.check(&local, Action::ReadDocument, &resource()).unwrap();
        let conn = Connection::open(&path).unwrap();
        assert!(conn.execute("UPDATE audit SET decision = 'deny'", []).is_err());
        assert!(conn.execute("DELETE FROM audit", []).is_err());
    }
}
