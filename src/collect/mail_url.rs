//! The mail_url collector (IntelMQ's `collector_mail_url`): in each plain-text
//! body of the unread mails of an IMAP folder, the first match of `url_regex`
//! (the matched text is the URL, so the regex must match all of it) is
//! downloaded with GET, and the download is a report (`chunk_size` and
//! `chunk_replicate_header` cut it as the http collector does) with `feed.url`
//! = the URL, `extra.file_name` = the `filename=` of the answer's
//! `Content-Disposition`, else the URL's last path segment, and the
//! `extra.email_*` fields. The HTTP mixin's parameters apply (http_username,
//! http_password, http_header, http_proxy, https_proxy, http_timeout_sec,
//! http_timeout_max_tries, http_verify_cert, ssl_client_cert, as for the http
//! collector); the mailbox parameters are those of mail_body.
//!
//! A mail is marked `\Seen` once its reports were committed downstream. A
//! download that fails (an error status, a timeout) is reported; the mail is
//! then still marked seen when `error_procedure` is `pass` (IntelMQ's default),
//! and left unread otherwise. An empty download makes no report.
// help-params: mail.rs

use super::http::{self, Fetched};
use super::mail::{self, Handler, Item, Mail, Part};
use super::{Ctx, FeedMeta, Template};
use crate::params::{self, Params};
use crate::transport::Source;
use anyhow::{bail, Context, Result};

struct Url {
    regex: regex::Regex,
    get: http::Feed,
    chunking: super::chunk::Chunking,
    pass: bool,
}

pub fn build(p: &Params, args: &[String], ctx: &Ctx) -> Result<Box<dyn Source>> {
    if !args.is_empty() {
        bail!("mail_url takes no arguments (the mailbox is in its parameters)");
    }
    let regex = params::string_or(p, "url_regex", "http://")?;
    let regex =
        regex::Regex::new(&regex).with_context(|| format!("parameter url_regex {regex:?}"))?;
    let get = http::getter(p)?;
    let chunking = http::chunking(p, http::DEFAULT_CHUNK)?;
    let pass = params::string_or(p, "error_procedure", "pass")? == "pass";
    let handler = Url {
        regex,
        get,
        chunking,
        pass,
    };
    mail::build(p, Box::new(handler), ctx)
}

/// IntelMQ's `file_name_from_response`: `filename=` of `Content-Disposition`
/// (quotes or a trailing `;` removed), else what follows the URL's last `/`.
fn file_name(resp: &reqwest::blocking::Response) -> String {
    let cd = resp
        .headers()
        .get(reqwest::header::CONTENT_DISPOSITION)
        .and_then(|v| v.to_str().ok());
    if let Some(i) = cd.and_then(|cd| cd.find("filename=").map(|i| (cd, i))) {
        let (cd, i) = i;
        let f = &cd[i + "filename=".len()..];
        if f.len() >= 2 && f.starts_with('"') && f.ends_with('"') {
            return f[1..f.len() - 1].to_string();
        }
        return f.strip_suffix(';').unwrap_or(f).to_string();
    }
    let u = resp.url().as_str();
    u.rsplit('/').next().unwrap_or(u).to_string()
}

impl Handler for Url {
    fn name(&self) -> &'static str {
        "mail_url"
    }

    fn handle(
        &mut self,
        mail: &Mail,
        meta: &FeedMeta,
        out: &mut Vec<Item>,
        errors: &mut Vec<String>,
    ) -> Result<bool, String> {
        let mut parts = Vec::new();
        mail::parts(mail.msg, &mut parts);
        let mut seen = false;
        let mut failed = Vec::new();
        for part in parts {
            let Part::Body { html: false, text } = part else {
                continue;
            };
            let Some(m) = self.regex.find(text) else {
                continue;
            };
            let url = m.as_str().trim();
            match self.get.fetch(url, None) {
                Ok(Fetched::Body(resp)) => {
                    let name = file_name(&resp);
                    let own = mail.own(&[("feed.url", url), ("extra.file_name", &name)]);
                    let t = Template::new(meta, &own).map_err(|e| format!("{e:#}"))?;
                    out.push(Item::chunked(
                        http::decoded_body(resp, None),
                        t,
                        self.chunking,
                    ));
                    seen = true;
                }
                Ok(Fetched::NotModified) => failed.push(format!("GET {url}: 304 Not Modified")),
                Err(e) => failed.push(e),
            }
        }
        if failed.is_empty() {
            return Ok(seen);
        }
        if !self.pass {
            return Err(failed.join("; "));
        }
        errors.extend(
            failed
                .into_iter()
                .map(|e| format!("{e} (error_procedure pass: the mail is marked seen)")),
        );
        Ok(true)
    }
}
