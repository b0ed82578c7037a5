//! Classification with small hand-written messages: every table row, INS/DEL, data-type rules,
//! and every `ClassifyError`.

use hakobune_hl7::Message;
use hakobune_ssmix2::{
    CareDateSource, CareDateSources, ClassifyError, DATA_TYPE_TABLE, DataType, DataTypeEntry, DataTypeRule, ErrorCode,
    InvalidDepartmentPolicy, Location, MinutePrecision, OrderNumberError, PatientIdError, ProcessingType, Rules,
    TimestampError, VersionCheck, classify,
};

/// A segment with the given fields set (HL7 numbering), the others empty.
fn seg(id: &str, fields: &[(usize, &str)]) -> String {
    let last = fields.iter().map(|(n, _)| *n).max().unwrap_or(0);
    let mut parts = vec![""; last + 1];
    parts[0] = id;
    for (n, v) in fields {
        parts[*n] = v;
    }
    parts.join("|")
}

fn msh(msh9: &str, ts: &str, version: &str) -> String {
    format!("MSH|^~\\&|HIS123|SEND|GW|RCV|{ts}||{msh9}|CTRL0001|P|{version}||||||~ISO IR87||ISO 2022-1994")
}

fn message(msh9: &str, segments: &[String]) -> String {
    let mut s = msh(msh9, "20240301101112.3456", "2.5");
    for x in segments {
        s.push('\r');
        s.push_str(x);
    }
    s.push('\r');
    s
}

fn run(text: &str) -> Result<hakobune_ssmix2::Classification, ClassifyError> {
    run_with(text, &Rules::default())
}

fn run_with(text: &str, rules: &Rules) -> Result<hakobune_ssmix2::Classification, ClassifyError> {
    classify(&Message::parse(text).unwrap(), rules)
}

/// The date each 診療日 source field holds in [`row_message`].
fn date_of(field: &str) -> &'static str {
    match field {
        "EVN-6" => "20240106",
        "PV1-44" => "20240114",
        "PV1-45" => "20240115",
        "PV2-8" => "20240108",
        "PV2-9" => "20240109",
        "PV2-47" => "20240127",
        "ORC-9" => "20240209",
        "RXA-3" => "20240203",
        "SPM-17" => "20240217",
        "OBR-7" => "20240207",
        other => panic!("no test date for {other}"),
    }
}

fn ts(field: &str) -> String {
    format!("{}1030", date_of(field))
}

/// A small message for one table row: every 診療日 source filled with a distinct date, PV1-10 `01`,
/// ORC-2 `123456` and ORC-17 `02` (orders, not OMG-13), plus the segments that decide ambiguous
/// types.
fn row_message(e: &DataTypeEntry) -> String {
    let msh9 = format!("{0}^{1}^{0}_{1}", e.message_code, e.trigger_event);
    let mut segs = vec![
        seg("EVN", &[(2, "20240301"), (6, &ts("EVN-6"))]),
        seg("PID", &[(1, "0001"), (3, "12345678^^^^PI"), (5, "患者^太郎^^^^^L^I")]),
        seg("PV1", &[(1, "0001"), (2, "I"), (10, "01"), (44, &ts("PV1-44")), (45, &ts("PV1-45"))]),
        seg("PV2", &[(8, &ts("PV2-8")), (9, &ts("PV2-9")), (47, &ts("PV2-47"))]),
    ];
    if !e.data_type.is_adt() && e.data_type != DataType::Omg13 {
        segs.push(seg("ORC", &[(1, "NW"), (2, "123456"), (9, &ts("ORC-9")), (17, "02^外科^99XY1")]));
    }
    let obr = |cs: &str| seg("OBR", &[(2, "123456"), (4, &format!("X1^検査^{cs}")), (7, &ts("OBR-7"))]);
    match e.data_type {
        DataType::Omp01 => segs.extend([seg("RXE", &[(2, "1^薬^HOT9")]), seg("RXR", &[(1, "PO^口^HL70162")])]),
        DataType::Omp02 => segs.extend([
            seg("RXE", &[(2, "00^一般^99I02")]),
            seg("RXR", &[(1, "IV^静脈内^HL70162")]),
            seg("RXC", &[(1, "B"), (2, "620007329^輸液^HOT9")]),
        ]),
        DataType::Omp11 => {
            segs.extend([seg("RXA", &[(1, "0"), (2, "1"), (3, &ts("RXA-3"))]), seg("RXR", &[(1, "PO^口^HL70162")])])
        }
        DataType::Omp12 => {
            segs.extend([seg("RXA", &[(1, "0"), (2, "1"), (3, &ts("RXA-3"))]), seg("RXR", &[(1, "IV^静脈内^HL70162")])])
        }
        DataType::Oml11 => segs.push(seg("SPM", &[(1, "1"), (17, &ts("SPM-17"))])),
        DataType::Omg01 | DataType::Omg11 => segs.push(obr("JJ1017")),
        DataType::Omg02 | DataType::Omg12 => segs.push(obr("LENDO")),
        DataType::Omg03 | DataType::Omg13 => segs.push(obr("JC10")),
        _ => {}
    }
    message(&msh9, &segs)
}

#[test]
fn every_table_row_classifies() {
    assert_eq!(DATA_TYPE_TABLE.len(), 36);
    for (i, e) in DATA_TYPE_TABLE.iter().enumerate() {
        assert_eq!(usize::from(e.no), i + 1);
        let text = row_message(e);
        let c = run(&text).unwrap_or_else(|err| panic!("row {} {}: {err}", e.no, e.message()));
        let label = format!("row {} {} {}", e.no, e.data_type, e.message());
        assert_eq!(c.entry, e, "{label}");
        assert_eq!(c.data_type(), e.data_type, "{label}");
        assert_eq!(c.key.patient_id.as_str(), "12345678", "{label}");
        let date = e.care_date_field.map(date_of).unwrap_or("-");
        assert_eq!(c.key.care_date.as_str(), date, "{label}");
        let order = if e.data_type.has_order_number() { "000000000123456" } else { "999999999999999" };
        assert_eq!(c.key.order_number.as_str(), order, "{label}");
        let ordered = !e.data_type.is_adt() && e.data_type != DataType::Omg13;
        assert_eq!(c.department.as_str(), if ordered { "02" } else { "01" }, "{label}");
        let processing = if e.cancels { ProcessingType::Del } else { ProcessingType::Ins };
        assert_eq!(c.processing, processing, "{label}");
        assert_eq!(c.occurred.as_str(), "20240301101112345", "{label}");
        assert_eq!(c.control_id, "CTRL0001");
        assert_eq!(c.message_type, format!("{0}^{1}^{0}_{1}", e.message_code, e.trigger_event));
        assert_eq!(c.sending_application, "HIS123");
        assert_eq!(c.sending_facility, "SEND");
        let name = c.file_name();
        assert_eq!(
            name.to_string(),
            format!(
                "12345678_{date}_{}_{order}_20240301101112345_{}_{}",
                e.data_type,
                c.department,
                if e.cancels { 0 } else { 1 }
            )
        );
        assert_eq!(c.relative_dir(), format!("123/456/12345678/{date}/{}", e.data_type));
    }
}

#[test]
fn table_shape() {
    let codes: std::collections::BTreeSet<_> = DATA_TYPE_TABLE.iter().map(|e| e.data_type).collect();
    assert_eq!(codes.len(), 26);
    assert_eq!(DataType::ALL.len(), 26);
    for dt in DataType::ALL {
        assert_eq!(dt.code().parse::<DataType>().unwrap(), dt);
        assert!(dt.entries().count() >= 1);
        assert!(!dt.name_ja().is_empty() && !dt.name_en().is_empty());
    }
    let cancels: Vec<&str> = DATA_TYPE_TABLE.iter().filter(|e| e.cancels).map(|e| e.trigger_event).collect();
    assert_eq!(cancels, ["A23", "A55", "A27", "A11", "A52", "A53", "A26", "A12", "A25", "A13"]);
    let ambiguous: Vec<String> = DATA_TYPE_TABLE
        .iter()
        .filter(|e| hakobune_ssmix2::entries_for_message(e.message_code, e.trigger_event).count() > 1)
        .map(|e| e.message())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(ambiguous, ["OMG^O19", "OMI^Z23", "RAS^O17", "RDE^O11"]);
    assert_eq!(DataType::Omd.code(), "OMD");
    assert!("OMD-01".parse::<DataType>().is_err());
    let json = serde_json::to_value(DATA_TYPE_TABLE[0]).unwrap();
    assert_eq!(json["data_type"], "ADT-00");
    assert_eq!(json["care_date_field"], serde_json::Value::Null);
    assert_eq!(DATA_TYPE_TABLE[4].care_date_display(), "PV1-44");
}

// ---------------------------------------------------------------------------------------------
// INS / DEL

fn rde(orc1: &str) -> String {
    message(
        "RDE^O11^RDE_O11",
        &[
            seg("PID", &[(3, "12345678")]),
            seg("ORC", &[(1, orc1), (2, "55"), (9, "20240209"), (17, "01")]),
            seg("RXE", &[(2, "1^薬^HOT9")]),
            seg("RXR", &[(1, "PO")]),
        ],
    )
}

#[test]
fn order_control_decides_ins_or_del() {
    for (orc1, p) in [
        ("NW", ProcessingType::Ins),
        ("XO", ProcessingType::Ins),
        ("SC", ProcessingType::Ins),
        ("CA", ProcessingType::Del),
        ("DC", ProcessingType::Del),
        ("OC", ProcessingType::Del),
        ("ca", ProcessingType::Ins),
    ] {
        let c = run(&rde(orc1)).unwrap();
        assert_eq!(c.processing, p, "{orc1}");
        assert_eq!(c.file_name().flag, p.new_file_flag());
    }
    let rules = Rules { delete_order_controls: vec!["CA".into()], ..Rules::default() };
    assert_eq!(run_with(&rde("DC"), &rules).unwrap().processing, ProcessingType::Ins);
    assert_eq!(run_with(&rde("CA"), &rules).unwrap().processing, ProcessingType::Del);
    // Only the first ORC counts.
    let text = rde("NW").replace("\rRXR|PO\r", "\rRXR|PO\rORC|CA|55\r");
    assert_eq!(run(&text).unwrap().processing, ProcessingType::Ins);
    let del = run(&rde("CA")).unwrap().file_name().to_string();
    assert!(del.ends_with("_0"), "{del}");
}

#[test]
fn adt_cancellations_are_del_in_the_cancelled_type() {
    let adt = |trigger: &str, extra: &[String]| {
        let mut segs = vec![seg("EVN", &[(6, "20240106")]), seg("PID", &[(3, "12345678")])];
        segs.extend_from_slice(extra);
        message(&format!("ADT^{trigger}^ADT_A01"), &segs)
    };
    let pv1 = seg("PV1", &[(10, "01"), (44, "20240114")]);
    let c = run(&adt("A11", std::slice::from_ref(&pv1))).unwrap();
    assert_eq!((c.data_type(), c.processing), (DataType::Adt22, ProcessingType::Del));
    assert_eq!(c.key.care_date.as_str(), "20240114");
    let c = run(&adt("A01", std::slice::from_ref(&pv1))).unwrap();
    assert_eq!((c.data_type(), c.processing), (DataType::Adt22, ProcessingType::Ins));
    let c = run(&adt("A23", &[])).unwrap();
    assert_eq!((c.data_type(), c.processing), (DataType::Adt00, ProcessingType::Del));
    assert_eq!(c.file_name().to_string(), "12345678_-_ADT-00_999999999999999_20240301101112345_-_0");
    // An ORC-1 CA does not turn an ADT message into a DEL.
    let c = run(&adt("A08", &[seg("ORC", &[(1, "CA")])])).unwrap();
    assert_eq!(c.processing, ProcessingType::Ins);
}

// ---------------------------------------------------------------------------------------------
// Data-type rules

fn rde_with(extra: &[String]) -> String {
    let mut segs = vec![
        seg("PID", &[(3, "12345678")]),
        seg("ORC", &[(1, "NW"), (2, "55"), (9, "20240209")]),
        seg("RXE", &[(2, "1^薬^HOT9"), (21, "IHP^入院処方^MR9P~FTP^定時処方^99I01")]),
    ];
    segs.extend_from_slice(extra);
    message("RDE^O11^RDE_O11", &segs)
}

fn rule(message: &str, field: Option<&str>, data_type: DataType) -> DataTypeRule {
    DataTypeRule::new(message, field.map(|f| f.parse().unwrap()), data_type)
}

#[test]
fn builtin_rules_for_prescriptions_and_injections() {
    let dt = |text: &str| run(text).unwrap().data_type();
    assert_eq!(dt(&rde_with(&[seg("RXR", &[(1, "PO")])])), DataType::Omp01);
    assert_eq!(dt(&rde_with(&[seg("RXR", &[(1, "IV")])])), DataType::Omp02);
    assert_eq!(dt(&rde_with(&[seg("RXR", &[(1, "PO")]), seg("RXC", &[(1, "B")])])), DataType::Omp02);
    assert_eq!(dt(&rde_with(&[seg("RXR", &[(1, "PO")]), seg("RXR", &[(1, "SC")])])), DataType::Omp02);
    // No RXR: the fallback (OMP-01).
    assert_eq!(dt(&rde_with(&[])), DataType::Omp01);
    assert_eq!(dt(&rde_with(&[seg("RXR", &[(1, "99X")])])), DataType::Omp01);
    let ras = |route: &str| {
        message(
            "RAS^O17^RAS_O17",
            &[
                seg("PID", &[(3, "12345678")]),
                seg("ORC", &[(1, "NW"), (2, "55")]),
                seg("RXA", &[(3, "20240203")]),
                seg("RXR", &[(1, route)]),
            ],
        )
    };
    assert_eq!(dt(&ras("PO^口^HL70162")), DataType::Omp11);
    assert_eq!(dt(&ras("IM")), DataType::Omp12);
    assert_eq!(dt(&ras("")), DataType::Omp11);
}

#[test]
fn configured_rules_win_over_builtin_ones() {
    let text = rde_with(&[seg("RXR", &[(1, "PO")])]);
    let mut rules = Rules::default();
    let mut r = rule("RDE^O11", Some("RXE-21"), DataType::Omp02);
    r.one_of = Some(vec!["XXX".into(), "FTP".into()]);
    rules.data_type_rules.push(r);
    rules.validate().unwrap();
    // FTP is the second repetition of RXE-21: every repetition is looked at.
    assert_eq!(run_with(&text, &rules).unwrap().data_type(), DataType::Omp02);

    let with = |r: DataTypeRule| {
        let mut rules = Rules::default();
        rules.data_type_rules.push(r);
        run_with(&text, &rules).unwrap().data_type()
    };
    let mut r = rule("RDE^O11", Some("RXE-2.3"), DataType::Omp02);
    r.equals = Some("HOT9".into());
    assert_eq!(with(r), DataType::Omp02);
    let mut r = rule("RDE^O11", Some("RXE-2.3"), DataType::Omp02);
    r.prefix = Some("HOT".into());
    assert_eq!(with(r), DataType::Omp02);
    let mut r = rule("RDE^O11", Some("RXE-2.3"), DataType::Omp02);
    r.prefix = Some("JHSI".into());
    assert_eq!(with(r), DataType::Omp01);
    let mut r = rule("RDE^O11", Some("RXC"), DataType::Omp02);
    r.present = Some(false);
    assert_eq!(with(r), DataType::Omp02);
    let mut r = rule("RDE^O11", Some("RXE-99"), DataType::Omp02);
    r.present = Some(false);
    assert_eq!(with(r), DataType::Omp02);
    assert_eq!(with(rule("RDE^O11", Some("RXE-99"), DataType::Omp02)), DataType::Omp01);
    assert_eq!(with(rule("RDE^O11", Some("RXR"), DataType::Omp02)), DataType::Omp02);
    // A catch-all rule.
    assert_eq!(with(rule("RDE^O11", None, DataType::Omp02)), DataType::Omp02);
    // A rule for another message or with an impossible data type is ignored.
    assert_eq!(with(rule("RAS^O17", None, DataType::Omp12)), DataType::Omp01);
    assert_eq!(with(rule("RDE^O11", None, DataType::Omg01)), DataType::Omp01);
}

fn omg(cs: &str, alt_cs: &str) -> String {
    message(
        "OMG^O19^OMG_O19",
        &[
            seg("PID", &[(3, "12345678")]),
            seg("ORC", &[(1, "NW"), (2, "77"), (9, "20240209")]),
            seg("OBR", &[(4, &format!("X^名称^{cs}^Y^別名^{alt_cs}"))]),
        ],
    )
}

#[test]
fn examination_orders_by_coding_system() {
    let dt = |text: &str| run(text).map(|c| c.data_type());
    assert_eq!(dt(&omg("JJ1017", "")), Ok(DataType::Omg01));
    assert_eq!(dt(&omg("JJ1017-32", "")), Ok(DataType::Omg01));
    assert_eq!(dt(&omg("LENDO", "")), Ok(DataType::Omg02));
    assert_eq!(dt(&omg("JC10", "")), Ok(DataType::Omg03));
    assert_eq!(dt(&omg("99LOCAL", "LENDO")), Ok(DataType::Omg02));
    let err = dt(&omg("99LOCAL", "")).unwrap_err();
    assert_eq!(err.code(), ErrorCode::TableValueNotFound);
    assert_eq!(err.location().to_string(), "OBR-4.3");
    assert!(matches!(
        &err,
        ClassifyError::AmbiguousDataType { message, candidates, .. }
            if message == "OMG^O19" && candidates == &[DataType::Omg01, DataType::Omg02, DataType::Omg03]
    ));
    let mut rules = Rules::default();
    rules.fallback_data_types.insert("OMG^O19".into(), DataType::Omg03);
    rules.validate().unwrap();
    assert_eq!(run_with(&omg("99LOCAL", ""), &rules).unwrap().data_type(), DataType::Omg03);
    // OMI^Z23 with a physiology code is not decidable (physiology results are ORU^R01).
    let omi = |cs: &str| {
        message(
            "OMI^Z23^OMI_Z23",
            &[
                seg("PID", &[(3, "12345678")]),
                seg("ORC", &[(1, "NW"), (2, "77")]),
                seg("OBR", &[(4, &format!("X^名称^{cs}")), (7, "20240207")]),
            ],
        )
    };
    assert!(matches!(run(&omi("JC10")), Err(ClassifyError::AmbiguousDataType { .. })));
    assert_eq!(dt(&omi("LENDO")), Ok(DataType::Omg12));
    assert_eq!(dt(&omi("JJ1017-16M")), Ok(DataType::Omg11));
    // Built-in rules off: only configured rules and fallbacks decide.
    let mut off = Rules { builtin_data_type_rules: false, ..Rules::default() };
    assert!(matches!(run_with(&omg("JJ1017", ""), &off), Err(ClassifyError::AmbiguousDataType { .. })));
    let injection = rde_with(&[seg("RXC", &[(1, "B")])]);
    assert_eq!(run_with(&injection, &off).unwrap().data_type(), DataType::Omp01);
    off.fallback_data_types.clear();
    let err = run_with(&injection, &off).unwrap_err();
    assert_eq!(err.location().to_string(), "RXR-1.1");
}

// ---------------------------------------------------------------------------------------------
// Patient ID, dates, order numbers, departments

fn adt08(pid3: &str) -> String {
    message("ADT^A08^ADT_A01", &[seg("PID", &[(3, pid3)])])
}

#[test]
fn patient_id_choice_padding_and_length() {
    let pid = |text: &str, rules: &Rules| run_with(text, rules).map(|c| c.relative_dir());
    let d = Rules::default();
    assert_eq!(pid(&adt08("X9^^^^MR~12345678^^^^PI"), &d).unwrap(), "123/456/12345678/-/ADT-00");
    assert_eq!(pid(&adt08("12345678^^^^MR~X9^^^^XX"), &d).unwrap(), "123/456/12345678/-/ADT-00");
    assert_eq!(pid(&adt08("1234"), &d).unwrap(), "123/4/1234/-/ADT-00");
    let err = pid(&adt08("123"), &d).unwrap_err();
    assert_eq!(
        err,
        ClassifyError::InvalidPatientId {
            location: Location::new("PID", 3, Some(1)),
            value: "123".into(),
            reason: PatientIdError::TooShort { len: 3, min: 4 }
        }
    );
    let mut padded = Rules::default();
    padded.patient_id.pad_width = 10;
    assert_eq!(pid(&adt08("123"), &padded).unwrap(), "000/000/0000000123/-/ADT-00");
    assert_eq!(pid(&adt08("12345678901"), &padded).unwrap(), "123/456/12345678901/-/ADT-00");
    let mut huge = Rules::default();
    huge.patient_id.pad_width = usize::MAX;
    assert!(matches!(
        pid(&adt08("1"), &huge),
        Err(ClassifyError::InvalidPatientId { reason: PatientIdError::TooLong { len: 16 }, .. })
    ));
    let mut short = Rules::default();
    short.patient_id.min_len = 1;
    assert_eq!(pid(&adt08("12"), &short).unwrap(), "12/12/-/ADT-00");
}

#[test]
fn care_date_overrides_and_fallbacks() {
    let oul = |spm17: &str| {
        message(
            "OUL^R22^OUL_R22",
            &[
                seg("PID", &[(3, "12345678")]),
                seg("SPM", &[(1, "1"), (17, spm17)]),
                seg("ORC", &[(1, "SC"), (2, "88"), (9, "20240209")]),
            ],
        )
    };
    let date = |text: &str, rules: &Rules| run_with(text, rules).map(|c| c.key.care_date.to_string());
    let d = Rules::default();
    assert_eq!(date(&oul("202402171030^202402181030"), &d).unwrap(), "20240217");
    assert_eq!(date(&oul("202402171030&X"), &d).unwrap(), "20240217");
    assert!(matches!(date(&oul(""), &d), Err(ClassifyError::MissingField { .. })));
    let mut r = Rules::default();
    r.care_date_fields.insert(
        "OML-11".into(),
        CareDateSources(vec![
            CareDateSource::Field("SPM-17".parse().unwrap()),
            CareDateSource::Field("ORC-9".parse().unwrap()),
        ]),
    );
    assert_eq!(date(&oul("20240217"), &r).unwrap(), "20240217");
    assert_eq!(date(&oul(""), &r).unwrap(), "20240209");
    r.care_date_fields.insert("OUL^R22".into(), CareDateSources(vec![CareDateSource::NoDate]));
    assert_eq!(date(&oul("20240217"), &r).unwrap(), "-");
}

#[test]
fn departments_by_source_and_policy() {
    let omd = |orc17: &str, pv1_10: &str| {
        message(
            "OMD^O03^OMD_O03",
            &[
                seg("PID", &[(3, "12345678")]),
                seg("PV1", &[(10, pv1_10)]),
                seg("ORC", &[(1, "NW"), (2, "1"), (9, "20240209"), (17, orc17)]),
            ],
        )
    };
    let dept = |text: &str, rules: &Rules| run_with(text, rules).map(|c| c.department.to_string());
    let d = Rules::default();
    assert_eq!(dept(&omd("01^内科^99XY1", "02"), &d).unwrap(), "01");
    assert_eq!(dept(&omd("", "02"), &d).unwrap(), "02");
    assert_eq!(dept(&omd("", ""), &d).unwrap(), "-");
    assert_eq!(dept(&omd("011", ""), &d).unwrap(), "011");
    let skip = Rules { invalid_department: InvalidDepartmentPolicy::Skip, ..Rules::default() };
    assert_eq!(dept(&omd("内科", "02"), &skip).unwrap(), "02");
    assert_eq!(dept(&omd("内科", "x"), &skip).unwrap(), "-");
    let pv1_first =
        Rules { department_fields: vec!["PV1-10".parse().unwrap(), "ORC-17.1".parse().unwrap()], ..Rules::default() };
    assert_eq!(dept(&omd("01", "02"), &pv1_first).unwrap(), "02");
}

#[test]
fn minute_precision_policy() {
    let text =
        message("ADT^A08^ADT_A01", &[seg("PID", &[(3, "12345678")])]).replace("20240301101112.3456", "202403011011");
    assert_eq!(run(&text).unwrap().occurred.as_str(), "20240301101100000");
    let strict = Rules { minute_precision: MinutePrecision::Reject, ..Rules::default() };
    let err = run_with(&text, &strict).unwrap_err();
    assert_eq!(
        err,
        ClassifyError::InvalidTimestamp { value: "202403011011".into(), reason: TimestampError::MissingSeconds }
    );
    assert_eq!(err.code(), ErrorCode::DataTypeError);
    assert!(err.message_ja().contains("秒"));
}

// ---------------------------------------------------------------------------------------------
// Every ClassifyError

fn err(text: &str) -> ClassifyError {
    run(text).unwrap_err()
}

fn check(e: &ClassifyError, code: u16, location: &str) {
    assert_eq!(e.code().code(), code, "{e}");
    assert_eq!(e.location().to_string(), location, "{e}");
    assert!(!e.to_string().is_empty());
    assert!(!e.message_ja().is_empty());
    assert!(e.code().to_cwe().starts_with(&format!("{code}^")));
}

const GOOD_ADT: &str = "MSH|^~\\&|HIS123|SEND|GW|RCV|20240301101112||ADT^A08^ADT_A01|C1|P|2.5\rPID|||12345678\r";

#[test]
fn unsupported_version() {
    let e = err(&GOOD_ADT.replace("|P|2.5", "|P|2.4"));
    check(&e, 203, "MSH-12.1");
    assert_eq!(e, ClassifyError::UnsupportedVersion { found: "2.4".into() });
    assert_eq!(e.location().to_erl(), "MSH^1^12^1^1");
    let v251 = GOOD_ADT.replace("|P|2.5", "|P|2.5.1");
    assert!(matches!(run(&v251), Err(ClassifyError::UnsupportedVersion { .. })));
    let compat = Rules { version_check: VersionCheck::Compatible, ..Rules::default() };
    assert!(run_with(&v251, &compat).is_ok());
    assert!(run_with(&GOOD_ADT.replace("|P|2.5", "|P|2.51"), &compat).is_err());
    assert!(run_with(&GOOD_ADT.replace("|P|2.5", "|P|2.5."), &compat).is_err());
    let off = Rules { version_check: VersionCheck::Off, ..Rules::default() };
    assert!(run_with(&GOOD_ADT.replace("|P|2.5", "|P|2.3"), &off).is_ok());
    assert!(run_with(&GOOD_ADT.replace("|P|2.5", "|P|"), &off).is_ok());
    assert!(run(GOOD_ADT).is_ok());
    assert!(run(&GOOD_ADT.replace("|P|2.5", "|P|2.5^JPN")).is_ok());
}

#[test]
fn missing_fields() {
    check(&err(&GOOD_ADT.replace("|P|2.5", "|P|")), 101, "MSH-12.1");
    check(&err(&GOOD_ADT.replace("ADT^A08^ADT_A01", "")), 101, "MSH-9.1");
    check(&err(&GOOD_ADT.replace("ADT^A08^ADT_A01", "ADT")), 101, "MSH-9.2");
    check(&err(&GOOD_ADT.replace("|C1|", "||")), 101, "MSH-10");
    check(&err(&GOOD_ADT.replace("20240301101112", "")), 101, "MSH-7.1");
    check(&err(&GOOD_ADT.replace("PID|||12345678", "PID|||^^^^PI")), 101, "PID-3.1");
    let a01 = message("ADT^A01^ADT_A01", &[seg("PID", &[(3, "12345678")]), seg("PV1", &[(10, "01")])]);
    let e = err(&a01);
    check(&e, 101, "PV1-44");
    assert_eq!(e, ClassifyError::MissingField { location: "PV1-44".parse().unwrap(), what: "care date" });
    let omd = message("OMD^O03^OMD_O03", &[seg("PID", &[(3, "12345678")]), seg("ORC", &[(1, "NW"), (9, "20240209")])]);
    check(&err(&omd), 101, "ORC-2.1");
}

#[test]
fn missing_segments() {
    let e = err(&GOOD_ADT.replace("\rPID|||12345678", ""));
    check(&e, 100, "PID");
    assert_eq!(e.location().to_erl(), "PID^1");
    check(&err(&message("ADT^A01^ADT_A01", &[seg("PID", &[(3, "12345678")])])), 100, "PV1");
    check(&err(&message("OMD^O03^OMD_O03", &[seg("PID", &[(3, "12345678")])])), 100, "ORC");
}

#[test]
fn unsupported_message_types_and_events() {
    for t in ["QRY^Q01", "OMP^O09", "ORM^O01", "ACK^A01"] {
        let e = err(&GOOD_ADT.replace("ADT^A08^ADT_A01", t));
        check(&e, 200, "MSH-9.1");
        assert!(matches!(e, ClassifyError::UnsupportedMessageType { .. }));
    }
    for t in ["ADT^A31", "ORU^R30", "OMG^O20", "ADT^a08"] {
        let e = err(&GOOD_ADT.replace("ADT^A08^ADT_A01", t));
        check(&e, 201, "MSH-9.2");
        assert!(matches!(e, ClassifyError::UnsupportedEvent { .. }));
    }
}

#[test]
fn ambiguous_data_type() {
    check(&err(&omg("99LOCAL", "")), 103, "OBR-4.3");
}

#[test]
fn invalid_patient_ids() {
    for (pid, reason) in [
        ("1234567890123456", PatientIdError::TooLong { len: 16 }),
        ("1234/5678", PatientIdError::InvalidChar('/')),
        ("1234\\\\5678", PatientIdError::InvalidChar('\\')),
        ("1234_5678", PatientIdError::InvalidChar('_')),
        ("1234.5678", PatientIdError::InvalidChar('.')),
        ("....", PatientIdError::InvalidChar('.')),
        ("1234 5678", PatientIdError::InvalidChar(' ')),
        ("1234\u{7}5678", PatientIdError::InvalidChar('\u{7}')),
        ("患者番号です", PatientIdError::InvalidChar('患')),
        ("12", PatientIdError::TooShort { len: 2, min: 4 }),
    ] {
        let e = err(&adt08(pid));
        check(&e, 102, "PID-3.1");
        match e {
            ClassifyError::InvalidPatientId { reason: r, .. } => assert_eq!(r, reason, "{pid:?}"),
            other => panic!("{pid:?}: {other:?}"),
        }
    }
}

#[test]
fn invalid_care_dates() {
    for v in ["20241301", "2024", "2024-02-09", "２０２４０２０９"] {
        let omd =
            message("OMD^O03^OMD_O03", &[seg("PID", &[(3, "12345678")]), seg("ORC", &[(1, "NW"), (2, "1"), (9, v)])]);
        let e = err(&omd);
        check(&e, 102, "ORC-9");
        assert_eq!(e, ClassifyError::InvalidCareDate { location: "ORC-9".parse().unwrap(), value: v.into() });
    }
}

#[test]
fn invalid_timestamps() {
    for (v, reason) in [
        ("2024", TimestampError::InsufficientPrecision),
        ("20240301101112.x", TimestampError::Malformed),
        ("20241301101112", TimestampError::OutOfRange),
        ("yesterday", TimestampError::Malformed),
    ] {
        let e = err(&GOOD_ADT.replace("20240301101112", v));
        check(&e, 102, "MSH-7.1");
        assert_eq!(e, ClassifyError::InvalidTimestamp { value: v.into(), reason });
    }
}

#[test]
fn invalid_order_numbers() {
    for (v, reason) in [
        ("1234567890123456", OrderNumberError::TooLong { len: 16, max: 15 }),
        ("12_3", OrderNumberError::InvalidChar('_')),
        ("1.2", OrderNumberError::InvalidChar('.')),
        ("../x", OrderNumberError::InvalidChar('.')),
        ("1 2", OrderNumberError::InvalidChar(' ')),
    ] {
        let omd = message(
            "OMD^O03^OMD_O03",
            &[seg("PID", &[(3, "12345678")]), seg("ORC", &[(1, "NW"), (2, v), (9, "20240209")])],
        );
        let e = err(&omd);
        check(&e, 102, "ORC-2.1");
        assert!(matches!(e, ClassifyError::InvalidOrderNumber { reason: r, .. } if r == reason), "{v}");
    }
}

#[test]
fn invalid_departments() {
    for v in ["内科", "1", "0111", "ab", "0-1"] {
        let omd = message(
            "OMD^O03^OMD_O03",
            &[
                seg("PID", &[(3, "12345678")]),
                seg("ORC", &[(1, "NW"), (2, "1"), (9, "20240209"), (17, &format!("{v}^名称"))]),
            ],
        );
        let e = err(&omd);
        check(&e, 103, "ORC-17.1");
        assert_eq!(e, ClassifyError::InvalidDepartment { location: "ORC-17.1".parse().unwrap(), value: v.into() });
    }
}

#[test]
fn error_codes() {
    let all = [
        (ErrorCode::SegmentSequenceError, 100),
        (ErrorCode::RequiredFieldMissing, 101),
        (ErrorCode::DataTypeError, 102),
        (ErrorCode::TableValueNotFound, 103),
        (ErrorCode::UnsupportedMessageType, 200),
        (ErrorCode::UnsupportedEventCode, 201),
        (ErrorCode::UnsupportedVersionId, 203),
    ];
    for (c, n) in all {
        assert_eq!(c.code(), n);
        assert!(!c.text().is_empty());
    }
    assert_eq!(ErrorCode::RequiredFieldMissing.to_cwe(), "101^Required field missing^HL70357");
    assert_eq!(ErrorCode::RequiredFieldMissing.to_string(), "101 Required field missing");
}

#[test]
fn classification_serializes() {
    let c = run(&rde("NW")).unwrap();
    let v = serde_json::to_value(&c).unwrap();
    assert_eq!(v["key"]["data_type"], "OMP-01");
    assert_eq!(v["key"]["order_number"], "000000000000055");
    assert_eq!(v["processing"], "INS");
    assert_eq!(v["entry"]["no"], 25);
}
