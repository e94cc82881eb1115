//! asn: `source.asn`/`source.network` (and the destination's) from a MaxMind ASN
//! database (`.mmdb`) or a pyasn prefix file (`ipasn.dat`: `PREFIX<TAB>ASN` lines,
//! `;` comments), by longest prefix match (IntelMQ
//! `intelmq.bots.experts.asn_lookup.expert`, which reads pyasn files).
//!
//! A pyasn table is flattened into disjoint address ranges, each owned by its most
//! specific prefix, so a lookup is one binary search.

use super::{Expert, Params, Verdict};
use crate::message::Message;
use crate::params;
use crate::pipeline::Fail;
use anyhow::{bail, Context};
use ipnetwork::IpNetwork;
use maxminddb::Reader;
use serde_json::Value;
use std::net::IpAddr;

pub const DEFAULT_DATABASE: &str = "/var/lib/intelmq/bots/asn_lookup/ipasn.dat";

/// One prefix of a pyasn file.
struct Prefix {
    net: IpNetwork,
    asn: u32,
}

/// Disjoint ranges `[start, end]` pointing into `prefixes`, sorted by start.
#[derive(Default)]
struct Ranges {
    starts: Vec<u128>,
    ends: Vec<u128>,
    owner: Vec<u32>,
}

impl Ranges {
    fn push(&mut self, start: u128, end: u128, owner: u32) {
        if start <= end {
            self.starts.push(start);
            self.ends.push(end);
            self.owner.push(owner);
        }
    }

    /// Flatten possibly nested prefixes `(start, end, owner)`.
    fn build(mut items: Vec<(u128, u128, u32)>) -> Ranges {
        // Wider first at the same start, and for identical prefixes the later line wins.
        items.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(b.2.cmp(&a.2)));
        items.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
        let mut out = Ranges::default();
        let mut stack: Vec<(u128, u128, u32)> = Vec::new();
        // Next address not yet covered by an emitted range (None: past the top).
        let mut pos: Option<u128> = Some(0);
        for it in items {
            while let Some(&top) = stack.last() {
                if top.1 >= it.0 {
                    break;
                }
                if let Some(p) = pos {
                    out.push(p, top.1, top.2);
                }
                pos = top.1.checked_add(1);
                stack.pop();
            }
            if let (Some(&top), Some(p)) = (stack.last(), pos) {
                if p < it.0 {
                    out.push(p, it.0 - 1, top.2);
                }
            }
            pos = Some(it.0);
            stack.push(it);
        }
        while let Some(top) = stack.pop() {
            if let Some(p) = pos {
                out.push(p, top.1, top.2);
            }
            pos = top.1.checked_add(1);
        }
        out
    }

    fn find(&self, x: u128) -> Option<u32> {
        let i = self.starts.partition_point(|&s| s <= x);
        (i > 0 && x <= self.ends[i - 1]).then(|| self.owner[i - 1])
    }
}

struct PyAsn {
    prefixes: Vec<Prefix>,
    v4: Ranges,
    v6: Ranges,
}

fn bounds(net: &IpNetwork) -> (u128, u128) {
    match net {
        IpNetwork::V4(n) => (
            u32::from(n.network()) as u128,
            u32::from(n.broadcast()) as u128,
        ),
        IpNetwork::V6(n) => {
            let start = u128::from(n.network());
            let host_bits = 128 - n.prefix() as u32;
            let mask = if host_bits == 128 {
                u128::MAX
            } else {
                (1u128 << host_bits) - 1
            };
            (start, start | mask)
        }
    }
}

impl PyAsn {
    fn parse(text: &str, path: &str) -> anyhow::Result<PyAsn> {
        let mut prefixes = Vec::new();
        let (mut v4, mut v6) = (Vec::new(), Vec::new());
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with(';') {
                continue;
            }
            let mut parts = line.split_whitespace();
            let (Some(pfx), Some(asn), None) = (parts.next(), parts.next(), parts.next()) else {
                bail!("{path}:{}: expected PREFIX<TAB>ASN, got {line:?}", n + 1);
            };
            let net: IpNetwork = pfx
                .parse()
                .with_context(|| format!("{path}:{}: bad prefix {pfx:?}", n + 1))?;
            let asn: u32 = asn
                .parse()
                .with_context(|| format!("{path}:{}: bad ASN {asn:?}", n + 1))?;
            let (s, e) = bounds(&net);
            let idx = prefixes.len() as u32;
            if net.is_ipv4() {
                v4.push((s, e, idx));
            } else {
                v6.push((s, e, idx));
            }
            prefixes.push(Prefix { net, asn });
        }
        if prefixes.is_empty() {
            bail!("{path}: no prefixes (not a pyasn file?)");
        }
        Ok(PyAsn {
            prefixes,
            v4: Ranges::build(v4),
            v6: Ranges::build(v6),
        })
    }

    fn lookup(&self, ip: IpAddr) -> Option<&Prefix> {
        let i = match ip {
            IpAddr::V4(a) => self.v4.find(u32::from(a) as u128),
            IpAddr::V6(a) => self.v6.find(u128::from(a)),
        }?;
        Some(&self.prefixes[i as usize])
    }
}

enum Db {
    Mmdb(Reader<Vec<u8>>),
    PyAsn(PyAsn),
}

pub struct Asn {
    db: Db,
    net_buf: String,
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Expert>> {
    let path = match params::string(p, "db")? {
        Some(d) => d,
        None => params::string_or(p, "database", DEFAULT_DATABASE)?,
    };
    let bytes = std::fs::read(&path).with_context(|| format!("reading {path}"))?;
    // An mmdb file ends with its metadata, marked by this byte string.
    let db = if memchr::memmem::rfind(&bytes, b"\xab\xcd\xefMaxMind.com").is_some() {
        drop(bytes);
        Db::Mmdb(super::geoip::open_mmdb(
            &path,
            &["ASN", "ISP", "Enterprise"],
        )?)
    } else {
        let text = String::from_utf8(bytes).with_context(|| format!("{path}: not text"))?;
        Db::PyAsn(PyAsn::parse(&text, &path)?)
    };
    Ok(Box::new(Asn {
        db,
        net_buf: String::new(),
    }))
}

const SIDES: [(&str, &str, &str); 2] = [
    ("source.ip", "source.asn", "source.network"),
    ("destination.ip", "destination.asn", "destination.network"),
];

#[derive(serde::Deserialize)]
struct AsnRec {
    #[serde(default)]
    autonomous_system_number: Option<u32>,
}

impl Expert for Asn {
    fn process(&mut self, ev: &mut Message) -> Result<Verdict, Fail> {
        use std::fmt::Write;
        for (ip_key, asn_key, net_key) in SIDES {
            let Some(ip) = ev.get_str(ip_key).and_then(|s| s.parse::<IpAddr>().ok()) else {
                continue;
            };
            let (asn, net) = match &self.db {
                Db::PyAsn(db) => match db.lookup(ip) {
                    Some(p) => (Some(p.asn), Some(p.net)),
                    None => (None, None),
                },
                Db::Mmdb(r) => {
                    let res = r
                        .lookup(ip)
                        .map_err(|e| Fail::Fatal(anyhow::anyhow!("ASN lookup of {ip}: {e}")))?;
                    let rec = res
                        .decode::<AsnRec>()
                        .map_err(|e| Fail::Fatal(anyhow::anyhow!("ASN lookup of {ip}: {e}")))?;
                    match rec {
                        Some(rec) => (rec.autonomous_system_number, res.network().ok()),
                        None => (None, None),
                    }
                }
            };
            if let Some(asn) = asn.filter(|&a| a != 0) {
                params::add(ev, asn_key, Value::from(asn), Some(true))?;
            }
            if let Some(net) = net {
                self.net_buf.clear();
                let _ = write!(self.net_buf, "{}/{}", net.network(), net.prefix());
                // Already in IntelMQ's normal form: validate, skip the sanitizing
                // round trip (it parses and prints the network once more).
                let opt = crate::message::Add {
                    sanitize: false,
                    overwrite: Some(true),
                };
                ev.add_with(net_key, Value::String(self.net_buf.clone()), opt)?;
            }
        }
        Ok(Verdict::Keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_prefix_wins() {
        let text = "; IP-ASN32-DAT\n192.0.2.0/24\t64496\n192.0.2.128/25\t64497\n192.0.2.192/26\t64498\n198.51.100.0/24\t64499\n2001:db8::/32\t64500\n0.0.0.0/0\t1\n";
        let db = PyAsn::parse(text, "t").unwrap();
        let asn = |s: &str| db.lookup(s.parse().unwrap()).map(|p| p.asn);
        assert_eq!(asn("192.0.2.1"), Some(64496));
        assert_eq!(asn("192.0.2.130"), Some(64497));
        assert_eq!(asn("192.0.2.200"), Some(64498));
        assert_eq!(asn("192.0.2.255"), Some(64498));
        assert_eq!(asn("198.51.100.7"), Some(64499));
        assert_eq!(asn("203.0.113.1"), Some(1));
        assert_eq!(asn("255.255.255.255"), Some(1));
        assert_eq!(asn("2001:db8::1"), Some(64500));
        assert_eq!(asn("2001:db9::1"), None);
        assert_eq!(
            db.lookup("192.0.2.130".parse().unwrap())
                .unwrap()
                .net
                .to_string(),
            "192.0.2.128/25"
        );
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(PyAsn::parse("hello world foo\n", "t").is_err());
        assert!(PyAsn::parse("; only comments\n", "t").is_err());
    }
}
