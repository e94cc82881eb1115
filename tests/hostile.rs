//! Every tool over a generated set of hostile lines and files: no panic, no
//! signal, bounded memory, and `in == out + filtered + dumped` for the tools
//! that pass each message on or drop it.

mod common;

use common::run::{cmd, run_peak_rss_with};
use std::path::Path;
use std::process::Output;

/// Peak resident memory allowed for one run (debug build), in kB.
const MAX_RSS_KB: u64 = 300 << 10;

/// A small deterministic generator (xorshift), so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const VALID: &[&str] = &[
    r#"{"source.ip":"192.0.2.1","classification.type":"scanner","time.source":"2024-01-01T00:00:00+00:00"}"#,
    r#"{"source.url":"http://example.com/a?b=c","source.fqdn":"example.com","classification.type":"phishing","extra.tags":["a","b"]}"#,
    r#"{"__type":"Event","source.asn":64496,"source.port":443,"destination.ip":"2001:db8::1","feed.name":"x","raw":"YQ=="}"#,
];

/// Hostile NDJSON lines: what fuzzing found and what a careless feed holds.
fn hostile_lines() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = [
        "",
        " ",
        "\x0c",
        "\x00",
        "\u{feff}{}",
        "{}",
        "[]",
        "null",
        "\"x\"",
        "{",
        "}",
        "{\"source.ip\":",
        r#"{"__type":"Event"}"#,
        r#"{"extra.\udfff":1}"#,
        r#"{"source.ip":"\ud800"}"#,
        r#"{"source.ip":"999.1.1.1"}"#,
        r#"{"source.ip":"192.0.2.1","source.ip":"x"}"#,
        r#"{"source.port":-1,"source.asn":1e10}"#,
        r#"{"time.source":"10000000000-01-01"}"#,
        r#"{"extra.a b":1}"#,
        r#"{"Source.IP":"192.0.2.1"}"#,
        r#"{"__path":"x","source.ip":"192.0.2.1"}"#,
        r#"{"raw":"!!!not base64"}"#,
        r#"{"classification.type":"c2-servr"}"#,
        r#"{"source.url":"http://[::1"}"#,
        r#"{"source.fqdn":"a..b"}"#,
        r#"{"extra.x":"\u0000\u001b[2J"}"#,
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    v.push(b"\xff\xfe{\"a\":1}".to_vec());
    v.push(b"{\"source.ip\":\"192.0.2.1\"}\r".to_vec());
    // Deep nesting as the whole line.
    v.push(std::iter::repeat_n(b'{', 100_000).collect());
    // Many distinct extra keys.
    let mut many = b"{".to_vec();
    for i in 0..5_000 {
        many.extend(format!("\"extra.k{i}\":{i},").as_bytes());
    }
    many.extend(br#""source.ip":"192.0.2.1"}"#);
    v.push(many);
    // A line over the limit (--max-line-bytes 1 MiB below).
    let mut long = br#"{"extra.x":""#.to_vec();
    long.extend(vec![b'y'; 2 << 20]);
    long.extend(b"\"}");
    v.push(long);
    // Mutations of valid events: byte flips, cuts, duplications.
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..200 {
        let mut l = VALID[rng.below(VALID.len())].as_bytes().to_vec();
        for _ in 0..1 + rng.below(4) {
            let i = rng.below(l.len());
            match rng.below(4) {
                0 => l[i] = (rng.next() & 0xff) as u8,
                1 => l.truncate(i),
                2 => {
                    let j = rng.below(l.len().max(1));
                    let (a, b) = (i.min(j), i.max(j));
                    let piece = l[a..b].to_vec();
                    l.splice(i..i, piece);
                }
                _ => l.insert(i, b"\"\\{}[]:,\x00\xff"[rng.below(10)]),
            }
            if l.is_empty() {
                break;
            }
        }
        // Line ends inside a line would be framing, not data.
        l.retain(|&b| b != b'\n');
        v.push(l);
    }
    v
}

/// `extra.*` values the fast reader accepts and the decoder cannot take
/// (issue 15 item 1, message.rs): appended to the hostile lines once fixed.
fn beyond_serde() -> Vec<Vec<u8>> {
    let deep = 100_000;
    let mut d = br#"{"extra.x":"#.to_vec();
    d.extend(std::iter::repeat_n(b'[', deep));
    d.extend(std::iter::repeat_n(b']', deep));
    d.push(b'}');
    vec![
        br#"{"extra.x":1e400}"#.to_vec(),
        br#"{"extra.x":123456789012345678901234567890}"#.to_vec(),
        br#"{"extra.x":{"a":"\udfff"}}"#.to_vec(),
        d,
    ]
}

/// Counted lines: what the loop counts as input (not blank in the JSON sense).
fn counted(lines: &[Vec<u8>]) -> u64 {
    lines
        .iter()
        .filter(|l| !l.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r')))
        .count() as u64
}

/// The counters a tool printed with `--verbose`.
fn counters(o: &Output) -> Option<[u64; 4]> {
    let err = String::from_utf8_lossy(&o.stderr);
    let line = err.lines().rev().find(|l| l.contains(": in "))?;
    let rest = &line[line.find(": in ")? + 2..];
    let mut n = [0u64; 4];
    for (i, part) in rest.split(", ").take(4).enumerate() {
        n[i] = part.split_whitespace().nth(1)?.parse().ok()?;
    }
    Some(n)
}

fn check(what: &str, o: &Output, peak_kb: u64) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("panicked"), "{what}: panic: {err}");
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{what}: status {:?} (a signal has none): {}",
        o.status,
        err.lines().rev().take(5).collect::<Vec<_>>().join("\n")
    );
    assert!(peak_kb < MAX_RSS_KB, "{what}: peak RSS {peak_kb} kB");
}

/// One-in-one-out tools: every line accounted for once.
#[test]
fn hostile_lines_through_every_passing_tool() {
    through_passing_tools(hostile_lines());
}

/// Extra values the scanner accepts but serde cannot decode (issue 15 item 1):
/// dumped on reading, never a panic later.
#[test]
fn extra_values_beyond_serde_through_every_passing_tool() {
    let mut lines = hostile_lines();
    lines.extend(beyond_serde());
    through_passing_tools(lines);
}

fn through_passing_tools(lines: Vec<Vec<u8>>) {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut input = Vec::new();
    for l in &lines {
        input.extend_from_slice(l);
        input.push(b'\n');
    }
    let n = counted(&lines);
    let sieve = root.join("tests/data/filter/rules.sieve");
    let sieve = sieve.to_str().unwrap();
    let runs: Vec<(&str, Vec<&str>)> = vec![
        ("imq-enrich", vec!["taxonomy"]),
        ("imq-enrich", vec!["url2fqdn"]),
        ("imq-enrich", vec!["url"]),
        ("imq-enrich", vec!["rfc1918"]),
        ("imq-enrich", vec!["domain_suffix", "--field", "fqdn"]),
        (
            "imq-enrich",
            vec!["field_reducer", "--type", "blacklist", "--keys", "raw"],
        ),
        (
            "imq-enrich",
            vec!["truncate_by_delimiter", "--field", "source.fqdn"],
        ),
        (
            "imq-enrich",
            vec!["remove_affix", "--field", "source.fqdn", "--affix", "www."],
        ),
        (
            "imq-enrich",
            vec!["format_field", "--strip-columns", "extra.x"],
        ),
        (
            "imq-enrich",
            vec!["csv_converter", "--fieldnames", "source.ip,extra.x"],
        ),
        ("imq-enrich", vec!["taxonomy", "url2fqdn", "geohash"]),
        (
            "imq-filter",
            vec!["source.ip in 192.0.2.0/24 || extra.x == 1"],
        ),
        ("imq-filter", vec!["time.source > now - 2d", "--invert"]),
        (
            "imq-filter",
            vec!["--sieve", sieve, "--path", "austria=a.ndjson"],
        ),
        (
            "imq-filter",
            vec!["source.port > 10", "--reject", "rej.ndjson"],
        ),
        ("imq-output", vec!["json", "-t", "out.ndjson"]),
        (
            "imq-output",
            vec!["csv", "-t", "out.csv", "-f", "source.ip,extra.x"],
        ),
    ];
    for (tool, args) in runs {
        let bin = match tool {
            "imq-enrich" => env!("CARGO_BIN_EXE_imq-enrich"),
            "imq-filter" => env!("CARGO_BIN_EXE_imq-filter"),
            _ => env!("CARGO_BIN_EXE_imq-output"),
        };
        let what = format!("{tool} {}", args.join(" "));
        let (o, peak) = run_peak_rss_with(
            cmd(bin, dir.path()).args(&args).args([
                "--verbose",
                "--max-line-bytes",
                "1048576",
                "--dump",
                "d.ndjson",
            ]),
            &input,
        );
        if o.status.code() == Some(2) && String::from_utf8_lossy(&o.stderr).contains("parameter") {
            panic!(
                "{what}: does not start: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        check(&what, &o, peak);
        let [inp, out, filtered, dumped] = counters(&o).unwrap_or_else(|| {
            panic!(
                "{what}: no counters: {}",
                String::from_utf8_lossy(&o.stderr)
            )
        });
        assert_eq!(inp, n, "{what}: every line counted");
        assert_eq!(
            inp,
            out + filtered + dumped,
            "{what}: in == out + filtered + dumped"
        );
        // Everything written is JSON objects, one a line.
        for l in String::from_utf8_lossy(&o.stdout).lines() {
            // JSON text (RFC 8259: `1e400` is a number even where f64 ends).
            assert!(
                l.starts_with('{') && serde_json::from_str::<serde::de::IgnoredAny>(l).is_ok(),
                "{what}: not a JSON object: {l}"
            );
        }
    }
}

/// Hostile raw feed files (and the same as reports) through the parsers and
/// the file collector.
#[test]
fn hostile_files_through_parsers_and_the_collector() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    let feodo = std::fs::read(root.join("examples/feodo.json")).unwrap();
    let csv = std::fs::read(root.join("tests/data/shadowserver/scan_demo.csv")).unwrap();
    let mut files: Vec<(String, Vec<u8>)> = vec![
        ("empty".into(), Vec::new()),
        ("nul".into(), vec![0u8; 4096]),
        // `"<div>" * 100000` overflowed html-table's stack (issue 15 item 5).
        ("deep.html".into(), b"<div>".repeat(100_000)),
        (
            "table.html".into(),
            b"<table><tr><td>192.0.2.1</td><td>http://x/</td></tr>".repeat(1000),
        ),
        ("deep.json".into(), "[".repeat(100_000).into_bytes()),
        ("cut.json".into(), feodo[..feodo.len() / 3].to_vec()),
        ("longline.csv".into(), vec![b'a'; 3 << 20]),
        (
            "bad.gz".into(),
            vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3],
        ),
        ("bad.zip".into(), b"PK\x03\x04garbage".to_vec()),
        (
            "quotes.csv".into(),
            b"\"a\"b\",\"\n\"\"\"\n,,,\n\r\r\n".repeat(100),
        ),
    ];
    for i in 0..20 {
        let base = if i % 2 == 0 { &feodo } else { &csv };
        let mut f = base.clone();
        for _ in 0..1 + rng.below(20) {
            let at = rng.below(f.len());
            f[at] = (rng.next() & 0xff) as u8;
        }
        files.push((format!("mut{i}"), f));
    }
    let mut paths = Vec::new();
    for (name, data) in &files {
        let p = dir.path().join(name);
        std::fs::write(&p, data).unwrap();
        paths.push(p.to_str().unwrap().to_string());
    }
    let schema = root.join("tests/data/shadowserver/demo-schema.json");
    let schema = format!("schema_file={}", schema.display());
    let parsers: Vec<Vec<&str>> = vec![
        vec![
            "generic-csv",
            "-p",
            "columns=time.source,source.ip,source.url",
            "-p",
            "type=scanner",
        ],
        vec!["abusech-feodotracker"],
        vec![
            "html-table",
            "-p",
            "columns=source.ip,source.url",
            "-p",
            "type=malware-distribution",
        ],
        vec![
            "shadowserver",
            "-p",
            &schema,
            "-p",
            "feedname=Accessible-HTTP",
        ],
        vec!["json"],
        vec!["spamhaus-drop"],
        vec!["fireeye"],
    ];
    for p in &parsers {
        let what = format!("imq-parse {}", p.join(" "));
        let (o, peak) = run_peak_rss_with(
            cmd(env!("CARGO_BIN_EXE_imq-parse"), dir.path())
                .args(p)
                .args([
                    "--raw",
                    "--set",
                    "feed.name=hostile",
                    "--max-line-bytes",
                    "1048576",
                ])
                .args(["--dump", "p.ndjson"])
                .args(&paths),
            b"",
        );
        check(&what, &o, peak);
    }
    // The collector over the same files, and its reports through a parser.
    let (o, peak) = run_peak_rss_with(
        cmd(env!("CARGO_BIN_EXE_imq-collect"), dir.path())
            .args(["file", "--feed-name", "hostile", "--dump", "c.ndjson"])
            .args(&paths),
        b"",
    );
    check("imq-collect file", &o, peak);
    let (o, peak) = run_peak_rss_with(
        cmd(env!("CARGO_BIN_EXE_imq-parse"), dir.path()).args([
            "generic-csv",
            "-p",
            "columns=source.ip",
            "-p",
            "type=scanner",
            "--dump",
            "r.ndjson",
        ]),
        &o.stdout,
    );
    check("imq-parse over reports", &o, peak);
}
