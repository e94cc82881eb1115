//! The http collector (IntelMQ's `collector_http`): download a URL, unpack it as
//! `extract_files` says, and make reports of it (`feed.url` = the URL after
//! `http_url_formatting`, `extra.file_name` = the archive member).
//!
//! Beyond IntelMQ:
//! * conditional GET: with a state directory, the feed's `ETag` and
//!   `Last-Modified` are sent back as `If-None-Match` / `If-Modified-Since`; a
//!   `304` makes no report. The state is saved in `ack`, i.e. only once the
//!   reports of the download were committed downstream.
//! * retries with backoff on connection errors, 5xx and 429 (honouring
//!   `Retry-After`), not only on connection errors as IntelMQ's urllib3 does.
//! * the body is streamed, never held whole: a body larger than `chunk_size`
//!   (default 8 MiB) becomes several reports cut at line ends by IntelMQ's
//!   chunking rules, the first line repeated in each (`chunk_replicate_header`).
//!   A body that fits is one report, exactly as IntelMQ makes it.

use super::chunk::{Chunker, Chunking};
use super::extract::{self, Extract, Opened, Piece, Producer};
use super::{state, Ctx, FeedMeta, Template};
use crate::params::{self, Params};
use crate::pipeline::signal;
use crate::transport::{Next, Pos, Source};
use anyhow::{bail, Context, Result};
use reqwest::blocking::{Client, Response};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value};
use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Default bound on the feed bytes of one report (see the module doc).
pub const DEFAULT_CHUNK: usize = 8 << 20;
/// A `Retry-After` longer than this is not waited for: the feed fails now.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// One HTTP feed, ready to fetch.
pub(super) struct Feed {
    /// `http_url` before formatting.
    url: String,
    formatting: Option<Value>,
    method: reqwest::Method,
    body: Option<String>,
    auth: Option<(String, String)>,
    extract: Extract,
    chunking: Chunking,
    retries: Retries,
    client: Client,
    meta: FeedMeta,
    /// What the state file is keyed by.
    identity: String,
}

/// Build from IntelMQ's parameters; `args` are more URLs (each a feed of its
/// own with the same parameters).
pub fn build(p: &Params, args: &[String], ctx: &Ctx) -> Result<Box<dyn crate::transport::Source>> {
    let mut urls: Vec<String> = args.to_vec();
    if urls.is_empty() {
        match params::string(p, "http_url")? {
            Some(u) if !u.is_empty() && u != "<insert url of feed>" => urls.push(u),
            _ => bail!("parameter http_url is required (the URL to fetch)"),
        }
    }
    let client = client(p)?;
    let meta = FeedMeta::from_params(p)?;
    let mut feeds = Vec::new();
    for url in urls {
        feeds.push(feed(p, url, client.clone(), meta.clone())?);
    }
    Ok(Box::new(HttpCollector {
        feeds,
        idx: 0,
        current: None,
        pending: Vec::new(),
        ctx: ctx.clone(),
        input: String::new(),
        count: 0,
    }))
}

fn feed(p: &Params, url: String, client: Client, meta: FeedMeta) -> Result<Feed> {
    let formatting = match p.get("http_url_formatting") {
        None | Some(Value::Null) | Some(Value::Bool(false)) => None,
        Some(Value::String(s)) if s.is_empty() || s.eq_ignore_ascii_case("false") => None,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Some(Value::Bool(true)),
        Some(Value::String(s)) => Some(
            serde_json::from_str(s)
                .with_context(|| format!("parameter http_url_formatting: {s:?} is no JSON"))?,
        ),
        Some(v) => Some(v.clone()),
    };
    if let Some(f) = &formatting {
        // Fail on a bad template before fetching anything.
        format_url(&url, f, chrono::Local::now().naive_local())?;
    }
    let method = params::string_or(p, "http_method", "GET")?;
    let method = reqwest::Method::from_bytes(method.to_ascii_uppercase().as_bytes())
        .map_err(|_| anyhow::anyhow!("parameter http_method: {method:?}"))?;
    let auth = auth(p)?;
    let extract = extract_files(p)?;
    let chunking = chunking(p, DEFAULT_CHUNK)?;
    let retries = Retries::from_params(p)?;
    let body = params::string(p, "http_body")?;
    let identity = format!(
        "{method} {url} {body:?} {formatting:?} {extract:?} {chunking:?} {:?} {:?}",
        auth.as_ref().map(|a| &a.0),
        meta.fields
    );
    Ok(Feed {
        url,
        formatting,
        method,
        body,
        auth,
        extract,
        chunking,
        retries,
        client,
        meta,
        identity,
    })
}

/// A GET with the HTTP mixin's parameters only (authentication, retries, the
/// client), for collectors that fetch URLs found elsewhere (mail_url).
pub(super) fn getter(p: &Params) -> Result<Feed> {
    Ok(Feed {
        url: String::new(),
        formatting: None,
        method: reqwest::Method::GET,
        body: None,
        auth: auth(p)?,
        extract: Extract::ZipOnly,
        chunking: Chunking::WHOLE,
        retries: Retries::from_params(p)?,
        client: client(p)?,
        meta: FeedMeta::default(),
        identity: String::new(),
    })
}

/// IntelMQ: basic auth only with both `http_username` and `http_password`; one
/// alone is a warning and no auth.
fn auth(p: &Params) -> Result<Option<(String, String)>> {
    let user = params::string(p, "http_username")?.filter(|s| !s.is_empty());
    let pass = params::string(p, "http_password")?.filter(|s| !s.is_empty());
    Ok(match (user, pass) {
        (Some(u), Some(p)) => Some((u, p)),
        (None, None) => None,
        _ => {
            crate::pipeline::eprintln_safe(
                "imq-collect: only one of http_username and http_password is set: no authentication",
            );
            None
        }
    })
}

/// `extract_files`: false, true, a list or a comma-separated string of names.
pub(super) fn extract_files(p: &Params) -> Result<Extract> {
    Ok(match p.get("extract_files") {
        None | Some(Value::Null) | Some(Value::Bool(false)) => Extract::ZipOnly,
        Some(Value::Bool(true)) => Extract::All,
        Some(Value::Array(a)) => Extract::Only(
            a.iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string())
                })
                .collect(),
        ),
        Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "" | "false" | "no" | "0" => Extract::ZipOnly,
            "true" | "yes" | "1" => Extract::All,
            _ => Extract::Only(s.split(',').map(|x| x.trim().to_string()).collect()),
        },
        Some(Value::Number(n)) if n.as_f64() == Some(0.0) => Extract::ZipOnly,
        Some(Value::Number(_)) => Extract::All,
        Some(v) => bail!("parameter extract_files: {v}"),
    })
}

/// `chunk_size` (bytes; unset: `default`, which splits only bodies larger than
/// it) and `chunk_replicate_header` (default true, as IntelMQ).
pub(super) fn chunking(p: &Params, default: usize) -> Result<Chunking> {
    let replicate_header = params::boolean(p, "chunk_replicate_header", true)?;
    let size = match p.get("chunk_size") {
        None | Some(Value::Null) | Some(Value::Bool(false)) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        _ => Some(params::integer(p, "chunk_size", 0)?),
    };
    Ok(match size {
        None | Some(0) => Chunking {
            size: Some(default),
            replicate_header,
            only_if_larger: true,
        },
        Some(n) if n < 0 => bail!("parameter chunk_size: {n}"),
        Some(n) => Chunking {
            size: Some(n as usize),
            replicate_header,
            only_if_larger: false,
        },
    })
}

/// The HTTP client of IntelMQ's HTTP mixin parameters.
pub(super) fn client(p: &Params) -> Result<Client> {
    let timeout = params::number(p, "http_timeout_sec", 30.0)?;
    if !(timeout > 0.0 && timeout.is_finite()) {
        bail!("parameter http_timeout_sec: must be a positive number of seconds");
    }
    let timeout = Duration::from_secs_f64(timeout);
    let ua = params::string(p, "http_user_agent")?
        .unwrap_or_else(|| format!("imq/{}", env!("CARGO_PKG_VERSION")));
    let mut headers = HeaderMap::new();
    // Decoded here (gzip, deflate), as requests does.
    headers.insert(
        reqwest::header::ACCEPT_ENCODING,
        HeaderValue::from_static("gzip, deflate"),
    );
    match p.get("http_header") {
        None | Some(Value::Null) => {}
        Some(Value::Object(h)) => {
            for (k, v) in h {
                let v = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                headers.insert(
                    HeaderName::from_bytes(k.as_bytes())
                        .with_context(|| format!("http_header name {k:?}"))?,
                    HeaderValue::from_str(&v).with_context(|| format!("http_header {k}"))?,
                );
            }
        }
        Some(v) => bail!("parameter http_header: expected an object, got {v}"),
    }
    let mut b = Client::builder()
        .default_headers(headers)
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(ua);
    // http_verify_cert: true, false, or a CA bundle (as requests' `verify`).
    match p.get("http_verify_cert") {
        Some(Value::String(s))
            if !matches!(
                s.to_ascii_lowercase().as_str(),
                "true" | "false" | "yes" | "no" | "1" | "0" | ""
            ) =>
        {
            let pem =
                std::fs::read(s).with_context(|| format!("http_verify_cert (CA bundle) {s}"))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .with_context(|| format!("http_verify_cert (CA bundle) {s}"))?;
            if certs.is_empty() {
                bail!("http_verify_cert (CA bundle) {s}: no certificate in it");
            }
            b = b.tls_built_in_root_certs(false);
            for c in certs {
                b = b.add_root_certificate(c);
            }
        }
        _ => {
            if !params::boolean(p, "http_verify_cert", true)? {
                b = b.danger_accept_invalid_certs(true);
            }
        }
    }
    // requests' `cert`: a PEM file with the certificate and its key, or the
    // key in a file of its own.
    let cert = match params::string(p, "ssl_client_cert")? {
        Some(c) => Some(c),
        None => params::string(p, "ssl_client_certificate")?,
    };
    if let Some(cert) = cert.filter(|c| !c.is_empty()) {
        let mut pem = std::fs::read(&cert).with_context(|| format!("ssl_client_cert {cert}"))?;
        if let Some(key) = params::string(p, "ssl_client_cert_key")?.filter(|k| !k.is_empty()) {
            pem.push(b'\n');
            pem.extend(std::fs::read(&key).with_context(|| format!("ssl_client_cert_key {key}"))?);
        }
        let id = reqwest::Identity::from_pem(&pem)
            .with_context(|| format!("ssl_client_cert {cert}: a PEM certificate and key"))?;
        b = b.identity(id);
    }
    // IntelMQ uses proxies only if both are set.
    let hp = params::string(p, "http_proxy")?.filter(|s| !s.is_empty());
    let sp = params::string(p, "https_proxy")?.filter(|s| !s.is_empty());
    match (hp, sp) {
        (Some(h), Some(s)) => {
            b = b
                .proxy(reqwest::Proxy::http(&h).with_context(|| format!("http_proxy {h}"))?)
                .proxy(reqwest::Proxy::https(&s).with_context(|| format!("https_proxy {s}"))?);
        }
        (None, None) => b = b.no_proxy(),
        _ => {
            crate::pipeline::eprintln_safe(
                "imq-collect: only one of http_proxy and https_proxy is set: no proxy (as IntelMQ)",
            );
            b = b.no_proxy();
        }
    }
    Ok(b.build()?)
}

/// IntelMQ's `http_url_formatting`: `url.format(time=Time(delta))`, i.e. every
/// `{time[FORMAT]}` becomes the local time (plus the delta, a dict of
/// `timedelta` arguments) formatted with strftime; `{{`/`}}` are braces.
pub fn format_url(url: &str, formatting: &Value, now: chrono::NaiveDateTime) -> Result<String> {
    let mut t = now;
    if let Value::Object(delta) = formatting {
        let mut secs = 0f64;
        for (k, v) in delta {
            let n = v
                .as_f64()
                .ok_or_else(|| anyhow::anyhow!("http_url_formatting: {k} is no number"))?;
            secs += n * match k.as_str() {
                "weeks" => 604800.0,
                "days" => 86400.0,
                "hours" => 3600.0,
                "minutes" => 60.0,
                "seconds" => 1.0,
                "milliseconds" => 1e-3,
                "microseconds" => 1e-6,
                _ => bail!("http_url_formatting: unknown time delta {k:?} (TypeError in IntelMQ)"),
            };
        }
        t += chrono::Duration::microseconds((secs * 1e6).round() as i64);
    } else if !matches!(formatting, Value::Bool(_)) {
        bail!("http_url_formatting: expected true or a time delta object, got {formatting}");
    }
    let mut out = String::with_capacity(url.len() + 16);
    let mut rest = url;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
            continue;
        }
        if tail.starts_with('}') {
            bail!("http_url_formatting: single '}}' in {url:?}");
        }
        let end = tail
            .find('}')
            .ok_or_else(|| anyhow::anyhow!("http_url_formatting: unclosed '{{' in {url:?}"))?;
        let field = &tail[1..end];
        let fmt = field
            .strip_prefix("time[")
            .and_then(|f| f.strip_suffix(']'))
            .ok_or_else(|| {
                anyhow::anyhow!("http_url_formatting: {{{field}}} in the URL: only {{time[FORMAT]}} is known (KeyError in IntelMQ)")
            })?;
        use std::fmt::Write as _;
        write!(out, "{}", t.format(fmt))
            .map_err(|_| anyhow::anyhow!("http_url_formatting: bad time format {fmt:?}"))?;
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// How a download's pieces are made: a plain body is cut right here, straight
/// from the chunker's buffer into the report line; an archive is unpacked on a
/// thread.
enum Pieces {
    Direct(Chunker<Box<dyn Read + Send>>),
    Thread(Producer),
}

/// What a feed's download is doing.
struct Running {
    pieces: Pieces,
    template: Option<Template>,
    url: String,
    /// The validators to save once the reports were committed.
    save: Option<(PathBuf, Map<String, Value>)>,
}

pub struct HttpCollector {
    feeds: Vec<Feed>,
    idx: usize,
    current: Option<Running>,
    /// States of finished downloads, saved at the next ack.
    pending: Vec<(PathBuf, Option<Map<String, Value>>)>,
    ctx: Ctx,
    input: String,
    count: u64,
}

pub(super) enum Fetched {
    NotModified,
    Body(Response),
}

/// When to retry: how long to wait, or why not.
fn retry_after(resp: &Response) -> Option<Duration> {
    let v = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(s) = v.parse::<u64>() {
        return Some(Duration::from_secs(s));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let secs = (when.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_milliseconds();
    Some(Duration::from_millis(secs.max(0) as u64))
}

/// Sleep, waking up for a stop request; false when stopped.
pub(super) fn sleep(d: Duration) -> bool {
    let end = Instant::now() + d;
    while Instant::now() < end {
        if signal::stop_requested() {
            return false;
        }
        std::thread::sleep((end - Instant::now()).min(Duration::from_millis(100)));
    }
    true
}

/// How requests are retried (`http_timeout_max_tries`, `http_retry_delay`).
#[derive(Debug, Clone, Copy)]
pub(super) struct Retries {
    pub tries: u32,
    /// The first wait; it doubles at each attempt, up to a minute.
    pub delay: Duration,
}

impl Retries {
    pub(super) fn from_params(p: &Params) -> Result<Retries> {
        let tries = params::integer(p, "http_timeout_max_tries", 3)?.clamp(1, 100) as u32;
        let delay = params::number(p, "http_retry_delay", 1.0)?;
        if !(delay >= 0.0 && delay.is_finite()) {
            bail!("parameter http_retry_delay: {delay}");
        }
        Ok(Retries {
            tries,
            delay: Duration::from_secs_f64(delay),
        })
    }
}

/// Send the request `make` builds, retried as the module doc says: the
/// response of the first attempt that ends in a status that is not retried
/// (any status but 5xx and 429, which the caller checks), or why there is none.
/// `what` (method and URL) starts the messages.
pub(super) fn send(
    what: &str,
    retries: Retries,
    make: impl Fn() -> reqwest::blocking::RequestBuilder,
) -> Result<Response, String> {
    let mut attempt = 1;
    loop {
        let (why, wait) = match make().send() {
            Err(e) => (crate::net::error_chain(&e), None),
            Ok(resp) => {
                let s = resp.status().as_u16();
                if s != 429 && !(500..600).contains(&s) {
                    return Ok(resp);
                }
                let why = format!("HTTP response status code was {s}.");
                match retry_after(&resp) {
                    Some(w) if w > MAX_RETRY_AFTER => {
                        return Err(format!(
                            "{what}: {why} Retry-After {} s is more than {} s: not waiting",
                            w.as_secs(),
                            MAX_RETRY_AFTER.as_secs()
                        ))
                    }
                    w => (why, w),
                }
            }
        };
        if attempt >= retries.tries {
            let n = retries.tries;
            return Err(format!(
                "{what}: {why} (after {n} attempt{})",
                if n == 1 { "" } else { "s" }
            ));
        }
        let backoff = retries
            .delay
            .saturating_mul(1 << (attempt - 1).min(16))
            .min(MAX_BACKOFF);
        if !sleep(wait.unwrap_or(backoff)) {
            return Err(format!("{what}: {why} (stopped while waiting to retry)"));
        }
        attempt += 1;
    }
}

impl Feed {
    /// One download, retried as the module doc says.
    pub(super) fn fetch(
        &self,
        url: &str,
        cond: Option<&Map<String, Value>>,
    ) -> Result<Fetched, String> {
        let what = format!("{} {url}", self.method);
        let resp = send(&what, self.retries, || {
            let mut req = self.client.request(self.method.clone(), url);
            if let Some((u, p)) = &self.auth {
                req = req.basic_auth(u, Some(p));
            }
            if let Some(b) = &self.body {
                req = req.body(b.clone());
            }
            if let Some(c) = cond {
                if let Some(e) = c.get("etag").and_then(Value::as_str) {
                    req = req.header(reqwest::header::IF_NONE_MATCH, e);
                }
                if let Some(l) = c.get("last_modified").and_then(Value::as_str) {
                    req = req.header(reqwest::header::IF_MODIFIED_SINCE, l);
                }
            }
            req
        })?;
        let s = resp.status().as_u16();
        if s == 304 && cond.is_some() {
            return Ok(Fetched::NotModified);
        }
        if (200..300).contains(&s) {
            return Ok(Fetched::Body(resp));
        }
        Err(format!("{what}: HTTP response status code was {s}."))
    }
}

/// The body as sent, decoded from its `Content-Encoding`, counting the bytes
/// that arrive for the progress bar.
pub(super) fn decoded_body(resp: Response, progress: Option<Progress>) -> Box<dyn Read + Send> {
    let enc = resp
        .headers()
        .get(reqwest::header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase());
    let raw: Box<dyn Read + Send> = match progress {
        Some(p) => Box::new(Counted { inner: resp, p }),
        None => Box::new(resp),
    };
    match enc.as_deref() {
        Some("gzip") | Some("x-gzip") => Box::new(flate2::read::MultiGzDecoder::new(
            io::BufReader::with_capacity(1 << 16, raw),
        )),
        Some("deflate") => Box::new(flate2::read::ZlibDecoder::new(
            io::BufReader::with_capacity(1 << 16, raw),
        )),
        _ => raw,
    }
}

/// A progress bar on stderr: bytes, rate, ETA when the size is known.
pub(super) struct Progress {
    label: String,
    total: Option<u64>,
    done: Arc<AtomicU64>,
    start: Instant,
    last: Instant,
}

impl Progress {
    pub(super) fn new(label: String, total: Option<u64>) -> Progress {
        Progress {
            label,
            total,
            done: Arc::new(AtomicU64::new(0)),
            start: Instant::now(),
            last: Instant::now(),
        }
    }

    fn show(&mut self, end: bool) {
        let now = Instant::now();
        if !end && now.duration_since(self.last) < Duration::from_millis(200) {
            return;
        }
        self.last = now;
        let done = self.done.load(Ordering::Relaxed);
        let secs = now.duration_since(self.start).as_secs_f64().max(1e-3);
        let rate = done as f64 / secs;
        let mib = |b: f64| b / (1 << 20) as f64;
        let mut line = format!("\r{}: {:.1} MiB", self.label, mib(done as f64));
        if let Some(t) = self.total.filter(|t| *t > 0) {
            let pct = (done as f64 / t as f64 * 100.0).min(100.0);
            let width = 20usize;
            let filled = (pct / 100.0 * width as f64) as usize;
            line = format!(
                "\r{} [{}{}] {:.1}/{:.1} MiB {pct:.0}%",
                self.label,
                "#".repeat(filled),
                " ".repeat(width - filled),
                mib(done as f64),
                mib(t as f64)
            );
            if rate > 0.0 && done < t {
                line.push_str(&format!(", ETA {:.0} s", (t - done) as f64 / rate));
            }
        }
        line.push_str(&format!(", {:.1} MiB/s\x1b[K", mib(rate)));
        if end {
            line = "\r\x1b[K".into();
        }
        let _ = io::stderr().lock().write_all(line.as_bytes());
    }
}

struct Counted {
    inner: Response,
    p: Progress,
}

impl Read for Counted {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.p.done.fetch_add(n as u64, Ordering::Relaxed);
        self.p.show(n == 0);
        Ok(n)
    }
}

impl HttpCollector {
    /// Start the next feed's download; false when there is none left.
    fn start(&mut self) -> bool {
        let Some(feed) = self.feeds.get(self.idx) else {
            return false;
        };
        self.idx += 1;
        let label = feed.meta.label("http");
        let url = match &feed.formatting {
            Some(f) => match format_url(&feed.url, f, chrono::Local::now().naive_local()) {
                Ok(u) => u,
                Err(e) => {
                    self.ctx.failed(&label, &format!("{}: {e:#}", feed.url));
                    return true;
                }
            },
            None => feed.url.clone(),
        };
        let state_file = self
            .ctx
            .state_dir
            .as_ref()
            .map(|d| state::path(d, "http", &format!("{} {url}", feed.identity)));
        let cond = state_file.as_deref().and_then(state::load);
        let resp = match feed.fetch(&url, cond.as_ref()) {
            Ok(Fetched::Body(r)) => r,
            Ok(Fetched::NotModified) => {
                self.ctx.fetched(true);
                return true;
            }
            Err(e) => {
                self.ctx.failed(&label, &e);
                return true;
            }
        };
        let mut save = None;
        if let Some(path) = state_file {
            let mut st = Map::new();
            let h = resp.headers();
            for (k, name) in [("etag", "etag"), ("last_modified", "last-modified")] {
                if let Some(v) = h.get(name).and_then(|v| v.to_str().ok()) {
                    st.insert(k.into(), v.into());
                }
            }
            st.insert("url".into(), crate::transport::mask(&url).into());
            let keep = st.len() > 1;
            save = Some((path, keep.then_some(st)));
        }
        let progress = self
            .ctx
            .progress
            .then(|| Progress::new(label.clone(), resp.content_length()));
        let body = decoded_body(resp, progress);
        self.input = crate::transport::mask(&url);
        let pieces = match extract::open(body, &feed.extract) {
            Ok(Opened::Plain(r)) => Pieces::Direct(Chunker::new(r, feed.chunking)),
            Ok(Opened::Archive(a)) => {
                Pieces::Thread(Producer::spawn(a, feed.extract.clone(), feed.chunking))
            }
            Err(e) => {
                self.ctx
                    .failed(&label, &format!("{} {url}: {e}", feed.method));
                return true;
            }
        };
        let template = match &pieces {
            Pieces::Direct(_) => match Template::new(&feed.meta, &[("feed.url", &url)]) {
                Ok(t) => Some(t),
                Err(e) => {
                    self.ctx.failed(&label, &format!("{url}: {e:#}"));
                    return true;
                }
            },
            Pieces::Thread(_) => None,
        };
        self.current = Some(Running {
            pieces,
            template,
            url,
            save: save.map(|(p, s)| (p, s.unwrap_or_default())),
        });
        true
    }
}

impl Source for HttpCollector {
    fn next(&mut self, buf: &mut Vec<u8>) -> io::Result<Next> {
        loop {
            if self.current.is_none() {
                if signal::stop_requested() || !self.start() {
                    return Ok(Next::End);
                }
                continue;
            }
            let feed = &self.feeds[self.idx - 1];
            let run = self.current.as_mut().expect("running");
            let piece = match &mut run.pieces {
                Pieces::Direct(c) => match c.next_parts() {
                    Ok(Some((head, data))) => {
                        let t = run.template.as_ref().expect("template of a plain body");
                        t.write_parts(head, data, buf);
                        self.count += 1;
                        return Ok(Next::Line);
                    }
                    Ok(None) => Piece::End,
                    Err(e) => Piece::Error(e.to_string()),
                },
                Pieces::Thread(p) => p.recv(),
            };
            match piece {
                Piece::Member(name) => {
                    let own: Vec<(&str, &str)> = match &name {
                        Some(n) => vec![("feed.url", &run.url), ("extra.file_name", n)],
                        None => vec![("feed.url", &run.url)],
                    };
                    match Template::new(&feed.meta, &own) {
                        Ok(t) => run.template = Some(t),
                        Err(e) => {
                            let label = feed.meta.label("http");
                            self.ctx.failed(&label, &format!("{}: {e:#}", run.url));
                            self.current = None;
                        }
                    }
                }
                Piece::Data(data) => {
                    let t = run.template.as_ref().expect("a member before its data");
                    t.write(&data, buf);
                    if let Pieces::Thread(p) = &run.pieces {
                        p.recycle(data);
                    }
                    self.count += 1;
                    return Ok(Next::Line);
                }
                Piece::End => {
                    let run = self.current.take().expect("running");
                    if let Some((p, st)) = run.save {
                        self.pending.push((p, (!st.is_empty()).then_some(st)));
                    }
                    self.ctx.fetched(false);
                }
                Piece::Error(e) => {
                    let label = feed.meta.label("http");
                    let what = format!("{} {}: reading the body: {e}", feed.method, run.url);
                    self.current = None;
                    self.ctx.failed(&label, &what);
                }
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
        // Each report is committed as soon as it is written: a download that
        // fails half-way keeps what went out before.
        true
    }

    fn ack(&mut self) -> io::Result<()> {
        for (path, st) in self.pending.drain(..) {
            match st {
                Some(st) => state::save(&path, &st)?,
                None => state::remove(&path)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_formatting_as_python() {
        let now = chrono::NaiveDate::from_ymd_opt(2026, 3, 1)
            .unwrap()
            .and_hms_opt(0, 30, 0)
            .unwrap();
        let f = |u: &str, v: Value| format_url(u, &v, now).unwrap();
        assert_eq!(
            f("https://x/{time[%Y]}/a", Value::Bool(true)),
            "https://x/2026/a"
        );
        assert_eq!(
            f(
                "https://x/{time[%Y/%m/%Y-%m-%d]}.json.gz",
                serde_json::json!({"days": -1})
            ),
            "https://x/2026/02/2026-02-28.json.gz"
        );
        assert_eq!(
            f(
                "https://x/{{a}}/{time[%H]}",
                serde_json::json!({"hours": 2})
            ),
            "https://x/{a}/02"
        );
        assert!(format_url("https://x/{day}", &Value::Bool(true), now).is_err());
        assert!(format_url(
            "https://x/{time[%Y]}",
            &serde_json::json!({"fortnights": 1}),
            now
        )
        .is_err());
    }

    #[test]
    fn extract_files_values() {
        let p = |v: Value| {
            let mut m = Params::new();
            m.insert("extract_files".into(), v);
            extract_files(&m).unwrap()
        };
        assert_eq!(p(Value::Bool(false)), Extract::ZipOnly);
        assert_eq!(p(Value::Bool(true)), Extract::All);
        assert_eq!(
            p("a.csv, b.csv".into()),
            Extract::Only(vec!["a.csv".into(), "b.csv".into()])
        );
        assert_eq!(p(serde_json::json!(["x"])), Extract::Only(vec!["x".into()]));
    }
}
