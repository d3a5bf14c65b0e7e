//! Replays every committed corpus file of every fuzz target (`fuzz/corpus/<target>/`)
//! through the same function the fuzzer runs, so that CI checks each on every run.

use std::path::PathBuf;

#[test]
fn every_corpus_file_of_every_target_passes() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    let mut failed = Vec::new();
    for target in secgroup_fuzz::TARGETS {
        let dir = root.join(target);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.expect("entry").path())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "{target}: no seeds");
        for file in files {
            // A running fuzzer may replace its own (uncommitted) entries meanwhile.
            let data = match std::fs::read(&file) {
                Ok(data) => data,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => panic!("{}: {e}", file.display()),
            };
            let outcome = std::panic::catch_unwind(|| secgroup_fuzz::run(target, &data));
            if outcome.is_err() {
                failed.push(format!("{target}: {}", file.display()));
            }
        }
    }
    assert!(
        failed.is_empty(),
        "failing corpus files:\n{}",
        failed.join("\n")
    );
}
