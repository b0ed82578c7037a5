//! MLLP (Minimal Lower Layer Protocol) framing for HL7 v2: `0x0B payload 0x1C 0x0D`.
//!
//! Brief overview:
//! - [`FrameScanner`] is the sans-IO core: feed it a `BytesMut`, get payloads, `Ok(None)` when it
//!   needs more bytes, or a [`FrameError`] it has already recovered from (garbage between frames,
//!   an oversized frame, a frame cut short by a new start block). Its rules (a bare `0x1C` ends a
//!   frame; CR/LF between frames are ignored) are documented on the type.
//! - [`MllpCodec`] wraps it as a `tokio_util` `Decoder`/`Encoder`. Its items are
//!   `Result<Bytes, FrameError>`, so recoverable framing problems do not end the stream; fatal
//!   ones are [`CodecError`]s (I/O, [`CodecError::UnexpectedEof`] mid-frame).
//! - [`MllpClient`] sends one message and waits for one ACK frame, with a timeout; used by
//!   `hakobune send` and the benchmark. Generic over the stream (plain TCP via
//!   [`MllpClient::connect`], TLS later).
//!
//! Invariants:
//! - Nothing here panics on any input (fuzzed: `fuzz/`).
//! - Memory is bounded: the scanner never buffers garbage, and holds at most the payload limit
//!   between calls.
//! - This crate moves bytes only; it does not look inside payloads (no HL7, no character sets).

#![deny(missing_docs)]

mod client;
mod codec;
mod scanner;

pub use client::{ClientError, DEFAULT_TIMEOUT, MllpClient};
pub use codec::{CodecError, DEFAULT_MAX_FRAME_LEN, MllpCodec};
pub use scanner::{CARRIAGE_RETURN, END_BLOCK, FrameError, FrameScanner, GARBAGE_REPORT_THRESHOLD, START_BLOCK};

#[cfg(test)]
mod tests;
