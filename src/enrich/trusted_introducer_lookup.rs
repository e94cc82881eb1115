//! trusted_introducer_lookup: `source.abuse_contact` from the Trusted Introducer
//! team directory, by the constituency's domains (suffix match on `source.fqdn`)
//! and ASNs (`source.asn`), tried in `order`
//! (IntelMQ `intelmq.bots.experts.trusted_introducer_lookup.expert`).
//!
//! The directory is downloaded once from `url` at start; failing to get it is a
//! configuration error (exit status 2).

use super::{Expert, Params, Verdict};
use crate::message::Message;
use crate::net;
use crate::params::{self, add_opt};
use crate::pipeline::Fail;
use serde_json::Value;
use std::collections::HashMap;

const TI_DATABASE_URL: &str =
    "https://www.trusted-introducer.org/trusted-introducer/directory/downloads/json/teams/";

pub struct TrustedIntroducerLookup {
    order: Vec<String>,
    overwrite: bool,
    domains: HashMap<String, String>,
    asns: HashMap<i64, String>,
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Expert>> {
    let order: Vec<String> = params::text(p, "order")
        .as_deref()
        .unwrap_or("domain, asn")
        .split(',')
        .map(|x| x.trim().to_string())
        .collect();
    let url = params::text(p, "url").map_or(TI_DATABASE_URL.into(), |s| s.into_owned());
    let client = net::http_client(p)?;
    let reply = net::http_get(&client, &url, &[]).map_err(|e| anyhow::anyhow!(e))?;
    if !(200..300).contains(&reply.status) {
        anyhow::bail!(
            "trusted introducer directory {url}: HTTP status {}",
            reply.status
        );
    }
    let teams = reply.json().map_err(|e| anyhow::anyhow!("{url}: {e}"))?;
    let mut me = TrustedIntroducerLookup {
        overwrite: params::boolean(p, "overwrite", true)?,
        domains: HashMap::new(),
        asns: HashMap::new(),
        order,
    };
    me.load(&teams)
        .map_err(|e| anyhow::anyhow!("trusted introducer directory {url}: {e}"))?;
    Ok(Box::new(me))
}

impl TrustedIntroducerLookup {
    fn load(&mut self, teams: &Value) -> Result<(), String> {
        let teams = teams.as_array().ok_or("not a list of teams")?;
        for team in teams {
            let Some(mails) = team.get("emails").and_then(Value::as_array) else {
                continue;
            };
            // The first address whose usage includes "contact".
            let contact = mails
                .iter()
                .find(|m| {
                    m.get("usage")
                        .and_then(Value::as_array)
                        .is_some_and(|u| u.iter().any(|x| x == "contact"))
                })
                .and_then(|m| m.get("address").and_then(Value::as_str))
                .unwrap_or("")
                .to_string();
            let cons = team
                .get("constituency")
                .ok_or("a team without constituency")?;
            if self.order.iter().any(|o| o == "domain") {
                for d in cons
                    .get("domains")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let Some(d) = d.as_str() else { continue };
                    if d.contains(".*") {
                        continue; // wildcard TLDs
                    }
                    self.domains.insert(d.replace("*.", ""), contact.clone());
                }
            }
            if self.order.iter().any(|o| o == "asn") {
                for a in cons
                    .get("asns")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(a) = a.as_i64() {
                        self.asns.insert(a, contact.clone());
                    }
                }
            }
        }
        Ok(())
    }
}

impl Expert for TrustedIntroducerLookup {
    fn process(&mut self, ev: &mut Message) -> Result<Verdict, Fail> {
        let mut contact: Option<String> = None;
        for entity in &self.order {
            if contact.is_some() {
                break;
            }
            if entity == "domain" {
                if let Some(fqdn) = ev.get_str("source.fqdn") {
                    let mut rest = fqdn;
                    loop {
                        if let Some(c) = self.domains.get(rest) {
                            contact = Some(c.clone());
                            break;
                        }
                        match rest.split_once('.') {
                            Some((_, r)) => rest = r,
                            None if !rest.is_empty() => rest = "",
                            None => break,
                        }
                    }
                }
            } else if entity == "asn" {
                if let Some(asn) = ev.get("source.asn").and_then(Value::as_i64) {
                    contact = self.asns.get(&asn).cloned();
                }
            }
            // IntelMQ adds after every entity tried; no match with overwrite
            // removes an existing contact.
            let v = contact.clone().map_or(Value::Null, Value::String);
            ev.add_with("source.abuse_contact", v, add_opt(self.overwrite))?;
        }
        Ok(Verdict::Keep)
    }
}
