//! `imq-enrich`: experts that add or rewrite fields of events.
//!
//! An expert is one file in this folder implementing [`Expert`], plus one entry in
//! [`REGISTRY`]. Several experts run in one process as a [`Chain`], which is the
//! same as piping one `imq-enrich` into the next.

pub mod abusix;
pub mod cymru_whois;
pub mod do_portal;
pub mod generic_db_lookup;
pub mod gethostbyname;
pub mod http_content;
pub mod http_status;
pub mod national_cert_contact_certat;
pub mod net;
pub mod rdap;
pub mod recordedfuture_iprisk;
pub mod reverse_dns;
pub mod ripe;
pub mod taxonomy;
pub mod trusted_introducer_lookup;
pub mod tuency;
pub mod uwhoisd;

use crate::message::Message;
use crate::stream::{Emit, Fail, Stage};
use serde_json::{Map, Value};

/// Parameters, with IntelMQ's names (runtime.yaml `parameters`); command-line
/// options `--some-name VALUE` arrive as `some_name`.
pub type Params = Map<String, Value>;

/// What an expert decided about an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Pass it on (possibly modified).
    Keep,
    /// Drop it on purpose (counted as filtered).
    Drop,
    /// Send it to a named path.
    Path(String),
}

/// An expert.
pub trait Expert {
    fn process(&mut self, ev: &mut Message) -> Result<Verdict, Fail>;
}

/// A registry entry.
pub struct Entry {
    pub name: &'static str,
    pub intelmq: &'static str,
    pub description: &'static str,
    pub build: fn(&Params) -> anyhow::Result<Box<dyn Expert>>,
}

/// Every expert. Keep sorted by name.
pub const REGISTRY: &[Entry] = &[
    Entry {
        name: "abusix",
        intelmq: "intelmq.bots.experts.abusix.expert",
        description: "abuse contact of the IP address from Abusix (DNS TXT)",
        build: abusix::build,
    },
    Entry {
        name: "cymru_whois",
        intelmq: "intelmq.bots.experts.cymru_whois.expert",
        description: "ASN, network, AS name, country of the IP from Team Cymru (DNS TXT)",
        build: cymru_whois::build,
    },
    Entry {
        name: "do_portal",
        intelmq: "intelmq.bots.experts.do_portal.expert",
        description: "abuse contact of source.ip from a do-portal instance",
        build: do_portal::build,
    },
    Entry {
        name: "generic_db_lookup",
        intelmq: "intelmq.bots.experts.generic_db_lookup.expert",
        description: "copy columns of the matching PostgreSQL row into the event",
        build: generic_db_lookup::build,
    },
    Entry {
        name: "gethostbyname",
        intelmq: "intelmq.bots.experts.gethostbyname.expert",
        description: "resolve the FQDN (or URL host) to an IP address (DNS A)",
        build: gethostbyname::build,
    },
    Entry {
        name: "http_content",
        intelmq: "intelmq.bots.experts.http.expert_content",
        description: "status online/offline: does the URL's page contain a text",
        build: http_content::build,
    },
    Entry {
        name: "http_status",
        intelmq: "intelmq.bots.experts.http.expert_status",
        description: "status online/offline from the HTTP status of the URL",
        build: http_status::build,
    },
    Entry {
        name: "national_cert_contact_certat",
        intelmq: "intelmq.bots.experts.national_cert_contact_certat.expert",
        description: "country and national CERT contact from CERT.at",
        build: national_cert_contact_certat::build,
    },
    Entry {
        name: "rdap",
        intelmq: "intelmq.bots.experts.rdap.expert",
        description: "abuse contact of the domain from RDAP",
        build: rdap::build,
    },
    Entry {
        name: "recordedfuture_iprisk",
        intelmq: "intelmq.bots.experts.recordedfuture_iprisk.expert",
        description: "Recorded Future risk score of the IP from a local risk list",
        build: recordedfuture_iprisk::build,
    },
    Entry {
        name: "reverse_dns",
        intelmq: "intelmq.bots.experts.reverse_dns.expert",
        description: "reverse DNS name of the IP address (DNS PTR)",
        build: reverse_dns::build,
    },
    Entry {
        name: "ripe",
        intelmq: "intelmq.bots.experts.ripe.expert",
        description: "abuse contacts (and geolocation) from the RIPE DB and RIPEstat",
        build: ripe::build,
    },
    Entry {
        name: "taxonomy",
        intelmq: "intelmq.bots.experts.taxonomy.expert",
        description: "set classification.taxonomy from classification.type",
        build: taxonomy::build,
    },
    Entry {
        name: "trusted_introducer_lookup",
        intelmq: "intelmq.bots.experts.trusted_introducer_lookup.expert",
        description: "abuse contact from the Trusted Introducer directory",
        build: trusted_introducer_lookup::build,
    },
    Entry {
        name: "tuency",
        intelmq: "intelmq.bots.experts.tuency.expert",
        description: "contacts and notification settings from tuency",
        build: tuency::build,
    },
    Entry {
        name: "uwhoisd",
        intelmq: "intelmq.bots.experts.uwhoisd.expert",
        description: "whois text of domain, IP and ASN from a uWhoisd server",
        build: uwhoisd::build,
    },
];

pub fn find(name: &str) -> Option<&'static Entry> {
    let norm = name.replace('-', "_");
    REGISTRY
        .iter()
        .find(|e| e.name == norm || e.intelmq == name)
}

/// Experts applied one after the other.
pub struct Chain {
    pub experts: Vec<Box<dyn Expert>>,
}

impl Stage for Chain {
    fn process(&mut self, mut msg: Message, out: &mut Emit) -> Result<(), Fail> {
        for e in &mut self.experts {
            match e.process(&mut msg)? {
                Verdict::Keep => {}
                Verdict::Drop => {
                    out.filtered();
                    return Ok(());
                }
                Verdict::Path(p) => {
                    out.send_to(&p, &msg)?;
                    return Ok(());
                }
            }
        }
        out.send(&msg)?;
        Ok(())
    }
}

/// Split `EXPERT [--opt VALUE | --flag]... EXPERT ...` into experts with params.
pub fn parse_chain(args: &[String]) -> anyhow::Result<Vec<(&'static Entry, Params)>> {
    let mut out: Vec<(&'static Entry, Params)> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if let Some(opt) = a.strip_prefix("--") {
            let Some(last) = out.last_mut() else {
                anyhow::bail!("option {a} before any expert name");
            };
            let (key, val) = match opt.split_once('=') {
                Some((k, v)) => (k.to_string(), Some(v.to_string())),
                None => (opt.to_string(), None),
            };
            let key = key.replace('-', "_");
            let val = match val {
                Some(v) => v,
                None if i + 1 < args.len()
                    && !args[i + 1].starts_with("--")
                    && find(&args[i + 1]).is_none() =>
                {
                    i += 1;
                    args[i].clone()
                }
                None => "true".into(),
            };
            // Values are JSON when they parse (numbers, booleans, lists), else text.
            let v = serde_json::from_str(&val).unwrap_or(Value::String(val));
            last.1.insert(key, v);
        } else {
            let entry = find(a).ok_or_else(|| {
                anyhow::anyhow!("unknown expert {a:?} (imq-enrich --list shows them)")
            })?;
            out.push((entry, Params::new()));
        }
        i += 1;
    }
    Ok(out)
}
