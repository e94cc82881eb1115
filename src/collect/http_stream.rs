//! The http_stream collector (IntelMQ's `collector_http_stream`): a long-lived
//! HTTP response (`http_url`), one report per non-empty line (`raw` the line,
//! stripped of surrounding whitespace unless `strip_lines` is false;
//! `feed.url` the URL), each committed downstream as soon as it is made.
//!
//! When the stream ends or breaks (connection refused or lost, a read timeout
//! of `http_timeout_sec`, a 5xx or 429 answer) it connects again after
//! `http_retry_delay` seconds (1), doubling while connections bring no line, up
//! to a minute, until SIGTERM or SIGINT (exit 0). A 4xx answer (other than 408
//! and 429) is a configuration error and ends the run (exit 2 if no line came).
//!
//! For one-shot use (tests, a stream that ends by itself), `stop_at_end` (an imq
//! addition) ends the run when the stream ends; then `error_max_retries` (3)
//! consecutive errors without a line fail the run, as in IntelMQ.
//!
//! Beyond IntelMQ: IntelMQ returns when the stream ends and connects again only
//! after `rate_limit` (an hour); a line with no line end for 8 MiB is cut there
//! (IntelMQ would grow its buffer without bound). The http collector's HTTP
//! parameters apply (authentication, headers, proxies, TLS, timeouts).

use super::{Ctx, FeedMeta, Template};
use crate::collect::http;
use crate::params::{self, Params};
use crate::pipeline::signal;
use crate::transport::{Next, Pos, Source};
use anyhow::{bail, Result};
use reqwest::blocking::Client;
use std::io::{self, BufRead, BufReader};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::time::Duration;

/// Longest line: longer ones are cut into reports of this size.
const MAX_LINE: usize = http::DEFAULT_CHUNK;
/// Lines read ahead of the loop.
const QUEUE: usize = 1024;
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// What the reading thread tells the collector.
enum Event {
    Line(Vec<u8>),
    /// Connected (a 2xx answer).
    Connected,
    /// Something to say (a reconnection).
    Note(String),
    /// The run fails with this reason.
    Fatal(String),
    /// The stream ended and `stop_at_end` is set.
    End,
}

/// What the reading thread needs.
struct Stream {
    url: String,
    client: Client,
    auth: Option<(String, String)>,
    strip: bool,
    stop_at_end: bool,
    max_errors: u32,
    delay: Duration,
}

pub fn build(p: &Params, args: &[String], ctx: &Ctx) -> Result<Box<dyn Source>> {
    let url = match args {
        [u] => u.clone(),
        [] => match params::string(p, "http_url")? {
            Some(u) if !u.is_empty() && u != "<insert url of feed>" => u,
            _ => bail!("parameter http_url is required (the URL of the stream)"),
        },
        _ => bail!(
            "the http_stream collector reads one URL, got {}",
            args.len()
        ),
    };
    let user = params::string(p, "http_username")?.filter(|s| !s.is_empty());
    let pass = params::string(p, "http_password")?.filter(|s| !s.is_empty());
    let auth = match (user, pass) {
        (Some(u), Some(p)) => Some((u, p)),
        (None, None) => None,
        _ => {
            crate::pipeline::eprintln_safe(
                "imq-collect: only one of http_username and http_password is set: no authentication",
            );
            None
        }
    };
    let max_errors = params::integer(p, "error_max_retries", 3)?.clamp(0, 1 << 20) as u32;
    let stream = Stream {
        client: http::client(p)?,
        auth,
        strip: params::boolean(p, "strip_lines", true)?,
        stop_at_end: params::boolean(p, "stop_at_end", false)?,
        max_errors,
        delay: http::Retries::from_params(p)?.delay,
        url: url.clone(),
    };
    let meta = FeedMeta::from_params(p)?;
    // Fail on a bad field before connecting.
    Template::new(&meta, &[("feed.url", &url)])?;
    signal::install()?;
    let (tx, rx) = mpsc::sync_channel(QUEUE);
    let queued = Arc::new(AtomicUsize::new(0));
    let q = queued.clone();
    std::thread::Builder::new()
        .name("imq-collect-stream".into())
        .spawn(move || stream.run(&tx, &q))?;
    Ok(Box::new(HttpStream {
        input: crate::transport::mask(&url),
        label: meta.label("http_stream"),
        url,
        meta,
        template: None,
        rx,
        queued,
        connected: false,
        ctx: ctx.clone(),
        count: 0,
    }))
}

/// Python's `bytes.strip()`: ASCII whitespace at both ends.
fn strip(line: &[u8]) -> &[u8] {
    let ws = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
    let start = line.iter().position(|b| !ws(b)).unwrap_or(line.len());
    let end = line.iter().rposition(|b| !ws(b)).map_or(start, |i| i + 1);
    &line[start..end]
}

/// How one connection ended.
enum Ended {
    /// The body ended.
    Clean,
    /// A retried error.
    Error(String),
    /// An error that connecting again will not cure.
    Fatal(String),
    /// Stopped, or nobody listens any more.
    Gone,
}

impl Stream {
    /// Connect, read, connect again, as the module doc says.
    fn run(self, tx: &SyncSender<Event>, queued: &AtomicUsize) {
        let send = |ev: Event| {
            queued.fetch_add(1, Ordering::SeqCst);
            tx.send(ev).is_ok()
        };
        let what = format!("GET {}", crate::transport::mask(&self.url));
        // Connections in a row that brought no line.
        let mut streak = 0u32;
        loop {
            if signal::stop_requested() {
                return;
            }
            let mut got_line = false;
            let ended = self.connect(&send, &mut got_line);
            if got_line {
                streak = 0;
            } else {
                streak += 1;
            }
            let why = match ended {
                Ended::Gone => return,
                Ended::Fatal(e) => {
                    send(Event::Fatal(format!("{what}: {e}")));
                    return;
                }
                Ended::Clean if self.stop_at_end => {
                    send(Event::End);
                    return;
                }
                Ended::Clean => "the stream ended".to_string(),
                Ended::Error(e) => {
                    if self.stop_at_end && streak > self.max_errors {
                        send(Event::Fatal(format!(
                            "{what}: {e} ({streak} errors in a row, error_max_retries {})",
                            self.max_errors
                        )));
                        return;
                    }
                    e
                }
            };
            let wait = self
                .delay
                .saturating_mul(1 << streak.saturating_sub(1).min(16))
                .min(MAX_BACKOFF);
            if !send(Event::Note(format!(
                "{what}: {why}; connecting again in {:.1} s",
                wait.as_secs_f64()
            ))) {
                return;
            }
            if !http::sleep(wait) {
                return;
            }
        }
    }

    /// One connection: its lines go out as events.
    fn connect(&self, send: &dyn Fn(Event) -> bool, got_line: &mut bool) -> Ended {
        let mut req = self.client.get(&self.url);
        if let Some((u, p)) = &self.auth {
            req = req.basic_auth(u, Some(p));
        }
        let resp = match req.send() {
            Ok(r) => r,
            Err(e) => return Ended::Error(crate::net::error_chain(&e)),
        };
        let s = resp.status().as_u16();
        if !(200..300).contains(&s) {
            let why = format!("HTTP response status code was {s}.");
            return if (400..500).contains(&s) && s != 408 && s != 429 {
                Ended::Fatal(why)
            } else {
                Ended::Error(why)
            };
        }
        if !send(Event::Connected) {
            return Ended::Gone;
        }
        let mut r = BufReader::with_capacity(1 << 16, http::decoded_body(resp, None));
        let mut line = Vec::new();
        let mut emit = |line: &mut Vec<u8>| -> bool {
            let l = if self.strip { strip(line) } else { &line[..] };
            let ok = l.is_empty() || {
                *got_line = true;
                send(Event::Line(l.to_vec()))
            };
            line.clear();
            ok
        };
        loop {
            if signal::stop_requested() {
                return Ended::Gone;
            }
            let buf = match r.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Ended::Error(format!("reading the stream: {e}")),
            };
            if buf.is_empty() {
                // The last line may have no line end.
                if !emit(&mut line) {
                    return Ended::Gone;
                }
                return Ended::Clean;
            }
            // Lines end at \n, \r or \r\n (Python's splitlines): the empty
            // line between \r and \n is dropped as every empty line is.
            let (take, end) = match buf.iter().position(|b| *b == b'\n' || *b == b'\r') {
                Some(i) => {
                    line.extend_from_slice(&buf[..i]);
                    (i + 1, true)
                }
                None => {
                    let n = buf.len().min(MAX_LINE.saturating_sub(line.len()).max(1));
                    line.extend_from_slice(&buf[..n]);
                    (n, line.len() >= MAX_LINE)
                }
            };
            r.consume(take);
            if end && !emit(&mut line) {
                return Ended::Gone;
            }
        }
    }
}

pub struct HttpStream {
    url: String,
    input: String,
    label: String,
    meta: FeedMeta,
    /// The report template and its `time.observation` (made again each second).
    template: Option<(String, Template)>,
    rx: Receiver<Event>,
    /// Events sent and not received yet (for `idle`).
    queued: Arc<AtomicUsize>,
    connected: bool,
    ctx: Ctx,
    count: u64,
}

impl Source for HttpStream {
    fn next(&mut self, buf: &mut Vec<u8>) -> io::Result<Next> {
        loop {
            if signal::stop_requested() {
                return Ok(Next::End);
            }
            let ev = match self.rx.recv_timeout(Duration::from_millis(100)) {
                Ok(ev) => ev,
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => return Ok(Next::End),
            };
            self.queued.fetch_sub(1, Ordering::SeqCst);
            match ev {
                Event::Line(line) => {
                    let now = super::now_observation();
                    if self.template.as_ref().is_none_or(|(t, _)| *t != now) {
                        let t = Template::new(&self.meta, &[("feed.url", &self.url)])
                            .map_err(|e| io::Error::other(format!("{e:#}")))?;
                        self.template = Some((now, t));
                    }
                    let (_, t) = self.template.as_ref().expect("template made above");
                    t.write(&line, buf);
                    self.count += 1;
                    return Ok(Next::Line);
                }
                Event::Connected => {
                    if !self.connected {
                        self.connected = true;
                        self.ctx.fetched(false);
                    }
                }
                Event::Note(n) => {
                    if !self.ctx.quiet {
                        crate::pipeline::eprintln_safe(&format!(
                            "imq-collect: feed {}: {}",
                            self.label,
                            crate::transport::mask(&n)
                        ));
                    }
                }
                Event::Fatal(e) => {
                    self.ctx.failed(&self.label, &e);
                    return Ok(Next::End);
                }
                Event::End => return Ok(Next::End),
            }
        }
    }

    fn pos(&self) -> Pos<'_> {
        Pos {
            input: &self.input,
            line: self.count,
        }
    }

    fn idle(&self) -> bool {
        // Nothing read ahead: the next line may be long in coming, so what
        // was made so far is committed now.
        self.queued.load(Ordering::SeqCst) == 0
    }

    fn ack(&mut self) -> io::Result<()> {
        // A stream cannot be asked again for what it sent: nothing to keep.
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::strip;

    #[test]
    fn strip_as_python() {
        assert_eq!(strip(b" \t a b \x0b\x0c\r"), b"a b");
        assert_eq!(strip(b"   "), b"");
        assert_eq!(strip(b""), b"");
        assert_eq!(strip(b"x"), b"x");
    }
}
