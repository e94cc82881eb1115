//! `imq-collect`: fetch feeds and emit IntelMQ reports.
//!
//! A report carries the feed's bytes base64-encoded in `raw`, the feed's metadata
//! (`feed.name`, `feed.provider`, `feed.url`, ...) and `time.observation`, the time
//! the data was fetched.

use crate::message::Message;
use crate::stream::{Sink, Stats};
use base64::Engine;
use serde_json::Value;
use std::io::Read;

/// Feed metadata put on every report.
#[derive(Debug, Default, Clone)]
pub struct FeedMeta {
    pub fields: Vec<(String, String)>,
}

/// Build a report from fetched bytes.
pub fn report(data: &[u8], meta: &FeedMeta) -> Result<Message, crate::message::FieldError> {
    let mut r = Message::report();
    for (k, v) in &meta.fields {
        r.set(k, v.as_str())?;
    }
    let b64 = base64::engine::general_purpose::STANDARD.encode(data);
    r.add_with(
        "raw",
        Value::String(b64),
        crate::message::Add {
            sanitize: false,
            overwrite: Some(true),
        },
    )?;
    if !r.contains("time.observation") {
        r.set(
            "time.observation",
            chrono::Utc::now()
                .format("%Y-%m-%dT%H:%M:%S+00:00")
                .to_string(),
        )?;
    }
    Ok(r)
}

/// The file collector: each file (or stdin for `-`) becomes one report.
pub fn collect_files(
    paths: &[String],
    meta: &FeedMeta,
    sink: &mut dyn Sink,
) -> anyhow::Result<Stats> {
    let mut stats = Stats::default();
    let mut buf = Vec::new();
    for p in paths {
        stats.input += 1;
        let mut data = Vec::new();
        if p == "-" {
            std::io::stdin().lock().read_to_end(&mut data)?;
        } else {
            std::fs::File::open(p)
                .and_then(|mut f| f.read_to_end(&mut data))
                .map_err(|e| anyhow::anyhow!("{p}: {e}"))?;
        }
        let mut meta = meta.clone();
        // What IntelMQ's file collector sets: `file://localhost/PATH` and the name.
        let has = |m: &FeedMeta, key: &str| m.fields.iter().any(|(k, _)| k == key);
        if p != "-" {
            if !has(&meta, "feed.url") {
                if let Ok(abs) = std::fs::canonicalize(p) {
                    let url = format!("file://localhost{}", abs.display());
                    meta.fields.push(("feed.url".into(), url));
                }
            }
            if !has(&meta, "extra.file_name") {
                if let Some(name) = std::path::Path::new(p).file_name() {
                    let name = name.to_string_lossy().into_owned();
                    meta.fields.push(("extra.file_name".into(), name));
                }
            }
        }
        let r = report(&data, &meta)?;
        buf.clear();
        r.write_json(&mut buf);
        sink.send("_default", &buf)?;
        stats.output += 1;
    }
    sink.commit()?;
    Ok(stats)
}
