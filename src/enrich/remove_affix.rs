//! remove_affix: remove a prefix (default) or suffix from a field, `www.` from
//! `source.fqdn` by default (IntelMQ `intelmq.bots.experts.remove_affix.expert`).

use super::{Expert, Params, Verdict};
use crate::message::Message;
use crate::params;
use crate::pipeline::Fail;
use serde_json::Value;

pub struct RemoveAffix {
    prefix: bool,
    affix: String,
    field: String,
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Expert>> {
    Ok(Box::new(RemoveAffix {
        prefix: params::boolean(p, "remove_prefix", true)?,
        affix: params::string_or(p, "affix", "www.")?,
        field: params::string_or(p, "field", "source.fqdn")?,
    }))
}

impl Expert for RemoveAffix {
    fn process(&mut self, ev: &mut Message) -> Result<Verdict, Fail> {
        let Some(v) = ev.get(&self.field) else {
            return Ok(Verdict::Keep);
        };
        let Value::String(s) = v else {
            return Err(Fail::Reject(format!("{}: value is not text", self.field)));
        };
        let cut = if self.prefix {
            s.strip_prefix(self.affix.as_str())
        } else if self.affix.is_empty() {
            None
        } else {
            s.strip_suffix(self.affix.as_str())
        };
        // IntelMQ calls change() even when nothing was cut; the value is the same.
        if let Some(cut) = cut {
            let cut = cut.to_string();
            ev.change(&self.field, cut)?;
        }
        Ok(Verdict::Keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(prefix: bool, affix: &str, fqdn: &str) -> Option<String> {
        let mut e = RemoveAffix {
            prefix,
            affix: affix.into(),
            field: "source.fqdn".into(),
        };
        let mut ev = Message::event();
        ev.add("source.fqdn", fqdn).unwrap();
        e.process(&mut ev).unwrap();
        ev.get_str("source.fqdn").map(String::from)
    }

    #[test]
    fn intelmq_test_facts() {
        assert_eq!(
            run(true, "www.", "www.google.lt").as_deref(),
            Some("google.lt")
        );
        assert_eq!(
            run(false, ".lt", "www.google.lt").as_deref(),
            Some("www.google")
        );
        assert_eq!(run(true, "www.", "google.lt").as_deref(), Some("google.lt"));
        let mut ev = Message::event();
        build(&Params::new()).unwrap().process(&mut ev).unwrap();
        assert!(ev.is_empty());
    }
}
