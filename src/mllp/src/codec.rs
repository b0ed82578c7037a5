//! The tokio-util codec over [`FrameScanner`].

use bytes::{BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use crate::scanner::{CARRIAGE_RETURN, END_BLOCK, FrameError, FrameScanner, START_BLOCK};

/// Default payload limit of [`MllpCodec::default`]: 16 MiB.
pub const DEFAULT_MAX_FRAME_LEN: usize = 16 * 1024 * 1024;

/// Errors that end a framed stream: I/O, the peer closing mid-frame, or a payload that cannot be
/// framed. Framing problems the stream recovers from are items, not errors (see [`MllpCodec`]).
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// Reading or writing the transport failed.
    #[error("MLLP I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The peer closed the connection inside a frame.
    #[error("connection closed inside an MLLP frame ({buffered} bytes buffered)")]
    UnexpectedEof {
        /// Payload bytes buffered when the connection closed.
        buffered: usize,
    },
    /// An outgoing payload contains a start or end block byte and cannot be framed.
    #[error("payload byte 0x{byte:02X} at offset {offset} would break MLLP framing")]
    FramingByteInPayload {
        /// Offset of the byte in the payload.
        offset: usize,
        /// 0x0B or 0x1C.
        byte: u8,
    },
}

/// MLLP framing for `tokio_util::codec::{Framed, FramedRead, FramedWrite}`.
///
/// Decoding yields `Result<Bytes, FrameError>` items: `Ok(payload)` for each frame, `Err` for a
/// framing problem the scanner recovered from (garbage, an oversized or truncated frame), so the
/// stream, and the connection, stay usable (a decoder *error* would end a `FramedRead` stream).
/// Fatal conditions are [`CodecError`]s; at end of input a partial frame is
/// [`CodecError::UnexpectedEof`].
///
/// Encoding writes `0x0B payload 0x1C 0x0D` and refuses payloads containing `0x0B` or `0x1C`.
#[derive(Debug, Clone)]
pub struct MllpCodec {
    scanner: FrameScanner,
}

impl MllpCodec {
    /// A codec accepting payloads of at most `max_len` bytes.
    pub fn new(max_len: usize) -> MllpCodec {
        MllpCodec { scanner: FrameScanner::new(max_len) }
    }

    /// The payload limit.
    pub fn max_len(&self) -> usize {
        self.scanner.max_len()
    }
}

impl Default for MllpCodec {
    fn default() -> Self {
        MllpCodec::new(DEFAULT_MAX_FRAME_LEN)
    }
}

impl Decoder for MllpCodec {
    type Item = Result<Bytes, FrameError>;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Self::Item>, CodecError> {
        Ok(self.scanner.decode(src).transpose())
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Self::Item>, CodecError> {
        if let Some(item) = self.decode(src)? {
            return Ok(Some(item));
        }
        match self.scanner.finish(src) {
            Ok(()) => Ok(None),
            Err(FrameError::Incomplete { buffered }) => Err(CodecError::UnexpectedEof { buffered }),
            Err(other) => Ok(Some(Err(other))),
        }
    }
}

impl Encoder<&[u8]> for MllpCodec {
    type Error = CodecError;

    fn encode(&mut self, payload: &[u8], dst: &mut BytesMut) -> Result<(), CodecError> {
        if let Some(offset) = payload.iter().position(|&b| b == START_BLOCK || b == END_BLOCK) {
            return Err(CodecError::FramingByteInPayload { offset, byte: payload[offset] });
        }
        dst.reserve(payload.len() + 3);
        dst.put_u8(START_BLOCK);
        dst.extend_from_slice(payload);
        dst.put_slice(&[END_BLOCK, CARRIAGE_RETURN]);
        Ok(())
    }
}

impl Encoder<Bytes> for MllpCodec {
    type Error = CodecError;

    fn encode(&mut self, payload: Bytes, dst: &mut BytesMut) -> Result<(), CodecError> {
        self.encode(payload.as_ref(), dst)
    }
}
