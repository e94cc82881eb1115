//! imq-parse on raw feed files: the streaming path gives the same events as
//! parsing a report, a bad record goes to the dump and the others go on, and the
//! feed registry is listed and usable.
use serde_json::Value;
use std::process::{Command, Stdio};

/// imq-parse with its default dump in a directory of the test run (never in the
/// project root).
fn parse_bin() -> Command {
    static DUMPS: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    let dir = DUMPS.get_or_init(|| tempfile::tempdir().unwrap());
    let mut c = Command::new(env!("CARGO_BIN_EXE_imq-parse"));
    c.env("IMQ_DUMP_DIR", dir.path()).env_remove("IMQ_DUMP");
    c
}

fn events(out: &[u8]) -> Vec<serde_json::Map<String, Value>> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| {
            let mut m: serde_json::Map<String, Value> = serde_json::from_str(l).unwrap();
            m.remove("time.observation");
            m
        })
        .collect()
}

const CSV: &str = "# comment\n2024-01-01 10:00:00,192.0.2.1,Emotet\n2024-01-01 11:00:00,not-an-ip,Dridex\n\n2024-01-02 10:00:00,192.0.2.3,QakBot\n";

fn csv_args(cmd: &mut Command) -> &mut Command {
    cmd.args([
        "-p",
        r#"columns=["time.source","source.ip","malware.name"]"#,
        "-p",
        "type=c2-server",
        "-q",
    ])
}

#[test]
fn raw_csv_streams_and_dumps_bad_records() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("feed.csv");
    std::fs::write(&feed, CSV).unwrap();
    let dump = dir.path().join("dump.ndjson");
    let out = csv_args(parse_bin().arg("generic-csv"))
        .arg(&feed)
        .arg("--dump")
        .arg(&dump)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "a record was dumped");
    let evs = events(&out.stdout);
    assert_eq!(evs.len(), 2);
    assert_eq!(evs[1]["source.ip"], "192.0.2.3");
    assert_eq!(evs[0]["classification.type"], "c2-server");
    let d: Value = serde_json::from_str(std::fs::read_to_string(&dump).unwrap().trim()).unwrap();
    assert!(d["error"].as_str().unwrap().contains("source.ip"));
    let report: Value = serde_json::from_str(d["raw"].as_str().unwrap()).unwrap();
    use base64::Engine;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(report["raw"].as_str().unwrap())
        .unwrap();
    assert_eq!(raw, b"2024-01-01 11:00:00,not-an-ip,Dridex\n");

    // The same feed as a report (whole-buffer path) gives the same events.
    let b64 = base64::engine::general_purpose::STANDARD.encode(CSV);
    let report = format!("{{\"__type\":\"Report\",\"raw\":\"{b64}\",\"time.observation\":\"2024-01-01T00:00:00+00:00\"}}\n");
    let mut child = csv_args(parse_bin().arg("generic-csv"))
        .args(["--dump", dump.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(report.as_bytes())
        .unwrap();
    let out2 = child.wait_with_output().unwrap();
    assert_eq!(events(&out2.stdout), evs);
}

#[test]
fn raw_json_list_streams() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("feodo.json");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/examples/feodo.json"),
        &feed,
    )
    .unwrap();
    let out = parse_bin()
        .args(["--feed", "abusech-feodo-tracker", "-q"])
        .arg(&feed)
        .output()
        .unwrap();
    assert!(out.status.success());
    let evs = events(&out.stdout);
    assert!(!evs.is_empty());
    assert_eq!(evs[0]["feed.name"], "Feodo Tracker");
    assert_eq!(evs[0]["feed.provider"], "Abuse.ch");
    assert_eq!(evs[0]["classification.type"], "c2-server");
}

#[test]
fn lists_parsers_and_feeds() {
    let out = parse_bin().arg("--list").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for p in ["generic-csv", "json", "key-value", "html-table", "misp"] {
        assert!(text.lines().any(|l| l.starts_with(p)), "{p} listed");
    }
    let out = parse_bin().arg("--list-feeds").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("spamhaus-drop") && text.contains("drop_v4.json"));
    assert!(text.contains("abusech-threatfox"));
}

/// `imq-parse feodotracker < feed.json`: raw data on stdin is recognized.
#[test]
fn raw_feed_on_stdin() {
    let feed = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/feodo.json")).unwrap();
    let mut child = parse_bin()
        .args(["feodotracker", "-q"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(&feed).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(events(&out.stdout).len(), 4);
}

/// With an `_on_error` destination path, the report of a failed record also goes
/// there (IntelMQ's ParserBot), marked with `__path`.
#[test]
fn on_error_path() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("f.csv");
    std::fs::write(&feed, "x,192.0.2.1\ny,bad\n").unwrap();
    let out = parse_bin()
        .args([
            "generic-csv",
            "-p",
            r#"columns=["extra.a","source.ip"]"#,
            "-p",
            "type=test",
        ])
        .args(["--paths", "_default,_on_error", "-q", "--dump"])
        .arg(dir.path().join("dump.ndjson"))
        .arg(&feed)
        .output()
        .unwrap();
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["__path"], "_on_error");
    assert_eq!(lines[1]["__type"], "Report");
    assert_eq!(lines[1]["raw"], "eSxiYWQK"); // "y,bad\n"
}

/// Compressed feeds and archives, as IntelMQ's collectors unpack them
/// (`extract_files`): gzip is its content, every zip or tar member is a report of
/// its own named in `extra.file_name`, which a dumped record keeps.
#[test]
fn raw_gzip_zip_and_tar_feeds() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let plain = csv_args(parse_bin().arg("generic-csv"))
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut plain = plain;
    plain
        .stdin
        .take()
        .unwrap()
        .write_all(CSV.as_bytes())
        .unwrap();
    let want = events(&plain.wait_with_output().unwrap().stdout);
    assert_eq!(want.len(), 2);

    let gz = dir.path().join("feed.csv.gz");
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(CSV.as_bytes()).unwrap();
    std::fs::write(&gz, e.finish().unwrap()).unwrap();

    let zip = dir.path().join("feeds.zip");
    let mut w = zip::ZipWriter::new(std::fs::File::create(&zip).unwrap());
    for name in ["a.csv", "b.csv"] {
        w.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(CSV.as_bytes()).unwrap();
    }
    w.finish().unwrap();

    let tgz = dir.path().join("feeds.tar.gz");
    let mut t = tar::Builder::new(flate2::write::GzEncoder::new(
        std::fs::File::create(&tgz).unwrap(),
        flate2::Compression::fast(),
    ));
    let mut h = tar::Header::new_gnu();
    h.set_size(CSV.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    t.append_data(&mut h, "c.csv", CSV.as_bytes()).unwrap();
    t.into_inner().unwrap().finish().unwrap();

    for (file, copies, names) in [
        (&gz, 1, vec!["feed.csv.gz"]),
        (&zip, 2, vec!["a.csv", "b.csv"]),
        (&tgz, 1, vec!["c.csv"]),
    ] {
        let dump = dir.path().join("dump.ndjson");
        let _ = std::fs::remove_file(&dump);
        let out = csv_args(parse_bin().arg("generic-csv"))
            .arg(file)
            .arg("--dump")
            .arg(&dump)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{file:?}: the bad record");
        let got = events(&out.stdout);
        let want: Vec<_> = (0..copies).flat_map(|_| want.clone()).collect();
        assert_eq!(got, want, "{file:?}");
        let dumped: Vec<String> = std::fs::read_to_string(&dump)
            .unwrap()
            .lines()
            .map(|l| {
                let d: Value = serde_json::from_str(l).unwrap();
                let report: Value = serde_json::from_str(d["raw"].as_str().unwrap()).unwrap();
                report["extra.file_name"].as_str().unwrap().to_string()
            })
            .collect();
        assert_eq!(dumped, names, "{file:?}");
    }
}
