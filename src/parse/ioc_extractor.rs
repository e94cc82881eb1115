//! URLs named in free text (tweets, mails, pastes), defanged or not: one event
//! per URL found (IntelMQ `intelmq.bots.parsers.ioc_extractor.parser`).
//!
//! Parameters (IntelMQ's names): `substitutions` (`"a;b;c;d"`: replace a by b,
//! c by d before searching; default `.net;[.]net`), `domain_whitelist`
//! (comma-separated regexes, default `t.co`), `default_scheme` (default
//! `https`, as url-normalize), `classification_type` (`blacklist`). Each word
//! of the text, lowercased, that holds a domain with a known top-level domain
//! (Public Suffix List, `data/tlds.txt`) becomes a normalized URL, as
//! url-normalize writes it (scheme added, host lowercased, empty path `/`,
//! default port dropped). `raw` of each event is the whole text.

use super::{feedio, Params, Parser, Records};
use crate::pipeline::Fail;
use regex::Regex;
use serde_json::Value;
use std::collections::HashSet;
use std::sync::OnceLock;

pub struct IocExtractor {
    substitutions: Vec<(String, String)>,
    whitelist: Vec<Regex>,
    default_scheme: String,
    classification_type: String,
    domain: Regex,
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Parser>> {
    Ok(Box::new(IocExtractor::new(p)?))
}

impl IocExtractor {
    pub fn new(p: &Params) -> anyhow::Result<IocExtractor> {
        let s = |k: &str, d: &str| p.get(k).and_then(Value::as_str).unwrap_or(d).to_string();
        let subs = s("substitutions", ".net;[.]net");
        let mut substitutions = Vec::new();
        if !subs.is_empty() {
            let parts: Vec<&str> = subs.split(';').collect();
            if !parts.len().is_multiple_of(2) {
                anyhow::bail!(
                    "substitutions: expected an even number of ; separated strings, got {subs:?}"
                );
            }
            for pair in parts.chunks(2) {
                substitutions.push((pair[0].to_string(), pair[1].to_string()));
            }
        }
        let wl = s("domain_whitelist", "t.co");
        let whitelist = if wl.is_empty() {
            Vec::new()
        } else {
            wl.split(',').map(Regex::new).collect::<Result<_, _>>()?
        };
        let ct = s("classification_type", "blacklist");
        let valid = crate::harmonization::harmonization()
            .taxonomy_of(&ct)
            .is_some();
        Ok(IocExtractor {
            substitutions,
            whitelist,
            default_scheme: s("default_scheme", "https"),
            classification_type: if valid { ct } else { "unknown".into() },
            domain: Regex::new(r"(//|^)([a-z0-9.-]*[a-z]\.[a-z][a-z-]*?(?:[/:].*|$))")?,
        })
    }
}

fn tlds() -> &'static HashSet<&'static str> {
    static T: OnceLock<HashSet<&'static str>> = OnceLock::new();
    T.get_or_init(|| {
        include_str!("../../data/tlds.txt")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .collect()
    })
}

/// Characters url-normalize leaves as they are in a path.
fn path_safe(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:@/%".contains(c)
}

/// url-normalize (1.4) for what the extractor finds: a scheme-less or
/// scheme-ful URL of lowercase, whitespace-free text. `None` if the host is
/// not a domain name.
fn normalize(dom: &str, default_scheme: &str) -> Option<String> {
    let url = if dom.get(..7).unwrap_or(dom).contains(':') {
        dom.to_string()
    } else {
        format!("{default_scheme}://{}", dom.trim_start_matches('/'))
    };
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (netloc, tail) = rest.split_at(end);
    let (host, port) = match netloc.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => (h, p),
        _ => (netloc, ""),
    };
    let host = host.trim_end_matches('.').to_lowercase();
    let host = crate::harmonization::idna_encode(&host)?;
    let port = match (scheme, port) {
        ("http", "80") | ("https", "443") | (_, "") => String::new(),
        (_, p) => format!(":{p}"),
    };
    let qpos = tail.find(['?', '#']).unwrap_or(tail.len());
    let (path, query) = tail.split_at(qpos);
    let mut p = String::new();
    for c in path.chars() {
        if path_safe(c) {
            p.push(c);
        } else {
            let mut b = [0u8; 4];
            for byte in c.encode_utf8(&mut b).bytes() {
                p.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    if p.is_empty() {
        p.push('/');
    }
    Some(format!("{scheme}://{host}{port}{p}{query}"))
}

/// `get_tld(url, fail_silently=True)`: does the URL's host end in a known TLD?
fn has_known_tld(url: &str) -> bool {
    let host = crate::pyurl::urlsplit(url)
        .ok()
        .and_then(|u| u.hostname())
        .unwrap_or_default();
    if host.parse::<std::net::IpAddr>().is_ok() || !host.contains('.') {
        return false;
    }
    host.rsplit('.').next().is_some_and(|t| tlds().contains(t))
}

impl IocExtractor {
    fn urls(&self, text: &str) -> Vec<String> {
        let mut text = text.to_string();
        for (a, b) in &self.substitutions {
            text = text.replace(a.as_str(), b);
        }
        let mut out = Vec::new();
        for part in text.split_whitespace() {
            let part = part.to_lowercase();
            let Some(dom) = self.domain.captures(&part).and_then(|c| c.get(2)) else {
                continue;
            };
            let dom = dom.as_str();
            if self.whitelist.iter().any(|w| w.is_match(dom)) {
                continue;
            }
            if let Some(url) = normalize(dom, &self.default_scheme) {
                if has_known_tld(&url) {
                    out.push(url);
                }
            }
        }
        out
    }
}

impl Parser for IocExtractor {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let text = feedio::decode(data);
        for url in self.urls(&text) {
            let result = (|| {
                let mut ev = out.new_event();
                ev.add("raw", text.as_ref())?;
                ev.add("source.url", url.as_str())?;
                ev.add("classification.type", self.classification_type.as_str())?;
                Ok(ev)
            })();
            out.record_one(text.as_bytes(), result)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// IntelMQ's own test (tests/bots/parsers/ioc_extractor).
    #[test]
    fn intelmq_tweet() {
        let mut p = Params::new();
        p.insert("substitutions".into(), " .net;.net;[.];.;,;.".into());
        p.insert("default_scheme".into(), "http".into());
        let x = IocExtractor::new(&p).unwrap();
        let tweet = "Here is my link. I have run Sales.exe with VM.\n\nhxxp://testweb[.]com/Sales-Invoice/\ncc.pro/images.html\nThere is another threat, and that is at \nhttp]]://karlos .net/\n\ntak a look at hxxp://block[.]de[.]com/malware.exe\nAnother threat is placed at  ghzz,com\n";
        assert_eq!(
            x.urls(tweet),
            [
                "http://testweb.com/sales-invoice/",
                "http://cc.pro/images.html",
                "http://karlos.net/",
                "http://block.de.com/malware.exe",
                "http://ghzz.com/"
            ]
        );
    }
}
