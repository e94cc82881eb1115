//! A small synchronous STOMP 1.2 client for sending: CONNECT (login, passcode,
//! host header, no heart-beats) and CONNECTED, SEND with a `receipt` header,
//! RECEIPT and ERROR frames, DISCONNECT. What the `stomp` output needs and no
//! more (stomp.py's role in IntelMQ); no crate does synchronous STOMP.
//!
//! No heart-beats (`heart-beat:0,0`): the output reconnects when a send or
//! its receipt fails. Not supported: TLS, subscribing, transactions.

use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// The longest command or header line, and the largest body, we read from the
/// server (a sender gets only small frames).
const MAX_LINE: u64 = 64 << 10;
const MAX_BODY: usize = 1 << 20;

/// Where and as whom to connect.
#[derive(Clone)]
pub struct Opts {
    pub host: String,
    pub port: u16,
    /// The `host` header: the virtual host (RabbitMQ) or the server's name.
    pub vhost: String,
    pub login: Option<String>,
    /// Never shown in a message.
    pub passcode: Option<String>,
    /// For connecting and for every read and write.
    pub timeout: Duration,
}

/// Why a connection attempt failed: worth retrying (the network) or not (the
/// server refused the login or the virtual host).
pub enum ConnectError {
    Transient(String),
    Refused(String),
}

/// A frame from the server.
#[derive(Debug)]
pub struct Frame {
    pub command: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Frame {
    /// A header's value; the first occurrence counts (STOMP 1.2).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// An ERROR frame's `message` header and body, as one line of text.
    pub fn error_text(&self) -> String {
        let mut s = self.header("message").unwrap_or("").to_string();
        let body = String::from_utf8_lossy(&self.body);
        let body = body.trim();
        if !body.is_empty() && !s.contains(body) {
            if !s.is_empty() {
                s.push_str(": ");
            }
            s.push_str(&body.replace('\n', " "));
        }
        s
    }
}

/// One connection. Writes are buffered until [`Conn::flush`].
pub struct Conn {
    r: BufReader<TcpStream>,
    w: BufWriter<TcpStream>,
}

/// STOMP 1.2 header escaping (all frames but CONNECT and CONNECTED).
fn escape(s: &str, out: &mut Vec<u8>) {
    for b in s.bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b':' => out.extend_from_slice(b"\\c"),
            _ => out.push(b),
        }
    }
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('c') => out.push(':'),
            Some('\\') => out.push('\\'),
            // Undefined escapes are an error in 1.2; keep them readable.
            Some(o) => {
                out.push('\\');
                out.push(o);
            }
            None => out.push('\\'),
        }
    }
    out
}

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

impl Conn {
    /// Connect and log in: CONNECT, then CONNECTED (or the server's ERROR).
    pub fn open(o: &Opts) -> Result<Conn, ConnectError> {
        let addr = format!("{}:{}", o.host, o.port);
        let t = |e: io::Error| ConnectError::Transient(format!("STOMP server {addr}: {e}"));
        let sock = super::connect(&o.host, o.port, o.timeout).map_err(t)?;
        let setup = |s: &TcpStream| -> io::Result<TcpStream> {
            s.set_nodelay(true)?;
            s.set_read_timeout(Some(o.timeout))?;
            s.set_write_timeout(Some(o.timeout))?;
            s.try_clone()
        };
        let wsock = setup(&sock).map_err(t)?;
        let mut c = Conn {
            r: BufReader::with_capacity(16 << 10, sock),
            w: BufWriter::with_capacity(64 << 10, wsock),
        };
        // CONNECT headers are not escaped (1.2), so no line breaks in them.
        let clean = |s: &str| s.replace(['\n', '\r', '\0'], "");
        let mut f = format!(
            "CONNECT\naccept-version:1.2\nhost:{}\nheart-beat:0,0\n",
            clean(&o.vhost)
        );
        if let Some(l) = &o.login {
            f.push_str(&format!("login:{}\n", clean(l)));
        }
        if let Some(p) = &o.passcode {
            f.push_str(&format!("passcode:{}\n", clean(p)));
        }
        f.push_str("\n\0");
        c.w.write_all(f.as_bytes()).map_err(t)?;
        c.flush().map_err(t)?;
        let frame = match c.read_frame() {
            Ok(f) => f,
            // Closed without a word: often a TLS port spoken to in plain text.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                return Err(ConnectError::Transient(format!(
                    "STOMP server {addr}: {e} (without CONNECTED; is it a TLS port?)"
                )))
            }
            Err(e) => return Err(t(e)),
        };
        match frame.command.as_str() {
            "CONNECTED" => Ok(c),
            "ERROR" => Err(ConnectError::Refused(format!(
                "STOMP server {addr} refused the connection{}: {}",
                o.login
                    .as_deref()
                    .map(|l| format!(" of user {l:?}"))
                    .unwrap_or_default(),
                frame.error_text()
            ))),
            other => Err(ConnectError::Refused(format!(
                "STOMP server {addr}: expected CONNECTED, got {other:?}"
            ))),
        }
    }

    /// Buffer a SEND of `body` to `destination`, asking for receipt `receipt`.
    pub fn send(&mut self, destination: &str, body: &[u8], receipt: &str) -> io::Result<()> {
        let mut h = Vec::with_capacity(96 + destination.len());
        h.extend_from_slice(b"SEND\ndestination:");
        escape(destination, &mut h);
        h.extend_from_slice(format!("\ncontent-length:{}\nreceipt:", body.len()).as_bytes());
        escape(receipt, &mut h);
        h.extend_from_slice(b"\n\n");
        self.w.write_all(&h)?;
        self.w.write_all(body)?;
        self.w.write_all(b"\0")
    }

    /// Write out everything buffered.
    pub fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }

    /// The next frame from the server (heart-beat line ends skipped).
    pub fn read_frame(&mut self) -> io::Result<Frame> {
        let command = loop {
            let l = self.line()?;
            if !l.is_empty() {
                break l;
            }
        };
        let connected = command == "CONNECTED";
        let mut headers = Vec::new();
        loop {
            let l = self.line()?;
            if l.is_empty() {
                break;
            }
            let (k, v) = l.split_once(':').unwrap_or((l.as_str(), ""));
            if connected {
                headers.push((k.to_string(), v.to_string()));
            } else {
                headers.push((unescape(k), unescape(v)));
            }
        }
        let len = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .and_then(|(_, v)| v.trim().parse::<usize>().ok());
        let body = match len {
            Some(n) if n > MAX_BODY => return Err(bad(format!("STOMP frame body of {n} bytes"))),
            Some(n) => {
                let mut b = vec![0u8; n + 1];
                self.read_exact(&mut b)?;
                if b.pop() != Some(0) {
                    return Err(bad("STOMP frame not ended by NUL after its content-length"));
                }
                b
            }
            None => {
                let mut b = Vec::new();
                (&mut self.r).take(MAX_BODY as u64).read_until(0, &mut b)?;
                if b.pop() != Some(0) {
                    return Err(eof_or_bad(b.len() < MAX_BODY, "STOMP frame body too large"));
                }
                b
            }
        };
        Ok(Frame {
            command,
            headers,
            body,
        })
    }

    /// One line, without its end (LF or CR LF).
    fn line(&mut self) -> io::Result<String> {
        let mut b = Vec::new();
        (&mut self.r).take(MAX_LINE).read_until(b'\n', &mut b)?;
        if b.pop() != Some(b'\n') {
            return Err(eof_or_bad(
                (b.len() as u64) < MAX_LINE,
                "STOMP line too long",
            ));
        }
        if b.last() == Some(&b'\r') {
            b.pop();
        }
        String::from_utf8(b).map_err(|_| bad("STOMP frame line not UTF-8"))
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        match self.r.read_exact(buf) {
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Err(eof_or_bad(true, "")),
            r => r,
        }
    }

    /// Say goodbye (best effort: the connection is dropped either way).
    pub fn disconnect(mut self) {
        let _ = self.w.write_all(b"DISCONNECT\n\n\0");
        let _ = self.w.flush();
    }
}

fn eof_or_bad(eof: bool, msg: &str) -> io::Error {
    if eof {
        io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the server closed the connection",
        )
    } else {
        bad(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_escapes_round_trip() {
        let mut out = Vec::new();
        escape("a:b\\c\nd\re", &mut out);
        let s = String::from_utf8(out).unwrap();
        assert_eq!(s, "a\\cb\\\\c\\nd\\re");
        assert_eq!(unescape(&s), "a:b\\c\nd\re");
    }
}
