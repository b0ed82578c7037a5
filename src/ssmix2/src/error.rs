//! Classification errors, shaped for an HL7 ERR segment.

use crate::location::Location;
use crate::names::{OrderNumberError, PatientIdError, TimestampError};
use crate::table::DataType;

/// HL7 table 0357 (message error condition codes): ERR-3. The one definition lives in
/// `hakobune-hl7`, next to the ACK builder that writes it.
pub use hakobune_hl7::ack::ErrorCode;

fn list(candidates: &[DataType]) -> String {
    candidates.iter().map(|d| d.code()).collect::<Vec<_>>().join(", ")
}

/// Why a message cannot be stored in the standardized storage. Every variant knows its HL7
/// location ([`ClassifyError::location`]), its table 0357 code ([`ClassifyError::code`]), an
/// English message (`Display`) and a short Japanese one ([`ClassifyError::message_ja`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClassifyError {
    /// MSH-12 is not an accepted version (203).
    #[error("unsupported HL7 version {found:?} in MSH-12: SS-MIX2 requires 2.5")]
    UnsupportedVersion {
        /// The MSH-12.1 value.
        found: String,
    },
    /// A required field is empty (101).
    #[error("required field {location} ({what}) is missing")]
    MissingField {
        /// Where.
        location: Location,
        /// What the field is, in English (e.g. `patient ID`).
        what: &'static str,
    },
    /// A required segment is missing (100).
    #[error("required segment {segment} ({what}) is missing")]
    MissingSegment {
        /// The segment ID.
        segment: String,
        /// What was looked for in it, in English.
        what: &'static str,
    },
    /// MSH-9.1 is not a message type of the standardized storage (200).
    #[error("message type {message_code:?} (MSH-9.1) is not stored in the SS-MIX2 standardized storage")]
    UnsupportedMessageType {
        /// MSH-9.1.
        message_code: String,
    },
    /// MSH-9.2 is not a trigger event of the standardized storage for MSH-9.1 (201).
    #[error("trigger event {message_code}^{trigger_event} (MSH-9) is not stored in the SS-MIX2 standardized storage")]
    UnsupportedEvent {
        /// MSH-9.1.
        message_code: String,
        /// MSH-9.2.
        trigger_event: String,
    },
    /// The message type maps to several data types and no rule decided (103).
    #[error(
        "cannot decide the SS-MIX2 data type of {message} (one of {}): no configured or built-in rule matched {location}",
        list(candidates)
    )]
    AmbiguousDataType {
        /// `TYPE^TRIGGER`.
        message: String,
        /// The data types the table allows.
        candidates: Vec<DataType>,
        /// The field the built-in rules look at.
        location: Location,
    },
    /// The patient ID cannot be used in a path (102).
    #[error("patient ID {value:?} in {location} is not usable: {reason}")]
    InvalidPatientId {
        /// Where.
        location: Location,
        /// The value (after padding).
        value: String,
        /// Why.
        reason: PatientIdError,
    },
    /// The 診療日 field is not a date (102).
    #[error("care date (shinryo-bi) {value:?} in {location} is not a date YYYYMMDD")]
    InvalidCareDate {
        /// Where.
        location: Location,
        /// The value.
        value: String,
    },
    /// MSH-7 cannot give a 17-digit 発生日時 (102).
    #[error("message date/time {value:?} in MSH-7 is not usable: {reason}")]
    InvalidTimestamp {
        /// The MSH-7.1 value.
        value: String,
        /// Why.
        reason: TimestampError,
    },
    /// The order number cannot be used in a file name (102).
    #[error("order number {value:?} in {location} is not usable: {reason}")]
    InvalidOrderNumber {
        /// Where.
        location: Location,
        /// The value.
        value: String,
        /// Why.
        reason: OrderNumberError,
    },
    /// The department is not an SS-MIX2 unified department code (103).
    #[error(
        "department {value:?} in {location} is not an SS-MIX2 unified department code (2 or 3 characters 0-9, A-Z)"
    )]
    InvalidDepartment {
        /// Where.
        location: Location,
        /// The value.
        value: String,
    },
}

impl ClassifyError {
    /// HL7 table 0357 code for ERR-3.
    pub fn code(&self) -> ErrorCode {
        match self {
            ClassifyError::UnsupportedVersion { .. } => ErrorCode::UnsupportedVersionId,
            ClassifyError::MissingField { .. } => ErrorCode::RequiredFieldMissing,
            ClassifyError::MissingSegment { .. } => ErrorCode::SegmentSequenceError,
            ClassifyError::UnsupportedMessageType { .. } => ErrorCode::UnsupportedMessageType,
            ClassifyError::UnsupportedEvent { .. } => ErrorCode::UnsupportedEventCode,
            ClassifyError::AmbiguousDataType { .. } => ErrorCode::TableValueNotFound,
            ClassifyError::InvalidPatientId { .. } => ErrorCode::DataTypeError,
            ClassifyError::InvalidCareDate { .. } => ErrorCode::DataTypeError,
            ClassifyError::InvalidTimestamp { .. } => ErrorCode::DataTypeError,
            ClassifyError::InvalidOrderNumber { .. } => ErrorCode::DataTypeError,
            ClassifyError::InvalidDepartment { .. } => ErrorCode::TableValueNotFound,
        }
    }

    /// HL7 location of the error for ERR-2 (first occurrence of the segment).
    pub fn location(&self) -> Location {
        match self {
            ClassifyError::UnsupportedVersion { .. } => Location::new("MSH", 12, Some(1)),
            ClassifyError::MissingField { location, .. }
            | ClassifyError::AmbiguousDataType { location, .. }
            | ClassifyError::InvalidPatientId { location, .. }
            | ClassifyError::InvalidCareDate { location, .. }
            | ClassifyError::InvalidOrderNumber { location, .. }
            | ClassifyError::InvalidDepartment { location, .. } => location.clone(),
            ClassifyError::MissingSegment { segment, .. } => Location::segment(segment),
            ClassifyError::UnsupportedMessageType { .. } => Location::new("MSH", 9, Some(1)),
            ClassifyError::UnsupportedEvent { .. } => Location::new("MSH", 9, Some(2)),
            ClassifyError::InvalidTimestamp { .. } => Location::new("MSH", 7, Some(1)),
        }
    }

    /// A short Japanese message (for ERR-8 or an operator screen).
    pub fn message_ja(&self) -> String {
        let loc = self.location();
        match self {
            ClassifyError::UnsupportedVersion { found } => {
                format!("HL7バージョン(MSH-12)が2.5ではありません: {found}")
            }
            ClassifyError::MissingField { .. } => format!("必須項目 {loc} がありません"),
            ClassifyError::MissingSegment { segment, .. } => {
                format!("必須セグメント {segment} がありません")
            }
            ClassifyError::UnsupportedMessageType { message_code } => {
                format!("標準化ストレージの対象外のメッセージ型です: {message_code}")
            }
            ClassifyError::UnsupportedEvent { message_code, trigger_event } => {
                format!("標準化ストレージの対象外のトリガーイベントです: {message_code}^{trigger_event}")
            }
            ClassifyError::AmbiguousDataType { message, candidates, .. } => {
                format!("データ種別を判定できません: {message} ({})", list(candidates))
            }
            ClassifyError::InvalidPatientId { value, .. } => {
                format!("患者ID({loc})が使用できません: {value}")
            }
            ClassifyError::InvalidCareDate { value, .. } => {
                format!("診療日({loc})が日付(YYYYMMDD)ではありません: {value}")
            }
            ClassifyError::InvalidTimestamp { value, reason } => match reason {
                TimestampError::MissingSeconds => {
                    format!("発生日時(MSH-7)は秒までの精度が必須です: {value}")
                }
                _ => format!("発生日時(MSH-7)が不正です: {value}"),
            },
            ClassifyError::InvalidOrderNumber { value, .. } => {
                format!("オーダ番号({loc})が使用できません: {value}")
            }
            ClassifyError::InvalidDepartment { value, .. } => {
                format!("診療科コード({loc})がSS-MIX2統一診療科コードの形式ではありません: {value}")
            }
        }
    }
}
