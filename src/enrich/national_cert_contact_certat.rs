//! national_cert_contact_certat: country and national CERT contact of the IP
//! address from CERT.at's service
//! (IntelMQ `intelmq.bots.experts.national_cert_contact_certat.expert`).
//!
//! GET `url?ip=..&bFilter=on|off&bShowNationalCERT=on&sep=semicolon`; the answer
//! is `ip;cc;...;contact`. An empty answer leaves the event as it is; a transport
//! failure or an answer of the wrong shape sends it to the dump.

use super::{Expert, Params, Verdict};
use crate::message::Message;
use crate::net;
use crate::params;
use crate::pipeline::Fail;

const URL: &str = "https://contacts.cert.at/cgi-bin/abuse-nationalcert.pl";

pub struct NationalCertContactCertat {
    url: String,
    filter: bool,
    overwrite_cc: bool,
    client: reqwest::blocking::Client,
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Expert>> {
    Ok(Box::new(NationalCertContactCertat {
        url: params::text(p, "url").map_or(URL.into(), |s| s.into_owned()),
        filter: params::boolean(p, "filter", false)?,
        overwrite_cc: params::boolean(p, "overwrite_cc", false)?,
        client: net::http_client(p)?,
    }))
}

impl Expert for NationalCertContactCertat {
    fn process(&mut self, ev: &mut Message) -> Result<Verdict, Fail> {
        for side in ["source", "destination"] {
            let Some(ip) = ev.get_str(&format!("{side}.ip")).map(str::to_string) else {
                continue;
            };
            let query = [
                ("ip", ip.as_str()),
                ("bFilter", if self.filter { "on" } else { "off" }),
                ("bShowNationalCERT", "on"),
                ("sep", "semicolon"),
            ];
            let r = net::http_get(&self.client, &self.url, &query)
                .map_err(|e| Fail::Reject(format!("national_cert_contact_certat: {e}")))?;
            if r.body.is_empty() {
                continue;
            }
            let fields: Vec<&str> = r.body.trim().split(';').collect();
            if fields.len() < 4 {
                return Err(Fail::Reject(format!(
                    "national_cert_contact_certat: unexpected answer for {ip}: {:?}",
                    r.body
                )));
            }
            let cck = format!("{side}.geolocation.cc");
            if self.overwrite_cc || !ev.contains(&cck) {
                ev.set(&cck, fields[1])?;
            }
            let ak = format!("{side}.abuse_contact");
            match ev.get_str(&ak).map(str::to_string) {
                Some(old) => {
                    ev.change(&ak, format!("{old},{}", fields[3]))?;
                }
                None => {
                    ev.add(&ak, fields[3])?;
                }
            }
        }
        Ok(Verdict::Keep)
    }
}
