//! Prints the default demo traffic as UTF-8 (CR shown as LF) with a per-kind summary.

use std::collections::BTreeMap;

fn main() {
    let config = hakobune_demo::DemoConfig::default();
    let messages = hakobune_demo::generate(&config);
    let mut counts: BTreeMap<(&str, &str, &str), usize> = BTreeMap::new();
    let verbose = std::env::args().any(|a| a == "-v");
    for m in &messages {
        *counts.entry((m.kind, m.message_type, m.expected_processing.as_str())).or_default() += 1;
        if verbose {
            println!(
                "==== {} {} {} {} care={:?}",
                m.facility_name, m.kind, m.message_type, m.expected_processing, m.care_date
            );
            println!("{}", m.text().replace('\r', "\n"));
        }
    }
    for ((kind, mt, p), n) in &counts {
        println!("{kind:7} {mt:8} {p} {n}");
    }
    println!("total {}", messages.len());
}
