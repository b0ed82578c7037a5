//! `hakobune send`: files over MLLP, ACKs printed.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use hakobune_mllp::MllpClient;

/// One line per file: the MSA and any ERR segments of its ACK, decoded to UTF-8.
pub async fn run(to: &str, timeout: Duration, files: &[PathBuf]) -> Result<ExitCode> {
    let mut client =
        MllpClient::connect(to).await.with_context(|| format!("connecting to {to}"))?.with_timeout(timeout);
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
