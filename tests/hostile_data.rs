//! Hostile data through every tool that looks at values (issue 15): lines the
//! readers accept must decode later, programs that cannot be evaluated fail at
//! start-up, and nothing is quadratic or recursive in the size of a line.
mod common;

use common::run::{cmd, lines, run};
use std::process::Output;

const ENRICH: &str = env!("CARGO_BIN_EXE_imq-enrich");
const FILTER: &str = env!("CARGO_BIN_EXE_imq-filter");
const OUTPUT: &str = env!("CARGO_BIN_EXE_imq-output");

const GOOD: &str = r#"{"source.ip":"192.0.2.1","source.fqdn":"www.example.com","extra.x":"www.a.b","__type":"Event"}"#;

/// `extra.*` values a scanner accepts but serde_json does not decode: each line
/// goes to the dump on reading, and the good line after them passes.
fn undecodable() -> Vec<String> {
    let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    let mut v: Vec<String> = [
        r#"{"source.ip":"192.0.2.9","extra.x":1e400}"#.to_string(),
        format!(
            r#"{{"source.ip":"192.0.2.9","extra.x":1{}}}"#,
            "0".repeat(400)
        ),
        r#"{"source.ip":"192.0.2.9","extra.x":-1e400}"#.to_string(),
        r#"{"source.ip":"192.0.2.9","extra.x":[1,1e400]}"#.to_string(),
        r#"{"source.ip":"192.0.2.9","extra.x":{"a":"\udfff"}}"#.to_string(),
        r#"{"source.ip":"192.0.2.9","extra.x":{"\udfff":1}}"#.to_string(),
        r#"{"source.ip":"192.0.2.9","extra.x":["\ud800x"]}"#.to_string(),
        format!(r#"{{"source.ip":"192.0.2.9","extra.x":{}}}"#, deep(200)),
        format!(r#"{{"source.ip":"192.0.2.9","extra.x":{}}}"#, deep(100_000)),
    ]
    .into();
    // The same through the serde_json reader (a space makes the scanner give up).
    let spaced: Vec<String> = v.iter().map(|l| l.replacen(':', ": ", 1)).collect();
    v.extend(spaced);
    v
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// Each consumer of `extra.*` values named in the issue, set up to look at `extra.x`.
fn consumers(dir: &std::path::Path) -> Vec<(&'static str, Vec<String>)> {
    let state = |n: &str| dir.join(n).to_string_lossy().to_string();
    std::fs::write(
        dir.join("r.sieve"),
        "if extra.x == 'www.a.b' { add comment = 'x' }\n",
    )
    .unwrap();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    vec![
        (OUTPUT, s(&["csv", "--fields", "source.ip,extra.x"])),
        (OUTPUT, s(&["json"])),
        (FILTER, s(&["extra.x == 'www.a.b'"])),
        (FILTER, vec!["--sieve".into(), state("r.sieve")]),
        (
            ENRICH,
            vec![
                "deduplicator".into(),
                "--state-file".into(),
                state("d.redb"),
            ],
        ),
        (
            ENRICH,
            vec![
                "aggregate".into(),
                "--state-file".into(),
                state("a.redb"),
                "--fields".into(),
                "extra.x".into(),
            ],
        ),
        (
            ENRICH,
            vec![
                "threshold".into(),
                "--state-file".into(),
                state("t.redb"),
                "--threshold".into(),
                "1".into(),
            ],
        ),
        (
            ENRICH,
            s(&["field_reducer", "--type", "whitelist", "--keys", "extra.x"]),
        ),
        (ENRICH, s(&["format_field", "--strip-columns", "extra.x"])),
        (ENRICH, s(&["csv_converter", "--fieldnames", "extra.x"])),
        (ENRICH, s(&["truncate_by_delimiter", "--field", "extra.x"])),
        (ENRICH, s(&["remove_affix", "--field", "extra.x"])),
    ]
}

#[test]
fn undecodable_extra_values_are_dumped_on_reading() {
    let bad = undecodable();
    let mut input = String::new();
    for l in &bad {
        input.push_str(l);
        input.push('\n');
    }
    input.push_str(GOOD);
    input.push('\n');
    let dir = tempfile::tempdir().unwrap();
    for (bin, args) in consumers(dir.path()) {
        let name = format!("{} {}", bin.rsplit('/').next().unwrap(), args[0]);
        let dump = dir.path().join("dump.ndjson");
        let _ = std::fs::remove_file(&dump);
        let mut c = cmd(bin, dir.path());
        c.args(&args).arg("--dump").arg(&dump);
        let o = run(&mut c, input.as_bytes());
        let err = stderr(&o);
        assert!(!err.contains("panicked"), "{name}: {err}");
        assert_eq!(o.status.code(), Some(1), "{name}: {err}");
        let d = lines(&std::fs::read(&dump).unwrap_or_default());
        assert_eq!(d.len(), bad.len(), "{name}: {err}");
        for (rec, line) in d.iter().zip(&bad) {
            assert_eq!(rec["raw"], line.as_str(), "{name}");
            let why = rec["error"].as_str().unwrap();
            assert!(
                why.contains("extra.x")
                    || why.contains("out of range")
                    || why.contains("recursion limit"),
                "{name}: {why}"
            );
        }
        // The run went on: the good line after them came through (stages that
        // hold events back, deduplicator aside, pass or fold it).
        if args[0] != "aggregate" && args[0] != "threshold" {
            assert!(!o.stdout.is_empty(), "{name}: {err}");
        }
    }
}

/// Large, odd but decodable `extra.*` values are carried, not dumped.
#[test]
fn decodable_odd_extra_values_are_carried() {
    let input = concat!(
        r#"{"extra.a":123456789012345678901234567890,"extra.b":{"c":[1.5e300,"\ud83d\ude00",null,{}]},"extra.c":-0.0,"source.ip":"192.0.2.1"}"#,
        "\n"
    );
    for input in [input.to_string(), input.replacen(':', ": ", 1)] {
        let dir = tempfile::tempdir().unwrap();
        let mut c = cmd(FILTER, dir.path());
        c.args(["extra.a > 1 && exists extra.b"]);
        let o = run(&mut c, input.as_bytes());
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let ev = lines(&o.stdout);
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0]["extra.b"]["c"][1], "\u{1f600}");
    }
}
