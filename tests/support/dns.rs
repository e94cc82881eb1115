//! A DNS server for tests: answers from a table over UDP and TCP on a loopback
//! port. Written independently of the crate's client so that the two check
//! each other.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::sync::{Arc, Mutex};

pub const A: u16 = 1;
pub const PTR: u16 = 12;
pub const TXT: u16 = 16;
pub const AAAA: u16 = 28;

/// What the server does for a (name, type).
#[derive(Clone, Debug)]
pub enum Answer {
    /// Records with this TTL.
    A(Vec<&'static str>),
    Aaaa(Vec<&'static str>),
    Ptr(Vec<&'static str>),
    /// One TXT record per entry, each of one string.
    Txt(Vec<String>),
    NxDomain,
    ServFail,
    /// Never answer (the client must time out).
    Silent,
    /// Answer over UDP with TC set and no records, the full answer over TCP.
    Truncated(Box<Answer>),
}

pub struct DnsServer {
    pub addr: SocketAddr,
    /// Questions seen, as "name/type".
    pub log: Arc<Mutex<Vec<String>>>,
}

impl DnsServer {
    /// Start serving; unknown names get NOERROR with an empty answer.
    pub fn start(table: Vec<(&str, u16, Answer)>) -> DnsServer {
        let table: HashMap<(String, u16), Answer> = table
            .into_iter()
            .map(|(n, t, a)| ((n.to_ascii_lowercase(), t), a))
            .collect();
        let table = Arc::new(table);
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = udp.local_addr().unwrap();
        // TCP on the same port number, for truncated answers.
        let tcp = TcpListener::bind(addr).unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        {
            let (table, log) = (table.clone(), log.clone());
            std::thread::spawn(move || {
                let mut buf = [0u8; 1500];
                while let Ok((n, peer)) = udp.recv_from(&mut buf) {
                    if let Some(reply) = respond(&table, &log, &buf[..n], false) {
                        let _ = udp.send_to(&reply, peer);
                    }
                }
            });
        }
        {
            let (table, log) = (table.clone(), log.clone());
            std::thread::spawn(move || {
                for conn in tcp.incoming() {
                    let Ok(mut c) = conn else { continue };
                    let mut len = [0u8; 2];
                    if c.read_exact(&mut len).is_err() {
                        continue;
                    }
                    let mut q = vec![0u8; u16::from_be_bytes(len) as usize];
                    if c.read_exact(&mut q).is_err() {
                        continue;
                    }
                    if let Some(reply) = respond(&table, &log, &q, true) {
                        let mut out = (reply.len() as u16).to_be_bytes().to_vec();
                        out.extend_from_slice(&reply);
                        let _ = c.write_all(&out);
                    }
                }
            });
        }
        DnsServer { addr, log }
    }

    pub fn questions(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

fn respond(
    table: &HashMap<(String, u16), Answer>,
    log: &Mutex<Vec<String>>,
    q: &[u8],
    tcp: bool,
) -> Option<Vec<u8>> {
    if q.len() < 12 {
        return None;
    }
    // Question name (queries are never compressed).
    let mut pos = 12;
    let mut labels = Vec::new();
    while pos < q.len() && q[pos] != 0 {
        let l = q[pos] as usize;
        labels.push(String::from_utf8_lossy(q.get(pos + 1..pos + 1 + l)?).to_ascii_lowercase());
        pos += 1 + l;
    }
    let qend = pos + 5;
    let qtype = u16::from_be_bytes([*q.get(pos + 1)?, *q.get(pos + 2)?]);
    let name = labels.join(".");
    log.lock().unwrap().push(format!("{name}/{qtype}"));
    let mut answer = table
        .get(&(name, qtype))
        .cloned()
        .unwrap_or(Answer::A(vec![]));
    let mut flags: u16 = 0x8180; // response, RD, RA
    if let Answer::Truncated(inner) = answer {
        if tcp {
            answer = *inner;
        } else {
            flags |= 0x0200;
            answer = Answer::A(vec![]);
        }
    }
    let mut rdatas: Vec<(u16, Vec<u8>)> = Vec::new();
    match &answer {
        Answer::Silent => return None,
        Answer::NxDomain => flags |= 3,
        Answer::ServFail => flags |= 2,
        Answer::A(v) => {
            for a in v {
                let ip: std::net::Ipv4Addr = a.parse().unwrap();
                rdatas.push((A, ip.octets().to_vec()));
            }
        }
        Answer::Aaaa(v) => {
            for a in v {
                let ip: std::net::Ipv6Addr = a.parse().unwrap();
                rdatas.push((AAAA, ip.octets().to_vec()));
            }
        }
        Answer::Ptr(v) => {
            for n in v {
                let mut rd = Vec::new();
                for l in n.trim_end_matches('.').split('.') {
                    rd.push(l.len() as u8);
                    rd.extend_from_slice(l.as_bytes());
                }
                rd.push(0);
                rdatas.push((PTR, rd));
            }
        }
        Answer::Txt(v) => {
            for t in v {
                let mut rd = Vec::new();
                for chunk in t.as_bytes().chunks(255) {
                    rd.push(chunk.len() as u8);
                    rd.extend_from_slice(chunk);
                }
                rdatas.push((TXT, rd));
            }
        }
        Answer::Truncated(_) => unreachable!(),
    }
    let mut m = Vec::new();
    m.extend_from_slice(&q[0..2]);
    m.extend_from_slice(&flags.to_be_bytes());
    m.extend_from_slice(&[0, 1]);
    m.extend_from_slice(&(rdatas.len() as u16).to_be_bytes());
    m.extend_from_slice(&[0, 0, 0, 0]);
    m.extend_from_slice(&q[12..qend]);
    for (t, rd) in rdatas {
        // Owner name: a pointer to the question name.
        m.extend_from_slice(&[0xC0, 12]);
        m.extend_from_slice(&t.to_be_bytes());
        m.extend_from_slice(&[0, 1, 0, 0, 0x0E, 0x10]); // IN, TTL 3600
        m.extend_from_slice(&(rd.len() as u16).to_be_bytes());
        m.extend_from_slice(&rd);
    }
    Some(m)
}
