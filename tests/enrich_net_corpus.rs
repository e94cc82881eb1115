//! Conformance cases of the network experts copied from the corpus
//! (/work/shared/corpus/cases/expert/<bot>/) into tests/data/enrich-net/corpus/.
//! Only recordedfuture_iprisk has cases; it reads a local file.

mod support;

use serde_json::{Map, Value};
use std::path::Path;

fn without_volatile(mut m: Map<String, Value>, volatile: &[Value]) -> Vec<(String, Value)> {
    for v in volatile {
        if let Some(k) = v.as_str() {
            m.remove(k);
        }
    }
    let mut v: Vec<_> = m.into_iter().collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

#[test]
fn corpus_cases() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/enrich-net/corpus");
    let mut n = 0;
    for bot in std::fs::read_dir(&root).unwrap() {
        let bot = bot.unwrap().path();
        for case in std::fs::read_dir(&bot).unwrap() {
            let case = case.unwrap().path();
            let spec: Value =
                serde_json::from_str(&std::fs::read_to_string(case.join("case.json")).unwrap())
                    .unwrap();
            let params = spec["parameters"]
                .to_string()
                .replace("{CASE_DIR}", case.to_str().unwrap());
            let dir = tempfile::tempdir().unwrap();
            let pfile = dir.path().join("params.json");
            std::fs::write(&pfile, params).unwrap();
            let input: Vec<Value> = std::fs::read_to_string(case.join("input.ndjson"))
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            let r = support::enrich(
                &[
                    "--intelmq",
                    spec["bot"].as_str().unwrap(),
                    "--params",
                    pfile.to_str().unwrap(),
                ],
                &input,
            );
            assert_eq!(r.status, 0, "{}: {}", case.display(), r.stderr);
            let volatile = spec["volatile_fields"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let expected: Vec<Map<String, Value>> =
                std::fs::read_to_string(case.join("expected.ndjson"))
                    .unwrap()
                    .lines()
                    .map(|l| serde_json::from_str(l).unwrap())
                    .collect();
            assert_eq!(
                r.out.len() as u64,
                spec["expected_counts"]["_default"].as_u64().unwrap(),
                "{}",
                case.display()
            );
            for (e, want) in spec["expected"].as_array().unwrap().iter().zip(expected) {
                let got = r.out[e["index"].as_u64().unwrap() as usize].clone();
                assert_eq!(
                    without_volatile(got, &volatile),
                    without_volatile(want, &volatile),
                    "{}",
                    case.display()
                );
            }
            n += 1;
        }
    }
    assert!(n >= 4, "only {n} cases found");
}

#[test]
fn missing_risk_list_is_fatal() {
    let r = support::enrich(
        &[
            "recordedfuture_iprisk",
            "--database",
            "/nonexistent/rfiprisk.dat",
        ],
        &[serde_json::json!({"source.ip": "10.0.0.1"})],
    );
    assert_eq!(r.status, 2);
    assert!(r.stderr.contains("rfiprisk.dat"), "{}", r.stderr);
}
