//! rfc1918: remove a field, or drop the event, when an IP address, domain, URL host
//! or ASN is private, reserved or for documentation (IntelMQ
//! `intelmq.bots.experts.rfc1918.expert`).

use super::{Expert, Params, Verdict};
use crate::message::Message;
use crate::params;
use crate::pipeline::Fail;
use crate::pyurl;
use anyhow::bail;
use ipnetwork::IpNetwork;
use std::net::IpAddr;

const NETWORKS: &[&str] = &[
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.88.99.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "255.255.255.255/32",
    "fe80::/64",
    "2001:db8::/32",
];
const DOMAINS: &[&str] = &["example.com", "example.net", "example.org"];
const SUBDOMAINS: &[&str] = &[
    ".test",
    ".example",
    ".invalid",
    ".localhost",
    ".example.com",
    ".example.net",
    ".example.org",
];

#[derive(Clone, Copy, PartialEq)]
enum Policy {
    Del,
    Drop,
    /// Any other word: the match stops the checks but changes nothing, as in IntelMQ.
    Other,
}

pub struct Rfc1918 {
    rules: Vec<(String, Policy)>,
    nets: Vec<IpNetwork>,
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Expert>> {
    let fields = params::string_or(p, "fields", "destination.ip,source.ip,source.url")?;
    let policy = params::string_or(p, "policy", "del,drop,drop")?;
    let fields: Vec<String> = fields
        .trim()
        .to_lowercase()
        .split(',')
        .map(String::from)
        .collect();
    let policy: Vec<Policy> = policy
        .trim()
        .to_lowercase()
        .split(',')
        .map(|w| match w {
            "del" => Policy::Del,
            "drop" => Policy::Drop,
            _ => Policy::Other,
        })
        .collect();
    if fields.len() != policy.len() {
        bail!(
            "Length of parameters 'fields' ({}) and 'policy' ({}) is unequal.",
            fields.len(),
            policy.len()
        );
    }
    Ok(Box::new(Rfc1918 {
        rules: fields.into_iter().zip(policy).collect(),
        nets: NETWORKS
            .iter()
            .map(|n| n.parse().expect("valid network"))
            .collect(),
    }))
}

fn domain_matches(v: &str) -> bool {
    DOMAINS.contains(&v) || SUBDOMAINS.iter().any(|s| v.ends_with(s))
}

fn is_asn_reserved(n: i64) -> bool {
    (64496..64512).contains(&n) || (65536..65552).contains(&n)
}

impl Rfc1918 {
    fn in_net(&self, ip: IpAddr) -> bool {
        self.nets.iter().any(|n| n.contains(ip))
    }
}

impl Expert for Rfc1918 {
    fn process(&mut self, ev: &mut Message) -> Result<Verdict, Fail> {
        for (field, policy) in &self.rules {
            let Some(value) = ev.get(field) else {
                continue;
            };
            let hit = if field.ends_with(".ip") {
                let ip: IpAddr = value
                    .as_str()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| Fail::Reject(format!("{field}: not an IP address")))?;
                self.in_net(ip)
            } else if field.ends_with(".fqdn") {
                value.as_str().is_some_and(domain_matches)
            } else if field.ends_with(".url") {
                let url = value.as_str().unwrap_or_default();
                let url = pyurl::clean(url);
                let parts =
                    pyurl::urlsplit(&url).map_err(|e| Fail::Reject(format!("{field}: {e}")))?;
                match parts.netloc.parse::<IpAddr>() {
                    Ok(ip) => self.in_net(ip),
                    Err(_) => domain_matches(parts.netloc),
                }
            } else if field.ends_with(".asn") {
                value.as_i64().is_some_and(is_asn_reserved)
            } else {
                false
            };
            if hit {
                match policy {
                    Policy::Del => {
                        ev.remove(field);
                    }
                    Policy::Drop => return Ok(Verdict::Drop),
                    Policy::Other => {}
                }
                break;
            }
        }
        Ok(Verdict::Keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expert() -> Box<dyn Expert> {
        let mut p = Params::new();
        p.insert(
            "fields".into(),
            "destination.ip,source.ip,source.fqdn,destination.fqdn,source.url,source.asn".into(),
        );
        p.insert("policy".into(), "del,drop,drop,del,drop,drop".into());
        build(&p).unwrap()
    }

    #[test]
    fn intelmq_test_facts() {
        let mut e = expert();
        let mut ev = Message::event();
        ev.add("destination.ip", "192.0.2.9").unwrap();
        ev.add("source.ip", "93.184.216.34").unwrap();
        assert_eq!(e.process(&mut ev).unwrap(), Verdict::Keep);
        assert!(!ev.contains("destination.ip"));
        let mut ev = Message::event();
        ev.add("destination.fqdn", "sub.example.invalid").unwrap();
        e.process(&mut ev).unwrap();
        assert!(!ev.contains("destination.fqdn"));
        let mut ev = Message::event();
        ev.add("destination.fqdn", "fooexample.com").unwrap();
        e.process(&mut ev).unwrap();
        assert!(ev.contains("destination.fqdn"));
        let mut ev = Message::event();
        ev.add("source.url", "http://10.1.2.3/x").unwrap();
        assert_eq!(e.process(&mut ev).unwrap(), Verdict::Drop);
        let mut ev = Message::event();
        ev.add("source.asn", 64500).unwrap();
        assert_eq!(e.process(&mut ev).unwrap(), Verdict::Drop);
    }

    #[test]
    fn unequal_lengths_are_an_error() {
        let mut p = Params::new();
        p.insert("fields".into(), "source.ip".into());
        p.insert("policy".into(), "del,drop".into());
        assert!(build(&p).is_err());
    }
}
