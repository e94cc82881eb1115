//! Bambenek C2 IP/domain master lists and DGA feed: `value,description,time,url`
//! (IntelMQ `intelmq.bots.parsers.bambenek.parser`). Which feed it is comes from
//! the report's `feed.url`.

use super::feedio;
use super::util_feeds::{feed_time, reject};
use super::{Params, Parser, Records};
use crate::message::Message;
use crate::pipeline::Fail;

pub struct Bambenek;

pub fn build(_: &Params) -> anyhow::Result<Box<dyn Parser>> {
    Ok(Box::new(Bambenek))
}

const IP_MASTERLIST: &[&str] = &[
    "http://osint.bambenekconsulting.com/feeds/c2-ipmasterlist.txt",
    "https://osint.bambenekconsulting.com/feeds/c2-ipmasterlist.txt",
    "https://faf.bambenekconsulting.com/feeds/dga/c2-ipmasterlist.txt",
];
const DOM_MASTERLIST: &[&str] = &[
    "http://osint.bambenekconsulting.com/feeds/c2-dommasterlist.txt",
    "https://osint.bambenekconsulting.com/feeds/c2-dommasterlist.txt",
    "https://faf.bambenekconsulting.com/feeds/dga/c2-dommasterlist.txt",
];
const DGA_FEED: &[&str] = &[
    "http://osint.bambenekconsulting.com/feeds/dga-feed.txt",
    "https://osint.bambenekconsulting.com/feeds/dga-feed.txt",
    "https://faf.bambenekconsulting.com/feeds/dga-feed.txt",
];

fn malware_name(s: &str) -> &str {
    match s {
        "cl" => "cryptolocker",
        "p2pgoz" => "p2p goz",
        "ptgoz" => "pt goz",
        "volatile" => "volatile cedar",
        other => other,
    }
}

impl Parser for Bambenek {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let text = feedio::decode(data);
        for item in feedio::commented_lines(&text, '#') {
            if let feedio::Line::Record { line, raw } = item {
                let result = event(line, out);
                out.record(raw.as_bytes(), result)?;
            }
        }
        Ok(())
    }
}

fn event(line: &str, out: &Records) -> Result<Vec<Message>, Fail> {
    let value: Vec<&str> = line.split(',').collect();
    if value.len() < 4 {
        return Err(reject(format!("expected 4 fields, got {}", value.len())));
    }
    let mut ev = out.new_event();
    ev.add("event_description.text", value[1])?;
    ev.add("event_description.url", value[3])?;
    ev.add("raw", line)?;
    // The last column links a text file named after the malware.
    let last = value[value.len() - 1];
    let file = last.rsplit('/').next().unwrap_or("");
    let name = file.split('.').next().unwrap_or("");
    ev.add("malware.name", malware_name(name))?;
    let url = out
        .report()
        .get_str("feed.url")
        .ok_or_else(|| reject("report has no feed.url"))?;
    if IP_MASTERLIST.contains(&url) {
        ev.add("source.ip", value[0])?;
        ev.add("time.source", feed_time(&format!("{} UTC", value[2])))?;
        ev.add("classification.type", "c2-server")?;
        ev.add("status", "online")?;
    } else if DOM_MASTERLIST.contains(&url) {
        ev.add("source.fqdn", value[0])?;
        ev.add("time.source", feed_time(&format!("{} UTC", value[2])))?;
        ev.add("classification.type", "c2-server")?;
        ev.add("status", "online")?;
    } else if DGA_FEED.contains(&url) {
        ev.add("source.fqdn", value[0])?;
        ev.add("time.source", feed_time(&format!("{} 00:00 UTC", value[2])))?;
        ev.add("classification.type", "dga-domain")?;
    } else {
        return Err(reject(format!("Unknown data feed {url}.")));
    }
    Ok(vec![ev])
}
