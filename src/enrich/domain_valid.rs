//! domain_valid: drop events whose domain field is missing, not a syntactically
//! valid domain name or not under a known top-level domain (IntelMQ
//! `intelmq.bots.experts.domain_valid.expert`, which uses `validators.domain` and
//! IANA's `tlds-alpha-by-domain.txt`).

use super::{Expert, Params, Verdict};
use crate::message::Message;
use crate::params;
use crate::pipeline::Fail;
use anyhow::Context;
use regex::Regex;
use std::collections::HashSet;

pub const DEFAULT_TLDS: &str = "/var/lib/intelmq/bots/domain_valid/tlds-alpha-by-domain.txt";

pub struct DomainValid {
    field: String,
    tlds: HashSet<String>,
    syntax: Regex,
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Expert>> {
    let file = params::string_or(p, "tlds_domains_list", DEFAULT_TLDS)?;
    let text = std::fs::read_to_string(&file)
        .with_context(|| format!("TLD domain list file not found at {file:?}"))?;
    let tlds = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.trim().to_lowercase())
        .collect();
    Ok(Box::new(DomainValid {
        field: params::string_or(p, "domain_field", "source.fqdn")?,
        tlds,
        // validators.domain(): labels of letters, digits, '-' and '_' that start
        // and end with a letter or digit, a TLD that ends with a letter.
        syntax: Regex::new(
            r"(?i)^(?:[a-z0-9](?:[a-z0-9\-_]{0,61}[a-z0-9])?\.)+[a-z0-9][a-z0-9\-_]{0,61}[a-z]$",
        )
        .expect("valid regex"),
    }))
}

impl DomainValid {
    fn valid(&self, name: &str) -> bool {
        let ascii;
        let name_idna = if name.is_ascii() {
            name
        } else {
            match idna::domain_to_ascii(name) {
                Ok(a) => {
                    ascii = a;
                    &ascii
                }
                Err(_) => return false,
            }
        };
        self.syntax.is_match(name_idna)
            && !name.contains('_')
            && name
                .rsplit('.')
                .next()
                .is_some_and(|t| self.tlds.contains(t))
    }
}

impl Expert for DomainValid {
    fn process(&mut self, ev: &mut Message) -> Result<Verdict, Fail> {
        let ok = match ev.get(&self.field) {
            Some(serde_json::Value::String(s)) => self.valid(s),
            _ => false,
        };
        Ok(if ok { Verdict::Keep } else { Verdict::Drop })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("tlds.txt");
        std::fs::write(&f, "# Version 2020\nDIGITAL\nINFO\nCOM\n").unwrap();
        let mut p = Params::new();
        p.insert("tlds_domains_list".into(), f.to_str().unwrap().into());
        let mut e = build(&p).unwrap();
        let mut check = |d: &str| {
            let mut ev = Message::event();
            ev.add("source.fqdn", d).unwrap();
            e.process(&mut ev).unwrap() == Verdict::Keep
        };
        assert!(check("soltane-tel-injas-heh.digital"));
        assert!(check("apk.info"));
        assert!(!check("example.invalidtld"));
        assert!(!check("under_score.com"));
        assert!(!check("-bad.com"));
        let mut ev = Message::event();
        assert_eq!(e.process(&mut ev).unwrap(), Verdict::Drop);
    }
}
