//! The conformance corpus cases of IntelMQ's filter and sieve experts
//! (copied from /work/shared/corpus into tests/data/corpus/expert/).
mod common;

/// The filter expert sends to filter_match & co. only when they are
/// configured: the case's destination paths are passed with --paths.
const ARGS: &[&str] = &[
    "--intelmq",
    "{bot}",
    "--params",
    "{params_file}",
    "--paths",
    "{paths}",
];

#[test]
fn corpus_filter() {
    common::corpus::run_cases_with(
        env!("CARGO_BIN_EXE_imq-filter"),
        ARGS,
        "tests/data/corpus/expert/filter",
        &[],
    );
}

/// All of IntelMQ's sieve cases, including the date matches that need
/// dateutil's parsing of the input times.
#[test]
fn corpus_sieve() {
    common::corpus::run_cases_with(
        env!("CARGO_BIN_EXE_imq-filter"),
        ARGS,
        "tests/data/corpus/expert/sieve",
        &[],
    );
}
