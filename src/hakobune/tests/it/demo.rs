//! The newcomer's first command: `hakobune demo`.

use std::collections::BTreeSet;
use std::process::Command;

use crate::harness::*;

#[test]
fn demo_feeds_all_36_kinds_from_three_hospitals_and_the_result_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("var");
    let port = |_| std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (mllp, http) = (port(0), port(1));
    let out = Command::new(bin())
        .args(["demo", "--exit", "--patients", "4", "--data"])
        .arg(&data)
        .args(["--mllp", &format!("127.0.0.1:{mllp}"), "--http", &format!("127.0.0.1:{http}")])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("見る場所 / where to look"), "{stdout}");

    let index = hakobune_index::Index::open_read_only(&data.join("index.sqlite")).unwrap();
    let docs = index.all_documents().unwrap();
    let kinds: BTreeSet<(String, String)> =
        docs.iter().map(|d| (d.data_type.clone(), d.message_type.clone())).collect();
    assert_eq!(kinds.len(), 36, "{kinds:?}");
    let facilities: BTreeSet<&str> = docs.iter().map(|d| d.facility_id.as_str()).collect();
    assert!(facilities.len() >= 3, "{facilities:?}");
    assert!(docs.iter().any(|d| d.condition_flag == 2), "no updates in the demo traffic");
    assert!(docs.iter().any(|d| d.condition_flag == 0), "no cancellations in the demo traffic");

    let verify = Command::new(bin()).args(["verify", "--data"]).arg(&data).output().unwrap();
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stdout));

    // Running the demo again is harmless: everything is recognised as already stored.
    let again = Command::new(bin())
        .args(["demo", "--exit", "--patients", "4", "--data"])
        .arg(&data)
        .args(["--mllp", &format!("127.0.0.1:{mllp}"), "--http", &format!("127.0.0.1:{http}")])
        .output()
        .unwrap();
    assert!(again.status.success());
    let index = hakobune_index::Index::open_read_only(&data.join("index.sqlite")).unwrap();
    assert_eq!(index.all_documents().unwrap().len(), docs.len());
}
