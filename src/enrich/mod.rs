//! `imq-enrich`: experts that add or rewrite fields of events.
//!
//! An expert is one file in this folder implementing [`Expert`], plus one entry in
//! [`REGISTRY`]. Several experts run in one process as a [`Chain`], which is the
//! same as piping one `imq-enrich` into the next.

pub mod abusix;
pub mod aggregate;
pub mod asn;
pub mod csv_converter;
pub mod cymru_whois;
pub mod deduplicator;
pub mod do_portal;
pub mod domain_suffix;
pub mod domain_valid;
pub mod fake;
pub mod field_reducer;
pub mod format_field;
pub mod generic_db_lookup;
pub mod geohash;
pub mod geoip;
pub mod gethostbyname;
pub mod http_content;
pub mod http_status;
pub mod idea;
pub mod jinja;
pub mod modify;
pub mod national_cert_contact_certat;
pub mod rdap;
pub mod recordedfuture_iprisk;
pub mod remove_affix;
pub mod reverse_dns;
pub mod rfc1918;
pub mod ripe;
pub mod state;
pub mod taxonomy;
pub mod threshold;
pub mod tor_nodes;
pub mod truncate_by_delimiter;
pub mod trusted_introducer_lookup;
pub mod tuency;
pub mod url;
pub mod url2fqdn;
pub mod uwhoisd;
pub mod wait;

use crate::message::Message;
use crate::pipeline::{Emit, Fail, Stage};
use serde_json::Value;

/// Parameters, with IntelMQ's names (runtime.yaml `parameters`); command-line
/// options `--some-name VALUE` arrive as `some_name`.
pub use crate::params::Params;

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

    /// Messages the expert made besides the one it was given (aggregate's
    /// summaries); the chain runs them through the experts after this one.
    fn drain(&mut self, _out: &mut Vec<Message>) {}

    /// Make state durable (experts with an on-disk store); called at every batch
    /// boundary, before the output is committed.
    fn commit(&mut self) -> anyhow::Result<()> {
        Ok(())
    }

    /// End of input: hand over what is still pending.
    fn finish(&mut self, _out: &mut Vec<Message>) -> Result<(), Fail> {
        Ok(())
    }

    /// At the end of the run, a line worth telling (an expert that looked
    /// everything up and found nothing, for instance).
    fn summary(&self) -> Option<String> {
        None
    }
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
        name: "aggregate",
        intelmq: "intelmq.bots.experts.aggregate.expert",
        description: "fold equal events per time window into one with extra.count",
        build: aggregate::build,
    },
    Entry {
        name: "asn",
        intelmq: "intelmq.bots.experts.asn_lookup.expert",
        description: "ASN and network of IP addresses from an ASN .mmdb or a pyasn file",
        build: asn::build,
    },
    Entry {
        name: "csv_converter",
        intelmq: "intelmq.bots.experts.csv_converter.expert",
        description: "write chosen fields as a CSV row into output",
        build: csv_converter::build,
    },
    Entry {
        name: "cymru_whois",
        intelmq: "intelmq.bots.experts.cymru_whois.expert",
        description: "ASN, network, AS name, country of the IP from Team Cymru (DNS TXT)",
        build: cymru_whois::build,
    },
    Entry {
        name: "deduplicator",
        intelmq: "intelmq.bots.experts.deduplicator.expert",
        description: "drop events seen before within a TTL (embedded store or Redis)",
        build: deduplicator::build,
    },
    Entry {
        name: "do_portal",
        intelmq: "intelmq.bots.experts.do_portal.expert",
        description: "abuse contact of source.ip from a do-portal instance",
        build: do_portal::build,
    },
    Entry {
        name: "domain_suffix",
        intelmq: "intelmq.bots.experts.domain_suffix.expert",
        description: "public suffix of the FQDN or reverse DNS name",
        build: domain_suffix::build,
    },
    Entry {
        name: "domain_valid",
        intelmq: "intelmq.bots.experts.domain_valid.expert",
        description: "drop events without a valid domain under a known TLD",
        build: domain_valid::build,
    },
    Entry {
        name: "fake",
        intelmq: "intelmq.bots.experts.fake.expert",
        description: "fill events with made-up test data from a JSON database",
        build: fake::build,
    },
    Entry {
        name: "field_reducer",
        intelmq: "intelmq.bots.experts.field_reducer.expert",
        description: "keep only (whitelist) or remove (blacklist) fields",
        build: field_reducer::build,
    },
    Entry {
        name: "format_field",
        intelmq: "intelmq.bots.experts.format_field.expert",
        description: "strip, replace or split field values",
        build: format_field::build,
    },
    Entry {
        name: "generic_db_lookup",
        intelmq: "intelmq.bots.experts.generic_db_lookup.expert",
        description: "copy columns of the matching PostgreSQL row into the event",
        build: generic_db_lookup::build,
    },
    Entry {
        name: "geohash",
        intelmq: "intelmq.bots.experts.geohash.expert",
        description: "geohash of source/destination coordinates into extra",
        build: geohash::build,
    },
    Entry {
        name: "geoip",
        intelmq: "intelmq.bots.experts.maxmind_geoip.expert",
        description: "country, city, coordinates of IP addresses from a MaxMind City/Country .mmdb",
        build: geoip::build,
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
        name: "idea",
        intelmq: "intelmq.bots.experts.idea.expert",
        description: "convert the event to the IDEA format into output",
        build: idea::build,
    },
    Entry {
        name: "jinja",
        intelmq: "intelmq.bots.experts.jinja.expert",
        description: "set fields from Jinja templates rendered with the event",
        build: jinja::build,
    },
    Entry {
        name: "modify",
        intelmq: "intelmq.bots.experts.modify.expert",
        description: "rewrite fields by rules in IntelMQ's modify configuration format",
        build: modify::build,
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
        name: "remove_affix",
        intelmq: "intelmq.bots.experts.remove_affix.expert",
        description: "remove a prefix or suffix from a field",
        build: remove_affix::build,
    },
    Entry {
        name: "reverse_dns",
        intelmq: "intelmq.bots.experts.reverse_dns.expert",
        description: "reverse DNS name of the IP address (DNS PTR)",
        build: reverse_dns::build,
    },
    Entry {
        name: "rfc1918",
        intelmq: "intelmq.bots.experts.rfc1918.expert",
        description: "remove fields or drop events with private/reserved addresses, domains, ASNs",
        build: rfc1918::build,
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
        name: "threshold",
        intelmq: "intelmq.bots.experts.threshold.expert",
        description: "pass the event that makes a count reach the threshold within a TTL",
        build: threshold::build,
    },
    Entry {
        name: "tor_nodes",
        intelmq: "intelmq.bots.experts.tor_nodes.expert",
        description: "mark IP addresses found in a Tor node list",
        build: tor_nodes::build,
    },
    Entry {
        name: "truncate_by_delimiter",
        intelmq: "intelmq.bots.experts.truncate_by_delimiter.expert",
        description: "cut a long field at delimiters from the left",
        build: truncate_by_delimiter::build,
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
        name: "url",
        intelmq: "intelmq.bots.experts.url.expert",
        description: "split source/destination URL into host, port, path, account, protocol",
        build: url::build,
    },
    Entry {
        name: "url2fqdn",
        intelmq: "intelmq.bots.experts.url2fqdn.expert",
        description: "FQDN (or IP) from the URL",
        build: url2fqdn::build,
    },
    Entry {
        name: "uwhoisd",
        intelmq: "intelmq.bots.experts.uwhoisd.expert",
        description: "whois text of domain, IP and ASN from a uWhoisd server",
        build: uwhoisd::build,
    },
    Entry {
        name: "wait",
        intelmq: "intelmq.bots.experts.wait.expert",
        description: "sleep per event or wait for a Redis queue to drain",
        build: wait::build,
    },
];

pub fn find(name: &str) -> Option<&'static Entry> {
    let norm = name.replace('-', "_");
    REGISTRY
        .iter()
        .find(|e| e.name == norm || e.intelmq == name)
        .or_else(|| {
            // IntelMQ's own names (`maxmind_geoip`, `asn_lookup`: the package of
            // the module) and other spellings.
            let n = crate::names::norm(name);
            REGISTRY.iter().find(|e| {
                crate::names::norm(e.name) == n
                    || e.intelmq.split('.').nth(3).map(crate::names::norm) == Some(n.clone())
            })
        })
}

/// "unknown expert" with the names that come close, and where the IntelMQ
/// modules that are no expert here went.
pub fn unknown(name: &str) -> anyhow::Error {
    if matches!(
        name,
        "intelmq.bots.experts.filter.expert" | "intelmq.bots.experts.sieve.expert"
    ) || matches!(crate::names::norm(name).as_str(), "filter" | "sieve")
    {
        return anyhow::anyhow!(
            "{name} is run by imq-filter, not imq-enrich: imq-filter --intelmq {} --params FILE",
            if name.contains("sieve") {
                "intelmq.bots.experts.sieve.expert"
            } else {
                "intelmq.bots.experts.filter.expert"
            }
        );
    }
    anyhow::anyhow!(
        "unknown expert {name:?}{} (imq-enrich --list shows them)",
        crate::names::did_you_mean(name, REGISTRY.iter().map(|e| e.name))
    )
}

/// Experts applied one after the other.
pub struct Chain {
    pub experts: Vec<Box<dyn Expert>>,
}

impl Chain {
    /// Run `msg` through the experts from index `from` on and emit it.
    fn run_from(&mut self, from: usize, mut msg: Message, out: &mut Emit) -> Result<(), Fail> {
        for i in from..self.experts.len() {
            let verdict = self.experts[i].process(&mut msg);
            self.flush_extra(i, out)?;
            match verdict? {
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

    /// Pass what expert `i` made by itself through the rest of the chain.
    fn flush_extra(&mut self, i: usize, out: &mut Emit) -> Result<(), Fail> {
        let mut extra = Vec::new();
        self.experts[i].drain(&mut extra);
        for m in extra {
            self.run_from(i + 1, m, out)?;
        }
        Ok(())
    }
}

impl Stage for Chain {
    fn process(&mut self, msg: Message, out: &mut Emit) -> Result<(), Fail> {
        self.run_from(0, msg, out)
    }

    fn commit(&mut self, _out: &mut Emit) -> Result<(), Fail> {
        for e in &mut self.experts {
            e.commit()?;
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut Emit) -> Result<(), Fail> {
        for i in 0..self.experts.len() {
            let mut pending = Vec::new();
            self.experts[i].finish(&mut pending)?;
            for m in pending {
                self.run_from(i + 1, m, out)?;
            }
            self.flush_extra(i, out)?;
        }
        for e in &self.experts {
            if let Some(s) = e.summary() {
                out.note(&s);
            }
        }
        Ok(())
    }
}

/// Split `EXPERT [--opt VALUE | --flag]... EXPERT ...` into experts with params.
/// The experts of a command line with their options, and the input files
/// among them: a word that names no expert but an existing file (or `-`) is an
/// input, as for the other tools (`imq-enrich taxonomy events.ndjson`).
#[allow(clippy::type_complexity)]
pub fn parse_chain(
    args: &[String],
) -> anyhow::Result<(Vec<(&'static Entry, Params)>, Vec<String>)> {
    let mut out: Vec<(&'static Entry, Params)> = Vec::new();
    let mut files = Vec::new();
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
        } else if let Some(entry) = find(a) {
            out.push((entry, Params::new()));
        } else if a == "-" || std::path::Path::new(a).is_file() {
            files.push(a.clone());
        } else {
            return Err(unknown(a));
        }
        i += 1;
    }
    Ok((out, files))
}
