//! VX Vault list of malware URLs: three header lines (the third a timestamp), a
//! blank line, then URLs (IntelMQ `intelmq.bots.parsers.vxvault.parser`).

use super::feedio;
use super::util_feeds::{feed_time, reject, soft};
use super::{Params, Parser, Records};
use crate::harmonization::py_strip;
use crate::message::Message;
use crate::pipeline::Fail;

pub struct VxVault;

pub fn build(_: &Params) -> anyhow::Result<Box<dyn Parser>> {
    Ok(Box::new(VxVault))
}

impl Parser for VxVault {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let text = feedio::decode(data);
        let lines: Vec<&str> = feedio::splitlines(py_strip(&text)).collect();
        let tempdata: Vec<String> = lines.iter().take(3).map(|s| s.to_string()).collect();
        for line in lines.iter().skip(4) {
            let row = py_strip(line);
            // IntelMQ skips empty lines and ignores what is not a URL.
            if !row.starts_with("http") {
                continue;
            }
            let result = event(row, tempdata.get(2).map(String::as_str), out);
            out.record(feedio::recover_line(&tempdata, row).as_bytes(), result)?;
        }
        Ok(())
    }
}

fn event(row: &str, time: Option<&str>, out: &Records) -> Result<Vec<Message>, Fail> {
    let url = crate::pyurl::urlsplit(row).map_err(reject)?;
    let hostname = url.hostname();
    let port = url.port().map_err(reject)?;
    let time = time.ok_or_else(|| reject("IndexError: no timestamp line in the header"))?;
    let mut ev = out.new_event();
    let host = hostname.map(serde_json::Value::String).unwrap_or_default();
    if !soft(&mut ev, "source.ip", host.clone()) {
        ev.add("source.fqdn", host)?;
    }
    ev.add("classification.type", "malware-distribution")?;
    ev.add("source.url", url.unsplit())?;
    if let Some(p) = port.filter(|&p| p != 0) {
        ev.add("source.port", p)?;
    }
    ev.add("raw", row)?;
    ev.add("time.source", feed_time(time))?;
    Ok(vec![ev])
}
