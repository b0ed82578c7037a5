//! NUT's STARTTLS on the appliance's own TLS stack.
//!
//! nut-client speaks the NUT protocol well but its TLS support is tied to rustls 0.19 and trusts
//! only the public web roots, which no UPS server's certificate chains to. So the TLS session is
//! made here, with the policy of `hakobune-tls` (TLS 1.2+, the operator's CA only), and nut-client talks plain NUT through a one-connection relay on loopback:
//!
//! ```text
//! nut-client ──TCP 127.0.0.1:ephemeral──▶ relay ──TLS (after STARTTLS)──▶ upsd
//! ```
//!
//! The relay accepts exactly one connection, within a few seconds, and only from loopback; it
//! carries no credentials of its own (the login goes through the tunnel from nut-client).

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::{PowerError, UpsTls};

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Connects to upsd at `upsd`, upgrades the connection with STARTTLS and returns the loopback
/// address at which the relay waits for nut-client's one connection.
pub(crate) async fn tunnel(upsd: SocketAddr, addr: &str, host: &str, tls: &UpsTls) -> Result<SocketAddr, PowerError> {
    let fail = |why: String| PowerError::Tls { addr: addr.to_owned(), why };
    let config = hakobune_tls::client_config(&tls.ca_file, None)?;
    let name = hakobune_tls::server_name(tls.server_name.as_deref().unwrap_or(host))?;

    let secured = tokio::time::timeout(HANDSHAKE_TIMEOUT, async {
        let mut tcp = TcpStream::connect(upsd).await.map_err(|e| fail(e.to_string()))?;
        tcp.write_all(b"STARTTLS\n").await.map_err(|e| fail(e.to_string()))?;
        // Read the answer byte by byte: nothing past its newline may be consumed, since the TLS
        // handshake follows on the same socket.
        let mut line = Vec::new();
        loop {
            let b = tcp.read_u8().await.map_err(|e| fail(format!("no answer to STARTTLS: {e}")))?;
            if b == b'\n' || line.len() > 256 {
                break;
            }
            line.push(b);
        }
        let answer = String::from_utf8_lossy(&line).trim_end().to_owned();
        if answer != "OK STARTTLS" {
            return Err(fail(format!(
                "upsd does not offer TLS (it answered {answer:?} to STARTTLS; set CERTPATH and CERTIDENT in upsd.conf)"
            )));
        }
        hakobune_tls::tokio_rustls::TlsConnector::from(config)
            .connect(name, tcp)
            .await
            .map_err(|e| fail(format!("handshake: {e}")))
    })
    .await
    .map_err(|_| fail(format!("no TLS session within {HANDSHAKE_TIMEOUT:?}")))??;

    let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await.map_err(|e| fail(e.to_string()))?;
    let relay = listener.local_addr().map_err(|e| fail(e.to_string()))?;
    tokio::spawn(async move {
        let mut upsd = secured;
        let accepted = tokio::time::timeout(Duration::from_secs(5), listener.accept()).await;
        drop(listener);
        let Ok(Ok((mut local, peer))) = accepted else {
            return;
        };
        if !peer.ip().is_loopback() {
            return;
        }
        // Ends when either side closes: nut-client dropping its connection closes the TLS session.
        let _ = tokio::io::copy_bidirectional(&mut local, &mut upsd).await;
        let _ = upsd.shutdown().await;
    });
    Ok(relay)
}
