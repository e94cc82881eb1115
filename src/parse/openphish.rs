//! OpenPhish public feed: one phishing URL a line
//! (IntelMQ `intelmq.bots.parsers.openphish.parser`).

use super::feedio;
use super::{Params, Parser, Records};
use crate::message::Message;
use crate::pipeline::Fail;

pub struct OpenPhish;

pub fn build(_: &Params) -> anyhow::Result<Box<dyn Parser>> {
    Ok(Box::new(OpenPhish))
}

impl Parser for OpenPhish {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let text = feedio::decode(data);
        for row in feedio::lines(&text, &[]) {
            let result = event(row, out);
            out.record(row.as_bytes(), result)?;
        }
        Ok(())
    }
}

fn event(row: &str, out: &Records) -> Result<Vec<Message>, Fail> {
    let mut ev = out.new_event();
    ev.add("classification.type", "phishing")?;
    ev.add("source.url", row)?;
    ev.add("raw", row)?;
    Ok(vec![ev])
}
