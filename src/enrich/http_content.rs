//! http_content: `status` online when the page at the URL in `field` contains
//! `needle`, else offline with `extra.reason`
//! (IntelMQ `intelmq.bots.experts.http.expert_content`).

use super::{Expert, Params, Verdict};
use crate::message::Message;
use crate::net;
use crate::params::{self, add_opt};
use crate::pipeline::Fail;

pub struct HttpContent {
    field: String,
    needle: Option<String>,
    overwrite: bool,
    client: reqwest::blocking::Client,
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Expert>> {
    Ok(Box::new(HttpContent {
        field: params::text(p, "field").map_or("source.url".into(), |s| s.into_owned()),
        needle: params::text(p, "needle").map(|s| s.into_owned()),
        overwrite: params::boolean(p, "overwrite", true)?,
        client: net::http_client(p)?,
    }))
}

impl Expert for HttpContent {
    fn process(&mut self, ev: &mut Message) -> Result<Verdict, Fail> {
        let (Some(url), Some(needle)) = (ev.get_str(&self.field), self.needle.as_deref()) else {
            return Ok(Verdict::Keep);
        };
        let url = url.to_string();
        let (status, reason) = match net::http_get(&self.client, &url, &[]) {
            Ok(r) if r.ok() && r.body.contains(needle) => ("online", None),
            Ok(r) if r.ok() => (
                "offline",
                Some(format!("Text {needle} not found in response from {url}")),
            ),
            Ok(r) => ("offline", Some(r.reason().to_string())),
            Err(e) => ("offline", Some(e)),
        };
        ev.add_with("status", status.into(), add_opt(self.overwrite))?;
        if let Some(r) = reason {
            ev.add("extra.reason", r)?;
        }
        Ok(Verdict::Keep)
    }
}
