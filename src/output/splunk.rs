//! `splunk` (beyond IntelMQ): events into Splunk through the HTTP Event
//! Collector. A batch is one POST of concatenated HEC objects (`event`: the
//! flat IntelMQ event with raw kept, as the elasticsearch output sends it;
//! `time`: `time.source`, else `time.observation`, as epoch seconds).
//!
//! HEC reads a batch in order and stops at the first invalid event, answering
//! 400 with `invalid-event-number`: the events before it are indexed, that
//! event goes to the dump with Splunk's reason, the ones after are sent again.
//! 429, 503 (busy) and other 5xx are retried.

use super::elasticsearch::{transient_status, Http};
use super::retry::{Attempt, Retry};
use super::{Output, OutputOpts};
use crate::message::Message;
use crate::params::{self, Params};
use crate::pipeline::Fail;
use anyhow::bail;
use serde_json::{Map, Value};

pub struct Splunk {
    http: Http,
    path: String,
    token: String,
    /// The constant members of every HEC object (index, source, ...), as JSON
    /// text starting with a comma.
    meta: String,
    retry: Retry,
    batch_size: usize,
    body: Vec<u8>,
    ends: Vec<usize>,
}

pub fn build(o: &OutputOpts) -> anyhow::Result<Box<dyn Output>> {
    let p: &Params = &o.params;
    let url = params::string_or(p, "url", "http://127.0.0.1:8088/services/collector/event")?;
    let parsed = reqwest::Url::parse(&url).map_err(|e| anyhow::anyhow!("parameter url: {e}"))?;
    let path = match parsed.path() {
        "" | "/" => "/services/collector/event".to_string(),
        p => p.to_string(),
    };
    let base = parsed.origin().ascii_serialization();
    let token = params::required(p, "token")?;
    let mut meta = Map::new();
    for (k, d) in [
        ("index", None),
        ("sourcetype", Some("intelmq")),
        ("source", Some("imq")),
        ("host", None),
    ] {
        if let Some(v) = params::string(p, k)?
            .or(d.map(String::from))
            .filter(|s| !s.is_empty())
        {
            meta.insert(k.into(), Value::String(v));
        }
    }
    let meta = serde_json::to_string(&Value::Object(meta))?;
    let meta = match meta.strip_prefix('{').and_then(|m| m.strip_suffix('}')) {
        Some("") | None => String::new(),
        Some(m) => format!(",{m}"),
    };
    Ok(Box::new(Splunk {
        http: Http::new(p, base, true)?,
        path,
        token,
        meta,
        retry: Retry::from_params(p)?,
        batch_size: params::integer(p, "batch_size", 500)?.max(1) as usize,
        body: Vec::new(),
        ends: Vec::new(),
    }))
}

enum Sent {
    All,
    /// The event at this position of the request was refused.
    Invalid(usize, String),
}

impl Splunk {
    fn send(&self, todo: &[usize]) -> anyhow::Result<Attempt<Sent>> {
        let mut body = Vec::with_capacity(self.body.len());
        for &i in todo {
            let start = if i == 0 { 0 } else { self.ends[i - 1] };
            body.extend_from_slice(&self.body[start..self.ends[i]]);
        }
        let resp = self
            .http
            .request(reqwest::Method::POST, &self.path)
            .header("Authorization", format!("Splunk {}", self.token))
            .header("Content-Type", "application/json")
            .body(body)
            .send();
        let resp = match resp {
            Ok(r) => r,
            Err(e) => {
                return Ok(Attempt::Transient(format!(
                    "POST {}: {}",
                    self.path,
                    crate::net::error_chain(&e)
                )))
            }
        };
        let status = resp.status().as_u16();
        let text = resp.text().unwrap_or_default();
        if (200..300).contains(&status) {
            return Ok(Attempt::Done(Sent::All));
        }
        if transient_status(status) {
            return Ok(Attempt::Transient(format!(
                "HEC: HTTP {status}: {}",
                text.trim()
            )));
        }
        let answer: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if status == 400 {
            if let Some(n) = answer.get("invalid-event-number").and_then(Value::as_u64) {
                if (n as usize) < todo.len() {
                    let why = answer
                        .get("text")
                        .and_then(Value::as_str)
                        .unwrap_or("invalid event");
                    return Ok(Attempt::Done(Sent::Invalid(
                        n as usize,
                        format!("splunk refused the event: HTTP 400: {why}"),
                    )));
                }
            }
        }
        // A bad token, a wrong index: no event of the batch can go through.
        bail!("HEC: HTTP {status}: {}", text.trim())
    }
}

/// Epoch seconds of an IntelMQ time (`2024-03-01T10:00:00+00:00`).
fn epoch(s: &str) -> Option<String> {
    let t = chrono::DateTime::parse_from_rfc3339(s).ok()?;
    Some(format!("{:.3}", t.timestamp_millis() as f64 / 1000.0))
}

impl Output for Splunk {
    fn write(&mut self, ev: &Message, _original: &[u8]) -> Result<(), Fail> {
        self.body.extend_from_slice(b"{");
        if let Some(t) = ["time.source", "time.observation"]
            .iter()
            .find_map(|k| ev.get_str(k).and_then(epoch))
        {
            self.body.extend_from_slice(b"\"time\":");
            self.body.extend_from_slice(t.as_bytes());
            self.body.push(b',');
        }
        self.body.extend_from_slice(b"\"event\":");
        let at = self.body.len();
        ev.write_json(&mut self.body);
        // Drop the wire form's `__type`, its last member.
        if let Some(i) = memchr::memmem::rfind(&self.body[at..], b"\"__type\":") {
            self.body.truncate(at + i);
            if self.body.last() == Some(&b',') {
                self.body.pop();
            }
            self.body.push(b'}');
        }
        self.body.extend_from_slice(self.meta.as_bytes());
        self.body.extend_from_slice(b"}\n");
        self.ends.push(self.body.len());
        Ok(())
    }

    fn commit(&mut self) -> anyhow::Result<Vec<(usize, String)>> {
        let mut todo: Vec<usize> = (0..self.ends.len()).collect();
        let mut refused = Vec::new();
        while !todo.is_empty() {
            let what = format!("splunk HEC batch of {} events", todo.len());
            match self.retry.run(&what, || self.send(&todo))? {
                Sent::All => break,
                Sent::Invalid(n, why) => {
                    refused.push((todo[n], why));
                    todo.drain(..=n);
                }
            }
        }
        self.body.clear();
        self.ends.clear();
        Ok(refused)
    }

    fn batch_full(&self) -> bool {
        self.ends.len() >= self.batch_size || self.body.len() >= 4 << 20
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn epoch_seconds() {
        assert_eq!(
            super::epoch("2024-03-01T10:00:00+00:00").unwrap(),
            "1709287200.000"
        );
        assert_eq!(
            super::epoch("1969-12-31T23:59:59.5+00:00").unwrap(),
            "-0.500"
        );
    }
}
