//! `imq-collect --intelmq MODULE --params FILE` gives the reports IntelMQ 3.5.0's
//! own collector gives for the same parameters: tests/data/collect_intelmq.json
//! holds IntelMQ's reports (made by scripts/peer-collect-cases.py through its
//! library mode), with the server URL as {URL} and the directory as {DIR};
//! here the same files are served on loopback (http) or put in a directory
//! (file). Only `time.observation` differs (the time of the run).
mod common;
#[path = "support/feedserver.rs"]
mod feedserver;

use base64::Engine;
use common::run::{cmd, lines, run};
use feedserver::{Reply, Req, Server};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::path::Path;

fn sorted(m: &Map<String, Value>) -> Vec<(String, Value)> {
    let mut v: Vec<_> = m
        .iter()
        .filter(|(k, _)| *k != "time.observation")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

#[test]
fn same_reports_as_intelmq() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let data: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("tests/data/collect_intelmq.json")).unwrap(),
    )
    .unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    let files: HashMap<String, Vec<u8>> = data["files"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), b64.decode(v.as_str().unwrap()).unwrap()))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let d = std::fs::canonicalize(dir.path()).unwrap();
    let d = d.to_str().unwrap().to_string();
    for (n, b) in &files {
        std::fs::write(Path::new(&d).join(n), b).unwrap();
    }
    let served = files.clone();
    let s =
        Server::start(
            move |req: &Req, _| match served.get(req.path().trim_start_matches('/')) {
                Some(b) => Reply::ok(b.clone()),
                None => Reply::status(404, ""),
            },
        );
    let url = s.url("");
    let pdir = tempfile::tempdir().unwrap();
    for case in data["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let fill = |v: &Value| -> Value {
            serde_json::from_str(&v.to_string().replace("{URL}", &url).replace("{DIR}", &d))
                .unwrap()
        };
        let pf = pdir.path().join("p.json");
        std::fs::write(&pf, fill(&case["params"]).to_string()).unwrap();
        let mut c = cmd(env!("CARGO_BIN_EXE_imq-collect"), Path::new("."));
        c.env_remove("STATE_DIRECTORY").args([
            "--intelmq",
            case["module"].as_str().unwrap(),
            "--params",
            pf.to_str().unwrap(),
        ]);
        let out = run(&mut c, b"");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got: Vec<_> = lines(&out.stdout)
            .iter()
            .map(|r| sorted(r.as_object().unwrap()))
            .collect();
        let want: Vec<_> = fill(&case["reports"])
            .as_array()
            .unwrap()
            .iter()
            .map(|r| sorted(r.as_object().unwrap()))
            .collect();
        assert_eq!(got, want, "case {name}");
        for r in lines(&out.stdout) {
            assert!(r["time.observation"].as_str().unwrap().ends_with("+00:00"));
        }
    }
}
