//! cymru_whois: ASN, network, country, registry, allocation date and AS name of
//! the IP address from Team Cymru's IP-to-ASN DNS service
//! (IntelMQ `intelmq.bots.experts.cymru_whois.expert`).
//!
//! Two TXT lookups: `<reversed ip>.origin[6].asn.cymru.com` (when several networks
//! answer, the most specific wins) and `AS<asn>.asn.cymru.com` for the AS name.
//! NXDOMAIN or no answer leaves the fields unset (cached as IntelMQ does);
//! transport failures send the event to the dump.

use super::{Expert, Params, Verdict};
use crate::message::Message;
use crate::net::{self, cache::Cache, dns};
use crate::params::{self, add_opt};
use crate::pipeline::Fail;
use serde_json::{Map, Value};
use std::net::IpAddr;

pub struct CymruWhois {
    overwrite: bool,
    resolver: dns::Resolver,
    cache: Cache,
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Expert>> {
    Ok(Box::new(CymruWhois {
        overwrite: params::boolean(p, "overwrite", false)?,
        resolver: net::resolver(p)?,
        cache: Cache::from_params(p, 5, 86400.0)?,
    }))
}

/// Split a Cymru answer on `|`; "NA" and empty items are absent.
fn items(text: &str) -> Vec<Option<String>> {
    text.split('|')
        .map(|i| {
            let i = i.replace('"', "");
            let i = i.trim();
            (!i.is_empty() && i != "NA").then(|| i.to_string())
        })
        .collect()
}

fn item(v: &[Option<String>], i: usize) -> Option<&str> {
    v.get(i).and_then(|x| x.as_deref())
}

/// `ASN | network | cc | registry | allocated`
fn parse_ip_answer(text: &str) -> Map<String, Value> {
    let mut r = Map::new();
    if text.is_empty() {
        return r;
    }
    let it = items(text);
    if let Some(asn) = item(&it, 0).and_then(|a| a.split(' ').next()) {
        if asn.parse::<i64>().is_ok() {
            r.insert("asn".into(), asn.into());
        }
    }
    if let Some(n) = item(&it, 1) {
        r.insert("network".into(), n.into());
    }
    if let Some(cc) = item(&it, 2) {
        r.insert("geolocation.cc".into(), cc.into());
    }
    if let Some(reg) = item(&it, 3) {
        r.insert("registry".into(), reg.into());
    }
    if let Some(a) = item(&it, 4) {
        r.insert("allocated".into(), format!("{a}T00:00:00+00:00").into());
    }
    r
}

/// The AS name (5th item of `ASN | cc | registry | allocated | name`). IntelMQ
/// re-reads the text as Latin-1 bytes of UTF-8, which fixes double-encoded names.
fn parse_asn_answer(text: &str) -> Result<Option<String>, String> {
    let it = items(text);
    let Some(name) = item(&it, 4) else {
        return Ok(None);
    };
    let bytes: Vec<u8> = name
        .chars()
        .filter(|c| (*c as u32) < 256)
        .map(|c| c as u8)
        .collect();
    let name = String::from_utf8(bytes)
        .map_err(|e| format!("cymru_whois: AS name {name:?} is not UTF-8 as Latin-1: {e}"))?;
    Ok((!name.is_empty()).then_some(name))
}

fn network_size(net: &str) -> Option<u128> {
    let n: ipnetwork::IpNetwork = net.parse().ok()?;
    let host_bits = match n {
        ipnetwork::IpNetwork::V4(n) => 32 - n.prefix() as u32,
        ipnetwork::IpNetwork::V6(n) => 128 - n.prefix() as u32,
    };
    Some(1u128.checked_shl(host_bits).unwrap_or(u128::MAX))
}

impl CymruWhois {
    /// The TXT answers of a name: empty for NXDOMAIN; Err for transport failures.
    fn txt(&self, name: &str) -> Result<Vec<String>, Fail> {
        match self.resolver.query(name, dns::TXT) {
            Ok(recs) => Ok(recs
                .into_iter()
                .filter_map(|r| match r.data {
                    dns::Rdata::Txt(s) => Some(String::from_utf8_lossy(&s.concat()).into_owned()),
                    _ => None,
                })
                .collect()),
            Err(dns::DnsError::NxDomain) => Ok(Vec::new()),
            Err(e) => Err(Fail::Reject(format!(
                "cymru_whois: TXT lookup of {name} via {}: {e}",
                self.resolver.server
            ))),
        }
    }

    fn query(&self, ip: IpAddr) -> Result<Option<Map<String, Value>>, Fail> {
        let rev = dns::reverse_name(ip);
        let name = match ip {
            IpAddr::V4(_) => format!(
                "{}.origin.asn.cymru.com",
                rev.trim_end_matches(".in-addr.arpa")
            ),
            IpAddr::V6(_) => format!(
                "{}.origin6.asn.cymru.com",
                rev.trim_end_matches(".ip6.arpa")
            ),
        };
        let mut result: Option<Map<String, Value>> = None;
        for res in self.txt(&name)?.iter().map(|t| parse_ip_answer(t)) {
            let better = match &result {
                None => true,
                Some(cur) => match (res.get("network"), cur.get("network")) {
                    (None, _) => false,
                    (Some(_), None) => true,
                    (Some(a), Some(b)) => {
                        let size = |v: &Value| v.as_str().and_then(network_size);
                        matches!((size(a), size(b)), (Some(x), Some(y)) if x < y)
                    }
                },
            };
            if better {
                result = Some(res);
            }
        }
        let Some(mut result) = result.filter(|r| !r.is_empty()) else {
            return Ok(None);
        };
        if let Some(asn) = result
            .get("asn")
            .and_then(Value::as_str)
            .map(str::to_string)
        {
            if let Some(first) = self.txt(&format!("AS{asn}.asn.cymru.com"))?.first() {
                if let Some(n) = parse_asn_answer(first).map_err(Fail::Reject)? {
                    result.insert("as_name".into(), n.into());
                }
            }
        }
        Ok(Some(result))
    }
}

impl Expert for CymruWhois {
    fn process(&mut self, ev: &mut Message) -> Result<Verdict, Fail> {
        for prefix in ["source.", "destination."] {
            let ipk = if prefix == "source." {
                "source.ip"
            } else {
                "destination.ip"
            };
            let Some(ip) = ev.get_str(ipk).and_then(|s| s.parse::<IpAddr>().ok()) else {
                continue;
            };
            let key = format!("{}_{ip}", if ip.is_ipv4() { 4 } else { 6 });
            let cached = self.cache.get(&key).map_err(Fail::Reject)?;
            let result = match cached {
                Some(json) => {
                    serde_json::from_str::<Option<Map<String, Value>>>(&json).map_err(|e| {
                        Fail::Reject(format!("cymru_whois: bad cache entry {key}: {e}"))
                    })?
                }
                None => {
                    let r = self.query(ip)?;
                    // Python's json.dumps text, as IntelMQ stores it in Redis.
                    let json = match &r {
                        Some(m) => crate::pyfmt::py_json_dumps(&Value::Object(m.clone()), false),
                        None => "null".to_string(),
                    };
                    self.cache.set(&key, &json, None).map_err(Fail::Reject)?;
                    r
                }
            };
            let Some(result) = result else { continue };
            for (k, v) in result {
                if k == "registry" && v == "other" {
                    continue;
                }
                ev.add_with(&format!("{prefix}{k}"), v, add_opt(self.overwrite))?;
            }
        }
        Ok(Verdict::Keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_answers() {
        let r = parse_ip_answer("9395 17431 | 219.234.80.0/20 | CN | apnic   | 2002-04-17");
        assert_eq!(r["asn"], "9395");
        assert_eq!(r["network"], "219.234.80.0/20");
        assert_eq!(r["allocated"], "2002-04-17T00:00:00+00:00");
        let r = parse_ip_answer("1930 | 193.136.0.0/15 | PT | ripencc |");
        assert!(!r.contains_key("allocated"));
        assert_eq!(
            parse_asn_answer("1930  | EU | ripencc |            | RCCN Rede (RCTS),PT").unwrap(),
            Some("RCCN Rede (RCTS),PT".into())
        );
        assert_eq!(
            parse_asn_answer("1 | AT | ripencc | | Universit\u{c3}\u{a4}t").unwrap(),
            Some("Universität".into())
        );
        assert_eq!(network_size("10.0.0.0/8"), Some(1 << 24));
    }
}
