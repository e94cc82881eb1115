//! DShield recommended block list: tab-separated /24 networks with attack counts
//! (IntelMQ `intelmq.bots.parsers.dshield.parser_block`).

use super::feedio;
use super::util_feeds::{dateutil_iso, reject};
use super::{Params, Parser, Records};
use crate::message::Message;
use crate::pipeline::Fail;
use serde_json::{Map, Value};

pub struct DshieldBlock;

pub fn build(_: &Params) -> anyhow::Result<Box<dyn Parser>> {
    Ok(Box::new(DshieldBlock))
}

impl Parser for DshieldBlock {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let text = feedio::decode(data);
        let mut time: Option<String> = None;
        for row in feedio::splitlines(&text) {
            let row = crate::harmonization::py_strip(row);
            if row.starts_with('#') || row.is_empty() || row.starts_with("Start") {
                if row.contains("updated") {
                    let t = row.find(": ").map(|i| &row[i + 2..]).unwrap_or(&row[1..]);
                    time = Some(dateutil_iso(t, &[])?);
                }
                continue;
            }
            let values: Vec<&str> = row.split('\t').collect();
            if values.len() < 3 {
                continue;
            }
            let result = event(&values, row, time.as_deref(), out);
            out.record(row.as_bytes(), result)?;
        }
        Ok(())
    }
}

fn event(
    values: &[&str],
    row: &str,
    time: Option<&str>,
    out: &Records,
) -> Result<Vec<Message>, Fail> {
    let network = format!("{}/{}", values[0], values[2]);
    let mut extra = Map::new();
    let mut ev = out.new_event();
    if let Some(a) = values.get(3) {
        let n = crate::harmonization::py_int(&Value::String(a.to_string()))
            .ok_or_else(|| reject(format!("invalid literal for int() with base 10: {a:?}")))?;
        extra.insert("attacks".into(), n.into());
    }
    if let Some(n) = values.get(4) {
        extra.insert("network_name".into(), Value::String(n.to_string()));
    }
    if let Some(cc) = values.get(5) {
        ev.set("source.geolocation.cc", *cc)?;
    }
    if let Some(c) = values.get(6) {
        ev.set("source.abuse_contact", *c)?;
    }
    if !extra.is_empty() {
        ev.add("extra", Value::Object(extra))?;
    }
    // Without an `updated:` header line IntelMQ fails on an unbound variable.
    let time = time.ok_or_else(|| reject("no 'updated:' line before the data"))?;
    ev.add("time.source", time)?;
    ev.add("source.network", network)?;
    ev.add("classification.type", "blacklist")?;
    ev.add("raw", row)?;
    Ok(vec![ev])
}
