use super::*;

fn entry(stem_ts: &str, processing: Processing, seq: u64) -> Entry {
    let key_prefix = "9999013_20110701_OMP-01_000000011000185_".to_string();
    Entry {
        volume_label: "STD01".into(),
        facility_id: "1234567890".into(),
        patient_id: "9999013".into(),
        order_date: "20110701".into(),
        data_kind: "OMP-01".into(),
        order_no: "000000011000185".into(),
        processing,
        enter_org_cd: "01".into(),
        transaction_datetime: stem_ts.into(),
        out_rel_directory: "999/901/9999013/20110701/OMP-01".into(),
        stem: format!("{key_prefix}{stem_ts}_01"),
        key_prefix,
        control_id: format!("C{seq}"),
        message_type: "RDE^O11".into(),
        byte_len: 100,
        sha256: format!("{seq:064}"),
        wal_seq: seq,
        received_at: "2026-11-25T00:00:00Z".into(),
        extension: String::new(),
    }
}

fn flags(ix: &Index) -> Vec<(String, u8)> {
    let q = DocumentQuery {
        facility_id: "1234567890".into(),
        patient_id: "9999013".into(),
        include_history: true,
        ..Default::default()
    };
    let mut v: Vec<_> = ix.documents(&q).unwrap().into_iter().map(|d| (d.file_name, d.condition_flag)).collect();
    v.sort();
    v
}

fn apply_all(ix: &mut Index, entries: &[Entry]) {
    let mut b = ix.batch().unwrap();
    for e in entries {
        b.apply(e, "2026-11-25 00:00:00").unwrap();
    }
    b.commit().unwrap();
}

#[test]
fn versions_follow_condition_flag_rules_and_replay_converges() {
    let dir = tempfile::tempdir().unwrap();
    let mut ix = Index::open(&dir.path().join("index.sqlite")).unwrap();
    let seq = [
        entry("20110701100000000", Processing::Ins, 1),
        entry("20110701110000000", Processing::Ins, 2),
        entry("20110701120000000", Processing::Ins, 3),
    ];
    apply_all(&mut ix, &seq);
    let after_updates = flags(&ix);
    assert_eq!(
        after_updates.iter().map(|(n, f)| (&n[n.len() - 22..], *f)).collect::<Vec<_>>(),
        vec![("20110701100000000_01_2", 2), ("20110701110000000_01_2", 2), ("20110701120000000_01_1", 1)]
    );
    // Replaying from any earlier point converges to the same state.
    for start in 0..seq.len() {
        apply_all(&mut ix, &seq[start..]);
        assert_eq!(flags(&ix), after_updates, "replay from {start}");
    }

    let del = entry("20110701130000000", Processing::Del, 4);
    apply_all(&mut ix, std::slice::from_ref(&del));
    let after_delete = flags(&ix);
    assert!(after_delete.iter().all(|(n, f)| *f == 0 && n.ends_with("_0")), "{after_delete:?}");
    assert_eq!(after_delete.len(), 4);
    let mut all = seq.to_vec();
    all.push(del);
    for start in 0..all.len() {
        apply_all(&mut ix, &all[start..]);
        assert_eq!(flags(&ix), after_delete, "replay from {start}");
    }
}

#[test]
fn duplicates_checkpoints_and_queries() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("index.sqlite");
    let mut ix = Index::open(&path).unwrap();
    assert_eq!(ix.checkpoint().unwrap(), Checkpoint::default());
    let e = entry("20110701100000000", Processing::Ins, 7);
    let mut b = ix.batch().unwrap();
    b.apply(&e, "now").unwrap();
    b.set_checkpoint(&Checkpoint { wal_seq: 7, store_state: "{}".into() }).unwrap();
    b.commit().unwrap();
    assert!(ix.contains_message("1234567890", "C7", &e.sha256).unwrap());
    assert!(!ix.contains_message("1234567890", "C7", &"f".repeat(64)).unwrap());
    assert!(ix.stem_exists("1234567890", &e.out_rel_directory, &e.stem).unwrap());
    assert_eq!(ix.checkpoint().unwrap().wal_seq, 7);
    drop(ix);

    let ro = Index::open_read_only(&path).unwrap();
    let q = |from: Option<&str>, to: Option<&str>, t: Option<&str>| DocumentQuery {
        facility_id: "1234567890".into(),
        patient_id: "9999013".into(),
        data_type: t.map(Into::into),
        from: from.map(Into::into),
        to: to.map(Into::into),
        ..Default::default()
    };
    assert_eq!(ro.documents(&q(None, None, None)).unwrap().len(), 1);
    assert_eq!(ro.documents(&q(Some("20110702"), None, None)).unwrap().len(), 0);
    assert_eq!(ro.documents(&q(Some("20110701"), Some("20110701"), None)).unwrap().len(), 1);
    assert_eq!(ro.documents(&q(None, None, Some("OMP-02"))).unwrap().len(), 0);
    let doc = &ro.documents(&q(None, None, None)).unwrap()[0];
    assert_eq!(ro.document(doc.id).unwrap().as_ref(), Some(doc));
    assert_eq!(ro.stats().unwrap().documents, 1);
}
