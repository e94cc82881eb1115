//! `imq-collect shadowserver` against a loopback Reports API (the server is
//! tests/support/feedserver.rs) that checks the HMAC2 signature of the list
//! request as the real API does: listed reports, the types and reports filters,
//! the seen-files state, and a wrong secret.
mod common;
#[path = "support/feedserver.rs"]
mod feedserver;

use base64::Engine;
use common::run::{cmd, lines, run};
use feedserver::{Reply, Req, Server};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::process::Output;

const COLLECT: &str = env!("CARGO_BIN_EXE_imq-collect");
const KEY: &str = "k3y-abc";
const SECRET: &str = "s3cr3t-never-shown";
const SCAN_CSV: &str = "\"timestamp\",\"ip\",\"port\"\n\"2025-01-02 00:00:01\",\"192.0.2.1\",23\n";
const SINK_CSV: &str =
    "\"timestamp\",\"ip\",\"infection\"\n\"2025-01-02 00:00:02\",\"192.0.2.2\",\"mirai\"\n";
const HONEY_CSV: &str = "\"timestamp\",\"src_ip\"\n\"2025-01-02 00:00:03\",\"192.0.2.3\"\n";

/// HMAC-SHA256 of RFC 2104, written here again so the test checks the
/// collector's signature independently (and against the spec's test vector).
fn hmac_hex(key: &[u8], msg: &[u8]) -> String {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
    let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
    let inner = Sha256::new()
        .chain_update(&ipad)
        .chain_update(msg)
        .finalize();
    let outer = Sha256::new()
        .chain_update(&opad)
        .chain_update(inner)
        .finalize();
    outer.iter().map(|b| format!("{b:02x}")).collect()
}

/// The Reports API: `POST /api2/reports/list` signed with SECRET, and the
/// downloads under `/dl/`.
fn api() -> Server {
    Server::start(|req: &Req, _| match (req.method.as_str(), req.path()) {
        ("POST", "/api2/reports/list") => {
            let want = hmac_hex(SECRET.as_bytes(), &req.body);
            if req.header("hmac2") != Some(want.as_str()) {
                return Reply::status(401, r#"{"error": "Invalid HMAC signature"}"#);
            }
            let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
                return Reply::status(400, r#"{"error": "bad JSON"}"#);
            };
            if body["apikey"] != KEY {
                return Reply::status(401, r#"{"error": "Invalid API key"}"#);
            }
            let list = json!([
                {"id": "101", "type": "scan", "file": "2025-01-02-scan_telnet-austria-geo.csv", "report": "austria", "timestamp": "2025-01-02"},
                {"id": "102", "type": "sinkhole_http", "file": "2025-01-02-event4_sinkhole_http-austria-geo.csv", "report": "austria", "timestamp": "2025-01-02"},
                {"id": "103", "type": "honeypot", "file": "2025-01-02-event4_honeypot_brute_force-austria-geo.csv", "report": "austria", "timestamp": "2025-01-02"}
            ]);
            Reply::ok(list.to_string()).header("Content-Type", "application/json")
        }
        ("GET", "/dl/101") => Reply::ok(SCAN_CSV),
        ("GET", "/dl/102") => Reply::ok(SINK_CSV),
        ("GET", "/dl/103") => Reply::ok(HONEY_CSV),
        _ => Reply::status(404, "not found"),
    })
}

fn params(s: &Server, secret: &str, extra: Value) -> Value {
    let mut p = json!({
        "api_key": KEY,
        "secret": secret,
        "reports": "austria",
        "api_url": s.url("/api2/"),
        "download_url": s.url("/dl"),
        "name": "Shadowserver Reports",
        "provider": "Shadowserver",
        "http_timeout_max_tries": 1,
    });
    for (k, v) in extra.as_object().unwrap() {
        p[k] = v.clone();
    }
    p
}

fn collect(p: &Value, state: &Path) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("params.json");
    std::fs::write(&file, p.to_string()).unwrap();
    let mut c = cmd(COLLECT, Path::new("."));
    c.env_remove("STATE_DIRECTORY").env("IMQ_STATE_DIR", state);
    c.args([
        "--intelmq",
        "intelmq.bots.collectors.shadowserver.collector_reports_api",
        "--params",
    ])
    .arg(&file);
    run(&mut c, b"")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn raw(r: &Value) -> String {
    let b = base64::engine::general_purpose::STANDARD
        .decode(r["raw"].as_str().expect("raw"))
        .unwrap();
    String::from_utf8(b).unwrap()
}

#[test]
fn signature_of_the_spec() {
    let body =
        r#"{ "apikey": "KEY" ,"date": "2025-01-01:2025-01-03" ,"reports": ["austria", "x"]}"#;
    assert_eq!(
        hmac_hex(b"SECRET", body.as_bytes()),
        "693f46ccca0ba90603034e56b144c5fe26dfee4a63a37e6d56762cb4d69fab1f"
    );
}

#[test]
fn lists_downloads_and_remembers() {
    let s = api();
    let st = tempfile::tempdir().unwrap();
    let p = params(&s, SECRET, json!({"types": "scan, sinkhole_http"}));
    let o = collect(&p, st.path());
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    let r = lines(&o.stdout);
    assert_eq!(r.len(), 2, "the types filter leaves two of three");
    assert_eq!(
        r[0]["extra.file_name"],
        "2025-01-02-scan_telnet-austria-geo.csv"
    );
    assert_eq!(raw(&r[0]), SCAN_CSV);
    assert_eq!(
        r[1]["extra.file_name"],
        "2025-01-02-event4_sinkhole_http-austria-geo.csv"
    );
    assert_eq!(raw(&r[1]), SINK_CSV);
    for x in &r {
        assert_eq!(x["__type"], "Report");
        assert_eq!(x["feed.name"], "Shadowserver Reports");
        assert_eq!(x["feed.provider"], "Shadowserver");
        assert_eq!(x["feed.accuracy"], 100.0);
        assert!(x.get("feed.url").is_none(), "IntelMQ sets no feed.url");
        assert!(x["time.observation"].as_str().unwrap().ends_with("+00:00"));
    }
    // The list request as IntelMQ writes it, signed.
    let reqs = s.requests();
    let list = &reqs[0];
    let today = chrono::Utc::now().date_naive();
    let begin = today - chrono::Duration::days(2);
    assert_eq!(
        String::from_utf8_lossy(&list.body),
        format!(r#"{{ "apikey": "{KEY}" ,"date": "{begin}:{today}" ,"reports": ["austria"]}}"#)
    );
    assert!(list.header("content-type").is_none());
    let targets: Vec<&str> = reqs.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(targets, ["/api2/reports/list", "/dl/101", "/dl/102"]);
    assert!(
        reqs[1].header("hmac2").is_none(),
        "downloads are not signed"
    );

    // Second run: listed again, nothing downloaded, nothing sent.
    let o = collect(&p, st.path());
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    assert!(lines(&o.stdout).is_empty());
    let reqs = s.requests();
    assert_eq!(reqs.len(), 4);
    assert_eq!(reqs[3].target, "/api2/reports/list");

    // Without the types filter only the third report is new.
    let all = params(&s, SECRET, json!({"days": 5}));
    let o = collect(&all, st.path());
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    let r = lines(&o.stdout);
    assert_eq!(r.len(), 1);
    assert_eq!(
        r[0]["extra.file_name"],
        "2025-01-02-event4_honeypot_brute_force-austria-geo.csv"
    );
    assert_eq!(raw(&r[0]), HONEY_CSV);
    let body = String::from_utf8_lossy(&s.requests()[4].body).into_owned();
    let begin = today - chrono::Duration::days(5);
    assert!(
        body.contains(&format!(r#""date": "{begin}:{today}""#)),
        "{body}"
    );

    // Another state directory: everything again.
    let other = tempfile::tempdir().unwrap();
    let o = collect(&all, other.path());
    assert_eq!(lines(&o.stdout).len(), 3, "stderr: {}", stderr(&o));
}

#[test]
fn wrong_secret_is_fatal_and_not_shown() {
    let s = api();
    let st = tempfile::tempdir().unwrap();
    let wrong = "wr0ng-s3cret-value";
    let o = collect(&params(&s, wrong, json!({})), st.path());
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    assert!(lines(&o.stdout).is_empty());
    assert!(err.contains("401"), "{err}");
    assert!(err.contains("Invalid HMAC signature"), "{err}");
    assert!(err.contains("check api_key and secret"), "{err}");
    assert!(!err.contains(wrong), "the secret is printed: {err}");
    assert!(!err.contains(KEY), "the API key is printed: {err}");
    // Nothing was downloaded, nothing remembered.
    assert_eq!(s.requests().len(), 1);
    assert_eq!(std::fs::read_dir(st.path()).unwrap().count(), 0);

    // No secret at all: a configuration error, before any request.
    let mut p = params(&s, "", json!({}));
    p.as_object_mut().unwrap().remove("secret");
    let o = collect(&p, st.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("secret"), "{}", stderr(&o));
    assert_eq!(s.requests().len(), 1);
}
