//! Regression tests of issue 15 (hardening): what hostile input and a first-time
//! user broke. Each test failed before its fix.

mod common;

use common::run::{cmd, lines, run, run_peak_rss};
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const PARSE: &str = env!("CARGO_BIN_EXE_imq-parse");
const ENRICH: &str = env!("CARGO_BIN_EXE_imq-enrich");
const FILTER: &str = env!("CARGO_BIN_EXE_imq-filter");

const EVENT: &str = r#"{"source.ip":"192.0.2.1","classification.type":"scanner"}"#;

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn dump_records(path: &Path) -> Vec<Value> {
    std::fs::read(path).map(|b| lines(&b)).unwrap_or_default()
}

// 6: a feed member of 128 MiB that is one line, in a zip of a few hundred KiB,
// and the same gzipped: parsed in bounded memory; the line is dumped as a
// record over --max-line-bytes with a bounded prefix.
#[test]
fn huge_records_in_archives_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let big = vec![b'a'; 128 << 20];
    let zip_path = dir.path().join("feed.zip");
    {
        let f = std::fs::File::create(&zip_path).unwrap();
        let mut w = zip::ZipWriter::new(f);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        w.start_file("feed.csv", opts).unwrap();
        w.write_all(b"192.0.2.1\n").unwrap();
        w.write_all(&big).unwrap();
        w.write_all(b"\n192.0.2.2\n").unwrap();
        w.finish().unwrap();
    }
    let gz_path = dir.path().join("feed.csv.gz");
    {
        let f = std::fs::File::create(&gz_path).unwrap();
        let mut e = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
        e.write_all(b"192.0.2.1\n").unwrap();
        e.write_all(&big).unwrap();
        e.write_all(b"\n192.0.2.2\n").unwrap();
        e.finish().unwrap();
    }
    drop(big);
    for feed in [&zip_path, &gz_path] {
        let dump = dir.path().join("dump.ndjson");
        let _ = std::fs::remove_file(&dump);
        let (o, peak_kb) = run_peak_rss(
            cmd(PARSE, dir.path())
                .args(["generic-csv", "-p", r#"columns=["source.ip"]"#])
                .args(["-p", "type=scanner", "--set", "feed.name=t"])
                .args(["--max-line-bytes", "1048576", "--dump"])
                .arg(&dump)
                .arg(feed),
        );
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let events = lines(&o.stdout);
        assert_eq!(events.len(), 2, "{feed:?}: the records around the long one");
        let d = dump_records(&dump);
        assert_eq!(d.len(), 1);
        let err = d[0]["error"].as_str().unwrap();
        assert!(err.contains(&format!("{} bytes", (128 << 20) + 1)), "{err}");
        let size = std::fs::metadata(&dump).unwrap().len();
        assert!(size < 2 << 20, "dump record bounded, got {size} bytes");
        assert!(peak_kb < 80 << 10, "{feed:?}: peak RSS {peak_kb} kB");
    }
}

// 6: a line over --max-line-bytes on NDJSON input keeps a bounded prefix.
#[test]
fn dump_of_an_overlong_line_is_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("d.ndjson");
    let mut line = br#"{"source.ip":""#.to_vec();
    line.extend(vec![b'x'; 8 << 20]);
    line.extend(b"\"}\n");
    let o = run(
        cmd(ENRICH, dir.path())
            .args(["taxonomy", "--max-line-bytes", "16777216", "--dump"])
            .arg(&dump),
        &line,
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let d = dump_records(&dump);
    assert_eq!(d[0]["length"], line.len() - 1);
    assert_eq!(d[0]["truncated"], true);
    assert!(std::fs::metadata(&dump).unwrap().len() < 2 << 20);
}

// 7: one event, several paths: counted once as out, each path separately;
// --reject drops count as filtered.
#[test]
fn copies_to_several_paths_count_once() {
    let dir = tempfile::tempdir().unwrap();
    let sieve = dir.path().join("r.sieve");
    std::fs::write(
        &sieve,
        "if source.ip == '192.0.2.1' {\n    path ['a', 'b']\n}\n",
    )
    .unwrap();
    let stats = dir.path().join("s.json");
    let o = run(
        cmd(FILTER, dir.path())
            .arg("--sieve")
            .arg(&sieve)
            .args(["--path", "a=a.ndjson", "--path", "b=b.ndjson", "--verbose"])
            .args(["--stats-format", "json", "--stats"])
            .arg(&stats),
        format!("{EVENT}\n").as_bytes(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("in 1, out 1, filtered 0, dumped 0"),
        "{}",
        stderr(&o)
    );
    let s: Value = serde_json::from_slice(&std::fs::read(&stats).unwrap()).unwrap();
    assert_eq!(s["paths"]["a"], 1);
    assert_eq!(s["paths"]["b"], 1);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("b.ndjson"))
            .unwrap()
            .lines()
            .count(),
        1
    );

    let o = run(
        cmd(FILTER, dir.path()).args([
            "source.ip == '198.51.100.1'",
            "--reject",
            "rej.ndjson",
            "--verbose",
        ]),
        format!("{EVENT}\n").as_bytes(),
    );
    assert!(
        stderr(&o).contains("in 1, out 0, filtered 1, dumped 0"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("rej.ndjson"))
            .unwrap()
            .lines()
            .count(),
        1
    );
}

// 8: a line holding a form feed is not JSON whitespace: dumped, not dropped.
#[test]
fn form_feed_line_is_dumped() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("d.ndjson");
    let o = run(
        cmd(ENRICH, dir.path())
            .args(["taxonomy", "--dump"])
            .arg(&dump),
        b"\x0c\n \t\n",
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(dump_records(&dump)[0]["raw"], "\x0c");
}

// 8: stdout closed: nothing can be written, which is fatal (not `out 1`, 0).
#[test]
fn closed_stdout_is_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(
        Command::new("sh").current_dir(dir.path()).args([
            "-c",
            "exec \"$0\" taxonomy --verbose >&-",
            ENRICH,
        ]),
        format!("{EVENT}\n").as_bytes(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("stdout is closed"), "{}", stderr(&o));
    // >/dev/null stays a way to discard output.
    let o = run(
        Command::new("sh").current_dir(dir.path()).args([
            "-c",
            "exec \"$0\" taxonomy >/dev/null",
            ENRICH,
        ]),
        format!("{EVENT}\n").as_bytes(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

// 9: replaying the dump the run appends to is refused (same inode), whatever
// the path or stdin.
#[test]
fn the_dump_being_written_is_no_input() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(cmd(ENRICH, dir.path()).arg("taxonomy"), b"not json\n");
    assert_eq!(o.status.code(), Some(1));
    let dump = dir.path().join("imq-enrich.dump.ndjson");
    let before = std::fs::read(&dump).unwrap();
    let o = run(
        cmd(ENRICH, dir.path()).args(["taxonomy", "--from-dump", "-i", "./imq-enrich.dump.ndjson"]),
        b"",
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("is the dump this run writes to"),
        "{}",
        stderr(&o)
    );
    let f = std::fs::File::open(&dump).unwrap();
    let o = cmd(ENRICH, dir.path())
        .args(["taxonomy", "--from-dump"])
        .stdin(f)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(std::fs::read(&dump).unwrap(), before);
    // Another dump file is fine.
    let o = run(
        cmd(ENRICH, dir.path())
            .args(["taxonomy", "--from-dump", "--dump", "again.ndjson", "-i"])
            .arg(&dump),
        b"",
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}

// 10: raw mode as report mode: a report that fails as a whole is dumped with
// its raw, and the next file is still parsed.
#[test]
fn a_failed_raw_feed_is_dumped_with_its_data_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let feodo = std::fs::read(root.join("examples/feodo.json")).unwrap();
    let cut = &feodo[..feodo.len() / 2];
    std::fs::write(dir.path().join("cut.json"), cut).unwrap();
    let dump = dir.path().join("d.ndjson");
    let o = cmd(PARSE, dir.path())
        .args(["abusech-feodotracker", "cut.json"])
        .arg(root.join("examples/feodo.json"))
        .arg("--dump")
        .arg(&dump)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let whole = run(
        cmd(PARSE, dir.path())
            .arg("abusech-feodotracker")
            .arg(root.join("examples/feodo.json")),
        b"",
    );
    let n_whole = lines(&whole.stdout).len();
    assert!(
        lines(&o.stdout).len() >= n_whole,
        "the second file was parsed"
    );
    let d = dump_records(&dump);
    assert_eq!(d.len(), 1);
    let report: Value = serde_json::from_str(d[0]["raw"].as_str().unwrap()).unwrap();
    use base64::Engine;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(report["raw"].as_str().unwrap())
        .unwrap();
    assert_eq!(raw, cut, "the dump holds the failed feed");

    // A Shadowserver CSV on stdin with no report type: dumped with its data.
    let data = root.join("tests/data/shadowserver");
    let csv = std::fs::read(data.join("scan_demo.csv")).unwrap();
    let o = run(
        cmd(PARSE, dir.path())
            .arg("shadowserver")
            .arg("-p")
            .arg(format!(
                "schema_file={}",
                data.join("demo-schema.json").display()
            ))
            .arg("--dump")
            .arg(dir.path().join("ss.ndjson")),
        &csv,
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let d = dump_records(&dir.path().join("ss.ndjson"));
    let report: Value = serde_json::from_str(d[0]["raw"].as_str().unwrap()).unwrap();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(report["raw"].as_str().unwrap())
        .unwrap();
    assert_eq!(raw, csv);
}

// 12: typos are start-up errors with "did you mean".
#[test]
fn typos_are_startup_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &[&str], &str)] = &[
        (
            ENRICH,
            &["geoip", "--datbase", "x.mmdb"],
            "did you mean option --database?",
        ),
        (ENRICH, &["taxonmy"], "did you mean \"taxonomy\"?"),
        (
            PARSE,
            &[
                "generic-csv",
                "-p",
                "columns=source.ip",
                "-p",
                "typ=scanner",
            ],
            "unknown parameter \"typ\" (did you mean parameter \"type\"",
        ),
        (
            PARSE,
            &[
                "generic-csv",
                "-p",
                "columns=source.ip",
                "--set",
                "feed.nam=x",
            ],
            "did you mean \"feed.name\"?",
        ),
        (
            PARSE,
            &[
                "generic-csv",
                "-p",
                "columns=source.ip",
                "--set",
                "feed.accuracy=abc",
            ],
            "feed.accuracy",
        ),
        (
            PARSE,
            &["generic-csv", "-p", "columns=source.ipp"],
            "did you mean \"source.ip\"",
        ),
        (
            env!("CARGO_BIN_EXE_imq-output"),
            &["csv", "--fields", "source.ip,sorce.port"],
            "--fields: unknown field \"sorce.port\"; did you mean \"source.port\"",
        ),
        (
            FILTER,
            &["source.port > 1 && classification.typ == \"scanner\""],
            "column 20: unknown field \"classification.typ\"; did you mean \"classification.type\"",
        ),
        (
            FILTER,
            &["--sieve", "typo.sieve"],
            "typo.sieve:2:12: unknown field \"sorce.ip\"; did you mean \"source.ip\"",
        ),
        (
            PARSE,
            &["abusech-feodotrackr", "x"],
            "did you mean \"abusech-feodotracker\"?",
        ),
        (
            PARSE,
            &["--feed", "abusech-feodo-trackr", "x"],
            "did you mean \"abusech-feodo-tracker\"?",
        ),
    ];
    std::fs::write(
        dir.path().join("typo.sieve"),
        "if extra.x == 'y' { drop }\nif :exists sorce.ip { keep }\n",
    )
    .unwrap();
    for (bin, args, want) in cases {
        let o = run(
            cmd(bin, dir.path()).args(*args),
            format!("{EVENT}\n").as_bytes(),
        );
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(want), "{args:?}: {}", stderr(&o));
        assert!(o.stdout.is_empty());
    }
}

// 13: a type that is none is refused, as IntelMQ refuses to start.
#[test]
fn an_unknown_classification_type_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(
        cmd(PARSE, dir.path()).args([
            "generic-csv",
            "-p",
            "columns=source.ip",
            "-p",
            "type=c2-servr",
        ]),
        b"192.0.2.1\n",
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("did you mean \"c2-server\""),
        "{}",
        stderr(&o)
    );
    // The URLhaus registry entry now gives a classification.type.
    let o = run(
        cmd(PARSE, dir.path()).args(["--feed", "abusech-urlhaus", "--raw", "-"]),
        b"2024-01-01 00:00:00,http://example.com/x,online,malware_download,example.com,192.0.2.1,64496,AT\n",
    );
    let ev = lines(&o.stdout);
    assert_eq!(ev.len(), 1, "{}", stderr(&o));
    assert_eq!(ev[0]["classification.type"], "malware-distribution");
}

// 14: clustered short flags belong to the tool; IntelMQ's and the feed's
// names of components are accepted.
#[test]
fn flags_and_names() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ev.ndjson"), format!("{EVENT}\n")).unwrap();
    let o = run(
        cmd(ENRICH, dir.path()).args(["--verbose", "--verbose", "taxonomy"]),
        format!("{EVENT}\n").as_bytes(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("in 1, out 1"), "{}", stderr(&o));
    // -v is grep's --invert in imq-filter and nothing anywhere else (not a
    // verbose that would mean the opposite there).
    for tool in [
        ENRICH,
        PARSE,
        env!("CARGO_BIN_EXE_imq-output"),
        env!("CARGO_BIN_EXE_imq-collect"),
    ] {
        let o = run(cmd(tool, dir.path()).args(["-v"]), b"");
        assert_eq!(o.status.code(), Some(2), "{tool}: {}", stderr(&o));
    }
    let o = run(
        cmd(FILTER, dir.path()).args(["-v", "source.ip == 192.0.2.1"]),
        format!("{EVENT}\n").as_bytes(),
    );
    assert!(
        o.stdout.is_empty(),
        "-v inverts: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    let o = run(
        cmd(ENRICH, dir.path()).args(["-qi", "ev.ndjson", "taxonomy"]),
        b"",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(lines(&o.stdout).len(), 1);
    let o = run(
        cmd(ENRICH, dir.path()).args(["maxmind_geoip", "--database", "missing.mmdb"]),
        b"",
    );
    assert!(!stderr(&o).contains("unknown expert"), "{}", stderr(&o));
    let o = run(
        cmd(ENRICH, dir.path()).args(["--intelmq", "intelmq.bots.experts.filter.expert"]),
        b"",
    );
    assert!(stderr(&o).contains("imq-filter"), "{}", stderr(&o));
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let o = run(
        cmd(PARSE, dir.path())
            .arg("abusech-feodo-tracker")
            .arg(root.join("examples/feodo.json")),
        b"",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

// 17: a raw feed on a pipe streams: events come out while the pipe is open.
#[test]
fn raw_feed_on_a_pipe_streams() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = cmd(PARSE, dir.path())
        .args([
            "generic-csv",
            "-p",
            "columns=source.ip",
            "-p",
            "type=scanner",
            "--raw",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"192.0.2.1\n").unwrap();
    stdin.flush().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut r = BufReader::new(stdout);
        let mut l = String::new();
        let _ = r.read_line(&mut l);
        let _ = tx.send(l);
    });
    let t = Instant::now();
    let got = rx.recv_timeout(Duration::from_secs(20));
    drop(stdin);
    let _ = child.wait();
    let line = got.expect("an event before the end of input");
    assert!(line.contains("192.0.2.1"), "{line}");
    assert!(t.elapsed() < Duration::from_secs(20));
}

// 14: imq-enrich takes input files like the others; imq-output's -t and -o
// naming two places is an error; imq-filter --list shows the fields.
#[test]
fn enrich_files_output_target_and_filter_list() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.ndjson"), format!("{EVENT}\n")).unwrap();
    std::fs::write(dir.path().join("b.ndjson"), format!("{EVENT}\n{EVENT}\n")).unwrap();
    let o = run(
        cmd(ENRICH, dir.path()).args(["taxonomy", "a.ndjson", "b.ndjson"]),
        b"",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let ev = lines(&o.stdout);
    assert_eq!(ev.len(), 3);
    assert!(ev
        .iter()
        .all(|e| e["classification.taxonomy"] == "information-gathering"));
    // A name that is neither an expert nor a file is still a typo.
    let o = run(cmd(ENRICH, dir.path()).args(["taxonomy", "taxonmy"]), b"");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown expert"), "{}", stderr(&o));
    let output = env!("CARGO_BIN_EXE_imq-output");
    let o = run(
        cmd(output, dir.path()).args(["json", "-t", "x.ndjson", "-o", "y.ndjson"]),
        format!("{EVENT}\n").as_bytes(),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("give one"), "{}", stderr(&o));
    assert!(!dir.path().join("x.ndjson").exists() && !dir.path().join("y.ndjson").exists());
    let o = run(cmd(FILTER, dir.path()).arg("--list"), b"");
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("source.ip") && text.contains("IPAddress"),
        "{text}"
    );
}

// `TOOL --list | head -1` ends cleanly: exit 0, no panic, whatever the listing.
#[test]
fn listings_end_cleanly_in_a_short_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let bins = [
        (PARSE, "--list"),
        (PARSE, "--list-feeds"),
        (ENRICH, "--list"),
        (FILTER, "--list"),
        (env!("CARGO_BIN_EXE_imq-output"), "--list"),
        (env!("CARGO_BIN_EXE_imq-collect"), "--list"),
        (env!("CARGO_BIN_EXE_imq-collect"), "--list-feeds"),
    ];
    for (bin, flag) in bins {
        use std::os::unix::process::ExitStatusExt;
        // stdout is a pipe whose reader is gone before the first write.
        let (r, w) = std::io::pipe().unwrap();
        drop(r);
        let o = cmd(bin, dir.path())
            .arg(flag)
            .stdout(w)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!err.contains("panicked"), "{bin} {flag}: {err}");
        assert!(
            o.status.code() == Some(0) || o.status.signal() == Some(13),
            "{bin} {flag}: {:?} {err}",
            o.status
        );
    }
}

// 16: --params takes YAML as runtime.yaml holds it (one bot's entry, with its
// destination_queues), and names the file in errors.
#[test]
fn params_in_yaml() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bot.yaml"),
        "bot_id: taxonomy-expert\nmodule: intelmq.bots.experts.taxonomy.expert\nparameters:\n  destination_queues:\n    _default: [file-output-queue]\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("bad.yaml"), "a: [1\n").unwrap();
    let m = "intelmq.bots.experts.taxonomy.expert";
    let o = run(
        cmd(ENRICH, dir.path()).args(["--intelmq", m, "--params", "bot.yaml"]),
        format!("{EVENT}\n").as_bytes(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        lines(&o.stdout)[0]["classification.taxonomy"],
        "information-gathering"
    );
    let o = run(
        cmd(ENRICH, dir.path()).args(["--intelmq", m, "--params", "bad.yaml"]),
        b"",
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("bad.yaml: YAML"), "{}", stderr(&o));
}

// 16: a site's own harmonization.conf (IntelMQ's format, no classification
// section) with --harmonization or IMQ_HARMONIZATION, on every tool.
#[test]
fn site_harmonization() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let built_in: Value =
        serde_json::from_slice(&std::fs::read(root.join("data/harmonization.json")).unwrap())
            .unwrap();
    let mut site = serde_json::json!({"event": built_in["event"], "report": built_in["report"]});
    site["event"]["source.site_zone"] = serde_json::json!({"type": "String", "length": 8});
    site["event"]["comment"] = serde_json::json!({"type": "String", "length": 5});
    std::fs::write(dir.path().join("site.conf"), site.to_string()).unwrap();
    let line = |zone: &str, comment: &str| {
        format!("{{\"source.ip\":\"192.0.2.1\",\"source.site_zone\":\"{zone}\",\"comment\":\"{comment}\"}}\n")
    };
    let input = line("dmz", "ok") + &line("dmz", "far too long");
    // Built in: the site's field is unknown.
    let o = run(
        cmd(ENRICH, dir.path()).arg("taxonomy"),
        line("dmz", "ok").as_bytes(),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("source.site_zone"), "{}", stderr(&o));
    // The site's table: the field is known, its length and comment's are checked.
    let o = run(
        cmd(ENRICH, dir.path()).args(["--harmonization", "site.conf", "taxonomy"]),
        input.as_bytes(),
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let ev = lines(&o.stdout);
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0]["source.site_zone"], "dmz");
    assert!(stderr(&o).contains("too long"), "{}", stderr(&o));
    let o = run(
        cmd(FILTER, dir.path())
            .env("IMQ_HARMONIZATION", "site.conf")
            .arg("source.site_zone == \"dmz\""),
        line("dmz", "ok").as_bytes(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(lines(&o.stdout).len(), 1);
    let o = run(
        cmd(PARSE, dir.path()).args(["--harmonization", "missing.conf", "--list"]),
        b"",
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("missing.conf"), "{}", stderr(&o));
}

// 18: a GeoIP run that enriched nothing says so (and -q keeps it quiet).
#[test]
fn geoip_that_found_nothing_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let db = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/geoip/City.mmdb");
    let db = db.to_str().unwrap();
    let o = run(
        cmd(ENRICH, dir.path()).args(["geoip", "--database", db]),
        b"{\"source.ip\":\"8.8.8.8\"}\n{\"source.ip\":\"8.8.4.4\"}\n",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("geoip: none of 2 addresses is in")
            && stderr(&o).contains("no event was enriched"),
        "{}",
        stderr(&o)
    );
    let o = run(
        cmd(ENRICH, dir.path()).args(["-q", "geoip", "--database", db]),
        b"{\"source.ip\":\"8.8.8.8\"}\n",
    );
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
}

#[test]
fn an_output_parameter_it_never_reads_is_named_with_a_suggestion() {
    let d = tempfile::tempdir().unwrap();
    let mut c = cmd(env!("CARGO_BIN_EXE_imq-output"), d.path());
    c.args(["file", "out.ndjson", "-p", "hierarchical_outptu=true"]);
    let o = run(&mut c, EVENT.as_bytes());
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("warning"), "{err}");
    assert!(
        err.contains(r#""hierarchical_outptu" (did you mean parameter "hierarchical_output"?)"#),
        "{err}"
    );
    // IntelMQ's sql output on an engine imq does not write says which it does.
    let mut c = cmd(env!("CARGO_BIN_EXE_imq-output"), d.path());
    c.args(["sql", "-p", "engine=mysql"]);
    let o = run(&mut c, EVENT.as_bytes());
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("mysql and mssql are not supported"),
        "{}",
        stderr(&o)
    );
    // Parameters it reads are not named.
    let mut c = cmd(env!("CARGO_BIN_EXE_imq-output"), d.path());
    c.args(["file", "out.ndjson", "-p", "hierarchical_output=true"]);
    let o = run(&mut c, EVENT.as_bytes());
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
}

// 11: `__path` from an unrouted sieve path is wire metadata: the next tools pass
// it on (an output leaves it out), a later filter replaces it, and imq-filter
// says at start-up which sieve paths are not routed.
#[test]
fn path_metadata_passes_through_the_next_tools() {
    let d = tempfile::tempdir().unwrap();
    let sieve = d.path().join("r.sieve");
    std::fs::write(
        &sieve,
        "if classification.type == 'scanner' { path 'abuse' }\n",
    )
    .unwrap();
    let o = run(
        cmd(FILTER, d.path()).arg("--sieve").arg(&sieve),
        format!("{EVENT}\n").as_bytes(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(r#"path "abuse" without --path"#),
        "{}",
        stderr(&o)
    );
    let marked = String::from_utf8(o.stdout).unwrap();
    assert!(marked.contains(r#""__path":"abuse""#), "{marked}");
    // Routed: no note.
    let o = run(
        cmd(FILTER, d.path())
            .arg("--sieve")
            .arg(&sieve)
            .args(["--path", "abuse=abuse.ndjson"]),
        format!("{EVENT}\n").as_bytes(),
    );
    assert!(!stderr(&o).contains("without --path"), "{}", stderr(&o));

    let o = run(cmd(ENRICH, d.path()).arg("taxonomy"), marked.as_bytes());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let enriched = String::from_utf8(o.stdout).unwrap();
    assert!(enriched.contains(r#""__path":"abuse""#), "{enriched}");
    assert!(enriched.contains("classification.taxonomy"), "{enriched}");

    // A later filter's unrouted path replaces the first.
    let other = d.path().join("o.sieve");
    std::fs::write(&other, "path 'other'\n").unwrap();
    let o = run(
        cmd(FILTER, d.path()).arg("--sieve").arg(&other),
        enriched.as_bytes(),
    );
    let twice = String::from_utf8(o.stdout).unwrap();
    assert_eq!(twice.matches("__path").count(), 1, "{twice}");
    assert!(twice.contains(r#""__path":"other""#), "{twice}");

    // Outputs write fields only.
    let o = run(
        cmd(env!("CARGO_BIN_EXE_imq-output"), d.path()).args(["file", "out.ndjson"]),
        twice.as_bytes(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let file = std::fs::read_to_string(d.path().join("out.ndjson")).unwrap();
    assert!(!file.contains("__path"), "{file}");
    assert!(file.contains("192.0.2.1"), "{file}");
}
