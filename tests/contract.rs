//! The stream contract every tool shares: wire format in and out, the dump, the
//! counters, exit statuses, `| head`, streaming, replaying a fixed dump.
mod common;

use common::run::{cmd, lines, run};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::Stdio;

const COLLECT: &str = env!("CARGO_BIN_EXE_imq-collect");
const PARSE: &str = env!("CARGO_BIN_EXE_imq-parse");
const ENRICH: &str = env!("CARGO_BIN_EXE_imq-enrich");
const FILTER: &str = env!("CARGO_BIN_EXE_imq-filter");
const OUTPUT: &str = env!("CARGO_BIN_EXE_imq-output");

/// Each tool with the arguments that make it a plain pass-through of events.
fn passthrough_tools() -> Vec<(&'static str, Vec<&'static str>)> {
    vec![
        (ENRICH, vec!["taxonomy"]),
        (FILTER, vec!["exists source.ip"]),
        (OUTPUT, vec!["json"]),
    ]
}

const GOOD: &str = r#"{"source.ip": "192.0.2.1", "classification.type": "scanner"}"#;
const BROKEN: &str = r#"{"source.ip": "192.0.2.1", "#;
const BAD_IP: &str = r#"{"source.ip": "999.1.1.1"}"#;

fn dump_records(path: &std::path::Path) -> Vec<Value> {
    lines(&std::fs::read(path).unwrap_or_default())
}

#[test]
fn acceptance_one_event_two_dumps_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = cmd(ENRICH, dir.path());
    c.args(["taxonomy", "--dump", "d.ndjson"]);
    let out = run(&mut c, format!("{GOOD}\n{BROKEN}\n{BAD_IP}\n").as_bytes());
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let evs = lines(&out.stdout);
    assert_eq!(evs.len(), 1);
    assert_eq!(evs[0]["classification.taxonomy"], "information-gathering");
    assert_eq!(evs[0]["__type"], "Event");
    let d = dump_records(&dir.path().join("d.ndjson"));
    assert_eq!(d.len(), 2);
    assert_eq!(d[0]["line"], 2);
    assert_eq!(d[0]["raw"], BROKEN);
    assert_eq!(d[0]["tool"], "imq-enrich");
    assert_eq!(d[0]["input"], "<stdin>");
    assert!(
        d[0]["error"].as_str().unwrap().starts_with("invalid JSON"),
        "{}",
        d[0]
    );
    assert_eq!(d[1]["line"], 3);
    assert!(
        d[1]["error"].as_str().unwrap().contains("source.ip"),
        "{}",
        d[1]
    );
    assert!(d[1]["time"].as_str().unwrap().ends_with("+00:00"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("<stdin>:2:") && err.contains("<stdin>:3:"),
        "{err}"
    );
}

#[test]
fn every_tool_dumps_bad_lines_and_counts() {
    let input = format!(
        "{GOOD}\n{BROKEN}\n{BAD_IP}\n{}\n{}\n{}\n{}\n{}\n",
        r#"{"source.ip": "192.0.2.2", "no.such.field": 1}"#,
        r#"{"source.ip": "192.0.2.3", "time.source": "not a time at all"}"#,
        // Valid JSON for Python, but a lone surrogate is no Rust string.
        r#"{"source.ip": "192.0.2.4", "feed.name": "a\ud800b"}"#,
        // Repeated keys: the last counts, as in Python's json.loads.
        r#"{"source.ip": "999.1.1.1", "feed.name": "x", "source.ip": "192.0.2.5"}"#,
        GOOD
    );
    for (bin, args) in passthrough_tools() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = cmd(bin, dir.path());
        c.args(&args).args(["--verbose", "--dump", "d.ndjson"]);
        let out = run(&mut c, input.as_bytes());
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(1), "{bin}: {err}");
        let evs = lines(&out.stdout);
        assert_eq!(evs.len(), 3, "{bin}");
        assert_eq!(evs[1]["source.ip"], "192.0.2.5", "{bin}");
        let d = dump_records(&dir.path().join("d.ndjson"));
        let reasons: Vec<&str> = d.iter().map(|r| r["error"].as_str().unwrap()).collect();
        assert_eq!(d.len(), 5, "{bin}: {reasons:?}");
        assert!(reasons[4].contains("surrogate"), "{reasons:?}");
        assert!(
            reasons[2].contains("invalid key") && reasons[2].contains("no.such.field"),
            "{reasons:?}"
        );
        assert!(reasons[3].contains("time.source"), "{reasons:?}");
        // in == out + filtered + dumped
        let counts = err
            .lines()
            .find(|l| l.contains(" in "))
            .unwrap_or_else(|| panic!("{bin}: {err}"));
        assert!(
            counts.contains("in 8, out 3, filtered 0, dumped 5"),
            "{bin}: {counts}"
        );
    }
}

#[test]
fn non_utf8_lines_keep_their_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = cmd(ENRICH, dir.path());
    c.args(["taxonomy", "--dump", "d.ndjson", "-q"]);
    let bad = b"{\"comment\": \"caf\xe9\"}\n";
    let out = run(&mut c, bad);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stderr.is_empty(),
        "-q: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let d = dump_records(&dir.path().join("d.ndjson"));
    use base64::Engine;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(d[0]["raw_base64"].as_str().unwrap())
        .unwrap();
    assert_eq!(raw, &bad[..bad.len() - 1]);
}

#[test]
fn filtered_events_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = cmd(FILTER, dir.path());
    c.args(["source.ip == \"192.0.2.1\"", "--verbose"]);
    let out = run(
        &mut c,
        format!("{GOOD}\n{}\n", r#"{"source.ip": "192.0.2.7"}"#).as_bytes(),
    );
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("in 2, out 1, filtered 1, dumped 0"), "{err}");
}

#[test]
fn fixed_dump_can_be_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = cmd(ENRICH, dir.path());
    c.args(["taxonomy", "--dump", "d.ndjson"]);
    let out = run(&mut c, format!("{BAD_IP}\n").as_bytes());
    assert_eq!(out.status.code(), Some(1));
    // The analyst fixes the address in the dump and feeds it back.
    let dump = std::fs::read_to_string(dir.path().join("d.ndjson")).unwrap();
    std::fs::write(
        dir.path().join("fixed.ndjson"),
        dump.replace("999.1.1.1", "192.0.2.99"),
    )
    .unwrap();
    let mut c = cmd(ENRICH, dir.path());
    c.args([
        "taxonomy",
        "--from-dump",
        "-i",
        "fixed.ndjson",
        "--dump",
        "d2.ndjson",
    ]);
    let out = run(&mut c, b"");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let evs = lines(&out.stdout);
    assert_eq!(evs.len(), 1);
    assert_eq!(evs[0]["source.ip"], "192.0.2.99");
    assert!(!dir.path().join("d2.ndjson").exists());
}

#[test]
fn strict_stops_at_first_rejected_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = cmd(ENRICH, dir.path());
    c.args(["taxonomy", "--strict", "--dump", "d.ndjson"]);
    let out = run(&mut c, format!("{GOOD}\n{BAD_IP}\n{GOOD}\n").as_bytes());
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(lines(&out.stdout).len(), 1);
    assert_eq!(dump_records(&dir.path().join("d.ndjson")).len(), 1);
}

#[test]
fn default_dump_location_is_documented_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        cmd(ENRICH, dir.path()).args(["taxonomy"]),
        format!("{BAD_IP}\n").as_bytes(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(dir.path().join("imq-enrich.dump.ndjson").exists());
    let sub = dir.path().join("dumps");
    std::fs::create_dir(&sub).unwrap();
    let mut c = cmd(ENRICH, dir.path());
    c.arg("taxonomy").env("IMQ_DUMP_DIR", &sub);
    let out = run(&mut c, format!("{BAD_IP}\n").as_bytes());
    assert_eq!(out.status.code(), Some(1));
    assert!(sub.join("imq-enrich.dump.ndjson").exists());
}

#[test]
fn overlong_lines_are_dumped_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = cmd(ENRICH, dir.path());
    c.args(["taxonomy", "--max-line-bytes", "100", "--dump", "d.ndjson"]);
    let long = format!(r#"{{"comment": "{}"}}"#, "x".repeat(500));
    let out = run(&mut c, format!("{long}\n{GOOD}\n").as_bytes());
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(lines(&out.stdout).len(), 1);
    let d = dump_records(&dir.path().join("d.ndjson"));
    assert!(
        d[0]["error"]
            .as_str()
            .unwrap()
            .contains("line too long: 515 bytes"),
        "{}",
        d[0]
    );
}

#[test]
fn fatal_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        cmd(ENRICH, dir.path()).args(["taxonomy", "-i", "missing.ndjson"]),
        b"",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.ndjson"));
    let out = run(cmd(ENRICH, dir.path()).args(["no-such-expert"]), b"");
    assert_eq!(out.status.code(), Some(2));
    let out = run(cmd(PARSE, dir.path()).args(["no-such-parser"]), b"");
    assert_eq!(out.status.code(), Some(2));
    let out = run(cmd(OUTPUT, dir.path()).args(["--no-such-flag"]), b"");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn intelmq_wire_lines_round_trip() {
    // A line as IntelMQ writes it to Redis: spaces, \u escapes, __type last.
    let line = r#"{"feed.name": "Test \u00e4", "source.ip": "192.0.2.1", "source.asn": 64496, "extra.list": [1, "a"], "raw": "dGVzdA==", "__type": "Event"}"#;
    let out = run(
        cmd(OUTPUT, std::path::Path::new(".")).args(["json"]),
        format!("{line}\n").as_bytes(),
    );
    assert_eq!(out.status.code(), Some(0));
    let ev = &lines(&out.stdout)[0];
    assert_eq!(ev["feed.name"], "Test ä");
    assert_eq!(ev["source.asn"], 64496);
    assert_eq!(ev["extra.list"], serde_json::json!([1, "a"]));
    assert_eq!(ev["__type"], "Event");
    // Sanitation on input, as IntelMQ's message constructor does.
    let messy = r#"{"source.ip": "192.0.2.1/32", "source.asn": "AS64496", "source.url": " http://example.com/x", "destination.url": "hxxp://example.com/y", "source.fqdn": "Example.COM.", "comment": "-", "extra": {"b": 1, "a": 2}}"#;
    let out = run(
        cmd(OUTPUT, std::path::Path::new(".")).args(["json"]),
        format!("{messy}\n").as_bytes(),
    );
    let ev = &lines(&out.stdout)[0];
    assert_eq!(ev["source.ip"], "192.0.2.1");
    assert_eq!(ev["source.asn"], 64496);
    assert_eq!(ev["source.url"], "http://example.com/x");
    // Valid as it is (Python's urlsplit finds a host): IntelMQ keeps it unchanged.
    assert_eq!(ev["destination.url"], "hxxp://example.com/y");
    assert_eq!(ev["source.fqdn"], "example.com");
    assert!(ev.get("comment").is_none());
    assert_eq!(ev["extra.a"], 2);
    // Our output is valid input again, unchanged.
    let again = run(
        cmd(OUTPUT, std::path::Path::new(".")).args(["json"]),
        &out.stdout,
    );
    assert_eq!(again.stdout, out.stdout);
}

/// `... | head -1`: downstream closes the pipe; every tool stops quietly with 0.
#[test]
fn closed_stdout_ends_quietly() {
    let event = format!("{GOOD}\n");
    let big = event.repeat(300_000);
    for (bin, args) in passthrough_tools() {
        let mut c = cmd(bin, std::path::Path::new("."));
        c.args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let input = big.clone();
        let w = std::thread::spawn(move || {
            let _ = stdin.write_all(input.as_bytes());
        });
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        assert!(first.contains("192.0.2.1"));
        drop(stdout); // like `head -1` exiting
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let status = child.wait().unwrap();
        w.join().unwrap();
        assert_eq!(status.code(), Some(0), "{bin}: {err}");
        assert!(err.is_empty(), "{bin}: {err}");
    }
}

/// `tail -f log | imq-enrich ...`: output appears while input is still open.
#[test]
fn output_streams_while_input_is_open() {
    for (bin, args) in passthrough_tools() {
        let mut c = cmd(bin, std::path::Path::new("."));
        c.args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = c.spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(format!("{GOOD}\n").as_bytes()).unwrap();
        stdin.flush().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        std::thread::spawn(move || {
            let mut l = String::new();
            let _ = stdout.read_line(&mut l);
            let _ = tx.send(l);
        });
        let got = rx.recv_timeout(std::time::Duration::from_secs(10));
        drop(stdin);
        let _ = child.wait();
        assert!(
            got.expect("no output before end of input")
                .contains("192.0.2.1"),
            "{bin}"
        );
    }
}

#[test]
fn version_and_help_with_examples() {
    for bin in [COLLECT, PARSE, ENRICH, FILTER, OUTPUT] {
        let out = run(cmd(bin, std::path::Path::new(".")).arg("--version"), b"");
        assert_eq!(out.status.code(), Some(0));
        assert!(String::from_utf8_lossy(&out.stdout).contains(env!("CARGO_PKG_VERSION")));
        let out = run(cmd(bin, std::path::Path::new(".")).arg("--help"), b"");
        assert_eq!(out.status.code(), Some(0), "{bin}");
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(help.contains("Examples:"), "{bin} --help has no examples");
        assert!(
            help.contains("EXIT STATUS") || help.contains("Exit status"),
            "{bin} --help: exit status"
        );
    }
}

/// The first pipeline of the README, offline, on the example shipped in the repo.
#[test]
fn readme_pipeline_runs() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = root.join("examples/pipeline.sh");
    let out = std::process::Command::new("bash")
        .arg(&script)
        .current_dir(root)
        .env("IMQ_BIN", std::path::Path::new(PARSE).parent().unwrap())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<&str> = csv.lines().collect();
    assert!(rows[0].starts_with("time.source,"), "{csv}");
    assert_eq!(rows.len(), 5, "{csv}");
    assert!(
        rows.iter().skip(1).all(|r| r.contains("malicious-code")),
        "{csv}"
    );
}

#[test]
fn collect_parse_pipeline_keeps_feed_fields() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut c = cmd(COLLECT, root);
    c.args([
        "file",
        "examples/feodo.json",
        "--feed-name",
        "Feodo Tracker",
        "--feed-provider",
        "abuse.ch",
    ]);
    let reports = run(&mut c, b"");
    assert_eq!(reports.status.code(), Some(0));
    let r = &lines(&reports.stdout)[0];
    assert_eq!(r["__type"], "Report");
    assert!(r["time.observation"].as_str().unwrap().ends_with("+00:00"));
    let mut c = cmd(PARSE, root);
    c.args(["abusech-feodotracker", "--verbose"]);
    let out = run(&mut c, &reports.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let evs = lines(&out.stdout);
    assert_eq!(evs.len(), 4);
    for e in &evs {
        assert_eq!(e["feed.name"], "Feodo Tracker");
        assert_eq!(e["feed.provider"], "abuse.ch");
        assert_eq!(e["time.observation"], r["time.observation"]);
    }
    assert!(String::from_utf8_lossy(&out.stderr).contains("in 4, out 4, filtered 0, dumped 0"));
}
