//! Team Cymru full bogons lists: a `# last updated N (date)` line, then one
//! network (or address) a line (IntelMQ `intelmq.bots.parsers.cymru.parser_full_bogons`).

use super::feedio;
use super::util_feeds::{dateutil_iso, soft};
use super::{Params, Parser, Records};
use crate::harmonization::py_strip;
use crate::message::Message;
use crate::pipeline::Fail;

pub struct CymruFullBogons;

pub fn build(_: &Params) -> anyhow::Result<Box<dyn Parser>> {
    Ok(Box::new(CymruFullBogons))
}

impl Parser for CymruFullBogons {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let text = feedio::decode(data);
        let text = py_strip(&text);
        if text.is_empty() {
            return Ok(());
        }
        // IntelMQ cuts at the first `\n` (without one, `find` is -1 and the
        // last character is cut off).
        let first_row = match text.find('\n') {
            Some(i) => &text[..i],
            None => &text[..text.len() - text.chars().last().map_or(0, char::len_utf8)],
        };
        let open = first_row.find('(').map_or(0, |i| i + 1);
        let close = first_row
            .find(')')
            .unwrap_or(first_row.len().saturating_sub(1));
        let time_str = first_row.get(open..close).unwrap_or("");
        let updated = dateutil_iso(time_str, &[])?;
        let tempdata = [first_row.to_string()];
        for row in feedio::splitlines(text) {
            let val = py_strip(row);
            if val.is_empty() || val.starts_with('#') || val.starts_with("//") {
                continue;
            }
            let raw = feedio::recover_line(&tempdata, val);
            let result = event(val, &updated, &raw, out);
            out.record(raw.as_bytes(), result)?;
        }
        Ok(())
    }
}

fn event(val: &str, updated: &str, raw: &str, out: &Records) -> Result<Vec<Message>, Fail> {
    let mut ev = out.new_event();
    if !soft(&mut ev, "source.ip", val) {
        ev.add("source.network", val)?;
    }
    ev.add("time.source", updated)?;
    ev.add("classification.type", "blacklist")?;
    ev.add("raw", raw)?;
    Ok(vec![ev])
}
