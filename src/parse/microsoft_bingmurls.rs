//! Microsoft's Bing malicious URLs, Interflow JSON version 1.5
//! (IntelMQ `intelmq.bots.parsers.microsoft.parser_bingmurls`).
//!
//! A JSON list; every object makes one event. A record of another version or
//! threat type, or with a key IntelMQ does not know, goes to the dump.

use super::{Params, Parser, Records};
use crate::message::Message;
use crate::pipeline::Fail;
use crate::pyfmt::py_json_dumps;
use serde_json::Value;

pub struct BingMurls;

pub fn build(_: &Params) -> anyhow::Result<Box<dyn Parser>> {
    Ok(Box::new(BingMurls))
}

const MAPPING: &[(&str, &str)] = &[
    ("Attributable", "extra.attributable"),
    ("Description", "event_description.text"),
    ("IndicatorThreatType", "classification.identifier"),
    ("TLPLevel", "tlp"),
    ("FirstReportedDateTime", "time.source"),
    ("NetworkDestinationAsn", "source.asn"),
    ("NetworkDestinationIPv4", "source.ip"),
    ("NetworkDestinationPort", "source.port"),
    ("IsProductLicensed", "extra.isproductlicensed"),
    ("IsPartnerShareable", "extra.ispartnershareable"),
    ("Url", "source.url"),
    ("IndicatorProvider", "extra.indicator_provider"),
    (
        "IndicatorExpirationDateTime",
        "extra.indicator_expiration_date_time",
    ),
    ("ThreatDetectionProduct", "extra.threat_detection_product"),
    ("Tags", "extra.tags"),
];

impl Parser for BingMurls {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let list: Vec<Value> = serde_json::from_slice(data)
            .map_err(|e| Fail::Reject(format!("feed is not a JSON list: {e}")))?;
        for item in list {
            if is_falsy(&item) {
                continue;
            }
            // The record as IntelMQ writes it back: a list of it, keys sorted.
            let raw = format!("[{}]", py_json_dumps(&item, true));
            let result = event(&item, &raw, out);
            out.record_one(raw.as_bytes(), result)?;
        }
        Ok(())
    }
}

/// IntelMQ skips empty records (`if not line`).
fn is_falsy(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
    }
}

fn event(item: &Value, raw: &str, out: &Records) -> Result<Message, Fail> {
    let Value::Object(line) = item else {
        return Err(Fail::Reject("record is not a JSON object".into()));
    };
    let get = |k: &str| {
        line.get(k)
            .ok_or_else(|| Fail::Reject(format!("record without {k:?}")))
    };
    if get("Version")?.as_f64() != Some(1.5) || !get("Version")?.is_number() {
        return Err(Fail::Reject(
            "Data is in unknown format, only version 1.5 is supported.".into(),
        ));
    }
    if get("IndicatorThreatType")?.as_str() != Some("MaliciousUrl") {
        return Err(Fail::Reject(
            "Unknown indicatorthreattype, only MaliciousUrl is supported.".into(),
        ));
    }
    let mut ev = out.new_event();
    for (key, value) in line {
        match key.as_str() {
            "LastReportedDateTime" => {
                if Some(value) != line.get("FirstReportedDateTime") {
                    return Err(Fail::Reject(
                        "Unexpectedly seen different values in 'FirstReportedDateTime' and \
                         'LastReportedDateTime', please open a bug report with example data."
                            .into(),
                    ));
                }
                continue;
            }
            "Version" => continue,
            "NetworkDestinationIPv4"
                if value.as_str() == Some("0.0.0.0")
                    || value.as_str() == Some("255.255.255.255") =>
            {
                continue
            }
            "NetworkDestinationAsn" if value.as_f64() == Some(0.0) => continue,
            "Tags" => {
                // One tag is the country code ("??": unknown); more are kept as they are.
                if let Some([tag]) = value.as_array().map(Vec::as_slice) {
                    if tag.as_str() != Some("??") {
                        ev.add("source.geolocation.cc", tag.clone())?;
                    }
                    continue;
                }
            }
            _ => {}
        }
        let field = MAPPING
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, f)| *f)
            .ok_or_else(|| Fail::Reject(format!("unknown key {key:?}")))?;
        ev.add(field, value.clone())?;
    }
    ev.add("classification.type", "blacklist")?;
    ev.add("raw", raw)?;
    Ok(ev)
}
