//! blocklist.de IP lists, one address a line; the list's file name in `feed.url`
//! says what the addresses did (IntelMQ `intelmq.bots.parsers.blocklistde.parser`).

use super::feedio;
use super::{Params, Parser, Records};
use crate::message::Message;
use crate::pipeline::Fail;

pub struct BlocklistDe;

pub fn build(_: &Params) -> anyhow::Result<Box<dyn Parser>> {
    Ok(Box::new(BlocklistDe))
}

/// The fields each list sets (IntelMQ's MAPPING), in IntelMQ's order.
fn mapping(file: &str) -> &'static [(&'static str, &'static str)] {
    match file {
        "all.txt" => &[("classification.type", "blacklist")],
        "ssh.txt" => &[
            ("classification.type", "ids-alert"),
            ("protocol.application", "ssh"),
            ("event_description.text", "IP reported as having run attacks on the service SSH"),
        ],
        "mail.txt" => &[
            ("classification.type", "ids-alert"),
            ("protocol.application", "smtp"),
            ("event_description.text", "IP reported as having run attacks on the service Mail, Postfix"),
        ],
        "apache.txt" => &[
            ("classification.type", "ids-alert"),
            ("protocol.application", "http"),
            ("event_description.text", "IP reported as having run attacks on the service Apache, Apache-DDoS, RFI-Attacks"),
        ],
        "imap.txt" => &[
            ("classification.type", "ids-alert"),
            ("protocol.application", "imap"),
            ("event_description.text", "IP reported as having run attacks on the service IMAP, SASL, POP3"),
        ],
        "ftp.txt" => &[
            ("classification.type", "ids-alert"),
            ("protocol.application", "ftp"),
            ("event_description.text", "IP reported as having run attacks on the service FTP"),
        ],
        "sip.txt" => &[
            ("classification.type", "ids-alert"),
            ("protocol.application", "sip"),
            ("event_description.text", "IP reported as having run attacks on the service SIP, VOIP, Asterisk"),
        ],
        "bots.txt" => &[
            ("classification.type", "spam"),
            ("event_description.text", "IP reported as having spammed on IRC, open forums, wikis or registration forms."),
        ],
        "strongips.txt" => &[
            ("classification.type", "blacklist"),
            ("event_description.text", "IP reported as having run attacks in last 2 months"),
        ],
        "ircbot.txt" => &[
            ("classification.type", "infected-system"),
            ("protocol.application", "irc"),
        ],
        "bruteforcelogin.txt" => &[
            ("classification.type", "brute-force"),
            ("event_description.text", "IP reported as having run attacks on Joomlas, Wordpress and other Web-Logins with Brute-Force Logins"),
        ],
        _ => &[("classification.type", "blacklist")],
    }
}

impl Parser for BlocklistDe {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let url = out.report().get_str("feed.url").unwrap_or("").to_string();
        let path = crate::pyurl::urlsplit(&url)
            .map(|u| u.path.to_string())
            .unwrap_or_default();
        let fields = mapping(path.rsplit('/').next().unwrap_or(""));
        let text = feedio::decode(data);
        for line in feedio::lines(&text, &[]) {
            let result = event(line, fields, out);
            out.record(line.as_bytes(), result)?;
        }
        Ok(())
    }
}

fn event(line: &str, fields: &[(&str, &str)], out: &Records) -> Result<Vec<Message>, Fail> {
    let mut ev = out.new_event();
    ev.add("source.ip", line)?;
    for (k, v) in fields {
        ev.add(k, *v)?;
    }
    ev.add("raw", line)?;
    Ok(vec![ev])
}
