//! The collector: reads every configured source and builds a [`HealthReport`]; never fails as a
//! whole.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::HealthError;
use crate::mdadm::{MdadmDetail, parse_mdadm_detail};
use crate::mdstat::{MdArray, Mdstat, parent_disk, parse_mdstat};
use crate::model::{ArrayHealth, DiskHealth, DiskState, HealthReport, SourceStatus, assess_array};
use crate::smart::{DiskThresholds, assess_disk, parse_smartctl_json};
use crate::space::{SpaceThresholds, check_space};

/// At most this much of a command's output (or of `/proc/mdstat`) is kept.
const OUTPUT_LIMIT: u64 = 4 << 20;
/// The longest command timeout honoured (an hour); longer settings are cut to it.
const MAX_TIMEOUT_SECONDS: u64 = 3600;
/// How often a running command is polled for its exit.
const POLL: Duration = Duration::from_millis(10);

/// All thresholds (`[health.thresholds]`).
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Thresholds {
    /// `[health.thresholds.free_space]`.
    pub free_space: SpaceThresholds,
    /// `[health.thresholds.disk]`.
    pub disk: DiskThresholds,
}

/// Where health data comes from: the `[health]` table of the server's configuration.
///
/// Every field has a default, so an empty `[health]` table (or none) means: `/proc/mdstat`,
/// `mdadm --detail`, `smartctl -j -H -A -i` on the disks under the md arrays, no free-space check
/// (the server sets `data_path` to its data directory). Commands are argument lists; the device
/// path (`/dev/md0`, `/dev/sda`) is appended. An empty list (`mdadm_command = []`) disables the
/// command. smartctl needs root (or `CAP_SYS_RAWIO`): a server running unprivileged can configure
/// e.g. `["sudo", "-n", "smartctl", "-j", "-H", "-A", "-i"]` with a matching sudoers rule.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct HealthSources {
    /// `/proc/mdstat`. Its absence means the md driver is not loaded: no md RAID on this machine.
    pub mdstat_path: PathBuf,
    /// `mdadm --detail`, run for each array; `None` (`[]` in TOML) disables it.
    #[serde(deserialize_with = "command_or_none", serialize_with = "none_as_empty")]
    pub mdadm_command: Option<Vec<String>>,
    /// `smartctl -j -H -A -i`, run for each disk; `None` (`[]` in TOML) disables it. `-i` is what
    /// makes smartctl print the model and serial number.
    #[serde(deserialize_with = "command_or_none", serialize_with = "none_as_empty")]
    pub smartctl_command: Option<Vec<String>>,
    /// Disks to check with smartctl. Empty (the default): the disks holding the md arrays'
    /// members, found from `/proc/mdstat` (`sda1` → `/dev/sda`).
    pub disks: Vec<PathBuf>,
    /// A path on the data filesystem whose free space is checked; `None` skips the check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_path: Option<PathBuf>,
    /// Whether the absence of any md array is a critical alarm (set on the appliance).
    pub require_md_raid: bool,
    /// A command still running after this many seconds is killed and reported failed. Default 30,
    /// at most 3600.
    pub command_timeout_seconds: u64,
    /// Warning and critical levels.
    pub thresholds: Thresholds,
}

impl Default for HealthSources {
    fn default() -> Self {
        let words = |list: &[&str]| list.iter().map(|w| (*w).to_owned()).collect::<Vec<_>>();
        HealthSources {
            mdstat_path: PathBuf::from("/proc/mdstat"),
            mdadm_command: Some(words(&["mdadm", "--detail"])),
            smartctl_command: Some(words(&["smartctl", "-j", "-H", "-A", "-i"])),
            disks: Vec::new(),
            data_path: None,
            require_md_raid: false,
            command_timeout_seconds: 30,
            thresholds: Thresholds::default(),
        }
    }
}

impl HealthSources {
    /// Checks what deserialization cannot: non-empty program names, a non-zero timeout, threshold
    /// ranges.
    pub fn validate(&self) -> Result<(), HealthError> {
        for (name, command) in [("mdadm_command", &self.mdadm_command), ("smartctl_command", &self.smartctl_command)] {
            if command.as_ref().is_some_and(|c| c.first().is_none_or(|p| p.is_empty())) {
                return Err(HealthError::InvalidConfig(format!("{name}: the program name is empty")));
            }
        }
        if !(1..=MAX_TIMEOUT_SECONDS).contains(&self.command_timeout_seconds) {
            return Err(HealthError::InvalidConfig(format!(
                "command_timeout_seconds must be within 1..={MAX_TIMEOUT_SECONDS}"
            )));
        }
        self.thresholds.free_space.validate()
    }
}

fn command_or_none<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    let list = Vec::<String>::deserialize(d)?;
    Ok(if list.is_empty() { None } else { Some(list) })
}

fn none_as_empty<S: Serializer>(command: &Option<Vec<String>>, s: S) -> Result<S::Ok, S::Error> {
    command.as_deref().unwrap_or_default().serialize(s)
}

/// Reads every source and judges them. Never fails: whatever could not be read is reported as such
/// in the report (and raises an alarm where it matters).
///
/// Blocking (it reads files and runs commands, each bounded by the timeout, commands in parallel):
/// call it from a blocking thread (`tokio::task::spawn_blocking`).
pub fn collect(sources: &HealthSources) -> HealthReport {
    let timeout = Duration::from_secs(sources.command_timeout_seconds.clamp(1, MAX_TIMEOUT_SECONDS));
    let (mdstat_source, mdstat) = read_mdstat(&sources.mdstat_path);
    let md_arrays = mdstat.map(|m| m.arrays).unwrap_or_default();
    let disk_paths = if sources.disks.is_empty() { discover_disks(&md_arrays) } else { sources.disks.clone() };

    let (arrays, disks) = thread::scope(|scope| {
        let array_jobs: Vec<_> = md_arrays
            .iter()
            .map(|array| {
                let job = move || array_health(array, sources.mdadm_command.as_deref(), timeout);
                thread::Builder::new().spawn_scoped(scope, job).map_err(|_| job)
            })
            .collect();
        let disk_jobs: Vec<_> = disk_paths
            .iter()
            .map(|path| {
                let md_arrays = &md_arrays;
                let job = move || {
                    disk_health(path, md_arrays, sources.smartctl_command.as_deref(), &sources.thresholds.disk, timeout)
                };
                thread::Builder::new().spawn_scoped(scope, job).map_err(|_| job)
            })
            .collect();
        // A job whose thread could not be started runs here instead; a job cannot panic, but if
        // one did, its entry is reported failed rather than bringing the collector down.
        let arrays: Vec<ArrayHealth> = array_jobs
            .into_iter()
            .zip(&md_arrays)
            .map(|(job, array)| match job {
                Ok(handle) => handle.join().unwrap_or_else(|_| ArrayHealth {
                    name: array.name.clone(),
                    state: assess_array(array, None),
                    mdstat: array.clone(),
                    detail: None,
                    detail_source: SourceStatus::Failed { detail: "internal error".into() },
                }),
                Err(job) => job(),
            })
            .collect();
        let disks: Vec<DiskHealth> = disk_jobs
            .into_iter()
            .zip(&disk_paths)
            .map(|(job, path)| match job {
                Ok(handle) => handle.join().unwrap_or_else(|_| DiskHealth {
                    device: path.to_string_lossy().into_owned(),
                    member_of: Vec::new(),
                    state: DiskState::Unknown,
                    smart: None,
                    source: SourceStatus::Failed { detail: "internal error".into() },
                }),
                Err(job) => job(),
            })
            .collect();
        (arrays, disks)
    });

    let (filesystem, filesystem_source) = match &sources.data_path {
        None => (None, SourceStatus::Disabled),
        Some(path) => match check_space(path, &sources.thresholds.free_space) {
            Ok(space) => (Some(space), SourceStatus::Ok),
            Err(e) => (None, SourceStatus::Failed { detail: e.to_string() }),
        },
    };
    HealthReport::new(mdstat_source, arrays, disks, filesystem, filesystem_source, sources.require_md_raid)
}

fn read_mdstat(path: &Path) -> (SourceStatus, Option<Mdstat>) {
    let text = match read_limited(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let detail = format!("no md RAID present: {} does not exist (md driver not loaded)", path.display());
            return (SourceStatus::NotPresent { detail }, None);
        }
        Err(source) => {
            let error = HealthError::Read { path: path.to_owned(), source };
            return (SourceStatus::Failed { detail: error.to_string() }, None);
        }
    };
    match parse_mdstat(&text) {
        Ok(mdstat) => (SourceStatus::Ok, Some(mdstat)),
        Err(e) => (SourceStatus::Failed { detail: e.to_string() }, None),
    }
}

fn read_limited(path: &Path) -> std::io::Result<String> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.take(OUTPUT_LIMIT).read_to_end(&mut bytes)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The disks under the arrays' members, as `/dev/<disk>`, sorted and without duplicates. Failed
/// members count: a failing disk still attached is exactly what SMART should be asked about.
pub fn discover_disks(arrays: &[MdArray]) -> Vec<PathBuf> {
    let mut names: Vec<String> =
        arrays.iter().flat_map(|a| &a.members).filter_map(|m| parent_disk(&m.device)).collect();
    names.sort();
    names.dedup();
    names.into_iter().map(|n| Path::new("/dev").join(n)).collect()
}

fn array_health(array: &MdArray, command: Option<&[String]>, timeout: Duration) -> ArrayHealth {
    let (detail, detail_source) = match command {
        None => (None, SourceStatus::Disabled),
        Some(argv) => mdadm_detail(argv, &Path::new("/dev").join(&array.name), timeout),
    };
    ArrayHealth {
        name: array.name.clone(),
        state: assess_array(array, detail.as_ref()),
        mdstat: array.clone(),
        detail,
        detail_source,
    }
}

fn mdadm_detail(argv: &[String], device: &Path, timeout: Duration) -> (Option<MdadmDetail>, SourceStatus) {
    let output = match run_command(argv, device, timeout) {
        Ok(output) => output,
        Err(e) => return (None, status_of(&e)),
    };
    match parse_mdadm_detail(&output.stdout) {
        Ok(detail) => (Some(detail), SourceStatus::Ok),
        Err(e) => (None, SourceStatus::Failed { detail: output.failure_detail(&argv_program(argv), &e) }),
    }
}

fn disk_health(
    path: &Path,
    arrays: &[MdArray],
    command: Option<&[String]>,
    thresholds: &DiskThresholds,
    timeout: Duration,
) -> DiskHealth {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let member_of = arrays
        .iter()
        .filter(|a| a.members.iter().any(|m| parent_disk(&m.device).as_deref() == Some(name.as_str())))
        .map(|a| a.name.clone())
        .collect();
    let mut disk = DiskHealth {
        device: path.to_string_lossy().into_owned(),
        member_of,
        state: DiskState::Unknown,
        smart: None,
        source: SourceStatus::Disabled,
    };
    let Some(argv) = command else { return disk };
    let output = match run_command(argv, path, timeout) {
        Ok(output) => output,
        Err(e) => {
            disk.source = status_of(&e);
            return disk;
        }
    };
    // smartctl's exit status is a bit mask of findings, not a failure: parse whatever it printed.
    match parse_smartctl_json(&output.stdout) {
        Ok(report) => {
            disk.state = assess_disk(&report, thresholds);
            disk.source = if disk.state == DiskState::Unknown {
                let detail = if report.messages.is_empty() {
                    format!("smartctl reported no health data (exit status {})", report.exit_status.0)
                } else {
                    report.messages.join("; ")
                };
                SourceStatus::Failed { detail }
            } else {
                SourceStatus::Ok
            };
            disk.smart = Some(report);
        }
        Err(e) => disk.source = SourceStatus::Failed { detail: output.failure_detail(&argv_program(argv), &e) },
    }
    disk
}

fn argv_program(argv: &[String]) -> String {
    argv.first().cloned().unwrap_or_default()
}

fn status_of(error: &HealthError) -> SourceStatus {
    match error {
        HealthError::CommandUnavailable { .. } | HealthError::EmptyCommand => {
            SourceStatus::Unavailable { detail: error.to_string() }
        }
        _ => SourceStatus::Failed { detail: error.to_string() },
    }
}

/// What a finished command printed.
#[derive(Debug)]
struct Output {
    success: bool,
    status: String,
    stdout: String,
    stderr: String,
}

impl Output {
    /// Why output that did not parse is useless: the command's own complaint when it failed,
    /// otherwise the parse error.
    fn failure_detail(&self, program: &str, parse_error: &HealthError) -> String {
        let stderr = shorten(self.stderr.trim());
        if !self.success && !stderr.is_empty() {
            HealthError::CommandFailed { program: program.to_owned(), status: self.status.clone(), message: stderr }
                .to_string()
        } else {
            parse_error.to_string()
        }
    }
}

fn shorten(text: &str) -> String {
    const MAX: usize = 300;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// Runs `argv` with `device` appended, in its own process group, with no input, `LC_ALL=C`, and a
/// deadline after which the whole group is killed.
fn run_command(argv: &[String], device: &Path, timeout: Duration) -> Result<Output, HealthError> {
    let (program, args) = argv.split_first().ok_or(HealthError::EmptyCommand)?;
    if program.is_empty() {
        return Err(HealthError::EmptyCommand);
    }
    let mut child = Command::new(program)
        .args(args)
        .arg(device)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("LC_ALL", "C")
        .process_group(0)
        .spawn()
        .map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => {
                HealthError::CommandUnavailable { program: program.clone(), source }
            }
            _ => HealthError::Spawn { program: program.clone(), source },
        })?;
    let (sender, receiver) = mpsc::channel();
    let mut readers = 0;
    let spawned = [
        child.stdout.take().map(|pipe| spawn_reader(pipe, true, sender.clone())),
        child.stderr.take().map(|pipe| spawn_reader(pipe, false, sender.clone())),
    ];
    drop(sender);
    for result in spawned.into_iter().flatten() {
        match result {
            Ok(()) => readers += 1,
            Err(source) => {
                kill(child);
                return Err(HealthError::Spawn { program: program.clone(), source });
            }
        }
    }
    let timeout = timeout.min(Duration::from_secs(MAX_TIMEOUT_SECONDS));
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                kill(child);
                return Err(HealthError::Timeout { program: program.clone(), seconds: timeout.as_secs() });
            }
            Ok(None) => thread::sleep(POLL),
            Err(source) => {
                kill(child);
                return Err(HealthError::Spawn { program: program.clone(), source });
            }
        }
    };
    // The pipes close when the program exits, unless something it started keeps them open: wait
    // for the readers only until the deadline (and a little, for the last bytes).
    let mut output =
        Output { success: status.success(), status: status.to_string(), stdout: String::new(), stderr: String::new() };
    for _ in 0..readers {
        let wait = deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(500));
        match receiver.recv_timeout(wait) {
            Ok((true, bytes)) => output.stdout = String::from_utf8_lossy(&bytes).into_owned(),
            Ok((false, bytes)) => output.stderr = String::from_utf8_lossy(&bytes).into_owned(),
            Err(_) => break,
        }
    }
    Ok(output)
}

fn spawn_reader<R: Read + Send + 'static>(
    pipe: R,
    is_stdout: bool,
    sender: mpsc::Sender<(bool, Vec<u8>)>,
) -> std::io::Result<()> {
    thread::Builder::new().name("health-cmd-reader".into()).spawn(move || {
        let mut bytes = Vec::new();
        let mut limited = pipe.take(OUTPUT_LIMIT);
        let _ = limited.read_to_end(&mut bytes);
        // Keep draining past the limit so the program never blocks on a full pipe.
        let _ = std::io::copy(&mut limited.into_inner(), &mut std::io::sink());
        let _ = sender.send((is_stdout, bytes));
    })?;
    Ok(())
}

/// Kills the command's process group and reaps it in the background.
fn kill(mut child: Child) {
    let pid = rustix::process::Pid::from_child(&child);
    if !pid.is_init() {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
    let _ = child.kill();
    let _ = thread::Builder::new().name("health-cmd-reaper".into()).spawn(move || {
        let _ = child.wait();
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn runs_and_captures() {
        let out = run_command(
            &words(&["sh", "-c", "echo out; echo err >&2; exit 3", "sh"]),
            Path::new("/dev/x"),
            Duration::from_secs(10),
        )
        .expect("runs");
        assert!(!out.success);
        assert_eq!(out.stdout, "out\n");
        assert_eq!(out.stderr, "err\n");
        let echo = run_command(&words(&["echo"]), Path::new("/dev/md0"), Duration::from_secs(10)).expect("runs");
        assert_eq!(echo.stdout, "/dev/md0\n", "the device is the last argument");
    }

    #[test]
    fn missing_program_is_unavailable() {
        let err = run_command(&words(&["/nonexistent/smartctl"]), Path::new("/dev/sda"), Duration::from_secs(1))
            .expect_err("no such program");
        assert!(matches!(err, HealthError::CommandUnavailable { .. }), "{err}");
        assert!(matches!(status_of(&err), SourceStatus::Unavailable { .. }));
        assert!(matches!(
            run_command(&[], Path::new("/dev/sda"), Duration::from_secs(1)),
            Err(HealthError::EmptyCommand)
        ));
        assert!(matches!(
            run_command(&words(&[""]), Path::new("/dev/sda"), Duration::from_secs(1)),
            Err(HealthError::EmptyCommand)
        ));
    }

    #[test]
    fn hung_program_is_killed() {
        let err = run_command(&words(&["sh", "-c", "sleep 30", "sh"]), Path::new("/dev/sda"), Duration::from_secs(1))
            .expect_err("times out");
        assert!(matches!(err, HealthError::Timeout { seconds: 1, .. }), "{err}");
    }

    #[test]
    fn large_output_is_bounded() {
        // 6 MiB of output: kept up to the limit, and the program is not blocked by a full pipe.
        let out = run_command(
            &words(&["sh", "-c", "head -c 6291456 /dev/zero", "sh"]),
            Path::new("/dev/sda"),
            Duration::from_secs(30),
        )
        .expect("runs");
        assert!(out.success);
        assert_eq!(out.stdout.len() as u64, OUTPUT_LIMIT);
    }

    #[test]
    fn discovers_disks_from_members() {
        let stat = parse_mdstat(
            "md1 : active raid1 sdb2[1] sda2[0]\n      10 blocks super 1.2 [2/2] [UU]\n\n\
             md0 : active raid1 sdb1[1](F) sda1[0] nvme0n1p1[2](S)\n      10 blocks super 1.2 [2/1] [U_]\n",
        )
        .expect("parses");
        assert_eq!(
            discover_disks(&stat.arrays),
            [PathBuf::from("/dev/nvme0n1"), PathBuf::from("/dev/sda"), PathBuf::from("/dev/sdb")]
        );
    }

    #[test]
    fn validation() {
        assert!(HealthSources::default().validate().is_ok());
        let bad = HealthSources { mdadm_command: Some(words(&[""])), ..HealthSources::default() };
        assert!(bad.validate().is_err());
        let bad = HealthSources { command_timeout_seconds: 0, ..HealthSources::default() };
        assert!(bad.validate().is_err());
        let bad = HealthSources { command_timeout_seconds: u64::MAX, ..HealthSources::default() };
        assert!(bad.validate().is_err());
        // Not validated, still no panic: the timeout is cut to an hour.
        let report = collect(&HealthSources {
            mdstat_path: PathBuf::from("/nonexistent/mdstat"),
            command_timeout_seconds: u64::MAX,
            ..HealthSources::default()
        });
        assert!(report.alarms.is_empty());
        assert!(shorten(&"あ".repeat(400)).ends_with('…'));
        assert_eq!(shorten("short"), "short");
    }
}
