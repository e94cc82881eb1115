//! The Shadowserver parsers with schemas of our own (tests/data/shadowserver):
//! events as IntelMQ 3.5.0 makes them from the same files (the `*.intelmq.ndjson`
//! files were produced by IntelMQ's bot with `demo-schema.json` installed), the
//! JSON variant, and installing the schema (import, download from a loopback
//! server, checksums, the error when it is missing).
mod support;

use base64::Engine;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use support::http::{text, HttpServer};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/shadowserver")
        .join(name)
}

/// imq-parse with its own state directory and no proxy (only loopback is used).
fn parse_bin(state: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_imq-parse"));
    // The default dump goes to the state directory, never the project root.
    c.env("IMQ_STATE_DIR", state)
        .env("IMQ_DUMP_DIR", state)
        .env_remove("IMQ_DUMP")
        .env_remove("XDG_STATE_HOME");
    for v in [
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
    ] {
        c.env_remove(v);
    }
    c
}

fn run(cmd: &mut Command, stdin: &[u8]) -> Output {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

/// The command succeeded; else its stderr says why.
fn assert_ok(out: &Output) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn events(out: &[u8]) -> Vec<Map<String, Value>> {
    String::from_utf8_lossy(out)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut m: Map<String, Value> = serde_json::from_str(l).unwrap();
            m.remove("time.observation");
            m.remove("__type");
            m
        })
        .collect()
}

fn expected(name: &str) -> Vec<Map<String, Value>> {
    events(&std::fs::read(data(name)).unwrap())
}

fn schema_param() -> String {
    format!("schema_file={}", data("demo-schema.json").display())
}

fn report(raw: &[u8], file_name: &str) -> String {
    let mut r = Map::new();
    r.insert("__type".into(), "Report".into());
    r.insert("feed.name".into(), "Shadowserver".into());
    r.insert(
        "time.observation".into(),
        "2024-05-03T00:00:00+00:00".into(),
    );
    r.insert("extra.file_name".into(), file_name.into());
    r.insert(
        "raw".into(),
        base64::engine::general_purpose::STANDARD.encode(raw).into(),
    );
    serde_json::to_string(&r).unwrap() + "\n"
}

#[test]
fn csv_reports_give_what_intelmq_gives() {
    let state = tempfile::tempdir().unwrap();
    let dump = state.path().join("dump.ndjson");
    for (csv, file_name, want, dumped) in [
        (
            "scan_demo.csv",
            "2024-05-02-scan_demo-world.csv",
            "scan_demo.intelmq.ndjson",
            1,
        ),
        (
            "event4_demo.csv",
            "event4_demo.csv",
            "event4_demo.intelmq.ndjson",
            0,
        ),
    ] {
        let raw = std::fs::read(data(csv)).unwrap();
        // A report (the whole-buffer path) ...
        let out = run(
            parse_bin(state.path())
                .args(["shadowserver", "-q", "-p", &schema_param(), "--dump"])
                .arg(&dump),
            report(&raw, file_name).as_bytes(),
        );
        assert_eq!(out.status.code(), Some(dumped), "{csv}");
        assert_eq!(events(&out.stdout), expected(want), "{csv}");
        // ... and the raw file (streamed), its type told by its name.
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join(file_name);
        std::fs::write(&f, &raw).unwrap();
        let out = run(
            parse_bin(state.path())
                .args(["shadowserver", "-q", "-p", &schema_param()])
                .args(["--set", "feed.name=Shadowserver", "--dump"])
                .arg(&dump)
                .arg(&f),
            b"",
        );
        assert_eq!(out.status.code(), Some(dumped), "{csv}");
        assert_eq!(events(&out.stdout), expected(want), "{csv} streamed");
    }
    // The failed line went to the dump with the header, as IntelMQ's raw.
    let last = std::fs::read_to_string(&dump).unwrap();
    let d: Value = serde_json::from_str(last.lines().next().unwrap()).unwrap();
    assert!(d["error"].as_str().unwrap().contains("convert_int"), "{d}");
    let rep: Value = serde_json::from_str(d["raw"].as_str().unwrap()).unwrap();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(rep["raw"].as_str().unwrap())
        .unwrap();
    assert!(String::from_utf8(raw)
        .unwrap()
        .ends_with("\"unused\"\n\"2024-05-02 10:00:02\",0.0.0.0,x"));
}

/// Odd CSV: repeated, missing and surplus columns, quoted line breaks, CR and
/// mixed line ends, NUL bytes, a byte order mark, blank lines, a header only.
#[test]
fn odd_csv_like_intelmq() {
    let state = tempfile::tempdir().unwrap();
    let out = run(
        parse_bin(state.path()).args([
            "shadowserver",
            "-q",
            "-p",
            &schema_param(),
            "--dump",
            "/dev/null",
        ]),
        &std::fs::read(data("edge-reports.ndjson")).unwrap(),
    );
    assert_eq!(out.status.code(), Some(1), "two lines fail, as in IntelMQ");
    assert_eq!(events(&out.stdout), expected("edge-reports.intelmq.ndjson"));
}

#[test]
fn streaming_strips_the_feed_like_intelmq() {
    let state = tempfile::tempdir().unwrap();
    let raw = std::fs::read_to_string(data("event4_demo.csv")).unwrap();
    let messy = format!(" \r\n{}  \r\n\r\n", raw.replace('\n', "\r\n").trim_end());
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("event4_demo.csv");
    std::fs::write(&f, &messy).unwrap();
    let streamed = run(
        parse_bin(state.path())
            .args(["shadowserver", "-q", "-p", &schema_param()])
            .args(["--set", "feed.name=Shadowserver"])
            .arg(&f),
        b"",
    );
    let whole = run(
        parse_bin(state.path()).args(["shadowserver", "-q", "-p", &schema_param()]),
        report(messy.as_bytes(), "event4_demo.csv").as_bytes(),
    );
    assert_eq!(events(&streamed.stdout), events(&whole.stdout));
    assert_eq!(events(&whole.stdout).len(), 2);
}

#[test]
fn feedname_and_overwrite() {
    let state = tempfile::tempdir().unwrap();
    let raw = std::fs::read(data("event4_demo.csv")).unwrap();
    // `feedname` fixes the report type, whatever the file is called.
    let out = run(
        parse_bin(state.path()).args([
            "--intelmq",
            "intelmq.bots.parsers.shadowserver.parser",
            "-p",
            &schema_param(),
            "-p",
            "feedname=Demo-Event",
            "-p",
            "overwrite=true",
        ]),
        report(&raw, "whatever.txt").as_bytes(),
    );
    assert_eq!(out.status.code(), Some(0));
    let evs = events(&out.stdout);
    let mut want = expected("event4_demo.intelmq.ndjson");
    for w in &mut want {
        w.insert("feed.name".into(), "Demo-Event".into());
    }
    assert_eq!(evs, want);
    // Without it, a name that is no report type is the report's failure.
    let out = run(
        parse_bin(state.path()).args(["shadowserver", "-q", "-p", &schema_param()]),
        report(&raw, "2024-05-02-nothing_known.csv").as_bytes(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
}

#[test]
fn json_records_map_like_csv_rows() {
    let state = tempfile::tempdir().unwrap();
    let records = [
        r#"{"timestamp": "2024-05-02T10:00:00Z", "src_ip": "192.0.2.10", "src_net": "192.0.2.0/24", "dst_host": "c2.example.net", "category": "", "detail": "mirai-variant", "infection": "ignored", "payload": "aGVsbG8=", "first_seen": "2024-05-01 00:00:00", "count": 3, "extra_col": ""}"#,
        r#"{"timestamp": "2024-05-02T10:00:01+02:00", "src_ip": "2001:db8::1", "src_net": "10.0.0.1", "dst_host": "192.0.2.99", "category": "botnet", "detail": "x", "infection": "y", "payload": "hello world", "first_seen": "2024-04-30 12:00:00", "count": 0, "extra_col": "a \"quoted\" value", "gone": null}"#,
    ];
    let list = format!("[\n{}\n]", records.join(",\n"));
    let lines = records.join("\n") + "\n";
    let mut want = expected("event4_demo.intelmq.ndjson");
    for w in &mut want {
        w.remove("raw");
    }
    // `null` is no value, but the key is a column like any other.
    want[1].insert("extra.gone".into(), Value::Null);
    for (input, name) in [
        (&list, "2024-05-02-event4_demo.json"),
        (&lines, "event4_demo.csv"),
    ] {
        let out = run(
            parse_bin(state.path()).args(["shadowserver-json", "-q", "-p", &schema_param()]),
            report(input.as_bytes(), name).as_bytes(),
        );
        assert_ok(&out);
        let mut evs = events(&out.stdout);
        let raw0 = evs[0].remove("raw").unwrap();
        evs[1].remove("raw");
        assert_eq!(evs, want);
        let raw0 = base64::engine::general_purpose::STANDARD
            .decode(raw0.as_str().unwrap())
            .unwrap();
        let back: Value = serde_json::from_slice(&raw0).unwrap();
        assert_eq!(back, serde_json::from_str::<Value>(records[0]).unwrap());
    }
}

#[test]
fn json_parser_reads_the_csv_the_api_collector_delivers() {
    let state = tempfile::tempdir().unwrap();
    let raw = std::fs::read(data("event4_demo.csv")).unwrap();
    let out = run(
        parse_bin(state.path()).args(["shadowserver-json", "-q", "-p", &schema_param()]),
        report(&raw, "2024-05-02-event4_demo.csv").as_bytes(),
    );
    assert_eq!(events(&out.stdout), expected("event4_demo.intelmq.ndjson"));
}

#[test]
fn missing_schema_names_the_command() {
    let state = tempfile::tempdir().unwrap();
    for parser in ["shadowserver", "shadowserver-json"] {
        let out = run(parse_bin(state.path()).arg(parser), b"");
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("imq-parse --shadowserver-schema-update"),
            "{err}"
        );
        assert!(err.contains("shadowserver-schema.json"), "{err}");
    }
    // IntelMQ's test_mode uses the test schema it bundles: no file needed.
    let out = run(
        parse_bin(state.path()).args(["shadowserver", "-p", "test_mode=true"]),
        b"",
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn import_checks_and_installs() {
    let state = tempfile::tempdir().unwrap();
    let installed = state.path().join("shadowserver-schema.json");
    let demo = data("demo-schema.json");
    let out = run(
        parse_bin(state.path())
            .arg("--shadowserver-schema-import")
            .arg(&demo),
        b"",
    );
    assert_ok(&out);
    assert!(String::from_utf8_lossy(&out.stderr).contains("2 report types"));
    assert_eq!(
        std::fs::read(&installed).unwrap(),
        std::fs::read(&demo).unwrap()
    );
    // The installed schema is used without any parameter.
    let raw = std::fs::read(data("event4_demo.csv")).unwrap();
    let out = run(
        parse_bin(state.path()).arg("shadowserver"),
        report(&raw, "event4_demo.csv").as_bytes(),
    );
    assert_eq!(events(&out.stdout), expected("event4_demo.intelmq.ndjson"));
    // Same version again: nothing to do.
    let out = run(
        parse_bin(state.path())
            .arg("--shadowserver-schema-import")
            .arg(&demo),
        b"",
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("up to date"));
    // A file that is no schema, or not the expected one, is refused; the
    // installed schema stays.
    for args in [
        vec![
            "--shadowserver-schema-import".to_string(),
            data("broken-schema.json").display().to_string(),
        ],
        vec![
            "--shadowserver-schema-import".to_string(),
            data("scan_demo.csv").display().to_string(),
        ],
        vec![
            "--shadowserver-schema-import".to_string(),
            demo.display().to_string(),
            "--sha256".to_string(),
            "0".repeat(64),
        ],
    ] {
        let out = run(parse_bin(state.path()).args(&args), b"");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
    assert_eq!(
        std::fs::read(&installed).unwrap(),
        std::fs::read(&demo).unwrap()
    );
    // `schema_file` installs elsewhere.
    let other = state.path().join("sub/other.json");
    let out = run(
        parse_bin(state.path())
            .arg("--shadowserver-schema-import")
            .arg(&demo)
            .args(["-p", &format!("schema_file={}", other.display())]),
        b"",
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(other.is_file());
}

fn sha256_hex(data: &[u8]) -> String {
    imq::parse::shadowserver_schema::sha256_hex(data)
}

#[test]
fn update_downloads_and_verifies() {
    let schema = std::fs::read_to_string(data("demo-schema.json")).unwrap();
    let sum = sha256_hex(schema.as_bytes());
    let good = HttpServer::start(vec![
        ("GET /intelmq/v1/schema", text(200, &schema)),
        (
            "GET /intelmq/v1/schema.sha256",
            text(200, &format!("{sum}  schema\n")),
        ),
    ]);
    let state = tempfile::tempdir().unwrap();
    let url = format!("{}/intelmq/v1/schema", good.url());
    let out = run(
        parse_bin(state.path()).args(["--shadowserver-schema-update", &url]),
        b"",
    );
    assert_ok(&out);
    let installed = state.path().join("shadowserver-schema.json");
    assert_eq!(std::fs::read_to_string(&installed).unwrap(), schema);
    let seen: Vec<String> = good.requests().iter().map(|r| r.target.clone()).collect();
    assert!(
        seen.contains(&"/intelmq/v1/schema.sha256".to_string()),
        "{seen:?}"
    );

    // A checksum file that does not match: refused.
    let bad = HttpServer::start(vec![
        ("GET /schema", text(200, &schema)),
        ("GET /schema.sha256", text(200, &"1".repeat(64))),
    ]);
    let state2 = tempfile::tempdir().unwrap();
    let out = run(
        parse_bin(state2.path()).args([
            "--shadowserver-schema-update",
            &format!("{}/schema", bad.url()),
        ]),
        b"",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("SHA-256 mismatch"));
    assert!(!state2.path().join("shadowserver-schema.json").exists());

    // No checksum file (404): --sha256 given, or the schema check alone.
    let plain = HttpServer::start(vec![
        ("GET /s", text(200, &schema)),
        ("GET /broken", text(200, "{\"not\": \"a schema\"}")),
        ("GET /gone", text(404, "")),
    ]);
    let out = run(
        parse_bin(state2.path()).args([
            "--shadowserver-schema-update",
            &format!("{}/s", plain.url()),
            "--sha256",
            &sum,
        ]),
        b"",
    );
    assert_ok(&out);
    for path in ["/broken", "/gone"] {
        let state3 = tempfile::tempdir().unwrap();
        let out = run(
            parse_bin(state3.path()).args([
                "--shadowserver-schema-update",
                &format!("{}{path}", plain.url()),
            ]),
            b"",
        );
        assert_eq!(out.status.code(), Some(2), "{path}");
        assert!(!state3.path().join("shadowserver-schema.json").exists());
    }
}

/// Column names become `extra.*` keys in one place, under IntelMQ's key rule:
/// a name that breaks it (a quote, a line break, a space, upper case) makes its
/// rows dumped with the reason, and what is written is JSON every tool reads.
/// (IntelMQ writes such keys, and its next bot rejects the event.)
#[test]
fn column_names_are_checked_keys() {
    let state = tempfile::tempdir().unwrap();
    let dump = state.path().join("dump.ndjson");
    let good = std::fs::read_to_string(data("event4_demo.csv")).unwrap();
    let (head, rows) = good.split_once('\n').unwrap();
    for bad in ["q\"\"uote", "new\nline", "two words", "Upper", "a\\b"] {
        let csv = format!("{head},\"{bad}\"\n{}", rows.replace('\n', ",v\n"));
        let _ = std::fs::remove_file(&dump);
        let out = run(
            parse_bin(state.path())
                .args(["shadowserver", "-q", "-p", &schema_param(), "--dump"])
                .arg(&dump),
            report(csv.as_bytes(), "event4_demo.csv").as_bytes(),
        );
        assert_eq!(out.status.code(), Some(1), "{bad:?}");
        assert!(out.stdout.is_empty(), "{bad:?}");
        let d = std::fs::read_to_string(&dump).unwrap();
        let recs: Vec<Value> = d
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(recs.len(), rows.lines().count(), "{bad:?}");
        for r in recs {
            let why = r["error"].as_str().unwrap();
            assert!(why.contains("invalid key 'extra."), "{bad:?}: {why}");
        }
    }
    // The JSON parser: the same rule for record keys.
    let out = run(
        parse_bin(state.path()).args(["shadowserver-json", "-p", &schema_param()]),
        report(
            br#"[{"timestamp": "2024-05-02T10:00:00Z", "src_ip": "192.0.2.10", "Bad\"Key\n": 1}]"#,
            "2024-05-02-event4_demo.json",
        )
        .as_bytes(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid key"));
}

/// A row with 40,000 columns of its own takes time linear in them (a linear
/// search per key made this seconds per row).
#[test]
fn many_unknown_columns_are_linear() {
    let state = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(data("event4_demo.csv")).unwrap();
    let (head, rows) = good.split_once('\n').unwrap();
    let row = rows.lines().next().unwrap();
    let n = 40_000;
    let names: String = (0..n).map(|i| format!(",col_{i}")).collect();
    let values: String = (0..n).map(|i| format!(",{i}")).collect();
    let csv = format!("{head}{names}\n{row}{values}\n{row}{values}\n");
    let t = std::time::Instant::now();
    let out = run(
        parse_bin(state.path()).args(["shadowserver", "-q", "-p", &schema_param()]),
        report(csv.as_bytes(), "event4_demo.csv").as_bytes(),
    );
    let secs = t.elapsed().as_secs_f64();
    assert_ok(&out);
    let evs = events(&out.stdout);
    assert_eq!(evs.len(), 2);
    assert!(evs[1].contains_key("extra.col_39999"));
    assert!(secs < 20.0, "{secs} s");
}
