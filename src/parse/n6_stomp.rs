//! CERT.pl n6 stream (STOMP): one JSON object per report; one event per
//! listed address, and the event without address after them
//! (IntelMQ `intelmq.bots.parsers.n6.parser_n6stomp`).

use super::pyjson::{emit_partial, has, item, report_raw};
use super::{feedio, Params, Parser, Records};
use crate::message::{Add, FieldError, Message};
use crate::pipeline::Fail;
use crate::timeparse;
use serde_json::Value;

pub struct N6Stomp;

pub fn build(_: &Params) -> anyhow::Result<Box<dyn Parser>> {
    Ok(Box::new(N6Stomp))
}

/// n6 category: taxonomy, type, identifier (`bots` takes the malware name as
/// identifier when there is one).
fn category(c: &str) -> Option<(&'static str, &'static str, &'static str)> {
    Some(match c {
        "amplifier" => ("vulnerable", "vulnerable-system", "amplifier"),
        "bots" => ("malicious-code", "infected-system", "malware-generic"),
        "backdoor" => ("intrusions", "system-compromise", "hacked server"),
        "cnc" => ("malicious-code", "c2-server", "c&c server"),
        "dns-query" => ("other", "other", "dns-query"),
        "dos-attacker" => ("availability", "ddos", "dos-attacker"),
        "dos-victim" => ("availability", "ddos", "dos-victim"),
        "flow" => ("other", "other", "flow"),
        "flow-anomaly" => ("other", "other", "flow-anomaly"),
        // Not a valid type: such events fail, in IntelMQ too.
        "fraud" => ("fraud", "account numbers", "fraud"),
        "leak" => ("information-content-security", "data-leak", "leak"),
        "malurl" => ("malicious-code", "exploit", "malurl"),
        "malware-action" => (
            "malicious-code",
            "malware-configuration",
            "malware-configuration",
        ),
        "phish" => ("fraud", "phishing", "phishing"),
        "proxy" => ("other", "proxy", "openproxy"),
        "sandbox-url" => ("malicious-code", "infected-system", "sandboxurl"),
        "scanning" => ("information-gathering", "scanner", "scanning"),
        "server-exploit" => ("malicious-code", "exploit", "server-exploit"),
        "spam" => ("abusive-content", "spam", "spam"),
        "spam-url" => ("abusive-content", "spam", "spam-url"),
        "tor" => ("other", "tor", "tor exit node"),
        "webinject" => ("malicious-code", "malware-distribution", "malware"),
        "vulnerable" => ("vulnerable", "other", "vulnerable"),
        "other" => ("other", "other", "other"),
        _ => return None,
    })
}

impl Parser for N6Stomp {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let text = feedio::decode(data);
        if text.contains("TEST MESSAGE") {
            return Ok(());
        }
        let mut events = Vec::new();
        let failure = build_events(data, &text, out, &mut events).err();
        emit_partial(out, text.as_bytes(), events, failure)
    }
}

fn build_events(
    data: &[u8],
    text: &str,
    out: &Records,
    sent: &mut Vec<Message>,
) -> Result<(), Fail> {
    let doc: Value = super::pyjson::loads(text)?;
    let mut ev = out.new_event();
    let keep = Add {
        sanitize: false,
        overwrite: None,
    };
    ev.add_with("raw", report_raw(out, data), keep)?;
    let simple = [
        ("time", "time.source"),
        ("dip", "destination.ip"),
        ("dport", "destination.port"),
        ("md5", "malware.hash.md5"),
        ("sha1", "malware.hash.sha1"),
    ];
    for (k, field) in simple {
        if let Some(v) = doc.get(k) {
            ev.add(field, v.clone())?;
        }
    }
    if let Some(fqdn) = doc.get("fqdn") {
        if fqdn.as_str() != Some("unknown") {
            ev.add("source.fqdn", fqdn.clone())?;
        }
    }
    let more = [
        ("id", "extra.feed_id"),
        ("adip", "extra.adip"),
        ("proto", "protocol.transport"),
        ("sport", "source.port"),
        ("url", "source.url"),
        ("confidence", "extra.confidence"),
    ];
    for (k, field) in more {
        if let Some(v) = doc.get(k) {
            ev.add(field, v.clone())?;
        }
    }
    if let Some(expires) = doc.get("expires") {
        // A value that is no time is left out.
        if let Some(t) = expires.as_str().and_then(timeparse::sanitize) {
            ev.add("extra.expires", t)?;
        }
    }
    if let Some(source) = doc.get("source") {
        ev.add("extra.feed_source", source.clone())?;
    }
    let name = doc.get("name");
    if let Some(name) = name {
        match ev.add("malware.name", name.clone()) {
            Err(FieldError::InvalidValue { .. }) => {
                // Keep the printable ASCII part as the name, all of it as text.
                let s = name
                    .as_str()
                    .ok_or_else(|| Fail::Reject("TypeError: name is not a string".into()))?;
                let printable: String = s.chars().filter(|c| (' '..='~').contains(c)).collect();
                ev.add("malware.name", printable)?;
                ev.add("event_description.text", name.clone())?;
            }
            other => {
                other?;
            }
        }
    }
    if item(&doc, "type")?.as_str() == Some("bl-update") {
        ev.add("classification.taxonomy", "other")?;
        ev.add("classification.type", "blacklist")?;
    } else {
        let cat = item(&doc, "category")?;
        if !cat.is_null() {
            let c = cat.as_str().unwrap_or("");
            let (taxonomy, kind, identifier) = category(c).ok_or_else(|| {
                Fail::Reject(format!(
                    "KeyError: {}",
                    crate::pyfmt::py_repr(&Value::from(c))
                ))
            })?;
            ev.set("classification.taxonomy", taxonomy)?;
            ev.set("classification.type", kind)?;
            match name {
                Some(n) if c == "bots" => ev.set("classification.identifier", n.clone())?,
                _ => ev.set("classification.identifier", identifier)?,
            };
        }
    }
    if has(&doc, "address") {
        let Value::Array(addresses) = &doc["address"] else {
            return Err(Fail::Reject("TypeError: address is not a list".into()));
        };
        for addr in addresses {
            let mut one = ev.clone();
            one.add("source.ip", item(addr, "ip")?.clone())?;
            for (k, field) in [
                ("asn", "source.asn"),
                ("rdns", "source.reverse_dns"),
                ("cc", "source.geolocation.cc"),
            ] {
                if has(addr, k) {
                    one.add(field, addr[k].clone())?;
                }
            }
            sent.push(one);
        }
    }
    // IntelMQ's `for ... else`: the event without address is always sent too.
    sent.push(ev);
    Ok(())
}
