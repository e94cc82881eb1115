//! `blocklist` (beyond IntelMQ): a deduplicated, sorted list of the events' IP
//! addresses and networks, domains or URLs, rewritten atomically after every
//! batch that changed it, so a firewall or DNS server can reload it at any time.
//!
//! Formats: `plain` (one entry a line), `csv` (`indicator,classification.type,
//! feed.name,last_seen`, the last event's values), `nftables` (a file for `nft -f`
//! that declares, flushes and fills an IPv4 and an IPv6 set, so reloading it
//! replaces the sets' contents), `ipset` (for `ipset restore`: the entries go into
//! a new set swapped with the live one). The list already in the file is read
//! back at start, so a restart keeps it.

use super::{atomic, Output, OutputOpts};
use crate::message::Message;
use crate::params::{self, Params};
use crate::pipeline::Fail;
use crate::pyfmt::py_str;
use anyhow::{bail, Context};
use std::collections::BTreeMap;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

#[derive(Clone, Copy, PartialEq, Debug)]
enum Format {
    Plain,
    Csv,
    Nftables,
    Ipset,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    Ip,
    Domain,
    Url,
}

/// An entry; IPv4 sorts before IPv6, networks by address then prefix.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Key {
    V4(u32, u8),
    V6(u128, u8),
    Text(String),
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            Key::V4(a, 32) => write!(f, "{}", Ipv4Addr::from(*a)),
            Key::V4(a, p) => write!(f, "{}/{p}", Ipv4Addr::from(*a)),
            Key::V6(a, 128) => write!(f, "{}", Ipv6Addr::from(*a)),
            Key::V6(a, p) => write!(f, "{}/{p}", Ipv6Addr::from(*a)),
            Key::Text(s) => f.write_str(s),
        }
    }
}

impl Key {
    fn parse(kind: Kind, s: &str) -> Result<Key, String> {
        let s = s.trim();
        match kind {
            Kind::Ip => {
                let (addr, prefix) = match s.split_once('/') {
                    Some((a, p)) => (a, Some(p)),
                    None => (s, None),
                };
                let ip: IpAddr = addr
                    .parse()
                    .map_err(|_| format!("not an IP address or network: {s:?}"))?;
                let max = if ip.is_ipv4() { 32 } else { 128 };
                let prefix = match prefix {
                    None => max,
                    Some(p) => p
                        .parse::<u8>()
                        .ok()
                        .filter(|p| *p <= max)
                        .ok_or_else(|| format!("bad prefix length: {s:?}"))?,
                };
                // Host bits cleared: 10.1.2.3/8 is 10.0.0.0/8.
                Ok(match ip {
                    IpAddr::V4(a) => {
                        let mask = u32::MAX.checked_shl(32 - prefix as u32).unwrap_or(0);
                        Key::V4(u32::from(a) & mask, prefix)
                    }
                    IpAddr::V6(a) => {
                        let mask = u128::MAX.checked_shl(128 - prefix as u32).unwrap_or(0);
                        Key::V6(u128::from(a) & mask, prefix)
                    }
                })
            }
            Kind::Domain => {
                let d = s.trim_end_matches('.').to_lowercase();
                if d.is_empty() || d.contains(|c: char| c.is_whitespace() || c == '/') {
                    return Err(format!("not a domain name: {s:?}"));
                }
                Ok(Key::Text(d))
            }
            Kind::Url => {
                if s.is_empty() || s.contains(char::is_whitespace) {
                    return Err(format!("not a URL: {s:?}"));
                }
                Ok(Key::Text(s.to_string()))
            }
        }
    }

    /// Does this network contain `other`?
    fn covers(&self, other: &Key) -> bool {
        match (self, other) {
            (Key::V4(a, p), Key::V4(b, q)) => {
                q >= p && (b & u32::MAX.checked_shl(32 - *p as u32).unwrap_or(0)) == *a
            }
            (Key::V6(a, p), Key::V6(b, q)) => {
                q >= p && (b & u128::MAX.checked_shl(128 - *p as u32).unwrap_or(0)) == *a
            }
            _ => false,
        }
    }
}

/// What the CSV format keeps of the last event of an entry.
#[derive(Clone, Default, Debug)]
struct Meta {
    class: String,
    feed: String,
    last_seen: String,
}

pub struct Blocklist {
    path: PathBuf,
    format: Format,
    kind: Kind,
    fields: Vec<String>,
    entries: BTreeMap<Key, Meta>,
    max_entries: usize,
    dirty: bool,
    set: String,
    table: String,
    family: String,
    maxelem: u64,
}

pub fn build(o: &OutputOpts) -> anyhow::Result<Box<dyn Output>> {
    Ok(Box::new(Blocklist::new(o)?))
}

impl Blocklist {
    fn new(o: &OutputOpts) -> anyhow::Result<Blocklist> {
        let p: &Params = &o.params;
        let format = match params::string_or(p, "format", "plain")?.as_str() {
            "plain" | "txt" => Format::Plain,
            "csv" => Format::Csv,
            "nftables" | "nft" => Format::Nftables,
            "ipset" => Format::Ipset,
            f => bail!("parameter format: plain, csv, nftables or ipset, not {f:?}"),
        };
        let kind = match params::string_or(p, "kind", "ip")?.as_str() {
            "ip" | "cidr" => Kind::Ip,
            "domain" | "fqdn" => Kind::Domain,
            "url" => Kind::Url,
            k => bail!("parameter kind: ip, domain or url, not {k:?}"),
        };
        if kind != Kind::Ip && matches!(format, Format::Nftables | Format::Ipset) {
            bail!("the nftables and ipset formats hold IP addresses and networks only (kind ip)");
        }
        let fields = params::list(p, "fields")?.unwrap_or_else(|| {
            match kind {
                Kind::Ip => vec!["source.ip", "source.network"],
                Kind::Domain => vec!["source.fqdn"],
                Kind::Url => vec!["source.url"],
            }
            .into_iter()
            .map(String::from)
            .collect()
        });
        crate::names::check_fields("parameter fields", &fields)?;
        let path = match &o.target {
            Some(t) => t.clone(),
            None => params::required(p, "file")
                .context("blocklist: where to write it (--target FILE or -p file=FILE)")?,
        };
        let set = params::string_or(p, "set_name", "imq_blocklist")?;
        if format == Format::Ipset && set.len() > 24 {
            bail!("parameter set_name: at most 24 characters for ipset (names end in -v4-new)");
        }
        let mut b = Blocklist {
            path: PathBuf::from(path),
            format,
            kind,
            fields,
            entries: BTreeMap::new(),
            max_entries: params::integer(p, "max_entries", 10_000_000)?.max(1) as usize,
            dirty: false,
            set,
            table: params::string_or(p, "nft_table", "imq")?,
            family: params::string_or(p, "nft_family", "inet")?,
            maxelem: params::integer(p, "maxelem", 1 << 20)?.max(1) as u64,
        };
        match std::fs::read_to_string(&b.path) {
            Ok(text) => b.load(&text)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => b.dirty = true,
            Err(e) => return Err(e).with_context(|| format!("reading {}", b.path.display())),
        }
        Ok(b)
    }

    /// Read back a list this output wrote.
    fn load(&mut self, text: &str) -> anyhow::Result<()> {
        let mut add = |s: &str, meta: Meta| -> anyhow::Result<()> {
            let k = Key::parse(self.kind, s)
                .map_err(|e| anyhow::anyhow!("{}: {e}", self.path.display()))?;
            self.entries.insert(k, meta);
            Ok(())
        };
        match self.format {
            Format::Plain => {
                for l in text.lines().map(str::trim) {
                    if !l.is_empty() && !l.starts_with('#') {
                        add(l, Meta::default())?;
                    }
                }
            }
            Format::Csv => {
                let mut r = csv::Reader::from_reader(text.as_bytes());
                for rec in r.records() {
                    let rec = rec.with_context(|| format!("reading {}", self.path.display()))?;
                    let col = |i| rec.get(i).unwrap_or("").to_string();
                    add(
                        &col(0),
                        Meta {
                            class: col(1),
                            feed: col(2),
                            last_seen: col(3),
                        },
                    )?;
                }
            }
            Format::Nftables => {
                for part in text.split("elements = {").skip(1) {
                    let list = part.split('}').next().unwrap_or("");
                    for e in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
                        add(e, Meta::default())?;
                    }
                }
            }
            Format::Ipset => {
                for l in text.lines() {
                    let mut w = l.split_whitespace();
                    if w.next() == Some("add") {
                        if let (Some(_), Some(v)) = (w.next(), w.next()) {
                            add(v, Meta::default())?;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn render(&self, w: &mut dyn Write) -> std::io::Result<()> {
        match self.format {
            Format::Plain => {
                for k in self.entries.keys() {
                    writeln!(w, "{k}")?;
                }
            }
            Format::Csv => {
                let mut c = csv::Writer::from_writer(w);
                c.write_record(["indicator", "classification.type", "feed.name", "last_seen"])?;
                for (k, m) in &self.entries {
                    c.write_record([&k.to_string(), &m.class, &m.feed, &m.last_seen])?;
                }
                c.flush()?;
            }
            Format::Nftables => {
                // Declaring first makes the flush valid on a fresh ruleset; the
                // second block fills the emptied sets: `nft -f` applies the file
                // as one transaction.
                let (t, f, s) = (&self.table, &self.family, &self.set);
                let sets = [("v4", "ipv4_addr"), ("v6", "ipv6_addr")];
                writeln!(w, "# imq-output blocklist: load with nft -f")?;
                writeln!(w, "table {f} {t} {{")?;
                for (v, ty) in sets {
                    writeln!(w, "\tset {s}_{v} {{ type {ty}; flags interval; }}")?;
                }
                writeln!(w, "}}")?;
                for (v, _) in sets {
                    writeln!(w, "flush set {f} {t} {s}_{v}")?;
                }
                let kept = self.collapsed();
                writeln!(w, "table {f} {t} {{")?;
                for (v, ty) in sets {
                    let of: Vec<&Key> = kept
                        .iter()
                        .copied()
                        .filter(|k| matches!(k, Key::V4(..)) == (v == "v4"))
                        .collect();
                    write!(w, "\tset {s}_{v} {{\n\t\ttype {ty}; flags interval;\n")?;
                    if !of.is_empty() {
                        write!(w, "\t\telements = {{")?;
                        for (i, k) in of.iter().enumerate() {
                            let sep = if i == 0 { " " } else { ",\n\t\t\t" };
                            write!(w, "{sep}{k}")?;
                        }
                        writeln!(w, " }}")?;
                    }
                    writeln!(w, "\t}}")?;
                }
                writeln!(w, "}}")?;
            }
            Format::Ipset => {
                let s = &self.set;
                for (v, family) in [("v4", "inet"), ("v6", "inet6")] {
                    let opts = format!("hash:net family {family} maxelem {}", self.maxelem);
                    writeln!(w, "create {s}-{v} {opts} -exist")?;
                    writeln!(w, "create {s}-{v}-new {opts} -exist")?;
                    writeln!(w, "flush {s}-{v}-new")?;
                    for k in self.entries.keys() {
                        if matches!(k, Key::V4(..)) == (v == "v4") {
                            writeln!(w, "add {s}-{v}-new {k}")?;
                        }
                    }
                    writeln!(w, "swap {s}-{v}-new {s}-{v}")?;
                    writeln!(w, "destroy {s}-{v}-new")?;
                }
            }
        }
        Ok(())
    }

    /// The entries not inside another network of the list: an interval set
    /// refuses overlapping elements.
    fn collapsed(&self) -> Vec<&Key> {
        let mut out: Vec<&Key> = Vec::with_capacity(self.entries.len());
        // Sorted by address then prefix: a covering network comes before what it
        // covers, and what it covers follows it without a gap.
        for k in self.entries.keys() {
            if out.last().is_some_and(|last| last.covers(k)) {
                continue;
            }
            out.push(k);
        }
        out
    }
}

impl Output for Blocklist {
    fn write(&mut self, ev: &Message, _original: &[u8]) -> Result<(), Fail> {
        let mut keys = Vec::new();
        for f in &self.fields {
            if let Some(v) = ev.get(f) {
                let s = py_str(v);
                keys.push(
                    Key::parse(self.kind, &s).map_err(|e| Fail::Reject(format!("{f}: {e}")))?,
                );
            }
        }
        for k in keys {
            let meta = Meta {
                class: ev.get_str("classification.type").unwrap_or("").into(),
                feed: ev.get_str("feed.name").unwrap_or("").into(),
                last_seen: ev
                    .get_str("time.source")
                    .or_else(|| ev.get_str("time.observation"))
                    .unwrap_or("")
                    .into(),
            };
            if !self.entries.contains_key(&k) && self.entries.len() >= self.max_entries {
                return Err(Fail::Reject(format!(
                    "the blocklist is full ({} entries, parameter max_entries)",
                    self.max_entries
                )));
            }
            // Only the CSV format shows the metadata: other formats change only
            // with a new entry.
            match self.entries.insert(k, meta) {
                None => self.dirty = true,
                Some(_) if self.format == Format::Csv => self.dirty = true,
                Some(_) => {}
            }
        }
        Ok(())
    }

    fn commit(&mut self) -> anyhow::Result<Vec<(usize, String)>> {
        if self.dirty {
            atomic::replace(&self.path, |w| self.render(w))?;
            self.dirty = false;
        }
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_and_collapse() {
        let k = |s| Key::parse(Kind::Ip, s).unwrap();
        assert_eq!(k("10.1.2.3/8").to_string(), "10.0.0.0/8");
        assert_eq!(k("2001:db8::1").to_string(), "2001:db8::1");
        assert_eq!(k("192.0.2.1/32").to_string(), "192.0.2.1");
        assert!(Key::parse(Kind::Ip, "10.0.0.0/33").is_err());
        assert!(Key::parse(Kind::Ip, "example.com").is_err());
        let mut v = [
            k("2001:db8::/32"),
            k("10.0.0.5"),
            k("9.9.9.9"),
            k("10.0.0.0/8"),
        ];
        v.sort();
        let s: Vec<String> = v.iter().map(|k| k.to_string()).collect();
        assert_eq!(s, ["9.9.9.9", "10.0.0.0/8", "10.0.0.5", "2001:db8::/32"]);
        assert!(k("10.0.0.0/8").covers(&k("10.0.0.5")));
        assert!(!k("10.0.0.0/8").covers(&k("11.0.0.5")));
        assert!(k("0.0.0.0/0").covers(&k("11.0.0.5")));
        assert_eq!(
            Key::parse(Kind::Domain, "Example.COM.")
                .unwrap()
                .to_string(),
            "example.com"
        );
    }
}
