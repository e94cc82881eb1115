//! MISP events (JSON as MISP's API returns one event): one event per attribute
//! of a supported category and type (IntelMQ `intelmq.bots.parsers.misp.parser`).

use super::{feedio, Params, Parser, Records};
use crate::message::{Add, Message};
use crate::pipeline::Fail;
use crate::pyfmt::py_json_dumps;
use serde_json::Value;

pub struct Misp;

pub fn build(_: &Params) -> anyhow::Result<Box<dyn Parser>> {
    Ok(Box::new(Misp))
}

/// The ecsirt taxonomy tags (MISP's default) as IntelMQ classification types.
const TAXONOMY: &[(&str, &str)] = &[
    ("ecsirt:fraud=\"phishing\"", "phishing"),
    ("ecsirt:availability=\"ddos\"", "ddos"),
    ("ecsirt:abusive-content=\"spam\"", "spam"),
    ("ecsirt:information-gathering=\"scanner\"", "scanner"),
    ("ecsirt:information-content-security=\"dropzone\"", "other"),
    ("ecsirt:malicious-code=\"malware\"", "infected-system"),
    ("ecsirt:malicious-code=\"botnet-drone\"", "infected-system"),
    ("ecsirt:malicious-code=\"ransomware\"", "infected-system"),
    (
        "ecsirt:malicious-code=\"malware-configuration\"",
        "malware-configuration",
    ),
    ("ecsirt:malicious-code=\"c2server\"", "c2-server"),
    ("ecsirt:intrusion-attempts=\"exploit\"", "exploit"),
    ("ecsirt:intrusion-attempts=\"brute-force\"", "brute-force"),
    ("ecsirt:intrusion-attempts=\"ids-alert\"", "ids-alert"),
    (
        "ecsirt:intrusions=\"defacement\"",
        "unauthorised-information-modification",
    ),
    ("ecsirt:intrusions=\"compromised\"", "system-compromise"),
    ("ecsirt:intrusions=\"backdoor\"", "system-compromise"),
    (
        "ecsirt:vulnerable=\"vulnerable-service\"",
        "vulnerable-system",
    ),
    ("ecsirt:other=\"blacklist\"", "blacklist"),
    ("ecsirt:other=\"unknown\"", "undetermined"),
    ("ecsirt:test=\"test\"", "test"),
];

const CATEGORIES: &[&str] = &[
    "Payload delivery",
    "Artifacts dropped",
    "Payload installation",
    "Network activity",
];

const TYPES: &[(&str, &str)] = &[
    ("domain", "source.fqdn"),
    ("hostname", "source.fqdn"),
    ("md5", "malware.hash.md5"),
    ("sha1", "malware.hash.sha1"),
    ("ip-src", "source.ip"),
    ("ip-dst", "source.ip"),
    ("email-src", "source.account"),
    ("url", "source.url"),
];

/// `urllib.parse.urljoin(base, relative)` for a relative path without dots.
fn urljoin(base: &str, rel: &str) -> String {
    match base.rfind('/') {
        Some(i) if base[..i].contains("://") && i > base.find("://").unwrap_or(0) + 2 => {
            format!("{}{rel}", &base[..=i])
        }
        _ => format!("{base}/{rel}"),
    }
}

fn s(v: Option<&Value>) -> Value {
    v.cloned().unwrap_or(Value::Null)
}

impl Parser for Misp {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let text = feedio::decode(data);
        let ev: Value = serde_json::from_str(&text)
            .map_err(|e| Fail::Reject(format!("not a MISP event: {e}")))?;
        let mut classifier = None;
        let mut identifier = None;
        if let Some(Value::Array(tags)) = ev.get("Tag") {
            for tag in tags {
                let name = tag.get("name").and_then(Value::as_str).unwrap_or("");
                if name == "dropzone" {
                    identifier = Some("dropzone");
                }
                if let Some((_, c)) = TAXONOMY.iter().find(|(t, _)| *t == name) {
                    classifier = Some(*c);
                    break;
                }
            }
        }
        let mut attributes: Vec<&Value> = match ev.get("Attribute") {
            Some(Value::Array(a)) => a.iter().collect(),
            _ => return Err(Fail::Reject("MISP event without Attribute".into())),
        };
        if let Some(Value::Array(objs)) = ev.get("Object") {
            for o in objs {
                if let Some(Value::Array(a)) = o.get("Attribute") {
                    attributes.extend(a.iter());
                }
            }
        }
        let mut variant = None;
        for a in &attributes {
            if a.get("category").and_then(Value::as_str) == Some("Payload type") {
                variant = a
                    .get("value")
                    .and_then(Value::as_str)
                    .map(str::to_lowercase);
            }
        }
        let id = match ev.get("id") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        };
        let feed_url = out.report().get_str("feed.url").unwrap_or("").to_string();
        let event_url = urljoin(&feed_url, &format!("events/view/{id}"));
        for a in attributes {
            let category = a.get("category").and_then(Value::as_str).unwrap_or("");
            let ty = a.get("type").and_then(Value::as_str).unwrap_or("");
            let Some((_, field)) = TYPES.iter().find(|(t, _)| *t == ty) else {
                continue;
            };
            if !CATEGORIES.contains(&category) {
                continue;
            }
            let raw = py_json_dumps(a, true);
            let result = (|| -> Result<Message, Fail> {
                let mut e = out.new_event();
                e.add("raw", raw.as_str())?;
                e.add(field, s(a.get("value")))?;
                e.add("misp.event_uuid", s(ev.get("uuid")))?;
                e.add("misp.attribute_uuid", s(a.get("uuid")))?;
                e.add("comment", s(a.get("comment")))?;
                e.add("event_description.text", category)?;
                e.add("event_description.url", event_url.as_str())?;
                let _ = e.add_with(
                    "malware.name",
                    variant.clone().map(Value::String).unwrap_or(Value::Null),
                    Add::default(),
                );
                e.add(
                    "classification.type",
                    classifier.map(Value::from).unwrap_or(Value::Null),
                )?;
                e.add(
                    "classification.identifier",
                    identifier.map(Value::from).unwrap_or(Value::Null),
                )?;
                let ts = match a.get("timestamp") {
                    Some(Value::String(t)) => t.trim().parse::<i64>().ok(),
                    Some(Value::Number(n)) => n.as_i64(),
                    _ => None,
                }
                .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
                .ok_or_else(|| Fail::Reject("attribute timestamp is not a number".into()))?;
                e.add("time.source", crate::timeparse::to_iso(&ts))?;
                Ok(e)
            })();
            out.record_one(raw.as_bytes(), result)?;
        }
        Ok(())
    }
}
