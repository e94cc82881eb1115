//! The one-liner expression language of `imq-filter 'EXPR'`.
//!
//! ```text
//! source.geolocation.cc == "AT" && classification.type in ["c2-server", "phishing"]
//! source.ip in 192.0.2.0/24 || !exists source.asn
//! time.source > now - 2d && feed.name =~ "^Abuse"
//! ```
//!
//! Conditions compile to the same [`Cond`] the sieve language uses, so both
//! share one evaluator and its IntelMQ semantics. docs/filter.md is the
//! reference for users.

use super::cond::{
    compile_regex, network, Cond, Field, Key, MultiOp, NumOp, Operand, Pattern, StrOp,
};
use super::value::{from_now, sieve_time, When};
use crate::harmonization::{harmonization, FieldType, MsgType};
use chrono::Duration;
use ipnetwork::IpNetwork;
use serde_json::Value;
use std::fmt;

/// A bad expression: the column (1-based, in characters) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub col: usize,
    pub msg: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.col, self.msg)
    }
}

impl std::error::Error for Error {}

impl Error {
    /// The message with the expression and a caret under the column.
    pub fn render(&self, expr: &str) -> String {
        let pad: String = " ".repeat(self.col.saturating_sub(1));
        format!("{self}\n  {expr}\n  {pad}^")
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Str(String),
    Num(Value),
    Word(String),
    Net(IpNetwork),
    /// `None`: too long for a duration.
    Dur(Option<Duration>),
    Op(&'static str),
    End,
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Str(s) => write!(f, "{s:?}"),
            Tok::Num(n) => write!(f, "{n}"),
            Tok::Word(w) => write!(f, "'{w}'"),
            Tok::Net(n) => write!(f, "{n}"),
            Tok::Dur(_) => write!(f, "a duration"),
            Tok::Op(o) => write!(f, "'{o}'"),
            Tok::End => write!(f, "the end"),
        }
    }
}

const OPS: [&str; 16] = [
    "==", "!=", "<=", ">=", "=~", "!~", "&&", "||", "<", ">", "!", "(", ")", "[", "]", ",",
];

fn lex(src: &str) -> Result<Vec<(usize, Tok)>, Error> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let col = i + 1;
        if c == '"' || c == '\'' {
            let mut s = String::new();
            let mut j = i + 1;
            loop {
                let Some(&d) = chars.get(j) else {
                    return Err(Error {
                        col,
                        msg: "unterminated string".into(),
                    });
                };
                if d == c {
                    break;
                }
                if d == '\\' {
                    j += 1;
                    let e = chars.get(j).copied().ok_or(Error {
                        col,
                        msg: "unterminated string".into(),
                    })?;
                    match e {
                        'n' => s.push('\n'),
                        't' => s.push('\t'),
                        // Anything else stays escaped, so regexes keep `\d`, `\.`.
                        x if x == c || x == '\\' => s.push(x),
                        x => {
                            s.push('\\');
                            s.push(x);
                        }
                    }
                } else {
                    s.push(d);
                }
                j += 1;
            }
            out.push((col, Tok::Str(s)));
            i = j + 1;
            continue;
        }
        if let Some(op) = OPS.iter().find(|o| {
            let o: Vec<char> = o.chars().collect();
            chars[i..].starts_with(&o)
        }) {
            out.push((col, Tok::Op(op)));
            i += op.chars().count();
            continue;
        }
        if c == '+' || c == '-' {
            // A sign: part of a number when a digit follows and no value precedes.
            let value_before = matches!(
                out.last(),
                Some((
                    _,
                    Tok::Num(_) | Tok::Word(_) | Tok::Str(_) | Tok::Net(_) | Tok::Dur(_)
                )) | Some((_, Tok::Op(")" | "]")))
            );
            if value_before || !chars.get(i + 1).is_some_and(char::is_ascii_digit) {
                out.push((col, Tok::Op(if c == '+' { "+" } else { "-" })));
                i += 1;
                continue;
            }
        }
        let word_char =
            |c: char| c.is_alphanumeric() || matches!(c, '_' | '.' | ':' | '/' | '+' | '-');
        if word_char(c) {
            let mut j = i + 1;
            while j < chars.len() && word_char(chars[j]) && !matches!(chars[j], '+' | '-') {
                j += 1;
            }
            let w: String = chars[i..j].iter().collect();
            out.push((
                col,
                word_token(&w).ok_or(Error {
                    col,
                    msg: format!("cannot read {w:?}"),
                })?,
            ));
            i = j;
            continue;
        }
        return Err(Error {
            col,
            msg: format!("unexpected character {c:?}"),
        });
    }
    out.push((chars.len() + 1, Tok::End));
    Ok(out)
}

/// A run of word characters: a number, a duration, an address or network, or
/// a name (field or keyword).
fn word_token(w: &str) -> Option<Tok> {
    let digits = w.trim_start_matches(['+', '-']);
    if digits.starts_with(|c: char| c.is_ascii_digit()) {
        if let Ok(i) = w.parse::<i64>() {
            return Some(Tok::Num(Value::from(i)));
        }
        if let Some(unit) = w.strip_prefix(|_| false).or(Some(w)) {
            let n = unit.trim_end_matches(|c: char| c.is_ascii_alphabetic());
            let u = &unit[n.len()..];
            if let (Ok(n), false) = (n.parse::<i64>(), u.is_empty()) {
                let d = match u {
                    "s" => Duration::try_seconds(n),
                    "m" | "min" => Duration::try_minutes(n),
                    "h" => Duration::try_hours(n),
                    "d" => Duration::try_days(n),
                    "w" => Duration::try_weeks(n),
                    _ => return None,
                };
                // Too long for a duration at all: said where it is used.
                return Some(Tok::Dur(d));
            }
        }
        if w.contains(['/', ':']) || w.matches('.').count() == 3 {
            return network(w).map(Tok::Net);
        }
        if let Ok(f) = w.parse::<f64>() {
            return serde_json::Number::from_f64(f).map(|n| Tok::Num(Value::Number(n)));
        }
        return None;
    }
    if w.contains(':') {
        return network(w).map(Tok::Net);
    }
    Some(Tok::Word(w.to_string()))
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    i: usize,
    /// Parentheses and negations open around the current token.
    depth: usize,
}

/// Deepest nesting of parentheses and negations: the parser and the evaluator
/// recurse once per level, and a thread's stack is finite.
pub const MAX_NESTING: usize = 200;

/// The right-hand side of a comparison.
enum Rhs {
    Str(String),
    Num(Value),
    Bool(bool),
    Net(IpNetwork),
    Time(When),
    List(Vec<(usize, Rhs)>),
}

fn is_keyword(w: &str) -> bool {
    matches!(
        w,
        "and" | "or" | "not" | "in" | "exists" | "contains" | "matches" | "now" | "true" | "false"
    )
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.i].1
    }

    fn col(&self) -> usize {
        self.toks[self.i].0
    }

    fn next(&mut self) -> (usize, Tok) {
        let t = self.toks[self.i].clone();
        if self.i + 1 < self.toks.len() {
            self.i += 1;
        }
        t
    }

    fn err<T>(&self, msg: impl Into<String>) -> Result<T, Error> {
        Err(Error {
            col: self.col(),
            msg: format!("{}, found {}", msg.into(), self.peek()),
        })
    }

    fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Tok::Op(o) if *o == op)
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Tok::Word(x) if x == w)
    }

    fn or(&mut self) -> Result<Cond, Error> {
        let mut v = vec![self.and()?];
        while self.is_op("||") || self.is_word("or") {
            self.next();
            v.push(self.and()?);
        }
        Ok(if v.len() == 1 {
            v.pop().expect("one")
        } else {
            Cond::Or(v)
        })
    }

    fn and(&mut self) -> Result<Cond, Error> {
        let mut v = vec![self.unary()?];
        while self.is_op("&&") || self.is_word("and") {
            self.next();
            v.push(self.unary()?);
        }
        Ok(if v.len() == 1 {
            v.pop().expect("one")
        } else {
            Cond::And(v)
        })
    }

    fn unary(&mut self) -> Result<Cond, Error> {
        let negation = self.is_op("!") || self.is_word("not");
        if negation || self.is_op("(") {
            if self.depth == MAX_NESTING {
                return Err(Error {
                    col: self.col(),
                    msg: format!(
                        "nested too deeply (more than {MAX_NESTING} parentheses and negations)"
                    ),
                });
            }
            self.depth += 1;
            self.next();
            let c = if negation {
                Cond::Not(Box::new(self.unary()?))
            } else {
                let c = self.or()?;
                if !self.is_op(")") {
                    return self.err("expected ')'");
                }
                self.next();
                c
            };
            self.depth -= 1;
            return Ok(c);
        }
        if self.is_word("exists") {
            self.next();
            let f = self.field()?;
            return Ok(Cond::Exists(Key::Field(Field::new(&f))));
        }
        self.comparison()
    }

    fn field(&mut self) -> Result<String, Error> {
        let col = self.col();
        match self.peek().clone() {
            Tok::Word(w) if !is_keyword(&w) => {
                let ok = w.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                    && !w.contains(['/', ':']);
                if !ok {
                    return self.err("expected a field name");
                }
                self.next();
                Ok(w)
            }
            _ => self.err("expected a field name"),
        }
        .and_then(|w| {
            // A typo in a field name would match nothing, silently: refused
            // here, with the fields that come close (`extra.*` stays free).
            match crate::names::check_field(MsgType::Event, &w) {
                Ok(()) => Ok(w),
                Err(msg) => Err(Error { col, msg }),
            }
        })
    }

    fn comparison(&mut self) -> Result<Cond, Error> {
        let field = self.field()?;
        let fld = Field::new(&field);
        let key = || Key::Field(fld.clone());
        let op_col = self.col();
        let negate_in = self.is_word("not");
        if negate_in {
            self.next();
            if !self.is_word("in") {
                return self.err("expected 'in' after 'not'");
            }
        }
        let op = match self.peek().clone() {
            Tok::Op(o @ ("==" | "!=" | "<" | "<=" | ">" | ">=" | "=~" | "!~")) => o,
            Tok::Word(w) if w == "exists" => {
                self.next();
                return Ok(Cond::Exists(key()));
            }
            Tok::Word(w) if w == "in" => "in",
            Tok::Word(w) if w == "contains" => "contains",
            Tok::Word(w) if w == "matches" => "=~",
            _ => {
                return self.err(
                    "expected an operator (==, !=, <, <=, >, >=, =~, !~, in, contains, matches, exists)",
                )
            }
        };
        self.next();
        let rhs_col = self.col();
        let rhs = self.value()?;
        let bad = |what: &str| -> Result<Cond, Error> {
            Err(Error {
                col: rhs_col,
                msg: format!("'{op}' cannot compare with {what}"),
            })
        };
        let is_time_field = matches!(
            harmonization().lookup(MsgType::Event, &field),
            Some((spec, false)) if spec.ty == FieldType::DateTime
        );
        let cond = match (op, rhs) {
            ("==" | "!=", Rhs::Str(s)) => Cond::Str {
                key: key(),
                op: if op == "==" { StrOp::Eq } else { StrOp::Ne },
                value: Pattern::lit(Value::String(s)),
            },
            ("==" | "!=" | "<" | "<=" | ">" | ">=", Rhs::Num(n)) => Cond::Num {
                key: key(),
                op: num_op(op),
                value: Pattern::lit(n),
            },
            ("==" | "!=", Rhs::Bool(b)) => Cond::Bool {
                key: key(),
                eq: op == "==",
                value: Operand::Lit(Value::Bool(b)),
            },
            ("==", Rhs::Net(n)) => Cond::Ip {
                key: key(),
                nets: vec![n],
            },
            ("!=", Rhs::Net(n)) => Cond::Not(Box::new(Cond::Ip {
                key: key(),
                nets: vec![n],
            })),
            ("<" | "<=" | ">" | ">=" | "==" | "!=", Rhs::Time(w)) => Cond::Time {
                key: key(),
                op: num_op(op),
                when: Ok(w),
                var: None,
            },
            ("<" | "<=" | ">" | ">=", Rhs::Str(s)) if is_time_field => {
                let when = sieve_time(&s).map_err(|e| Error {
                    col: rhs_col,
                    msg: e,
                })?;
                Cond::Time {
                    key: key(),
                    op: num_op(op),
                    when: Ok(when),
                    var: None,
                }
            }
            ("<" | "<=" | ">" | ">=", Rhs::Str(s)) => Cond::Str {
                key: key(),
                op: match op {
                    "<" => StrOp::Lt,
                    "<=" => StrOp::Le,
                    ">" => StrOp::Gt,
                    _ => StrOp::Ge,
                },
                value: Pattern::lit(Value::String(s)),
            },
            ("=~" | "!~", Rhs::Str(s)) => Cond::Str {
                key: key(),
                op: if op == "=~" {
                    StrOp::Match
                } else {
                    StrOp::NotMatch
                },
                value: Pattern {
                    re: Some(compile_regex(&s).map_err(|e| Error {
                        col: rhs_col,
                        msg: e,
                    })?),
                    value: Operand::Lit(Value::String(s)),
                },
            },
            ("contains", Rhs::Str(s)) => Cond::Str {
                key: key(),
                op: StrOp::Has,
                value: Pattern::lit(Value::String(s)),
            },
            ("contains", Rhs::Num(n)) => Cond::Str {
                key: key(),
                op: StrOp::Has,
                value: Pattern::lit(n),
            },
            ("in", Rhs::Net(n)) => Cond::Ip {
                key: key(),
                nets: vec![n],
            },
            ("in", Rhs::List(items)) => in_list(key(), items)?,
            ("in", _) => return bad("this value (use a list [...] or a network)"),
            (_, Rhs::List(_)) => return bad("a list (use 'in')"),
            (_, Rhs::Net(_)) => return bad("a network (use 'in' or '==')"),
            (_, Rhs::Time(_)) => return bad("a time"),
            (_, Rhs::Bool(_)) => return bad("a boolean"),
            (_, Rhs::Num(_)) => return bad("a number"),
            (_, Rhs::Str(_)) => {
                return Err(Error {
                    col: op_col,
                    msg: format!("'{op}' needs another kind of value"),
                })
            }
        };
        Ok(if negate_in {
            Cond::Not(Box::new(cond))
        } else {
            cond
        })
    }

    fn value(&mut self) -> Result<Rhs, Error> {
        let (col, t) = self.next();
        Ok(match t {
            Tok::Str(s) => Rhs::Str(s),
            Tok::Num(n) => Rhs::Num(n),
            Tok::Net(n) => Rhs::Net(n),
            Tok::Word(w) if w == "true" || w == "false" => Rhs::Bool(w == "true"),
            Tok::Word(w) if w == "now" => {
                let sign = if self.is_op("-") {
                    -1
                } else if self.is_op("+") {
                    1
                } else {
                    return Ok(Rhs::Time(When::FromNow(Duration::zero())));
                };
                self.next();
                match self.next() {
                    (at, Tok::Dur(d)) => {
                        let d = d.map(|d| if sign < 0 { -d } else { d });
                        match d
                            .ok_or_else(|| "time span out of range".to_string())
                            .and_then(from_now)
                        {
                            Ok(w) => Rhs::Time(w),
                            Err(e) => return Err(Error { col: at, msg: e }),
                        }
                    }
                    _ => {
                        self.i -= 1;
                        return self.err("expected a duration such as 2d, 12h, 30m, 45s or 1w");
                    }
                }
            }
            Tok::Op("[") => {
                let mut items = Vec::new();
                if self.is_op("]") {
                    self.next();
                    return Ok(Rhs::List(items));
                }
                loop {
                    let c = self.col();
                    let v = self.value()?;
                    if matches!(v, Rhs::List(_)) {
                        return Err(Error {
                            col: c,
                            msg: "lists cannot be nested".into(),
                        });
                    }
                    items.push((c, v));
                    if self.is_op(",") {
                        self.next();
                        continue;
                    }
                    if self.is_op("]") {
                        self.next();
                        break;
                    }
                    return self.err("expected ',' or ']'");
                }
                Rhs::List(items)
            }
            _ => {
                self.i -= usize::from(self.i > 0 && col == self.toks[self.i - 1].0);
                return Err(Error {
                    col,
                    msg: format!(
                        "expected a value (string, number, network, list, now), found {t}"
                    ),
                });
            }
        })
    }
}

fn num_op(op: &str) -> NumOp {
    match op {
        "==" => NumOp::Eq,
        "!=" => NumOp::Ne,
        "<" => NumOp::Lt,
        "<=" => NumOp::Le,
        ">" => NumOp::Gt,
        _ => NumOp::Ge,
    }
}

fn in_list(key: Key, items: Vec<(usize, Rhs)>) -> Result<Cond, Error> {
    if !items.is_empty() && items.iter().all(|(_, r)| matches!(r, Rhs::Net(_))) {
        let nets = items
            .into_iter()
            .filter_map(|(_, r)| match r {
                Rhs::Net(n) => Some(n),
                _ => None,
            })
            .collect();
        return Ok(Cond::Ip { key, nets });
    }
    if items.iter().all(|(_, r)| matches!(r, Rhs::Str(_))) {
        let values = items
            .into_iter()
            .filter_map(|(_, r)| match r {
                Rhs::Str(s) => Some(Pattern::lit(Value::String(s))),
                _ => None,
            })
            .collect();
        return Ok(Cond::Multi {
            key,
            op: MultiOp::In,
            values,
        });
    }
    let mut values = Vec::new();
    for (col, r) in items {
        values.push(match r {
            Rhs::Str(s) => Value::String(s),
            Rhs::Num(n) => n,
            Rhs::Bool(b) => Value::Bool(b),
            Rhs::Net(n) if n.prefix() == if n.is_ipv4() { 32 } else { 128 } => {
                Value::String(n.ip().to_string())
            }
            _ => {
                return Err(Error {
                    col,
                    msg: "a list mixing networks or times with other values".into(),
                })
            }
        });
    }
    Ok(Cond::ValueIn { key, values })
}

/// Compile an expression.
pub fn compile(src: &str) -> Result<Cond, Error> {
    let toks = lex(src)?;
    let mut p = Parser {
        toks,
        i: 0,
        depth: 0,
    };
    if matches!(p.peek(), Tok::End) {
        return p.err("expected an expression");
    }
    let c = p.or()?;
    if !matches!(p.peek(), Tok::End) {
        return p.err("expected '&&', '||' or the end of the expression");
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::cond::Vars;
    use crate::message::Message;

    fn ev() -> Message {
        Message::from_json(
            br#"{"source.ip":"192.0.2.7","source.asn":64496,"source.geolocation.cc":"AT","classification.type":"phishing","extra.tags":["a","b"],"extra.ok":true,"time.source":"2020-01-01T00:00:00+00:00","feed.name":"Abuse.ch"}"#,
            MsgType::Event,
        )
        .unwrap()
    }

    fn t(src: &str) -> bool {
        compile(src)
            .unwrap_or_else(|e| panic!("{}", e.render(src)))
            .eval(&ev(), &Vars::new(), &mut Default::default())
            .unwrap()
    }

    fn e(src: &str) -> String {
        compile(src).unwrap_err().to_string()
    }

    #[test]
    fn comparisons() {
        assert!(t(
            r#"source.geolocation.cc == "AT" && classification.type in ["c2-server", "phishing"]"#
        ));
        assert!(t(r#"source.geolocation.cc != 'DE'"#));
        assert!(t(
            "source.asn == 64496 && source.asn >= 64496 && source.asn < 65000"
        ));
        assert!(!t("source.asn > 64496"));
        assert!(t("source.asn in [1, 64496]"));
        assert!(t("source.asn not in [1, 2]"));
        assert!(t(
            r#"feed.name =~ "^abuse\.ch$" || feed.name matches "^Abuse\.""#
        ));
        assert!(t(r#"feed.name !~ "x""#));
        assert!(t(r#"feed.name contains "use" && extra.tags contains "b""#));
        assert!(t("extra.ok == true && extra.ok != false"));
        assert!(t(r#"classification.type > "a""#));
    }

    #[test]
    fn exists_not_parens() {
        assert!(t("exists source.ip && source.ip exists"));
        assert!(t("!exists source.fqdn && not exists source.url"));
        assert!(t("!(source.asn == 1 || source.asn == 2)"));
        assert!(t(
            "source.asn == 1 || source.asn == 64496 && exists source.ip"
        ));
        assert!(t(
            "source.asn == 1 or source.asn == 64496 and not source.asn == 3"
        ));
    }

    #[test]
    fn networks_and_times() {
        assert!(t("source.ip in 192.0.2.0/24"));
        assert!(t("source.ip == 192.0.2.7 && source.ip != 192.0.2.8"));
        assert!(t("source.ip in [10.0.0.0/8, 192.0.2.0/25]"));
        assert!(!t("source.ip in 2001:db8::/32"));
        assert!(t("time.source < now - 2d && time.source > now-100000d"));
        assert!(t(
            r#"time.source > "2019-12-31" && time.source < "2020-01-02T00:00:00+00:00""#
        ));
        assert!(t(r#"time.source < "2 days""#));
        assert!(!t("time.source > now"));
    }

    #[test]
    fn errors_have_columns() {
        assert_eq!(
            e("source.ip =="),
            "column 13: expected a value (string, number, network, list, now), found the end"
        );
        assert_eq!(e("source.ip = 1"), "column 11: unexpected character '='");
        assert!(e("extra.a == 1 b").starts_with("column 14: expected '&&'"));
        assert!(e("(extra.a == 1").starts_with("column 14: expected ')'"));
        assert!(e(r#"extra.a =~ "(""#).starts_with("column 12: invalid regular expression"));
        assert!(e(r#"extra.a == "x"#).starts_with("column 12: unterminated string"));
        assert!(e("extra.a in 5").starts_with("column 12: 'in' cannot compare"));
        assert!(e("source.port > 1 || exists sorce.ip")
            .starts_with("column 27: unknown field \"sorce.ip\"; did you mean \"source.ip\""));
        assert!(
            e("time.source > now - 2y").starts_with("column 21:"),
            "{}",
            e("time.source > now - 2y")
        );
        assert!(e("").starts_with("column 1: expected an expression"));
        assert!(e("== 1").starts_with("column 1: expected a field name"));
        let r = compile("source.ip ==").unwrap_err().render("source.ip ==");
        assert!(r.ends_with("\n  source.ip ==\n              ^"), "{r}");
    }
}
