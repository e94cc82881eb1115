//! What IntelMQ's three IMAP collectors share (`intelmq/bots/collectors/mail/
//! _lib.py`): the mailbox parameters, the run over the unread mails of a folder,
//! the `extra.email_*` fields and the MIME walk (imbox's bodies and
//! attachments). The collectors themselves (mail_attach.rs, mail_body.rs,
//! mail_url.rs) only turn one parsed mail into reports.
//!
//! A run: connect (IMAPS, STARTTLS or plain), LOGIN, SELECT `folder`, `UID
//! SEARCH UNSEEN` (with `FROM`/`TO` for `sent_from`/`sent_to`), then each mail is
//! fetched with `BODY.PEEK[]` (which leaves it unread), skipped when its subject
//! does not match `subject_regex` (it stays unread), and made into reports. A
//! mail the collector took is marked `\Seen` only in `ack`, once all of its
//! reports were committed downstream: a run killed before that leaves it unread
//! for the next run (IntelMQ marks it right after sending). A mail whose
//! processing fails stays unread and the other mails are still processed.

use super::chunk::{Chunker, Chunking};
use super::extract::{Piece, Producer};
use super::{Ctx, FeedMeta, Template};
use crate::net::imap::{self, Arg, Client, Fetched, Security};
use crate::params::{self, Params};
use crate::pipeline::signal;
use crate::transport::{Next, Pos, Source};
use anyhow::{bail, Context, Result};
use mail_parser::{MessageParser, MimeHeaders, PartType};
use std::collections::VecDeque;
use std::io::{self, Read};
use std::time::Duration;

/// A mail larger than this is not fetched into memory (it stays unread, with
/// an error).
const MAX_MAIL: usize = 64 << 20;
const TIMEOUT: Duration = Duration::from_secs(60);
/// imbox's default ports: IMAPS with `mail_ssl`, else IMAP (STARTTLS or plain).
const IMAPS_PORT: i64 = 993;
const IMAP_PORT: i64 = 143;

/// The mailbox and which of its mails to take.
pub(super) struct Mailbox {
    opts: imap::Options,
    user: String,
    password: String,
    folder: String,
    sent_from: Option<String>,
    sent_to: Option<String>,
    subject: Option<regex::Regex>,
}

/// A parameter that is still IntelMQ's placeholder (`<host>`) was never set.
fn placeholder(name: &str, v: Option<String>) -> Result<String> {
    match v {
        Some(v) if !v.is_empty() && !is_placeholder(&v) => Ok(v),
        _ => bail!("parameter {name} is required"),
    }
}

fn is_placeholder(v: &str) -> bool {
    v.starts_with('<') && v.ends_with('>')
}

impl Mailbox {
    pub(super) fn from_params(p: &Params) -> Result<Mailbox> {
        let host = placeholder("mail_host", Some(params::required(p, "mail_host")?))?;
        let user = placeholder("mail_user", Some(params::required(p, "mail_user")?))?;
        let password = params::string_or(p, "mail_password", "<password>")?;
        let ssl = params::boolean(p, "mail_ssl", true)?;
        let starttls = params::boolean(p, "mail_starttls", false)?;
        // imbox: SSL wins over STARTTLS; ports 993 and 143 by default.
        let security = match (ssl, starttls) {
            (true, _) => Security::Tls,
            (false, true) => Security::StartTls,
            (false, false) => Security::Plain,
        };
        let given = match p.get("mail_port") {
            None | Some(serde_json::Value::Null) => false,
            Some(serde_json::Value::String(s)) => !s.trim().is_empty(),
            _ => true,
        };
        let port = match given {
            true => params::integer(p, "mail_port", IMAPS_PORT)?,
            false if ssl => IMAPS_PORT,
            false => IMAP_PORT,
        };
        let port = match u16::try_from(port) {
            Ok(n) if n > 0 => n,
            _ => bail!("parameter mail_port: {port} is no port"),
        };
        let verify = params::boolean(p, "http_verify_cert", true)?;
        let ca_file = params::string(p, "ssl_ca_certificate")?
            .filter(|s| !s.is_empty())
            .map(Into::into);
        let folder = params::string_or(p, "folder", "INBOX")?;
        let nonempty = |v: Option<String>| v.filter(|s| !s.is_empty());
        let sent_from = nonempty(params::string(p, "sent_from")?);
        let sent_to = nonempty(params::string(p, "sent_to")?);
        // IntelMQ's default is the placeholder itself, taken as a regex; null
        // or empty: no filter.
        let subject = match p.get("subject_regex") {
            Some(serde_json::Value::Null) => None,
            _ => nonempty(Some(params::string_or(p, "subject_regex", "<subject>")?)),
        };
        let subject = subject
            .map(|r| {
                regex::Regex::new(&r).with_context(|| format!("parameter subject_regex {r:?}"))
            })
            .transpose()?;
        Ok(Mailbox {
            opts: imap::Options {
                host,
                port,
                security,
                verify,
                ca_file,
                timeout: TIMEOUT,
                max_literal: MAX_MAIL,
            },
            user,
            password,
            folder,
            sent_from,
            sent_to,
            subject,
        })
    }

    fn label(&self) -> String {
        format!(
            "imap{}://{}@{}:{}/{}",
            if self.opts.security == Security::Tls {
                "s"
            } else {
                ""
            },
            self.user,
            self.opts.host,
            self.opts.port,
            self.folder
        )
    }

    /// Connect, log in and select the folder.
    fn open(&self) -> Result<Client> {
        let mut c = Client::connect(&self.opts)?;
        c.login(&self.user, &self.password)?;
        c.select(&self.folder)?;
        Ok(c)
    }

    /// The UIDs of the unread mails (with the sender and recipient filters).
    fn search(&self, c: &mut Client) -> Result<Vec<u32>> {
        let mut crit = vec![Arg::Atom("UNSEEN")];
        if let Some(f) = &self.sent_from {
            crit.push(Arg::Atom("FROM"));
            crit.push(Arg::Str(f));
        }
        if let Some(t) = &self.sent_to {
            crit.push(Arg::Atom("TO"));
            crit.push(Arg::Str(t));
        }
        c.uid_search(&crit)
    }
}

/// One part of a mail as imbox sees it.
pub(super) enum Part<'a> {
    /// A `text/plain` or `text/html` part shown inline: a body.
    Body { html: bool, text: &'a str },
    /// A part with a `Content-Disposition` of attachment or inline: its file
    /// name (if any) and its bytes (transfer encoding undone, no charset
    /// conversion).
    Attachment {
        name: Option<&'a str>,
        data: std::borrow::Cow<'a, [u8]>,
    },
}

/// The parts of a mail in order, nested mails (message/rfc822) included, as
/// imbox's walk finds bodies and attachments.
pub(super) fn parts<'a>(msg: &'a mail_parser::Message<'a>, out: &mut Vec<Part<'a>>) {
    for part in &msg.parts {
        let body = &part.body;
        match body {
            PartType::Multipart(_) => continue,
            PartType::Message(inner) => {
                parts(inner, out);
                continue;
            }
            _ => {}
        }
        let (ctype, sub) = match part.content_type() {
            Some(ct) => (
                ct.ctype().to_ascii_lowercase(),
                ct.subtype().unwrap_or("").to_ascii_lowercase(),
            ),
            None => ("text".to_string(), "plain".to_string()),
        };
        let disposition = part
            .content_disposition()
            .map(|d| d.ctype().to_ascii_lowercase());
        let inline = disposition.as_deref().is_none_or(|d| d == "inline");
        if ctype == "text" && (sub == "plain" || sub == "html") && inline {
            out.push(Part::Body {
                html: sub == "html",
                text: part.text_contents().unwrap_or(""),
            });
        } else if matches!(disposition.as_deref(), Some("attachment" | "inline")) {
            out.push(Part::Attachment {
                name: part.attachment_name(),
                data: raw_contents(msg, part),
            });
        }
    }
}

/// A part's bytes as Python's `get_payload(decode=True)` gives them: the
/// transfer encoding undone but the charset not converted (mail-parser turns
/// text parts into UTF-8).
fn raw_contents<'a>(
    msg: &'a mail_parser::Message<'a>,
    part: &'a mail_parser::MessagePart<'a>,
) -> std::borrow::Cow<'a, [u8]> {
    use std::borrow::Cow;
    if !matches!(part.body, PartType::Text(_) | PartType::Html(_)) {
        return Cow::Borrowed(part.contents());
    }
    let raw = msg
        .raw_message
        .get(part.offset_body as usize..part.offset_end as usize)
        .unwrap_or(b"");
    let decoded = match part.encoding {
        mail_parser::Encoding::Base64 => mail_parser::decoders::base64::base64_decode(raw),
        mail_parser::Encoding::QuotedPrintable => {
            mail_parser::decoders::quoted_printable::quoted_printable_decode(raw)
        }
        mail_parser::Encoding::None => {
            let charset = part
                .content_type()
                .and_then(|c| c.attribute("charset"))
                .unwrap_or("us-ascii")
                .to_ascii_lowercase();
            if matches!(charset.as_str(), "utf-8" | "utf8" | "us-ascii" | "ascii") {
                None
            } else {
                let r = raw.strip_suffix(b"\n").unwrap_or(raw);
                Some(r.strip_suffix(b"\r").unwrap_or(r).to_vec())
            }
        }
    };
    match decoded {
        Some(d) => Cow::Owned(d),
        None => Cow::Borrowed(part.contents()),
    }
}

/// What the collector makes of one mail.
pub(super) struct Mail<'a> {
    pub msg: &'a mail_parser::Message<'a>,
    /// `extra.email_subject`, `extra.email_from`, `extra.email_message_id`,
    /// `extra.email_date`.
    pub fields: Vec<(&'static str, String)>,
}

impl Mail<'_> {
    /// The report fields of this mail plus `more`.
    pub fn own<'b>(&'b self, more: &[(&'b str, &'b str)]) -> Vec<(&'b str, &'b str)> {
        let mut v: Vec<(&str, &str)> = more.to_vec();
        v.extend(self.fields.iter().map(|(k, v)| (*k, v.as_str())));
        v
    }

    pub fn owned(&self, more: &[(&str, &str)]) -> Vec<(String, String)> {
        self.own(more)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }
}

/// The reports of one mail, made as they are handed out.
pub(super) enum Item {
    /// One input cut into reports.
    Chunks {
        chunker: Chunker<Box<dyn Read + Send>>,
        template: Template,
    },
    /// An archive unpacked on a thread; each member's reports carry `own`
    /// plus `extra.file_name`.
    Unpack {
        producer: Producer,
        own: Vec<(String, String)>,
        template: Option<Template>,
    },
}

impl Item {
    /// An input that becomes reports as it is (bounded: an input larger than
    /// 8 MiB is cut at line ends, as the file collector does).
    pub fn whole(data: Vec<u8>, template: Template) -> Item {
        Item::chunked(Box::new(io::Cursor::new(data)), template, BOUNDED)
    }

    pub fn chunked(input: Box<dyn Read + Send>, template: Template, how: Chunking) -> Item {
        Item::Chunks {
            chunker: Chunker::new(input, how),
            template,
        }
    }

    /// The next report line in `buf`; false when the item has no more.
    fn next(&mut self, meta: &FeedMeta, buf: &mut Vec<u8>) -> Result<bool, String> {
        match self {
            Item::Chunks { chunker, template } => match chunker.next_parts() {
                Ok(Some((h, d))) => {
                    template.write_parts(h, d, buf);
                    Ok(true)
                }
                Ok(None) => Ok(false),
                Err(e) => Err(e.to_string()),
            },
            Item::Unpack {
                producer,
                own,
                template,
            } => loop {
                match producer.recv() {
                    Piece::Member(name) => {
                        let mut f: Vec<(&str, &str)> = Vec::new();
                        if let Some(n) = &name {
                            f.push(("extra.file_name", n));
                        }
                        f.extend(own.iter().map(|(k, v)| (k.as_str(), v.as_str())));
                        *template = Some(Template::new(meta, &f).map_err(|e| format!("{e:#}"))?);
                    }
                    Piece::Data(d) => {
                        let t = template.as_ref().ok_or("archive data before a member")?;
                        t.write(&d, buf);
                        producer.recycle(d);
                        return Ok(true);
                    }
                    Piece::End => return Ok(false),
                    Piece::Error(e) => return Err(e),
                }
            },
        }
    }
}

/// The bound on one report of collectors IntelMQ never splits.
pub(super) const BOUNDED: Chunking = Chunking {
    size: Some(super::http::DEFAULT_CHUNK),
    replicate_header: true,
    only_if_larger: true,
};

/// What a mail collector does with a mail.
pub(super) trait Handler {
    /// The collector's name (for messages).
    fn name(&self) -> &'static str;
    /// The reports of one mail (as items in `out`) and whether the mail is to
    /// be marked seen once they are committed; an error leaves it unread.
    /// `errors`: failures that do not keep the mail from being marked seen.
    fn handle(
        &mut self,
        mail: &Mail,
        meta: &FeedMeta,
        out: &mut Vec<Item>,
        errors: &mut Vec<String>,
    ) -> Result<bool, String>;
}

/// The mail being handed out.
struct Current {
    uid: u32,
    items: VecDeque<Item>,
    seen: bool,
}

pub(super) struct MailCollector {
    mailbox: Mailbox,
    handler: Box<dyn Handler>,
    meta: FeedMeta,
    ctx: Ctx,
    client: Option<Client>,
    started: bool,
    finished: bool,
    uids: VecDeque<u32>,
    current: Option<Current>,
    /// Mails all of whose reports were handed out: marked seen at the next ack.
    to_mark: Vec<u32>,
    input: String,
    count: u64,
}

pub(super) fn build(p: &Params, handler: Box<dyn Handler>, ctx: &Ctx) -> Result<Box<dyn Source>> {
    let mailbox = Mailbox::from_params(p)?;
    let meta = FeedMeta::from_params(p)?;
    let input = crate::transport::mask(&mailbox.label());
    Ok(Box::new(MailCollector {
        mailbox,
        handler,
        meta,
        ctx: ctx.clone(),
        client: None,
        started: false,
        finished: false,
        uids: VecDeque::new(),
        current: None,
        to_mark: Vec::new(),
        input,
        count: 0,
    }))
}

/// Python's header value: the raw text, unfolded and trimmed.
fn raw_header(msg: &mail_parser::Message, name: &str) -> String {
    let raw = msg.header_raw(name).unwrap_or("");
    let mut s = String::with_capacity(raw.len());
    let mut lines = raw.split('\n');
    if let Some(first) = lines.next() {
        s.push_str(first.trim_end_matches('\r'));
    }
    for l in lines {
        s.push_str(l.trim_end_matches('\r'));
    }
    s.trim().to_string()
}

/// The report fields IntelMQ sets from the mail's headers.
fn email_fields(msg: &mail_parser::Message) -> Vec<(&'static str, String)> {
    let from: Vec<&str> = msg
        .from()
        .map(|a| a.iter().filter_map(|x| x.address()).collect())
        .unwrap_or_default();
    vec![
        (
            "extra.email_subject",
            msg.subject().unwrap_or("").to_string(),
        ),
        ("extra.email_from", from.join(",")),
        ("extra.email_message_id", raw_header(msg, "Message-ID")),
        ("extra.email_date", raw_header(msg, "Date")),
    ]
}

impl MailCollector {
    fn label(&self) -> String {
        self.meta.label(self.handler.name())
    }

    /// Connect and find the unread mails.
    fn start(&mut self) -> Result<()> {
        let mut c = self.mailbox.open()?;
        let uids = self.mailbox.search(&mut c)?;
        self.uids = uids.into();
        self.client = Some(c);
        Ok(())
    }

    /// Fetch and handle the next mail; false when there is none left.
    fn next_mail(&mut self) -> Result<bool> {
        let Some(uid) = self.uids.pop_front() else {
            return Ok(false);
        };
        let client = self.client.as_mut().expect("connected");
        let raw = match client.uid_fetch(uid)? {
            Fetched::Mail(r) => r,
            // Expunged meanwhile.
            Fetched::Gone => return Ok(true),
            Fetched::TooBig(n) => {
                self.ctx.failed(
                    &self.label(),
                    &format!("mail UID {uid}: {n} bytes, more than the limit of {MAX_MAIL} bytes (left unread)"),
                );
                return Ok(true);
            }
        };
        let Some(msg) = MessageParser::default().parse(&raw) else {
            self.ctx.failed(
                &self.label(),
                &format!("mail UID {uid}: not a mail (left unread)"),
            );
            return Ok(true);
        };
        if let Some(re) = &self.mailbox.subject {
            // IntelMQ matches the subject with its line folding undone.
            let subject = msg.subject().unwrap_or("").replace("\r\n", "");
            if !re.is_match(&subject) {
                return Ok(true);
            }
        }
        let mail = Mail {
            msg: &msg,
            fields: email_fields(&msg),
        };
        let mut items = Vec::new();
        let mut errors = Vec::new();
        let result = self
            .handler
            .handle(&mail, &self.meta, &mut items, &mut errors);
        for e in errors {
            self.ctx
                .failed(&self.label(), &format!("mail UID {uid}: {e}"));
        }
        match result {
            Ok(seen) => {
                self.current = Some(Current {
                    uid,
                    items: items.into(),
                    seen,
                })
            }
            Err(e) => {
                let subject = msg.subject().unwrap_or("");
                self.ctx.failed(
                    &self.label(),
                    &format!("mail UID {uid} ({subject:?}): {e} (left unread)"),
                );
            }
        }
        Ok(true)
    }

    /// Mark the finished mails seen (reconnecting once, as IntelMQ does when
    /// the server dropped the connection).
    fn mark(&mut self) -> Result<()> {
        if self.to_mark.is_empty() {
            return Ok(());
        }
        let r = match self.client.as_mut() {
            Some(c) => c.uid_store_flag(&self.to_mark, "\\Seen"),
            None => Err(anyhow::anyhow!("not connected")),
        };
        if r.is_err() {
            let mut c = self.mailbox.open()?;
            c.uid_store_flag(&self.to_mark, "\\Seen")?;
            self.client = Some(c);
        }
        self.to_mark.clear();
        Ok(())
    }
}

impl Source for MailCollector {
    fn next(&mut self, buf: &mut Vec<u8>) -> io::Result<Next> {
        loop {
            if self.finished {
                return Ok(Next::End);
            }
            if !self.started {
                self.started = true;
                if let Err(e) = self.start() {
                    self.finished = true;
                    self.ctx
                        .failed(&self.label(), &format!("{}: {e:#}", self.input));
                    return Ok(Next::End);
                }
            }
            if let Some(cur) = &mut self.current {
                let Some(item) = cur.items.front_mut() else {
                    let cur = self.current.take().expect("current");
                    if cur.seen {
                        self.to_mark.push(cur.uid);
                    }
                    continue;
                };
                match item.next(&self.meta, buf) {
                    Ok(true) => {
                        self.count += 1;
                        return Ok(Next::Line);
                    }
                    Ok(false) => {
                        cur.items.pop_front();
                    }
                    Err(e) => {
                        let uid = cur.uid;
                        self.current = None;
                        self.ctx
                            .failed(&self.label(), &format!("mail UID {uid}: {e} (left unread)"));
                    }
                }
                continue;
            }
            if signal::stop_requested() {
                self.finished = true;
                continue;
            }
            match self.next_mail() {
                Ok(true) => {}
                Ok(false) => {
                    self.finished = true;
                    self.ctx.fetched(false);
                }
                Err(e) => {
                    self.finished = true;
                    self.ctx
                        .failed(&self.label(), &format!("{}: {e:#}", self.input));
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
        // The next mail is fetched from the server: commit what is out.
        self.current.as_ref().is_none_or(|c| c.items.is_empty())
    }

    fn ack(&mut self) -> io::Result<()> {
        self.mark()
            .map_err(|e| io::Error::other(format!("{}: marking mails seen: {e:#}", self.input)))
    }
}

impl Drop for MailCollector {
    fn drop(&mut self) {
        if let Some(c) = self.client.as_mut() {
            let _ = c.logout();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAIL: &[u8] = b"From: Feed <feed@example.org>, other@example.net\r\n\
To: soc@example.com\r\n\
Subject: =?utf-8?q?Daily_report_=C3=A4?=\r\n\
 continued\r\n\
Date: Mon, 2 Mar 2026 10:00:00 +0000\r\n\
Message-ID: <abc@example.org>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b1\"\r\n\
\r\n\
--b1\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
See http://x/y.csv\r\n\
--b1\r\n\
Content-Type: text/csv; charset=iso-8859-1\r\n\
Content-Disposition: attachment; filename=\"a.csv\"\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\
\r\n\
ip,name\r\n\
1.2.3.4,a=E4b\r\n\
--b1--\r\n";

    #[test]
    fn parts_and_fields_as_imbox() {
        let msg = MessageParser::default().parse(MAIL).unwrap();
        let f = email_fields(&msg);
        assert_eq!(f[1].1, "feed@example.org,other@example.net");
        assert_eq!(f[2].1, "<abc@example.org>");
        assert_eq!(f[3].1, "Mon, 2 Mar 2026 10:00:00 +0000");
        assert!(f[0].1.starts_with("Daily report ä"), "{:?}", f[0].1);
        let mut v = Vec::new();
        parts(&msg, &mut v);
        assert_eq!(v.len(), 2);
        match &v[0] {
            Part::Body { html, text } => {
                assert!(!html);
                assert!(text.starts_with("See http://x/y.csv"));
            }
            _ => panic!("body first"),
        }
        match &v[1] {
            Part::Attachment { name, data } => {
                assert_eq!(*name, Some("a.csv"));
                // Latin-1 bytes as sent, not converted to UTF-8.
                assert!(data.starts_with(b"ip,name\r\n1.2.3.4,a\xe4b"), "{data:?}");
            }
            _ => panic!("attachment second"),
        }
    }
}
