//! Metrics the API owns: HTTP requests, and storage-engine gauges refreshed at each scrape.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// Labels of an HTTP request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    /// Route template.
    pub route: String,
    /// Status code.
    pub status: u16,
}

/// The API's metrics.
#[derive(Clone)]
pub struct ApiMetrics {
    pub(crate) http_requests: Family<HttpLabels, Counter>,
    pub(crate) committed_seq: Gauge,
    pub(crate) applied_seq: Gauge,
    pub(crate) checkpoint_seq: Gauge,
    pub(crate) group_commits: Gauge,
    pub(crate) stored: Gauge,
    pub(crate) duplicates: Gauge,
    pub(crate) free_bytes: Gauge,
    pub(crate) engine_up: Gauge,
}

impl ApiMetrics {
    /// Creates the metrics and registers them.
    pub fn new(registry: &mut Registry) -> ApiMetrics {
        let m = ApiMetrics {
            http_requests: Family::default(),
            committed_seq: Gauge::default(),
            applied_seq: Gauge::default(),
            checkpoint_seq: Gauge::default(),
            group_commits: Gauge::default(),
            stored: Gauge::default(),
            duplicates: Gauge::default(),
            free_bytes: Gauge::default(),
            engine_up: Gauge::default(),
        };
        registry.register("hakobune_http_requests", "HTTP requests served", m.http_requests.clone());
        registry.register(
            "hakobune_store_committed_seq",
            "Highest durable write-ahead-log sequence number",
            m.committed_seq.clone(),
        );
        registry.register(
            "hakobune_store_applied_seq",
            "Highest sequence number materialized into files and index",
            m.applied_seq.clone(),
        );
        registry.register(
            "hakobune_store_checkpoint_seq",
            "Highest sequence number covered by a durable checkpoint",
            m.checkpoint_seq.clone(),
        );
        registry.register(
            "hakobune_store_group_commits",
            "Group commits (WAL fsyncs) since start",
            m.group_commits.clone(),
        );
        registry.register("hakobune_store_messages_stored", "Messages stored since start", m.stored.clone());
        registry.register(
            "hakobune_store_duplicates",
            "Duplicate deliveries recognised since start",
            m.duplicates.clone(),
        );
        registry.register("hakobune_store_free_bytes", "Free bytes on the data filesystem", m.free_bytes.clone());
        registry.register(
            "hakobune_store_up",
            "1 while the storage engine accepts data, 0 after a fatal error",
            m.engine_up.clone(),
        );
        m
    }

    pub(crate) fn refresh(&self, s: &hakobune_store::Status) {
        self.committed_seq.set(s.committed_seq as i64);
        self.applied_seq.set(s.applied_seq as i64);
        self.checkpoint_seq.set(s.checkpoint_seq as i64);
        self.group_commits.set(s.group_commits as i64);
        self.stored.set(s.stored as i64);
        self.duplicates.set(s.duplicates as i64);
        self.free_bytes.set(s.free_bytes as i64);
        self.engine_up.set(i64::from(s.fatal.is_none()));
    }
}
