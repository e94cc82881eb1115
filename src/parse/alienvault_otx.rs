//! AlienVault OTX subscribed pulses (a JSON list): one event per supported
//! indicator of each pulse, the pulse's details in `extra`
//! (IntelMQ `intelmq.bots.parsers.alienvault.parser_otx`).

use super::pyjson::{drop_last_chars, each_record, has, item, item_str, loads, truthy};
use super::{feedio, Params, Parser, Records};
use crate::message::Message;
use crate::pipeline::Fail;
use crate::pyfmt::py_json_dumps;
use serde_json::{Map, Value};

pub struct Otx;

pub fn build(_: &Params) -> anyhow::Result<Box<dyn Parser>> {
    Ok(Box::new(Otx))
}

impl Parser for Otx {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let text = feedio::decode(data);
        let doc: Value = loads(&text)?;
        each_record(doc, out, |pulse, _, out| pulse_events(pulse, out))
    }
}

/// `'http://' + x` unless `x` has a scheme separator already.
fn with_scheme(x: &str) -> String {
    if x.contains("://") {
        x.to_string()
    } else {
        format!("http://{x}")
    }
}

fn pulse_events(pulse: &Value, out: &Records) -> Result<Vec<Message>, Fail> {
    let author = item(pulse, "author_name")?;
    let name = item(pulse, "name")?;
    let indicators = item(pulse, "indicators")?;
    let Value::Array(indicators) = indicators else {
        return Err(Fail::Reject("indicators is not a list".into()));
    };
    let mut events = Vec::new();
    for indicator in indicators {
        let mut ev = out.new_event();
        let mut extra = Map::new();
        extra.insert("author".into(), author.clone());
        extra.insert("pulse".into(), name.clone());
        let kind = item(indicator, "type")?;
        let kind = kind.as_str().unwrap_or("");
        let value = || item(indicator, "indicator");
        match kind {
            "FileHash-SHA256" => {
                ev.add("malware.hash.sha256", value()?.clone())?;
            }
            "FileHash-SHA1" => {
                ev.add("malware.hash.sha1", value()?.clone())?;
            }
            "FileHash-MD5" => {
                ev.add("malware.hash.md5", value()?.clone())?;
            }
            "hostname" | "domain" => {
                // Some "domains" are URLs: those with a path become one.
                let resource = with_scheme(item_str(indicator, "indicator")?);
                let path_len = crate::pyurl::urlsplit(&crate::pyurl::clean(&resource))
                    .map_err(|e| Fail::Reject(format!("ValueError: {e}")))?
                    .path
                    .len();
                if path_len > 0 {
                    ev.add("source.url", resource)?;
                } else {
                    ev.add("source.fqdn", value()?.clone())?;
                }
            }
            "IPv4" | "IPv6" => {
                ev.add("source.ip", value()?.clone())?;
            }
            "email" => {
                ev.add("source.account", value()?.clone())?;
            }
            "URL" | "URI" => {
                let text = item_str(indicator, "indicator")?;
                let added = ev.add("source.url", with_scheme(text)).unwrap_or(false);
                if !added {
                    // OTX URIs may be just a path.
                    if kind == "URI" {
                        ev.add("source.urlpath", text)?;
                    } else {
                        return Err(Fail::Reject(format!(
                            "Invalid value {} for URL hamonization type.",
                            crate::pyfmt::py_repr(&Value::from(text))
                        )));
                    }
                }
            }
            "CIDR" => {
                ev.add("source.network", value()?.clone())?;
            }
            "CVE" => {
                extra.insert("cve".into(), value()?.clone());
            }
            _ => continue,
        }
        let pulse_key = match indicator.get("pulse_key") {
            Some(k) => k.clone(),
            None => item(pulse, "id")?.clone(),
        };
        extra.insert("pulse_key".into(), pulse_key);
        if let Some(tags) = pulse.get("tags") {
            extra.insert("tags".into(), tags.clone());
        }
        if let Some(modified) = pulse.get("modified") {
            let m = modified
                .as_str()
                .ok_or_else(|| Fail::Reject("modified is not a string".into()))?;
            let updated = if m.contains('.') {
                format!("{}+00:00", drop_last_chars(m, 4))
            } else {
                format!("{m}.00+00:00")
            };
            extra.insert("time_updated".into(), Value::String(updated));
        }
        for key in ["industries", "adversary"] {
            if let Some(v) = pulse.get(key) {
                extra.insert(key.into(), v.clone());
            }
        }
        if let Some(tc) = pulse.get("targeted_countries") {
            if truthy(tc) {
                extra.insert("targeted_countries".into(), tc.clone());
            }
        }
        if has(pulse, "TLP") {
            ev.add("tlp", pulse["TLP"].clone())?;
        }
        ev.add("comment", item(pulse, "description")?.clone())?;
        ev.add("extra", Value::Object(extra))?;
        ev.add("classification.type", "blacklist")?;
        let created = item_str(indicator, "created")?;
        ev.add(
            "time.source",
            format!("{}+00:00", drop_last_chars(created, 4)),
        )?;
        ev.add("raw", py_json_dumps(indicator, true))?;
        events.push(ev);
    }
    Ok(events)
}
