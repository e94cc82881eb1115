//! Compiled conditions, shared by the one-liner expressions and the sieve
//! language. Everything that can be prepared once (regexes, networks, absolute
//! times) is prepared when the condition is built; evaluating one reads the
//! event's fields in place and allocates only where Python semantics demand a
//! string form of a non-string value.

use super::value::{py_eq, py_number, read_time, When};
use crate::message::Message;
use crate::pipeline::Fail;
use crate::pyfmt::{py_json_dumps, py_str};
use ipnetwork::IpNetwork;
use regex::Regex;
use serde_json::Value;
use std::borrow::Cow;
use std::cmp::Ordering;
use std::net::IpAddr;

/// A field name, or a sieve variable (`$name`) standing for one or for a value.
#[derive(Debug, Clone)]
pub enum Operand {
    Lit(Value),
    Var(String),
}

/// The sieve variables of the event being processed.
pub type Vars = Vec<(String, Value)>;

pub fn var<'a>(vars: &'a Vars, name: &str) -> Result<&'a Value, Fail> {
    vars.iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
        .ok_or_else(|| Fail::Reject(format!("Sieve variable {name} used before definition.")))
}

/// A field name with its slot in the per-event [`Cache`].
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    slot: usize,
    /// `extra` (any `extra.*` field), which `:exists` treats apart.
    any_extra: bool,
}

/// Every field name conditions were built for, by slot. Names only come in
/// while rules are compiled; the count lets a [`Cache`] see when its copy of
/// the table is out of date without taking the lock.
static SLOTS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
static SLOT_COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl Field {
    pub fn new(name: &str) -> Field {
        let mut slots = SLOTS.lock().unwrap_or_else(|e| e.into_inner());
        let slot = match slots.iter().position(|s| s == name) {
            Some(i) => i,
            None => {
                slots.push(name.to_string());
                SLOT_COUNT.store(slots.len(), std::sync::atomic::Ordering::Release);
                slots.len() - 1
            }
        };
        Field {
            name: name.to_string(),
            slot,
            any_extra: name == "extra",
        }
    }
}

/// A cheap hash for field names: their length and first and last bytes,
/// which tell the names of the data format (and `extra.*` names that differ at
/// the end) apart; the map compares whole names anyway.
#[derive(Default)]
struct NameHasher(u64);

impl std::hash::Hasher for NameHasher {
    fn write(&mut self, b: &[u8]) {
        let word = |s: &[u8]| {
            let mut w = [0u8; 8];
            w[..s.len()].copy_from_slice(s);
            u64::from_le_bytes(w)
        };
        let n = b.len();
        let head = word(&b[..n.min(8)]);
        let tail = word(&b[n.saturating_sub(8)..]);
        let h = (self.0 ^ head ^ (n as u64)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        self.0 = (h.rotate_left(29) ^ tail).wrapping_mul(0xff51_afd7_ed55_8ccd);
    }
    fn write_u8(&mut self, i: u8) {
        self.0 ^= u64::from(i);
    }
    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 32)
    }
}

type NameMap =
    std::collections::HashMap<Box<str>, usize, std::hash::BuildHasherDefault<NameHasher>>;

/// Field positions and parsed addresses of the event being evaluated, so that
/// rules testing the same field do not search the message (or parse the
/// address) again. Entries are valid for one generation: [`Cache::reset`]
/// starts a new one (a new event, or the event changed). When the rules test
/// many names (a sieve file may test hundreds), the positions of a generation
/// are found in one pass over the message's keys, the first time a condition
/// asks; a few names (an expression) are looked for one by one.
#[derive(Debug, Clone)]
pub struct Cache {
    gen: u64,
    /// The positions of this generation are in `pos` (or, with `by_scan`,
    /// are looked up when first asked for).
    indexed: bool,
    by_scan: bool,
    /// Slot by field name (a copy of [`SLOTS`]).
    names: NameMap,
    /// Per slot: (generation, position + 1); absent unless of this generation.
    pos: Vec<(u64, u32)>,
    ips: Vec<(u64, Option<IpAddr>)>,
}

impl Default for Cache {
    fn default() -> Cache {
        Cache {
            // Entries start at generation 0: never current.
            gen: 1,
            indexed: false,
            by_scan: false,
            names: NameMap::default(),
            pos: Vec::new(),
            ips: Vec::new(),
        }
    }
}

impl Cache {
    pub fn reset(&mut self) {
        self.gen += 1;
        self.indexed = false;
    }

    #[cold]
    fn refresh_names(&mut self) {
        let slots = SLOTS.lock().unwrap_or_else(|e| e.into_inner());
        for (i, n) in slots.iter().enumerate().skip(self.names.len()) {
            self.names.insert(n.as_str().into(), i);
        }
        self.pos.resize(slots.len(), (0, 0));
        self.ips.resize(slots.len(), (0, None));
    }

    #[inline(never)]
    fn index(&mut self, ev: &Message) {
        if self.names.len() != SLOT_COUNT.load(std::sync::atomic::Ordering::Acquire) {
            self.refresh_names();
        }
        // A few names (an expression) are cheaper to look for one by one,
        // when first asked for.
        self.by_scan = self.names.len() <= 8;
        if !self.by_scan {
            for (i, k) in ev.keys().enumerate() {
                if let Some(&slot) = self.names.get(k) {
                    self.pos[slot] = (self.gen, i as u32 + 1);
                }
            }
        }
        self.indexed = true;
    }

    /// Where the field is in the message.
    #[inline(always)]
    fn position(&mut self, ev: &Message, f: &Field) -> Option<usize> {
        if !self.indexed {
            self.index(ev);
        }
        match self.pos.get_mut(f.slot) {
            Some(e) => {
                if e.0 != self.gen {
                    if !self.by_scan {
                        return None;
                    }
                    *e = (self.gen, ev.position(&f.name).map_or(0, |p| p as u32 + 1));
                }
                (e.1 as usize).checked_sub(1)
            }
            // A field made after the index was built.
            None => ev.position(&f.name),
        }
    }

    #[inline(always)]
    fn get<'m>(&mut self, ev: &'m Message, f: &Field) -> Option<&'m Value> {
        let p = self.position(ev, f)?;
        ev.value_at(p)
    }

    fn ip(&mut self, ev: &Message, f: &Field) -> Option<IpAddr> {
        if let Some(&(g, ip)) = self.ips.get(f.slot) {
            if g == self.gen {
                return ip;
            }
        }
        let ip = match self.get(ev, f) {
            Some(Value::String(s)) => s.parse::<IpAddr>().ok(),
            _ => None,
        };
        if let Some(e) = self.ips.get_mut(f.slot) {
            *e = (self.gen, ip);
        }
        ip
    }
}

/// Where a condition reads its field.
#[derive(Debug, Clone)]
pub enum Key {
    Field(Field),
    /// A variable holding the field name.
    Var(String),
}

impl Key {
    fn name<'a>(&'a self, vars: &'a Vars) -> Result<Cow<'a, str>, Fail> {
        match self {
            Key::Field(f) => Ok(Cow::Borrowed(&f.name)),
            Key::Var(v) => match var(vars, v)? {
                Value::String(s) => Ok(Cow::Borrowed(s)),
                other => Err(Fail::Reject(format!(
                    "Expected a string variable as key, got {}.",
                    py_str(other)
                ))),
            },
        }
    }

    fn get<'m>(
        &self,
        ev: &'m Message,
        vars: &Vars,
        c: &mut Cache,
    ) -> Result<Option<&'m Value>, Fail> {
        match self {
            Key::Field(f) => Ok(c.get(ev, f)),
            Key::Var(_) => Ok(ev.get(&self.name(vars)?)),
        }
    }
}

/// String operators with one value (`==`, `!=`, `:contains`, `=~`, `!~`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrOp {
    Eq,
    Ne,
    Contains,
    /// The one-liner's `contains`: an element of a list, else a substring.
    Has,
    Match,
    NotMatch,
    /// Lexical order (one-liner only).
    Lt,
    Le,
    Gt,
    Ge,
}

/// String operators with a list of values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MultiOp {
    In,
    ContainsAny,
    RegexIn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumOp {
    Eq,
    Ne,
    Le,
    Ge,
    Lt,
    Gt,
}

impl NumOp {
    fn test(self, o: Option<Ordering>) -> bool {
        match self {
            NumOp::Eq => o == Some(Ordering::Equal),
            NumOp::Ne => o != Some(Ordering::Equal),
            NumOp::Le => matches!(o, Some(Ordering::Less | Ordering::Equal)),
            NumOp::Ge => matches!(o, Some(Ordering::Greater | Ordering::Equal)),
            NumOp::Lt => o == Some(Ordering::Less),
            NumOp::Gt => o == Some(Ordering::Greater),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListOp {
    Equals,
    SetEquals,
    Overlaps,
    SubsetOf,
    SupersetOf,
}

/// A value to compare with: a literal prepared once, or a variable.
#[derive(Debug, Clone)]
pub struct Pattern {
    pub value: Operand,
    /// The compiled regex of a literal used with a regex operator.
    pub re: Option<Matcher>,
}

impl Pattern {
    pub fn lit(v: Value) -> Pattern {
        Pattern {
            value: Operand::Lit(v),
            re: None,
        }
    }

    /// A literal string used as a regex: compiled now.
    pub fn regex(s: &str) -> Result<Pattern, String> {
        Ok(Pattern {
            re: Some(compile_regex(s)?),
            value: Operand::Lit(Value::String(s.into())),
        })
    }

    fn value<'a>(&'a self, vars: &'a Vars) -> Result<&'a Value, Fail> {
        match &self.value {
            Operand::Lit(v) => Ok(v),
            Operand::Var(n) => var(vars, n),
        }
    }

    fn string<'a>(&'a self, vars: &'a Vars) -> Result<&'a str, Fail> {
        match self.value(vars)? {
            Value::String(s) => Ok(s),
            other => Err(Fail::Reject(format!(
                "Expected a string variable, got {}.",
                py_str(other)
            ))),
        }
    }

    fn number(&self, vars: &Vars) -> Result<f64, Fail> {
        match self.value(vars)? {
            Value::Number(n) => Ok(n.as_f64().unwrap_or(f64::NAN)),
            other => Err(Fail::Reject(format!(
                "Expected a numeric variable, got {}.",
                py_str(other)
            ))),
        }
    }

    fn search(&self, text: &str, vars: &Vars) -> Result<bool, Fail> {
        match &self.re {
            Some(re) => Ok(re.is_match(text)),
            None => {
                let re = compile_regex(self.string(vars)?).map_err(Fail::Reject)?;
                Ok(re.is_match(text))
            }
        }
    }
}

/// A compiled (Python) regular expression, searched anywhere in the text.
/// Patterns that are plain text (optionally anchored with `^`), common in
/// sieve files, are compared as text: that is what the regex would do, only
/// without the engine's set-up per search.
#[derive(Debug, Clone)]
pub enum Matcher {
    Regex(Regex),
    Literal { text: String, anchored: bool },
}

impl Matcher {
    pub fn is_match(&self, t: &str) -> bool {
        match self {
            Matcher::Regex(r) => r.is_match(t),
            Matcher::Literal {
                text,
                anchored: true,
            } => t.starts_with(text.as_str()),
            Matcher::Literal { text, .. } => t.contains(text.as_str()),
        }
    }
}

/// The text a pattern matches when it is plain text (with `\` escapes of
/// punctuation), with or without a leading `^`.
fn literal_pattern(s: &str) -> Option<(String, bool)> {
    let (body, anchored) = match s.strip_prefix('^') {
        Some(b) => (b, true),
        None => (s, false),
    };
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e) if e.is_ascii_punctuation() => out.push(e),
                _ => return None,
            },
            '.' | '^' | '$' | '*' | '+' | '?' | '(' | ')' | '[' | ']' | '{' | '}' | '|' => {
                return None
            }
            c => out.push(c),
        }
    }
    Some((out, anchored))
}

/// Compile a (Python) regular expression.
pub fn compile_regex(s: &str) -> Result<Matcher, String> {
    let re = Regex::new(s).map_err(|e| format!("invalid regular expression {s:?}: {e}"))?;
    Ok(match literal_pattern(s) {
        Some((text, anchored)) => Matcher::Literal { text, anchored },
        None => Matcher::Regex(re),
    })
}

/// Parse a network as Python's `ip_network(x, strict=False)`.
pub fn network(s: &str) -> Option<IpNetwork> {
    crate::harmonization::parse_network(s, false)?.parse().ok()
}

/// `IpNetwork::contains` as a masked compare (sieve files test many networks
/// per event).
#[inline]
fn net_contains(n: &IpNetwork, a: IpAddr) -> bool {
    match (n, a) {
        (IpNetwork::V4(n), IpAddr::V4(a)) => {
            let mask = u32::MAX
                .checked_shl(32 - u32::from(n.prefix()))
                .unwrap_or(0);
            (u32::from(a) ^ u32::from(n.ip())) & mask == 0
        }
        (IpNetwork::V6(n), IpAddr::V6(a)) => {
            let mask = u128::MAX
                .checked_shl(128 - u32::from(n.prefix()))
                .unwrap_or(0);
            (u128::from(a) ^ u128::from(n.ip())) & mask == 0
        }
        _ => false,
    }
}

/// A compiled condition.
#[derive(Debug, Clone)]
pub enum Cond {
    Not(Box<Cond>),
    And(Vec<Cond>),
    Or(Vec<Cond>),
    /// `:exists` (`!` of it is `:notexists`).
    Exists(Key),
    Str {
        key: Key,
        op: StrOp,
        value: Pattern,
    },
    Multi {
        key: Key,
        op: MultiOp,
        values: Vec<Pattern>,
    },
    Num {
        key: Key,
        op: NumOp,
        value: Pattern,
    },
    NumIn {
        key: Key,
        values: Vec<Pattern>,
    },
    /// The one-liner's `in [...]` with literals of mixed types.
    ValueIn {
        key: Key,
        values: Vec<Value>,
    },
    Ip {
        key: Key,
        nets: Vec<IpNetwork>,
    },
    /// A time comparison; the error of an unparseable time is kept for when
    /// the condition is reached (IntelMQ fails only then).
    Time {
        key: Key,
        op: NumOp,
        when: Result<When, String>,
        /// A variable holding the time (sieve).
        var: Option<String>,
    },
    List {
        key: Key,
        op: ListOp,
        values: Vec<Value>,
    },
    Bool {
        key: Key,
        eq: bool,
        value: Operand,
    },
}

/// The text form of a non-string value for string operators: Python's `str()`,
/// `json.dumps()` for dicts.
fn text_of(v: &Value) -> Cow<'_, str> {
    match v {
        Value::String(s) => Cow::Borrowed(s),
        Value::Object(_) => Cow::Owned(py_json_dumps(v, false)),
        _ => Cow::Owned(py_str(v)),
    }
}

impl Cond {
    /// Evaluate the condition for an event. Logic and the common leaf shapes
    /// (field exists, string equality, literal numbers and lists, regexes, IP
    /// in networks) are handled here, the leaves inline in the loops of `&&`
    /// and `||`; the rest in [`Cond::eval_other`], so that the hot path stays
    /// cheap for files of hundreds of rules.
    pub fn eval(&self, ev: &Message, vars: &Vars, cache: &mut Cache) -> Result<bool, Fail> {
        match self {
            Cond::Not(c) => Ok(!c.eval_child(ev, vars, cache)?),
            Cond::And(cs) => {
                for c in cs {
                    if !c.eval_child(ev, vars, cache)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Cond::Or(cs) => {
                for c in cs {
                    if c.eval_child(ev, vars, cache)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            _ => match self.leaf(ev, cache) {
                Some(b) => Ok(b),
                None => self.eval_other(ev, vars, cache),
            },
        }
    }

    #[inline(always)]
    fn eval_child(&self, ev: &Message, vars: &Vars, cache: &mut Cache) -> Result<bool, Fail> {
        match self.leaf(ev, cache) {
            Some(b) => Ok(b),
            None => self.eval(ev, vars, cache),
        }
    }

    /// The value of a hot leaf shape, `None` for anything else.
    #[inline(always)]
    fn leaf(&self, ev: &Message, cache: &mut Cache) -> Option<bool> {
        Some(match self {
            Cond::Exists(Key::Field(f)) if !f.any_extra => cache.position(ev, f).is_some(),
            Cond::Str {
                key: Key::Field(f),
                op: op @ (StrOp::Eq | StrOp::Ne),
                value:
                    Pattern {
                        value: Operand::Lit(Value::String(want)),
                        ..
                    },
            } => match cache.get(ev, f) {
                Some(Value::String(s)) => (s == want) == (*op == StrOp::Eq),
                _ => *op == StrOp::Ne,
            },
            Cond::Ip {
                key: Key::Field(f),
                nets,
            } => cache
                .ip(ev, f)
                .is_some_and(|a| nets.iter().any(|n| net_contains(n, a))),
            Cond::Num {
                key: Key::Field(f),
                op,
                value:
                    Pattern {
                        value: Operand::Lit(Value::Number(want)),
                        ..
                    },
            } => match cache.get(ev, f) {
                None => false,
                Some(lhs) => match number_of(lhs) {
                    None => *op == NumOp::Ne,
                    Some(l) => op.test(l.partial_cmp(&want.as_f64().unwrap_or(f64::NAN))),
                },
            },
            Cond::Multi {
                key: Key::Field(f),
                op: MultiOp::In,
                values,
            } => {
                let Some(Value::String(s)) = cache.get(ev, f) else {
                    // Absent: false; other values: the general path.
                    return cache.position(ev, f).is_none().then_some(false);
                };
                for v in values {
                    match &v.value {
                        Operand::Lit(Value::String(w)) if w == s => return Some(true),
                        Operand::Lit(Value::String(_)) => {}
                        // A variable or a non-string literal: the general path.
                        _ => return None,
                    }
                }
                false
            }
            Cond::Str {
                key: Key::Field(f),
                op: op @ (StrOp::Match | StrOp::NotMatch),
                value: Pattern { re: Some(re), .. },
            } => match cache.get(ev, f) {
                None => *op == StrOp::NotMatch,
                Some(Value::String(s)) => re.is_match(s) == (*op == StrOp::Match),
                // The text form of other values: the general path.
                Some(_) => return None,
            },
            _ => return None,
        })
    }

    #[inline(never)]
    fn eval_other(&self, ev: &Message, vars: &Vars, cache: &mut Cache) -> Result<bool, Fail> {
        Ok(match self {
            Cond::Not(c) => !c.eval(ev, vars, cache)?,
            Cond::And(cs) => {
                for c in cs {
                    if !c.eval(ev, vars, cache)? {
                        return Ok(false);
                    }
                }
                true
            }
            Cond::Or(cs) => {
                for c in cs {
                    if c.eval(ev, vars, cache)? {
                        return Ok(true);
                    }
                }
                false
            }
            Cond::Exists(Key::Field(f)) if !f.any_extra => cache.position(ev, f).is_some(),
            Cond::Exists(k) => ev.contains(&k.name(vars)?),
            Cond::Str { key, op, value } => {
                let Some(lhs) = key.get(ev, vars, cache)? else {
                    return Ok(matches!(op, StrOp::Ne | StrOp::NotMatch));
                };
                match op {
                    StrOp::Eq => py_eq(lhs, value.value(vars)?),
                    StrOp::Ne => !py_eq(lhs, value.value(vars)?),
                    StrOp::Contains => text_of(lhs).contains(value.string(vars)?),
                    StrOp::Has => {
                        let want = value.value(vars)?;
                        match (lhs, want) {
                            (Value::Array(items), _) => items.iter().any(|i| py_eq(i, want)),
                            (_, Value::String(s)) => text_of(lhs).contains(s.as_str()),
                            _ => false,
                        }
                    }
                    StrOp::Match => value.search(&text_of(lhs), vars)?,
                    StrOp::NotMatch => !value.search(&text_of(lhs), vars)?,
                    StrOp::Lt | StrOp::Le | StrOp::Gt | StrOp::Ge => {
                        let Value::String(l) = lhs else {
                            return Ok(false);
                        };
                        let o = Some(l.as_str().cmp(value.string(vars)?));
                        let nop = match op {
                            StrOp::Lt => NumOp::Lt,
                            StrOp::Le => NumOp::Le,
                            StrOp::Gt => NumOp::Gt,
                            _ => NumOp::Ge,
                        };
                        nop.test(o)
                    }
                }
            }
            Cond::Multi { key, op, values } => {
                let Some(lhs) = key.get(ev, vars, cache)? else {
                    return Ok(false);
                };
                match op {
                    MultiOp::In => {
                        for v in values {
                            if py_eq(lhs, v.value(vars)?) {
                                return Ok(true);
                            }
                        }
                        false
                    }
                    MultiOp::ContainsAny => {
                        let text = text_of(lhs);
                        for v in values {
                            if text.contains(v.string(vars)?) {
                                return Ok(true);
                            }
                        }
                        false
                    }
                    MultiOp::RegexIn => {
                        let text = text_of(lhs);
                        for v in values {
                            if v.search(&text, vars)? {
                                return Ok(true);
                            }
                        }
                        false
                    }
                }
            }
            Cond::Num { key, op, value } => {
                let Some(lhs) = key.get(ev, vars, cache)? else {
                    return Ok(false);
                };
                let Some(l) = number_of(lhs) else {
                    return Ok(*op == NumOp::Ne);
                };
                op.test(l.partial_cmp(&value.number(vars)?))
            }
            Cond::NumIn { key, values } => {
                let Some(lhs) = key.get(ev, vars, cache)? else {
                    return Ok(false);
                };
                for v in values {
                    if py_eq(lhs, v.value(vars)?) {
                        return Ok(true);
                    }
                }
                false
            }
            Cond::ValueIn { key, values } => {
                let Some(lhs) = key.get(ev, vars, cache)? else {
                    return Ok(false);
                };
                values.iter().any(|v| py_eq(lhs, v))
            }
            Cond::Ip { key, nets } => {
                let addr = match key {
                    Key::Field(f) => cache.ip(ev, f),
                    Key::Var(_) => match key.get(ev, vars, cache)? {
                        Some(Value::String(s)) => s.parse::<IpAddr>().ok(),
                        _ => None,
                    },
                };
                let Some(addr) = addr else {
                    return Ok(false);
                };
                nets.iter().any(|n| n.contains(addr))
            }
            Cond::Time { key, op, when, var } => {
                let Some(lhs) = key.get(ev, vars, cache)? else {
                    return Ok(false);
                };
                let base = match var {
                    Some(name) => {
                        let s = Pattern {
                            value: Operand::Var(name.clone()),
                            re: None,
                        };
                        let s = s.string(vars)?.to_string();
                        super::value::sieve_time(&s).map_err(Fail::Reject)?
                    }
                    None => when.clone().map_err(Fail::Reject)?,
                };
                let Some(t) = lhs.as_str().and_then(read_time) else {
                    return Ok(false);
                };
                op.test(t.partial_cmp(&base.resolve()))
            }
            Cond::List { key, op, values } => {
                let Some(Value::Array(lhs)) = key.get(ev, vars, cache)? else {
                    return Ok(false);
                };
                let has = |set: &[Value], x: &Value| set.iter().any(|y| py_eq(x, y));
                let subset = |a: &[Value], b: &[Value]| a.iter().all(|x| has(b, x));
                match op {
                    ListOp::Equals => {
                        lhs.len() == values.len()
                            && lhs.iter().zip(values).all(|(a, b)| py_eq(a, b))
                    }
                    ListOp::SetEquals => subset(lhs, values) && subset(values, lhs),
                    ListOp::Overlaps => lhs.iter().any(|x| has(values, x)),
                    ListOp::SubsetOf => subset(lhs, values),
                    ListOp::SupersetOf => subset(values, lhs),
                }
            }
            Cond::Bool { key, eq, value } => {
                let Some(Value::Bool(l)) = key.get(ev, vars, cache)? else {
                    return Ok(false);
                };
                let r = match value {
                    Operand::Lit(v) => v.clone(),
                    Operand::Var(n) => var(vars, n)?.clone(),
                };
                let same = py_eq(&Value::Bool(*l), &r);
                same == *eq
            }
        })
    }
}

/// A field value as a number for numeric comparisons: numbers (and bools, as
/// Python compares them), or strings that hold a number.
fn number_of(v: &Value) -> Option<f64> {
    py_number(v).or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harmonization::MsgType;
    use serde_json::json;

    fn ev() -> Message {
        Message::from_json(
            br#"{"source.ip":"192.0.2.7","source.asn":64496,"comment":"hello world","extra.list":["a","b"],"extra.flag":true,"extra.d":{"key":[]},"time.source":"2020-01-01T00:00:00+00:00"}"#,
            MsgType::Event,
        )
        .unwrap()
    }

    fn f(s: &str) -> Key {
        Key::Field(Field::new(s))
    }

    fn t(c: Cond) -> bool {
        let mut cache = Cache::default();
        cache.reset();
        c.eval(&ev(), &Vars::new(), &mut cache).unwrap()
    }

    #[test]
    fn string_ops() {
        let s = |k: &str, op, v: &str| Cond::Str {
            key: f(k),
            op,
            value: if matches!(op, StrOp::Match | StrOp::NotMatch) {
                Pattern::regex(v).unwrap()
            } else {
                Pattern::lit(json!(v))
            },
        };
        assert!(t(s("comment", StrOp::Eq, "hello world")));
        assert!(t(s("comment", StrOp::Contains, "lo w")));
        assert!(t(s("comment", StrOp::Match, "^h.*d$")));
        assert!(t(s("comment", StrOp::NotMatch, "^x")));
        assert!(t(s("missing", StrOp::Ne, "x")));
        assert!(!t(s("missing", StrOp::Eq, "x")));
        assert!(t(s("extra.d", StrOp::Match, r#""key": \[\]"#)));
        assert!(t(s("extra.list", StrOp::Contains, "'a'")));
        assert!(t(s("extra.list", StrOp::Has, "a")));
        assert!(!t(s("source.asn", StrOp::Eq, "64496")));
        assert!(t(s("comment", StrOp::Gt, "hello")));
    }

    #[test]
    fn network_contains() {
        for (net, ip) in [
            ("192.0.2.0/24", "192.0.2.7"),
            ("192.0.2.0/24", "192.0.3.7"),
            ("0.0.0.0/0", "203.0.113.1"),
            ("10.1.2.3/32", "10.1.2.3"),
            ("10.1.2.3/32", "10.1.2.4"),
            ("10.1.2.3/31", "10.1.2.2"),
            ("2001:db8::/32", "2001:db8::1"),
            ("2001:db8::/32", "2001:db9::1"),
            ("::/0", "2001:db8::1"),
            ("2001:db8::1/128", "2001:db8::1"),
            ("192.0.2.0/24", "::ffff:192.0.2.1"),
            ("::/0", "192.0.2.1"),
        ] {
            let n = network(net).unwrap();
            let a: IpAddr = ip.parse().unwrap();
            assert_eq!(net_contains(&n, a), n.contains(a), "{net} {ip}");
        }
    }

    #[test]
    fn cache_follows_events_and_new_fields() {
        // More names than the one-by-one lookup takes: the index pass.
        let many: Vec<Field> = (0..12)
            .map(|i| Field::new(&format!("extra.c{i}")))
            .collect();
        let mut cache = Cache::default();
        let a = Message::from_json(
            br#"{"extra.c3":"x","comment":"a","extra.cache_late":true}"#,
            MsgType::Event,
        )
        .unwrap();
        let b = Message::from_json(br#"{"comment":"b","extra.c5":1}"#, MsgType::Event).unwrap();
        for (ev, present) in [(&a, 3), (&b, 5), (&a, 3)] {
            cache.reset();
            for (i, f) in many.iter().enumerate() {
                assert_eq!(cache.position(ev, f).is_some(), i == present);
            }
            // A field made after the index was built is still found.
            let late = Field::new("extra.cache_late");
            assert_eq!(cache.get(ev, &late), ev.get("extra.cache_late"));
            let c = Field::new("comment");
            assert_eq!(cache.get(ev, &c), ev.get("comment"));
        }
    }

    #[test]
    fn literal_regexes() {
        let m = |p: &str, t: &str| compile_regex(p).unwrap().is_match(t);
        assert!(matches!(
            compile_regex(r"^host1\.").unwrap(),
            Matcher::Literal { .. }
        ));
        assert!(m(r"^host1\.", "host1.example") && !m(r"^host1\.", "xhost1.example"));
        assert!(m("ost", "host") && !m("^ost", "host"));
        assert!(m(r"a\.b", "xa.b") && !m(r"a\.b", "axb"));
        assert!(matches!(compile_regex(r"a.b").unwrap(), Matcher::Regex(_)));
        assert!(matches!(compile_regex(r"\d").unwrap(), Matcher::Regex(_)));
        assert!(m(r"\d", "a1"));
    }

    #[test]
    fn other_ops() {
        assert!(t(Cond::Num {
            key: f("source.asn"),
            op: NumOp::Ge,
            value: Pattern::lit(json!(64496))
        }));
        assert!(t(Cond::Ip {
            key: f("source.ip"),
            nets: vec![network("192.0.2.1/24").unwrap()]
        }));
        assert!(t(Cond::List {
            key: f("extra.list"),
            op: ListOp::SetEquals,
            values: vec![json!("b"), json!("a"), json!("a")]
        }));
        assert!(t(Cond::Bool {
            key: f("extra.flag"),
            eq: true,
            value: Operand::Lit(json!(true))
        }));
        assert!(t(Cond::Time {
            key: f("time.source"),
            op: NumOp::Lt,
            when: Ok(When::FromNow(chrono::Duration::days(-2))),
            var: None
        }));
    }
}
