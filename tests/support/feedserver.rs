//! An HTTP/1.1 feed server for the collector tests, on a loopback port, plain or
//! TLS (rustls, with certificates made by rcgen in the test): every request is
//! answered by a handler closure that sees the request and how many requests
//! came before it, so tests can script 500-then-200, redirects, auth checks,
//! conditional GET and slow or huge bodies.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Req {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Req {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// The path without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }
}

pub enum Body {
    Bytes(Vec<u8>),
    /// `len` bytes made by repeating `line` (for huge feeds).
    Repeat {
        line: Vec<u8>,
        len: u64,
    },
}

pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Body,
    /// Wait this long before the headers.
    pub delay: Duration,
}

impl Reply {
    pub fn ok(body: impl Into<Vec<u8>>) -> Reply {
        Reply::status(200, body)
    }
    pub fn status(status: u16, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Body::Bytes(body.into()),
            delay: Duration::ZERO,
        }
    }
    pub fn header(mut self, k: &str, v: &str) -> Reply {
        self.headers.push((k.into(), v.into()));
        self
    }
    pub fn delay(mut self, d: Duration) -> Reply {
        self.delay = d;
        self
    }
}

pub type Handler = dyn Fn(&Req, usize) -> Reply + Send + Sync;

pub struct Server {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<Req>>>,
    pub tls: bool,
}

impl Server {
    pub fn start(h: impl Fn(&Req, usize) -> Reply + Send + Sync + 'static) -> Server {
        Server::start_inner(Arc::new(h), None)
    }

    pub fn start_tls(
        h: impl Fn(&Req, usize) -> Reply + Send + Sync + 'static,
        cfg: Arc<rustls::ServerConfig>,
    ) -> Server {
        Server::start_inner(Arc::new(h), Some(cfg))
    }

    fn start_inner(h: Arc<Handler>, tls: Option<Arc<rustls::ServerConfig>>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let count = Arc::new(AtomicUsize::new(0));
        let s2 = seen.clone();
        let is_tls = tls.is_some();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (h, seen, count, tls) = (h.clone(), s2.clone(), count.clone(), tls.clone());
                std::thread::spawn(move || match tls {
                    None => serve(conn, &*h, &seen, &count),
                    Some(cfg) => {
                        let Ok(sc) = rustls::ServerConnection::new(cfg) else {
                            return;
                        };
                        let stream = rustls::StreamOwned::new(sc, conn);
                        serve(stream, &*h, &seen, &count)
                    }
                });
            }
        });
        Server {
            addr,
            seen,
            tls: is_tls,
        }
    }

    pub fn url(&self, path: &str) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}{path}", self.addr)
    }

    pub fn requests(&self) -> Vec<Req> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve<S: Read + Write>(conn: S, h: &Handler, seen: &Mutex<Vec<Req>>, count: &AtomicUsize) {
    let mut r = BufReader::new(conn);
    let mut line = String::new();
    if r.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("").to_string();
    let mut headers = Vec::new();
    let mut len = 0usize;
    loop {
        let mut l = String::new();
        if r.read_line(&mut l).unwrap_or(0) == 0 {
            return;
        }
        let l = l.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            let (k, v) = (k.trim().to_string(), v.trim().to_string());
            if k.eq_ignore_ascii_case("content-length") {
                len = v.parse().unwrap_or(0);
            }
            headers.push((k, v));
        }
    }
    let mut body = vec![0u8; len];
    if r.read_exact(&mut body).is_err() {
        return;
    }
    let req = Req {
        method,
        target,
        headers,
        body,
    };
    let n = count.fetch_add(1, Ordering::SeqCst);
    seen.lock().unwrap().push(req.clone());
    let reply = h(&req, n);
    std::thread::sleep(reply.delay);
    let blen = match &reply.body {
        Body::Bytes(b) => b.len() as u64,
        Body::Repeat { len, .. } => *len,
    };
    let mut w = r.into_inner();
    let mut head = format!("HTTP/1.1 {} X\r\n", reply.status);
    for (k, v) in &reply.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {blen}\r\nConnection: close\r\n\r\n"
    ));
    if w.write_all(head.as_bytes()).is_err() {
        return;
    }
    match reply.body {
        Body::Bytes(b) => {
            let _ = w.write_all(&b);
        }
        Body::Repeat { line, len } => {
            let mut block = Vec::with_capacity(1 << 20);
            while block.len() + line.len() <= 1 << 20 {
                block.extend_from_slice(&line);
            }
            let mut left = len;
            while left > 0 {
                let n = left.min(block.len() as u64) as usize;
                if w.write_all(&block[..n]).is_err() {
                    return;
                }
                left -= n as u64;
            }
        }
    }
    let _ = w.flush();
}

/// Certificates for TLS tests: a CA, a server certificate for 127.0.0.1 signed
/// by it, and a client certificate signed by it.
pub struct Pki {
    pub dir: tempfile::TempDir,
    pub ca_pem: std::path::PathBuf,
    pub client_pem: std::path::PathBuf,
    pub client_key: std::path::PathBuf,
    ca_der: Vec<u8>,
    server_der: Vec<u8>,
    server_key_der: Vec<u8>,
}

impl Pki {
    pub fn new() -> Pki {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "imq test CA");
        let ca_key = KeyPair::generate().unwrap();
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let srv_key = KeyPair::generate().unwrap();
        let srv = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .unwrap()
            .signed_by(&srv_key, &ca, &ca_key)
            .unwrap();
        let cl_key = KeyPair::generate().unwrap();
        let mut cl_params = CertificateParams::new(vec!["client".to_string()]).unwrap();
        cl_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "imq test client");
        let cl = cl_params.signed_by(&cl_key, &ca, &ca_key).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let ca_pem = dir.path().join("ca.pem");
        std::fs::write(&ca_pem, ca.pem()).unwrap();
        let client_pem = dir.path().join("client.pem");
        std::fs::write(&client_pem, cl.pem()).unwrap();
        let client_key = dir.path().join("client.key");
        std::fs::write(&client_key, cl_key.serialize_pem()).unwrap();
        Pki {
            dir,
            ca_pem,
            client_pem,
            client_key,
            ca_der: ca.der().to_vec(),
            server_der: srv.der().to_vec(),
            server_key_der: srv_key.serialize_der(),
        }
    }

    /// A server config; with `client_auth`, client certificates signed by the
    /// CA are required.
    pub fn server_config(&self, client_auth: bool) -> Arc<rustls::ServerConfig> {
        use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let b = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap();
        let b = if client_auth {
            let mut roots = rustls::RootCertStore::empty();
            roots
                .add(CertificateDer::from(self.ca_der.clone()))
                .unwrap();
            let v = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .unwrap();
            b.with_client_cert_verifier(v)
        } else {
            b.with_no_client_auth()
        };
        let cfg = b
            .with_single_cert(
                vec![CertificateDer::from(self.server_der.clone())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.server_key_der.clone())),
            )
            .unwrap();
        Arc::new(cfg)
    }
}
