//! HL7 v2.5 messages as SS-MIX2 uses them.
//!
//! Brief overview:
//! - [`charset::decode`] turns raw SS-MIX2 bytes (ISO-2022-JP: ASCII + JIS X 0208 via
//!   `ESC $ B` … `ESC ( B`) into text, strictly: structural problems are a typed
//!   [`charset::EncodingError`]; characters that decode but lie outside JIS X 0208 levels 1/2
//!   (①, 髙, half-width katakana …) are listed as [`charset::CharIssue`]s for the caller's policy.
//!   [`charset::encode`] is the strict inverse; [`charset::declared_charset`] reads MSH-18/MSH-20.
//! - [`Message`] is a parsed message over decoded (UTF-8) text: segments, fields, repetitions,
//!   components and sub-components, addressed the HL7 way (`PID-3.1`, MSH fields counted with MSH-1
//!   being the field separator). [`Message::locate`] maps a text offset back to a [`Location`]
//!   (the ERL of ERR-2).
//! - [`Message::parse`] never panics on any input; it returns a typed [`ParseError`] for text that
//!   is not an HL7 message at all.
//! - [`ack::AckBuilder`] / [`ack::ack`] build HL7 v2.5 ACKs (MSA, ERR with table 0357 codes) as
//!   ISO-2022-JP bytes.
//! - [`json::to_json_view`] gives a serde view of a message for the HTTP API.
//!
//! Invariants:
//! - Parsing happens on decoded text, never on raw bytes: JIS two-byte codes can contain `|`
//!   (0x7C) and `^` (0x5E).
//! - No function of this crate panics on any input (fuzzed: `fuzz/run-all.sh`).
//! - Everything this crate emits is ASCII + JIS X 0208 levels 1/2 in ISO-2022-JP.
//!
//! Architecture invariant: this crate does no I/O and knows nothing about sockets, files, tokio or
//! SS-MIX2 storage rules. It is a pure function of bytes and text.

#![deny(missing_docs)]

pub mod ack;
pub mod charset;
pub mod json;
mod message;

pub use message::{Delimiters, Field, Location, Message, ParseError, Segment};

#[cfg(test)]
mod tests;
