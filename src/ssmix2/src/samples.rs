//! The reference samples (`shared/ssmix2-samples/`, see its README) and what [`classify`] with
//! `Rules::default()` makes of each: test support for this crate and for ingest tests. Data only,
//! no I/O.
//!
//! A sample is **self-consistent** when its computed folder and file name equal its own path, so
//! that sending it over MLLP must store it at exactly that path (relative to the storage root).
//! Under the default rules these 8 are self-consistent (paths relative to
//! `nhoHQ_SSMIX2DataTestingTool/sampleData/`):
//!
//! - `999/901/9999013/-/ADT-00/9999013_-_ADT-00_999999999999999_20111220224447339_-_1`
//! - `999/901/9999013/20110701/OMP-01/9999013_20110701_OMP-01_000000011000185_20110701224603984_01_1`
//! - `999/901/9999013/20110701/OMP-02/9999013_20110701_OMP-02_123456789012345_20110701224603984_01_1`
//! - `999/901/9999013/20110701/OMP-12/9999013_20110701_OMP-12_123456789012345_20110701113813225_01_1`
//! - `999/901/9999013/20111120/ADT-22/9999013_20111120_ADT-22_999999999999999_20111220224447339_01_1`
//! - `999/901/9999013/20111220/ADT-42/9999013_20111220_ADT-42_999999999999999_20111220224447339_10_1`
//! - `999/901/9999013/20111220/ADT-52/9999013_20111220_ADT-52_999999999999999_20111220224447339_08_1`
//! - `999/901/9999013/20111220/OML-01/9999013_20111220_OML-01_000000011000354_20111220103059123_15_1`
//!
//! The others are listed in [`SAMPLES`] with the parts of the name that differ and why.
//!
//! [`classify`]: crate::classify

use crate::error::ErrorCode;

/// A part of a standardized-storage path / file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NamePart {
    /// 患者ID (folder levels and the first name part).
    PatientId,
    /// 診療日.
    CareDate,
    /// データ種別.
    DataType,
    /// オーダNo.
    OrderNumber,
    /// 発生日時.
    Occurred,
    /// 診療科コード.
    Department,
    /// コンディションフラグ.
    Flag,
}

impl NamePart {
    /// All parts, in file-name order.
    pub const ALL: [NamePart; 7] = [
        NamePart::PatientId,
        NamePart::CareDate,
        NamePart::DataType,
        NamePart::OrderNumber,
        NamePart::Occurred,
        NamePart::Department,
        NamePart::Flag,
    ];
}

/// What the default rules make of a sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleOutcome {
    /// Classified; computed folder and name equal the sample's own.
    SelfConsistent,
    /// Classified; these parts of the computed name differ from the sample's (all others agree).
    Mismatch(&'static [NamePart]),
    /// Not classified: rejected with this error code.
    Rejected(ErrorCode),
}

/// One sample file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// The storage root of the sample, relative to the samples folder.
    pub storage_root: &'static str,
    /// The sample's path relative to its storage root (`/`-separated).
    pub path: &'static str,
    /// What the default rules make of it.
    pub outcome: SampleOutcome,
    /// Why, for samples that are not self-consistent.
    pub note: &'static str,
}

impl Sample {
    /// Path relative to the samples folder: `{storage_root}/{path}`.
    pub fn sample_path(&self) -> String {
        format!("{}/{}", self.storage_root, self.path)
    }

    /// The file name (last path component).
    pub fn file_name(&self) -> &'static str {
        self.path.rsplit('/').next().unwrap_or(self.path)
    }

    /// True for [`SampleOutcome::SelfConsistent`].
    pub fn is_self_consistent(&self) -> bool {
        self.outcome == SampleOutcome::SelfConsistent
    }
}

const NHO_TOOL: &str = "nhoHQ_SSMIX2DataTestingTool/sampleData";
const NHO_DOCS: &str = "nhoHQ_SSMIX2_support_documents/sample/standard_root";
const NHO_EXT: &str = "nhoHQ_SSMIX2_support_documents/sample/extended_root";

use NamePart as P;
use SampleOutcome::{Mismatch, Rejected, SelfConsistent};

const fn s(storage_root: &'static str, path: &'static str, outcome: SampleOutcome, note: &'static str) -> Sample {
    Sample { storage_root, path, outcome, note }
}

/// Every sample file (README and the UTF-8 preview excluded), with its outcome under
/// `Rules::default()`.
pub const SAMPLES: &[Sample] = &[
    s(
        NHO_TOOL,
        "000/000/0000001/20000401/OMP-11/0000001_20000401_OMP-11_123456789012346_20110701113813226_01_0",
        Mismatch(&[P::PatientId, P::CareDate, P::OrderNumber, P::Occurred, P::Flag]),
        "deliberately broken checker input: PID-3 9999013, RXA-3 20110701, ORC-2 …345, MSH-7 …225, \
         and flag 0 on an ORC-1 NW message; only data type and department agree",
    ),
    s(NHO_TOOL, "999/901/9999013/-/ADT-00/9999013_-_ADT-00_999999999999999_20111220224447339_-_1", SelfConsistent, ""),
    s(
        NHO_TOOL,
        "999/901/9999013/-/ADT-61/9999013_-_ADT-61_999999999999999_20111014232213000_-_1",
        Mismatch(&[P::PatientId]),
        "PID-3 12345678; folder patient ID 9999013",
    ),
    s(
        NHO_TOOL,
        "999/901/9999013/-/PPR-01/9999013_-_PPR-01_999999999999999_20111209163030000_01_1",
        Mismatch(&[P::PatientId]),
        "PID-3 1234567890; folder patient ID 9999013",
    ),
    s(
        NHO_TOOL,
        "999/901/9999013/20110630/OMP-11/9999013_20110630_OMP-11_123456789012345_20110701113813225_01_1",
        Mismatch(&[P::CareDate]),
        "folder date 20110630 is ORC-9; the table's source RXA-3 gives 20110701 \
         (care_date_fields \"OMP-11\" = \"ORC-9\" makes it consistent)",
    ),
    s(
        NHO_TOOL,
        "999/901/9999013/20110701/OMP-01/9999013_20110701_OMP-01_000000011000185_20110701224603984_01_1",
        SelfConsistent,
        "",
    ),
    s(
        NHO_TOOL,
        "999/901/9999013/20110701/OMP-02/9999013_20110701_OMP-02_123456789012345_20110701224603984_01_1",
        SelfConsistent,
        "",
    ),
    s(
        NHO_TOOL,
        "999/901/9999013/20110701/OMP-12/9999013_20110701_OMP-12_123456789012345_20110701113813225_01_1",
        SelfConsistent,
        "",
    ),
    s(
        NHO_TOOL,
        "999/901/9999013/20111013/OMD/9999013_20111013_OMD_123456789012345_20111014232213000_01_1",
        Mismatch(&[P::PatientId]),
        "PID-3 1234567890; folder patient ID 9999013",
    ),
    s(
        NHO_TOOL,
        "999/901/9999013/20111120/ADT-22/9999013_20111120_ADT-22_999999999999999_20111220224447339_01_1",
        SelfConsistent,
        "",
    ),
    s(
        NHO_TOOL,
        "999/901/9999013/20111220/ADT-42/9999013_20111220_ADT-42_999999999999999_20111220224447339_10_1",
        SelfConsistent,
        "",
    ),
    s(
        NHO_TOOL,
        "999/901/9999013/20111220/ADT-52/9999013_20111220_ADT-52_999999999999999_20111220224447339_08_1",
        SelfConsistent,
        "",
    ),
    s(
        NHO_TOOL,
        "999/901/9999013/20111220/OMG-01/9999013_20111220_OMG-01_000201101200100_20111220224447339_-_1",
        Mismatch(&[P::PatientId]),
        "PID-3 12345678; folder patient ID 9999013",
    ),
    s(
        NHO_TOOL,
        "999/901/9999013/20111220/OMG-02/9999013_20111220_OMG-02_201212201252100_20111220224447339_01_1",
        Mismatch(&[P::PatientId, P::CareDate]),
        "PID-3 10345678; ORC-9 is 20121220 (a year after MSH-7), folder date 20111220",
    ),
    s(
        NHO_TOOL,
        "999/901/9999013/20111220/OMG-03/9999013_20111220_OMG-03_201112200089100_20111220224447339_01_1",
        Mismatch(&[P::PatientId]),
        "PID-3 12345678; folder patient ID 9999013",
    ),
    s(
        NHO_TOOL,
        "999/901/9999013/20111220/OMG-11/9999013_20111220_OMG-11_2011122000300_20111220224447339_24_1",
        Mismatch(&[P::PatientId, P::OrderNumber]),
        "PID-3 3330000333; the name's order number has 13 digits (ORC-2 unpadded), canonical is \
         002011122000300 (OrderNumber::same_order holds)",
    ),
    s(
        NHO_TOOL,
        "999/901/9999013/20111220/OMG-12/9999013_20111220_OMG-12_201112201656100_20111220224447339_01_1",
        Mismatch(&[P::PatientId, P::OrderNumber]),
        "PID-3 10345678; the name's order number is the second ORC's (ORC-1 PA), the first ORC-2 is \
         201112191656100",
    ),
    s(
        NHO_TOOL,
        "999/901/9999013/20111220/OMG-13/9999013_20111220_OMG-13_999999999999999_20111220224447339_01_1",
        Mismatch(&[P::PatientId, P::Department]),
        "PID-3 12345678; no ORC and PV1-10 empty (the 01 sits in PV1-8), so the department is '-'",
    ),
    s(
        NHO_TOOL,
        "999/901/9999013/20111220/OML-01/9999013_20111220_OML-01_000000011000354_20111220103059123_15_1",
        SelfConsistent,
        "",
    ),
    s(
        NHO_TOOL,
        "999/901/9999013/20111220/OML-11/9999013_20111220_OML-11_000000011000354_20111220103059000_01_1",
        Mismatch(&[P::PatientId, P::CareDate]),
        "PID-3 0001000052; folder date 20111220 is ORC-9, the table's source SPM-17 gives 20111219",
    ),
    s(
        NHO_DOCS,
        "012/345/0123456789/20080126/OML-11/0123456789_20080126_OML-11_081251234567800_200802031630123_01_1",
        Mismatch(&[P::Occurred]),
        "MSH-7 20080203163012345 (no '.') gives 20080203163012345; the name has the 15-digit \
         200802031630123",
    ),
    s(
        NHO_EXT,
        "012/345/0123456789/20160101/L-OBSERVATIONS^OBSERVATIONS^99ZL01/\
         0123456789_20160101_L-OBSERVATIONS^OBSERVATIONS^99ZL01_000000020160101_201601011500321_1/main_document.hl7",
        Rejected(ErrorCode::UnsupportedEventCode),
        "extended storage (ORU^R30 vital signs), not the standardized storage",
    ),
    s(
        NHO_EXT,
        "012/345/0123456789/20160101/L-OBSERVATIONS^OBSERVATIONS^99ZL01/\
         0123456789_20160101_L-OBSERVATIONS^OBSERVATIONS^99ZL01_000002016010115_201601011500321_1/main_document.hl7",
        Rejected(ErrorCode::UnsupportedEventCode),
        "extended storage (ORU^R30 vital signs), not the standardized storage",
    ),
];

/// The samples that are self-consistent under `Rules::default()`.
pub fn self_consistent() -> impl Iterator<Item = &'static Sample> {
    SAMPLES.iter().filter(|s| s.is_self_consistent())
}
