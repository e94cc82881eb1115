//! CINS Army list: one IP address a line (IntelMQ `intelmq.bots.parsers.ci_army.parser`).

use super::feedio;
use super::{Params, Parser, Records};
use crate::message::Message;
use crate::pipeline::Fail;

pub struct CiArmy;

pub fn build(_: &Params) -> anyhow::Result<Box<dyn Parser>> {
    Ok(Box::new(CiArmy))
}

impl Parser for CiArmy {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let text = feedio::decode(data);
        // IntelMQ reads the lines unstripped here (its own `process`).
        for row in feedio::data_lines(&text) {
            let result = event(row, out);
            out.record(row.as_bytes(), result)?;
        }
        Ok(())
    }
}

fn event(row: &str, out: &Records) -> Result<Vec<Message>, Fail> {
    let mut ev = out.new_event();
    ev.add("source.ip", row)?;
    ev.add("classification.type", "blacklist")?;
    ev.add("raw", row)?;
    Ok(vec![ev])
}
