//! Realistic, deterministic simulated hospital traffic for `hakobune demo`.
//!
//! `hakobune demo` starts the server and feeds it the messages made here; an independent SS-MIX2
//! checker then examines the resulting standardized storage. The traffic therefore has to be
//! correct SS-MIX2 HL7 v2.5, not merely plausible:
//!
//! - **Three simulated senders** ([`hospitals`]): 登呂総合病院 (wards, endoscopy), 駿河市民病院
//!   (wards, paediatrics) and 清水台クリニック (outpatients only). Each has a 10-digit facility ID,
//!   its own MSH-3/MSH-4, departments from the SS-MIX2 unified department code table (= レセ電
//!   別表10), doctors, nurses and wards. Some clinic patients are also patients of 登呂総合病院
//!   (same person, different hospital-local patient ID).
//! - **All 36 SS-MIX2 data-type/message combinations** ([`DATA_TYPES`]), each with the field the
//!   guideline names for 診療日 filled in; every other date field of the same message (EVN-6,
//!   PV1-44/45, PV2-8/9/47, ORC-9, TQ1-7/8, RXA-3/4, SPM-17, OBR-7, OBX-14) falls on the same day,
//!   so any of the usual 診療日 sources gives the same date.
//! - **Updates and cancellations**: orders re-sent with the same ORC-2 (`XO`, later MSH-7, new
//!   MSH-10), orders cancelled with ORC-1 `CA`, preliminary then final lab reports, ADT events
//!   cancelled with their cancel triggers (A11, A12, A13, A25, A26, A27, A52, A53, A55), a duplicate
//!   registration deleted with A23, problem and allergy lists re-sent with an added entry.
//! - **Wire format**: MSH exactly as SS-MIX2 wants it (`~ISO IR87`, `ISO 2022-1994`, the SS-MIX2
//!   1.20 profile in MSH-21), MSH-7 with milliseconds and strictly increasing per sender, MSH-10
//!   unique per sender, CR segment terminators, text encoded as ISO-2022-JP using only ASCII and
//!   JIS X 0208 rows 1–8 and 16–84.
//! - **Deterministic**: [`generate`] is a pure function of [`DemoConfig`] (own SplitMix64 PRNG,
//!   fixed simulation start date [`START_DATE`]); the same config gives byte-identical output.
//!
//! Codes: HOT9 drug codes and names from the SS-MIX2 guideline samples and JP Core examples,
//! JLAC10 (`JC10`) lab codes with units and JCCLS-style reference ranges, JJ1017 (radiology), LENDO
//! (endoscopy), JC10 `9A110` (ECG), MDCDX2 + ICD-10 (problem lists; diagnoses without a published
//! MEDIS code are sent as 未コード化傷病名 `20084317`), JAMISDP01 usages, HL70127/IAM allergies.
//!
//! Architecture invariant: no I/O, no clock, no global state. The crate only builds bytes.

mod data;
mod rng;
mod seg;
mod sim;
mod time;

use std::fmt;

/// First simulated day (a Monday), `YYYYMMDD`. Simulated day `d` is `START_DATE + d`.
pub const START_DATE: &str = "20250407";

const START: (i64, i64, i64) = (2025, 4, 7);

/// What to simulate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoConfig {
    /// PRNG seed; the same seed gives byte-identical output.
    pub seed: u64,
    /// Simulated patients per hospital (登呂総合病院 always has at least its two showcase patients,
    /// who between them produce every message kind).
    pub patients_per_hospital: usize,
    /// Simulated days starting at [`START_DATE`] (0 is treated as 1). Outpatient clinics are closed
    /// on Saturdays and Sundays.
    pub days: u32,
}

impl Default for DemoConfig {
    /// About 1,000 messages over one working week: seed 20250407, 24 patients per hospital, 5 days.
    fn default() -> Self {
        DemoConfig { seed: 20_250_407, patients_per_hospital: 24, days: 5 }
    }
}

/// How the receiver is expected to process a message (the transaction storage 処理区分).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Processing {
    /// A new or updated record (condition flag 1; the previous version becomes 2).
    Ins,
    /// A cancellation or deletion (the record's files become condition flag 0).
    Del,
}

impl Processing {
    /// `"INS"` or `"DEL"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Processing::Ins => "INS",
            Processing::Del => "DEL",
        }
    }
}

impl fmt::Display for Processing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One generated message, in send order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoMessage {
    /// 10-digit 医療施設ID of the sender (the storage root of its data).
    pub facility_id: String,
    /// Hospital name (kanji).
    pub facility_name: String,
    /// MSH-3 of the message.
    pub sending_application: String,
    /// MSH-4 of the message.
    pub sending_facility: String,
    /// Expected SS-MIX2 data type, e.g. `"OMP-01"`, `"ADT-22"`, `"OMD"`.
    pub kind: &'static str,
    /// MSH-9.1^MSH-9.2, e.g. `"RDE^O11"`.
    pub message_type: &'static str,
    /// Expected 処理区分.
    pub expected_processing: Processing,
    /// PID-3.1 (hospital-local patient ID, 7–10 digits).
    pub patient_id: String,
    /// Expected 診療日 (`YYYYMMDD`), `None` for data types stored under `-`.
    pub care_date: Option<String>,
    /// ORC-2 (or OBR-2 for ORU^R01) when the message carries an order number.
    pub order_number: Option<String>,
    /// MSH-10.
    pub control_id: String,
    /// MSH-7 (`YYYYMMDDHHMMSS.fff`).
    pub sent_at: String,
    /// The message as sent: ISO-2022-JP, segments terminated by CR, no MLLP framing.
    pub bytes: Vec<u8>,
}

impl DemoMessage {
    /// The message decoded back to UTF-8 text (segments still separated by CR).
    pub fn text(&self) -> String {
        let (text, _, _) = encoding_rs::ISO_2022_JP.decode(&self.bytes);
        text.into_owned()
    }
}

/// One row of the SS-MIX2 standardized-storage data-type table (guideline Ver.1.2g 表1-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataTypeRow {
    /// データ種別, e.g. `"OMP-01"`.
    pub data_type: &'static str,
    /// HL7 `type^trigger`, e.g. `"RDE^O11"`.
    pub message_type: &'static str,
    /// 種別名称.
    pub name: &'static str,
    /// The field that gives 診療日, `None` when stored under `-`.
    pub care_date_field: Option<&'static str>,
}

macro_rules! row {
    ($d:literal, $m:literal, $n:literal, None) => {
        DataTypeRow { data_type: $d, message_type: $m, name: $n, care_date_field: None }
    };
    ($d:literal, $m:literal, $n:literal, $f:literal) => {
        DataTypeRow { data_type: $d, message_type: $m, name: $n, care_date_field: Some($f) }
    };
}

/// The 36 SS-MIX2 (data type, message type) combinations and their 診療日 fields.
///
/// ADT^A16 is listed with PV2-9 (the guideline); the NHO checker reads EVN-6 for it. The generator
/// sets EVN-6 of every dated ADT message to the same value as the listed field, so both agree.
pub static DATA_TYPES: [DataTypeRow; 36] = [
    row!("ADT-00", "ADT^A08", "患者基本情報の更新", None),
    row!("ADT-00", "ADT^A23", "患者基本情報の削除", None),
    row!("ADT-01", "ADT^A54", "担当医の変更", None),
    row!("ADT-01", "ADT^A55", "担当医の取消", None),
    row!("ADT-12", "ADT^A04", "外来診察の受付", "PV1-44"),
    row!("ADT-21", "ADT^A14", "入院予定", "PV2-8"),
    row!("ADT-21", "ADT^A27", "入院予定の取消", "PV2-8"),
    row!("ADT-22", "ADT^A01", "入院実施", "PV1-44"),
    row!("ADT-22", "ADT^A11", "入院実施の取消", "PV1-44"),
    row!("ADT-31", "ADT^A21", "外出泊実施", "EVN-6"),
    row!("ADT-31", "ADT^A52", "外出泊実施の取消", "EVN-6"),
    row!("ADT-32", "ADT^A22", "外出泊帰院実施", "EVN-6"),
    row!("ADT-32", "ADT^A53", "外出泊帰院実施の取消", "PV2-47"),
    row!("ADT-41", "ADT^A15", "転科・転棟(転室・転床)予定", "PV2-8"),
    row!("ADT-41", "ADT^A26", "転科・転棟(転室・転床)予定の取消", "PV2-8"),
    row!("ADT-42", "ADT^A02", "転科・転棟(転室・転床)実施", "EVN-6"),
    row!("ADT-42", "ADT^A12", "転科・転棟(転室・転床)実施の取消", "EVN-6"),
    row!("ADT-51", "ADT^A16", "退院予定", "PV2-9"),
    row!("ADT-51", "ADT^A25", "退院予定の取消", "PV2-9"),
    row!("ADT-52", "ADT^A03", "退院実施", "PV1-45"),
    row!("ADT-52", "ADT^A13", "退院実施の取消", "PV1-45"),
    row!("ADT-61", "ADT^A60", "アレルギー情報の登録／更新", None),
    row!("PPR-01", "PPR^ZD1", "病名（歴）情報の登録／更新", None),
    row!("OMD", "OMD^O03", "食事オーダ", "ORC-9"),
    row!("OMP-01", "RDE^O11", "処方オーダ", "ORC-9"),
    row!("OMP-11", "RAS^O17", "処方実施通知", "RXA-3"),
    row!("OMP-02", "RDE^O11", "注射オーダ", "ORC-9"),
    row!("OMP-12", "RAS^O17", "注射実施通知", "RXA-3"),
    row!("OML-01", "OML^O33", "検体検査オーダ", "ORC-9"),
    row!("OML-11", "OUL^R22", "検体検査結果通知", "SPM-17"),
    row!("OMG-01", "OMG^O19", "放射線検査オーダ", "ORC-9"),
    row!("OMG-11", "OMI^Z23", "放射線検査の実施通知", "OBR-7"),
    row!("OMG-02", "OMG^O19", "内視鏡検査オーダ", "ORC-9"),
    row!("OMG-12", "OMI^Z23", "内視鏡検査の実施通知", "OBR-7"),
    row!("OMG-03", "OMG^O19", "生理検査オーダ", "ORC-9"),
    row!("OMG-13", "ORU^R01", "生理検査結果通知", "OBR-7"),
];

/// A per-sender rule that tells apart data types sharing one HL7 message type: when the message is
/// `message_type` and `field` (HL7 location, first repetition) equals `equals`, the data type is
/// `data_type`. An empty `field` is the fallback for the message type. First match wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClassificationRule {
    /// HL7 `type^trigger`, e.g. `"RDE^O11"`.
    pub message_type: &'static str,
    /// HL7 location such as `"RXE-2.3"`; empty for the fallback rule.
    pub field: &'static str,
    /// The value `field` must have.
    pub equals: &'static str,
    /// The resulting SS-MIX2 data type.
    pub data_type: &'static str,
}

/// A simulated sender, as plain data (enough to configure a receiver for it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoHospital {
    /// 10-digit 医療施設ID (都道府県 22 = 静岡県, 点数表 1 = 医科, 7-digit code).
    pub facility_id: &'static str,
    /// Name in kanji.
    pub name: &'static str,
    /// Name in English.
    pub name_en: &'static str,
    /// MSH-3 it sends.
    pub sending_application: &'static str,
    /// MSH-4 it sends (駿河市民病院 sends its facility ID here).
    pub sending_facility: &'static str,
    /// Departments: (SS-MIX2 unified department code, name).
    pub departments: Vec<(&'static str, &'static str)>,
    /// Wards: (PV1-3.1 code, name); empty for the outpatient-only clinic.
    pub wards: Vec<(&'static str, &'static str)>,
    /// How its ambiguous message types map to data types. All three senders follow the
    /// discriminators of the SS-MIX2 guideline samples, so no sender needs a non-standard rule;
    /// the list is given so that a receiver can be configured explicitly.
    pub classification_rules: Vec<ClassificationRule>,
}

const fn rule(
    message_type: &'static str,
    field: &'static str,
    equals: &'static str,
    data_type: &'static str,
) -> ClassificationRule {
    ClassificationRule { message_type, field, equals, data_type }
}

/// The standard discriminators every simulated sender uses.
static STANDARD_RULES: [ClassificationRule; 9] = [
    // Injection orders/administrations carry RXE-2 `00^一般^99I02` and RXC components
    // (RAS^O17 injections carry the encoded order RXE/RXC before the RXA group); prescriptions
    // carry a HOT9 drug in RXE-2 and RXE-21 `OHP^外来処方^MR9P~OHI^院内処方^MR9P`.
    rule("RDE^O11", "RXE-2.3", "99I02", "OMP-02"),
    rule("RDE^O11", "", "", "OMP-01"),
    rule("RAS^O17", "RXE-2.3", "99I02", "OMP-12"),
    rule("RAS^O17", "", "", "OMP-11"),
    // OBR-4 coding system: JJ1017 radiology, LENDO endoscopy, JC10 physiology.
    rule("OMG^O19", "OBR-4.3", "JJ1017", "OMG-01"),
    rule("OMG^O19", "OBR-4.3", "LENDO", "OMG-02"),
    rule("OMG^O19", "OBR-4.3", "JC10", "OMG-03"),
    rule("OMI^Z23", "OBR-4.3", "JJ1017", "OMG-11"),
    rule("OMI^Z23", "OBR-4.3", "LENDO", "OMG-12"),
];

/// The simulated senders.
pub fn hospitals() -> Vec<DemoHospital> {
    data::HOSPITALS
        .iter()
        .map(|h| DemoHospital {
            facility_id: h.facility_id,
            name: h.name,
            name_en: h.name_en,
            sending_application: h.msh3,
            sending_facility: h.msh4,
            departments: h.departments.iter().map(|d| (d.code, d.name)).collect(),
            wards: h.wards.iter().map(|w| (w.code, w.name)).collect(),
            classification_rules: STANDARD_RULES.to_vec(),
        })
        .collect()
}

/// Generates the demo traffic: every message of every hospital, in send order (MSH-7 order; the
/// hospitals are interleaved, each hospital's own messages keep their order).
pub fn generate(config: &DemoConfig) -> Vec<DemoMessage> {
    sim::run(config, START)
}

/// Encodes UTF-8 text as ISO-2022-JP (`ESC $ B` / `ESC ( B`).
fn encode(text: &str) -> Vec<u8> {
    let (bytes, _, _) = encoding_rs::ISO_2022_JP.encode(text);
    bytes.into_owned()
}
