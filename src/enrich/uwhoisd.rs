//! uwhoisd: whois text of the domain, IP address and ASN from a uWhoisd server
//! (`extra.whois.fqdn`, `extra.whois.ip`, `extra.whois.asn`)
//! (IntelMQ `intelmq.bots.experts.uwhoisd.expert`).
//!
//! One TCP connection per query: send `QUERY\n`, read until the server closes.
//! Connect and read are bounded by `timeout`; a failure sends the event to the dump.

use super::{Expert, Params, Verdict};
use crate::message::Message;
use crate::net::cache::Cache;
use crate::params;
use crate::pipeline::Fail;
use crate::pyurl;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// Largest answer read (whois texts are a few KiB).
const MAX_ANSWER: u64 = 1 << 20;

pub struct Uwhoisd {
    server: String,
    port: u16,
    timeout: Duration,
    cache: Cache,
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Expert>> {
    Ok(Box::new(Uwhoisd {
        server: params::text(p, "server").map_or("localhost".into(), |s| s.into_owned()),
        port: params::number(p, "port", 4243.0)? as u16,
        timeout: params::timeout(p)?,
        cache: Cache::from_params(p, 0, 3600.0)?,
    }))
}

impl Uwhoisd {
    fn whois(&mut self, query: &str) -> Result<String, String> {
        if let Some(v) = self.cache.get(query)? {
            return Ok(v);
        }
        let deadline = Instant::now() + self.timeout;
        let err = |e: std::io::Error| format!("uwhoisd {}:{}: {e}", self.server, self.port);
        let addr = (self.server.as_str(), self.port)
            .to_socket_addrs()
            .map_err(err)?
            .next()
            .ok_or_else(|| format!("uwhoisd {}: no address", self.server))?;
        let mut s = TcpStream::connect_timeout(&addr, self.timeout).map_err(err)?;
        s.set_write_timeout(Some(self.timeout)).map_err(err)?;
        s.write_all(format!("{query}\n").as_bytes()).map_err(err)?;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let left = deadline
                .checked_duration_since(Instant::now())
                .filter(|d| !d.is_zero())
                .ok_or_else(|| format!("uwhoisd {}:{}: timed out", self.server, self.port))?;
            s.set_read_timeout(Some(left)).map_err(err)?;
            match s.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => {
                    buf.extend_from_slice(&chunk[..n]);
                    if buf.len() as u64 > MAX_ANSWER {
                        return Err(format!(
                            "uwhoisd: answer for {query} over {MAX_ANSWER} bytes"
                        ));
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(err(e)),
            }
        }
        let text = String::from_utf8(buf)
            .map_err(|e| format!("uwhoisd: answer for {query} is not UTF-8: {e}"))?;
        self.cache.set(query, &text, None)?;
        Ok(text)
    }
}

impl Expert for Uwhoisd {
    fn process(&mut self, ev: &mut Message) -> Result<Verdict, Fail> {
        let host = match ev.get_str("source.fqdn") {
            Some(f) => Some(f.to_string()),
            None => ev
                .get_str("source.url")
                .and_then(|u| pyurl::urlsplit(u).ok()?.hostname()),
        };
        let mut queries: Vec<(&str, String)> = Vec::new();
        if let Some(h) = host {
            queries.push(("extra.whois.fqdn", h));
        }
        if let Some(ip) = ev.get_str("source.ip") {
            queries.push(("extra.whois.ip", ip.to_string()));
        }
        if let Some(asn) = ev.get("source.asn") {
            queries.push(("extra.whois.asn", format!("AS{asn}")));
        }
        for (key, q) in queries {
            let text = self.whois(&q).map_err(Fail::Reject)?;
            ev.add(key, text)?;
        }
        Ok(Verdict::Keep)
    }
}
