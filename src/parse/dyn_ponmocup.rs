//! DynDNS ponmocup list: `malware-IP domain URI-path infected-domain`, two events a
//! line, the infected and the compromised side (IntelMQ `intelmq.bots.parsers.dyn.parser`).

use super::feedio;
use super::util_feeds::{dateutil_iso, reject};
use super::{Params, Parser, Records};
use crate::message::Message;
use crate::pipeline::Fail;

pub struct Dyn;

/// The parser's `TZOFFSETS`, given to dateutil as `tzinfos`.
const TZOFFSETS: [(&str, i32); 2] = [("PST", -8 * 3600), ("PDT", -7 * 3600)];

pub fn build(_: &Params) -> anyhow::Result<Box<dyn Parser>> {
    Ok(Box::new(Dyn))
}

impl Parser for Dyn {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let text = feedio::decode(data);
        let mut source_time: Option<String> = None;
        for row in feedio::splitlines(&text) {
            if let Some(t) = row.strip_prefix("# last updated:") {
                source_time = Some(dateutil_iso(t, &TZOFFSETS)?);
                continue;
            }
            // Blank lines are no records (IntelMQ stops the report on them).
            if row.starts_with('#') || row.split_whitespace().next().is_none() {
                continue;
            }
            let result = events(row, source_time.as_deref(), out);
            out.record(row.as_bytes(), result)?;
        }
        Ok(())
    }
}

fn events(row: &str, time: Option<&str>, out: &Records) -> Result<Vec<Message>, Fail> {
    let f: Vec<&str> = row.split_whitespace().collect();
    if f.len() < 4 {
        return Err(reject(format!("expected 4 fields, got {}", f.len())));
    }
    let mut infected = out.new_event();
    infected.add("time.source", time)?;
    infected.add("classification.type", "malware-distribution")?;
    if f[0] != "/" {
        infected.add("source.ip", f[0])?;
    }
    infected.add("source.fqdn", f[1])?;
    infected.add("source.url", f[2])?;
    infected.add("destination.fqdn", f[3])?;
    infected.add(
        "event_description.text",
        "has malicious code redirecting to malicious host",
    )?;
    infected.add("raw", row)?;
    let mut compromised = out.new_event();
    compromised.add("time.source", time)?;
    compromised.add("classification.type", "system-compromise")?;
    if f[0] != "/" {
        compromised.add("destination.ip", f[0])?;
    }
    compromised.add("destination.fqdn", f[1])?;
    compromised.add("destination.url", f[2])?;
    compromised.add("source.fqdn", f[3])?;
    compromised.add(
        "event_description.text",
        "host has been compromised and has malicious code infecting users",
    )?;
    compromised.add("raw", row)?;
    Ok(vec![infected, compromised])
}
