//! The server's configuration file (TOML).
//!
//! Brief overview:
//! - [`Config`] is the whole file: a `[server]` table ([`ServerConfig`]) and one `[[facility]]`
//!   table per registered sending facility ([`FacilityConfig`]), each with its SS-MIX2
//!   classification rules (`[facility.rules]`, see `hakobune_ssmix2::Rules`).
//! - [`Config::load`] reads and validates; every error names the offending key. Unknown keys are
//!   errors, so a typo cannot silently fall back to a default.
//! - The annotated example is `docs/hakobune.example.toml`; a test parses it.
//!
//! Architecture invariant: configuration is plain data validated before any port is bound; it is
//! passed explicitly, never read from a global.

#![deny(missing_docs)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Errors in the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// TOML syntax or an unknown/mistyped key.
    #[error("{0}")]
    Parse(#[from] toml::de::Error),
    /// A value that parses but cannot be right.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// What to do with characters outside JIS X 0208 (SS-MIX2 allows only ASCII and JIS X 0208).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum NonJisPolicy {
    /// Refuse the message with AE and an ERR segment per character (the default).
    #[default]
    Reject,
    /// Store the message as received and answer AA with a warning ERR segment per character.
    AcceptWithWarning,
}

/// The `[server]` table.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Data directory (storage, index, write-ahead log, quarantine). Default `var`.
    pub data_dir: PathBuf,
    /// MLLP listener. Default `127.0.0.1:2575`.
    pub mllp_listen: SocketAddr,
    /// HTTP listener. Default `127.0.0.1:8080`.
    pub http_listen: SocketAddr,
    /// MLLP over mutual TLS (hospital gateways from the network; the `[tls]` table names the
    /// certificates). Default: none. The appliance listens on 2576 and keeps plain MLLP on loopback.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mllp_tls_listen: Option<SocketAddr>,
    /// Largest accepted message in bytes; larger frames get AR and are quarantined. Default 4 MiB.
    pub max_message_bytes: usize,
    /// Most simultaneous MLLP connections. Default 1024.
    pub max_connections: usize,
    /// Seconds a started frame may take to complete before the connection is closed. Default 60.
    pub frame_timeout_secs: u64,
    /// Seconds a connection may stay idle between messages before it is closed. Default 600.
    pub idle_timeout_secs: u64,
    /// Characters outside JIS X 0208 (per facility overridable). Default `reject`.
    pub non_jis_x0208: NonJisPolicy,
    /// UTC offset of the appliance's local time, used for received-at stamps and transaction file
    /// names. Default `+09:00` (JST).
    pub utc_offset: String,
    /// Free space (MiB) under which new data is refused with a retry-later NAK. Default 256.
    pub free_space_floor_mib: u64,
    /// SSMIXIDX VolumeLabel. Default `STD01`.
    pub volume_label: String,
    /// Seconds between RAID/disk/free-space checks. Default 60.
    pub health_check_interval_secs: u64,
    /// The firmware slots' status as `hakobune firmware status --json` wrote it (on the appliance
    /// a root service does, at boot, to `/run/hakobune-firmware/status.json`). Shown in
    /// `/api/v1/appliance/status`. Default: none (not an appliance).
    pub firmware_status_file: Option<PathBuf>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            data_dir: PathBuf::from("var"),
            mllp_listen: SocketAddr::from(([127, 0, 0, 1], 2575)),
            http_listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            mllp_tls_listen: None,
            max_message_bytes: 4 * 1024 * 1024,
            max_connections: 1024,
            frame_timeout_secs: 60,
            idle_timeout_secs: 600,
            non_jis_x0208: NonJisPolicy::Reject,
            utc_offset: "+09:00".into(),
            free_space_floor_mib: 256,
            volume_label: "STD01".into(),
            health_check_interval_secs: 60,
            firmware_status_file: None,
        }
    }
}

/// A registered sending facility (`[[facility]]`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FacilityConfig {
    /// 医療施設ID: 10 digits. Names the facility's storage root.
    pub id: String,
    /// Name in Japanese.
    pub name: String,
    /// Name in English (optional).
    #[serde(default)]
    pub name_en: Option<String>,
    /// MSH-4 (sending facility) values that identify this facility.
    pub msh4: Vec<String>,
    /// TLS client certificate subjects of this facility's gateways (`CN=...` or the whole subject,
    /// `CN=..., O=..., C=JP`). When set, a message over MLLP/TLS whose MSH-4 names this facility
    /// is accepted only from one of these certificates (others get AR and are quarantined).
    /// Empty: any client certificate of the `[tls]` client CA may send for it.
    #[serde(default)]
    pub tls_client_subjects: Vec<String>,
    /// Overrides `server.non_jis_x0208` for this facility.
    #[serde(default)]
    pub non_jis_x0208: Option<NonJisPolicy>,
    /// Classification rules for this sender (ambiguous message types, 診療日 sources, …).
    #[serde(default)]
    pub rules: hakobune_ssmix2::Rules,
}

/// The whole configuration file.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The `[server]` table.
    #[serde(default)]
    pub server: ServerConfig,
    /// The `[[facility]]` tables.
    #[serde(default, rename = "facility")]
    pub facilities: Vec<FacilityConfig>,
    /// The `[ups]` table: UPS monitoring through NUT and graceful shutdown. Absent: no UPS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ups: Option<hakobune_power::UpsConfig>,
    /// The `[health]` table: RAID, disk and free-space checks (defaults: /proc/mdstat, mdadm,
    /// smartctl, the data directory's filesystem).
    #[serde(default)]
    pub health: hakobune_health::HealthSources,
    /// The `[alerts]` table: where alarms are sent when raised and cleared (besides the panel,
    /// /metrics, the log and the audit trail).
    #[serde(default)]
    pub alerts: AlertsConfig,
    /// The `[tls]` table: this appliance's certificate and key, and the CA of its TLS clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsConfig>,
}

/// The `[tls]` table: what the appliance's TLS listeners (MLLP over TLS) present and accept.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate chain of this appliance (the regional CA signed it from the request that
    /// first boot made), its own certificate first.
    pub certificate: PathBuf,
    /// PEM private key (mode 600; on the appliance made at first boot).
    pub key: PathBuf,
    /// PEM CA certificates whose client certificates are accepted (the regional CA). Every client
    /// must present one: there is no anonymous TLS.
    pub client_ca: PathBuf,
}

/// The `[alerts]` table.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertsConfig {
    /// POST a JSON document to this URL (http or https) for every alarm raised or cleared.
    pub webhook_url: Option<String>,
}

impl Config {
    /// Reads and validates a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
        Config::from_toml(&text)
    }

    /// The configuration as TOML text (round-trips through [`Config::from_toml`]).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("configuration serializes")
    }

    /// Parses and validates configuration text.
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let cfg: Config = toml::from_str(text)?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks what the types cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |s: String| Err(ConfigError::Invalid(s));
        if self.server.max_message_bytes < 1024 {
            return bad(format!(
                "server.max_message_bytes = {} is too small (at least 1024)",
                self.server.max_message_bytes
            ));
        }
        if self.server.max_connections == 0 {
            return bad("server.max_connections must be at least 1".into());
        }
        if parse_utc_offset(&self.server.utc_offset).is_none() {
            return bad(format!("server.utc_offset = {:?} is not of the form +09:00", self.server.utc_offset));
        }
        if self.server.volume_label.is_empty() || self.server.volume_label.len() > 20 {
            return bad("server.volume_label must be 1-20 characters (SSMIXIDX VolumeLabel)".into());
        }
        if let Some(url) = &self.alerts.webhook_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return bad(format!("alerts.webhook_url {url:?} must be an http or https URL"));
        }
        if self.server.mllp_tls_listen.is_some() && self.tls.is_none() {
            return bad("server.mllp_tls_listen needs a [tls] table (certificate, key, client_ca)".into());
        }
        // (Port 0, "any free port", is the same address only in appearance.)
        if self
            .server
            .mllp_tls_listen
            .is_some_and(|a| a.port() != 0 && (a == self.server.mllp_listen || a == self.server.http_listen))
        {
            return bad("server.mllp_tls_listen must differ from server.mllp_listen and server.http_listen".into());
        }
        if let Err(e) = self.health.validate() {
            return bad(format!("[health]: {e}"));
        }
        if self.server.health_check_interval_secs == 0 {
            return bad("server.health_check_interval_secs must be at least 1".into());
        }
        if let Some(ups) = &self.ups {
            if ups.ups.is_empty() || ups.host.is_empty() {
                return bad("ups.ups and ups.host must not be empty".into());
            }
            if ups.password_file.is_some() && ups.username.is_none() {
                return bad("ups.password_file needs ups.username".into());
            }
        }
        let mut ids = std::collections::HashSet::new();
        let mut msh4s = std::collections::HashMap::new();
        for f in &self.facilities {
            if f.id.len() != 10 || !f.id.bytes().all(|b| b.is_ascii_digit()) {
                return bad(format!("facility id {:?} must be 10 digits (医療施設ID)", f.id));
            }
            if !ids.insert(f.id.clone()) {
                return bad(format!("facility id {} is registered twice", f.id));
            }
            if f.msh4.is_empty() {
                return bad(format!("facility {} needs at least one msh4 value", f.id));
            }
            for m in &f.msh4 {
                if m.is_empty() {
                    return bad(format!("facility {} has an empty msh4 value", f.id));
                }
                if let Some(other) = msh4s.insert(m.clone(), f.id.clone()) {
                    return bad(format!("msh4 {m:?} is claimed by facilities {other} and {}", f.id));
                }
            }
        }
        Ok(())
    }

    /// The facility a message's MSH-4 belongs to.
    pub fn facility_by_msh4(&self, msh4: &str) -> Option<&FacilityConfig> {
        self.facilities.iter().find(|f| f.msh4.iter().any(|m| m == msh4))
    }

    /// The policy for characters outside JIS X 0208 at a facility.
    pub fn non_jis_policy(&self, facility: &FacilityConfig) -> NonJisPolicy {
        facility.non_jis_x0208.unwrap_or(self.server.non_jis_x0208)
    }
}

/// Parses `+09:00` / `-05:30` into seconds east of UTC.
pub fn parse_utc_offset(s: &str) -> Option<i32> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    if h > 14 || m > 59 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_parses() {
        let text = include_str!("../../../docs/hakobune.example.toml");
        let cfg = Config::from_toml(text).unwrap();
        assert!(cfg.facilities.len() >= 2);
        assert_eq!(cfg.server.mllp_listen.port(), 2575);
        let again = Config::from_toml(&cfg.to_toml()).unwrap();
        assert_eq!(again.to_toml(), cfg.to_toml());

        // The commented-out [tls] and mllp_tls_listen are valid together, and only together.
        let tls = text.replace("# [tls]\n", "[tls]\n");
        let mut tls_on = tls.replace("# mllp_tls_listen ", "mllp_tls_listen ");
        for key in ["certificate", "key", "client_ca"] {
            tls_on = tls_on.replace(&format!("\n# {key} "), &format!("\n{key} "));
        }
        let cfg = Config::from_toml(&tls_on).unwrap();
        assert_eq!(cfg.server.mllp_tls_listen.map(|a| a.port()), Some(2576));
        assert!(cfg.tls.as_ref().unwrap().client_ca.ends_with("regional-ca.pem"));
        assert_eq!(cfg.facilities[0].tls_client_subjects, ["CN=gw.toro-hospital.example.jp"]);
        let e = Config::from_toml(&text.replace("# mllp_tls_listen ", "mllp_tls_listen ")).unwrap_err().to_string();
        assert!(e.contains("needs a [tls] table"), "{e}");
        // The commented-out [ups.tls] example is valid too.
        let mut with_tls = text.replace("# [ups.tls]\n", "[ups.tls]\n");
        for key in ["ca_file", "server_name"] {
            with_tls = with_tls.replace(&format!("\n# {key} "), &format!("\n{key} "));
        }
        let cfg = Config::from_toml(&with_tls).unwrap();
        let tls = cfg.ups.as_ref().unwrap().tls.as_ref().unwrap();
        assert_eq!(tls.server_name.as_deref(), Some("ups1.region.example.jp"));
    }

    #[test]
    fn defaults_and_errors() {
        let cfg = Config::from_toml("").unwrap();
        assert_eq!(cfg.server.http_listen.to_string(), "127.0.0.1:8080");
        assert_eq!(cfg.server.data_dir, PathBuf::from("var"));
        let err = |t: &str| Config::from_toml(t).unwrap_err().to_string();
        assert!(err("[server]\nmllp_listn = \"1.2.3.4:1\"").contains("mllp_listn"));
        assert!(err("[[facility]]\nid = \"123\"\nname = \"x\"\nmsh4 = [\"A\"]").contains("10 digits"));
        assert!(
            err("[[facility]]\nid = \"1234567890\"\nname = \"x\"\nmsh4 = [\"A\"]\n[[facility]]\nid = \"1234567891\"\nname = \"y\"\nmsh4 = [\"A\"]")
                .contains("claimed by")
        );
        assert!(err("[server]\nutc_offset = \"JST\"").contains("utc_offset"));
        assert_eq!(parse_utc_offset("+09:00"), Some(32400));
        assert_eq!(parse_utc_offset("-05:30"), Some(-19800));
    }
}
