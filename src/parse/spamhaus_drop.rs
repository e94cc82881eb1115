//! Spamhaus DROP lists (IntelMQ `intelmq.bots.parsers.spamhaus.parser_drop`).
//!
//! Two formats:
//! * the text lists IntelMQ knows (`drop.txt`, `edrop.txt`, `dropv6.txt`,
//!   `asndrop.txt`): `;` comments with a `Last-Modified:` header, then
//!   `network ; SBLnnn` or `ASnnn ; CC | AS name` lines; which one it is comes
//!   from `feed.url`, as in IntelMQ;
//! * the NDJSON lists Spamhaus publishes since 2024 (`drop_v4.json`,
//!   `drop_v6.json`, `asndrop.json`; EDROP was merged into DROP): one JSON object
//!   a line, `{"cidr":..,"sblid":..,"rir":..}` or `{"asn":..,"rir":..,"domain":..,
//!   "cc":..,"asname":..}`, and a final `{"type":"metadata","timestamp":..}` line.
//!   Recognised by its content; mapped like the text format (cidr ->
//!   source.network, sblid -> extra.blocklist, the metadata timestamp ->
//!   time.source) plus rir -> source.registry.

use super::feedio;
use super::util_feeds::{dateutil_iso, from_epoch, reject};
use super::{Params, Parser, Records};
use crate::message::Message;
use crate::pipeline::Fail;
use serde_json::{json, Value};

pub struct SpamhausDrop;

pub fn build(_: &Params) -> anyhow::Result<Box<dyn Parser>> {
    Ok(Box::new(SpamhausDrop))
}

const NETWORK_DROP_URLS: &[&str] = &[
    "https://www.spamhaus.org/drop/edrop.txt",
    "https://www.spamhaus.org/drop/dropv6.txt",
    "https://www.spamhaus.org/drop/drop.txt",
    "https://www.spamhaus.org/drop/drop.lasso",
];
const ASN_DROP_URLS: &[&str] = &["https://www.spamhaus.org/drop/asndrop.txt"];

impl Parser for SpamhausDrop {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let text = feedio::decode(data);
        let first = feedio::lines(&text, &[]).next().unwrap_or("");
        if first.starts_with('{') {
            return parse_ndjson(&text, out);
        }
        let mut last_generated: Option<String> = None;
        for item in feedio::commented_lines(&text, ';') {
            match item {
                feedio::Line::Comment(line) => {
                    if line.contains("Last-Modified:") {
                        let v = line.trim_matches([';', ' ']);
                        let v = v.get(15..).unwrap_or("");
                        last_generated = Some(dateutil_iso(v, &[])?);
                    }
                }
                feedio::Line::Record { line, raw } => {
                    let result = text_event(line, last_generated.as_deref(), out);
                    out.record(raw.as_bytes(), result)?;
                }
            }
        }
        Ok(())
    }
}

fn text_event(line: &str, time: Option<&str>, out: &Records) -> Result<Vec<Message>, Fail> {
    let mut ev = out.new_event();
    if let Some(t) = time {
        ev.add("time.source", t)?;
    }
    ev.add("classification.type", "spam")?;
    ev.add("raw", line)?;
    let url = out.report().get_str("feed.url").unwrap_or("None");
    if NETWORK_DROP_URLS.contains(&url) {
        let value: Vec<&str> = line.trim().split(';').collect();
        let sbl = value
            .get(1)
            .ok_or_else(|| reject("no ';' between network and SBL id"))?;
        ev.add("source.network", value[0].trim())?;
        ev.add("extra", json!({"blocklist": sbl.trim()}))?;
    } else if ASN_DROP_URLS.contains(&url) {
        let replaced = line.replace('|', ";");
        let value: Vec<&str> = replaced.split(';').collect();
        if value.len() < 3 {
            return Err(reject("expected 'ASN ; CC | name'"));
        }
        ev.add("source.asn", value[0].trim_matches(['A', 'S']).trim())?;
        ev.add("source.as_name", value[2].trim())?;
        if !value[1].is_empty() {
            ev.add("source.geolocation.cc", value[1].trim())?;
        }
    } else {
        return Err(reject(format!("Unknown data feed {url}.")));
    }
    Ok(vec![ev])
}

/// Spamhaus' lower-case RIR names as IntelMQ registry names.
fn registry(rir: &str) -> Option<&'static str> {
    match rir.to_ascii_lowercase().as_str() {
        "afrinic" => Some("AFRINIC"),
        "apnic" => Some("APNIC"),
        "arin" => Some("ARIN"),
        "lacnic" => Some("LACNIC"),
        "ripe" | "ripencc" | "ripe ncc" => Some("RIPE"),
        _ => None,
    }
}

fn parse_ndjson(text: &str, out: &mut Records) -> Result<(), Fail> {
    // The metadata line with the list's timestamp comes last: find it first.
    let mut time: Option<String> = None;
    for line in feedio::lines(text, &[]) {
        if let Ok(Value::Object(m)) = serde_json::from_str::<Value>(line) {
            if m.get("type").and_then(Value::as_str) == Some("metadata") {
                time = m
                    .get("timestamp")
                    .and_then(Value::as_i64)
                    .and_then(from_epoch);
            }
        }
    }
    for line in feedio::lines(text, &[]) {
        let obj = match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(m)) => m,
            Ok(_) => {
                out.record(line.as_bytes(), Err(reject("not a JSON object")))?;
                continue;
            }
            Err(e) => {
                out.record(line.as_bytes(), Err(reject(format!("invalid JSON: {e}"))))?;
                continue;
            }
        };
        if obj.get("type").and_then(Value::as_str) == Some("metadata") {
            continue;
        }
        let result = json_event(&obj, line, time.as_deref(), out);
        out.record(line.as_bytes(), result)?;
    }
    Ok(())
}

fn json_event(
    obj: &serde_json::Map<String, Value>,
    line: &str,
    time: Option<&str>,
    out: &Records,
) -> Result<Vec<Message>, Fail> {
    let mut ev = out.new_event();
    if let Some(t) = time {
        ev.add("time.source", t)?;
    }
    ev.add("classification.type", "spam")?;
    ev.add("raw", line)?;
    if let Some(cidr) = obj.get("cidr") {
        ev.add("source.network", cidr.clone())?;
        if let Some(sbl) = obj.get("sblid") {
            ev.add("extra.blocklist", sbl.clone())?;
        }
    } else if let Some(asn) = obj.get("asn") {
        ev.add("source.asn", asn.clone())?;
        if let Some(name) = obj.get("asname") {
            ev.add("source.as_name", name.clone())?;
        }
        if let Some(cc) = obj.get("cc") {
            ev.add("source.geolocation.cc", cc.clone())?;
        }
        if let Some(domain) = obj.get("domain") {
            ev.add("extra.domain", domain.clone())?;
        }
    } else {
        return Err(reject("record has neither cidr nor asn"));
    }
    if let Some(r) = obj.get("rir").and_then(Value::as_str).and_then(registry) {
        ev.add("source.registry", r)?;
    }
    Ok(vec![ev])
}
