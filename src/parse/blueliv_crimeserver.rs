//! Blueliv Crimeserver API: a JSON list of crime servers (phishing, malware,
//! exploit kits, backdoors, Tor nodes, C2), one event each
//! (IntelMQ `intelmq.bots.parsers.blueliv.parser_crimeserver`, part of IntelMQ
//! up to 3.1; the module is gone from 3.5).
//!
//! The IntelMQ bot handles the report in one go: a failing item ends the
//! report, the events before it stay sent.

use super::pyjson::{drop_last_chars, emit_partial, item_str};
use super::{feedio, Params, Parser, Records};
use crate::message::{FieldError, Message};
use crate::pipeline::Fail;
use crate::pyfmt::py_json_dumps;
use serde_json::{Map, Value};

pub struct Crimeserver;

pub fn build(_: &Params) -> anyhow::Result<Box<dyn Parser>> {
    Ok(Box::new(Crimeserver))
}

fn classification(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "PHISHING" => "phishing",
        "MALWARE" => "malware-distribution",
        "EXPLOIT_KIT" => "exploit",
        "BACKDOOR" => "system-compromise",
        "TOR_IP" => "proxy",
        "C_AND_C" => "c2-server",
        _ => return None,
    })
}

impl Parser for Crimeserver {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let text = feedio::decode(data);
        let mut events = Vec::new();
        let failure = build_events(&text, out, &mut events).err();
        emit_partial(out, text.as_bytes(), events, failure)
    }
}

fn build_events(text: &str, out: &Records, sent: &mut Vec<Message>) -> Result<(), Fail> {
    let doc: Value = super::pyjson::loads(text)?;
    for entry in super::pyjson::iter_items(doc)? {
        sent.push(event(&entry, out)?);
    }
    Ok(())
}

fn event(entry: &Value, out: &Records) -> Result<Message, Fail> {
    let Value::Object(fields) = entry else {
        return Err(Fail::Reject("an item is not an object".into()));
    };
    let mut ev = out.new_event();
    let mut tor_node = false;
    if fields.contains_key("type") {
        let kind = item_str(entry, "type")?;
        let class = classification(kind)
            .ok_or_else(|| Fail::Reject(format!("KeyError: unknown type {kind:?}")))?;
        ev.add("classification.type", class)?;
        if kind == "TOR_IP" {
            ev.add("source.tor_node", true)?;
            tor_node = true;
        }
    }
    if let Some(url) = fields.get("url") {
        // The feed puts a Tor node's IP address in `url` too: not an error then.
        match ev.add("source.url", url.clone()) {
            Err(FieldError::InvalidValue { .. }) if tor_node => {}
            other => {
                other?;
            }
        }
    }
    if let Some(ip) = fields.get("ip") {
        ev.add("source.ip", ip.clone())?;
    }
    if let Some(cc) = fields.get("country") {
        ev.add("source.geolocation.cc", cc.clone())?;
    }
    if fields.contains_key("lastSeenAt") {
        let last = item_str(entry, "lastSeenAt")?;
        ev.add("time.source", format!("{}00:00", drop_last_chars(last, 4)))?;
    }
    let mut extra = Map::new();
    for (k, name) in [
        ("status", "status"),
        ("confidence", "confidence"),
        ("updatedAt", "time_updated"),
        ("firstSeenAt", "time_first_seen"),
    ] {
        if let Some(v) = fields.get(k) {
            extra.insert(name.into(), v.clone());
        }
    }
    // An item with none of them fails here, as in IntelMQ (empty `extra`).
    ev.add("extra", Value::Object(extra))?;
    ev.add("raw", py_json_dumps(entry, true))?;
    Ok(ev)
}
