//! imq-output misp_feed end to end: the feed directory (event file, manifest.json,
//! hashes.csv, .current), runs appending to the current event within its window,
//! a new event after it, grouping, and the same feed as IntelMQ's own bot writes
//! (through pymisp), which pymisp also loads and indexes as imq did.

mod common;
use common::run::{cmd, run};
use md5::{Digest, Md5};
use serde_json::Value;
use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const OUTPUT: &str = env!("CARGO_BIN_EXE_imq-output");
const ORG: [&str; 4] = [
    "-p",
    "misp_org_name=ACME",
    "-p",
    "misp_org_uuid=5f6b9ea0-0000-4000-8000-000000000001",
];

const EV1: &str = r#"{"__type":"Event","time.source":"2024-03-05T10:11:12+00:00","time.observation":"2024-03-06T00:00:00+00:00","feed.name":"My Feed","source.ip":"10.0.0.1","source.port":80,"raw":"YQ==","extra.x":"W\u00fcrde \"q\"","extra.n":5,"feed.accuracy":100.0,"classification.type":"malware","source.tor_node":true,"source.asn":64496,"source.geolocation.latitude":1.5,"malware.hash.md5":"d41d8cd98f00b204e9800998ecf8427e","source.url":"http://example.com/x","source.fqdn":"example.com","product.name":"not in the template"}"#;
const EV2: &str = r#"{"__type":"Event","time.source":"2024-03-06T23:59:59.500000+00:00","feed.name":"Other","source.ip":"10.0.0.2","destination.ip":"192.0.2.1","classification.type":"phishing","classification.taxonomy":"fraud","product.name":"x"}"#;

fn feed(dir: &Path, extra: &[&str], input: &str) -> Output {
    let mut c = cmd(OUTPUT, dir);
    c.arg("misp_feed").arg("feed").args(ORG).args(extra);
    let o = run(&mut c, input.as_bytes());
    assert!(
        o.status.success(),
        "exit {:?}: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn json(p: &Path) -> Value {
    let t = fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&t).unwrap_or_else(|e| panic!("{}: {e}: {t}", p.display()))
}

/// The event files of a feed directory.
fn events(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".json") && n != "manifest.json")
        .collect();
    v.sort();
    v
}

fn md5_hex(s: &str) -> String {
    Md5::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn feed_directory_and_appends_within_the_window() {
    let d = tempfile::tempdir().unwrap();
    let tags = ["-p", r#"tagging={"__all__":[{"name":"tlp:white"}]}"#];
    let o = feed(d.path(), &tags, &format!("{EV1}\n{EV2}\n"));
    let err = String::from_utf8_lossy(&o.stderr);
    // The key the template lacks: skipped, said once.
    assert_eq!(err.matches("product.name").count(), 1, "{err}");
    let dir = d.path().join("feed");
    let files = events(&dir);
    assert_eq!(files.len(), 1, "{files:?}");
    let uuid = files[0].trim_end_matches(".json").to_string();
    assert_eq!(
        fs::read_to_string(dir.join(".current")).unwrap(),
        format!("feed/{uuid}.json")
    );
    let ev = json(&dir.join(&files[0]));
    let e = &ev["Event"];
    assert_eq!(e["uuid"], uuid.as_str());
    assert!(e["info"].as_str().unwrap().starts_with("IntelMQ event "));
    assert_eq!(e["analysis"], "2");
    assert_eq!(e["threat_level_id"], "4");
    assert_eq!(e["published"], true);
    assert_eq!(
        e["Orgc"],
        serde_json::json!({"name": "ACME", "uuid": "5f6b9ea0-0000-4000-8000-000000000001"})
    );
    assert_eq!(
        e["Tag"],
        serde_json::json!([{"colour": "#ffffff", "local": false, "name": "tlp:white", "relationship_type": ""}])
    );
    let objs = e["Object"].as_array().unwrap();
    assert_eq!(objs.len(), 2);
    assert_eq!(objs[0]["name"], "intelmq_event");
    assert_eq!(
        objs[0]["template_uuid"],
        "491ac7d2-25a1-4078-8246-b04a132d003d"
    );
    let attrs = |i: usize| -> Vec<(String, String, Value)> {
        objs[i]["Attribute"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["object_relation"].as_str().unwrap().to_string(),
                    a["type"].as_str().unwrap().to_string(),
                    a["value"].clone(),
                )
            })
            .collect()
    };
    let a0 = attrs(0);
    let find = |k: &str| a0.iter().find(|a| a.0 == k).cloned().unwrap();
    assert_eq!(find("source.ip").1, "ip-src");
    assert_eq!(find("source.port").2, "80");
    assert_eq!(find("source.asn").1, "AS");
    assert_eq!(find("feed.accuracy").2, 100.0);
    assert_eq!(find("source.tor_node").2, true);
    assert_eq!(find("extra").2, r#"{"x": "Würde \"q\"", "n": 5}"#);
    assert_eq!(a0.last().unwrap().0, "extra");
    assert!(!a0.iter().any(|a| a.0 == "product.name"));
    assert_eq!(a0.len(), 15);
    assert_eq!(
        attrs(1)[0],
        (
            "time.source".into(),
            "datetime".into(),
            "2024-03-06T23:59:59.500000+00:00".into()
        )
    );
    let src = objs[0]["Attribute"].as_array().unwrap();
    assert_eq!(src[0]["disable_correlation"], true);
    assert_eq!(src[3]["to_ids"], true);
    assert_eq!(src[3]["category"], "Network activity");
    // The file is json.dump's: ASCII only, Python's separators.
    let raw = fs::read_to_string(dir.join(&files[0])).unwrap();
    assert!(
        raw.starts_with(r#"{"Event": {"analysis": "2", "date": ""#),
        "{raw}"
    );
    assert!(raw.contains(r"W\u00fcrde"), "{raw}");
    assert!(raw.is_ascii());

    let manifest = json(&dir.join("manifest.json"));
    let m = manifest.as_object().unwrap();
    assert_eq!(m.len(), 1);
    assert_eq!(m[&uuid]["info"], e["info"]);
    assert_eq!(m[&uuid]["analysis"], 2);
    assert_eq!(
        m[&uuid]["timestamp"],
        e["timestamp"].as_str().unwrap().parse::<i64>().unwrap()
    );
    let hashes = fs::read_to_string(dir.join("hashes.csv")).unwrap();
    let lines: Vec<&str> = hashes.lines().collect();
    assert_eq!(lines.len(), 15 + 6);
    assert!(lines.iter().all(|l| l.ends_with(&format!(",{uuid}"))));
    assert!(lines.contains(&format!("{},{uuid}", md5_hex("10.0.0.1")).as_str()));
    // A datetime is hashed as Python prints it.
    assert!(lines.contains(&format!("{},{uuid}", md5_hex("2024-03-05 10:11:12+00:00")).as_str()));

    // A second run within the hour: the same event, one object more.
    feed(d.path(), &tags, &format!("{EV2}\n"));
    assert_eq!(events(&dir), files);
    let ev2 = json(&dir.join(&files[0]));
    assert_eq!(ev2["Event"]["Object"].as_array().unwrap().len(), 3);
    assert_eq!(ev2["Event"]["info"], e["info"]);
    assert_eq!(ev2["Event"]["Object"][0], objs[0]);
    assert_eq!(
        json(&dir.join("manifest.json")).as_object().unwrap().len(),
        1
    );
    let hashes = fs::read_to_string(dir.join("hashes.csv")).unwrap();
    assert_eq!(hashes.lines().count(), 15 + 6 + 6);
    assert_eq!(
        fs::read_to_string(dir.join(".current")).unwrap(),
        format!("feed/{uuid}.json")
    );
    // No temporary files are left behind.
    assert!(fs::read_dir(&dir).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .contains(".tmp")));
}

#[test]
fn a_new_event_after_the_window() {
    let d = tempfile::tempdir().unwrap();
    let w = ["-p", "interval_event=1 second"];
    feed(d.path(), &w, &format!("{EV1}\n"));
    let dir = d.path().join("feed");
    let first = events(&dir);
    assert_eq!(first.len(), 1);
    std::thread::sleep(std::time::Duration::from_millis(1300));
    feed(d.path(), &w, &format!("{EV2}\n"));
    let both = events(&dir);
    assert_eq!(both.len(), 2, "{both:?}");
    let second = both.iter().find(|f| **f != first[0]).unwrap();
    assert_eq!(
        fs::read_to_string(dir.join(".current")).unwrap(),
        format!("feed/{second}")
    );
    let m = json(&dir.join("manifest.json"));
    assert_eq!(m.as_object().unwrap().len(), 2);
    let hashes = fs::read_to_string(dir.join("hashes.csv")).unwrap();
    for f in &both {
        let u = f.trim_end_matches(".json");
        assert!(hashes.lines().any(|l| l.ends_with(u)), "{u}: {hashes}");
    }
    assert_eq!(hashes.lines().count(), 15 + 6);
    // The old event is as it was; the new one has the new window.
    let old = json(&dir.join(&first[0]));
    assert_eq!(old["Event"]["Object"].as_array().unwrap().len(), 1);
    assert_ne!(
        json(&dir.join(second))["Event"]["info"],
        old["Event"]["info"]
    );
}

/// The hashes.csv lines an event file calls for (pymisp's `str()` of each
/// value: a datetime with a space), sorted.
fn expected_hashes(file: &Path) -> Vec<String> {
    let ev = json(file);
    let uuid = ev["Event"]["uuid"].as_str().unwrap().to_string();
    let mut v: Vec<String> = ev["Event"]["Object"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|o| o["Attribute"].as_array().unwrap().clone())
        .map(|a| {
            let text = match &a["value"] {
                Value::String(s) if a["type"] == "datetime" => s.replacen('T', " ", 1),
                Value::String(s) => s.clone(),
                Value::Bool(b) => if *b { "True" } else { "False" }.to_string(),
                other => other.to_string(),
            };
            format!("{},{uuid}", md5_hex(&text))
        })
        .collect();
    v.sort();
    v
}

/// One run, input arriving slowly: every commit (at least one a second)
/// updates the feed; the window closes an event mid-run.
#[test]
fn a_long_run_commits_as_it_goes() {
    let d = tempfile::tempdir().unwrap();
    let t0 = std::time::Instant::now();
    let mut c = cmd(OUTPUT, d.path())
        .args(["misp_feed", "feed", "-p", "interval_event=4 seconds"])
        .args(ORG)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = c.stdin.take().unwrap();
    let dir = d.path().join("feed");
    // The commits come by themselves, within about a second.
    let wait_for = |n: usize| {
        let lines = || fs::read_to_string(dir.join("hashes.csv")).map_or(0, |t| t.lines().count());
        while lines() != n {
            assert!(t0.elapsed().as_secs() < 4, "{} lines, not {n}", lines());
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    };
    writeln!(stdin, "{EV1}").unwrap();
    wait_for(15);
    writeln!(stdin, "{EV2}").unwrap();
    wait_for(21);
    assert_eq!(events(&dir).len(), 1);
    // After the window (it began before t0).
    std::thread::sleep(std::time::Duration::from_millis(4500).saturating_sub(t0.elapsed()));
    writeln!(stdin, "{EV1}").unwrap();
    drop(stdin);
    let o = c.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let files = events(&dir);
    assert_eq!(files.len(), 2);
    let mut want: Vec<String> = files
        .iter()
        .flat_map(|f| expected_hashes(&dir.join(f)))
        .collect();
    want.sort();
    let mut got: Vec<String> = fs::read_to_string(dir.join("hashes.csv"))
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    got.sort();
    assert_eq!(got, want);
    assert_eq!(got.len(), 15 + 6 + 15);
    assert_eq!(
        json(&dir.join("manifest.json")).as_object().unwrap().len(),
        2
    );
}

#[test]
fn grouped_events_with_their_tags_and_info() {
    let d = tempfile::tempdir().unwrap();
    let args = [
        "-p",
        "grouping_key=feed.name",
        "-p",
        "additional_info=Feed {key}:",
        "-p",
        r##"tagging={"__all__":[{"name":"a"}],"Other":[{"name":"b","colour":"#000000"}]}"##,
    ];
    feed(d.path(), &args, &format!("{EV1}\n{EV2}\n{EV2}\n"));
    let dir = d.path().join("feed");
    assert_eq!(events(&dir).len(), 2);
    let current = json(&dir.join(".current"));
    let c = current.as_object().unwrap();
    assert_eq!(c.keys().collect::<Vec<_>>(), ["My Feed", "Other"]);
    let other = json(&d.path().join(c["Other"].as_str().unwrap()));
    let e = &other["Event"];
    assert!(e["info"]
        .as_str()
        .unwrap()
        .starts_with("Feed Other: IntelMQ event "));
    assert_eq!(e["Object"].as_array().unwrap().len(), 2);
    let tags: Vec<&str> = e["Tag"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(tags, ["a", "b"]);
    assert_eq!(e["Tag"][1]["colour"], "#000000");
    // A second run finds both groups' events again.
    feed(d.path(), &args, &format!("{EV1}\n"));
    assert_eq!(events(&dir).len(), 2);
    let mine = json(&d.path().join(c["My Feed"].as_str().unwrap()));
    assert_eq!(mine["Event"]["Object"].as_array().unwrap().len(), 2);
}

#[test]
fn bad_parameters_stop_at_start() {
    let d = tempfile::tempdir().unwrap();
    for (args, want) in [
        (&["-p", "interval_event=soon"][..], "interval_event"),
        (&["-p", "additional_info={nope}"][..], "additional_info"),
        (
            &["-p", r##"tagging={"__all__":[{"colour":"#fff"}]}"##][..],
            "no name",
        ),
    ] {
        let mut c = cmd(OUTPUT, d.path());
        c.arg("misp_feed").arg("feed").args(ORG).args(args);
        let o = run(&mut c, EV1.as_bytes());
        assert!(!o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(want), "{want}: {err}");
    }
    let mut c = cmd(OUTPUT, d.path());
    c.args(["misp_feed", "feed"]);
    let o = run(&mut c, EV1.as_bytes());
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("misp_org_name"));
}

/// Replace what differs between two runs (UUIDs, times) by placeholders.
fn normalize(text: &str) -> String {
    let uuid =
        regex::Regex::new(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").unwrap();
    let ts = regex::Regex::new(r#""((?:publish_)?timestamp)": "?\d+"?"#).unwrap();
    let info = regex::Regex::new(r"IntelMQ event [0-9T:.-]+ - [0-9T:.-]+").unwrap();
    let date = regex::Regex::new(r#""date": "\d{4}-\d\d-\d\d""#).unwrap();
    let t = uuid.replace_all(text, "UUID");
    let t = ts.replace_all(&t, r#""$1": TS"#);
    let t = info.replace_all(&t, "IntelMQ event WINDOW");
    date.replace_all(&t, r#""date": DATE"#).into_owned()
}

fn sorted_lines(text: &str) -> Vec<String> {
    let mut v: Vec<String> = normalize(text).lines().map(String::from).collect();
    v.sort();
    v
}

/// The IntelMQ venv's python, when it has pymisp (else the test is skipped,
/// which CI does not allow).
fn intelmq_python() -> Option<(std::path::PathBuf, std::path::PathBuf)> {
    let venv = std::env::var("IMQ_INTELMQ_VENV").unwrap_or("/opt/imq/intelmq-venv".into());
    // ../shared/peer beside the repository (or beside the directory of its
    // worktrees).
    let peer = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .skip(1)
        .map(|a| a.join("shared/peer/intelmq-run.py"))
        .find(|p| p.exists())
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/peer/intelmq-run.py")
        });
    let py = Path::new(&venv).join("bin/python");
    let has_pymisp = py.exists()
        && Command::new(&py)
            .args(["-c", "import pymisp"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    if !has_pymisp || !peer.exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "IntelMQ venv {venv} with pymisp, or {}, missing (scripts/services installs them)",
            peer.display()
        );
        eprintln!("skipped: no IntelMQ venv with pymisp at {venv}");
        return None;
    }
    Some((py, peer))
}

/// Run IntelMQ's bot into `py_dir` and imq into `feed`, with the same
/// parameters and events.
fn both(d: &Path, py: &Path, peer: &Path, params: &[&str], input: &str) -> Output {
    let py_dir = d.join("py");
    let mut c = Command::new(py);
    c.arg(peer)
        .arg("intelmq.bots.outputs.misp.output_feed")
        .args(["--param", &format!("output_dir={}", py_dir.display())])
        .args(["--param", "misp_org_name=ACME"])
        .args([
            "--param",
            "misp_org_uuid=5f6b9ea0-0000-4000-8000-000000000001",
        ]);
    for p in params {
        c.args(["--param", p]);
    }
    let mut c = c
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let o = c.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let args: Vec<&str> = params.iter().flat_map(|p| ["-p", p]).collect();
    feed(d, &args, input)
}

/// The event files, manifest.json and hashes.csv of the two directories are
/// the same but for UUIDs and times.
fn assert_same_feed(py_dir: &Path, rs_dir: &Path) {
    let (py_files, rs_files) = (events(py_dir), events(rs_dir));
    assert_eq!(py_files.len(), rs_files.len());
    // Events in the order of their info (grouped events differ there).
    let texts = |dir: &Path, files: &[String]| {
        let mut v: Vec<String> = files
            .iter()
            .map(|f| normalize(&fs::read_to_string(dir.join(f)).unwrap()))
            .collect();
        v.sort();
        v
    };
    assert_eq!(texts(rs_dir, &rs_files), texts(py_dir, &py_files));
    let manifest = |dir: &Path| {
        let m = json(&dir.join("manifest.json"));
        let mut v: Vec<String> = m
            .as_object()
            .unwrap()
            .values()
            .map(|e| {
                let mut e = e.clone();
                e.as_object_mut().unwrap().remove("timestamp");
                normalize(&e.to_string())
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(manifest(rs_dir), manifest(py_dir));
    assert_eq!(
        sorted_lines(&fs::read_to_string(rs_dir.join("hashes.csv")).unwrap()),
        sorted_lines(&fs::read_to_string(py_dir.join("hashes.csv")).unwrap())
    );
}

/// IntelMQ's bot (with pymisp) writes the same feed for the same events; and
/// pymisp's own feed_meta_generator, run over imq's event file, gives imq's
/// manifest.json and hashes.csv.
#[test]
fn same_feed_as_intelmq_and_pymisp_reads_it() {
    let Some((py, peer)) = intelmq_python() else {
        return;
    };
    let d = tempfile::tempdir().unwrap();
    let ev3 = r#"{"__type":"Event","event_description.text":"  spaced  ","comment":"\u00e9\u2028","extra.deep":{"b":[1,2.5,null],"a":"\u00fc"},"source.allocated":"2020-01-01T00:00:00+00:00","rtir_id":7,"destination.tor_node":false}"#;
    let input = format!("{EV1}\n{EV2}\n{ev3}\n");
    let tagging = r#"tagging={"__all__":[{"name":"tlp:white"},{"name":"x","exportable":false}]}"#;
    both(d.path(), &py, &peer, &[tagging], &input);
    let (py_dir, rs_dir) = (d.path().join("py"), d.path().join("feed"));
    let rs_files = events(&rs_dir);
    assert_eq!(rs_files.len(), 1);
    // Whole files compared, not only their parsed values.
    assert_eq!(
        normalize(&fs::read_to_string(rs_dir.join(&rs_files[0])).unwrap()),
        normalize(&fs::read_to_string(py_dir.join(&events(&py_dir)[0])).unwrap())
    );
    assert_eq!(
        normalize(&fs::read_to_string(rs_dir.join("manifest.json")).unwrap()),
        normalize(&fs::read_to_string(py_dir.join("manifest.json")).unwrap())
    );
    assert_same_feed(&py_dir, &rs_dir);

    // pymisp loads imq's event and regenerates the index from it.
    let copy = d.path().join("copy");
    fs::create_dir(&copy).unwrap();
    fs::copy(rs_dir.join(&rs_files[0]), copy.join(&rs_files[0])).unwrap();
    let o = Command::new(&py)
        .args([
            "-c",
            "import sys, pathlib; from pymisp.tools import feed_meta_generator; \
             feed_meta_generator(pathlib.Path(sys.argv[1]))",
        ])
        .arg(&copy)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        fs::read_to_string(copy.join("manifest.json")).unwrap(),
        fs::read_to_string(rs_dir.join("manifest.json")).unwrap()
    );
    let lines = |p: &Path| {
        let mut v: Vec<String> = fs::read_to_string(p)
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        lines(&copy.join("hashes.csv")),
        lines(&rs_dir.join("hashes.csv"))
    );
}

const EV_MAPPED: &str = r#"{"__type":"Event","classification.type":"infected-system","destination.port":9796,"feed.accuracy":100.0,"destination.ip":"52.18.196.169","malware.name":"salityp2p","event_description.text":"Sinkhole attempted connection","time.source":"2016-04-19T23:16:08+00:00","source.ip":"152.166.119.2","source.port":65118,"feed.name":"BitSight","extra.non_ascii":"\u00e7\u00e7\u00e3 x"}"#;
const EV_MAPPED2: &str = r#"{"__type":"Event","source.ip":"1.1.1.1","time.source":"2016-04-19T23:16:08.25+00:00","extra.y":{"b":1},"malware.name":"other"}"#;

/// attribute_mapping (objects and flat events) and grouping, as IntelMQ.
#[test]
fn custom_mapping_flat_events_and_groups_as_intelmq() {
    let Some((py, peer)) = intelmq_python() else {
        return;
    };
    let input = format!("{EV_MAPPED}\n{EV_MAPPED2}\n{EV_MAPPED}\n");
    let objects = r##"attribute_mapping={"source.ip": {}, "feed.name": {"comment": "event_description.text"}, "destination.ip": {"to_ids": false, "category": "Payload delivery"}, "malware.name": {"comment": "extra.non_ascii", "first_seen": "time.source", "Tag": ["t1", {"name": "t2", "colour": "#000"}]}, "source.port": {"disable_correlation": true, "comment": 5, "category": "Financial fraud"}, "extra": {}, "time.source": {"last_seen": 1461107768}}"##;
    let flat = r#"attribute_mapping={"source.ip": {"type": "ip-dst", "category": "Network activity"}, "time.source": {"type": "datetime"}, "source.port": {"type": "port", "to_ids": "1"}, "extra": {"type": "text"}}"#;
    let grouped: &[&str] = &[
        "grouping_key=malware.name",
        "additional_info=Family {key}:",
        r#"tagging={"__all__":[{"name":"source:intelmq"}],"other":[{"name":"family:other"}]}"#,
    ];
    for params in [&[objects][..], &[flat, "flat_events=true"][..], grouped] {
        let d = tempfile::tempdir().unwrap();
        both(d.path(), &py, &peer, params, &input);
        assert_same_feed(&d.path().join("py"), &d.path().join("feed"));
    }
    // A mapping to a relation the template lacks: IntelMQ fails on the event,
    // imq dumps it.
    let d = tempfile::tempdir().unwrap();
    let mut c = cmd(OUTPUT, d.path());
    c.args(["misp_feed", "feed", "--dump", "dump.ndjson"])
        .args(ORG)
        .args([
            "-p",
            r#"attribute_mapping={"source.ip": {"type": "ip-dst"}}"#,
        ]);
    let o = run(&mut c, EV_MAPPED.as_bytes());
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let dump = fs::read_to_string(d.path().join("dump.ndjson")).unwrap();
    assert!(dump.contains("ip-dst"), "{dump}");
    assert!(events(&d.path().join("feed")).is_empty());
}
