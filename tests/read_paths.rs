//! The fast reader (`Message::from_json`: vector scan, values checked where they lie,
//! per-position caches of values found valid on earlier lines) must read every line
//! exactly as the plain path does (serde_json decodes the line, `Message::from_map`
//! takes its items as IntelMQ's message constructor does).
//!
//! The lines come from one template whose values are drawn from valid ones, ones
//! that need sanitation, invalid ones and awkward JSON (escapes, non-ASCII, control
//! bytes, whitespace, duplicate keys, strings across 64-byte blocks), in a stream,
//! so that each position's cache has seen other values before.

use imq::message::Message;
use imq::MsgType;
use serde_json::Value;

/// Candidate JSON texts for each key (valid, to sanitize, invalid, odd JSON).
const CANDIDATES: &[(&str, &[&str])] = &[
    (
        "feed.name",
        &[
            r#""Feodo Tracker""#,
            r#""Feodo \"Tracker\"""#,
            "\"Feodo Tr\u{e4}cker\"",
            r#""Feodo\u00e9""#,
            r#""""#,
            r#""-""#,
            "null",
            "\"tab\there\"",
            r#""a\ud800b""#,
        ],
    ),
    (
        "time.source",
        &[
            r#""2023-12-30T00:44:46+00:00""#,
            r#""2023-12-31T01:44:46.123456+00:00""#,
            r#""2023-02-30T00:44:46+00:00""#,
            r#""2023-12-30 00:44:46""#,
            r#""yesterday""#,
            "1703897086",
        ],
    ),
    (
        "classification.type",
        &[
            r#""c2-server""#,
            r#""phishing""#,
            r#""C2-Server""#,
            r#""c2server""#,
            r#""no-such-type""#,
            "7",
        ],
    ),
    (
        "source.ip",
        &[
            r#""192.0.2.1""#,
            r#""2001:db8::1""#,
            r#""2001:DB8::1""#,
            r#""192.0.2.256""#,
            r#"" 192.0.2.7 ""#,
            r#""192.000.002.001""#,
            "true",
        ],
    ),
    (
        "source.url",
        &[
            r#""http://host.example.net/path/0?q=1""#,
            r#""hxxp://host.example.net/""#,
            r#""http://[2001:db8::1]:8080/x#f""#,
            r#""http://[::1/""#,
            r#""/just/a/path""#,
            "\"http://h\u{e9}.example/\"",
            r#""http:\/\/escaped.example\/""#,
        ],
    ),
    (
        "source.port",
        &["443", "65535", "123456", "-1", "\"80\"", "4.0", "1e2"],
    ),
    (
        "source.fqdn",
        &[
            r#""host-1.example.net""#,
            r#""Host-1.Example.NET""#,
            r#""host-1.example.net.""#,
            r#""192.0.2.1""#,
            "\"b\u{fc}cher.example\"",
            r#""a..b""#,
            r#""http://x/""#,
        ],
    ),
    (
        "source.asn",
        &["64496", "\"64496\"", "\"AS64496\"", "0", "4294967296", "-5"],
    ),
    (
        "malware.name",
        &[
            r#""dridex""#,
            r#""Dridex""#,
            r#""dri\ndex""#,
            "\"dr\u{ee}dex\"",
        ],
    ),
    (
        "extra.note",
        &[
            r#""plain""#,
            r#"{"a": [1, "}"]}"#,
            "[]",
            "12.5",
            "false",
            r#""x\u0000y""#,
        ],
    ),
    (
        "raw",
        &[
            r#""eyJpcF9hZGRyZXNzIjogIjEwLjAuMC4xIiwgInBvcnQiOiA0NDMsICJzdGF0dXMiOiAib25saW5lIn0=""#,
            r#""not base64!""#,
            r#""bG9yZW0gaXBzdW0=""#,
        ],
    ),
    (
        "feed.accuracy",
        &[
            "100.0", "50", "\"99.5\"", "101", "true", "-0", "1E400", "1e-400",
        ],
    ),
    (
        "extra",
        &[
            r#"{"note": "whole", "n": {"m": 1}}"#,
            r#""{\"a\": 1}""#,
            r#"{}"#,
            r#""not a dict""#,
        ],
    ),
    ("feed\\u002ecode", &[r#""escaped-key""#]),
    ("no.such.field", &[r#""x""#, "18446744073709551616"]),
    (
        "protocol.transport",
        &[r#""tcp""#, r#""TCP""#, r#""unknown""#, r#""icmp""#],
    ),
];

/// A small deterministic generator (no dependency for one test).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

/// One line: most keys, in order or not, one candidate value each, sometimes
/// with whitespace, a duplicate key or a long padding field.
fn line(rng: &mut Lcg) -> String {
    let mut items: Vec<(String, String)> = Vec::new();
    for (key, values) in CANDIDATES {
        // Mostly the first (valid) value, as in real streams.
        let v = if rng.next(3) == 0 {
            values[rng.next(values.len())]
        } else {
            values[0]
        };
        // Keys that make a line odd or invalid by themselves are rare.
        let rare = ["extra", "feed\\u002ecode", "no.such.field"].contains(key);
        if (rare && rng.next(10) == 0) || (!rare && rng.next(8) != 0) {
            items.push((key.to_string(), v.to_string()));
        }
    }
    if rng.next(6) == 0 {
        let i = rng.next(items.len().max(1));
        let j = rng.next(items.len().max(1));
        if i < items.len() && j < items.len() {
            items.swap(i, j);
        }
    }
    if rng.next(8) == 0 && !items.is_empty() {
        // A repeated key: the last one counts.
        let (k, _) = items[rng.next(items.len())].clone();
        items.push((k, r#""192.0.2.9""#.to_string()));
    }
    if rng.next(5) == 0 {
        let pad = "p".repeat(rng.next(140));
        items.push(("extra.pad".into(), format!("\"{pad}\"")));
    }
    let (colon, comma) = match rng.next(10) {
        0 => (": ", ", "),
        1 => (":", " ,\t"),
        _ => (":", ","),
    };
    let body: Vec<String> = items
        .iter()
        .map(|(k, v)| format!("\"{k}\"{colon}{v}"))
        .collect();
    match rng.next(16) {
        0 => format!("{{{}}}", body.join(comma)),
        1 => format!("{{\"__type\":\"Event\",{}}}", body.join(comma)),
        2 => format!("{{{},\"__type\":\"Report\"}}", body.join(comma)),
        3 => format!("{{{},\"__type\":\"Ev\\u0065nt\"}}", body.join(comma)),
        _ => format!("{{{},\"__type\":\"Event\"}}", body.join(comma)),
    }
}

/// The fields of a message, sorted, for comparison.
fn fields(m: &Message) -> Vec<(String, Value)> {
    let mut v: Vec<(String, Value)> = m.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// The plain path: serde_json, then IntelMQ's constructor rules.
fn plain(line: &str) -> Result<Message, String> {
    match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(map)) => Message::from_map(map, MsgType::Event).map_err(|e| e.to_string()),
        Ok(_) => Err("not an object".into()),
        Err(e) => Err(e.to_string()),
    }
}

#[test]
fn fast_reader_reads_like_serde_json() {
    let mut rng = Lcg(42);
    let (mut ok, mut rejected) = (0, 0);
    for n in 0..30_000 {
        let l = line(&mut rng);
        let fast = Message::from_json(l.as_bytes(), MsgType::Event);
        match (&fast, plain(&l)) {
            (Ok(a), Ok(b)) => {
                assert_eq!(fields(a), fields(&b), "line {n}: {l}");
                assert_eq!(a.msg_type(), b.msg_type());
                // What is written reads back the same.
                let again = Message::from_json(a.to_json().as_bytes(), MsgType::Event)
                    .unwrap_or_else(|e| panic!("line {n}: re-reading {}: {e}", a.to_json()));
                assert_eq!(fields(&again), fields(a), "line {n}: {l}");
                ok += 1;
            }
            (Err(_), Err(_)) => rejected += 1,
            (a, b) => panic!("line {n}: {l}\n fast: {a:?}\n plain: {b:?}"),
        }
    }
    // Both outcomes are well represented (the test would prove little otherwise).
    eprintln!("ok {ok}, rejected {rejected}");
    assert!(
        ok > 2_000 && rejected > 2_000,
        "ok {ok}, rejected {rejected}"
    );
}
