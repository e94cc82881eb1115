//! field_reducer: keep only the listed fields (`whitelist`) or remove them
//! (`blacklist`) (IntelMQ `intelmq.bots.experts.field_reducer.expert`).

use super::{Expert, Params, Verdict};
use crate::message::{Add, Message};
use crate::params;
use crate::pipeline::Fail;
use anyhow::bail;

pub struct FieldReducer {
    whitelist: bool,
    keys: Vec<String>,
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Expert>> {
    let whitelist = match params::string(p, "type")?.as_deref() {
        Some("whitelist") => true,
        Some("blacklist") => false,
        other => bail!("Invalid configuration: value of 'type' not allowed: {other:?}"),
    };
    Ok(Box::new(FieldReducer {
        whitelist,
        keys: params::list(p, "keys")?.unwrap_or_default(),
    }))
}

impl Expert for FieldReducer {
    fn process(&mut self, ev: &mut Message) -> Result<Verdict, Fail> {
        if self.whitelist {
            let mut kept = Message::event();
            for k in &self.keys {
                if let Some(v) = ev.get(k) {
                    let opt = Add {
                        sanitize: false,
                        overwrite: None,
                    };
                    kept.add_with(k, v.clone(), opt)?;
                }
            }
            *ev = kept;
        } else {
            for k in &self.keys {
                ev.remove(k);
            }
        }
        Ok(Verdict::Keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn white_and_black() {
        let mut ev = Message::event();
        ev.add("time.observation", "2015-01-01T00:00:00+00:00")
            .unwrap();
        ev.add("classification.type", "undetermined").unwrap();
        let mut w = FieldReducer {
            whitelist: true,
            keys: vec!["time.source".into(), "time.observation".into()],
        };
        let mut a = ev.clone();
        w.process(&mut a).unwrap();
        assert_eq!(a.keys().collect::<Vec<_>>(), ["time.observation"]);
        w.whitelist = false;
        let mut b = ev.clone();
        w.process(&mut b).unwrap();
        assert_eq!(b.keys().collect::<Vec<_>>(), ["classification.type"]);
    }
}
