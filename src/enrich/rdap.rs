//! rdap: `source.abuse_contact` from the RDAP record of the domain of
//! `source.fqdn` (IntelMQ `intelmq.bots.experts.rdap.expert`).
//!
//! The RDAP server of each TLD comes from IANA's bootstrap file (fetched once
//! at start from `rdap_bootstrap_url`; failing is a configuration error) and
//! `rdap_bootstrapped_servers`. The e-mail of the first role in `rdap_order`
//! found among the entities wins. 404 means no data; other errors go to the dump.

use super::{Expert, Params, Verdict};
use crate::message::Message;
use crate::net::{self, cache::Cache};
use crate::params::{self, add_opt};
use crate::pipeline::Fail;
use serde_json::Value;
use std::collections::HashMap;

const BOOTSTRAP: &str = "https://data.iana.org/rdap/dns.json";

struct Service {
    url: String,
    /// JWT bearer token.
    token: Option<String>,
}

pub struct Rdap {
    order: Vec<String>,
    overwrite: bool,
    directory: HashMap<String, Service>,
    client: reqwest::blocking::Client,
    cache: Cache,
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Expert>> {
    let client = net::http_client(p)?;
    let boot = params::text(p, "rdap_bootstrap_url").map_or(BOOTSTRAP.into(), |s| s.into_owned());
    let r = net::http_get(&client, &boot, &[]).map_err(|e| anyhow::anyhow!(e))?;
    let j = r.json().map_err(|e| anyhow::anyhow!("{boot}: {e}"))?;
    let mut directory = HashMap::new();
    for svc in j
        .get("services")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let (Some(tlds), Some(url)) = (
            svc.get(0).and_then(Value::as_array),
            svc.get(1).and_then(|u| u.get(0)).and_then(Value::as_str),
        ) else {
            continue;
        };
        for t in tlds.iter().filter_map(Value::as_str) {
            directory.insert(
                t.to_string(),
                Service {
                    url: url.to_string(),
                    token: None,
                },
            );
        }
    }
    if let Some(Value::Object(extra)) = p.get("rdap_bootstrapped_servers") {
        for (tld, v) in extra {
            let svc = match v {
                Value::String(u) => Service {
                    url: u.clone(),
                    token: None,
                },
                Value::Object(o) => {
                    let url = o.get("url").and_then(Value::as_str).ok_or_else(|| {
                        anyhow::anyhow!("rdap_bootstrapped_servers.{tld}: no url")
                    })?;
                    let token = match o.get("auth") {
                        None => None,
                        Some(a) if a.get("type").and_then(Value::as_str) == Some("jwt") => {
                            a.get("token").and_then(Value::as_str).map(str::to_string)
                        }
                        Some(a) => anyhow::bail!(
                            "rdap_bootstrapped_servers.{tld}: authentication type {a} is not implemented"
                        ),
                    };
                    Service {
                        url: url.to_string(),
                        token,
                    }
                }
                other => anyhow::bail!("rdap_bootstrapped_servers.{tld}: unexpected {other}"),
            };
            directory.insert(tld.clone(), svc);
        }
    }
    let order = match params::list(p, "rdap_order")?.unwrap_or_default() {
        v if v.is_empty() => [
            "abuse",
            "technical",
            "administrative",
            "registrant",
            "registrar",
        ]
        .map(String::from)
        .to_vec(),
        v => v,
    };
    Ok(Box::new(Rdap {
        order,
        overwrite: params::boolean(p, "overwrite", true)?,
        directory,
        client,
        cache: Cache::from_params(p, 8, 86400.0)?,
    }))
}

/// The first e-mail of a vCard array.
fn vcard_email(vcard: &Value) -> Option<String> {
    for entry in vcard.as_array()?.iter().filter_map(Value::as_array) {
        for prop in entry.iter().filter_map(Value::as_array) {
            if prop.first().and_then(Value::as_str) == Some("email") {
                return prop.get(3).and_then(Value::as_str).map(str::to_string);
            }
        }
    }
    None
}

/// Role -> e-mail of an RDAP domain answer (later entities win, as in IntelMQ).
fn role_emails(resp: &Value) -> Result<HashMap<String, Option<String>>, String> {
    let mut roles = HashMap::new();
    let ents = resp
        .get("entities")
        .and_then(Value::as_array)
        .ok_or("answer has no entities")?;
    let roles_of = |e: &Value| -> Vec<String> {
        e.get("roles")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()
    };
    for e in ents.iter().filter(|e| e.is_object()) {
        let eroles = roles_of(e);
        if eroles.iter().any(|r| r == "removed") {
            continue;
        }
        for role in &eroles {
            for sub in e
                .get("entities")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if !sub.is_object() {
                    continue;
                }
                if let Some(vc) = sub.get("vcardArray") {
                    for sr in roles_of(sub) {
                        roles.insert(sr, vcard_email(vc));
                    }
                }
            }
            if let Some(vc) = e.get("vcardArray") {
                roles.insert(role.clone(), vcard_email(vc));
            }
        }
    }
    Ok(roles)
}

impl Expert for Rdap {
    fn process(&mut self, ev: &mut Message) -> Result<Verdict, Fail> {
        let Some(fqdn) = ev.get_str("source.fqdn").map(str::to_string) else {
            return Ok(Verdict::Keep);
        };
        let fail = |e: String| Fail::Reject(format!("rdap: {e}"));
        let key = format!("rdap_{fqdn}");
        if let Some(c) = self.cache.get(&key).map_err(fail)? {
            ev.add_with("source.abuse_contact", c.into(), add_opt(self.overwrite))?;
            return Ok(Verdict::Keep);
        }
        // The longest registered suffix, and the label before it.
        let labels: Vec<&str> = fqdn.split('.').collect();
        let Some(i) =
            (0..labels.len()).find(|&i| self.directory.contains_key(&labels[i..].join(".")))
        else {
            return Ok(Verdict::Keep);
        };
        let suffix = labels[i..].join(".");
        let domain = format!("{}.{suffix}", labels[..i].last().copied().unwrap_or(""));
        let svc = &self.directory[&suffix];
        let url = format!("{}domain/{domain}", svc.url);
        let mut req = self.client.get(&url);
        if let Some(t) = &svc.token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().map_err(|e| fail(net::error_chain(&e)))?;
        let status = resp.status().as_u16();
        if !(200..300).contains(&status) {
            if status == 404 {
                return Ok(Verdict::Keep);
            }
            return Err(fail(format!(
                "{url}: the returned status-code was {status}"
            )));
        }
        let body: Value = resp
            .json()
            .map_err(|_| fail(format!("{url}: unable to parse server response as JSON")))?;
        let roles = role_emails(&body).map_err(|e| fail(format!("{url}: {e}")))?;
        for role in &self.order {
            if let Some(Some(mail)) = roles.get(role) {
                self.cache.set(&key, mail, None).map_err(fail)?;
                ev.add_with(
                    "source.abuse_contact",
                    mail.clone().into(),
                    add_opt(self.overwrite),
                )?;
                break;
            }
        }
        Ok(Verdict::Keep)
    }
}
