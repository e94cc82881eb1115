//! `smtp`: IntelMQ's smtp output (§4.9): one mail per event. `subject`,
//! `text`, `mail_from` and `mail_to` are Python format strings over the event
//! (`{ev[source.asn]}`, a missing field formats as `None`); the mail has the
//! text and, with `fieldnames`, an `events.csv` attachment (a header row and the
//! event's row, `;`-separated). Recipients are `mail_to` split on commas.
//!
//! A mail counts as sent when the server accepted it (250 after DATA). A
//! permanent refusal (5xx, e.g. an unknown recipient) sends that event to the
//! dump; transient ones (4xx, the connection) are retried.

use super::retry::{Attempt, Retry};
use super::{Output, OutputOpts};
use crate::message::Message;
use crate::params::{self, Params};
use crate::pipeline::Fail;
use crate::pyfmt::py_str;
use lettre::address::Envelope;
use lettre::message::{header::ContentType, Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Address, SmtpTransport, Transport};
use std::time::Duration;

pub const DEFAULT_TEXT: &str = "Dear network owner,\\n\\nWe have been informed that the following device might have security problems.\\n\\nYour localhost CERT";
pub const DEFAULT_FIELDNAMES: &str = "classification.taxonomy,classification.type,classification.identifier,source.ip,source.asn,source.port";

pub struct Smtp {
    transport: SmtpTransport,
    mail_from: String,
    mail_to: String,
    subject: String,
    text: Option<String>,
    fieldnames: Vec<String>,
    retry: Retry,
    mails: Vec<(lettre::Message, Envelope)>,
}

/// The SMTP connection parameters shared by the mail outputs: host, port, SSL
/// or STARTTLS, login, certificate check.
pub struct Server<'a> {
    pub host: &'a str,
    pub port: u16,
    pub ssl: bool,
    pub starttls: bool,
    pub user: Option<String>,
    pub password: Option<String>,
    pub verify: bool,
}

pub fn transport(s: &Server) -> anyhow::Result<SmtpTransport> {
    let tls = TlsParameters::builder(s.host.to_string())
        .dangerous_accept_invalid_certs(!s.verify)
        .build()?;
    let mut b = SmtpTransport::builder_dangerous(s.host)
        .port(s.port)
        .timeout(Some(Duration::from_secs(30)));
    if s.ssl {
        b = b.tls(Tls::Wrapper(tls));
    } else if s.starttls {
        b = b.tls(Tls::Required(tls));
    }
    if let (Some(u), Some(p)) = (&s.user, &s.password) {
        b = b.credentials(Credentials::new(u.clone(), p.clone()));
    }
    Ok(b.build())
}

/// Send one mail: done, refused for good (that event to the dump), or retry.
pub fn send(t: &SmtpTransport, mail: &lettre::Message, env: &Envelope) -> Attempt<Option<String>> {
    match t.send_raw(env, &mail.formatted()) {
        Ok(_) => Attempt::Done(None),
        Err(e) if e.is_permanent() => {
            Attempt::Done(Some(format!("the mail server refused the mail: {e}")))
        }
        Err(e) => Attempt::Transient(format!("SMTP: {}", crate::net::error_chain(&e))),
    }
}

pub fn build(o: &OutputOpts) -> anyhow::Result<Box<dyn Output>> {
    let p: &Params = &o.params;
    let host = params::string_or(p, "smtp_host", "localhost")?;
    let port = params::integer(p, "smtp_port", 25)?;
    let server = Server {
        host: &host,
        port: u16::try_from(port).map_err(|_| anyhow::anyhow!("parameter smtp_port: {port}"))?,
        ssl: params::boolean(p, "ssl", false)?,
        starttls: params::boolean(p, "starttls", true)?,
        user: params::string(p, "smtp_username")?.filter(|s| !s.is_empty()),
        password: params::string(p, "smtp_password")?.filter(|s| !s.is_empty()),
        verify: params::boolean(p, "http_verify_cert", true)?,
    };
    let fieldnames = match p.get("fieldnames") {
        None => DEFAULT_FIELDNAMES.split(',').map(String::from).collect(),
        Some(_) => params::list(p, "fieldnames")?.unwrap_or_default(),
    };
    let text = match p.get("text") {
        Some(serde_json::Value::Null) => None,
        _ => Some(params::string_or(p, "text", DEFAULT_TEXT)?),
    };
    Ok(Box::new(Smtp {
        transport: transport(&server)?,
        mail_from: params::string_or(p, "mail_from", "cert@localhost")?,
        mail_to: params::string_or(p, "mail_to", "{ev[source.abuse_contact]}")?,
        subject: params::string_or(p, "subject", "Incident in your AS {ev[source.asn]}")?,
        text,
        fieldnames,
        retry: Retry::from_params(p)?,
        mails: Vec::new(),
    }))
}

/// Python's `template.format(ev=event)` for the `{ev[field]}` replacement
/// fields and `{{`/`}}` (what IntelMQ's documented templates use); a missing
/// field is `None`, as after `event.set_default_value()`.
pub fn format_ev(template: &str, ev: &Message) -> Result<String, String> {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let r = &rest[i..];
        if r.starts_with("{{") || r.starts_with("}}") {
            out.push_str(&r[..1]);
            rest = &r[2..];
            continue;
        }
        if r.starts_with('}') {
            return Err(format!(
                "Single '}}' encountered in format string {template:?}"
            ));
        }
        let end = r
            .find('}')
            .ok_or_else(|| format!("expected '}}' before end of string in {template:?}"))?;
        let field = &r[1..end];
        let key = field
            .strip_prefix("ev[")
            .and_then(|f| f.strip_suffix(']'))
            .ok_or_else(|| format!("unsupported replacement field {{{field}}} in {template:?}"))?;
        match ev.get(key) {
            Some(v) => out.push_str(&py_str(v)),
            None => out.push_str("None"),
        }
        rest = &r[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

impl Smtp {
    fn mail(&self, ev: &Message) -> Result<(lettre::Message, Envelope), String> {
        let from = format_ev(&self.mail_from, ev)?;
        let to = format_ev(&self.mail_to, ev)?;
        let subject = format_ev(&self.subject, ev)?;
        let mut b = lettre::Message::builder()
            .from(
                from.parse::<Mailbox>()
                    .map_err(|e| format!("mail_from {from:?}: {e}"))?,
            )
            .subject(subject);
        let mut rcpt: Vec<Address> = Vec::new();
        for r in to.split(',') {
            // IntelMQ does not strip; an address with spaces around it is still one.
            let m: Mailbox = r
                .trim()
                .parse()
                .map_err(|e| format!("recipient {r:?} (mail_to {to:?}): {e}"))?;
            rcpt.push(m.email.clone());
            b = b.to(m);
        }
        // The envelope sender is mail_from as configured, unformatted (IntelMQ).
        let env_from = self
            .mail_from
            .parse::<Address>()
            .ok()
            .or_else(|| from.parse::<Mailbox>().ok().map(|m| m.email));
        let env = Envelope::new(env_from, rcpt).map_err(|e| e.to_string())?;
        let mut parts = MultiPart::mixed().build();
        if let Some(t) = &self.text {
            parts = parts.singlepart(SinglePart::plain(format_ev(t, ev)?));
        }
        if !self.fieldnames.is_empty() {
            let mut csv = String::new();
            csv.push_str(
                &self
                    .fieldnames
                    .iter()
                    .map(|f| csv_cell(f))
                    .collect::<Vec<_>>()
                    .join(";"),
            );
            csv.push('\n');
            let row: Vec<String> = self
                .fieldnames
                .iter()
                .map(|f| csv_cell(&ev.get(f).map(py_str).unwrap_or_default()))
                .collect();
            csv.push_str(&row.join(";"));
            csv.push('\n');
            parts = parts.singlepart(Attachment::new("events.csv".into()).body(
                csv,
                ContentType::parse("text/csv; charset=utf-8").expect("valid"),
            ));
        }
        let mail = b.multipart(parts).map_err(|e| e.to_string())?;
        Ok((mail, env))
    }
}

/// csv.QUOTE_MINIMAL with `;`: quoted when it holds `;`, `"`, or a line break.
fn csv_cell(s: &str) -> String {
    if s.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

impl Output for Smtp {
    fn write(&mut self, ev: &Message, _original: &[u8]) -> Result<(), Fail> {
        let m = self.mail(ev).map_err(Fail::Reject)?;
        self.mails.push(m);
        Ok(())
    }

    fn commit(&mut self) -> anyhow::Result<Vec<(usize, String)>> {
        let mut refused = Vec::new();
        for (i, (mail, env)) in self.mails.iter().enumerate() {
            let what = format!(
                "mail to {}",
                env.to()
                    .iter()
                    .map(|a| a.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            );
            if let Some(why) = self
                .retry
                .run(&what, || Ok(send(&self.transport, mail, env)))?
            {
                refused.push((i, why));
            }
        }
        self.mails.clear();
        Ok(refused)
    }

    fn batch_full(&self) -> bool {
        self.mails.len() >= 100
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harmonization::MsgType;

    #[test]
    fn python_format_of_ev() {
        let ev = Message::from_json(
            br#"{"source.asn":64496,"source.ip":"192.0.2.1"}"#,
            MsgType::Event,
        )
        .unwrap();
        assert_eq!(
            format_ev("AS {ev[source.asn]} {{x}} {ev[source.fqdn]}", &ev).unwrap(),
            "AS 64496 {x} None"
        );
        assert!(format_ev("{ev[source.asn]", &ev).is_err());
        assert!(format_ev("{other}", &ev).is_err());
    }
}
