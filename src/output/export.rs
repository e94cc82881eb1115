//! How IntelMQ's outputs turn an event into text: `Message.to_dict` /
//! `to_json(hierarchical, with_type)` (`json.dumps(sort_keys=True,
//! ensure_ascii=False)` with Python's default separators) and
//! `OutputBot.export_event` (`single_key`, `keep_raw_field`).

use crate::message::Message;
use crate::params::{self, Params};
use crate::pyfmt::{py_float, py_str};
use base64::Engine;
use serde_json::{Map, Value};
use std::fmt::Write;

/// `event.to_dict(hierarchical)`: flat dotted keys, or nested objects split on
/// every dot; `with_type` adds `"__type": "Event"`.
pub fn to_dict(ev: &Message, hierarchical: bool, with_type: bool) -> Map<String, Value> {
    let mut m = Map::new();
    for (k, v) in ev.iter() {
        if !hierarchical {
            m.insert(k.to_string(), v.clone());
            continue;
        }
        let mut cur = &mut m;
        let mut parts = k.split('.').peekable();
        while let Some(p) = parts.next() {
            if parts.peek().is_none() {
                cur.insert(p.to_string(), v.clone());
                break;
            }
            let slot = cur
                .entry(p.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                // A field and a subfield of it (IntelMQ forbids this); keep the field.
                *slot = Value::Object(Map::new());
            }
            cur = slot.as_object_mut().expect("made an object");
        }
    }
    if with_type {
        m.insert(
            "__type".into(),
            Value::String(ev.msg_type().name().to_string()),
        );
    }
    m
}

/// `event.to_json(hierarchical, with_type)`.
pub fn to_json(ev: &Message, hierarchical: bool, with_type: bool) -> String {
    let mut s = String::with_capacity(512);
    dumps(&Value::Object(to_dict(ev, hierarchical, with_type)), &mut s);
    s
}

/// `json.dumps(v, sort_keys=True, ensure_ascii=False)`.
pub fn dumps(v: &Value, out: &mut String) {
    dumps_with(v, true, out)
}

/// `json.dumps(v, sort_keys=sort_keys, ensure_ascii=False)`: without sorting,
/// keys in their order.
pub fn dumps_with(v: &Value, sort_keys: bool, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match n.as_f64().filter(|_| n.is_f64()) {
            Some(f) => out.push_str(&py_float(f)),
            None => {
                let _ = write!(out, "{n}");
            }
        },
        Value::String(s) => json_str(s, out),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                dumps_with(x, sort_keys, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            let mut entries: Vec<(&String, &Value)> = m.iter().collect();
            if sort_keys {
                entries.sort_by(|a, b| a.0.cmp(b.0));
            }
            for (i, (k, x)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                json_str(k, out);
                out.push_str(": ");
                dumps_with(x, sort_keys, out);
            }
            out.push('}');
        }
    }
}

/// A JSON string as Python writes it with `ensure_ascii=False`: only `"`, `\`
/// and control characters below U+0020 escaped.
fn json_str(s: &str, out: &mut String) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if esc.is_empty() {
            let _ = write!(out, "\\u{b:04x}");
        } else {
            out.push_str(esc);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// The output-shaping parameters of `OutputBot` (§4.0).
#[derive(Clone, Debug, Default)]
pub struct Export {
    pub hierarchical: bool,
    pub with_type: bool,
    pub single_key: Option<String>,
    pub keep_raw_field: bool,
}

impl Export {
    /// Read them as `OutputBot.__init__` does; `with_type` is the module's default.
    pub fn from_params(p: &Params, with_type: bool) -> anyhow::Result<Export> {
        let hierarchical = if p.contains_key("hierarchical_output") {
            params::boolean(p, "hierarchical_output", false)?
        } else if p.contains_key("message_hierarchical") {
            params::boolean(p, "message_hierarchical", false)?
        } else {
            params::boolean(p, "message_hierarchical_output", false)?
        };
        let with_type = if p.contains_key("message_with_type") {
            params::boolean(p, "message_with_type", with_type)?
        } else {
            params::boolean(p, "with_type", with_type)?
        };
        // single_key: false (rpz_file's class default) means unset.
        let single_key = match p.get("single_key") {
            None | Some(Value::Null) | Some(Value::Bool(false)) => None,
            _ => params::string(p, "single_key")?.filter(|s| !s.is_empty()),
        };
        Ok(Export {
            hierarchical,
            with_type,
            single_key,
            keep_raw_field: params::boolean(p, "keep_raw_field", false)?,
        })
    }

    /// `export_event(event, return_type=str)`.
    pub fn export(&self, ev: &Message) -> String {
        match self.single_key.as_deref() {
            Some("raw") => ev
                .get_str("raw")
                .and_then(|r| base64::engine::general_purpose::STANDARD.decode(r).ok())
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default(),
            Some("output") => match ev.get_str("output").map(serde_json::from_str::<Value>) {
                Some(Ok(Value::String(s))) => s,
                Some(Ok(v)) => crate::pyfmt::py_repr(&v),
                _ => "None".into(),
            },
            Some(key) => ev.get(key).map(py_str).unwrap_or_else(|| "None".into()),
            None if self.keep_raw_field || !ev.contains("raw") => {
                to_json(ev, self.hierarchical, self.with_type)
            }
            None => {
                let mut ev = ev.clone();
                ev.remove("raw");
                to_json(&ev, self.hierarchical, self.with_type)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harmonization::MsgType;

    fn ev(line: &str) -> Message {
        Message::from_json(line.as_bytes(), MsgType::Event).unwrap()
    }

    #[test]
    fn to_json_like_python() {
        let e = ev(
            r#"{"source.ip":"10.0.0.1","feed.name":"Tést \"q\"","extra.a.b":1,"raw":"eA==","__type":"Event"}"#,
        );
        assert_eq!(
            to_json(&e, false, true),
            r#"{"__type": "Event", "extra.a.b": 1, "feed.name": "Tést \"q\"", "raw": "eA==", "source.ip": "10.0.0.1"}"#
        );
        assert_eq!(
            to_json(&e, true, false),
            r#"{"extra": {"a": {"b": 1}}, "feed": {"name": "Tést \"q\""}, "raw": "eA==", "source": {"ip": "10.0.0.1"}}"#
        );
        let x = Export::default();
        assert!(!x.export(&e).contains("raw"));
        let raw = Export {
            single_key: Some("raw".into()),
            ..Export::default()
        };
        assert_eq!(raw.export(&e), "x");
    }
}
