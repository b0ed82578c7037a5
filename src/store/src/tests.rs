use std::path::Path;

use hakobune_index::{Entry, Index, Processing};

use crate::*;

use hakobune_index::fixtures::omp01 as entry;

fn msg(n: u32) -> Vec<u8> {
    format!("MSH|^~\\&|HIS|SEND|GW|RCV|20110701000000||RDE^O11^RDE_O11|C{n}|P|2.5\rPID|0001||9999013^^^^PI\r")
        .into_bytes()
}

fn tree(root: &Path) -> Vec<String> {
    list_storage_files(&root.join("ssmix2/1234567890"))
        .unwrap()
        .into_iter()
        .map(|f| format!("{}/{}", f.rel_dir, f.name))
        .collect()
}

fn opts() -> StoreOptions {
    StoreOptions {
        free_space_floor: 0,
        checkpoint_interval: std::time::Duration::from_millis(50),
        ..Default::default()
    }
}

async fn submit(store: &Store, e: Entry, raw: Vec<u8>) -> Outcome {
    store.submit(Submission { entry: e, raw }).await.unwrap()
}

const ORDER: &str = "000000011000185";
const DIR: &str = "999/901/9999013/20110701/OMP-01";

#[tokio::test(flavor = "multi_thread")]
async fn versions_duplicates_collisions_and_transaction_storage() {
    let dir = tempfile::tempdir().unwrap();
    let (store, report) = Store::open(Layout::new(dir.path()), opts()).unwrap();
    // A new data directory: nothing to recover, so nothing to call unclean.
    assert!(report.fresh && report.previous_shutdown_clean);
    let o1 = submit(&store, entry(ORDER, "20110701100000000", Processing::Ins, "C1"), msg(1)).await;
    assert_eq!(
        o1,
        Outcome::Stored { seq: 1, file_name: format!("9999013_20110701_OMP-01_{ORDER}_20110701100000000_01_1") }
    );
    // A resend of the same bytes under the same control ID is a duplicate.
    assert_eq!(
        submit(&store, entry(ORDER, "20110701100000000", Processing::Ins, "C1"), msg(1)).await,
        Outcome::Duplicate
    );
    // An update with the same 発生日時 (a sender with coarse clocks) gets the next millisecond.
    let o2 = submit(&store, entry(ORDER, "20110701100000000", Processing::Ins, "C2"), msg(2)).await;
    assert_eq!(
        o2,
        Outcome::Stored { seq: 2, file_name: format!("9999013_20110701_OMP-01_{ORDER}_20110701100000001_01_1") }
    );
    let other = "000000011000186";
    submit(&store, entry(other, "20110701110000000", Processing::Ins, "C3"), msg(3)).await;
    submit(&store, entry(other, "20110701120000000", Processing::Del, "C4"), msg(4)).await;
    store.wait_applied(4).await.unwrap();
    assert_eq!(
        tree(dir.path()),
        vec![
            format!("{DIR}/9999013_20110701_OMP-01_{ORDER}_20110701100000000_01_2"),
            format!("{DIR}/9999013_20110701_OMP-01_{ORDER}_20110701100000001_01_1"),
            format!("{DIR}/9999013_20110701_OMP-01_{other}_20110701110000000_01_0"),
            format!("{DIR}/9999013_20110701_OMP-01_{other}_20110701120000000_01_0"),
        ]
    );
    let current = std::fs::read(
        dir.path().join(format!("ssmix2/1234567890/{DIR}/9999013_20110701_OMP-01_{ORDER}_20110701100000001_01_1")),
    )
    .unwrap();
    assert_eq!(current, msg(2));
    store.close().unwrap();
    drop(store);

    // Transaction storage: one file, four records, header then message.
    let trs = std::fs::read_dir(dir.path().join("transactions/1234567890/2026")).unwrap().flatten().collect::<Vec<_>>();
    assert_eq!(trs.len(), 1);
    let name = trs[0].file_name().into_string().unwrap();
    assert_eq!(name, "TR_20261125100000000_00001.DAT");
    let tr = String::from_utf8(std::fs::read(trs[0].path()).unwrap()).unwrap();
    let headers: Vec<_> = tr.split('\r').filter(|l| l.starts_with("#SSMIX")).collect();
    assert_eq!(headers.len(), 4);
    assert_eq!(headers[3], format!("#SSMIX,2.00,1234567890,9999013,20110701,OMP-01,{other},DEL,01,20110701120000000"));
    // Every header reads back with the SS-MIX2 crate's parser.
    for h in &headers {
        let parsed = hakobune_ssmix2::TransactionHeader::parse(h).unwrap();
        assert_eq!(parsed.to_string(), *h);
    }

    let (store, report) = Store::open(Layout::new(dir.path()), opts()).unwrap();
    assert!(report.previous_shutdown_clean);
    assert_eq!(report.replayed, 0);
    assert_eq!(store.status().committed_seq, 4);
    // Duplicates are recognised across restarts too.
    assert_eq!(
        submit(&store, entry(ORDER, "20110701100000000", Processing::Ins, "C2"), msg(2)).await,
        Outcome::Duplicate
    );
    store.close().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn recovery_replays_after_lost_checkpoint_torn_tail_and_missing_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (store, _) = Store::open(Layout::new(root), opts()).unwrap();
    for i in 0..5u32 {
        let ts = format!("2011070110000000{i}");
        submit(&store, entry(ORDER, &ts, Processing::Ins, &format!("C{i}")), msg(i)).await;
    }
    submit(&store, entry("000000011000999", "20110701130000000", Processing::Ins, "X"), msg(99)).await;
    store.wait_applied(6).await.unwrap();
    while store.status().checkpoint_seq < 6 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    drop(store); // no clean shutdown
    let before = tree(root);
    let tr_before = std::fs::read_dir(root.join("transactions/1234567890/2026"))
        .unwrap()
        .flatten()
        .map(|e| std::fs::read(e.path()).unwrap())
        .collect::<Vec<_>>();

    // Damage: lose the checkpoint, lose a file and a rename, add a torn unacknowledged write.
    {
        let conn_path = root.join("index.sqlite");
        let mut ix = Index::open(&conn_path).unwrap();
        let mut b = ix.batch().unwrap();
        b.set_checkpoint(&hakobune_index::Checkpoint { wal_seq: 0, store_state: String::new() }).unwrap();
        b.commit().unwrap();
    }
    let base = root.join(format!("ssmix2/1234567890/{DIR}"));
    std::fs::remove_file(base.join(format!("9999013_20110701_OMP-01_{ORDER}_20110701100000004_01_1"))).unwrap();
    std::fs::rename(
        base.join(format!("9999013_20110701_OMP-01_{ORDER}_20110701100000002_01_2")),
        base.join(format!("9999013_20110701_OMP-01_{ORDER}_20110701100000002_01_1")),
    )
    .unwrap();
    std::fs::write(base.join("000000011000999_corrupt"), b"not ours").unwrap();
    let seg = std::fs::read_dir(root.join("wal")).unwrap().flatten().last().unwrap().path();
    // The segment is preallocated with zeros: the torn write lands right after the last record.
    let data = std::fs::read(&seg).unwrap();
    let valid_end = data.len() - data.iter().rev().take_while(|&&b| b == 0).count();
    let f = std::fs::OpenOptions::new().write(true).open(&seg).unwrap();
    std::os::unix::fs::FileExt::write_all_at(&f, b"HKW1\x40\x00\x00\x00garbage", valid_end as u64).unwrap();
    drop(f);
    std::fs::remove_file(base.join("000000011000999_corrupt")).unwrap();

    let (store, report) = Store::open(Layout::new(root), opts()).unwrap();
    assert!(!report.previous_shutdown_clean);
    assert_eq!(report.checkpoint, 0);
    assert_eq!(report.replayed, 6);
    assert_eq!(report.truncated_bytes, 15);
    assert_eq!(tree(root), before);
    let tr_after = std::fs::read_dir(root.join("transactions/1234567890/2026"))
        .unwrap()
        .flatten()
        .map(|e| std::fs::read(e.path()).unwrap())
        .collect::<Vec<_>>();
    // The transaction file was rebuilt from scratch (the lost checkpoint had no TR state).
    assert_eq!(tr_after, tr_before);
    let ix = Index::open_read_only(&root.join("index.sqlite")).unwrap();
    let flags: Vec<_> = ix.all_documents().unwrap().into_iter().map(|d| d.condition_flag).collect();
    assert_eq!(flags, vec![2, 2, 2, 2, 1, 1]);
    // New work continues the sequence.
    let o = submit(&store, entry(ORDER, "20110701140000000", Processing::Del, "D"), msg(100)).await;
    assert!(matches!(o, Outcome::Stored { seq: 7, .. }), "{o:?}");
    store.close().unwrap();
}

#[test]
fn a_second_process_cannot_open_the_same_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let (_store, _) = Store::open(Layout::new(dir.path()), opts()).unwrap();
    assert!(matches!(Store::open(Layout::new(dir.path()), opts()), Err(StoreError::Locked(_))));
}

#[test]
fn quarantine_keeps_bytes_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let q = Quarantine::new(dir.path().join("q"), dir.path().join("tmp"));
    let reason = QuarantineReason {
        received_at: "2026-11-25T10:00:00.123+09:00".into(),
        peer: "127.0.0.1:5555".into(),
        facility_id: None,
        control_id: None,
        ack_code: "AR".into(),
        kind: "not-hl7".into(),
        detail: "message does not start with an MSH segment".into(),
    };
    let p = q.keep(b"GET / HTTP/1.1\r\n", &reason).unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), b"GET / HTTP/1.1\r\n");
    assert!(p.starts_with(dir.path().join("q/20261125")));
    let listed = q.list(10).unwrap();
    assert_eq!(listed, vec![(p, reason)]);
}

#[tokio::test(flavor = "multi_thread")]
async fn legacy_files_with_extensions_are_versioned_too() {
    let dir = tempfile::tempdir().unwrap();
    // A storage written by an older system: the current version carries a .hl7 extension and a
    // trailing MLLP end-block byte.
    let base = dir.path().join(format!("ssmix2/1234567890/{DIR}"));
    std::fs::create_dir_all(&base).unwrap();
    let legacy = format!("9999013_20110701_OMP-01_{ORDER}_20100101000000000_01_1.hl7");
    std::fs::write(base.join(&legacy), b"MSH|^~\\&|OLD\r\x1c").unwrap();
    let (store, _) = Store::open(Layout::new(dir.path()), opts()).unwrap();
    submit(&store, entry(ORDER, "20110701100000000", Processing::Ins, "N1"), msg(1)).await;
    store.wait_applied(1).await.unwrap();
    let mut names: Vec<_> =
        std::fs::read_dir(&base).unwrap().flatten().map(|e| e.file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            format!("9999013_20110701_OMP-01_{ORDER}_20100101000000000_01_2.hl7"),
            format!("9999013_20110701_OMP-01_{ORDER}_20110701100000000_01_1"),
        ]
    );
    store.close().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn recycled_wal_segments_replay_only_their_own_records() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // Tiny segments so that many rotations, checkpoints and recyclings happen.
    let small = StoreOptions { wal_segment_bytes: 4096, ..opts() };
    let (store, _) = Store::open(Layout::new(root), small.clone()).unwrap();
    for i in 0..300u32 {
        let ts = format!("201107011{:08}", i);
        submit(&store, entry(&format!("{:015}", i % 40), &ts, Processing::Ins, &format!("R{i}")), msg(i)).await;
        if i % 50 == 0 {
            store.wait_applied(u64::from(i) + 1).await.unwrap();
            while store.status().checkpoint_seq < u64::from(i) + 1 {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        }
    }
    store.wait_applied(300).await.unwrap();
    drop(store); // no clean shutdown
    assert!(root.join("wal/recycled.wal.old").exists() || std::fs::read_dir(root.join("wal")).unwrap().count() > 1);
    let before = tree(root);
    // Lose the checkpoint: every segment still present is scanned; stale records in recycled
    // segments must not be replayed or mistaken for corruption.
    {
        let mut ix = Index::open(&root.join("index.sqlite")).unwrap();
        let cp = ix.checkpoint().unwrap();
        let mut b = ix.batch().unwrap();
        b.set_checkpoint(&hakobune_index::Checkpoint {
            wal_seq: cp.wal_seq.saturating_sub(20),
            store_state: cp.store_state,
        })
        .unwrap();
        b.commit().unwrap();
    }
    let (store, report) = Store::open(Layout::new(root), small).unwrap();
    assert_eq!(report.last_seq, 300);
    assert_eq!(tree(root), before);
    let o = submit(&store, entry("000000000000999", "20110701300000000", Processing::Ins, "after"), msg(999)).await;
    assert!(matches!(o, Outcome::Stored { seq: 301, .. }), "{o:?}");
    store.close().unwrap();
}
