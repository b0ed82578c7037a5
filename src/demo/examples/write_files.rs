//! Writes the default demo traffic to a directory, one file per message (for external checkers).

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "demo_out".to_string());
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("{dir}: {e}");
        return;
    }
    for (i, m) in hakobune_demo::generate(&hakobune_demo::DemoConfig::default()).iter().enumerate() {
        let name = format!(
            "{dir}/{i:05}_{}_{}_{}",
            m.kind,
            m.message_type.replace('^', "-"),
            m.care_date.as_deref().unwrap_or("-")
        );
        if let Err(e) = std::fs::write(&name, &m.bytes) {
            eprintln!("{name}: {e}");
        }
    }
}
