//! `hakobune firstboot`: what a new appliance does once, before the server first starts.
//!
//! Nothing secret is baked into the image, so the box makes its own on first boot, on the data
//! partition (the root file system is read-only):
//!
//! ```text
//! <state>/etc/identity.json            appliance ID, when, public-key fingerprint
//! <state>/etc/tls/appliance.key        ECDSA P-256 key, mode 600, never leaves the box
//! <state>/etc/tls/appliance.csr.pem    certificate request for the regional CA
//! <state>/etc/bootstrap-token.sha256   hash of the one-time administrator token (mode 600)
//! <state>/etc/hakobune.toml            server configuration: the image's template plus the
//!                                      facilities of a registration file on a config medium
//! <state>/etc/firstboot.done           written last: a crash before it means "run again"
//! ```
//!
//! The bootstrap token itself is shown only on the consoles named with `--console` (the local
//! screen and the serial port), never in the journal or on stdout: whoever stands at the box
//! reads it once and uses it to create the first administrator.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sha2::Digest;

/// The registration file a vendor or the regional office puts on the config medium.
pub const REGISTRATION_FILE: &str = "hakobune-facilities.toml";

/// Options of `hakobune firstboot`.
pub struct Options {
    /// Where the appliance keeps its state (the data partition's hakobune folder).
    pub state_dir: PathBuf,
    /// The image's configuration template.
    pub template: PathBuf,
    /// Folders to look in for [`REGISTRATION_FILE`] (a mounted config medium).
    pub media: Vec<PathBuf>,
    /// Terminals (or files, in tests) that show the bootstrap token.
    pub consoles: Vec<PathBuf>,
    /// Host name for the certificate request's subject alternative name.
    pub hostname: Option<String>,
}

/// Writes `bytes` so that after a crash the file is either absent or complete: temporary file,
/// fsync, rename, fsync of the folder.
fn write_durably(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let dir = path.parent().context("file without a folder")?;
    let tmp = dir.join(format!(".{}.tmp", path.file_name().and_then(|n| n.to_str()).unwrap_or("file")));
    {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&tmp)
            .with_context(|| format!("creating {}", tmp.display()))?;
        f.set_permissions(std::fs::Permissions::from_mode(mode))?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path).with_context(|| format!("renaming into {}", path.display()))?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

fn make_dir(path: &Path, mode: u32) -> Result<()> {
    std::fs::create_dir_all(path).with_context(|| format!("creating {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    Ok(())
}

fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| anyhow::anyhow!("the kernel's random source: {e}"))?;
    Ok(b)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// 160 random bits, base32 in groups of four (easy to read off a screen and type).
fn new_token() -> Result<String> {
    let raw = data_encoding::BASE32_NOPAD.encode(&random_bytes::<20>()?);
    Ok(raw.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).unwrap_or_default()).collect::<Vec<_>>().join("-"))
}

/// The SHA-256 the appliance keeps of a bootstrap token (dashes and case do not matter).
pub fn token_hash(token: &str) -> String {
    let canonical: String = token.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_uppercase();
    hex(&sha2::Sha256::digest(canonical.as_bytes()))
}

/// Reads the registration file of the first medium that has one: `[[facility]]` tables only.
fn registration(media: &[PathBuf]) -> Result<Option<(PathBuf, String)>> {
    for m in media {
        let path = m.join(REGISTRATION_FILE);
        if !path.exists() {
            continue;
        }
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let table: toml::Table =
            toml::from_str(&text).with_context(|| format!("{}: not valid TOML", path.display()))?;
        if let Some(other) = table.keys().find(|k| k.as_str() != "facility") {
            bail!("{}: only [[facility]] tables belong in a registration file, found {other:?}", path.display());
        }
        return Ok(Some((path, text)));
    }
    Ok(None)
}

/// Runs the first-boot steps; a no-op once they have completed.
pub fn run(opts: &Options) -> Result<()> {
    let etc = opts.state_dir.join("etc");
    let done = etc.join("firstboot.done");
    if done.exists() {
        let id = std::fs::read_to_string(etc.join("identity.json")).unwrap_or_default();
        println!("firstboot: already initialised; nothing to do ({})", id.trim());
        return Ok(());
    }
    let template = std::fs::read_to_string(&opts.template)
        .with_context(|| format!("reading the configuration template {}", opts.template.display()))?;
    // Configuration first: a bad registration file stops here, before anything is written.
    let config_text = match registration(&opts.media)? {
        Some((path, text)) => {
            format!("{template}\n# Facilities from the registration medium ({})\n{text}", path.display())
        }
        None => template,
    };
    let config = hakobune_config::Config::from_toml(&config_text)
        .context("the configuration template with the registration file is not a valid configuration")?;

    make_dir(&opts.state_dir, 0o750)?;
    make_dir(&etc, 0o750)?;
    make_dir(&etc.join("tls"), 0o700)?;

    let id = hex(&random_bytes::<16>()?);
    let short = &id[..8];
    let common_name = format!("hakobune-{short}");
    let names: Vec<String> = opts.hostname.iter().filter(|h| !h.is_empty()).cloned().collect();
    let made = hakobune_tls::new_key_and_csr(&common_name, &names)?;
    write_durably(&etc.join("tls/appliance.key"), made.key_pem.as_bytes(), 0o600)?;
    write_durably(&etc.join("tls/appliance.csr.pem"), made.csr_pem.as_bytes(), 0o644)?;

    let token = new_token()?;
    write_durably(&etc.join("bootstrap-token.sha256"), format!("{}\n", token_hash(&token)).as_bytes(), 0o600)?;

    let now = time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339)?;
    let identity = serde_json::json!({
        "appliance_id": id,
        "common_name": common_name,
        "initialised_at": now,
        "public_key_sha256": made.public_key_sha256,
        "facilities": config.facilities.iter().map(|f| &f.id).collect::<Vec<_>>(),
    });
    write_durably(&etc.join("identity.json"), format!("{identity:#}\n").as_bytes(), 0o644)?;
    let config_path = etc.join("hakobune.toml");
    write_durably(&config_path, config_text.as_bytes(), 0o640)?;

    let fingerprint =
        made.public_key_sha256.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c)).collect::<Vec<_>>();
    let banner = format!(
        "\n\
         ==================== Hakobune 初回起動 / first boot ====================\n\
         アプライアンス ID / appliance ID : {common_name}\n\
         公開鍵 SHA-256 / public key      : {}\n\
         \x20                                 {}\n\
         証明書要求 / certificate request : {}\n\
         登録施設 / facilities            : {}\n\
         \n\
         管理者初期設定トークン（一度だけ有効） / one-time administrator token:\n\
         \n\
         \x20   {token}\n\
         \n\
         この画面は再表示されません。最初の管理者の作成に使ってください。\n\
         It is shown only now. Use it to create the first administrator.\n\
         ========================================================================\n",
        fingerprint[..8].join(" "),
        fingerprint[8..].join(" "),
        etc.join("tls/appliance.csr.pem").display(),
        if config.facilities.is_empty() {
            "なし / none".to_owned()
        } else {
            config.facilities.iter().map(|f| f.id.as_str()).collect::<Vec<_>>().join(", ")
        },
    );
    let mut shown = 0;
    for console in &opts.consoles {
        match std::fs::OpenOptions::new().append(true).open(console).and_then(|mut f| f.write_all(banner.as_bytes())) {
            Ok(()) => shown += 1,
            Err(e) => eprintln!("firstboot: cannot write to {}: {e}", console.display()),
        }
    }
    if shown == 0 {
        bail!("the bootstrap token could not be shown on any console; first boot will run again");
    }

    write_durably(&done, format!("{now}\n").as_bytes(), 0o644)?;
    // The journal gets everything but the token.
    println!(
        "firstboot: appliance {common_name} initialised: key and certificate request in {}, configuration {} \
         ({} facilities), bootstrap token shown on {shown} console(s)",
        etc.join("tls").display(),
        config_path.display(),
        config.facilities.len(),
    );
    Ok(())
}
