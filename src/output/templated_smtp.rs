//! `templated_smtp`: IntelMQ's templated_smtp output (§4.14): one mail per
//! event, `mail_from`, `mail_to`, `subject`, `body` and `attachments`
//! (`content-type`, `text`, `name`) as Jinja templates over `event` (the
//! `from_json` global as in IntelMQ). The body is an inline part, each
//! attachment a part of its own. Delivery as the smtp output: a permanent
//! refusal dumps that event, the rest is retried.

use super::retry::Retry;
use super::smtp::{send, transport, Server};
use super::{Output, OutputOpts};
use crate::message::Message;
use crate::params::{self, Params};
use crate::pipeline::Fail;
use anyhow::{bail, Context};
use lettre::address::Envelope;
use lettre::message::header::{ContentDisposition, ContentType};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{Address, SmtpTransport};
use minijinja::Environment;
use serde_json::Value;

pub const DEFAULT_BODY: &str = "{%- for field in event %}
    {%- if field != 'raw' %}
{{ field }}: {{ event[field] }}
    {%- endif %}
{%- endfor %}
";

pub struct TemplatedSmtp {
    transport: SmtpTransport,
    env: Environment<'static>,
    attachments: usize,
    retry: Retry,
    mails: Vec<(lettre::Message, Envelope)>,
}

pub fn build(o: &OutputOpts) -> anyhow::Result<Box<dyn Output>> {
    let p: &Params = &o.params;
    let host = params::string_or(p, "smtp_host", "localhost")?;
    let port = params::integer(p, "smtp_port", 25)?;
    let user = params::string(p, "username")?.filter(|s| !s.is_empty());
    let password = params::string(p, "password")?.filter(|s| !s.is_empty());
    match (&user, &password) {
        (Some(_), None) => bail!("SMTP username provided, but not password"),
        (None, Some(_)) => bail!("SMTP password provided, but not username"),
        _ => {}
    }
    let server = Server {
        host: &host,
        port: u16::try_from(port).map_err(|_| anyhow::anyhow!("parameter smtp_port: {port}"))?,
        ssl: params::boolean(p, "ssl", false)?,
        starttls: params::boolean(p, "starttls", false)?,
        user,
        password,
        verify: params::boolean(p, "verify_cert", true)?,
    };
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    minijinja_contrib::add_to_environment(&mut env);
    env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
    env.add_function(
        "from_json",
        |s: String| -> Result<minijinja::Value, minijinja::Error> {
            serde_json::from_str::<Value>(&s)
                .map(|v| minijinja::Value::from_serialize(&v))
                .map_err(|e| {
                    minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.to_string())
                })
        },
    );
    let mut add = |name: String, source: String| -> anyhow::Result<()> {
        env.add_template_owned(name.clone(), source)
            .with_context(|| format!("template {name}"))
    };
    add(
        "from".into(),
        params::string(p, "mail_from")?
            .filter(|s| !s.is_empty())
            .context("No sender specified (mail_from)")?,
    )?;
    add(
        "to".into(),
        params::string(p, "mail_to")?
            .filter(|s| !s.is_empty())
            .context("No recipient specified (mail_to)")?,
    )?;
    add(
        "subject".into(),
        params::string_or(p, "subject", "IntelMQ event")?,
    )?;
    add("body".into(), params::string_or(p, "body", DEFAULT_BODY)?)?;
    let mut n = 0;
    if let Some(list) = p.get("attachments").and_then(Value::as_array).cloned() {
        for att in list {
            let get = |k: &str| att.get(k).and_then(Value::as_str).map(String::from);
            // IntelMQ logs and skips an incomplete attachment.
            let (Some(ct), Some(text), Some(name)) =
                (get("content-type"), get("text"), get("name"))
            else {
                crate::pipeline::eprintln_safe(&format!(
                    "imq-output: templated_smtp: attachment without content-type, text or name, ignored: {att}"
                ));
                continue;
            };
            add(format!("att{n}.ct"), ct)?;
            add(format!("att{n}.text"), text)?;
            add(format!("att{n}.name"), name)?;
            n += 1;
        }
    }
    Ok(Box::new(TemplatedSmtp {
        transport: transport(&server)?,
        env,
        attachments: n,
        retry: Retry::from_params(p)?,
        mails: Vec::new(),
    }))
}

impl TemplatedSmtp {
    fn render(&self, name: &str, ev: &minijinja::Value) -> Result<String, String> {
        let t = self.env.get_template(name).map_err(|e| e.to_string())?;
        t.render(minijinja::context! { event => ev })
            .map_err(|e| format!("template {name}: {e}"))
    }

    fn mail(&self, ev: &Message) -> Result<(lettre::Message, Envelope), String> {
        let v = minijinja::Value::from_serialize(ev.to_map());
        let from = self.render("from", &v)?;
        let to = self.render("to", &v)?;
        let from: Mailbox = from
            .trim()
            .parse()
            .map_err(|e| format!("mail_from {from:?}: {e}"))?;
        let mut b = lettre::Message::builder()
            .from(from.clone())
            .subject(self.render("subject", &v)?);
        let mut rcpt: Vec<Address> = Vec::new();
        for r in to.split(',') {
            let m: Mailbox = r
                .trim()
                .parse()
                .map_err(|e| format!("recipient {r:?}: {e}"))?;
            rcpt.push(m.email.clone());
            b = b.to(m);
        }
        let env = Envelope::new(Some(from.email), rcpt).map_err(|e| e.to_string())?;
        let mut parts = MultiPart::mixed().singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .header(ContentDisposition::inline())
                .body(self.render("body", &v)?),
        );
        for i in 0..self.attachments {
            let ct = self.render(&format!("att{i}.ct"), &v)?;
            let ct = ContentType::parse(ct.trim())
                .map_err(|e| format!("attachment content-type {ct:?}: {e}"))?;
            let text = self.render(&format!("att{i}.text"), &v)?;
            let name = self.render(&format!("att{i}.name"), &v)?;
            parts = parts.singlepart(Attachment::new(name).body(text, ct));
        }
        let mail = b.multipart(parts).map_err(|e| e.to_string())?;
        Ok((mail, env))
    }
}

impl Output for TemplatedSmtp {
    fn write(&mut self, ev: &Message, _original: &[u8]) -> Result<(), Fail> {
        let m = self.mail(ev).map_err(Fail::Reject)?;
        self.mails.push(m);
        Ok(())
    }

    fn commit(&mut self) -> anyhow::Result<Vec<(usize, String)>> {
        let mut refused = Vec::new();
        for (i, (mail, env)) in self.mails.iter().enumerate() {
            let what = format!("mail {} of the batch", i + 1);
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
