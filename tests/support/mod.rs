//! Helpers of the network expert tests: loopback servers and a runner for
//! `imq-enrich`. Each test binary uses only part of it.
#![allow(dead_code)]

pub mod dns;
pub mod http;
pub mod search;

use serde_json::{Map, Value};
use std::io::Write;
use std::process::{Command, Stdio};

/// What one run of imq-enrich produced.
pub struct Run {
    pub status: i32,
    pub out: Vec<Map<String, Value>>,
    /// The dump records (objects with "error" and "raw").
    pub dump: Vec<Map<String, Value>>,
    pub stderr: String,
}

fn lines(text: &str) -> Vec<Map<String, Value>> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Run `imq-enrich ARGS...` with the events as input.
pub fn enrich(args: &[&str], input: &[Value]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump.ndjson");
    let mut child = Command::new(env!("CARGO_BIN_EXE_imq-enrich"))
        .arg("--dump")
        .arg(&dump)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut text = String::new();
    for ev in input {
        text.push_str(&ev.to_string());
        text.push('\n');
    }
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(text.as_bytes());
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let dumped = std::fs::read_to_string(&dump).unwrap_or_default();
    Run {
        status: out.status.code().unwrap_or(-1),
        out: lines(&String::from_utf8_lossy(&out.stdout)),
        dump: lines(&dumped),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A JSON object literal as a map.
pub fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => panic!("not an object"),
    }
}

/// Compare an output event with the expected one, ignoring key order.
#[track_caller]
pub fn assert_event(got: &Map<String, Value>, want: Value) {
    let want = obj(want);
    let mut g: Vec<_> = got.iter().collect();
    let mut w: Vec<_> = want.iter().collect();
    g.sort_by(|a, b| a.0.cmp(b.0));
    w.sort_by(|a, b| a.0.cmp(b.0));
    assert_eq!(g, w);
}
