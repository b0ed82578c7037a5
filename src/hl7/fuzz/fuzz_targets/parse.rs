//! Raw bytes → charset::decode → Message::parse → JSON view → ACK: must never panic, and the
//! crate's promises must hold on every input.

#![no_main]

use hakobune_hl7::Message;
use hakobune_hl7::ack::{AckBuilder, AckCode, ErrorCode, ErrorDetail};
use hakobune_hl7::charset;
use hakobune_hl7::json::to_json_view;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Text that did not come through the decoder (any UTF-8) must parse without panicking too.
    if let Ok(text) = std::str::from_utf8(data) {
        exercise_text(text, &[]);
    }
    match charset::decode(data) {
        Ok(decoded) => {
            for issue in &decoded.outside_jis_x0208 {
                assert!(issue.byte_offset < data.len());
                assert_eq!(decoded.text.get(issue.text_offset..).and_then(|t| t.chars().next()), Some(issue.ch));
            }
            if decoded.outside_jis_x0208.is_empty() {
                // Text from the strict decoder without issues is encodable and round-trips.
                let bytes = charset::encode(&decoded.text).expect("decoded text re-encodes");
                assert_eq!(charset::decode(&bytes).expect("re-encoded bytes decode").text, decoded.text);
            }
            exercise_text(&decoded.text, &decoded.outside_jis_x0208);
        }
        Err(err) => {
            let detail = ErrorDetail::new(ErrorCode::DataTypeError, err.to_string()).user_message("文字コード不正");
            check_ack(&AckBuilder::new(AckCode::AR, "C1", "20240101000000").error(detail).build(), None);
        }
    }
});

fn exercise_text(text: &str, issues: &[charset::CharIssue]) {
    let Ok(msg) = Message::parse(text) else { return };
    let _ = charset::declared_charset(&msg);
    for seg in msg.segments() {
        for n in 0..=seg.field_count() + 1 {
            let field = seg.field(n);
            let _ = field.component(2);
            let _ = field.subcomponent(1, 2);
            let _ = field.repetitions().count();
        }
    }
    let _ = msg.get("PID-5.1.1");
    let mut errors = Vec::new();
    for issue in issues {
        let loc = issue.location(&msg);
        errors
            .push(ErrorDetail::new(ErrorCode::DataTypeError, "outside JIS X 0208").user_message(issue.ch.to_string()));
        if let Some(loc) = loc {
            let _ = loc.to_string();
            errors.push(ErrorDetail::new(ErrorCode::DataTypeError, "at").at(loc));
        }
    }
    for offset in (0..text.len()).step_by(7) {
        let _ = msg.locate(offset);
    }
    let view = to_json_view(&msg);
    assert_eq!(view.segments.len(), msg.len());
    let ack = AckBuilder::new(AckCode::AE, "C2", "20240101000000").original(&msg).text(text).errors(errors).build();
    check_ack(&ack, Some(&msg));
}

/// Every ACK is valid SS-MIX2 ISO-2022-JP and parses back.
fn check_ack(bytes: &[u8], original: Option<&Message>) {
    let decoded = charset::decode(bytes).expect("ACK decodes");
    assert!(decoded.outside_jis_x0208.is_empty(), "ACK is JIS X 0208 only");
    let ack = Message::parse(&decoded.text).expect("ACK parses");
    assert_eq!(ack.get("MSH-12"), "2.5");
    assert!(matches!(ack.get("MSA-1"), "AE" | "AR"));
    if original.is_none() {
        assert_eq!(ack.get("MSA-2"), "");
    }
}
