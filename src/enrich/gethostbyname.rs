//! gethostbyname: `source.ip`/`destination.ip` from the FQDN (or the URL's host)
//! (IntelMQ `intelmq.bots.experts.gethostbyname.expert`).
//!
//! IntelMQ asks the C library; we ask a DNS server directly (`resolver`, default
//! from /etc/resolv.conf) so every lookup has a timeout. DNS outcomes map onto
//! the getaddrinfo error codes IntelMQ's `gaierrors_to_ignore` speaks: no such
//! name -2, no address -5 and malformed answer -4 are ignored (field left unset)
//! like IntelMQ's defaults; a timeout or server failure is -3 (EAI_AGAIN) and
//! sends the event to the dump unless listed in `gaierrors_to_ignore`.
//! Without `resolver`, names in /etc/hosts are answered from there first, as
//! the C library would.

use super::{Expert, Params, Verdict};
use crate::message::Message;
use crate::net::{self, cache::Cache, dns};
use crate::params::{self, add_opt};
use crate::pipeline::Fail;
use crate::pyurl;
use std::collections::HashMap;
use std::net::Ipv4Addr;

pub struct Gethostbyname {
    fallback_to_url: bool,
    overwrite: bool,
    ignore: Vec<i64>,
    resolver: dns::Resolver,
    /// IPv4 entries of /etc/hosts (lower-case name -> address).
    hosts: HashMap<String, Ipv4Addr>,
    cache: Cache,
}

/// Errors IntelMQ always ignores: EAI_NONAME, EAI_FAIL, EAI_NODATA, EAI_SERVICE, EAI_SYSTEM.
const ALWAYS_IGNORED: [i64; 5] = [-2, -4, -5, -8, -11];

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Expert>> {
    let mut ignore = ALWAYS_IGNORED.to_vec();
    for x in params::list(p, "gaierrors_to_ignore")?.unwrap_or_default() {
        let code: i64 = x.parse().map_err(|_| {
            anyhow::anyhow!("parameter gaierrors_to_ignore: {x:?} is not an integer")
        })?;
        ignore.push(code);
    }
    Ok(Box::new(Gethostbyname {
        fallback_to_url: params::boolean(p, "fallback_to_url", true)?,
        overwrite: params::boolean(p, "overwrite", false)?,
        ignore,
        resolver: net::resolver(p)?,
        hosts: if params::text(p, "resolver").is_some() {
            HashMap::new()
        } else {
            std::fs::read_to_string("/etc/hosts")
                .map(|t| parse_hosts(&t))
                .unwrap_or_default()
        },
        cache: Cache::from_params(p, 0, 3600.0)?,
    }))
}

/// The IPv4 entries of a hosts file; the first line naming a host wins.
fn parse_hosts(text: &str) -> HashMap<String, Ipv4Addr> {
    let mut m = HashMap::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        let mut w = line.split_whitespace();
        let Some(Ok(ip)) = w.next().map(str::parse::<Ipv4Addr>) else {
            continue;
        };
        for name in w {
            m.entry(name.to_ascii_lowercase()).or_insert(ip);
        }
    }
    m
}

/// IntelMQ's URL.to_domain_name: the netloc unless it is an IP address.
fn url_host(url: &str) -> Option<String> {
    let s = pyurl::urlsplit(url).ok()?;
    if s.netloc.is_empty() || s.netloc.parse::<std::net::IpAddr>().is_ok() {
        return None;
    }
    Some(s.netloc.to_string())
}

impl Gethostbyname {
    /// The address, `Ok(None)` for an ignored error, or the getaddrinfo code.
    fn lookup(&mut self, fqdn: &str) -> Result<Option<String>, (i64, String)> {
        if let Ok(ip) = fqdn.parse::<Ipv4Addr>() {
            return Ok(Some(ip.to_string()));
        }
        if let Some(ip) = self.hosts.get(&fqdn.to_ascii_lowercase()) {
            return Ok(Some(ip.to_string()));
        }
        if let Some(v) = self.cache.get(fqdn).map_err(|e| (-3, e))? {
            return Ok((!v.is_empty()).then_some(v));
        }
        let (code, why) = match self.resolver.query(fqdn, dns::A) {
            Ok(recs) => {
                let hit = recs.iter().find_map(|r| match r.data {
                    dns::Rdata::A(a) => Some((a, r.ttl)),
                    _ => None,
                });
                match hit {
                    Some((a, ttl)) => {
                        let ip = a.to_string();
                        let ttl = std::time::Duration::from_secs(ttl.into());
                        self.cache.set(fqdn, &ip, Some(ttl)).map_err(|e| (-3, e))?;
                        return Ok(Some(ip));
                    }
                    None => (-5, "no address associated with name".to_string()),
                }
            }
            Err(dns::DnsError::NxDomain) => (-2, "name or service not known".to_string()),
            Err(e @ dns::DnsError::Malformed(_)) => (-4, e.to_string()),
            Err(e) => (-3, e.to_string()),
        };
        if code == -2 || code == -5 {
            self.cache.set(fqdn, "", None).map_err(|e| (-3, e))?;
        }
        if self.ignore.contains(&code) {
            Ok(None)
        } else {
            Err((code, why))
        }
    }
}

impl Expert for Gethostbyname {
    fn process(&mut self, ev: &mut Message) -> Result<Verdict, Fail> {
        for (ipk, fqdnk, urlk) in [
            ("source.ip", "source.fqdn", "source.url"),
            ("destination.ip", "destination.fqdn", "destination.url"),
        ] {
            if ev.contains(ipk) && !self.overwrite {
                continue;
            }
            let mut fqdn = ev.get_str(fqdnk).map(str::to_string);
            if fqdn.is_none() && self.fallback_to_url {
                fqdn = ev.get_str(urlk).and_then(url_host);
            }
            let Some(fqdn) = fqdn else { continue };
            match self.lookup(&fqdn) {
                Ok(Some(ip)) => {
                    // IntelMQ: raise_failure=False.
                    let _ = ev.add_with(ipk, ip.into(), add_opt(self.overwrite));
                }
                Ok(None) => {}
                Err((code, why)) => {
                    return Err(Fail::Reject(format!(
                        "gethostbyname {fqdn:?} via {}: {why} (gaierror {code})",
                        self.resolver.server
                    )))
                }
            }
        }
        Ok(Verdict::Keep)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn hosts_file() {
        let h = super::parse_hosts(
            "127.0.0.1 localhost Local\n::1 localhost6\n# x\n10.0.0.1 a b # c\n127.0.0.2 a\n",
        );
        assert_eq!(h["local"].to_string(), "127.0.0.1");
        assert_eq!(h["a"].to_string(), "10.0.0.1");
        assert!(!h.contains_key("localhost6"));
    }

    #[test]
    fn url_host_skips_addresses() {
        assert_eq!(
            super::url_host("http://iana.org/x").as_deref(),
            Some("iana.org")
        );
        assert_eq!(super::url_host("http://10.0.0.1/x"), None);
        assert_eq!(super::url_host("iana.org"), None);
    }
}
