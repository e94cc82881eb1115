//! `imq-collect`: fetch feeds and emit IntelMQ reports.
//!
//! A collector is a [`Source`](crate::transport::Source) of reports: one file
//! here per collector, one [`Entry`] each in [`COLLECTORS`]. The stream loop runs
//! it like any other input, so a collector acknowledges what it fetched (deletes
//! a file, saves a feed's ETag) only once its reports were committed downstream.
//!
//! A report carries the feed's bytes base64-encoded in `raw`, the feed's metadata
//! (`feed.name`, `feed.provider`, `feed.url`, ...) and `time.observation`, the time
//! the data was fetched. Collectors are built from IntelMQ's parameters
//! ([`Params`]), whether they come from `--intelmq MODULE --params FILE`, from
//! the feed registry (`--feed`) or from the command line's flags.

pub mod amqp;
pub mod api;
pub mod chunk;
mod extract;
pub mod file;
pub mod http;
pub mod http_stream;
mod mail;
pub mod mail_attach;
pub mod mail_body;
pub mod mail_url;
pub mod shadowserver;
pub mod state;
pub mod tcp;

use crate::message::Message;
use crate::params::{self, Params};
use crate::pipeline::{Emit, Fail, Stage};
use crate::transport::{Next, Pos, Source};
use base64::Engine;
use serde_json::Value;
use std::cell::RefCell;
use std::io;
use std::path::PathBuf;
use std::rc::Rc;

/// Feed metadata put on every report.
#[derive(Debug, Default, Clone)]
pub struct FeedMeta {
    pub fields: Vec<(String, String)>,
}

impl FeedMeta {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Set a field unless it is set already.
    pub fn set_default(&mut self, key: &str, value: String) {
        if self.get(key).is_none() {
            self.fields.push((key.to_string(), value));
        }
    }

    /// Set a field, replacing what was there.
    pub fn set(&mut self, key: &str, value: String) {
        self.fields.retain(|(k, _)| k != key);
        self.fields.push((key.to_string(), value));
    }

    /// IntelMQ's `CollectorBot` fields from its parameters: `name`, `provider`,
    /// `code`, `documentation` and `accuracy` (default 100) become `feed.*`.
    pub fn from_params(p: &Params) -> anyhow::Result<FeedMeta> {
        let mut m = FeedMeta::default();
        for (param, field) in [
            ("name", "feed.name"),
            ("provider", "feed.provider"),
            ("code", "feed.code"),
            ("documentation", "feed.documentation"),
            ("accuracy", "feed.accuracy"),
        ] {
            if let Some(v) = params::string(p, param)?.filter(|v| !v.is_empty()) {
                m.fields.push((field.to_string(), v));
            }
        }
        m.set_default("feed.accuracy", "100".into());
        Ok(m)
    }

    /// The name of the feed in messages.
    pub fn label(&self, collector: &str) -> String {
        self.get("feed.name").unwrap_or(collector).to_string()
    }
}

/// Build a report from fetched bytes.
pub fn report(data: &[u8], meta: &FeedMeta) -> Result<Message, crate::message::FieldError> {
    let mut r = Message::report();
    for (k, v) in &meta.fields {
        r.set(k, v.as_str())?;
    }
    let b64 = base64::engine::general_purpose::STANDARD.encode(data);
    r.add_with(
        "raw",
        Value::String(b64),
        crate::message::Add {
            sanitize: false,
            overwrite: Some(true),
        },
    )?;
    if !r.contains("time.observation") {
        r.set("time.observation", now_observation())?;
    }
    Ok(r)
}

/// `time.observation` as IntelMQ sets it: now, UTC, whole seconds.
pub fn now_observation() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S+00:00")
        .to_string()
}

/// The report line of one fetched input without its `raw`, serialized once:
/// every chunk of the input is this prefix, the chunk's base64 and the end.
pub struct Template {
    prefix: Vec<u8>,
}

const TYPE_END: &[u8] = b"\"__type\":\"Report\"}";

impl Template {
    /// `time.observation` first (IntelMQ's `Report()` adds it first), then the
    /// feed's fields and the input's own.
    pub fn new(meta: &FeedMeta, own: &[(&str, &str)]) -> anyhow::Result<Template> {
        let mut r = Message::report();
        if meta.get("time.observation").is_none() {
            r.set("time.observation", now_observation())?;
        }
        for (k, v) in meta
            .fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain(own.iter().copied())
        {
            r.set(k, v)
                .map_err(|e| anyhow::anyhow!("report field {k}: {e}"))?;
        }
        let mut prefix = Vec::with_capacity(256);
        r.write_json(&mut prefix);
        anyhow::ensure!(prefix.ends_with(TYPE_END), "unexpected report form");
        prefix.truncate(prefix.len() - TYPE_END.len());
        Ok(Template { prefix })
    }

    /// The report line of `data` in `buf`, allocated to its exact size (big
    /// reports do not double the buffer).
    pub fn write(&self, data: &[u8], buf: &mut Vec<u8>) {
        self.write_parts(&[], data, buf)
    }

    /// The report line of `head` and `data` together (a chunk and the header
    /// repeated in front of it), without joining them first.
    pub fn write_parts(&self, head: &[u8], data: &[u8], buf: &mut Vec<u8>) {
        let b64 = base64::engine::general_purpose::STANDARD;
        let total = head.len() + data.len();
        let enc = total.div_ceil(3) * 4;
        buf.clear();
        let need = self.prefix.len() + enc + 8 + TYPE_END.len();
        if buf.capacity() < need {
            // Some slack, so that chunks of slightly different sizes do not
            // reallocate each time.
            buf.reserve_exact(need + need / 16);
        }
        buf.extend_from_slice(&self.prefix);
        buf.extend_from_slice(b"\"raw\":\"");
        let mut at = buf.len();
        buf.resize(at + enc, 0);
        // Whole groups of three bytes of `head`, then the bytes where `head`
        // and `data` meet, then the rest of `data`.
        let h3 = head.len() / 3 * 3;
        let mut parts: [&[u8]; 3] = [&head[..h3], &[], data];
        let mut seam = [0u8; 3];
        let rest = &head[h3..];
        if !rest.is_empty() {
            let take = (3 - rest.len()).min(data.len());
            seam[..rest.len()].copy_from_slice(rest);
            seam[rest.len()..rest.len() + take].copy_from_slice(&data[..take]);
            parts[1] = &seam[..rest.len() + take];
            parts[2] = &data[take..];
        }
        for p in parts {
            if !p.is_empty() {
                at += b64
                    .encode_slice(p, &mut buf[at..])
                    .expect("room computed for base64");
            }
        }
        buf.truncate(at);
        buf.extend_from_slice(b"\",");
        buf.extend_from_slice(TYPE_END);
    }
}

/// How a run went, feed by feed (for the exit status).
#[derive(Debug, Default, Clone, Copy)]
pub struct Outcome {
    /// Feeds fetched (also those that had not changed).
    pub ok: u32,
    /// Feeds that had not changed since the last run (conditional GET).
    pub unchanged: u32,
    pub failed: u32,
}

/// What collectors share besides their parameters.
#[derive(Clone, Default)]
pub struct Ctx {
    /// `$IMQ_STATE_DIR`: where ETags and seen files are kept; none: no state.
    pub state_dir: Option<PathBuf>,
    /// Show a progress bar on stderr (a terminal).
    pub progress: bool,
    pub quiet: bool,
    pub outcome: Rc<RefCell<Outcome>>,
}

impl Ctx {
    /// A feed failed: say so (feed, masked URL, what happened) and count it.
    pub fn failed(&self, feed: &str, what: &str) {
        self.outcome.borrow_mut().failed += 1;
        if !self.quiet {
            crate::pipeline::eprintln_safe(&format!(
                "imq-collect: feed {feed}: {}",
                crate::transport::mask(what)
            ));
        }
    }

    pub fn fetched(&self, unchanged: bool) {
        let mut o = self.outcome.borrow_mut();
        o.ok += 1;
        if unchanged {
            o.unchanged += 1;
        }
    }
}

/// How a collector is made: from its parameters, the positional arguments
/// (URLs, paths) and the shared context.
pub type Build = fn(&Params, &[String], &Ctx) -> anyhow::Result<Box<dyn Source>>;

/// A collector of the registry.
pub struct Entry {
    pub name: &'static str,
    /// The IntelMQ modules it stands for (`--intelmq`, the feed registry).
    pub modules: &'static [&'static str],
    pub about: &'static str,
    /// IntelMQ's parameters (and imq's additions) it reads, for `--list`.
    pub params: &'static str,
    /// Build it from parameters; `args` are the positional arguments (URLs,
    /// paths).
    pub build: Build,
}

pub const COLLECTORS: &[Entry] = &[
    Entry {
        name: "amqp",
        modules: &["intelmq.bots.collectors.amqp.collector_amqp"],
        about: "a RabbitMQ queue: each message a report (or an IntelMQ message), acknowledged once committed; until the queue is drained",
        params: "connection_host connection_port connection_vhost username password \
                 connection_attempts use_ssl queue_name expect_intelmq_message follow \
                 idle_timeout max_message_size",
        build: amqp::build,
    },
    Entry {
        name: "api",
        modules: &["intelmq.bots.collectors.api.collector_api"],
        about: "an HTTP listener: each POST /intelmq/push body is a report (127.0.0.1 by default)",
        params: "host port api_token max_body_size queue_size",
        build: api::build,
    },
    Entry {
        name: "file",
        modules: &["intelmq.bots.collectors.file.collector_file"],
        about: "local files: paths, globs, a directory + postfix, or stdin ('-')",
        params: "path postfix delete_file move_to chunk_size chunk_replicate_header",
        build: file::build,
    },
    Entry {
        name: "http",
        modules: &["intelmq.bots.collectors.http.collector_http"],
        about: "HTTP(S) downloads, with conditional GET, retries, archives",
        params: "http_url http_url_formatting extract_files http_username http_password \
                 http_header http_proxy https_proxy http_timeout_sec http_timeout_max_tries \
                 http_verify_cert ssl_client_cert ssl_client_cert_key http_method http_body \
                 http_retry_delay chunk_size chunk_replicate_header",
        build: http::build,
    },
    Entry {
        name: "http_stream",
        modules: &["intelmq.bots.collectors.http.collector_http_stream"],
        about: "a long-lived HTTP response: one report per line, reconnecting until stopped",
        params: "http_url strip_lines stop_at_end error_max_retries http_username http_password \
                 http_header http_proxy https_proxy http_timeout_sec http_verify_cert \
                 ssl_client_cert ssl_client_cert_key http_retry_delay",
        build: http_stream::build,
    },
    Entry {
        name: "mail_attach",
        modules: &["intelmq.bots.collectors.mail.collector_mail_attach"],
        about:
            "IMAP: the matching attachments of unread mails (unpacked), marked seen once committed",
        params: "mail_host mail_user mail_password mail_ssl mail_port mail_starttls folder \
                 subject_regex sent_from sent_to attach_regex extract_files attach_unzip \
                 allow_empty http_verify_cert ssl_ca_certificate",
        build: mail_attach::build,
    },
    Entry {
        name: "mail_body",
        modules: &["intelmq.bots.collectors.mail.collector_mail_body"],
        about: "IMAP: the plain and HTML bodies of unread mails, marked seen once committed",
        params: "mail_host mail_user mail_password mail_ssl mail_port mail_starttls folder \
                 subject_regex sent_from sent_to content_types http_verify_cert ssl_ca_certificate",
        build: mail_body::build,
    },
    Entry {
        name: "mail_url",
        modules: &["intelmq.bots.collectors.mail.collector_mail_url"],
        about:
            "IMAP: the URL in each unread mail's text body, downloaded; marked seen once committed",
        params: "mail_host mail_user mail_password mail_ssl mail_port mail_starttls folder \
                 subject_regex sent_from sent_to url_regex chunk_size chunk_replicate_header \
                 http_username http_password http_header http_proxy https_proxy http_timeout_sec \
                 http_timeout_max_tries http_verify_cert ssl_client_cert error_procedure",
        build: mail_url::build,
    },
    Entry {
        name: "shadowserver",
        modules: &["intelmq.bots.collectors.shadowserver.collector_reports_api"],
        about: "the Shadowserver Reports API: the new reports of the last days, signed requests",
        params: "api_key secret reports types country days api_url download_url redis_cache_ttl \
                 http_header http_proxy https_proxy http_timeout_sec http_timeout_max_tries \
                 http_verify_cert ssl_client_cert ssl_client_cert_key http_retry_delay \
                 chunk_size chunk_replicate_header",
        build: shadowserver::build,
    },
    Entry {
        name: "tcp",
        modules: &["intelmq.bots.collectors.tcp.collector"],
        about: "a TCP listener for IntelMQ's tcp output: each length-framed message is a report, answered Ok once committed",
        params: "ip port max_message_size queue_size",
        build: tcp::build,
    },
];

/// A collector by our name or by IntelMQ module.
pub fn find(name: &str) -> Option<&'static Entry> {
    COLLECTORS
        .iter()
        .find(|e| e.name == name || e.modules.contains(&name))
}

/// Several collectors one after the other (`--feed A --feed B`): one failing
/// feed never hides the others, each acknowledges what it handed out.
pub struct Chain {
    sources: Vec<Box<dyn Source>>,
    idx: usize,
}

impl Chain {
    pub fn new(sources: Vec<Box<dyn Source>>) -> Chain {
        Chain { sources, idx: 0 }
    }
}

impl Source for Chain {
    fn next(&mut self, buf: &mut Vec<u8>) -> io::Result<Next> {
        while let Some(s) = self.sources.get_mut(self.idx) {
            match s.next(buf)? {
                Next::End => self.idx += 1,
                other => return Ok(other),
            }
        }
        Ok(Next::End)
    }

    fn pos(&self) -> Pos<'_> {
        match self
            .sources
            .get(self.idx.min(self.sources.len().saturating_sub(1)))
        {
            Some(s) => s.pos(),
            None => Pos { input: "", line: 0 },
        }
    }

    fn idle(&self) -> bool {
        self.sources.get(self.idx).is_none_or(|s| s.idle())
    }

    fn ack(&mut self) -> io::Result<()> {
        let upto = (self.idx + 1).min(self.sources.len());
        for s in &mut self.sources[..upto] {
            s.ack()?;
        }
        Ok(())
    }
}

/// The stage of every collector: the reports its source makes go out as they
/// are (the collector built and checked them; they are not decoded again).
pub struct Forward;

impl Stage for Forward {
    fn default_type(&self) -> crate::harmonization::MsgType {
        crate::harmonization::MsgType::Report
    }

    fn pass_through(&self) -> bool {
        true
    }

    fn process(&mut self, _msg: Message, out: &mut Emit) -> Result<(), Fail> {
        out.send_original("_default")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_writes_a_valid_report() {
        let mut meta = FeedMeta::default();
        meta.set("feed.name", "X".into());
        let t = Template::new(&meta, &[("extra.file_name", "a.csv")]).unwrap();
        let mut buf = Vec::new();
        t.write(b"1.2.3.4\n", &mut buf);
        let v: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(v["raw"], "MS4yLjMuNAo=");
        assert_eq!(v["feed.name"], "X");
        assert_eq!(v["extra.file_name"], "a.csv");
        assert_eq!(v["__type"], "Report");
        let m = Message::from_json(&buf, crate::harmonization::MsgType::Report).unwrap();
        assert!(m.contains("time.observation"));
        // A header and a chunk encode as their concatenation, at any seam.
        let b64 = base64::engine::general_purpose::STANDARD;
        for (h, d) in [
            ("", "abc"),
            ("a", "bcdef"),
            ("ab", "c"),
            ("abcd", ""),
            ("ab\n", "x"),
            ("hhhh", "d"),
        ] {
            t.write_parts(h.as_bytes(), d.as_bytes(), &mut buf);
            let v: serde_json::Value = serde_json::from_slice(&buf).unwrap();
            assert_eq!(v["raw"], b64.encode(format!("{h}{d}")), "{h:?} {d:?}");
        }
    }
}
