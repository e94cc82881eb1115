//! reverse_dns: `source.reverse_dns`/`destination.reverse_dns` from the PTR
//! record of the IP address (IntelMQ `intelmq.bots.experts.reverse_dns.expert`).
//!
//! As in IntelMQ, the first PTR name that is a valid FQDN is used; no such name,
//! NXDOMAIN or an empty answer leave the field unset and are cached (for
//! `cache_ttl_invalid_response` seconds, NXDOMAIN for the cache TTL). Transport
//! failures (timeout, SERVFAIL, refused) send the event to the dump.

use super::{Expert, Params, Verdict};
use crate::message::Message;
use crate::net::{self, cache::Cache, dns};
use crate::params::{self, add_opt};
use crate::pipeline::Fail;
use serde_json::Value;
use std::net::IpAddr;
use std::time::Duration;

/// Cache value of "no usable answer" (IntelMQ's marker, so Redis caches are shared).
const DNS_EXCEPTION_VALUE: &str = "__dns-exception";

pub struct ReverseDns {
    overwrite: bool,
    invalid_ttl: Duration,
    resolver: dns::Resolver,
    cache: Cache,
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Expert>> {
    Ok(Box::new(ReverseDns {
        overwrite: params::boolean(p, "overwrite", false)?,
        invalid_ttl: Duration::from_secs_f64(params::number(
            p,
            "cache_ttl_invalid_response",
            60.0,
        )?),
        resolver: net::resolver(p)?,
        cache: Cache::from_params(p, 7, 86400.0)?,
    }))
}

/// IntelMQ's cache key: the address as an integer in binary digits.
fn cache_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(a) => format!("{:b}", u32::from(a)),
        IpAddr::V6(a) => format!("{:b}", u128::from(a)),
    }
}

impl ReverseDns {
    fn lookup(&mut self, ev: &Message, ip: IpAddr) -> Result<Option<String>, Fail> {
        let key = cache_key(ip);
        let reject = |e: String| Fail::Reject(e);
        match self.cache.get(&key).map_err(reject)? {
            Some(v) if v == DNS_EXCEPTION_VALUE => return Ok(None),
            Some(v) if !v.is_empty() => return Ok(Some(v)),
            _ => {}
        }
        let name = dns::reverse_name(ip);
        match self.resolver.query(&name, dns::PTR) {
            Ok(recs) => {
                // dnspython's text form of a name ends in a dot; sanitation drops it.
                let found = recs.iter().find_map(|r| match &r.data {
                    dns::Rdata::Name(n) => {
                        let text = format!("{n}.");
                        ev.is_valid_value("source.reverse_dns", &Value::String(text.clone()), true)
                            .then_some((text, r.ttl))
                    }
                    _ => None,
                });
                match found {
                    Some((text, ttl)) => {
                        let ttl = Duration::from_secs(ttl.into());
                        self.cache.set(&key, &text, Some(ttl)).map_err(reject)?;
                        Ok(Some(text))
                    }
                    None => {
                        self.cache
                            .set(&key, DNS_EXCEPTION_VALUE, Some(self.invalid_ttl))
                            .map_err(reject)?;
                        Ok(None)
                    }
                }
            }
            Err(dns::DnsError::NxDomain) => {
                self.cache
                    .set(&key, DNS_EXCEPTION_VALUE, None)
                    .map_err(reject)?;
                Ok(None)
            }
            Err(e) => Err(Fail::Reject(format!(
                "reverse_dns: PTR lookup of {ip} via {}: {e}",
                self.resolver.server
            ))),
        }
    }
}

impl Expert for ReverseDns {
    fn process(&mut self, ev: &mut Message) -> Result<Verdict, Fail> {
        for (ipk, rk) in [
            ("source.ip", "source.reverse_dns"),
            ("destination.ip", "destination.reverse_dns"),
        ] {
            let Some(ip) = ev.get_str(ipk).and_then(|s| s.parse::<IpAddr>().ok()) else {
                continue;
            };
            if ev.contains(rk) && !self.overwrite {
                continue;
            }
            if let Some(name) = self.lookup(ev, ip)? {
                ev.add_with(rk, name.into(), add_opt(self.overwrite))?;
            }
        }
        Ok(Verdict::Keep)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cache_key_is_binary() {
        assert_eq!(super::cache_key("0.0.0.5".parse().unwrap()), "101");
    }
}
