use super::*;
use crate::charset::{Charset, declared_charset};

const ORIGINAL: &str = "MSH|^~\\&|HIS123|SEND|GW|RCV|20111220224447.3399||ADT^A08^ADT_A01|20111220000001|T|2.5||||||~ISO IR87||ISO 2022-1994\rPID|0001||9999013^^^^PI\r";

fn reparse(bytes: &[u8]) -> Message {
    let decoded = charset::decode(bytes).expect("ACK is valid ISO-2022-JP");
    assert!(decoded.outside_jis_x0208.is_empty());
    Message::parse(&decoded.text).expect("ACK parses")
}

#[test]
fn aa_for_a_parsed_original() {
    let orig = Message::parse(ORIGINAL).unwrap();
    let bytes = ack(Some(&orig), AckCode::AA, &[], "ACK0001", "20240401093000.123");
    assert!(bytes.is_ascii());
    assert!(bytes.ends_with(b"\r"));
    assert!(!bytes.contains(&b'\n'));
    let m = reparse(&bytes);
    assert_eq!(m.get("MSH-3"), "GW");
    assert_eq!(m.get("MSH-4"), "RCV");
    assert_eq!(m.get("MSH-5"), "HIS123");
    assert_eq!(m.get("MSH-6"), "SEND");
    assert_eq!(m.get("MSH-7"), "20240401093000.123");
    assert_eq!(m.get("MSH-9"), "ACK^A08^ACK");
    assert_eq!(m.get("MSH-10"), "ACK0001");
    assert_eq!(m.get("MSH-11"), "T");
    assert_eq!(m.get("MSH-12"), "2.5");
    // Pure ASCII: no character set declared.
    assert_eq!(m.get("MSH-18"), "");
    assert_eq!(declared_charset(&m), Charset::Ascii);
    assert_eq!(m.get("MSA-1"), "AA");
    assert_eq!(m.get("MSA-2"), "20111220000001");
    assert_eq!(m.len(), 2);
}

#[test]
fn ar_without_original() {
    let bytes = AckBuilder::new(AckCode::AR, "ACK0002", "20240401093000")
        .text("not HL7")
        .error(ErrorDetail::new(ErrorCode::UnsupportedMessageType, "no MSH segment"))
        .build();
    let m = reparse(&bytes);
    assert_eq!(m.get("MSH-3"), "");
    assert_eq!(m.get("MSH-9"), "ACK^^ACK");
    assert_eq!(m.get("MSH-11"), "P");
    assert_eq!(m.get("MSA-1"), "AR");
    assert_eq!(m.get("MSA-2"), "");
    assert_eq!(m.get("MSA-3"), "not HL7");
    assert_eq!(m.get("ERR-2"), "");
    assert_eq!(m.get("ERR-3"), "200^Unsupported message type^HL70357");
    assert_eq!(m.get("ERR-4"), "E");
    assert_eq!(m.get("ERR-7"), "no MSH segment");
}

#[test]
fn ae_with_errors_japanese_and_escaping() {
    let orig = Message::parse(ORIGINAL).unwrap();
    let errors = [
        ErrorDetail::new(ErrorCode::RequiredFieldMissing, "PID-5 is empty | required by SS-MIX2")
            .at(Location::field("PID", 1, 5))
            .user_message("患者氏名がありません^確認してください"),
        ErrorDetail::new(ErrorCode::DataTypeError, "bad date \\ here & ~ there")
            .at(Location {
                segment: "PID".into(),
                sequence: 1,
                field: Some(7),
                repetition: Some(1),
                component: Some(1),
                subcomponent: None,
            })
            .severity(Severity::Warning),
        ErrorDetail::new(ErrorCode::ApplicationInternalError, "disk full\r\nretry later").user_message("①髙"),
    ];
    let bytes = ack(Some(&orig), AckCode::AE, &errors, "ACK0003", "20240401093000");
    assert!(bytes.is_ascii(), "ISO-2022-JP is 7-bit");
    let m = reparse(&bytes);
    assert_eq!(m.get("MSH-18"), "~ISO IR87");
    assert_eq!(m.get("MSH-20"), "ISO 2022-1994");
    assert_eq!(declared_charset(&m), Charset::Iso2022Jp);
    assert_eq!(m.get("MSA-1"), "AE");
    let errs: Vec<_> = m.segments_named("ERR").collect();
    assert_eq!(errs.len(), 3);
    assert_eq!(errs[0].field(1).as_str(), "");
    assert_eq!(errs[0].field(2).as_str(), "PID^1^5");
    assert_eq!(errs[0].field(3).as_str(), "101^Required field missing^HL70357");
    assert_eq!(errs[0].field(3).component(1), "101");
    assert_eq!(errs[0].field(4).as_str(), "E");
    assert_eq!(errs[0].field(7).as_str(), "PID-5 is empty \\F\\ required by SS-MIX2");
    assert_eq!(errs[0].field(8).as_str(), "患者氏名がありません\\S\\確認してください");
    assert_eq!(errs[1].field(2).as_str(), "PID^1^7^1^1");
    assert_eq!(errs[1].field(3).component(1), "102");
    assert_eq!(errs[1].field(4).as_str(), "W");
    assert_eq!(errs[1].field(7).as_str(), "bad date \\E\\ here \\T\\ \\R\\ there");
    assert_eq!(errs[2].field(7).as_str(), "disk full\\.br\\retry later");
    // Characters outside JIS X 0208 are substituted.
    assert_eq!(errs[2].field(8).as_str(), "〓〓");
}

#[test]
fn original_with_other_delimiters_is_translated() {
    let orig = Message::parse("MSH#$*!@#APP$FAC#X#Y#Z#20240101##ADT$A01#ID^1#P#2.5\r").unwrap();
    let m = reparse(&ack(Some(&orig), AckCode::AA, &[], "C1", "20240101000000"));
    assert_eq!(m.get("MSH-5"), "APP^FAC");
    assert_eq!(m.get("MSH-5.2"), "FAC");
    assert_eq!(m.get("MSH-9"), "ACK^A01^ACK");
    // '^' was plain text in the original's MSH-10.
    assert_eq!(m.get("MSA-2"), "ID\\S\\1");
}

#[test]
fn error_codes_match_table_0357() {
    let all = [
        (ErrorCode::SegmentSequenceError, 100, "Segment sequence error"),
        (ErrorCode::RequiredFieldMissing, 101, "Required field missing"),
        (ErrorCode::DataTypeError, 102, "Data type error"),
        (ErrorCode::TableValueNotFound, 103, "Table value not found"),
        (ErrorCode::UnsupportedMessageType, 200, "Unsupported message type"),
        (ErrorCode::UnsupportedEventCode, 201, "Unsupported event code"),
        (ErrorCode::UnsupportedProcessingId, 202, "Unsupported processing id"),
        (ErrorCode::UnsupportedVersionId, 203, "Unsupported version id"),
        (ErrorCode::UnknownKeyIdentifier, 204, "Unknown key identifier"),
        (ErrorCode::DuplicateKeyIdentifier, 205, "Duplicate key identifier"),
        (ErrorCode::ApplicationRecordLocked, 206, "Application record locked"),
        (ErrorCode::ApplicationInternalError, 207, "Application internal error"),
    ];
    for (code, n, text) in all {
        assert_eq!((code.code(), code.text()), (n, text));
        assert_eq!(code.to_cwe(), format!("{n}^{text}^HL70357"));
    }
}
