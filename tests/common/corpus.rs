//! Run conformance corpus cases (copied from /work/shared/corpus) against a
//! built binary and compare the output as /work/shared/corpus/check.py does:
//! `__type`, `__path` and `time.observation` are ignored, `output` is compared
//! as parsed JSON, `raw` only when both sides carry it (check.py's "lenient"
//! mode) and `compare_raw` is true, numbers compare by value (`1 == 1.0`) but
//! never equal strings or booleans, and the number of messages on every path
//! must match `expected_counts`.
//!
//! ```ignore
//! mod common;
//! #[test]
//! fn corpus() {
//!     common::corpus::run_cases(env!("CARGO_BIN_EXE_imq-enrich"), "tests/data/corpus/expert/taxonomy", &[]);
//! }
//! ```

use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The arguments check.py's usual template gives: `--intelmq {bot} --params {params_file}`.
pub const DEFAULT_ARGS: &[&str] = &["--intelmq", "{bot}", "--params", "{params_file}"];

/// Run every case below `dir` with [`DEFAULT_ARGS`]; panic listing the failures
/// other than `known_failures` (case folder names relative to `dir`).
pub fn run_cases(bin: &str, dir: impl AsRef<Path>, known_failures: &[&str]) {
    run_cases_with(bin, DEFAULT_ARGS, dir, known_failures);
}

/// Run every case below `dir` with the given argument template (placeholders
/// `{bot}`, `{name}`, `{params_file}`, `{paths}`, `{case_dir}`,
/// `{input_file}`). Cases whose folder name is in `known_failures` may fail
/// (a note is printed when one passes); any other failure panics.
pub fn run_cases_with(bin: &str, args: &[&str], dir: impl AsRef<Path>, known_failures: &[&str]) {
    let dir = dir.as_ref();
    let cases = find_cases(dir);
    assert!(!cases.is_empty(), "no cases below {}", dir.display());
    let mut failures = Vec::new();
    let mut passed = 0;
    for case in &cases {
        let name = case
            .strip_prefix(dir)
            .unwrap_or(case)
            .to_string_lossy()
            .into_owned();
        let known = known_failures.iter().any(|k| *k == name);
        match run_case(bin, args, case) {
            Ok(()) if known => {
                // Not an error, so that fixing a shared cause elsewhere does not
                // break this test; the note says the list can shrink.
                eprintln!("note: {name} passes now; remove it from the known failures");
                passed += 1;
            }
            Ok(()) => passed += 1,
            Err(_) if known => passed += 1,
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    eprintln!(
        "{passed} cases passed ({} known failures)",
        known_failures.len()
    );
}

/// Folders holding a case.json, sorted.
pub fn find_cases(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if dir.join("case.json").is_file() {
        out.push(dir.to_path_buf());
        return out;
    }
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for e in entries {
        if e.is_dir() {
            out.extend(find_cases(&e));
        }
    }
    out
}

fn substitute(v: &Value, case_dir: &str) -> Value {
    match v {
        Value::String(s) => Value::String(s.replace("{CASE_DIR}", case_dir)),
        Value::Array(a) => Value::Array(a.iter().map(|x| substitute(x, case_dir)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), substitute(x, case_dir)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn read_ndjson(path: &Path) -> Result<Vec<Value>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).map_err(|e| format!("{}: {e}", path.display())))
        .collect()
}

/// Run one case; `Err` says why it fails.
pub fn run_case(bin: &str, args: &[&str], case_dir: &Path) -> Result<(), String> {
    let case_dir = std::fs::canonicalize(case_dir).map_err(|e| e.to_string())?;
    let dir_str = case_dir.to_string_lossy().into_owned();
    let case: Value = serde_json::from_str(
        &std::fs::read_to_string(case_dir.join("case.json")).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let params = substitute(case.get("parameters").unwrap_or(&Value::Null), &dir_str);
    let paths: Vec<String> = case
        .get("destination_paths")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|p| p.as_str().map(String::from))
                .collect()
        })
        .filter(|v: &Vec<String>| !v.is_empty())
        .unwrap_or_else(|| vec!["_default".into()]);
    let mut params_file = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
    params_file
        .write_all(serde_json::to_string(&params).expect("JSON").as_bytes())
        .map_err(|e| e.to_string())?;
    let input_file = case_dir.join("input.ndjson");
    let get = |k: &str| {
        case.get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let fill = |a: &str| {
        a.replace("{bot}", &get("bot"))
            .replace("{name}", &get("name"))
            .replace("{kind}", &get("kind"))
            .replace("{params_file}", &params_file.path().to_string_lossy())
            .replace("{paths}", &paths.join(","))
            .replace("{case_dir}", &dir_str)
            .replace("{input_file}", &input_file.to_string_lossy())
    };
    let dump = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
    let out = Command::new(bin)
        .args(args.iter().map(|a| fill(a)))
        .arg("--dump")
        .arg(dump.path())
        .stdin(std::fs::File::open(&input_file).map_err(|e| e.to_string())?)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot run {bin}: {e}"))?;

    let mut produced: BTreeMap<String, Vec<Map<String, Value>>> = BTreeMap::new();
    for (n, line) in String::from_utf8_lossy(&out.stdout).lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(line)
            .map_err(|_| format!("stdout line {} is not JSON: {line:.120}", n + 1))?;
        let Value::Object(m) = v else {
            return Err(format!("stdout line {} is not a JSON object", n + 1));
        };
        let path = m
            .get("__path")
            .and_then(Value::as_str)
            .unwrap_or("_default")
            .to_string();
        produced.entry(path).or_default().push(m);
    }

    let mut problems = Vec::new();
    for (path, events) in &produced {
        if !paths.contains(path) {
            problems.push(format!(
                "{} event(s) on unconfigured path {path:?}",
                events.len()
            ));
        }
    }
    let expected = read_ndjson(&case_dir.join("expected.ndjson"))?;
    let metas = case
        .get("expected")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if metas.len() != expected.len() {
        return Err("corrupt case: expected.ndjson and case.json differ in length".into());
    }
    for (meta, exp) in metas.iter().zip(&expected) {
        let path = meta
            .get("path")
            .and_then(Value::as_str)
            .unwrap_or("_default");
        let index = meta.get("index").and_then(Value::as_u64).unwrap_or(0) as usize;
        let compare_raw = meta
            .get("compare_raw")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let Some(got) = produced.get(path).and_then(|e| e.get(index)) else {
            problems.push(format!("event {index} on {path}: missing"));
            continue;
        };
        let Value::Object(exp) = exp else {
            return Err("expected line is not an object".into());
        };
        let e = normalize(exp, compare_raw, got.contains_key("raw"));
        let g = normalize(got, compare_raw, exp.contains_key("raw"));
        if !same(&Value::Object(e.clone()), &Value::Object(g.clone())) {
            problems.push(format!(
                "event {index} on {path}: expected {}, got {}",
                Value::Object(e),
                Value::Object(g)
            ));
        }
    }
    if let Some(Value::Object(counts)) = case.get("expected_counts") {
        for (path, n) in counts {
            let got = produced.get(path).map_or(0, Vec::len) as u64;
            if Some(got) != n.as_u64() {
                problems.push(format!(
                    "path {path:?}: produced {got} event(s), expected {n}"
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        Err(format!(
            "{} (exit {:?}; stderr: {})",
            problems.join(" | "),
            out.status.code(),
            stderr.trim()
        ))
    }
}

fn normalize(
    ev: &Map<String, Value>,
    compare_raw: bool,
    other_has_raw: bool,
) -> Map<String, Value> {
    let mut m = ev.clone();
    for k in ["__type", "__path", "time.observation"] {
        m.remove(k);
    }
    if let Some(Value::String(s)) = m.get("output") {
        if let Ok(v) = serde_json::from_str::<Value>(s) {
            m.insert("output".into(), v);
        }
    }
    if !compare_raw || !other_has_raw {
        m.remove("raw");
    }
    m
}

/// Equality with JSON semantics: numbers by value, never equal to strings or booleans.
pub fn same(a: &Value, b: &Value) -> bool {
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
