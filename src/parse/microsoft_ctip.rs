//! Microsoft's Cyber Threat Intelligence Program (CTIP) feeds
//! (IntelMQ `intelmq.bots.parsers.microsoft.parser_ctip`).
//!
//! Two formats: the older Interflow one is a JSON list of version 1.5 records
//! (`[` first), the Azure one is a JSON object per line (`{` first). Azure
//! records nest objects (`SourceIpInfo`, `HttpInfo`, ...) and carry a `Payload`:
//! a JSON object as text, or base64 of JSON or of plain text. Nested objects are
//! flattened one level into dotted keys and mapped by [`AZURE`].
//! `overwrite` (default true): mapped values replace values already in the
//! event, such as the report's `feed.name`.

use super::util_feeds::reject;
use super::{Params, Parser, Records};
use crate::harmonization::{self, FieldType};
use crate::message::{Add, Message};
use crate::pipeline::Fail;
use crate::pyfmt::py_json_dumps;
use crate::pyfmt::py_truthy as truthy;
use crate::timeparse;
use serde_json::{Map, Value};

const INTERFLOW: &[(&str, &str)] = &[
    ("additionalmetadata", "extra.additionalmetadata"),
    ("description", "event_description.text"),
    ("externalid", "malware.name"),
    ("tlplevel", "tlp"),
    ("firstreporteddatetime", "time.source"),
    ("networksourceipv4", "source.ip"),
    ("networksourceport", "source.port"),
    ("networkdestinationipv4", "destination.ip"),
    ("networkdestinationport", "destination.port"),
    ("isproductlicensed", "extra.isproductlicensed"),
    ("ispartnershareable", "extra.ispartnershareable"),
    ("networksourceasn", "source.asn"),
    ("hostname", "destination.fqdn"),
    ("useragent", "extra.user_agent"),
    ("severity", "severity"),
    ("tags", "extra.tags"),
];

/// Keys of the Azure format (nested ones flattened) to fields; `None`: ignored.
const AZURE: &[(&str, Option<&str>)] = &[
    ("DataFeed", Some("feed.name")),
    ("SourcedFrom", Some("event_description.text")),
    ("DateTimeReceivedUtc", Some("time.source")),
    ("DateTimeReceivedUtcTxt", None),
    ("Malware", Some("extra.malware")),
    ("ThreatCode", Some("malware.name")),
    ("ThreatConfidence", Some("feed.accuracy")),
    ("TotalEncounters", Some("extra.total_encounters")),
    ("TLP", Some("tlp")),
    ("SourceIp", Some("source.ip")),
    ("SourcePort", Some("source.port")),
    ("DestinationIp", Some("destination.ip")),
    (
        "DestinationIpInfo.DestinationIpAsnNumber",
        Some("destination.asn"),
    ),
    (
        "DestinationIpInfo.DestinationIpAsnOrgName",
        Some("destination.as_name"),
    ),
    (
        "DestinationIpInfo.DestinationIpCountryCode",
        Some("destination.geolocation.cc"),
    ),
    (
        "DestinationIpInfo.DestinationIpRegion",
        Some("destination.geolocation.region"),
    ),
    (
        "DestinationIpInfo.DestinationIpCity",
        Some("destination.geolocation.city"),
    ),
    (
        "DestinationIpInfo.DestinationIpPostalCode",
        Some("extra.destination.geolocation.postal_code"),
    ),
    (
        "DestinationIpInfo.DestinationIpLatitude",
        Some("destination.geolocation.latitude"),
    ),
    (
        "DestinationIpInfo.DestinationIpLongitude",
        Some("destination.geolocation.longitude"),
    ),
    (
        "DestinationIpInfo.DestinationIpMetroCode",
        Some("extra.destination.geolocation.metro_code"),
    ),
    (
        "DestinationIpInfo.DestinationIpAreaCode",
        Some("extra.destination.geolocation.area_code"),
    ),
    (
        "DestinationIpInfo.DestinationIpConnectionType",
        Some("extra.destination.connection_type"),
    ),
    ("DestinationIpInfo.DestinationIpv4Int", None),
    ("DestinationPort", Some("destination.port")),
    ("TargetIp", None),
    ("TargetPort", None),
    ("Signatures.Sha256", Some("extra.signatures.sha256")),
    ("SourceIpInfo.SourceIpAsnNumber", Some("source.asn")),
    ("SourceIpInfo.SourceIpAsnOrgName", Some("source.as_name")),
    (
        "SourceIpInfo.SourceIpCountryCode",
        Some("source.geolocation.cc"),
    ),
    (
        "SourceIpInfo.SourceIpRegion",
        Some("source.geolocation.region"),
    ),
    ("SourceIpInfo.SourceIpCity", Some("source.geolocation.city")),
    (
        "SourceIpInfo.SourceIpPostalCode",
        Some("extra.source.geolocation.postal_code"),
    ),
    (
        "SourceIpInfo.SourceIpLatitude",
        Some("source.geolocation.latitude"),
    ),
    (
        "SourceIpInfo.SourceIpLongitude",
        Some("source.geolocation.longitude"),
    ),
    (
        "SourceIpInfo.SourceIpMetroCode",
        Some("extra.source.geolocation.metro_code"),
    ),
    (
        "SourceIpInfo.SourceIpAreaCode",
        Some("extra.source.geolocation.area_code"),
    ),
    (
        "SourceIpInfo.SourceIpConnectionType",
        Some("extra.source.connection_type"),
    ),
    ("SourceIpInfo.SourceIpv4Int", None),
    ("HttpInfo.HttpHost", Some("extra.http.host")),
    ("HttpInfo.HttpRequest", Some("extra.http.request")),
    ("HttpInfo.HttpMethod", Some("extra.http.method")),
    ("HttpInfo.HttpReferrer", Some("extra.http.referrer")),
    ("HttpInfo.HttpUserAgent", Some("extra.user_agent")),
    ("HttpInfo.HttpVersion", Some("extra.http.version")),
    ("CustomInfo.CustomField1", Some("extra.custom_field1")),
    ("CustomInfo.CustomField2", Some("extra.custom_field2")),
    ("CustomInfo.CustomField3", Some("extra.custom_field3")),
    ("CustomInfo.CustomField4", Some("extra.custom_field4")),
    ("CustomInfo.CustomField5", Some("extra.custom_field5")),
    ("Payload.ts", Some("extra.payload.timestamp")),
    ("Payload.ip", Some("extra.payload.ip")),
    ("Payload.port", Some("extra.payload.port")),
    ("Payload.serverIp", Some("extra.payload.server.ip")),
    ("Payload.serverPort", Some("extra.payload.server.port")),
    ("Payload.domain", Some("destination.fqdn")),
    ("Payload.family", Some("extra.payload.family")),
    ("Payload.malware", Some("extra.payload.malware")),
    ("Payload.response", Some("extra.payload.response")),
    ("Payload.handler", Some("extra.payload.handler")),
    ("Payload.type", Some("protocol.application")),
    ("Payload", Some("extra.payload.text")),
    ("Payload.Time", Some("extra.payload.time")),
    ("Payload.SourceIP", Some("extra.payload.source.ip")),
    ("Payload.DestIP", Some("extra.payload.destination.ip")),
    ("Payload.RemotePort", Some("extra.payload.remote.port")),
    ("Payload.RemoteHost", Some("extra.payload.remote.host")),
    ("Payload.ServerPort", Some("extra.payload.server.port")),
    ("Payload.BCode", Some("extra.payload.b_code")),
    ("Payload.Protocol", Some("extra.payload.protocol")),
    ("Payload.Length", Some("extra.payload.length")),
    ("Payload.URI", Some("destination.urlpath")),
    ("Payload.Referer", Some("extra.http_referer")),
    ("Payload.UserAgent", Some("extra.user_agent")),
    ("Payload.RequestMethod", Some("extra.http.method")),
    ("Payload.HTTPHost", Some("extra.http.host")),
    ("Payload.http_host", Some("extra.payload.http_host")),
    ("Payload.Custom1", Some("extra.payload.custom_field1")),
    ("Payload.Custom2", Some("extra.payload.custom_field2")),
    ("Payload.Custom3", Some("extra.payload.custom_field3")),
    ("Payload.Custom4", Some("extra.payload.custom_field4")),
    ("Payload.Custom5", Some("extra.payload.custom_field5")),
    ("Payload.timestamp", Some("extra.payload.timestamp")),
    ("Payload.timestamp_utc", Some("extra.payload.timestamp_utc")),
    ("Payload.source_ip", Some("extra.payload.source.ip")),
    ("Payload.source_port", Some("extra.payload.source.port")),
    ("Payload.src_port", Some("extra.payload.source.port")),
    (
        "Payload.destination_ip",
        Some("extra.payload.destination.ip"),
    ),
    ("Payload.dst_ip", Some("extra.payload.destination.ip")),
    (
        "Payload.destination_port",
        Some("extra.payload.destination.port"),
    ),
    ("Payload.dst_port", Some("extra.payload.destination.port")),
    ("Payload.computer_name", Some("extra.payload.computer_name")),
    ("Payload.bot_id", Some("extra.payload.bot_id")),
    ("Payload.asn", Some("extra.payload.source.asn")),
    ("Payload.dst_asn", Some("extra.payload.destination.asn")),
    ("Payload.geo", Some("extra.payload.source.geolocation.cc")),
    (
        "Payload.dst_geo",
        Some("extra.payload.destination.geolocation.cc"),
    ),
    ("Payload.url", Some("extra.request_raw")),
    ("Payload.http_agent", Some("extra.http_agent")),
    ("Payload.p0f_genre", Some("extra.os.name")),
    ("Payload.p0f_detail", Some("extra.os.version")),
    ("Payload.http_post", Some("extra.payload.http_post")),
    ("Payload.naics", Some("extra.naics")),
    ("Payload.sector", Some("extra.sector")),
    ("Payload.ssl_cipher", Some("extra.ssl_cipher")),
];

/// `ThreatConfidence` as a percentage of the feed's accuracy.
const CONFIDENCE: &[(&str, f64)] = &[
    ("High", 100.0),
    ("Medium", 50.0),
    ("Low", 20.0),
    ("Informational", 10.0),
];

pub struct Ctip {
    overwrite: bool,
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Parser>> {
    let overwrite = p.get("overwrite").map(truthy).unwrap_or(true);
    Ok(Box::new(Ctip { overwrite }))
}

impl Parser for Ctip {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let text = super::feedio::decode(data);
        if text.starts_with('[') {
            let list: Vec<Value> = serde_json::from_str(&text)
                .map_err(|e| reject(format!("feed is not a JSON list: {e}")))?;
            for item in list {
                if !truthy(&item) {
                    continue;
                }
                let raw = format!("[{}]", py_json_dumps(&item, false));
                let result = match item {
                    Value::Object(line)
                        if line.get("version").and_then(Value::as_f64) == Some(1.5) =>
                    {
                        interflow(line, &raw, out)
                    }
                    _ => Err(reject("not an Interflow version 1.5 record")),
                };
                out.record_one(raw.as_bytes(), result)?;
            }
            Ok(())
        } else if text.starts_with('{') {
            for line in super::feedio::splitlines(&text) {
                // IntelMQ stops at a line that is no JSON (the report fails);
                // we let that line go to the dump and go on.
                let result = match serde_json::from_str::<Value>(line) {
                    Err(e) => Err(reject(format!("line is not JSON: {e}"))),
                    Ok(v) if !truthy(&v) => continue,
                    Ok(Value::Object(m)) => {
                        if m.get("version").and_then(Value::as_f64) == Some(1.5) {
                            Err(reject("Interflow record in an Azure stream"))
                        } else {
                            self.azure(m, line, out)
                        }
                    }
                    Ok(_) => Err(reject("line is not a JSON object")),
                };
                out.record_one(line.as_bytes(), result)?;
            }
            Ok(())
        } else {
            Err(reject(
                "Can't parse the received message. It is neither a JSON list nor a JSON dictionary.",
            ))
        }
    }
}

/// The feed's accuracy (100 when the report has none) scaled by a percentage.
fn scaled_accuracy(ev: &Message, percent: f64) -> f64 {
    let acc = ev
        .get("feed.accuracy")
        .and_then(Value::as_f64)
        .unwrap_or(100.0);
    acc * percent / 100.0
}

fn interflow(mut line: Map<String, Value>, raw: &str, out: &Records) -> Result<Message, Fail> {
    if line.get("indicatorthreattype").and_then(Value::as_str) != Some("Botnet") {
        return Err(reject(format!(
            "Unknown indicatorthreattype {:?}, only Botnet is supported.",
            line.get("indicatorthreattype")
        )));
    }
    if let Some(Value::Array(a)) = line.get("additionalmetadata") {
        let empty = match a.as_slice() {
            [] => true,
            [Value::Null] => true,
            [Value::String(s)] => s.is_empty() || s == "null",
            _ => false,
        };
        if empty {
            line.shift_remove("additionalmetadata");
        }
    }
    let mut ev = out.new_event();
    for (key, value) in &line {
        let mut value = value.clone();
        match key.as_str() {
            "version" | "indicatorthreattype" | "confidence" | "indicatorexpirationdatetime" => {
                continue
            }
            "firstreporteddatetime" => {
                let Value::String(s) = value else {
                    return Err(reject("firstreporteddatetime is not a string"));
                };
                value = Value::String(format!("{s} UTC"));
            }
            "hostname" => {
                let dest = line
                    .get("networkdestinationipv4")
                    .ok_or_else(|| reject("record without networkdestinationipv4"))?;
                // The destination IP repeated, or a name with odd characters.
                if &value == dest || !ev.is_valid_value("source.fqdn", &value, true) {
                    continue;
                }
            }
            "networkdestinationipv4" => {
                let Value::String(s) = &value else {
                    return Err(reject("networkdestinationipv4 is not a string"));
                };
                if s == "0.0.0.0" {
                    continue;
                }
                // Seen as "192.0.2.1, 192.0.2.1": the same address twice.
                if let Some(i) = s.find(',') {
                    value = Value::String(s[..i].to_string());
                }
            }
            _ => {}
        }
        let field = INTERFLOW
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, f)| *f)
            .ok_or_else(|| reject(format!("unknown key {key:?}")))?;
        ev.add(field, value)?;
    }
    let confidence = line
        .get("confidence")
        .and_then(Value::as_f64)
        .ok_or_else(|| reject("record without numeric confidence"))?;
    let acc = scaled_accuracy(&ev, confidence);
    ev.add_with(
        "feed.accuracy",
        acc.into(),
        Add {
            sanitize: true,
            overwrite: Some(true),
        },
    )?;
    ev.add("classification.type", "infected-system")?;
    ev.add("raw", raw)?;
    Ok(ev)
}

/// `base64.b64decode` + lenient UTF-8, as IntelMQ's `base64_decode`.
fn b64_text(s: &str) -> Result<String, Fail> {
    let bytes = harmonization::b64_decode_raw(s).ok_or_else(|| reject("Payload: bad base64"))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Set a key of an ordered record: replaced in place, or appended.
fn put(line: &mut Vec<(String, Value)>, key: String, value: Value) {
    match line.iter_mut().find(|(k, _)| *k == key) {
        Some(slot) => slot.1 = value,
        None => line.push((key, value)),
    }
}

fn remove(line: &mut Vec<(String, Value)>, key: &str) {
    line.retain(|(k, _)| k != key);
}

fn windows_nt(v: &Value) -> Result<Value, Fail> {
    let ticks = match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .ok_or_else(|| reject(format!("DateTimeReceivedUtc: bad value {v}")))?;
    timeparse::from_windows_nt(ticks)
        .map(Value::String)
        .ok_or_else(|| reject(format!("DateTimeReceivedUtc: out of range {v}")))
}

fn epoch(v: &Value) -> Result<Value, Fail> {
    let secs = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .ok_or_else(|| reject(format!("Payload.ts: bad value {v}")))?;
    timeparse::from_timestamp(secs)
        .map(Value::String)
        .ok_or_else(|| reject(format!("Payload.ts: out of range {v}")))
}

impl Ctip {
    fn azure(&self, map: Map<String, Value>, raw: &str, out: &Records) -> Result<Message, Fail> {
        let mut ev = out.new_event();
        let original: Vec<(String, Value)> = map.into_iter().collect();
        let mut line = original.clone();
        for (key, mut value) in original {
            if key == "Payload" {
                let Value::String(s) = &value else {
                    return Err(reject("Payload is not a string"));
                };
                if s == "AA==" {
                    // base64 of a NUL byte: no payload.
                    remove(&mut line, &key);
                    continue;
                }
                if s.starts_with('{') {
                    let payload: Value = serde_json::from_str(s)
                        .map_err(|e| reject(format!("Payload is not JSON: {e}")))?;
                    let Value::Object(payload) = payload else {
                        return Err(reject("Payload is not a JSON object"));
                    };
                    for (pk, pv) in payload {
                        ev.add(&format!("extra.payload.{pk}"), pv)?;
                    }
                    remove(&mut line, &key);
                } else {
                    let text = b64_text(s)?;
                    match serde_json::from_str::<Value>(&text) {
                        Ok(v) => value = v,
                        Err(_) => put(&mut line, key.clone(), Value::String(text)),
                    }
                }
            } else if key == "TLP" {
                let Value::String(s) = &value else {
                    return Err(reject("TLP is not a string"));
                };
                if s.to_lowercase() == "unknown" {
                    remove(&mut line, &key);
                }
            }
            if let Value::Object(inner) = value {
                for (sk, sv) in inner {
                    put(&mut line, format!("{key}.{sk}"), sv);
                }
                remove(&mut line, &key);
            }
        }
        for (key, value) in &line {
            let mut value = value.clone();
            match key.as_str() {
                "ThreatConfidence" => {
                    if value.as_str() == Some("None") {
                        continue;
                    }
                    let pct = CONFIDENCE
                        .iter()
                        .find(|(k, _)| Some(*k) == value.as_str())
                        .map(|(_, p)| *p)
                        .ok_or_else(|| reject(format!("unknown ThreatConfidence {value}")))?;
                    value = scaled_accuracy(&ev, pct).into();
                }
                "DateTimeReceivedUtc" => value = windows_nt(&value)?,
                "Payload.ts" => value = epoch(&value)?,
                "Payload.Protocol" => {
                    let Value::String(s) = &value else {
                        return Err(reject("Payload.Protocol is not a string"));
                    };
                    // "HTTP/1.1" gives "HTTP"; without a slash Python's
                    // `s[:s.find('/')]` drops the last character.
                    let proto: String = match s.find('/') {
                        Some(i) => s[..i].to_string(),
                        None => {
                            let n = s.chars().count();
                            s.chars().take(n.saturating_sub(1)).collect()
                        }
                    };
                    if !proto.is_empty() {
                        ev.add_with(
                            "protocol.application",
                            proto.into(),
                            Add {
                                sanitize: true,
                                overwrite: Some(true),
                            },
                        )?;
                    }
                }
                "Payload.domain" => {
                    // Sometimes the server's IP address, which is destination.ip already.
                    let server = line.iter().find(|(k, _)| k == "Payload.serverIp");
                    if !harmonization::is_valid(FieldType::Fqdn, &value)
                        && server.map(|(_, v)| v) == Some(&value)
                    {
                        continue;
                    }
                }
                _ => {
                    if !truthy(&value) {
                        continue;
                    }
                }
            }
            let field = AZURE
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, f)| *f)
                .ok_or_else(|| reject(format!("unknown key {key:?}")))?;
            if let Some(field) = field {
                // feed.accuracy is computed from the report's and always replaces it.
                let overwrite = self.overwrite || field == "feed.accuracy";
                ev.add_with(
                    field,
                    value,
                    Add {
                        sanitize: true,
                        overwrite: Some(overwrite),
                    },
                )?;
            }
        }
        ev.add("classification.type", "infected-system")?;
        ev.add("raw", raw)?;
        Ok(ev)
    }
}
