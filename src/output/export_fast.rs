//! IntelMQ's `OutputBot.export_event` on the hot path of the file outputs (no
//! allocation per event; export.rs has the general one): the text the file, files, amqptopic, udp
//! and stomp outputs write for an event.
//!
//! Without `single_key` it is `Message.to_json`: Python's `json.dumps(dict,
//! ensure_ascii=False, sort_keys=True)` of the event without `raw` (unless
//! `keep_raw_field`), with `__type` only when `message_with_type` is set.

use crate::harmonization::b64_decode_raw;
use crate::message::Message;
use crate::params::{boolean, Params};
use crate::pipeline::Fail;
use crate::pyfmt::{py_float, py_repr, py_str};
use serde_json::{Map, Value};
use std::io::Write as _;

/// The export settings of an output bot.
#[derive(Debug, Clone, Default)]
pub struct Export {
    pub hierarchical: bool,
    pub with_type: bool,
    pub single_key: Option<String>,
    pub keep_raw: bool,
    /// Field positions of the current event, sorted by key (reused).
    order: Vec<u16>,
}

/// The first of several parameter names that is set (IntelMQ's aliases).
fn first_bool(p: &Params, names: &[&str]) -> anyhow::Result<bool> {
    for n in names {
        if p.get(n).is_some_and(|v| !v.is_null()) {
            return boolean(p, n, false);
        }
    }
    Ok(false)
}

impl Export {
    pub fn from_params(p: &Params) -> anyhow::Result<Export> {
        let single_key = match p.get("single_key") {
            None | Some(Value::Null) | Some(Value::Bool(false)) => None,
            Some(Value::String(s)) if s.is_empty() => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                anyhow::bail!("parameter single_key: expected a field name, got {other}")
            }
        };
        Ok(Export {
            hierarchical: first_bool(
                p,
                &[
                    "hierarchical_output",
                    "message_hierarchical",
                    "message_hierarchical_output",
                ],
            )?,
            with_type: first_bool(p, &["message_with_type", "with_type"])?,
            single_key,
            keep_raw: boolean(p, "keep_raw_field", false)?,
            order: Vec::new(),
        })
    }

    /// Append the export of `ev` to `out` (no line end).
    pub fn write(&mut self, ev: &Message, out: &mut Vec<u8>) -> Result<(), Fail> {
        match self.single_key.as_deref() {
            Some("raw") => {
                // utils.base64_decode: the decoded bytes as text.
                if let Some(raw) = ev.get_str("raw") {
                    let bytes = b64_decode_raw(raw)
                        .ok_or_else(|| Fail::Reject("raw: invalid base64".into()))?;
                    out.extend_from_slice(String::from_utf8_lossy(&bytes).as_bytes());
                }
            }
            Some("output") => {
                // json.loads(event['output']): a str as is, anything else as
                // Python's str() of the object (its repr, not JSON).
                match ev.get("output") {
                    None => return Err(Fail::Reject("single_key: no field output".into())),
                    Some(v) => {
                        let text = v
                            .as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string());
                        match serde_json::from_str::<Value>(&text) {
                            Ok(Value::String(s)) => out.extend_from_slice(s.as_bytes()),
                            Ok(obj) => out.extend_from_slice(py_repr(&obj).as_bytes()),
                            Err(e) => return Err(Fail::Reject(format!("output: {e}"))),
                        }
                    }
                }
            }
            Some(key) => {
                let s = ev.get(key).map(py_str).unwrap_or_else(|| "None".into());
                out.extend_from_slice(s.as_bytes());
            }
            None if self.hierarchical => self.write_hierarchical(ev, out)?,
            None => self.write_flat(ev, out),
        }
        Ok(())
    }

    fn write_flat(&mut self, ev: &Message, out: &mut Vec<u8>) {
        self.order.clear();
        for (i, k) in ev.keys().enumerate() {
            if self.keep_raw || k != "raw" {
                self.order.push(i as u16);
            }
        }
        let key = |i: &u16| ev.key_at(*i as usize).unwrap_or_default();
        self.order.sort_unstable_by(|a, b| key(a).cmp(key(b)));
        out.push(b'{');
        let mut first = true;
        if self.with_type {
            out.extend_from_slice(b"\"__type\": \"");
            out.extend_from_slice(ev.msg_type().name().as_bytes());
            out.push(b'"');
            first = false;
        }
        for &i in &self.order {
            if !first {
                out.extend_from_slice(b", ");
            }
            first = false;
            let i = i as usize;
            write_str(ev.key_at(i).unwrap_or_default(), out);
            out.extend_from_slice(b": ");
            match ev.str_at(i) {
                Some(s) => write_str(s, out),
                None => write_value(ev.value_at(i).unwrap_or(&Value::Null), out),
            }
        }
        out.push(b'}');
    }

    /// `to_dict(hierarchical=True)`: keys split at every dot into nested objects.
    fn write_hierarchical(&self, ev: &Message, out: &mut Vec<u8>) -> Result<(), Fail> {
        let mut root = Map::new();
        if self.with_type {
            root.insert("__type".into(), ev.msg_type().name().into());
        }
        for (k, v) in ev.iter() {
            if k == "raw" && !self.keep_raw {
                continue;
            }
            let mut node = &mut root;
            let mut parts = k.split('.').peekable();
            while let Some(p) = parts.next() {
                if parts.peek().is_none() {
                    if node.get(p).is_some_and(Value::is_object) {
                        return Err(Fail::Reject(format!(
                            "hierarchical output: {k} is both a value and a parent"
                        )));
                    }
                    node.insert(p.to_string(), v.clone());
                    break;
                }
                let child = node
                    .entry(p.to_string())
                    .or_insert_with(|| Value::Object(Map::new()));
                node = child.as_object_mut().ok_or_else(|| {
                    Fail::Reject(format!(
                        "hierarchical output: {k} is below a field with a value"
                    ))
                })?;
            }
        }
        write_value(&Value::Object(root), out);
        Ok(())
    }
}

/// A JSON string as Python's `json.dumps(..., ensure_ascii=False)` writes it:
/// only `"`, `\` and control characters escaped.
pub fn write_str(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    let plain = |b: u8| b >= 0x20 && b != b'"' && b != b'\\';
    if s.bytes().fold(true, |ok, b| ok & plain(b)) {
        out.extend_from_slice(s.as_bytes());
    } else {
        for &b in s.as_bytes() {
            match b {
                b'"' => out.extend_from_slice(b"\\\""),
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                b'\t' => out.extend_from_slice(b"\\t"),
                0x08 => out.extend_from_slice(b"\\b"),
                0x0c => out.extend_from_slice(b"\\f"),
                b if b < 0x20 => {
                    let _ = write!(out, "\\u{b:04x}");
                }
                b => out.push(b),
            }
        }
    }
    out.push(b'"');
}

/// Any JSON value as `json.dumps(v, ensure_ascii=False, sort_keys=True)`.
pub fn write_value(v: &Value, out: &mut Vec<u8>) {
    write_value_as(v, true, out)
}

/// Any JSON value as `json.dumps(v, ensure_ascii=False, sort_keys=sort)`.
pub fn write_value_as(v: &Value, sort: bool, out: &mut Vec<u8>) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Number(n) => match n.as_f64().filter(|_| n.is_f64()) {
            Some(f) => {
                let r = py_float(f);
                out.extend_from_slice(match r.as_str() {
                    "nan" => b"NaN",
                    "inf" => b"Infinity",
                    "-inf" => b"-Infinity",
                    s => s.as_bytes(),
                })
            }
            None => {
                let _ = write!(out, "{n}");
            }
        },
        Value::String(s) => write_str(s, out),
        Value::Array(a) => {
            out.push(b'[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(b", ");
                }
                write_value_as(x, sort, out);
            }
            out.push(b']');
        }
        Value::Object(m) => {
            let mut entries: Vec<(&String, &Value)> = m.iter().collect();
            if sort {
                entries.sort_by(|a, b| a.0.cmp(b.0));
            }
            out.push(b'{');
            for (i, (k, x)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(b", ");
                }
                write_str(k, out);
                out.extend_from_slice(b": ");
                write_value_as(x, sort, out);
            }
            out.push(b'}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harmonization::MsgType;
    use serde_json::json;

    fn ev(line: &str) -> Message {
        Message::from_json(line.as_bytes(), MsgType::Event).unwrap()
    }

    fn export(p: Value, m: &Message) -> String {
        let Value::Object(p) = p else { unreachable!() };
        let mut e = Export::from_params(&p.into()).unwrap();
        let mut out = Vec::new();
        e.write(m, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn to_json_like_intelmq() {
        // The measured line of INTELMQ-RUNTIME §4.1, plus a non-ASCII value,
        // an escape, raw (dropped) and a nested extra.
        let m = ev(
            r#"{"time.observation":"2026-12-02T04:45:33+00:00","feed.url":"file://localhost/x/test.csv","feed.name":"My Feed","feed.provider":"Me","feed.accuracy":100.0,"extra.file_name":"test.csv","raw":"YQ==","comment":"W\u00fcrde \"q\"\n","extra.o":{"b":1,"a":[1.5,"\u00e9"]},"__type":"Event"}"#,
        );
        assert_eq!(
            export(json!({}), &m),
            r#"{"comment": "Würde \"q\"\n", "extra.file_name": "test.csv", "extra.o": {"a": [1.5, "é"], "b": 1}, "feed.accuracy": 100.0, "feed.name": "My Feed", "feed.provider": "Me", "feed.url": "file://localhost/x/test.csv", "time.observation": "2026-12-02T04:45:33+00:00"}"#
        );
        let m = ev(r#"{"feed.name":"F","raw":"YQ==","source.ip":"10.0.0.1","source.port":80}"#);
        assert_eq!(
            export(
                json!({"keep_raw_field": true, "message_with_type": true}),
                &m
            ),
            r#"{"__type": "Event", "feed.name": "F", "raw": "YQ==", "source.ip": "10.0.0.1", "source.port": 80}"#
        );
        assert_eq!(
            export(json!({"hierarchical_output": true}), &m),
            r#"{"feed": {"name": "F"}, "source": {"ip": "10.0.0.1", "port": 80}}"#
        );
        assert_eq!(export(json!({"single_key": "raw"}), &m), "a");
        assert_eq!(export(json!({"single_key": "source.port"}), &m), "80");
        assert_eq!(export(json!({"single_key": "comment"}), &m), "None");
        let m = ev(r#"{"output":"{\"a\": [1, true]}"}"#);
        assert_eq!(
            export(json!({"single_key": "output"}), &m),
            "{'a': [1, True]}"
        );
    }
}
