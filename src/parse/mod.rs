//! `imq-parse`: feed parsers, turning reports into events.
//!
//! A parser is one file in this folder implementing [`Parser`], plus one entry in
//! [`REGISTRY`]. The shared [`ParseStage`] handles what IntelMQ's `ParserBot` does
//! around every parser: decoding the report's `raw`, creating events that inherit
//! the report's feed fields, counting records, and sending a record that fails to
//! the dump as a report holding just that record (so that a fixed dump can be
//! parsed again with `--from-dump`).
//!
//! A parser calls [`Records::record_one`] (or [`Records::record`] for a record
//! that makes several events) once per feed record, with the record's result.
//! Parsers that can read a raw feed incrementally also implement
//! [`Parser::parse_stream`]: raw files then parse in constant memory. Line-based
//! parsers get it from [`stream_lines`] (Python `splitlines()` semantics), JSON
//! lists from [`stream_json::ArrayItems`]. The feed registry is [`feeds`].

pub mod abusech_feodotracker;
pub mod alienvault;
pub mod alienvault_otx;
pub mod anubisnetworks;
pub mod archive;
pub mod bambenek;
pub mod blocklistde;
pub mod blueliv_crimeserver;
pub mod calidog_certstream;
pub mod cert_eu_csv;
pub mod ci_army;
pub mod cleanmx;
pub mod cymru_cap_program;
pub mod cymru_full_bogons;
pub mod cznic_haas;
pub mod cznic_proki;
pub mod danger_rulez;
pub mod dataplane;
pub mod dshield_asn;
pub mod dshield_block;
pub mod dyn_ponmocup;
pub mod eset;
pub mod feedio;
pub mod feeds;
pub mod fireeye;
pub mod fraunhofer_dga;
pub mod generic_csv;
pub mod github_feed;
pub mod hibp_callback;
pub mod html_table;
pub mod htmldom;
pub mod ioc_extractor;
pub mod json;
pub mod key_value;
pub mod malwarepatrol_dansguardian;
pub mod malwareurl;
pub mod mcafee_atd;
pub mod microsoft_bingmurls;
pub mod microsoft_ctip;
pub mod misp;
pub mod n6_stomp;
pub mod openphish;
pub mod openphish_commercial;
pub mod phishtank;
pub mod pyjson;
pub mod shadowserver;
pub mod shadowserver_json;
pub mod shadowserver_map;
pub mod shadowserver_schema;
pub mod shodan;
pub mod spamhaus_cert;
pub mod spamhaus_drop;
pub mod stream_json;
pub mod surbl;
pub mod threatminer;
pub mod turris;
pub mod util_feeds;
pub mod vxvault;
pub mod xml_text;
pub mod zoneh;

use crate::harmonization::{b64_decode_raw, MsgType};
use crate::message::Message;
use crate::pipeline::{Emit, Fail, Stage};
use base64::Engine;
use serde_json::Value;
use std::io::{self, BufRead, Read};

/// A feed parser.
pub trait Parser {
    /// Parse one report: `data` is its decoded `raw`. Call `out.record` for every
    /// record of the feed.
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail>;

    /// Parse a raw feed read incrementally, in constant memory. `None`: this
    /// parser needs the whole feed ([`Parser::parse`] is used instead).
    fn parse_stream(
        &mut self,
        _input: &mut dyn BufRead,
        _out: &mut Records,
    ) -> Option<Result<(), Fail>> {
        None
    }
}

/// Parameters as IntelMQ gives them (runtime.yaml `parameters`).
pub use crate::params::Params;

/// A registry entry.
pub struct Entry {
    /// Our short name (`imq-parse NAME`).
    pub name: &'static str,
    /// The IntelMQ module this parser is equivalent to.
    pub intelmq: &'static str,
    pub description: &'static str,
    pub build: fn(&Params) -> anyhow::Result<Box<dyn Parser>>,
}

/// Every parser. Keep sorted by name.
pub const REGISTRY: &[Entry] = &[
    Entry {
        name: "abusech-feodotracker",
        intelmq: "intelmq.bots.parsers.abusech.parser_feodotracker",
        description: "abuse.ch Feodo Tracker botnet C2 IP blocklist (JSON)",
        build: abusech_feodotracker::build,
    },
    Entry {
        name: "alienvault",
        intelmq: "intelmq.bots.parsers.alienvault.parser",
        description: "AlienVault IP reputation list (#-separated)",
        build: alienvault::build,
    },
    Entry {
        name: "alienvault-otx",
        intelmq: "intelmq.bots.parsers.alienvault.parser_otx",
        description: "AlienVault OTX subscribed pulses (JSON), one event per indicator",
        build: alienvault_otx::build,
    },
    Entry {
        name: "anubisnetworks",
        intelmq: "intelmq.bots.parsers.anubisnetworks.parser",
        description: "AnubisNetworks Cyberfeed stream (nested JSON, one event per report)",
        build: anubisnetworks::build,
    },
    Entry {
        name: "bambenek",
        intelmq: "intelmq.bots.parsers.bambenek.parser",
        description: "Bambenek C2 IP/domain master lists and DGA feed",
        build: bambenek::build,
    },
    Entry {
        name: "blocklistde",
        intelmq: "intelmq.bots.parsers.blocklistde.parser",
        description: "blocklist.de IP lists by attacked service",
        build: blocklistde::build,
    },
    Entry {
        name: "blueliv-crimeserver",
        intelmq: "intelmq.bots.parsers.blueliv.parser_crimeserver",
        description: "Blueliv Crimeserver API (JSON list; IntelMQ up to 3.1)",
        build: blueliv_crimeserver::build,
    },
    Entry {
        name: "calidog-certstream",
        intelmq: "intelmq.bots.parsers.calidog.parser_certstream",
        description: "CertStream certificate transparency updates, one event per domain",
        build: calidog_certstream::build,
    },
    Entry {
        name: "cert-eu-csv",
        intelmq: "intelmq.bots.parsers.cert_eu.parser_csv",
        description: "CERT-EU feed (CSV)",
        build: cert_eu_csv::build,
    },
    Entry {
        name: "ci-army",
        intelmq: "intelmq.bots.parsers.ci_army.parser",
        description: "CINS Army IP list",
        build: ci_army::build,
    },
    Entry {
        name: "cleanmx",
        intelmq: "intelmq.bots.parsers.cleanmx.parser",
        description: "Clean-MX phishing and virus feeds (XML)",
        build: cleanmx::build,
    },
    Entry {
        name: "cymru-cap-program",
        intelmq: "intelmq.bots.parsers.cymru.parser_cap_program",
        description: "Team Cymru CAP program reports (old and new format)",
        build: cymru_cap_program::build,
    },
    Entry {
        name: "cymru-full-bogons",
        intelmq: "intelmq.bots.parsers.cymru.parser_full_bogons",
        description: "Team Cymru full bogons lists",
        build: cymru_full_bogons::build,
    },
    Entry {
        name: "cznic-haas",
        intelmq: "intelmq.bots.parsers.cznic.parser_haas",
        description: "CZ.NIC HaaS SSH honeypot sessions (JSON)",
        build: cznic_haas::build,
    },
    Entry {
        name: "cznic-proki",
        intelmq: "intelmq.bots.parsers.cznic.parser_proki",
        description: "CZ.NIC PROKI malicious IPs on Czech networks (JSON, IntelMQ field names)",
        build: cznic_proki::build,
    },
    Entry {
        name: "danger-rulez",
        intelmq: "intelmq.bots.parsers.danger_rulez.parser",
        description: "Danger Rulez bruteforceblocker IP list",
        build: danger_rulez::build,
    },
    Entry {
        name: "dataplane",
        intelmq: "intelmq.bots.parsers.dataplane.parser",
        description: "dataplane.org suspicious host lists",
        build: dataplane::build,
    },
    Entry {
        name: "dshield-asn",
        intelmq: "intelmq.bots.parsers.dshield.parser_asn",
        description: "DShield AS details (source IPs of one AS)",
        build: dshield_asn::build,
    },
    Entry {
        name: "dshield-block",
        intelmq: "intelmq.bots.parsers.dshield.parser_block",
        description: "DShield recommended block list (networks)",
        build: dshield_block::build,
    },
    Entry {
        name: "dyn",
        intelmq: "intelmq.bots.parsers.dyn.parser",
        description: "DynDNS ponmocup infected domains",
        build: dyn_ponmocup::build,
    },
    Entry {
        name: "eset",
        intelmq: "intelmq.bots.parsers.eset.parser",
        description: "ESET Threat Intelligence domain and URL lists (JSON)",
        build: eset::build,
    },
    Entry {
        name: "fireeye",
        intelmq: "intelmq.bots.parsers.fireeye.parser",
        description: "FireEye MAS alerts (OpenIOC XML): hashes and network indicator",
        build: fireeye::build,
    },
    Entry {
        name: "fraunhofer-dga",
        intelmq: "intelmq.bots.parsers.fraunhofer.parser_dga",
        description: "Fraunhofer DGA archive C2 domains (JSON)",
        build: fraunhofer_dga::build,
    },
    Entry {
        name: "generic-csv",
        intelmq: "intelmq.bots.parsers.generic.parser_csv",
        description: "any CSV/delimited feed described by parameters (columns, ...)",
        build: generic_csv::build,
    },
    Entry {
        name: "github-feed",
        intelmq: "intelmq.bots.parsers.github_feed.parser",
        description: "IOC files on GitHub (StrangerealIntel DailyIOC JSON)",
        build: github_feed::build,
    },
    Entry {
        name: "hibp-callback",
        intelmq: "intelmq.bots.parsers.hibp.parser_callback",
        description: "Have I Been Pwned enterprise callbacks (breaches, pastes)",
        build: hibp_callback::build,
    },
    Entry {
        name: "html-table",
        intelmq: "intelmq.bots.parsers.html_table.parser",
        description: "HTML tables, one event per row, columns named by parameters",
        build: html_table::build,
    },
    Entry {
        name: "ioc-extractor",
        intelmq: "intelmq.bots.parsers.ioc_extractor.parser",
        description: "URLs (also defanged) named in free text, one event per URL",
        build: ioc_extractor::build,
    },
    Entry {
        name: "json",
        intelmq: "intelmq.bots.parsers.json.parser",
        description: "IntelMQ messages as JSON: one object, one per line, or a list",
        build: json::build,
    },
    Entry {
        name: "key-value",
        intelmq: "intelmq.bots.parsers.key_value.parser",
        description: "key=value lines (appliance logs), keys mapped by parameters",
        build: key_value::build,
    },
    Entry {
        name: "malwarepatrol-dansguardian",
        intelmq: "intelmq.bots.parsers.malwarepatrol.parser_dansguardian",
        description: "Malware Patrol block list for DansGuardian (URLs)",
        build: malwarepatrol_dansguardian::build,
    },
    Entry {
        name: "malwareurl",
        intelmq: "intelmq.bots.parsers.malwareurl.parser",
        description: "MalwareURL domain/IP table (HTML)",
        build: malwareurl::build,
    },
    Entry {
        name: "mcafee-atd",
        intelmq: "intelmq.bots.parsers.mcafee.parser_atd",
        description: "McAfee Advanced Threat Defense reports: hashes, IPs, URLs",
        build: mcafee_atd::build,
    },
    Entry {
        name: "microsoft-bingmurls",
        intelmq: "intelmq.bots.parsers.microsoft.parser_bingmurls",
        description: "Microsoft Bing malicious URLs (Interflow JSON)",
        build: microsoft_bingmurls::build,
    },
    Entry {
        name: "microsoft-ctip",
        intelmq: "intelmq.bots.parsers.microsoft.parser_ctip",
        description:
            "Microsoft CTIP infected systems and C2 (Interflow JSON list or Azure JSON lines)",
        build: microsoft_ctip::build,
    },
    Entry {
        name: "misp",
        intelmq: "intelmq.bots.parsers.misp.parser",
        description: "MISP events (API JSON), one event per supported attribute",
        build: misp::build,
    },
    Entry {
        name: "n6-stomp",
        intelmq: "intelmq.bots.parsers.n6.parser_n6stomp",
        description: "CERT.pl n6 stream (JSON per report)",
        build: n6_stomp::build,
    },
    Entry {
        name: "openphish",
        intelmq: "intelmq.bots.parsers.openphish.parser",
        description: "OpenPhish public feed (phishing URLs)",
        build: openphish::build,
    },
    Entry {
        name: "openphish-commercial",
        intelmq: "intelmq.bots.parsers.openphish.parser_commercial",
        description: "OpenPhish commercial feed (JSON lines)",
        build: openphish_commercial::build,
    },
    Entry {
        name: "phishtank",
        intelmq: "intelmq.bots.parsers.phishtank.parser",
        description: "PhishTank online-valid list (JSON)",
        build: phishtank::build,
    },
    Entry {
        name: "shadowserver",
        intelmq: "intelmq.bots.parsers.shadowserver.parser",
        description: "Shadowserver reports (CSV), every report type of the installed schema",
        build: shadowserver::build,
    },
    Entry {
        name: "shadowserver-json",
        intelmq: "intelmq.bots.parsers.shadowserver.parser_json",
        description: "Shadowserver Reports API data (JSON list or lines), same schema",
        build: shadowserver_json::build,
    },
    Entry {
        name: "shodan",
        intelmq: "intelmq.bots.parsers.shodan.parser",
        description: "Shodan stream/API banners, one event per report",
        build: shodan::build,
    },
    Entry {
        name: "spamhaus-cert",
        intelmq: "intelmq.bots.parsers.spamhaus.parser_cert",
        description: "Spamhaus CERT portal feed (infected hosts, CSV)",
        build: spamhaus_cert::build,
    },
    Entry {
        name: "spamhaus-drop",
        intelmq: "intelmq.bots.parsers.spamhaus.parser_drop",
        description: "Spamhaus DROP/EDROP/DROPv6/ASN-DROP lists (text and NDJSON)",
        build: spamhaus_drop::build,
    },
    Entry {
        name: "surbl",
        intelmq: "intelmq.bots.parsers.surbl.parser",
        description: "SURBL zone data (rbldnsd format)",
        build: surbl::build,
    },
    Entry {
        name: "threatminer",
        intelmq: "intelmq.bots.parsers.threatminer.parser",
        description: "ThreatMiner recent domains (HTML page)",
        build: threatminer::build,
    },
    Entry {
        name: "turris",
        intelmq: "intelmq.bots.parsers.turris.parser",
        description: "Turris Sentinel greylist (CSV)",
        build: turris::build,
    },
    Entry {
        name: "vxvault",
        intelmq: "intelmq.bots.parsers.vxvault.parser",
        description: "VX Vault malware URL list",
        build: vxvault::build,
    },
    Entry {
        name: "zoneh",
        intelmq: "intelmq.bots.parsers.zoneh.parser",
        description: "Zone-H defacement reports (CSV)",
        build: zoneh::build,
    },
];

/// Find a parser by our name or its IntelMQ module name (also spelt as its
/// package, `intelmq.bots.parsers.github_feed`, as IntelMQ's feed list does).
pub fn find(name: &str) -> Option<&'static Entry> {
    let norm = name.replace('_', "-");
    REGISTRY
        .iter()
        .find(|e| {
            e.name == norm
                || e.intelmq == name
                || e.intelmq.strip_suffix(".parser") == Some(name)
                || e.name.split('-').next_back() == Some(&norm)
        })
        .or_else(|| {
            // Spelt otherwise: `abusech-feodo-tracker` (the feed's name),
            // `abusech_feodotracker`, IntelMQ's deprecated module names.
            let n = crate::names::norm(name);
            REGISTRY
                .iter()
                .find(|e| crate::names::norm(e.name) == n)
                .or_else(|| {
                    deprecated_module(name).and_then(|m| REGISTRY.iter().find(|e| e.intelmq == m))
                })
        })
}

/// IntelMQ's deprecated module names, mapped to the module that replaced them
/// (IntelMQ keeps them working with a warning).
fn deprecated_module(name: &str) -> Option<&'static str> {
    Some(match name {
        "intelmq.bots.parsers.twitter.parser" => "intelmq.bots.parsers.ioc_extractor.parser",
        "intelmq.bots.parsers.abusech.parser_ip" => {
            "intelmq.bots.parsers.abusech.parser_feodotracker"
        }
        _ => return None,
    })
}

/// "unknown parser" with the names that come close.
pub fn unknown(name: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "unknown parser {name:?}{} (imq-parse --list shows them)",
        crate::names::did_you_mean(name, REGISTRY.iter().map(|e| e.name))
    )
}

/// What a parser uses to emit the events of a report.
pub struct Records<'a, 'b> {
    emit: &'a mut Emit<'b>,
    report: &'a Message,
    default_fields: &'a [(String, Value)],
    copy_fields: &'a [String],
    on_error: bool,
    n: u64,
    max: usize,
}

impl Records<'_, '_> {
    /// The longest feed record a parser keeps (`--max-line-bytes`): a longer
    /// one is dumped with its first bytes, its length and the reason.
    pub fn max_record(&self) -> usize {
        self.max
    }

    /// Dump a record that was cut at [`Records::max_record`] (`total` bytes long).
    pub fn record_too_long(&mut self, prefix: &[u8], total: usize) -> Result<(), Fail> {
        let reason = format!(
            "feed record too long: {total} bytes (limit --max-line-bytes {}); the dump holds its first bytes",
            self.max
        );
        self.record_one(prefix, Err(Fail::Reject(reason)))
    }

    /// The report being parsed.
    pub fn report(&self) -> &Message {
        self.report
    }

    /// A new event inheriting the report's feed fields (IntelMQ `new_event(report)`).
    pub fn new_event(&self) -> Message {
        let mut ev = Message::event_from_report(self.report);
        for k in self.copy_fields {
            if let Some(v) = self.report.get(k) {
                let _ = ev.set(k, v.clone());
            }
        }
        ev
    }

    /// Account for one feed record: its events, or why it failed. `raw` is the
    /// record as IntelMQ's `recover_line` rebuilds it (what goes to the dump; it
    /// may be empty when the record parsed).
    pub fn record(&mut self, raw: &[u8], result: Result<Vec<Message>, Fail>) -> Result<(), Fail> {
        match result {
            Ok(events) => {
                self.n += 1;
                self.emit.count_input(1);
                for ev in events {
                    self.send(ev)?;
                }
                Ok(())
            }
            Err(f) => self.record_one(raw, Err(f)),
        }
    }

    /// [`Records::record`] for a record that makes one event (no list to build).
    pub fn record_one(&mut self, raw: &[u8], result: Result<Message, Fail>) -> Result<(), Fail> {
        self.n += 1;
        self.emit.count_input(1);
        match result {
            Ok(ev) => self.send(ev),
            Err(Fail::Reject(reason)) => {
                let mut dumped = self.report.clone();
                let b64 = base64::engine::general_purpose::STANDARD.encode(raw);
                // `set` would sanitize (encode again); put the encoded bytes as they are.
                let _ = dumped.add_with(
                    "raw",
                    Value::String(b64),
                    crate::message::Add {
                        sanitize: false,
                        overwrite: Some(true),
                    },
                );
                let line = dumped.to_json();
                self.emit.reject(Some(self.n), line.as_bytes(), &reason)?;
                if self.on_error {
                    // A copy of the dumped record: counted once, as dumped.
                    self.emit.also_to("_on_error", Some(&dumped))?;
                }
                Ok(())
            }
            Err(f) => Err(f),
        }
    }

    /// Send one event with the default fields added (IntelMQ's `default_fields`).
    fn send(&mut self, mut ev: Message) -> Result<(), Fail> {
        for (k, v) in self.default_fields {
            let _ = ev.add_with(
                k,
                v.clone(),
                crate::message::Add {
                    sanitize: true,
                    overwrite: Some(false),
                },
            );
        }
        self.emit.send(&ev)?;
        Ok(())
    }
}

/// The stage running one parser over reports.
pub struct ParseStage {
    parser: Box<dyn Parser>,
    default_fields: Vec<(String, Value)>,
    copy_fields: Vec<String>,
    on_error: bool,
    max: usize,
}

impl ParseStage {
    pub fn new(parser: Box<dyn Parser>, params: &Params) -> anyhow::Result<ParseStage> {
        let mut default_fields = Vec::new();
        if let Some(Value::Object(m)) = params.get("default_fields") {
            let mut probe = Message::event();
            for (k, v) in m {
                probe
                    .add(k, v.clone())
                    .map_err(|e| anyhow::anyhow!("default_fields: {e}"))?;
                default_fields.push((k.clone(), v.clone()));
            }
        }
        let copy_fields = match params.get("copy_collector_provided_fields") {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect(),
            _ => Vec::new(),
        };
        Ok(ParseStage {
            parser,
            default_fields,
            copy_fields,
            on_error: false,
            max: crate::transport::DEFAULT_MAX_LINE,
        })
    }

    /// The longest feed record (and, for parsers that need a whole feed, the
    /// largest feed) read: `--max-line-bytes`.
    pub fn max_record(mut self, max: usize) -> ParseStage {
        self.max = max.max(1);
        self
    }

    /// Also send the report of a failed record to the `_on_error` path, as
    /// IntelMQ does when the bot has an `_on_error` destination queue.
    pub fn on_error_path(mut self, on: bool) -> ParseStage {
        self.on_error = on;
        self
    }
}

impl Stage for ParseStage {
    fn default_type(&self) -> MsgType {
        MsgType::Report
    }

    fn process(&mut self, msg: Message, out: &mut Emit) -> Result<(), Fail> {
        // The report line itself is not a record: records are counted one by one.
        out.count_input(-1);
        if let Some(input) = out.take_body() {
            return self.process_body(&msg, input, out);
        }
        let Some(raw) = msg.get_str("raw") else {
            // IntelMQ logs a warning and drops such a report; we keep it.
            out.count_input(1);
            return Err(Fail::Reject("report without raw field".into()));
        };
        let data =
            b64_decode_raw(raw).ok_or_else(|| Fail::Reject("raw is not valid base64".into()))?;
        let mut rec = Records {
            emit: out,
            report: &msg,
            default_fields: &self.default_fields,
            copy_fields: &self.copy_fields,
            on_error: self.on_error,
            n: 0,
            max: self.max,
        };
        self.parser.parse(&data, &mut rec)
    }
}

impl ParseStage {
    /// A report whose feed comes as a body (raw feed files): parsed as it is
    /// read. When the report as a whole fails (no report type, a truncated or
    /// broken file), it goes to the dump as in report mode: the report with its
    /// `raw` (the first bytes of the feed when it is big), and the run goes on
    /// with the next file.
    fn process_body(
        &mut self,
        msg: &Message,
        input: Box<dyn BufRead>,
        out: &mut Emit,
    ) -> Result<(), Fail> {
        // The report line fits the dump's bound with its base64 `raw`.
        let keep = crate::dump::MAX_RAW / 4 * 3 - 4096;
        let mut tee = Tee {
            inner: input,
            kept: Vec::new(),
            keep,
            failed: None,
        };
        let mut rec = Records {
            emit: out,
            report: msg,
            default_fields: &self.default_fields,
            copy_fields: &self.copy_fields,
            on_error: self.on_error,
            n: 0,
            max: self.max,
        };
        let result = match self.parser.parse_stream(&mut tee, &mut rec) {
            Some(r) => r,
            None => {
                // This parser needs the whole feed: bounded like a report line.
                let mut data = Vec::new();
                match (&mut tee).take(self.max as u64 + 1).read_to_end(&mut data) {
                    Ok(_) if data.len() > self.max => Err(Fail::Reject(format!(
                        "feed over {} bytes (--max-line-bytes) for a parser that reads it whole",
                        self.max
                    ))),
                    Ok(_) => self.parser.parse(&data, &mut rec),
                    Err(e) => Err(Fail::Fatal(e.into())),
                }
            }
        };
        let reason = match result {
            Ok(()) => return Ok(()),
            Err(Fail::Reject(r)) => r,
            // An error reading the feed (a broken gzip, a truncated archive) is
            // this report's failure; an error writing is the run's.
            Err(Fail::Fatal(e)) => match tee.failed.take() {
                Some(read) => format!("reading the feed: {read}"),
                None if is_data_error(&e) => format!("{e:#}"),
                None => return Err(Fail::Fatal(e)),
            },
        };
        // Keep the rest of the feed for the dump, up to the bound.
        let mut truncated = tee.kept.len() >= tee.keep;
        if !truncated && tee.failed.is_none() {
            let mut rest = Vec::new();
            let want = (tee.keep - tee.kept.len()) as u64 + 1;
            if tee.inner.by_ref().take(want).read_to_end(&mut rest).is_ok() {
                truncated = tee.kept.len() + rest.len() > tee.keep;
                let room = tee.keep - tee.kept.len();
                tee.kept.extend_from_slice(&rest[..rest.len().min(room)]);
            }
        }
        let mut dumped = msg.clone();
        let b64 = base64::engine::general_purpose::STANDARD.encode(&tee.kept);
        let _ = dumped.add_with(
            "raw",
            Value::String(b64),
            crate::message::Add {
                sanitize: false,
                overwrite: Some(true),
            },
        );
        let reason = if truncated {
            format!(
                "{reason} (raw holds the first {} bytes of the feed)",
                tee.kept.len()
            )
        } else {
            reason
        };
        out.count_input(1);
        out.reject(None, dumped.to_json().as_bytes(), &reason)?;
        Ok(())
    }
}

/// An error about the feed's bytes (a JSON list cut short, bad data) rather than
/// about the run's output.
fn is_data_error(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>().is_some_and(|io| {
            matches!(
                io.kind(),
                io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof
            )
        })
    })
}

/// A feed body that keeps its first bytes (for the dump, should the report
/// fail) and remembers a read error (a failure of the feed, not of the run).
struct Tee {
    inner: Box<dyn BufRead>,
    kept: Vec<u8>,
    keep: usize,
    failed: Option<String>,
}

impl Read for Tee {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        crate::transport::line::read_through_buf(self, out)
    }
}

impl BufRead for Tee {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        match self.inner.fill_buf() {
            Ok(b) => Ok(b),
            Err(e) => {
                if e.kind() != io::ErrorKind::Interrupted {
                    self.failed = Some(e.to_string());
                }
                Err(e)
            }
        }
    }
    fn consume(&mut self, n: usize) {
        if self.kept.len() < self.keep {
            if let Ok(b) = self.inner.fill_buf() {
                let take = n.min(b.len()).min(self.keep - self.kept.len());
                self.kept.extend_from_slice(&b[..take]);
            }
        }
        self.inner.consume(n);
    }
}

/// An io error for a closed output, for parsers that stream.
pub fn io_fail(e: io::Error) -> Fail {
    Fail::Fatal(e.into())
}

/// Does this input hold NDJSON reports (rather than raw feed data)? Looks at the
/// first line only: a JSON object with `raw` or `"__type": "Report"`. When `head`
/// ends before the first line does (reports carry the whole feed), a line
/// starting as an object whose first keys include `"raw"` or `"__type"` counts.
pub fn looks_like_reports(head: &[u8]) -> bool {
    let first = head.split(|&b| b == b'\n').next().unwrap_or(b"");
    match serde_json::from_slice::<Value>(first) {
        Ok(Value::Object(m)) => {
            m.contains_key("raw") || m.get("__type").and_then(Value::as_str) == Some("Report")
        }
        Err(e) if e.is_eof() && first.len() == head.len() => {
            let t = first.trim_ascii_start();
            t.starts_with(b"{")
                && (memchr::memmem::find(t, b"\"raw\":").is_some()
                    || memchr::memmem::find(t, b"\"__type\"").is_some())
        }
        _ => false,
    }
}

/// Feed the lines of a streamed raw feed to `f`, as Python's `str.splitlines()`
/// would cut the decoded feed (line ends removed, nothing stripped), reading one
/// `\n`-terminated chunk at a time. For line-based parsers' `parse_stream`.
pub fn stream_lines(
    input: &mut dyn BufRead,
    mut f: impl FnMut(&str, &mut Records) -> Result<(), Fail>,
    out: &mut Records,
) -> Result<(), Fail> {
    let mut buf = Vec::with_capacity(4096);
    loop {
        let total = crate::transport::line::read_until_limited(input, b'\n', &mut buf, out.max)?;
        if total == 0 {
            return Ok(());
        }
        if total > buf.len() {
            out.record_too_long(&buf, total)?;
            continue;
        }
        let text = feedio::decode(&buf);
        for line in feedio::splitlines(&text) {
            f(line, out)?;
        }
    }
}
