//! The MLLP listener and its connections.

use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use hakobune_mllp::{FrameError, MllpCodec};
use hakobune_tls::tokio_rustls::TlsAcceptor;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::codec::Framed;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::Ingest;

/// Limits of the listener.
#[derive(Debug, Clone)]
pub struct ServerLimits {
    /// Largest frame.
    pub max_message_bytes: usize,
    /// Most simultaneous connections.
    pub max_connections: usize,
    /// Time a started frame may take to complete.
    pub frame_timeout: Duration,
    /// Time a connection may stay idle between messages.
    pub idle_timeout: Duration,
}

/// Serves MLLP on a bound listener until `shutdown` fires; then stops accepting, lets each
/// connection finish the message it is handling, and returns once every connection has closed.
pub async fn serve_mllp(listener: TcpListener, ingest: Arc<Ingest>, limits: ServerLimits, shutdown: CancellationToken) {
    serve(listener, None, ingest, limits, shutdown).await
}

/// Serves MLLP over TLS (`acceptor`, from `hakobune_tls::server_config`: mutual TLS) as
/// [`serve_mllp`] does plain MLLP. Each connection must complete its handshake within the frame
/// timeout; its client certificate's subject names the peer in logs and quarantine records and is
/// checked against the sending facility's `tls_client_subjects`.
pub async fn serve_mllp_tls(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    ingest: Arc<Ingest>,
    limits: ServerLimits,
    shutdown: CancellationToken,
) {
    serve(listener, Some(acceptor), ingest, limits, shutdown).await
}

async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    ingest: Arc<Ingest>,
    limits: ServerLimits,
    shutdown: CancellationToken,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let tracker = TaskTracker::new();
    loop {
        let permit = tokio::select! {
            _ = shutdown.cancelled() => break,
            p = permits.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
        };
        let (stream, peer) = tokio::select! {
            _ = shutdown.cancelled() => break,
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accepting an MLLP connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let ingest = ingest.clone();
        let limits = limits.clone();
        let shutdown = shutdown.clone();
        let tls = tls.clone();
        tracker.spawn(async move {
            let _permit = permit;
            ingest.metrics().connections.inc();
            ingest.metrics().connections_open.inc();
            match tls {
                None => {
                    connection(stream, Peer { addr: peer.to_string(), tls_subject: None }, &ingest, &limits, &shutdown)
                        .await
                }
                Some(acceptor) => match tokio::time::timeout(limits.frame_timeout, acceptor.accept(stream)).await {
                    Ok(Ok(stream)) => {
                        let tls_subject = stream
                            .get_ref()
                            .1
                            .peer_certificates()
                            .and_then(|c| c.first())
                            .and_then(hakobune_tls::peer_subject);
                        let peer = Peer { addr: peer.to_string(), tls_subject };
                        connection(stream, peer, &ingest, &limits, &shutdown).await
                    }
                    Ok(Err(e)) => {
                        ingest.metrics().tls_handshake_failures.inc();
                        tracing::warn!(%peer, error = %e, "MLLP/TLS handshake refused");
                    }
                    Err(_) => {
                        ingest.metrics().tls_handshake_failures.inc();
                        tracing::warn!(%peer, "MLLP/TLS handshake not completed in time");
                    }
                },
            }
            ingest.metrics().connections_open.dec();
        });
    }
    drop(listener);
    tracker.close();
    tracker.wait().await;
}

/// How long a connection keeps answering (with "retry later") after shutdown is requested.
const DRAIN_GRACE: Duration = Duration::from_secs(2);

enum Next {
    Frame(Option<Result<Result<bytes::Bytes, FrameError>, hakobune_mllp::CodecError>>),
    TimedOut(&'static str),
}

/// Who is on the other end of a connection: its address and, over TLS, its certificate's subject.
struct Peer {
    addr: String,
    tls_subject: Option<String>,
}

async fn connection<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    who: Peer,
    ingest: &Ingest,
    limits: &ServerLimits,
    shutdown: &CancellationToken,
) {
    let peer = match &who.tls_subject {
        Some(subject) => format!("{} (TLS {subject})", who.addr),
        None => who.addr.clone(),
    };
    let subject = who.tls_subject.as_deref();
    tracing::debug!(%peer, "MLLP connection opened");
    let mut framed = Framed::new(stream, MllpCodec::new(limits.max_message_bytes));
    let mut idle = Duration::ZERO;
    // After shutdown is requested, a connection stays open for a short grace period so that a
    // sender that was mid-message hears "retry later" (the pipeline is draining) instead of a reset.
    let mut drain_until: Option<tokio::time::Instant> = None;
    loop {
        let slice = limits.frame_timeout.min(limits.idle_timeout);
        if let Some(deadline) = drain_until {
            match tokio::time::timeout_at(deadline, framed.next()).await {
                Ok(Some(Ok(Ok(payload)))) => {
                    let processed = ingest.process_from(&payload, &peer, subject).await;
                    if framed.send(bytes::Bytes::from(processed.ack)).await.is_err() {
                        break;
                    }
                    continue;
                }
                Ok(Some(Ok(Err(_)))) => continue,
                _ => break,
            }
        }
        let next = tokio::select! {
            _ = shutdown.cancelled() => {
                drain_until = Some(tokio::time::Instant::now() + DRAIN_GRACE);
                continue;
            }
            r = tokio::time::timeout(slice, framed.next()) => match r {
                Ok(item) => Next::Frame(item),
                Err(_) => {
                    idle += slice;
                    if !framed.read_buffer().is_empty() {
                        Next::TimedOut("frame not completed in time")
                    } else if idle >= limits.idle_timeout {
                        Next::TimedOut("idle")
                    } else {
                        continue;
                    }
                }
            },
        };
        idle = Duration::ZERO;
        let payload = match next {
            Next::TimedOut(why) => {
                ingest.metrics().timeouts.inc();
                tracing::info!(%peer, why, "closing MLLP connection");
                break;
            }
            Next::Frame(None) => break,
            Next::Frame(Some(Err(e))) => {
                tracing::info!(%peer, error = %e, "MLLP connection ended");
                break;
            }
            Next::Frame(Some(Ok(Err(frame_error)))) => {
                ingest.metrics().framing_errors.inc();
                tracing::warn!(%peer, error = %frame_error, "MLLP framing error");
                if let FrameError::TooLarge { limit, head } = frame_error {
                    // The rest of the frame is dropped as it arrives (memory stays bounded); its
                    // first `limit` bytes are kept in the quarantine, and the connection stays usable.
                    let processed = ingest.refuse_oversize(&head, limit, &peer).await;
                    if framed.send(bytes::Bytes::from(processed.ack)).await.is_err() {
                        break;
                    }
                }
                continue;
            }
            Next::Frame(Some(Ok(Ok(payload)))) => payload,
        };
        let processed = ingest.process_from(&payload, &peer, subject).await;
        if let Err(e) = framed.send(bytes::Bytes::from(processed.ack)).await {
            tracing::info!(%peer, error = %e, "could not send ACK");
            break;
        }
    }
    tracing::debug!(%peer, "MLLP connection closed");
}
