//! The SS-MIX2 data types and the 36-row table that maps HL7 v2.5 messages to them.
//!
//! Source: 「SS-MIX2標準化ストレージ構成の説明と構築ガイドライン」 表1-1 (Ver.1.2g p11, as quoted by
//! NHO), with the 診療日 source field of each row from NHO's `SSMIX_CAREDATE.json` (Ver.1.2c).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An SS-MIX2 standardized-storage data type (データ種別), e.g. `ADT-00` or `OMP-01`.
///
/// Serialized (serde) and displayed as its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DataType {
    /// `ADT-00` 患者基本情報 (patient demographics).
    Adt00,
    /// `ADT-01` 担当医 (attending doctor).
    Adt01,
    /// `ADT-12` 外来診察の受付 (outpatient registration).
    Adt12,
    /// `ADT-21` 入院予定 (pre-admission).
    Adt21,
    /// `ADT-22` 入院実施 (admission).
    Adt22,
    /// `ADT-31` 外出泊実施 (leave of absence).
    Adt31,
    /// `ADT-32` 外出泊帰院実施 (return from leave of absence).
    Adt32,
    /// `ADT-41` 転科・転棟(転室・転床)予定 (pending transfer).
    Adt41,
    /// `ADT-42` 転科・転棟(転室・転床)実施 (transfer).
    Adt42,
    /// `ADT-51` 退院予定 (pending discharge).
    Adt51,
    /// `ADT-52` 退院実施 (discharge).
    Adt52,
    /// `ADT-61` アレルギー情報 (allergies).
    Adt61,
    /// `PPR-01` 病名（歴）情報 (problem list; one file holds the whole list).
    Ppr01,
    /// `OMD` 食事オーダ (diet order).
    Omd,
    /// `OMP-01` 処方オーダ (prescription order).
    Omp01,
    /// `OMP-02` 注射オーダ (injection order).
    Omp02,
    /// `OMP-11` 処方実施通知 (prescription administration).
    Omp11,
    /// `OMP-12` 注射実施通知 (injection administration).
    Omp12,
    /// `OML-01` 検体検査オーダ (laboratory order).
    Oml01,
    /// `OML-11` 検体検査結果通知 (laboratory result).
    Oml11,
    /// `OMG-01` 放射線検査オーダ (radiology order).
    Omg01,
    /// `OMG-02` 内視鏡検査オーダ (endoscopy order).
    Omg02,
    /// `OMG-03` 生理検査オーダ (physiological test order).
    Omg03,
    /// `OMG-11` 放射線検査の実施通知 (radiology performed).
    Omg11,
    /// `OMG-12` 内視鏡検査の実施通知 (endoscopy performed).
    Omg12,
    /// `OMG-13` 生理検査結果通知 (physiological test result).
    Omg13,
}

/// A string that is not an SS-MIX2 data type code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown SS-MIX2 data type {0:?}")]
pub struct UnknownDataType(pub String);

impl DataType {
    /// Every data type, in table order of first appearance.
    pub const ALL: [DataType; 26] = [
        DataType::Adt00,
        DataType::Adt01,
        DataType::Adt12,
        DataType::Adt21,
        DataType::Adt22,
        DataType::Adt31,
        DataType::Adt32,
        DataType::Adt41,
        DataType::Adt42,
        DataType::Adt51,
        DataType::Adt52,
        DataType::Adt61,
        DataType::Ppr01,
        DataType::Omd,
        DataType::Omp01,
        DataType::Omp11,
        DataType::Omp02,
        DataType::Omp12,
        DataType::Oml01,
        DataType::Oml11,
        DataType::Omg01,
        DataType::Omg11,
        DataType::Omg02,
        DataType::Omg12,
        DataType::Omg03,
        DataType::Omg13,
    ];

    /// The code used in folder and file names, e.g. `OMP-01`.
    pub const fn code(self) -> &'static str {
        match self {
            DataType::Adt00 => "ADT-00",
            DataType::Adt01 => "ADT-01",
            DataType::Adt12 => "ADT-12",
            DataType::Adt21 => "ADT-21",
            DataType::Adt22 => "ADT-22",
            DataType::Adt31 => "ADT-31",
            DataType::Adt32 => "ADT-32",
            DataType::Adt41 => "ADT-41",
            DataType::Adt42 => "ADT-42",
            DataType::Adt51 => "ADT-51",
            DataType::Adt52 => "ADT-52",
            DataType::Adt61 => "ADT-61",
            DataType::Ppr01 => "PPR-01",
            DataType::Omd => "OMD",
            DataType::Omp01 => "OMP-01",
            DataType::Omp02 => "OMP-02",
            DataType::Omp11 => "OMP-11",
            DataType::Omp12 => "OMP-12",
            DataType::Oml01 => "OML-01",
            DataType::Oml11 => "OML-11",
            DataType::Omg01 => "OMG-01",
            DataType::Omg02 => "OMG-02",
            DataType::Omg03 => "OMG-03",
            DataType::Omg11 => "OMG-11",
            DataType::Omg12 => "OMG-12",
            DataType::Omg13 => "OMG-13",
        }
    }

    /// The data type for a code (exact, case-sensitive), if any.
    pub fn from_code(code: &str) -> Option<DataType> {
        DataType::ALL.into_iter().find(|d| d.code() == code)
    }

    /// Japanese name of the data type (the name of its non-cancellation row).
    pub fn name_ja(self) -> &'static str {
        match self {
            DataType::Adt00 => "患者基本情報",
            DataType::Adt01 => "担当医",
            DataType::Adt61 => "アレルギー情報",
            DataType::Ppr01 => "病名（歴）情報",
            other => other.entries().next().map(|e| e.name_ja).unwrap_or(""),
        }
    }

    /// Short English name of the data type.
    pub fn name_en(self) -> &'static str {
        match self {
            DataType::Adt00 => "Patient demographics",
            DataType::Adt01 => "Attending doctor",
            other => other.entries().next().map(|e| e.name_en).unwrap_or(""),
        }
    }

    /// True for the `ADT-*` types.
    pub fn is_adt(self) -> bool {
        self.code().starts_with("ADT-")
    }

    /// Whether file names of this type carry a real order number. The `ADT-*` types, `PPR-01`
    /// (the whole problem list is one key) and `OMG-13` (ORU^R01, no ORC) use
    /// [`NO_ORDER_NUMBER`](crate::NO_ORDER_NUMBER) instead.
    pub fn has_order_number(self) -> bool {
        !(self.is_adt() || matches!(self, DataType::Ppr01 | DataType::Omg13))
    }

    /// The table rows of this data type.
    pub fn entries(self) -> impl Iterator<Item = &'static DataTypeEntry> {
        DATA_TYPE_TABLE.iter().filter(move |e| e.data_type == self)
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for DataType {
    type Err = UnknownDataType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DataType::from_code(s).ok_or_else(|| UnknownDataType(s.to_owned()))
    }
}

impl Serialize for DataType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for DataType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// One row of the SS-MIX2 data-type table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DataTypeEntry {
    /// Row number in the guideline's table (1–36).
    pub no: u8,
    /// The data type (folder name).
    pub data_type: DataType,
    /// Japanese name of the row (種別名称).
    pub name_ja: &'static str,
    /// English name of the row.
    pub name_en: &'static str,
    /// HL7 message type (MSH-9.1), e.g. `RDE`.
    pub message_code: &'static str,
    /// HL7 trigger event (MSH-9.2), e.g. `O11`.
    pub trigger_event: &'static str,
    /// The HL7 field holding the 診療日 (`None`: the type has no date, folder `-`).
    /// The date is the first 8 characters of component 1 (sub-component 1) of that field.
    pub care_date_field: Option<&'static str>,
    /// True for the cancellation (取消) triggers and for `ADT^A23` (削除): such a message always
    /// means 処理区分 `DEL`.
    pub cancels: bool,
}

impl DataTypeEntry {
    /// `MSH-9` in `TYPE^TRIGGER` form, e.g. `RDE^O11`.
    pub fn message(&self) -> String {
        format!("{}^{}", self.message_code, self.trigger_event)
    }

    /// The 診療日 source for display: the field, or `-`.
    pub fn care_date_display(&self) -> &'static str {
        self.care_date_field.unwrap_or("-")
    }
}

#[expect(clippy::too_many_arguments, reason = "one argument per table column")]
const fn row(
    no: u8,
    data_type: DataType,
    name_ja: &'static str,
    name_en: &'static str,
    message_code: &'static str,
    trigger_event: &'static str,
    care_date_field: Option<&'static str>,
    cancels: bool,
) -> DataTypeEntry {
    DataTypeEntry { no, data_type, name_ja, name_en, message_code, trigger_event, care_date_field, cancels }
}

use DataType as T;

/// The 36 rows of 表1-1 「標準化ストレージ格納データ」, in guideline order.
///
/// 診療日 sources follow NHO's `SSMIX_CAREDATE.json` (Ver.1.2c). Two points are uncertain and
/// can be overridden per sender with [`Rules::care_date_fields`](crate::Rules::care_date_fields):
/// `ADT^A53` uses `PV2-47` (as printed in that file), and one stored version of that file gives
/// `EVN-6` instead of `PV2-9` for `ADT^A16`.
pub static DATA_TYPE_TABLE: [DataTypeEntry; 36] = [
    row(1, T::Adt00, "患者基本情報の更新", "Patient demographics update", "ADT", "A08", None, false),
    row(2, T::Adt00, "患者基本情報の削除", "Patient demographics deletion", "ADT", "A23", None, true),
    row(3, T::Adt01, "担当医の変更", "Attending doctor change", "ADT", "A54", None, false),
    row(4, T::Adt01, "担当医の取消", "Attending doctor change cancelled", "ADT", "A55", None, true),
    row(5, T::Adt12, "外来診察の受付", "Outpatient registration", "ADT", "A04", Some("PV1-44"), false),
    row(6, T::Adt21, "入院予定", "Pre-admission", "ADT", "A14", Some("PV2-8"), false),
    row(7, T::Adt21, "入院予定の取消", "Pre-admission cancelled", "ADT", "A27", Some("PV2-8"), true),
    row(8, T::Adt22, "入院実施", "Admission", "ADT", "A01", Some("PV1-44"), false),
    row(9, T::Adt22, "入院実施の取消", "Admission cancelled", "ADT", "A11", Some("PV1-44"), true),
    row(10, T::Adt31, "外出泊実施", "Leave of absence", "ADT", "A21", Some("EVN-6"), false),
    row(11, T::Adt31, "外出泊実施の取消", "Leave of absence cancelled", "ADT", "A52", Some("EVN-6"), true),
    row(12, T::Adt32, "外出泊帰院実施", "Return from leave of absence", "ADT", "A22", Some("EVN-6"), false),
    row(
        13,
        T::Adt32,
        "外出泊帰院実施の取消",
        "Return from leave of absence cancelled",
        "ADT",
        "A53",
        Some("PV2-47"),
        true,
    ),
    row(14, T::Adt41, "転科・転棟(転室・転床)予定", "Pending transfer", "ADT", "A15", Some("PV2-8"), false),
    row(
        15,
        T::Adt41,
        "転科・転棟(転室・転床)予定の取消",
        "Pending transfer cancelled",
        "ADT",
        "A26",
        Some("PV2-8"),
        true,
    ),
    row(16, T::Adt42, "転科・転棟(転室・転床)実施", "Transfer", "ADT", "A02", Some("EVN-6"), false),
    row(17, T::Adt42, "転科・転棟(転室・転床)実施の取消", "Transfer cancelled", "ADT", "A12", Some("EVN-6"), true),
    row(18, T::Adt51, "退院予定", "Pending discharge", "ADT", "A16", Some("PV2-9"), false),
    row(19, T::Adt51, "退院予定の取消", "Pending discharge cancelled", "ADT", "A25", Some("PV2-9"), true),
    row(20, T::Adt52, "退院実施", "Discharge", "ADT", "A03", Some("PV1-45"), false),
    row(21, T::Adt52, "退院実施の取消", "Discharge cancelled", "ADT", "A13", Some("PV1-45"), true),
    row(22, T::Adt61, "アレルギー情報の登録／更新", "Allergy information", "ADT", "A60", None, false),
    row(23, T::Ppr01, "病名（歴）情報の登録／更新", "Problem list", "PPR", "ZD1", None, false),
    row(24, T::Omd, "食事オーダ", "Diet order", "OMD", "O03", Some("ORC-9"), false),
    row(25, T::Omp01, "処方オーダ", "Prescription order", "RDE", "O11", Some("ORC-9"), false),
    row(26, T::Omp11, "処方実施通知", "Prescription administration", "RAS", "O17", Some("RXA-3"), false),
    row(27, T::Omp02, "注射オーダ", "Injection order", "RDE", "O11", Some("ORC-9"), false),
    row(28, T::Omp12, "注射実施通知", "Injection administration", "RAS", "O17", Some("RXA-3"), false),
    row(29, T::Oml01, "検体検査オーダ", "Laboratory order", "OML", "O33", Some("ORC-9"), false),
    row(30, T::Oml11, "検体検査結果通知", "Laboratory result", "OUL", "R22", Some("SPM-17"), false),
    row(31, T::Omg01, "放射線検査オーダ", "Radiology order", "OMG", "O19", Some("ORC-9"), false),
    row(32, T::Omg11, "放射線検査の実施通知", "Radiology performed", "OMI", "Z23", Some("OBR-7"), false),
    row(33, T::Omg02, "内視鏡検査オーダ", "Endoscopy order", "OMG", "O19", Some("ORC-9"), false),
    row(34, T::Omg12, "内視鏡検査の実施通知", "Endoscopy performed", "OMI", "Z23", Some("OBR-7"), false),
    row(35, T::Omg03, "生理検査オーダ", "Physiological test order", "OMG", "O19", Some("ORC-9"), false),
    row(36, T::Omg13, "生理検査結果通知", "Physiological test result", "ORU", "R01", Some("OBR-7"), false),
];

/// The rows for one `MSH-9` (message code and trigger event, exact match). Several rows means the
/// data type is ambiguous from `MSH-9` alone (RDE^O11, RAS^O17, OMG^O19, OMI^Z23).
pub fn entries_for_message<'a>(
    message_code: &'a str,
    trigger_event: &'a str,
) -> impl Iterator<Item = &'static DataTypeEntry> + 'a {
    DATA_TYPE_TABLE.iter().filter(move |e| e.message_code == message_code && e.trigger_event == trigger_event)
}

/// The row for a data type and `MSH-9`, if the table has it.
pub fn entry_for(data_type: DataType, message_code: &str, trigger_event: &str) -> Option<&'static DataTypeEntry> {
    entries_for_message(message_code, trigger_event).find(|e| e.data_type == data_type)
}

/// True when some row uses this message code (MSH-9.1).
pub fn is_known_message_code(message_code: &str) -> bool {
    DATA_TYPE_TABLE.iter().any(|e| e.message_code == message_code)
}
