use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::codec::{Decoder, Encoder, FramedRead};

use super::*;

/// What a scanner produced, for comparing runs.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Event {
    Frame(Vec<u8>),
    Problem(FrameError),
}

/// Feeds `chunks` one after the other, draining the scanner after each, then finishes.
fn run(max_len: usize, chunks: &[&[u8]]) -> Vec<Event> {
    let mut scanner = FrameScanner::new(max_len);
    let mut buf = BytesMut::new();
    let mut events = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            match scanner.decode(&mut buf) {
                Ok(Some(frame)) => events.push(Event::Frame(frame.to_vec())),
                Ok(None) => break,
                Err(e) => events.push(Event::Problem(e)),
            }
        }
        assert!(buf.len() <= max_len, "buffer bounded by max_len when idle");
    }
    if let Err(e) = scanner.finish(&mut buf) {
        events.push(Event::Problem(e));
    }
    events
}

fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = vec![START_BLOCK];
    out.extend_from_slice(payload);
    out.extend_from_slice(&[END_BLOCK, CARRIAGE_RETURN]);
    out
}

fn f(p: &[u8]) -> Event {
    Event::Frame(p.to_vec())
}

#[test]
fn round_trip_through_the_codec() {
    let mut codec = MllpCodec::default();
    let mut buf = BytesMut::new();
    codec.encode(&b"MSH|^~\\&|A\rPID|1\r"[..], &mut buf).unwrap();
    codec.encode(Bytes::from_static(b"MSH|2\r"), &mut buf).unwrap();
    assert_eq!(&buf[..], [frame(b"MSH|^~\\&|A\rPID|1\r"), frame(b"MSH|2\r")].concat());
    assert_eq!(codec.decode(&mut buf).unwrap().unwrap().unwrap(), &b"MSH|^~\\&|A\rPID|1\r"[..]);
    assert_eq!(codec.decode(&mut buf).unwrap().unwrap().unwrap(), &b"MSH|2\r"[..]);
    assert!(codec.decode(&mut buf).unwrap().is_none());
    assert!(buf.is_empty());
    // Empty payloads are frames too.
    assert_eq!(run(10, &[&frame(b"")]), [f(b"")]);
}

#[test]
fn encoder_refuses_framing_bytes() {
    let mut buf = BytesMut::new();
    let err = MllpCodec::default().encode(&b"ab\x1cc"[..], &mut buf).unwrap_err();
    assert!(matches!(err, CodecError::FramingByteInPayload { offset: 2, byte: 0x1C }));
    assert!(buf.is_empty());
}

/// A stream exercising every rule: garbage, normal frames, a bare 0x1C, CRLF after a frame,
/// a truncated frame, an oversized frame, and trailing garbage.
fn tricky_stream() -> (Vec<u8>, Vec<Event>) {
    let mut s = Vec::new();
    s.extend_from_slice(b"junk!");
    s.extend(frame(b"one"));
    s.extend_from_slice(b"\x0btwo\x1c"); // bare FS, next frame follows directly
    s.extend(frame(b"three"));
    s.extend_from_slice(b"\n"); // 0x1C 0x0D 0x0A: LF ignored
    s.extend_from_slice(b"\x0bcut"); // truncated by the next start block
    s.extend(frame(b"0123456789ABCDEF")); // 16 bytes > limit 10
    s.extend_from_slice(b"\x0bABCDEFGHIJKLMNO"); // oversized and truncated
    s.extend(frame(b"four"));
    s.extend_from_slice(b"\r\n\r\n"); // whitespace only: not reported
    s.extend(frame(b"0123456789")); // exactly the limit
    s.extend_from_slice(b"tail");
    let expected = vec![
        Event::Problem(FrameError::Garbage { skipped: 5 }),
        f(b"one"),
        f(b"two"),
        f(b"three"),
        Event::Problem(FrameError::Truncated { len: 3 }),
        Event::Problem(FrameError::TooLarge { limit: 10, head: Bytes::from_static(b"0123456789") }),
        Event::Problem(FrameError::TooLarge { limit: 10, head: Bytes::from_static(b"ABCDEFGHIJ") }),
        f(b"four"),
        f(b"0123456789"),
        Event::Problem(FrameError::Garbage { skipped: 4 }),
    ];
    (s, expected)
}

#[test]
fn all_rules_at_once() {
    let (stream, expected) = tricky_stream();
    assert_eq!(run(10, &[&stream]), expected);
}

#[test]
fn split_reads_at_every_byte_boundary() {
    let (stream, expected) = tricky_stream();
    for i in 0..=stream.len() {
        let (a, b) = stream.split_at(i);
        assert_eq!(run(10, &[a, b]), expected, "split at {i}");
    }
    for i in 0..=stream.len() {
        for j in i..=stream.len() {
            assert_eq!(run(10, &[&stream[..i], &stream[i..j], &stream[j..]]), expected, "split at {i}, {j}");
        }
    }
    let bytes: Vec<&[u8]> = stream.chunks(1).collect();
    assert_eq!(run(10, &bytes), expected, "one byte at a time");
}

#[test]
fn garbage_then_frame() {
    assert_eq!(
        run(100, &[b"GET / HTTP/1.1\r\n\r\n", &frame(b"MSH|x")]),
        [Event::Problem(FrameError::Garbage { skipped: 18 }), f(b"MSH|x")]
    );
}

#[test]
fn oversize_then_good_frame_in_one_buffer() {
    let big = vec![b'x'; 50];
    let input = [frame(&big), frame(b"ok")].concat();
    assert_eq!(
        run(20, &[&input]),
        [Event::Problem(FrameError::TooLarge { limit: 20, head: Bytes::from(vec![b'x'; 20]) }), f(b"ok")]
    );
    // Oversized frame arriving in pieces is reported once, and the buffer never grows past the limit.
    let chunks: Vec<&[u8]> = input.chunks(7).collect();
    assert_eq!(
        run(20, &chunks),
        [Event::Problem(FrameError::TooLarge { limit: 20, head: Bytes::from(vec![b'x'; 20]) }), f(b"ok")]
    );
    // A start block while discarding the oversized frame starts the next frame.
    let input = [&b"\x0b"[..], &big, &frame(b"next")].concat();
    assert_eq!(
        run(20, &input.chunks(5).collect::<Vec<_>>()),
        [Event::Problem(FrameError::TooLarge { limit: 20, head: Bytes::from(vec![b'x'; 20]) }), f(b"next")]
    );
}

#[test]
fn endless_garbage_is_reported_and_not_buffered() {
    let mut scanner = FrameScanner::new(16);
    let mut buf = BytesMut::new();
    let mut reports = 0;
    for _ in 0..(GARBAGE_REPORT_THRESHOLD / 1000 + 1) {
        buf.extend_from_slice(&[b'z'; 1000]);
        match scanner.decode(&mut buf) {
            Err(FrameError::Garbage { skipped }) => {
                assert!(skipped >= GARBAGE_REPORT_THRESHOLD);
                reports += 1;
            }
            Ok(None) => {}
            other => panic!("{other:?}"),
        }
        assert!(buf.is_empty());
    }
    assert_eq!(reports, 1);
}

#[test]
fn eof_mid_frame() {
    let mut codec = MllpCodec::default();
    let mut buf = BytesMut::from(&b"\x0bMSH|partial"[..]);
    assert!(codec.decode(&mut buf).unwrap().is_none());
    assert!(matches!(codec.decode_eof(&mut buf), Err(CodecError::UnexpectedEof { buffered: 11 })));
    // The codec is reset: a clean EOF now yields nothing.
    assert!(codec.decode_eof(&mut buf).unwrap().is_none());
    // Trailing garbage at EOF is reported as an item, then the stream ends.
    let mut buf = BytesMut::from(&b"bye"[..]);
    assert_eq!(codec.decode_eof(&mut buf).unwrap().unwrap().unwrap_err(), FrameError::Garbage { skipped: 3 });
    assert!(codec.decode_eof(&mut buf).unwrap().is_none());
}

#[tokio::test]
async fn framed_read_ends_with_a_typed_error_at_eof_mid_frame() {
    let input = [frame(b"one"), b"\x0btwo-without-end".to_vec()].concat();
    let mut stream = FramedRead::new(&input[..], MllpCodec::default());
    assert_eq!(stream.next().await.unwrap().unwrap().unwrap(), &b"one"[..]);
    let err = stream.next().await.unwrap().unwrap_err();
    assert!(matches!(err, CodecError::UnexpectedEof { buffered: 15 }), "{err:?}");
    assert!(stream.next().await.is_none());
}

#[tokio::test]
async fn framed_read_survives_framing_problems() {
    let input = [b"noise".to_vec(), frame(&[b'x'; 64]), frame(b"good")].concat();
    let items: Vec<_> = FramedRead::new(&input[..], MllpCodec::new(32)).collect().await;
    let items: Vec<_> = items.into_iter().map(|r| r.unwrap()).collect();
    assert_eq!(
        items,
        [
            Err(FrameError::Garbage { skipped: 5 }),
            Err(FrameError::TooLarge { limit: 32, head: Bytes::from(vec![b'x'; 32]) }),
            Ok(Bytes::from_static(b"good"))
        ]
    );
}

#[tokio::test]
async fn client_over_tcp_gets_the_ack() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        let mut framed = tokio_util::codec::Framed::new(socket, MllpCodec::default());
        let mut seen = Vec::new();
        while let Some(item) = framed.next().await {
            let msg = item.unwrap().unwrap();
            seen.push(msg.clone());
            let mut ack = b"MSH|^~\\&|GW|RCV|HIS|SEND|20240101||ACK^A08^ACK|1|P|2.5\rMSA|AA|".to_vec();
            ack.extend_from_slice(format!("{}\r", msg.len()).as_bytes());
            framed.send(&ack[..]).await.unwrap();
        }
        seen
    });
    let mut client = MllpClient::connect_with_timeout(addr, Duration::from_secs(5)).await.unwrap();
    assert_eq!(client.timeout(), Duration::from_secs(5));
    let ack = client.send(b"MSH|^~\\&|HIS|SEND|GW|RCV|20240101||ADT^A08|ID1|P|2.5\r").await.unwrap();
    assert!(ack.starts_with(b"MSH|"), "{ack:?}");
    assert!(ack.ends_with(b"MSA|AA|53\r"), "{ack:?}");
    let ack = client.send(b"MSH|2|ABC").await.unwrap();
    assert!(ack.ends_with(b"MSA|AA|9\r"), "{ack:?}");
    drop(client.into_inner());
    let seen = server.await.unwrap();
    assert_eq!(seen.len(), 2);
}

#[tokio::test]
async fn client_skips_garbage_before_the_ack() {
    let (client_side, mut server_side) = tokio::io::duplex(1024);
    let server = tokio::spawn(async move {
        let mut buf = [0u8; 64];
        let n = server_side.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], frame(b"hello").as_slice());
        server_side.write_all(b"\r\nnoise").await.unwrap();
        server_side.write_all(&frame(b"MSA|AA|1")).await.unwrap();
        server_side
    });
    let mut client = MllpClient::new(client_side);
    assert_eq!(client.send(b"hello").await.unwrap(), &b"MSA|AA|1"[..]);
    drop(server.await.unwrap());
}

#[tokio::test]
async fn client_times_out_then_refuses_reuse() {
    let (client_side, server_side) = tokio::io::duplex(1024);
    let mut client = MllpClient::new(client_side).with_timeout(Duration::from_millis(50));
    let err = client.send(b"hello").await.unwrap_err();
    assert!(matches!(err, ClientError::Timeout(d) if d == Duration::from_millis(50)), "{err:?}");
    assert!(matches!(client.send(b"again").await.unwrap_err(), ClientError::Unusable));
    drop(server_side);
}

#[tokio::test]
async fn client_reports_peer_close() {
    let (client_side, mut server_side) = tokio::io::duplex(1024);
    let server = tokio::spawn(async move {
        let mut buf = [0u8; 64];
        let _ = server_side.read(&mut buf).await.unwrap();
        // Close without answering.
    });
    let mut client = MllpClient::new(client_side);
    assert!(matches!(client.send(b"x").await.unwrap_err(), ClientError::Closed));
    server.await.unwrap();
    // Closing inside the ACK frame is a codec error.
    let (client_side, mut server_side) = tokio::io::duplex(1024);
    let server = tokio::spawn(async move {
        let mut buf = [0u8; 64];
        let _ = server_side.read(&mut buf).await.unwrap();
        server_side.write_all(b"\x0bMSA|A").await.unwrap();
    });
    let mut client = MllpClient::new(client_side);
    let err = client.send(b"x").await.unwrap_err();
    assert!(matches!(err, ClientError::Codec(CodecError::UnexpectedEof { buffered: 5 })), "{err:?}");
    server.await.unwrap();
}

#[tokio::test]
async fn connect_failure_is_typed() {
    // Bind then drop to get a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let err = MllpClient::connect(("127.0.0.1", port)).await.unwrap_err();
    assert!(matches!(err, ClientError::Connect(_)), "{err:?}");
}
