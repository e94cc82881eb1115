//! SURBL zone data in rbldnsd format: `:127.0.0.x:... [lists], ...` lines set the
//! classification for the `.domain` lines below them
//! (IntelMQ `intelmq.bots.parsers.surbl.parser`).

use super::feedio;
use super::util_feeds::reject;
use super::{Params, Parser, Records};
use crate::message::Message;
use crate::pipeline::Fail;

pub struct Surbl;

pub fn build(_: &Params) -> anyhow::Result<Box<dyn Parser>> {
    Ok(Box::new(Surbl))
}

/// The classification named by a `:A:TXT` line's `[xx][yy],` list field.
fn attribute(line: &str) -> Result<&'static str, Fail> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let field = words
        .len()
        .checked_sub(3)
        .map(|i| words[i])
        .ok_or_else(|| reject("too few words in an A/TXT line"))?;
    // `[mw][ph],` without the first and the last two characters.
    let inner = field.get(1..field.len().saturating_sub(2)).unwrap_or("");
    let lists: Vec<&str> = inner.split("][").collect();
    Ok(if lists.contains(&"mw") {
        "malware-distribution"
    } else if lists.contains(&"ph") {
        "phishing"
    } else {
        "blacklist"
    })
}

impl Parser for Surbl {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let text = feedio::decode(data);
        let lines: Vec<&str> = feedio::splitlines(&text).collect();
        // The first nine lines are the zone header, the last two its trailer.
        let body = lines.get(9..lines.len().saturating_sub(2)).unwrap_or(&[]);
        let mut current: Result<&'static str, String> =
            Err("domain line before any A/TXT line".into());
        for line in body {
            if line.starts_with(':') {
                current = attribute(line).map_err(|f| match f {
                    Fail::Reject(r) => r,
                    _ => "bad A/TXT line".to_string(),
                });
            } else if let Some(domain) = line.strip_prefix('.') {
                let result = match &current {
                    Ok(ty) => event(domain, line, ty, out),
                    Err(r) => Err(reject(r)),
                };
                out.record(line.as_bytes(), result)?;
            }
        }
        Ok(())
    }
}

fn event(domain: &str, line: &str, ty: &str, out: &Records) -> Result<Vec<Message>, Fail> {
    let mut ev = out.new_event();
    ev.add("source.fqdn", domain)?;
    ev.add("classification.type", ty)?;
    ev.add("raw", line)?;
    Ok(vec![ev])
}
