//! Network clients used by more than one tool: the HTTP client, the lookup cache
//! ([`cache`], in memory or Redis), a small DNS client ([`dns`]) and the small
//! protocol clients of the outputs ([`amqp`], [`mqtt`], [`stomp`]).
//!
//! Every network expert takes its server address as a parameter (IntelMQ's where
//! one exists, `--server`/`--resolver HOST:PORT` otherwise) and a `timeout` in
//! seconds, so that no lookup can hang and tests can point them at loopback.

pub mod amqp;
pub mod cache;
pub mod dns;
pub mod imap;
pub mod mqtt;
pub mod stomp;

use crate::params::{self, Params};
use serde_json::Value;
use std::io;
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// A TCP connection to the first of `host`'s addresses that answers within
/// `timeout` (each address tried in turn); the last address's error otherwise.
pub fn connect(host: &str, port: u16, timeout: Duration) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, format!("{host}: no address"));
    for a in (host, port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&a, timeout) {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// A blocking HTTP client with the expert's timeout; `http_verify_cert: false`
/// and `http_user_agent` as in IntelMQ.
pub fn http_client(p: &Params) -> anyhow::Result<reqwest::blocking::Client> {
    let timeout = params::timeout(p)?;
    let verify = params::boolean(p, "http_verify_cert", true)?;
    let ua = params::string(p, "http_user_agent")?
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
    dns::Resolver::new(params::text(p, "resolver").as_deref(), params::timeout(p)?)
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
