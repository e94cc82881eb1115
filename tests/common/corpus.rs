//! Runs IntelMQ conformance cases (copied from the shared corpus into
//! `tests/data/corpus/<kind>/<bot>/<case>/`) through a built imq binary, and
//! compares like the corpus' `check.py` does (strict about keys and JSON types;
//! `__type`, `__path`, `time.observation` ignored; `output` compared as parsed
//! JSON; `raw` compared when both sides have it and the case says so; the number
//! of messages per path must match).

use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Every case folder (holding case.json) below `root`, sorted.
pub fn find_cases(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        if d.join("case.json").exists() {
            out.push(d);
            continue;
        }
        if let Ok(rd) = std::fs::read_dir(&d) {
            for e in rd.flatten() {
                if e.path().is_dir() {
                    stack.push(e.path());
                }
            }
        }
    }
    out.sort();
    out
}

fn substitute(v: &Value, dir: &str) -> Value {
    match v {
        Value::String(s) => Value::String(s.replace("{CASE_DIR}", dir)),
        Value::Array(a) => Value::Array(a.iter().map(|x| substitute(x, dir)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), substitute(x, dir)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn normalize(
    ev: &Map<String, Value>,
    compare_raw: bool,
    other_has_raw: bool,
) -> Map<String, Value> {
    let mut e = ev.clone();
    for k in ["__type", "__path", "time.observation"] {
        e.remove(k);
    }
    if let Some(Value::String(s)) = e.get("output") {
        if let Ok(v) = serde_json::from_str::<Value>(s) {
            e.insert("output".into(), v);
        }
    }
    if !compare_raw || !other_has_raw {
        e.remove("raw");
    }
    e
}

fn read_ndjson(p: &Path) -> Vec<Map<String, Value>> {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .collect()
}

/// Run one case; `Err` describes the differences.
pub fn run_case(bin: &str, dir: &Path) -> Result<(), String> {
    let dir = dir.canonicalize().expect("case dir");
    let dir_s = dir.to_string_lossy().to_string();
    let case: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("case.json")).unwrap()).unwrap();
    let params = substitute(&case["parameters"], &dir_s);
    let mut params_file = tempfile::NamedTempFile::new().unwrap();
    params_file
        .write_all(params.to_string().as_bytes())
        .unwrap();
    let input = std::fs::read(dir.join("input.ndjson")).unwrap();
    let mut child = Command::new(bin)
        .arg("--intelmq")
        .arg(case["bot"].as_str().unwrap())
        .arg("--params")
        .arg(params_file.path())
        .arg("--dump")
        .arg(std::env::temp_dir().join(format!("imq-corpus-{}.dump.ndjson", std::process::id())))
        .arg("-q")
        .env_remove("IMQ_DUMP")
        .env_remove("IMQ_DUMP_DIR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let mut produced: BTreeMap<String, Vec<Map<String, Value>>> = BTreeMap::new();
    for (n, line) in String::from_utf8_lossy(&out.stdout).lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let ev: Map<String, Value> = serde_json::from_str(line)
            .map_err(|e| format!("stdout line {}: {e}: {line}", n + 1))?;
        let path = ev
            .get("__path")
            .and_then(Value::as_str)
            .unwrap_or("_default")
            .to_string();
        produced.entry(path).or_default().push(ev);
    }
    let paths: Vec<String> = case["destination_paths"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_else(|| vec!["_default".into()]);
    let mut problems = Vec::new();
    for (p, evs) in &produced {
        if !paths.contains(p) {
            problems.push(format!("{} event(s) on unconfigured path {p:?}", evs.len()));
        }
    }
    let expected = read_ndjson(&dir.join("expected.ndjson"));
    let metas = case["expected"].as_array().cloned().unwrap_or_default();
    for (meta, exp) in metas.iter().zip(&expected) {
        let path = meta["path"].as_str().unwrap_or("_default");
        let index = meta["index"].as_u64().unwrap_or(0) as usize;
        let compare_raw = meta["compare_raw"].as_bool().unwrap_or(true);
        let Some(got) = produced.get(path).and_then(|v| v.get(index)) else {
            problems.push(format!("event {index} on {path}: missing"));
            continue;
        };
        let e = normalize(exp, compare_raw, got.contains_key("raw"));
        let g = normalize(got, compare_raw, exp.contains_key("raw"));
        if !same(&Value::Object(e.clone()), &Value::Object(g.clone())) {
            let mut diffs = Vec::new();
            for k in e
                .keys()
                .chain(g.keys())
                .collect::<std::collections::BTreeSet<_>>()
            {
                match (e.get(k), g.get(k)) {
                    (Some(a), Some(b)) if same(a, b) => {}
                    (a, b) => diffs.push(format!("{k}: expected {a:?}, got {b:?}")),
                }
            }
            problems.push(format!("event {index} on {path}: {}", diffs.join("; ")));
        }
    }
    if let Some(counts) = case["expected_counts"].as_object() {
        for (p, c) in counts {
            let n = produced.get(p).map_or(0, Vec::len) as u64;
            if Some(n) != c.as_u64() {
                problems.push(format!("path {p}: produced {n}, expected {c}"));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        Err(format!("{} | stderr: {}", problems.join(" | "), err.trim()))
    }
}

/// Run every case below `root` and fail with a list of the failing ones, unless
/// they are named in `known_failures` (each with its reason in the caller).
pub fn run_cases(bin: &str, root: &Path, known_failures: &[&str]) {
    let cases = find_cases(root);
    assert!(!cases.is_empty(), "no cases under {}", root.display());
    let mut failed = Vec::new();
    let mut passed = 0;
    for c in &cases {
        let rel = c.strip_prefix(root).unwrap().to_string_lossy().to_string();
        match run_case(bin, c) {
            Ok(()) => {
                passed += 1;
                assert!(
                    !known_failures.contains(&rel.as_str()),
                    "{rel} passes now: remove it from the known failures"
                );
            }
            Err(e) if known_failures.contains(&rel.as_str()) => {
                eprintln!("known failure {rel}: {e}");
            }
            Err(e) => failed.push(format!("{rel}: {e}")),
        }
    }
    eprintln!(
        "corpus {}: {passed} of {} cases pass",
        root.display(),
        cases.len()
    );
    assert!(
        failed.is_empty(),
        "{} case(s) failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
}
