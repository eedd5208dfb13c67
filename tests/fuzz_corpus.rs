//! The fuzzers' corpus, replayed: every input under `fuzz/corpus/<target>/` (the seeds from
//! real and upstream responses, and what `cargo fuzz` kept as new coverage, crashes it found
//! included once fixed) goes through the same entry point as the fuzzer, in `cargo test` on
//! stable Rust. A panic, or a control character surviving sanitizing, fails the test with the
//! file named.

use std::path::Path;

#[test]
fn every_corpus_input_goes_through_its_parser_without_a_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let mut replayed = 0;
    for (name, run) in casefile::fuzzing::TARGETS {
        let dir = root.join(name);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("a corpus entry").path())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "{name}: no seeds in {}", dir.display());
        for path in files {
            let data = std::fs::read(&path).expect("read a corpus file");
            let outcome = std::panic::catch_unwind(|| run(&data));
            assert!(outcome.is_ok(), "{name}: {} panicked", path.display());
            replayed += 1;
        }
    }
    println!("replayed {replayed} corpus inputs");
}

#[test]
fn every_fuzz_target_has_a_corpus_and_a_fuzzer() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    for (name, _) in casefile::fuzzing::TARGETS {
        let target = root.join(format!("fuzz_targets/{name}.rs"));
        let source = std::fs::read_to_string(&target)
            .unwrap_or_else(|e| panic!("{}: {e}", target.display()));
        assert!(
            source.contains(&format!("casefile::fuzzing::{name}(")),
            "{} does not call casefile::fuzzing::{name}",
            target.display()
        );
    }
}
