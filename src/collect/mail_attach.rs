//! The mail_attach collector (IntelMQ's `collector_mail_attach`): the
//! attachments of the unread mails of an IMAP folder whose file names match
//! `attach_regex` (`re.search`), each one report with `extra.file_name`; with
//! `extract_files` (IntelMQ's default: true; `attach_unzip` is its deprecated
//! name) an attachment is unpacked (zip, tar, tar.gz, gzip; a list of names
//! takes only those members) and each member is a report, a plain attachment
//! then being an error as in IntelMQ (set `extract_files: false` for plain
//! files). Every report carries `extra.email_subject`, `extra.email_from`,
//! `extra.email_message_id` and `extra.email_date`.
//!
//! A mail with at least one matching attachment is marked `\Seen` once its
//! reports were committed downstream; others stay unread. An empty attachment
//! fails the mail, unless `allow_empty`, which marks it seen without a report.
//! The mailbox parameters (mail_host, mail_user, mail_password, mail_ssl,
//! mail_port, mail_starttls, folder, subject_regex, sent_from, sent_to,
//! http_verify_cert, ssl_ca_certificate) are described in `imq-collect
//! mail_body --help` and shared by all three mail collectors.
// help-params: mail.rs

use super::extract::{self, Extract, Opened, Producer};
use super::mail::{self, Handler, Item, Mail, Part, BOUNDED};
use super::{Ctx, FeedMeta, Template};
use crate::params::{self, Params};
use crate::transport::Source;
use anyhow::{bail, Context, Result};
use serde_json::Value;

struct Attach {
    regex: regex::Regex,
    /// `None`: attachments as they are.
    extract: Option<Extract>,
    allow_empty: bool,
}

pub fn build(p: &Params, args: &[String], ctx: &Ctx) -> Result<Box<dyn Source>> {
    if !args.is_empty() {
        bail!("mail_attach takes no arguments (the mailbox is in its parameters)");
    }
    let regex = match p.get("attach_regex") {
        Some(Value::Null) => bail!("parameter attach_regex: a regular expression is required"),
        _ => params::string_or(p, "attach_regex", "csv.zip")?,
    };
    let regex =
        regex::Regex::new(&regex).with_context(|| format!("parameter attach_regex {regex:?}"))?;
    let mut extract = match p.get("extract_files") {
        None | Some(Value::Null) => Some(Extract::All),
        _ => match super::http::extract_files(p)? {
            Extract::ZipOnly => None,
            e => Some(e),
        },
    };
    if p.get("attach_unzip").is_some_and(|v| !v.is_null()) {
        // IntelMQ: any attach_unzip (even false) turns extraction on.
        params::boolean(p, "attach_unzip", true)?;
        crate::pipeline::eprintln_safe(
            "imq-collect: parameter attach_unzip is deprecated (IntelMQ 4.0 drops it): use extract_files",
        );
        extract = Some(Extract::All);
    }
    if params::boolean(p, "decrypt_openpgp", false)? {
        bail!("parameter decrypt_openpgp: OpenPGP decryption is not supported by imq");
    }
    let allow_empty = params::boolean(p, "allow_empty", false)?;
    let handler = Attach {
        regex,
        extract,
        allow_empty,
    };
    mail::build(p, Box::new(handler), ctx)
}

impl Handler for Attach {
    fn name(&self) -> &'static str {
        "mail_attach"
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
        for part in parts {
            let Part::Attachment { name, data } = part else {
                continue;
            };
            // IntelMQ skips attachments without a file name.
            let Some(mut name) = name else { continue };
            // Quotes around the name (older imbox versions kept them).
            if name.len() >= 2 && name.starts_with('"') {
                name = &name[1..name.len() - 1];
            }
            if !self.regex.is_match(name) {
                continue;
            }
            if data.is_empty() {
                if self.allow_empty {
                    // IntelMQ: logged, and the mail is done (seen).
                    return Ok(true);
                }
                return Err(format!("attachment {name} is empty (allow_empty is false)"));
            }
            let template = |more: &[(&str, &str)]| {
                Template::new(meta, &mail.own(more)).map_err(|e| format!("{e:#}"))
            };
            match &self.extract {
                None => out.push(Item::whole(
                    data.into_owned(),
                    template(&[("extra.file_name", name)])?,
                )),
                Some(ex) => {
                    let input = Box::new(std::io::Cursor::new(data.into_owned()));
                    match extract::open(input, ex) {
                        // gzip: the content, without a file name (IntelMQ's unzip).
                        Ok(Opened::Plain(r)) => out.push(Item::chunked(r, template(&[])?, BOUNDED)),
                        Ok(Opened::Archive(a)) => out.push(Item::Unpack {
                            producer: Producer::spawn(a, ex.clone(), BOUNDED),
                            own: mail.owned(&[]),
                            template: None,
                        }),
                        Err(e) => return Err(format!("attachment {name}: {e}")),
                    }
                }
            }
            seen = true;
        }
        Ok(seen)
    }
}
