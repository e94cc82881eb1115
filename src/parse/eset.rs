//! ESET Threat Intelligence (TAXII) JSON lists of domains and URLs; which list it
//! is comes from the report's `extra.eset_feed`
//! (IntelMQ `intelmq.bots.parsers.eset.parser`).

use super::util_feeds::{feed_time, reject, soft};
use super::{Params, Parser, Records};
use crate::message::Message;
use crate::pipeline::Fail;
use crate::pyfmt::py_json_dumps;
use serde_json::Value;

pub struct Eset;

pub fn build(_: &Params) -> anyhow::Result<Box<dyn Parser>> {
    Ok(Box::new(Eset))
}

impl Parser for Eset {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let text = super::feedio::decode(data);
        let list: Vec<Value> = serde_json::from_str(&text)
            .map_err(|e| reject(format!("feed is not a JSON list: {e}")))?;
        for item in list {
            let result = event(&item, out);
            let raw = py_json_dumps(&Value::Array(vec![item]), false);
            out.record(raw.as_bytes(), result)?;
        }
        Ok(())
    }
}

/// The classification of ESET's `reason` text.
fn taxonomy(reason: &str) -> &'static str {
    match reason {
        "Host actively distributes high-severity threat in the form of executable code."
        | "Host is known to be distributing low-risk and potentially unwanted content." => {
            "malware-distribution"
        }
        "Host is known source of phishing or other fraudulent content." => "phishing",
        // IntelMQ answers `c2server` here, which the harmonization rejects: such
        // records fail there and here alike.
        r if r.starts_with("Host is used as command and control server") => "c2server",
        _ => "other",
    }
}

fn field<'a>(line: &'a Value, key: &str) -> Result<&'a Value, Fail> {
    line.get(key)
        .ok_or_else(|| reject(format!("KeyError: {key:?}")))
}

fn event(line: &Value, out: &Records) -> Result<Vec<Message>, Fail> {
    let mut ev = out.new_event();
    let reason = field(line, "reason")?;
    let reason_str = reason
        .as_str()
        .ok_or_else(|| reject("reason is not a string"))?;
    ev.add("raw", py_json_dumps(line, true))?;
    ev.add("event_description.text", reason.clone())?;
    ev.add("classification.type", taxonomy(reason_str))?;
    // The domain field may hold an IP address.
    soft(&mut ev, "source.fqdn", field(line, "domain")?.clone());
    if let Some(ip) = field(line, "ip")?.as_str() {
        if !ip.is_empty() && !ip.ends_with("_NXDOMAIN") {
            ev.add("source.ip", ip)?;
        }
    }
    let feed = out
        .report()
        .get("extra.eset_feed")
        .cloned()
        .ok_or_else(|| reject("report has no extra.eset_feed"))?;
    ev.add("extra.eset_feed", feed.clone())?;
    let time = |k: &str| -> Result<Value, Fail> {
        Ok(match field(line, k)? {
            Value::String(s) => feed_time(s),
            other => other.clone(),
        })
    };
    match feed.as_str() {
        Some("ei.urls (json)") => {
            ev.add("time.source", time("domain_last_seen")?)?;
            ev.add("source.url", field(line, "url")?.clone())?;
        }
        Some("ei.domains v2 (json)") => {
            ev.add("time.source", time("last_seen")?)?;
        }
        _ => {
            return Err(reject(format!(
                "Unsupported feed {}",
                crate::pyfmt::py_repr(&feed)
            )))
        }
    }
    Ok(vec![ev])
}
