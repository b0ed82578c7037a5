//! Wiring: configuration in, a running server out. Reads top to bottom like the startup log.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use hakobune_access::{AuditLog, Gate};
use hakobune_api::{ApiMetrics, ApiState, Reader};
use hakobune_config::Config;
use hakobune_ingest::{Ingest, IngestMetrics, IngestOptions, ServerLimits};
use hakobune_power::ShutdownReason;
use hakobune_store::{Layout, Store, StoreOptions};
use prometheus_client::registry::Registry;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::appliance::Appliance;

/// A running server.
pub struct Running {
    pub mllp_addr: SocketAddr,
    pub http_addr: SocketAddr,
    pub store: Arc<Store>,
    ingest: Arc<Ingest>,
    gate: Arc<Gate>,
    power: Option<tokio::task::JoinHandle<Option<ShutdownReason>>>,
    poweroff_command: Vec<String>,
    shutdown: CancellationToken,
    background: CancellationToken,
    tasks: TaskTracker,
}

/// Why the server stops.
#[derive(Debug, Clone)]
pub enum StopRequest {
    /// SIGTERM / SIGINT, or the caller (demo, tests).
    Operator,
    /// The UPS says the power is going.
    Power(ShutdownReason),
}

/// Opens storage (recovering it), binds both listeners, and starts serving.
pub async fn start(config: Config) -> Result<Running> {
    let config = Arc::new(config);
    let s = &config.server;
    let layout = Layout::new(&s.data_dir);
    let utc_offset_secs = hakobune_config::parse_utc_offset(&s.utc_offset).context("server.utc_offset")?;
    let utc_offset = time::UtcOffset::from_whole_seconds(utc_offset_secs).context("server.utc_offset")?;

    tracing::info!(data = %s.data_dir.display(), "opening storage");
    let store_opts = StoreOptions {
        free_space_floor: s.free_space_floor_mib * 1024 * 1024,
        volume_label: s.volume_label.clone(),
        ..StoreOptions::default()
    };
    let layout2 = layout.clone();
    let (store, recovery) = tokio::task::spawn_blocking(move || Store::open(layout2, store_opts))
        .await?
        .with_context(|| format!("opening storage in {}", s.data_dir.display()))?;
    if recovery.fresh {
        tracing::info!("new data directory initialised");
    } else if recovery.previous_shutdown_clean {
        tracing::info!(last_seq = recovery.last_seq, "storage opened; the previous shutdown was clean");
    } else {
        tracing::warn!(
            replayed = recovery.replayed,
            truncated_bytes = recovery.truncated_bytes,
            millis = recovery.millis,
            "storage recovered: the previous run did not shut down cleanly (write-ahead log replayed and verified)"
        );
    }
    let store = Arc::new(store);
    let gate = Arc::new(Gate::new(AuditLog::open(&layout.audit_path()).context("opening the audit trail")?));
    let _ = gate.audit().system_event(
        "start",
        &format!(
            "hakobune {} started; previous shutdown {}",
            env!("CARGO_PKG_VERSION"),
            if recovery.fresh {
                "none (new data directory)"
            } else if recovery.previous_shutdown_clean {
                "clean"
            } else {
                "NOT clean: write-ahead log replayed"
            }
        ),
    );

    let mut registry = Registry::default();
    let ingest_metrics = IngestMetrics::new(&mut registry);
    let api_metrics = ApiMetrics::new(&mut registry);
    let recovery_json = serde_json::to_value(&recovery).unwrap_or_default();
    let events = config.alerts.webhook_url.clone().map(|url| {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        tracing::info!(%url, "alarms are posted to a webhook");
        tokio::spawn(crate::appliance::webhook_sender(url, rx));
        tx
    });
    let mut appliance =
        Appliance::new(&mut registry, config.ups.is_some(), store.clone(), gate.clone(), recovery_json.clone(), events);
    appliance.firmware_status_file = config.server.firmware_status_file.clone();
    let appliance = Arc::new(appliance);
    let registry = Arc::new(registry);

    let ingest =
        Arc::new(Ingest::new(store.clone(), IngestOptions { config: config.clone(), utc_offset }, ingest_metrics));
    let limits = ServerLimits {
        max_message_bytes: s.max_message_bytes,
        max_connections: s.max_connections,
        frame_timeout: Duration::from_secs(s.frame_timeout_secs),
        idle_timeout: Duration::from_secs(s.idle_timeout_secs),
    };

    let mllp = tokio::net::TcpListener::bind(s.mllp_listen)
        .await
        .with_context(|| format!("binding the MLLP listener on {}", s.mllp_listen))?;
    let http = tokio::net::TcpListener::bind(s.http_listen)
        .await
        .with_context(|| format!("binding the HTTP listener on {}", s.http_listen))?;
    let mllp_addr = mllp.local_addr()?;
    let http_addr = http.local_addr()?;
    // MLLP over mutual TLS, for gateways on the network (plain MLLP then stays on loopback).
    let mllp_tls = match (s.mllp_tls_listen, &config.tls) {
        (Some(addr), Some(tls)) => {
            let identity = hakobune_tls::Identity { cert_file: tls.certificate.clone(), key_file: tls.key.clone() };
            let server_config = hakobune_tls::server_config(&identity, &tls.client_ca)
                .context("the [tls] certificate, key or client CA for server.mllp_tls_listen")?;
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("binding the MLLP/TLS listener on {addr}"))?;
            Some((listener, hakobune_tls::tokio_rustls::TlsAcceptor::from(server_config)))
        }
        _ => None,
    };
    let mllp_tls_addr = mllp_tls.as_ref().map(|(l, _)| l.local_addr()).transpose()?;

    // Background work that ends with the process: UPS watch, watchdog, metrics refresh.
    let background = CancellationToken::new();
    let power = config.ups.clone().map(|ups| {
        tracing::info!(ups = %ups.ups, host = %ups.host, port = ups.port, "watching the UPS through upsd");
        tokio::spawn(hakobune_power::watch(ups, appliance.ups.clone(), background.clone()))
    });
    {
        // RAID, disks and free space: collected off the async threads (it runs mdadm/smartctl).
        let mut sources = config.health.clone();
        if sources.data_path.is_none() {
            sources.data_path = Some(s.data_dir.clone());
        }
        let every = Duration::from_secs(s.health_check_interval_secs);
        let (appliance, background) = (appliance.clone(), background.clone());
        tokio::spawn(async move {
            loop {
                let src = sources.clone();
                if let Ok(report) = tokio::task::spawn_blocking(move || hakobune_health::collect(&src)).await {
                    *appliance.health.lock().unwrap_or_else(|p| p.into_inner()) = Some(report);
                }
                tokio::select! {
                    _ = background.cancelled() => return,
                    _ = tokio::time::sleep(every) => {}
                }
            }
        });
    }
    {
        let (appliance, background) = (appliance.clone(), background.clone());
        tokio::spawn(async move {
            loop {
                appliance.tick();
                tokio::select! {
                    _ = background.cancelled() => return,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        });
    }

    let facilities: Vec<_> =
        config.facilities.iter().map(|f| serde_json::json!({"id": f.id, "name": f.name, "msh4": f.msh4})).collect();
    let health_extra = {
        let (facilities, recovery) = (facilities.clone(), recovery_json.clone());
        Arc::new(move || {
            serde_json::json!({
                "mllp": mllp_addr.to_string(),
                "mllp_tls": mllp_tls_addr.map(|a| a.to_string()),
                "http": http_addr.to_string(),
                "facilities": facilities,
                "last_start": recovery,
            })
        })
    };
    let appliance_status = {
        let appliance = appliance.clone();
        Arc::new(move || appliance.status_json())
    };
    let api = ApiState {
        store: store.clone(),
        gate: gate.clone(),
        reader: Arc::new(Reader::new(layout.clone())),
        registry,
        metrics: api_metrics,
        health_extra,
        appliance_status,
    };

    let shutdown = CancellationToken::new();
    let tasks = TaskTracker::new();
    if let Some((listener, acceptor)) = mllp_tls {
        tasks.spawn(hakobune_ingest::serve_mllp_tls(
            listener,
            acceptor,
            ingest.clone(),
            limits.clone(),
            shutdown.clone(),
        ));
    }
    tasks.spawn(hakobune_ingest::serve_mllp(mllp, ingest.clone(), limits, shutdown.clone()));
    {
        let shutdown = shutdown.clone();
        tasks.spawn(async move {
            if let Err(e) = hakobune_api::serve(http, hakobune_api::router(api), shutdown).await {
                tracing::error!(error = %e, "HTTP server failed");
            }
        });
    }
    tasks.close();
    let mllp_tls_addr = mllp_tls_addr.map(|a| a.to_string()).unwrap_or_else(|| "off".into());
    tracing::info!(%mllp_addr, %mllp_tls_addr, %http_addr, facilities = config.facilities.len(), "hakobune is accepting HL7 over MLLP and serving HTTP");
    // systemd: ready only now that storage is recovered and both listeners accept.
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
    spawn_watchdog(store.clone(), background.clone());
    let poweroff_command = config.ups.as_ref().map(|u| u.poweroff_command.clone()).unwrap_or_default();
    Ok(Running { mllp_addr, http_addr, store, ingest, gate, power, poweroff_command, shutdown, background, tasks })
}

/// `WATCHDOG=1` at half the interval systemd asks for, each one earned by a round trip through the
/// storage engine's committer (the path every acknowledgement takes).
fn spawn_watchdog(store: Arc<Store>, cancel: CancellationToken) {
    let Some(interval) = sd_notify::watchdog_enabled() else { return };
    let period = interval / 2;
    tokio::spawn(async move {
        loop {
            match tokio::time::timeout(period, store.ping()).await {
                Ok(Ok(())) if store.status().fatal.is_none() => {
                    let _ = sd_notify::notify(&[sd_notify::NotifyState::Watchdog]);
                }
                other => tracing::error!(?other, "watchdog: the storage engine did not answer; not petting systemd"),
            }
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(period) => {}
            }
        }
    });
}

impl Running {
    /// Waits for SIGTERM/SIGINT or a UPS shutdown decision.
    pub async fn wait_for_stop(&mut self) -> StopRequest {
        let power = async {
            match self.power.as_mut() {
                Some(handle) => match handle.await {
                    Ok(Some(reason)) => reason,
                    _ => std::future::pending().await,
                },
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = termination_signal() => StopRequest::Operator,
            reason = power => StopRequest::Power(reason),
        }
    }

    /// Orderly stop, step by step, each step logged and audited with its duration: stop accepting
    /// and answer senders "retry later", make everything acknowledged durable and checkpoint,
    /// write the clean-shutdown marker, then (for a power shutdown) power the box off.
    pub async fn stop(self, grace: Duration, why: StopRequest) -> Result<()> {
        let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
        let audit = self.gate.clone();
        let step = |name: &str, started: Instant, detail: &str| {
            let ms = started.elapsed().as_millis();
            tracing::info!(step = name, millis = ms as u64, "{detail}");
            let _ = audit.audit().system_event(&format!("shutdown:{name}"), &format!("{detail} ({ms} ms)"));
        };
        let all = Instant::now();
        let reason = match &why {
            StopRequest::Operator => "operator request (SIGTERM/SIGINT)".to_owned(),
            StopRequest::Power(r) => format!("power: {r}"),
        };
        step("begin", all, &format!("orderly shutdown: {reason}"));

        let t = Instant::now();
        self.ingest.start_draining();
        self.shutdown.cancel();
        if tokio::time::timeout(grace, self.tasks.wait()).await.is_err() {
            tracing::warn!(?grace, "connections still open after the grace period; closing storage anyway");
        }
        step("listeners", t, "stopped accepting; in-flight senders answered, later ones told to retry");

        let t = Instant::now();
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || store.close()).await?.context("closing storage")?;
        step(
            "storage",
            t,
            "everything acknowledged is in files and index; checkpointed; clean-shutdown marker written",
        );

        step("replication", Instant::now(), "no replication partner configured");
        self.background.cancel();

        if let StopRequest::Power(_) = why {
            if self.poweroff_command.is_empty() {
                step("poweroff", Instant::now(), "no power-off command configured; exiting");
            } else {
                let t = Instant::now();
                let out =
                    std::process::Command::new(&self.poweroff_command[0]).args(&self.poweroff_command[1..]).status();
                match out {
                    Ok(status) => step("poweroff", t, &format!("ran {:?}: {status}", self.poweroff_command)),
                    Err(e) => {
                        tracing::error!(error = %e, command = ?self.poweroff_command, "power-off command failed");
                        step("poweroff", t, &format!("power-off command {:?} failed: {e}", self.poweroff_command));
                    }
                }
            }
        }
        step("end", all, "orderly shutdown complete");
        Ok(())
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn termination_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received"),
        _ = term.recv() => tracing::info!("SIGTERM received"),
    }
}
