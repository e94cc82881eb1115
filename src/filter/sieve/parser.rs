//! The sieve grammar (IntelMQ's `sieve.tx`) as a recursive-descent parser with
//! the PEG semantics of textX: alternatives are tried in the grammar's order,
//! white space and comments (`#` or `//` to the end of the line) are skipped
//! between tokens, and a syntax error is reported at the furthest position any
//! alternative reached, with what was expected there.
//!
//! The checks IntelMQ runs on the parsed model are done here too: IP
//! addresses compared with IP fields, networks of `<<`, and the field types
//! of numeric comparisons.

use super::{Action, Assign, Sieve, Statement};
use crate::filter::cond::{
    network, Cond, Field, Key, ListOp, MultiOp, NumOp, Operand, Pattern, StrOp,
};
use crate::filter::value::{relative_span, sieve_time};
use crate::harmonization::{harmonization, FieldType, MsgType};
use serde_json::Value;
use std::fmt;

/// A parse error at a position of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub line: usize,
    pub col: usize,
    pub msg: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.col, self.msg)
    }
}

impl std::error::Error for Error {}

/// Parse a sieve file's text.
pub fn parse(text: &str) -> Result<Sieve, Error> {
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        pos: 0,
        far: 0,
        expected: Vec::new(),
        depth: 0,
        unknown: None,
    };
    let mut statements = Vec::new();
    loop {
        p.ws();
        if p.pos >= p.s.len() {
            break;
        }
        match p.statement()? {
            Some(s) => statements.push(s),
            None => return Err(p.syntax_error()),
        }
    }
    if let Some(e) = p.unknown {
        return Err(e);
    }
    Ok(Sieve::new(statements))
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
    /// The furthest position a token was expected at, and what.
    far: usize,
    expected: Vec<&'static str>,
    /// Blocks and parentheses open around the current position.
    depth: usize,
    /// The first key that is no field (see `note_unknown`).
    unknown: Option<Error>,
}

/// Deepest nesting of blocks and parenthesized conditions: parsing and running
/// a sieve recurse once per level, and a thread's stack is finite.
const MAX_NESTING: usize = 200;

type PResult<T> = Result<Option<T>, Error>;

/// Field types a numeric comparison accepts (IntelMQ's validate_numeric_match).
const NUMERIC_TYPES: [FieldType; 4] = [
    FieldType::Integer,
    FieldType::Float,
    FieldType::Accuracy,
    FieldType::Asn,
];

impl<'a> Parser<'a> {
    fn at(&self, pos: usize) -> (usize, usize) {
        let before = &self.text[..pos.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
        (line, col)
    }

    fn error_at(&self, pos: usize, msg: String) -> Error {
        let (line, col) = self.at(pos);
        Error { line, col, msg }
    }

    fn syntax_error(&self) -> Error {
        let mut exp = self.expected.clone();
        exp.sort_unstable();
        exp.dedup();
        let found = match self.text[self.far.min(self.text.len())..].chars().next() {
            None => "end of file".to_string(),
            Some(_) => {
                let rest = &self.text[self.far..];
                let word: String = rest
                    .chars()
                    .take_while(|c| !c.is_whitespace())
                    .take(20)
                    .collect();
                format!("{word:?}")
            }
        };
        self.error_at(
            self.far,
            format!(
                "syntax error: expected {} but found {found}",
                exp.join(" or ")
            ),
        )
    }

    fn expect(&mut self, what: &'static str) {
        if self.pos > self.far {
            self.far = self.pos;
            self.expected.clear();
        }
        if self.pos == self.far {
            self.expected.push(what);
        }
    }

    /// Skip white space and comments.
    fn ws(&mut self) {
        loop {
            while self.pos < self.s.len()
                && matches!(self.s[self.pos], b' ' | b'\t' | b'\n' | b'\r')
            {
                self.pos += 1;
            }
            let rest = &self.s[self.pos..];
            if rest.starts_with(b"#") || rest.starts_with(b"//") {
                while self.pos < self.s.len() && self.s[self.pos] != b'\n' {
                    self.pos += 1;
                }
                continue;
            }
            break;
        }
    }

    /// A literal token.
    fn lit(&mut self, t: &'static str) -> bool {
        self.ws();
        if self.s[self.pos..].starts_with(t.as_bytes()) {
            self.pos += t.len();
            true
        } else {
            self.expect(t);
            false
        }
    }

    /// The first of these literals that matches.
    fn one_of(&mut self, ts: &[&'static str]) -> Option<&'static str> {
        ts.iter().copied().find(|t| self.lit(t))
    }

    /// A run of bytes of a class (at least one).
    fn span(&mut self, what: &'static str, ok: impl Fn(u8) -> bool) -> Option<&'a str> {
        self.ws();
        let start = self.pos;
        let mut end = start;
        while end < self.s.len() && ok(self.s[end]) {
            end += 1;
        }
        if end == start {
            self.expect(what);
            return None;
        }
        self.pos = end;
        Some(&self.text[start..end])
    }

    fn key_literal(&mut self) -> Option<String> {
        self.span("a key", |c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_' || c == b'.'
        })
        .map(str::to_string)
    }

    fn variable(&mut self) -> Option<String> {
        self.ws();
        let start = self.pos;
        if self.s.get(start) != Some(&b'$') {
            self.expect("a variable");
            return None;
        }
        let mut end = start + 1;
        while end < self.s.len()
            && (self.s[end].is_ascii_lowercase()
                || self.s[end].is_ascii_digit()
                || self.s[end] == b'_')
        {
            end += 1;
        }
        if end == start + 1 {
            self.expect("a variable");
            return None;
        }
        self.pos = end;
        Some(self.text[start..end].to_string())
    }

    fn key(&mut self) -> Option<Key> {
        self.ws();
        let at = self.pos;
        if let Some(k) = self.key_literal() {
            self.note_unknown(at, &k);
            return Some(Key::Field(Field::new(&k)));
        }
        self.variable().map(Key::Var)
    }

    /// Remember a key that is no field of the data format: a typo would match
    /// nothing, silently. Only keys are read where a key is taken (after an
    /// `if`, an action's keyword or `$var =`), so what is noted here while the
    /// parser tries one rule and then another is a key of the text either way.
    fn note_unknown(&mut self, at: usize, key: &str) {
        if self.unknown.is_none() {
            if let Err(msg) = crate::names::check_field(MsgType::Event, key) {
                self.unknown = Some(self.error_at(at, msg));
            }
        }
    }

    /// A quoted string (textX STRING): only `\"` and `\'` are unescaped.
    fn string(&mut self) -> Option<(usize, String)> {
        self.ws();
        let start = self.pos;
        let Some(&q) = self.s.get(start) else {
            self.expect("a string");
            return None;
        };
        if q != b'"' && q != b'\'' {
            self.expect("a string");
            return None;
        }
        let mut i = start + 1;
        while i < self.s.len() {
            if self.s[i] == b'\\' && self.s.get(i + 1) == Some(&q) {
                i += 2;
                continue;
            }
            if self.s[i] == q {
                let body = &self.text[start + 1..i];
                self.pos = i + 1;
                let body = body.replace("\\\"", "\"").replace("\\'", "'");
                return Some((start, body));
            }
            i += 1;
        }
        self.expect("a string");
        None
    }

    /// textX STRICTFLOAT: a number with a dot or an exponent.
    fn strict_float(&mut self) -> Option<f64> {
        self.ws();
        let r = &self.s[self.pos..];
        let mut i = 0;
        if matches!(r.first(), Some(b'+' | b'-')) {
            i += 1;
        }
        let int_start = i;
        while i < r.len() && r[i].is_ascii_digit() {
            i += 1;
        }
        let int_digits = i - int_start;
        let mut dot = false;
        let mut frac_digits = 0;
        if r.get(i) == Some(&b'.') {
            dot = true;
            i += 1;
            while i < r.len() && r[i].is_ascii_digit() {
                i += 1;
                frac_digits += 1;
            }
        }
        if int_digits == 0 && frac_digits == 0 {
            self.expect("a number");
            return None;
        }
        let mut exp = false;
        if matches!(r.get(i), Some(b'e' | b'E')) {
            let mut j = i + 1;
            if matches!(r.get(j), Some(b'+' | b'-')) {
                j += 1;
            }
            let d = j;
            while j < r.len() && r[j].is_ascii_digit() {
                j += 1;
            }
            if j > d {
                exp = true;
                i = j;
            }
        }
        // Needs a dot or an exponent, and must not run into a word character.
        let next_ok = r
            .get(i)
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || *c == b'_' || *c == b'.'));
        if !(dot || exp) || !next_ok {
            self.expect("a number");
            return None;
        }
        let text = std::str::from_utf8(&r[..i]).ok()?;
        let v = text.parse::<f64>().ok()?;
        self.pos += i;
        Some(v)
    }

    /// textX INT.
    fn int(&mut self) -> Option<i64> {
        self.ws();
        let r = &self.s[self.pos..];
        let mut i = 0;
        if matches!(r.first(), Some(b'+' | b'-')) {
            i += 1;
        }
        let d = i;
        while i < r.len() && r[i].is_ascii_digit() {
            i += 1;
        }
        if i == d {
            self.expect("a number");
            return None;
        }
        let v = std::str::from_utf8(&r[..i]).ok()?.parse::<i64>().ok()?;
        self.pos += i;
        Some(v)
    }

    /// textX BOOL: `true`, `false` (any case of the first letter), `0`, `1`.
    fn boolean(&mut self) -> Option<bool> {
        self.ws();
        let r = &self.s[self.pos..];
        for (t, v) in [
            ("True", true),
            ("true", true),
            ("False", false),
            ("false", false),
            ("0", false),
            ("1", true),
        ] {
            if r.starts_with(t.as_bytes()) {
                let next = r.get(t.len());
                if next.is_none_or(|c| !(c.is_ascii_alphanumeric() || *c == b'_')) {
                    self.pos += t.len();
                    return Some(v);
                }
            }
        }
        self.expect("true or false");
        None
    }

    /// NUMBER: STRICTFLOAT | INT, as a JSON number.
    fn number(&mut self) -> Option<Value> {
        if let Some(f) = self.strict_float() {
            return serde_json::Number::from_f64(f).map(Value::Number);
        }
        self.int().map(Value::from)
    }

    /// TypedValue: STRICTFLOAT | INT | BOOL | STRING | Variable.
    fn typed_value(&mut self) -> Option<Operand> {
        if let Some(n) = self.number() {
            return Some(Operand::Lit(n));
        }
        if let Some(b) = self.boolean() {
            return Some(Operand::Lit(Value::Bool(b)));
        }
        if let Some((_, s)) = self.string() {
            return Some(Operand::Lit(Value::String(s)));
        }
        self.variable().map(Operand::Var)
    }

    /// `[` item (`,` item)* `]`, with at least one item unless `empty_ok`.
    fn list<T>(
        &mut self,
        empty_ok: bool,
        mut item: impl FnMut(&mut Self) -> PResult<T>,
    ) -> PResult<Vec<T>> {
        let start = self.pos;
        if !self.lit("[") {
            return Ok(None);
        }
        let mut out = Vec::new();
        match item(self)? {
            Some(v) => out.push(v),
            None if empty_ok => {}
            None => {
                self.pos = start;
                return Ok(None);
            }
        }
        if !out.is_empty() {
            while self.lit(",") {
                match item(self)? {
                    Some(v) => out.push(v),
                    None => {
                        self.pos = start;
                        return Ok(None);
                    }
                }
            }
        }
        if !self.lit("]") {
            self.pos = start;
            return Ok(None);
        }
        Ok(Some(out))
    }

    /// SingleStringValue: STRING | Variable, with its position.
    fn string_value(&mut self) -> Option<(usize, Operand)> {
        if let Some((at, s)) = self.string() {
            return Some((at, Operand::Lit(Value::String(s))));
        }
        self.ws();
        let at = self.pos;
        self.variable().map(|v| (at, Operand::Var(v)))
    }

    fn statement(&mut self) -> PResult<Statement> {
        let start = self.pos;
        if let Some(a) = self.action()? {
            return Ok(Some(Statement::Action(a)));
        }
        self.pos = start;
        self.branching()
    }

    fn block(&mut self) -> PResult<Vec<Statement>> {
        if !self.lit("{") {
            return Ok(None);
        }
        self.enter(self.pos - 1)?;
        let mut out = Vec::new();
        let body = loop {
            if self.lit("}") {
                break Some(out);
            }
            match self.statement()? {
                Some(s) => out.push(s),
                None => break None,
            }
        };
        self.depth -= 1;
        Ok(body)
    }

    /// One level deeper (a block or parentheses opened at `at`).
    fn enter(&mut self, at: usize) -> Result<(), Error> {
        if self.depth == MAX_NESTING {
            return Err(self.error_at(
                at,
                format!("nested too deeply (more than {MAX_NESTING} blocks and parentheses)"),
            ));
        }
        self.depth += 1;
        Ok(())
    }

    fn branching(&mut self) -> PResult<Statement> {
        if !self.lit("if") {
            return Ok(None);
        }
        let mut clauses = Vec::new();
        let Some(c) = self.expression()? else {
            return Ok(None);
        };
        let Some(body) = self.block()? else {
            return Ok(None);
        };
        clauses.push((c, body));
        loop {
            let save = self.pos;
            if !self.lit("elif") {
                break;
            }
            let Some(c) = self.expression()? else {
                self.pos = save;
                return Ok(None);
            };
            match self.block()? {
                Some(body) => clauses.push((c, body)),
                None => return Ok(None),
            }
        }
        let save = self.pos;
        let otherwise = if self.lit("else") {
            match self.block()? {
                Some(b) => Some(b),
                None => {
                    self.pos = save;
                    return Ok(None);
                }
            }
        } else {
            None
        };
        Ok(Some(Statement::Branch(clauses, otherwise)))
    }

    fn expression(&mut self) -> PResult<Cond> {
        let mut ors = Vec::new();
        loop {
            let mut ands = Vec::new();
            loop {
                match self.condition()? {
                    Some(c) => ands.push(c),
                    None => return Ok(None),
                }
                if !self.lit("&&") {
                    break;
                }
            }
            ors.push(if ands.len() == 1 {
                ands.pop().expect("one")
            } else {
                Cond::And(ands)
            });
            if !self.lit("||") {
                break;
            }
        }
        Ok(Some(if ors.len() == 1 {
            ors.pop().expect("one")
        } else {
            Cond::Or(ors)
        }))
    }

    fn condition(&mut self) -> PResult<Cond> {
        let neg = self.lit("!");
        let start = self.pos;
        type Alt<'p> = fn(&mut Parser<'p>) -> PResult<Cond>;
        let alts: [Alt<'a>; 7] = [
            Self::string_match,
            Self::numeric_match,
            Self::ip_match,
            Self::date_match,
            Self::exist_match,
            Self::list_match,
            Self::bool_match,
        ];
        let mut found = None;
        for alt in alts {
            self.pos = start;
            if let Some(c) = alt(self)? {
                found = Some(c);
                break;
            }
        }
        if found.is_none() {
            self.pos = start;
            if self.lit("(") {
                self.enter(self.pos - 1)?;
                if let Some(e) = self.expression()? {
                    if self.lit(")") {
                        found = Some(e);
                    }
                }
                self.depth -= 1;
            }
        }
        let Some(c) = found else {
            return Ok(None);
        };
        Ok(Some(if neg { Cond::Not(Box::new(c)) } else { c }))
    }

    fn string_match(&mut self) -> PResult<Cond> {
        let start = self.pos;
        let Some(key) = self.key() else {
            return Ok(None);
        };
        let after_key = self.pos;
        if let Some(op) = self.one_of(&["==", "!=", ":contains", "=~", "!~"]) {
            if let Some((at, value)) = self.string_value() {
                let op = match op {
                    "==" => StrOp::Eq,
                    "!=" => StrOp::Ne,
                    ":contains" => StrOp::Contains,
                    "=~" => StrOp::Match,
                    _ => StrOp::NotMatch,
                };
                self.check_ip(&key, at, &value)?;
                let value =
                    self.pattern(at, value, matches!(op, StrOp::Match | StrOp::NotMatch))?;
                return Ok(Some(Cond::Str { key, op, value }));
            }
        }
        self.pos = after_key;
        if let Some(op) = self.one_of(&[":in", ":containsany", ":regexin"]) {
            let op = match op {
                ":in" => MultiOp::In,
                ":containsany" => MultiOp::ContainsAny,
                _ => MultiOp::RegexIn,
            };
            let Some(items) = self.list(false, |p| Ok(p.string_value()))? else {
                self.pos = start;
                return Ok(None);
            };
            let mut values = Vec::new();
            for (at, v) in items {
                self.check_ip(&key, at, &v)?;
                values.push(self.pattern(at, v, op == MultiOp::RegexIn)?);
            }
            return Ok(Some(Cond::Multi { key, op, values }));
        }
        self.pos = start;
        Ok(None)
    }

    fn pattern(&self, at: usize, v: Operand, regex: bool) -> Result<Pattern, Error> {
        match v {
            Operand::Lit(Value::String(s)) if regex => {
                Pattern::regex(&s).map_err(|e| self.error_at(at, e))
            }
            v => Ok(Pattern { value: v, re: None }),
        }
    }

    /// IntelMQ's validate_string_match: values compared with an IP address
    /// field must be IP addresses.
    fn check_ip(&self, key: &Key, at: usize, v: &Operand) -> Result<(), Error> {
        let (Key::Field(Field { name: k, .. }), Operand::Lit(Value::String(s))) = (key, v) else {
            return Ok(());
        };
        let is_ip = matches!(
            harmonization().lookup(MsgType::Event, k),
            Some((spec, false)) if spec.ty == FieldType::IpAddress
        );
        if is_ip && s.parse::<std::net::IpAddr>().is_err() {
            return Err(self.error_at(at, format!("Invalid IP address: {s}.")));
        }
        Ok(())
    }

    fn numeric_match(&mut self) -> PResult<Cond> {
        let start = self.pos;
        let Some(key) = self.key() else {
            return Ok(None);
        };
        let after_key = self.pos;
        let num_value = |p: &mut Self| -> Option<(usize, Operand)> {
            p.ws();
            let at = p.pos;
            if let Some(n) = p.number() {
                return Some((at, Operand::Lit(n)));
            }
            p.variable().map(|v| (at, Operand::Var(v)))
        };
        if let Some(op) = self.one_of(&["==", "!=", "<=", ">=", "<", ">"]) {
            if let Some((at, value)) = num_value(self) {
                self.check_numeric(&key, at)?;
                let op = match op {
                    "==" => NumOp::Eq,
                    "!=" => NumOp::Ne,
                    "<=" => NumOp::Le,
                    ">=" => NumOp::Ge,
                    "<" => NumOp::Lt,
                    _ => NumOp::Gt,
                };
                return Ok(Some(Cond::Num {
                    key,
                    op,
                    value: Pattern { value, re: None },
                }));
            }
        }
        self.pos = after_key;
        if self.lit(":in") {
            if let Some(items) = self.list(false, |p| Ok(num_value(p)))? {
                if let Some((at, _)) = items.first() {
                    self.check_numeric(&key, *at)?;
                }
                let values = items
                    .into_iter()
                    .map(|(_, v)| Pattern { value: v, re: None })
                    .collect();
                return Ok(Some(Cond::NumIn { key, values }));
            }
        }
        self.pos = start;
        Ok(None)
    }

    /// IntelMQ's validate_numeric_match: the field must be of a numeric type.
    fn check_numeric(&self, key: &Key, at: usize) -> Result<(), Error> {
        let name = match key {
            Key::Field(k) => k.name.as_str(),
            Key::Var(v) => v.as_str(),
        };
        match harmonization().lookup(MsgType::Event, name) {
            Some((spec, false)) if NUMERIC_TYPES.contains(&spec.ty) => Ok(()),
            Some((spec, false)) => {
                Err(self.error_at(at, format!("Incompatible type: {}.", spec.ty.name())))
            }
            _ => Err(self.error_at(at, format!("Invalid key: {name}."))),
        }
    }

    fn ip_match(&mut self) -> PResult<Cond> {
        let Some(key) = self.key() else {
            return Ok(None);
        };
        if !self.lit("<<") {
            return Ok(None);
        }
        let ranges = match self.string() {
            Some(s) => vec![s],
            None => match self.list(false, |p| Ok(p.string()))? {
                Some(v) => v,
                None => return Ok(None),
            },
        };
        let mut nets = Vec::new();
        for (at, r) in ranges {
            match network(&r) {
                Some(n) => nets.push(n),
                None => return Err(self.error_at(at, format!("Invalid ip range: {r}."))),
            }
        }
        Ok(Some(Cond::Ip { key, nets }))
    }

    fn date_match(&mut self) -> PResult<Cond> {
        let Some(key) = self.key() else {
            return Ok(None);
        };
        let Some(op) = self.one_of(&[":before", ":after"]) else {
            return Ok(None);
        };
        let op = if op == ":before" {
            NumOp::Lt
        } else {
            NumOp::Gt
        };
        let Some((at, v)) = self.string_value() else {
            return Ok(None);
        };
        Ok(Some(match v {
            Operand::Var(name) => Cond::Time {
                key,
                op,
                when: Err(String::new()),
                var: Some(name),
            },
            Operand::Lit(v) => {
                let s = v.as_str().unwrap_or_default();
                // A text IntelMQ cannot read fails per event, as there; a span
                // too long to compute with fails the program.
                self.span_in_range(at, s)?;
                Cond::Time {
                    key,
                    op,
                    when: sieve_time(s),
                    var: None,
                }
            }
        }))
    }

    /// A literal relative span (`'2 days'`) that no time can be moved by is an
    /// error of the program, at `at`.
    fn span_in_range(&self, at: usize, s: &str) -> Result<(), Error> {
        match relative_span(s) {
            Some(Err(e)) => Err(self.error_at(at, e)),
            _ => Ok(()),
        }
    }

    fn exist_match(&mut self) -> PResult<Cond> {
        let Some(op) = self.one_of(&[":exists", ":notexists"]) else {
            return Ok(None);
        };
        Ok(self.key().map(|k| {
            let c = Cond::Exists(k);
            if op == ":notexists" {
                Cond::Not(Box::new(c))
            } else {
                c
            }
        }))
    }

    fn list_match(&mut self) -> PResult<Cond> {
        let Some(key) = self.key() else {
            return Ok(None);
        };
        let Some(op) = self.one_of(&[
            ":equals",
            ":setequals",
            ":overlaps",
            ":subsetof",
            ":supersetof",
        ]) else {
            return Ok(None);
        };
        let op = match op {
            ":equals" => ListOp::Equals,
            ":setequals" => ListOp::SetEquals,
            ":overlaps" => ListOp::Overlaps,
            ":subsetof" => ListOp::SubsetOf,
            _ => ListOp::SupersetOf,
        };
        let Some(items) = self.list(true, |p| Ok(p.typed_value()))? else {
            return Ok(None);
        };
        let mut values = Vec::new();
        for v in items {
            match v {
                Operand::Lit(v) => values.push(v),
                // IntelMQ compares the list with the variable objects
                // themselves, which never equal an event's values.
                Operand::Var(name) => values.push(Value::String(format!("\u{0}{name}"))),
            }
        }
        Ok(Some(Cond::List { key, op, values }))
    }

    fn bool_match(&mut self) -> PResult<Cond> {
        let Some(key) = self.key() else {
            return Ok(None);
        };
        let Some(op) = self.one_of(&["==", "!="]) else {
            return Ok(None);
        };
        let value = match self.boolean() {
            Some(b) => Operand::Lit(Value::Bool(b)),
            None => match self.variable() {
                Some(v) => Operand::Var(v),
                None => return Ok(None),
            },
        };
        Ok(Some(Cond::Bool {
            key,
            eq: op == "==",
            value,
        }))
    }

    fn action(&mut self) -> PResult<Action> {
        let start = self.pos;
        if self.lit("drop") {
            return Ok(Some(Action::Drop));
        }
        if self.lit("keep") {
            return Ok(Some(Action::Keep));
        }
        if self.lit("path") {
            if let Some((_, s)) = self.string() {
                return Ok(Some(Action::Path(vec![s])));
            }
            if let Some(v) = self.list(false, |p| Ok(p.string()))? {
                return Ok(Some(Action::Path(v.into_iter().map(|(_, s)| s).collect())));
            }
        }
        for kw in ["add", "add!", "update"] {
            self.pos = start;
            if !self.lit(kw) {
                continue;
            }
            let Some(key) = self.key_or_var_name() else {
                continue;
            };
            let Some(op) = self.one_of(&["=", "+=", "-="]) else {
                continue;
            };
            self.ws();
            let at = self.pos;
            let Some(value) = self.typed_value() else {
                continue;
            };
            if let (false, Operand::Lit(Value::String(s))) = (op == "=", &value) {
                self.span_in_range(at, s)?;
            }
            let op = match op {
                "=" => Assign::Set,
                "+=" => Assign::Plus,
                _ => Assign::Minus,
            };
            return Ok(Some(match kw {
                "add" => Action::Add { key, op, value },
                "add!" => Action::AddForce { key, op, value },
                _ => Action::Update { key, op, value },
            }));
        }
        self.pos = start;
        if self.lit("remove") {
            if let Some(k) = self.key_or_var_name() {
                return Ok(Some(Action::Remove(k)));
            }
        }
        for (kw, force) in [("append", false), ("append!", true)] {
            self.pos = start;
            if !self.lit(kw) {
                continue;
            }
            let Some(key) = self.key_or_var_name() else {
                continue;
            };
            let Some(value) = self.typed_value() else {
                continue;
            };
            return Ok(Some(Action::Append { key, value, force }));
        }
        self.pos = start;
        if let Some(var) = self.variable() {
            if self.lit("=") {
                self.ws();
                let at = self.pos;
                if let Some(key) = self.key_literal() {
                    self.note_unknown(at, &key);
                    return Ok(Some(Action::SetVar { var, key }));
                }
            }
        }
        self.pos = start;
        Ok(None)
    }

    /// The key of an action. IntelMQ uses a variable's name itself as the key
    /// there (it does not resolve it), which we keep.
    fn key_or_var_name(&mut self) -> Option<String> {
        self.key().map(|k| match k {
            Key::Field(f) => f.name,
            Key::Var(v) => v,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(s: &str) -> String {
        parse(s).unwrap_err().to_string()
    }

    #[test]
    fn every_construct_parses() {
        let text = r#"
# comment
// another comment
$v = source.fqdn
if source.ip == '127.0.0.1' && source.fqdn != "x" || comment :contains 'a' { keep }
elif comment =~ '^a' && !(comment !~ 'b') { drop }
else { path 'p' }
if comment :in ['a', 'b'] || comment :containsany ['c'] || comment :regexin ['d.*'] {
    path ['a', 'b']
}
if source.asn == 1 || source.asn != 2.5 || source.asn <= 3 || source.asn >= 4
   || source.asn < 5 || source.asn > 6 || source.asn :in [1, 2] { add comment = 'n' }
if source.ip << '10.0.0.0/8' || source.ip << ['10.0.0.0/8', '::1'] { add! comment = "i" }
if time.source :before '1 week' || time.source :after '2020-01-01' { update comment = 'd' }
if :exists comment && :notexists source.url { remove comment }
if extra.l :equals [1, 2.5, true, 's'] || extra.l :setequals [] || extra.l :overlaps ['a']
   || extra.l :subsetof ['a'] || extra.l :supersetof ['a'] { append extra.l 'x' }
if extra.b == true || extra.b != False { append! extra.l 1 }
if comment == $v { add time.observation += '1 hour' }
update time.source -= '2 days'
"#;
        let s = parse(text).unwrap();
        assert_eq!(s.statements.len(), 11);
    }

    #[test]
    fn errors_have_positions() {
        assert_eq!(
            err("if source.fqdn == 2 {\n add comment = 'x'\n}"),
            "1:19: Incompatible type: FQDN."
        );
        assert_eq!(
            err("if extra.x > 2 { drop }"),
            "1:14: Invalid key: extra.x."
        );
        assert_eq!(
            err("if source.ip == \"#fail\" {\n drop }"),
            "1:17: Invalid IP address: #fail."
        );
        assert_eq!(
            err("if source.ip << '10.0.0.0/33' { drop }"),
            "1:17: Invalid ip range: 10.0.0.0/33."
        );
        let e = err("if comment == 'a' {\n  frobnicate\n}");
        assert!(e.starts_with("2:3: syntax error: expected"), "{e}");
        let e = err("if comment == 'a' { drop ");
        assert!(e.contains("end of file"), "{e}");
        let e = err("if comment = 'a' { drop }");
        assert!(e.starts_with("1:12: syntax error"), "{e}");
        let e = err("if comment =~ '(' { drop }");
        assert!(e.contains("invalid regular expression"), "{e}");
        let e = err("if comment :in [] { drop }");
        assert!(e.starts_with("1:17: syntax error"), "{e}");
    }

    #[test]
    fn strings_and_numbers() {
        let mut p = Parser {
            s: br#"'it\'s' "a\"b" 'c\d' 2.5 1e3 7 -3 true 0"#,
            text: r#"'it\'s' "a\"b" 'c\d' 2.5 1e3 7 -3 true 0"#,
            pos: 0,
            far: 0,
            expected: vec![],
            depth: 0,
            unknown: None,
        };
        assert_eq!(p.string().unwrap().1, "it's");
        assert_eq!(p.string().unwrap().1, "a\"b");
        assert_eq!(p.string().unwrap().1, "c\\d");
        assert_eq!(p.number().unwrap(), serde_json::json!(2.5));
        assert_eq!(p.number().unwrap(), serde_json::json!(1000.0));
        assert_eq!(p.number().unwrap(), serde_json::json!(7));
        assert_eq!(p.number().unwrap(), serde_json::json!(-3));
        assert_eq!(p.boolean(), Some(true));
        assert_eq!(p.number().unwrap(), serde_json::json!(0));
    }

    #[test]
    fn empty_file() {
        assert!(parse("").unwrap().statements.is_empty());
        assert!(parse("# only a comment\n").unwrap().statements.is_empty());
    }
}
