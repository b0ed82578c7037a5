//! An async MLLP client: send one message, wait for one ACK frame.

use std::time::Duration;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpStream, ToSocketAddrs};
use tokio_util::codec::Framed;

use crate::codec::{CodecError, MllpCodec};
use crate::scanner::FrameError;

/// Default for [`MllpClient::with_timeout`]: 30 seconds.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Why [`MllpClient::connect`] or [`MllpClient::send`] failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The TCP connection could not be made.
    #[error("cannot connect: {0}")]
    Connect(#[source] std::io::Error),
    /// Writing, reading, or framing failed fatally.
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// The ACK did not arrive in time (or the connection did not open in time).
    #[error("no MLLP response within {0:?}")]
    Timeout(Duration),
    /// The peer closed the connection before sending an ACK.
    #[error("connection closed before an ACK arrived")]
    Closed,
    /// The response frame was oversized or truncated.
    #[error("bad ACK frame: {0}")]
    Framing(FrameError),
    /// An earlier `send` on this client failed or timed out, so a late ACK could be mistaken for
    /// the next one: open a new connection.
    #[error("the connection is in an unknown state after an earlier failure")]
    Unusable,
}

/// Sends messages over one connection, one at a time, each waiting for its ACK.
///
/// Generic over the stream so TLS can be layered on later; [`MllpClient::connect`] opens plain
/// TCP (with `TCP_NODELAY`). After any failed [`MllpClient::send`] the client answers
/// [`ClientError::Unusable`]: reconnect.
#[derive(Debug)]
pub struct MllpClient<S> {
    framed: Framed<S, MllpCodec>,
    timeout: Duration,
    broken: bool,
}

impl MllpClient<TcpStream> {
    /// Connects over TCP; connecting and each [`MllpClient::send`] may take [`DEFAULT_TIMEOUT`].
    pub async fn connect(addr: impl ToSocketAddrs) -> Result<MllpClient<TcpStream>, ClientError> {
        MllpClient::connect_with_timeout(addr, DEFAULT_TIMEOUT).await
    }

    /// Connects over TCP; connecting and each [`MllpClient::send`] may take `timeout`.
    pub async fn connect_with_timeout(
        addr: impl ToSocketAddrs,
        timeout: Duration,
    ) -> Result<MllpClient<TcpStream>, ClientError> {
        let stream = tokio::time::timeout(timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| ClientError::Timeout(timeout))?
            .map_err(ClientError::Connect)?;
        stream.set_nodelay(true).map_err(ClientError::Connect)?;
        Ok(MllpClient::new(stream).with_timeout(timeout))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> MllpClient<S> {
    /// A client over an open stream, with the default codec limit and [`DEFAULT_TIMEOUT`].
    pub fn new(stream: S) -> MllpClient<S> {
        MllpClient::with_codec(stream, MllpCodec::default())
    }

    /// A client over an open stream with a given codec (e.g. another ACK size limit).
    pub fn with_codec(stream: S, codec: MllpCodec) -> MllpClient<S> {
        MllpClient { framed: Framed::new(stream, codec), timeout: DEFAULT_TIMEOUT, broken: false }
    }

    /// Sets how long one [`MllpClient::send`] may take, writing included.
    pub fn with_timeout(mut self, timeout: Duration) -> MllpClient<S> {
        self.timeout = timeout;
        self
    }

    /// The current timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Frames `message`, sends it, and returns the payload of the next frame the peer sends (the
    /// ACK). Garbage before the ACK is skipped.
    pub async fn send(&mut self, message: &[u8]) -> Result<Bytes, ClientError> {
        if self.broken {
            return Err(ClientError::Unusable);
        }
        self.broken = true;
        let framed = &mut self.framed;
        let exchange = async move {
            framed.send(message).await?;
            loop {
                match framed.next().await {
                    None => return Err(ClientError::Closed),
                    Some(Err(e)) => return Err(ClientError::Codec(e)),
                    Some(Ok(Err(FrameError::Garbage { .. }))) => continue,
                    Some(Ok(Err(e))) => return Err(ClientError::Framing(e)),
                    Some(Ok(Ok(ack))) => return Ok(ack),
                }
            }
        };
        let ack =
            tokio::time::timeout(self.timeout, exchange).await.map_err(|_| ClientError::Timeout(self.timeout))??;
        self.broken = false;
        Ok(ack)
    }

    /// The underlying stream (any buffered, unread bytes are lost).
    pub fn into_inner(self) -> S {
        self.framed.into_inner()
    }
}
