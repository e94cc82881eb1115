//! imq-output elasticsearch and splunk against a loopback server speaking the
//! bulk and HEC APIs (tests/support/search.rs): neither Elasticsearch,
//! OpenSearch nor Splunk can be installed on this machine.
mod common;
mod support;
use common::run::{cmd, run};
use serde_json::{json, Value};
use std::path::Path;
use support::search::{SearchServer, State};

const BIN: &str = env!("CARGO_BIN_EXE_imq-output");

fn events(n: usize, extra: impl Fn(usize) -> String) -> String {
    (0..n)
        .map(|i| {
            format!(
                r#"{{"feed.name":"F","source.ip":"192.0.2.{}","time.source":"2024-03-0{}T10:00:00+00:00","raw":"eA=="{},"__type":"Event"}}"#,
                i % 250,
                1 + i % 2,
                extra(i)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn output(dir: &Path, args: &[&str], input: &str) -> std::process::Output {
    let mut c = cmd(BIN, dir);
    c.args(args).arg("--dump").arg(dir.join("dump.ndjson"));
    run(&mut c, input.as_bytes())
}

fn dumped(dir: &Path) -> Vec<Value> {
    std::fs::read(dir.join("dump.ndjson"))
        .map(|b| common::run::lines(&b))
        .unwrap_or_default()
}

fn es_args(s: &SearchServer) -> Vec<String> {
    vec![
        "elasticsearch".into(),
        "-p".into(),
        format!("elastic_port={}", s.addr.port()),
        "-p".into(),
        "retry_seconds=20".into(),
    ]
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn bulk_documents_as_intelmq_builds_them() {
    let s = SearchServer::start(State::default());
    let d = tempfile::tempdir().unwrap();
    let input = events(2500, |i| {
        if i == 0 {
            r#","extra.a":{"b":1}"#.into()
        } else {
            String::new()
        }
    });
    let out = output(d.path(), &strs(&es_args(&s)), &input);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let st = s.state.lock().unwrap();
    assert_eq!(st.docs.len(), 2500);
    // The index was created (no rotation), then the documents in bulks.
    assert!(st.indices.contains("intelmq"));
    let bulks = st.requests.iter().filter(|r| r.1 == "/_bulk").count();
    assert!((3..=10).contains(&bulks), "{bulks} bulk requests");
    let (index, doc) = &st.docs[0];
    assert_eq!(index, "intelmq");
    assert_eq!(
        doc,
        &json!({"feed.name": "F", "source.ip": "192.0.2.0", "time.source": "2024-03-01T10:00:00+00:00", "raw": "eA==", "extra.a": {"b": 1}})
    );
}

#[test]
fn intelmq_params_rotation_and_replacement_char() {
    let mut state = State::default();
    state.templates.insert("events".into());
    let s = SearchServer::start(state);
    let d = tempfile::tempdir().unwrap();
    let params = d.path().join("p.json");
    std::fs::write(
        &params,
        json!({"elastic_host": "127.0.0.1", "elastic_port": s.addr.port(), "elastic_index": "events",
               "rotate_index": "daily", "replacement_char": "_", "http_username": "u", "http_password": "pw"})
        .to_string(),
    )
    .unwrap();
    let input = events(4, |_| r#","extra.x.y":"z""#.into());
    let out = output(
        d.path(),
        &[
            "--intelmq",
            "intelmq.bots.outputs.elasticsearch.output",
            "--params",
            params.to_str().unwrap(),
        ],
        &input,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let st = s.state.lock().unwrap();
    let idx: Vec<&str> = st.docs.iter().map(|d| d.0.as_str()).collect();
    assert_eq!(
        idx,
        [
            "events-2024-03-01",
            "events-2024-03-02",
            "events-2024-03-01",
            "events-2024-03-02"
        ]
    );
    assert_eq!(st.docs[0].1["source_ip"], "192.0.2.0");
    assert_eq!(st.docs[0].1["extra_x_y"], "z");
    // Basic auth on every request: base64("u:pw").
    assert!(st
        .requests
        .iter()
        .all(|r| r.2.as_deref() == Some("Basic dTpwdw==")));
    drop(st);

    // Rotation without the template: refused at start, as IntelMQ does.
    let params2 = d.path().join("p2.json");
    std::fs::write(&params2, json!({"elastic_port": s.addr.port(), "elastic_index": "nothere", "rotate_index": "monthly"}).to_string()).unwrap();
    let out = output(
        d.path(),
        &[
            "--intelmq",
            "intelmq.bots.outputs.elasticsearch.output",
            "--params",
            params2.to_str().unwrap(),
        ],
        &input,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("template"));
}

#[test]
fn refused_documents_dumped_busy_ones_resent() {
    let s = SearchServer::start(State::default());
    let d = tempfile::tempdir().unwrap();
    let input = events(300, |i| match i {
        7 | 150 => r#","extra.reject":true"#.into(),
        i if i % 50 == 3 => format!(r#","extra.busy":{i}"#),
        _ => String::new(),
    });
    let out = output(d.path(), &strs(&es_args(&s)), &input);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let st = s.state.lock().unwrap();
    assert_eq!(st.docs.len(), 298);
    assert_eq!(st.busy_seen.len(), 6);
    let dump = dumped(d.path());
    let lines: Vec<u64> = dump.iter().map(|r| r["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, [8, 151]);
    assert!(dump[0]["error"]
        .as_str()
        .unwrap()
        .contains("mapper_parsing_exception"));
    // The dump keeps the original line.
    assert!(dump[0]["raw"].as_str().unwrap().contains("extra.reject"));
}

#[test]
fn http_429_and_503_retried_then_server_down_and_back() {
    let mut state = State::default();
    state.fail_next.extend([429, 503, 503]);
    let s = SearchServer::start(state);
    let d = tempfile::tempdir().unwrap();
    let out = output(
        d.path(),
        &strs(&es_args(&s)),
        &events(100, |_| String::new()),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("HTTP 429") && err.contains("retrying"),
        "{err}"
    );
    assert_eq!(s.state.lock().unwrap().docs.len(), 100);

    // Stopped while the output runs: it retries until the server is back.
    s.stop();
    let addr = s.addr;
    let state = s.state.clone();
    let back = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(1500));
        SearchServer::start_at(addr, state)
    });
    let out = output(
        d.path(),
        &strs(&es_args(&s)),
        &events(100, |_| String::new()),
    );
    let s2 = back.join().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("retrying"));
    assert_eq!(s2.state.lock().unwrap().docs.len(), 200);
}

#[test]
fn retries_run_out_exit_2_naming_the_batch() {
    let mut state = State::default();
    state.fail_next.extend([503; 50]);
    let s = SearchServer::start(state);
    let mut args = es_args(&s);
    args.pop();
    args.push("retry_seconds=1".into());
    let d = tempfile::tempdir().unwrap();
    let out = output(d.path(), &strs(&args), &events(5, |_| String::new()));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("5 events not delivered") && err.contains("line 1 to"),
        "{err}"
    );
    assert!(err.contains("HTTP 503"), "{err}");
    assert!(s.state.lock().unwrap().docs.is_empty());
}

fn hec_args(s: &SearchServer) -> Vec<String> {
    vec![
        "splunk".into(),
        "-p".into(),
        format!("url={}/services/collector/event", s.url()),
        "-p".into(),
        "token=T0K".into(),
        "-p".into(),
        "index=cert".into(),
        "-p".into(),
        "retry_seconds=20".into(),
    ]
}

#[test]
fn splunk_hec_batches_refused_event_dumped_rest_indexed() {
    let s = SearchServer::start(State {
        hec_token: "T0K".into(),
        ..State::default()
    });
    s.state.lock().unwrap().fail_next.extend([503, 429]);
    let d = tempfile::tempdir().unwrap();
    let input = events(1200, |i| {
        if i == 10 || i == 700 {
            r#","extra.reject":1"#.into()
        } else {
            String::new()
        }
    });
    let out = output(d.path(), &strs(&hec_args(&s)), &input);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("retrying"));
    let st = s.state.lock().unwrap();
    assert_eq!(st.hec.len(), 1198);
    let first = &st.hec[0];
    assert_eq!(first["time"], json!(1709287200.0));
    assert_eq!(first["index"], "cert");
    assert_eq!(first["sourcetype"], "intelmq");
    assert_eq!(first["event"]["source.ip"], "192.0.2.0");
    assert!(first["event"].get("__type").is_none());
    // No event twice, none lost: the ips cycle through 250 values.
    let ips: Vec<&str> = st
        .hec
        .iter()
        .map(|e| e["event"]["source.ip"].as_str().unwrap())
        .collect();
    assert_eq!(ips[10], "192.0.2.11");
    let lines: Vec<u64> = dumped(d.path())
        .iter()
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [11, 701]);
}

#[test]
fn splunk_bad_token_stops_exit_2() {
    let s = SearchServer::start(State {
        hec_token: "right".into(),
        ..State::default()
    });
    let d = tempfile::tempdir().unwrap();
    let out = output(
        d.path(),
        &strs(&hec_args(&s)),
        &events(3, |_| String::new()),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("401"));
}

#[test]
fn restapi_per_event_as_intelmq_and_batches() {
    let s = SearchServer::start(State::default());
    s.state.lock().unwrap().fail_next.extend([503]);
    let d = tempfile::tempdir().unwrap();
    let params = d.path().join("p.json");
    std::fs::write(
        &params,
        json!({"host": format!("{}/rest", s.url()), "auth_type": "http_header",
               "auth_token_name": "Authorization", "auth_token": "Bearer s3cret",
               "hierarchical_output": true, "retry_seconds": 20})
        .to_string(),
    )
    .unwrap();
    let input = events(5, |i| {
        if i == 2 {
            r#","extra.reject":1"#.into()
        } else {
            String::new()
        }
    });
    let out = output(
        d.path(),
        &[
            "--intelmq",
            "intelmq.bots.outputs.restapi.output",
            "--params",
            params.to_str().unwrap(),
        ],
        &input,
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    {
        let st = s.state.lock().unwrap();
        assert_eq!(st.rest.len(), 4);
        assert_eq!(st.rest[0].0.as_deref(), Some("Bearer s3cret"));
        assert_eq!(
            st.rest[0].1,
            json!({"feed": {"name": "F"}, "source": {"ip": "192.0.2.0"}, "time": {"source": "2024-03-01T10:00:00+00:00"}, "raw": "eA=="})
        );
    }
    let dump = dumped(d.path());
    assert_eq!(dump.len(), 1);
    assert_eq!(dump[0]["line"], 3);
    assert!(dump[0]["error"].as_str().unwrap().contains("HTTP 422"));

    // Batches: JSON arrays; the refused event found by posting its batch one by one.
    let d = tempfile::tempdir().unwrap();
    let input = events(250, |i| {
        if i == 120 {
            r#","extra.reject":1"#.into()
        } else {
            String::new()
        }
    });
    let url = format!("host={}/rest", s.url());
    let out = output(
        d.path(),
        &["restapi", "-p", &url, "-p", "batch_size=100"],
        &input,
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let st = s.state.lock().unwrap();
    let posted: usize = st.rest[4..]
        .iter()
        .map(|(_, v)| v.as_array().map_or(1, Vec::len))
        .sum();
    assert_eq!(posted, 249);
    assert!(st.rest[4].1.is_array());
    assert_eq!(dumped(d.path())[0]["line"], 121);
}
