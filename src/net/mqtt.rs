//! A small synchronous MQTT 3.1.1 publisher: CONNECT (clean session, keepalive,
//! optional username/password) and its CONNACK, PUBLISH at QoS 0 or 1 with
//! packet ids, PUBACK collection, DISCONNECT. That is all the `mqtt` output
//! needs; a crate (rumqttc, paho) would bring an async runtime or a C library
//! for it.
//!
//! No PINGREQ: the output sends a batch and waits for its acknowledgements, and
//! a connection idle for longer than the keepalive is replaced by a new one
//! before the next batch (the broker drops it after 1.5 keepalives anyway).
//! Not supported: TLS, subscribing, QoS 2, MQTT 5.

use std::io::{self, BufWriter, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const CONNECT: u8 = 1;
const CONNACK: u8 = 2;
const PUBLISH: u8 = 3;
const PUBACK: u8 = 4;
const PINGRESP: u8 = 13;
const DISCONNECT: u8 = 14;

/// The largest "remaining length" MQTT can encode (four varint bytes).
pub const MAX_PACKET: usize = 268_435_455;

/// Where and as whom to connect.
#[derive(Clone)]
pub struct Opts {
    pub host: String,
    pub port: u16,
    pub client_id: String,
    pub username: Option<String>,
    /// Never shown in a message.
    pub password: Option<String>,
    /// Seconds; 0 turns the broker's keepalive check off.
    pub keepalive: u16,
    /// For connecting and for every read and write.
    pub timeout: Duration,
}

/// Why a connection attempt failed: worth retrying (the network, the broker
/// busy) or not (the broker refused our login or client id).
pub enum ConnectError {
    Transient(String),
    Refused(String),
}

/// One connection. Writes are buffered until [`Conn::flush`].
pub struct Conn {
    sock: TcpStream,
    w: BufWriter<TcpStream>,
    keepalive: Duration,
    last_io: Instant,
    /// The last packet id handed out (ids are 1..=65535).
    next_id: u16,
}

fn put_str(w: &mut Vec<u8>, s: &[u8]) {
    w.extend_from_slice(&(s.len() as u16).to_be_bytes());
    w.extend_from_slice(s);
}

/// The fixed header: packet type and flags, then the remaining length as a
/// varint.
fn fixed_header(w: &mut Vec<u8>, first: u8, mut len: usize) {
    w.push(first);
    loop {
        let mut b = (len % 128) as u8;
        len /= 128;
        if len > 0 {
            b |= 0x80;
        }
        w.push(b);
        if len == 0 {
            break;
        }
    }
}

fn connack_reason(code: u8) -> &'static str {
    match code {
        1 => "unacceptable protocol version",
        2 => "client identifier rejected",
        3 => "server unavailable",
        4 => "bad user name or password",
        5 => "not authorized",
        _ => "unknown refusal code",
    }
}

impl Conn {
    /// Connect and wait for the broker's CONNACK.
    pub fn open(o: &Opts) -> Result<Conn, ConnectError> {
        let addr = format!("{}:{}", o.host, o.port);
        let t = |e: io::Error| ConnectError::Transient(format!("MQTT broker {addr}: {e}"));
        let sock = super::connect(&o.host, o.port, o.timeout).map_err(t)?;
        let setup = |s: &TcpStream| -> io::Result<TcpStream> {
            s.set_nodelay(true)?;
            s.set_read_timeout(Some(o.timeout))?;
            s.set_write_timeout(Some(o.timeout))?;
            s.try_clone()
        };
        let wsock = setup(&sock).map_err(t)?;
        let mut c = Conn {
            sock,
            w: BufWriter::with_capacity(64 << 10, wsock),
            keepalive: Duration::from_secs(o.keepalive as u64),
            last_io: Instant::now(),
            next_id: 0,
        };

        let mut body = Vec::with_capacity(64);
        put_str(&mut body, b"MQTT");
        body.push(4); // protocol level 3.1.1
        let mut flags = 0x02; // clean session
        if o.username.is_some() {
            flags |= 0x80;
            if o.password.is_some() {
                flags |= 0x40;
            }
        }
        body.push(flags);
        body.extend_from_slice(&o.keepalive.to_be_bytes());
        put_str(&mut body, o.client_id.as_bytes());
        if let Some(u) = &o.username {
            put_str(&mut body, u.as_bytes());
            if let Some(p) = &o.password {
                put_str(&mut body, p.as_bytes());
            }
        }
        let mut pkt = Vec::with_capacity(body.len() + 5);
        fixed_header(&mut pkt, CONNECT << 4, body.len());
        pkt.extend_from_slice(&body);
        c.w.write_all(&pkt).map_err(t)?;
        c.flush().map_err(t)?;
        let (ty, payload) = c.read_packet().map_err(t)?;
        if ty != CONNACK || payload.len() != 2 {
            return Err(ConnectError::Refused(format!(
                "MQTT broker {addr}: expected CONNACK, got packet type {ty}"
            )));
        }
        match payload[1] {
            0 => Ok(c),
            // Server unavailable: it may be back soon.
            3 => Err(ConnectError::Transient(format!(
                "MQTT broker {addr} refused the connection: server unavailable"
            ))),
            code => Err(ConnectError::Refused(format!(
                "MQTT broker {addr} refused the connection (client id {:?}{}): {} (CONNACK code {code})",
                o.client_id,
                o.username
                    .as_deref()
                    .map(|u| format!(", user {u:?}"))
                    .unwrap_or_default(),
                connack_reason(code)
            ))),
        }
    }

    /// Has the connection been idle for so long that the broker has probably
    /// dropped it (past its keepalive)?
    pub fn stale(&self) -> bool {
        !self.keepalive.is_zero() && self.last_io.elapsed() >= self.keepalive
    }

    /// The next packet id (never 0).
    pub fn next_id(&mut self) -> u16 {
        self.next_id = self.next_id.checked_add(1).unwrap_or(1);
        self.next_id
    }

    /// Buffer a PUBLISH; `id` is required for QoS 1. `dup` marks a resend.
    pub fn publish(
        &mut self,
        topic: &str,
        payload: &[u8],
        qos: u8,
        id: u16,
        retain: bool,
        dup: bool,
    ) -> io::Result<()> {
        let len = 2 + topic.len() + if qos > 0 { 2 } else { 0 } + payload.len();
        if len > MAX_PACKET || topic.len() > u16::MAX as usize {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "message too large for MQTT",
            ));
        }
        let first = PUBLISH << 4 | (dup as u8) << 3 | (qos & 3) << 1 | retain as u8;
        let mut h = Vec::with_capacity(8 + topic.len());
        fixed_header(&mut h, first, len);
        put_str(&mut h, topic.as_bytes());
        if qos > 0 {
            h.extend_from_slice(&id.to_be_bytes());
        }
        self.w.write_all(&h)?;
        self.w.write_all(payload)
    }

    /// Write out everything buffered.
    pub fn flush(&mut self) -> io::Result<()> {
        self.w.flush()?;
        self.last_io = Instant::now();
        Ok(())
    }

    /// The next PUBACK's packet id (other packets a publisher may get, such
    /// as PINGRESP, are skipped).
    pub fn read_puback(&mut self) -> io::Result<u16> {
        loop {
            let (ty, p) = self.read_packet()?;
            match ty {
                PUBACK if p.len() == 2 => return Ok(u16::from_be_bytes([p[0], p[1]])),
                PINGRESP => continue,
                _ => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("unexpected MQTT packet type {ty} from the broker"),
                    ))
                }
            }
        }
    }

    /// One packet: its type and its variable header and payload.
    fn read_packet(&mut self) -> io::Result<(u8, Vec<u8>)> {
        let mut b = [0u8; 1];
        self.read_exact(&mut b)?;
        let ty = b[0] >> 4;
        let mut len = 0usize;
        let mut mul = 1usize;
        for i in 0..4 {
            self.read_exact(&mut b)?;
            len += (b[0] & 0x7f) as usize * mul;
            mul *= 128;
            if b[0] & 0x80 == 0 {
                break;
            }
            if i == 3 {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "malformed MQTT remaining length",
                ));
            }
        }
        // A publisher gets only small packets; refuse to buffer a huge one.
        if len > 1 << 16 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("MQTT packet type {ty} of {len} bytes from the broker"),
            ));
        }
        let mut p = vec![0u8; len];
        self.read_exact(&mut p)?;
        self.last_io = Instant::now();
        Ok((ty, p))
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        match self.sock.read_exact(buf) {
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the broker closed the connection",
            )),
            r => r,
        }
    }

    /// Say goodbye (best effort: the connection is dropped either way).
    pub fn disconnect(mut self) {
        let _ = self.w.write_all(&[DISCONNECT << 4, 0]);
        let _ = self.w.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remaining_length_varint() {
        for (n, want) in [
            (0usize, vec![0u8]),
            (127, vec![0x7f]),
            (128, vec![0x80, 0x01]),
            (16_383, vec![0xff, 0x7f]),
            (2_097_152, vec![0x80, 0x80, 0x80, 0x01]),
        ] {
            let mut w = Vec::new();
            fixed_header(&mut w, 0x30, n);
            assert_eq!(&w[1..], &want[..], "{n}");
        }
    }
}
