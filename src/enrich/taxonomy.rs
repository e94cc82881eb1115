//! taxonomy: classification.taxonomy from classification.type
//! (IntelMQ `intelmq.bots.experts.taxonomy.expert`).

use super::{Expert, Params, Verdict};
use crate::harmonization::harmonization;
use crate::message::{Add, Message};
use crate::pipeline::Fail;

pub struct Taxonomy;

pub fn build(_: &Params) -> anyhow::Result<Box<dyn Expert>> {
    Ok(Box::new(Taxonomy))
}

impl Expert for Taxonomy {
    fn process(&mut self, ev: &mut Message) -> Result<Verdict, Fail> {
        let has_tax = ev.contains("classification.taxonomy");
        match (has_tax, ev.get_str("classification.type")) {
            (false, Some(t)) => {
                let tax = harmonization().taxonomy_of(t).unwrap_or("other");
                // A taxonomy name from the table is its own sanitized form:
                // IntelMQ's sanitizing add() would leave it unchanged.
                let as_is = Add {
                    sanitize: false,
                    overwrite: None,
                };
                ev.add_with("classification.taxonomy", tax.into(), as_is)?;
            }
            (false, None) => {
                ev.add("classification.taxonomy", "other")?;
                ev.add("classification.type", "undetermined")?;
            }
            (true, None) => {
                ev.add("classification.type", "undetermined")?;
            }
            (true, Some(_)) => {}
        }
        Ok(Verdict::Keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_type_to_taxonomy() {
        let mut ev = Message::event();
        ev.add("classification.type", "c2-server").unwrap();
        Taxonomy.process(&mut ev).unwrap();
        assert_eq!(
            ev.get_str("classification.taxonomy"),
            Some("malicious-code")
        );
        let mut ev = Message::event();
        Taxonomy.process(&mut ev).unwrap();
        assert_eq!(ev.get_str("classification.type"), Some("undetermined"));
        assert_eq!(ev.get_str("classification.taxonomy"), Some("other"));
    }
}
