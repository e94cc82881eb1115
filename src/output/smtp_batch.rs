//! `smtp_batch`: IntelMQ's smtp_batch output (§4.10): events are kept in one
//! bucket per recipient (`source.abuse_contact`, one bucket per address of a
//! list, split further by `additional_grouping_keys`); a later run with
//! `send` mails each bucket as one mail with the bucket's events as a zipped
//! CSV attachment, and empties the bucket once the server accepted the mail.
//!
//! Buckets live in local files (`state_dir`, default `$IMQ_STATE_DIR`: one
//! NDJSON file per bucket, appended and fsynced at every commit) unless Redis
//! is asked for with `redis_cache_host` and `redis_cache_port`: then they are
//! IntelMQ's own lists (`RPUSH <bot_id>:<sha256>`, the event's `to_json()`), so
//! IntelMQ's CLI can send what imq collected and the other way round. A batch
//! counts as written once fsync or Redis (one MULTI/EXEC) confirmed it.
//!
//! IntelMQ's interactive menu becomes the `send` parameter: `all` (IntelMQ's
//! `--send`: every mail to its recipient, the bucket emptied after), `tester`
//! (every mail to `testing_to`, the buckets kept: IntelMQ's `debug`), `list`
//! (what would be sent, on stderr). Sending happens when the input ends (give
//! `-i /dev/null` to only send).

use super::export::to_json;
use super::retry::{Attempt, Retry};
use super::smtp::{send, transport, Server};
use super::{Output, OutputOpts};
use crate::message::Message;
use crate::params::{self, Params};
use crate::pipeline::{eprintln_safe, Fail};
use crate::pyfmt::py_str;
use anyhow::{bail, Context};
use base64::Engine;
use lettre::address::Envelope;
use lettre::message::{header::ContentType, Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{Address, SmtpTransport};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, Write};
use std::path::PathBuf;

const DEFAULT_FIELDS: &[(&str, &str)] = &[
    ("time.source", "time_detected"),
    ("source.ip", "ip"),
    ("classification.taxonomy", "class"),
    ("classification.type", "type"),
    ("time.observation", "time_delivered"),
    ("source.geolocation.cc", "country_code"),
    ("source.asn", "asn"),
    ("event_description.text", "description"),
    ("malware.name", "malware"),
    ("feed.name", "feed_name"),
    ("feed.url", "feed_url"),
    ("raw", "raw"),
];

/// Where the buckets are kept.
enum Store {
    Dir(PathBuf),
    Redis {
        host: String,
        port: u16,
        db: i64,
        password: Option<String>,
        conn: Option<redis::Connection>,
    },
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum SendMode {
    No,
    All,
    Tester,
    List,
}

pub struct SmtpBatch {
    /// `<bot_id>:`, the prefix of every bucket key.
    prefix: String,
    grouping: Vec<String>,
    store: Store,
    retry: Retry,
    /// The batch: bucket key → lines (JSON + newline) to append.
    batch: BTreeMap<String, Vec<u8>>,
    events: usize,
    /// sha256 of n zero bytes, for IntelMQ's `hash_arbitrary(int)`.
    int_hashes: HashMap<i64, [u8; 32]>,
    mode: SendMode,
    mail: Option<MailOpts>,
}

/// What sending needs (read only when `send` asks for it).
struct MailOpts {
    transport: SmtpTransport,
    server_name: String,
    from: String,
    body: String,
    subject: String,
    attachment_name: String,
    templating: (bool, bool, bool),
    testing_to: Option<String>,
    bcc: Vec<String>,
    alternative: HashMap<String, String>,
    ignore_older_than_days: Option<i64>,
    limit_results: Option<usize>,
    fields: Vec<(String, String)>,
}

pub fn build(o: &OutputOpts) -> anyhow::Result<Box<dyn Output>> {
    let p: &Params = &o.params;
    let bot_id = o.bot_id.clone().unwrap_or_else(|| "smtp_batch".into());
    let host = params::string(p, "redis_cache_host")?.unwrap_or_default();
    let port = params::integer(p, "redis_cache_port", 0)?;
    let store = if !host.is_empty() && port != 0 {
        Store::Redis {
            host,
            port: u16::try_from(port)
                .map_err(|_| anyhow::anyhow!("parameter redis_cache_port: {port}"))?,
            db: params::integer(p, "redis_cache_db", 15)?,
            password: params::string(p, "redis_cache_password")?.filter(|s| !s.is_empty()),
            conn: None,
        }
    } else {
        let base = match params::string(p, "state_dir")?.filter(|s| !s.is_empty()) {
            Some(d) => PathBuf::from(d),
            None => crate::collect::state::dir_from_env().context(
                "smtp_batch keeps its buckets in a state directory: set IMQ_STATE_DIR or \
                 -p state_dir=DIR (or use Redis: redis_cache_host and redis_cache_port)",
            )?,
        };
        let dir = base.join(format!("smtp_batch-{}", safe_name(&bot_id)));
        std::fs::create_dir_all(&dir).with_context(|| format!("{}", dir.display()))?;
        Store::Dir(dir)
    };
    let mode = match params::string(p, "send")?
        .unwrap_or_default()
        .to_ascii_lowercase()
        .as_str()
    {
        "" | "false" | "no" => SendMode::No,
        "true" | "all" | "yes" => SendMode::All,
        "tester" | "debug" => SendMode::Tester,
        "list" => SendMode::List,
        other => bail!("parameter send: all, tester or list, got {other:?}"),
    };
    let mail = if mode == SendMode::No {
        // Read when sending; known here too (a runtime.yaml entry has them all).
        for k in [
            "smtp_server",
            "email_from",
            "mail_template",
            "subject",
            "attachment_name",
            "templating",
            "testing_to",
            "bcc",
            "alternative_mails",
            "gpg_key",
            "gpg_pass",
            "ignore_older_than_days",
            "limit_results",
            "allowed_fieldnames",
            "fieldnames_translation",
            "redis_cache_ttl",
        ] {
            p.contains_key(k);
        }
        None
    } else {
        Some(mail_opts(p, mode)?)
    };
    let mut b = SmtpBatch {
        prefix: format!("{bot_id}:"),
        grouping: params::list(p, "additional_grouping_keys")?.unwrap_or_default(),
        store,
        retry: Retry::from_params(p)?,
        batch: BTreeMap::new(),
        events: 0,
        int_hashes: HashMap::new(),
        mode,
        mail,
    };
    if let Store::Redis { .. } = b.store {
        // As IntelMQ's Cache: a server that is not there stops the run at start.
        b.redis()?;
    }
    Ok(Box::new(b))
}

/// A bot id as a file name part.
fn safe_name(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn mail_opts(p: &Params, mode: SendMode) -> anyhow::Result<MailOpts> {
    if params::string(p, "gpg_key")?.is_some_and(|s| !s.is_empty()) {
        bail!("smtp_batch: gpg_key (signed mails) is not supported");
    }
    // IntelMQ's smtp_server is envelope's: a host name, or {host, port, user,
    // password, security}.
    let (host, port, user, password, security) = match p.get("smtp_server") {
        Some(Value::Object(m)) => (
            m.get("host")
                .and_then(Value::as_str)
                .unwrap_or("localhost")
                .to_string(),
            m.get("port").and_then(Value::as_u64).unwrap_or(25),
            m.get("user").and_then(Value::as_str).map(String::from),
            m.get("password").and_then(Value::as_str).map(String::from),
            m.get("security")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        ),
        _ => {
            let s = params::string_or(p, "smtp_server", "localhost")?;
            match s.rsplit_once(':') {
                Some((h, port)) if port.parse::<u16>().is_ok() => (
                    h.to_string(),
                    port.parse().unwrap_or(25),
                    None,
                    None,
                    String::new(),
                ),
                _ => (s, 25, None, None, String::new()),
            }
        }
    };
    let server = Server {
        host: &host,
        port: u16::try_from(port).map_err(|_| anyhow::anyhow!("smtp_server port {port}"))?,
        ssl: security == "tls",
        starttls: security == "starttls",
        user,
        password,
        verify: true,
    };
    let template = params::string(p, "mail_template")?.unwrap_or_default();
    if template.is_empty() {
        bail!("smtp_batch: sending needs mail_template (the file with the mail's text)");
    }
    let body =
        std::fs::read_to_string(&template).with_context(|| format!("mail_template {template}"))?;
    let mut alternative = HashMap::new();
    if let Some(f) = params::string(p, "alternative_mails")?.filter(|s| !s.is_empty()) {
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_path(&f)
            .with_context(|| format!("alternative_mails {f}"))?;
        for row in r.records() {
            let row = row.with_context(|| format!("alternative_mails {f}"))?;
            if let (Some(a), Some(b)) = (row.get(0), row.get(1)) {
                alternative.insert(a.to_string(), b.to_string());
            }
        }
    }
    let templating = match p.get("templating") {
        Some(Value::Object(m)) => {
            let on = |k: &str| m.get(k).is_some_and(crate::pyfmt::py_truthy);
            (on("subject"), on("body"), on("attachment"))
        }
        _ => (false, false, false),
    };
    let allowed = params::list(p, "allowed_fieldnames")?;
    let translation = match p.get("fieldnames_translation") {
        Some(Value::Object(m)) => Some(m.clone()),
        _ => None,
    };
    let fields = match (allowed, translation) {
        (None, None) => DEFAULT_FIELDS
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
        (allowed, translation) => {
            let allowed =
                allowed.unwrap_or_else(|| DEFAULT_FIELDS.iter().map(|f| f.0.to_string()).collect());
            let mut out = Vec::new();
            for f in allowed {
                let t = match &translation {
                    Some(m) => m.get(&f).map(py_str),
                    None => DEFAULT_FIELDS
                        .iter()
                        .find(|d| d.0 == f)
                        .map(|d| d.1.to_string()),
                };
                // IntelMQ raises KeyError on the first mail; say it at start.
                let t = t.with_context(|| format!("fieldnames_translation has no name for {f}"))?;
                out.push((f, t));
            }
            out
        }
    };
    let testing_to = params::string(p, "testing_to")?.filter(|s| !s.is_empty());
    p.contains_key("gpg_pass");
    p.contains_key("redis_cache_ttl");
    if mode == SendMode::Tester && testing_to.is_none() {
        bail!("smtp_batch: send=tester needs testing_to (the tester's address)");
    }
    Ok(MailOpts {
        transport: transport(&server)?,
        server_name: format!("{host}:{port}"),
        from: params::string(p, "email_from")?.unwrap_or_default(),
        body,
        subject: params::string_or(p, "subject", "IntelMQ warning (%Y-%m-%d)")?,
        attachment_name: params::string_or(p, "attachment_name", "intelmq_%Y-%m-%d")?,
        templating,
        testing_to,
        bcc: params::list(p, "bcc")?.unwrap_or_default(),
        alternative,
        ignore_older_than_days: match p.get("ignore_older_than_days") {
            None | Some(Value::Null) => None,
            _ => Some(params::integer(p, "ignore_older_than_days", 0)?).filter(|d| *d > 0),
        },
        limit_results: match p.get("limit_results") {
            None | Some(Value::Null) => None,
            _ => Some(params::integer(p, "limit_results", 0)?.max(0) as usize),
        },
        fields,
    })
}

/// `time.strftime(fmt)`, or the text itself where Python raises ValueError.
fn strftime(fmt: &str, now: &chrono::DateTime<chrono::Local>) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    match write!(s, "{}", now.format(fmt)) {
        Ok(()) => s,
        Err(_) => fmt.to_string(),
    }
}

impl SmtpBatch {
    fn redis(&mut self) -> anyhow::Result<&mut redis::Connection> {
        let Store::Redis {
            host,
            port,
            db,
            password,
            conn,
        } = &mut self.store
        else {
            bail!("not on Redis");
        };
        if conn.is_none() {
            *conn = Some(crate::net::cache::connect_redis(
                host,
                *port,
                *db,
                password.as_deref(),
            )?);
        }
        Ok(conn.as_mut().expect("connected"))
    }

    /// IntelMQ's `hash_arbitrary`: sha256 of a str's UTF-8, of `bytes(n)` for
    /// an int (n zero bytes: hashed without making them), of sorted JSON else.
    fn hash_value(&mut self, v: &Value) -> [u8; 32] {
        match v {
            Value::String(s) => Sha256::digest(s.as_bytes()).into(),
            Value::Number(n) if n.as_i64().is_some() => {
                let n = n.as_i64().unwrap_or(0);
                if let Some(h) = self.int_hashes.get(&n) {
                    return *h;
                }
                let mut h = Sha256::new();
                let zeros = [0u8; 8192];
                let mut left = n.max(0) as u64;
                while left > 0 {
                    let k = left.min(zeros.len() as u64) as usize;
                    h.update(&zeros[..k]);
                    left -= k as u64;
                }
                let d: [u8; 32] = h.finalize().into();
                if self.int_hashes.len() < 4096 {
                    self.int_hashes.insert(n, d);
                }
                d
            }
            v => Sha256::digest(crate::pyfmt::py_json_dumps(v, true).as_bytes()).into(),
        }
    }

    /// The bucket key of one recipient of an event.
    fn key(&mut self, mail: &str, ev: &Message) -> String {
        let mut h = Sha256::new();
        h.update(Sha256::digest(mail.as_bytes()));
        // By index: hash_value borrows self mutably (its cache), the keys need
        // no copy per event.
        for i in 0..self.grouping.len() {
            if let Some(v) = ev.get(&self.grouping[i]) {
                let d = self.hash_value(v);
                h.update(d);
            }
        }
        let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        format!("{}{hex}", self.prefix)
    }

    fn store_batch(&mut self) -> anyhow::Result<Attempt<()>> {
        match &self.store {
            Store::Dir(dir) => {
                let dir = dir.clone();
                for (key, lines) in &self.batch {
                    let hex = &key[self.prefix.len()..];
                    let path = dir.join(format!("{hex}.ndjson"));
                    let mut f = std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(&path)
                        .with_context(|| format!("{}", path.display()))?;
                    f.write_all(lines)
                        .and_then(|_| f.sync_data())
                        .with_context(|| format!("{}", path.display()))?;
                }
                // New bucket files must survive a crash too.
                std::fs::File::open(&dir).and_then(|d| d.sync_all()).ok();
                Ok(Attempt::Done(()))
            }
            Store::Redis { .. } => {
                let mut pipe = redis::pipe();
                pipe.atomic();
                for (key, lines) in &self.batch {
                    let mut cmd = redis::cmd("RPUSH");
                    cmd.arg(key);
                    for l in lines.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                        cmd.arg(l);
                    }
                    pipe.add_command(cmd).ignore();
                }
                let conn = match self.redis() {
                    Ok(c) => c,
                    Err(e) => return Ok(Attempt::Transient(format!("{e:#}"))),
                };
                match pipe.query::<()>(conn) {
                    Ok(()) => Ok(Attempt::Done(())),
                    Err(e) if e.is_io_error() || e.is_connection_dropped() || e.is_timeout() => {
                        if let Store::Redis { conn, .. } = &mut self.store {
                            *conn = None;
                        }
                        Ok(Attempt::Transient(format!("RPUSH: {e}")))
                    }
                    Err(e) => bail!("RPUSH: {e}"),
                }
            }
        }
    }

    /// Every bucket: its key and its events' JSON lines.
    fn buckets(&mut self) -> anyhow::Result<Vec<(String, Vec<String>)>> {
        let mut out = Vec::new();
        match &self.store {
            Store::Dir(dir) => {
                let mut names: Vec<PathBuf> = std::fs::read_dir(dir)?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "ndjson"))
                    .collect();
                names.sort();
                for path in names {
                    let hex = path
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let f = std::fs::File::open(&path)?;
                    let mut lines = Vec::new();
                    for l in std::io::BufReader::new(f).split(b'\n') {
                        let l = l?;
                        // An unfinished last line (a crash inside a commit, never
                        // confirmed) is not an event.
                        if let Ok(s) = String::from_utf8(l) {
                            if serde_json::from_str::<Value>(&s).is_ok() {
                                lines.push(s);
                            }
                        }
                    }
                    out.push((format!("{}{hex}", self.prefix), lines));
                }
            }
            Store::Redis { .. } => {
                let pattern = format!("{}*", self.prefix);
                let conn = self.redis()?;
                let mut keys: Vec<String> = redis::cmd("KEYS").arg(&pattern).query(conn)?;
                keys.sort();
                for k in keys {
                    let lines: Vec<String> =
                        redis::cmd("LRANGE").arg(&k).arg(0).arg(-1).query(conn)?;
                    out.push((k, lines));
                }
            }
        }
        Ok(out)
    }

    fn delete_bucket(&mut self, key: &str) -> anyhow::Result<()> {
        match &self.store {
            Store::Dir(dir) => {
                let path = dir.join(format!("{}.ndjson", &key[self.prefix.len()..]));
                std::fs::remove_file(&path).with_context(|| format!("{}", path.display()))
            }
            Store::Redis { .. } => {
                let conn = self.redis()?;
                redis::cmd("DEL").arg(key).query::<()>(conn)?;
                Ok(())
            }
        }
    }

    /// The bucket's recipient: the address of the event's abuse contact whose
    /// key is the bucket's (IntelMQ takes the whole field, a list included).
    fn recipient(&mut self, key: &str, first: &Message) -> Option<String> {
        let addrs: Vec<String> = match first.get("source.abuse_contact")? {
            Value::Array(a) => a.iter().map(py_str).collect(),
            v => vec![py_str(v)],
        };
        addrs.into_iter().find(|a| self.key(a, first) == key)
    }

    fn send_all(&mut self) -> anyhow::Result<()> {
        let buckets = self.buckets()?;
        let m = self.mail.take().expect("send mode has mail options");
        let r = self.send_buckets(&m, buckets);
        self.mail = Some(m);
        r
    }

    fn send_buckets(
        &mut self,
        m: &MailOpts,
        mut buckets: Vec<(String, Vec<String>)>,
    ) -> anyhow::Result<()> {
        if let Some(n) = m.limit_results {
            buckets.truncate(n);
        }
        let now = chrono::Local::now();
        let threshold = m.ignore_older_than_days.map(|d| {
            (now - chrono::Duration::days(d))
                .naive_local()
                .format("%Y-%m-%dT%H:%M:%S")
                .to_string()
        });
        let (mut sent, mut events, mut refused) = (0usize, 0usize, 0usize);
        for (key, lines) in buckets {
            let Some(first) = lines.first().and_then(|l| {
                Message::from_json(l.as_bytes(), crate::harmonization::MsgType::Event).ok()
            }) else {
                continue;
            };
            let Some(to) = self.recipient(&key, &first) else {
                eprintln_safe(&format!("imq-output: smtp_batch: bucket {key}: no recipient matches its key; left alone"));
                continue;
            };
            let csv = attachment_csv(&lines, &m.fields, threshold.as_deref());
            if csv.1 == 0 {
                continue;
            }
            let to = m.alternative.get(&to).cloned().unwrap_or(to);
            let mut vars = serde_json::Map::new();
            vars.insert("source_abuse_contact".into(), Value::String(to.clone()));
            for k in &self.grouping {
                if let Some(v) = first.get(k) {
                    vars.insert(k.replace('.', "_"), v.clone());
                }
            }
            let (rcpt, intended) = match (self.mode, &m.testing_to) {
                (SendMode::Tester, Some(t)) => (t.clone(), Some(to.clone())),
                _ => (to.clone(), None),
            };
            let mut subject = render(m.templating.0, &m.subject, &vars, &now)?;
            match &intended {
                Some(i) => subject.push_str(&format!(" (intended for {i})")),
                None => subject.push_str(&format!(" ({rcpt})")),
            }
            let body = if m.templating.1 {
                render(true, &m.body, &vars, &now)?
            } else {
                m.body.clone()
            };
            let attachment = render(m.templating.2, &m.attachment_name, &vars, &now)? + ".zip";
            let inner = format!("{}_{}_events.csv", now.format("%y%m%d"), csv.1);
            if self.mode == SendMode::List {
                eprintln_safe(&format!(
                    "To: {rcpt}; Subject: {subject} Events: {}, Size: {}",
                    csv.1,
                    csv.0.len()
                ));
                continue;
            }
            let zip = zip_one(&inner, csv.0.as_bytes())?;
            let (mail, env) = build_mail(
                &m.from,
                &rcpt,
                if intended.is_none() { &m.bcc[..] } else { &[] },
                &subject,
                &body,
                &attachment,
                zip,
            )
            .map_err(|e| anyhow::anyhow!("smtp_batch: mail to {rcpt}: {e}"))?;
            let what = format!("smtp_batch mail to {rcpt} via {}", m.server_name);
            let retry = self.retry.clone();
            match retry.run(&what, || Ok(send(&m.transport, &mail, &env)))? {
                None => {
                    sent += 1;
                    events += csv.1;
                    if self.mode == SendMode::All {
                        self.delete_bucket(&key)?;
                    }
                }
                Some(reason) => {
                    refused += 1;
                    eprintln_safe(&format!("imq-output: {what}: {reason}; the bucket is kept"));
                }
            }
        }
        if self.mode != SendMode::List {
            eprintln_safe(&format!(
                "imq-output: smtp_batch: {sent} mails sent ({events} events)"
            ));
        }
        if refused > 0 {
            bail!("smtp_batch: {refused} mails refused by the server (their buckets are kept)");
        }
        Ok(())
    }
}

/// Jinja over the bucket's variables, or strftime as IntelMQ does without it.
fn render(
    jinja: bool,
    t: &str,
    vars: &serde_json::Map<String, Value>,
    now: &chrono::DateTime<chrono::Local>,
) -> anyhow::Result<String> {
    if !jinja {
        return Ok(strftime(t, now));
    }
    let mut env = minijinja::Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    let mut ctx = vars.clone();
    ctx.insert(
        "current_time".into(),
        Value::String(
            now.naive_local()
                .format("%Y-%m-%d %H:%M:%S%.6f")
                .to_string(),
        ),
    );
    env.render_str(t, minijinja::Value::from_serialize(&ctx))
        .map_err(|e| anyhow::anyhow!("smtp_batch template {t:?}: {e}"))
}

/// The CSV of a bucket (IntelMQ's csv.DictWriter: `,`, `\r\n`, minimal
/// quoting, the header of every allowed field) and its number of rows.
fn attachment_csv(
    lines: &[String],
    fields: &[(String, String)],
    threshold: Option<&str>,
) -> (String, usize) {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let _ = w.write_record(fields.iter().map(|f| f.1.as_str()));
    let mut n = 0;
    for l in lines {
        let Ok(Value::Object(row)) = serde_json::from_str::<Value>(l) else {
            continue;
        };
        if let (Some(t), Some(obs)) = (
            threshold,
            row.get("time.observation").and_then(Value::as_str),
        ) {
            if obs.get(..19).unwrap_or(obs) < t {
                continue;
            }
        }
        let cells: Vec<String> = fields
            .iter()
            .map(|(f, _)| match row.get(f) {
                None => String::new(),
                Some(Value::String(raw)) if f == "raw" => base64::engine::general_purpose::STANDARD
                    .decode(raw)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .map(|s| s.trim().replace('\n', "\\n").replace('\r', "\\r"))
                    .unwrap_or_else(|| raw.clone()),
                Some(v) => py_str(v),
            })
            .collect();
        let _ = w.write_record(&cells);
        n += 1;
    }
    let bytes = w.into_inner().unwrap_or_default();
    (String::from_utf8_lossy(&bytes).into_owned(), n)
}

/// A zip archive of one DEFLATEd file.
fn zip_one(name: &str, data: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let o = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    z.start_file(name, o)?;
    z.write_all(data)?;
    Ok(z.finish()?.into_inner())
}

fn build_mail(
    from: &str,
    to: &str,
    bcc: &[String],
    subject: &str,
    body: &str,
    attachment: &str,
    zip: Vec<u8>,
) -> Result<(lettre::Message, Envelope), String> {
    let from_box: Mailbox = from
        .parse()
        .map_err(|e| format!("email_from {from:?}: {e}"))?;
    let to_box: Mailbox = to.parse().map_err(|e| format!("recipient {to:?}: {e}"))?;
    let mut rcpt: Vec<Address> = vec![to_box.email.clone()];
    let mut b = lettre::Message::builder()
        .from(from_box.clone())
        .to(to_box)
        .subject(subject);
    for c in bcc {
        let m: Mailbox = c.parse().map_err(|e| format!("bcc {c:?}: {e}"))?;
        rcpt.push(m.email.clone());
        b = b.bcc(m);
    }
    let parts = MultiPart::mixed()
        .singlepart(SinglePart::plain(body.to_string()))
        .singlepart(
            Attachment::new(attachment.to_string())
                .body(zip, ContentType::parse("application/zip").expect("valid")),
        );
    let mail = b.multipart(parts).map_err(|e| e.to_string())?;
    let env = Envelope::new(Some(from_box.email), rcpt).map_err(|e| e.to_string())?;
    Ok((mail, env))
}

impl Output for SmtpBatch {
    fn write(&mut self, ev: &Message, _original: &[u8]) -> Result<(), Fail> {
        let addrs: Vec<String> = match ev.get("source.abuse_contact") {
            Some(Value::Array(a)) => a.iter().map(py_str).collect(),
            Some(v) => vec![py_str(v)],
            // IntelMQ acknowledges it and it is gone; here it is kept.
            None => {
                return Err(Fail::Reject(
                    "no source.abuse_contact: smtp_batch has no recipient for the event".into(),
                ))
            }
        };
        let mut line = to_json(ev, false, false).into_bytes();
        line.push(b'\n');
        for a in addrs {
            let key = self.key(&a, ev);
            self.batch.entry(key).or_default().extend_from_slice(&line);
        }
        self.events += 1;
        Ok(())
    }

    fn commit(&mut self) -> anyhow::Result<Vec<(usize, String)>> {
        if self.batch.is_empty() {
            return Ok(Vec::new());
        }
        let what = format!("smtp_batch: {} events into their buckets", self.events);
        let retry = self.retry.clone();
        retry.run(&what, || self.store_batch())?;
        self.batch.clear();
        self.events = 0;
        Ok(Vec::new())
    }

    fn batch_full(&self) -> bool {
        self.events >= 1000
    }

    fn finish(&mut self) -> anyhow::Result<()> {
        if self.mode == SendMode::No {
            return Ok(());
        }
        self.send_all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_of_an_int_is_that_many_zero_bytes() {
        let mut b = SmtpBatch {
            prefix: "x:".into(),
            grouping: vec![],
            store: Store::Dir(PathBuf::new()),
            retry: Retry::from_params(&Params::new()).unwrap(),
            batch: BTreeMap::new(),
            events: 0,
            int_hashes: HashMap::new(),
            mode: SendMode::No,
            mail: None,
        };
        let want: [u8; 32] = Sha256::digest([0u8; 20000]).into();
        assert_eq!(b.hash_value(&Value::from(20000)), want);
        let want: [u8; 32] = Sha256::digest(b"AS1").into();
        assert_eq!(b.hash_value(&Value::from("AS1")), want);
        let want: [u8; 32] = Sha256::digest(br#"{"a": 1}"#).into();
        assert_eq!(b.hash_value(&serde_json::json!({"a": 1})), want);
    }

    #[test]
    fn csv_as_intelmq_writes_it() {
        let lines = vec![
            r#"{"source.ip": "192.0.2.1", "raw": "YSxiCnE=", "source.asn": 64496}"#.to_string(),
            r#"{"time.observation": "2000-01-01T00:00:00+00:00", "source.ip": "192.0.2.2"}"#
                .to_string(),
        ];
        let fields: Vec<(String, String)> =
            [("source.ip", "ip"), ("source.asn", "asn"), ("raw", "raw")]
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect();
        let (csv, n) = attachment_csv(&lines, &fields, None);
        assert_eq!(n, 2);
        assert_eq!(
            csv,
            "ip,asn,raw\r\n192.0.2.1,64496,\"a,b\\nq\"\r\n192.0.2.2,,\r\n"
        );
        let (_, n) = attachment_csv(&lines, &fields, Some("2020-01-01T00:00:00"));
        assert_eq!(n, 1);
    }
}
