//! The sans-IO MLLP frame scanner.

use bytes::{Buf, Bytes, BytesMut};

/// MLLP start block (VT).
pub const START_BLOCK: u8 = 0x0B;
/// MLLP end block, first byte (FS).
pub const END_BLOCK: u8 = 0x1C;
/// MLLP end block, second byte (CR).
pub const CARRIAGE_RETURN: u8 = 0x0D;

/// Garbage (bytes outside any frame) is reported at the latest once this many bytes have been
/// skipped, even if no start block follows, so a peer streaming junk is noticed.
pub const GARBAGE_REPORT_THRESHOLD: usize = 64 * 1024;

/// A framing problem. The scanner has already recovered from it: call
/// [`FrameScanner::decode`] again to go on with the same buffer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Bytes outside any frame (before a start block) were skipped. CR and LF alone between frames
    /// are not reported.
    #[error("skipped {skipped} bytes outside any MLLP frame")]
    Garbage {
        /// Number of bytes skipped since the previous report or frame (including any CR/LF).
        skipped: usize,
    },
    /// A frame's payload exceeds the limit. The rest of that frame is discarded up to its end block
    /// (or the next start block), and scanning resumes after it.
    #[error("MLLP frame exceeds the limit of {limit} bytes")]
    TooLarge {
        /// The configured limit.
        limit: usize,
        /// The first `limit` bytes of the frame (kept so the receiver can quarantine them).
        head: Bytes,
    },
    /// A start block arrived inside a frame: the partial frame is dropped and a new one starts.
    #[error("MLLP frame truncated after {len} bytes by a new start block")]
    Truncated {
        /// Payload bytes of the dropped frame.
        len: usize,
    },
    /// The input ended inside a frame (only from [`FrameScanner::finish`]).
    #[error("input ended inside an MLLP frame ({buffered} payload bytes buffered)")]
    Incomplete {
        /// Payload bytes buffered when the input ended.
        buffered: usize,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between frames: looking for a start block.
    Idle,
    /// Inside a frame (the start block is consumed); `scanned` payload bytes hold no end or start
    /// block.
    InFrame { scanned: usize },
    /// Inside an oversized frame that was already reported: dropping bytes up to its end.
    Discarding,
}

/// Finds MLLP frames (`0x0B payload 0x1C 0x0D`) in a byte buffer that the caller fills.
///
/// Rules:
/// - A frame's payload is every byte between the start block `0x0B` and the end block `0x1C`.
/// - A frame ends at `0x1C`, whether or not `0x0D` follows: the `0x0D` is consumed when it comes,
///   like any CR or LF between frames, which are dropped silently (senders that end frames with
///   `0x1C 0x0D 0x0A`, or with a bare `0x1C`, keep working). A bare `0x1C` followed by `0x0B`
///   simply starts the next frame.
/// - Other bytes outside a frame are garbage: they are dropped at once (never buffered) and
///   reported as [`FrameError::Garbage`] when the next start block arrives, when
///   [`GARBAGE_REPORT_THRESHOLD`] bytes have accumulated, or at [`FrameScanner::finish`].
/// - A payload longer than `max_len` gives [`FrameError::TooLarge`] once; the rest of the frame is
///   dropped as it arrives.
/// - A `0x0B` inside a frame gives [`FrameError::Truncated`] (or [`FrameError::TooLarge`] when the
///   partial payload is already over the limit) and starts a new frame.
/// - The reports do not depend on how the input is split into reads (except for garbage runs of
///   [`GARBAGE_REPORT_THRESHOLD`] bytes or more, which are reported in pieces).
///
/// Memory: whenever [`FrameScanner::decode`] returns `Ok(None)`, the buffer holds at most
/// `max_len` bytes. Scanning is incremental (each byte is examined once).
#[derive(Debug, Clone)]
pub struct FrameScanner {
    max_len: usize,
    state: State,
    /// Bytes skipped outside frames since the last report.
    garbage: usize,
    /// Whether any of them is something other than CR/LF.
    junk: bool,
    /// The last frame ended at `0x1C`; a `0x0D` right after it belongs to the end block.
    after_end: bool,
}

impl FrameScanner {
    /// A scanner for payloads of at most `max_len` bytes.
    pub fn new(max_len: usize) -> FrameScanner {
        FrameScanner { max_len, state: State::Idle, garbage: 0, junk: false, after_end: false }
    }

    /// The payload limit.
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// True when the scanner is inside a frame (a start block was seen, no end block yet).
    pub fn in_frame(&self) -> bool {
        self.state != State::Idle
    }

    /// Consumes bytes from `buf` and returns the next complete payload, `Ok(None)` when more bytes
    /// are needed, or a [`FrameError`] the scanner has recovered from (call again).
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
        loop {
            match self.state {
                State::Idle => {
                    if self.after_end && !buf.is_empty() {
                        self.after_end = false;
                        if buf[0] == CARRIAGE_RETURN {
                            buf.advance(1);
                        }
                    }
                    let start = buf.iter().position(|&b| b == START_BLOCK);
                    let skip = start.unwrap_or(buf.len());
                    self.garbage += skip;
                    self.junk |= buf[..skip].iter().any(|&b| b != CARRIAGE_RETURN && b != b'\n');
                    buf.advance(skip);
                    if start.is_some() {
                        buf.advance(1);
                        self.state = State::InFrame { scanned: 0 };
                        if let Some(report) = self.take_garbage() {
                            return Err(report);
                        }
                        continue;
                    }
                    if self.garbage >= GARBAGE_REPORT_THRESHOLD
                        && let Some(report) = self.take_garbage()
                    {
                        return Err(report);
                    }
                    return Ok(None);
                }
                State::InFrame { scanned } => {
                    let found = buf
                        .get(scanned..)
                        .and_then(|rest| rest.iter().position(|&b| b == END_BLOCK || b == START_BLOCK))
                        .map(|i| scanned + i);
                    match found {
                        Some(i) if buf[i] == END_BLOCK => {
                            self.state = State::Idle;
                            self.after_end = true;
                            if i > self.max_len {
                                let head = Bytes::copy_from_slice(&buf[..self.max_len]);
                                buf.advance(i + 1);
                                return Err(FrameError::TooLarge { limit: self.max_len, head });
                            }
                            let payload = buf.split_to(i).freeze();
                            buf.advance(1);
                            return Ok(Some(payload));
                        }
                        Some(i) => {
                            // A start block inside the frame: drop the partial frame, start anew.
                            // (Past the limit, report what an incremental scan would have seen.)
                            let head = Bytes::copy_from_slice(&buf[..i.min(self.max_len)]);
                            buf.advance(i + 1);
                            self.state = State::InFrame { scanned: 0 };
                            return Err(if i > self.max_len {
                                FrameError::TooLarge { limit: self.max_len, head }
                            } else {
                                FrameError::Truncated { len: i }
                            });
                        }
                        None if buf.len() > self.max_len => {
                            let head = Bytes::copy_from_slice(&buf[..self.max_len]);
                            buf.clear();
                            self.state = State::Discarding;
                            return Err(FrameError::TooLarge { limit: self.max_len, head });
                        }
                        None => {
                            self.state = State::InFrame { scanned: buf.len() };
                            return Ok(None);
                        }
                    }
                }
                State::Discarding => match buf.iter().position(|&b| b == END_BLOCK || b == START_BLOCK) {
                    Some(i) => {
                        let starts_frame = buf[i] == START_BLOCK;
                        buf.advance(i + 1);
                        self.state = if starts_frame { State::InFrame { scanned: 0 } } else { State::Idle };
                        self.after_end = !starts_frame;
                    }
                    None => {
                        buf.clear();
                        return Ok(None);
                    }
                },
            }
        }
    }

    /// Call at end of input, after [`FrameScanner::decode`] returned `Ok(None)`: reports what is
    /// left ([`FrameError::Incomplete`] for a partial frame, [`FrameError::Garbage`] for unreported
    /// garbage), then clears `buf` and resets the scanner for reuse.
    pub fn finish(&mut self, buf: &mut BytesMut) -> Result<(), FrameError> {
        let state = std::mem::replace(&mut self.state, State::Idle);
        self.after_end = false;
        let buffered = buf.len();
        buf.clear();
        let garbage = self.take_garbage();
        match state {
            State::InFrame { .. } | State::Discarding => Err(FrameError::Incomplete { buffered }),
            State::Idle => garbage.map_or(Ok(()), Err),
        }
    }

    fn take_garbage(&mut self) -> Option<FrameError> {
        let report = self.junk.then_some(FrameError::Garbage { skipped: self.garbage });
        self.garbage = 0;
        self.junk = false;
        report
    }
}
