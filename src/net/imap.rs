//! A small synchronous IMAP4rev1 client (RFC 3501) for the mail collectors:
//! LOGIN, SELECT, UID SEARCH, UID FETCH BODY.PEEK[], UID STORE +FLAGS, LOGOUT,
//! over plain TCP, implicit TLS (IMAPS) or STARTTLS (rustls).
//!
//! Responses are read line by line; a literal (`{N}` at a line's end) is read
//! as N bytes and kept beside the line's text. A literal larger than the bound
//! is read and thrown away (so the connection stays in step) and marked, so
//! that one huge mail cannot exhaust memory nor block the mails after it.

use anyhow::{bail, Context, Result};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    Plain,
    /// IMAPS: TLS from the first byte.
    Tls,
    /// Plain, then STARTTLS before LOGIN.
    StartTls,
}

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct Options {
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// Verify the server's certificate and name.
    pub verify: bool,
    /// The CA certificates (PEM) to verify with instead of the built-in roots.
    pub ca_file: Option<PathBuf>,
    pub timeout: Duration,
    /// The largest literal (mail) kept, in bytes.
    pub max_literal: usize,
}

/// A response line without its CRLF: the text (literal markers `{N}` kept in
/// place) and the literals in order.
#[derive(Debug, Default)]
pub struct Line {
    pub text: Vec<u8>,
    pub literals: Vec<Vec<u8>>,
    /// The size of a literal that was over the bound (and dropped).
    pub too_big: Option<u64>,
}

/// A text line without literals is never longer than this.
const MAX_LINE: u64 = 1 << 20;

enum Conn {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read(buf),
            Conn::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.write(buf),
            Conn::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Plain(s) => s.flush(),
            Conn::Tls(s) => s.flush(),
        }
    }
}

/// An argument of a command.
pub enum Arg<'a> {
    /// Sent as it is (keywords, sequence sets, flag lists).
    Atom(&'a str),
    /// A string: quoted, or a literal when it cannot be quoted.
    Str(&'a str),
}

/// What `UID FETCH` found.
pub enum Fetched {
    Mail(Vec<u8>),
    /// The server has no such message (any more).
    Gone,
    /// The message has this many bytes, more than the bound.
    TooBig(u64),
}

pub struct Client {
    r: BufReader<Conn>,
    tag: u32,
    max_literal: usize,
}

impl Client {
    /// Connect and read the server's greeting (and STARTTLS if asked).
    pub fn connect(o: &Options) -> Result<Client> {
        let tcp = super::connect(&o.host, o.port, o.timeout)
            .with_context(|| format!("connecting to {}:{}", o.host, o.port))?;
        tcp.set_read_timeout(Some(o.timeout))?;
        tcp.set_write_timeout(Some(o.timeout))?;
        let _ = tcp.set_nodelay(true);
        let conn = match o.security {
            Security::Tls => tls(o, tcp)?,
            _ => Conn::Plain(tcp),
        };
        let mut c = Client {
            r: BufReader::with_capacity(1 << 16, conn),
            tag: 0,
            max_literal: o.max_literal,
        };
        let greeting = c.read_line()?;
        let g = String::from_utf8_lossy(&greeting.text);
        if !(g.starts_with("* OK") || g.starts_with("* PREAUTH")) {
            bail!("unexpected IMAP greeting: {}", g.trim());
        }
        if o.security == Security::StartTls {
            c.command(&[Arg::Atom("STARTTLS")])?;
            // Anything the server sent after its answer would be taken as
            // protected by TLS although it was not (CVE-2011-0411 and kin).
            if !c.r.buffer().is_empty() {
                bail!("the IMAP server sent data after its STARTTLS answer");
            }
            let tcp = match c.r.into_inner() {
                Conn::Plain(t) => t,
                Conn::Tls(_) => unreachable!("STARTTLS on a plain connection"),
            };
            c = Client {
                r: BufReader::with_capacity(1 << 16, tls(o, tcp)?),
                tag: c.tag,
                max_literal: o.max_literal,
            };
        }
        Ok(c)
    }

    /// One response line with its literals.
    fn read_line(&mut self) -> Result<Line> {
        let mut line = Line::default();
        loop {
            let n = (&mut self.r)
                .take(MAX_LINE)
                .read_until(b'\n', &mut line.text)
                .context("reading from the IMAP server")?;
            if n == 0 {
                bail!("the IMAP server closed the connection");
            }
            if !line.text.ends_with(b"\n") {
                bail!("an IMAP response line longer than {MAX_LINE} bytes");
            }
            line.text.pop();
            if line.text.ends_with(b"\r") {
                line.text.pop();
            }
            let Some(size) = literal_size(&line.text) else {
                return Ok(line);
            };
            if size > self.max_literal as u64 {
                let got = io::copy(&mut (&mut self.r).take(size), &mut io::sink())?;
                if got < size {
                    bail!("the IMAP server closed the connection in a literal");
                }
                line.too_big = Some(size);
                line.literals.push(Vec::new());
            } else {
                let mut lit = Vec::with_capacity(size as usize);
                (&mut self.r).take(size).read_to_end(&mut lit)?;
                if (lit.len() as u64) < size {
                    bail!("the IMAP server closed the connection in a literal");
                }
                line.literals.push(lit);
            }
        }
    }

    fn write(&mut self, b: &[u8]) -> Result<()> {
        self.r
            .get_mut()
            .write_all(b)
            .context("writing to the IMAP server")
    }

    /// Send a command and read up to its tagged answer: the untagged lines
    /// (an answer other than OK is the error).
    pub fn command(&mut self, args: &[Arg]) -> Result<Vec<Line>> {
        self.tag += 1;
        let tag = format!("A{:04}", self.tag);
        let mut out = tag.clone().into_bytes();
        let what = match args.first() {
            Some(Arg::Atom(a)) if *a == "UID" => match args.get(1) {
                Some(Arg::Atom(b)) => format!("UID {b}"),
                _ => "UID".into(),
            },
            Some(Arg::Atom(a)) => a.to_string(),
            _ => "command".into(),
        };
        let mut untagged = Vec::new();
        for a in args {
            out.push(b' ');
            match a {
                Arg::Atom(s) => out.extend_from_slice(s.as_bytes()),
                Arg::Str(s) if quotable(s) => {
                    out.push(b'"');
                    for b in s.bytes() {
                        if b == b'"' || b == b'\\' {
                            out.push(b'\\');
                        }
                        out.push(b);
                    }
                    out.push(b'"');
                }
                Arg::Str(s) => {
                    // A literal: the server says `+` before it is sent.
                    out.extend_from_slice(format!("{{{}}}\r\n", s.len()).as_bytes());
                    self.write(&out)?;
                    out.clear();
                    loop {
                        let l = self.read_line()?;
                        if l.text.starts_with(b"+") {
                            break;
                        }
                        if l.text.starts_with(tag.as_bytes()) {
                            bail!(
                                "IMAP {what}: {}",
                                String::from_utf8_lossy(&l.text[tag.len()..]).trim()
                            );
                        }
                        untagged.push(l);
                    }
                    out.extend_from_slice(s.as_bytes());
                }
            }
        }
        out.extend_from_slice(b"\r\n");
        self.write(&out)?;
        self.r.get_mut().flush()?;
        loop {
            let l = self.read_line()?;
            if l.text.starts_with(tag.as_bytes()) && l.text.get(tag.len()) == Some(&b' ') {
                let rest = String::from_utf8_lossy(&l.text[tag.len() + 1..]).into_owned();
                if rest.len() >= 2 && rest[..2].eq_ignore_ascii_case("OK") {
                    return Ok(untagged);
                }
                bail!("IMAP {what}: {}", rest.trim());
            }
            if l.text.starts_with(b"* BYE") && what != "LOGOUT" {
                bail!(
                    "IMAP {what}: the server closed the session: {}",
                    String::from_utf8_lossy(&l.text[5..]).trim()
                );
            }
            untagged.push(l);
        }
    }

    pub fn login(&mut self, user: &str, password: &str) -> Result<()> {
        self.command(&[Arg::Atom("LOGIN"), Arg::Str(user), Arg::Str(password)])
            .map(drop)
    }

    pub fn select(&mut self, folder: &str) -> Result<()> {
        let name = utf7_imap(folder);
        self.command(&[Arg::Atom("SELECT"), Arg::Str(&name)])
            .map(drop)
    }

    /// `UID SEARCH` with these criteria: the UIDs found, ascending.
    pub fn uid_search(&mut self, criteria: &[Arg]) -> Result<Vec<u32>> {
        let mut args = vec![Arg::Atom("UID"), Arg::Atom("SEARCH")];
        let utf8 = criteria
            .iter()
            .any(|c| matches!(c, Arg::Str(s) if !s.is_ascii()));
        if utf8 {
            args.push(Arg::Atom("CHARSET"));
            args.push(Arg::Atom("UTF-8"));
        }
        for c in criteria {
            args.push(match c {
                Arg::Atom(a) => Arg::Atom(a),
                Arg::Str(s) => Arg::Str(s),
            });
        }
        let mut uids = Vec::new();
        for l in self.command(&args)? {
            let t = String::from_utf8_lossy(&l.text);
            let mut w = t.split_ascii_whitespace();
            if w.next() == Some("*") && w.next().is_some_and(|s| s.eq_ignore_ascii_case("SEARCH")) {
                uids.extend(w.filter_map(|n| n.parse::<u32>().ok()));
            }
        }
        uids.sort_unstable();
        uids.dedup();
        Ok(uids)
    }

    /// The whole message of `uid`, without setting `\Seen`.
    pub fn uid_fetch(&mut self, uid: u32) -> Result<Fetched> {
        let set = uid.to_string();
        let lines = self.command(&[
            Arg::Atom("UID"),
            Arg::Atom("FETCH"),
            Arg::Atom(&set),
            Arg::Atom("BODY.PEEK[]"),
        ])?;
        for mut l in lines {
            let t = String::from_utf8_lossy(&l.text).to_ascii_uppercase();
            if !t.starts_with("* ") || !t.contains(" FETCH ") || !t.contains("BODY[]") {
                continue;
            }
            // Unsolicited FETCH answers of other messages may come along.
            if fetch_uid(&t).is_some_and(|u| u != uid) {
                continue;
            }
            if let Some(n) = l.too_big {
                return Ok(Fetched::TooBig(n));
            }
            // No literal: `BODY[] ""` or `BODY[] NIL`, an empty message.
            return Ok(Fetched::Mail(l.literals.pop().unwrap_or_default()));
        }
        Ok(Fetched::Gone)
    }

    /// Add a flag (`\Seen`) to these messages.
    pub fn uid_store_flag(&mut self, uids: &[u32], flag: &str) -> Result<()> {
        if uids.is_empty() {
            return Ok(());
        }
        let set = uids
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let flags = format!("({flag})");
        self.command(&[
            Arg::Atom("UID"),
            Arg::Atom("STORE"),
            Arg::Atom(&set),
            Arg::Atom("+FLAGS.SILENT"),
            Arg::Atom(&flags),
        ])
        .map(drop)
    }

    pub fn logout(&mut self) -> Result<()> {
        self.command(&[Arg::Atom("LOGOUT")]).map(drop)
    }
}

/// `{N}` or `{N+}` at the end of a line: a literal of N bytes follows.
fn literal_size(text: &[u8]) -> Option<u64> {
    let body = text.strip_suffix(b"}")?;
    let open = body.iter().rposition(|b| *b == b'{')?;
    let n = &body[open + 1..];
    let n = n.strip_suffix(b"+").unwrap_or(n);
    if n.is_empty() || n.len() > 19 || !n.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(n).ok()?.parse().ok()
}

/// The `UID n` item of a FETCH answer (upper-cased text).
fn fetch_uid(t: &str) -> Option<u32> {
    let i = t.find("UID ")?;
    t[i + 4..]
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// A string that can go in double quotes: 7-bit, no CR, LF or NUL.
fn quotable(s: &str) -> bool {
    s.len() < 1000
        && s.bytes()
            .all(|b| b.is_ascii() && !matches!(b, b'\r' | b'\n' | 0))
}

/// A mailbox name in IMAP's modified UTF-7 (RFC 3501 5.1.3).
pub fn utf7_imap(name: &str) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD_NO_PAD;
    let mut out = String::with_capacity(name.len());
    let mut pending: Vec<u16> = Vec::new();
    let flush = |pending: &mut Vec<u16>, out: &mut String| {
        if pending.is_empty() {
            return;
        }
        let bytes: Vec<u8> = pending.iter().flat_map(|u| u.to_be_bytes()).collect();
        out.push('&');
        out.push_str(&b64.encode(bytes).replace('/', ","));
        out.push('-');
        pending.clear();
    };
    for c in name.chars() {
        if (' '..='~').contains(&c) {
            flush(&mut pending, &mut out);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            let mut buf = [0u16; 2];
            pending.extend_from_slice(c.encode_utf16(&mut buf));
        }
    }
    flush(&mut pending, &mut out);
    out
}

fn tls(o: &Options, tcp: TcpStream) -> Result<Conn> {
    let cfg = tls_config(o)?;
    let name = rustls::pki_types::ServerName::try_from(o.host.clone())
        .with_context(|| format!("{}: not a host name for TLS", o.host))?;
    let conn = rustls::ClientConnection::new(cfg, name).context("TLS")?;
    let mut s = rustls::StreamOwned::new(conn, tcp);
    // The handshake now, so that a certificate error says so.
    while s.conn.is_handshaking() {
        s.conn
            .complete_io(&mut s.sock)
            .with_context(|| format!("TLS handshake with {}:{}", o.host, o.port))?;
    }
    Ok(Conn::Tls(Box::new(s)))
}

fn tls_config(o: &Options) -> Result<Arc<rustls::ClientConfig>> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let b = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let cfg = if !o.verify {
        b.dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerify(provider)))
            .with_no_client_auth()
    } else {
        let mut roots = rustls::RootCertStore::empty();
        match &o.ca_file {
            Some(f) => {
                let certs = CertificateDer::pem_file_iter(f)
                    .with_context(|| format!("ssl_ca_certificate {}", f.display()))?;
                for c in certs {
                    let c = c.with_context(|| format!("ssl_ca_certificate {}", f.display()))?;
                    roots
                        .add(c)
                        .with_context(|| format!("ssl_ca_certificate {}", f.display()))?;
                }
                if roots.is_empty() {
                    bail!("ssl_ca_certificate {}: no certificate in it", f.display());
                }
            }
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
        b.with_root_certificates(roots).with_no_client_auth()
    };
    Ok(Arc::new(cfg))
}

/// `http_verify_cert: false`: any certificate is taken (signatures are still
/// checked, so the session is encrypted, only not authenticated).
#[derive(Debug)]
struct NoVerify(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_and_names() {
        assert_eq!(literal_size(b"* 1 FETCH (UID 5 BODY[] {1234}"), Some(1234));
        assert_eq!(literal_size(b"* 1 FETCH (BODY[] {12+}"), Some(12));
        assert_eq!(literal_size(b"* OK {x}"), None);
        assert_eq!(literal_size(b"* OK done"), None);
        assert_eq!(fetch_uid("* 3 FETCH (UID 17 BODY[] {5}"), Some(17));
        assert_eq!(utf7_imap("INBOX"), "INBOX");
        assert_eq!(utf7_imap("A&B"), "A&-B");
        // RFC 3501's example.
        assert_eq!(
            utf7_imap("~peter/mail/台北/日本語"),
            "~peter/mail/&U,BTFw-/&ZeVnLIqe-"
        );
        assert!(quotable("pass word\"\\"));
        assert!(!quotable("pässword"));
    }
}
