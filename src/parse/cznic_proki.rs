//! CZ.NIC PROKI: malicious IP addresses on Czech networks, a JSON list of
//! records (optionally inside `{"data": [...]}`) whose keys are IntelMQ field
//! names already (IntelMQ `intelmq.bots.parsers.cznic.parser_proki`).

use super::pyjson::{each_record, loads};
use super::{feedio, Params, Parser, Records};
use crate::message::Message;
use crate::pipeline::Fail;
use serde_json::Value;

pub struct Proki;

pub fn build(_: &Params) -> anyhow::Result<Box<dyn Parser>> {
    Ok(Box::new(Proki))
}

impl Parser for Proki {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let text = feedio::decode(data);
        let mut doc: Value = loads(&text)?;
        if let Value::Object(m) = &mut doc {
            if let Some(list) = m.remove("data") {
                doc = list;
            }
        }
        each_record(doc, out, |line, raw, out| {
            event(line, raw, out).map(|e| vec![e])
        })
    }
}

fn event(line: &Value, raw: &str, out: &Records) -> Result<Message, Fail> {
    let Value::Object(fields) = line else {
        return Err(Fail::Reject("a record is not an object".into()));
    };
    let mut ev = out.new_event();
    for (field, v) in fields {
        // The feed's own feed name and observation time are kept aside.
        let key = match field.as_str() {
            "feed.name" => "extra.original_feed_name",
            "time.observation" => "extra.original_time_observation",
            other => other,
        };
        ev.add(key, v.clone())?;
    }
    ev.add("raw", raw)?;
    Ok(ev)
}
