//! HL7 v2.5 messages as SS-MIX2 uses them.
//!
//! Brief overview:
//! - [`Message`] is a parsed message over decoded (UTF-8) text: segments, fields, repetitions,
//!   components and sub-components, addressed the HL7 way (`PID-3.1`, MSH fields counted with MSH-1
//!   being the field separator).
//! - [`Message::parse`] never panics on any input; it returns a typed [`ParseError`] for text that
//!   is not an HL7 message at all.
//!
//! Architecture invariant: this crate does no I/O and knows nothing about sockets, files, tokio or
//! SS-MIX2 storage rules. It is a pure function of bytes and text.

mod message;

pub use message::{Delimiters, Field, Message, ParseError, Segment};
