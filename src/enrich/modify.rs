//! modify: rule-based rewriting of fields with IntelMQ's modify configuration
//! format (IntelMQ `intelmq.bots.experts.modify.expert`): a JSON list of
//! `{"rulename": ..., "if": {field: condition}, "then": {field: value}}`.
//!
//! A condition is a regular expression searched in the field's text (numbers and
//! booleans as Python prints them), `""` for "field absent", or any other JSON
//! value compared for equality. A `then` value that is text is a Python format
//! string over `msg[field]` and `matches[field][group]`.

use super::{Expert, Params, Verdict};
use crate::message::Message;
use crate::params;
use crate::pipeline::Fail;
use crate::pyfmt::{py_repr, py_str};
use anyhow::{bail, Context};
use regex::{Regex, RegexBuilder};
use serde_json::Value;

pub const DEFAULT_CONFIG: &str = "/var/lib/intelmq/bots/modify/modify.conf";

enum Cond {
    Absent,
    Regex(Regex),
    Equals(Value),
}

#[derive(Clone, Copy)]
enum Conv {
    Str,
    Repr,
}

enum GroupRef {
    Index(usize),
    Name(String),
}

enum Piece {
    Lit(String),
    Msg(String, Conv),
    Group(String, GroupRef, Conv),
}

enum Action {
    Format(Vec<Piece>),
    Value(Value),
}

struct Rule {
    name: String,
    conds: Vec<(String, Cond)>,
    actions: Vec<(String, Action)>,
}

pub struct Modify {
    rules: Vec<Rule>,
    overwrite: bool,
    maximum_matches: Option<u64>,
}

/// Parse a Python `str.format` template with the fields this expert supports.
fn parse_format(s: &str) -> anyhow::Result<Vec<Piece>> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                lit.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                lit.push('}');
            }
            '}' => bail!("single '}}' encountered in format string {s:?}"),
            '{' => {
                let mut field = String::new();
                let mut depth = 0;
                loop {
                    match chars.next() {
                        None => bail!("expected '}}' before end of string in {s:?}"),
                        Some('[') => {
                            depth += 1;
                            field.push('[');
                        }
                        Some(']') => {
                            depth -= 1;
                            field.push(']');
                        }
                        Some('}') if depth == 0 => break,
                        Some(c) => field.push(c),
                    }
                }
                if !lit.is_empty() {
                    out.push(Piece::Lit(std::mem::take(&mut lit)));
                }
                out.push(parse_field(&field, s)?);
            }
            c => lit.push(c),
        }
    }
    if !lit.is_empty() {
        out.push(Piece::Lit(lit));
    }
    Ok(out)
}

fn parse_field(field: &str, whole: &str) -> anyhow::Result<Piece> {
    // conversion and format spec come after the last ']'
    let tail_from = field.rfind(']').map_or(0, |i| i + 1);
    let (mut body, mut tail) = field.split_at(tail_from);
    if tail_from == 0 {
        body = field;
        tail = "";
        if let Some(i) = field.find(['!', ':']) {
            body = &field[..i];
            tail = &field[i..];
        }
    }
    let conv = match tail {
        "" | "!s" => Conv::Str,
        "!r" => Conv::Repr,
        _ => bail!("format string {whole:?}: conversion or format spec {tail:?} is not supported"),
    };
    let (name, rest) = body.split_at(body.find('[').unwrap_or(body.len()));
    let mut keys = Vec::new();
    let mut rest = rest;
    while let Some(r) = rest.strip_prefix('[') {
        let end = r
            .find(']')
            .with_context(|| format!("format string {whole:?}: missing ']'"))?;
        keys.push(&r[..end]);
        rest = &r[end + 1..];
    }
    if !rest.is_empty() {
        bail!("format string {whole:?}: unsupported field {field:?}");
    }
    match (name, keys.as_slice()) {
        ("msg", [k]) => Ok(Piece::Msg(k.to_string(), conv)),
        ("matches", [k, g]) => {
            let g = match g.parse::<usize>() {
                Ok(i) => GroupRef::Index(i),
                Err(_) => GroupRef::Name(g.to_string()),
            };
            Ok(Piece::Group(k.to_string(), g, conv))
        }
        _ => bail!(
            "format string {whole:?}: field {field:?} is not msg[FIELD] or matches[FIELD][GROUP]"
        ),
    }
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Expert>> {
    let path = params::string_or(p, "configuration_path", DEFAULT_CONFIG)?;
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading modify rules {path}"))?;
    let config: Value = serde_json::from_str(&text).with_context(|| format!("{path}: not JSON"))?;
    let case_sensitive = params::boolean(p, "case_sensitive", true)?;
    let Value::Array(rules_in) = config else {
        bail!("{path}: expected a list of rules");
    };
    let mut rules = Vec::new();
    for (i, r) in rules_in.iter().enumerate() {
        let name = r
            .get("rulename")
            .map(py_str)
            .unwrap_or_else(|| format!("#{i}"));
        let (Some(Value::Object(cond)), Some(Value::Object(then))) = (r.get("if"), r.get("then"))
        else {
            bail!("{path}: rule {name:?} needs objects 'if' and 'then'");
        };
        let mut conds = Vec::new();
        for (field, c) in cond {
            let c = match c {
                Value::String(s) if s.is_empty() => Cond::Absent,
                Value::String(s) => Cond::Regex(
                    RegexBuilder::new(s)
                        .case_insensitive(!case_sensitive)
                        .build()
                        .with_context(|| format!("{path}: rule {name:?}, field {field}"))?,
                ),
                other => Cond::Equals(other.clone()),
            };
            conds.push((field.clone(), c));
        }
        let mut actions = Vec::new();
        for (field, v) in then {
            let a = match v {
                Value::String(s) => Action::Format(
                    parse_format(s).with_context(|| format!("{path}: rule {name:?}"))?,
                ),
                other => Action::Value(other.clone()),
            };
            actions.push((field.clone(), a));
        }
        rules.push(Rule {
            name,
            conds,
            actions,
        });
    }
    let max = params::integer(p, "maximum_matches", 0)?;
    Ok(Box::new(Modify {
        rules,
        overwrite: params::boolean(p, "overwrite", true)?,
        maximum_matches: (max > 0).then_some(max as u64),
    }))
}

/// Python's `==` between JSON values: numbers and booleans compare numerically.
fn py_eq(a: &Value, b: &Value) -> bool {
    let num = |v: &Value| match v {
        Value::Bool(b) => Some(*b as i64 as f64),
        Value::Number(n) => n.as_f64(),
        _ => None,
    };
    match (num(a), num(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// Captured groups of one field's match, owned so the event can change meanwhile.
struct Captured {
    field: String,
    groups: Vec<Option<String>>,
    names: Vec<(String, usize)>,
}

impl Modify {
    fn matches(&self, rule: &Rule, ev: &Message) -> Result<Option<Vec<Captured>>, Fail> {
        let mut caps = Vec::new();
        for (field, cond) in &rule.conds {
            let value = ev.get(field);
            match (cond, value) {
                (Cond::Absent, None) => continue,
                (Cond::Absent, Some(_)) => return Ok(None),
                (_, None) => return Ok(None),
                (Cond::Equals(want), Some(v)) => {
                    if !py_eq(v, want) {
                        return Ok(None);
                    }
                }
                (Cond::Regex(re), Some(v)) => {
                    let text = match v {
                        Value::String(s) => std::borrow::Cow::Borrowed(s.as_str()),
                        Value::Number(_) | Value::Bool(_) => std::borrow::Cow::Owned(py_str(v)),
                        _ => {
                            return Err(Fail::Reject(format!(
                                "modify rule {:?}: field {field} is not text",
                                rule.name
                            )))
                        }
                    };
                    let Some(c) = re.captures(&text) else {
                        return Ok(None);
                    };
                    caps.push(Captured {
                        field: field.clone(),
                        groups: c
                            .iter()
                            .map(|m| m.map(|m| m.as_str().to_string()))
                            .collect(),
                        names: re
                            .capture_names()
                            .enumerate()
                            .filter_map(|(i, n)| n.map(|n| (n.to_string(), i)))
                            .collect(),
                    });
                }
            }
        }
        Ok(Some(caps))
    }

    fn render(pieces: &[Piece], ev: &Message, caps: &[Captured]) -> Result<String, Fail> {
        let conv = |v: &Value, c: Conv| match c {
            Conv::Str => py_str(v),
            Conv::Repr => py_repr(v),
        };
        let mut out = String::new();
        for p in pieces {
            match p {
                Piece::Lit(s) => out.push_str(s),
                Piece::Msg(k, c) => match ev.get(k) {
                    Some(v) => out.push_str(&conv(v, *c)),
                    None => return Err(Fail::Reject(format!("modify: KeyError {k:?}"))),
                },
                Piece::Group(k, g, c) => {
                    let cap = caps
                        .iter()
                        .find(|x| &x.field == k)
                        .ok_or_else(|| Fail::Reject(format!("modify: KeyError {k:?}")))?;
                    let i = match g {
                        GroupRef::Index(i) => Some(*i),
                        GroupRef::Name(n) => {
                            cap.names.iter().find(|(m, _)| m == n).map(|(_, i)| *i)
                        }
                    };
                    let Some(g) = i.and_then(|i| cap.groups.get(i)) else {
                        return Err(Fail::Reject(format!("modify: no such group in {k}")));
                    };
                    let v = g.clone().map_or(Value::Null, Value::String);
                    out.push_str(&conv(&v, *c));
                }
            }
        }
        Ok(out)
    }
}

impl Expert for Modify {
    fn process(&mut self, ev: &mut Message) -> Result<Verdict, Fail> {
        let mut n = 0u64;
        for rule in &self.rules {
            let Some(caps) = self.matches(rule, ev)? else {
                continue;
            };
            n += 1;
            for (field, action) in &rule.actions {
                let value = match action {
                    Action::Value(v) => v.clone(),
                    Action::Format(p) => Value::String(Self::render(p, ev, &caps)?),
                };
                params::add(ev, field, value, Some(self.overwrite))?;
            }
            if self.maximum_matches.is_some_and(|m| n >= m) {
                break;
            }
        }
        Ok(Verdict::Keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_strings() {
        assert!(parse_format("{msg[malware.name]}-{{x}}").is_ok());
        assert!(parse_format("{matches[malware.name][1]}").is_ok());
        assert!(parse_format("{other}").is_err());
        assert!(parse_format("{msg[a]:>10}").is_err());
        assert!(parse_format("{msg[a]").is_err());
    }

    #[test]
    fn python_equality() {
        assert!(py_eq(&Value::from(100.0), &Value::from(100)));
        assert!(py_eq(&Value::from(true), &Value::from(1)));
        assert!(!py_eq(&Value::from("1"), &Value::from(1)));
    }
}
