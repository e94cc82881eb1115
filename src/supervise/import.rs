//! `imq-supervise import runtime.yaml`: an IntelMQ runtime.yaml as a pipeline
//! file. Each bot becomes a stage running its imq counterpart (`--intelmq MODULE
//! --params FILE` where the tool takes IntelMQ's parameters as they are), queues
//! become edges, a collector's `rate_limit` its schedule, and `load_balance` over
//! identical bots one stage with that many workers. Everything that cannot be
//! carried over is named in the result's notes (and as comments in the file).

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// Parameters that describe the pipeline (carried over as edges, schedule and
/// workers) or IntelMQ's runtime (logging, error handling, statistics), not the
/// bot: they are not passed to the tool.
const PIPELINE_PARAMS: &[&str] = &[
    "destination_queues",
    "source_queue",
    "load_balance",
    "rate_limit",
    "name",
    "provider",
    "accuracy",
    "code",
    "documentation",
];
/// Runtime settings imq does not have: named in the notes when a bot sets them.
const RUNTIME_PARAMS: &[&str] = &[
    "error_procedure",
    "error_max_retries",
    "error_retry_delay",
    "error_dump_message",
    "error_log_message",
    "error_log_exception",
    "logging_level",
    "logging_path",
    "logging_handler",
    "logging_syslog",
    "log_processed_messages_count",
    "log_processed_messages_seconds",
    "process_manager",
    "statistics_database",
    "statistics_host",
    "statistics_port",
    "statistics_password",
    "source_pipeline_broker",
    "destination_pipeline_broker",
    "source_pipeline_host",
    "source_pipeline_port",
    "source_pipeline_db",
    "source_pipeline_password",
    "destination_pipeline_host",
    "destination_pipeline_port",
    "destination_pipeline_db",
    "destination_pipeline_password",
    "http_proxy",
    "https_proxy",
    "http_timeout_sec",
    "http_timeout_max_tries",
    "http_user_agent",
    "http_verify_cert",
    "ssl_ca_certificate",
    "instances_threads",
    "load_balance",
    "destination_pipeline_queue",
    "destination_pipeline_queue_formatted",
];

/// The result: the pipeline file, parameter files to write beside it, notes.
pub struct Imported {
    pub toml: String,
    /// (file name under the params directory, JSON)
    pub params: Vec<(String, String)>,
    pub notes: Vec<String>,
}

struct Bot {
    id: String,
    group: String,
    module: String,
    enabled: bool,
    params: Map<String, Value>,
}

fn queue_to_bot(q: &str) -> String {
    q.strip_suffix("-queue").unwrap_or(q).to_string()
}

/// TOML basic string.
fn q(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// Shell-quote one word for a stage command.
fn sh(w: &str) -> String {
    if !w.is_empty()
        && w.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@".contains(&b))
    {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', "'\\''"))
    }
}

fn stage_name(id: &str) -> String {
    let s: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if s.is_empty() {
        "bot".into()
    } else {
        s
    }
}

fn to_json(v: &serde_norway::Value) -> Result<Value> {
    serde_json::to_value(v).map_err(|e| anyhow!("{e}"))
}

pub fn import(text: &str, params_dir: &str, source_name: &str) -> Result<Imported> {
    let y: serde_norway::Value = serde_norway::from_str(text).map_err(|e| anyhow!("{e}"))?;
    let top = y
        .as_mapping()
        .ok_or_else(|| anyhow!("runtime.yaml: not a mapping of bot ids"))?;
    let mut notes = Vec::new();
    let mut bots = Vec::new();
    let mut global = Map::new();
    for (k, v) in top {
        let id = k
            .as_str()
            .ok_or_else(|| anyhow!("a bot id is not a string"))?;
        let j = to_json(v)?;
        if id == "global" {
            global = j.as_object().cloned().unwrap_or_default();
            continue;
        }
        let params = j["parameters"].as_object().cloned().unwrap_or_default();
        bots.push(Bot {
            id: id.to_string(),
            group: j["group"].as_str().unwrap_or("").to_string(),
            module: j["module"]
                .as_str()
                .ok_or_else(|| anyhow!("bot {id}: no module"))?
                .to_string(),
            enabled: j["enabled"].as_bool().unwrap_or(true),
            params,
        });
    }
    if bots.is_empty() {
        bail!("runtime.yaml: no bots");
    }
    for (k, v) in &global {
        if matches!(
            k.as_str(),
            "destination_pipeline_broker" | "source_pipeline_broker"
        ) && v.as_str() != Some("redis")
        {
            notes.push(format!(
                "global.{k} = {v}: the pipeline uses the fifo transport"
            ));
        } else if !RUNTIME_PARAMS.contains(&k.as_str()) || k.starts_with("error_") {
            notes.push(format!("global.{k} = {v}: not carried over"));
        }
    }
    // Load-balanced destinations that run the same bot become one stage with
    // workers; `merged` maps the extra bots to the one that stays.
    let mut merged: BTreeMap<String, String> = BTreeMap::new();
    let mut workers: BTreeMap<String, u32> = BTreeMap::new();
    for b in &bots {
        if b.params.get("load_balance").and_then(Value::as_bool) != Some(true) {
            continue;
        }
        let Some(dq) = b
            .params
            .get("destination_queues")
            .and_then(Value::as_object)
        else {
            continue;
        };
        for (path, qs) in dq {
            let targets: Vec<String> = qs
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(queue_to_bot)
                .collect();
            let same = |a: &Bot, c: &Bot| {
                let strip = |m: &Map<String, Value>| {
                    let mut m = m.clone();
                    m.remove("destination_queues");
                    m
                };
                a.module == c.module
                    && strip(&a.params) == strip(&c.params)
                    && a.params.get("destination_queues") == c.params.get("destination_queues")
            };
            let found: Vec<&Bot> = targets
                .iter()
                .filter_map(|t| bots.iter().find(|x| x.id == *t))
                .collect();
            if found.len() == targets.len()
                && found.len() > 1
                && found.iter().all(|x| same(x, found[0]))
            {
                let keep = found[0].id.clone();
                for x in &found[1..] {
                    merged.insert(x.id.clone(), keep.clone());
                }
                workers.insert(keep.clone(), found.len() as u32);
                notes.push(format!(
                    "{}: load_balance over {} identical bots ({}): one stage {} with {} workers",
                    b.id,
                    found.len(),
                    targets.join(", "),
                    stage_name(&keep),
                    found.len()
                ));
            } else {
                notes.push(format!(
                    "{}: path {path}: load_balance over different bots is not carried over; each gets a copy",
                    b.id
                ));
            }
        }
    }
    let resolve = |id: &str| merged.get(id).cloned().unwrap_or_else(|| id.to_string());
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Imported by imq-supervise import from {source_name}."
    );
    let _ = writeln!(out, "# Check it with: imq-supervise check FILE\n");
    let _ = writeln!(out, "[pipeline]\ntransport = \"fifo\"\n");
    let mut params_files = Vec::new();
    for b in &bots {
        if merged.contains_key(&b.id) {
            continue;
        }
        let name = stage_name(&b.id);
        let mut tool_params = Map::new();
        for (k, v) in &b.params {
            if PIPELINE_PARAMS.contains(&k.as_str()) {
                continue;
            }
            if RUNTIME_PARAMS.contains(&k.as_str()) {
                notes.push(format!(
                    "{}: parameter {k} = {v}: runtime setting, not carried over",
                    b.id
                ));
                continue;
            }
            tool_params.insert(k.clone(), v.clone());
        }
        let params_file = format!("{params_dir}/{name}.json");
        let mut with_params = |tool: &str, module: &str, p: &Map<String, Value>| -> String {
            if p.is_empty() {
                format!("{tool} --intelmq {}", sh(module))
            } else {
                params_files.push((
                    format!("{name}.json"),
                    serde_json::to_string_pretty(&Value::Object(p.clone())).unwrap_or_default()
                        + "\n",
                ));
                format!(
                    "{tool} --intelmq {} --params {}",
                    sh(module),
                    sh(&params_file)
                )
            }
        };
        let mut enabled = b.enabled;
        let mut comment = Vec::new();
        let group = b.group.as_str();
        let command = if group == "Parser" || b.module.starts_with("intelmq.bots.parsers.") {
            if crate::parse::find(&b.module).is_none() {
                notes.push(format!("{}: no imq parser for {}", b.id, b.module));
                enabled = false;
            }
            with_params("imq-parse", &b.module, &tool_params)
        } else if b.module == "intelmq.bots.experts.filter.expert"
            || b.module == "intelmq.bots.experts.sieve.expert"
        {
            with_params("imq-filter", &b.module, &tool_params)
        } else if group == "Expert" || b.module.starts_with("intelmq.bots.experts.") {
            if crate::enrich::find(&b.module).is_none() {
                notes.push(format!("{}: no imq expert for {}", b.id, b.module));
                enabled = false;
            }
            with_params("imq-enrich", &b.module, &tool_params)
        } else if b.module == "intelmq.bots.outputs.file.output" {
            let file = tool_params
                .get("file")
                .and_then(Value::as_str)
                .unwrap_or("/opt/intelmq/var/lib/bots/file-output/events.txt");
            for (k, v) in &tool_params {
                let default = match k.as_str() {
                    "file" => true,
                    "hierarchical_output" => v == &Value::Bool(false),
                    "single_key" => v.is_null(),
                    _ => false,
                };
                if !default {
                    notes.push(format!("{}: parameter {k} = {v}: not carried over", b.id));
                }
            }
            format!("imq-output json --target {}", sh(file))
        } else if group == "Collector" || b.module.starts_with("intelmq.bots.collectors.") {
            let mut c = String::from("imq-collect");
            match b.module.as_str() {
                "intelmq.bots.collectors.file.collector_file" => {
                    let path = tool_params
                        .get("path")
                        .and_then(Value::as_str)
                        .unwrap_or(".");
                    let postfix = tool_params
                        .get("postfix")
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    c.push_str(&format!(" file {}", sh(&format!("{path}/report{postfix}"))));
                    notes.push(format!(
                        "{}: the file collector reads every *{postfix} in {path}; imq-collect file takes file names: set them in the command",
                        b.id
                    ));
                    enabled = false;
                }
                _ => {
                    notes.push(format!(
                        "{}: no imq collector for {} yet: the stage is written disabled",
                        b.id, b.module
                    ));
                    comment.push(format!(
                        "IntelMQ {} with {}",
                        b.module,
                        Value::Object(tool_params.clone())
                    ));
                    enabled = false;
                    c.push_str(" file /dev/null");
                }
            }
            for (k, flag) in [
                ("name", "--feed-name"),
                ("provider", "--feed-provider"),
                ("accuracy", "--feed-accuracy"),
                ("code", "--feed-code"),
            ] {
                if let Some(v) = b.params.get(k) {
                    let v = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    c.push_str(&format!(" {flag} {}", sh(&v)));
                }
            }
            c
        } else {
            notes.push(format!(
                "{}: no imq counterpart for {} ({group})",
                b.id, b.module
            ));
            enabled = false;
            comment.push(format!("IntelMQ {}", b.module));
            "imq-enrich --list".to_string()
        };
        let _ = writeln!(out, "[stage.{}]", name);
        for c in &comment {
            let _ = writeln!(out, "# {c}");
        }
        let _ = writeln!(
            out,
            "description = {}",
            q(&format!("IntelMQ bot {} ({})", b.id, b.module))
        );
        let _ = writeln!(out, "command = {}", q(&command));
        if !enabled {
            let _ = writeln!(out, "enabled = false");
        }
        if let Some(w) = workers.get(&b.id) {
            let _ = writeln!(out, "workers = {w}");
        }
        if group == "Collector" {
            if let Some(r) = b
                .params
                .get("rate_limit")
                .and_then(Value::as_u64)
                .filter(|r| *r > 0)
            {
                let _ = writeln!(out, "schedule = \"{r}s\"");
            }
        }
        if let Some(dq) = b
            .params
            .get("destination_queues")
            .and_then(Value::as_object)
        {
            let mut named = Vec::new();
            for (path, qs) in dq {
                let mut ts: Vec<String> = Vec::new();
                for t in qs
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    let t = resolve(&queue_to_bot(t));
                    if !bots.iter().any(|x| x.id == t) {
                        notes.push(format!(
                            "{}: queue {t}-queue has no bot: not carried over",
                            b.id
                        ));
                        continue;
                    }
                    let t = stage_name(&t);
                    if !ts.contains(&t) {
                        ts.push(t);
                    }
                }
                if ts.is_empty() {
                    continue;
                }
                let list: Vec<String> = ts.iter().map(|t| q(t)).collect();
                if path == "_default" {
                    let _ = writeln!(out, "to = [{}]", list.join(", "));
                } else {
                    named.push(format!("{} = [{}]", q(path), list.join(", ")));
                }
            }
            if !named.is_empty() {
                let _ = writeln!(out, "paths = {{ {} }}", named.join(", "));
            }
        }
        out.push('\n');
    }
    if !notes.is_empty() {
        out.push_str("# Not carried over (see imq-supervise import's report):\n");
        for n in &notes {
            let _ = writeln!(out, "#   {n}");
        }
    }
    Ok(Imported {
        toml: out,
        params: params_files,
        notes,
    })
}

/// Import `file`, write the pipeline to `out` and its parameter files beside it.
pub fn import_file(file: &Path, out: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(file).with_context(|| file.display().to_string())?;
    let stem = out
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "pipeline".into());
    let pdir = format!("{stem}.params");
    let r = import(&text, &pdir, &file.display().to_string())?;
    let base = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !r.params.is_empty() {
        std::fs::create_dir_all(base.join(&pdir))?;
        for (n, t) in &r.params {
            std::fs::write(base.join(&pdir).join(n), t)?;
        }
    }
    std::fs::write(out, &r.toml).with_context(|| out.display().to_string())?;
    // The result must be a pipeline file `run` accepts.
    super::config::Pipeline::parse(&r.toml, out).context("the imported pipeline")?;
    Ok(r.notes)
}
