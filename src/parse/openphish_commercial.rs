//! OpenPhish commercial feed: one JSON object a line
//! (IntelMQ `intelmq.bots.parsers.openphish.parser_commercial`).

use super::util_feeds::{feed_time, reject, soft};
use super::{Params, Parser, Records};
use crate::message::Message;
use crate::pipeline::Fail;
use crate::pyfmt::py_json_dumps;
use serde_json::Value;

pub struct OpenPhishCommercial;

pub fn build(_: &Params) -> anyhow::Result<Box<dyn Parser>> {
    Ok(Box::new(OpenPhishCommercial))
}

impl Parser for OpenPhishCommercial {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let text = super::feedio::decode(data);
        for line in super::feedio::splitlines(&text) {
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Value>(line) {
                Ok(v) => {
                    let result = event(&v, out);
                    let raw = py_json_dumps(&Value::Array(vec![v]), false);
                    out.record(raw.as_bytes(), result)?;
                }
                Err(e) => out.record(line.as_bytes(), Err(reject(format!("invalid JSON: {e}"))))?,
            }
        }
        Ok(())
    }
}

fn event(line: &Value, out: &Records) -> Result<Vec<Message>, Fail> {
    let obj = line
        .as_object()
        .ok_or_else(|| reject("record is not a JSON object"))?;
    let get = |k: &str| obj.get(k).cloned().unwrap_or(Value::Null);
    let truthy_str = |k: &str| obj.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    let mut ev = out.new_event();
    // `AS12345`: the number after the first two characters, if it is one.
    if let Some(asn) = truthy_str("asn") {
        if let Some(n) = asn
            .get(2..)
            .and_then(|s| crate::harmonization::py_int(&Value::String(s.to_string())))
        {
            soft(&mut ev, "source.asn", n);
        }
    }
    if let Some(t) = truthy_str("isotime") {
        soft(&mut ev, "time.source", feed_time(t));
    } else if let Some(t) = truthy_str("discover_time") {
        soft(&mut ev, "time.source", feed_time(t));
    }
    ev.add("classification.type", "phishing")?;
    ev.add("source.as_name", get("asn_name"))?;
    ev.add("extra.brand", get("brand"))?;
    soft(&mut ev, "source.geolocation.cc", get("country_code"));
    soft(&mut ev, "source.geolocation.country", get("country_name"));
    ev.add("extra.emails", get("emails"))?;
    ev.add("extra.family_id", get("family_id"))?;
    soft(&mut ev, "source.fqdn", get("host"));
    ev.add("source.ip", get("ip"))?;
    ev.add("extra.page_language", get("page_language"))?;
    ev.add("extra.phishing_kit", get("phishing_kit"))?;
    soft(&mut ev, "screenshot_url", get("screenshot"));
    ev.add("extra.sector", get("sector"))?;
    ev.add("extra.ssl_cert_issued_by", get("ssl_cert_issued_by"))?;
    ev.add("extra.ssl_cert_issued_to", get("ssl_cert_issued_to"))?;
    ev.add("extra.ssl_cert_serial", get("ssl_cert_serial"))?;
    ev.add("extra.tld", get("tld"))?;
    ev.add("source.url", get("url"))?;
    ev.add(
        "raw",
        py_json_dumps(&Value::Array(vec![line.clone()]), false),
    )?;
    Ok(vec![ev])
}
