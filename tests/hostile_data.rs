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

const PARSE: &str = env!("CARGO_BIN_EXE_imq-parse");

/// A program that fails to start: exit 2, the reason on stderr, and no event
/// read or written.
fn assert_refused(bin: &str, args: &[String], want: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let mut c = cmd(bin, dir.path());
    c.args(args);
    let input = format!("{GOOD}\n");
    let o = run(&mut c, input.as_bytes());
    let err = stderr(&o);
    assert!(!err.contains("panicked"), "{args:?}: {err}");
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    assert!(o.stdout.is_empty(), "{args:?}");
    for w in want {
        assert!(err.contains(w), "{args:?}: {w:?} not in {err}");
    }
}

fn sieve_file(dir: &std::path::Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().to_string()
}

/// Time spans too long to compute with are errors of the program, found before
/// any input is read, with their position.
#[test]
fn time_overflow_is_a_program_error() {
    let s = |v: &str| vec![v.to_string()];
    for expr in [
        "time.source > now - 9999999999w",
        "time.source > now + 9999999999999999d",
        "time.source > now - 999999999999999999s",
        "time.source < now - 300000000d",
    ] {
        assert_refused(FILTER, &s(expr), &["out of range", "column"]);
    }
    assert_refused(
        FILTER,
        &s(r#"time.source < "10000000000 days""#),
        &["out of range"],
    );
    let dir = tempfile::tempdir().unwrap();
    for (n, text) in [
        "if time.source :before '10000000000 days' { drop }\n",
        "if time.source :after '999999999 weeks' { drop }\n",
        "update time.source += '10000000000 days'\n",
        "if source.ip == '192.0.2.1' {\n  add! time.source -= '99999999999 years'\n}\n",
    ]
    .iter()
    .enumerate()
    {
        let f = sieve_file(dir.path(), &format!("{n}.sieve"), text);
        assert_refused(FILTER, &["--sieve".into(), f], &["out of range", ":"]);
    }
    // The filter expert's not_before / not_after.
    for key in ["not_before", "not_after"] {
        let p = dir.path().join(format!("{key}.json"));
        std::fs::write(&p, format!(r#"{{"{key}": "10000000000 days"}}"#)).unwrap();
        let args = [
            "--intelmq".to_string(),
            "intelmq.bots.experts.filter.expert".into(),
            "--params".into(),
            p.to_string_lossy().to_string(),
        ];
        assert_refused(FILTER, &args, &["out of range"]);
    }
}

/// A span that is fine today but takes an event's own time out of range
/// rejects that event, and the run goes on.
#[test]
fn time_overflow_of_an_event_is_its_rejection() {
    let dir = tempfile::tempdir().unwrap();
    let f = sieve_file(
        dir.path(),
        "r.sieve",
        "update time.source += '259000 years'\n",
    );
    let input = concat!(
        r#"{"source.ip":"192.0.2.1","time.source":"9999-01-01T00:00:00+00:00"}"#,
        "\n",
        r#"{"source.ip":"192.0.2.2"}"#,
        "\n"
    );
    let mut c = cmd(FILTER, dir.path());
    c.args(["--sieve", &f, "--dump", "d.ndjson"]);
    let o = run(&mut c, input.as_bytes());
    let err = stderr(&o);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(lines(&o.stdout).len(), 1);
    let d = std::fs::read_to_string(dir.path().join("d.ndjson")).unwrap();
    assert!(d.contains("out of range"), "{d}");
}

/// Nesting that would take a stack per level is limited: programs fail at
/// start-up with a position, data is dumped with the reason.
#[test]
fn deep_nesting_is_limited() {
    let deep = |n: usize| format!("{}source.port == 1{}", "(".repeat(n), ")".repeat(n));
    assert_refused(FILTER, &[deep(10_000)], &["nested too deeply", "column"]);
    assert_refused(
        FILTER,
        &[format!("{}exists source.ip", "!".repeat(10_000))],
        &["nested too deeply"],
    );
    // Within the limit it works.
    let dir = tempfile::tempdir().unwrap();
    let mut c = cmd(FILTER, dir.path());
    c.arg(deep(150).replace("source.port == 1", "exists source.ip"));
    let o = run(&mut c, format!("{GOOD}\n").as_bytes());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(lines(&o.stdout).len(), 1);

    let blocks = |n: usize| {
        format!(
            "{}drop\n{}",
            "if :exists source.ip {\n".repeat(n),
            "}\n".repeat(n)
        )
    };
    let f = sieve_file(dir.path(), "deep.sieve", &blocks(10_000));
    assert_refused(FILTER, &["--sieve".into(), f], &["nested too deeply", ":"]);
    let parens = format!(
        "if {}:exists source.ip{} {{ drop }}\n",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    let f = sieve_file(dir.path(), "parens.sieve", &parens);
    assert_refused(FILTER, &["--sieve".into(), f], &["nested too deeply"]);
    let f = sieve_file(dir.path(), "ok.sieve", &blocks(150));
    let mut c = cmd(FILTER, dir.path());
    c.args(["--sieve", &f]);
    let o = run(&mut c, format!("{GOOD}\n").as_bytes());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(o.stdout.is_empty(), "dropped");

    // html-table: the report is dumped, the next one parsed.
    let page = |body: &str| {
        use base64::Engine;
        let raw = base64::engine::general_purpose::STANDARD.encode(body);
        format!(r#"{{"__type":"Report","feed.name":"t","raw":"{raw}"}}"#)
    };
    let ok = "<table><tr><th>h</th></tr><tr><td>x</td><td>example.com</td></tr></table>";
    let deep_ok = format!("{}{ok}", "<div>".repeat(1_500));
    let input = format!(
        "{}\n{}\n{}\n",
        page(&"<div>".repeat(100_000)),
        page(ok),
        page(&deep_ok)
    );
    let mut c = cmd(PARSE, dir.path());
    c.args(["html-table", "-p", "type=blacklist", "--dump", "h.ndjson"]);
    let o = run(&mut c, input.as_bytes());
    let err = stderr(&o);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(lines(&o.stdout).len(), 2, "{err}");
    let d = std::fs::read_to_string(dir.path().join("h.ndjson")).unwrap();
    assert!(d.contains("nested deeper than"), "{d}");
}
