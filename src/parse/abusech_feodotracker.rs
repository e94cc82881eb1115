//! abuse.ch Feodo Tracker: a JSON list of botnet C2 servers
//! (IntelMQ `intelmq.bots.parsers.abusech.parser_feodotracker`).

use super::{Params, Parser, Records};
use crate::message::Message;
use crate::pipeline::Fail;
use crate::pyfmt::py_json_dumps;
use crate::timeparse;
use serde_json::Value;

pub struct Feodo;

pub fn build(_: &Params) -> anyhow::Result<Box<dyn Parser>> {
    Ok(Box::new(Feodo))
}

/// `add(..., raise_failure=False)`: a value that does not fit is left out.
fn soft(ev: &mut Message, key: &str, v: Option<Value>) {
    if let Some(v) = v {
        let _ = ev.add(key, v);
    }
}

impl Parser for Feodo {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let list: Vec<Value> = serde_json::from_slice(data)
            .map_err(|e| Fail::Reject(format!("feed is not a JSON list: {e}")))?;
        for item in list {
            let result = event(&item, out);
            out.record_one(dump_raw(&item, &result).as_bytes(), result)?;
        }
        Ok(())
    }

    /// The list read element by element: constant memory for any feed size.
    fn parse_stream(
        &mut self,
        input: &mut dyn std::io::BufRead,
        out: &mut Records,
    ) -> Option<Result<(), Fail>> {
        let mut items = super::stream_json::ArrayItems::new(input).limit(out.max_record());
        let mut run = || -> Result<(), Fail> {
            while let Some(bytes) = items.next_item()? {
                if let Some(flat) = Flat::scan(bytes) {
                    // The bytes are `json.dumps(item)` already: `raw` is them.
                    let mut raw = String::with_capacity(bytes.len() + 2);
                    raw.push('[');
                    raw.push_str(flat.text);
                    raw.push(']');
                    let result = event_with(|k| flat.get(k), raw.clone(), out);
                    let dump = if result.is_ok() { "" } else { raw.as_str() };
                    out.record_one(dump.as_bytes(), result)?;
                    continue;
                }
                match serde_json::from_slice::<Value>(bytes) {
                    Ok(item) => {
                        let result = event(&item, out);
                        out.record_one(dump_raw(&item, &result).as_bytes(), result)?;
                    }
                    Err(e) => out.record(bytes, Err(Fail::Reject(format!("not JSON: {e}"))))?,
                }
            }
            Ok(())
        };
        Some(run())
    }
}

/// `time.source` from a parsed time: `to_iso` is IntelMQ's form already, so
/// sanitizing it again would change nothing (and cost a parse).
fn add_time(ev: &mut Message, t: &timeparse::Parsed) {
    let iso = Value::String(timeparse::to_iso(&t.to_utc()));
    let opt = crate::message::Add {
        sanitize: false,
        overwrite: None,
    };
    let _ = ev.add_with("time.source", iso, opt);
}

/// What goes to the dump for a record (built only when it failed).
fn dump_raw<T>(item: &Value, result: &Result<T, Fail>) -> String {
    match result {
        Ok(_) => String::new(),
        Err(_) => py_json_dumps(&Value::Array(vec![item.clone()]), false),
    }
}

/// A record that is a flat object in exactly the form Python's `json.dumps`
/// writes (`{"k": v, ...}` with ", " and ": ", printable ASCII strings without
/// escapes, integers, null; no repeated key), kept as borrowed pieces.
/// Anything else takes the general path through `serde_json::Value`.
struct Flat<'a> {
    text: &'a str,
    fields: Vec<(&'a str, Scalar<'a>)>,
}

#[derive(Clone, Copy)]
enum Scalar<'a> {
    Str(&'a str),
    Int(&'a str),
    Null,
}

impl<'a> Flat<'a> {
    fn scan(bytes: &'a [u8]) -> Option<Flat<'a>> {
        let text = std::str::from_utf8(bytes).ok()?;
        let b = bytes;
        if b.first() != Some(&b'{') || b.last() != Some(&b'}') {
            return None;
        }
        let mut fields = Vec::with_capacity(12);
        let end = b.len() - 1;
        let mut i = 1;
        if i == end {
            return Some(Flat { text, fields });
        }
        loop {
            let (key, next) = plain_str(text, i)?;
            i = next;
            if b.get(i..i + 2)? != b": " {
                return None;
            }
            i += 2;
            let value = match *b.get(i)? {
                b'"' => {
                    let (s, next) = plain_str(text, i)?;
                    i = next;
                    Scalar::Str(s)
                }
                b'n' => {
                    if b.get(i..i + 4)? != b"null" {
                        return None;
                    }
                    i += 4;
                    Scalar::Null
                }
                _ => {
                    let start = i;
                    if b[i] == b'-' {
                        i += 1;
                    }
                    let digits = i;
                    while i < end && b[i].is_ascii_digit() {
                        i += 1;
                    }
                    let n = i - digits;
                    // One canonical spelling, and small enough to be an
                    // integer for serde_json too (json.loads("-0") is 0).
                    if n == 0 || n > 18 || (b[digits] == b'0' && (n > 1 || digits > start)) {
                        return None;
                    }
                    Scalar::Int(&text[start..i])
                }
            };
            if fields.iter().any(|(k, _)| *k == key) {
                return None;
            }
            fields.push((key, value));
            if i == end {
                return Some(Flat { text, fields });
            }
            if b.get(i..i + 2)? != b", " {
                return None;
            }
            i += 2;
        }
    }

    fn get(&self, key: &str) -> Option<Value> {
        let (_, v) = self.fields.iter().find(|(k, _)| *k == key)?;
        match *v {
            Scalar::Str(s) => Some(Value::String(s.to_string())),
            // As serde_json reads it: unsigned when it can be.
            Scalar::Int(s) => match s.strip_prefix('-') {
                Some(_) => s.parse::<i64>().ok().map(Value::from),
                None => s.parse::<u64>().ok().map(Value::from),
            },
            Scalar::Null => None,
        }
    }
}

/// The string starting at `text[i] == '"'` if it needs no escape in JSON
/// with ensure_ascii, and the index after its closing quote.
fn plain_str(text: &str, i: usize) -> Option<(&str, usize)> {
    let b = text.as_bytes();
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let start = i + 1;
    // A backslash first means an escape: not plain.
    let end = crate::jsonscan::next_quote_or_backslash(b, start).filter(|&e| b[e] == b'"')?;
    let s = &b[start..end];
    if s.iter()
        .fold(false, |bad, &c| bad | !(0x20..0x7f).contains(&c))
    {
        return None;
    }
    Some((&text[start..end], end + 1))
}

fn event(line: &Value, out: &Records) -> Result<Message, Fail> {
    // `json.dumps([line])`, without cloning the record into a list.
    let item = py_json_dumps(line, false);
    let mut raw = String::with_capacity(item.len() + 2);
    raw.push('[');
    raw.push_str(&item);
    raw.push(']');
    event_with(|k| line.get(k).filter(|v| !v.is_null()).cloned(), raw, out)
}

/// The event of a record: `get` gives a field's value (None when absent or
/// null), `raw` is `json.dumps([record])`.
fn event_with(
    get: impl Fn(&str) -> Option<Value>,
    raw: String,
    out: &Records,
) -> Result<Message, Fail> {
    let mut ev = out.new_event();
    let nonempty = |k: &str| get(k).filter(|v| v.as_str() != Some(""));
    if let Some(first) = nonempty("first_seen").as_ref().and_then(Value::as_str) {
        if let Ok(t) = timeparse::strptime(first, "%Y-%m-%d %H:%M:%S") {
            add_time(&mut ev, &t);
        }
    } else if let Some(last) = nonempty("last_online").as_ref().and_then(Value::as_str) {
        if let Ok(t) = timeparse::strptime(last, "%Y-%m-%d") {
            add_time(&mut ev, &t);
        }
    }
    ev.add("classification.type", "c2-server")?;
    ev.add("source.ip", get("ip_address").unwrap_or(Value::Null))?;
    ev.add("source.port", get("port").unwrap_or(Value::Null))?;
    soft(&mut ev, "source.asn", get("as_number"));
    soft(&mut ev, "source.as_name", get("as_name"));
    soft(&mut ev, "source.geolocation.cc", get("country"));
    soft(&mut ev, "source.reverse_dns", get("hostname"));
    soft(&mut ev, "malware.name", get("malware"));
    soft(&mut ev, "extra.last_online", get("last_online"));
    soft(&mut ev, "status", get("status"));
    ev.add("raw", raw)?;
    Ok(ev)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_only_in_python_form() {
        let ok = br#"{"ip_address": "10.0.0.1", "port": 80, "as_number": -5, "hostname": null}"#;
        let f = Flat::scan(ok).unwrap();
        assert_eq!(f.get("port"), Some(Value::from(80u64)));
        assert_eq!(f.get("as_number"), Some(Value::from(-5i64)));
        assert_eq!(f.get("hostname"), None);
        assert_eq!(f.get("ip_address"), Some(Value::from("10.0.0.1")));
        assert!(Flat::scan(b"{}").is_some());
        for bad in [
            &br#"{"a":1}"#[..],
            br#"{"a": 1,"b": 2}"#,
            br#"{"a": "\u00e9"}"#,
            "{\"a\": \"\u{e9}\"}".as_bytes(),
            br#"{"a": 1.5}"#,
            br#"{"a": -0}"#,
            br#"{"a": 01}"#,
            br#"{"a": true}"#,
            br#"{"a": 1, "a": 2}"#,
            br#"{"a": 1234567890123456789}"#,
            br#"{"a": [1]}"#,
            br#"{"a": 1, }"#,
            b"[1]",
        ] {
            assert!(
                Flat::scan(bad).is_none(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
