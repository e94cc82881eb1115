//! DShield AS details (`asdetailsascii.html?as=N`): tab-separated source IPs of one
//! AS (IntelMQ `intelmq.bots.parsers.dshield.parser_asn`).

use super::feedio;
use super::util_feeds::{feed_time, reject};
use super::{Params, Parser, Records};
use crate::message::Message;
use crate::pipeline::Fail;
use serde_json::json;

pub struct DshieldAsn;

pub fn build(_: &Params) -> anyhow::Result<Box<dyn Parser>> {
    Ok(Box::new(DshieldAsn))
}

impl Parser for DshieldAsn {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let text = feedio::decode(data);
        for row in feedio::splitlines(&text) {
            if row.starts_with('#') {
                continue;
            }
            let values: Vec<&str> = row.split('\t').collect();
            // Short lines (the HTML comment around the list) are no records.
            if values.len() < 6 {
                continue;
            }
            let result = event(&values, row, out);
            out.record(row.as_bytes(), result)?;
        }
        Ok(())
    }
}

fn py_int(s: &str) -> Result<i64, Fail> {
    crate::harmonization::py_int(&serde_json::Value::String(s.to_string()))
        .ok_or_else(|| reject(format!("invalid literal for int() with base 10: {s:?}")))
}

fn event(values: &[&str], row: &str, out: &Records) -> Result<Vec<Message>, Fail> {
    // The addresses are zero-padded (`109.230.155.061`).
    let octets = values[0]
        .split('.')
        .map(|p| py_int(p).map(|n| n.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    let source_ip = octets.join(".");
    let reports = py_int(values[1])?;
    let targets = py_int(values[2])?;
    let last_seen = values[4];
    let updated = values[5];
    let url = out
        .report()
        .get_str("feed.url")
        .ok_or_else(|| reject("report has no feed.url"))?;
    // IntelMQ takes what follows `?as=` (from the start when it is missing).
    let asn_text = match url.rfind("?as=") {
        Some(i) => &url[i + 4..],
        None => &url[3.min(url.len())..],
    };
    let asn = py_int(asn_text)?;
    let mut ev = out.new_event();
    ev.add("source.ip", source_ip)?;
    ev.add("source.asn", asn)?;
    ev.add("classification.type", "brute-force")?;
    ev.add("time.source", feed_time(&format!("{updated}+0")))?;
    ev.add("raw", row)?;
    ev.add(
        "extra",
        json!({"reports": reports, "targets": targets, "last_seen": last_seen}),
    )?;
    Ok(vec![ev])
}
