//! CZ.NIC HaaS (Honeypot as a Service): a JSON list of SSH honeypot sessions,
//! one event each (IntelMQ `intelmq.bots.parsers.cznic.parser_haas`).

use super::pyjson::{each_record, item, item_str, loads, truthy};
use super::{feedio, Params, Parser, Records};
use crate::message::Message;
use crate::pipeline::Fail;
use crate::timeparse;
use serde_json::{Map, Value};

pub struct Haas;

pub fn build(_: &Params) -> anyhow::Result<Box<dyn Parser>> {
    Ok(Box::new(Haas))
}

impl Parser for Haas {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let text = feedio::decode(data);
        let doc: Value = loads(&text)?;
        each_record(doc, out, |line, raw, out| {
            event(line, raw, out).map(|e| vec![e])
        })
    }
}

fn event(line: &Value, raw: &str, out: &Records) -> Result<Message, Fail> {
    let mut ev = out.new_event();
    ev.add("source.ip", item(line, "ip")?.clone())?;
    let time = item_str(line, "time")?;
    let time = timeparse::sanitize(time)
        .ok_or_else(|| Fail::Reject(format!("ValueError: unknown time {time:?}")))?;
    ev.add("time.source", time)?;
    ev.add("protocol.transport", "tcp")?;
    ev.add("protocol.application", "ssh")?;
    ev.add("destination.port", 22)?;
    let extra: Map<String, Value> = line
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| *k == "time_closed" || *k == "commands")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    ev.add("extra", Value::Object(extra))?;
    ev.add("raw", raw)?;
    let country = item(line, "country")?;
    if truthy(country) {
        ev.add("source.geolocation.cc", country.clone())?;
    }
    if truthy(item(line, "login_successful")?) {
        // A session with or without commands: either way the login worked.
        item(line, "commands")?;
        ev.add("classification.type", "system-compromise")?;
    } else {
        ev.add("classification.type", "brute-force")?;
        ev.add("extra.count", 1)?;
    }
    Ok(ev)
}
