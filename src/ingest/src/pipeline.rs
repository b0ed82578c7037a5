//! One message: bytes in, ACK out.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use hakobune_config::{Config, NonJisPolicy};
use hakobune_hl7::ack::{AckBuilder, AckCode, ErrorCode, ErrorDetail, Severity};
use hakobune_hl7::{Location, Message};
use hakobune_index::{Entry, Processing};
use hakobune_ssmix2::{ClassifyError, FileName, ProcessingType};
use hakobune_store::{Outcome, QuarantineReason, Store, StoreError, Submission};
use time::{OffsetDateTime, UtcOffset};

use crate::metrics::{IngestMetrics, MessageLabels, QuarantineLabels};

/// Settings of the pipeline that come from the configuration.
#[derive(Clone)]
pub struct IngestOptions {
    /// The whole configuration (facilities and their rules).
    pub config: Arc<Config>,
    /// Local time offset for received-at stamps.
    pub utc_offset: UtcOffset,
}

/// What became of one message.
#[derive(Debug, Clone)]
pub struct Processed {
    /// MSA-1.
    pub code: AckCode,
    /// The ACK, ISO-2022-JP.
    pub ack: Vec<u8>,
    /// The file name it was stored under (AA, not a duplicate).
    pub stored_as: Option<String>,
}

/// The pipeline. Cheap to share (`Arc`).
pub struct Ingest {
    store: Arc<Store>,
    opts: IngestOptions,
    metrics: IngestMetrics,
    ack_counter: AtomicU64,
    draining: std::sync::atomic::AtomicBool,
}

/// A refusal on its way to becoming an AE/AR.
struct Refusal {
    code: AckCode,
    kind: &'static str,
    errors: Vec<ErrorDetail>,
    /// Temporary conditions (storage unavailable) are not the input's fault: no quarantine.
    quarantine: bool,
}

impl Refusal {
    fn new(code: AckCode, kind: &'static str, detail: ErrorDetail) -> Refusal {
        Refusal { code, kind, errors: vec![detail], quarantine: true }
    }
}

/// At most this many ERR segments for characters outside JIS X 0208 in one ACK.
const MAX_CHARACTER_ERRORS: usize = 16;

/// When a message arrived and, over TLS, from which client certificate.
struct Arrival<'a> {
    /// Local time of receipt, as stored in the index.
    received_at: &'a str,
    /// The client certificate's subject (MLLP/TLS), `None` for plain MLLP.
    tls_subject: Option<&'a str>,
}

impl Ingest {
    /// A pipeline storing into `store`.
    pub fn new(store: Arc<Store>, opts: IngestOptions, metrics: IngestMetrics) -> Ingest {
        Ingest { store, opts, metrics, ack_counter: AtomicU64::new(0), draining: Default::default() }
    }

    /// From now on every message is answered AR "retry later" (ERR 207) without being stored: the
    /// appliance is shutting down. Messages already being stored finish normally.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    /// The metrics.
    pub fn metrics(&self) -> &IngestMetrics {
        &self.metrics
    }

    /// The storage engine.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc().to_offset(self.opts.utc_offset)
    }

    /// A new MSH-10 for an ACK: 17-digit timestamp plus a 3-digit counter (20 characters, ST(20)).
    fn ack_control_id(&self, now: OffsetDateTime) -> (String, String) {
        let ts = now
            .format(time::macros::format_description!("[year][month][day][hour][minute][second][subsecond digits:3]"))
            .unwrap_or_default();
        let n = self.ack_counter.fetch_add(1, Ordering::Relaxed) % 1000;
        let msh7 = format!("{}.{}", &ts[..14], &ts[14..]);
        (format!("{ts}{n:03}"), msh7)
    }

    /// Handles one framed message from `peer` and returns the ACK to send.
    pub async fn process(&self, raw: &[u8], peer: &str) -> Processed {
        self.process_inner(raw, peer, None, None).await
    }

    /// As [`Ingest::process`], for a message that came over TLS from a client certificate with
    /// `tls_subject` (`None`: plain MLLP): a facility with `tls_client_subjects` accepts it only
    /// from one of those.
    pub async fn process_from(&self, raw: &[u8], peer: &str, tls_subject: Option<&str>) -> Processed {
        self.process_inner(raw, peer, None, tls_subject).await
    }

    /// Answers a frame that exceeded `limit` bytes: AR, and its first `limit` bytes (`head`) kept in
    /// the quarantine.
    pub async fn refuse_oversize(&self, head: &[u8], limit: usize, peer: &str) -> Processed {
        self.process_inner(head, peer, Some(limit), None).await
    }

    async fn process_inner(
        &self,
        raw: &[u8],
        peer: &str,
        oversize: Option<usize>,
        tls_subject: Option<&str>,
    ) -> Processed {
        let started = Instant::now();
        let now = self.now();
        let received_at = now
            .format(time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3][offset_hour sign:mandatory]:[offset_minute]"
            ))
            .unwrap_or_default();
        let (ack_id, ack_ts) = self.ack_control_id(now);

        // Decode strictly; for an ACK to a message we cannot decode, read MSH leniently.
        let decoded = hakobune_hl7::charset::decode(raw);
        let text = match &decoded {
            Ok(d) => d.text.clone(),
            Err(_) => encoding_rs::ISO_2022_JP.decode_without_bom_handling(raw).0.into_owned(),
        };
        let parsed = Message::parse(&text);
        let mut facility_id: Option<String> = None;
        let mut data_type = "unknown".to_string();
        let result = match oversize {
            _ if self.draining.load(Ordering::SeqCst) => Err(Refusal {
                code: AckCode::AR,
                kind: "shutting-down",
                errors: vec![
                    ErrorDetail::new(
                        ErrorCode::ApplicationInternalError,
                        "the appliance is shutting down; retry later",
                    )
                    .user_message("蓄積サーバが停止処理中です。時間をおいて再送してください"),
                ],
                quarantine: false,
            }),
            Some(limit) => Err(Refusal::new(
                AckCode::AR,
                "oversize",
                ErrorDetail::new(
                    ErrorCode::ApplicationInternalError,
                    format!(
                        "message exceeds the limit of {limit} bytes (its first {limit} bytes are kept in quarantine)"
                    ),
                )
                .user_message(format!("メッセージが上限（{limit}バイト）を超えています")),
            )),
            None => {
                let arrival = Arrival { received_at: &received_at, tls_subject };
                self.pipeline(raw, &decoded, &parsed, &arrival, &mut facility_id, &mut data_type).await
            }
        };

        let msg = parsed.as_ref().ok();
        let (code, ack, stored_as) = match result {
            Ok((outcome, warnings)) => {
                let mut b = AckBuilder::new(AckCode::AA, &ack_id, &ack_ts).errors(warnings);
                if let Some(m) = msg {
                    b = b.original(m);
                }
                let stored_as = match outcome {
                    Outcome::Stored { file_name, .. } => Some(file_name),
                    Outcome::Duplicate => {
                        self.metrics.duplicates.inc();
                        b = b.text("duplicate: already stored, not stored again");
                        None
                    }
                };
                (AckCode::AA, b.build(), stored_as)
            }
            Err(refusal) => {
                if refusal.quarantine {
                    let reason = QuarantineReason {
                        received_at: received_at.clone(),
                        peer: peer.to_owned(),
                        facility_id: facility_id.clone(),
                        control_id: msg.map(|m| m.get("MSH-10").to_owned()).filter(|s| !s.is_empty()),
                        ack_code: refusal.code.as_str().to_owned(),
                        kind: refusal.kind.to_owned(),
                        detail: refusal.errors.iter().map(|e| e.diagnostic.as_str()).collect::<Vec<_>>().join("; "),
                    };
                    let store = self.store.clone();
                    let raw_owned = raw.to_vec();
                    let kept = tokio::task::spawn_blocking(move || store.quarantine().keep(&raw_owned, &reason)).await;
                    match kept {
                        Ok(Ok(path)) => {
                            tracing::warn!(peer, kind = refusal.kind, path = %path.display(), code = refusal.code.as_str(),
                                detail = %refusal.errors.first().map(|e| e.diagnostic.as_str()).unwrap_or(""), "message refused and quarantined");
                        }
                        Ok(Err(e)) => {
                            tracing::error!(peer, error = %e, "could not quarantine a refused message")
                        }
                        Err(e) => tracing::error!(peer, error = %e, "quarantine task failed"),
                    }
                    self.metrics.quarantined.get_or_create(&QuarantineLabels { kind: refusal.kind.to_owned() }).inc();
                } else {
                    tracing::warn!(peer, kind = refusal.kind, "message not stored (temporary): sender must retry");
                }
                let mut b = AckBuilder::new(refusal.code, &ack_id, &ack_ts).errors(refusal.errors);
                if let Some(m) = msg {
                    b = b.original(m);
                }
                (refusal.code, b.build(), None)
            }
        };
        self.metrics
            .messages
            .get_or_create(&MessageLabels {
                facility: facility_id.unwrap_or_else(|| "unknown".into()),
                data_type,
                ack: code.as_str().into(),
            })
            .inc();
        self.metrics.ack_seconds.observe(started.elapsed().as_secs_f64());
        Processed { code, ack, stored_as }
    }

    async fn pipeline(
        &self,
        raw: &[u8],
        decoded: &Result<hakobune_hl7::charset::Decoded, hakobune_hl7::charset::EncodingError>,
        parsed: &Result<Message, hakobune_hl7::ParseError>,
        arrival: &Arrival<'_>,
        facility_out: &mut Option<String>,
        data_type_out: &mut String,
    ) -> Result<(Outcome, Vec<ErrorDetail>), Refusal> {
        let msg = match parsed {
            Ok(m) => m,
            Err(e) => {
                return Err(Refusal::new(
                    AckCode::AR,
                    "not-hl7",
                    ErrorDetail::new(ErrorCode::SegmentSequenceError, format!("not an HL7 v2 message: {e}"))
                        .at(Location::segment("MSH", 1))
                        .user_message("HL7メッセージとして解釈できません"),
                ));
            }
        };
        let decoded = match decoded {
            Ok(d) => d,
            Err(e) => {
                return Err(Refusal::new(
                    AckCode::AE,
                    "encoding",
                    ErrorDetail::new(ErrorCode::DataTypeError, format!("character encoding: {e}"))
                        .at(Location::field("MSH", 1, 18))
                        .user_message("文字コードが不正です（SS-MIX2はISO-2022-JP、JIS X 0208のみ）"),
                ));
            }
        };
        let charset = hakobune_hl7::charset::declared_charset(msg);
        if !charset.is_supported() {
            return Err(Refusal::new(
                AckCode::AE,
                "charset",
                ErrorDetail::new(ErrorCode::TableValueNotFound, format!("unsupported character set in MSH-18/MSH-20: {charset:?}; SS-MIX2 requires ~ISO IR87 / ISO 2022-1994"))
                    .at(Location::field("MSH", 1, 18))
                    .user_message("文字セット（MSH-18）がSS-MIX2の規定と異なります"),
            ));
        }
        let msh4 = msg.get("MSH-4.1");
        let Some(facility) = self.opts.config.facility_by_msh4(msh4) else {
            return Err(Refusal::new(
                AckCode::AR,
                "unknown-facility",
                ErrorDetail::new(
                    ErrorCode::TableValueNotFound,
                    format!("sending facility {msh4:?} (MSH-4) is not registered on this appliance"),
                )
                .at(Location::field("MSH", 1, 4))
                .user_message("送信元施設（MSH-4）が登録されていません"),
            ));
        };
        *facility_out = Some(facility.id.clone());
        if let Some(subject) = arrival.tls_subject
            && !facility.tls_client_subjects.is_empty()
            && !hakobune_tls::subject_matches(subject, &facility.tls_client_subjects)
        {
            return Err(Refusal::new(
                AckCode::AR,
                "tls-client-not-of-facility",
                ErrorDetail::new(
                    ErrorCode::ApplicationInternalError,
                    format!(
                        "the TLS client certificate {subject:?} is not one of facility {}'s gateways (tls_client_subjects)",
                        facility.id
                    ),
                )
                .at(Location::field("MSH", 1, 4))
                .user_message("この接続の証明書では、送信元施設（MSH-4）のデータを送信できません"),
            ));
        }
        let c = hakobune_ssmix2::classify(msg, &facility.rules).map_err(classify_refusal)?;
        *data_type_out = c.key.data_type.code().to_owned();

        let mut warnings = Vec::new();
        if !decoded.outside_jis_x0208.is_empty() {
            let details: Vec<ErrorDetail> = decoded
                .outside_jis_x0208
                .iter()
                .take(MAX_CHARACTER_ERRORS)
                .map(|issue| {
                    let mut d = ErrorDetail::new(
                        ErrorCode::DataTypeError,
                        format!(
                            "character {:?} (U+{:04X}) is outside JIS X 0208: {}",
                            issue.ch, issue.ch as u32, issue.kind
                        ),
                    )
                    .user_message(format!("JIS X 0208 外の文字「{}」が含まれています", issue.ch));
                    if let Some(loc) = issue.location(msg) {
                        d = d.at(loc);
                    }
                    d
                })
                .collect();
            match self.opts.config.non_jis_policy(facility) {
                NonJisPolicy::Reject => {
                    return Err(Refusal {
                        code: AckCode::AE,
                        kind: "non-jis-x0208",
                        errors: details,
                        quarantine: true,
                    });
                }
                NonJisPolicy::AcceptWithWarning => {
                    warnings = details.into_iter().map(|d| d.severity(Severity::Warning)).collect();
                }
            }
        }

        let name = FileName {
            key: c.key.clone(),
            occurred: c.occurred.clone(),
            department: c.department.clone(),
            flag: c.processing.new_file_flag(),
        };
        let entry = Entry {
            volume_label: String::new(),
            facility_id: facility.id.clone(),
            patient_id: c.key.patient_id.as_str().to_owned(),
            order_date: c.key.care_date.as_str().to_owned(),
            data_kind: c.key.data_type.code().to_owned(),
            order_no: c.key.order_number.as_str().to_owned(),
            processing: match c.processing {
                ProcessingType::Del => Processing::Del,
                _ => Processing::Ins,
            },
            enter_org_cd: c.department.as_str().to_owned(),
            transaction_datetime: c.occurred.as_str().to_owned(),
            out_rel_directory: c.key.relative_dir(),
            stem: name.stem(),
            key_prefix: c.key.file_name_prefix(),
            control_id: c.control_id.clone(),
            message_type: format!("{}^{}", msg.get("MSH-9.1"), msg.get("MSH-9.2")),
            byte_len: raw.len() as u64,
            sha256: String::new(),
            wal_seq: 0,
            received_at: arrival.received_at.to_owned(),
            extension: String::new(),
        };
        match self.store.submit(Submission { entry, raw: raw.to_vec() }).await {
            Ok(outcome) => Ok((outcome, warnings)),
            Err(e) => Err(store_refusal(e)),
        }
    }
}

fn to_hl7_location(l: &hakobune_ssmix2::Location) -> Location {
    let mut loc = Location::field(&l.segment, 1, l.field);
    loc.component = l.component;
    loc.subcomponent = l.subcomponent;
    loc
}

fn classify_refusal(e: ClassifyError) -> Refusal {
    let code = e.code();
    let (ack, kind) = match code {
        ErrorCode::UnsupportedMessageType | ErrorCode::UnsupportedEventCode | ErrorCode::UnsupportedVersionId => {
            (AckCode::AR, "unsupported")
        }
        _ => (AckCode::AE, "classification"),
    };
    let detail = ErrorDetail::new(code, e.to_string()).at(to_hl7_location(&e.location())).user_message(e.message_ja());
    Refusal::new(ack, kind, detail)
}

fn store_refusal(e: StoreError) -> Refusal {
    tracing::error!(error = %e, "storage refused a message");
    let user = match e {
        StoreError::DiskFull { .. } => "蓄積サーバの空き容量が不足しています。時間をおいて再送してください",
        _ => "蓄積サーバが一時的に保存できません。時間をおいて再送してください",
    };
    Refusal {
        code: AckCode::AR,
        kind: "storage-unavailable",
        errors: vec![
            ErrorDetail::new(ErrorCode::ApplicationInternalError, format!("cannot store now, retry later: {e}"))
                .user_message(user),
        ],
        quarantine: false,
    }
}
