//! PhishTank online-valid JSON list (IntelMQ `intelmq.bots.parsers.phishtank.parser`).

use super::util_feeds::{feed_time, reject, soft};
use super::{Params, Parser, Records};
use crate::message::Message;
use crate::pipeline::Fail;
use crate::pyfmt::py_json_dumps;
use serde_json::Value;

pub struct PhishTank;

pub fn build(_: &Params) -> anyhow::Result<Box<dyn Parser>> {
    Ok(Box::new(PhishTank))
}

impl Parser for PhishTank {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let text = super::feedio::decode(data);
        let list: Vec<Value> = serde_json::from_str(&text)
            .map_err(|e| reject(format!("feed is not a JSON list: {e}")))?;
        for item in list {
            let raw = py_json_dumps(&Value::Array(vec![item.clone()]), false);
            let result = event(&item, &raw, out);
            out.record(raw.as_bytes(), result)?;
        }
        Ok(())
    }
}

fn event(line: &Value, raw: &str, out: &Records) -> Result<Vec<Message>, Fail> {
    let obj = line
        .as_object()
        .ok_or_else(|| reject("record is not a JSON object"))?;
    let get = |k: &str| obj.get(k).cloned().unwrap_or(Value::Null);
    let mut ev = out.new_event();
    if let Some(Value::String(t)) = obj.get("submission_time") {
        if !t.is_empty() {
            soft(&mut ev, "time.source", feed_time(t));
        }
    }
    ev.add("classification.type", "phishing")?;
    soft(&mut ev, "extra.phishtank.phish_id", get("phish_id"));
    ev.add("source.url", get("url"))?;
    soft(&mut ev, "event_description.url", get("phish_detail_url"));
    soft(&mut ev, "event_description.target", get("target"));
    // PhishTank lists only phishing sites that are online.
    soft(&mut ev, "status", "online");
    soft(&mut ev, "extra.phishtank.verified", get("verified"));
    soft(
        &mut ev,
        "extra.phishtank.verification_time",
        get("verification_time"),
    );
    if let Some(Value::Array(details)) = obj.get("details") {
        if let Some(d) = details.first() {
            let d = d
                .as_object()
                .ok_or_else(|| reject("details[0] is not an object"))?;
            let dget = |k: &str| d.get(k).cloned().unwrap_or(Value::Null);
            soft(&mut ev, "source.ip", dget("ip_address"));
            soft(&mut ev, "source.network", dget("cidr_block"));
            soft(&mut ev, "source.asn", dget("announcing_network"));
            soft(&mut ev, "source.geolocation.cc", dget("country"));
        }
    }
    ev.add("raw", raw)?;
    Ok(vec![ev])
}
