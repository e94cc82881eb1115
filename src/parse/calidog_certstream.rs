//! CertStream (calidog) certificate transparency updates
//! (IntelMQ `intelmq.bots.parsers.calidog.parser_certstream`).
//!
//! A report is one CertStream message; every domain of the leaf certificate
//! (`data.leaf_cert.all_domains`) makes one event carrying the whole message as
//! `raw`. A name that is no FQDN is taken as an IP address.

use super::{Params, Parser, Records};
use crate::message::Message;
use crate::pipeline::Fail;
use crate::timeparse;
use serde_json::Value;

pub struct CertStream;

pub fn build(_: &Params) -> anyhow::Result<Box<dyn Parser>> {
    Ok(Box::new(CertStream))
}

impl Parser for CertStream {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let text = super::feedio::decode(data);
        let msg: Value = super::pyjson::loads(&text)?;
        let data = msg
            .get("data")
            .ok_or_else(|| Fail::Reject("message without 'data'".into()))?;
        let Some(domains) = data
            .get("leaf_cert")
            .and_then(|c| c.get("all_domains"))
            .and_then(Value::as_array)
        else {
            return Ok(());
        };
        for domain in domains {
            let result = event(domain, data, &text, out);
            out.record_one(text.as_bytes(), result)?;
        }
        Ok(())
    }
}

/// Python's `int()` of the `seen` value: floats are truncated, strings parsed.
fn seen_int(v: Option<&Value>) -> Result<String, Fail> {
    let bad = || Fail::Reject(format!("bad 'seen' value: {v:?}"));
    match v.ok_or_else(bad)? {
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Ok(i.to_string()),
            (None, Some(f)) if f.is_finite() => Ok(format!("{}", f.trunc() as i64)),
            _ => Err(bad()),
        },
        Value::String(s) => s
            .trim()
            .parse::<i64>()
            .map(|i| i.to_string())
            .map_err(|_| bad()),
        _ => Err(bad()),
    }
}

fn event(domain: &Value, data: &Value, raw: &str, out: &Records) -> Result<Message, Fail> {
    let mut ev = out.new_event();
    // Epoch seconds (10 digits) or hundredths/milliseconds; other lengths give no time.
    if let Some(t) = timeparse::from_epoch_millis(&seen_int(data.get("seen"))?) {
        ev.add("time.source", t)?;
    }
    ev.add("classification.type", "other")?;
    ev.add("raw", raw)?;
    if !ev.add("source.fqdn", domain.clone()).unwrap_or(false) {
        ev.add("source.ip", domain.clone())?;
    }
    Ok(ev)
}
