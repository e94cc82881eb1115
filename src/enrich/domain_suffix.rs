//! domain_suffix: `source.domain_suffix`/`destination.domain_suffix` from the FQDN
//! or reverse DNS name, with a public suffix list read from a file (IntelMQ
//! `intelmq.bots.experts.domain_suffix.expert`).
//!
//! The lookup follows IntelMQ's built-in implementation (used when the Python
//! package `publicsuffixlist` is not installed, as in the reference install): only
//! the ICANN section counts, rules form a tree of labels walked from the right, a
//! `*` child matches any label unless a `!label` exception says otherwise, and the
//! labels walked so far are the suffix.

use super::{Expert, Params, Verdict};
use crate::message::Message;
use crate::params;
use crate::pipeline::Fail;
use anyhow::{bail, Context};
use serde_json::Value;
use std::collections::HashMap;

/// Debian's copy (package `publicsuffix`).
pub const DEFAULT_LIST: &str = "/usr/share/publicsuffix/public_suffix_list.dat";

/// The ICANN section of the list, compiled in: used with `suffix_file: builtin`, or
/// when no file is given and Debian's is not installed.
const BUILTIN_LIST: &str = include_str!("public_suffix_list.dat");

#[derive(Default, Debug)]
struct Node {
    children: HashMap<String, Node>,
}

pub struct Psl {
    root: Node,
}

impl Psl {
    pub fn parse(text: &str) -> Psl {
        let mut root = Node::default();
        let mut icann = false;
        for line in text.lines() {
            let line = line.trim();
            if line == "// ===BEGIN ICANN DOMAINS===" {
                icann = true;
            }
            if line == "// ===END ICANN DOMAINS===" {
                icann = false;
            }
            if line.is_empty() || line.starts_with("//") || !icann {
                continue;
            }
            let mut node = &mut root;
            for label in line.rsplit('.') {
                node = node.children.entry(label.to_string()).or_default();
            }
        }
        Psl { root }
    }

    /// The public suffix of `domain` (punycode in, punycode out), or `None`.
    pub fn suffix(&self, domain: &str) -> Option<String> {
        if domain.is_empty() {
            return None;
        }
        // Rules are in Unicode; IntelMQ's values are punycode.
        let (unicode, _) = idna::domain_to_unicode(domain);
        let mut node = &self.root;
        let mut path: Vec<&str> = Vec::new();
        for label in unicode.rsplit('.') {
            if let Some(n) = node.children.get(label) {
                node = n;
                path.push(label);
            } else if let Some(n) = node.children.get("*") {
                if node.children.contains_key(&format!("!{label}")) {
                    break;
                }
                path.push(label);
                node = n;
            } else {
                break;
            }
        }
        if path.is_empty() {
            return None;
        }
        path.reverse();
        let joined = path.join(".");
        Some(idna::domain_to_ascii(&joined).unwrap_or(joined))
    }
}

pub struct DomainSuffix {
    keys: [(String, &'static str); 2],
    psl: Psl,
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Expert>> {
    let field = params::string_or(p, "field", "")?;
    if field != "fqdn" && field != "reverse_dns" {
        bail!("parameter field: got {field:?}, expected one of 'fqdn', 'reverse_dns'");
    }
    let given = params::string(p, "suffix_file")?;
    let file = given.clone().unwrap_or_else(|| DEFAULT_LIST.to_string());
    let builtin = given.as_deref() == Some("builtin")
        || (given.is_none() && !std::path::Path::new(DEFAULT_LIST).exists());
    let text = if builtin {
        BUILTIN_LIST.to_string()
    } else {
        std::fs::read_to_string(&file)
            .with_context(|| format!("reading the public suffix list {file}"))?
    };
    let psl = Psl::parse(&text);
    if psl.root.children.is_empty() {
        bail!("{file}: no rules in the ICANN section (not a public suffix list?)");
    }
    Ok(Box::new(DomainSuffix {
        keys: [
            (format!("source.{field}"), "source.domain_suffix"),
            (format!("destination.{field}"), "destination.domain_suffix"),
        ],
        psl,
    }))
}

impl Expert for DomainSuffix {
    fn process(&mut self, ev: &mut Message) -> Result<Verdict, Fail> {
        for (from, to) in &self.keys {
            let Some(name) = ev.get_str(from) else {
                continue;
            };
            let suffix = self.psl.suffix(name).map_or(Value::Null, Value::String);
            ev.set(to, suffix)?;
        }
        Ok(Verdict::Keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &str = "// ===BEGIN ICANN DOMAINS===\nnet\ncom\norg\nexample.com\n*.example.net\n!www.example.net\n*.mm\ncom.cn\n中国\n// ===END ICANN DOMAINS===\n// ===BEGIN PRIVATE DOMAINS===\nprivate.org\n";

    #[test]
    fn builtin_list() {
        let psl = Psl::parse(BUILTIN_LIST);
        assert_eq!(psl.suffix("www.example.co.uk").as_deref(), Some("co.uk"));
        assert_eq!(psl.suffix("a.b.example.com").as_deref(), Some("com"));
        assert_eq!(
            psl.suffix("xn--85x722f.xn--fiqs8s").as_deref(),
            Some("xn--fiqs8s")
        );
    }

    #[test]
    fn intelmq_test_facts() {
        let psl = Psl::parse(LIST);
        let s = |d: &str| psl.suffix(d);
        assert_eq!(s("sub.example.com").as_deref(), Some("example.com"));
        assert_eq!(s("sub.example.net").as_deref(), Some("sub.example.net"));
        assert_eq!(s("www.example.net").as_deref(), Some("example.net"));
        assert_eq!(s("www.example.org").as_deref(), Some("org"));
        assert_eq!(s("xn--85x722f.xn--fiqs8s").as_deref(), Some("xn--fiqs8s"));
        assert_eq!(s("xn--85x722f.com.cn").as_deref(), Some("com.cn"));
        assert_eq!(s("example.example.mm").as_deref(), Some("example.mm"));
        assert_eq!(s("a.private.org").as_deref(), Some("org"));
        assert_eq!(s("example.invalid"), None);
    }
}
