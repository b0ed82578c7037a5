//! UPS monitoring through Network UPS Tools.
//!
//! Brief overview:
//! - [`UpsConfig`] is the `[ups]` table of the server configuration: which upsd, which UPS, the
//!   credentials (password read from a file), and the shutdown policy.
//! - [`decide`] is a pure function from one [`Reading`] (ups.status, battery.charge,
//!   battery.runtime) to a [`Decision`]: normal, alarm (on battery), or shut down (low battery,
//!   forced shutdown from the primary, or runtime under the configured floor).
//! - [`watch`] polls upsd with the `nut-client` crate, reconnects with backoff when upsd goes away
//!   (a loud warning and `connected = false` in [`UpsStatus`], never a crash), keeps the shared
//!   status up to date, and returns a [`ShutdownReason`] once a shutdown decision has held for the
//!   configured delay without power coming back.
//! - With `[ups.tls]`, the connection to upsd is upgraded by NUT's STARTTLS on the appliance's own
//!   rustls policy (see `starttls.rs` for why nut-client's TLS is not used).
//!
//! Architecture invariant: this crate only observes the UPS and says when to shut down; it never
//! stops the server or powers the box off itself. The binary runs the orderly shutdown.

#![deny(missing_docs)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

mod starttls;

/// The `[ups]` table.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpsConfig {
    /// upsd host. Default `127.0.0.1`.
    pub host: String,
    /// upsd port. Default 3493.
    pub port: u16,
    /// UPS name as upsd knows it (`[name]` in ups.conf). Default `ups`.
    pub ups: String,
    /// upsd user (upsd.users). Optional: reading variables needs no login.
    pub username: Option<String>,
    /// File holding that user's password (must not be readable by group or others).
    pub password_file: Option<PathBuf>,
    /// Seconds between polls. Default 2.
    pub poll_interval_secs: u64,
    /// Shut down when the remaining runtime falls under this many seconds on battery. Default 300.
    pub min_runtime_secs: u64,
    /// Seconds a shutdown condition must hold before the shutdown starts; power coming back (OL)
    /// within it cancels. Forced shutdown (FSD) does not wait. Default 5.
    pub shutdown_delay_secs: u64,
    /// Command that powers the box off at the end of the orderly shutdown.
    /// Default `["systemctl", "poweroff"]`; empty: do not power off (the process just exits).
    pub poweroff_command: Vec<String>,
    /// `[ups.tls]`: talk to upsd over TLS (NUT's STARTTLS). Absent: plain TCP, which is right only
    /// for an upsd on this box's loopback.
    pub tls: Option<UpsTls>,
}

/// The `[ups.tls]` table. When present, TLS is required: an upsd that does not offer STARTTLS, or
/// whose certificate does not verify, counts as unreachable (never a silent fall-back to plain text).
/// No client certificate: Debian's upsd is built without client-certificate validation
/// (`CERTREQUEST`), so upsd authenticates the appliance by its upsd.users password, sent inside TLS.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UpsTls {
    /// PEM file with the CA certificate(s) that issued upsd's certificate. Only these are trusted.
    pub ca_file: PathBuf,
    /// The name upsd's certificate must carry (DNS name or IP address). Default: `host`.
    pub server_name: Option<String>,
}

impl Default for UpsConfig {
    fn default() -> Self {
        UpsConfig {
            host: "127.0.0.1".into(),
            port: 3493,
            ups: "ups".into(),
            username: None,
            password_file: None,
            poll_interval_secs: 2,
            min_runtime_secs: 300,
            shutdown_delay_secs: 5,
            poweroff_command: vec!["systemctl".into(), "poweroff".into()],
            tls: None,
        }
    }
}

/// Errors of the UPS watcher.
#[derive(Debug, thiserror::Error)]
pub enum PowerError {
    /// The password file could not be used.
    #[error("UPS password file {path}: {why}")]
    PasswordFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// Talking to upsd failed.
    #[error("upsd {addr}: {source}")]
    Nut {
        /// host:port.
        addr: String,
        /// The client error.
        source: nut_client::ClientError,
    },
    /// The host name does not resolve.
    #[error("upsd address {0} does not resolve")]
    Address(String),
    /// The TLS configuration (`[ups.tls]`) cannot be used.
    #[error("[ups.tls]: {0}")]
    TlsConfig(#[from] hakobune_tls::TlsError),
    /// STARTTLS with upsd failed.
    #[error("upsd {addr}: TLS: {why}")]
    Tls {
        /// host:port.
        addr: String,
        /// What failed.
        why: String,
    },
}

/// One poll of the UPS.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reading {
    /// `ups.status` flags, e.g. `["OB", "LB"]`.
    pub status: Vec<String>,
    /// `battery.charge`, percent.
    pub charge: Option<f64>,
    /// `battery.runtime`, seconds.
    pub runtime_secs: Option<f64>,
}

impl Reading {
    fn has(&self, flag: &str) -> bool {
        self.status.iter().any(|f| f == flag)
    }
}

/// Why the appliance must shut down.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ShutdownReason {
    /// On battery and the battery is low (OB LB).
    LowBattery,
    /// The UPS primary ordered a forced shutdown (FSD).
    ForcedShutdown,
    /// On battery with less runtime left than configured.
    RuntimeBelowFloor {
        /// Seconds left.
        runtime_secs: u64,
    },
}

impl std::fmt::Display for ShutdownReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ShutdownReason::LowBattery => f.write_str("UPS on battery with low battery (OB LB)"),
            ShutdownReason::ForcedShutdown => f.write_str("forced shutdown from the UPS primary (FSD)"),
            ShutdownReason::RuntimeBelowFloor { runtime_secs } => {
                write!(f, "UPS on battery with {runtime_secs} s of runtime left")
            }
        }
    }
}

/// What a reading means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// On line power.
    Normal,
    /// On battery: raise the alarm, keep serving.
    OnBattery,
    /// Shut down.
    Shutdown(ShutdownReason),
}

/// The policy: a pure function of one reading.
pub fn decide(r: &Reading, cfg: &UpsConfig) -> Decision {
    if r.has("FSD") {
        return Decision::Shutdown(ShutdownReason::ForcedShutdown);
    }
    if r.has("OB") {
        if r.has("LB") {
            return Decision::Shutdown(ShutdownReason::LowBattery);
        }
        if let Some(rt) = r.runtime_secs
            && rt < cfg.min_runtime_secs as f64
        {
            return Decision::Shutdown(ShutdownReason::RuntimeBelowFloor { runtime_secs: rt.max(0.0) as u64 });
        }
        return Decision::OnBattery;
    }
    Decision::Normal
}

/// What the server shows about the UPS (`/api/v1/appliance/status`, metrics).
#[derive(Debug, Clone, Default, Serialize)]
pub struct UpsStatus {
    /// Whether a `[ups]` is configured at all.
    pub configured: bool,
    /// upsd answered the last poll.
    pub connected: bool,
    /// `ups@host:port`.
    pub target: String,
    /// The connection to upsd is TLS (`[ups.tls]`).
    pub tls: bool,
    /// The last reading.
    pub reading: Option<Reading>,
    /// `online`, `on-battery`, `shutdown-pending`, `shutting-down` or `unknown`.
    pub state: String,
    /// The last error talking to upsd.
    pub last_error: Option<String>,
    /// When the UPS went on battery (UTC, RFC 3339), while it is.
    pub on_battery_since: Option<String>,
}

fn now() -> String {
    // std only: seconds since the epoch are enough for the panel to order events.
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    format!("unix:{secs}")
}

/// Reads the password file, refusing one that group or others can read.
pub fn read_password(path: &std::path::Path) -> Result<String, PowerError> {
    use std::os::unix::fs::PermissionsExt;
    let err = |why: String| PowerError::PasswordFile { path: path.to_owned(), why };
    let meta = std::fs::metadata(path).map_err(|e| err(e.to_string()))?;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(err(format!(
            "mode {:o} lets group or others read it; chmod 600",
            meta.permissions().mode() & 0o777
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    Ok(text.trim_end_matches(['\r', '\n']).to_owned())
}

async fn poll(conn: &mut nut_client::tokio::Connection, ups: &str) -> Result<Reading, nut_client::ClientError> {
    let status = conn.get_var(ups, "ups.status").await?.value();
    let num = |v: Result<nut_client::Variable, nut_client::ClientError>| {
        v.ok().and_then(|v| v.value().trim().parse::<f64>().ok())
    };
    let charge = num(conn.get_var(ups, "battery.charge").await);
    let runtime_secs = num(conn.get_var(ups, "battery.runtime").await);
    Ok(Reading { status: status.split_whitespace().map(str::to_owned).collect(), charge, runtime_secs })
}

async fn connect(cfg: &UpsConfig, password: Option<String>) -> Result<nut_client::tokio::Connection, PowerError> {
    let addr = format!("{}:{}", cfg.host, cfg.port);
    let mut sock = tokio::net::lookup_host(&addr)
        .await
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| PowerError::Address(addr.clone()))?;
    if let Some(tls) = &cfg.tls {
        sock = starttls::tunnel(sock, &addr, &cfg.host, tls).await?;
    }
    let auth = cfg.username.clone().map(|u| nut_client::Auth::new(u, password));
    let config = nut_client::ConfigBuilder::new()
        .with_host(nut_client::Host::from(sock))
        .with_auth(auth)
        .with_timeout(Duration::from_secs(5))
        .build();
    nut_client::tokio::Connection::new(&config).await.map_err(|source| PowerError::Nut { addr, source })
}

fn set_disconnected(status: &Mutex<UpsStatus>, error: String) {
    let mut s = status.lock().unwrap_or_else(|p| p.into_inner());
    s.connected = false;
    s.last_error = Some(error);
}

/// Watches the UPS until a shutdown decision holds for `shutdown_delay_secs` (returns its reason) or
/// `cancel` fires (returns `None`). Never fails: upsd being away is a status, not an error.
pub async fn watch(cfg: UpsConfig, status: Arc<Mutex<UpsStatus>>, cancel: CancellationToken) -> Option<ShutdownReason> {
    let target = format!("{}@{}:{}", cfg.ups, cfg.host, cfg.port);
    {
        let mut s = status.lock().unwrap_or_else(|p| p.into_inner());
        s.configured = true;
        s.target = target.clone();
        s.tls = cfg.tls.is_some();
        s.state = "unknown".into();
    }
    let password = match &cfg.password_file {
        Some(p) => match read_password(p) {
            Ok(pw) => Some(pw),
            Err(e) => {
                tracing::error!(error = %e, "UPS monitoring runs without a login");
                None
            }
        },
        None => None,
    };
    let interval = Duration::from_secs(cfg.poll_interval_secs.max(1));
    let delay = Duration::from_secs(cfg.shutdown_delay_secs);
    let mut backoff = Duration::from_secs(1);
    let mut pending: Option<(ShutdownReason, tokio::time::Instant)> = None;
    loop {
        let mut conn = tokio::select! {
            _ = cancel.cancelled() => return None,
            c = connect(&cfg, password.clone()) => match c {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(%target, error = %e, retry_in = ?backoff, "UPS monitoring: upsd unreachable; power loss would go unnoticed");
                    set_disconnected(&status, e.to_string());
                    tokio::select! {
                        _ = cancel.cancelled() => return None,
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                    continue;
                }
            },
        };
        tracing::info!(%target, "UPS monitoring connected to upsd");
        loop {
            // nut-client 0.4 panics when upsd closes the connection (it slices an empty line); the
            // poll runs in its own task so that such a panic is a lost connection, not a crash
            // (the binary's panic hook lets panics located in nut-client unwind).
            let ups_name = cfg.ups.clone();
            let polled = tokio::spawn(async move {
                let r = poll(&mut conn, &ups_name).await;
                (conn, r)
            })
            .await;
            let result = match polled {
                Ok((c, r)) => {
                    conn = c;
                    r.map_err(|e| e.to_string())
                }
                Err(join) => {
                    tracing::warn!(%target, error = %join, "UPS monitoring: the NUT client failed (upsd closed the connection)");
                    set_disconnected(&status, "connection closed by upsd".into());
                    tokio::select! {
                        _ = cancel.cancelled() => return None,
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                    break;
                }
            };
            let reading = match result {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(%target, error = %e, retry_in = ?backoff, "UPS monitoring: no reading from upsd; reconnecting");
                    set_disconnected(&status, e);
                    tokio::select! {
                        _ = cancel.cancelled() => return None,
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                    break;
                }
            };
            backoff = Duration::from_secs(1);
            let decision = decide(&reading, &cfg);
            let state = {
                let mut s = status.lock().unwrap_or_else(|p| p.into_inner());
                s.connected = true;
                s.last_error = None;
                let on_battery = reading.has("OB");
                match (on_battery, &s.on_battery_since) {
                    (true, None) => {
                        tracing::warn!(%target, charge = ?reading.charge, runtime = ?reading.runtime_secs, "power lost: UPS on battery");
                        s.on_battery_since = Some(now());
                    }
                    (false, Some(_)) => {
                        tracing::info!(%target, "power back: UPS on line");
                        s.on_battery_since = None;
                    }
                    _ => {}
                }
                s.reading = Some(reading);
                s.state = match &decision {
                    Decision::Normal => "online",
                    Decision::OnBattery => "on-battery",
                    Decision::Shutdown(_) => "shutdown-pending",
                }
                .into();
                s.state.clone()
            };
            match decision {
                Decision::Shutdown(reason) => {
                    let immediate = reason == ShutdownReason::ForcedShutdown;
                    let since = match &pending {
                        Some((_, t)) => *t,
                        None => {
                            tracing::warn!(%target, %reason, delay = ?delay, "shutdown condition: orderly shutdown starts unless power comes back");
                            tokio::time::Instant::now()
                        }
                    };
                    if immediate || since.elapsed() >= delay {
                        status.lock().unwrap_or_else(|p| p.into_inner()).state = "shutting-down".into();
                        return Some(reason);
                    }
                    pending = Some((reason, since));
                }
                _ => {
                    if pending.take().is_some() {
                        tracing::info!(%target, state, "shutdown cancelled: the condition cleared");
                    }
                }
            }
            tokio::select! {
                _ = cancel.cancelled() => return None,
                _ = tokio::time::sleep(interval.min(if pending.is_some() { Duration::from_millis(500) } else { interval })) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(status: &str, runtime: Option<f64>) -> Reading {
        Reading {
            status: status.split_whitespace().map(str::to_owned).collect(),
            charge: Some(50.0),
            runtime_secs: runtime,
        }
    }

    #[test]
    fn the_policy() {
        let cfg = UpsConfig::default();
        assert_eq!(decide(&r("OL", Some(1800.0)), &cfg), Decision::Normal);
        assert_eq!(decide(&r("OL CHRG", Some(100.0)), &cfg), Decision::Normal);
        assert_eq!(decide(&r("OB", Some(1800.0)), &cfg), Decision::OnBattery);
        assert_eq!(decide(&r("OB DISCHRG", None), &cfg), Decision::OnBattery);
        assert_eq!(decide(&r("OB LB", Some(1800.0)), &cfg), Decision::Shutdown(ShutdownReason::LowBattery));
        assert_eq!(
            decide(&r("OB", Some(120.0)), &cfg),
            Decision::Shutdown(ShutdownReason::RuntimeBelowFloor { runtime_secs: 120 })
        );
        assert_eq!(decide(&r("OL FSD", None), &cfg), Decision::Shutdown(ShutdownReason::ForcedShutdown));
        // Low battery while on line power (charging after an outage) is not a reason to stop.
        assert_eq!(decide(&r("OL LB", Some(60.0)), &cfg), Decision::Normal);
    }

    #[test]
    fn password_files_readable_by_others_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("hkb-pw-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("pw");
        std::fs::write(&p, "secret\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(read_password(&p).is_err());
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_password(&p).unwrap(), "secret");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
