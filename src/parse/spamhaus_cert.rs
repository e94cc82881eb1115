//! Spamhaus CERT portal feed: `ip, asn, country, lastseen, botname, domain,
//! remote_ip, remote_port, local_port, protocol` after `;` comment lines
//! (IntelMQ `intelmq.bots.parsers.spamhaus.parser_cert`).

use super::feedio;
use super::util_feeds::{from_epoch, reject, soft};
use super::{Params, Parser, Records};
use crate::message::{Add, Message};
use crate::pipeline::Fail;
use serde_json::Value;

pub struct SpamhausCert;

pub fn build(_: &Params) -> anyhow::Result<Box<dyn Parser>> {
    Ok(Box::new(SpamhausCert))
}

impl Parser for SpamhausCert {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let text = feedio::decode(data);
        for item in feedio::commented_lines(&text, ';') {
            if let feedio::Line::Record { line, raw } = item {
                let result = event(line, &raw, out);
                out.record(raw.as_bytes(), result)?;
            }
        }
        Ok(())
    }
}

fn py_int(s: &str) -> Result<i64, Fail> {
    crate::harmonization::py_int(&Value::String(s.to_string()))
        .ok_or_else(|| reject(format!("invalid literal for int() with base 10: {s:?}")))
}

fn event(row: &str, raw: &str, out: &Records) -> Result<Vec<Message>, Fail> {
    let f: Vec<&str> = row.trim().split(',').map(str::trim).collect();
    let col = |i: usize| -> Result<&str, Fail> {
        f.get(i)
            .copied()
            .ok_or_else(|| reject(format!("IndexError: no column {}", i + 1)))
    };
    let mut ev = out.new_event();
    // The feed URL carries the API key: cut it off.
    let url = ev
        .get_str("feed.url")
        .ok_or_else(|| reject("report has no feed.url"))?;
    let url = url.split("key=").next().unwrap_or("").to_string();
    ev.change("feed.url", url)?;
    ev.add("source.ip", col(0)?)?;
    let asn = col(1)?.replace("AS", "");
    if asn != "?" {
        ev.add("source.asn", asn)?;
    }
    ev.add("source.geolocation.cc", col(2)?)?;
    let ts = py_int(col(3)?)?;
    ev.add(
        "time.source",
        from_epoch(ts).ok_or_else(|| reject("timestamp out of range"))?,
    )?;
    let mut malware = col(4)?.to_lowercase();
    let set3 = |ev: &mut Message, ty: &str, id: &str, app: &str| -> Result<(), Fail> {
        ev.add("classification.type", ty)?;
        ev.add("classification.identifier", id)?;
        ev.add("protocol.application", app)?;
        Ok(())
    };
    match malware.as_str() {
        "openrelay" => set3(&mut ev, "vulnerable-system", "openrelay", "smtp")?,
        "sshauth" => set3(&mut ev, "brute-force", "ssh", "ssh")?,
        "telnetauth" => set3(&mut ev, "brute-force", "telnet", "telnet")?,
        "smtpauth" => set3(&mut ev, "brute-force", "smtp", "smtp")?,
        "iotscan" | "iotuser" => {
            ev.add("classification.type", "scanner")?;
            ev.add(
                "event_description.text",
                "The possibly infected IoT device scanned for other vulnerable IoT devices.",
            )?;
            if matches!(col(7)?, "23" | "2323") {
                ev.add("protocol.application", "telnet")?;
                ev.add("classification.identifier", "telnet")?;
            } else {
                ev.add("classification.identifier", "scanner-generic")?;
            }
        }
        "wpscanner" => {
            ev.add("classification.type", "scanner")?;
            ev.add("classification.identifier", "wordpress-vulnerabilities")?;
            ev.add(
                "event_description.text",
                "scanning for wordpress vulnerabilities",
            )?;
            ev.add("protocol.application", "http")?;
        }
        "w_wplogin" => {
            ev.add("classification.type", "scanner")?;
            ev.add("classification.identifier", "wordpress-login")?;
            ev.add(
                "event_description.text",
                "scanning for wordpress login pages",
            )?;
            ev.add("protocol.application", "http")?;
        }
        "l_spamlink" => {
            ev.add("classification.type", "spam")?;
            ev.add("classification.identifier", "spamlink")?;
            ev.add(
                "event_description.text",
                "The URL appeared in a spam email sent by extra.spam_ip.",
            )?;
            let parts: Vec<&str> = col(8)?.split(':').collect();
            if parts.len() != 3 {
                return Err(reject("expected ip:version:name in column 9"));
            }
            ev.add("malware.name", parts[2])?;
            ev.add("malware.version", parts[1])?;
            ev.add("source.url", col(6)?)?;
            ev.add("extra.spam_ip", parts[0])?;
        }
        "pop" | "imap" => {
            let m = malware.clone();
            set3(&mut ev, "brute-force", &m, &m)?;
        }
        "smb" | "rdp" | "iotrdp" | "iotmicrosoftds" => {
            if let Some(m) = malware.strip_prefix("iot") {
                malware = m.to_string();
            }
            let m = malware.clone();
            set3(&mut ev, "scanner", &m, &m)?;
        }
        "proxyget" => {
            ev.add("classification.type", "other")?;
            ev.add("classification.identifier", "proxyget")?;
            ev.add(
                "event_description.text",
                "The malicious client used a honeypot as proxy.",
            )?;
        }
        "iotlogin" => {
            ev.add("classification.type", "system-compromise")?;
            ev.add("classification.identifier", "iot")?;
            ev.add(
                "event_description.text",
                "The infected iot device logged in to a honeypot.",
            )?;
        }
        "iotcmd" => {
            ev.add("classification.type", "system-compromise")?;
            ev.add("classification.identifier", "iot")?;
            ev.add(
                "event_description.text",
                "The infected iot device logged in to a honeypot and issued malicious commands.",
            )?;
        }
        "iotmirai" => {
            ev.add("classification.type", "infected-system")?;
            ev.add("classification.identifier", "mirai")?;
            ev.add("malware.name", "mirai")?;
        }
        "ioturl" => {
            ev.add("classification.type", "c2-server")?;
            ev.add("classification.identifier", "malware-generic")?;
        }
        "automatedtest" => {
            ev.add("classification.type", "brute-force")?;
            ev.add("classification.identifier", "lookup-captcha")?;
            ev.add(
                "event_description.text",
                "The device automatically brute-forced the Spamhaus CBL lookup.",
            )?;
        }
        "authspoofbadehlo" => {
            set3(&mut ev, "brute-force", "authentication-spoof", "smtp")?;
            ev.add(
                "event_description.text",
                "The device spoofed SMTP authentication with a bad EHLO.",
            )?;
        }
        "extortion" => {
            ev.add("classification.type", "spam")?;
            ev.add("classification.identifier", "extortion")?;
            if col(7)? == "25" {
                ev.add("protocol.application", "smtp")?;
            }
            ev.add(
                "event_description.text",
                "This device sent extortion mails.",
            )?;
        }
        "misc" => {
            // Per abuseat.org the malware is unknown, but it is a spam botnet.
            ev.add("classification.type", "spam")?;
            ev.add("classification.identifier", "spam")?;
            if col(7)? == "25" {
                ev.add("protocol.application", "smtp")?;
            }
            ev.add(
                "event_description.text",
                "This device is sending spam as part of a botnet. See abuseat.org for more details.",
            )?;
            ev.add(
                "event_description.url",
                "https://www.abuseat.org/lookup.cgi",
            )?;
            ev.add_with(
                "feed.documentation",
                "https://www.abuseat.org/lookup.cgi".into(),
                Add {
                    sanitize: true,
                    overwrite: Some(false),
                },
            )?;
        }
        _ => {
            if malware == "auto" {
                malware = "s_other".into();
            }
            ev.add("malware.name", malware.as_str())?;
            ev.add("classification.type", "infected-system")?;
            soft(&mut ev, "source.url", col(5)?);
        }
    }
    // The provider says column 6 is wrong for iotscan and when it holds an
    // address with port; otherwise it is the C&C domain.
    if !(malware == "iotscan" || col(5)?.contains(':')) {
        soft(&mut ev, "destination.fqdn", col(5)?);
    }
    soft(&mut ev, "destination.ip", col(6)?);
    soft(&mut ev, "destination.port", col(7)?);
    let local = col(8)?;
    if !local.is_empty() && local != "-" && local != "?" && malware != "l_spamlink" {
        ev.add("extra.source.local_port", py_int(local)?)?;
    }
    soft(&mut ev, "protocol.transport", col(9)?);
    ev.add("raw", raw)?;
    Ok(vec![ev])
}
