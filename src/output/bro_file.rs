//! `bro_file`: a Zeek (Bro) intelligence file (IntelMQ's bro_file output,
//! §4.12): the `#fields` header, then a line per `source.ip` (Intel::ADDR),
//! `source.fqdn` (Intel::DOMAIN) and `source.url` (Intel::URL) of each event.
//! Each batch replaces the file atomically, so Zeek's input framework rereads a
//! whole file.

use super::rpz_file::target;
use super::{atomic, Output, OutputOpts};
use crate::message::Message;
use crate::pipeline::Fail;
use crate::pyfmt::py_str;
use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};

pub const DEFAULT_FILE: &str = "/var/lib/intelmq/file-output/bro";
pub const HEADER: &str =
    "#fields\tindicator\tindicator_type\tmeta.desc\tmeta.cif_confidence\tmeta.source\n";
const INDICATORS: [(&str, &str); 3] = [
    ("source.ip", "Intel::ADDR"),
    ("source.fqdn", "Intel::DOMAIN"),
    ("source.url", "Intel::URL"),
];

pub struct BroFile {
    path: PathBuf,
    pending: Vec<u8>,
    line: String,
}

pub fn build(o: &OutputOpts) -> anyhow::Result<Box<dyn Output>> {
    Ok(Box::new(BroFile {
        path: target(o, DEFAULT_FILE)?,
        pending: Vec::new(),
        line: String::new(),
    }))
}

/// `"apt" in event["extra.tags"]`: a substring of a string, an item of a list.
fn tagged_apt(v: Option<&Value>) -> bool {
    match v {
        Some(Value::String(s)) => s.contains("apt"),
        Some(Value::Array(a)) => a.iter().any(|x| x.as_str() == Some("apt")),
        Some(Value::Object(m)) => m.contains_key("apt"),
        _ => false,
    }
}

/// Is the file missing, empty, or does it start with the header?
fn header_or_empty(path: &Path) -> bool {
    let Ok(f) = std::fs::File::open(path) else {
        return true;
    };
    let mut head = Vec::with_capacity(HEADER.len());
    match f.take(HEADER.len() as u64).read_to_end(&mut head) {
        Ok(_) => head.is_empty() || head == HEADER.as_bytes(),
        Err(_) => true,
    }
}

impl Output for BroFile {
    fn write(&mut self, ev: &Message, _original: &[u8]) -> Result<(), Fail> {
        self.line.clear();
        for (field, kind) in INDICATORS {
            let Some(value) = ev.get(field).filter(|v| crate::pyfmt::py_truthy(v)) else {
                continue;
            };
            let desc = if tagged_apt(ev.get("extra.tags")) {
                "apt".to_string()
            } else {
                match ev.get("classification.type") {
                    Some(t) => py_str(t),
                    None => return Err(Fail::Reject("KeyError: 'classification.type'".into())),
                }
            };
            // str(int(feed.accuracy)): truncated toward zero.
            let accuracy = match ev.get("feed.accuracy").and_then(Value::as_f64) {
                Some(a) => a.trunc() as i64,
                None => return Err(Fail::Reject("KeyError: 'feed.accuracy'".into())),
            };
            let source = ev
                .get("extra.orgc")
                .or_else(|| ev.get("feed.provider"))
                .map(py_str)
                .unwrap_or_default();
            let _ = std::fmt::Write::write_fmt(
                &mut self.line,
                format_args!("{}\t{kind}\t{desc}\t{accuracy}\t{source}\n", py_str(value)),
            );
        }
        // All lines of the event or none of them.
        self.pending.extend_from_slice(self.line.as_bytes());
        Ok(())
    }

    fn commit(&mut self) -> anyhow::Result<Vec<(usize, String)>> {
        if self.pending.is_empty() {
            return Ok(Vec::new());
        }
        // IntelMQ appends the header at the end of a file whose first line is not
        // the header (it opens with a+); the header belongs at the start.
        let first_ok = header_or_empty(&self.path);
        if first_ok {
            atomic::append(&self.path, HEADER.as_bytes(), &self.pending)?;
        } else {
            let old = std::fs::read(&self.path)?;
            atomic::replace(&self.path, |w| {
                w.write_all(HEADER.as_bytes())?;
                w.write_all(&old)?;
                if !old.ends_with(b"\n") {
                    w.write_all(b"\n")?;
                }
                w.write_all(&self.pending)
            })?;
        }
        self.pending.clear();
        Ok(Vec::new())
    }
}
