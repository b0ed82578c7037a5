//! The parsers and judgements never panic: every fixture, cut at every position and mutated at
//! random, goes through parse → assess → alarms.

use std::path::Path;

use hakobune_health::{
    ArrayHealth, DiskHealth, DiskThresholds, HealthReport, SourceStatus, assess_array, assess_disk, parse_mdadm_detail,
    parse_mdstat, parse_smartctl_json,
};

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n.max(1)).unwrap_or(1)).unwrap_or(0)
    }
}

fn fixtures(dir: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(dir);
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&path).expect("fixture dir") {
        let entry = entry.expect("entry");
        out.push(std::fs::read_to_string(entry.path()).expect("fixture text"));
    }
    assert!(!out.is_empty());
    out
}

/// Every prefix, plus mutated copies (bytes replaced by interesting characters, lines duplicated
/// or dropped).
fn variants(text: &str, rng: &mut Rng) -> Vec<String> {
    let mut out: Vec<String> = text.char_indices().map(|(i, _)| text[..i].to_owned()).collect();
    const INTERESTING: [&str; 14] =
        ["[", "]", "(", ")", "=", "%", "/", ":", " ", "\n", "-", "9999999999999999999999", "é", "\t"];
    for _ in 0..300 {
        let mut chars: Vec<String> = text.chars().map(String::from).collect();
        for _ in 0..=rng.below(4) {
            let at = rng.below(chars.len());
            if let Some(slot) = chars.get_mut(at) {
                *slot = INTERESTING[rng.below(INTERESTING.len())].to_owned();
            }
        }
        out.push(chars.concat());
        let mut lines: Vec<&str> = text.lines().collect();
        if !lines.is_empty() {
            let at = rng.below(lines.len());
            if rng.next().is_multiple_of(2) {
                lines.remove(at);
            } else {
                let line = lines[at];
                lines.insert(at, line);
            }
        }
        out.push(lines.join("\n"));
    }
    out
}

fn judge_all(mdstat: Option<&str>, detail: Option<&str>, smart: Option<&str>) {
    let detail = detail.and_then(|t| parse_mdadm_detail(t).ok());
    let mut arrays = Vec::new();
    if let Some(Ok(stat)) = mdstat.map(parse_mdstat) {
        for array in stat.arrays {
            let state = assess_array(&array, detail.as_ref());
            arrays.push(ArrayHealth {
                name: array.name.clone(),
                state,
                mdstat: array,
                detail: detail.clone(),
                detail_source: SourceStatus::Ok,
            });
        }
    }
    let mut disks = Vec::new();
    if let Some(Ok(report)) = smart.map(parse_smartctl_json) {
        disks.push(DiskHealth {
            device: "/dev/sdx".into(),
            member_of: vec![],
            state: assess_disk(&report, &DiskThresholds::default()),
            smart: Some(report),
            source: SourceStatus::Ok,
        });
    }
    let report = HealthReport::new(SourceStatus::Ok, arrays, disks, None, SourceStatus::Disabled, true);
    serde_json::to_string(&report).expect("a report always serializes");
}

#[test]
fn mdstat_never_panics() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for text in fixtures("mdstat") {
        for variant in variants(&text, &mut rng) {
            judge_all(Some(&variant), None, None);
        }
    }
}

#[test]
fn mdadm_detail_never_panics() {
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    let mdstat = fixtures("mdstat").into_iter().next();
    for text in fixtures("mdadm") {
        for variant in variants(&text, &mut rng) {
            judge_all(mdstat.as_deref(), Some(&variant), None);
        }
    }
}

#[test]
fn smartctl_json_never_panics() {
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    for text in fixtures("smartctl") {
        // Prefixes of JSON are mostly invalid; the mutations exercise odd values in valid JSON too.
        for variant in variants(&text, &mut rng) {
            judge_all(None, None, Some(&variant));
        }
        // Type confusion in valid JSON: numbers where strings are, and the reverse.
        let swapped = text.replace(": 0", ": \"0\"").replace(": true", ": 1").replace("\"now\"", "[]");
        judge_all(None, None, Some(&swapped));
    }
}
