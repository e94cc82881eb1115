//! The mail_body collector (IntelMQ's `collector_mail_body`): the bodies of the
//! unread mails of an IMAP folder, one report per body part of the
//! `content_types` (`plain`, `html` or both, the default; a list or a comma
//! separated text), plain ones first, as text (UTF-8). Every report carries
//! `extra.email_subject`, `extra.email_from` (the sender addresses joined with
//! `,`), `extra.email_message_id` and `extra.email_date` (the headers' values).
//!
//! The mailbox (shared by mail_attach, mail_body and mail_url): `mail_host`,
//! `mail_user`, `mail_password`; `mail_ssl` (IMAPS, default true), else
//! `mail_starttls`; `mail_port` (default 993 with SSL, 143 without); `folder`
//! (INBOX). Only unread mails are taken, and of them only those whose subject
//! matches `subject_regex` (`re.search`; IntelMQ's default is the placeholder
//! `<subject>`; null or empty takes every subject) and, as IMAP search
//! filters, `sent_from` and `sent_to`. `http_verify_cert: false` accepts any
//! server certificate; `ssl_ca_certificate` is a PEM file of CAs to verify
//! with instead of the built-in roots.
//!
//! A mail with at least one body is marked `\Seen` once its reports were
//! committed downstream (IntelMQ marks it right after sending): a run stopped
//! or killed before leaves it unread for the next run. Mails that fail stay
//! unread; the others are still processed.
// help-params: mail.rs

use super::mail::{self, Handler, Item, Mail, Part};
use super::{Ctx, FeedMeta, Template};
use crate::params::{self, Params};
use crate::transport::Source;
use anyhow::{bail, Result};
use serde_json::Value;

struct Body {
    /// `true`: html, in this order.
    types: Vec<bool>,
}

pub fn build(p: &Params, args: &[String], ctx: &Ctx) -> Result<Box<dyn Source>> {
    if !args.is_empty() {
        bail!("mail_body takes no arguments (the mailbox is in its parameters)");
    }
    // IntelMQ: a text is split at commas; true, null, false or empty: both.
    let names = match p.get("content_types") {
        None | Some(Value::Null) | Some(Value::Bool(_)) => None,
        _ => params::list(p, "content_types")?,
    }
    .filter(|v| !v.is_empty())
    .unwrap_or_else(|| vec!["plain".into(), "html".into()]);
    let mut types = Vec::new();
    for n in names {
        types.push(match n.as_str() {
            "plain" => false,
            "html" => true,
            other => bail!("parameter content_types: {other:?}: only plain and html"),
        });
    }
    mail::build(p, Box::new(Body { types }), ctx)
}

impl Handler for Body {
    fn name(&self) -> &'static str {
        "mail_body"
    }

    fn handle(
        &mut self,
        mail: &Mail,
        meta: &FeedMeta,
        out: &mut Vec<Item>,
        _errors: &mut Vec<String>,
    ) -> Result<bool, String> {
        let mut parts = Vec::new();
        mail::parts(mail.msg, &mut parts);
        let mut seen = false;
        for want in &self.types {
            for part in &parts {
                let Part::Body { html, text } = part else {
                    continue;
                };
                if html != want || text.is_empty() {
                    continue;
                }
                let t = Template::new(meta, &mail.own(&[])).map_err(|e| format!("{e:#}"))?;
                out.push(Item::whole(text.as_bytes().to_vec(), t));
                seen = true;
            }
        }
        Ok(seen)
    }
}
