//! aggregate: fold events with equal values in chosen fields into one event per
//! time window, with `extra.count` (events folded), `time.source` (window start)
//! and `extra.time_end` (last event's time); windows with fewer than `threshold`
//! events are dropped (IntelMQ `intelmq.bots.experts.aggregate.expert`).
//!
//! Every input event is consumed (counted as filtered); summaries are emitted when
//! their window has passed, checked at most every 10 seconds and at the end of
//! input. Windows still open at the end stay in the state for the next run.

use super::state::Store;
use super::{Expert, Params, Verdict};
use crate::harmonization::{py_int, MsgType};
use crate::message::Message;
use crate::params;
use crate::pipeline::Fail;
use anyhow::{bail, Context};
use chrono::{NaiveDateTime, Utc};
use serde_json::{json, Value};

const PREFIX: &str = "aggregate.";

pub struct Aggregate {
    fields: Vec<String>,
    threshold: i64,
    /// Window length in seconds.
    timespan: i64,
    next_cleanup: i64,
    store: Store,
    pending: Vec<Message>,
}

/// IntelMQ's `parse_relative`: "N unit(s)" in seconds.
pub fn parse_relative(s: &str) -> anyhow::Result<i64> {
    let s = s.trim();
    let (n, unit) = s
        .split_once(char::is_whitespace)
        .with_context(|| format!("could not parse relative time {s:?}"))?;
    let n: i64 = n.parse().with_context(|| format!("relative time {s:?}"))?;
    let unit = unit.trim();
    let unit = unit.strip_suffix('s').unwrap_or(unit);
    let secs = match unit {
        "second" => 1,
        "minute" => 60,
        "hour" => 3600,
        "day" => 86400,
        "week" => 7 * 86400,
        "month" => 30 * 86400,
        "year" => 365 * 86400,
        _ => bail!("could not parse relative time {s:?}"),
    };
    Ok(n * secs)
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Expert>> {
    let fields = params::string_or(
        p,
        "fields",
        "classification.type, classification.identifier",
    )?;
    let mut fields: Vec<String> = fields.split(',').map(|k| k.trim().to_string()).collect();
    fields.sort();
    fields.dedup();
    Ok(Box::new(Aggregate {
        fields,
        threshold: params::integer(p, "threshold", 10)?,
        timespan: parse_relative(&params::string_or(p, "timespan", "1 hour")?)?,
        next_cleanup: 0,
        store: Store::open(p, "aggregate", 8)?,
        pending: Vec::new(),
    }))
}

fn fatal(e: anyhow::Error) -> Fail {
    Fail::Fatal(e.context("aggregate state"))
}

const START_FMT: &str = "%Y-%m-%dT%H:%M:%S%.6f";

impl Aggregate {
    /// Emit (or drop) every window that has passed.
    fn cleanup(&mut self, force: bool) -> Result<(), Fail> {
        let now = Utc::now();
        if !force && self.next_cleanup > now.timestamp() {
            return Ok(());
        }
        for key in self.store.keys(PREFIX).map_err(fatal)? {
            let Some(raw) = self.store.get(&key).map_err(fatal)? else {
                continue;
            };
            let rec: Value = serde_json::from_str(&raw)
                .map_err(|e| Fail::Fatal(anyhow::anyhow!("aggregate state {key}: {e}")))?;
            let start = rec["s"].as_str().unwrap_or_default();
            let start_t = NaiveDateTime::parse_from_str(start, START_FMT)
                .map_err(|e| Fail::Fatal(anyhow::anyhow!("aggregate state {key}: {e}")))?;
            if now.naive_utc() <= start_t + chrono::Duration::seconds(self.timespan) {
                continue;
            }
            let count = rec["c"].as_i64().unwrap_or(0);
            if count >= self.threshold {
                let d = rec["d"].as_str().unwrap_or("{}");
                let mut ev = Message::from_json(d.as_bytes(), MsgType::Event)
                    .map_err(|e| Fail::Fatal(anyhow::anyhow!("aggregate state {key}: {e}")))?;
                ev.set("time.source", format!("{start}+00:00"))?;
                ev.set("extra.count", count)?;
                ev.set("extra.time_end", rec["l"].clone())?;
                self.pending.push(ev);
            }
            self.store.delete(&key).map_err(fatal)?;
        }
        self.next_cleanup = now.timestamp() + 10;
        Ok(())
    }
}

impl Expert for Aggregate {
    fn process(&mut self, ev: &mut Message) -> Result<Verdict, Fail> {
        self.cleanup(false)?;
        let keys: Vec<&str> = self.fields.iter().map(String::as_str).collect();
        let key = format!("{PREFIX}{}", ev.hash(&keys, true));
        let time = ev
            .get("time.source")
            .filter(|v| !v.is_null())
            .or_else(|| ev.get("time.observation"))
            .cloned()
            .unwrap_or(Value::Null);
        let add = match ev.get("extra.count") {
            None => 1,
            Some(v) => {
                py_int(v).ok_or_else(|| Fail::Reject("extra.count is not an integer".into()))?
            }
        };
        let rec = match self.store.get(&key).map_err(fatal)? {
            Some(raw) => {
                let mut rec: Value = serde_json::from_str(&raw)
                    .map_err(|e| Fail::Fatal(anyhow::anyhow!("aggregate state {key}: {e}")))?;
                rec["l"] = time;
                rec["c"] = Value::from(rec["c"].as_i64().unwrap_or(0) + add);
                rec
            }
            None => json!({
                "d": ev.to_json(),
                "s": Utc::now().naive_utc().format(START_FMT).to_string(),
                "f": time,
                "l": time,
                "c": add,
            }),
        };
        self.store
            .set(&key, &rec.to_string(), None)
            .map_err(fatal)?;
        Ok(Verdict::Drop)
    }

    fn drain(&mut self, out: &mut Vec<Message>) {
        out.append(&mut self.pending);
    }

    fn commit(&mut self) -> anyhow::Result<()> {
        self.store.commit()
    }

    fn finish(&mut self, out: &mut Vec<Message>) -> Result<(), Fail> {
        self.cleanup(true)?;
        out.append(&mut self.pending);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_times() {
        assert_eq!(parse_relative("1 hour").unwrap(), 3600);
        assert_eq!(parse_relative("4 hours").unwrap(), 4 * 3600);
        assert_eq!(parse_relative("2 days").unwrap(), 2 * 86400);
        assert!(parse_relative("soon").is_err());
        assert!(parse_relative("3 fortnights").is_err());
    }
}
