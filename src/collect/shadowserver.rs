//! The shadowserver collector (IntelMQ's `collector_reports_api`): the reports
//! of the Shadowserver Reports API. The list of the last `days` days' reports
//! is asked for with a signed POST to `<api_url>reports/list` (the `HMAC2`
//! header is the hex HMAC-SHA256 of the body, keyed with `secret`), filtered by
//! `reports` (mailing lists, plus the deprecated `country`) and `types`; each
//! report not fetched before is downloaded from `<download_url><id>` and is one
//! report: `raw` the CSV as served, `extra.file_name` its file name.
//!
//! Seen files: IntelMQ keeps the names of the files it fetched in Redis
//! (`redis_cache_*`, for `redis_cache_ttl` seconds); imq keeps them in the state
//! directory (`$IMQ_STATE_DIR`) for as long, saved only once the reports were
//! committed downstream, so a second run fetches nothing it already sent.
//! Without a state directory every run fetches every listed report.
//!
//! Beyond IntelMQ: `api_url` and `download_url` (IntelMQ's fixed
//! `https://transform.shadowserver.org/api2/` and `https://dl.shadowserver.org/`)
//! and `days` (2) are parameters; requests are retried as the http collector
//! retries them, and take its HTTP parameters (timeouts, proxies, TLS); a
//! report larger than `chunk_size` (8 MiB) is split at line ends with its header
//! repeated; an error answer of the API fails the run with its reason (IntelMQ
//! crashes on it). The secret is never printed.

use super::chunk::{Chunker, Chunking};
use super::http::{self, Retries};
use super::{state, Ctx, FeedMeta, Template};
use crate::params::{self, Params};
use crate::pipeline::signal;
use crate::transport::{Next, Pos, Source};
use anyhow::{bail, Result};
use reqwest::blocking::{Client, Response};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::VecDeque;
use std::io::{self, Read};
use std::path::PathBuf;

const API_ROOT: &str = "https://transform.shadowserver.org/api2/";
const DL_ROOT: &str = "https://dl.shadowserver.org/";
/// How much of an error answer is read for its reason.
const ERROR_BODY: u64 = 4096;
/// A report list larger than this is refused (it is a few hundred bytes a report).
const MAX_LIST: u64 = 64 << 20;

struct Config {
    api_key: String,
    secret: String,
    reports: Vec<String>,
    types: Vec<String>,
    days: i64,
    api_url: String,
    download_url: String,
    ttl: i64,
    client: Client,
    retries: Retries,
    chunking: Chunking,
    meta: FeedMeta,
}

pub fn build(p: &Params, args: &[String], ctx: &Ctx) -> Result<Box<dyn Source>> {
    if let Some(a) = args.first() {
        bail!("the shadowserver collector takes no arguments (got {a:?}): give its parameters with -p or --params");
    }
    // IntelMQ: both must be given and not empty (ValueError in init).
    let api_key = params::required(p, "api_key")?;
    if api_key.is_empty() {
        bail!("parameter api_key is required (No api_key provided.)");
    }
    let secret = params::required(p, "secret")?;
    if secret.is_empty() {
        bail!("parameter secret is required (No secret provided.)");
    }
    let mut reports = params::list(p, "reports")?.unwrap_or_default();
    if let Some(c) = params::string(p, "country")?.filter(|c| !c.is_empty()) {
        if !reports.contains(&c) {
            crate::pipeline::eprintln_safe(
                "imq-collect: shadowserver: the parameter country is deprecated: use reports",
            );
            reports.push(c);
        }
    }
    let types = params::list(p, "types")?.unwrap_or_default();
    let days = params::integer(p, "days", 2)?;
    if !(0..=3650).contains(&days) {
        bail!("parameter days: {days} (0 to 3650)");
    }
    let mut api_url = params::string_or(p, "api_url", API_ROOT)?;
    let mut download_url = params::string_or(p, "download_url", DL_ROOT)?;
    for u in [&mut api_url, &mut download_url] {
        if !u.ends_with('/') {
            u.push('/');
        }
    }
    let ttl = params::integer(p, "redis_cache_ttl", 864000)?;
    let cfg = Config {
        api_key,
        secret,
        reports,
        types,
        days,
        api_url,
        download_url,
        ttl,
        client: http::client(p)?,
        retries: Retries::from_params(p)?,
        chunking: http::chunking(p, http::DEFAULT_CHUNK)?,
        meta: FeedMeta::from_params(p)?,
    };
    let state_file = ctx.state_dir.as_ref().map(|d| {
        state::path(
            d,
            "shadowserver",
            &format!("{} {}", cfg.api_url, cfg.api_key),
        )
    });
    let now = chrono::Utc::now().timestamp();
    let mut seen = state_file
        .as_deref()
        .and_then(state::load)
        .and_then(|mut m| match m.remove("files") {
            Some(Value::Object(f)) => Some(f),
            _ => None,
        })
        .unwrap_or_default();
    // Forgotten after the TTL, as Redis expires IntelMQ's keys.
    let before = seen.len();
    seen.retain(|_, t| t.as_i64().is_some_and(|t| now - t < cfg.ttl));
    Ok(Box::new(Shadowserver {
        dirty: seen.len() != before,
        cfg,
        listed: None,
        seen,
        state_file,
        current: None,
        ctx: ctx.clone(),
        input: String::new(),
        count: 0,
    }))
}

/// HMAC-SHA256 (RFC 2104) with the crate's SHA-256.
fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(msg);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

/// Python's `json.dumps` of a list of strings (`", "` between the items,
/// non-ASCII as `\uXXXX`): the body is signed, so it is built as IntelMQ builds it.
fn py_json_list(items: &[String]) -> String {
    let mut out = String::from("[");
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let quoted = Value::String(s.clone()).to_string();
        for c in quoted.chars() {
            if c.is_ascii() {
                out.push(c);
            } else {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{u:04x}"));
                }
            }
        }
    }
    out.push(']');
    out
}

/// The body of the list request, byte for byte as IntelMQ writes it.
fn list_body(api_key: &str, days: i64, reports: &[String], today: chrono::NaiveDate) -> String {
    let begin = today - chrono::Duration::days(days);
    let mut body = format!("{{ \"apikey\": \"{api_key}\" ");
    body.push_str(&format!(",\"date\": \"{begin}:{today}\" "));
    if !reports.is_empty() {
        body.push_str(&format!(",\"reports\": {}", py_json_list(reports)));
    }
    body.push('}');
    body
}

/// Why an answer with an error status failed: its status and what the API
/// says (its `error` or `message`, or the start of its text).
fn refused(what: &str, resp: Response) -> String {
    let s = resp.status().as_u16();
    let mut text = String::new();
    let _ = resp.take(ERROR_BODY).read_to_string(&mut text);
    let said = match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(m)) => ["error", "message", "detail"].iter().find_map(|k| {
            m.get(*k)
                .map(|v| v.as_str().map_or(v.to_string(), str::to_string))
        }),
        _ => None,
    }
    .unwrap_or_else(|| text.trim().chars().take(200).collect());
    let mut why = format!("{what}: HTTP response status code was {s}.");
    if !said.is_empty() {
        why.push_str(&format!(" The API says: {said}"));
    }
    if s == 401 || s == 403 {
        why.push_str(" (check api_key and secret)");
    }
    why
}

/// A listed report.
struct Item {
    id: String,
    file: String,
}

/// A report being downloaded.
struct Download {
    file: String,
    url: String,
    pieces: Chunker<Box<dyn Read + Send>>,
    template: Template,
}

pub struct Shadowserver {
    cfg: Config,
    /// The reports still to fetch; none before the list was asked for.
    listed: Option<VecDeque<Item>>,
    /// The files fetched, with when (Unix seconds).
    seen: Map<String, Value>,
    dirty: bool,
    state_file: Option<PathBuf>,
    current: Option<Download>,
    ctx: Ctx,
    input: String,
    count: u64,
}

impl Shadowserver {
    fn label(&self) -> String {
        self.cfg.meta.label("shadowserver")
    }

    /// The reports of the list request, filtered by `types`.
    fn list(&self) -> Result<VecDeque<Item>, String> {
        let cfg = &self.cfg;
        let today = chrono::Utc::now().date_naive();
        let body = list_body(&cfg.api_key, cfg.days, &cfg.reports, today);
        let sig = hex(&hmac_sha256(cfg.secret.as_bytes(), body.as_bytes()));
        let url = format!("{}reports/list", cfg.api_url);
        let what = format!("POST {}", crate::transport::mask(&url));
        let resp = http::send(&what, cfg.retries, || {
            cfg.client
                .post(&url)
                .header("HMAC2", sig.as_str())
                .body(body.clone())
        })?;
        if !resp.status().is_success() {
            return Err(refused(&what, resp));
        }
        let mut text = Vec::new();
        http::decoded_body(resp, None)
            .take(MAX_LIST)
            .read_to_end(&mut text)
            .map_err(|e| format!("{what}: reading the answer: {e}"))?;
        let reply: Value = serde_json::from_slice(&text)
            .map_err(|e| format!("{what}: the answer is no JSON: {e}"))?;
        let items = match reply {
            Value::Array(a) => a,
            Value::Object(m) if m.contains_key("error") => {
                let e = &m["error"];
                let e = e.as_str().map_or(e.to_string(), str::to_string);
                return Err(format!("{what}: the API says: {e}"));
            }
            other => {
                let t: String = other.to_string().chars().take(200).collect();
                return Err(format!("{what}: expected a list of reports, got {t}"));
            }
        };
        let mut out = VecDeque::new();
        for it in items {
            let Value::Object(it) = it else { continue };
            if !cfg.types.is_empty() {
                let t = it.get("type").and_then(Value::as_str);
                if !cfg.types.iter().any(|w| Some(w.as_str()) == t) {
                    continue;
                }
            }
            let id = match it.get("id") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => continue,
            };
            let Some(file) = it.get("file").and_then(Value::as_str) else {
                continue;
            };
            out.push_back(Item {
                id,
                file: file.to_string(),
            });
        }
        Ok(out)
    }

    /// Start downloading a report.
    fn download(&self, item: &Item) -> Result<Download, String> {
        let cfg = &self.cfg;
        let url = format!("{}{}", cfg.download_url, item.id);
        let what = format!(
            "{} ({}): GET {}",
            item.file,
            item.id,
            crate::transport::mask(&url)
        );
        let resp = http::send(&what, cfg.retries, || cfg.client.get(&url))?;
        if !resp.status().is_success() {
            return Err(refused(&what, resp));
        }
        let progress = self
            .ctx
            .progress
            .then(|| http::Progress::new(item.file.clone(), resp.content_length()));
        let body = http::decoded_body(resp, progress);
        let template = Template::new(&cfg.meta, &[("extra.file_name", &item.file)])
            .map_err(|e| format!("{what}: {e:#}"))?;
        Ok(Download {
            file: item.file.clone(),
            url,
            pieces: Chunker::new(body, cfg.chunking),
            template,
        })
    }
}

impl Source for Shadowserver {
    fn next(&mut self, buf: &mut Vec<u8>) -> io::Result<Next> {
        loop {
            if let Some(d) = &mut self.current {
                match d.pieces.next_parts() {
                    Ok(Some((head, data))) => {
                        d.template.write_parts(head, data, buf);
                        self.count += 1;
                        return Ok(Next::Line);
                    }
                    Ok(None) => {
                        let t = chrono::Utc::now().timestamp();
                        self.seen.insert(d.file.clone(), t.into());
                        self.dirty = true;
                    }
                    Err(e) => {
                        let why = format!(
                            "{}: GET {}: reading the body: {e}",
                            d.file,
                            crate::transport::mask(&d.url)
                        );
                        self.ctx.failed(&self.label(), &why);
                    }
                }
                self.current = None;
                continue;
            }
            if signal::stop_requested() {
                return Ok(Next::End);
            }
            if self.listed.is_none() {
                match self.list() {
                    Ok(items) => {
                        self.ctx.fetched(false);
                        self.listed = Some(items);
                    }
                    Err(e) => {
                        self.ctx.failed(&self.label(), &e);
                        self.listed = Some(VecDeque::new());
                    }
                }
            }
            let Some(item) = self.listed.as_mut().and_then(VecDeque::pop_front) else {
                return Ok(Next::End);
            };
            if self.seen.contains_key(&item.file) {
                continue;
            }
            match self.download(&item) {
                Ok(d) => {
                    self.input = item.file.clone();
                    self.current = Some(d);
                }
                Err(e) => self.ctx.failed(&self.label(), &e),
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
        // Each report is committed as it is made: a download failing later
        // keeps the reports (and the seen files) before it.
        true
    }

    fn ack(&mut self) -> io::Result<()> {
        if !self.dirty {
            return Ok(());
        }
        if let Some(path) = &self.state_file {
            let mut st = Map::new();
            st.insert("files".into(), Value::Object(self.seen.clone()));
            state::save(path, &st)?;
        }
        self.dirty = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_and_body_as_intelmq() {
        // The test vector of INTELMQ-RUNTIME.md 3.7.
        let body =
            r#"{ "apikey": "KEY" ,"date": "2025-01-01:2025-01-03" ,"reports": ["austria", "x"]}"#;
        let today = chrono::NaiveDate::from_ymd_opt(2025, 1, 3).unwrap();
        assert_eq!(
            list_body("KEY", 2, &["austria".into(), "x".into()], today),
            body
        );
        assert_eq!(
            list_body("K", 2, &[], today),
            r#"{ "apikey": "K" ,"date": "2025-01-01:2025-01-03" }"#
        );
        assert_eq!(
            hex(&hmac_sha256(b"SECRET", body.as_bytes())),
            "693f46ccca0ba90603034e56b144c5fe26dfee4a63a37e6d56762cb4d69fab1f"
        );
        // RFC 4231 test case 6: a key longer than the block.
        assert_eq!(
            hex(&hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
        assert_eq!(
            py_json_list(&["austria".into(), "x\"ö😀".into()]),
            r#"["austria", "x\"\u00f6\ud83d\ude00"]"#
        );
    }
}
