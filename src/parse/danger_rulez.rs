//! Danger Rulez bruteforceblocker list: `ip  # yyyy-mm-dd hh:mm:ss  count  id`
//! (IntelMQ `intelmq.bots.parsers.danger_rulez.parser`).

use super::feedio;
use super::util_feeds::{feed_time, reject};
use super::{Params, Parser, Records};
use crate::message::Message;
use crate::pipeline::Fail;

pub struct DangerRulez;

pub fn build(_: &Params) -> anyhow::Result<Box<dyn Parser>> {
    Ok(Box::new(DangerRulez))
}

impl Parser for DangerRulez {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let text = feedio::decode(data);
        for row in feedio::data_lines(&text) {
            let result = event(row, out);
            out.record(row.as_bytes(), result)?;
        }
        Ok(())
    }
}

/// IntelMQ's `# ([^ \t]+ [^ \t]+)`: the first `# ` followed by two words.
fn timestamp(row: &str) -> Option<String> {
    let not_ws = |c: char| c != ' ' && c != '\t';
    let mut from = 0;
    while let Some(i) = row[from..].find("# ") {
        let start = from + i + 2;
        let rest = &row[start..];
        let a = rest.find(|c: char| !not_ws(c)).unwrap_or(rest.len());
        if a > 0 && rest[a..].starts_with(' ') {
            let rest2 = &rest[a + 1..];
            let b = rest2.find(|c: char| !not_ws(c)).unwrap_or(rest2.len());
            if b > 0 {
                return Some(rest[..a + 1 + b].to_string());
            }
        }
        from = start - 1;
    }
    None
}

fn event(row: &str, out: &Records) -> Result<Vec<Message>, Fail> {
    let end = row.find([' ', '\t']).unwrap_or(row.len());
    let ip = &row[..end];
    let ts = timestamp(row).ok_or_else(|| reject("No timestamp found."))?;
    if ip.is_empty() {
        return Err(reject("No ip found."));
    }
    let mut ev = out.new_event();
    ev.add("time.source", feed_time(&format!("{ts} UTC")))?;
    ev.add("source.ip", ip)?;
    ev.add("classification.type", "brute-force")?;
    ev.add("raw", row)?;
    Ok(vec![ev])
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamp_regex() {
        assert_eq!(
            super::timestamp("1.2.3.4\t\t# 2019-01-01 10:00:00\t\t3\t\t42").as_deref(),
            Some("2019-01-01 10:00:00")
        );
        assert_eq!(super::timestamp("1.2.3.4 #  x"), None);
    }
}
