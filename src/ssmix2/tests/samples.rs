//! Data-driven test over every reference sample under `shared/ssmix2-samples/`: classify it with
//! the default rules and compare the computed folder and file name with the sample's own.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use hakobune_hl7::Message;
use hakobune_ssmix2::samples::{NamePart, SAMPLES, Sample, SampleOutcome, self_consistent};
use hakobune_ssmix2::{
    CareDateSource, CareDateSources, Classification, ConditionFlag, FileName, Rules, TransactionHeader, classify,
    strip_storage_artifacts, transaction_header,
};

const SAMPLES_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/ssmix2-samples");

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Every sample file (relative, `/`-separated), without the README and the preview.
fn sample_files() -> BTreeSet<String> {
    let root = Path::new(SAMPLES_DIR);
    let mut files = Vec::new();
    walk(root, &mut files);
    files
        .iter()
        .map(|p| p.strip_prefix(root).unwrap().to_str().unwrap().replace('\\', "/"))
        .filter(|rel| rel.contains('/'))
        .collect()
}

fn bytes(sample: &Sample) -> Vec<u8> {
    std::fs::read(Path::new(SAMPLES_DIR).join(sample.sample_path())).unwrap()
}

fn decode(bytes: &[u8]) -> String {
    let (text, had_errors) = encoding_rs::ISO_2022_JP.decode_without_bom_handling(bytes);
    assert!(!had_errors);
    text.into_owned()
}

fn classify_sample(sample: &Sample, rules: &Rules) -> Result<Classification, hakobune_ssmix2::ClassifyError> {
    let text = decode(&bytes(sample));
    let msg = Message::parse(&text).unwrap();
    classify(&msg, rules)
}

fn differing_parts(a: &FileName, b: &FileName) -> BTreeSet<NamePart> {
    NamePart::ALL
        .into_iter()
        .filter(|p| match p {
            NamePart::PatientId => a.key.patient_id != b.key.patient_id,
            NamePart::CareDate => a.key.care_date != b.key.care_date,
            NamePart::DataType => a.key.data_type != b.key.data_type,
            NamePart::OrderNumber => a.key.order_number != b.key.order_number,
            NamePart::Occurred => a.occurred != b.occurred,
            NamePart::Department => a.department != b.department,
            NamePart::Flag => a.flag != b.flag,
        })
        .collect()
}

fn dir_of(path: &str) -> &str {
    path.rsplit_once('/').map(|(d, _)| d).unwrap_or("")
}

#[test]
fn every_sample_file_is_listed_once() {
    let files = sample_files();
    let listed: BTreeSet<String> = SAMPLES.iter().map(|s| s.sample_path()).collect();
    assert_eq!(listed.len(), SAMPLES.len(), "duplicate entries in SAMPLES");
    assert_eq!(files, listed, "sample files on disk and SAMPLES differ");
    assert_eq!(files.len(), 23);
}

#[test]
fn every_sample_classifies_as_recorded() {
    let rules = Rules::default();
    for sample in SAMPLES {
        let label = sample.sample_path();
        let result = classify_sample(sample, &rules);
        let expected: BTreeSet<NamePart> = match sample.outcome {
            SampleOutcome::Rejected(code) => {
                let err = result.expect_err(&label);
                assert_eq!(err.code(), code, "{label}: {err}");
                continue;
            }
            SampleOutcome::SelfConsistent => BTreeSet::new(),
            SampleOutcome::Mismatch(parts) => parts.iter().copied().collect(),
        };
        let c = result.unwrap_or_else(|e| panic!("{label}: {e}"));
        let own = FileName::parse(sample.file_name()).unwrap_or_else(|e| panic!("{label}: {e}"));
        // Every sample's folder agrees with its own name.
        assert_eq!(own.relative_dir(), dir_of(sample.path), "{label}");
        let computed = c.file_name();
        assert_eq!(differing_parts(&computed, &own), expected, "{label}: computed {computed}");
        let key_differs =
            expected.iter().any(|p| matches!(p, NamePart::PatientId | NamePart::CareDate | NamePart::DataType));
        assert_eq!(c.relative_dir() == dir_of(sample.path), !key_differs, "{label}");
        if sample.is_self_consistent() {
            assert_eq!(computed.to_string(), sample.file_name(), "{label}");
            assert_eq!(computed.relative_path(), sample.path, "{label}");
            assert!(own.is_canonical());
            assert!(sample.note.is_empty());
        } else {
            assert!(!sample.note.is_empty(), "{label}: say why");
        }
        // The computed name is always canonical and parses back to itself.
        assert!(computed.is_canonical(), "{label}");
        assert_eq!(FileName::parse(&computed.to_string()).unwrap(), computed);
        // The transaction header round-trips.
        let line = transaction_header("9999999999", &c);
        let h = TransactionHeader::parse(&line).unwrap();
        assert_eq!(h.key, c.key);
        assert_eq!(h.to_string(), line);
    }
}

#[test]
fn self_consistent_samples_are_the_expected_eight() {
    let names: Vec<&str> = self_consistent().map(|s| s.path).collect();
    assert_eq!(
        names,
        [
            "999/901/9999013/-/ADT-00/9999013_-_ADT-00_999999999999999_20111220224447339_-_1",
            "999/901/9999013/20110701/OMP-01/9999013_20110701_OMP-01_000000011000185_20110701224603984_01_1",
            "999/901/9999013/20110701/OMP-02/9999013_20110701_OMP-02_123456789012345_20110701224603984_01_1",
            "999/901/9999013/20110701/OMP-12/9999013_20110701_OMP-12_123456789012345_20110701113813225_01_1",
            "999/901/9999013/20111120/ADT-22/9999013_20111120_ADT-22_999999999999999_20111220224447339_01_1",
            "999/901/9999013/20111220/ADT-42/9999013_20111220_ADT-42_999999999999999_20111220224447339_10_1",
            "999/901/9999013/20111220/ADT-52/9999013_20111220_ADT-52_999999999999999_20111220224447339_08_1",
            "999/901/9999013/20111220/OML-01/9999013_20111220_OML-01_000000011000354_20111220103059123_15_1",
        ]
    );
    assert!(self_consistent().all(|s| s.storage_root == "nhoHQ_SSMIX2DataTestingTool/sampleData"));
}

fn find(path_end: &str) -> &'static Sample {
    SAMPLES.iter().find(|s| s.path.ends_with(path_end)).unwrap()
}

#[test]
fn inconsistent_samples_in_detail() {
    let rules = Rules::default();
    // OMG-11: the 13-digit order number is the same order as the canonical 15-digit one.
    let omg11 = find("OMG-11_2011122000300_20111220224447339_24_1");
    let c = classify_sample(omg11, &rules).unwrap();
    let own = FileName::parse(omg11.file_name()).unwrap();
    assert_eq!(c.key.order_number.as_str(), "002011122000300");
    assert!(own.key.order_number.same_order(&c.key.order_number));
    assert!(!own.is_canonical());

    // The broken 000/000/0000001 file: data type and department agree, flag 0 is a DEL-renamed name.
    let broken = find("0000001_20000401_OMP-11_123456789012346_20110701113813226_01_0");
    let c = classify_sample(broken, &rules).unwrap();
    assert_eq!(c.data_type().code(), "OMP-11");
    assert_eq!(c.department.as_str(), "01");
    assert_eq!(FileName::parse(broken.file_name()).unwrap().flag, ConditionFlag::Deleted);

    // The standard_root OML-11: a 15-digit 発生日時 in the name, MSH-7 without '.'.
    let oml11 = find("0123456789_20080126_OML-11_081251234567800_200802031630123_01_1");
    let c = classify_sample(oml11, &rules).unwrap();
    assert_eq!(c.occurred.as_str(), "20080203163012345");
    assert_eq!(c.relative_dir(), dir_of(oml11.path));
    assert!(!FileName::parse(oml11.file_name()).unwrap().occurred.is_canonical());
}

#[test]
fn care_date_override_fixes_the_omp11_sample() {
    let mut rules = Rules::default();
    rules
        .care_date_fields
        .insert("RAS^O17".into(), CareDateSources(vec![CareDateSource::Field("ORC-9".parse().unwrap())]));
    rules.validate().unwrap();
    let omp11 = find("9999013_20110630_OMP-11_123456789012345_20110701113813225_01_1");
    let c = classify_sample(omp11, &rules).unwrap();
    assert_eq!(c.file_name().relative_path(), omp11.path);
    // OMP-12 stays consistent: its ORC-9 and RXA-3 have the same date.
    let omp12 = find("9999013_20110701_OMP-12_123456789012345_20110701113813225_01_1");
    assert_eq!(classify_sample(omp12, &rules).unwrap().file_name().relative_path(), omp12.path);
}

#[test]
fn storage_artifacts_of_the_samples() {
    for sample in SAMPLES {
        let raw = bytes(sample);
        let stripped = strip_storage_artifacts(&raw);
        if sample.storage_root.starts_with("nhoHQ_SSMIX2DataTestingTool") {
            assert_eq!(raw.last(), Some(&0x1C));
            assert_eq!(stripped.len(), raw.len() - 1);
            assert_eq!(stripped.last(), Some(&b'\r'));
        } else {
            assert_eq!(stripped, &raw[..]);
        }
        // Stripped or not, decoding and parsing agree.
        let a = Message::parse(&decode(&raw)).unwrap();
        let b = Message::parse(&decode(stripped)).unwrap();
        assert_eq!(a.len(), b.len());
    }
}

/// No panic on any input: every prefix of every sample, and every sample with one character
/// removed at each position, goes through parse + classify without panicking.
#[test]
fn no_panic_on_truncated_or_damaged_samples() {
    let rules = Rules::default();
    let mut lenient = Rules::default();
    lenient.patient_id.min_len = 1;
    lenient.invalid_department = hakobune_ssmix2::InvalidDepartmentPolicy::Skip;
    for sample in SAMPLES {
        let text = decode(&bytes(sample));
        let boundaries: Vec<usize> = text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
        for &end in &boundaries {
            if let Ok(m) = Message::parse(&text[..end]) {
                let _ = classify(&m, &rules);
            }
        }
        for w in boundaries.windows(2) {
            let damaged = format!("{}{}", &text[..w[0]], &text[w[1]..]);
            if let Ok(m) = Message::parse(&damaged) {
                let _ = classify(&m, &rules);
                let _ = classify(&m, &lenient);
            }
        }
    }
}
