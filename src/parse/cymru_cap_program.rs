//! Team Cymru CAP program reports, pipe-separated, in two formats told apart by
//! the header comment (IntelMQ `intelmq.bots.parsers.cymru.parser_cap_program`):
//!
//! * old (`# Data file written at ...`): `report|ip|asn|timestamp|comments|asn_name`,
//!   the comment's meaning depending on the report type;
//! * new (`#generated on ...`): `category|address|asn|timestamp|key: value;...|asname, CC`,
//!   one event per destination port listed.
//!
//! Rows IntelMQ cannot parse (unknown types, the `ddosreport`/`spreaders` types
//! it never implemented, `stormworm` with a confidence) fail here alike.

use super::feedio;
use super::util_feeds::{feed_time, reject};
use super::{Params, Parser, Records};
use crate::harmonization::py_strip;
use crate::message::Message;
use crate::pipeline::Fail;
use serde_json::Value;

pub struct CymruCap;

pub fn build(_: &Params) -> anyhow::Result<Box<dyn Parser>> {
    Ok(Box::new(CymruCap))
}

#[derive(Clone, Copy)]
enum Format {
    Unknown,
    Old,
    New,
}

impl Parser for CymruCap {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let text = feedio::decode(data);
        let mut format = Format::Unknown;
        for item in feedio::commented_lines(&text, '#') {
            let (line, raw) = match item {
                feedio::Line::Comment(line) => {
                    if line.contains("generated on") {
                        format = Format::New;
                    } else if line.contains("Data file written at") {
                        format = Format::Old;
                    }
                    continue;
                }
                feedio::Line::Record { line, raw } => (line, raw),
            };
            let result = match format {
                Format::Old => parse_old(line, &raw, out).map(|e| vec![e]),
                Format::New => parse_new(line, &raw, out),
                Format::Unknown => Err(reject(
                    "no header line telling the format (NotImplementedError in IntelMQ)",
                )),
            };
            out.record(raw.as_bytes(), result)?;
        }
        Ok(())
    }
}

/// `event[key] = value`: IntelMQ's add, failing when the key is set.
fn put(ev: &mut Message, key: &str, v: impl Into<Value>) -> Result<(), Fail> {
    ev.add(key, v)?;
    Ok(())
}

fn py_int(s: &str) -> Result<i64, Fail> {
    crate::harmonization::py_int(&Value::String(s.to_string()))
        .ok_or_else(|| reject(format!("invalid literal for int() with base 10: {s:?}")))
}

fn split6(line: &str) -> Result<[&str; 6], Fail> {
    let v: Vec<&str> = line.split('|').collect();
    <[&str; 6]>::try_from(v.as_slice())
        .map_err(|_| reject(format!("expected 6 '|'-separated fields, got {}", v.len())))
}

/// The old `bots` comment: `[srcport P] [mwtype TYPE...] [destaddr IP [comment...]]`.
fn parse_bot_old(parts: &[&str], ev: &mut Message) -> Result<(), Fail> {
    let mut results: Vec<(&str, String)> = Vec::new();
    let mut key: Option<&str> = None;
    let mut value: Vec<&str> = Vec::new();
    let mut comment: Vec<&str> = Vec::new();
    let keys = ["srcport", "mwtype", "destaddr", "dstaddr"];
    for part in parts.iter().map(Some).chain(std::iter::once(None)) {
        let is_key = part.is_none_or(|p| keys.contains(p));
        if is_key {
            if let Some(k) = key {
                if !value.is_empty() {
                    let joined = value.join(" ");
                    match results.iter_mut().find(|(rk, _)| *rk == k) {
                        Some(slot) => slot.1 = joined,
                        None => results.push((k, joined)),
                    }
                }
            }
            key = part.copied().filter(|p| !p.is_empty());
            value.clear();
        } else if let Some(p) = part {
            // After the destination address comes a free-text comment.
            if key == Some("destaddr") && value.len() == 1 {
                comment.push(p);
            } else {
                value.push(p);
            }
        }
    }
    for (kind, v) in results {
        match kind {
            "srcport" => put(ev, "extra.source_port", py_int(&v)?)?,
            "mwtype" => {
                let lower = v.to_lowercase();
                put(ev, "classification.identifier", lower.as_str())?;
                put(ev, "malware.name", lower)?;
            }
            _ => put(ev, "destination.ip", v)?,
        }
    }
    if !comment.is_empty() {
        ev.add("event_description.text", comment.join(" "))?;
    }
    Ok(())
}

fn parse_old(line: &str, raw: &str, out: &Records) -> Result<Message, Fail> {
    let [report_type, ip, asn, timestamp, comments, asn_name] = split6(line)?;
    let split: Vec<&str> = comments.split(' ').collect();
    let mut ev = out.new_event();
    ev.add("source.ip", ip)?;
    if asn != "0" {
        ev.add("source.asn", asn)?;
    }
    ev.add("time.source", feed_time(&format!("{timestamp} GMT")))?;
    ev.add("source.as_name", asn_name)?;
    ev.add("raw", raw)?;
    let not_implemented = |what: &str| {
        reject(format!(
            "Can't properly parse report '{report_type}', {what}"
        ))
    };
    match report_type {
        "beagle" => {
            ev.add("classification.type", "infected-system")?;
            ev.add("classification.identifier", "beagle")?;
            ev.add("malware.name", "beagle")?;
            if !comments.is_empty() {
                return Err(not_implemented("not know how to parse comment."));
            }
        }
        "blaster" | "dameware" | "dipnet" | "mydoom" | "nachi" | "phatbot" | "sinit"
        | "slammer" => {
            ev.add("classification.type", "infected-system")?;
            ev.add("classification.identifier", report_type)?;
            ev.add("malware.name", report_type)?;
        }
        "bots" => {
            ev.add("classification.type", "infected-system")?;
            parse_bot_old(&split, &mut ev)?;
        }
        "bruteforce" => {
            ev.add("classification.type", "brute-force")?;
            ev.add("classification.identifier", comments)?;
            ev.add("protocol.application", comments)?;
        }
        "ddosreport" => {
            return Err(reject(format!(
                "Report '{report_type}' not implemented, format is unknown."
            )))
        }
        "defacement" => {
            put(
                &mut ev,
                "classification.type",
                "unauthorised-information-modification",
            )?;
            put(&mut ev, "classification.identifier", report_type)?;
            put(&mut ev, "source.url", split[0])?;
            let id = split
                .get(1)
                .ok_or_else(|| reject("no Zone-H id in the comment"))?;
            put(&mut ev, "extra.zoneh.id", *id)?;
        }
        "fastflux" => {
            put(&mut ev, "classification.type", "system-compromise")?;
            put(&mut ev, "classification.identifier", report_type)?;
            if !comments.is_empty() {
                put(&mut ev, "source.reverse_dns", comments)?;
            }
        }
        "malwareurl" => {
            put(&mut ev, "source.url", split[0])?;
            ev.add("classification.type", "malware-distribution")?;
            ev.add("classification.identifier", "malwareurl")?;
        }
        "openresolvers" => {
            put(&mut ev, "classification.type", "vulnerable-system")?;
            put(&mut ev, "classification.identifier", "dns-open-resolver")?;
            put(&mut ev, "protocol.application", "dns")?;
        }
        "phishing" => {
            put(&mut ev, "classification.type", "phishing")?;
            put(&mut ev, "classification.identifier", "phishing")?;
            put(&mut ev, "source.url", comments)?;
        }
        "proxy" => {
            // Not a port but e.g. `HTTP CONNECT (8080)`.
            put(&mut ev, "classification.type", "proxy")?;
            put(&mut ev, "classification.identifier", "openproxy")?;
            put(&mut ev, "extra.request", comments)?;
        }
        "routers" => {
            put(&mut ev, "classification.type", "system-compromise")?;
            if !comments.is_empty() {
                put(&mut ev, "classification.identifier", comments)?;
            }
        }
        "scanners" => {
            put(&mut ev, "classification.type", "scanner")?;
            put(&mut ev, "classification.identifier", "scanner")?;
            let port = crate::harmonization::py_int(&Value::String(comments.to_string()))
                .ok_or_else(|| not_implemented("format for multiple ports is unknown."))?;
            put(&mut ev, "source.port", port)?;
        }
        "spam" => {
            put(&mut ev, "classification.type", "spam")?;
            put(&mut ev, "classification.identifier", "spam")?;
            if !comments.is_empty() {
                return Err(not_implemented("not know how to parse comment."));
            }
        }
        "spreaders" => {
            // IntelMQ's check of the comment length is broken (`len(x == 2)`):
            // these rows always fail there.
            ev.add("source.url", split[0])?;
            return Err(reject("TypeError: object of type 'bool' has no len()"));
        }
        "stormworm" => {
            if !ev.contains("feed.accuracy") {
                put(&mut ev, "feed.accuracy", 100)?;
            }
            for (i, part) in split.iter().enumerate() {
                if part.starts_with("confidence:") {
                    // IntelMQ multiplies in place with `event[k] *= x`, which
                    // adds an existing key and fails.
                    return Err(reject("key 'feed.accuracy' already exists"));
                } else if matches!(*part, "legacy" | "crypto") {
                    put(&mut ev, "malware.version", *part)?;
                } else if *part == "srcport" {
                    let p = split
                        .get(i + 1)
                        .ok_or_else(|| reject("no port after srcport"))?;
                    put(&mut ev, "extra.source_port", py_int(p)?)?;
                    break;
                }
            }
        }
        "toxbot" => {
            ev.add("classification.type", "infected-system")?;
            ev.add("classification.identifier", report_type)?;
            ev.add("malware.name", report_type)?;
            let p = split.get(1).ok_or_else(|| reject("no source port"))?;
            put(&mut ev, "extra.source_port", py_int(p)?)?;
        }
        _ => return Err(reject(format!("Unknown report '{report_type}'."))),
    }
    Ok(ev)
}

/// The fields each category sets (IntelMQ's MAPPING_STATIC).
fn category_fields(category: &str) -> Option<&'static [(&'static str, &'static str)]> {
    Some(match category {
        "bot" => &[("classification.type", "infected-system")],
        "bruteforce" => &[("classification.type", "brute-force")],
        "controller" => &[("classification.type", "c2-server")],
        "darknet" => &[
            ("classification.type", "scanner"),
            ("classification.identifier", "darknet"),
        ],
        "phishing" => &[
            ("classification.type", "phishing"),
            ("classification.identifier", "phishing"),
        ],
        "proxy" => &[
            ("classification.type", "proxy"),
            ("classification.identifier", "openproxy"),
        ],
        "honeypot" => &[("classification.type", "scanner")],
        "openresolvers" | "openresolver" => &[
            ("classification.type", "vulnerable-system"),
            ("classification.identifier", "dns-open-resolver"),
            ("protocol.application", "dns"),
        ],
        "scanner" => &[
            ("classification.type", "scanner"),
            ("classification.identifier", "scanner"),
        ],
        "spam" => &[
            ("classification.type", "spam"),
            ("classification.identifier", "spam"),
        ],
        "conficker" => &[
            ("classification.type", "infected-system"),
            ("classification.identifier", "conficker"),
            ("malware.name", "conficker"),
        ],
        "tor" => &[
            ("classification.type", "tor"),
            ("classification.identifier", "tor"),
        ],
        _ => return None,
    })
}

fn protocol_name(n: &str) -> Option<&'static str> {
    Some(match n {
        "1" => "icmp",
        "6" => "tcp",
        "11" => "nvp-ii",
        "17" => "udp",
        "47" => "gre",
        "58" => "ipv6-icmp",
        "59" => "ipv6-nonxt",
        _ => return None,
    })
}

/// IntelMQ's repair of `hostname: sub.example.comport: 80` (regex
/// `hostname: ([^:]+)port: ([0-9]+)`) into `hostname: ...; port: 80`.
fn fix_bogus_hostname_port(notes: &str) -> String {
    let mut from = 0;
    while let Some(i) = notes[from..].find("hostname: ") {
        let start = from + i;
        let host_from = start + "hostname: ".len();
        let rest = &notes[host_from..];
        let host_len = rest.find(':').unwrap_or(rest.len());
        let host = &rest[..host_len];
        // `[^:]+port: ` — the host part ends right before `port: `.
        if host_len >= 5 && host.ends_with("port") && rest[host_len..].starts_with(": ") {
            let digits_from = host_from + host_len + 2;
            let digits = notes[digits_from..]
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(notes.len() - digits_from);
            if digits > 0 {
                let host = &host[..host.len() - 4];
                return format!(
                    "{}hostname: {host}; port: {}{}",
                    &notes[..start],
                    &notes[digits_from..digits_from + digits],
                    &notes[digits_from + digits..]
                );
            }
        }
        from = start + 1;
    }
    notes.to_string()
}

/// `re.sub(r' \(total_count:\d+\)$', '', value)`.
fn strip_total_count(v: &str) -> &str {
    if let Some(i) = v.rfind(" (total_count:") {
        let tail = &v[i + " (total_count:".len()..];
        if let Some(num) = tail.strip_suffix(')') {
            if !num.is_empty() && num.bytes().all(|b| b.is_ascii_digit()) {
                return &v[..i];
            }
        }
    }
    v
}

fn parse_new(line: &str, raw: &str, out: &Records) -> Result<Vec<Message>, Fail> {
    let [category, ip, asn, timestamp, notes, asninfo] = split6(line)?;
    let notes = fix_bogus_hostname_port(notes);
    let comments: Vec<&str> = notes.split(';').filter(|c| !c.is_empty()).collect();
    let asninfo_split: Vec<&str> = asninfo.split(", ").collect();
    let mut ev = out.new_event();
    ev.add("raw", raw)?;
    ev.add("source.ip", ip)?;
    if asn != "0" {
        ev.add("source.asn", asn)?;
    }
    ev.add("time.source", feed_time(&format!("{timestamp} GMT")))?;
    // The AS info ends with the country code.
    ev.add(
        "source.as_name",
        asninfo_split[..asninfo_split.len() - 1].join(", "),
    )?;
    ev.add(
        "source.geolocation.cc",
        asninfo_split[asninfo_split.len() - 1],
    )?;
    let fields = category_fields(category)
        .ok_or_else(|| reject(format!("Unknown category '{category}'.")))?;
    for (k, v) in fields {
        ev.add(k, *v)?;
    }
    let mut destination_ports: Vec<String> = Vec::new();
    for comment in comments {
        let mut comment = comment.to_string();
        if !comment.contains(':') || comment.starts_with("http") {
            match category {
                "proxy" => comment = format!("proxy_type: {comment}"),
                // The old bruteforce form: just the protocol (`ssh;`).
                "bruteforce" => {
                    ev.add("classification.identifier", comment.as_str())?;
                    ev.add("protocol.application", comment)?;
                    break;
                }
                "phishing" => {
                    ev.add("source.url", comment)?;
                    break;
                }
                _ => {
                    if category == "bot" {
                        // Old-style bot comments still turn up in the new format.
                        let mut trial = ev.clone();
                        let parts: Vec<&str> = notes.split(' ').collect();
                        if parse_bot_old(&parts, &mut trial).is_ok() {
                            ev = trial;
                            break;
                        }
                    }
                    return Err(reject(format!(
                        "Unable to parse comment '{comment}' of category '{category}'. Please report this."
                    )));
                }
            }
        }
        let (key, value) = comment
            .split_once(':')
            .ok_or_else(|| reject("comment without ':'"))?;
        let key = py_strip(key);
        let value = py_strip(value);
        match key {
            "family" => {
                let lower = value.to_lowercase();
                put(&mut ev, "classification.identifier", lower.as_str())?;
                put(&mut ev, "malware.name", lower)?;
            }
            "dest_addr" | "destaddr" => put(&mut ev, "destination.ip", value)?,
            "dest_port"
            | "ports_scanned"
            | "honeypot_port"
            | "darknet_port"
            | "destination_port_numbers" => {
                for v in strip_total_count(value).split(',') {
                    destination_ports.push(py_strip(v).to_string());
                }
            }
            "protocol" => match protocol_name(value) {
                Some(p) => {
                    ev.add("protocol.transport", p)?;
                }
                None => {
                    let n = py_int(value)?;
                    if n >= 143 {
                        // Unassigned, experimental, testing or reserved numbers.
                        ev.add("extra.protocol.transport", n)?;
                    } else {
                        return Err(reject(format!(
                            "Unknown protocol '{value}', please report a bug"
                        )));
                    }
                }
            },
            "hostname" => {
                let as_fqdn = Value::String(value.to_string());
                if !crate::harmonization::is_valid(crate::harmonization::FieldType::Fqdn, &as_fqdn)
                    && value == ip
                {
                    continue;
                }
                put(&mut ev, "source.fqdn", value)?;
            }
            "proxy_type" => {
                if value.contains('-') {
                    let parts: Vec<&str> = value.split('-').collect();
                    if parts.len() != 2 {
                        return Err(reject(format!(
                            "too many values to unpack in proxy_type {value:?}"
                        )));
                    }
                    put(&mut ev, "protocol.application", parts[0])?;
                    put(&mut ev, "source.port", parts[1])?;
                } else {
                    put(&mut ev, "protocol.application", value)?;
                }
            }
            "port" | "srcport" => put(&mut ev, "source.port", value)?,
            "username" => put(&mut ev, "source.account", value)?,
            "additional_asns" => {
                let first = ev
                    .get("source.asn")
                    .cloned()
                    .ok_or_else(|| reject("KeyError: 'source.asn'"))?;
                let mut asns = vec![first];
                for a in value.split(',') {
                    asns.push(py_int(a)?.into());
                }
                put(&mut ev, "extra.source.asns", Value::Array(asns))?;
            }
            _ => {
                return Err(reject(format!(
                    "Unknown key '{key}' in comment of category '{category}'. Please report this."
                )))
            }
        }
    }
    if destination_ports.is_empty() {
        return Ok(vec![ev]);
    }
    let mut evs = Vec::with_capacity(destination_ports.len());
    for port in destination_ports {
        let mut e = ev.clone();
        put(&mut e, "destination.port", port)?;
        evs.push(e);
    }
    Ok(evs)
}

#[cfg(test)]
mod tests {
    #[test]
    fn bogus_hostname_port() {
        assert_eq!(
            super::fix_bogus_hostname_port("family: x;hostname: sub.example.comport: 80;"),
            "family: x;hostname: sub.example.com; port: 80;"
        );
        assert_eq!(super::strip_total_count("1,2 (total_count:19)"), "1,2");
    }
}
