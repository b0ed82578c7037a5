//! A JSON view of a parsed message for the HTTP API.
//!
//! Shape ([`JsonMessage`]):
//!
//! - `delimiters`: MSH-1 followed by MSH-2, e.g. `"|^~\\&"` (so a client can re-split raw values).
//! - `segments`: in message order, each `{ "id": "PID", "fields": [ ... ] }`.
//! - `fields[i]` is field `i + 1` in HL7 numbering, for every segment including MSH: `fields[0]` of
//!   MSH is MSH-1 (`"|"`), `fields[1]` is MSH-2 (`"^~\\&"`, never split). Empty fields are kept, so
//!   positions never shift; trailing empty fields that were not sent are absent.
//! - Each field is `{ "value": "<raw text>" }`. When the raw text contains a repetition, component
//!   or sub-component separator, it also has `"repetitions": [[[...]]]`: `repetitions[r][c][s]` is
//!   sub-component `s + 1` of component `c + 1` of repetition `r + 1`, each a string.
//! - All strings are raw: HL7 escape sequences such as `\F\` are left as sent.
//!
//! Example (`PID|0001||9999013^^^^PI||患者^太郎~カンジャ^タロウ`):
//!
//! ```json
//! { "id": "PID", "fields": [
//!     { "value": "0001" },
//!     { "value": "" },
//!     { "value": "9999013^^^^PI",
//!       "repetitions": [[["9999013"], [""], [""], [""], ["PI"]]] },
//!     { "value": "" },
//!     { "value": "患者^太郎~カンジャ^タロウ",
//!       "repetitions": [[["患者"], ["太郎"]], [["カンジャ"], ["タロウ"]]] }
//! ] }
//! ```

use serde::{Deserialize, Serialize};

use crate::message::{Field, Message};

/// A whole message; see the module documentation for the shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsonMessage {
    /// MSH-1 followed by MSH-2, e.g. `|^~\&`.
    pub delimiters: String,
    /// The segments in message order.
    pub segments: Vec<JsonSegment>,
}

/// One segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsonSegment {
    /// Segment ID, e.g. `PID`.
    pub id: String,
    /// `fields[i]` is field `i + 1` (MSH-1 is the field separator).
    pub fields: Vec<JsonField>,
}

/// One field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsonField {
    /// The raw field text, repetitions and components included.
    pub value: String,
    /// `repetitions[r][c][s]`, present only when the value contains a repetition, component or
    /// sub-component separator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repetitions: Option<Vec<Vec<Vec<String>>>>,
}

/// Builds the JSON view of a message.
pub fn to_json_view(msg: &Message) -> JsonMessage {
    let d = *msg.delimiters();
    let mut delimiters = String::from(d.field);
    delimiters.push_str(&d.encoding_characters());
    let segments = msg
        .segments()
        .map(|seg| {
            let is_msh = seg.id() == "MSH";
            let fields = (1..=seg.field_count())
                .map(|n| {
                    let field = seg.field(n);
                    if is_msh && n <= 2 {
                        JsonField { value: field.as_str().to_owned(), repetitions: None }
                    } else {
                        json_field(field)
                    }
                })
                .collect();
            JsonSegment { id: seg.id().to_owned(), fields }
        })
        .collect();
    JsonMessage { delimiters, segments }
}

fn json_field(field: Field<'_>) -> JsonField {
    let d = field.delimiters();
    let value = field.as_str();
    let structured = value.contains([d.repetition, d.component, d.subcomponent]);
    let repetitions = structured.then(|| {
        value
            .split(d.repetition)
            .map(|rep| rep.split(d.component).map(|c| c.split(d.subcomponent).map(str::to_owned).collect()).collect())
            .collect()
    });
    JsonField { value: value.to_owned(), repetitions }
}
