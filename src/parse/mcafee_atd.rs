//! McAfee Advanced Threat Defense sandbox reports (JSON, one per report): the
//! sample's hashes, and one event per dropped file, contacted IP address and
//! URL, for verdicts of at least `verdict_severity` (1 to 5, default 4)
//! (IntelMQ `intelmq.bots.parsers.mcafee.parser_atd`).

use super::pyjson::{emit_partial, item, py_int};
use super::{feedio, Params, Parser, Records};
use crate::message::Message;
use crate::pipeline::Fail;
use serde_json::Value;

pub struct Atd {
    verdict_severity: i64,
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Parser>> {
    let verdict_severity = match p.get("verdict_severity") {
        None | Some(Value::Null) => 4,
        Some(v) => crate::harmonization::py_int(v)
            .ok_or_else(|| anyhow::anyhow!("verdict_severity must be an integer, got {v}"))?,
    };
    Ok(Box::new(Atd { verdict_severity }))
}

/// Report keys of dropped files, IPs and URLs and their fields.
fn field_of(key: &str) -> Option<&'static str> {
    Some(match key {
        "domain" | "hostname" => "source.fqdn",
        "Url" => "destination.fqdn",
        "Name" => "malware.name",
        "Md5" => "malware.hash.md5",
        "Sha1" => "malware.hash.sha1",
        "Sha256" => "malware.hash.sha256",
        "Ipv4" => "destination.ip",
        "Port" => "destination.port",
        _ => return None,
    })
}

impl Parser for Atd {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let text = feedio::decode(data);
        let mut events = Vec::new();
        let failure = self.build_events(&text, out, &mut events).err();
        emit_partial(out, text.as_bytes(), events, failure)
    }
}

struct Subject {
    name: Value,
    md5: Value,
    sha1: Value,
    sha256: Value,
}

impl Subject {
    fn add_to(&self, ev: &mut Message) -> Result<(), Fail> {
        ev.add("malware.name", self.name.clone())?;
        ev.add("malware.hash.md5", self.md5.clone())?;
        ev.add("malware.hash.sha1", self.sha1.clone())?;
        ev.add("malware.hash.sha256", self.sha256.clone())?;
        Ok(())
    }
}

fn base_event(out: &Records, text: &str) -> Result<Message, Fail> {
    let mut ev = out.new_event();
    ev.add("classification.taxonomy", "malicious-code")?;
    ev.add("classification.type", "infected-system")?;
    ev.add("raw", text)?;
    Ok(ev)
}

fn add_mapped(ev: &mut Message, entry: &Value) -> Result<(), Fail> {
    let Value::Object(entry) = entry else {
        return Err(Fail::Reject(
            "AttributeError: an entry is not an object".into(),
        ));
    };
    for (k, v) in entry {
        if let Some(field) = field_of(k) {
            ev.add(field, v.clone())?;
        }
    }
    Ok(())
}

/// The entries of a list (`for entry in x`): a string gives its characters,
/// which then fail as entries.
fn entries(v: &Value) -> Result<Vec<Value>, Fail> {
    match v {
        Value::Array(a) => Ok(a.clone()),
        Value::Object(m) => Ok(m.keys().map(|k| Value::String(k.clone())).collect()),
        Value::String(s) => Ok(s.chars().map(|c| Value::String(c.into())).collect()),
        _ => Err(Fail::Reject("TypeError: entries are not iterable".into())),
    }
}

impl Atd {
    fn build_events(&self, text: &str, out: &Records, sent: &mut Vec<Message>) -> Result<(), Fail> {
        let doc: Value = super::pyjson::loads(text)?;
        let summary = item(&doc, "Summary")?;
        let subject = item(summary, "Subject")?;
        let subject = Subject {
            name: item(subject, "Name")?.clone(),
            md5: item(subject, "md5")?.clone(),
            sha1: item(subject, "sha-1")?.clone(),
            sha256: item(subject, "sha-256")?.clone(),
        };
        let severity = py_int(item(item(summary, "Verdict")?, "Severity")?)?;
        if severity < self.verdict_severity {
            return Ok(());
        }
        let mut ev = base_event(out, text)?;
        subject.add_to(&mut ev)?;
        sent.push(ev);

        // A missing list is no error: the report just has no such IOCs.
        if let Some(files) = summary.get("Files") {
            for entry in entries(files)? {
                let mut ev = base_event(out, text)?;
                add_mapped(&mut ev, &entry)?;
                sent.push(ev);
            }
        }
        for list in ["Ips", "Urls"] {
            if let Some(list) = summary.get(list) {
                for entry in entries(list)? {
                    let mut ev = base_event(out, text)?;
                    subject.add_to(&mut ev)?;
                    add_mapped(&mut ev, &entry)?;
                    sent.push(ev);
                }
            }
        }
        Ok(())
    }
}
