//! format_field: strip characters from fields, replace a substring in one field,
//! split one field into a list (IntelMQ `intelmq.bots.experts.format_field.expert`).

use super::{Expert, Params, Verdict};
use crate::message::Message;
use crate::params;
use crate::pipeline::Fail;
use serde_json::Value;

pub struct FormatField {
    strip_columns: Vec<String>,
    strip_chars: Vec<char>,
    replace_column: String,
    old_value: String,
    new_value: String,
    /// Python's `str.replace` count; negative means all.
    replace_count: i64,
    split_column: Option<String>,
    split_separator: String,
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Expert>> {
    Ok(Box::new(FormatField {
        strip_columns: params::list(p, "strip_columns")?.unwrap_or_default(),
        strip_chars: params::string_or(p, "strip_chars", " ")?.chars().collect(),
        replace_column: params::string_or(p, "replace_column", "")?,
        old_value: params::string_or(p, "old_value", "")?,
        new_value: params::string_or(p, "new_value", "")?,
        replace_count: params::integer(p, "replace_count", 1)?,
        split_column: params::string(p, "split_column")?.filter(|s| !s.is_empty()),
        split_separator: params::string_or(p, "split_separator", ",")?,
    }))
}

/// Python's `str.replace(old, new, count)`.
fn py_replace(s: &str, old: &str, new: &str, count: i64) -> String {
    if count < 0 {
        if old.is_empty() {
            // Python inserts `new` between all characters and at both ends.
            let mut out = String::from(new);
            for c in s.chars() {
                out.push(c);
                out.push_str(new);
            }
            return out;
        }
        return s.replace(old, new);
    }
    if old.is_empty() {
        let mut out = String::new();
        let mut n = 0;
        for c in s.chars() {
            if n < count {
                out.push_str(new);
                n += 1;
            }
            out.push(c);
        }
        if n < count {
            out.push_str(new);
        }
        return out;
    }
    s.replacen(old, new, count as usize)
}

fn not_text(key: &str) -> Fail {
    Fail::Reject(format!("{key}: value is not text"))
}

impl Expert for FormatField {
    fn process(&mut self, ev: &mut Message) -> Result<Verdict, Fail> {
        for col in &self.strip_columns {
            match ev.get(col) {
                Some(Value::String(s)) if !s.is_empty() => {
                    let stripped = s.trim_matches(self.strip_chars.as_slice()).to_string();
                    ev.set(col, stripped)?;
                }
                None => {}
                Some(v) if crate::harmonization::is_ignored(v) => {}
                Some(_) => return Err(not_text(col)),
            }
        }
        if !self.replace_column.is_empty() {
            let col = &self.replace_column;
            match ev.get(col) {
                Some(Value::String(s)) if !s.is_empty() => {
                    let r = py_replace(s, &self.old_value, &self.new_value, self.replace_count);
                    ev.set(col, r)?;
                }
                None => {}
                Some(_) => return Err(not_text(col)),
            }
        }
        if let Some(col) = &self.split_column {
            match ev.get(col) {
                Some(Value::String(s)) if !s.is_empty() => {
                    let parts: Vec<Value> = if self.split_separator.is_empty() {
                        return Err(Fail::Reject("empty separator".into()));
                    } else {
                        s.split(self.split_separator.as_str())
                            .map(|x| Value::String(x.to_string()))
                            .collect()
                    };
                    ev.set(col, Value::Array(parts))?;
                }
                None => {}
                Some(_) => return Err(not_text(col)),
            }
        }
        Ok(Verdict::Keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_like_python() {
        assert_eq!(py_replace("aaa", "a", "b", 1), "baa");
        assert_eq!(py_replace("aaa", "a", "b", -1), "bbb");
        assert_eq!(py_replace("ab", "", "-", -1), "-a-b-");
        assert_eq!(py_replace("ab", "", "-", 2), "-a-b");
    }

    #[test]
    fn strip_replace_split() {
        let mut p = Params::new();
        p.insert("strip_columns".into(), "malware.name,extra.abuse".into());
        p.insert("replace_column".into(), "feed.url".into());
        p.insert("old_value".into(), "localhost".into());
        p.insert("new_value".into(), "127.0.0.1".into());
        p.insert("split_column".into(), "extra.tags".into());
        let mut e = build(&p).unwrap();
        let mut ev = Message::event();
        ev.add("malware.name", " cryptowall ").unwrap();
        ev.add("extra.abuse", " abuse@iana.org").unwrap();
        ev.add("feed.url", "http://localhost/a.php").unwrap();
        ev.add("extra.tags", "ddos,elf").unwrap();
        e.process(&mut ev).unwrap();
        assert_eq!(ev.get_str("malware.name"), Some("cryptowall"));
        assert_eq!(ev.get_str("extra.abuse"), Some("abuse@iana.org"));
        assert_eq!(ev.get_str("feed.url"), Some("http://127.0.0.1/a.php"));
        assert_eq!(
            ev.get("extra.tags"),
            Some(&serde_json::json!(["ddos", "elf"]))
        );
    }
}
