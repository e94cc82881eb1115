//! deduplicator: drop events whose hash over chosen fields was seen within the TTL
//! (IntelMQ `intelmq.bots.experts.deduplicator.expert`). The hash is IntelMQ's
//! `Message.hash`, so the same fields give the same keys as IntelMQ's in Redis.

use super::state::Store;
use super::{Expert, Params, Verdict};
use crate::message::Message;
use crate::params;
use crate::pipeline::Fail;
use anyhow::bail;

pub struct Deduplicator {
    keys: Vec<String>,
    whitelist: bool,
    ttl: u64,
    bypass: bool,
    store: Store,
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Expert>> {
    let keys = params::string_or(p, "filter_keys", "raw,time.observation")?;
    let whitelist = match params::string_or(p, "filter_type", "blacklist")?.as_str() {
        "whitelist" => true,
        "blacklist" => false,
        other => bail!("parameter filter_type: {other:?} is neither whitelist nor blacklist"),
    };
    let ttl = params::integer(p, "redis_cache_ttl", 86400)?;
    let mut keys: Vec<String> = keys.split(',').map(|k| k.trim().to_string()).collect();
    keys.sort();
    keys.dedup();
    Ok(Box::new(Deduplicator {
        keys,
        whitelist,
        ttl: ttl.max(0) as u64,
        bypass: params::boolean(p, "bypass", false)?,
        store: Store::open(p, "deduplicator", 6)?,
    }))
}

fn fatal(e: anyhow::Error) -> Fail {
    Fail::Fatal(e.context("deduplicator state"))
}

impl Expert for Deduplicator {
    fn process(&mut self, ev: &mut Message) -> Result<Verdict, Fail> {
        if self.bypass {
            return Ok(Verdict::Keep);
        }
        let keys: Vec<&str> = self.keys.iter().map(String::as_str).collect();
        let h = ev.hash(&keys, self.whitelist);
        if self.store.exists(&h).map_err(fatal)? {
            return Ok(Verdict::Drop);
        }
        self.store.set(&h, "hash", Some(self.ttl)).map_err(fatal)?;
        Ok(Verdict::Keep)
    }

    fn commit(&mut self) -> anyhow::Result<()> {
        self.store.commit()
    }
}
