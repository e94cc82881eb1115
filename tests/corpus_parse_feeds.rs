//! IntelMQ's own test cases for the feed parsers (copied from the shared corpus)
//! through `imq-parse --intelmq MODULE --params FILE`.
mod common;

#[test]
fn parser_feed_cases() {
    let root =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/corpus/parser-feeds");
    common::corpus::run_cases(env!("CARGO_BIN_EXE_imq-parse"), &root, &[]);
}
