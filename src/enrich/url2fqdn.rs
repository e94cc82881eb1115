//! url2fqdn: `source.fqdn`/`destination.fqdn` (or `.ip` when the host is an IP
//! address) from the URL (IntelMQ `intelmq.bots.experts.url2fqdn.expert`, deprecated
//! there in favour of `url`).

use super::{Expert, Params, Verdict};
use crate::message::Message;
use crate::params;
use crate::pipeline::Fail;
use crate::pyurl;
use serde_json::Value;

pub struct Url2Fqdn {
    overwrite: bool,
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Expert>> {
    Ok(Box::new(Url2Fqdn {
        overwrite: params::boolean(p, "overwrite", false)?,
    }))
}

const SIDES: [(&str, &str, &str); 2] = [
    ("source.url", "source.fqdn", "source.ip"),
    ("destination.url", "destination.fqdn", "destination.ip"),
];

impl Expert for Url2Fqdn {
    fn process(&mut self, ev: &mut Message) -> Result<Verdict, Fail> {
        for (url_key, fqdn_key, ip_key) in SIDES {
            // Cheap checks first: most events have no URL or keep their FQDN, and
            // then nothing is parsed or allocated.
            let Some(url) = ev.get_str(url_key) else {
                continue;
            };
            if !self.overwrite && ev.contains(fqdn_key) {
                continue;
            }
            let host = hostname(url).map_err(|e| Fail::Reject(format!("{url_key}: {e}")))?;
            let ow = Some(self.overwrite);
            if !params::add_soft(ev, fqdn_key, host, ow)? {
                // Not an FQDN (an address, mostly): the host once more, as an IP.
                // (Split again rather than copied for every event beforehand.)
                let url = ev.get_str(url_key).expect("checked above");
                let host = hostname(url).expect("split above");
                params::add_soft(ev, ip_key, host, ow)?;
            }
        }
        Ok(Verdict::Keep)
    }
}

/// Python's `urlparse(url).hostname`, `None` as null.
fn hostname(url: &str) -> Result<Value, &'static str> {
    let host = pyurl::urlsplit(&pyurl::clean(url))?.hostname();
    Ok(host.map_or(Value::Null, Value::String))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(overwrite: bool, fields: &[(&str, &str)]) -> Message {
        let mut ev = Message::event();
        for (k, v) in fields {
            ev.add(k, *v).unwrap();
        }
        Url2Fqdn { overwrite }.process(&mut ev).unwrap();
        ev
    }

    #[test]
    fn fqdn_or_ip() {
        let ev = run(false, &[("source.url", "http://Example.com/x")]);
        assert_eq!(ev.get_str("source.fqdn"), Some("example.com"));
        let ev = run(false, &[("destination.url", "http://[2001:db8::123]/d")]);
        assert_eq!(ev.get_str("destination.ip"), Some("2001:db8::123"));
        assert!(!ev.contains("destination.fqdn"));
    }

    #[test]
    fn keeps_existing_unless_overwrite() {
        let f = [
            ("source.url", "http://example.com/"),
            ("source.fqdn", "example.net"),
        ];
        assert_eq!(run(false, &f).get_str("source.fqdn"), Some("example.net"));
        assert_eq!(run(true, &f).get_str("source.fqdn"), Some("example.com"));
    }
}
