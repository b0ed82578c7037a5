//! Arbitrary byte chunks through the MLLP scanner: no panic, bounded buffer, progress on every
//! report, payloads within the limit and free of framing bytes, and the same result however the
//! input is split into reads.

#![no_main]

use bytes::BytesMut;
use hakobune_mllp::{END_BLOCK, FrameScanner, GARBAGE_REPORT_THRESHOLD, START_BLOCK};
use libfuzzer_sys::fuzz_target;

// The first byte picks the limit (below 128: that many bytes, to reach the limit often; from 128:
// multiples of 64 bytes, for real messages), the second how the rest is chunked.
fuzz_target!(|data: &[u8]| {
    let [limit, chunking, rest @ ..] = data else { return };
    let max_len = if *limit < 128 { usize::from(*limit) } else { usize::from(*limit - 128) * 64 };
    let chunk_len = usize::from(*chunking % 16) + 1;
    let whole = run(max_len, &[rest]);
    let chunks: Vec<&[u8]> = rest.chunks(chunk_len).collect();
    let split = run(max_len, &chunks);
    let bytes: Vec<&[u8]> = rest.chunks(1).collect();
    let by_byte = run(max_len, &bytes);
    if rest.len() < GARBAGE_REPORT_THRESHOLD {
        assert_eq!(whole, split, "result depends on chunking");
        assert_eq!(whole, by_byte, "result depends on chunking");
    }
});

fn run(max_len: usize, chunks: &[&[u8]]) -> Vec<Result<Vec<u8>, String>> {
    let mut scanner = FrameScanner::new(max_len);
    let mut buf = BytesMut::new();
    let mut events = Vec::new();
    let mut fed = 0usize;
    let mut payload_bytes = 0usize;
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        fed += chunk.len();
        loop {
            let before = buf.len();
            match scanner.decode(&mut buf) {
                Ok(None) => {
                    assert!(buf.len() <= max_len, "buffer {} over limit {max_len}", buf.len());
                    break;
                }
                Ok(Some(payload)) => {
                    assert!(payload.len() <= max_len);
                    assert!(!payload.iter().any(|&b| b == START_BLOCK || b == END_BLOCK));
                    payload_bytes += payload.len();
                    events.push(Ok(payload.to_vec()));
                }
                Err(e) => events.push(Err(e.to_string())),
            }
            assert!(buf.len() < before, "a result without progress could loop forever");
        }
    }
    assert!(payload_bytes <= fed);
    if let Err(e) = scanner.finish(&mut buf) {
        events.push(Err(e.to_string()));
    }
    assert!(buf.is_empty());
    assert!(!scanner.in_frame());
    events
}
