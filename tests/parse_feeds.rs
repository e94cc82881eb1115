//! The feed parsers on IntelMQ's own unit-test samples for the bots that have no
//! shared corpus cases: `tests/data/parse/<bot>/<test>/` holds, per `run_bot()` of
//! an IntelMQ test method, the input report(s), the parameters, the events the
//! test asserts and how many events IntelMQ emitted (same layout as the corpus).
mod common;

#[test]
fn intelmq_unit_test_samples() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/parse");
    common::corpus::run_cases(env!("CARGO_BIN_EXE_imq-parse"), &root, &[]);
}
