//! Zone-H defacement reports (CSV with a header)
//! (IntelMQ `intelmq.bots.parsers.zoneh.parser`).

use super::feedio::CsvOpts;
use super::util_feeds::{csv_dict, feed_time, reject, soft, DictRow};
use super::{Params, Parser, Records};
use crate::message::Message;
use crate::pipeline::Fail;

pub struct ZoneH;

pub fn build(_: &Params) -> anyhow::Result<Box<dyn Parser>> {
    Ok(Box::new(ZoneH))
}

impl Parser for ZoneH {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let opts = CsvOpts::default();
        let csv = csv_dict(data, &opts);
        let text = super::feedio::decode(data);
        let text = crate::harmonization::py_strip(&text);
        let mut cursor = 0;
        for row in &csv.rows {
            // IntelMQ's raw is the header line and the row's line as read, with
            // its line end (none for the last line).
            let mut line = row.line.clone();
            if let Some(i) = text[cursor..].find(row.line.as_str()) {
                let end = cursor + i + row.line.len();
                let rest = &text[end..];
                let le = if rest.starts_with("\r\n") {
                    "\r\n"
                } else if rest.starts_with('\n') {
                    "\n"
                } else if rest.starts_with('\r') {
                    "\r"
                } else {
                    ""
                };
                line.push_str(le);
                cursor = end + le.len();
            }
            let raw = format!("{}\n{}", csv.first_line, line);
            let dict = DictRow {
                names: &csv.names,
                values: &row.fields,
            };
            let result = event(&dict, &raw, out);
            out.record(raw.as_bytes(), result)?;
        }
        Ok(())
    }
}

fn req<'a>(row: &'a DictRow, key: &str) -> Result<Option<&'a str>, Fail> {
    row.get(key)
}

fn event(row: &DictRow, raw: &str, out: &Records) -> Result<Vec<Message>, Fail> {
    let domain = req(row, "domain")?.unwrap_or("");
    let url = crate::pyurl::urlsplit(domain).map_err(reject)?;
    let mut ev = out.new_event();
    ev.add("classification.identifier", "compromised-website")?;
    ev.add(
        "classification.type",
        "unauthorised-information-modification",
    )?;
    ev.add("event_description.text", "defacement")?;
    let add_date = req(row, "add_date")?.ok_or_else(|| reject("no add_date"))?;
    ev.add("time.source", feed_time(&format!("{add_date} UTC")))?;
    ev.add("raw", raw)?;
    soft(&mut ev, "source.ip", req(row, "ip_address")?);
    soft(&mut ev, "source.fqdn", url.netloc);
    soft(&mut ev, "source.geolocation.cc", req(row, "country_code")?);
    ev.add("protocol.application", &*url.scheme)?;
    // The URL column is called `domain`.
    soft(&mut ev, "source.url", domain);
    if let Some(a) = row.opt("accept_date").filter(|s| !s.is_empty()) {
        ev.add("extra.accepted_date", a)?;
    }
    ev.add("extra.actor", req(row, "attacker")?)?;
    ev.add("extra.http_target", req(row, "web_server")?)?;
    ev.add("extra.os.name", req(row, "system")?)?;
    ev.add("extra.compromise_method", req(row, "hackmode")?)?;
    ev.add("extra.zoneh_report_id", req(row, "defacement_id")?)?;
    Ok(vec![ev])
}
