use super::*;

fn jis(pairs: &[u8]) -> Vec<u8> {
    let mut v = b"A\x1b$B".to_vec();
    v.extend_from_slice(pairs);
    v.extend_from_slice(b"\x1b(BZ");
    v
}

#[test]
fn decodes_ascii_and_jis_x0208() {
    // 患者 = 0x3435 0x3C54
    let d = decode(b"PID|\x1b$B45<T\x1b(B|x\r").unwrap();
    assert_eq!(d.text, "PID|患者|x\r");
    assert!(d.outside_jis_x0208.is_empty());
    // ESC $ @ (JIS C 6226-1978 designation) is accepted like ESC $ B.
    assert_eq!(decode(b"\x1b$@0!\x1b(B").unwrap().text, "亜");
    assert_eq!(decode(b"").unwrap().text, "");
}

#[test]
fn jis_bytes_that_look_like_delimiters_are_not_delimiters() {
    // 0x7C '|' and 0x5E '^' inside JIS mode: 0x305E = 斡? (any row-16 code), 0x4E7C = 蔽?
    let d = decode(b"\x1b$B0^N|\x1b(B").unwrap();
    assert_eq!(d.text.chars().count(), 2);
    assert!(!d.text.contains(['|', '^']));
}

#[test]
fn reports_nec_special_row_13() {
    // ① = 0x2D21
    let d = decode(&jis(b"0!-!")).unwrap();
    assert_eq!(d.text, "A亜①Z");
    assert_eq!(
        d.outside_jis_x0208,
        [CharIssue { ch: '①', byte_offset: 6, text_offset: 4, kind: IssueKind::NecSpecial, code: 0x2D21 }]
    );
}

#[test]
fn reports_ibm_extensions() {
    // 髙 = 0x7C62, 﨑 = 0x7975
    let d = decode(&jis(b"|by u")).unwrap_err();
    // a space (0x20) is not a JIS byte
    assert_eq!(d, EncodingError::InvalidJisByte { offset: 7, byte: b' ' });
    let d = decode(&jis(b"|byu")).unwrap();
    assert_eq!(d.text, "A髙﨑Z");
    let got: Vec<_> = d.outside_jis_x0208.iter().map(|i| (i.ch, i.byte_offset, i.kind, i.code)).collect();
    assert_eq!(got, [('髙', 4, IssueKind::IbmExtension, 0x7C62), ('﨑', 6, IssueKind::IbmExtension, 0x7975)]);
}

#[test]
fn reports_half_width_katakana() {
    // ｶﾝ = 0x36 0x5D in JIS X 0201 katakana
    let d = decode(b"X\x1b(I6]\x1b(B|").unwrap();
    assert_eq!(d.text, "Xｶﾝ|");
    let got: Vec<_> = d.outside_jis_x0208.iter().map(|i| (i.ch, i.byte_offset, i.text_offset, i.kind)).collect();
    assert_eq!(got, [('ｶ', 4, 1, IssueKind::HalfWidthKatakana), ('ﾝ', 5, 4, IssueKind::HalfWidthKatakana)]);
    assert_eq!(decode(b"\x1b(I\r\x1b(B").unwrap_err(), EncodingError::InvalidKatakanaByte { offset: 3, byte: b'\r' });
}

#[test]
fn reports_jis_roman_yen_and_overline_only() {
    let d = decode(b"\x1b(Ja\\~\x1b(B").unwrap();
    assert_eq!(d.text, "a¥‾");
    let got: Vec<_> = d.outside_jis_x0208.iter().map(|i| (i.ch, i.kind)).collect();
    assert_eq!(got, [('¥', IssueKind::JisRoman), ('‾', IssueKind::JisRoman)]);
}

#[test]
fn eight_bit_input_names_the_likely_encoding() {
    let utf8 = "MSH|^~\\&|患者".as_bytes();
    let err = decode(utf8).unwrap_err();
    assert_eq!(err, EncodingError::EightBit { offset: 9, byte: 0xE6, likely: LikelyEncoding::Utf8 });
    assert!(err.to_string().contains("UTF-8"), "{err}");
    let (sjis, _, _) = SHIFT_JIS.encode("PID|患者^太郎");
    let err = decode(&sjis).unwrap_err();
    assert!(matches!(err, EncodingError::EightBit { offset: 4, likely: LikelyEncoding::ShiftJis, .. }), "{err:?}");
    assert!(err.to_string().contains("Shift_JIS"));
    let err = decode(b"a\xff\xff").unwrap_err();
    assert!(matches!(err, EncodingError::EightBit { offset: 1, byte: 0xFF, likely: LikelyEncoding::Unknown }));
}

#[test]
fn escape_sequence_errors() {
    assert_eq!(decode(b"A\x1b").unwrap_err(), EncodingError::TruncatedEscape { offset: 1 });
    assert_eq!(decode(b"A\x1b$").unwrap_err(), EncodingError::TruncatedEscape { offset: 1 });
    assert_eq!(decode(b"A\x1b$(").unwrap_err(), EncodingError::TruncatedEscape { offset: 1 });
    assert_eq!(decode(b"A\x1b(").unwrap_err(), EncodingError::TruncatedEscape { offset: 1 });
    let err = decode(b"A\x1b$(D0!\x1b(B").unwrap_err();
    assert_eq!(
        err,
        EncodingError::UnsupportedEscape { offset: 1, sequence: "ESC $ ( D".into(), charset: Some("JIS X 0212") }
    );
    assert!(err.to_string().contains("JIS X 0212"));
    assert!(matches!(
        decode(b"\x1b$A0!").unwrap_err(),
        EncodingError::UnsupportedEscape { offset: 0, charset: Some("GB 2312"), .. }
    ));
    assert!(matches!(
        decode(b"\x1bZZ").unwrap_err(),
        EncodingError::UnsupportedEscape { offset: 0, charset: None, ref sequence } if sequence == "ESC Z Z"
    ));
    assert_eq!(decode(b"\x1b$B\x1b(B").unwrap_err(), EncodingError::RedundantEscape { offset: 3 });
}

#[test]
fn jis_run_errors() {
    // odd-length run: lead byte directly followed by ESC
    assert_eq!(decode(b"\x1b$B0!0\x1b(B").unwrap_err(), EncodingError::TruncatedJisPair { offset: 5, byte: b'0' });
    // lead byte at the end of the input
    assert_eq!(decode(b"\x1b$B0").unwrap_err(), EncodingError::TruncatedJisPair { offset: 3, byte: b'0' });
    // segment terminator inside JIS mode (sender forgot ESC ( B)
    assert_eq!(decode(b"\x1b$B0!\r").unwrap_err(), EncodingError::InvalidJisByte { offset: 5, byte: b'\r' });
    assert_eq!(decode(b"\x1b$B0\n").unwrap_err(), EncodingError::InvalidJisByte { offset: 4, byte: b'\n' });
    // unassigned codes: row 9 and a gap in row 2
    assert_eq!(decode(&jis(b")!")).unwrap_err(), EncodingError::UnassignedJisCode { offset: 4, code: 0x2921 });
    assert_eq!(decode(&jis(b"0!\"/")).unwrap_err(), EncodingError::UnassignedJisCode { offset: 6, code: 0x222F });
    // input ends in JIS mode
    assert_eq!(decode(b"A\x1b$B0!").unwrap_err(), EncodingError::UnterminatedShift { offset: 1 });
    // SO / SI
    assert_eq!(decode(b"A\x0eB").unwrap_err(), EncodingError::ShiftByte { offset: 1, byte: 0x0E });
}

#[test]
fn mllp_bytes_pass_through() {
    assert_eq!(decode(b"\x0bMSH|\r\x1c").unwrap().text, "\u{b}MSH|\r\u{1c}");
}

#[test]
fn encode_round_trips_and_is_strict() {
    let bytes = encode("MSA|AE|1|患者 ID が不正です").unwrap();
    assert!(bytes.is_ascii());
    assert_eq!(decode(&bytes).unwrap().text, "MSA|AE|1|患者 ID が不正です");
    assert_eq!(encode("a〜").unwrap_err(), EncodingError::Unmappable { ch: '〜', offset: 1 });
    assert_eq!(encode("\u{1b}").unwrap_err(), EncodingError::Unmappable { ch: '\u{1b}', offset: 0 });
    assert_eq!(encode("😀").unwrap_err(), EncodingError::Unmappable { ch: '😀', offset: 0 });
    assert_eq!(
        encode("x①").unwrap_err(),
        EncodingError::OutsideJisX0208 { ch: '①', offset: 1, kind: IssueKind::NecSpecial }
    );
    assert_eq!(
        encode("髙").unwrap_err(),
        EncodingError::OutsideJisX0208 { ch: '髙', offset: 0, kind: IssueKind::IbmExtension }
    );
    assert_eq!(
        encode("¥").unwrap_err(),
        EncodingError::OutsideJisX0208 { ch: '¥', offset: 0, kind: IssueKind::JisRoman }
    );
    // Half-width katakana are encoded as full-width (WHATWG behaviour).
    assert_eq!(decode(&encode("ｶﾝ").unwrap()).unwrap().text, "カン");
}

#[test]
fn encode_lossy_substitutes_geta() {
    let bytes = encode_lossy("①髙〜a");
    assert_eq!(decode(&bytes).unwrap().text, "〓〓〓a");
}

#[test]
fn declared_charset_spellings() {
    let msg = |msh18: &str, msh20: &str| {
        Message::parse(&format!("MSH|^~\\&|A|B|C|D|20240101||ADT^A08|1|P|2.5||||||{msh18}||{msh20}\r")).unwrap()
    };
    for ok in ["~ISO IR87", "~ISOIR87", "ISO IR87", "ISO IR6~ISO IR87"] {
        for technique in ["ISO 2022-1994", "ISO2022-1994", ""] {
            assert_eq!(declared_charset(&msg(ok, technique)), Charset::Iso2022Jp, "{ok} {technique}");
        }
    }
    assert_eq!(declared_charset(&msg("", "")), Charset::Ascii);
    assert_eq!(declared_charset(&Message::parse("MSH|^~\\&|A\r").unwrap()), Charset::Ascii);
    let utf8 = declared_charset(&msg("UNICODE UTF-8", ""));
    assert_eq!(utf8, Charset::Unsupported { msh18: "UNICODE UTF-8".into(), msh20: String::new() });
    assert!(!utf8.is_supported());
    assert!(!declared_charset(&msg("~ISO IR87", "ISO 2022-1986")).is_supported());
    assert!(!declared_charset(&msg("8859/1", "")).is_supported());
}

#[test]
fn issue_location_in_message() {
    // PID-5: 患者^①太郎~カンジャ — ① is in PID-5, repetition 1, component 2.
    let raw = b"\x0bMSH|^~\\&|A\rPID|1||9||\x1b$B45<T\x1b(B^\x1b$B-!B@O:\x1b(B~\x1b$B%+%s%8%c\x1b(B\r";
    let d = decode(raw).unwrap();
    let msg = Message::parse(&d.text).unwrap();
    let [issue] = d.outside_jis_x0208.as_slice() else { panic!("{:?}", d.outside_jis_x0208) };
    assert_eq!(issue.ch, '①');
    let loc = issue.location(&msg).unwrap();
    assert_eq!(loc.to_erl(), "PID^1^5^1^2^1");
    assert_eq!(loc.to_string(), "PID[1]-5(1).2.1");
}
