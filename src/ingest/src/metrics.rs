//! Metrics of the receiver.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels of a processed message.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MessageLabels {
    /// 医療施設ID, or `unknown`.
    pub facility: String,
    /// SS-MIX2 data type, or `unknown`.
    pub data_type: String,
    /// AA, AE or AR.
    pub ack: String,
}

/// Labels of a quarantined input.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct QuarantineLabels {
    /// Reason kind.
    pub kind: String,
}

/// The receiver's metrics.
#[derive(Clone)]
pub struct IngestMetrics {
    pub(crate) messages: Family<MessageLabels, Counter>,
    pub(crate) duplicates: Counter,
    pub(crate) quarantined: Family<QuarantineLabels, Counter>,
    pub(crate) ack_seconds: Histogram,
    pub(crate) connections_open: Gauge,
    pub(crate) connections: Counter,
    pub(crate) framing_errors: Counter,
    pub(crate) timeouts: Counter,
    pub(crate) tls_handshake_failures: Counter,
}

impl IngestMetrics {
    /// Creates and registers the metrics.
    pub fn new(registry: &mut Registry) -> IngestMetrics {
        let m = IngestMetrics {
            messages: Family::default(),
            duplicates: Counter::default(),
            quarantined: Family::default(),
            ack_seconds: Histogram::new(exponential_buckets(0.0001, 2.0, 18)),
            connections_open: Gauge::default(),
            connections: Counter::default(),
            framing_errors: Counter::default(),
            timeouts: Counter::default(),
            tls_handshake_failures: Counter::default(),
        };
        registry.register(
            "hakobune_mllp_messages",
            "HL7 messages answered, by facility, data type and ACK code",
            m.messages.clone(),
        );
        registry.register(
            "hakobune_mllp_duplicates",
            "Duplicate deliveries answered AA without storing again",
            m.duplicates.clone(),
        );
        registry.register("hakobune_quarantined", "Inputs kept in quarantine, by reason", m.quarantined.clone());
        registry.register(
            "hakobune_mllp_ack_seconds",
            "Time from a complete frame to its ACK being ready",
            m.ack_seconds.clone(),
        );
        registry.register("hakobune_mllp_connections_open", "Open MLLP connections", m.connections_open.clone());
        registry.register("hakobune_mllp_connections", "MLLP connections accepted", m.connections.clone());
        registry.register(
            "hakobune_mllp_framing_errors",
            "MLLP framing errors (garbage, oversize, truncated frames)",
            m.framing_errors.clone(),
        );
        registry.register(
            "hakobune_mllp_timeouts",
            "MLLP connections closed for being idle or too slow",
            m.timeouts.clone(),
        );
        registry.register(
            "hakobune_mllp_tls_handshake_failures",
            "MLLP/TLS connections refused in the handshake (no or untrusted client certificate, old protocol, not TLS)",
            m.tls_handshake_failures.clone(),
        );
        m
    }
}
