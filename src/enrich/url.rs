//! url: split `source.url`/`destination.url` into host (FQDN or IP), port, path,
//! account and the protocol fields (IntelMQ `intelmq.bots.experts.url.expert`).

use super::{Expert, Params, Verdict};
use crate::message::Message;
use crate::params;
use crate::pipeline::Fail;
use crate::pyurl;
use serde_json::Value;

/// Default port, application protocol (when not the scheme) and transport
/// protocol of the schemes IntelMQ knows.
fn scheme_info(scheme: &str) -> Option<(u16, Option<&'static str>, Option<&'static str>)> {
    Some(match scheme {
        "ftp" => (21, None, Some("tcp")),
        "http" => (80, None, Some("tcp")),
        // IntelMQ gives https no transport protocol; kept as it is.
        "https" => (443, Some("http"), None),
        "sftp" => (22, None, Some("tcp")),
        "ssh" => (22, None, Some("tcp")),
        "tftp" => (69, None, Some("udp")),
        "ws" => (80, None, Some("tcp")),
        "wss" => (443, None, Some("tcp")),
        _ => return None,
    })
}

/// Schemes for which Python's `urlparse` splits `;params` off the path.
const USES_PARAMS: &[&str] = &[
    "", "ftp", "hdl", "prospero", "http", "imap", "https", "shttp", "rtsp", "rtspu", "sip", "sips",
    "mms", "sftp", "tel",
];

pub struct Url {
    overwrite: bool,
    skip: Vec<String>,
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Expert>> {
    Ok(Box::new(Url {
        overwrite: params::boolean(p, "overwrite", false)?,
        skip: params::list(p, "skip_fields")?.unwrap_or_default(),
    }))
}

struct Keys {
    url: &'static str,
    fqdn: &'static str,
    ip: &'static str,
    port: &'static str,
    urlpath: &'static str,
    account: &'static str,
}

const SIDES: [Keys; 2] = [
    Keys {
        url: "source.url",
        fqdn: "source.fqdn",
        ip: "source.ip",
        port: "source.port",
        urlpath: "source.urlpath",
        account: "source.account",
    },
    Keys {
        url: "destination.url",
        fqdn: "destination.fqdn",
        ip: "destination.ip",
        port: "destination.port",
        urlpath: "destination.urlpath",
        account: "destination.account",
    },
];

/// `urlparse(...).path`: the path without `;params` for the schemes that have them.
fn parse_path<'a>(scheme: &str, path: &'a str) -> &'a str {
    if !USES_PARAMS.contains(&scheme) || !path.contains(';') {
        return path;
    }
    let from = path.rfind('/').unwrap_or(0);
    match path[from..].find(';') {
        Some(i) => &path[..from + i],
        None => path,
    }
}

impl Url {
    fn skip(&self, key: &str) -> bool {
        self.skip.iter().any(|k| k == key)
    }
}

impl Expert for Url {
    fn process(&mut self, ev: &mut Message) -> Result<Verdict, Fail> {
        let ow = Some(self.overwrite);
        let mut protocols_added = 0;
        for k in &SIDES {
            let Some(url) = ev.get_str(k.url) else {
                continue;
            };
            let url = pyurl::clean(url).into_owned();
            let parts =
                pyurl::urlsplit(&url).map_err(|e| Fail::Reject(format!("{}: {e}", k.url)))?;
            let overwrite_protocols = protocols_added == 0;
            let host = parts.hostname();
            if let Some(h) = &host {
                let hv = Value::String(h.clone());
                if !self.skip(k.ip) && ev.is_valid_value(k.ip, &hv, true) {
                    params::add(ev, k.ip, hv, ow)?;
                } else if !self.skip(k.fqdn) && ev.is_valid_value(k.fqdn, &hv, true) {
                    params::add(ev, k.fqdn, hv, ow)?;
                }
            }
            let port = parts
                .port()
                .map_err(|e| Fail::Reject(format!("{}: {e}", k.url)))?;
            let info = scheme_info(&parts.scheme);
            match (port, info) {
                (Some(p), _) if p != 0 && !self.skip(k.port) => {
                    params::add(ev, k.port, Value::String(p.to_string()), ow)?;
                }
                (Some(p), _) if p != 0 => {}
                (_, Some((default, _, _))) if !self.skip(k.port) => {
                    params::add(ev, k.port, Value::String(default.to_string()), ow)?;
                }
                _ => {}
            }
            let path = parse_path(&parts.scheme, parts.path);
            if !path.is_empty() && !self.skip(k.urlpath) {
                params::add(ev, k.urlpath, Value::String(path.to_string()), ow)?;
            }
            let user = parts
                .netloc
                .rsplit_once('@')
                .map(|(u, _)| u.split_once(':').map_or(u, |(n, _)| n));
            if let Some(user) = user.filter(|u| !u.is_empty()) {
                if !self.skip(k.account) {
                    params::add_soft(ev, k.account, Value::String(user.to_string()), ow)?;
                }
            }
            if overwrite_protocols && !parts.scheme.is_empty() {
                if !self.skip("protocol.application") {
                    let app = info.and_then(|i| i.1).unwrap_or(&parts.scheme);
                    params::add(
                        ev,
                        "protocol.application",
                        Value::String(app.to_string()),
                        ow,
                    )?;
                    protocols_added += 1;
                }
                if let Some(transport) = info.and_then(|i| i.2) {
                    if !self.skip("protocol.transport") {
                        params::add(
                            ev,
                            "protocol.transport",
                            Value::String(transport.into()),
                            ow,
                        )?;
                        protocols_added += 1;
                    }
                }
            }
        }
        Ok(Verdict::Keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_are_not_part_of_the_path() {
        assert_eq!(parse_path("http", "/a;b/c;d"), "/a;b/c");
        assert_eq!(parse_path("http", "/a/c"), "/a/c");
        assert_eq!(parse_path("foo", "/a;b"), "/a;b");
    }

    #[test]
    fn splits_url() {
        let mut ev = Message::event();
        ev.add("source.url", "ftp://user:pw@192.0.2.1/x;type=i")
            .unwrap();
        let mut u = Url {
            overwrite: false,
            skip: vec![],
        };
        u.process(&mut ev).unwrap();
        assert_eq!(ev.get_str("source.ip"), Some("192.0.2.1"));
        assert_eq!(ev.get("source.port"), Some(&Value::from(21)));
        assert_eq!(ev.get_str("source.urlpath"), Some("/x"));
        assert_eq!(ev.get_str("source.account"), Some("user"));
        assert_eq!(ev.get_str("protocol.application"), Some("ftp"));
        assert_eq!(ev.get_str("protocol.transport"), Some("tcp"));
    }
}
