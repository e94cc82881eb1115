//! `udp`: IntelMQ's udp output (§4.8), e.g. to a syslog daemon: one datagram
//! per event, `header` + the event as JSON (`format: json`) or as
//! `|key:value` pairs in field order (`format: delimited`), every Unicode
//! control/format character removed, a newline appended. UDP confirms
//! nothing: an event is delivered when the datagram was handed to the kernel
//! (as in IntelMQ); a send error is retried.

use super::export::to_json;
use super::retry::{Attempt, Retry};
use super::{Output, OutputOpts};
use crate::message::Message;
use crate::params::{self, Params};
use crate::pipeline::Fail;
use crate::pyfmt::py_str;
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};

pub struct Udp {
    sock: UdpSocket,
    to: SocketAddr,
    json: bool,
    delimiter: String,
    header: String,
    keep_raw: bool,
    retry: Retry,
    batch: Vec<Vec<u8>>,
}

pub fn build(o: &OutputOpts) -> anyhow::Result<Box<dyn Output>> {
    let p: &Params = &o.params;
    let host = params::string_or(p, "udp_host", "localhost")?;
    let port = params::integer(p, "udp_port", -1)?;
    if !(0..=65535).contains(&port) {
        anyhow::bail!("parameter udp_port is required (0-65535)");
    }
    // Resolved once at start, IPv4 as gethostbyname.
    let to = (host.as_str(), port as u16)
        .to_socket_addrs()
        .map_err(|e| anyhow::anyhow!("udp_host {host}: {e}"))?
        .find(SocketAddr::is_ipv4)
        .ok_or_else(|| anyhow::anyhow!("udp_host {host}: no IPv4 address"))?;
    let json = match params::required(p, "format")?.to_lowercase().as_str() {
        "json" => true,
        "delimited" => false,
        f => anyhow::bail!("Unknown format {f:?} given. Check your configuration."),
    };
    Ok(Box::new(Udp {
        sock: UdpSocket::bind("0.0.0.0:0")?,
        to,
        json,
        delimiter: params::string_or(p, "field_delimiter", "|")?,
        header: params::string_or(p, "header", "<header text>")?,
        keep_raw: params::boolean(p, "keep_raw_field", false)?,
        retry: Retry::from_params(p)?,
        batch: Vec::new(),
    }))
}

/// Unicode general category C (Cc, Cf, Cs, Co, Cn): Python's non-printable
/// characters less the separators (Z*).
fn is_category_c(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_control();
    }
    let separator = matches!(
        c as u32,
        0xa0 | 0x1680 | 0x2000..=0x200a | 0x2028 | 0x2029 | 0x202f | 0x205f | 0x3000
    );
    c.is_control() || (!separator && !crate::pyfmt::is_printable(c))
}

impl Udp {
    fn line(&self, ev: &Message) -> String {
        let mut s = self.header.clone();
        if self.json {
            s.push_str(&to_json(ev, false, false));
        } else {
            for (k, v) in ev.iter() {
                s.push_str(&self.delimiter);
                s.push_str(k);
                s.push(':');
                s.push_str(&py_str(v));
            }
        }
        let mut out: String = s.chars().filter(|c| !is_category_c(*c)).collect();
        out.push('\n');
        out
    }
}

impl Output for Udp {
    fn write(&mut self, ev: &Message, _original: &[u8]) -> Result<(), Fail> {
        // IntelMQ's `del event['raw']` fails on an event without raw (a KeyError,
        // the event to the error path): here such an event is sent as it is.
        let line = if !self.keep_raw && ev.contains("raw") {
            let mut e = ev.clone();
            e.remove("raw");
            self.line(&e)
        } else {
            self.line(ev)
        };
        self.batch.push(line.into_bytes());
        Ok(())
    }

    fn commit(&mut self) -> anyhow::Result<Vec<(usize, String)>> {
        let mut sent = 0;
        let what = format!("udp to {}", self.to);
        let retry = self.retry.clone();
        let mut refused = Vec::new();
        retry.run(&what, || {
            while sent < self.batch.len() {
                match self.sock.send_to(&self.batch[sent], self.to) {
                    Ok(_) => sent += 1,
                    // Too large for a datagram: that event cannot go this way.
                    Err(e) if e.raw_os_error() == Some(90) => {
                        refused.push((sent, format!("udp: {e}")));
                        sent += 1;
                    }
                    Err(e) => return Ok(Attempt::Transient(format!("sendto {}: {e}", self.to))),
                }
            }
            Ok(Attempt::Done(()))
        })?;
        self.batch.clear();
        Ok(refused)
    }
}
