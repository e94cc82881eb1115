//! IntelMQ's own expert test cases (copied from the shared corpus) through
//! `imq-enrich --intelmq MODULE --params FILE`.
mod common;

#[test]
fn expert_cases() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/corpus/expert");
    common::corpus::run_cases(env!("CARGO_BIN_EXE_imq-enrich"), &root, &[]);
}
