//! The appliance's health model: UPS, storage, disks; alarms with the time they were raised and
//! cleared. One tick a second recomputes the alarms, logs and audits every change, and refreshes
//! the gauges; `GET /api/v1/appliance/status` shows the result.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use hakobune_access::Gate;
use hakobune_power::UpsStatus;
use hakobune_store::Store;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::registry::Registry;
use serde::Serialize;

/// One alarm as the panel shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alarm {
    pub id: String,
    /// `warning` or `critical`.
    pub severity: String,
    pub message_en: String,
    pub message_ja: String,
}

impl Alarm {
    pub fn new(id: &str, severity: &str, en: impl Into<String>, ja: impl Into<String>) -> Alarm {
        Alarm { id: id.into(), severity: severity.into(), message_en: en.into(), message_ja: ja.into() }
    }
}

#[derive(Debug, Clone, Serialize)]
struct Active {
    #[serde(flatten)]
    alarm: Alarm,
    raised_at: String,
}

#[derive(Debug, Clone, Serialize)]
struct Cleared {
    #[serde(flatten)]
    alarm: Alarm,
    raised_at: String,
    cleared_at: String,
}

/// Active alarms and the most recently cleared ones.
#[derive(Default)]
struct AlarmBook {
    active: BTreeMap<String, Active>,
    cleared: VecDeque<Cleared>,
}

fn now() -> String {
    time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// What the server knows about the box.
pub struct Appliance {
    pub ups: Arc<Mutex<UpsStatus>>,
    store: Arc<Store>,
    gate: Arc<Gate>,
    last_start: serde_json::Value,
    /// The last RAID/disk/free-space check.
    pub health: Mutex<Option<hakobune_health::HealthReport>>,
    book: Mutex<AlarmBook>,
    gauges: Gauges,
    /// `server.firmware_status_file`.
    pub firmware_status_file: Option<std::path::PathBuf>,
    /// Alarm changes for the webhook sender, when one is configured.
    events: Option<tokio::sync::mpsc::UnboundedSender<serde_json::Value>>,
}

/// Posts every alarm change to a webhook, in order, retrying a few times; failures are logged.
pub async fn webhook_sender(url: String, mut rx: tokio::sync::mpsc::UnboundedReceiver<serde_json::Value>) {
    let client = match reqwest::Client::builder().timeout(std::time::Duration::from_secs(10)).build() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "alarm webhook disabled: cannot build an HTTP client");
            return;
        }
    };
    while let Some(event) = rx.recv().await {
        let mut delay = std::time::Duration::from_secs(1);
        for attempt in 1..=4 {
            match client.post(&url).json(&event).send().await {
                Ok(r) if r.status().is_success() => break,
                Ok(r) => tracing::warn!(status = %r.status(), attempt, "alarm webhook refused the event"),
                Err(e) => tracing::warn!(error = %e, attempt, "alarm webhook unreachable"),
            }
            tokio::time::sleep(delay).await;
            delay *= 2;
        }
    }
}

struct Gauges {
    ups_connected: Gauge,
    ups_on_battery: Gauge,
    ups_charge: Gauge<f64, std::sync::atomic::AtomicU64>,
    ups_runtime: Gauge<f64, std::sync::atomic::AtomicU64>,
    alarms_warning: Gauge,
    alarms_critical: Gauge,
    arrays: Family<StateLabel, Gauge>,
    disks: Family<StateLabel, Gauge>,
    free_bytes: Gauge,
}

/// `state` label of the RAID/disk gauges.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabel {
    state: String,
}

impl Appliance {
    pub fn new(
        registry: &mut Registry,
        ups_configured: bool,
        store: Arc<Store>,
        gate: Arc<Gate>,
        last_start: serde_json::Value,
        events: Option<tokio::sync::mpsc::UnboundedSender<serde_json::Value>>,
    ) -> Appliance {
        let gauges = Gauges {
            ups_connected: Gauge::default(),
            ups_on_battery: Gauge::default(),
            ups_charge: Gauge::default(),
            ups_runtime: Gauge::default(),
            alarms_warning: Gauge::default(),
            alarms_critical: Gauge::default(),
            arrays: Family::default(),
            disks: Family::default(),
            free_bytes: Gauge::default(),
        };
        registry.register("hakobune_raid_arrays", "md RAID arrays by state", gauges.arrays.clone());
        registry.register("hakobune_disks", "Disks checked with smartctl, by state", gauges.disks.clone());
        registry.register(
            "hakobune_data_filesystem_free_bytes",
            "Free bytes on the data filesystem",
            gauges.free_bytes.clone(),
        );
        registry.register(
            "hakobune_ups_configured",
            "1 when a UPS is configured",
            ConstGauge::new(i64::from(ups_configured)),
        );
        registry.register("hakobune_ups_connected", "1 while upsd answers", gauges.ups_connected.clone());
        registry.register("hakobune_ups_on_battery", "1 while the UPS runs on battery", gauges.ups_on_battery.clone());
        registry.register("hakobune_ups_battery_charge_percent", "battery.charge", gauges.ups_charge.clone());
        registry.register("hakobune_ups_battery_runtime_seconds", "battery.runtime", gauges.ups_runtime.clone());
        registry.register("hakobune_alarms_warning", "Active warning alarms", gauges.alarms_warning.clone());
        registry.register("hakobune_alarms_critical", "Active critical alarms", gauges.alarms_critical.clone());
        Appliance {
            ups: Arc::new(Mutex::new(UpsStatus::default())),
            store,
            gate,
            last_start,
            health: Mutex::new(None),
            book: Mutex::new(AlarmBook::default()),
            gauges,
            firmware_status_file: None,
            events,
        }
    }

    fn current_alarms(&self) -> Vec<Alarm> {
        let mut alarms = Vec::new();
        let ups = self.ups.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if ups.configured && !ups.connected {
            alarms.push(Alarm::new(
                "ups-unreachable",
                "warning",
                format!("UPS monitoring cannot reach upsd ({}): a power cut would go unnoticed", ups.target),
                "UPS 監視が upsd に接続できません（停電を検知できません）",
            ));
        }
        match ups.state.as_str() {
            "on-battery" => alarms.push(Alarm::new(
                "ups-on-battery",
                "critical",
                "power lost: the UPS is on battery",
                "停電: UPS がバッテリー運転中です",
            )),
            "shutdown-pending" | "shutting-down" => alarms.push(Alarm::new(
                "ups-shutdown",
                "critical",
                "battery low: orderly shutdown",
                "バッテリー残量低下: 正常停止します",
            )),
            _ => {}
        }
        if let Some(report) = &*self.health.lock().unwrap_or_else(|p| p.into_inner()) {
            for a in &report.alarms {
                let severity = match a.severity {
                    hakobune_health::Severity::Critical => "critical",
                    hakobune_health::Severity::Warning => "warning",
                };
                alarms.push(Alarm::new(&a.id, severity, a.message_en.clone(), a.message_ja.clone()));
            }
        }
        let firmware = self.firmware();
        if firmware["last_update"]["result"] == "rolled-back" {
            let failed = firmware["last_update"]["failed"].as_str().unwrap_or("?");
            let running = firmware["last_update"]["running"].as_str().unwrap_or("?");
            alarms.push(Alarm::new(
                "firmware-rolled-back",
                "warning",
                format!("firmware update to {failed} failed its boot check; the appliance went back to {running}"),
                format!("ファームウェア {failed} への更新は起動確認に失敗したため、{running} に自動で戻しました"),
            ));
        }
        if matches!(firmware["last_install"]["result"].as_str(), Some("refused" | "failed")) {
            let bundle = firmware["last_install"]["bundle"].as_str().unwrap_or("");
            let why = firmware["last_install"]["message"].as_str().unwrap_or("");
            alarms.push(Alarm::new(
                "firmware-update-refused",
                "warning",
                format!("the firmware bundle {bundle} was refused and nothing was installed: {why}"),
                format!("ファームウェア更新 {bundle} は拒否されました（何も書き込んでいません）: {why}"),
            ));
        }
        let status = self.store.status();
        if let Some(f) = &status.fatal {
            alarms.push(Alarm::new(
                "storage-stopped",
                "critical",
                format!("storage engine stopped: {f}"),
                "保存エンジンが停止しています",
            ));
        }
        alarms
    }

    /// Recomputes alarms (logging and auditing each change) and refreshes the gauges.
    pub fn tick(&self) {
        let current = self.current_alarms();
        let mut book = self.book.lock().unwrap_or_else(|p| p.into_inner());
        let at = now();
        for alarm in &current {
            if !book.active.contains_key(&alarm.id) {
                match alarm.severity.as_str() {
                    "critical" => tracing::error!(alarm = %alarm.id, "alarm raised: {}", alarm.message_en),
                    _ => tracing::warn!(alarm = %alarm.id, "alarm raised: {}", alarm.message_en),
                }
                let _ = self.gate.audit().system_event(&format!("alarm-raised:{}", alarm.id), &alarm.message_en);
                self.send("raised", alarm, &at, None);
                book.active.insert(alarm.id.clone(), Active { alarm: alarm.clone(), raised_at: at.clone() });
            }
        }
        let gone: Vec<String> =
            book.active.keys().filter(|id| !current.iter().any(|a| &a.id == *id)).cloned().collect();
        for id in gone {
            if let Some(a) = book.active.remove(&id) {
                tracing::info!(alarm = %id, "alarm cleared: {}", a.alarm.message_en);
                let _ = self.gate.audit().system_event(&format!("alarm-cleared:{id}"), &a.alarm.message_en);
                self.send("cleared", &a.alarm, &at, Some(&a.raised_at));
                book.cleared.push_front(Cleared { alarm: a.alarm, raised_at: a.raised_at, cleared_at: at.clone() });
                book.cleared.truncate(50);
            }
        }
        // Messages may change while an alarm stays raised (e.g. a runtime figure).
        for alarm in current {
            if let Some(a) = book.active.get_mut(&alarm.id) {
                a.alarm = alarm;
            }
        }
        let count = |sev: &str| book.active.values().filter(|a| a.alarm.severity == sev).count() as i64;
        self.gauges.alarms_warning.set(count("warning"));
        self.gauges.alarms_critical.set(count("critical"));
        drop(book);
        if let Some(report) = &*self.health.lock().unwrap_or_else(|p| p.into_inner()) {
            self.gauges.arrays.clear();
            for a in &report.arrays {
                self.gauges.arrays.get_or_create(&StateLabel { state: a.state.label().into() }).inc();
            }
            self.gauges.disks.clear();
            for d in &report.disks {
                self.gauges.disks.get_or_create(&StateLabel { state: d.state.label().into() }).inc();
            }
        }
        self.gauges.free_bytes.set(self.store.status().free_bytes as i64);
        let ups = self.ups.lock().unwrap_or_else(|p| p.into_inner());
        self.gauges.ups_connected.set(i64::from(ups.connected));
        self.gauges.ups_on_battery.set(i64::from(ups.on_battery_since.is_some()));
        if let Some(r) = &ups.reading {
            self.gauges.ups_charge.set(r.charge.unwrap_or(f64::NAN));
            self.gauges.ups_runtime.set(r.runtime_secs.unwrap_or(f64::NAN));
        }
    }

    fn send(&self, event: &str, alarm: &Alarm, at: &str, raised_at: Option<&str>) {
        if let Some(tx) = &self.events {
            let _ = tx.send(serde_json::json!({
                "event": event,
                "at": at,
                "raised_at": raised_at.unwrap_or(at),
                "alarm": alarm,
                "appliance": rustix::system::uname().nodename().to_string_lossy(),
            }));
        }
    }

    /// The firmware slots, read at each request (a small file that changes only at boot).
    fn firmware(&self) -> serde_json::Value {
        let Some(path) = &self.firmware_status_file else {
            return serde_json::Value::Null;
        };
        match std::fs::read(path)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).map_err(|e| e.to_string()))
        {
            Ok(v) => v,
            Err(e) => serde_json::json!({ "error": format!("{}: {e}", path.display()) }),
        }
    }

    /// `GET /api/v1/appliance/status`.
    pub fn status_json(&self) -> serde_json::Value {
        let book = self.book.lock().unwrap_or_else(|p| p.into_inner());
        let active: Vec<&Active> = book.active.values().collect();
        serde_json::json!({
            "ups": *self.ups.lock().unwrap_or_else(|p| p.into_inner()),
            "health": *self.health.lock().unwrap_or_else(|p| p.into_inner()),
            "storage": self.store.status(),
            "last_start": self.last_start,
            "firmware": self.firmware(),
            "alarms": active,
            "cleared_alarms": book.cleared,
        })
    }
}
