//! `restapi`: IntelMQ's restapi output (§4.14): an HTTP POST of each event to
//! `host` (the whole URL), `event.to_dict(hierarchical_output)` with raw kept,
//! as JSON (`use_json`, requests' `json=`) or form data; `auth_type`
//! `http_header` (header `auth_token_name: auth_token`) or `http_basic_auth`.
//!
//! Beyond IntelMQ, `batch_size` > 1 posts JSON arrays of events. A 2xx answer
//! confirms; 408, 429 and 5xx are retried; another 4xx refuses that event (in a
//! batch, the batch's events are then posted one by one to find which); 401,
//! 403, 404 and 405 mean no event can go through: the run stops.

use super::elasticsearch::{transient_status, Http};
use super::export::to_dict;
use super::retry::{Attempt, Retry};
use super::{Output, OutputOpts};
use crate::message::Message;
use crate::params::{self, Params};
use crate::pipeline::Fail;
use crate::pyfmt::{py_json_dumps, py_str};
use serde_json::Value;

pub struct RestApi {
    http: Http,
    header: Option<(String, String)>,
    use_json: bool,
    hierarchical: bool,
    retry: Retry,
    batch_size: usize,
    batch: Vec<Value>,
}

pub fn build(o: &OutputOpts) -> anyhow::Result<Box<dyn Output>> {
    let p: &Params = &o.params;
    let host = match &o.target {
        Some(t) => t.clone(),
        None => params::required(p, "host")?,
    };
    reqwest::Url::parse(&host).map_err(|e| anyhow::anyhow!("parameter host: {e}"))?;
    let mut q = p.clone();
    // IntelMQ's HTTP mixin: 30 s per request unless given.
    if !q.contains_key("timeout") && !q.contains_key("http_timeout_sec") {
        q.insert("http_timeout_sec".into(), 30.into());
    }
    let name = params::string(p, "auth_token_name")?.filter(|s| !s.is_empty());
    let token = params::string(p, "auth_token")?.filter(|s| !s.is_empty());
    let mut header = None;
    if let (Some(n), Some(t)) = (name, token) {
        match params::string(p, "auth_type")?.as_deref() {
            Some("http_header") => header = Some((n, t)),
            Some("http_basic_auth") => {
                q.insert("http_username".into(), n.into());
                q.insert("http_password".into(), t.into());
            }
            _ => {}
        }
    }
    let mut http = Http::new(&q, host.clone(), true)?;
    // The URL as given: Http trims a final slash meant for paths added to it.
    http.base = host;
    if params::string(p, "auth_type")?.as_deref() != Some("http_basic_auth") {
        // http_username is no parameter of this bot.
        http.auth = None;
    }
    Ok(Box::new(RestApi {
        http,
        header,
        use_json: params::boolean(p, "use_json", true)?,
        hierarchical: params::boolean(p, "hierarchical_output", false)?,
        retry: Retry::from_params(p)?,
        batch_size: params::integer(p, "batch_size", 1)?.max(1) as usize,
        batch: Vec::new(),
    }))
}

enum Posted {
    Ok,
    Refused(String),
}

impl RestApi {
    fn post(&self, body: &Value) -> anyhow::Result<Attempt<Posted>> {
        let mut r = self
            .http
            .request(reqwest::Method::POST, "")
            // IntelMQ sets this header whatever the body is.
            .header("Content-Type", "application/json; charset=utf-8");
        if let Some((n, t)) = &self.header {
            r = r.header(n.as_str(), t.as_str());
        }
        r = if self.use_json {
            r.body(py_json_dumps(body, false))
        } else {
            let form: Vec<(String, String)> = match body {
                Value::Object(m) => m.iter().map(|(k, v)| (k.clone(), py_str(v))).collect(),
                _ => Vec::new(),
            };
            r.body(
                form.iter()
                    .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
                    .collect::<Vec<_>>()
                    .join("&"),
            )
        };
        let resp = match r.send() {
            Ok(r) => r,
            Err(e) => {
                return Ok(Attempt::Transient(format!(
                    "POST: {}",
                    crate::net::error_chain(&e)
                )))
            }
        };
        let status = resp.status().as_u16();
        let text = resp.text().unwrap_or_default();
        let text: String = text.trim().chars().take(300).collect();
        Ok(match status {
            200..=299 => Attempt::Done(Posted::Ok),
            s if transient_status(s) => Attempt::Transient(format!("HTTP {s}: {text}")),
            401 | 403 | 404 | 405 => {
                anyhow::bail!("POST {}: HTTP {status}: {text}", self.http.base)
            }
            s => Attempt::Done(Posted::Refused(format!(
                "the REST API refused the event: HTTP {s}: {text}"
            ))),
        })
    }
}

impl RestApi {
    /// Post `batch[i..i + n]` one event at a time.
    fn one_by_one(
        &self,
        what: &str,
        batch: &[Value],
        i: usize,
        n: usize,
        refused: &mut Vec<(usize, String)>,
    ) -> anyhow::Result<()> {
        for (k, ev) in batch.iter().enumerate().skip(i).take(n) {
            if let Posted::Refused(why) = self.retry.run(what, || self.post(ev))? {
                refused.push((k, why));
            }
        }
        Ok(())
    }
}

/// application/x-www-form-urlencoded, as requests encodes `data=`.
fn enc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                o.push(b as char)
            }
            b' ' => o.push('+'),
            b => o.push_str(&format!("%{b:02X}")),
        }
    }
    o
}

impl Output for RestApi {
    fn write(&mut self, ev: &Message, _original: &[u8]) -> Result<(), Fail> {
        self.batch
            .push(Value::Object(to_dict(ev, self.hierarchical, false)));
        Ok(())
    }

    fn commit(&mut self) -> anyhow::Result<Vec<(usize, String)>> {
        let mut refused = Vec::new();
        let batch = std::mem::take(&mut self.batch);
        let mut i = 0;
        while i < batch.len() {
            let n = self.batch_size.min(batch.len() - i);
            let what = format!("restapi POST of {n} events to {}", self.http.base);
            if n == 1 || !self.use_json {
                // One event at a time (IntelMQ's way; form data cannot hold a list).
                self.one_by_one(&what, &batch, i, n, &mut refused)?;
            } else {
                let body = Value::Array(batch[i..i + n].to_vec());
                if let Posted::Refused(_) = self.retry.run(&what, || self.post(&body))? {
                    // Which event was it? Each on its own.
                    self.one_by_one(&what, &batch, i, n, &mut refused)?;
                }
            }
            i += n;
        }
        Ok(refused)
    }

    fn batch_full(&self) -> bool {
        self.batch.len() >= self.batch_size.max(100)
    }
}
