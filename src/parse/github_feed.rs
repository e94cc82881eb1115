//! IOC lists published on GitHub, fetched by the GitHub API collector
//! (IntelMQ `intelmq.bots.parsers.github_feed.parser`).
//!
//! The feed is recognised by its URL; the only one IntelMQ knows is
//! StrangerealIntel's DailyIOC: a JSON list of `{"Indicator", "Description"}`
//! written with single quotes. An indicator is classified as a hash (SHA-1,
//! SHA-256, MD5), a domain, an IP address or a URL, in that order, with the rules
//! of the Python `validators` package IntelMQ uses.

use super::{Params, Parser, Records};
use crate::message::Message;
use crate::pipeline::Fail;
use crate::pyfmt::py_repr;
use serde_json::Value;

pub struct GithubFeed;

pub fn build(_: &Params) -> anyhow::Result<Box<dyn Parser>> {
    Ok(Box::new(GithubFeed))
}

const STRANGEREAL: &str = "StrangerealIntel/DailyIOC";

impl Parser for GithubFeed {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        // The files are Python reprs more than JSON: IntelMQ swaps all quotes.
        let text = super::feedio::decode(data).replace('\'', "\"");
        // IntelMQ logs undecodable content and drops the report; the dump keeps it.
        let content: Value = serde_json::from_str(&text)
            .map_err(|e| Fail::Reject(format!("Invalid report['raw']: {e}")))?;
        let mut base = out.new_event();
        if let Some(Value::Object(meta)) = out.report().get("extra.file_metadata") {
            for (k, v) in meta.clone() {
                base.add(&format!("extra.file_metadata.{k}"), v)?;
            }
        }
        let url = out.report().get_str("feed.url").unwrap_or("");
        if !url.contains(STRANGEREAL) {
            return Err(Fail::Reject(format!("Unknown feed '{url}'.")));
        }
        let Value::Array(iocs) = content else {
            return Err(Fail::Reject("feed is not a JSON list".into()));
        };
        for ioc in &iocs {
            let raw = py_repr(ioc);
            match strangereal_event(base.clone(), ioc, &raw)? {
                Some(ev) => out.record_one(raw.as_bytes(), Ok(ev))?,
                // IntelMQ only warns about these; we keep them in the dump.
                None => out.record_one(
                    raw.as_bytes(),
                    Err(Fail::Reject(format!(
                        "IOC '{}' not in expected format.",
                        ioc.get("Indicator")
                            .map(crate::pyfmt::py_str)
                            .unwrap_or_default()
                            .replace('.', "[.]")
                    ))),
                )?,
            }
        }
        Ok(())
    }
}

/// The event of one IOC, `None` when the indicator is of no known kind. A
/// malformed IOC fails the whole report, as in IntelMQ.
fn strangereal_event(mut ev: Message, ioc: &Value, raw: &str) -> Result<Option<Message>, Fail> {
    ev.add("raw", raw)?;
    ev.add("classification.type", "malware")?;
    ev.add("classification.taxonomy", "other")?;
    let desc = ioc
        .get("Description")
        .ok_or_else(|| Fail::Reject(format!("IOC without 'Description': {raw}")))?;
    ev.add("event_description.text", desc.clone())?;
    let Some(Value::String(ind)) = ioc.get("Indicator") else {
        return Err(Fail::Reject(format!(
            "IOC without string 'Indicator': {raw}"
        )));
    };
    for (kind, len) in [("sha1", 40), ("sha256", 64), ("md5", 32)] {
        if ind.len() == len && ind.bytes().all(|b| b.is_ascii_hexdigit()) {
            ev.add(&format!("malware.hash.{kind}"), ind.as_str())?;
            return Ok(Some(ev));
        }
    }
    if is_domain(ind) {
        ev.add("source.fqdn", ind.as_str())?;
    } else if ind.parse::<std::net::IpAddr>().is_ok() {
        ev.add("source.ip", ind.as_str())?;
    } else if is_url(ind) {
        ev.add("source.url", ind.as_str())?;
    } else {
        return Ok(None);
    }
    Ok(Some(ev))
}

/// `validators.domain`: dot-separated labels of letters, digits, `-` and `_`
/// (not at a label's ends), 63 characters at most, the last one ending in a letter.
fn is_domain(s: &str) -> bool {
    let labels: Vec<&str> = s.split('.').collect();
    if labels.len() < 2 {
        return false;
    }
    let inner = |c: u8| c.is_ascii_alphanumeric() || c == b'-' || c == b'_';
    labels.iter().enumerate().all(|(i, l)| {
        let b = l.as_bytes();
        let last = i == labels.len() - 1;
        !b.is_empty()
            && b.len() <= 63
            && b[0].is_ascii_alphanumeric()
            && b.iter().all(|&c| inner(c))
            && if last {
                b.len() >= 2 && b[b.len() - 1].is_ascii_alphabetic()
            } else {
                b[b.len() - 1].is_ascii_alphanumeric()
            }
    })
}

/// `validators.url`, in its essentials: a scheme, `://`, a host that is a
/// domain, an IP address or `localhost`, an optional port, no whitespace.
fn is_url(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once("://") else {
        return false;
    };
    let scheme_ok = scheme
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
    if !scheme_ok || s.chars().any(char::is_whitespace) {
        return false;
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = if let Some(h) = hostport.strip_prefix('[') {
        match h.split_once(']') {
            Some((h6, p)) => {
                if h6.parse::<std::net::Ipv6Addr>().is_err() {
                    return false;
                }
                (None, p.strip_prefix(':'))
            }
            None => return false,
        }
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (Some(h), Some(p)),
            None => (Some(hostport), None),
        }
    };
    if let Some(p) = port {
        if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
    }
    match host {
        None => true,
        Some(h) => {
            h.eq_ignore_ascii_case("localhost")
                || h.parse::<std::net::Ipv4Addr>().is_ok()
                || is_domain(h)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indicator_kinds() {
        assert!(is_domain("hack.mds.dom"));
        assert!(!is_domain("10.0.0.1"));
        assert!(!is_domain("localhost"));
        assert!(!is_domain("-a.example.com"));
        assert!(is_url("https://10.2.2.1/malicious.docm"));
        assert!(is_url("http://example.com:8080/x?y=1"));
        assert!(!is_url("example.com/x"));
        assert!(!is_url("http://exa mple.com/"));
    }
}
