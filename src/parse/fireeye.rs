//! FireEye Malware Analysis System alerts as OpenIOC XML (one per report): an
//! event with the sample's hashes and, when the alert has a network indicator,
//! an event with the contacted host, path and port
//! (IntelMQ `intelmq.bots.parsers.fireeye.parser`).
//!
//! IntelMQ reads the hash indicators from the document as `xmltodict` shapes
//! it, but the network indicator by cutting the raw text at fixed markers; both
//! are reproduced, with the failures they have: a missing element (Python
//! KeyError) silently ends the report, a wrong shape (TypeError, IndexError)
//! fails it, and events sent before stay sent.

use super::pyjson::emit_partial;
use super::{feedio, Params, Parser, Records};
use crate::message::Message;
use crate::pipeline::Fail;
use std::net::Ipv4Addr;

pub struct Fireeye;

pub fn build(_: &Params) -> anyhow::Result<Box<dyn Parser>> {
    Ok(Box::new(Fireeye))
}

impl Parser for Fireeye {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let text = feedio::decode(data);
        let mut events = Vec::new();
        let failure = match build_events(&text, out, &mut events) {
            Ok(()) | Err(Stop::Missing) => None,
            Err(Stop::Fail(f)) => Some(f),
        };
        emit_partial(out, text.as_bytes(), events, failure)
    }
}

/// Why the report ended early.
enum Stop {
    /// A KeyError, which IntelMQ catches ("No IOCs Available").
    Missing,
    /// Any other error: the report fails.
    Fail(Fail),
}

impl From<Fail> for Stop {
    fn from(f: Fail) -> Stop {
        Stop::Fail(f)
    }
}

impl From<crate::message::FieldError> for Stop {
    fn from(e: crate::message::FieldError) -> Stop {
        Stop::Fail(e.into())
    }
}

fn fail(msg: impl Into<String>) -> Stop {
    Stop::Fail(Fail::Reject(msg.into()))
}

/// A value as `xmltodict.parse` gives it.
#[derive(Debug, Clone, PartialEq)]
enum X {
    None,
    Str(String),
    Dict(Vec<(String, X)>),
    List(Vec<X>),
}

impl X {
    /// `value[key]`: KeyError for a dict without it, TypeError for anything else.
    fn get(&self, key: &str) -> Result<&X, Stop> {
        match self {
            X::Dict(items) => items
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v)
                .ok_or(Stop::Missing),
            _ => Err(fail(format!("TypeError: cannot look up {key:?}"))),
        }
    }

    /// `for x in value`: a dict gives its keys, a string its characters.
    fn iter(&self) -> Result<Vec<X>, Stop> {
        match self {
            X::List(items) => Ok(items.clone()),
            X::Dict(items) => Ok(items.iter().map(|(k, _)| X::Str(k.clone())).collect()),
            X::Str(s) => Ok(s.chars().map(|c| X::Str(c.to_string())).collect()),
            X::None => Err(fail("TypeError: 'NoneType' object is not iterable")),
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            X::Str(s) => Some(s),
            _ => None,
        }
    }
}

fn build_events(text: &str, out: &Records, sent: &mut Vec<Message>) -> Result<(), Stop> {
    let doc = xml::parse(text).map_err(|e| fail(format!("ExpatError: {e}")))?;
    let items = doc
        .get("OpenIOC")?
        .get("criteria")?
        .get("Indicator")?
        .get("IndicatorItem")?
        .iter()?;
    let mut event = out.new_event();
    let mut md5sum: Option<X> = None;
    for indicator in items {
        let search = indicator.get("Context")?.get("@search")?.clone();
        let search = search.as_str().unwrap_or("");
        if search == "FileItem/Md5sum" {
            let md5 = indicator.get("Content")?.get("#text")?.clone();
            event.add("malware.hash.md5", to_value(&md5))?;
            md5sum = Some(md5);
        }
        if search == "FileItem/Sha256sum" {
            let sha256 = indicator.get("Content")?.get("#text")?.clone();
            event.add("malware.hash.sha256", to_value(&sha256))?;
            event.add("classification.type", "malware")?;
            event.add("raw", text)?;
            sent.push(event);
            event = out.new_event();
            network_event(text, &sha256, md5sum.as_ref(), &mut event, sent)?;
        }
    }
    Ok(())
}

fn to_value(x: &X) -> serde_json::Value {
    match x {
        X::Str(s) => serde_json::Value::String(s.clone()),
        _ => serde_json::Value::Null,
    }
}

/// The second `<Indicator` block of the raw text, read by its markers.
fn network_event(
    text: &str,
    sha256: &X,
    md5sum: Option<&X>,
    event: &mut Message,
    sent: &mut Vec<Message>,
) -> Result<(), Stop> {
    let data: Vec<&str> = text.split("<Indicator id").collect();
    // The alert id is only logged, but its absence fails the report.
    if data[0].split("\"alert_id\">").nth(1).is_none() {
        return Err(fail("IndexError: no alert_id"));
    }
    let indicator = *data
        .get(2)
        .ok_or_else(|| fail("IndexError: no second indicator"))?;
    if !indicator.contains("Network") {
        return Ok(());
    }
    event.add("classification.type", "malware-distribution")?;
    event.add("raw", text)?;
    event.add("malware.hash.sha256", to_value(sha256))?;
    let md5 = md5sum.ok_or_else(|| fail("UnboundLocalError: md5sum"))?;
    event.add("malware.hash.md5", to_value(md5))?;
    let mut fqdn = String::new();
    let mut urlpath = String::new();
    for item in indicator.split("<IndicatorItem condition") {
        if !item.contains("search=") {
            continue;
        }
        for piece in item.split("search=\"") {
            let mut field = "";
            if piece.contains("\"/>") {
                field = match piece.split("\"/>").next().unwrap_or("") {
                    "Network/HTTP/RequestURI" => "destination.urlpath",
                    "Network/HTTP/Host" => "destination.ip",
                    "Network/Connection/RemotePort" => "destination.port",
                    "Network/Connection/Protocol" => "protocol.transport",
                    "Network/DNS" => "destination.fqdn",
                    _ => "",
                };
            }
            if !piece.contains("Content") {
                continue;
            }
            let content = piece
                .split("\">")
                .nth(1)
                .ok_or_else(|| fail("IndexError: no content"))?;
            let content = content.split("</Content>").next().unwrap_or("");
            if !fqdn.is_empty() && !urlpath.is_empty() {
                event.add("destination.url", format!("http://{fqdn}{urlpath}"))?;
                urlpath.clear();
            }
            match field {
                "destination.ip" => {
                    // Only an IPv4 address is taken; a host name ends this item.
                    if ipv4_network(content) {
                        event.add("destination.ip", content)?;
                    }
                    break;
                }
                "destination.fqdn" => {
                    fqdn = content.to_string();
                    event.add(field, content)?;
                }
                "destination.urlpath" => {
                    urlpath = content.to_string();
                    event.add(field, content)?;
                }
                "destination.port" => {
                    let port = crate::harmonization::py_int(&serde_json::Value::from(content))
                        .ok_or_else(|| fail(format!("ValueError: port {content:?}")))?;
                    event.add(field, port)?;
                }
                _ => {}
            }
        }
    }
    sent.push(event.clone());
    Ok(())
}

/// Python's `ipaddress.IPv4Network(s)` (strict) accepts `s`.
fn ipv4_network(s: &str) -> bool {
    let (addr, mask) = match s.split_once('/') {
        Some((a, m)) => (a, Some(m)),
        None => (s, None),
    };
    let Ok(addr) = addr.parse::<Ipv4Addr>() else {
        return false;
    };
    let addr = u32::from(addr);
    let prefix = match mask {
        None => 32,
        Some(m) if !m.is_empty() && m.bytes().all(|b| b.is_ascii_digit()) => {
            match m.parse::<u32>() {
                Ok(p) if p <= 32 => p,
                _ => return false,
            }
        }
        Some(m) => {
            let Ok(m) = m.parse::<Ipv4Addr>() else {
                return false;
            };
            let m = u32::from(m);
            if m.leading_ones() + m.trailing_zeros() == 32 {
                m.leading_ones()
            } else if m.leading_zeros() + m.trailing_ones() == 32 {
                // A host mask.
                m.leading_zeros()
            } else {
                return false;
            }
        }
    };
    let host_bits = u32::MAX.checked_shr(prefix).unwrap_or(0);
    addr & host_bits == 0
}

/// Just enough of an XML reader (expat's checks for well-formedness, the
/// character data and attribute rules) to build what `xmltodict.parse` returns.
mod xml {
    use super::X;

    struct Elem {
        name: String,
        attrs: Vec<(String, X)>,
        children: Vec<(String, X)>,
        text: String,
    }

    /// Add `value` under `key`, turning repeated keys into a list.
    fn push(items: &mut Vec<(String, X)>, key: String, value: X) {
        if let Some((_, old)) = items.iter_mut().find(|(k, _)| *k == key) {
            match old {
                X::List(l) => l.push(value),
                other => {
                    let first = std::mem::replace(other, X::None);
                    *other = X::List(vec![first, value]);
                }
            }
        } else {
            items.push((key, value));
        }
    }

    /// A finished element becomes a child of its parent, or the document root.
    fn close(e: Elem, stack: &mut [Elem], root: &mut Option<X>) {
        let name = e.name.clone();
        let value = finish(e);
        match stack.last_mut() {
            Some(parent) => push(&mut parent.children, name, value),
            None => *root = Some(X::Dict(vec![(name, value)])),
        }
    }

    fn finish(e: Elem) -> X {
        let text = py_strip(&e.text);
        let mut items = e.attrs;
        for (k, v) in e.children {
            push(&mut items, k, v);
        }
        if items.is_empty() {
            return if text.is_empty() {
                X::None
            } else {
                X::Str(text.to_string())
            };
        }
        if !text.is_empty() {
            push(&mut items, "#text".into(), X::Str(text.to_string()));
        }
        X::Dict(items)
    }

    fn py_strip(s: &str) -> &str {
        crate::harmonization::py_strip(s)
    }

    use super::super::xml_text::unescape;

    fn is_name_char(c: char) -> bool {
        !c.is_whitespace() && !matches!(c, '/' | '>' | '=' | '<' | '"' | '\'')
    }

    /// `{root_name: value}` as a one-item dict.
    pub fn parse(text: &str) -> Result<X, String> {
        let text = text.replace("\r\n", "\n").replace('\r', "\n");
        let mut stack: Vec<Elem> = Vec::new();
        let mut root: Option<X> = None;
        let mut rest = text.as_str();
        loop {
            let Some(lt) = rest.find('<') else {
                if !stack.is_empty() {
                    return Err("no element found".into());
                }
                if !rest.trim().is_empty() {
                    return Err("junk after document element".into());
                }
                break;
            };
            let chunk = &rest[..lt];
            match stack.last_mut() {
                Some(e) => unescape(chunk, &mut e.text)?,
                None if chunk.trim().is_empty() => {}
                None => return Err("syntax error".into()),
            }
            rest = &rest[lt..];
            if let Some(r) = rest.strip_prefix("<?") {
                let end = r.find("?>").ok_or("unclosed processing instruction")?;
                rest = &r[end + 2..];
            } else if let Some(r) = rest.strip_prefix("<!--") {
                let end = r.find("-->").ok_or("unclosed comment")?;
                rest = &r[end + 3..];
            } else if let Some(r) = rest.strip_prefix("<![CDATA[") {
                let end = r.find("]]>").ok_or("unclosed CDATA section")?;
                let e = stack.last_mut().ok_or("CDATA outside the root")?;
                e.text.push_str(&r[..end]);
                rest = &r[end + 3..];
            } else if let Some(r) = rest.strip_prefix("<!") {
                if !stack.is_empty() || root.is_some() {
                    return Err("declaration inside the document".into());
                }
                // A DOCTYPE, with an internal subset in brackets perhaps.
                let end = match (r.find('['), r.find('>')) {
                    (Some(b), Some(g)) if b < g => {
                        let close = r[b..].find("]>").ok_or("unclosed DOCTYPE")?;
                        b + close + 1
                    }
                    (_, Some(g)) => g,
                    _ => return Err("unclosed DOCTYPE".into()),
                };
                rest = &r[end + 1..];
            } else if let Some(r) = rest.strip_prefix("</") {
                let end = r.find('>').ok_or("unclosed end tag")?;
                let name = r[..end].trim_end();
                let e = stack.pop().ok_or("end tag without start")?;
                if e.name != name {
                    return Err("mismatched tag".into());
                }
                rest = &r[end + 1..];
                close(e, &mut stack, &mut root);
            } else {
                let r = &rest[1..];
                let name_len = r
                    .find(|c: char| !is_name_char(c))
                    .ok_or("unclosed start tag")?;
                if name_len == 0 {
                    return Err("not well-formed".into());
                }
                if root.is_some() && stack.is_empty() {
                    return Err("junk after document element".into());
                }
                let mut e = Elem {
                    name: r[..name_len].to_string(),
                    attrs: Vec::new(),
                    children: Vec::new(),
                    text: String::new(),
                };
                let mut r = &r[name_len..];
                let closed;
                loop {
                    let t = r.trim_start();
                    if let Some(t) = t.strip_prefix("/>") {
                        r = t;
                        closed = true;
                        break;
                    }
                    if let Some(t) = t.strip_prefix('>') {
                        r = t;
                        closed = false;
                        break;
                    }
                    if t.len() == r.len() && !e.attrs.is_empty() {
                        return Err("not well-formed (attributes need space)".into());
                    }
                    let n = t.find(|c: char| !is_name_char(c)).ok_or("unclosed tag")?;
                    if n == 0 {
                        return Err("not well-formed".into());
                    }
                    let aname = &t[..n];
                    let t = t[n..].trim_start();
                    let t = t.strip_prefix('=').ok_or("attribute without value")?;
                    let t = t.trim_start();
                    let q = t.chars().next().ok_or("unclosed tag")?;
                    if q != '"' && q != '\'' {
                        return Err("unquoted attribute".into());
                    }
                    let body = &t[1..];
                    let end = body.find(q).ok_or("unclosed attribute")?;
                    let raw = &body[..end];
                    if raw.contains('<') {
                        return Err("'<' in attribute".into());
                    }
                    let mut v = String::new();
                    unescape(&raw.replace(['\n', '\t'], " "), &mut v)?;
                    let key = format!("@{aname}");
                    if e.attrs.iter().any(|(k, _)| *k == key) {
                        return Err("duplicate attribute".into());
                    }
                    e.attrs.push((key, X::Str(v)));
                    r = &body[end + 1..];
                }
                rest = r;
                if closed {
                    close(e, &mut stack, &mut root);
                } else {
                    stack.push(e);
                }
            }
        }
        root.ok_or_else(|| "no element found".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xmltodict_shapes() {
        let x = xml::parse("<a x='1'><b>t</b><b/><c> </c>tail</a>").unwrap();
        let a = x.get("a").ok().unwrap();
        assert_eq!(a.get("@x").ok().unwrap(), &X::Str("1".into()));
        assert_eq!(
            a.get("b").ok().unwrap(),
            &X::List(vec![X::Str("t".into()), X::None])
        );
        assert_eq!(a.get("c").ok().unwrap(), &X::None);
        assert_eq!(a.get("#text").ok().unwrap(), &X::Str("tail".into()));
        assert!(xml::parse("<a><b></a>").is_err());
        assert!(xml::parse("<a/><b/>").is_err());
    }

    #[test]
    fn ipv4_networks() {
        assert!(ipv4_network("192.0.2.1"));
        assert!(ipv4_network("192.0.2.0/24"));
        assert!(!ipv4_network("192.0.2.1/24"));
        assert!(ipv4_network("192.0.2.0/255.255.255.0"));
        assert!(!ipv4_network("shop.example.com"));
        assert!(!ipv4_network("01.2.3.4"));
    }
}
