//! AnubisNetworks Cyberfeed stream: one nested JSON object per report (a
//! sinkholed connection of an infected host), one event each
//! (IntelMQ `intelmq.bots.parsers.anubisnetworks.parser`).
//!
//! Every field of the feed is mapped; one that is not known fails the report,
//! as in IntelMQ, so that format changes are noticed. Geolocation blocks for
//! other addresses than the source land under `extra.` when the harmonization
//! has no such field.

use super::pyjson::{item, py_int, py_type, report_raw};
use super::{feedio, Params, Parser, Records};
use crate::harmonization::py_strip;
use crate::message::{Add, FieldError, Message};
use crate::pipeline::Fail;
use crate::pyfmt::{py_repr, py_str};
use crate::timeparse;
use serde_json::{Map, Value};

pub struct Anubis {
    /// `use_malware_familiy_as_classification_identifier` (IntelMQ's spelling).
    family_as_identifier: bool,
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Parser>> {
    let family_as_identifier = match p.get("use_malware_familiy_as_classification_identifier") {
        None | Some(Value::Null) => true,
        Some(v) => super::pyjson::truthy(v),
    };
    Ok(Box::new(Anubis {
        family_as_identifier,
    }))
}

/// `_geo_env_remote_addr` keys and their fields.
const GEO_ENV_REMOTE_ADDR: [(&str, &str); 8] = [
    ("country_code", "source.geolocation.cc"),
    ("country_name", "source.geolocation.country"),
    ("region", "source.geolocation.region"),
    ("city", "source.geolocation.city"),
    ("asn_name", "source.as_name"),
    ("asn", "source.asn"),
    ("longitude", "source.geolocation.longitude"),
    ("latitude", "source.geolocation.latitude"),
];

/// Keys passed on as `extra.<key>` wherever they appear.
const EXTRA_PASSTHROUGH: [&str; 4] = ["request_method", "cookies", "path_info", "http_referer"];

impl Parser for Anubis {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let text = feedio::decode(data);
        let text = py_strip(&text);
        if text.is_empty() {
            return Ok(());
        }
        let result = self.event(data, text, out);
        match result {
            Ok(Some(ev)) => out.record_one(text.as_bytes(), Ok(ev)),
            Ok(None) => out.record(text.as_bytes(), Ok(Vec::new())),
            Err(f) => out.record_one(text.as_bytes(), Err(f)),
        }
    }
}

fn unknown(what: &str, key: &str) -> Fail {
    Fail::Reject(format!(
        "Unable to parse data field {what}{}. Please report this as bug.",
        py_repr(&Value::from(key))
    ))
}

fn obj<'a>(v: &'a Value, what: &str) -> Result<&'a Map<String, Value>, Fail> {
    v.as_object().ok_or_else(|| {
        Fail::Reject(format!(
            "AttributeError: {} ({what}) has no attribute 'items'",
            py_type(v)
        ))
    })
}

/// `add(..., raise_failure=False)`: an invalid value is left out, but a key
/// that is set already still fails.
fn soft(ev: &mut Message, key: &str, v: Value) -> Result<bool, Fail> {
    match ev.add(key, v) {
        Ok(added) => Ok(added),
        Err(FieldError::InvalidValue { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// The field if the harmonization has it, else `extra.<field>`.
fn add_fallback(ev: &mut Message, key: &str, v: Value) -> Result<(), Fail> {
    match ev.add(key, v.clone()) {
        Err(FieldError::InvalidKey { .. }) => {
            ev.add(&format!("extra.{key}"), v)?;
            Ok(())
        }
        other => other.map(|_| ()).map_err(Fail::from),
    }
}

/// Python's `key in value`: a key of a dict, a substring of a string, an item
/// of a list; anything else cannot be searched.
fn py_in(value: &Value, key: &str) -> Result<bool, Fail> {
    match value {
        Value::Object(m) => Ok(m.contains_key(key)),
        Value::String(s) => Ok(s.contains(key)),
        Value::Array(a) => Ok(a.iter().any(|v| v.as_str() == Some(key))),
        other => Err(Fail::Reject(format!(
            "TypeError: argument of type {} is not iterable",
            py_type(other)
        ))),
    }
}

/// A geolocation block (`_geo_*`) for the address at `namespace`.
fn parse_geo(ev: &mut Message, value: &Value, namespace: &str, orig: &str) -> Result<(), Fail> {
    let block = obj(value, orig)?;
    for (sub, v) in block {
        let key = match sub.as_str() {
            "ip" | "path" => continue,
            "netmask" => {
                let ip = py_str(item(value, "ip")?);
                add_fallback(
                    ev,
                    &format!("{namespace}.network"),
                    Value::String(format!("{ip}/{}", py_str(v))),
                )?;
                continue;
            }
            "country_code" => format!("{namespace}.geolocation.cc"),
            "country_name" => format!("{namespace}.geolocation.country"),
            "region_code" | "postal_code" | "region" | "city" | "latitude" | "longitude"
            | "dma_code" | "area_code" | "metro_code" => {
                format!("{namespace}.geolocation.{sub}")
            }
            "asn" => format!("{namespace}.asn"),
            "asn_name" => format!("{namespace}.as_name"),
            _ => {
                return Err(Fail::Reject(format!(
                    "Unable to parse data field '{orig}.{sub}'. Please report this as bug."
                )))
            }
        };
        add_fallback(ev, &key, v.clone())?;
    }
    Ok(())
}

impl Anubis {
    /// The event of one report; `None` for IntelMQ's internal test events.
    fn event(&self, data: &[u8], text: &str, out: &Records) -> Result<Option<Message>, Fail> {
        let doc: Value = super::pyjson::loads(text)?;
        let mut ev = out.new_event();
        let url = ev
            .get_str("feed.url")
            .ok_or_else(|| Fail::Reject("KeyError: 'feed.url'".into()))?;
        // The stream URL carries the subscriber's key.
        let url = url.split("?key=").next().unwrap_or("").to_string();
        ev.change("feed.url", url)?;
        let keep = Add {
            sanitize: false,
            overwrite: None,
        };
        ev.add_with("raw", report_raw(out, data), keep)?;
        ev.add("classification.type", "infected-system")?;
        ev.add("classification.taxonomy", "malicious-code")?;
        ev.add("event_description.text", "Sinkhole attempted connection")?;

        for (key, value) in obj(&doc, "report")? {
            match key.as_str() {
                "_ts" => {
                    let t = timeparse::from_timestamp(py_int(value)? as f64)
                        .ok_or_else(|| Fail::Reject("timestamp out of range".into()))?;
                    ev.add("time.source", t)?;
                }
                "trojanfamily" => {
                    ev.add("malware.name", value.clone())?;
                }
                "env" => self.env(&mut ev, value)?,
                "src" | "dst" => {
                    let identity = if key == "src" {
                        "source"
                    } else {
                        "destination"
                    };
                    for (sub, v) in obj(value, key)? {
                        match sub.as_str() {
                            "ip" | "port" => {
                                ev.add(&format!("{identity}.{sub}"), v.clone())?;
                            }
                            _ => return Err(unknown("env.", sub)),
                        }
                    }
                }
                "_geo_env_remote_addr" => {
                    for (k, field) in GEO_ENV_REMOTE_ADDR {
                        if py_in(value, k)? {
                            ev.add(field, item(value, k)?.clone())?;
                        }
                    }
                    if py_in(value, "ip")? && py_in(value, "netmask")? {
                        let (ip, mask) = (item(value, "ip")?, item(value, "netmask")?);
                        ev.add("source.network", format!("{}/{}", py_str(ip), py_str(mask)))?;
                    }
                }
                "qtype" => {
                    ev.add("extra.dns_query_type", value.clone())?;
                }
                "app_proto" => {
                    ev.set("protocol.application", value.clone())?;
                }
                "malw" => self.malw(&mut ev, value)?,
                "comm" => self.comm(&mut ev, value, &doc)?,
                "tracking" => {
                    for (sub, v) in obj(value, key)? {
                        let field = match sub.as_str() {
                            "id" => "extra.tracking.id",
                            "last_ip" => "extra.tracking.last.ip",
                            "first" => "extra.first_seen",
                            "seen" => "extra.last_seen",
                            "changes" => "extra.tracking.changes",
                            "checkins" => "extra.tracking.checkins",
                            "days" => "extra.days_seen",
                            "same_ip" => "extra.tracking.same_ip",
                            "tr" => "extra.tracking.tr",
                            _ => return Err(unknown("tracking.", sub)),
                        };
                        ev.add(field, v.clone())?;
                    }
                }
                "_geo_src_ip" => parse_geo(&mut ev, value, "source", key)?,
                "_geo_tracking_last_ip" => {
                    parse_geo(&mut ev, value, "tracking.last", key)?;
                    if item(value, "path")?.as_str() != Some("tracking.last_ip") {
                        return Err(Fail::Reject(
                            "_geo_tracking_last_ip.path is not 'tracking.last_ip'".into(),
                        ));
                    }
                }
                "_geo_comm_http_host" => {
                    parse_geo(&mut ev, value, "communication.http.host", key)?;
                    if item(value, "path")?.as_str() != Some("comm.http.host") {
                        return Err(Fail::Reject(
                            "_geo_comm_http_host.path is not 'comm.http.host'".into(),
                        ));
                    }
                }
                k if k.starts_with("_geo_comm_http_x_forwarded_for_") => {
                    // `_geo_comm_http_x_forwarded_for_#1` -> `communication.http.x_forwarded_for_1`
                    let plain: String = k.chars().filter(|&c| c != '#').skip(15).collect();
                    parse_geo(
                        &mut ev,
                        value,
                        &format!("communication.http.{plain}"),
                        "_geo_comm_http_x_forwarded_for_",
                    )?;
                }
                "_origin" | "_provider" | "pattern_verified" => {
                    ev.add(&format!("extra.{key}"), value.clone())?;
                }
                "metadata" => {
                    for (sub, v) in obj(value, key)? {
                        ev.add(&format!("extra.metadata.{sub}"), v.clone())?;
                    }
                }
                _ => return Err(unknown("", key)),
            }
        }
        // IntelMQ's own sinkhole test events.
        if ev.get_str("malware.name") == Some("testsinkholingloss") {
            return Ok(None);
        }
        Ok(Some(ev))
    }

    fn env(&self, ev: &mut Message, value: &Value) -> Result<(), Fail> {
        for (sub, v) in obj(value, "env")? {
            match sub.as_str() {
                "remote_addr" => ev.add("source.ip", v.clone())?,
                "remote_port" => ev.add("source.port", v.clone())?,
                "server_addr" => ev.add("destination.ip", v.clone())?,
                "server_port" => ev.add("destination.port", v.clone())?,
                "server_name" => soft(ev, "destination.fqdn", v.clone())?,
                s if EXTRA_PASSTHROUGH.contains(&s) => ev.add(&format!("extra.{s}"), v.clone())?,
                _ => return Err(unknown("env.", sub)),
            };
        }
        Ok(())
    }

    fn malw(&self, ev: &mut Message, value: &Value) -> Result<(), Fail> {
        for (sub, v) in obj(value, "malw")? {
            match sub.as_str() {
                "severity" => ev.add("extra.malware.severity", v.clone())?,
                "family" => {
                    if self.family_as_identifier {
                        ev.add("classification.identifier", v.clone())?
                    } else if v == item(value, "variant")? {
                        false
                    } else {
                        ev.add("extra.malware.family", v.clone())?
                    }
                }
                "variant" => ev.add("malware.name", v.clone())?,
                "categories" => ev.add("extra.malware.categories", v.clone())?,
                s if EXTRA_PASSTHROUGH.contains(&s) => ev.add(&format!("extra.{s}"), v.clone())?,
                _ => return Err(unknown("malw.", sub)),
            };
        }
        Ok(())
    }

    fn comm(&self, ev: &mut Message, value: &Value, doc: &Value) -> Result<(), Fail> {
        for (sub, v) in obj(value, "comm")? {
            match sub.as_str() {
                "proto" => ev.set("protocol.application", v.clone())?,
                "method" => ev.add("extra.communication.type", v.clone())?,
                "http" => {
                    for (k, hv) in obj(v, "comm.http")? {
                        match k.as_str() {
                            "method" => ev.add("extra.request_method", hv.clone())?,
                            "host" => {
                                // A host that is no FQDN is an IP address: kept
                                // when it is not the destination address already.
                                let added = soft(ev, "destination.fqdn", hv.clone())?;
                                if !added && hv != item(item(doc, "dst")?, "ip")? {
                                    ev.add("extra.communication.http_host", hv.clone())?;
                                }
                                added
                            }
                            "path" => ev.add("destination.urlpath", hv.clone())?,
                            "user_agent" => ev.add("extra.user_agent", hv.clone())?,
                            "more_headers" => ev.add("extra.communication.headers", hv.clone())?,
                            "cookies" | "unverified_domain" | "x_forwarded_for" => {
                                ev.add(&format!("extra.communication.{k}"), hv.clone())?
                            }
                            _ => return Err(unknown("comm.http.", k)),
                        };
                    }
                    if let (Some(proto), Some(host), Some(path)) =
                        (value.get("proto"), v.get("host"), v.get("path"))
                    {
                        ev.add(
                            "destination.url",
                            format!("{}://{}{}", py_str(proto), py_str(host), py_str(path)),
                        )?;
                    }
                    true
                }
                "dns" => {
                    for (k, dv) in obj(v, "comm.dns")? {
                        match k.as_str() {
                            "name" => ev.add("destination.fqdn", dv.clone())?,
                            "qtype" => ev.add("extra.dns_query_type", dv.clone())?,
                            _ => return Err(unknown("comm.dns.", k)),
                        };
                    }
                    true
                }
                "categories" => ev.add("extra.malware.categories", v.clone())?,
                s if EXTRA_PASSTHROUGH.contains(&s) => ev.add(&format!("extra.{s}"), v.clone())?,
                _ => return Err(unknown("comm.", sub)),
            };
        }
        Ok(())
    }
}
