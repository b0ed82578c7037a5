//! File names and folders of the standardized storage, and the values they are made of.
//!
//! Every value type here holds only characters that are safe in a path component: ASCII letters,
//! digits and `-`. Strict constructors produce the canonical SS-MIX2 form; the tolerant
//! `parse` functions also accept what older or hand-made storages contain, and keep the text
//! exactly, so that `Display` gives back the stored name.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

use crate::table::DataType;

/// The order number used by data types without one (`ADT-*`, `PPR-01`, `OMG-13`).
pub const NO_ORDER_NUMBER: &str = "999999999999999";

fn is_safe_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-'
}

fn first_unsafe(s: &str) -> Option<char> {
    s.chars().find(|&c| !is_safe_char(c))
}

macro_rules! serialize_as_str {
    ($t:ty) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Patient ID

/// A patient ID (患者ID) usable in folder and file names: 1 to 15 characters (SSMIXIDX
/// `PatientID` is VARCHAR(15)), ASCII letters, digits and `-` only. So never empty, `.`, `..`,
/// and never contains `/`, `\`, `_`, whitespace or control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PatientId(String);

/// Why a string is not a usable patient ID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatientIdError {
    /// Empty.
    #[error("empty")]
    Empty,
    /// Longer than 15 characters.
    #[error("{len} characters, at most 15 allowed")]
    TooLong {
        /// Length in characters.
        len: usize,
    },
    /// Shorter than the configured minimum.
    #[error("{len} characters, at least {min} required")]
    TooShort {
        /// Length in characters.
        len: usize,
        /// The configured minimum.
        min: usize,
    },
    /// Contains a character that is not safe in a path component.
    #[error("character {0:?} is not allowed (only ASCII letters, digits and '-')")]
    InvalidChar(char),
}

impl PatientId {
    /// Maximum length (SSMIXIDX `PatientID` VARCHAR(15)).
    pub const MAX_LEN: usize = 15;

    /// Validates a patient ID (1..=15 safe characters).
    pub fn new(s: &str) -> Result<PatientId, PatientIdError> {
        if s.is_empty() {
            return Err(PatientIdError::Empty);
        }
        if let Some(c) = first_unsafe(s) {
            return Err(PatientIdError::InvalidChar(c));
        }
        if s.len() > Self::MAX_LEN {
            return Err(PatientIdError::TooLong { len: s.len() });
        }
        Ok(PatientId(s.to_owned()))
    }

    /// The ID text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first two folder levels: `pid[0:3]` and `pid[3:6]`. The second is empty for IDs of
    /// 3 characters or fewer.
    pub fn prefix_dirs(&self) -> (&str, &str) {
        let s = self.0.as_str();
        let a = s.len().min(3);
        let b = s.len().min(6);
        // ASCII only: every index is a char boundary.
        (&s[..a], &s[a..b])
    }
}

impl fmt::Display for PatientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

serialize_as_str!(PatientId);

// ---------------------------------------------------------------------------------------------
// Care date

/// The 診療日 part of a key: `YYYYMMDD` (a valid Gregorian date) or none (`-`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CareDate(Option<String>);

/// A string that is not a 診療日.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a date YYYYMMDD (or `-`)")]
pub struct InvalidCareDate(pub String);

pub(crate) fn is_valid_ymd(y: u32, m: u32, d: u32) -> bool {
    let leap = (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400);
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    y >= 1 && (1..=days).contains(&d)
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Parses `YYYYMMDD` (exactly 8 digits, valid date) into (y, m, d).
pub(crate) fn parse_ymd(s: &str) -> Option<(u32, u32, u32)> {
    if s.len() != 8 || !all_digits(s) {
        return None;
    }
    let y = s[0..4].parse().ok()?;
    let m = s[4..6].parse().ok()?;
    let d = s[6..8].parse().ok()?;
    is_valid_ymd(y, m, d).then_some((y, m, d))
}

impl CareDate {
    /// No date: the `-` folder.
    pub const NONE: CareDate = CareDate(None);

    /// A date from exactly `YYYYMMDD`.
    pub fn from_ymd(s: &str) -> Result<CareDate, InvalidCareDate> {
        match parse_ymd(s) {
            Some(_) => Ok(CareDate(Some(s.to_owned()))),
            None => Err(InvalidCareDate(s.to_owned())),
        }
    }

    /// A date from an HL7 TS/DTM value: its first 8 characters must be a valid `YYYYMMDD`.
    pub fn from_hl7(value: &str) -> Result<CareDate, InvalidCareDate> {
        match value.get(..8) {
            Some(head) => CareDate::from_ymd(head).map_err(|_| InvalidCareDate(value.to_owned())),
            None => Err(InvalidCareDate(value.to_owned())),
        }
    }

    /// `-` or `YYYYMMDD`, as in folder and file names.
    pub fn parse(s: &str) -> Result<CareDate, InvalidCareDate> {
        if s == "-" { Ok(CareDate::NONE) } else { CareDate::from_ymd(s) }
    }

    /// The date, if any.
    pub fn date(&self) -> Option<&str> {
        self.0.as_deref()
    }

    /// True for `-`.
    pub fn is_none(&self) -> bool {
        self.0.is_none()
    }

    /// `YYYYMMDD` or `-`.
    pub fn as_str(&self) -> &str {
        self.0.as_deref().unwrap_or("-")
    }
}

impl fmt::Display for CareDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

serialize_as_str!(CareDate);

// ---------------------------------------------------------------------------------------------
// Order number

/// The オーダNo part of a key. Canonical form: exactly 15 characters (ORC-2 left-padded with `0`,
/// or [`NO_ORDER_NUMBER`]). Tolerantly parsed names may hold 1 to 22 characters (SSMIXIDX
/// `OrderNo` is VARCHAR(22)); see [`OrderNumber::is_canonical`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrderNumber(String);

/// Why a string is not a usable order number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderNumberError {
    /// Empty.
    #[error("empty")]
    Empty,
    /// Longer than allowed.
    #[error("{len} characters, at most {max} allowed")]
    TooLong {
        /// Length in characters.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// Contains a character that is not safe in a file name.
    #[error("character {0:?} is not allowed (only ASCII letters, digits and '-')")]
    InvalidChar(char),
}

impl OrderNumber {
    /// Canonical length.
    pub const LEN: usize = 15;
    /// Longest order number a tolerant parse accepts.
    pub const MAX_STORED_LEN: usize = 22;

    /// [`NO_ORDER_NUMBER`].
    pub fn none() -> OrderNumber {
        OrderNumber(NO_ORDER_NUMBER.to_owned())
    }

    /// From an HL7 placer order number: 1..=15 safe characters, left-padded with `0` to 15.
    pub fn from_hl7(value: &str) -> Result<OrderNumber, OrderNumberError> {
        Self::check(value, Self::LEN)?;
        Ok(OrderNumber(format!("{value:0>15}")))
    }

    /// Tolerant: an order number as found in a stored file name (1..=22 safe characters, kept
    /// as is).
    pub fn parse(s: &str) -> Result<OrderNumber, OrderNumberError> {
        Self::check(s, Self::MAX_STORED_LEN)?;
        Ok(OrderNumber(s.to_owned()))
    }

    fn check(s: &str, max: usize) -> Result<(), OrderNumberError> {
        if s.is_empty() {
            return Err(OrderNumberError::Empty);
        }
        if let Some(c) = first_unsafe(s) {
            return Err(OrderNumberError::InvalidChar(c));
        }
        if s.len() > max {
            return Err(OrderNumberError::TooLong { len: s.len(), max });
        }
        Ok(())
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Exactly 15 characters.
    pub fn is_canonical(&self) -> bool {
        self.0.len() == Self::LEN
    }

    /// True for [`NO_ORDER_NUMBER`].
    pub fn is_none_marker(&self) -> bool {
        self.0 == NO_ORDER_NUMBER
    }

    /// Same order, ignoring left zero-padding: `2011122000300` and `002011122000300` are the same
    /// order. Use this to match legacy file names against a canonical key.
    pub fn same_order(&self, other: &OrderNumber) -> bool {
        self.0.trim_start_matches('0') == other.0.trim_start_matches('0')
    }
}

impl fmt::Display for OrderNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

serialize_as_str!(OrderNumber);

// ---------------------------------------------------------------------------------------------
// Occurrence time (発生日時)

/// What to do with an MSH-7 that has only minute precision (`YYYYMMDDHHMM`). The guideline text
/// says 「秒までの精度は必須」.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MinutePrecision {
    /// Accept it and use `00` seconds (default: a file name is still well defined, and rejecting
    /// would stop the sender's queue for a formality).
    #[default]
    Pad,
    /// Reject it (HL7 error 102).
    Reject,
}

/// The 発生日時 part of a file name. Canonical form: 17 digits `YYYYMMDDHHMMSSfff`. Tolerantly
/// parsed names may hold 8 to 17 digits; see [`OccurrenceTime::is_canonical`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OccurrenceTime(String);

/// Why a value is not a usable 発生日時.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimestampError {
    /// Empty.
    #[error("empty")]
    Empty,
    /// Not of the form `YYYYMMDDHHMMSS[.S[S[S[S]]]][+/-ZZZZ]`.
    #[error("not an HL7 date/time YYYYMMDDHHMMSS[.SSSS]")]
    Malformed,
    /// Only minute precision, and the rules require seconds.
    #[error("seconds are required (秒までの精度は必須)")]
    MissingSeconds,
    /// Less than minute precision.
    #[error("precision below seconds")]
    InsufficientPrecision,
    /// A calendar date or time of day that does not exist.
    #[error("date or time out of range")]
    OutOfRange,
}

impl OccurrenceTime {
    /// Canonical length.
    pub const LEN: usize = 17;

    /// From an HL7 DTM such as MSH-7.1: `YYYYMMDDHHMMSS[.S[S[S[S]]]]` with the `.` removed and the
    /// fraction truncated or zero-padded to 3 digits (`20111220224447.3399` →
    /// `20111220224447339`). A time-zone suffix (`+0900`) is accepted and dropped: the local wall
    /// time is used as sent. Digits running on past the seconds without a `.` are read as the
    /// fraction (`20080203163012345` → `20080203163012345`). Minute precision follows `minutes`.
    pub fn from_hl7(value: &str, minutes: MinutePrecision) -> Result<OccurrenceTime, TimestampError> {
        if value.is_empty() {
            return Err(TimestampError::Empty);
        }
        let v = match value.find(['+', '-']) {
            Some(i) => {
                let tz = &value[i + 1..];
                if tz.len() != 4 || !all_digits(tz) {
                    return Err(TimestampError::Malformed);
                }
                &value[..i]
            }
            None => value,
        };
        let (int, frac) = match v.split_once('.') {
            Some((a, b)) => (a, Some(b)),
            None => (v, None),
        };
        if !all_digits(int) || frac.is_some_and(|f| !f.is_empty() && !all_digits(f)) {
            return Err(TimestampError::Malformed);
        }
        let (secs, frac) = match (int.len(), frac) {
            (14, f) => (int.to_owned(), f.unwrap_or("")),
            (12, None) => match minutes {
                MinutePrecision::Pad => (format!("{int}00"), ""),
                MinutePrecision::Reject => return Err(TimestampError::MissingSeconds),
            },
            (n, None) if n > 14 => (int[..14].to_owned(), &int[14..]),
            (n, _) if n < 14 && n != 12 && n % 2 == 0 && n >= 4 => {
                return Err(TimestampError::InsufficientPrecision);
            }
            _ => return Err(TimestampError::Malformed),
        };
        check_datetime(&secs)?;
        let mut out = secs;
        out.extend(frac.chars().chain(std::iter::repeat('0')).take(3));
        Ok(OccurrenceTime(out))
    }

    /// Exactly `YYYYMMDDHHMMSSfff` (17 digits, valid date and time).
    pub fn from_ts17(s: &str) -> Result<OccurrenceTime, TimestampError> {
        if s.len() != Self::LEN || !all_digits(s) {
            return Err(TimestampError::Malformed);
        }
        check_datetime(&s[..14])?;
        Ok(OccurrenceTime(s.to_owned()))
    }

    /// Tolerant: a 発生日時 as found in a stored file name (8 to 17 digits, kept as is; the first
    /// 8 must be a valid date).
    pub fn parse(s: &str) -> Result<OccurrenceTime, TimestampError> {
        if !(8..=Self::LEN).contains(&s.len()) || !all_digits(s) {
            return Err(TimestampError::Malformed);
        }
        if parse_ymd(&s[..8]).is_none() {
            return Err(TimestampError::OutOfRange);
        }
        Ok(OccurrenceTime(s.to_owned()))
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Exactly 17 digits.
    pub fn is_canonical(&self) -> bool {
        self.0.len() == Self::LEN
    }

    /// `YYYY`: the transaction-storage year folder.
    pub fn year(&self) -> &str {
        self.0.get(..4).unwrap_or("")
    }
}

fn check_datetime(secs14: &str) -> Result<(), TimestampError> {
    if parse_ymd(&secs14[..8]).is_none() {
        return Err(TimestampError::OutOfRange);
    }
    let num = |r: std::ops::Range<usize>| secs14[r].parse::<u32>().unwrap_or(99);
    if num(8..10) > 23 || num(10..12) > 59 || num(12..14) > 59 {
        return Err(TimestampError::OutOfRange);
    }
    Ok(())
}

impl fmt::Display for OccurrenceTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

serialize_as_str!(OccurrenceTime);

// ---------------------------------------------------------------------------------------------
// Department

/// The 診療科コード part of a file name: an SS-MIX2 unified department code (2 or 3 characters
/// `[0-9A-Z]`, e.g. `01`, `011`, `9Z`) or none (`-`). Tolerantly parsed names may hold 1 to 5
/// characters `[0-9A-Za-z]` (SSMIXIDX `EnterOrgCD` is VARCHAR(5)).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Department(Option<String>);

/// A string that is not a department code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an SS-MIX2 department code (2 or 3 characters 0-9/A-Z, or `-`)")]
pub struct InvalidDepartment(pub String);

impl Department {
    /// No department: `-`.
    pub const NONE: Department = Department(None);

    /// A unified department code: 2 or 3 characters `[0-9A-Z]`.
    pub fn new(code: &str) -> Result<Department, InvalidDepartment> {
        let ok = (2..=3).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase());
        if ok { Ok(Department(Some(code.to_owned()))) } else { Err(InvalidDepartment(code.to_owned())) }
    }

    /// Tolerant: `-`, or 1..=5 characters `[0-9A-Za-z]`, kept as is.
    pub fn parse(s: &str) -> Result<Department, InvalidDepartment> {
        if s == "-" {
            return Ok(Department::NONE);
        }
        if (1..=5).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(Department(Some(s.to_owned())))
        } else {
            Err(InvalidDepartment(s.to_owned()))
        }
    }

    /// The code, if any.
    pub fn code(&self) -> Option<&str> {
        self.0.as_deref()
    }

    /// The code or `-`.
    pub fn as_str(&self) -> &str {
        self.0.as_deref().unwrap_or("-")
    }
}

impl fmt::Display for Department {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

serialize_as_str!(Department);

// ---------------------------------------------------------------------------------------------
// Condition flag, processing type

/// The コンディションフラグ: the last part of a file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConditionFlag {
    /// `0`: deleted (every file of a key after a DEL, including the DEL message itself).
    Deleted,
    /// `1`: the current version of the key (at most one per key).
    Current,
    /// `2`: a superseded version (history).
    Superseded,
}

/// A string that is not a condition flag.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a condition flag (0, 1 or 2)")]
pub struct InvalidConditionFlag(pub String);

impl ConditionFlag {
    /// `'0'`, `'1'` or `'2'`.
    pub fn as_char(self) -> char {
        match self {
            ConditionFlag::Deleted => '0',
            ConditionFlag::Current => '1',
            ConditionFlag::Superseded => '2',
        }
    }

    /// `"0"`, `"1"` or `"2"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ConditionFlag::Deleted => "0",
            ConditionFlag::Current => "1",
            ConditionFlag::Superseded => "2",
        }
    }

    /// True for [`ConditionFlag::Current`]. Readers treat both `0` and `2` as not current (one NHO
    /// document renames superseded files to `0`).
    pub fn is_current(self) -> bool {
        self == ConditionFlag::Current
    }
}

impl FromStr for ConditionFlag {
    type Err = InvalidConditionFlag;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "0" => Ok(ConditionFlag::Deleted),
            "1" => Ok(ConditionFlag::Current),
            "2" => Ok(ConditionFlag::Superseded),
            _ => Err(InvalidConditionFlag(s.to_owned())),
        }
    }
}

impl fmt::Display for ConditionFlag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ConditionFlag {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// 処理区分: whether a message adds/updates (`INS`) or deletes (`DEL`) the data of its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProcessingType {
    /// `INS`: new data or a new version.
    Ins,
    /// `DEL`: deletion / cancellation.
    Del,
}

/// A string that is not `INS` or `DEL`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a processing type (INS or DEL)")]
pub struct InvalidProcessingType(pub String);

impl ProcessingType {
    /// `"INS"` or `"DEL"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ProcessingType::Ins => "INS",
            ProcessingType::Del => "DEL",
        }
    }

    /// The flag of the file the message itself is stored as: `1` for INS, `0` for DEL.
    pub fn new_file_flag(self) -> ConditionFlag {
        match self {
            ProcessingType::Ins => ConditionFlag::Current,
            ProcessingType::Del => ConditionFlag::Deleted,
        }
    }
}

impl FromStr for ProcessingType {
    type Err = InvalidProcessingType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "INS" => Ok(ProcessingType::Ins),
            "DEL" => Ok(ProcessingType::Del),
            _ => Err(InvalidProcessingType(s.to_owned())),
        }
    }
}

impl fmt::Display for ProcessingType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ProcessingType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

// ---------------------------------------------------------------------------------------------
// Storage key, folders, file names

/// The version key of the standardized storage: (患者ID, 診療日, データ種別, オーダNo). At most one
/// file per key has flag `1`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct StorageKey {
    /// 患者ID.
    pub patient_id: PatientId,
    /// 診療日 or `-`.
    pub care_date: CareDate,
    /// データ種別.
    pub data_type: DataType,
    /// オーダNo.
    pub order_number: OrderNumber,
}

impl StorageKey {
    /// The folder of this key, relative to the storage root: see [`relative_dir`].
    pub fn relative_dir(&self) -> String {
        relative_dir(self)
    }

    /// `{pid}_{date}_{type}_{order}_`: the exact prefix of every canonical file name of this key.
    pub fn file_name_prefix(&self) -> String {
        format!("{}_{}_{}_{}_", self.patient_id, self.care_date, self.data_type, self.order_number)
    }
}

/// `pid[0:3]/pid[3:6]/pid/date/type`, `/`-separated (`std::path::Path` accepts `/` on every
/// platform), relative to the standardized-storage root folder. Example:
/// `999/901/9999013/20110701/OMP-01`.
///
/// For a patient ID of 3 characters or fewer, `pid[3:6]` is empty and that level is left out
/// (`12/12/-/ADT-00`), as Python's `os.path.join` does in NHO's checker. The default
/// [`Rules`](crate::Rules) reject such IDs (`patient_id.min_len = 4`) or pad them
/// (`patient_id.pad_width`), so this only matters for storages written by others.
pub fn relative_dir(key: &StorageKey) -> String {
    let (l1, l2) = key.patient_id.prefix_dirs();
    let mut s = String::with_capacity(48);
    s.push_str(l1);
    s.push('/');
    if !l2.is_empty() {
        s.push_str(l2);
        s.push('/');
    }
    s.push_str(key.patient_id.as_str());
    s.push('/');
    s.push_str(key.care_date.as_str());
    s.push('/');
    s.push_str(key.data_type.code());
    s
}

/// A standardized-storage file name:
/// `{pid}_{date}_{type}_{order}_{ts17}_{dept}_{flag}` (no extension).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct FileName {
    /// The version key.
    pub key: StorageKey,
    /// 発生日時.
    pub occurred: OccurrenceTime,
    /// 診療科コード or `-`.
    pub department: Department,
    /// コンディションフラグ.
    pub flag: ConditionFlag,
}

/// Why a string is not a standardized-storage file name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileNameError {
    /// Not 7 `_`-separated parts.
    #[error("expected 7 '_'-separated parts, found {0}")]
    PartCount(usize),
    /// Bad patient ID.
    #[error("patient ID: {0}")]
    PatientId(PatientIdError),
    /// Bad 診療日.
    #[error(transparent)]
    CareDate(InvalidCareDate),
    /// Unknown data type.
    #[error(transparent)]
    DataType(crate::table::UnknownDataType),
    /// Bad order number.
    #[error("order number: {0}")]
    OrderNumber(OrderNumberError),
    /// Bad 発生日時.
    #[error("occurrence time: {0}")]
    Timestamp(TimestampError),
    /// Bad department code.
    #[error(transparent)]
    Department(InvalidDepartment),
    /// Bad condition flag.
    #[error(transparent)]
    Flag(InvalidConditionFlag),
}

/// Extensions a tolerant parse strips (compared case-insensitively).
pub const LEGACY_EXTENSIONS: [&str; 2] = ["hl7", "txt"];

impl FileName {
    /// Tolerant parse of a stored file name. Accepts a legacy `.hl7` / `.txt` extension, order
    /// numbers of 1 to 22 characters (the OMG-11 sample has 13 digits), 発生日時 of 8 to 17
    /// digits, and department codes of 1 to 5 letters/digits. The text of each part is kept, so
    /// `to_string()` gives back the name without its extension.
    pub fn parse(name: &str) -> Result<FileName, FileNameError> {
        FileName::parse_with_extension(name).map(|(f, _)| f)
    }

    /// Like [`FileName::parse`], also returning the legacy extension (without the dot) if the
    /// name had one: a renamer must keep it.
    pub fn parse_with_extension(name: &str) -> Result<(FileName, Option<&str>), FileNameError> {
        let (stem, ext) = split_legacy_extension(name);
        let parts: Vec<&str> = stem.split('_').collect();
        let [pid, date, dt, order, ts, dept, flag] = parts[..] else {
            return Err(FileNameError::PartCount(parts.len()));
        };
        let file = FileName {
            key: StorageKey {
                patient_id: PatientId::new(pid).map_err(FileNameError::PatientId)?,
                care_date: CareDate::parse(date).map_err(FileNameError::CareDate)?,
                data_type: dt.parse().map_err(FileNameError::DataType)?,
                order_number: OrderNumber::parse(order).map_err(FileNameError::OrderNumber)?,
            },
            occurred: OccurrenceTime::parse(ts).map_err(FileNameError::Timestamp)?,
            department: Department::parse(dept).map_err(FileNameError::Department)?,
            flag: flag.parse().map_err(FileNameError::Flag)?,
        };
        Ok((file, ext))
    }

    /// True when every part has its canonical SS-MIX2 form (15-character order number,
    /// 17-digit 発生日時, 2–3 character `[0-9A-Z]` department or `-`).
    pub fn is_canonical(&self) -> bool {
        self.key.order_number.is_canonical()
            && self.occurred.is_canonical()
            && self.department.code().is_none_or(|c| Department::new(c).is_ok())
    }

    /// True when this file is a version of `key`: same patient ID, 診療日 and data type, and the
    /// same order number up to left zero-padding (see [`OrderNumber::same_order`]).
    pub fn belongs_to(&self, key: &StorageKey) -> bool {
        self.key.patient_id == key.patient_id
            && self.key.care_date == key.care_date
            && self.key.data_type == key.data_type
            && self.key.order_number.same_order(&key.order_number)
    }

    /// The same name with another condition flag (for the `1`→`2` and →`0` renames).
    pub fn with_flag(&self, flag: ConditionFlag) -> FileName {
        FileName { flag, ..self.clone() }
    }

    /// The name without `_{flag}`: `{pid}_{date}_{type}_{order}_{ts17}_{dept}`.
    pub fn stem(&self) -> String {
        format!("{}{}_{}", self.key.file_name_prefix(), self.occurred, self.department)
    }

    /// The folder of the file, relative to the storage root: see [`relative_dir`].
    pub fn relative_dir(&self) -> String {
        relative_dir(&self.key)
    }

    /// Folder and name: `{relative_dir}/{name}`.
    pub fn relative_path(&self) -> String {
        format!("{}/{}", self.relative_dir(), self)
    }
}

fn split_legacy_extension(name: &str) -> (&str, Option<&str>) {
    if let Some((stem, ext)) = name.rsplit_once('.')
        && LEGACY_EXTENSIONS.iter().any(|e| e.eq_ignore_ascii_case(ext))
    {
        return (stem, Some(ext));
    }
    (name, None)
}

impl fmt::Display for FileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}_{}", self.stem(), self.flag)
    }
}

impl FromStr for FileName {
    type Err = FileNameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FileName::parse(s)
    }
}

/// True when `name` is a (tolerantly parsed) file name of a version of `key`. Names that do not
/// parse belong to no key.
pub fn file_belongs_to(name: &str, key: &StorageKey) -> bool {
    FileName::parse(name).is_ok_and(|f| f.belongs_to(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patient_ids() {
        assert_eq!(PatientId::new("9999013").unwrap().prefix_dirs(), ("999", "901"));
        assert_eq!(PatientId::new("12").unwrap().prefix_dirs(), ("12", ""));
        assert_eq!(PatientId::new("12345").unwrap().prefix_dirs(), ("123", "45"));
        assert_eq!(PatientId::new(""), Err(PatientIdError::Empty));
        assert_eq!(PatientId::new("1234567890123456"), Err(PatientIdError::TooLong { len: 16 }));
        assert!(PatientId::new("123456789012345").is_ok());
        for (s, c) in [
            ("12/34", '/'),
            ("12\\34", '\\'),
            ("12_34", '_'),
            ("..", '.'),
            (".", '.'),
            ("12 34", ' '),
            ("12\t34", '\t'),
            ("12\u{0}34", '\u{0}'),
            ("１２３４", '１'),
        ] {
            assert_eq!(PatientId::new(s), Err(PatientIdError::InvalidChar(c)), "{s:?}");
        }
    }

    #[test]
    fn care_dates() {
        assert_eq!(CareDate::from_hl7("201112191500").unwrap().as_str(), "20111219");
        assert_eq!(CareDate::from_hl7("20240229").unwrap().as_str(), "20240229");
        assert!(CareDate::from_hl7("20230229").is_err());
        assert!(CareDate::from_hl7("20241301").is_err());
        assert!(CareDate::from_hl7("2024").is_err());
        assert!(CareDate::from_hl7("患者患者患者").is_err());
        assert!(CareDate::from_hl7("2024010あ").is_err());
        assert!(CareDate::from_hl7("00000101").is_err());
        assert_eq!(CareDate::parse("-").unwrap(), CareDate::NONE);
        assert_eq!(CareDate::NONE.to_string(), "-");
        assert!(CareDate::parse("--").is_err());
    }

    #[test]
    fn order_numbers() {
        assert_eq!(OrderNumber::from_hl7("11000185").unwrap().as_str(), "000000011000185");
        assert_eq!(OrderNumber::from_hl7("123456789012345").unwrap().as_str(), "123456789012345");
        assert_eq!(OrderNumber::from_hl7("1234567890123456"), Err(OrderNumberError::TooLong { len: 16, max: 15 }));
        assert_eq!(OrderNumber::from_hl7(""), Err(OrderNumberError::Empty));
        assert_eq!(OrderNumber::from_hl7("12_1"), Err(OrderNumberError::InvalidChar('_')));
        assert_eq!(OrderNumber::from_hl7("1.1"), Err(OrderNumberError::InvalidChar('.')));
        let short = OrderNumber::parse("2011122000300").unwrap();
        assert!(!short.is_canonical());
        assert!(short.same_order(&OrderNumber::from_hl7("2011122000300").unwrap()));
        assert!(!short.same_order(&OrderNumber::from_hl7("2011122000301").unwrap()));
        assert!(OrderNumber::none().is_none_marker());
    }

    #[test]
    fn occurrence_times() {
        let pad = MinutePrecision::Pad;
        let ts = |s| OccurrenceTime::from_hl7(s, pad).map(|t| t.to_string());
        assert_eq!(ts("20111220224447.3399").unwrap(), "20111220224447339");
        assert_eq!(ts("20111014232213").unwrap(), "20111014232213000");
        assert_eq!(ts("20110701113813.225").unwrap(), "20110701113813225");
        assert_eq!(ts("20111220103059.0000").unwrap(), "20111220103059000");
        assert_eq!(ts("20111220103059.1").unwrap(), "20111220103059100");
        assert_eq!(ts("20111220103059.").unwrap(), "20111220103059000");
        assert_eq!(ts("20111220103059+0900").unwrap(), "20111220103059000");
        assert_eq!(ts("20111220103059.12-0500").unwrap(), "20111220103059120");
        assert_eq!(ts("20080203163012345").unwrap(), "20080203163012345");
        assert_eq!(ts("201112202244").unwrap(), "20111220224400000");
        assert_eq!(
            OccurrenceTime::from_hl7("201112202244", MinutePrecision::Reject),
            Err(TimestampError::MissingSeconds)
        );
        assert_eq!(ts(""), Err(TimestampError::Empty));
        assert_eq!(ts("2011122022"), Err(TimestampError::InsufficientPrecision));
        assert_eq!(ts("20111220"), Err(TimestampError::InsufficientPrecision));
        assert_eq!(ts("2011122022444"), Err(TimestampError::Malformed));
        assert_eq!(ts("201112202244.5"), Err(TimestampError::Malformed));
        assert_eq!(ts("2011122022444７"), Err(TimestampError::Malformed));
        assert_eq!(ts("20111220224447.3a"), Err(TimestampError::Malformed));
        assert_eq!(ts("20111220224447+09"), Err(TimestampError::Malformed));
        assert_eq!(ts("20111320224447"), Err(TimestampError::OutOfRange));
        assert_eq!(ts("20111220244447"), Err(TimestampError::OutOfRange));
        assert_eq!(ts("20111220226047"), Err(TimestampError::OutOfRange));
        assert_eq!(ts("20111220224460"), Err(TimestampError::OutOfRange));
        assert!(OccurrenceTime::from_ts17("20111220224447339").is_ok());
        assert!(OccurrenceTime::from_ts17("2011122022444733").is_err());
        let legacy = OccurrenceTime::parse("200802031630123").unwrap();
        assert!(!legacy.is_canonical());
        assert_eq!(legacy.year(), "2008");
    }

    #[test]
    fn departments() {
        for ok in ["01", "011", "9Z", "8K", "7C"] {
            assert_eq!(Department::new(ok).unwrap().as_str(), ok);
        }
        for bad in ["", "1", "0111", "9z", "内科", "-", "0 1"] {
            assert!(Department::new(bad).is_err(), "{bad:?}");
        }
        assert_eq!(Department::parse("-").unwrap(), Department::NONE);
        assert!(Department::parse("a1").is_ok());
        assert!(Department::parse("123456").is_err());
    }

    #[test]
    fn file_names_round_trip() {
        let name = "9999013_20110701_OMP-01_000000011000185_20110701224603984_01_1";
        let f = FileName::parse(name).unwrap();
        assert!(f.is_canonical());
        assert_eq!(f.to_string(), name);
        assert_eq!(f.key.relative_dir(), "999/901/9999013/20110701/OMP-01");
        assert_eq!(f.relative_path(), format!("999/901/9999013/20110701/OMP-01/{name}"));
        assert_eq!(f.stem(), "9999013_20110701_OMP-01_000000011000185_20110701224603984_01");
        assert_eq!(f.key.file_name_prefix(), "9999013_20110701_OMP-01_000000011000185_");
        assert_eq!(
            f.with_flag(ConditionFlag::Superseded).to_string(),
            "9999013_20110701_OMP-01_000000011000185_20110701224603984_01_2"
        );
        assert!(f.belongs_to(&f.key));
        assert!(file_belongs_to(&f.with_flag(ConditionFlag::Deleted).to_string(), &f.key));

        let dash = FileName::parse("9999013_-_ADT-00_999999999999999_20111220224447339_-_1").unwrap();
        assert!(dash.key.care_date.is_none());
        assert_eq!(dash.department, Department::NONE);
        assert_eq!(dash.relative_dir(), "999/901/9999013/-/ADT-00");
        assert!(!dash.belongs_to(&f.key));
    }

    #[test]
    fn file_names_tolerant() {
        let (f, ext) =
            FileName::parse_with_extension("9999013_20111220_OMG-11_2011122000300_20111220224447339_24_1.HL7").unwrap();
        assert_eq!(ext, Some("HL7"));
        assert!(!f.is_canonical());
        assert_eq!(f.to_string(), "9999013_20111220_OMG-11_2011122000300_20111220224447339_24_1");
        let mut key = f.key.clone();
        key.order_number = OrderNumber::from_hl7("2011122000300").unwrap();
        assert!(f.belongs_to(&key));
        assert!(FileName::parse("0123456789_20080126_OML-11_081251234567800_200802031630123_01_1.txt").is_ok());
        assert!(FileName::parse("12_-_ADT-00_999999999999999_20111220224447339_-_1").is_ok());
        assert_eq!(FileName::parse("a_b"), Err(FileNameError::PartCount(2)));
        assert!(matches!(
            FileName::parse("9999013_20111220_XXX-11_1_20111220224447339_24_1"),
            Err(FileNameError::DataType(_))
        ));
        assert!(matches!(
            FileName::parse("9999013_20111220_OMG-11_1_20111220224447339_24_3"),
            Err(FileNameError::Flag(_))
        ));
        assert!(matches!(
            FileName::parse("9999013_20111220_OMG-11_1_20111220224447339_24_1.dat"),
            Err(FileNameError::Flag(_))
        ));
        assert!(FileName::parse("").is_err());
        assert!(!file_belongs_to("README.md", &f.key));
        // Short IDs: level 2 is left out.
        let short = FileName::parse("12_-_ADT-00_999999999999999_20111220224447339_-_1").unwrap();
        assert_eq!(short.relative_dir(), "12/12/-/ADT-00");
    }
}
