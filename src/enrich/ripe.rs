//! ripe: abuse contacts (and optionally geolocation) of IP addresses and ASNs
//! from the RIPE database REST API and RIPEstat
//! (IntelMQ `intelmq.bots.experts.ripe.expert`).
//!
//! Each `query_ripe_*` switch enables one source; `mode` append (default) adds
//! to the existing `abuse_contact`, replace starts empty. A 404 "No abuse
//! contact found" and answers without the expected data are "no contact" (and
//! cached so); other HTTP errors, invalid JSON and transport failures send the
//! event to the dump. The services' base URLs are parameters (`ripe_db_url`,
//! `ripe_stat_url`) so tests can use a local server.

use super::{Expert, Params, Verdict};
use crate::message::Message;
use crate::net::{self, cache::Cache};
use crate::params::{self, add_opt};
use crate::pipeline::Fail;
use serde_json::Value;
use std::collections::BTreeSet;

/// Cache value of "no data" (IntelMQ's marker, so Redis caches are shared).
const CACHE_NO_VALUE: &str = "__no_contact";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    DbIp,
    DbAsn,
    Stat,
    StatGeo,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::DbIp => "db_ip",
            Kind::DbAsn => "db_asn",
            Kind::Stat => "stat",
            Kind::StatGeo => "stat_geolocation",
        }
    }
}

pub struct Ripe {
    append: bool,
    db_asn: bool,
    db_ip: bool,
    stat_asn: bool,
    stat_ip: bool,
    stat_geo: bool,
    db_url: String,
    stat_url: String,
    client: reqwest::blocking::Client,
    cache: Cache,
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Expert>> {
    let mode = params::text(p, "mode").map_or("append".into(), |s| s.into_owned());
    Ok(Box::new(Ripe {
        append: mode == "append",
        db_asn: params::boolean(p, "query_ripe_db_asn", true)?,
        db_ip: params::boolean(p, "query_ripe_db_ip", true)?,
        stat_asn: params::boolean(p, "query_ripe_stat_asn", true)?,
        stat_ip: params::boolean(p, "query_ripe_stat_ip", true)?,
        stat_geo: params::boolean(p, "query_ripe_stat_geolocation", true)?,
        db_url: params::text(p, "ripe_db_url")
            .map_or("https://rest.db.ripe.net".into(), |s| s.into_owned()),
        stat_url: params::text(p, "ripe_stat_url")
            .map_or("https://stat.ripe.net".into(), |s| s.into_owned()),
        client: net::http_client(p)?,
        cache: Cache::from_params(p, 10, 86400.0)?,
    }))
}

/// The comma-separated addresses of a reply, as a set.
fn split_mails(v: Option<&Value>) -> Option<Vec<Value>> {
    let s = v?.as_str()?;
    let set: BTreeSet<&str> = s.split(',').filter(|x| !x.is_empty()).collect();
    Some(set.into_iter().map(Value::from).collect())
}

/// The data of a reply: a list of addresses or a location object.
fn reply_data(kind: Kind, r: &Value) -> Option<Value> {
    match kind {
        Kind::DbIp | Kind::DbAsn => {
            split_mails(r.get("abuse-contacts")?.get("email")).map(Value::Array)
        }
        Kind::Stat => split_mails(
            r.get("data")?
                .get("anti_abuse_contacts")?
                .get("abuse_c")?
                .get(0)?
                .get("email"),
        )
        .map(Value::Array),
        Kind::StatGeo => {
            let mut loc = r
                .get("data")?
                .get("located_resources")?
                .get(0)?
                .get("locations")?
                .get(0)?
                .as_object()?
                .clone();
            if loc.get("country").and_then(Value::as_str) == Some("?") {
                loc.remove("country");
            }
            Some(Value::Object(loc))
        }
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

impl Ripe {
    fn url(&self, kind: Kind, resource: &str) -> String {
        match kind {
            Kind::DbIp => format!("{}/abuse-contact/{resource}.json", self.db_url),
            Kind::DbAsn => format!("{}/abuse-contact/as{resource}.json", self.db_url),
            Kind::Stat => format!(
                "{}/data/abuse-contact-finder/data.json?resource={resource}",
                self.stat_url
            ),
            Kind::StatGeo => format!(
                "{}/data/maxmind-geo-lite/data.json?resource={resource}",
                self.stat_url
            ),
        }
    }

    /// The cached or fetched data; `Value::Null` for none.
    fn query(&mut self, kind: Kind, resource: &str) -> Result<Value, Fail> {
        let key = format!("{}:{resource}", kind.name());
        let fail = |e: String| Fail::Reject(format!("ripe: {e}"));
        if let Some(v) = self.cache.get(&key).map_err(fail)? {
            if v == CACHE_NO_VALUE {
                return Ok(Value::Null);
            }
            if let Ok(j) = serde_json::from_str(&v) {
                return Ok(j);
            }
        }
        let url = self.url(kind, resource);
        let r = net::http_get(&self.client, &url, &[]).map_err(fail)?;
        if r.status != 200 {
            if r.status == 404 {
                let no_contact = r.json().ok().and_then(|j| {
                    j.get("message")
                        .and_then(Value::as_str)
                        .map(|m| m.starts_with("No abuse contact found for "))
                });
                if no_contact == Some(true) {
                    self.cache.set(&key, CACHE_NO_VALUE, None).map_err(fail)?;
                    return Ok(Value::Null);
                }
            }
            return Err(fail(format!(
                "HTTP status code was {} for {url}. Possible problem at the connection endpoint or network issue.",
                r.status
            )));
        }
        let j = r.json().map_err(|e| fail(format!("{url}: {e}")))?;
        let data = reply_data(kind, &j).filter(|d| !is_empty(d));
        let cached = match &data {
            // Python's json.dumps text, so Redis entries match IntelMQ's byte for byte.
            Some(d) => crate::pyfmt::py_json_dumps(d, false),
            None => CACHE_NO_VALUE.to_string(),
        };
        self.cache.set(&key, &cached, None).map_err(fail)?;
        Ok(data.unwrap_or(Value::Null))
    }
}

fn mails(v: &Value, into: &mut Vec<String>) {
    for m in v.as_array().into_iter().flatten() {
        if let Some(s) = m.as_str() {
            if !into.iter().any(|x| x == s) {
                into.push(s.to_string());
            }
        }
    }
}

impl Expert for Ripe {
    fn process(&mut self, ev: &mut Message) -> Result<Verdict, Fail> {
        for side in ["source.", "destination."] {
            let abuse_key = format!("{side}abuse_contact");
            let mut abuse: Vec<String> = Vec::new();
            if self.append {
                if let Some(old) = ev.get_str(&abuse_key) {
                    for m in old.split(',') {
                        if !abuse.iter().any(|x| x == m) {
                            abuse.push(m.to_string());
                        }
                    }
                }
            }
            let asn = ev.get(&format!("{side}asn")).map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            if let Some(asn) = asn.filter(|a| !a.is_empty() && a != "0") {
                if self.stat_asn {
                    mails(&self.query(Kind::Stat, &asn)?, &mut abuse);
                }
                if self.db_asn {
                    mails(&self.query(Kind::DbAsn, &asn)?, &mut abuse);
                }
            }
            if let Some(ip) = ev.get_str(&format!("{side}ip")).map(str::to_string) {
                if self.stat_ip {
                    mails(&self.query(Kind::Stat, &ip)?, &mut abuse);
                }
                if self.db_ip {
                    mails(&self.query(Kind::DbIp, &ip)?, &mut abuse);
                }
                if self.stat_geo {
                    let info = self.query(Kind::StatGeo, &ip)?;
                    for (local, remote) in [
                        ("cc", "country"),
                        ("latitude", "latitude"),
                        ("longitude", "longitude"),
                        ("city", "city"),
                    ] {
                        if let Some(v) = info.get(remote) {
                            ev.add_with(
                                &format!("{side}geolocation.{local}"),
                                v.clone(),
                                add_opt(!self.append),
                            )?;
                        }
                    }
                }
            }
            // IntelMQ joins a set (unordered); we keep first-seen order.
            ev.set(&abuse_key, abuse.join(","))?;
        }
        Ok(Verdict::Keep)
    }
}
