//! Tests over the real SS-MIX2 sample files (read-only, beside the repository in `shared/`).

use std::path::{Path, PathBuf};

use crate::ack::{AckCode, ErrorCode, ErrorDetail, ack};
use crate::charset::{self, Charset};
use crate::json::to_json_view;
use crate::{Location, Message};

const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/ssmix2-samples");

fn sample_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> =
            std::fs::read_dir(dir).expect("samples readable").map(|e| e.unwrap().path()).collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, out);
            } else if !matches!(
                path.file_name().and_then(|n| n.to_str()),
                Some("README.md" | "DECODED_PREVIEW_utf8.txt")
            ) {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(Path::new(SAMPLES), &mut out);
    out
}

#[test]
fn all_23_samples_decode_strictly_without_issues() {
    let files = sample_files();
    assert_eq!(files.len(), 23, "{files:#?}");
    for path in files {
        let raw = std::fs::read(&path).unwrap();
        let decoded = charset::decode(&raw).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(decoded.outside_jis_x0208.is_empty(), "{}: {:?}", path.display(), decoded.outside_jis_x0208);
        // Re-encoding gives the same bytes (a trailing 0x1C is ASCII and survives).
        assert_eq!(charset::encode(&decoded.text).unwrap(), raw, "{}", path.display());
        let msg = Message::parse(&decoded.text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(charset::declared_charset(&msg), Charset::Iso2022Jp, "{}", path.display());
        assert_eq!(msg.get("MSH-12"), "2.5");

        let view = to_json_view(&msg);
        assert_eq!(view.segments.len(), msg.len());
        assert_eq!(view.segments[0].fields[8].value, msg.get("MSH-9"));
        serde_json::to_string(&view).unwrap();

        let reply = ack(Some(&msg), AckCode::AA, &[], "ACK1", "20240401093000");
        let reply = Message::parse(&charset::decode(&reply).unwrap().text).unwrap();
        assert_eq!(reply.get("MSA-2"), msg.get("MSH-10"));
        assert_eq!(reply.get("MSH-9.2"), msg.get("MSH-9.2"));
    }
}

#[test]
fn adt00_sample_fields() {
    let path = sample_files().into_iter().find(|p| p.to_string_lossy().contains("ADT-00")).expect("ADT-00 sample");
    let decoded = charset::decode(&std::fs::read(path).unwrap()).unwrap();
    let msg = Message::parse(&decoded.text).unwrap();
    assert_eq!(msg.get("MSH-9"), "ADT^A08^ADT_A01");
    assert_eq!(msg.get("MSH-10"), "20111220000001");
    assert_eq!(msg.get("MSH-18"), "~ISO IR87");
    assert_eq!(msg.get("PID-3.1"), "9999013");
    // The first kanji of the patient name sits in PID-5, repetition 1, component 1.
    let name = msg.get("PID-5.1");
    assert!(!name.is_empty() && !name.is_ascii(), "{name:?}");
    let offset = decoded.text.find(name).unwrap();
    let loc = msg.locate(offset).unwrap();
    assert_eq!(loc.to_erl(), "PID^1^5^1^1^1");
    let kana = msg.segment("PID").unwrap().field(5).repetitions().nth(1).unwrap().component(1);
    let loc = msg.locate(decoded.text.find(kana).unwrap()).unwrap();
    assert_eq!((loc.repetition, loc.component), (Some(2), Some(1)));
}

#[test]
fn condition_flag_0_sample_has_a_bare_msh_junk_segment() {
    let path = sample_files().into_iter().find(|p| p.to_string_lossy().ends_with("_01_0")).unwrap();
    let decoded = charset::decode(&std::fs::read(path).unwrap()).unwrap();
    let msg = Message::parse(&decoded.text).unwrap();
    assert_eq!(msg.get("MSH-13"), "番号");
    // A later segment that is only "MSH": its fields are empty, and nothing panics.
    let bare: Vec<_> = msg.segments_named("MSH").skip(1).collect();
    assert!(bare.iter().any(|s| s.field_count() == 1 && s.field(1).is_empty() && s.field(2).is_empty()));
    let _ = to_json_view(&msg);
}

#[test]
fn locate_edges() {
    let text = "\u{b}MSH|^~\\&|A^B&C~D\rPID|1\r\rZZZ\r";
    let msg = Message::parse(text).unwrap();
    let at = |needle: &str| msg.locate(text.find(needle).unwrap());
    assert_eq!(at("MSH").unwrap(), Location::segment("MSH", 1));
    assert_eq!(at("^~").unwrap(), Location::field("MSH", 1, 2));
    let c = at("C").unwrap();
    assert_eq!(c.to_erl(), "MSH^1^3^1^2^2");
    assert_eq!(at("D").unwrap().to_erl(), "MSH^1^3^2^1^1");
    assert_eq!(at("1").unwrap().to_erl(), "PID^1^1^1^1^1");
    assert_eq!(at("ZZZ").unwrap(), Location::segment("ZZZ", 1));
    assert_eq!(msg.locate(0), None, "trimmed MLLP start byte");
    assert_eq!(msg.locate(text.find('\r').unwrap()), None, "segment terminator");
    assert_eq!(msg.locate(text.len() + 10), None);
}

#[test]
fn json_view_shape() {
    let msg = Message::parse("MSH|^~\\&|A\rPID|0001||9999013^^^^PI||患者^太郎~カンジャ^タロウ||x&y\r").unwrap();
    let json = serde_json::to_value(to_json_view(&msg)).unwrap();
    assert_eq!(json["delimiters"], "|^~\\&");
    assert_eq!(json["segments"][0]["id"], "MSH");
    assert_eq!(json["segments"][0]["fields"][0], serde_json::json!({ "value": "|" }));
    assert_eq!(json["segments"][0]["fields"][1], serde_json::json!({ "value": "^~\\&" }));
    assert_eq!(json["segments"][0]["fields"][2], serde_json::json!({ "value": "A" }));
    let pid = &json["segments"][1];
    assert_eq!(pid["fields"][0], serde_json::json!({ "value": "0001" }));
    assert_eq!(pid["fields"][1], serde_json::json!({ "value": "" }));
    assert_eq!(
        pid["fields"][2],
        serde_json::json!({ "value": "9999013^^^^PI", "repetitions": [[["9999013"], [""], [""], [""], ["PI"]]] })
    );
    assert_eq!(pid["fields"][4]["repetitions"], serde_json::json!([[["患者"], ["太郎"]], [["カンジャ"], ["タロウ"]]]));
    assert_eq!(pid["fields"][6]["repetitions"], serde_json::json!([[["x", "y"]]]));
    assert_eq!(pid["fields"].as_array().unwrap().len(), 7);
}

#[test]
fn unparseable_original_gets_an_ack_too() {
    let err = charset::decode("MSH|^~\\&|患者".as_bytes()).unwrap_err();
    let detail = ErrorDetail::new(ErrorCode::DataTypeError, err.to_string()).user_message("文字コードが不正です");
    let bytes = ack(None, AckCode::AR, &[detail], "ACK9", "20240401093000");
    let m = Message::parse(&charset::decode(&bytes).unwrap().text).unwrap();
    assert_eq!(m.get("MSA-2"), "");
    assert!(m.get("ERR-7").contains("UTF-8"));
    assert_eq!(m.get("ERR-8"), "文字コードが不正です");
}
