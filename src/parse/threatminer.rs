//! ThreatMiner's front page, the "Recent domains" panel
//! (IntelMQ `intelmq.bots.parsers.threatminer.parser`).
//!
//! IntelMQ feeds the page, one stripped line at a time, from the line after
//! "Recent domains" up to the line "Recent hosts", into Python's `HTMLParser`,
//! collecting the text between tags; the last two texts (a blank and the
//! "Recent hosts" heading) are dropped, the others are domains. An event's `raw`
//! is the line whose feeding produced text. The text collector is the small
//! tokenizer below, which splits text and markup as `HTMLParser` does (a tag
//! cut by a line end waits for the next line). Its unfinished input lives as
//! long as the parser, as IntelMQ's module-level `HTMLParser` does.
//!
//! A page without the panel, or a name that is no FQDN, fails the report.

use super::htmldom::unescape;
use super::util_feeds::reject;
use super::{Params, Parser, Records};
use crate::pipeline::Fail;

#[derive(Default)]
pub struct Threatminer {
    /// Markup or text not complete yet (`HTMLParser.rawdata`).
    pending: String,
}

pub fn build(_: &Params) -> anyhow::Result<Box<dyn Parser>> {
    Ok(Box::<Threatminer>::default())
}

impl Parser for Threatminer {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let text = super::feedio::decode(data);
        let lines: Vec<&str> = super::feedio::splitlines(&text).map(str::trim).collect();
        let start = lines
            .iter()
            .position(|l| *l == "Recent domains")
            .ok_or_else(|| reject("no 'Recent domains' panel on the page"))?;
        let mut texts = Vec::new();
        let mut raws = Vec::new();
        let mut idx = start;
        loop {
            idx += 1;
            let line = *lines
                .get(idx)
                .ok_or_else(|| reject("no 'Recent hosts' panel after 'Recent domains'"))?;
            let before = texts.len();
            self.feed(line, &mut texts);
            if texts.len() != before {
                raws.push(line);
            }
            if line == "Recent hosts" {
                break;
            }
        }
        texts.truncate(texts.len().saturating_sub(2));
        raws.truncate(raws.len().saturating_sub(2));
        for (i, name) in texts.into_iter().enumerate() {
            // A line with two texts shifts the lines against the texts, as in IntelMQ.
            let raw = *raws
                .get(i)
                .ok_or_else(|| reject("more texts than lines in the domain panel"))?;
            let mut ev = out.new_event();
            ev.add("source.fqdn", name)?;
            ev.add("classification.type", "blacklist")?;
            ev.add("raw", raw)?;
            out.record_one(raw.as_bytes(), Ok(ev))?;
        }
        Ok(())
    }
}

impl Threatminer {
    /// `HTMLParser.feed` keeping only `handle_data`: the texts of `more` (plus
    /// what was pending) go to `texts`; an unfinished tag or text stays pending.
    fn feed(&mut self, more: &str, texts: &mut Vec<String>) {
        self.pending.push_str(more);
        let raw = std::mem::take(&mut self.pending);
        let b = raw.as_bytes();
        let n = b.len();
        let mut i = 0;
        while i < n {
            let j = match raw[i..].find('<') {
                Some(k) => i + k,
                None => {
                    // A character reference may be cut at the end: wait for the rest.
                    let from = i.max(n.saturating_sub(34));
                    if let Some(amp) = raw[from..].rfind('&').map(|k| from + k) {
                        let tail = &raw[amp..];
                        if !tail.contains(|c: char| c.is_whitespace() || c == ';') {
                            break;
                        }
                    }
                    n
                }
            };
            if i < j {
                texts.push(unescape(&raw[i..j]));
            }
            i = j;
            if i == n {
                break;
            }
            let rest = &b[i..];
            let end = if rest.len() > 1 && rest[1].is_ascii_alphabetic() {
                start_tag_end(rest)
            } else if rest.starts_with(b"</") {
                find(rest, b">", 2).map(|k| k + 1)
            } else if rest.starts_with(b"<!--") {
                find(rest, b"-->", 4).map(|k| k + 3)
            } else if rest.starts_with(b"<?") || rest.starts_with(b"<!") {
                find(rest, b">", 2).map(|k| k + 1)
            } else if rest.len() > 1 {
                texts.push("<".into());
                Some(1)
            } else {
                None
            };
            match end {
                Some(k) => i += k,
                None => break,
            }
        }
        self.pending = raw[i..].to_string();
    }
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    memchr::memmem::find(hay.get(from..)?, needle).map(|k| k + from)
}

/// Length of the start tag at the beginning of `s` (`>` outside quoted
/// attribute values), `None` when it is not complete yet.
fn start_tag_end(s: &[u8]) -> Option<usize> {
    let mut quote = None;
    for (k, &c) in s.iter().enumerate().skip(1) {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == b'"' || c == b'\'' => quote = Some(c),
            None if c == b'>' => return Some(k + 1),
            None => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_cut_by_line_ends_wait_for_the_next_line() {
        let mut p = Threatminer::default();
        let mut texts = Vec::new();
        p.feed("<tr><td><a href='domain.php?q=11e.com", &mut texts);
        assert!(texts.is_empty());
        p.feed("'>11e.com", &mut texts);
        assert_eq!(texts, ["11e.com"]);
        p.feed("</a></td></tr> </table>", &mut texts);
        assert_eq!(texts, ["11e.com", " "]);
        p.feed("a &amp b < c <!-- x --> &lt;", &mut texts);
        assert_eq!(texts[2..], ["a & b ", "<", " c ", " <"]);
    }
}
