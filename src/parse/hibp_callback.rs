//! Have I Been Pwned enterprise callbacks: one JSON document per report, a
//! breach or a paste of a subscribed domain, one event per affected address
//! (IntelMQ `intelmq.bots.parsers.hibp.parser_callback`).
//!
//! A breach comes in two shapes: HIBP's callback tester sends a list of
//! breaches (and an `Email`), real callbacks one breach object, whose
//! `AddedDate` is the event time.

use super::pyjson::{item, truthy};
use super::{feedio, Params, Parser, Records};
use crate::message::Message;
use crate::pipeline::Fail;
use crate::pyfmt::py_json_dumps;
use serde_json::Value;

pub struct HibpCallback;

pub fn build(_: &Params) -> anyhow::Result<Box<dyn Parser>> {
    Ok(Box::new(HibpCallback))
}

impl Parser for HibpCallback {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let text = feedio::decode(data);
        let doc: Value = super::pyjson::loads(&text)?;
        // ParserBot skips a falsy record (`{}`) without a word.
        if !truthy(&doc) {
            return Ok(());
        }
        let raw = py_json_dumps(&doc, true);
        let result = events(&doc, &raw, out);
        out.record(raw.as_bytes(), result)
    }
}

fn events(request: &Value, raw: &str, out: &Records) -> Result<Vec<Message>, Fail> {
    let mut ev = out.new_event();
    ev.add("raw", raw)?;
    ev.add("source.fqdn", item(request, "Domain")?.clone())?;
    let domain_emails = item(request, "DomainEmails")?;
    ev.add("extra.domain_emails", domain_emails.clone())?;
    if let Some(breach) = request.get("Breach") {
        ev.add("extra.breach", breach.clone())?;
        ev.add("classification.identifier", "breach")?;
        // Only a single breach object has a time; a missing one is no error.
        if let Some(added) = breach.as_object().and_then(|b| b.get("AddedDate")) {
            ev.add("time.source", added.clone())?;
        }
    }
    if let Some(paste) = request.get("Paste") {
        ev.add("extra.paste", paste.clone())?;
        ev.add("classification.identifier", "paste")?;
    }
    ev.add("classification.taxonomy", "information-content-security")?;
    ev.add("classification.type", "data-leak")?;

    let Value::Array(list) = domain_emails else {
        return Err(Fail::Reject("DomainEmails is not a list".into()));
    };
    let mut emails: Vec<&str> = Vec::with_capacity(list.len() + 1);
    for v in request.get("Email").into_iter().chain(list) {
        match v {
            // Python builds a set of them first: a list or dict is unhashable.
            Value::Array(_) | Value::Object(_) => {
                return Err(Fail::Reject("TypeError: unhashable type".into()))
            }
            Value::String(s) if !s.is_empty() => emails.push(s),
            v if !truthy(v) => {}
            _ => return Err(Fail::Reject("an address is not a string".into())),
        }
    }
    emails.sort_unstable();
    emails.dedup();
    let mut events = Vec::with_capacity(emails.len());
    for email in emails {
        ev.set("source.account", email)?;
        events.push(ev.clone());
    }
    Ok(events)
}
