//! IntelMQ's own expert test cases (copied from the shared corpus) through
//! `imq-enrich --intelmq MODULE --params FILE`. The filter and sieve experts are
//! imq-filter's (tests/corpus_filter.rs).
mod common;

#[test]
fn expert_cases() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/corpus/expert");
    let mut bots: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir() && !p.ends_with("filter") && !p.ends_with("sieve"))
        .collect();
    bots.sort();
    assert!(!bots.is_empty());
    for bot in bots {
        common::corpus::run_cases(env!("CARGO_BIN_EXE_imq-enrich"), &bot, &[]);
    }
}
