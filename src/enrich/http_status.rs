//! http_status: `status` online/offline from an HTTP GET of the URL in `field`
//! (IntelMQ `intelmq.bots.experts.http.expert_status`).
//!
//! Online: the status code is in `success_status_codes`, or below 400. Offline
//! adds `extra.reason` (the reason phrase, or the error text when the request
//! fails: an unreachable URL is a result here, not a failure, as in IntelMQ).

use super::{Expert, Params, Verdict};
use crate::message::Message;
use crate::net;
use crate::params::{self, add_opt};
use crate::pipeline::Fail;

pub struct HttpStatus {
    field: String,
    codes: Vec<u16>,
    overwrite: bool,
    client: reqwest::blocking::Client,
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Expert>> {
    let mut codes = Vec::new();
    for c in params::list(p, "success_status_codes")?.unwrap_or_default() {
        codes.push(c.parse().map_err(|_| {
            anyhow::anyhow!("parameter success_status_codes: {c:?} is not a status code")
        })?);
    }
    Ok(Box::new(HttpStatus {
        field: params::text(p, "field").map_or("source.url".into(), |s| s.into_owned()),
        codes,
        overwrite: params::boolean(p, "overwrite", true)?,
        client: net::http_client(p)?,
    }))
}

impl Expert for HttpStatus {
    fn process(&mut self, ev: &mut Message) -> Result<Verdict, Fail> {
        let Some(url) = ev.get(&self.field).map(|v| match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        }) else {
            return Ok(Verdict::Keep);
        };
        match net::http_get(&self.client, &url, &[]) {
            Ok(r) if self.codes.contains(&r.status) || r.ok() => {
                ev.add_with("status", "online".into(), add_opt(self.overwrite))?;
            }
            Ok(r) => {
                ev.add_with("status", "offline".into(), add_opt(self.overwrite))?;
                ev.add("extra.reason", r.reason())?;
            }
            Err(e) => {
                ev.add_with("status", "offline".into(), add_opt(self.overwrite))?;
                ev.add("extra.reason", e)?;
            }
        }
        Ok(Verdict::Keep)
    }
}
