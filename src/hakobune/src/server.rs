//! Wiring: configuration in, a running server out. Reads top to bottom like the startup log.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use hakobune_access::{AuditLog, Gate};
use hakobune_api::{ApiMetrics, ApiState, Reader};
use hakobune_config::Config;
use hakobune_ingest::{Ingest, IngestMetrics, IngestOptions, ServerLimits};
use hakobune_store::{Layout, Store, StoreOptions};
use prometheus_client::registry::Registry;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// A running server.
pub struct Running {
    pub mllp_addr: SocketAddr,
    pub http_addr: SocketAddr,
    pub store: Arc<Store>,
    shutdown: CancellationToken,
    tasks: TaskTracker,
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

    let mut registry = Registry::with_prefix("");
    let ingest_metrics = IngestMetrics::new(&mut registry);
    let api_metrics = ApiMetrics::new(&mut registry);
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

    let facilities: Vec<_> =
        config.facilities.iter().map(|f| serde_json::json!({"id": f.id, "name": f.name, "msh4": f.msh4})).collect();
    let health_extra = {
        let facilities = facilities.clone();
        let recovery = serde_json::to_value(&recovery).unwrap_or_default();
        Arc::new(move || {
            serde_json::json!({
                "mllp": mllp_addr.to_string(),
                "http": http_addr.to_string(),
                "facilities": facilities,
                "last_start": recovery,
            })
        })
    };
    let api = ApiState {
        store: store.clone(),
        gate,
        reader: Arc::new(Reader::new(layout.clone())),
        registry,
        metrics: api_metrics,
        health_extra,
    };

    let shutdown = CancellationToken::new();
    let tasks = TaskTracker::new();
    tasks.spawn(hakobune_ingest::serve_mllp(mllp, ingest, limits, shutdown.clone()));
    {
        let shutdown = shutdown.clone();
        tasks.spawn(async move {
            if let Err(e) = hakobune_api::serve(http, hakobune_api::router(api), shutdown).await {
                tracing::error!(error = %e, "HTTP server failed");
            }
        });
    }
    tasks.close();
    tracing::info!(%mllp_addr, %http_addr, facilities = config.facilities.len(), "hakobune is accepting HL7 over MLLP and serving HTTP");
    Ok(Running { mllp_addr, http_addr, store, shutdown, tasks })
}

impl Running {
    /// Orderly stop: listeners close, connections finish their message, storage is checkpointed
    /// and marked clean.
    pub async fn stop(self, grace: Duration) -> Result<()> {
        tracing::info!("stopping: no new connections; in-flight messages are finished");
        self.shutdown.cancel();
        if tokio::time::timeout(grace, self.tasks.wait()).await.is_err() {
            tracing::warn!(?grace, "connections still open after the grace period; closing storage anyway");
        }
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || store.close()).await?.context("closing storage")?;
        tracing::info!("storage closed cleanly");
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
