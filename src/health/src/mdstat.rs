//! `/proc/mdstat`: the kernel's view of every md array.
//!
//! The format is `md_seq_show()` in the kernel's `drivers/md/md.c`, plus each personality's status
//! function (`raid1_status`, `raid5_status`, `raid10_status`). One array reads:
//!
//! ```text
//! md0 : active raid1 sdc1[2] sda1[0]
//!       976628736 blocks super 1.2 [2/1] [U_]
//!       [=======>.............]  recovery = 37.4% (365539072/976628736) finish=52.3min speed=194672K/sec
//!       bitmap: 8/8 pages [32KB], 65536KB chunk
//! ```
//!
//! The parser is strict about the header line of an array (it names the array, so getting it wrong
//! would misreport it) and lenient about other lines: anything it does not recognise is skipped, so a
//! newer kernel's extra detail does not blind the monitoring.

use serde::Serialize;

use crate::HealthError;

const WHAT: &str = "/proc/mdstat";

/// The whole of `/proc/mdstat`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Mdstat {
    /// Loaded RAID personalities (`raid1`, `raid10`, …).
    pub personalities: Vec<String>,
    /// Every array, in the kernel's order.
    pub arrays: Vec<MdArray>,
    /// Devices with an md superblock that belong to no array (`unused devices:`).
    pub unused_devices: Vec<String>,
}

/// Whether an active array accepts writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ArrayAccess {
    /// Normal.
    #[default]
    ReadWrite,
    /// `(read-only)`: set read-only by an administrator.
    ReadOnly,
    /// `(auto-read-only)`: not written to since assembly; becomes read-write on the first write.
    AutoReadOnly,
}

/// One array.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct MdArray {
    /// `md0`, `md127`, …
    pub name: String,
    /// `active` (running with a personality) or `inactive` (assembled but not started).
    pub active: bool,
    /// Read-only flags of an active array.
    pub access: ArrayAccess,
    /// Personality (`raid1`, `raid5`, `raid6`, `raid10`, `raid0`, `linear`, …); `None` when inactive.
    pub level: Option<String>,
    /// Member devices in the kernel's order.
    pub members: Vec<MdMember>,
    /// Size in 1 KiB blocks.
    pub blocks: Option<u64>,
    /// Superblock format (`1.2`, `external:imsm`, `non-persistent`); `None` for the 0.90 format,
    /// which the kernel does not name.
    pub superblock: Option<String>,
    /// `n` of `[n/m]`: devices the array is made of.
    pub raid_disks: Option<u32>,
    /// `m` of `[n/m]`: devices that are in sync.
    pub in_sync_disks: Option<u32>,
    /// The `[UU_]` map, one entry per slot: `true` for an in-sync device (`U`).
    pub slots: Option<Vec<bool>>,
    /// RAID10 layout (`2 near-copies`, `2 far-copies`, `2 offset-copies`), needed to tell degraded
    /// from failed.
    pub raid10_layout: Option<Raid10Layout>,
    /// Resync, recovery, reshape or check, running or waiting.
    pub sync: Option<SyncStatus>,
    /// The `bitmap:` line, as printed (`8/8 pages [32KB], 65536KB chunk`).
    pub bitmap: Option<String>,
}

impl MdArray {
    /// Members marked `(F)`.
    pub fn failed_members(&self) -> impl Iterator<Item = &MdMember> {
        self.members.iter().filter(|m| m.failed)
    }

    /// Slots without an in-sync device, from `[n/m]` (or the `[U_]` map when that is all there is).
    pub fn missing_disks(&self) -> Option<u32> {
        match (self.raid_disks, self.in_sync_disks, &self.slots) {
            (Some(n), Some(m), _) => Some(n.saturating_sub(m)),
            (_, _, Some(slots)) => Some(slots.iter().filter(|up| !**up).count().try_into().unwrap_or(u32::MAX)),
            _ => None,
        }
    }
}

/// One member of an array: `sdb1[1](F)`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct MdMember {
    /// Kernel block device name (`sda1`, `nvme0n1p2`).
    pub device: String,
    /// The number in brackets: the member's descriptor number in the superblock (not its slot).
    pub descriptor: u32,
    /// `(F)`: faulty.
    pub failed: bool,
    /// `(S)`: spare (not in a slot). Every member of an inactive array is shown as spare.
    pub spare: bool,
    /// `(W)`: write-mostly.
    pub write_mostly: bool,
    /// `(R)`: replacement for another member, being built.
    pub replacement: bool,
    /// `(J)`: RAID4/5/6 write journal.
    pub journal: bool,
}

/// RAID10 geometry from the status line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Raid10Layout {
    /// `N near-copies` (1 when not printed).
    pub near_copies: u32,
    /// `N far-copies` or `N offset-copies` (1 when not printed).
    pub far_copies: u32,
    /// Whether the far copies are `offset-copies`.
    pub offset: bool,
}

/// What a running sync does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncAction {
    /// Making the copies/parity consistent (after creation or an unclean shutdown; also a `repair`).
    Resync,
    /// Rebuilding onto a replacement or spare device.
    Recovery,
    /// Changing the layout or number of devices.
    Reshape,
    /// Scrub: reading everything and counting mismatches (routine, e.g. monthly).
    Check,
}

impl SyncAction {
    /// The kernel's word.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncAction::Resync => "resync",
            SyncAction::Recovery => "recovery",
            SyncAction::Reshape => "reshape",
            SyncAction::Check => "check",
        }
    }

    fn from_word(word: &str) -> Option<Self> {
        match word {
            "resync" => Some(SyncAction::Resync),
            "recovery" => Some(SyncAction::Recovery),
            "reshape" => Some(SyncAction::Reshape),
            "check" => Some(SyncAction::Check),
            _ => None,
        }
    }
}

/// The progress or waiting line of an array.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum SyncStatus {
    /// A progress bar line.
    Running(SyncProgress),
    /// `resync=DELAYED`: waiting for another array on the same disks to finish first.
    Delayed,
    /// `resync=PENDING`: needed, but the array is (auto-)read-only so it has not started.
    Pending,
    /// `resync=REMOTE`: another node of an md cluster is resyncing.
    Remote,
}

/// A running resync/recovery/reshape/check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyncProgress {
    /// What is running.
    pub action: SyncAction,
    /// Percent done, as the kernel rounds it (one decimal).
    pub percent: f32,
    /// 1 KiB blocks done.
    pub done_blocks: u64,
    /// 1 KiB blocks in all.
    pub total_blocks: u64,
    /// The kernel's estimate of the minutes left (`finish=52.3min`).
    pub finish_minutes: Option<f64>,
    /// Current speed in KiB/s (`speed=194672K/sec`).
    pub speed_kib_per_sec: Option<u64>,
}

/// Parses `/proc/mdstat`.
///
/// Errors only on an array header line it cannot read; see the module documentation.
pub fn parse_mdstat(text: &str) -> Result<Mdstat, HealthError> {
    let mut out = Mdstat::default();
    let mut current: Option<MdArray> = None;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if line.trim().is_empty() {
            out.arrays.extend(current.take());
            continue;
        }
        if line.starts_with(|c: char| c.is_whitespace()) {
            if let Some(array) = current.as_mut() {
                parse_continuation(array, line.trim(), number)?;
            }
            continue;
        }
        out.arrays.extend(current.take());
        if let Some(rest) = line.strip_prefix("Personalities :") {
            out.personalities = bracketed_words(rest);
        } else if let Some(rest) = line.strip_prefix("unused devices:") {
            let rest = rest.trim();
            if rest != "<none>" {
                out.unused_devices = rest.split_whitespace().map(str::to_owned).collect();
            }
        } else if let Some((name, rest)) = line.split_once(" : ") {
            current = Some(parse_header(name.trim(), rest, number)?);
        }
        // Anything else (e.g. `read_ahead` of 2.4 kernels) is skipped.
    }
    out.arrays.extend(current);
    Ok(out)
}

fn bracketed_words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .filter_map(|w| w.strip_prefix('[').and_then(|w| w.strip_suffix(']')))
        .map(str::to_owned)
        .collect()
}

fn parse_header(name: &str, rest: &str, line: usize) -> Result<MdArray, HealthError> {
    if name.is_empty() || name.contains(char::is_whitespace) {
        return Err(HealthError::parse(WHAT, line, format!("bad array name {name:?}")));
    }
    let mut array = MdArray { name: name.to_owned(), ..MdArray::default() };
    let mut words = rest.split_whitespace().peekable();
    match words.next() {
        Some("active") => array.active = true,
        Some("inactive") => array.active = false,
        other => {
            return Err(HealthError::parse(
                WHAT,
                line,
                format!("array {name}: expected active or inactive, found {:?}", other.unwrap_or("")),
            ));
        }
    }
    if array.active {
        match words.peek() {
            Some(&"(read-only)") => {
                array.access = ArrayAccess::ReadOnly;
                words.next();
            }
            Some(&"(auto-read-only)") => {
                array.access = ArrayAccess::AutoReadOnly;
                words.next();
            }
            _ => {}
        }
        match words.next() {
            Some(level) if !level.contains('[') => array.level = Some(level.to_owned()),
            other => {
                return Err(HealthError::parse(
                    WHAT,
                    line,
                    format!("array {name}: expected a RAID level, found {:?}", other.unwrap_or("")),
                ));
            }
        }
    }
    for word in words {
        let member = parse_member(word)
            .ok_or_else(|| HealthError::parse(WHAT, line, format!("array {name}: bad member {word:?}")))?;
        array.members.push(member);
    }
    Ok(array)
}

/// `sdb1[1](F)(W)`.
fn parse_member(word: &str) -> Option<MdMember> {
    let (device, rest) = word.split_once('[')?;
    let (descriptor, mut flags) = rest.split_once(']')?;
    if device.is_empty() {
        return None;
    }
    let mut member =
        MdMember { device: device.to_owned(), descriptor: descriptor.parse().ok()?, ..MdMember::default() };
    while !flags.is_empty() {
        let inner = flags.strip_prefix('(')?;
        let (flag, rest) = inner.split_once(')')?;
        match flag {
            "F" => member.failed = true,
            "S" => member.spare = true,
            "W" => member.write_mostly = true,
            "R" => member.replacement = true,
            "J" => member.journal = true,
            _ => {} // a flag from a newer kernel: harmless to ignore
        }
        flags = rest;
    }
    Some(member)
}

fn parse_continuation(array: &mut MdArray, line: &str, number: usize) -> Result<(), HealthError> {
    if let Some(rest) = line.strip_prefix("bitmap:") {
        array.bitmap = Some(rest.trim().to_owned());
    } else if let Some(rest) = line.strip_prefix("resync=") {
        array.sync = match rest.trim() {
            "DELAYED" => Some(SyncStatus::Delayed),
            "PENDING" => Some(SyncStatus::Pending),
            "REMOTE" => Some(SyncStatus::Remote),
            _ => array.sync.take(),
        };
    } else if line.starts_with('[') && line.contains('%') {
        let progress = parse_progress(line).ok_or_else(|| {
            HealthError::parse(WHAT, number, format!("array {}: bad progress line {line:?}", array.name))
        })?;
        array.sync = Some(SyncStatus::Running(progress));
    } else if line.split_whitespace().nth(1) == Some("blocks") {
        parse_size_line(array, line);
    }
    Ok(())
}

/// `976628736 blocks super 1.2 level 5, 512k chunk, algorithm 2 [3/3] [UUU]`.
fn parse_size_line(array: &mut MdArray, line: &str) {
    let words: Vec<&str> = line.split_whitespace().collect();
    array.blocks = words.first().and_then(|w| w.parse().ok());
    let mut near = None;
    let mut far = None;
    let mut offset = false;
    for (i, word) in words.iter().enumerate() {
        let previous = i.checked_sub(1).and_then(|p| words.get(p));
        match *word {
            "super" => array.superblock = words.get(i + 1).map(|v| (*v).to_owned()),
            "near-copies" => near = previous.and_then(|n| n.parse().ok()),
            "far-copies" => far = previous.and_then(|n| n.parse().ok()),
            "offset-copies" => {
                far = previous.and_then(|n| n.parse().ok());
                offset = true;
            }
            _ => {
                let Some(inner) = word.strip_prefix('[').and_then(|w| w.strip_suffix(']')) else { continue };
                if let Some((n, m)) = inner.split_once('/') {
                    if let (Ok(n), Ok(m)) = (n.parse(), m.parse()) {
                        array.raid_disks = Some(n);
                        array.in_sync_disks = Some(m);
                    }
                } else if !inner.is_empty() && inner.chars().all(|c| c == 'U' || c == '_') {
                    array.slots = Some(inner.chars().map(|c| c == 'U').collect());
                }
            }
        }
    }
    if array.level.as_deref() == Some("raid10") {
        array.raid10_layout =
            Some(Raid10Layout { near_copies: near.unwrap_or(1), far_copies: far.unwrap_or(1), offset });
    }
}

/// `[=======>.............]  recovery = 37.4% (365539072/976628736) finish=52.3min speed=194672K/sec`.
fn parse_progress(line: &str) -> Option<SyncProgress> {
    let (_, rest) = line.split_once(']')?;
    let rest = rest.trim_start();
    let end = rest.find(|c: char| !c.is_ascii_alphabetic())?;
    let (word, rest) = rest.split_at(end);
    let action = SyncAction::from_word(word)?;
    // `=%3u.%u%%`: the '=' may be followed by spaces, or be glued to `100.0%`.
    let rest = rest.trim_start().strip_prefix('=')?.trim_start();
    let (percent, rest) = rest.split_once('%')?;
    let percent: f32 = percent.trim().parse().ok()?;
    if !percent.is_finite() {
        return None;
    }
    let mut progress = SyncProgress {
        action,
        percent,
        done_blocks: 0,
        total_blocks: 0,
        finish_minutes: None,
        speed_kib_per_sec: None,
    };
    for word in rest.split_whitespace() {
        if let Some(counts) = word.strip_prefix('(').and_then(|w| w.strip_suffix(')')) {
            let (done, total) = counts.split_once('/')?;
            progress.done_blocks = done.parse().ok()?;
            progress.total_blocks = total.parse().ok()?;
        } else if let Some(minutes) = word.strip_prefix("finish=").and_then(|w| w.strip_suffix("min")) {
            progress.finish_minutes = minutes.parse().ok().filter(|m: &f64| m.is_finite() && *m >= 0.0);
        } else if let Some(speed) = word.strip_prefix("speed=").and_then(|w| w.strip_suffix("K/sec")) {
            progress.speed_kib_per_sec = speed.parse().ok();
        }
    }
    Some(progress)
}

/// Parent disk of a member device, by the kernel's naming rules: `sda1` → `sda`,
/// `nvme0n1p2` → `nvme0n1`, `mmcblk0p1` → `mmcblk0`; a whole disk is its own parent.
///
/// Returns `None` for devices that are not disks SMART can ask about (device-mapper, loop, md,
/// RAM disks, zram, nbd).
pub fn parent_disk(member: &str) -> Option<String> {
    const NOT_DISKS: [&str; 6] = ["dm-", "loop", "md", "ram", "zram", "nbd"];
    if member.is_empty() || NOT_DISKS.iter().any(|p| member.starts_with(p)) {
        return None;
    }
    const P_STYLE: [&str; 2] = ["nvme", "mmcblk"];
    if P_STYLE.iter().any(|p| member.starts_with(p)) {
        // nvme0n1p2 → nvme0n1; nvme0n1 stays.
        if let Some((disk, digits)) = member.rsplit_once('p') {
            let disk_ends_in_digit = disk.ends_with(|c: char| c.is_ascii_digit());
            if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) && disk_ends_in_digit {
                return Some(disk.to_owned());
            }
        }
        return Some(member.to_owned());
    }
    // sda1, vdb2, xvda1, hdc3: letters then partition digits.
    let disk = member.trim_end_matches(|c: char| c.is_ascii_digit());
    if disk.is_empty() { Some(member.to_owned()) } else { Some(disk.to_owned()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        let path = format!("{}/tests/fixtures/mdstat/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn one(name: &str) -> MdArray {
        let stat = parse_mdstat(&fixture(name)).expect("parses");
        assert_eq!(stat.arrays.len(), 1, "{name}");
        stat.arrays.into_iter().next().expect("one array")
    }

    #[test]
    fn healthy_raid1() {
        let stat = parse_mdstat(&fixture("raid1-healthy.txt")).expect("parses");
        assert_eq!(stat.personalities[..2], ["raid1".to_owned(), "linear".to_owned()]);
        assert_eq!(stat.personalities.len(), 8);
        assert!(stat.unused_devices.is_empty());
        let md0 = &stat.arrays[0];
        assert_eq!(md0.name, "md0");
        assert!(md0.active);
        assert_eq!(md0.access, ArrayAccess::ReadWrite);
        assert_eq!(md0.level.as_deref(), Some("raid1"));
        assert_eq!(md0.members.len(), 2);
        assert_eq!(md0.members[0], MdMember { device: "sdb1".into(), descriptor: 1, ..MdMember::default() });
        assert_eq!(md0.blocks, Some(976_628_736));
        assert_eq!(md0.superblock.as_deref(), Some("1.2"));
        assert_eq!((md0.raid_disks, md0.in_sync_disks), (Some(2), Some(2)));
        assert_eq!(md0.slots, Some(vec![true, true]));
        assert_eq!(md0.sync, None);
        assert_eq!(md0.bitmap.as_deref(), Some("1/8 pages [4KB], 65536KB chunk"));
        assert_eq!(md0.missing_disks(), Some(0));
    }

    #[test]
    fn degraded_with_failed_member() {
        let md0 = one("raid1-degraded.txt");
        assert_eq!((md0.raid_disks, md0.in_sync_disks), (Some(2), Some(1)));
        assert_eq!(md0.slots, Some(vec![true, false]));
        let failed: Vec<_> = md0.failed_members().map(|m| m.device.as_str()).collect();
        assert_eq!(failed, ["sdb1"]);
        assert_eq!(md0.missing_disks(), Some(1));
    }

    #[test]
    fn degraded_member_removed() {
        let md0 = one("raid1-degraded-removed.txt");
        assert_eq!(md0.members.len(), 1);
        assert_eq!(md0.failed_members().count(), 0);
        assert_eq!(md0.missing_disks(), Some(1));
    }

    #[test]
    fn recovering() {
        let md0 = one("raid1-recovering.txt");
        let Some(SyncStatus::Running(p)) = &md0.sync else { panic!("{:?}", md0.sync) };
        assert_eq!(p.action, SyncAction::Recovery);
        assert!((p.percent - 37.4).abs() < 0.01);
        assert_eq!((p.done_blocks, p.total_blocks), (365_539_072, 976_628_736));
        assert_eq!(p.finish_minutes, Some(52.3));
        assert_eq!(p.speed_kib_per_sec, Some(194_672));
        assert_eq!(md0.bitmap.as_deref(), Some("8/8 pages [32KB], 65536KB chunk"));
    }

    #[test]
    fn initial_resync_with_padded_percent() {
        let md0 = one("raid1-resync-initial.txt");
        let Some(SyncStatus::Running(p)) = &md0.sync else { panic!("{:?}", md0.sync) };
        assert_eq!(p.action, SyncAction::Resync);
        assert!((p.percent - 2.1).abs() < 0.01);
        assert_eq!(p.finish_minutes, Some(81.9));
    }

    #[test]
    fn two_arrays_one_checking() {
        let stat = parse_mdstat(&fixture("two-arrays.txt")).expect("parses");
        let names: Vec<_> = stat.arrays.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["md1", "md0"]);
        let Some(SyncStatus::Running(p)) = &stat.arrays[0].sync else { panic!() };
        assert_eq!(p.action, SyncAction::Check);
        assert_eq!(stat.arrays[1].bitmap, None);
        assert_eq!(stat.arrays[1].blocks, Some(1_046_528));
    }

    #[test]
    fn delayed_and_recovering() {
        let stat = parse_mdstat(&fixture("two-arrays-delayed.txt")).expect("parses");
        assert_eq!(stat.arrays[0].sync, Some(SyncStatus::Delayed));
        assert_eq!(stat.arrays[0].bitmap.as_deref(), Some("15/15 pages [60KB], 65536KB chunk"));
        assert!(matches!(&stat.arrays[1].sync, Some(SyncStatus::Running(p)) if p.finish_minutes == Some(0.0)));
    }

    #[test]
    fn inactive_array() {
        let md = one("inactive.txt");
        assert_eq!(md.name, "md127");
        assert!(!md.active);
        assert_eq!(md.level, None);
        assert_eq!(md.members, [MdMember { device: "sdc1".into(), descriptor: 1, spare: true, ..Default::default() }]);
        assert_eq!(md.blocks, Some(976_629_088));
        assert_eq!(md.raid_disks, None);
        assert_eq!(md.missing_disks(), None);
    }

    #[test]
    fn auto_read_only_pending() {
        let md = one("auto-read-only-pending.txt");
        assert_eq!(md.access, ArrayAccess::AutoReadOnly);
        assert_eq!(md.level.as_deref(), Some("raid1"));
        assert_eq!(md.sync, Some(SyncStatus::Pending));
    }

    #[test]
    fn raid5_failed() {
        let md = one("raid5-failed.txt");
        assert_eq!(md.level.as_deref(), Some("raid5"));
        assert_eq!(md.failed_members().count(), 2);
        assert_eq!(md.slots, Some(vec![true, false, false]));
        assert_eq!(md.missing_disks(), Some(2));
    }

    #[test]
    fn no_arrays() {
        let stat = parse_mdstat(&fixture("empty.txt")).expect("parses");
        assert!(stat.personalities.is_empty());
        assert!(stat.arrays.is_empty());
        assert_eq!(parse_mdstat("").expect("empty text"), Mdstat::default());
    }

    #[test]
    fn other_levels_and_flags() {
        let text = "Personalities : [raid10] [raid6] [raid0]\n\
            md2 : active (read-only) raid10 sdd1[3](W) sdc1[2](R) sdb1[1] sda1[0](J)\n      \
            1953257472 blocks super 1.2 512K chunks 2 near-copies [4/3] [UU_U]\n      \
            [====================>]  reshape =100.0% (976628736/976628736) finish=0.0min speed=1K/sec\n      \n\
            md3 : active raid0 sdf1[1] sde1[0]\n      1953257472 blocks 512k chunks\n      \n\
            md4 : active raid10 sdg1[1] sdh1[0]\n      976628736 blocks super 1.2 2 offset-copies [2/2] [UU]\n\
            unused devices: sdx1 sdy1\n";
        let stat = parse_mdstat(text).expect("parses");
        let md2 = &stat.arrays[0];
        assert_eq!(md2.access, ArrayAccess::ReadOnly);
        assert!(md2.members[0].write_mostly && md2.members[1].replacement && md2.members[3].journal);
        assert_eq!(md2.raid10_layout, Some(Raid10Layout { near_copies: 2, far_copies: 1, offset: false }));
        let Some(SyncStatus::Running(p)) = &md2.sync else { panic!() };
        assert_eq!((p.action, p.percent), (SyncAction::Reshape, 100.0));
        let md3 = &stat.arrays[1];
        assert_eq!(md3.superblock, None, "0.90 superblocks are not named");
        assert_eq!(md3.raid_disks, None);
        assert_eq!(stat.arrays[2].raid10_layout, Some(Raid10Layout { near_copies: 1, far_copies: 2, offset: true }));
        assert_eq!(stat.unused_devices, ["sdx1", "sdy1"]);
    }

    #[test]
    fn bad_header_is_an_error_with_line_number() {
        let err = parse_mdstat("Personalities : \nmd0 : sleeping raid1 sda1[0]\n").unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
        assert!(parse_mdstat("md0 : active raid1 sda1[x]\n").is_err());
        assert!(parse_mdstat("md0 : active sda1[0]\n").is_err());
        assert!(parse_mdstat("md0 : active raid1 sda1[0]\n      [==>...]  recovery = lots%\n").is_err());
    }

    #[test]
    fn parent_disks() {
        let cases = [
            ("sda1", Some("sda")),
            ("sdab12", Some("sdab")),
            ("sda", Some("sda")),
            ("nvme0n1p2", Some("nvme0n1")),
            ("nvme0n1", Some("nvme0n1")),
            ("nvme10n1p10", Some("nvme10n1")),
            ("mmcblk0p1", Some("mmcblk0")),
            ("vdb1", Some("vdb")),
            ("dm-3", None),
            ("loop0", None),
            ("md0", None),
            ("", None),
            ("123", Some("123")),
        ];
        for (member, disk) in cases {
            assert_eq!(parent_disk(member).as_deref(), disk, "{member}");
        }
    }
}
