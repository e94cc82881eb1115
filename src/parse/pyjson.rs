//! What JSON feed parsers need of Python's view of decoded JSON: truthiness
//! (`ParserBot` skips falsy records), iterating a document as `parse_json`
//! does, and the small string operations IntelMQ parsers apply to values.

use super::Records;
use crate::message::Message;
use crate::pipeline::Fail;
use crate::pyfmt::{py_json_dumps, py_repr};
use serde_json::Value;

pub use crate::pyfmt::py_truthy as truthy;

/// `json.loads` of a whole report; a report that is not JSON fails as a whole.
pub fn loads(text: &str) -> Result<Value, Fail> {
    serde_json::from_str(text).map_err(|e| Fail::Reject(format!("report is not JSON: {e}")))
}

/// `ParserBot.parse` over `parse_json`: every truthy item of the document is a
/// record, its `raw` as `recover_line_json` writes it (`json.dumps([item])`).
pub fn each_record(
    doc: Value,
    out: &mut Records,
    mut events: impl FnMut(&Value, &str, &Records) -> Result<Vec<Message>, Fail>,
) -> Result<(), Fail> {
    for item in iter_items(doc)? {
        if !truthy(&item) {
            continue;
        }
        let raw = recover_json(&item);
        let result = events(&item, &raw, out);
        out.record(raw.as_bytes(), result)?;
    }
    Ok(())
}

/// `yield from json.loads(raw)`: the items of a list, the keys of an object
/// (as strings), the characters of a string; a number or `null` is not
/// iterable, so the whole report fails.
pub fn iter_items(doc: Value) -> Result<Vec<Value>, Fail> {
    match doc {
        Value::Array(a) => Ok(a),
        Value::Object(o) => Ok(o.into_iter().map(|(k, _)| Value::String(k)).collect()),
        Value::String(s) => Ok(s.chars().map(|c| Value::String(c.to_string())).collect()),
        other => Err(Fail::Reject(format!(
            "TypeError: {} is not iterable",
            py_type(&other)
        ))),
    }
}

/// Python's type name of a JSON value, for error texts.
pub fn py_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "'NoneType' object",
        Value::Bool(_) => "'bool' object",
        Value::Number(n) if n.is_f64() => "'float' object",
        Value::Number(_) => "'int' object",
        Value::String(_) => "'str' object",
        Value::Array(_) => "'list' object",
        Value::Object(_) => "'dict' object",
    }
}

/// `value[key]` on something that should be a dict: Python's KeyError or
/// TypeError as a failed record.
pub fn item<'a>(v: &'a Value, key: &str) -> Result<&'a Value, Fail> {
    match v {
        Value::Object(m) => m
            .get(key)
            .ok_or_else(|| Fail::Reject(format!("KeyError: {}", py_repr(&Value::from(key))))),
        other => Err(Fail::Reject(format!(
            "TypeError: {} is not subscriptable by {key:?}",
            py_type(other)
        ))),
    }
}

/// `value[key]` that must be a string.
pub fn item_str<'a>(v: &'a Value, key: &str) -> Result<&'a str, Fail> {
    item(v, key)?
        .as_str()
        .ok_or_else(|| Fail::Reject(format!("{key:?} is not a string")))
}

/// Python's `int(value)`, failing the record as a ValueError would.
pub fn py_int(v: &Value) -> Result<i64, Fail> {
    crate::harmonization::py_int(v).ok_or_else(|| {
        Fail::Reject(format!(
            "ValueError: invalid literal for int(): {}",
            py_repr(v)
        ))
    })
}

/// `key in value` for a dict (false for anything else, where Python would
/// fail or test something else; feeds give dicts here).
pub fn has(v: &Value, key: &str) -> bool {
    v.as_object().is_some_and(|m| m.contains_key(key))
}

/// Python's `s[:-n]`: all but the last `n` characters.
pub fn drop_last_chars(s: &str, n: usize) -> &str {
    let count = s.chars().count();
    if count <= n {
        return "";
    }
    match s.char_indices().nth(count - n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// `ParserBot.recover_line_json`: the record as a one-element JSON list.
pub fn recover_json(item: &Value) -> String {
    let one = py_json_dumps(item, false);
    let mut raw = String::with_capacity(one.len() + 2);
    raw.push('[');
    raw.push_str(&one);
    raw.push(']');
    raw
}

/// The report's `raw` as it is, for bots that copy it into their event
/// (base64 of the feed bytes when the report was read from a raw file and
/// carries no `raw`).
pub fn report_raw(out: &super::Records, data: &[u8]) -> Value {
    use base64::Engine;
    match out.report().get("raw") {
        Some(v) => v.clone(),
        None => Value::String(base64::engine::general_purpose::STANDARD.encode(data)),
    }
}

/// A report handled in one go by a bot that sends events as it goes (its own
/// `process`): the events sent before a failure stay sent, then the report
/// goes to the dump.
pub fn emit_partial(
    out: &mut super::Records,
    raw: &[u8],
    events: Vec<crate::message::Message>,
    failure: Option<Fail>,
) -> Result<(), Fail> {
    match failure {
        None => out.record(raw, Ok(events)),
        Some(f) => {
            if !events.is_empty() {
                out.record(raw, Ok(events))?;
            }
            out.record_one(raw, Err(f))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn slicing_and_truth() {
        assert_eq!(
            drop_last_chars("2015-09-02T09:21:53.093000", 4),
            "2015-09-02T09:21:53.09"
        );
        assert_eq!(drop_last_chars("abc", 4), "");
        assert_eq!(drop_last_chars("äöüßx", 1), "äöüß");
        assert!(!truthy(&json!({})));
        assert!(truthy(&json!([0])));
        assert_eq!(recover_json(&json!({"a": 1})), "[{\"a\": 1}]");
        assert_eq!(iter_items(json!({"a": 1, "b": 2})).unwrap().len(), 2);
        assert!(iter_items(json!(1)).is_err());
    }
}
