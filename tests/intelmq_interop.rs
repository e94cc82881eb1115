//! Interop with IntelMQ 3.5.0 itself: real IntelMQ bot processes and imq tools on
//! the same Redis queues. Three pipelines over the same report:
//!
//! * all IntelMQ: Feodo Tracker parser → taxonomy expert → file output;
//! * an IntelMQ parser feeding `imq-enrich taxonomy`, then IntelMQ's file output;
//! * `imq-parse` feeding IntelMQ's taxonomy expert, then IntelMQ's file output.
//!
//! The events IntelMQ's file output writes at the end must be the same in all
//! three. IntelMQ comes from the venv `scripts/services` installs
//! (`$IMQ_INTELMQ_VENV`, default /opt/imq/intelmq-venv); the bots run through
//! `../shared/peer/intelmq-redis-bot.py`, IntelMQ's production loop.

mod common;

use redis::Commands;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const DB: i64 = 13;
const EVENTS: usize = 300;
const MALWARE: [&str; 3] = ["Dridex", "Emotet", "QakBot"];

fn venv() -> PathBuf {
    PathBuf::from(
        std::env::var("IMQ_INTELMQ_VENV").unwrap_or_else(|_| "/opt/imq/intelmq-venv".into()),
    )
}

fn peer_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/peer/intelmq-redis-bot.py")
}

fn redis() -> redis::Connection {
    redis::Client::open(format!("redis://127.0.0.1:6379/{DB}"))
        .unwrap()
        .get_connection()
        .expect("these tests need Redis on 127.0.0.1:6379 (scripts/services starts it)")
}

/// A Feodo Tracker download with `EVENTS` records.
fn feodo_feed() -> Vec<u8> {
    let recs: Vec<Value> = (0..EVENTS)
        .map(|i| {
            json!({
                "ip_address": format!("198.51.{}.{}", i / 250, i % 250 + 1),
                "port": 443 + (i % 7),
                "status": if i % 3 == 0 { "offline" } else { "online" },
                "hostname": if i % 2 == 0 { Value::Null } else { json!(format!("h{i}.example.com")) },
                "as_number": 64496 + (i % 5),
                "as_name": "EXAMPLE",
                "country": "AT",
                "first_seen": "2024-01-02 03:04:05",
                "last_online": "2024-02-03",
                "malware": MALWARE[i % 3],
            })
        })
        .collect();
    serde_json::to_vec_pretty(&recs).unwrap()
}

/// The report IntelMQ's file collector would write for that feed (wire format).
fn report(raw: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(raw);
    format!(
        "{{\"feed.name\": \"Feodo Tracker\", \"feed.provider\": \"abuse.ch\", \"feed.accuracy\": 100.0, \"time.observation\": \"2024-03-01T00:00:00+00:00\", \"raw\": \"{b64}\", \"__type\": \"Report\"}}"
    )
}

/// An IntelMQ root directory with a runtime.yaml for `bots` (id, module,
/// parameters, destination queues).
struct Root {
    dir: tempfile::TempDir,
}

impl Root {
    fn new(bots: &[(&str, &str, Value, &[&str])]) -> Root {
        let dir = tempfile::tempdir().unwrap();
        for d in ["etc", "var/log", "var/lib/bots", "var/run"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        std::fs::copy(
            venv().join("lib/python3.11/site-packages/intelmq/etc/harmonization.conf"),
            dir.path().join("etc/harmonization.conf"),
        )
        .expect("IntelMQ 3.5.0 venv (scripts/services installs it)");
        let mut runtime = serde_json::Map::new();
        runtime.insert(
            "global".into(),
            json!({
                "source_pipeline_broker": "redis",
                "destination_pipeline_broker": "redis",
                "source_pipeline_host": "127.0.0.1",
                "destination_pipeline_host": "127.0.0.1",
                "source_pipeline_db": DB,
                "destination_pipeline_db": DB,
                "statistics_database": DB,
                "logging_level": "INFO",
                "logging_path": dir.path().join("var/log").to_string_lossy(),
                "error_procedure": "pass",
                "error_dump_message": true,
                "http_proxy": null,
                "https_proxy": null,
                "rate_limit": 0,
            }),
        );
        for (id, module, params, dest) in bots {
            let mut p = params.as_object().cloned().unwrap_or_default();
            if !dest.is_empty() {
                p.insert("destination_queues".into(), json!({ "_default": dest }));
            }
            runtime.insert(
                id.to_string(),
                json!({
                    "bot_id": id,
                    "module": module,
                    "enabled": true,
                    "group": "Expert",
                    "name": id,
                    "run_mode": "continuous",
                    "parameters": p,
                }),
            );
        }
        std::fs::write(
            dir.path().join("etc/runtime.yaml"),
            serde_json::to_string_pretty(&Value::Object(runtime)).unwrap(),
        )
        .unwrap();
        Root { dir }
    }

    /// Start one IntelMQ bot of this root.
    /// What the bots logged, for a failing test's message.
    fn logs(&self) -> String {
        let mut out = String::new();
        for e in std::fs::read_dir(self.dir.path().join("var/log"))
            .unwrap()
            .flatten()
        {
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(15).collect();
            out.push_str(&format!("--- {}\n", e.path().display()));
            for l in tail.iter().rev() {
                out.push_str(l);
                out.push('\n');
            }
        }
        out
    }

    fn start(&self, module: &str, id: &str) -> Child {
        Command::new(venv().join("bin/python"))
            .arg(peer_script())
            .arg(module)
            .arg(id)
            .env("INTELMQ_ROOT_DIR", self.dir.path())
            .stdout(Stdio::null())
            .stderr(
                std::fs::File::create(self.dir.path().join(format!("var/log/{id}.stderr")))
                    .unwrap(),
            )
            .spawn()
            .expect("start IntelMQ bot")
    }
}

/// Kills its processes when dropped, so a failing test leaves nothing running.
struct Procs(Vec<Child>);

impl Drop for Procs {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn imq(bin: &str, args: &[String], root: &Root) -> Child {
    let path = match bin {
        "imq-enrich" => env!("CARGO_BIN_EXE_imq-enrich"),
        "imq-parse" => env!("CARGO_BIN_EXE_imq-parse"),
        _ => unreachable!(),
    };
    let dir = tempfile::tempdir().unwrap().keep();
    common::run::cmd(path, &dir)
        .args(args)
        .stdout(Stdio::null())
        .stderr(
            std::fs::File::create(root.dir.path().join(format!("var/log/{bin}.stderr"))).unwrap(),
        )
        .spawn()
        .expect("start imq tool")
}

/// Wait until `file` holds `n` lines (IntelMQ's file output flushes per event).
fn wait_lines(file: &Path, n: usize, what: &str, root: &Root) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
        if lines.len() >= n {
            return lines
                .iter()
                .map(|l| serde_json::from_str(l).expect("file output line is JSON"))
                .collect();
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{what}: {} of {n} events after 30 s\n{}",
            lines.len(),
            root.logs()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn queue(tag: &str, name: &str) -> String {
    format!("interop-{tag}-{}-{name}", std::process::id())
}

fn uri(q: &str) -> String {
    format!("redis://127.0.0.1:6379/{DB}/{q}")
}

/// Run one pipeline; `imq_stage` says which stage imq takes over, if any.
fn pipeline(tag: &str, imq_stage: Option<&str>) -> Vec<Value> {
    let mut r = redis();
    let parser_q = queue(tag, "parser");
    let expert_q = queue(tag, "expert");
    let output_q = queue(tag, "output");
    let out_file = tempfile::tempdir().unwrap().keep().join("events.json");
    let parser_id = format!("{tag}-parser");
    let expert_id = format!("{tag}-expert");
    let output_id = format!("{tag}-output");
    let parser_mod = "intelmq.bots.parsers.abusech.parser_feodotracker";
    let expert_mod = "intelmq.bots.experts.taxonomy.expert";
    let output_mod = "intelmq.bots.outputs.file.output";
    let root = Root::new(&[
        (
            &parser_id,
            parser_mod,
            json!({ "source_queue": parser_q }),
            &[expert_q.as_str()],
        ),
        (
            &expert_id,
            expert_mod,
            json!({ "source_queue": expert_q }),
            &[output_q.as_str()],
        ),
        (
            &output_id,
            output_mod,
            json!({ "source_queue": output_q, "file": out_file.to_string_lossy(), "hierarchical_output": false }),
            &[],
        ),
    ]);
    for q in [&parser_q, &expert_q, &output_q] {
        let _: () = r.del(&[q.clone(), format!("{q}-internal")]).unwrap();
    }
    let mut procs = Procs(Vec::new());
    match imq_stage {
        Some("parser") => procs.0.push(imq(
            "imq-parse",
            &[
                "abusech-feodotracker".into(),
                "-i".into(),
                uri(&parser_q),
                "-o".into(),
                uri(&expert_q),
            ],
            &root,
        )),
        _ => procs.0.push(root.start(parser_mod, &parser_id)),
    }
    match imq_stage {
        Some("expert") => procs.0.push(imq(
            "imq-enrich",
            &[
                "taxonomy".into(),
                "-i".into(),
                uri(&expert_q),
                "-o".into(),
                uri(&output_q),
            ],
            &root,
        )),
        _ => procs.0.push(root.start(expert_mod, &expert_id)),
    }
    procs.0.push(root.start(output_mod, &output_id));
    let _: () = r
        .lpush(&parser_q, report(&feodo_feed()))
        .expect("push the report");
    let events = wait_lines(&out_file, EVENTS, tag, &root);
    // Nothing left in flight anywhere.
    for q in [&parser_q, &expert_q, &output_q] {
        let n: i64 = r.llen(q).unwrap();
        assert_eq!(n, 0, "{tag}: {q} not drained");
    }
    drop(procs);
    for q in [&parser_q, &expert_q, &output_q] {
        let _: () = r.del(&[q.clone(), format!("{q}-internal")]).unwrap();
    }
    events
}

#[test]
fn imq_stages_replace_intelmq_bots_on_the_same_redis_queues() {
    // The three pipelines run one after the other (each is a few seconds).
    let intelmq = pipeline("all", None);
    assert_eq!(intelmq.len(), EVENTS);
    assert!(intelmq
        .iter()
        .all(|e| e["classification.taxonomy"] == "malicious-code"));
    let with_imq_expert = pipeline("exp", Some("expert"));
    assert_eq!(with_imq_expert, intelmq, "IntelMQ parser -> imq-enrich");
    let with_imq_parser = pipeline("par", Some("parser"));
    assert_eq!(with_imq_parser, intelmq, "imq-parse -> IntelMQ expert");
}
