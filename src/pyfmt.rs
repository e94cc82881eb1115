//! Python's textual forms of JSON values.
//!
//! IntelMQ's sanitation falls back to Python's `str(value)` for non-string input
//! (`GenericType.sanitize`) and to `json.dumps(value, sort_keys=True)` for the JSON
//! types, and parsers put `json.dumps(record)` into `raw`. To give the same bytes we
//! reproduce both here, for the values a JSON line can carry.

use serde_json::Value;
use std::fmt::Write;

/// Python's `repr(float)`: shortest round-trip digits, exponent form outside 1e-4..1e16.
pub fn py_float(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    // Rust's `{:e}` gives the shortest round-trip digits too, as `d.ddde±x`.
    let e = format!("{f:e}");
    let (mant, exp) = e.split_once('e').expect("exponent form");
    let exp: i32 = exp.parse().expect("exponent");
    let neg = mant.starts_with('-');
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if (-4..16).contains(&exp) {
        if exp >= 0 {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.push_str(&digits);
                out.extend(std::iter::repeat_n('0', int_len - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        } else {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
            out.push_str(&digits);
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let _ = write!(out, "e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
    }
    out
}

/// Python's `str(value)` for a value decoded from JSON.
/// Python's `bool(value)` of a JSON value.
pub fn py_truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(m) => !m.is_empty(),
    }
}

pub fn py_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        _ => py_repr(v),
    }
}

/// Python's `repr(value)` for a value decoded from JSON.
pub fn py_repr(v: &Value) -> String {
    let mut s = String::new();
    repr_into(v, &mut s);
    s
}

fn repr_into(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("None"),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| n.is_f64()) {
                out.push_str(&py_float(f));
            } else {
                let _ = write!(out, "{n}");
            }
        }
        Value::String(s) => repr_str(s, out),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                repr_into(x, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                repr_str(k, out);
                out.push_str(": ");
                repr_into(x, out);
            }
            out.push('}');
        }
    }
}

fn repr_str(s: &str, out: &mut String) {
    // Python prefers single quotes unless the text holds one and no double quote.
    let q = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(q);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == q => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if !c.is_ascii() && !is_printable(c) => {
                let n = c as u32;
                let _ = match n {
                    0..=0xff => write!(out, "\\x{n:02x}"),
                    0x100..=0xffff => write!(out, "\\u{n:04x}"),
                    _ => write!(out, "\\U{n:08x}"),
                };
            }
            c => out.push(c),
        }
    }
    out.push(q);
}

/// Python's `str.isprintable()` for a non-ASCII character: `repr()` escapes the
/// others (controls, format characters, separators other than space, private use,
/// unassigned). The ranges come from Python itself (data/py_unprintable.txt,
/// scripts/oracle/gen_unprintable.py).
pub fn is_printable(c: char) -> bool {
    use std::sync::OnceLock;
    static RANGES: OnceLock<Vec<(u32, u32)>> = OnceLock::new();
    let ranges = RANGES.get_or_init(|| {
        include_str!("../data/py_unprintable.txt")
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let (a, b) = l.split_once('-')?;
                Some((
                    u32::from_str_radix(a, 16).ok()?,
                    u32::from_str_radix(b, 16).ok()?,
                ))
            })
            .collect()
    });
    let n = c as u32;
    let i = ranges.partition_point(|&(start, _)| start <= n);
    !(i > 0 && n <= ranges[i - 1].1)
}

/// Python's `json.dumps(value, sort_keys=sort_keys)` with the default separators
/// (`", "`, `": "`) and `ensure_ascii=True`.
pub fn py_json_dumps(v: &Value, sort_keys: bool) -> String {
    let mut s = String::new();
    dumps_into(v, sort_keys, &mut s);
    s
}

fn dumps_into(v: &Value, sort_keys: bool, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| n.is_f64()) {
                let r = py_float(f);
                match r.as_str() {
                    "nan" => out.push_str("NaN"),
                    "inf" => out.push_str("Infinity"),
                    "-inf" => out.push_str("-Infinity"),
                    _ => out.push_str(&r),
                }
            } else {
                let _ = write!(out, "{n}");
            }
        }
        Value::String(s) => json_str_ascii(s, out),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                dumps_into(x, sort_keys, out);
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
                json_str_ascii(k, out);
                out.push_str(": ");
                dumps_into(x, sort_keys, out);
            }
            out.push('}');
        }
    }
}

/// A JSON string literal with every non-ASCII character as `\uXXXX` (surrogate
/// pairs above the BMP), as Python's `json.dumps` writes it by default.
pub fn json_str_ascii(s: &str, out: &mut String) {
    out.push('"');
    // Most strings need no escape at all: one vectorizable pass, one copy.
    let plain = |b: u8| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\';
    if s.bytes().fold(true, |ok, b| ok & plain(b)) {
        out.push_str(s);
        out.push('"');
        return;
    }
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for u in c.encode_utf16(&mut buf) {
                    let _ = write!(out, "\\u{:04x}", u);
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn floats_like_python() {
        for (f, s) in [
            (1.0, "1.0"),
            (1.5, "1.5"),
            (0.1, "0.1"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.5e-7, "-2.5e-07"),
            (123456.789, "123456.789"),
            (48.2082, "48.2082"),
        ] {
            assert_eq!(py_float(f), s, "{f}");
        }
    }

    #[test]
    fn repr_and_dumps() {
        let v = json!({"b": [1, 2.0, "x'y"], "a": null, "c": true});
        assert_eq!(
            py_repr(&v),
            "{'b': [1, 2.0, \"x'y\"], 'a': None, 'c': True}"
        );
        assert_eq!(
            py_json_dumps(&v, true),
            r#"{"a": null, "b": [1, 2.0, "x'y"], "c": true}"#
        );
        assert_eq!(
            py_repr(&json!("ä\u{a0}\u{200b}\u{85}\u{e0001}x")),
            "'ä\\xa0\\u200b\\x85\\U000e0001x'"
        );
        assert_eq!(
            py_json_dumps(&json!("ä€😀"), false),
            r#""\u00e4\u20ac\ud83d\ude00""#
        );
    }
}
