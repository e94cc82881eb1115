//! do_portal: `source.abuse_contact` from a do-portal instance
//! (`portal_url/api/1.0/ripe/contact?cidr=IP`, key in `portal_api_key`)
//! (IntelMQ `intelmq.bots.experts.do_portal.expert`).
//!
//! `mode` append (default) adds to the existing contacts, replace overwrites.
//! "no such cidr" (404) means no contacts; other errors send the event to the
//! dump. 502 answers are retried up to `http_timeout_max_tries` times, as the
//! portal's proxy gives them while the backend restarts.

use super::{Expert, Params, Verdict};
use crate::message::Message;
use crate::net;
use crate::params;
use crate::pipeline::Fail;
use serde_json::Value;

pub struct DoPortal {
    url: String,
    key: String,
    append: bool,
    tries: u32,
    client: reqwest::blocking::Client,
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Expert>> {
    let url = params::text(p, "portal_url")
        .ok_or_else(|| anyhow::anyhow!("parameter portal_url is required"))?;
    let mode = params::text(p, "mode").map_or("append".into(), |s| s.into_owned());
    if mode != "append" && mode != "replace" {
        anyhow::bail!("parameter mode: expected append or replace, got {mode:?}");
    }
    Ok(Box::new(DoPortal {
        url: format!("{url}/api/1.0/ripe/contact"),
        key: params::text(p, "portal_api_key").map_or(String::new(), |s| s.into_owned()),
        append: mode == "append",
        tries: params::number(p, "http_timeout_max_tries", 3.0)?.max(1.0) as u32,
        client: net::http_client(p)?,
    }))
}

impl DoPortal {
    fn get(&self, ip: &str) -> Result<net::HttpReply, String> {
        let mut last = String::new();
        for _ in 0..self.tries {
            let r = self
                .client
                .get(&self.url)
                .query(&[("cidr", ip)])
                .header("Content-Type", "application/json")
                .header("Accept", "application/json")
                .header("API-Authorization", &self.key)
                .send();
            match r {
                Ok(resp) if resp.status().as_u16() == 502 => last = "502 Bad Gateway".into(),
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let body = resp.text().map_err(|e| net::error_chain(&e))?;
                    return Ok(net::HttpReply { status, body });
                }
                Err(e) if e.is_timeout() || e.is_connect() => last = net::error_chain(&e),
                Err(e) => return Err(net::error_chain(&e)),
            }
        }
        Err(format!("{} after {} tries: {last}", self.url, self.tries))
    }
}

impl Expert for DoPortal {
    fn process(&mut self, ev: &mut Message) -> Result<Verdict, Fail> {
        let Some(ip) = ev.get_str("source.ip").map(str::to_string) else {
            return Ok(Verdict::Keep);
        };
        let fail = |e: String| Fail::Reject(format!("do_portal: {e}"));
        let r = self.get(&ip).map_err(fail)?;
        let no_cidr = r.status == 404
            && r.json()
                .ok()
                .and_then(|j| j.get("message").and_then(Value::as_str).map(str::to_string))
                .is_some_and(|m| m.starts_with("('no such cidr'"));
        let found: Vec<String> = if no_cidr {
            Vec::new()
        } else if !(200..400).contains(&r.status) {
            return Err(fail(format!(
                "HTTP status {} {} for {ip}",
                r.status,
                r.reason()
            )));
        } else {
            let j = r.json().map_err(fail)?;
            j.get("abusecs")
                .and_then(Value::as_array)
                .ok_or_else(|| fail("answer has no abusecs list".into()))?
                .iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                .collect()
        };
        let value = if self.append {
            let mut all: Vec<String> = ev
                .get_str("source.abuse_contact")
                .unwrap_or("")
                .split(',')
                .map(str::to_string)
                .collect();
            all.extend(found);
            all.join(",").trim_matches(',').to_string()
        } else {
            found.join(",")
        };
        ev.set("source.abuse_contact", value)?;
        Ok(Verdict::Keep)
    }
}
