//! threshold: count events with the same hash over chosen fields; the event that
//! makes the count reach `threshold` within the TTL (renewed with every event) goes
//! on with `add_keys` and `extra.count`, all others are dropped (IntelMQ
//! `intelmq.bots.experts.threshold.expert`).

use super::state::Store;
use super::{Expert, Params, Verdict};
use crate::message::Message;
use crate::params;
use crate::pipeline::Fail;
use anyhow::bail;
use serde_json::Value;

pub struct Threshold {
    keys: Vec<String>,
    whitelist: bool,
    ttl: u64,
    threshold: i64,
    add_keys: Vec<(String, Value)>,
    bypass: bool,
    store: Store,
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Expert>> {
    let keys = match params::list(p, "filter_keys")? {
        Some(k) => k,
        None => vec!["raw".into(), "time.observation".into()],
    };
    let whitelist = match params::string_or(p, "filter_type", "blacklist")?.as_str() {
        "whitelist" => true,
        "blacklist" => false,
        other => bail!("parameter filter_type: {other:?} is neither whitelist nor blacklist"),
    };
    let ttl = params::integer(p, "redis_cache_ttl", 3600)?;
    if ttl <= 0 {
        bail!("Invalid timeout specified, use positive integer seconds.");
    }
    let threshold = params::integer(p, "threshold", 100)?;
    if threshold <= 0 {
        bail!("Invalid threshold specified, use positive integer count.");
    }
    let add_keys = match p.get("add_keys") {
        None => vec![("comment".to_string(), Value::from("Threshold reached"))],
        Some(Value::Object(o)) => o.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(o)) => o.into_iter().collect(),
            _ => bail!("parameter add_keys: expected a JSON object"),
        },
        Some(other) => bail!("parameter add_keys: expected an object, got {other}"),
    };
    Ok(Box::new(Threshold {
        keys,
        whitelist,
        ttl: ttl as u64,
        threshold,
        add_keys,
        bypass: params::boolean(p, "bypass", false)?,
        store: Store::open(p, "threshold", 11)?,
    }))
}

fn fatal(e: anyhow::Error) -> Fail {
    Fail::Fatal(e.context("threshold state"))
}

impl Expert for Threshold {
    fn process(&mut self, ev: &mut Message) -> Result<Verdict, Fail> {
        if self.bypass {
            return Ok(Verdict::Keep);
        }
        let keys: Vec<&str> = self.keys.iter().map(String::as_str).collect();
        let h = ev.hash(&keys, self.whitelist);
        let old: i64 = self
            .store
            .get(&h)
            .map_err(fatal)?
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let count = old + 1;
        // SET, not INCR, so that every event renews the timeout (as IntelMQ).
        self.store
            .set(&h, &count.to_string(), Some(self.ttl))
            .map_err(fatal)?;
        if count != self.threshold {
            return Ok(Verdict::Drop);
        }
        for (k, v) in &self.add_keys {
            ev.set(k, v.clone())?;
        }
        ev.set("extra.count", count)?;
        Ok(Verdict::Keep)
    }

    fn commit(&mut self) -> anyhow::Result<()> {
        self.store.commit()
    }
}
