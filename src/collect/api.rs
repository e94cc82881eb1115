//! The api collector (IntelMQ's `collector_api`): an HTTP listener whose
//! `POST /intelmq/push` bodies become reports, one per request.
//!
//! Beyond IntelMQ: it binds to 127.0.0.1 unless `host` says otherwise (IntelMQ
//! listens on every interface), an optional bearer token (`api_token`; IntelMQ
//! has no authentication), a body size limit (`max_body_size`, 16 MiB: 413
//! beyond), and back-pressure: when `queue_size` reports wait to be written, a
//! request is answered 503 with `Retry-After` instead of growing memory. A
//! request is answered 200 only once its report was committed downstream (the
//! source's `ack`), so a client that got 200 knows the report is not lost; on a
//! crash it gets no answer and sends again.

use super::{Ctx, FeedMeta, Template};
use crate::params::{self, Params};
use crate::pipeline::signal;
use crate::transport::{Next, Pos, Source};
use anyhow::{Context, Result};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::time::Duration;

/// A request's body, and where to say it was committed.
struct Pushed {
    body: Vec<u8>,
    done: SyncSender<()>,
}

pub fn build(p: &Params, _args: &[String], ctx: &Ctx) -> Result<Box<dyn Source>> {
    let mut meta = FeedMeta::from_params(p)?;
    // IntelMQ's defaults for this bot's feed fields.
    meta.set_default("feed.name", "API".into());
    meta.set_default("feed.provider", "APICollector".into());
    let host = params::string_or(p, "host", "127.0.0.1")?;
    let port = params::integer(p, "port", 5000)?;
    let token = params::string(p, "api_token")?.filter(|t| !t.is_empty());
    let limit = params::integer(p, "max_body_size", 16 << 20)?.max(1) as usize;
    let queue = params::integer(p, "queue_size", 64)?.max(1) as usize;
    let listener = TcpListener::bind((host.as_str(), port as u16))
        .with_context(|| format!("api collector: listening on {host}:{port}"))?;
    if !ctx.quiet {
        crate::pipeline::eprintln_safe(&format!(
            "imq-collect: api: listening on http://{}/intelmq/push",
            listener.local_addr()?
        ));
    }
    let (tx, rx) = mpsc::sync_channel(queue);
    std::thread::Builder::new()
        .name("imq-collect-api".into())
        .spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (tx, token) = (tx.clone(), token.clone());
                std::thread::spawn(move || {
                    let _ = serve(conn, &tx, token.as_deref(), limit);
                });
            }
        })?;
    signal::install()?;
    Ok(Box::new(ApiCollector {
        rx,
        template_meta: meta,
        waiting: Vec::new(),
        count: 0,
    }))
}

fn reply(w: &mut TcpStream, status: &str, extra: &str) -> io::Result<()> {
    write!(
        w,
        "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n{extra}\r\n"
    )?;
    w.flush()
}

/// One connection, one request.
fn serve(
    conn: TcpStream,
    tx: &SyncSender<Pushed>,
    token: Option<&str>,
    limit: usize,
) -> io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut w = conn.try_clone()?;
    let mut r = BufReader::new(conn.take(limit as u64 + (64 << 10)));
    let mut line = String::new();
    r.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (mut len, mut auth, mut chunked) = (None::<usize>, None::<String>, false);
    loop {
        let mut h = String::new();
        if r.read_line(&mut h)? == 0 {
            return Ok(());
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            let v = v.trim();
            match k.trim().to_ascii_lowercase().as_str() {
                "content-length" => len = v.parse().ok(),
                "authorization" => auth = Some(v.to_string()),
                "transfer-encoding" => chunked = v.eq_ignore_ascii_case("chunked"),
                _ => {}
            }
        }
    }
    if target.split('?').next() != Some("/intelmq/push") {
        return reply(&mut w, "404 Not Found", "");
    }
    if method != "POST" {
        return reply(&mut w, "405 Method Not Allowed", "Allow: POST\r\n");
    }
    if let Some(t) = token {
        if auth.as_deref() != Some(format!("Bearer {t}").as_str()) {
            return reply(&mut w, "401 Unauthorized", "WWW-Authenticate: Bearer\r\n");
        }
    }
    if chunked {
        return reply(&mut w, "411 Length Required", "");
    }
    let Some(len) = len else {
        return reply(&mut w, "411 Length Required", "");
    };
    if len > limit {
        return reply(&mut w, "413 Payload Too Large", "");
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body)?;
    let (done, wait) = mpsc::sync_channel(1);
    match tx.try_send(Pushed { body, done }) {
        Ok(()) => {}
        Err(TrySendError::Full(_)) => {
            return reply(&mut w, "503 Service Unavailable", "Retry-After: 1\r\n")
        }
        Err(TrySendError::Disconnected(_)) => return reply(&mut w, "503 Service Unavailable", ""),
    }
    // 200 once the report is committed; no answer if the run ends first.
    match wait.recv() {
        Ok(()) => reply(&mut w, "200 OK", ""),
        Err(_) => reply(&mut w, "503 Service Unavailable", ""),
    }
}

pub struct ApiCollector {
    rx: Receiver<Pushed>,
    template_meta: FeedMeta,
    /// Requests whose reports were handed out, answered at the next ack.
    waiting: Vec<SyncSender<()>>,
    count: u64,
}

impl Source for ApiCollector {
    fn next(&mut self, buf: &mut Vec<u8>) -> io::Result<Next> {
        loop {
            if signal::stop_requested() {
                return Ok(Next::End);
            }
            match self.rx.recv_timeout(Duration::from_millis(200)) {
                Ok(p) => {
                    if p.body.is_empty() {
                        // No raw: IntelMQ drops the report; the client is told.
                        let _ = p.done.try_send(());
                        continue;
                    }
                    // A template per report: time.observation is its arrival.
                    let t = Template::new(&self.template_meta, &[])
                        .map_err(|e| io::Error::other(format!("{e:#}")))?;
                    t.write(&p.body, buf);
                    self.waiting.push(p.done);
                    self.count += 1;
                    return Ok(Next::Line);
                }
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => return Ok(Next::End),
            }
        }
    }

    fn pos(&self) -> Pos<'_> {
        Pos {
            input: "api",
            line: self.count,
        }
    }

    fn idle(&self) -> bool {
        // Commit (and answer) as soon as no request is waiting.
        true
    }

    fn ack(&mut self) -> io::Result<()> {
        for d in self.waiting.drain(..) {
            let _ = d.try_send(());
        }
        Ok(())
    }
}
