//! `hakobune send`: files over MLLP (or MLLP over TLS), ACKs printed.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use hakobune_mllp::MllpClient;
use tokio::io::{AsyncRead, AsyncWrite};

/// MLLP over TLS: the CA that must have issued the server's certificate, and optionally the
/// client certificate to present (mutual TLS, as a hospital gateway does).
pub struct Tls {
    /// PEM CA certificate(s).
    pub ca: PathBuf,
    /// Client certificate and key.
    pub identity: Option<hakobune_tls::Identity>,
    /// Name the server's certificate must carry (default: the host part of the address).
    pub server_name: Option<String>,
}

/// One line per file: the MSA and any ERR segments of its ACK, decoded to UTF-8.
pub async fn run(to: &str, tls: Option<&Tls>, timeout: Duration, files: &[PathBuf]) -> Result<ExitCode> {
    let client = MllpClient::connect_with_timeout(to, timeout).await.with_context(|| format!("connecting to {to}"))?;
    match tls {
        None => send_all(client, files).await,
        Some(tls) => {
            let tcp = client.into_inner();
            let config = hakobune_tls::client_config(&tls.ca, tls.identity.as_ref())?;
            let host = match &tls.server_name {
                Some(name) => name.clone(),
                None => host_of(to).to_owned(),
            };
            let name = hakobune_tls::server_name(&host)?;
            let stream = tokio::time::timeout(
                timeout,
                hakobune_tls::tokio_rustls::TlsConnector::from(config).connect(name, tcp),
            )
            .await
            .with_context(|| format!("TLS handshake with {to}: timed out"))?
            .with_context(|| format!("TLS handshake with {to}"))?;
            send_all(MllpClient::new(stream).with_timeout(timeout), files).await
        }
    }
}

/// The host of `host:port` or `[v6]:port`.
fn host_of(addr: &str) -> &str {
    let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
    host.trim_start_matches('[').trim_end_matches(']')
}

async fn send_all<S: AsyncRead + AsyncWrite + Unpin>(mut client: MllpClient<S>, files: &[PathBuf]) -> Result<ExitCode> {
    let mut refused = 0usize;
    for path in files {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let message = hakobune_ssmix2::strip_storage_artifacts(&bytes);
        let ack = client.send(message).await.with_context(|| format!("sending {}", path.display()))?;
        let text = encoding_rs::ISO_2022_JP.decode_without_bom_handling(&ack).0.into_owned();
        let summary = summarize(&text);
        if !summary.starts_with("MSA|AA") {
            refused += 1;
        }
        println!("{}: {}", path.display(), summary);
    }
    if refused > 0 {
        eprintln!("{refused} of {} messages were not accepted", files.len());
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

fn summarize(ack: &str) -> String {
    ack.split(['\r', '\n']).filter(|s| s.starts_with("MSA") || s.starts_with("ERR")).collect::<Vec<_>>().join("  ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_host_of_an_address() {
        assert_eq!(super::host_of("127.0.0.1:2576"), "127.0.0.1");
        assert_eq!(super::host_of("[::1]:2576"), "::1");
        assert_eq!(super::host_of("hakobune.region.example.jp:2576"), "hakobune.region.example.jp");
    }
}
