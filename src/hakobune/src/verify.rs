//! `hakobune verify`: storage tree, transaction storage and index must tell the same story.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use hakobune_index::{Entry, Index, Processing};
use hakobune_ssmix2::{ConditionFlag, FileName};
use hakobune_store::{Layout, Store, StoreOptions, list_storage_files, sha256_hex};

/// What verification found.
#[derive(Debug, Default)]
pub struct Findings {
    pub files: usize,
    pub rows: usize,
    pub transaction_records: usize,
    /// Files named with a legacy `.hl7`/`.txt` extension (accepted, not a problem).
    pub legacy_names: usize,
    pub problems: Vec<String>,
}

pub fn run(data: &Path, repair: bool) -> Result<ExitCode> {
    let layout = Layout::new(data);
    if !layout.index_path().exists() {
        anyhow::bail!("{} holds no Hakobune data (no index.sqlite)", data.display());
    }
    // Opening the store takes the data-directory lock (so no server is running) and replays any
    // write-ahead log the last run did not apply.
    let opts = StoreOptions { free_space_floor: 0, ..StoreOptions::default() };
    let (store, report) = Store::open(layout.clone(), opts).context("opening storage (is a server running on it?)")?;
    println!(
        "write-ahead log: last sequence {}, checkpoint {}, replayed {}, previous shutdown {}",
        report.last_seq,
        report.checkpoint,
        report.replayed,
        if report.previous_shutdown_clean { "clean" } else { "NOT clean (recovered)" }
    );
    if repair {
        rebuild_index(&layout)?;
    }
    let findings = check(&layout)?;
    store.close()?;
    drop(store);
    println!(
        "{} files ({} with a legacy .hl7/.txt extension), {} index rows, {} transaction records",
        findings.files, findings.legacy_names, findings.rows, findings.transaction_records
    );
    if findings.problems.is_empty() {
        println!("OK: storage, transaction storage and index agree");
        Ok(ExitCode::SUCCESS)
    } else {
        for p in findings.problems.iter().take(200) {
            println!("PROBLEM: {p}");
        }
        println!(
            "{} problems found{}",
            findings.problems.len(),
            if repair { "" } else { " (hakobune verify --repair rebuilds the index from the files)" }
        );
        Ok(ExitCode::from(1))
    }
}

fn facilities(layout: &Layout) -> Result<Vec<String>> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(layout.ssmix2_base()) {
        for e in rd.flatten() {
            if e.path().is_dir() {
                out.push(e.file_name().to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Runs every check.
pub fn check(layout: &Layout) -> Result<Findings> {
    let mut f = Findings::default();
    let index = Index::open_read_only(&layout.index_path())?;
    let rows = index.all_documents()?;
    f.rows = rows.len();
    let mut by_path: BTreeMap<(String, String, String), &hakobune_index::Document> = BTreeMap::new();
    for r in &rows {
        by_path.insert((r.facility_id.clone(), r.directory.clone(), r.file_name.clone()), r);
    }
    let mut seen = BTreeSet::new();
    let mut current_per_key: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    let facilities = facilities(layout)?;
    for fac in &facilities {
        for file in list_storage_files(&layout.ssmix2_root(fac))? {
            f.files += 1;
            let where_ = format!("{fac}/{}/{}", file.rel_dir, file.name);
            match FileName::parse_with_extension(&file.name) {
                Err(e) => f.problems.push(format!("{where_}: not an SS-MIX2 file name: {e}")),
                Ok((name, ext)) => {
                    if ext.is_some() {
                        f.legacy_names += 1;
                    }
                    if name.relative_dir() != file.rel_dir {
                        f.problems.push(format!(
                            "{where_}: stored in the wrong folder (its name says {})",
                            name.relative_dir()
                        ));
                    }
                    if name.flag == ConditionFlag::Current {
                        *current_per_key
                            .entry((fac.clone(), file.rel_dir.clone(), name.key.file_name_prefix()))
                            .or_default() += 1;
                    }
                }
            }
            let key = (fac.clone(), file.rel_dir.clone(), file.name.clone());
            match by_path.get(&key) {
                None => f.problems.push(format!("{where_}: file is not in the index")),
                Some(row) => {
                    let bytes =
                        std::fs::read(&file.path).with_context(|| format!("reading {}", file.path.display()))?;
                    if bytes.len() as u64 != row.byte_len || sha256_hex(&bytes) != row.sha256 {
                        f.problems.push(format!("{where_}: contents differ from what was stored (size or SHA-256)"));
                    }
                }
            }
            seen.insert(key);
        }
    }
    for (key, n) in current_per_key {
        if n > 1 {
            f.problems.push(format!("{}/{}: {} current (_1) versions of key {}", key.0, key.1, n, key.2));
        }
    }
    for (key, _) in by_path.iter().filter(|(k, _)| !seen.contains(*k)) {
        f.problems.push(format!("{}/{}/{}: indexed but the file is missing", key.0, key.1, key.2));
    }
    // Transaction storage: one record per stored message.
    let mut rows_per_facility: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &rows {
        *rows_per_facility.entry(r.facility_id.as_str()).or_default() += 1;
    }
    for fac in &facilities {
        let n = count_transaction_records(&layout.transactions_root(fac))?;
        f.transaction_records += n;
        let expected = rows_per_facility.get(fac.as_str()).copied().unwrap_or(0);
        if n != expected {
            f.problems.push(format!(
                "{fac}: transaction storage holds {n} records but the index holds {expected} stored messages"
            ));
        }
    }
    Ok(f)
}

fn count_transaction_records(root: &Path) -> Result<usize> {
    let mut n = 0;
    let Ok(years) = std::fs::read_dir(root) else {
        return Ok(0);
    };
    for y in years.flatten() {
        let Ok(files) = std::fs::read_dir(y.path()) else {
            continue;
        };
        for file in files.flatten() {
            let bytes = std::fs::read(file.path())?;
            n += bytes.split(|&b| b == b'\r').filter(|l| l.starts_with(b"#SSMIX,")).count();
        }
    }
    Ok(n)
}

/// Rebuilds every index row from the files themselves.
fn rebuild_index(layout: &Layout) -> Result<()> {
    let mut index = Index::open(&layout.index_path())?;
    index.clear()?;
    let mut batch = index.batch()?;
    let now = time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339)?;
    let mut rebuilt = 0usize;
    for fac in facilities(layout)? {
        for file in list_storage_files(&layout.ssmix2_root(&fac))? {
            let Ok((name, ext)) = FileName::parse_with_extension(&file.name) else {
                eprintln!("skipping {}: not an SS-MIX2 file name", file.path.display());
                continue;
            };
            let bytes = std::fs::read(&file.path)?;
            let text = encoding_rs::ISO_2022_JP
                .decode_without_bom_handling(hakobune_ssmix2::strip_storage_artifacts(&bytes))
                .0;
            let msg = hakobune_hl7::Message::parse(&text).ok();
            let processing = msg
                .as_ref()
                .and_then(|m| hakobune_ssmix2::classify(m, &hakobune_ssmix2::Rules::default()).ok())
                .map(|c| c.processing)
                .map(|p| if p == hakobune_ssmix2::ProcessingType::Del { Processing::Del } else { Processing::Ins })
                .unwrap_or(Processing::Ins);
            let get = |loc: &str| msg.as_ref().map(|m| m.get(loc).to_owned()).unwrap_or_default();
            let mtime = std::fs::metadata(&file.path)?.modified()?;
            let entry = Entry {
                volume_label: "STD01".into(),
                facility_id: fac.clone(),
                patient_id: name.key.patient_id.as_str().into(),
                order_date: name.key.care_date.as_str().into(),
                data_kind: name.key.data_type.code().into(),
                order_no: name.key.order_number.as_str().into(),
                processing,
                enter_org_cd: name.department.as_str().into(),
                transaction_datetime: name.occurred.as_str().into(),
                out_rel_directory: file.rel_dir.clone(),
                stem: name.stem(),
                key_prefix: name.key.file_name_prefix(),
                control_id: get("MSH-10"),
                message_type: format!("{}^{}", get("MSH-9.1"), get("MSH-9.2")),
                byte_len: bytes.len() as u64,
                sha256: sha256_hex(&bytes),
                wal_seq: 0,
                received_at: time::OffsetDateTime::from(mtime)
                    .format(&time::format_description::well_known::Rfc3339)?,
                extension: ext.map(|e| format!(".{e}")).unwrap_or_default(),
            };
            let flag = name.flag.as_char().to_digit(10).unwrap_or(1) as u8;
            batch.insert_as_found(&entry, flag, &now)?;
            rebuilt += 1;
        }
    }
    batch.commit()?;
    println!("index rebuilt from {rebuilt} files");
    Ok(())
}
