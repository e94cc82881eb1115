//! IntelMQ's own message format as a feed: one JSON object, one per line
//! (`splitlines`), or a list of them (`multiple_events`)
//! (IntelMQ `intelmq.bots.parsers.json.parser`).
//!
//! Every object becomes one event: its keys are harmonized field names
//! (`source.ip`, `extra.x`, ...); `classification.type` defaults to
//! `undetermined`. A record that does not parse goes to the dump, the others go on.

use super::{feedio, Params, Parser, Records};
use crate::harmonization::MsgType;
use crate::message::{Add, Message};
use crate::pipeline::Fail;
use crate::pyfmt::py_json_dumps;
use serde_json::Value;
use std::io::BufRead;

pub struct Json {
    splitlines: bool,
    multiple_events: bool,
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Parser>> {
    let flag = |k: &str| p.get(k).and_then(Value::as_bool).unwrap_or(false);
    let (splitlines, multiple_events) = (flag("splitlines"), flag("multiple_events"));
    if splitlines && multiple_events {
        anyhow::bail!("Modes 'splitlines' and 'multiple_events' are not possible at the same time. Please use either one.");
    }
    Ok(Box::new(Json {
        splitlines,
        multiple_events,
    }))
}

const KEEP: Add = Add {
    sanitize: false,
    overwrite: Some(true),
};

/// The event of one message read from the feed (IntelMQ `event.update(msg)`).
fn event(msg: Message, out: &Records) -> Result<Message, Fail> {
    let mut ev = out.new_event();
    for (k, v) in msg.iter() {
        ev.add_with(k, v.clone(), KEEP)?;
    }
    Ok(ev)
}

fn finish(mut ev: Message, raw: &str, from_list: bool) -> Result<Message, Fail> {
    if from_list {
        ev.set("raw", raw)?;
    } else {
        ev.add_with(
            "raw",
            Value::String(raw.to_string()),
            Add {
                sanitize: true,
                overwrite: Some(false),
            },
        )?;
    }
    ev.add_with(
        "classification.type",
        Value::String("undetermined".into()),
        Add {
            sanitize: true,
            overwrite: Some(false),
        },
    )?;
    Ok(ev)
}

impl Json {
    fn one(&self, line: &str, out: &mut Records) -> Result<(), Fail> {
        let result = Message::from_json(line.as_bytes(), MsgType::Event)
            .map_err(|e| Fail::Reject(e.to_string()))
            .and_then(|m| event(m, out))
            .and_then(|ev| finish(ev, line, false));
        out.record_one(line.as_bytes(), result)
    }

    fn item(&self, item: Value, out: &mut Records) -> Result<(), Fail> {
        let raw = py_json_dumps(&item, true);
        let result = match item {
            Value::Object(m) => Message::from_map(m, MsgType::Event)
                .map_err(|e| Fail::Reject(e.to_string()))
                .and_then(|m| event(m, out))
                .and_then(|ev| finish(ev, &raw, true)),
            _ => Err(Fail::Reject("list element is not a JSON object".into())),
        };
        let dump = format!("[{raw}]");
        out.record_one(dump.as_bytes(), result)
    }
}

impl Parser for Json {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let text = feedio::decode(data);
        if self.multiple_events {
            let list: Vec<Value> = serde_json::from_str(&text)
                .map_err(|e| Fail::Reject(format!("feed is not a JSON list: {e}")))?;
            for item in list {
                self.item(item, out)?;
            }
        } else if self.splitlines {
            for line in feedio::splitlines(&text) {
                self.one(line, out)?;
            }
        } else {
            self.one(&text, out)?;
        }
        Ok(())
    }

    fn parse_stream(
        &mut self,
        input: &mut dyn BufRead,
        out: &mut Records,
    ) -> Option<Result<(), Fail>> {
        if self.multiple_events {
            let mut items = super::stream_json::ArrayItems::new(input).limit(out.max_record());
            return Some((|| {
                while let Some(item) = items.next_item()? {
                    match serde_json::from_slice::<Value>(item) {
                        Ok(v) => self.item(v, out)?,
                        Err(e) => {
                            let e = Fail::Reject(format!("list element is not JSON: {e}"));
                            out.record(item, Err(e))?;
                        }
                    }
                }
                Ok(())
            })());
        }
        if !self.splitlines {
            return None;
        }
        Some(super::stream_lines(
            input,
            |line, out| self.one(line, out),
            out,
        ))
    }
}
