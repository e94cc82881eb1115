//! abusix: `source.abuse_contact`/`destination.abuse_contact` from the Abusix
//! contact database, a DNS TXT lookup of `<reversed ip>.abuse-contacts.abusix.org`
//! (IntelMQ `intelmq.bots.experts.abusix.expert`, without `querycontacts`).
//!
//! An answer that does not look like an e-mail address, NXDOMAIN or an empty
//! answer leave the field unset; transport failures send the event to the dump.

use super::{Expert, Params, Verdict};
use crate::message::Message;
use crate::net::{self, cache::Cache, dns};
use crate::params;
use crate::pipeline::Fail;
use std::net::IpAddr;

pub struct Abusix {
    overwrite: bool,
    resolver: dns::Resolver,
    cache: Cache,
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Expert>> {
    Ok(Box::new(Abusix {
        overwrite: params::boolean(p, "overwrite", false)?,
        resolver: net::resolver(p)?,
        cache: Cache::from_params(p, 0, 3600.0)?,
    }))
}

/// The query name: IPv4 octets or the 32 IPv6 nibbles, reversed.
fn query_name(ip: IpAddr) -> String {
    let rev = dns::reverse_name(ip);
    let base = rev
        .trim_end_matches(".in-addr.arpa")
        .trim_end_matches(".ip6.arpa");
    format!("{base}.abuse-contacts.abusix.org")
}

/// IntelMQ's check `[^@]+@[^@]+\.[^@]+` (matched at the start) on the quoted text.
fn looks_like_mail(s: &str) -> bool {
    let Some((user, rest)) = s.split_once('@') else {
        return false;
    };
    if user.is_empty() {
        return false;
    }
    let domain: &str = rest.split('@').next().unwrap_or("");
    match domain.find('.') {
        Some(dot) => dot > 0 && dot + 1 < domain.len(),
        None => false,
    }
}

impl Abusix {
    fn lookup(&mut self, ip: IpAddr) -> Result<Option<String>, Fail> {
        let key = ip.to_string();
        if let Some(v) = self.cache.get(&key).map_err(Fail::Reject)? {
            return Ok((!v.is_empty()).then_some(v));
        }
        let name = query_name(ip);
        let found = match self.resolver.query(&name, dns::TXT) {
            Ok(recs) => recs.into_iter().find_map(|r| match r.data {
                dns::Rdata::Txt(strings) => Some(
                    // dnspython's text form: each string quoted, space separated.
                    strings
                        .iter()
                        .map(|s| format!("\"{}\"", String::from_utf8_lossy(s)))
                        .collect::<Vec<_>>()
                        .join(" "),
                ),
                _ => None,
            }),
            Err(dns::DnsError::NxDomain) => None,
            Err(e) => {
                return Err(Fail::Reject(format!(
                    "abusix: TXT lookup of {name} via {}: {e}",
                    self.resolver.server
                )))
            }
        };
        let mail = found
            .filter(|t| looks_like_mail(t))
            .map(|t| t.replace('"', ""));
        self.cache
            .set(&key, mail.as_deref().unwrap_or(""), None)
            .map_err(Fail::Reject)?;
        Ok(mail)
    }
}

impl Expert for Abusix {
    fn process(&mut self, ev: &mut Message) -> Result<Verdict, Fail> {
        for (ipk, ck) in [
            ("source.ip", "source.abuse_contact"),
            ("destination.ip", "destination.abuse_contact"),
        ] {
            if ev.contains(ck) && !self.overwrite {
                continue;
            }
            let Some(ip) = ev.get_str(ipk).and_then(|s| s.parse::<IpAddr>().ok()) else {
                continue;
            };
            if let Some(mail) = self.lookup(ip)? {
                ev.set(ck, mail)?;
            }
        }
        Ok(Verdict::Keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_mail_check() {
        assert_eq!(
            query_name("192.0.43.7".parse().unwrap()),
            "7.43.0.192.abuse-contacts.abusix.org"
        );
        assert!(looks_like_mail("\"ops@icann.org\""));
        assert!(!looks_like_mail("\"no contact\""));
        assert!(!looks_like_mail("a@b"));
    }
}
