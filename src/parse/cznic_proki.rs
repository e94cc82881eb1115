//! CZ.NIC PROKI: malicious IP addresses on Czech networks, a JSON list of
//! records (optionally inside `{"data": [...]}`) whose keys are IntelMQ field
//! names already (IntelMQ `intelmq.bots.parsers.cznic.parser_proki`).

use super::pyjson::{iter_items, recover_json, truthy};
use super::{feedio, Params, Parser, Records};
use crate::message::Message;
use crate::stream::Fail;
use serde_json::Value;

pub struct Proki;

pub fn build(_: &Params) -> anyhow::Result<Box<dyn Parser>> {
    Ok(Box::new(Proki))
}

impl Parser for Proki {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let text = feedio::decode(data);
        let mut doc: Value = serde_json::from_str(&text)
            .map_err(|e| Fail::Reject(format!("report is not JSON: {e}")))?;
        if let Value::Object(m) = &mut doc {
            if let Some(list) = m.remove("data") {
                doc = list;
            }
        }
        for line in iter_items(doc)? {
            if !truthy(&line) {
                continue;
            }
            let raw = recover_json(&line);
            let result = event(&line, &raw, out);
            out.record_one(raw.as_bytes(), result)?;
        }
        Ok(())
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
