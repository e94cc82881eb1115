//! Turris Sentinel greylist: CSV `Address,Tags`, one event per known tag
//! (IntelMQ `intelmq.bots.parsers.turris.parser`).

use super::feedio::CsvOpts;
use super::util_feeds::{csv_dict, reject, DictRow};
use super::{Params, Parser, Records};
use crate::message::Message;
use crate::pipeline::Fail;

pub struct Turris;

pub fn build(_: &Params) -> anyhow::Result<Box<dyn Parser>> {
    Ok(Box::new(Turris))
}

impl Parser for Turris {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let opts = CsvOpts {
            ignore_prefixes: vec!["#".into()],
            ..CsvOpts::default()
        };
        let csv = csv_dict(data, &opts);
        for (dict, raw) in csv.records(&opts) {
            let result = events(&dict, &raw, out);
            // Rows with only tags IntelMQ leaves to other feeds give no events.
            if matches!(&result, Ok(v) if v.is_empty()) {
                continue;
            }
            out.record(raw.as_bytes(), result)?;
        }
        Ok(())
    }
}

fn events(row: &DictRow, raw: &str, out: &Records) -> Result<Vec<Message>, Fail> {
    let tags = match row.get("Tags") {
        Ok(Some(t)) => t,
        Ok(None) => return Err(reject("no Tags value")),
        Err(_) => "",
    };
    let mut evs = Vec::new();
    for tag in tags.split(',') {
        let mut ev = out.new_event();
        match tag {
            "smtp" | "http" | "ftp" | "telnet" => {
                ev.add("protocol.transport", "tcp")?;
                ev.add("protocol.application", tag)?;
                ev.add("classification.type", "brute-force")?;
                // smtp uses both 25 and 587: no port for it.
                let port = match tag {
                    "ftp" => Some(21),
                    "telnet" => Some(23),
                    "http" => Some(80),
                    _ => None,
                };
                ev.add("destination.port", port)?;
            }
            "port_scan" => {
                ev.add("classification.type", "scanner")?;
            }
            // haas, haas_logged, ... come from the CZ.NIC HaaS feed: use that one.
            _ => continue,
        }
        ev.add("raw", raw)?;
        ev.add("source.ip", row.opt("Address"))?;
        evs.push(ev);
    }
    Ok(evs)
}
