//! Fraunhofer DGA archive: a JSON object whose keys are `malware_...` identifiers
//! and whose values are lists of C2 domains or addresses
//! (IntelMQ `intelmq.bots.parsers.fraunhofer.parser_dga`).

use super::util_feeds::{reject, soft};
use super::{Params, Parser, Records};
use crate::message::Message;
use crate::pipeline::Fail;
use serde_json::Value;

pub struct FraunhoferDga;

pub fn build(_: &Params) -> anyhow::Result<Box<dyn Parser>> {
    Ok(Box::new(FraunhoferDga))
}

impl Parser for FraunhoferDga {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let text = super::feedio::decode(data);
        let dict: serde_json::Map<String, Value> = serde_json::from_str(&text)
            .map_err(|e| reject(format!("feed is not a JSON object: {e}")))?;
        for (key, rows) in &dict {
            // The part before the first underscore names the malware.
            let malware = key.split('_').next().unwrap_or("");
            let Value::Array(rows) = rows else {
                out.record(key.as_bytes(), Err(reject("value is not a list")))?;
                continue;
            };
            for row in rows {
                let raw = match row {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                let result = event(malware, row, &raw, out);
                out.record(raw.as_bytes(), result)?;
            }
        }
        Ok(())
    }
}

fn event(malware: &str, row: &Value, raw: &str, out: &Records) -> Result<Vec<Message>, Fail> {
    let mut ev = out.new_event();
    ev.add("classification.type", "c2-server")?;
    ev.add("malware.name", malware)?;
    if !soft(&mut ev, "source.ip", row.clone()) {
        ev.add("source.fqdn", row.clone())?;
    }
    ev.add("raw", raw)?;
    Ok(vec![ev])
}
