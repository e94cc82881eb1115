//! tuency: contacts and notification settings from a tuency instance
//! (`url` + `intelmq/lookup`, bearer `authentication_token`)
//! (IntelMQ `intelmq.bots.experts.tuency.expert`).
//!
//! Sets `source.abuse_contact` (the e-mail addresses of the IP and domain
//! destinations), `extra.notify` false when suppressed, else `extra.ttl` in
//! seconds from the answer's interval. Events without classification and feed
//! fields pass unchanged; transport failures go to the dump.

use super::{Expert, Params, Verdict};
use crate::message::Message;
use crate::net;
use crate::params::{self, add_opt};
use crate::pipeline::Fail;
use serde_json::Value;

pub struct Tuency {
    url: String,
    token: String,
    overwrite: bool,
    client: reqwest::blocking::Client,
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Expert>> {
    let url = params::text(p, "url").ok_or_else(|| anyhow::anyhow!("parameter url is required"))?;
    Ok(Box::new(Tuency {
        url: format!("{url}intelmq/lookup"),
        token: params::text(p, "authentication_token").map_or(String::new(), |s| s.into_owned()),
        overwrite: params::boolean(p, "overwrite", true)?,
        client: net::http_client(p)?,
    }))
}

/// IntelMQ's parse_relative: "N unit[s]" in minutes.
fn relative_minutes(text: &str) -> Option<f64> {
    let (n, unit) = text.trim().split_once(char::is_whitespace)?;
    let n: f64 = n.parse().ok()?;
    let unit = unit.trim();
    let unit = unit.strip_suffix('s').unwrap_or(unit);
    let m = match unit {
        "second" => 1.0 / 60.0,
        "minute" => 1.0,
        "hour" => 60.0,
        "day" => 1440.0,
        "week" => 10080.0,
        "month" => 43200.0,
        "year" => 525600.0,
        _ => return None,
    };
    Some(n * m)
}

impl Expert for Tuency {
    fn process(&mut self, ev: &mut Message) -> Result<Verdict, Fail> {
        if !(ev.contains("source.ip") || ev.contains("source.fqdn")) {
            return Ok(Verdict::Keep);
        }
        let mut q: Vec<(&str, String)> = Vec::new();
        for (param, key) in [
            ("classification_taxonomy", "classification.taxonomy"),
            ("classification_type", "classification.type"),
            ("feed_provider", "feed.provider"),
            ("feed_name", "feed.name"),
        ] {
            match ev.get_str(key) {
                Some(v) => q.push((param, v.to_string())),
                None => return Ok(Verdict::Keep),
            }
        }
        q.push(("feed_status", "production".into()));
        if let Some(ip) = ev.get_str("source.ip") {
            q.push(("ip", ip.to_string()));
        }
        if let Some(d) = ev.get_str("source.fqdn") {
            q.push(("domain", d.to_string()));
        }
        let fail = |e: String| Fail::Reject(format!("tuency: {e}"));
        let resp = self
            .client
            .get(&self.url)
            .query(&q)
            .bearer_auth(&self.token)
            .send()
            .map_err(|e| fail(net::error_chain(&e)))?;
        let body = resp.text().map_err(|e| fail(net::error_chain(&e)))?;
        let r: Value =
            serde_json::from_str(&body).map_err(|e| fail(format!("response is not JSON: {e}")))?;
        if r.get("suppress").and_then(Value::as_bool).unwrap_or(false) {
            ev.add("extra.notify", false)?;
        } else {
            let Some(interval) = r.get("interval") else {
                return Ok(Verdict::Keep);
            };
            let unit = interval.get("unit").and_then(Value::as_str).unwrap_or("");
            if unit == "immediate" {
                ev.add("extra.ttl", 0)?;
            } else {
                let length = match interval.get("length") {
                    Some(Value::String(s)) => s.clone(),
                    Some(v) => v.to_string(),
                    None => String::new(),
                };
                let minutes = relative_minutes(&format!("{length} {unit}"))
                    .ok_or_else(|| fail(format!("unknown interval {length:?} {unit:?}")))?;
                let secs = minutes * 60.0;
                if secs.fract() == 0.0 {
                    ev.add("extra.ttl", secs as i64)?;
                } else {
                    ev.add("extra.ttl", secs)?;
                }
            }
        }
        let mut contacts: Vec<String> = Vec::new();
        for part in ["ip", "domain"] {
            let dests = r
                .get(part)
                .and_then(|x| x.get("destinations"))
                .and_then(Value::as_array);
            for d in dests.into_iter().flatten() {
                for c in d
                    .get("contacts")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(m) = c.get("email").and_then(Value::as_str) {
                        contacts.push(m.to_string());
                    }
                }
            }
        }
        ev.add_with(
            "source.abuse_contact",
            contacts.join(",").into(),
            add_opt(self.overwrite),
        )?;
        Ok(Verdict::Keep)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn relative() {
        assert_eq!(super::relative_minutes("1 days"), Some(1440.0));
        assert_eq!(super::relative_minutes("4 hour"), Some(240.0));
        assert_eq!(super::relative_minutes("x"), None);
    }
}
