//! ISO-2022-JP (JIS X 0208) on the wire, as SS-MIX2 requires.
//!
//! SS-MIX2 allows ASCII (ISO IR6) for one-byte characters and JIS X 0208 levels 1 and 2 (ISO IR87)
//! for two-byte characters, switched with ISO 2022 escape sequences: `ESC $ B` (or the older
//! `ESC $ @`) into JIS X 0208, `ESC ( B` back to ASCII.
//!
//! [`decode`] is strict. The actual decoding is done by `encoding_rs`' WHATWG ISO-2022-JP
//! decoder; before that, a scan of the raw bytes classifies every structural problem into a typed
//! [`EncodingError`] (with the byte offset) and finds characters that decode fine but are outside
//! JIS X 0208 levels 1/2 ([`CharIssue`]). Those are *not* errors here: whether to reject them is a
//! policy decision of the receiver.
//!
//! What the scan accepts, and what it reports:
//!
//! | Input | Result |
//! |---|---|
//! | ASCII; `ESC ( B` | text |
//! | `ESC $ B` / `ESC $ @` + JIS X 0208 rows 1–8, 16–84 | text |
//! | JIS row 13 (NEC specials such as ①), rows 89–92 (IBM extensions such as 髙 﨑) | text + [`CharIssue`] |
//! | `ESC ( I` half-width katakana | text + [`CharIssue`] |
//! | `ESC ( J` JIS X 0201 Roman: `0x5C` → ¥ and `0x7E` → ‾ | text + [`CharIssue`] (other bytes are as in ASCII) |
//! | any byte ≥ 0x80 (Shift_JIS, UTF-8, EUC-JP sent by mistake) | [`EncodingError::EightBit`] |
//! | `ESC $ ( D` (JIS X 0212) and every other designation | [`EncodingError::UnsupportedEscape`] (`encoding_rs` cannot decode JIS X 0212 either) |
//! | an escape sequence cut short | [`EncodingError::TruncatedEscape`] |
//! | two escape sequences in a row (WHATWG rejects the empty run) | [`EncodingError::RedundantEscape`] |
//! | a lone lead byte, CR/LF or any control byte in JIS mode, an unassigned JIS code | typed errors |
//! | input that ends in a two-byte or katakana mode | [`EncodingError::UnterminatedShift`] |
//!
//! [`encode`] is the strict inverse used for outgoing messages: it refuses characters that have no
//! ISO-2022-JP form and characters outside JIS X 0208 levels 1/2 instead of producing `&#NNNN;` or
//! NEC/IBM codes. [`encode_lossy`] substitutes 〓 (the geta mark, JIS 0x222E) for those, for
//! texts that must go out anyway (ACKs).
//!
//! [`declared_charset`] reads MSH-18/MSH-20.

use std::fmt;

use encoding_rs::{EUC_JP, EncoderResult, ISO_2022_JP, SHIFT_JIS};
use serde::Serialize;

use crate::message::{Location, Message};

const ESC: u8 = 0x1B;

/// Why raw bytes are not valid SS-MIX2 ISO-2022-JP text (decoding), or why text cannot be sent as
/// SS-MIX2 ISO-2022-JP (encoding). Offsets are byte offsets into the raw input for decoding and
/// into the UTF-8 text for encoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodingError {
    /// A byte ≥ 0x80: ISO-2022-JP is a 7-bit encoding, so the sender used another one.
    #[error(
        "8-bit byte 0x{byte:02X} at offset {offset}: ISO-2022-JP is 7-bit; the data looks like {likely} sent by mistake"
    )]
    EightBit {
        /// Offset of the first byte ≥ 0x80.
        offset: usize,
        /// That byte.
        byte: u8,
        /// The encoding the whole input is valid in, if any.
        likely: LikelyEncoding,
    },
    /// The input ends inside an escape sequence.
    #[error("truncated escape sequence at offset {offset}")]
    TruncatedEscape {
        /// Offset of the ESC byte.
        offset: usize,
    },
    /// An escape sequence SS-MIX2 (or the decoder) does not support.
    #[error("unsupported escape sequence {sequence} at offset {offset}{}", .charset.map(|c| format!(" ({c})")).unwrap_or_default())]
    UnsupportedEscape {
        /// Offset of the ESC byte.
        offset: usize,
        /// The sequence, spelled like `ESC $ ( D`.
        sequence: String,
        /// The character set it designates, when known (e.g. `JIS X 0212`).
        charset: Option<&'static str>,
    },
    /// An escape sequence directly follows another one. The WHATWG decoder treats this empty run as
    /// malformed (a guard against escape-sequence smuggling).
    #[error("escape sequence at offset {offset} directly follows another escape sequence")]
    RedundantEscape {
        /// Offset of the second ESC byte.
        offset: usize,
    },
    /// SO (0x0E) or SI (0x0F): ISO-2022-JP does not use locking shifts.
    #[error("shift byte 0x{byte:02X} at offset {offset} is not allowed in ISO-2022-JP")]
    ShiftByte {
        /// Offset of the byte.
        offset: usize,
        /// 0x0E or 0x0F.
        byte: u8,
    },
    /// A JIS X 0208 lead byte without its trail byte (odd-length two-byte run).
    #[error("JIS X 0208 byte 0x{byte:02X} at offset {offset} has no second byte (odd-length two-byte run)")]
    TruncatedJisPair {
        /// Offset of the lone lead byte.
        offset: usize,
        /// The lead byte.
        byte: u8,
    },
    /// A byte that cannot occur in JIS X 0208 mode: a control byte, space or DEL. CR and LF land
    /// here when the sender did not switch back to ASCII (`ESC ( B`) before a segment end.
    #[error(
        "byte 0x{byte:02X} at offset {offset} is not allowed in JIS X 0208 mode (the sender must switch back to ASCII with ESC ( B before delimiters and segment ends)"
    )]
    InvalidJisByte {
        /// Offset of the byte.
        offset: usize,
        /// The byte.
        byte: u8,
    },
    /// A byte outside 0x21–0x5F in half-width katakana mode (`ESC ( I`).
    #[error("byte 0x{byte:02X} at offset {offset} is not allowed in half-width katakana mode (ESC ( I)")]
    InvalidKatakanaByte {
        /// Offset of the byte.
        offset: usize,
        /// The byte.
        byte: u8,
    },
    /// A well-formed byte pair with no character assigned.
    #[error("JIS X 0208 code 0x{code:04X} at offset {offset} is unassigned")]
    UnassignedJisCode {
        /// Offset of the lead byte.
        offset: usize,
        /// The two bytes as a number, e.g. 0x2921.
        code: u16,
    },
    /// The input ends in JIS X 0208 or half-width katakana mode instead of a one-byte mode.
    #[error("input ends in a two-byte or katakana mode (designated at offset {offset}) without ESC ( B")]
    UnterminatedShift {
        /// Offset of the last escape sequence.
        offset: usize,
    },
    /// `encoding_rs` reported malformed input the scan did not classify.
    #[error("malformed ISO-2022-JP at offset {offset}")]
    Malformed {
        /// Approximate offset of the malformed bytes.
        offset: usize,
    },
    /// Encoding: the character has no ISO-2022-JP form at all (e.g. 〜 U+301C, emoji, ESC).
    #[error("character {ch:?} ({}) at offset {offset} cannot be encoded in ISO-2022-JP", .ch.escape_unicode())]
    Unmappable {
        /// The character.
        ch: char,
        /// Byte offset in the text.
        offset: usize,
    },
    /// Encoding: the character would be encoded outside JIS X 0208 levels 1/2 (e.g. ①, 髙).
    #[error("character {ch:?} ({}) at offset {offset} is outside JIS X 0208 ({kind})", .ch.escape_unicode())]
    OutsideJisX0208 {
        /// The character.
        ch: char,
        /// Byte offset in the text.
        offset: usize,
        /// Which extension it belongs to.
        kind: IssueKind,
    },
}

/// The encoding 8-bit input is valid in (a hint for the error message and the operator).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum LikelyEncoding {
    /// The input is valid UTF-8.
    Utf8,
    /// The input is valid Shift_JIS (Windows-31J).
    ShiftJis,
    /// The input is valid EUC-JP.
    EucJp,
    /// None of the above.
    Unknown,
}

impl fmt::Display for LikelyEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LikelyEncoding::Utf8 => "UTF-8",
            LikelyEncoding::ShiftJis => "Shift_JIS",
            LikelyEncoding::EucJp => "EUC-JP",
            LikelyEncoding::Unknown => "an unknown 8-bit encoding",
        })
    }
}

/// Why a decoded character is outside what SS-MIX2 allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum IssueKind {
    /// JIS row 13: NEC special characters (①, Ⅰ, ㍉, ㈱ …).
    NecSpecial,
    /// JIS rows 89–92: NEC-selected IBM extensions (髙, 﨑, 德 …).
    IbmExtension,
    /// Another row outside JIS X 0208 levels 1/2.
    OtherRow,
    /// Half-width katakana (`ESC ( I`, JIS X 0201 katakana).
    HalfWidthKatakana,
    /// ¥ or ‾ from JIS X 0201 Roman (`ESC ( J`), which differ from ASCII `\` and `~`.
    JisRoman,
}

impl fmt::Display for IssueKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IssueKind::NecSpecial => "NEC special character, JIS row 13",
            IssueKind::IbmExtension => "IBM extension, JIS rows 89-92",
            IssueKind::OtherRow => "outside JIS X 0208 levels 1/2",
            IssueKind::HalfWidthKatakana => "half-width katakana, JIS X 0201",
            IssueKind::JisRoman => "JIS X 0201 Roman",
        })
    }
}

/// A character that decoded fine but is outside ASCII + JIS X 0208 levels 1/2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CharIssue {
    /// The decoded character.
    pub ch: char,
    /// Offset of its first byte in the raw input (the lead byte for two-byte codes).
    pub byte_offset: usize,
    /// Offset of the character in [`Decoded::text`] (pass it to [`Message::locate`]).
    pub text_offset: usize,
    /// Which extension it belongs to.
    pub kind: IssueKind,
    /// The raw code: the two JIS bytes for two-byte codes, the single byte otherwise.
    pub code: u16,
}

impl CharIssue {
    /// Where the character sits in the message parsed from the same [`Decoded::text`].
    pub fn location(&self, msg: &Message) -> Option<Location> {
        msg.locate(self.text_offset)
    }
}

/// The result of [`decode`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The decoded text.
    pub text: String,
    /// Characters outside JIS X 0208 levels 1/2, in input order.
    pub outside_jis_x0208: Vec<CharIssue>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Ascii,
    Roman,
    Katakana,
    Jis,
}

/// Decodes raw SS-MIX2 bytes (ISO-2022-JP) strictly. See the module documentation for what is an
/// error and what is a [`CharIssue`].
pub fn decode(raw: &[u8]) -> Result<Decoded, EncodingError> {
    if let Some(offset) = raw.iter().position(|&b| b >= 0x80) {
        return Err(EncodingError::EightBit { offset, byte: raw[offset], likely: likely_encoding(raw) });
    }
    // (character index in the output, issue without its text offset)
    let pending = scan(raw)?;
    let text = match ISO_2022_JP.decode_without_bom_handling_and_without_replacement(raw) {
        Some(text) => text.into_owned(),
        None => return Err(malformed(raw)),
    };
    let expected = pending.len();
    let mut outside = Vec::with_capacity(expected);
    let mut chars = text.char_indices();
    let mut next_index = 0usize;
    for (index, mut issue) in pending {
        // Issues are in increasing character order; skip to the one this issue is about.
        let Some((offset, ch)) = index.checked_sub(next_index).and_then(|skip| chars.nth(skip)) else { break };
        next_index = index + 1;
        issue.text_offset = offset;
        issue.ch = ch;
        outside.push(issue);
    }
    // The scan mirrors the WHATWG decoder, so every issue maps to a decoded character (fuzzed).
    debug_assert_eq!(outside.len(), expected, "scan and decoder disagree on character count");
    Ok(Decoded { text, outside_jis_x0208: outside })
}

/// Validates the raw bytes the way the WHATWG ISO-2022-JP decoder does, with typed errors, and
/// returns the characters outside JIS X 0208 as (index of the character in the output, issue).
fn scan(raw: &[u8]) -> Result<Vec<(usize, CharIssue)>, EncodingError> {
    let mut issues = Vec::new();
    let mut mode = Mode::Ascii;
    let mut last_escape = 0usize;
    let mut after_escape = false;
    let mut chars = 0usize;
    let mut i = 0usize;
    let mut issue = |chars: usize, byte_offset: usize, kind: IssueKind, code: u16| {
        issues.push((chars, CharIssue { ch: '\u{0}', byte_offset, text_offset: 0, kind, code }));
    };
    while let Some(&b) = raw.get(i) {
        if b == ESC {
            if after_escape {
                return Err(EncodingError::RedundantEscape { offset: i });
            }
            let (new_mode, len) = escape_sequence(raw, i)?;
            mode = new_mode;
            last_escape = i;
            after_escape = true;
            i += len;
            continue;
        }
        match mode {
            Mode::Ascii | Mode::Roman => {
                if b == 0x0E || b == 0x0F {
                    return Err(EncodingError::ShiftByte { offset: i, byte: b });
                }
                if mode == Mode::Roman && (b == 0x5C || b == 0x7E) {
                    issue(chars, i, IssueKind::JisRoman, u16::from(b));
                }
                i += 1;
            }
            Mode::Katakana => {
                if !(0x21..=0x5F).contains(&b) {
                    return Err(EncodingError::InvalidKatakanaByte { offset: i, byte: b });
                }
                issue(chars, i, IssueKind::HalfWidthKatakana, u16::from(b));
                i += 1;
            }
            Mode::Jis => {
                if !is_jis_byte(b) {
                    return Err(EncodingError::InvalidJisByte { offset: i, byte: b });
                }
                match raw.get(i + 1) {
                    Some(&t) if is_jis_byte(t) => {
                        if let Some(kind) = row_issue(b) {
                            issue(chars, i, kind, u16::from_be_bytes([b, t]));
                        }
                    }
                    Some(&ESC) | None => return Err(EncodingError::TruncatedJisPair { offset: i, byte: b }),
                    Some(&t) => return Err(EncodingError::InvalidJisByte { offset: i + 1, byte: t }),
                }
                i += 2;
            }
        }
        after_escape = false;
        chars += 1;
    }
    if matches!(mode, Mode::Jis | Mode::Katakana) {
        return Err(EncodingError::UnterminatedShift { offset: last_escape });
    }
    Ok(issues)
}

fn is_jis_byte(b: u8) -> bool {
    (0x21..=0x7E).contains(&b)
}

/// JIS X 0208 levels 1/2 use rows 1–8 (0x21–0x28) and 16–84 (0x30–0x74).
fn row_issue(lead: u8) -> Option<IssueKind> {
    match lead {
        0x21..=0x28 | 0x30..=0x74 => None,
        0x2D => Some(IssueKind::NecSpecial),
        0x79..=0x7C => Some(IssueKind::IbmExtension),
        _ => Some(IssueKind::OtherRow),
    }
}

/// Parses the escape sequence at `raw[at]` (an ESC): the mode it selects and its length.
fn escape_sequence(raw: &[u8], at: usize) -> Result<(Mode, usize), EncodingError> {
    let rest = raw.get(at + 1..).unwrap_or_default();
    let unsupported = |len: usize, charset: Option<&'static str>| {
        let mut sequence = String::from("ESC");
        for &b in rest.iter().take(len) {
            sequence.push(' ');
            if b.is_ascii_graphic() {
                sequence.push(char::from(b));
            } else {
                sequence.push_str(&format!("0x{b:02X}"));
            }
        }
        Err(EncodingError::UnsupportedEscape { offset: at, sequence, charset })
    };
    match rest {
        [b'(', b'B', ..] => Ok((Mode::Ascii, 3)),
        [b'(', b'J', ..] => Ok((Mode::Roman, 3)),
        [b'(', b'I', ..] => Ok((Mode::Katakana, 3)),
        [b'$', b'B' | b'@', ..] => Ok((Mode::Jis, 3)),
        [b'$', b'(', b'D', ..] => unsupported(3, Some("JIS X 0212")),
        [b'$', b'(', b'O' | b'Q', ..] => unsupported(3, Some("JIS X 0213 plane 1")),
        [b'$', b'(', b'P', ..] => unsupported(3, Some("JIS X 0213 plane 2")),
        [b'$', b'(', b'C', ..] => unsupported(3, Some("KS X 1001")),
        [b'$', b'A', ..] => unsupported(2, Some("GB 2312")),
        [b'&', b'@', ..] => unsupported(2, Some("JIS X 0208-1990 revision announcer")),
        [b'.', b'A' | b'F', ..] => unsupported(2, Some("ISO-2022-JP-2 G2 designation")),
        [b'N', ..] => unsupported(1, Some("single shift 2")),
        [] | [b'(' | b'$' | b'&' | b'.'] | [b'$', b'('] => Err(EncodingError::TruncatedEscape { offset: at }),
        [b'$', b'(', ..] => unsupported(3, None),
        _ => unsupported(2, None),
    }
}

/// Maps `encoding_rs`' verdict to an offset and, when it is a byte pair, to an unassigned code.
fn malformed(raw: &[u8]) -> EncodingError {
    let mut decoder = ISO_2022_JP.new_decoder_without_bom_handling();
    let mut sink = String::with_capacity(decoder.max_utf8_buffer_length(raw.len()).unwrap_or(0));
    let (result, read) = decoder.decode_to_string_without_replacement(raw, &mut sink, true);
    let offset = match result {
        encoding_rs::DecoderResult::Malformed(bad, extra) => read.saturating_sub(usize::from(bad) + usize::from(extra)),
        _ => read,
    };
    match raw.get(offset..offset + 2) {
        Some(&[a, b]) if is_jis_byte(a) && is_jis_byte(b) => {
            EncodingError::UnassignedJisCode { offset, code: u16::from_be_bytes([a, b]) }
        }
        _ => EncodingError::Malformed { offset },
    }
}

fn likely_encoding(raw: &[u8]) -> LikelyEncoding {
    if std::str::from_utf8(raw).is_ok() {
        LikelyEncoding::Utf8
    } else if SHIFT_JIS.decode_without_bom_handling_and_without_replacement(raw).is_some() {
        LikelyEncoding::ShiftJis
    } else if EUC_JP.decode_without_bom_handling_and_without_replacement(raw).is_some() {
        LikelyEncoding::EucJp
    } else {
        LikelyEncoding::Unknown
    }
}

/// How one character fares in SS-MIX2 ISO-2022-JP.
enum CharClass {
    /// ASCII or JIS X 0208 levels 1/2.
    Allowed,
    /// Encodable, but outside JIS X 0208 levels 1/2.
    Outside(IssueKind),
    /// No ISO-2022-JP form.
    Unmappable,
}

fn classify_char(ch: char) -> CharClass {
    if ch.is_ascii() {
        return if matches!(ch, '\u{0E}' | '\u{0F}' | '\u{1B}') { CharClass::Unmappable } else { CharClass::Allowed };
    }
    let mut utf8 = [0u8; 4];
    let mut out = [0u8; 16];
    let mut encoder = ISO_2022_JP.new_encoder();
    let (result, _, written) = encoder.encode_from_utf8_without_replacement(ch.encode_utf8(&mut utf8), &mut out, true);
    if result != EncoderResult::InputEmpty {
        return CharClass::Unmappable;
    }
    match out.get(..written) {
        Some(&[ESC, b'$', b'B', lead, _, ESC, b'(', b'B']) => match row_issue(lead) {
            None => CharClass::Allowed,
            Some(kind) => CharClass::Outside(kind),
        },
        Some(&[ESC, b'(', b'J', ..]) => CharClass::Outside(IssueKind::JisRoman),
        _ => CharClass::Unmappable,
    }
}

/// Encodes text as SS-MIX2 ISO-2022-JP (ASCII + JIS X 0208 levels 1/2), failing on the first
/// character that has no such form. Half-width katakana are encoded as their full-width forms and
/// U+2212 MINUS SIGN as JIS 0x215D, as the WHATWG encoder does.
pub fn encode(text: &str) -> Result<Vec<u8>, EncodingError> {
    for (offset, ch) in text.char_indices() {
        match classify_char(ch) {
            CharClass::Allowed => {}
            CharClass::Outside(kind) => return Err(EncodingError::OutsideJisX0208 { ch, offset, kind }),
            CharClass::Unmappable => return Err(EncodingError::Unmappable { ch, offset }),
        }
    }
    encode_checked(text)
}

/// Like [`encode`], but replaces every character [`encode`] would refuse with 〓 (U+3013, the geta
/// mark conventionally used for characters that cannot be represented). Never fails.
pub fn encode_lossy(text: &str) -> Vec<u8> {
    let clean: String =
        text.chars().map(|ch| if matches!(classify_char(ch), CharClass::Allowed) { ch } else { '〓' }).collect();
    // Every character is now encodable, so this cannot fail; fall back to ASCII-only output anyway.
    encode_checked(&clean)
        .unwrap_or_else(|_| clean.chars().map(|c| if c.is_ascii() { c as u8 } else { b'?' }).collect())
}

fn encode_checked(text: &str) -> Result<Vec<u8>, EncodingError> {
    let mut encoder = ISO_2022_JP.new_encoder();
    let capacity = encoder.max_buffer_length_from_utf8_without_replacement(text.len()).unwrap_or(text.len() * 8);
    let mut out = Vec::with_capacity(capacity);
    let (result, read) = encoder.encode_from_utf8_to_vec_without_replacement(text, &mut out, true);
    match result {
        EncoderResult::InputEmpty => Ok(out),
        EncoderResult::Unmappable(ch) => {
            let offset = read.saturating_sub(ch.len_utf8());
            Err(EncodingError::Unmappable { ch, offset })
        }
        // The buffer was sized for the worst case; report rather than panic if that ever changes.
        EncoderResult::OutputFull => Err(EncodingError::Malformed { offset: read }),
    }
}

/// The character set a message declares in MSH-18 (with MSH-20).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Charset {
    /// MSH-18 empty (or only `ISO IR6` / `ASCII`): ASCII only.
    Ascii,
    /// MSH-18 names ISO IR87 (`~ISO IR87`, `~ISOIR87`, `ISO IR87`, `ISO IR6~ISO IR87`) and MSH-20 is
    /// empty or ISO 2022 (`ISO 2022-1994`, `ISO2022-1994`): ISO-2022-JP with JIS X 0208.
    Iso2022Jp,
    /// Anything else, e.g. `UNICODE UTF-8`: not allowed by SS-MIX2.
    Unsupported {
        /// MSH-18 as sent.
        msh18: String,
        /// MSH-20 as sent.
        msh20: String,
    },
}

impl Charset {
    /// True for [`Charset::Ascii`] and [`Charset::Iso2022Jp`].
    pub fn is_supported(&self) -> bool {
        !matches!(self, Charset::Unsupported { .. })
    }
}

/// Reads MSH-18 and MSH-20. See [`Charset`] for the accepted spellings.
pub fn declared_charset(msg: &Message) -> Charset {
    let msh = msg.msh();
    let msh18 = msh.field(18);
    let msh20 = msh.field(20).as_str();
    let mut jis = false;
    let mut known = true;
    for rep in msh18.repetitions() {
        match rep.as_str().trim() {
            "" | "ISO IR6" | "ISOIR6" | "ASCII" => {}
            "ISO IR87" | "ISOIR87" => jis = true,
            _ => known = false,
        }
    }
    let technique_ok = matches!(msh20.trim(), "" | "ISO 2022-1994" | "ISO2022-1994");
    match (known && technique_ok, jis) {
        (true, true) => Charset::Iso2022Jp,
        (true, false) => Charset::Ascii,
        (false, _) => Charset::Unsupported { msh18: msh18.as_str().to_owned(), msh20: msh20.to_owned() },
    }
}

#[cfg(test)]
mod tests;
