//! A small synchronous DNS stub client: one question (A, AAAA, PTR, TXT) to one
//! recursive server over UDP with a timeout, retried over TCP when the answer is
//! truncated. Enough for the lookups of IntelMQ's experts, nothing more.

use std::fmt;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::time::{Duration, Instant};

pub const A: u16 = 1;
pub const CNAME: u16 = 5;
pub const PTR: u16 = 12;
pub const TXT: u16 = 16;
pub const AAAA: u16 = 28;

/// Record data of the types we read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rdata {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    /// PTR and CNAME targets, without the final dot.
    Name(String),
    /// The character-strings of a TXT record.
    Txt(Vec<Vec<u8>>),
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub rtype: u16,
    pub ttl: u32,
    pub data: Rdata,
}

/// Why a lookup has no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DnsError {
    /// The name does not exist (RCODE 3): a "no data" answer.
    NxDomain,
    /// Another error code from the server (SERVFAIL, REFUSED, ...).
    Rcode(u8),
    /// No answer within the timeout.
    Timeout,
    /// Socket errors (connection refused, unreachable).
    Io(String),
    /// An answer we cannot read.
    Malformed(String),
}

impl DnsError {
    /// A transport failure (as opposed to an answer saying there is no data).
    pub fn is_transport(&self) -> bool {
        !matches!(self, DnsError::NxDomain)
    }
}

impl fmt::Display for DnsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DnsError::NxDomain => f.write_str("name does not exist (NXDOMAIN)"),
            DnsError::Rcode(2) => f.write_str("server failure (SERVFAIL)"),
            DnsError::Rcode(5) => f.write_str("query refused (REFUSED)"),
            DnsError::Rcode(c) => write!(f, "error code {c}"),
            DnsError::Timeout => f.write_str("timed out"),
            DnsError::Io(e) => f.write_str(e),
            DnsError::Malformed(e) => write!(f, "malformed answer: {e}"),
        }
    }
}

/// A stub resolver talking to one server.
#[derive(Debug, Clone)]
pub struct Resolver {
    pub server: SocketAddr,
    pub timeout: Duration,
}

impl Resolver {
    /// `server` as `HOST`, `HOST:PORT` or `[V6]:PORT`; `None` takes the first
    /// nameserver of /etc/resolv.conf.
    pub fn new(server: Option<&str>, timeout: Duration) -> anyhow::Result<Resolver> {
        let server = match server {
            Some(s) if !s.is_empty() => parse_server(s)?,
            _ => system_nameserver()?,
        };
        Ok(Resolver { server, timeout })
    }

    /// Ask one question; the answer section's records.
    pub fn query(&self, name: &str, qtype: u16) -> Result<Vec<Record>, DnsError> {
        let id = query_id();
        let q = encode_query(id, name, qtype).map_err(DnsError::Malformed)?;
        let deadline = Instant::now() + self.timeout;
        let reply = self.udp(&q, id, deadline)?;
        let reply = if reply.len() > 2 && reply[2] & 0x02 != 0 {
            self.tcp(&q, deadline)?
        } else {
            reply
        };
        // Guard against stray answers with a guessed id.
        if !question_is(&reply, name, qtype) {
            return Err(bad("reply is for another question"));
        }
        parse_reply(&reply, id)
    }

    fn udp(&self, q: &[u8], id: u16, deadline: Instant) -> Result<Vec<u8>, DnsError> {
        let bind: SocketAddr = if self.server.is_ipv4() {
            (Ipv4Addr::UNSPECIFIED, 0).into()
        } else {
            (Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let io = |e: std::io::Error| DnsError::Io(format!("{}: {e}", self.server));
        let sock = UdpSocket::bind(bind).map_err(io)?;
        sock.connect(self.server).map_err(io)?;
        // Resend once halfway through the timeout: UDP may lose the packet.
        let mut sends = 0;
        let mut buf = vec![0u8; 4096];
        loop {
            let now = Instant::now();
            if now >= deadline {
                return Err(DnsError::Timeout);
            }
            if sends == 0 || (sends == 1 && deadline - now < self.timeout / 2) {
                sock.send(q).map_err(io)?;
                sends += 1;
            }
            let wait = if sends == 1 {
                (deadline - now).saturating_sub(self.timeout / 2)
            } else {
                deadline - now
            }
            .max(Duration::from_millis(1));
            sock.set_read_timeout(Some(wait)).map_err(io)?;
            match sock.recv(&mut buf) {
                Ok(n) if n >= 12 && u16::from_be_bytes([buf[0], buf[1]]) == id => {
                    return Ok(buf[..n].to_vec())
                }
                Ok(_) => continue, // stray or short datagram
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    continue
                }
                Err(e) => return Err(io(e)),
            }
        }
    }

    fn tcp(&self, q: &[u8], deadline: Instant) -> Result<Vec<u8>, DnsError> {
        let left = || {
            deadline
                .checked_duration_since(Instant::now())
                .filter(|d| !d.is_zero())
                .ok_or(DnsError::Timeout)
        };
        let io = |e: std::io::Error| match e.kind() {
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => DnsError::Timeout,
            _ => DnsError::Io(format!("{} (tcp): {e}", self.server)),
        };
        let mut s = TcpStream::connect_timeout(&self.server, left()?).map_err(io)?;
        s.set_write_timeout(Some(left()?)).map_err(io)?;
        let mut msg = (q.len() as u16).to_be_bytes().to_vec();
        msg.extend_from_slice(q);
        s.write_all(&msg).map_err(io)?;
        s.set_read_timeout(Some(left()?)).map_err(io)?;
        let mut len = [0u8; 2];
        s.read_exact(&mut len).map_err(io)?;
        let mut buf = vec![0u8; u16::from_be_bytes(len) as usize];
        s.read_exact(&mut buf).map_err(io)?;
        Ok(buf)
    }
}

fn parse_server(s: &str) -> anyhow::Result<SocketAddr> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, 53));
    }
    if let Ok(a) = s.parse::<SocketAddr>() {
        return Ok(a);
    }
    let with_port = if s.contains(':') {
        s.to_string()
    } else {
        format!("{s}:53")
    };
    with_port
        .to_socket_addrs()
        .map_err(|e| anyhow::anyhow!("DNS server {s:?}: {e}"))?
        .next()
        .ok_or_else(|| anyhow::anyhow!("DNS server {s:?}: no address"))
}

fn system_nameserver() -> anyhow::Result<SocketAddr> {
    let text = std::fs::read_to_string("/etc/resolv.conf")
        .map_err(|e| anyhow::anyhow!("/etc/resolv.conf: {e} (give --resolver HOST:PORT)"))?;
    for line in text.lines() {
        let mut w = line.split_whitespace();
        if w.next() == Some("nameserver") {
            if let Some(ip) = w
                .next()
                .and_then(|a| a.split('%').next()?.parse::<IpAddr>().ok())
            {
                return Ok(SocketAddr::new(ip, 53));
            }
        }
    }
    anyhow::bail!("/etc/resolv.conf names no nameserver (give --resolver HOST:PORT)")
}

fn query_id() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    (seed as u16) ^ ((seed >> 16) as u16) ^ NEXT.fetch_add(0x9e37, Ordering::Relaxed)
}

/// A query message with recursion desired.
pub fn encode_query(id: u16, name: &str, qtype: u16) -> Result<Vec<u8>, String> {
    let mut m = Vec::with_capacity(32 + name.len());
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.trim_end_matches('.').split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(format!("invalid name {name:?}"));
        }
        m.push(label.len() as u8);
        m.extend_from_slice(label.as_bytes());
    }
    m.push(0);
    m.extend_from_slice(&qtype.to_be_bytes());
    m.extend_from_slice(&1u16.to_be_bytes());
    Ok(m)
}

fn bad(what: &str) -> DnsError {
    DnsError::Malformed(what.to_string())
}

/// Read a (possibly compressed) name at `pos`; returns it and the position after it.
fn read_name(m: &[u8], mut pos: usize) -> Result<(String, usize), DnsError> {
    let mut out = String::new();
    let mut end = None;
    let mut jumps = 0;
    loop {
        let len = *m.get(pos).ok_or_else(|| bad("name runs past the end"))? as usize;
        if len & 0xC0 == 0xC0 {
            let lo = *m
                .get(pos + 1)
                .ok_or_else(|| bad("pointer runs past the end"))? as usize;
            end.get_or_insert(pos + 2);
            pos = ((len & 0x3F) << 8) | lo;
            jumps += 1;
            if jumps > 64 {
                return Err(bad("compression loop"));
            }
            continue;
        }
        if len == 0 {
            return Ok((out, end.unwrap_or(pos + 1)));
        }
        let label = m
            .get(pos + 1..pos + 1 + len)
            .ok_or_else(|| bad("label runs past the end"))?;
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(&String::from_utf8_lossy(label));
        pos += 1 + len;
    }
}

fn u16_at(m: &[u8], pos: usize) -> Result<u16, DnsError> {
    m.get(pos..pos + 2)
        .map(|b| u16::from_be_bytes([b[0], b[1]]))
        .ok_or_else(|| bad("short message"))
}

/// Does the reply's (first) question ask for `name`/`qtype`?
fn question_is(m: &[u8], name: &str, qtype: u16) -> bool {
    if m.len() < 12 || u16_at(m, 4).unwrap_or(0) == 0 {
        return false;
    }
    match read_name(m, 12) {
        Ok((q, end)) => {
            q.eq_ignore_ascii_case(name.trim_end_matches('.')) && u16_at(m, end) == Ok(qtype)
        }
        Err(_) => false,
    }
}

/// The answer records of a reply to query `id`.
pub fn parse_reply(m: &[u8], id: u16) -> Result<Vec<Record>, DnsError> {
    if m.len() < 12 || u16_at(m, 0)? != id {
        return Err(bad("reply does not match the query"));
    }
    match m[3] & 0x0F {
        0 => {}
        3 => return Err(DnsError::NxDomain),
        c => return Err(DnsError::Rcode(c)),
    }
    let qd = u16_at(m, 4)?;
    let an = u16_at(m, 6)?;
    let mut pos = 12;
    for _ in 0..qd {
        pos = read_name(m, pos)?.1 + 4;
    }
    let mut out = Vec::with_capacity(an as usize);
    for _ in 0..an {
        pos = read_name(m, pos)?.1;
        let rtype = u16_at(m, pos)?;
        let ttl = m
            .get(pos + 4..pos + 8)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or_else(|| bad("short record"))?;
        let rdlen = u16_at(m, pos + 8)? as usize;
        let start = pos + 10;
        let rd = m
            .get(start..start + rdlen)
            .ok_or_else(|| bad("record data runs past the end"))?;
        let data = match rtype {
            A if rdlen == 4 => Rdata::A(Ipv4Addr::new(rd[0], rd[1], rd[2], rd[3])),
            AAAA if rdlen == 16 => {
                let mut b = [0u8; 16];
                b.copy_from_slice(rd);
                Rdata::Aaaa(Ipv6Addr::from(b))
            }
            PTR | CNAME => Rdata::Name(read_name(m, start)?.0),
            TXT => {
                let mut strings = Vec::new();
                let mut i = 0;
                while i < rd.len() {
                    let l = rd[i] as usize;
                    let s = rd
                        .get(i + 1..i + 1 + l)
                        .ok_or_else(|| bad("TXT string runs past the record"))?;
                    strings.push(s.to_vec());
                    i += 1 + l;
                }
                Rdata::Txt(strings)
            }
            _ => Rdata::Other,
        };
        out.push(Record { rtype, ttl, data });
        pos = start + rdlen;
    }
    Ok(out)
}

/// The reverse lookup name of an address (`4.3.2.1.in-addr.arpa`, nibbles under
/// `ip6.arpa`).
pub fn reverse_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.{}.in-addr.arpa", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(v6) => {
            let mut s = String::with_capacity(72);
            for b in v6.octets().iter().rev() {
                for nib in [b & 0x0F, b >> 4] {
                    s.push(char::from_digit(nib as u32, 16).expect("nibble"));
                    s.push('.');
                }
            }
            s.push_str("ip6.arpa");
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reverse_names() {
        assert_eq!(
            reverse_name("192.0.43.8".parse().unwrap()),
            "8.43.0.192.in-addr.arpa"
        );
        let r = reverse_name("2001:500:88:200::8".parse().unwrap());
        assert!(r.starts_with("8.0.0.0.0.0.0.0."));
        assert!(r.ends_with(".0.0.2.0.8.8.0.0.0.0.5.0.1.0.0.2.ip6.arpa"));
    }

    #[test]
    fn parses_compressed_answer() {
        let mut m = encode_query(7, "example.org", PTR).unwrap();
        m[2] |= 0x80;
        m[7] = 1; // ancount
        m.extend_from_slice(&[0xC0, 12, 0, 12, 0, 1, 0, 0, 0, 60, 0, 2, 0xC0, 12]);
        let r = parse_reply(&m, 7).unwrap();
        assert_eq!(r[0].data, Rdata::Name("example.org".into()));
        assert_eq!(r[0].ttl, 60);
        assert!(question_is(&m, "EXAMPLE.org.", PTR));
        assert!(!question_is(&m, "example.net", PTR));
        assert!(!question_is(&m, "example.org", A));
        m[3] = 3;
        assert_eq!(parse_reply(&m, 7), Err(DnsError::NxDomain));
        assert!(parse_reply(&m[..20], 8).is_err());
    }

    #[test]
    fn resolv_conf_or_explicit() {
        let r = Resolver::new(Some("127.0.0.1:5353"), Duration::from_secs(1)).unwrap();
        assert_eq!(r.server, "127.0.0.1:5353".parse().unwrap());
        let r = Resolver::new(Some("::1"), Duration::from_secs(1)).unwrap();
        assert_eq!(r.server.port(), 53);
    }
}
