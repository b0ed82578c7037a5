//! Transaction storage: the `#SSMIX` header line and `TR_*.DAT` file names.
//!
//! Layout (guideline 1.2g P32～, as quoted by NHO):
//! `<transaction root>/<YYYY>/TR_<YYYYMMDDHHMMSSfff>_<nnnnn>.DAT`, each message preceded by a
//! header line `#SSMIX,2.00,<医療施設ID>,<患者ID>,<診療日|->,<データ種別>,<オーダNo>,<INS|DEL>,
//! <診療科|->,<トランザクション日時17>`. Which line terminator separates the header from the HL7
//! text is not documented in the sources at hand: the functions here produce and accept the line
//! without it (a parser strips trailing CR/LF).

use std::fmt;

use serde::Serialize;

use crate::classify::Classification;
use crate::names::{
    CareDate, Department, InvalidCareDate, InvalidDepartment, InvalidProcessingType, OccurrenceTime, OrderNumber,
    OrderNumberError, PatientId, PatientIdError, ProcessingType, StorageKey, TimestampError,
};
use crate::table::UnknownDataType;

/// First field of a header line.
pub const HEADER_MARKER: &str = "#SSMIX";
/// Header version written by [`transaction_header`] (its meaning is not documented; every known
/// example has `2.00`).
pub const HEADER_VERSION: &str = "2.00";

/// A parsed `#SSMIX` header line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransactionHeader {
    /// Header version (`2.00`).
    pub version: String,
    /// 医療施設ID.
    pub facility_id: String,
    /// The version key.
    pub key: StorageKey,
    /// 処理区分.
    pub processing: ProcessingType,
    /// 診療科コード or `-`.
    pub department: Department,
    /// トランザクション日時 (17 digits).
    pub transaction_time: OccurrenceTime,
}

/// Why a line is not a `#SSMIX` header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransactionHeaderError {
    /// Does not start with `#SSMIX,`.
    #[error("not an #SSMIX header line")]
    NotAHeader,
    /// Not 10 comma-separated fields.
    #[error("expected 10 comma-separated fields, found {0}")]
    FieldCount(usize),
    /// Empty version or facility ID, or a facility ID with characters other than ASCII letters
    /// and digits.
    #[error("invalid version or facility ID")]
    InvalidFacility,
    /// Bad patient ID.
    #[error("patient ID: {0}")]
    PatientId(PatientIdError),
    /// Bad 診療日.
    #[error(transparent)]
    CareDate(InvalidCareDate),
    /// Unknown data type.
    #[error(transparent)]
    DataType(UnknownDataType),
    /// Bad order number.
    #[error("order number: {0}")]
    OrderNumber(OrderNumberError),
    /// Not INS/DEL.
    #[error(transparent)]
    Processing(InvalidProcessingType),
    /// Bad department.
    #[error(transparent)]
    Department(InvalidDepartment),
    /// Bad transaction time.
    #[error("transaction time: {0}")]
    Timestamp(TimestampError),
}

impl TransactionHeader {
    /// The header for a classified message; the transaction time is its 発生日時.
    pub fn from_classification(facility_id: &str, c: &Classification) -> TransactionHeader {
        TransactionHeader {
            version: HEADER_VERSION.to_owned(),
            facility_id: facility_id.to_owned(),
            key: c.key.clone(),
            processing: c.processing,
            department: c.department.clone(),
            transaction_time: c.occurred.clone(),
        }
    }

    /// Parses a header line (trailing CR/LF ignored). Tolerant like
    /// [`FileName::parse`](crate::FileName::parse) for the key parts.
    pub fn parse(line: &str) -> Result<TransactionHeader, TransactionHeaderError> {
        use TransactionHeaderError as E;
        let line = line.trim_end_matches(['\r', '\n']);
        let parts: Vec<&str> = line.split(',').collect();
        if parts.first() != Some(&HEADER_MARKER) {
            return Err(E::NotAHeader);
        }
        let [_, version, facility, pid, date, dt, order, processing, dept, ts] = parts[..] else {
            return Err(E::FieldCount(parts.len()));
        };
        if version.is_empty() || facility.is_empty() || !facility.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(E::InvalidFacility);
        }
        Ok(TransactionHeader {
            version: version.to_owned(),
            facility_id: facility.to_owned(),
            key: StorageKey {
                patient_id: PatientId::new(pid).map_err(E::PatientId)?,
                care_date: CareDate::parse(date).map_err(E::CareDate)?,
                data_type: dt.parse().map_err(E::DataType)?,
                order_number: OrderNumber::parse(order).map_err(E::OrderNumber)?,
            },
            processing: processing.parse().map_err(E::Processing)?,
            department: Department::parse(dept).map_err(E::Department)?,
            transaction_time: OccurrenceTime::parse(ts).map_err(E::Timestamp)?,
        })
    }
}

/// The fields of a header line as text, in their order on the line: what a writer that keeps
/// them as strings (the store's index entries) formats with [`HeaderFields::line`], the same way
/// [`TransactionHeader`] displays.
#[derive(Debug, Clone, Copy)]
pub struct HeaderFields<'a> {
    /// Header version ([`HEADER_VERSION`] for what this crate writes).
    pub version: &'a str,
    /// 医療施設ID.
    pub facility_id: &'a str,
    /// 患者ID.
    pub patient_id: &'a str,
    /// 診療日 (`YYYYMMDD` or `-`).
    pub care_date: &'a str,
    /// データ種別 (e.g. `ADT-00`).
    pub data_type: &'a str,
    /// オーダNo (or `-`).
    pub order_number: &'a str,
    /// `INS` or `DEL`.
    pub processing: &'a str,
    /// 診療科 (or `-`).
    pub department: &'a str,
    /// トランザクション日時, 17 digits.
    pub transaction_time: &'a str,
}

impl HeaderFields<'_> {
    /// The `#SSMIX,2.00,…` line (no line terminator).
    pub fn line(&self) -> String {
        format!(
            "{HEADER_MARKER},{},{},{},{},{},{},{},{},{}",
            self.version,
            self.facility_id,
            self.patient_id,
            self.care_date,
            self.data_type,
            self.order_number,
            self.processing,
            self.department,
            self.transaction_time
        )
    }
}

impl fmt::Display for TransactionHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let line = HeaderFields {
            version: &self.version,
            facility_id: &self.facility_id,
            patient_id: &self.key.patient_id.to_string(),
            care_date: &self.key.care_date.to_string(),
            data_type: &self.key.data_type.to_string(),
            order_number: &self.key.order_number.to_string(),
            processing: &self.processing.to_string(),
            department: &self.department.to_string(),
            transaction_time: &self.transaction_time.to_string(),
        }
        .line();
        f.write_str(&line)
    }
}

/// The `#SSMIX,2.00,…` header line for a classified message (no line terminator). The facility
/// ID is written verbatim: validate it first (see [`FacilityId`](crate::FacilityId)).
pub fn transaction_header(facility_id: &str, c: &Classification) -> String {
    TransactionHeader::from_classification(facility_id, c).to_string()
}

/// `TR_<ts17>_<nnnnn>.DAT`: `seq` zero-padded to 5 digits (wider if it does not fit).
pub fn transaction_file_name(ts17: &str, seq: u32) -> String {
    format!("TR_{ts17}_{seq:05}.DAT")
}

/// Parses `TR_<ts17>_<nnnnn>.DAT` into the 17-digit time and the sequence number.
pub fn parse_transaction_file_name(name: &str) -> Option<(OccurrenceTime, u32)> {
    let rest = name.strip_prefix("TR_")?.strip_suffix(".DAT")?;
    let (ts, seq) = rest.split_once('_')?;
    if seq.len() < 5 || !seq.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((OccurrenceTime::from_ts17(ts).ok()?, seq.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip() {
        let line = "#SSMIX,2.00,9999999999,0000000123,20220101,OMP-01,000000000012345,DEL,-,20220101235959567";
        let h = TransactionHeader::parse(&format!("{line}\r\n")).unwrap();
        assert_eq!(h.facility_id, "9999999999");
        assert_eq!(h.key.patient_id.as_str(), "0000000123");
        assert_eq!(h.key.care_date.as_str(), "20220101");
        assert_eq!(h.processing, ProcessingType::Del);
        assert_eq!(h.department, Department::NONE);
        assert_eq!(h.to_string(), line);
        let adt = "#SSMIX,2.00,9999999999,0000000123,-,ADT-00,999999999999999,DEL,-,20220101235959567";
        assert_eq!(TransactionHeader::parse(adt).unwrap().to_string(), adt);
    }

    #[test]
    fn header_errors() {
        use TransactionHeaderError as E;
        assert_eq!(TransactionHeader::parse("MSH|^~\\&"), Err(E::NotAHeader));
        assert_eq!(TransactionHeader::parse(""), Err(E::NotAHeader));
        assert_eq!(TransactionHeader::parse("#SSMIX,2.00"), Err(E::FieldCount(2)));
        let bad = |i: usize, v: &str| {
            let mut p: Vec<&str> =
                "#SSMIX,2.00,9999999999,0000000123,20220101,OMP-01,000000000012345,INS,01,20220101235959567"
                    .split(',')
                    .collect();
            p[i] = v;
            TransactionHeader::parse(&p.join(","))
        };
        assert_eq!(bad(0, "x"), Err(E::NotAHeader));
        assert!(matches!(bad(2, "99/9"), Err(E::InvalidFacility)));
        assert!(matches!(bad(3, "a_b"), Err(E::PatientId(_))));
        assert!(matches!(bad(4, "2022"), Err(E::CareDate(_))));
        assert!(matches!(bad(5, "OMP-99"), Err(E::DataType(_))));
        assert!(matches!(bad(6, ""), Err(E::OrderNumber(_))));
        assert!(matches!(bad(7, "UPD"), Err(E::Processing(_))));
        assert!(matches!(bad(8, "内科"), Err(E::Department(_))));
        assert!(matches!(bad(9, "x"), Err(E::Timestamp(_))));
        assert!(bad(8, "01").is_ok());
    }

    #[test]
    fn file_names() {
        assert_eq!(transaction_file_name("20220101235959567", 1), "TR_20220101235959567_00001.DAT");
        assert_eq!(transaction_file_name("20220101235959567", 123456), "TR_20220101235959567_123456.DAT");
        let (ts, seq) = parse_transaction_file_name("TR_20220101235959567_00042.DAT").unwrap();
        assert_eq!((ts.as_str(), ts.year(), seq), ("20220101235959567", "2022", 42));
        assert!(parse_transaction_file_name("TR_20220101235959567_42.DAT").is_none());
        assert!(parse_transaction_file_name("TR_2022010123595956_00042.DAT").is_none());
        assert!(parse_transaction_file_name("TR_20220101235959567_00042.dat").is_none());
        assert!(parse_transaction_file_name("TR_20220101235959567_99999999999.DAT").is_none());
    }
}
