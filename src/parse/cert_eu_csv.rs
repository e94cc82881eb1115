//! CERT-EU feed in CSV (IntelMQ `intelmq.bots.parsers.cert_eu.parser_csv`).
//!
//! `city`, `source location` (lat,long combined), `country`, `as name`,
//! `reported cc`, `reported as name` are left out on purpose, as in IntelMQ; the
//! columns IntelMQ cannot interpret make the row fail when they are filled.

use super::feedio::CsvOpts;
use super::util_feeds::{csv_dict, feed_time, reject, DictRow};
use super::{Params, Parser, Records};
use crate::message::{Add, Message};
use crate::pipeline::Fail;
use serde_json::Value;

pub struct CertEuCsv;

pub fn build(_: &Params) -> anyhow::Result<Box<dyn Parser>> {
    Ok(Box::new(CertEuCsv))
}

const UNKNOWN_FIELDS: &[&str] = &["threat type", "ns1", "ns2", "response", "recent"];

fn classification(abuse: Option<&str>) -> &'static str {
    match abuse.unwrap_or("") {
        "backdoor" => "system-compromise",
        "blacklist" => "blacklist",
        "botnet drone" => "infected-system",
        "brute-force" => "brute-force",
        "c2server" => "c2-server",
        "compromised server" => "system-compromise",
        "ddos infrastructure" | "ddos target" => "ddos",
        "defacement" => "unauthorised-information-modification",
        "exploit url" => "exploit",
        "ids alert" => "ids-alert",
        "malware-configuration" => "malware-configuration",
        "malware url" => "malware-distribution",
        "phishing" => "phishing",
        "ransomware" => "infected-system",
        "scanner" => "scanner",
        "spam infrastructure" => "spam",
        "test" => "test",
        "vulnerable service" => "vulnerable-system",
        _ => "other",
    }
}

impl Parser for CertEuCsv {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let opts = CsvOpts {
            ignore_prefixes: vec!["#".into()],
            ..CsvOpts::default()
        };
        let csv = csv_dict(data, &opts);
        for (dict, raw) in csv.records(&opts) {
            let result = event(&dict, &raw, out);
            out.record(raw.as_bytes(), result)?;
        }
        Ok(())
    }
}

fn py_int(s: &str) -> Result<i64, Fail> {
    crate::harmonization::py_int(&Value::String(s.to_string()))
        .ok_or_else(|| reject(format!("invalid literal for int() with base 10: {s:?}")))
}

fn time_value(v: Option<&str>) -> Value {
    match v {
        Some(s) if !s.is_empty() => feed_time(s),
        _ => Value::Null,
    }
}

fn event(line: &DictRow, raw: &str, out: &Records) -> Result<Vec<Message>, Fail> {
    let get = |k: &str| line.get(k);
    let mut ev = out.new_event();
    let version = get("version")?;
    if !matches!(version, Some("1.5") | Some("")) {
        return Err(reject(format!(
            "Unknown version {}. Please report this with an example.",
            version.map_or("None".to_string(), |v| format!("'{v}'"))
        )));
    }
    for unknown in UNKNOWN_FIELDS {
        if get(unknown)?.is_some_and(|v| !v.is_empty()) {
            return Err(reject(format!(
                "Unable to parse field '{unknown}'. Please report this with an example"
            )));
        }
    }
    ev.add("extra.datasource", get("feed code")?)?;
    ev.add("source.ip", get("source ip")?)?;
    ev.add("source.network", get("source bgp prefix")?)?;
    ev.add(
        "extra.cert_eu_time_observation",
        time_value(get("observation time")?),
    )?;
    ev.add("tlp", get("tlp")?)?;
    ev.add("event_description.text", get("description")?)?;
    let ty = get("type")?;
    ev.add("classification.type", classification(ty))?;
    if ty == Some("dropzone") {
        ev.add("classification.identifier", "dropzone")?;
    }
    if let Some(c) = get("count")?.filter(|c| !c.is_empty()) {
        ev.add("extra.count", py_int(c)?)?;
    }
    ev.add("time.source", time_value(get("source time")?))?;
    ev.add("source.geolocation.country", get("source country")?)?;
    ev.add("protocol.application", get("protocol")?)?;
    ev.add("destination.port", get("destination port")?)?;
    ev.add("source.geolocation.latitude", get("source latitude")?)?;
    ev.add("source.geolocation.city", get("source city")?)?;
    ev.add("source.geolocation.geoip_cc", get("source cc")?)?;
    ev.add("source.geolocation.longitude", get("source longitude")?)?;
    ev.add("extra.source.geolocation.geohash", get("source geohash")?)?;
    ev.add("extra.first_seen", get("first seen")?)?;
    let confidence = py_int(get("confidence level")?.unwrap_or(""))?;
    let accuracy = ev
        .get("feed.accuracy")
        .and_then(Value::as_f64)
        .unwrap_or(100.0);
    let accuracy = accuracy * confidence as f64 / 100.0;
    ev.add_with(
        "feed.accuracy",
        serde_json::json!(accuracy),
        Add {
            sanitize: true,
            overwrite: Some(true),
        },
    )?;
    ev.add("extra.last_seen", get("last seen")?)?;
    ev.add("extra.expiration_date", get("expiration date")?)?;
    if let Some(s) = get("status")?.filter(|s| !s.is_empty()) {
        ev.add("status", s)?;
    }
    ev.add("event_description.target", get("target")?)?;
    ev.add("source.url", get("url")?)?;
    ev.add("source.abuse_contact", get("abuse contact")?)?;
    ev.add("source.asn", get("source asn")?)?;
    ev.add("source.as_name", get("source as name")?)?;
    ev.add("source.fqdn", get("domain name")?)?;
    ev.add("raw", raw)?;
    Ok(vec![ev])
}
