//! Shared pieces of the network experts: parameter access, the lookup cache
//! ([`cache`]) and a small DNS client ([`dns`]).
//!
//! Every network expert takes its server address as a parameter (IntelMQ's where
//! one exists, `--server`/`--resolver HOST:PORT` otherwise) and a `timeout` in
//! seconds, so that no lookup can hang and tests can point them at loopback.

pub mod cache;
pub mod dns;

use super::Params;
use serde_json::Value;
use std::time::Duration;

/// Default timeout of one network call.
pub const DEFAULT_TIMEOUT: f64 = 5.0;

/// A string parameter (numbers are taken as their text, as IntelMQ's YAML would).
pub fn str_param<'a>(p: &'a Params, key: &str) -> Option<std::borrow::Cow<'a, str>> {
    match p.get(key)? {
        Value::String(s) => Some(std::borrow::Cow::Borrowed(s)),
        Value::Null => None,
        Value::Number(n) => Some(std::borrow::Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(std::borrow::Cow::Owned(b.to_string())),
        _ => None,
    }
}

/// A boolean parameter; IntelMQ's configuration tools pass "true"/"false" as text too.
pub fn bool_param(p: &Params, key: &str, default: bool) -> anyhow::Result<bool> {
    match p.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::Number(n)) => Ok(n.as_f64() != Some(0.0)),
        Some(Value::String(s)) => match s.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" | "on" => Ok(true),
            "false" | "no" | "0" | "off" | "" => Ok(false),
            _ => anyhow::bail!("parameter {key}: expected a boolean, got {s:?}"),
        },
        Some(v) => anyhow::bail!("parameter {key}: expected a boolean, got {v}"),
    }
}

/// A numeric parameter.
pub fn num_param(p: &Params, key: &str, default: f64) -> anyhow::Result<f64> {
    match p.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Number(n)) => Ok(n.as_f64().unwrap_or(default)),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map_err(|_| anyhow::anyhow!("parameter {key}: expected a number, got {s:?}")),
        Some(v) => anyhow::bail!("parameter {key}: expected a number, got {v}"),
    }
}

/// The `timeout` parameter (seconds; IntelMQ's HTTP experts call it
/// `http_timeout_sec`, accepted too).
pub fn timeout_param(p: &Params) -> anyhow::Result<Duration> {
    let t = if p.contains_key("timeout") {
        num_param(p, "timeout", DEFAULT_TIMEOUT)?
    } else {
        num_param(p, "http_timeout_sec", DEFAULT_TIMEOUT)?
    };
    if !(t > 0.0 && t.is_finite()) {
        anyhow::bail!("parameter timeout: must be a positive number of seconds, got {t}");
    }
    Ok(Duration::from_secs_f64(t))
}

/// A list parameter given as a JSON list or a comma-separated string.
pub fn list_param(p: &Params, key: &str) -> Vec<String> {
    match p.get(key) {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(s.trim().to_string()),
                Value::Null => None,
                other => Some(other.to_string()),
            })
            .collect(),
        Some(Value::String(s)) => s
            .split(',')
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect(),
        Some(Value::Number(n)) => vec![n.to_string()],
        _ => Vec::new(),
    }
}

/// A blocking HTTP client with the expert's timeout; `http_verify_cert: false`
/// and `http_user_agent` as in IntelMQ.
pub fn http_client(p: &Params) -> anyhow::Result<reqwest::blocking::Client> {
    let timeout = timeout_param(p)?;
    let verify = bool_param(p, "http_verify_cert", true)?;
    let ua = str_param(p, "http_user_agent")
        .map(|s| s.into_owned())
        .unwrap_or_else(|| format!("imq/{}", env!("CARGO_PKG_VERSION")));
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(Value::Object(h)) = p.get("http_header") {
        for (k, v) in h {
            let v = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            headers.insert(
                reqwest::header::HeaderName::from_bytes(k.as_bytes())?,
                reqwest::header::HeaderValue::from_str(&v)?,
            );
        }
    }
    Ok(reqwest::blocking::Client::builder()
        .default_headers(headers)
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(ua)
        .danger_accept_invalid_certs(!verify)
        .build()?)
}

/// The DNS resolver of an expert: `resolver` (`HOST[:PORT]`), else the first
/// nameserver of /etc/resolv.conf; `timeout` seconds per lookup.
pub fn resolver(p: &Params) -> anyhow::Result<dns::Resolver> {
    dns::Resolver::new(str_param(p, "resolver").as_deref(), timeout_param(p)?)
}

/// `Add` with IntelMQ's `overwrite=` argument.
pub fn add_opt(overwrite: bool) -> crate::message::Add {
    crate::message::Add {
        sanitize: true,
        overwrite: Some(overwrite),
    }
}

/// An HTTP answer, read in full.
pub struct HttpReply {
    pub status: u16,
    pub body: String,
}

impl HttpReply {
    /// Python requests' `Response.reason` for the status.
    pub fn reason(&self) -> &'static str {
        reqwest::StatusCode::from_u16(self.status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("")
    }

    /// requests' truthiness: status below 400.
    pub fn ok(&self) -> bool {
        self.status < 400
    }

    pub fn json(&self) -> Result<Value, String> {
        serde_json::from_str(&self.body).map_err(|e| format!("response is not JSON: {e}"))
    }
}

/// GET `url` with query parameters; a transport failure is the error text.
pub fn http_get(
    client: &reqwest::blocking::Client,
    url: &str,
    query: &[(&str, &str)],
) -> Result<HttpReply, String> {
    let resp = client
        .get(url)
        .query(query)
        .send()
        .map_err(|e| format!("GET {url}: {}", error_chain(&e)))?;
    let status = resp.status().as_u16();
    let body = resp
        .text()
        .map_err(|e| format!("GET {url}: reading the body: {}", error_chain(&e)))?;
    Ok(HttpReply { status, body })
}

/// An error with its causes, as one line.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}
