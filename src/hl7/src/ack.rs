//! HL7 v2.5 acknowledgements (ACK) as ISO-2022-JP bytes.
//!
//! The ACK is built as text with the standard delimiters (`|^~\&`) and CR segment terminators,
//! then encoded with [`crate::charset::encode_lossy`], so it is always valid SS-MIX2 ISO-2022-JP:
//! a character outside ASCII + JIS X 0208 (say ① copied from the original's MSH-3) becomes 〓.
//!
//! Layout:
//! - `MSH|^~\&|<orig MSH-5>|<orig MSH-6>|<orig MSH-3>|<orig MSH-4>|<now>||ACK^<orig MSH-9.2>^ACK|<control id>|<orig MSH-11 or P>|2.5`,
//!   plus `||||||~ISO IR87||ISO 2022-1994` (MSH-18, MSH-20) when the ACK holds any non-ASCII text.
//! - `MSA|<code>|<orig MSH-10>|<text>` (MSA-2 empty when there is no parsed original).
//! - One `ERR||<ERL>|<code>^<text>^HL70357|<E/W/I>|||<diagnostic>|<user message>` per [`ErrorDetail`].
//!
//! Fields copied from the original are translated to the standard delimiters when the original
//! declared other ones; free text (MSA-3, ERR-7, ERR-8) and caller values are HL7-escaped.

use crate::charset;
use crate::message::{Delimiters, Location, Message};

/// MSA-1, the acknowledgment code (HL7 table 0008, original mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum AckCode {
    /// Application Accept: the message was processed (stored).
    AA,
    /// Application Error: the message was not processed because of an error in it; resending it
    /// unchanged will fail again.
    AE,
    /// Application Reject: the message was rejected for a reason unrelated to its content (e.g. an
    /// unsupported type or version, or a temporary failure of the receiver).
    AR,
}

impl AckCode {
    /// The code as sent in MSA-1.
    pub fn as_str(self) -> &'static str {
        match self {
            AckCode::AA => "AA",
            AckCode::AE => "AE",
            AckCode::AR => "AR",
        }
    }
}

/// ERR-4, the severity (HL7 table 0516).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Severity {
    /// `E`: the message was not (fully) processed.
    Error,
    /// `W`: processed, with a warning.
    Warning,
    /// `I`: information only.
    Information,
}

impl Severity {
    /// `E`, `W` or `I`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "E",
            Severity::Warning => "W",
            Severity::Information => "I",
        }
    }
}

/// ERR-3, the HL7 error code (HL7 table 0357).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum ErrorCode {
    /// 100 Segment sequence error.
    SegmentSequenceError,
    /// 101 Required field missing.
    RequiredFieldMissing,
    /// 102 Data type error.
    DataTypeError,
    /// 103 Table value not found.
    TableValueNotFound,
    /// 200 Unsupported message type.
    UnsupportedMessageType,
    /// 201 Unsupported event code.
    UnsupportedEventCode,
    /// 202 Unsupported processing id.
    UnsupportedProcessingId,
    /// 203 Unsupported version id.
    UnsupportedVersionId,
    /// 204 Unknown key identifier.
    UnknownKeyIdentifier,
    /// 205 Duplicate key identifier.
    DuplicateKeyIdentifier,
    /// 206 Application record locked.
    ApplicationRecordLocked,
    /// 207 Application internal error.
    ApplicationInternalError,
}

impl ErrorCode {
    /// The numeric code, e.g. 101.
    pub fn code(self) -> u16 {
        match self {
            ErrorCode::SegmentSequenceError => 100,
            ErrorCode::RequiredFieldMissing => 101,
            ErrorCode::DataTypeError => 102,
            ErrorCode::TableValueNotFound => 103,
            ErrorCode::UnsupportedMessageType => 200,
            ErrorCode::UnsupportedEventCode => 201,
            ErrorCode::UnsupportedProcessingId => 202,
            ErrorCode::UnsupportedVersionId => 203,
            ErrorCode::UnknownKeyIdentifier => 204,
            ErrorCode::DuplicateKeyIdentifier => 205,
            ErrorCode::ApplicationRecordLocked => 206,
            ErrorCode::ApplicationInternalError => 207,
        }
    }

    /// The table's description, e.g. `Required field missing`.
    pub fn text(self) -> &'static str {
        match self {
            ErrorCode::SegmentSequenceError => "Segment sequence error",
            ErrorCode::RequiredFieldMissing => "Required field missing",
            ErrorCode::DataTypeError => "Data type error",
            ErrorCode::TableValueNotFound => "Table value not found",
            ErrorCode::UnsupportedMessageType => "Unsupported message type",
            ErrorCode::UnsupportedEventCode => "Unsupported event code",
            ErrorCode::UnsupportedProcessingId => "Unsupported processing id",
            ErrorCode::UnsupportedVersionId => "Unsupported version id",
            ErrorCode::UnknownKeyIdentifier => "Unknown key identifier",
            ErrorCode::DuplicateKeyIdentifier => "Duplicate key identifier",
            ErrorCode::ApplicationRecordLocked => "Application record locked",
            ErrorCode::ApplicationInternalError => "Application internal error",
        }
    }

    /// The CWE value for ERR-3: `101^Required field missing^HL70357`.
    pub fn to_cwe(self) -> String {
        format!("{}^{}^HL70357", self.code(), self.text())
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.code(), self.text())
    }
}

/// One ERR segment.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ErrorDetail {
    /// ERR-2, where the error is (empty when not tied to a position).
    pub location: Option<Location>,
    /// ERR-3.
    pub code: ErrorCode,
    /// ERR-4.
    pub severity: Severity,
    /// ERR-7, technical diagnostic for the sender's engineers (English).
    pub diagnostic: String,
    /// ERR-8, message for the sender's users (Japanese is fine).
    pub user_message: String,
}

impl ErrorDetail {
    /// An error (severity `E`) with a diagnostic and nothing else.
    pub fn new(code: ErrorCode, diagnostic: impl Into<String>) -> ErrorDetail {
        ErrorDetail {
            location: None,
            code,
            severity: Severity::Error,
            diagnostic: diagnostic.into(),
            user_message: String::new(),
        }
    }

    /// Sets ERR-2.
    pub fn at(mut self, location: Location) -> ErrorDetail {
        self.location = Some(location);
        self
    }

    /// Sets ERR-4.
    pub fn severity(mut self, severity: Severity) -> ErrorDetail {
        self.severity = severity;
        self
    }

    /// Sets ERR-8.
    pub fn user_message(mut self, text: impl Into<String>) -> ErrorDetail {
        self.user_message = text.into();
        self
    }
}

/// Builds one ACK. See the module documentation for the layout.
///
/// ```ignore
/// let bytes = AckBuilder::new(AckCode::AE, "ACK00000001", "20240401093000.123")
///     .original(&msg)
///     .error(ErrorDetail::new(ErrorCode::RequiredFieldMissing, "PID-3 is empty").at(Location::field("PID", 1, 3)))
///     .build();
/// ```
#[derive(Debug, Clone)]
pub struct AckBuilder<'a> {
    original: Option<&'a Message>,
    code: AckCode,
    control_id: String,
    timestamp: String,
    text: String,
    errors: Vec<ErrorDetail>,
}

impl<'a> AckBuilder<'a> {
    /// An ACK with MSA-1 `code`, MSH-10 `control_id` and MSH-7 `now_ts`
    /// (`YYYYMMDDHHMMSS[.SSS]`, supplied by the caller so that building stays pure).
    pub fn new(code: AckCode, control_id: &str, now_ts: &str) -> AckBuilder<'a> {
        AckBuilder {
            original: None,
            code,
            control_id: control_id.to_owned(),
            timestamp: now_ts.to_owned(),
            text: String::new(),
            errors: Vec::new(),
        }
    }

    /// The message being acknowledged (omit when it could not be parsed).
    pub fn original(mut self, msg: &'a Message) -> Self {
        self.original = Some(msg);
        self
    }

    /// MSA-3, a short text message.
    pub fn text(mut self, text: &str) -> Self {
        self.text = text.to_owned();
        self
    }

    /// Adds one ERR segment.
    pub fn error(mut self, detail: ErrorDetail) -> Self {
        self.errors.push(detail);
        self
    }

    /// Adds ERR segments.
    pub fn errors(mut self, details: impl IntoIterator<Item = ErrorDetail>) -> Self {
        self.errors.extend(details);
        self
    }

    /// The ACK as text (CR-terminated segments, before encoding).
    pub fn build_text(&self) -> String {
        let esc = Delimiters::default();
        let orig = |n: usize| self.original.map(|m| copy_field(m, n)).unwrap_or_default();
        let trigger = self
            .original
            .map(|m| {
                let d = m.delimiters();
                translate(m.msh().field(9).component(2), d)
            })
            .unwrap_or_default();
        let processing = Some(orig(11)).filter(|p| !p.is_empty()).unwrap_or_else(|| "P".to_owned());

        let mut body = String::new();
        body.push_str("MSA|");
        body.push_str(self.code.as_str());
        body.push('|');
        body.push_str(&orig(10));
        if !self.text.is_empty() {
            body.push('|');
            body.push_str(&esc.escape(&self.text));
        }
        body.push('\r');
        for e in &self.errors {
            let fields = [
                String::new(),
                e.location.as_ref().map(Location::to_erl).unwrap_or_default(),
                e.code.to_cwe(),
                e.severity.as_str().to_owned(),
                String::new(),
                String::new(),
                esc.escape(&e.diagnostic),
                esc.escape(&e.user_message),
            ];
            let used = fields.iter().rposition(|f| !f.is_empty()).map_or(0, |i| i + 1);
            body.push_str("ERR");
            for f in &fields[..used] {
                body.push('|');
                body.push_str(f);
            }
            body.push('\r');
        }

        let mut msh = vec![
            "^~\\&".to_owned(),
            orig(5),
            orig(6),
            orig(3),
            orig(4),
            esc.escape(&self.timestamp),
            String::new(),
            format!("ACK^{trigger}^ACK"),
            esc.escape(&self.control_id),
            processing,
            "2.5".to_owned(),
        ];
        let non_ascii = !body.is_ascii() || !msh.iter().all(|f| f.is_ascii());
        if non_ascii {
            // MSH-13 … MSH-17 empty, MSH-18, MSH-19 empty, MSH-20.
            msh.extend(std::iter::repeat_n(String::new(), 5));
            msh.push("~ISO IR87".to_owned());
            msh.push(String::new());
            msh.push("ISO 2022-1994".to_owned());
        }
        let mut out = String::from("MSH|");
        out.push_str(&msh.join("|"));
        out.push('\r');
        out.push_str(&body);
        out
    }

    /// The ACK as ISO-2022-JP bytes (characters outside JIS X 0208 become 〓).
    pub fn build(&self) -> Vec<u8> {
        charset::encode_lossy(&self.build_text())
    }
}

/// Builds an ACK in one call; see [`AckBuilder`] for MSA-3 text.
pub fn ack(
    original: Option<&Message>,
    code: AckCode,
    errors: &[ErrorDetail],
    control_id: &str,
    now_ts: &str,
) -> Vec<u8> {
    let mut builder = AckBuilder::new(code, control_id, now_ts).errors(errors.iter().cloned());
    if let Some(msg) = original {
        builder = builder.original(msg);
    }
    builder.build()
}

/// MSH-`n` of the original, with its delimiters translated to the standard ones.
fn copy_field(msg: &Message, n: usize) -> String {
    translate(msg.msh().field(n).as_str(), msg.delimiters())
}

/// Rewrites a field value from `from`'s delimiters to the standard ones. A standard delimiter that
/// is plain text under `from` is escaped.
fn translate(value: &str, from: &Delimiters) -> String {
    let std = Delimiters::default();
    if *from == std {
        return value.chars().filter(|c| !c.is_control()).collect();
    }
    let mut out = String::with_capacity(value.len());
    for ch in value.chars() {
        if ch == from.component {
            out.push(std.component);
        } else if ch == from.repetition {
            out.push(std.repetition);
        } else if ch == from.subcomponent {
            out.push(std.subcomponent);
        } else if ch == from.escape {
            out.push(std.escape);
        } else if ch == from.field {
            // Cannot occur inside a parsed field; escape it anyway.
            out.push_str("\\F\\");
        } else {
            let mut buf = [0u8; 4];
            out.push_str(&std.escape(ch.encode_utf8(&mut buf)));
        }
    }
    out
}

#[cfg(test)]
mod tests;
