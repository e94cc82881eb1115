//! `key=value` lines (syslog-style appliance logs)
//! (IntelMQ `intelmq.bots.parsers.key_value.parser`).
//!
//! Parameters: `keys` (feed key -> harmonized field), `kv_separator` (`=`),
//! `pair_separator` (space), `strip_quotes` (true). A key mapped to
//! `time.source` takes epoch seconds or any date text.

use super::{feedio, Params, Parser, Records};
use crate::message::Message;
use crate::pipeline::Fail;
use crate::timeparse;
use serde_json::Value;
use std::io::BufRead;

pub struct KeyValue {
    keys: Vec<(String, String)>,
    kv_separator: String,
    pair_separator: String,
    strip_quotes: bool,
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Parser>> {
    let keys = match p.get("keys") {
        Some(Value::Object(m)) => m.clone(),
        Some(Value::String(s)) if !s.is_empty() => serde_json::from_str(s)?,
        _ => serde_json::Map::new(),
    };
    if keys.is_empty() {
        anyhow::bail!("Key extraction: No keys specified.");
    }
    let s = |k: &str, d: &str| p.get(k).and_then(Value::as_str).unwrap_or(d).to_string();
    Ok(Box::new(KeyValue {
        keys: keys
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect(),
        kv_separator: s("kv_separator", "="),
        pair_separator: s("pair_separator", " "),
        strip_quotes: p
            .get("strip_quotes")
            .and_then(Value::as_bool)
            .unwrap_or(true),
    }))
}

/// `str.isnumeric()` for the digits a timestamp can have.
fn is_numeric(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_numeric())
}

impl KeyValue {
    fn event(&self, line: &str, out: &Records) -> Result<Message, Fail> {
        let mut ev = out.new_event();
        for pair in line.split(self.pair_separator.as_str()) {
            let Some((key, value)) = pair.rsplit_once(self.kv_separator.as_str()) else {
                continue;
            };
            if key.is_empty() {
                continue;
            }
            let mut value = value.to_string();
            if self.strip_quotes
                && value.len() >= 2
                && value.starts_with('"')
                && value.ends_with('"')
            {
                value = value[1..value.len() - 1].to_string();
            }
            let Some((_, field)) = self.keys.iter().find(|(k, _)| k == key) else {
                continue;
            };
            let v = if field == "time.source" {
                let t = if is_numeric(&value) {
                    value
                        .parse::<i64>()
                        .ok()
                        .and_then(|n| chrono::DateTime::from_timestamp(n, 0))
                        .map(|d| timeparse::to_iso(&d))
                } else {
                    timeparse::sanitize(&value)
                };
                t.map(Value::String).unwrap_or(Value::Null)
            } else {
                Value::String(value)
            };
            // raise_failure=False: a value that does not fit is left out.
            match ev.add(field, v) {
                Ok(_) | Err(crate::message::FieldError::InvalidValue { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        ev.add("raw", line)?;
        Ok(ev)
    }

    fn line(&self, line: &str, out: &mut Records) -> Result<(), Fail> {
        let line = crate::harmonization::py_strip(line);
        if line.is_empty() {
            return Ok(());
        }
        let result = self.event(line, out);
        out.record_one(line.as_bytes(), result)
    }
}

impl Parser for KeyValue {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let text = feedio::decode(data);
        for line in feedio::lines(&text, &[]) {
            self.line(line, out)?;
        }
        Ok(())
    }

    fn parse_stream(
        &mut self,
        input: &mut dyn BufRead,
        out: &mut Records,
    ) -> Option<Result<(), Fail>> {
        Some(super::stream_lines(input, |l, out| self.line(l, out), out))
    }
}
