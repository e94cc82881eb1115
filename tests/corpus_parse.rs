//! IntelMQ's own parser test cases (copied from the shared corpus) through
//! `imq-parse --intelmq MODULE --params FILE`.
mod common;

#[test]
fn parser_cases() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/corpus/parser");
    common::corpus::run_cases(env!("CARGO_BIN_EXE_imq-parse"), &root, KNOWN_FAILURES);
}

/// None: every case of IntelMQ's parsers copied here passes.
const KNOWN_FAILURES: &[&str] = &[];
