//! `elasticsearch`: events into Elasticsearch or OpenSearch through the bulk API
//! (IntelMQ's elasticsearch output, §4.4, which indexes one document per request).
//!
//! The document is IntelMQ's: flat dotted keys, `raw` kept, no `__type`;
//! `flatten_fields` and `replacement_char` as IntelMQ applies them; the index is
//! `elastic_index`, or `elastic_index-<date>` with `rotate_index` (the date of
//! `time.source`, else `time.observation`, else today). A batch is one `_bulk`
//! request; the response is read item by item: a refused document goes to the
//! dump with the server's reason, items refused with 429 or 5xx are sent again,
//! the rest is confirmed.

use super::retry::{Attempt, Retry};
use super::{Output, OutputOpts};
use crate::message::Message;
use crate::params::{self, Params};
use crate::pipeline::Fail;
use anyhow::{bail, Context};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::io::Write;

pub struct Elasticsearch {
    http: Http,
    index: String,
    rotate: Option<&'static str>,
    flatten: Vec<String>,
    replacement: Option<String>,
    retry: Retry,
    batch_size: usize,
    /// The bulk body: action and document lines of every event of the batch.
    body: Vec<u8>,
    /// Where each event's two lines end in `body`.
    ends: Vec<usize>,
    doc: Vec<u8>,
}

/// The HTTP side shared with the other HTTP outputs: a base URL, a client with
/// TLS options, basic auth.
pub struct Http {
    pub base: String,
    pub client: reqwest::blocking::Client,
    pub auth: Option<(String, Option<String>)>,
}

impl Http {
    /// `use_ssl`, `http_verify_cert` (default given), `ssl_ca_certificate`,
    /// `http_username`/`http_password`, `timeout`.
    pub fn new(p: &Params, base: String, verify_default: bool) -> anyhow::Result<Http> {
        let timeout = params::timeout(p)?;
        let verify = params::boolean(p, "http_verify_cert", verify_default)?;
        let mut b = reqwest::blocking::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(format!("imq/{}", env!("CARGO_PKG_VERSION")))
            .danger_accept_invalid_certs(!verify);
        if let Some(ca) = params::string(p, "ssl_ca_certificate")?.filter(|s| !s.is_empty()) {
            let pem = std::fs::read(&ca).with_context(|| format!("reading {ca}"))?;
            b = b.add_root_certificate(reqwest::Certificate::from_pem(&pem)?);
        }
        let auth = params::string(p, "http_username")?
            .filter(|s| !s.is_empty())
            .map(|u| Ok::<_, anyhow::Error>((u, params::string(p, "http_password")?)))
            .transpose()?;
        Ok(Http {
            base: base.trim_end_matches('/').to_string(),
            client: b.build()?,
            auth,
        })
    }

    pub fn request(
        &self,
        method: reqwest::Method,
        path: &str,
    ) -> reqwest::blocking::RequestBuilder {
        let r = self.client.request(method, format!("{}{path}", self.base));
        match &self.auth {
            Some((u, p)) => r.basic_auth(u, p.as_ref()),
            None => r,
        }
    }
}

/// Is this HTTP status worth retrying?
pub fn transient_status(s: u16) -> bool {
    s == 429 || s == 408 || s >= 500
}

const ROTATE: &[(&str, Option<&str>)] = &[
    ("never", None),
    ("daily", Some("%Y-%m-%d")),
    ("weekly", Some("%Y-%W")),
    ("monthly", Some("%Y-%m")),
    ("yearly", Some("%Y")),
];

pub fn build(o: &OutputOpts) -> anyhow::Result<Box<dyn Output>> {
    Ok(Box::new(Elasticsearch::new(&o.params)?))
}

impl Elasticsearch {
    fn new(p: &Params) -> anyhow::Result<Elasticsearch> {
        let host = params::string_or(p, "elastic_host", "127.0.0.1")?;
        let port = params::integer(p, "elastic_port", 9200)?;
        let scheme = if params::boolean(p, "use_ssl", false)? {
            "https"
        } else {
            "http"
        };
        // elastic_url (beyond IntelMQ) gives the whole base, e.g. behind a proxy path.
        let base = match params::string(p, "elastic_url")?.filter(|s| !s.is_empty()) {
            Some(u) => u,
            None if host.contains(':') && !host.starts_with('[') => {
                format!("{scheme}://[{host}]:{port}")
            }
            None => format!("{scheme}://{host}:{port}"),
        };
        // IntelMQ's default: certificates are not checked.
        let http = Http::new(p, base, false)?;
        let rotate_name = params::string_or(p, "rotate_index", "never")?;
        let rotate = match ROTATE.iter().find(|(n, _)| *n == rotate_name) {
            Some((_, r)) => *r,
            None => bail!("parameter rotate_index: never, daily, weekly, monthly or yearly, not {rotate_name:?}"),
        };
        let flatten = params::list(p, "flatten_fields")?.unwrap_or_else(|| vec!["extra".into()]);
        let replacement =
            params::string(p, "replacement_char")?.filter(|c| !c.is_empty() && c != ".");
        let es = Elasticsearch {
            http,
            index: params::string_or(p, "elastic_index", "intelmq")?,
            rotate,
            flatten,
            replacement,
            retry: Retry::from_params(p)?,
            batch_size: params::integer(p, "batch_size", 1000)?.max(1) as usize,
            body: Vec::new(),
            ends: Vec::new(),
            doc: Vec::new(),
        };
        es.retry
            .run("elasticsearch: checking the index", || es.check_index())?;
        Ok(es)
    }

    /// As IntelMQ's init: with rotation, a template named like the index must
    /// exist; without, the index is created when missing.
    fn check_index(&self) -> anyhow::Result<Attempt<()>> {
        let head = |path: &str| -> Result<u16, String> {
            self.http
                .request(reqwest::Method::HEAD, path)
                .send()
                .map(|r| r.status().as_u16())
                .map_err(|e| crate::net::error_chain(&e))
        };
        let name = &self.index;
        if self.rotate.is_some() {
            // Legacy templates (ES 7, IntelMQ's client) or composable ones (ES 8,
            // OpenSearch).
            for path in [
                format!("/_template/{name}"),
                format!("/_index_template/{name}"),
            ] {
                match head(&path) {
                    Ok(200) => return Ok(Attempt::Done(())),
                    Ok(s) if transient_status(s) => {
                        return Ok(Attempt::Transient(format!("HEAD {path}: HTTP {s}")))
                    }
                    Ok(_) => {}
                    Err(e) => return Ok(Attempt::Transient(e)),
                }
            }
            bail!(
                "no template named {name:?} on the Elasticsearch host, but rotate_index is set: create the template first"
            );
        }
        match head(&format!("/{name}")) {
            Ok(200) => Ok(Attempt::Done(())),
            Ok(404) => {
                let r = self
                    .http
                    .request(reqwest::Method::PUT, &format!("/{name}"))
                    .send();
                match r {
                    // 400: created meanwhile (resource_already_exists): IntelMQ's ignore=400.
                    Ok(r) if r.status().is_success() || r.status().as_u16() == 400 => {
                        Ok(Attempt::Done(()))
                    }
                    Ok(r) if transient_status(r.status().as_u16()) => Ok(Attempt::Transient(
                        format!("PUT /{name}: HTTP {}", r.status()),
                    )),
                    Ok(r) => bail!(
                        "creating index {name}: HTTP {}: {}",
                        r.status(),
                        r.text().unwrap_or_default()
                    ),
                    Err(e) => Ok(Attempt::Transient(crate::net::error_chain(&e))),
                }
            }
            Ok(s) if transient_status(s) => {
                Ok(Attempt::Transient(format!("HEAD /{name}: HTTP {s}")))
            }
            Ok(s) => bail!("checking index {name}: HTTP {s}"),
            Err(e) => Ok(Attempt::Transient(e)),
        }
    }

    fn index_name(&self, ev: &Message) -> String {
        let Some(fmt) = self.rotate else {
            return self.index.clone();
        };
        let date = ["time.source", "time.observation"]
            .iter()
            .find_map(|k| {
                let s = ev.get_str(k)?;
                // Only this exact form, as IntelMQ's strptime.
                chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S+00:00").ok()
            })
            .map(|t| t.date())
            .unwrap_or_else(|| chrono::Local::now().date_naive());
        format!("{}-{}", self.index, date.format(fmt))
    }

    /// The document of an event, as IntelMQ builds it, into `self.doc`.
    fn document(&mut self, ev: &Message) {
        self.doc.clear();
        let plain =
            self.replacement.is_none() && !self.flatten.iter().any(|f| ev.position(f).is_some());
        if plain {
            // The wire form is the document but for its last field, `__type`.
            ev.write_json(&mut self.doc);
            if let Some(at) = memchr::memmem::rfind(&self.doc, b"\"__type\":") {
                self.doc.truncate(at);
                if self.doc.last() == Some(&b',') {
                    self.doc.pop();
                }
                self.doc.push(b'}');
            }
            return;
        }
        let mut m: Map<String, Value> =
            ev.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        for f in &self.flatten {
            let Some(v) = m.get(f) else { continue };
            let v = match v {
                Value::String(s) => serde_json::from_str(s).unwrap_or(Value::String(s.clone())),
                v => v.clone(),
            };
            if let Value::Object(sub) = v {
                m.remove(f);
                for (k, x) in sub {
                    m.insert(format!("{f}_{k}"), x);
                }
            }
        }
        let v = match &self.replacement {
            Some(c) => replace_keys(Value::Object(m), c),
            None => Value::Object(m),
        };
        serde_json::to_writer(&mut self.doc, &v).expect("JSON to memory");
    }

    /// One `_bulk` request of the events `todo` (indexes into the batch). Returns
    /// the refused ones with reasons and the ones to send again.
    fn bulk(&self, todo: &[usize]) -> anyhow::Result<Attempt<BulkDone>> {
        let body = if todo.len() == self.ends.len() {
            self.body.clone()
        } else {
            let mut b = Vec::new();
            for &i in todo {
                let start = if i == 0 { 0 } else { self.ends[i - 1] };
                b.extend_from_slice(&self.body[start..self.ends[i]]);
            }
            b
        };
        let resp = self
            .http
            .request(reqwest::Method::POST, "/_bulk")
            .header("Content-Type", "application/x-ndjson")
            .body(body)
            .send();
        let resp = match resp {
            Ok(r) => r,
            Err(e) => {
                return Ok(Attempt::Transient(format!(
                    "POST /_bulk: {}",
                    crate::net::error_chain(&e)
                )))
            }
        };
        let status = resp.status().as_u16();
        let text = match resp.bytes() {
            Ok(t) => t,
            Err(e) => {
                return Ok(Attempt::Transient(format!(
                    "POST /_bulk: reading the answer: {}",
                    crate::net::error_chain(&e)
                )))
            }
        };
        if transient_status(status) {
            return Ok(Attempt::Transient(format!(
                "POST /_bulk: HTTP {status}: {}",
                snippet(&text)
            )));
        }
        if !(200..300).contains(&status) {
            // The request itself was refused (auth, a malformed body): no item
            // can be believed delivered, and retrying cannot help.
            bail!("POST /_bulk: HTTP {status}: {}", snippet(&text));
        }
        let head: BulkHead = serde_json::from_slice(&text)
            .with_context(|| format!("POST /_bulk: not a bulk response: {}", snippet(&text)))?;
        if !head.errors {
            return Ok(Attempt::Done((Vec::new(), Vec::new())));
        }
        let full: BulkItems =
            serde_json::from_slice(&text).context("POST /_bulk: reading the items")?;
        if full.items.len() != todo.len() {
            bail!(
                "POST /_bulk: {} items answered for {} documents",
                full.items.len(),
                todo.len()
            );
        }
        let (mut refused, mut again) = (Vec::new(), Vec::new());
        for (item, &i) in full.items.iter().zip(todo) {
            let Some(r) = item.values().next() else {
                bail!("POST /_bulk: an empty item in the answer");
            };
            let status = r.get("status").and_then(Value::as_u64).unwrap_or(0) as u16;
            if (200..300).contains(&status) {
                continue;
            }
            if transient_status(status) {
                again.push(i);
                continue;
            }
            let reason = match r.get("error") {
                Some(Value::Object(e)) => format!(
                    "elasticsearch refused the document: HTTP {status}: {}: {}",
                    e.get("type").and_then(Value::as_str).unwrap_or("error"),
                    e.get("reason").and_then(Value::as_str).unwrap_or("")
                ),
                Some(e) => format!("elasticsearch refused the document: HTTP {status}: {e}"),
                None => format!("elasticsearch refused the document: HTTP {status}"),
            };
            refused.push((i, reason));
        }
        Ok(Attempt::Done((refused, again)))
    }
}

/// What a bulk request did: the refused documents (batch index, reason) and
/// the ones to send again.
type BulkDone = (Vec<(usize, String)>, Vec<usize>);

#[derive(Deserialize)]
struct BulkHead {
    #[serde(default)]
    errors: bool,
}

#[derive(Deserialize)]
struct BulkItems {
    #[serde(default)]
    items: Vec<Map<String, Value>>,
}

fn snippet(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(&b[..b.len().min(300)]);
    s.replace('\n', " ")
}

/// IntelMQ's `replace_keys`: every `.` in every key, recursively.
fn replace_keys(v: Value, c: &str) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (k.replace('.', c), replace_keys(v, c)))
                .collect(),
        ),
        v => v,
    }
}

impl Output for Elasticsearch {
    fn write(&mut self, ev: &Message, _original: &[u8]) -> Result<(), Fail> {
        let index = self.index_name(ev);
        self.document(ev);
        self.body.extend_from_slice(b"{\"index\":{\"_index\":");
        serde_json::to_writer(&mut self.body, &index).expect("JSON to memory");
        self.body.extend_from_slice(b"}}\n");
        self.body.write_all(&self.doc)?;
        self.body.push(b'\n');
        self.ends.push(self.body.len());
        Ok(())
    }

    fn commit(&mut self) -> anyhow::Result<Vec<(usize, String)>> {
        if self.ends.is_empty() {
            return Ok(Vec::new());
        }
        let mut todo: Vec<usize> = (0..self.ends.len()).collect();
        let mut refused = Vec::new();
        let what = format!("elasticsearch bulk of {} documents", todo.len());
        self.retry.run(&what, || {
            Ok(match self.bulk(&todo)? {
                Attempt::Done((mut r, again)) => {
                    refused.append(&mut r);
                    if again.is_empty() {
                        Attempt::Done(())
                    } else {
                        let n = again.len();
                        todo = again;
                        Attempt::Transient(format!("{n} documents refused for now (429/5xx)"))
                    }
                }
                Attempt::Transient(r) => Attempt::Transient(r),
            })
        })?;
        self.body.clear();
        self.ends.clear();
        refused.sort_by_key(|r| r.0);
        Ok(refused)
    }

    fn batch_full(&self) -> bool {
        self.ends.len() >= self.batch_size || self.body.len() >= 8 << 20
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_replaced_recursively() {
        let v = replace_keys(json!({"source.ip": "1", "extra.x": {"a.b": 1}}), "_");
        assert_eq!(v, json!({"source_ip": "1", "extra_x": {"a_b": 1}}));
    }
}
