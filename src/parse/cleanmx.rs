//! Clean-MX phishing and virus feeds in XML: one `<entry>` element per record
//! (IntelMQ `intelmq.bots.parsers.cleanmx.parser`). The record's `raw` is the
//! entry as Python's ElementTree writes it back, tail included; the small XML
//! reader below keeps what that needs.

use super::util_feeds::{from_epoch, reject};
use super::{Params, Parser, Records};
use crate::message::Message;
use crate::pipeline::Fail;
use serde_json::{Map, Value};

pub struct CleanMx;

pub fn build(_: &Params) -> anyhow::Result<Box<dyn Parser>> {
    Ok(Box::new(CleanMx))
}

/// Where each child element of a phishing entry goes (`None`: ignored).
fn phishing_key(tag: &str) -> Option<Option<&'static str>> {
    Some(match tag {
        "line" | "firsttime" | "last" | "lasttime" => None,
        "id" | "phishtank" | "response" | "review" | "inetnum" | "netname" | "descr" | "ns1"
        | "ns2" | "ns3" | "ns4" | "ns5" => Some("extra"),
        "first" => Some("time.source"),
        "target" => Some("event_description.target"),
        "url" => Some("source.url"),
        "recent" => Some("status"),
        "ip" => Some("source.ip"),
        "domain" => Some("source.fqdn"),
        "country" => Some("source.geolocation.cc"),
        "source" => Some("source.registry"),
        "email" => Some("source.abuse_contact"),
        _ => return None,
    })
}

/// Where each child element of a virus entry goes (`None`: ignored).
fn virus_key(tag: &str) -> Option<Option<&'static str>> {
    Some(match tag {
        "line" | "firsttime" | "last" | "lasttime" => None,
        "id" | "sub" | "scanner" | "response" | "review" | "source" | "inetnum" | "netname"
        | "descr" | "ns1" | "ns2" | "ns3" | "ns4" | "ns5" | "virustotal" | "vt_score"
        | "vt_info" => Some("extra"),
        "first" => Some("time.source"),
        "virusname" => Some("malware.name"),
        "url" => Some("source.url"),
        "recent" => Some("status"),
        "ip" => Some("source.ip"),
        "as" => Some("source.asn"),
        "domain" => Some("source.fqdn"),
        "country" => Some("source.geolocation.cc"),
        "email" => Some("source.abuse_contact"),
        "md5" => Some("malware.hash.md5"),
        _ => return None,
    })
}

type Mapping = fn(&str) -> Option<Option<&'static str>>;

impl Parser for CleanMx {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let url = out.report().get_str("feed.url").unwrap_or("").to_string();
        if url.contains("format=csv") {
            return Err(Fail::Fatal(anyhow::anyhow!(
                "CleanMX: only the XML format is supported; point the collector's \
                 http_url at the XML URL of the feed instead of the CSV one"
            )));
        }
        let (mapping, ctype): (Mapping, &str) = if url.contains("xmlphishing") {
            (phishing_key, "phishing")
        } else if url.contains("xmlviruses") {
            (virus_key, "malware-distribution")
        } else {
            return Err(reject("Unknown report."));
        };
        let text = super::feedio::decode(data);
        let root = xml::parse(&text).map_err(|e| reject(format!("XML: {e}")))?;
        let mut entries = Vec::new();
        root.find_all("entry", &mut entries);
        for entry in entries {
            let raw = entry.to_xml();
            let result = event(entry, &raw, mapping, ctype, out);
            out.record(raw.as_bytes(), result)?;
        }
        Ok(())
    }
}

fn event(
    entry: &xml::Element,
    raw: &str,
    mapping: Mapping,
    ctype: &str,
    out: &Records,
) -> Result<Vec<Message>, Fail> {
    let mut ev = out.new_event();
    let mut extra = Map::new();
    for item in &entry.children {
        let Some(value) = item.text.as_deref() else {
            continue;
        };
        if value.is_empty() || value == "undef" {
            continue;
        }
        let key = mapping(&item.tag).ok_or_else(|| reject(format!("KeyError: '{}'", item.tag)))?;
        let Some(key) = key else { continue };
        let v = Value::String(value.to_string());
        if key == "source.fqdn" && ev.is_valid_value("source.ip", &v, true) {
            continue;
        }
        if key == "source.ip" && ev.is_valid_value("source.fqdn", &v, true) {
            continue;
        }
        let mut value = value.to_string();
        match key {
            "time.source" => {
                let secs = crate::harmonization::py_float(&v).ok_or_else(|| {
                    reject(format!("could not convert string to float: '{value}'"))
                })?;
                value = from_epoch(secs as i64).ok_or_else(|| reject("timestamp out of range"))?;
            }
            "source.asn" => {
                let upper = value.to_uppercase();
                if upper.starts_with("ASNA") {
                    continue;
                }
                if let Some(asn) = upper.split(',').find(|a| a.starts_with("AS")) {
                    value = asn.split("AS").nth(1).unwrap_or("").to_string();
                }
            }
            "status" => match value.as_str() {
                "down" => value = "offline".into(),
                "up" => value = "online".into(),
                _ => {}
            },
            "extra" => {
                extra.insert(item.tag.clone(), Value::String(value));
                continue;
            }
            _ => {}
        }
        ev.add(key, value)?;
    }
    if !extra.is_empty() {
        ev.add("extra", Value::Object(extra))?;
    }
    ev.add("classification.type", ctype)?;
    ev.add("raw", raw)?;
    Ok(vec![ev])
}

/// Just enough XML for these feeds, with ElementTree's serialization.
mod xml {
    #[derive(Debug, Default)]
    pub struct Element {
        pub tag: String,
        pub attrs: Vec<(String, String)>,
        pub text: Option<String>,
        pub children: Vec<Element>,
        pub tail: Option<String>,
    }

    impl Element {
        /// `iter(tag=...)`: this element and its descendants in document order.
        pub fn find_all<'a>(&'a self, tag: &str, out: &mut Vec<&'a Element>) {
            if self.tag == tag {
                out.push(self);
            }
            for c in &self.children {
                c.find_all(tag, out);
            }
        }

        /// `ElementTree.tostring(el, encoding='utf-8')` decoded.
        pub fn to_xml(&self) -> String {
            let mut s = String::new();
            self.write(&mut s);
            s
        }

        fn write(&self, s: &mut String) {
            s.push('<');
            s.push_str(&self.tag);
            for (k, v) in &self.attrs {
                s.push(' ');
                s.push_str(k);
                s.push_str("=\"");
                escape_attr(v, s);
                s.push('"');
            }
            if self.text.as_deref().is_none_or(str::is_empty) && self.children.is_empty() {
                s.push_str(" />");
            } else {
                s.push('>');
                if let Some(t) = &self.text {
                    escape_text(t, s);
                }
                for c in &self.children {
                    c.write(s);
                }
                s.push_str("</");
                s.push_str(&self.tag);
                s.push('>');
            }
            if let Some(t) = &self.tail {
                escape_text(t, s);
            }
        }
    }

    fn escape_text(t: &str, s: &mut String) {
        for c in t.chars() {
            match c {
                '&' => s.push_str("&amp;"),
                '<' => s.push_str("&lt;"),
                '>' => s.push_str("&gt;"),
                c => s.push(c),
            }
        }
    }

    fn escape_attr(t: &str, s: &mut String) {
        for c in t.chars() {
            match c {
                '&' => s.push_str("&amp;"),
                '<' => s.push_str("&lt;"),
                '>' => s.push_str("&gt;"),
                '"' => s.push_str("&quot;"),
                '\n' => s.push_str("&#10;"),
                '\r' => s.push_str("&#13;"),
                '\t' => s.push_str("&#09;"),
                c => s.push(c),
            }
        }
    }

    fn unescape(t: &str) -> Result<String, String> {
        let mut out = String::with_capacity(t.len());
        super::super::xml_text::unescape(t, &mut out)?;
        Ok(out)
    }

    fn append(slot: &mut Option<String>, t: &str) {
        match slot {
            Some(s) => s.push_str(t),
            None => *slot = Some(t.to_string()),
        }
    }

    /// Parse a document and return its root element.
    pub fn parse(doc: &str) -> Result<Element, String> {
        let mut stack: Vec<Element> = Vec::new();
        let mut root: Option<Element> = None;
        let mut rest = doc;
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix("<?") {
                let end = r.find("?>").ok_or("unterminated processing instruction")?;
                rest = &r[end + 2..];
            } else if let Some(r) = rest.strip_prefix("<!--") {
                let end = r.find("-->").ok_or("unterminated comment")?;
                rest = &r[end + 3..];
            } else if let Some(r) = rest.strip_prefix("<![CDATA[") {
                let end = r.find("]]>").ok_or("unterminated CDATA")?;
                let t = &r[..end];
                if !t.is_empty() {
                    add_text(&mut stack, t)?;
                }
                rest = &r[end + 3..];
            } else if let Some(r) = rest.strip_prefix("<!") {
                let end = r.find('>').ok_or("unterminated declaration")?;
                rest = &r[end + 1..];
            } else if let Some(r) = rest.strip_prefix("</") {
                let end = r.find('>').ok_or("unterminated end tag")?;
                let name = r[..end].trim();
                let el = stack.pop().ok_or("end tag without start tag")?;
                if el.tag != name {
                    return Err(format!("mismatched tag: {} vs {name}", el.tag));
                }
                close(&mut stack, &mut root, el)?;
                rest = &r[end + 1..];
            } else if let Some(r) = rest.strip_prefix('<') {
                let end = r.find('>').ok_or("unterminated start tag")?;
                let mut inner = &r[..end];
                let empty = inner.ends_with('/');
                if empty {
                    inner = &inner[..inner.len() - 1];
                }
                let el = start_tag(inner)?;
                if root.is_some() && stack.is_empty() {
                    return Err("junk after document element".into());
                }
                if empty {
                    close(&mut stack, &mut root, el)?;
                } else {
                    stack.push(el);
                }
                rest = &r[end + 1..];
            } else {
                let end = rest.find('<').unwrap_or(rest.len());
                let t = unescape(&rest[..end])?;
                if stack.is_empty() {
                    if !t.trim().is_empty() {
                        return Err("text outside the document element".into());
                    }
                } else {
                    add_text(&mut stack, &t)?;
                }
                rest = &rest[end..];
            }
        }
        if !stack.is_empty() {
            return Err("no element found / unclosed element".into());
        }
        root.ok_or_else(|| "no element found".into())
    }

    /// Character data goes to the open element's text, or to its last child's tail.
    fn add_text(stack: &mut [Element], t: &str) -> Result<(), String> {
        let top = stack
            .last_mut()
            .ok_or("text outside the document element")?;
        match top.children.last_mut() {
            Some(last) => append(&mut last.tail, t),
            None => append(&mut top.text, t),
        }
        Ok(())
    }

    fn close(stack: &mut [Element], root: &mut Option<Element>, el: Element) -> Result<(), String> {
        match stack.last_mut() {
            Some(parent) => parent.children.push(el),
            None => *root = Some(el),
        }
        Ok(())
    }

    fn start_tag(inner: &str) -> Result<Element, String> {
        let inner = inner.trim_end();
        let name_end = inner
            .find(|c: char| c.is_whitespace())
            .unwrap_or(inner.len());
        let mut el = Element {
            tag: inner[..name_end].to_string(),
            ..Element::default()
        };
        let mut rest = inner[name_end..].trim_start();
        while !rest.is_empty() {
            let eq = rest.find('=').ok_or("attribute without value")?;
            let key = rest[..eq].trim().to_string();
            let after = rest[eq + 1..].trim_start();
            let q = after.chars().next().ok_or("attribute without value")?;
            if q != '"' && q != '\'' {
                return Err("unquoted attribute".into());
            }
            let close = after[1..].find(q).ok_or("unterminated attribute")?;
            el.attrs.push((key, unescape(&after[1..1 + close])?));
            rest = after[close + 2..].trim_start();
        }
        Ok(el)
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn roundtrip_like_elementtree() {
            let doc = "<?xml version=\"1.0\"?>\n<a><entry>\n\t<x><![CDATA[]]></x>\n\t<y><![CDATA[p&q]]></y>\n</entry>\n</a>";
            let root = super::parse(doc).unwrap();
            let mut v = Vec::new();
            root.find_all("entry", &mut v);
            assert_eq!(
                v[0].to_xml(),
                "<entry>\n\t<x />\n\t<y>p&amp;q</y>\n</entry>\n"
            );
        }
    }
}
