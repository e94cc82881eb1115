//! Runs the conformance cases copied from the shared corpus (IntelMQ 3.5.0's own
//! test expectations) through `imq-enrich --intelmq MODULE --params FILE`, with the
//! comparison rules of the corpus README: per path, per index, field by field,
//! `__type`/`__path`/`time.observation` ignored, `output` compared as JSON, `raw`
//! only when both sides carry it.

use serde_json::{Map, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn cases(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for bot in std::fs::read_dir(root).unwrap() {
        for case in std::fs::read_dir(bot.unwrap().path()).unwrap() {
            let p = case.unwrap().path();
            if p.join("case.json").exists() {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn normalize(mut m: Map<String, Value>, keep_raw: bool) -> Map<String, Value> {
    for k in ["__type", "__path", "time.observation"] {
        m.remove(k);
    }
    if !keep_raw {
        m.remove("raw");
    }
    if let Some(Value::String(s)) = m.get("output") {
        if let Ok(v) = serde_json::from_str::<Value>(s) {
            m.insert("output".into(), v);
        }
    }
    m
}

/// Equal as JSON values, with 1 == 1.0.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn run_case(dir: &Path) -> Result<(), String> {
    let case: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("case.json")).unwrap()).unwrap();
    let abs = std::fs::canonicalize(dir).unwrap();
    let params = case["parameters"]
        .to_string()
        .replace("{CASE_DIR}", abs.to_str().unwrap());
    let tmp = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(tmp.path(), params).unwrap();
    let input = std::fs::read(dir.join("input.ndjson")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_imq-enrich"))
        .args(["--intelmq", case["bot"].as_str().unwrap(), "--params"])
        .arg(tmp.path())
        .arg("--dump")
        .arg(tmp.path().with_extension("dump"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    let _ = std::fs::remove_file(tmp.path().with_extension("dump"));

    let mut by_path: std::collections::BTreeMap<String, Vec<Map<String, Value>>> =
        Default::default();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if line.trim().is_empty() {
            continue;
        }
        let m: Map<String, Value> =
            serde_json::from_str(line).map_err(|e| format!("bad output line {line}: {e}"))?;
        let path = m
            .get("__path")
            .and_then(Value::as_str)
            .unwrap_or("_default")
            .to_string();
        by_path.entry(path).or_default().push(m);
    }
    let expected_lines = std::fs::read_to_string(dir.join("expected.ndjson")).unwrap();
    for (line, spec) in expected_lines
        .lines()
        .filter(|l| !l.trim().is_empty())
        .zip(case["expected"].as_array().unwrap())
    {
        let path = spec["path"].as_str().unwrap();
        let idx = spec["index"].as_u64().unwrap() as usize;
        let compare_raw = spec["compare_raw"].as_bool().unwrap_or(true);
        let exp: Map<String, Value> = serde_json::from_str(line).unwrap();
        let Some(got) = by_path.get(path).and_then(|v| v.get(idx)) else {
            return Err(format!(
                "event {idx} on {path} missing; stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        };
        let both_raw = compare_raw && exp.contains_key("raw") && got.contains_key("raw");
        let (e, g) = (normalize(exp, both_raw), normalize(got.clone(), both_raw));
        if !same(&Value::Object(e.clone()), &Value::Object(g.clone())) {
            return Err(format!(
                "event {idx} on {path}:\n  expected {}\n  got      {}",
                Value::Object(e),
                Value::Object(g)
            ));
        }
    }
    for (path, n) in case["expected_counts"].as_object().unwrap() {
        let got = by_path.get(path).map_or(0, Vec::len) as u64;
        if Some(got) != n.as_u64() {
            return Err(format!("path {path}: {got} events, expected {n}"));
        }
    }
    Ok(())
}

#[test]
fn corpus_expert_cases() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/corpus/expert");
    let all = cases(&root);
    assert!(!all.is_empty());
    let mut failures = Vec::new();
    for c in &all {
        if let Err(e) = run_case(c) {
            failures.push(format!("{}: {e}", c.strip_prefix(&root).unwrap().display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}
