//! `imq-collect`: fetch feeds and emit IntelMQ reports.
//!
//! A collector is a [`Source`](crate::transport::Source) of reports: one file
//! here per collector. The stream loop runs it like any other input, so a
//! collector acknowledges what it fetched (deletes a file, marks a mail seen) only
//! once its reports were committed downstream.
//!
//! A report carries the feed's bytes base64-encoded in `raw`, the feed's metadata
//! (`feed.name`, `feed.provider`, `feed.url`, ...) and `time.observation`, the time
//! the data was fetched.

use crate::message::Message;
use crate::pipeline::{Emit, Fail, Stage};
use base64::Engine;
use serde_json::Value;

pub mod file;

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

/// The stage of every collector: the reports its source makes go out as they
/// are (the collector built and checked them).
pub struct Forward;

impl Stage for Forward {
    fn default_type(&self) -> crate::harmonization::MsgType {
        crate::harmonization::MsgType::Report
    }

    fn process(&mut self, _msg: Message, out: &mut Emit) -> Result<(), Fail> {
        out.send_original("_default")?;
        Ok(())
    }
}
