//! dataplane.org lists: `ASN  |  ASname  |  ipaddr  |  lastseen  |  category`
//! (IntelMQ `intelmq.bots.parsers.dataplane.parser`).

use super::feedio;
use super::util_feeds::reject;
use super::{Params, Parser, Records};
use crate::harmonization::py_strip;
use crate::message::Message;
use crate::pipeline::Fail;

pub struct Dataplane;

pub fn build(_: &Params) -> anyhow::Result<Box<dyn Parser>> {
    Ok(Box::new(Dataplane))
}

const SUSPICIOUS: &str =
    "The source report lists hosts that are suspicious of more than just port scanning.";

/// classification.type, protocol.application and the description of each list.
fn category(name: &str) -> Option<(&'static str, &'static str, String)> {
    let (ty, app, text) = match name {
        "dnsrd" => ("scanner", "dns", format!("Address has been seen performing a DNS recursion desired query to a remote host. {SUSPICIOUS} The host may be DNS server cataloging or searching for hosts to use for DNS-based DDoS amplification.")),
        "dnsrdany" => ("scanner", "dns", format!("Address has been seen performing a DNS recursion desired IN ANY query to a remote host. {SUSPICIOUS} The host may be DNS server cataloging or searching for hosts to use for DNS-based DDoS amplification.")),
        "dnsversion" => ("scanner", "dns", format!("Address has been seen initiating a DNS CH TXT version.bind operation to a remote host. {SUSPICIOUS} The host may be DNS server cataloging or searching for vulnerable DNS servers.")),
        "proto41" => ("proxy", "6to4", "Address has been detected to offer open IPv6 over IPv4 tunneling. This could allow for the host to be used a public proxy against IPv6 hosts.".to_string()),
        "sipquery" => ("brute-force", "sip", format!("Address has been seen initiating a SIP OPTIONS query to a remote host. {SUSPICIOUS} The host may be SIP server cataloging or conducting various forms of telephony abuse.")),
        "sipinvitation" => ("brute-force", "sip", format!("Address has been seen initiating a SIP INVITE operation to a remote host. {SUSPICIOUS} The host may be SIP client cataloging or conducting various forms of telephony abuse.")),
        "sipregistration" => ("brute-force", "sip", format!("Address has been seen initiating a SIP REGISTER operation to a remote host. {SUSPICIOUS} The host may be SIP client cataloging or conducting various forms of telephony abuse.")),
        "smtpdata" => ("scanner", "smtp", format!("Address has been seen initiating a SMTP DATA operation to a remote host. {SUSPICIOUS} The host may be SMTP server cataloging or conducting various forms of email abuse.")),
        "smtpgreet" => ("scanner", "smtp", format!("Address has been seen initiating a SMTP HELO/EHLO operation to a remote host. {SUSPICIOUS} The host may be SMTP server cataloging or conducting various forms of email abuse.")),
        "sshclient" => ("scanner", "ssh", format!("Address has been seen initiating an SSH connection to a remote host. {SUSPICIOUS} The host may be SSH server cataloging or conducting authentication attack attempts.")),
        "sshpwauth" => ("brute-force", "ssh", "Address has been seen attempting to remotely login to a host using SSH password authentication. The source report lists hosts that are highly suspicious and are likely conducting malicious SSH password authentication attacks.".to_string()),
        "telnetlogin" => ("brute-force", "telnet", format!("Address has been seen initiating a telnet connection to a remote host. {SUSPICIOUS} The host may be telnet server cataloging or conducting authentication attack attempts.")),
        "vncrfb" => ("scanner", "vnc", format!("Address has been seen initiating a VNC remote buffer session to a remote host. {SUSPICIOUS} The host may be VNC/RFB server cataloging or conducting authentication attack attempts.")),
        _ => return None,
    };
    Some((ty, app, text))
}

/// `2019-01-01 10:00:00` -> `2019-01-01T10:00:00+00:00`, as IntelMQ rewrites it.
fn convert_datetime(s: &str) -> String {
    format!("{}+00:00", s.replacen(' ', "T", 1))
}

impl Parser for Dataplane {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let text = feedio::decode(data);
        for item in feedio::commented_lines(&text, '#') {
            if let feedio::Line::Record { line, raw } = item {
                let result = event(line, out);
                out.record(raw.as_bytes(), result)?;
            }
        }
        Ok(())
    }
}

fn event(line: &str, out: &Records) -> Result<Vec<Message>, Fail> {
    let mut ev = out.new_event();
    // Fields are separated by a pipe with at least two spaces on either side.
    let parts: Vec<&str> = line.split("  |  ").collect();
    let feed_name = py_strip(parts[parts.len() - 1]);
    let proto41 = feed_name == "proto41";
    let n_fields = if proto41 { 5 } else { 4 };
    if parts.len() != n_fields + 1 {
        return Err(reject(format!(
            "Incorrect format for feed {}, found line: \"{line}\"",
            ev.get_str("feed.url").unwrap_or("None")
        )));
    }
    let (ty, app, text) =
        category(feed_name).ok_or_else(|| reject(format!("Unknown data feed {feed_name}.")))?;
    ev.set("classification.type", ty)?;
    ev.set("protocol.application", app)?;
    ev.set("event_description.text", text)?;
    let asn = py_strip(parts[0]);
    if asn != "NA" {
        ev.add("source.asn", asn)?;
    }
    let as_name = py_strip(parts[1]);
    if as_name != "NA" {
        let first = as_name
            .split_whitespace()
            .next()
            .ok_or_else(|| reject("empty AS name"))?;
        ev.add("source.as_name", first)?;
    }
    ev.add("source.ip", py_strip(parts[2]))?;
    if proto41 {
        ev.add("extra.first_seen", convert_datetime(py_strip(parts[3])))?;
        ev.add("time.source", convert_datetime(py_strip(parts[4])))?;
    } else {
        ev.add("time.source", convert_datetime(py_strip(parts[3])))?;
    }
    ev.add("raw", line)?;
    Ok(vec![ev])
}
