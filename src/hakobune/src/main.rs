//! `hakobune`: the accumulation server and its tools. See `hakobune --help`.

mod appliance;
mod bench;
mod demo;
mod firstboot;
mod send;
mod server;
mod verify;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use hakobune_config::Config;

/// Hakobune (箱舟): regional clinical data accumulation server. HL7 v2.5 over MLLP in, SS-MIX2
/// standardized storage on disk, HTTP out.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (configuration from --config, else built-in defaults).
    Serve {
        /// TOML configuration file (see docs/hakobune.example.toml).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Data directory (overrides server.data_dir).
        #[arg(long)]
        data: Option<PathBuf>,
        /// MLLP listen address (overrides server.mllp_listen).
        #[arg(long)]
        mllp: Option<SocketAddr>,
        /// HTTP listen address (overrides server.http_listen).
        #[arg(long)]
        http: Option<SocketAddr>,
    },
    /// Start a server with three simulated hospitals, feed it realistic traffic, and keep serving.
    Demo {
        /// Data directory.
        #[arg(long, default_value = "var")]
        data: PathBuf,
        /// MLLP listen address.
        #[arg(long, default_value = "127.0.0.1:2575")]
        mllp: SocketAddr,
        /// HTTP listen address.
        #[arg(long, default_value = "127.0.0.1:8080")]
        http: SocketAddr,
        /// Seed of the simulated traffic.
        #[arg(long, default_value_t = 20261125)]
        seed: u64,
        /// Patients per simulated hospital.
        #[arg(long, default_value_t = 12)]
        patients: usize,
        /// Stop after the traffic has been fed and checked, instead of serving until Ctrl-C.
        #[arg(long)]
        exit: bool,
    },
    /// Send files (raw HL7, as stored in SS-MIX2) over MLLP and print each ACK.
    Send {
        /// MLLP address of the server.
        #[arg(long, default_value = "127.0.0.1:2575")]
        to: String,
        /// Seconds to wait for each ACK.
        #[arg(long, default_value_t = 30)]
        timeout: u64,
        /// MLLP over TLS: trust the server certificate only if this CA (PEM) issued it.
        #[arg(long, value_name = "CA.pem")]
        ca: Option<PathBuf>,
        /// TLS client certificate (PEM) to present, with --key (mutual TLS, as a gateway does).
        #[arg(long, value_name = "CERT.pem", requires = "key", requires = "ca")]
        cert: Option<PathBuf>,
        /// Private key (PEM, mode 600) of --cert.
        #[arg(long, value_name = "KEY.pem", requires = "cert")]
        key: Option<PathBuf>,
        /// Name the server's certificate must carry (default: the host part of --to).
        #[arg(long, requires = "ca")]
        server_name: Option<String>,
        /// Files to send, one message each.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Check that storage, transaction log and index agree (the server must not be running).
    Verify {
        /// Data directory.
        #[arg(long, default_value = "var")]
        data: PathBuf,
        /// Rebuild the index from the storage files.
        #[arg(long)]
        repair: bool,
    },
    /// Validate a configuration file and print what it registers.
    CheckConfig {
        /// TOML configuration file.
        config: PathBuf,
    },
    /// First boot of an appliance: make its key, certificate request, identity and one-time
    /// administrator token, and its configuration (template + registration medium). Runs once.
    Firstboot {
        /// The appliance's state folder on the data partition.
        #[arg(long, default_value = "/var/lib/hakobune")]
        state_dir: PathBuf,
        /// Configuration template shipped in the image.
        #[arg(long, default_value = "/usr/share/hakobune/hakobune.toml")]
        template: PathBuf,
        /// Folder of a mounted config medium holding hakobune-facilities.toml (repeatable).
        #[arg(long)]
        medium: Vec<PathBuf>,
        /// Terminal that shows the one-time token, e.g. /dev/tty1 and /dev/ttyS0 (repeatable).
        #[arg(long, required = true)]
        console: Vec<PathBuf>,
        /// Host name for the certificate request.
        #[arg(long)]
        hostname: Option<String>,
    },
    /// Check that the running server is healthy (used before an update is accepted): its
    /// /healthz answers "ok" within --wait seconds. Exit status 0 when healthy.
    SelfCheck {
        /// The server's configuration (for its HTTP address).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Seconds to keep trying.
        #[arg(long, default_value_t = 120)]
        wait: u64,
    },
    /// Firmware slots (A/B) and the last update: `firmware status`.
    Firmware {
        #[command(subcommand)]
        what: FirmwareCommand,
    },
    /// Measure: `bench ingest` drives concurrent MLLP senders against a fresh server.
    Bench {
        #[command(subcommand)]
        what: bench::BenchCommand,
    },
}

#[derive(Subcommand)]
enum FirmwareCommand {
    /// Which slot runs which version, and whether the last update was kept or rolled back.
    Status {
        /// Mount point of the EFI system partition.
        #[arg(long, default_value = "/efi")]
        esp: PathBuf,
        /// Kernel command line of the running system.
        #[arg(long, default_value = "/proc/cmdline")]
        cmdline: PathBuf,
        /// The record the update-from-medium script keeps of the last bundle it tried.
        #[arg(long, default_value = "/var/lib/hakobune/firmware/last-install.json")]
        install_record: PathBuf,
        /// Print JSON (what the server shows in /api/v1/appliance/status).
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("HAKOBUNE_LOG").unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    // Crash-only: a panicking task leaves the process in an unknown state. Every acknowledged
    // message is in the write-ahead log, so dying and being restarted by systemd is safe.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // One contained exception: nut-client 0.4 panics when upsd closes a connection. The UPS
        // watcher polls in its own task and treats that panic as a lost connection.
        if info.location().is_some_and(|l| l.file().contains("nut-client-")) {
            eprintln!("hakobune: contained a panic in the NUT client ({info}); reconnecting to upsd");
            return;
        }
        default_hook(info);
        eprintln!(
            "hakobune {}: fatal internal error, aborting (acknowledged data is safe in the write-ahead log)",
            env!("CARGO_PKG_VERSION")
        );
        std::process::abort();
    }));
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Serve { config, data, mllp, http } => {
            let mut cfg = match &config {
                Some(path) => match Config::load(path) {
                    Ok(c) => c,
                    Err(e) => {
                        eprintln!("error: configuration {}: {e}", path.display());
                        return Ok(ExitCode::from(64)); // EX_USAGE
                    }
                },
                None => Config::default(),
            };
            if let Some(d) = data {
                cfg.server.data_dir = d;
            }
            if let Some(a) = mllp {
                cfg.server.mllp_listen = a;
            }
            if let Some(a) = http {
                cfg.server.http_listen = a;
            }
            if cfg.facilities.is_empty() {
                tracing::warn!(
                    "no [[facility]] is registered: every message will be refused (AR) until one is configured"
                );
            }
            runtime()?.block_on(async {
                let mut running = server::start(cfg).await?;
                let why = running.wait_for_stop().await;
                running.stop(Duration::from_secs(30), why).await
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { data, mllp, http, seed, patients, exit } => {
            runtime()?.block_on(demo::run(demo::DemoArgs { data, mllp, http, seed, patients, exit }))
        }
        Command::Send { to, timeout, ca, cert, key, server_name, files } => {
            let tls = ca.map(|ca| send::Tls {
                ca,
                identity: cert.zip(key).map(|(cert_file, key_file)| hakobune_tls::Identity { cert_file, key_file }),
                server_name,
            });
            runtime()?.block_on(send::run(&to, tls.as_ref(), Duration::from_secs(timeout), &files))
        }
        Command::Verify { data, repair } => verify::run(&data, repair),
        Command::CheckConfig { config } => match Config::load(&config) {
            Ok(cfg) => {
                println!("{}: OK", config.display());
                println!(
                    "  data_dir {}  mllp {}  http {}",
                    cfg.server.data_dir.display(),
                    cfg.server.mllp_listen,
                    cfg.server.http_listen
                );
                for f in &cfg.facilities {
                    println!("  facility {} {} (MSH-4: {})", f.id, f.name, f.msh4.join(", "));
                }
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                eprintln!("error: {}: {e}", config.display());
                Ok(ExitCode::from(64))
            }
        },
        Command::Firstboot { state_dir, template, medium, console, hostname } => {
            firstboot::run(&firstboot::Options { state_dir, template, media: medium, consoles: console, hostname })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::SelfCheck { config, wait } => {
            let cfg = match &config {
                Some(path) => Config::load(path).with_context(|| format!("reading {}", path.display()))?,
                None => Config::default(),
            };
            runtime()?.block_on(self_check(cfg.server.http_listen, Duration::from_secs(wait)))
        }
        Command::Firmware { what: FirmwareCommand::Status { esp, cmdline, install_record, json } } => {
            let entries = hakobune_firmware::read_entries(&esp)?;
            let cmdline =
                std::fs::read_to_string(&cmdline).with_context(|| format!("reading {}", cmdline.display()))?;
            let st = hakobune_firmware::status(entries, hakobune_firmware::booted_slot(&cmdline));
            // Absent until a bundle has been offered.
            let last_install = std::fs::read(&install_record).ok().map(|b| {
                serde_json::from_slice::<serde_json::Value>(&b)
                    .unwrap_or_else(|e| serde_json::json!({"error": e.to_string()}))
            });
            if json {
                let mut v = serde_json::to_value(&st)?;
                v["last_install"] = last_install.unwrap_or_default();
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                print_firmware(&st);
                if let Some(r) = last_install {
                    println!(
                        "最後の更新媒体 / last bundle offered: {} {} ({}) {}",
                        r["at"].as_str().unwrap_or("?"),
                        r["bundle"].as_str().unwrap_or(""),
                        r["result"].as_str().unwrap_or("?"),
                        r["message"].as_str().unwrap_or("")
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench { what } => runtime()?.block_on(bench::run(what)),
    }
}

/// Polls /healthz until it says "ok" or `wait` runs out.
async fn self_check(listen: SocketAddr, wait: Duration) -> Result<ExitCode> {
    let mut addr = listen;
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let url = format!("http://{addr}/healthz");
    let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build()?;
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let last = match client.get(&url).send().await {
            Ok(r) => {
                let code = r.status();
                let body: serde_json::Value = r.json().await.unwrap_or_default();
                if code.is_success() && body["status"] == "ok" {
                    println!("self-check: healthy ({url}: ok, version {})", body["version"].as_str().unwrap_or("?"));
                    return Ok(ExitCode::SUCCESS);
                }
                format!("{code}: {body}")
            }
            Err(e) => e.to_string(),
        };
        if tokio::time::Instant::now() >= deadline {
            eprintln!("self-check: NOT healthy after {wait:?} ({url}: {last})");
            return Ok(ExitCode::from(1));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn print_firmware(st: &hakobune_firmware::FirmwareStatus) {
    use hakobune_firmware::{BootState, LastUpdate};
    let unknown = "?".to_owned();
    println!(
        "稼働中 / running: slot {} version {}",
        st.booted_slot.as_ref().unwrap_or(&unknown),
        st.running_version.map(|v| v.to_string()).unwrap_or(unknown.clone())
    );
    for e in &st.slots {
        let boot = match e.boot {
            BootState::Good => "good / 正常".to_owned(),
            BootState::Trying { left, done } => format!("on trial / 試行中 ({done} boots tried, {left} left)"),
            BootState::Bad { done } => format!("failed / 失敗 (after {done} boots)"),
        };
        println!("  slot {}: {}  {boot}  [{}]", e.slot, e.version, e.file);
    }
    let last = match &st.last_update {
        LastUpdate::None => "none (factory image) / 更新履歴なし".to_owned(),
        LastUpdate::Kept { version } => format!("{version} installed and kept / 適用済み"),
        LastUpdate::OnTrial { version, boots_left } => {
            format!("{version} on trial, {boots_left} boots left / 試行中（自己診断待ち）")
        }
        LastUpdate::Pending { version } => format!("{version} written, waiting for a reboot / 再起動待ち"),
        LastUpdate::RolledBack { failed, attempts, running } => format!(
            "{failed} FAILED after {attempts} boots; rolled back to {running} / 更新失敗、{running} に自動で戻しました"
        ),
    };
    println!("最後の更新 / last update: {last}");
}
