//! `rpz_file`: a DNS Response Policy Zone of the events' domains (IntelMQ's
//! rpz_file output, §4.11): the zone header when the file is new, then for each
//! `source.fqdn` (one leading `www.` stripped) `d TYPE CNAME` and `www.d TYPE
//! CNAME`. Lines are appended as IntelMQ does, but each batch replaces the file
//! atomically, so the DNS server can reload it at any moment.

use super::{atomic, Output, OutputOpts};
use crate::message::Message;
use crate::params::{self, Params};
use crate::pipeline::Fail;
use std::path::PathBuf;

pub const DEFAULT_FILE: &str = "/var/lib/intelmq/file-output/rpz";

pub struct RpzFile {
    path: PathBuf,
    header: String,
    record: String,
    cname: String,
    pending: Vec<u8>,
}

/// A parameter as IntelMQ's `str(self.x)` prints it.
fn text_or(p: &Params, name: &str, default: &str) -> String {
    params::text(p, name)
        .map(|c| c.into_owned())
        .unwrap_or_else(|| default.to_string())
}

pub fn header(p: &Params, now: chrono::NaiveDateTime) -> String {
    let t = |n: &str, d: &str| text_or(p, n, d);
    let rpz_domain = t("rpz_domain", "");
    let serial = t("serial", &now.format("%y%m%d%H%M").to_string());
    let mut h = format!(
        "$TTL {ttl}\n@ SOA {rpz_domain}. {hostmaster}. {serial} {refresh} {retry} {expire} {ncachttl}\n NS localhost.\n;\n; {org} Response Policy Zones (RPZ)\n; Last updated: {now} (UTC)\n;\n; Terms Of Use: https://{rpz_domain}\n; For questions please contact {email}\n;\n",
        ttl = t("ttl", "3600"),
        hostmaster = t("hostmaster_rpz_domain", ""),
        refresh = t("refresh", "60"),
        retry = t("retry", "60"),
        expire = t("expire", "432000"),
        ncachttl = t("ncachttl", "60"),
        org = t("organization_name", ""),
        now = now.format("%Y-%m-%d %H:%M:%S"),
        email = t("rpz_email", ""),
    );
    let test_domain = t("test_domain", "");
    if !test_domain.is_empty() {
        h.push_str(&format!(
            "{test_domain} {} {}\n",
            t("dns_record_type", "CNAME"),
            t("cname", "")
        ));
    }
    h
}

/// The `file` parameter, or `--target`.
pub fn target(o: &OutputOpts, default: &str) -> anyhow::Result<PathBuf> {
    if params::boolean(&o.params, "format_filename", false).unwrap_or(true) {
        anyhow::bail!("parameter format_filename is not supported by this output yet");
    }
    Ok(PathBuf::from(match &o.target {
        Some(t) => t.clone(),
        None => params::string_or(&o.params, "file", default)?,
    }))
}

pub fn build(o: &OutputOpts) -> anyhow::Result<Box<dyn Output>> {
    let p = &o.params;
    Ok(Box::new(RpzFile {
        path: target(o, DEFAULT_FILE)?,
        header: header(p, chrono::Local::now().naive_local()),
        record: text_or(p, "dns_record_type", "CNAME"),
        cname: text_or(p, "cname", ""),
        pending: Vec::new(),
    }))
}

impl Output for RpzFile {
    fn write(&mut self, ev: &Message, _original: &[u8]) -> Result<(), Fail> {
        let Some(fqdn) = ev.get_str("source.fqdn").filter(|s| !s.is_empty()) else {
            return Ok(());
        };
        let d = fqdn.strip_prefix("www.").unwrap_or(fqdn);
        for www in ["", "www."] {
            for part in [www, d, " ", &self.record, " ", &self.cname, "\n"] {
                self.pending.extend_from_slice(part.as_bytes());
            }
        }
        Ok(())
    }

    fn commit(&mut self) -> anyhow::Result<Vec<(usize, String)>> {
        if !self.pending.is_empty() {
            atomic::append(&self.path, self.header.as_bytes(), &self.pending)?;
            self.pending.clear();
        }
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn header_like_intelmq() {
        let p: Params = serde_json::from_value(json!({
            "rpz_domain": "rpz.example", "hostmaster_rpz_domain": "hm.example",
            "organization_name": "CERT", "rpz_email": "a@b", "test_domain": "t.example",
            "cname": "block.example"
        }))
        .unwrap();
        let now = chrono::NaiveDate::from_ymd_opt(2024, 3, 5)
            .unwrap()
            .and_hms_opt(7, 8, 9)
            .unwrap();
        assert_eq!(
            header(&p, now),
            "$TTL 3600\n@ SOA rpz.example. hm.example. 2403050708 60 60 432000 60\n NS localhost.\n;\n; CERT Response Policy Zones (RPZ)\n; Last updated: 2024-03-05 07:08:09 (UTC)\n;\n; Terms Of Use: https://rpz.example\n; For questions please contact a@b\n;\nt.example CNAME block.example\n"
        );
    }
}
