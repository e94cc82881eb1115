//! IntelMQ's data format ("harmonization"): the fields of events and reports, their
//! types, and each type's sanitation and validation, quirks included.
//!
//! The field table is data, `data/harmonization.json` (IntelMQ 3.5.0's 89 event and
//! 10 report fields, plus the classification taxonomy), compiled into the binary.
//!
//! Every type has two operations, as in `intelmq/lib/harmonization.py`:
//! * [`is_valid`]: is the value already in its normal form? (no sanitation)
//! * [`sanitize`]: turn a raw value into the normal form, or `None` when it cannot be.
//!
//! A field's value is accepted when it is valid as given, or valid after sanitation,
//! and then passes the field's `length`/`regex`/`iregex` constraints (see
//! [`crate::message`]).

use crate::pyfmt::py_truthy as truthy;
use crate::pyfmt::{py_json_dumps, py_str};
use crate::pyurl;
use crate::timeparse;
use base64::Engine;
use regex::Regex;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::OnceLock;

/// The harmonization types of IntelMQ 3.5.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldType {
    String,
    LowercaseString,
    UppercaseString,
    Base64,
    Boolean,
    Integer,
    Float,
    Accuracy,
    Asn,
    IpAddress,
    IpNetwork,
    Fqdn,
    Url,
    DateTime,
    Json,
    JsonDict,
    Registry,
    Tlp,
    ClassificationTaxonomy,
    ClassificationType,
}

impl FieldType {
    pub fn from_name(name: &str) -> Option<FieldType> {
        use FieldType::*;
        Some(match name {
            "String" => String,
            "LowercaseString" => LowercaseString,
            "UppercaseString" => UppercaseString,
            "Base64" => Base64,
            "Boolean" => Boolean,
            "Integer" => Integer,
            "Float" => Float,
            "Accuracy" => Accuracy,
            "ASN" => Asn,
            "IPAddress" => IpAddress,
            "IPNetwork" => IpNetwork,
            "FQDN" => Fqdn,
            "URL" => Url,
            "DateTime" => DateTime,
            "JSON" => Json,
            "JSONDict" => JsonDict,
            "Registry" => Registry,
            "TLP" => Tlp,
            "ClassificationTaxonomy" => ClassificationTaxonomy,
            "ClassificationType" => ClassificationType,
            _ => return None,
        })
    }

    /// IntelMQ's name of the type.
    pub fn name(self) -> &'static str {
        use FieldType::*;
        match self {
            String => "String",
            LowercaseString => "LowercaseString",
            UppercaseString => "UppercaseString",
            Base64 => "Base64",
            Boolean => "Boolean",
            Integer => "Integer",
            Float => "Float",
            Accuracy => "Accuracy",
            Asn => "ASN",
            IpAddress => "IPAddress",
            IpNetwork => "IPNetwork",
            Fqdn => "FQDN",
            Url => "URL",
            DateTime => "DateTime",
            Json => "JSON",
            JsonDict => "JSONDict",
            Registry => "Registry",
            Tlp => "TLP",
            ClassificationTaxonomy => "ClassificationTaxonomy",
            ClassificationType => "ClassificationType",
        }
    }
}

/// One field of the data format.
#[derive(Debug)]
pub struct FieldSpec {
    pub name: &'static str,
    /// Position in its class's table (fewer than 128 fields per class).
    pub idx: u8,
    pub ty: FieldType,
    pub length: Option<usize>,
    pub regex: Option<Pattern>,
    pub iregex: Option<Pattern>,
}

/// A field's regex. IntelMQ's data format uses a handful of simple patterns that
/// run for every event; those are checked by hand (same language, no regex engine
/// on the hot path), anything else by the `regex` crate.
#[derive(Debug)]
pub struct Pattern {
    fast: Option<Fast>,
    /// The pattern with Python's `re` semantics (see [`py_regex`]).
    regex: Regex,
}

/// Hand-written checks of the common patterns, valid for text without a line
/// break (where Python's `$` and `.` have their corner cases: the regex decides).
#[derive(Debug, Clone, Copy)]
enum Fast {
    /// `^[ -~]+$`: printable ASCII.
    PrintableAscii,
    /// `^[a-zA-Z0-9]{2}$`
    TwoAlnum,
    /// `^.*[^\.]$`: no trailing dot.
    NoTrailingDot,
}

impl Pattern {
    fn new(src: &str, case_insensitive: bool) -> Result<Pattern, regex::Error> {
        let fast = match (src, case_insensitive) {
            ("^[ -~]+$", false) => Some(Fast::PrintableAscii),
            ("^[a-zA-Z0-9]{2}$", _) => Some(Fast::TwoAlnum),
            ("^.*[^\\.]$", false) => Some(Fast::NoTrailingDot),
            _ => None,
        };
        let regex = regex::RegexBuilder::new(&py_regex(src))
            .case_insensitive(case_insensitive)
            .build()?;
        Ok(Pattern { fast, regex })
    }

    pub fn is_match(&self, x: &str) -> bool {
        let line_break = |c: char| matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}');
        // One pass without early exit: line breaks (where Python's `$` differs
        // from a plain end) and non-ASCII bytes (which may hold U+2028 etc.).
        let (nl, high) = x.bytes().fold((false, false), |(nl, high), b| {
            (nl | (b == b'\n') | (b == b'\r'), high | (b >= 0x80))
        });
        match self.fast {
            Some(f) if !nl && (!high || !x.chars().any(line_break)) => match f {
                Fast::PrintableAscii => {
                    !x.is_empty() && x.bytes().all(|b| (b' '..=b'~').contains(&b))
                }
                Fast::TwoAlnum => x.len() == 2 && x.bytes().all(|b| b.is_ascii_alphanumeric()),
                Fast::NoTrailingDot => x.chars().next_back().is_some_and(|c| c != '.'),
            },
            _ => self.regex.is_match(x),
        }
    }
}

/// The message classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MsgType {
    Event,
    Report,
}

impl MsgType {
    pub fn name(self) -> &'static str {
        match self {
            MsgType::Event => "Event",
            MsgType::Report => "Report",
        }
    }
    pub fn from_name(s: &str) -> Option<MsgType> {
        match s {
            "Event" => Some(MsgType::Event),
            "Report" => Some(MsgType::Report),
            _ => None,
        }
    }
}

/// A word-at-a-time multiplicative hash for the field-name index: keys are short,
/// trusted (our own table) and looked up for every field of every message, where
/// SipHash's DoS resistance buys nothing and cost a tenth of the decoding time.
#[derive(Default, Clone, Copy)]
pub struct FastHash;

pub struct Fnv(u64);

impl std::hash::BuildHasher for FastHash {
    type Hasher = Fnv;
    fn build_hasher(&self) -> Fnv {
        Fnv(0xcbf29ce484222325)
    }
}

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes(c.try_into().expect("8 bytes"));
            self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(K);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut buf = [0u8; 8];
            buf[..rest.len()].copy_from_slice(rest);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(buf) ^ rest.len() as u64)
                .wrapping_mul(K);
        }
    }
}

/// The loaded data format.
pub struct Harmonization {
    pub event: Vec<FieldSpec>,
    pub report: Vec<FieldSpec>,
    event_index: HashMap<&'static str, usize, FastHash>,
    report_index: HashMap<&'static str, usize, FastHash>,
    /// classification.type -> classification.taxonomy
    pub taxonomy_of_type: HashMap<String, String, FastHash>,
    pub type_aliases: HashMap<String, String, FastHash>,
    pub taxonomies: Vec<String>,
    pub taxonomy_aliases: HashMap<String, String, FastHash>,
}

const DATA: &str = include_str!("../data/harmonization.json");

static H: OnceLock<Harmonization> = OnceLock::new();

/// The data format, parsed once: IntelMQ 3.5.0's, unless a site's own was
/// loaded first ([`load_site`]).
pub fn harmonization() -> &'static Harmonization {
    H.get_or_init(|| Harmonization::load(DATA).expect("data/harmonization.json is valid"))
}

/// Use a site's own `harmonization.conf` (IntelMQ's format: `event` and `report`
/// field tables; sites add fields and change lengths) instead of the built-in
/// table. The classification types and taxonomies stay IntelMQ's unless the
/// file has its own `classification` section (as imq's data file does). Must run
/// before anything reads the data format (the tools call it first thing).
pub fn load_site(path: &std::path::Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("harmonization {}: {e}", path.display()))?;
    let mut root: Value = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("harmonization {}: {e}", path.display()))?;
    if root.get("classification").is_none() {
        let built_in: Value = serde_json::from_str(DATA)?;
        if let Some(o) = root.as_object_mut() {
            o.insert("classification".into(), built_in["classification"].clone());
        }
    }
    let h = Harmonization::load(&root.to_string())
        .map_err(|e| anyhow::anyhow!("harmonization {}: {e:#}", path.display()))?;
    H.set(h)
        .map_err(|_| anyhow::anyhow!("harmonization {}: loaded too late", path.display()))
}

/// `^[a-z_][a-z_0-9]+(\.[a-z_0-9]+)*$` without a regex engine: it runs for every
/// `extra.*` key of every message.
pub fn is_valid_key_syntax(key: &str) -> bool {
    let b = key.as_bytes();
    if b.len() < 2 || !(b[0].is_ascii_lowercase() || b[0] == b'_') {
        return false;
    }
    let word = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_';
    if !word(b[1]) {
        return false;
    }
    let mut prev_dot = false;
    for &c in &b[2..] {
        if c == b'.' {
            if prev_dot {
                return false;
            }
            prev_dot = true;
        } else if word(c) {
            prev_dot = false;
        } else {
            return false;
        }
    }
    !prev_dot
}

/// A Python `re` pattern for the `regex` crate. Python's `$` (without MULTILINE)
/// also matches before a newline that ends the text, so IntelMQ accepts
/// `"high\n"` for `severity` (`^(critical|high|...)$`) when a value is taken as
/// given; `regex`'s `$` matches only at the very end. Everything else in
/// harmonization.conf's patterns means the same in both engines.
pub fn py_regex(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                out.push(c);
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push(c);
                // A `]` right after `[` or `[^` is a literal in both engines.
                let rest = chars.as_str();
                let skip = if rest.starts_with("^]") {
                    2
                } else if rest.starts_with(']') {
                    1
                } else {
                    0
                };
                for _ in 0..skip {
                    out.push(chars.next().expect("checked"));
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            '$' if !in_class => out.push_str("(?:\\n?\\z)"),
            c => out.push(c),
        }
    }
    out
}

impl Harmonization {
    fn load(text: &str) -> anyhow::Result<Harmonization> {
        let root: Value = serde_json::from_str(text)?;
        let fields = |class: &str| -> anyhow::Result<Vec<FieldSpec>> {
            let mut out = Vec::new();
            let obj = root[class]
                .as_object()
                .ok_or_else(|| anyhow::anyhow!("no class {class}"))?;
            for (name, spec) in obj {
                let ty_name = spec["type"].as_str().unwrap_or("");
                let ty = FieldType::from_name(ty_name)
                    .ok_or_else(|| anyhow::anyhow!("unknown type {ty_name} of {name}"))?;
                let rx = |k: &str, ci: bool| -> anyhow::Result<Option<Pattern>> {
                    match spec.get(k).and_then(Value::as_str) {
                        None => Ok(None),
                        Some(r) => Ok(Some(Pattern::new(r, ci)?)),
                    }
                };
                let idx = u8::try_from(out.len())
                    .ok()
                    .filter(|&i| i < 128)
                    .ok_or_else(|| anyhow::anyhow!("{class}: more than 128 fields"))?;
                out.push(FieldSpec {
                    idx,
                    name: Box::leak(name.clone().into_boxed_str()),
                    ty,
                    length: spec
                        .get("length")
                        .and_then(Value::as_u64)
                        .map(|n| n as usize),
                    regex: rx("regex", false)?,
                    iregex: rx("iregex", true)?,
                });
            }
            Ok(out)
        };
        let event = fields("event")?;
        let report = fields("report")?;
        let index = |v: &[FieldSpec]| v.iter().enumerate().map(|(i, f)| (f.name, i)).collect();
        let c = &root["classification"];
        let strmap = |v: &Value| -> HashMap<String, String> {
            v.as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                        .collect()
                })
                .unwrap_or_default()
        };
        Ok(Harmonization {
            event_index: index(&event),
            report_index: index(&report),
            event,
            report,
            taxonomy_of_type: strmap(&c["taxonomy_of_type"]).into_iter().collect(),
            type_aliases: strmap(&c["type_aliases"]).into_iter().collect(),
            taxonomies: c["taxonomies"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default(),
            taxonomy_aliases: strmap(&c["taxonomy_aliases"]).into_iter().collect(),
        })
    }

    /// The field spec of `key` in class `t`; for `extra.x` the spec of `extra`
    /// with `subitem == true`.
    pub fn lookup(&self, t: MsgType, key: &str) -> Option<(&FieldSpec, bool)> {
        let (fields, index) = match t {
            MsgType::Event => (&self.event, &self.event_index),
            MsgType::Report => (&self.report, &self.report_index),
        };
        if let Some(&i) = index.get(key) {
            return Some((&fields[i], false));
        }
        let head = &key[..memchr::memchr(b'.', key.as_bytes())?];
        let &i = index.get(head)?;
        let spec = &fields[i];
        // Only JSONDict fields have sub-items; IntelMQ would crash on others.
        (spec.ty == FieldType::JsonDict && is_valid_key_syntax(key)).then_some((spec, true))
    }

    /// Which class's table a spec belongs to.
    pub fn lookup_class_of(&self, spec: &FieldSpec) -> Option<MsgType> {
        if self
            .event
            .get(spec.idx as usize)
            .is_some_and(|f| std::ptr::eq(f, spec))
        {
            Some(MsgType::Event)
        } else if self
            .report
            .get(spec.idx as usize)
            .is_some_and(|f| std::ptr::eq(f, spec))
        {
            Some(MsgType::Report)
        } else {
            None
        }
    }

    pub fn fields(&self, t: MsgType) -> &[FieldSpec] {
        match t {
            MsgType::Event => &self.event,
            MsgType::Report => &self.report,
        }
    }

    /// The taxonomy a classification type belongs to (IntelMQ's taxonomy expert).
    pub fn taxonomy_of(&self, ty: &str) -> Option<&str> {
        self.taxonomy_of_type.get(ty).map(String::as_str)
    }
}

/// Values IntelMQ ignores: adding them is a no-op (`Message._IGNORED_VALUES` + None).
pub fn is_ignored(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty() || s == "-" || s == "N/A",
        _ => false,
    }
}

/// Python's `str.strip()` whitespace.
pub fn py_strip(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || ('\x1c'..='\x1f').contains(&c))
}

/// `GenericType.sanitize`: falsy -> None, strings stripped, everything else `str()`.
fn generic_sanitize(v: &Value) -> Option<String> {
    if !truthy(v) {
        return None;
    }
    Some(match v {
        Value::String(s) => py_strip(s).to_string(),
        other => py_str(other),
    })
}

/// Is `v` valid for type `t` as it is (IntelMQ's `is_valid(value)`, no sanitation)?
pub fn is_valid(t: FieldType, v: &Value) -> bool {
    use FieldType::*;
    match v {
        Value::String(x) => is_valid_str(t, x),
        Value::Bool(_) => matches!(t, Boolean | Accuracy),
        Value::Number(n) => match t {
            Integer => n.is_i64() || n.is_u64(),
            Float => true,
            Accuracy => n.as_f64().is_some_and(|f| (0.0..=100.0).contains(&f)),
            Asn => n
                .as_i64()
                .map(|n| n as i128)
                .or_else(|| n.as_u64().map(|n| n as i128))
                .is_some_and(|n| n > 0 && n <= 4294967295),
            _ => false,
        },
        _ => false,
    }
}

/// [`is_valid`] for a string value, without building a `Value`: the stream loop
/// checks every string of every message in place, in the input line.
pub fn is_valid_str(t: FieldType, x: &str) -> bool {
    use FieldType::*;
    let h = harmonization();
    if x.is_empty() {
        return false;
    }
    match t {
        String => true,
        LowercaseString => is_lower(x),
        UppercaseString => is_upper(x),
        Base64 => b64_is_valid(x),
        Boolean | Integer | Float | Accuracy | Asn => false,
        IpAddress => ip_is_valid(x),
        IpNetwork => parse_network(x, true).is_some(),
        Fqdn => fqdn_is_valid(x),
        Url => url_is_valid(x),
        DateTime => canonical_iso(x) || timeparse::is_intelmq_iso(x),
        Json => serde_json::from_str::<serde::de::IgnoredAny>(x).is_ok(),
        JsonDict => {
            matches!(serde_json::from_str::<Value>(x), Ok(Value::Object(m)) if !m.is_empty())
        }
        Registry => matches!(x, "AFRINIC" | "APNIC" | "ARIN" | "LACNIC" | "RIPE"),
        Tlp => matches!(x, "WHITE" | "GREEN" | "AMBER" | "RED"),
        ClassificationTaxonomy => h.taxonomies.iter().any(|t| t == x),
        ClassificationType => h.taxonomy_of_type.contains_key(x),
    }
}

/// Is `x` certainly its own sanitized form for type `t`, and sanitation would
/// succeed (`sanitize(t, x) == Some(x)`)? A cheap check, so that adding a value
/// that is normal already (most values a parser or expert adds) skips the
/// sanitizer's copies. `false` only means "not known": the caller sanitizes.
pub fn sanitize_keeps(t: FieldType, x: &str) -> bool {
    use FieldType::*;
    let b = x.as_bytes();
    // Printable ASCII at both ends: `py_strip` changes nothing. (Other ends are
    // left to the sanitizer: Python's whitespace includes many non-ASCII spaces.)
    let (Some(&first), Some(&last)) = (b.first(), b.last()) else {
        return false;
    };
    if !(first.is_ascii_graphic() && last.is_ascii_graphic()) {
        return false;
    }
    let h = harmonization();
    let lower_ascii = || ascii_lower(b);
    match t {
        String => true,
        LowercaseString => lower_ascii(),
        UppercaseString => x.is_ascii() && !b.iter().any(u8::is_ascii_lowercase),
        // fqdn_sanitize: strip, trim dots, IDNA (ASCII labels pass when not empty
        // and at most 63 bytes), lower-case.
        Fqdn => {
            let f = scan_name(b);
            first != b'.' && last != b'.' && !f.upper_or_high && f.labels_fit
        }
        // url_sanitize returns its input when there is no `hxxp` to fix, nothing
        // for `clean` to remove, and the split has a network location.
        Url => {
            !x.contains("hxxp")
                && matches!(pyurl::clean(x), std::borrow::Cow::Borrowed(c) if c.len() == x.len())
                && matches!(pyurl::urlsplit(x), Ok(r) if !r.netloc.is_empty())
        }
        // Rust's IPv4 parser takes only the dotted-quad form without leading zeros,
        // which is exactly how Python writes an address.
        IpAddress => x.parse::<std::net::Ipv4Addr>().is_ok(),
        DateTime => canonical_iso(x),
        ClassificationType => lower_ascii() && !h.type_aliases.contains_key(x),
        ClassificationTaxonomy => lower_ascii() && !h.taxonomy_aliases.contains_key(x),
        _ => false,
    }
}

/// `YYYY-MM-DDTHH:MM:SS+00:00` or with `.ffffff`, a real calendar date: the form
/// every IntelMQ timestamp has, checked without parsing machinery. Other forms
/// Python's strptime also accepts go through [`timeparse::is_intelmq_iso`].
fn canonical_iso(x: &str) -> bool {
    // `d` marks a digit; every other byte must be itself. One pass without early
    // exit over a fixed template (the compiler unrolls it).
    const LONG: &[u8; 32] = b"dddd-dd-ddTdd:dd:dd.dddddd+00:00";
    const SHORT: &[u8; 25] = b"dddd-dd-ddTdd:dd:dd+00:00";
    let b = x.as_bytes();
    let d = |i: usize| b[i].wrapping_sub(b'0') as u32;
    let fits = |t: &[u8]| {
        t.iter().zip(b).fold(true, |ok, (&t, &c)| {
            ok & if t == b'd' {
                c.is_ascii_digit()
            } else {
                c == t
            }
        })
    };
    let ok = match b.len() {
        25 => fits(SHORT),
        32 => fits(LONG),
        _ => false,
    };
    if !ok {
        return false;
    }
    let (y, m, day) = (
        d(0) * 1000 + d(1) * 100 + d(2) * 10 + d(3),
        d(5) * 10 + d(6),
        d(8) * 10 + d(9),
    );
    let (h, min, sec) = (d(11) * 10 + d(12), d(14) * 10 + d(15), d(17) * 10 + d(18));
    h < 24
        && min < 60
        && sec < 60
        && y >= 1
        && chrono::NaiveDate::from_ymd_opt(y as i32, m, day).is_some()
}

/// IntelMQ's `is_valid(value, sanitize=True)` for type `t`. Mostly "valid after
/// [`sanitize`]", with IntelMQ's per-type quirks: `Boolean`, `Integer` and `Float`
/// accept anything their sanitation does not reject, `Accuracy` checks the range of
/// the sanitized number, and `LowercaseString` first turns non-strings into text
/// (`is_valid(123, sanitize=True)` is true although `sanitize(123)` is `None`).
/// `Message` never uses this (it sanitizes, then validates); experts that call
/// IntelMQ's `is_valid(..., sanitize=True)` do.
pub fn is_valid_sanitized(t: FieldType, v: &Value) -> bool {
    use FieldType::*;
    match t {
        Boolean => v.is_boolean() || sanitize(t, v).is_some(),
        Integer | Float | Accuracy => sanitize(t, v).is_some(),
        LowercaseString => match v {
            Value::String(_) => sanitize(t, v).is_some_and(|x| is_valid(t, &x)),
            other => generic_sanitize(other)
                .and_then(|x| string_case(&Value::String(x), true))
                .is_some_and(|x| is_valid(t, &Value::String(x))),
        },
        _ => sanitize(t, v).is_some_and(|x| is_valid(t, &x)),
    }
}

/// IntelMQ's `sanitize(value)` for type `t`: the normal form, or `None`.
pub fn sanitize(t: FieldType, v: &Value) -> Option<Value> {
    use FieldType::*;
    let h = harmonization();
    let string = |x: std::string::String| Some(Value::String(x));
    match t {
        String => generic_sanitize(v).map(Value::String),
        LowercaseString => string_case(v, true).map(Value::String),
        UppercaseString => string_case(v, false).map(Value::String),
        Base64 => match v {
            Value::String(x) => string(base64::engine::general_purpose::STANDARD.encode(x)),
            _ => None,
        },
        Boolean => match v {
            Value::Bool(b) => Some(Value::Bool(*b)),
            Value::String(x) => match py_strip(x).to_lowercase().as_str() {
                "true" => Some(Value::Bool(true)),
                "false" => Some(Value::Bool(false)),
                _ => None,
            },
            Value::Number(n) => match n.as_i64() {
                Some(0) if !n.is_f64() => Some(Value::Bool(false)),
                Some(1) if !n.is_f64() => Some(Value::Bool(true)),
                _ => None,
            },
            _ => None,
        },
        // A JSON integer beyond i64 (up to u64) is kept as it is; Python's ints are
        // unbounded, ours stop at 64 bits.
        Integer if v.is_u64() => Some(v.clone()),
        Integer => py_int(v).map(Value::from),
        Float => py_float(v).and_then(|f| serde_json::Number::from_f64(f).map(Value::Number)),
        Accuracy => {
            let f = match v {
                Value::Bool(b) => Some(if *b { 100.0 } else { 0.0 }),
                other => py_float(other).filter(|f| (0.0..=100.0).contains(f)),
            }?;
            serde_json::Number::from_f64(f).map(Value::Number)
        }
        Asn => {
            let v2;
            let v = match v {
                // `get`: the first two bytes may split a character ("ﬁ1").
                Value::String(x) if x.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("as")) => {
                    v2 = Value::String(x[2..].to_string());
                    &v2
                }
                other => other,
            };
            py_int(v)
                .filter(|&n| n > 0 && n <= 4294967295)
                .map(Value::from)
        }
        IpAddress => ip_sanitize(v).map(Value::String),
        IpNetwork => {
            let x = generic_sanitize(v)?;
            parse_network(&x, false).map(Value::String)
        }
        Fqdn => fqdn_sanitize(v).map(Value::String),
        Url => url_sanitize(v).map(Value::String),
        DateTime => match v {
            Value::String(x) => timeparse::sanitize(x).map(Value::String),
            _ => None,
        },
        Json => match v {
            Value::Null => None,
            // The stripped text if it is JSON, else the *original* string dumped.
            Value::String(x) => {
                let t = py_strip(x);
                if !t.is_empty() && serde_json::from_str::<Value>(t).is_ok() {
                    string(t.to_string())
                } else {
                    string(py_json_dumps(v, true))
                }
            }
            other => string(py_json_dumps(other, true)),
        },
        JsonDict => {
            if !truthy(v) {
                return None;
            }
            match v {
                Value::String(x) => {
                    let t = Value::String(py_strip(x).to_string());
                    if is_valid(JsonDict, &t) {
                        Some(t)
                    } else {
                        string(py_json_dumps(v, true))
                    }
                }
                other => string(py_json_dumps(other, true)),
            }
        }
        Registry => {
            let x = string_case(v, false)?;
            string(if x == "RIPENCC" || x == "RIPE-NCC" {
                "RIPE".into()
            } else {
                x
            })
        }
        Tlp => {
            let x = string_case(v, false).filter(|x| !x.is_empty())?;
            // ^(TLP:?)?\s*
            let rest = x
                .strip_prefix("TLP")
                .map(|r| r.strip_prefix(':').unwrap_or(r));
            // Python's `\s` is str.isspace(), which includes \x1c..\x1f.
            let rest = rest
                .unwrap_or(&x)
                .trim_start_matches(|c: char| c.is_whitespace() || ('\x1c'..='\x1f').contains(&c));
            string(if rest == "YELLOW" {
                "AMBER".into()
            } else {
                rest.to_string()
            })
        }
        ClassificationTaxonomy => {
            let x = string_case(v, true)?;
            let x = h.taxonomy_aliases.get(&x).cloned().unwrap_or(x);
            string(py_strip(&x).to_string()).filter(truthy)
        }
        ClassificationType => {
            let x = string_case(v, true)?;
            let x = h.type_aliases.get(&x).cloned().unwrap_or(x);
            string(py_strip(&x).to_string()).filter(truthy)
        }
    }
}

/// All ASCII and no capital letter. One pass without early exit, so that it
/// vectorizes.
fn ascii_lower(b: &[u8]) -> bool {
    !b.iter()
        .fold(false, |any, &c| any | c.is_ascii_uppercase() | (c >= 0x80))
}

/// Every dot-separated label of an ASCII name is 1 to 63 bytes: all that
/// Python's IDNA codec checks of ASCII labels.
fn ascii_labels_fit(b: &[u8]) -> bool {
    scan_name(b).labels_fit
}

/// What the FQDN checks ask of a name, found in one pass (every event with a
/// host name has it checked when read and when added).
struct NameFacts {
    /// Upper-case ASCII or a byte above 0x7f.
    upper_or_high: bool,
    /// A ':', '/', '?' or '#'.
    url_char: bool,
    /// Only digits and dots (perhaps an IPv4 address).
    digits_dots: bool,
    /// Every dot-separated label is 1 to 63 bytes.
    labels_fit: bool,
}

const UPPER_OR_HIGH: u8 = 1;
const URL_CHAR: u8 = 2;
const NOT_DIGIT_DOT: u8 = 4;
const DOT: u8 = 8;
static NAME_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = if b.is_ascii_uppercase() || b >= 0x80 {
            UPPER_OR_HIGH
        } else {
            0
        } | match b {
            b':' | b'/' | b'?' | b'#' => URL_CHAR,
            _ => 0,
        } | if b.is_ascii_digit() || b == b'.' {
            0
        } else {
            NOT_DIGIT_DOT
        } | if b == b'.' { DOT } else { 0 };
        c += 1;
    }
    t
};

fn scan_name(b: &[u8]) -> NameFacts {
    let mut any = 0u8;
    let mut label = 0usize;
    let mut labels_fit = true;
    for &c in b {
        let k = NAME_CLASS[c as usize];
        any |= k;
        if k & DOT != 0 {
            labels_fit &= label != 0 && label <= 63;
            label = 0;
        } else {
            label += 1;
        }
    }
    NameFacts {
        upper_or_high: any & UPPER_OR_HIGH != 0,
        url_char: any & URL_CHAR != 0,
        digits_dots: any & NOT_DIGIT_DOT == 0,
        labels_fit: labels_fit && label != 0 && label <= 63,
    }
}

fn is_lower(x: &str) -> bool {
    // Non-ASCII text takes the full Unicode mapping.
    if ascii_lower(x.as_bytes()) {
        return true;
    }
    if x.is_ascii() {
        return false;
    }
    x.to_lowercase() == x
}

fn is_upper(x: &str) -> bool {
    if x.is_ascii() {
        !x.bytes().any(|b| b.is_ascii_lowercase())
    } else {
        x.to_uppercase() == x
    }
}

/// `LowercaseString`/`UppercaseString.sanitize`: only strings; case-mapped, then
/// `String.sanitize` (strip; `""` -> None, but `" "` -> `""`).
fn string_case(v: &Value, lower: bool) -> Option<String> {
    let x = v.as_str().filter(|x| !x.is_empty())?;
    let mapped = if lower {
        x.to_lowercase()
    } else {
        x.to_uppercase()
    };
    // `" "` gives `""`, as in Python (`sanitize` returns it; validation fails).
    Some(py_strip(&mapped).to_string())
}

/// Python's `int(value)` for a JSON value.
pub fn py_int(v: &Value) -> Option<i64> {
    match v {
        Value::Bool(b) => Some(*b as i64),
        Value::Number(n) => n.as_i64().or_else(|| {
            // Truncation like Python's int(float); out of i64 range is a failure,
            // never a saturated value.
            n.as_f64()
                .filter(|f| f.is_finite())
                .map(f64::trunc)
                .filter(|f| (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(f))
                .map(|f| f as i64)
        }),
        Value::String(x) => {
            let t = py_number_text(x)?;
            let t = py_underscores(&t)?;
            let digits = t.strip_prefix(['+', '-']).unwrap_or(&t);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            t.parse::<i64>().ok()
        }
        _ => None,
    }
}

/// The first zero of every run of Unicode decimal digits beyond ASCII (Unicode 14,
/// Python 3.11's `unicodedata.decimal`): each is followed by 1..9.
const DECIMAL_ZEROS: [u32; 65] = [
    0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66, 0xDE6,
    0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50,
    0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10,
    0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650,
    0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x16A60, 0x16AC0, 0x16B50,
    0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0,
];

/// The text Python's `int(str)` / `float(str)` parse: Unicode decimal digits
/// become ASCII digits, Unicode whitespace a space (any other non-ASCII character
/// makes it invalid), then whitespace is stripped at both ends. Unlike
/// `str.strip()`, the ASCII separators \x1c..\x1f are not whitespace here.
fn py_number_text(x: &str) -> Option<std::borrow::Cow<'_, str>> {
    let ws = |c: char| c.is_whitespace();
    if x.is_ascii() {
        return Some(std::borrow::Cow::Borrowed(x.trim_matches(ws)));
    }
    let mut out = String::with_capacity(x.len());
    for c in x.chars() {
        if c.is_ascii() {
            out.push(c);
        } else if c.is_whitespace() {
            out.push(' ');
        } else {
            let cp = c as u32;
            let i = DECIMAL_ZEROS.partition_point(|&z| z <= cp);
            let zero = *DECIMAL_ZEROS.get(i.checked_sub(1)?)?;
            let d = cp - zero;
            if d > 9 {
                return None;
            }
            out.push(char::from(b'0' + d as u8));
        }
    }
    Some(std::borrow::Cow::Owned(out.trim_matches(ws).to_string()))
}

/// Python's numeric literals allow single underscores between digits only
/// (`1_000`, not `_1`, `1_`, `1__0`, `1_.5`).
fn py_underscores(t: &str) -> Option<std::borrow::Cow<'_, str>> {
    if !t.contains('_') {
        return Some(std::borrow::Cow::Borrowed(t));
    }
    let b = t.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        if c == b'_' {
            let digit = |j: Option<&u8>| j.is_some_and(|d| d.is_ascii_digit());
            if !digit(i.checked_sub(1).and_then(|j| b.get(j))) || !digit(b.get(i + 1)) {
                return None;
            }
        }
    }
    Some(std::borrow::Cow::Owned(t.replace('_', "")))
}

/// Python's `float(value)` for a JSON value (NaN and infinities cannot be written as
/// JSON, so they count as failures).
pub fn py_float(v: &Value) -> Option<f64> {
    let f = match v {
        Value::Bool(b) => Some(*b as i64 as f64),
        Value::Number(n) => n.as_f64(),
        Value::String(x) => {
            let t = py_number_text(x)?;
            let t = py_underscores(&t)?;
            let lower = t.to_ascii_lowercase();
            if lower.contains("inf") || lower.contains("nan") {
                None
            } else {
                t.parse::<f64>().ok()
            }
        }
        _ => None,
    }?;
    f.is_finite().then_some(f)
}

/// Python's `base64.b64decode(x)` (non-strict `binascii.a2b_base64`): bytes
/// outside the alphabet are skipped, a complete padding ends the input (anything
/// after it is ignored: `"YQ==YQ=="` is `b"a"`), `=` early in a quad is skipped,
/// and a final incomplete quad is an error ("Incorrect padding"). `out` receives
/// the bytes; `None` only validates (the `raw` check of every event: no allocation).
fn b64_python(x: &str, mut out: Option<&mut Vec<u8>>) -> bool {
    fn val(c: u8) -> Option<u8> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        })
    }
    let mut quad_pos = 0u8;
    let mut pads = 0u32;
    let mut left = 0u8;
    for &c in x.as_bytes() {
        if c == b'=' {
            if quad_pos >= 2 {
                pads += 1;
                if quad_pos as u32 + pads >= 4 {
                    return true;
                }
            }
            continue;
        }
        let Some(d) = val(c) else { continue };
        match quad_pos {
            0 => {
                left = d;
                quad_pos = 1;
            }
            1 => {
                if let Some(o) = out.as_deref_mut() {
                    o.push((left << 2) | (d >> 4));
                }
                left = d & 0x0f;
                quad_pos = 2;
            }
            2 => {
                if let Some(o) = out.as_deref_mut() {
                    o.push((left << 4) | (d >> 2));
                }
                left = d & 0x03;
                quad_pos = 3;
            }
            _ => {
                if let Some(o) = out.as_deref_mut() {
                    o.push((left << 6) | d);
                }
                quad_pos = 0;
            }
        }
    }
    quad_pos == 0
}

/// Is `x` base64 as Python's `b64decode` (IntelMQ's `Base64.is_valid`) sees it?
pub fn b64_is_valid(x: &str) -> bool {
    b64_canonical(x.as_bytes()) || b64_python(x, None)
}

/// Plain standard base64 (alphabet only, length a multiple of four, at most two
/// `=` at the end): what every encoder writes, and valid for Python too. One
/// table lookup per byte instead of the lenient decoder's state machine.
fn b64_canonical(b: &[u8]) -> bool {
    static ALPHABET: [bool; 256] = {
        let mut t = [false; 256];
        let mut c = 0;
        while c < 256 {
            let u = c as u8;
            t[c] = u.is_ascii_alphanumeric() || u == b'+' || u == b'/';
            c += 1;
        }
        t
    };
    if b.is_empty() || !b.len().is_multiple_of(4) {
        return false;
    }
    let body = match b {
        [rest @ .., x, b'=', b'='] if ALPHABET[*x as usize] => rest,
        [rest @ .., b'='] => rest,
        _ => b,
    };
    body.iter().all(|&c| ALPHABET[c as usize])
}

/// Decoding like Python's `b64decode(x)` (see [`b64_is_valid`]).
pub fn b64_lenient_decode(x: &str) -> Option<Vec<u8>> {
    // Well-formed input (the common case) takes the fast decoder.
    if let Ok(d) = base64::engine::general_purpose::STANDARD.decode(x) {
        return Some(d);
    }
    let mut out = Vec::with_capacity(x.len() / 4 * 3 + 3);
    b64_python(x, Some(&mut out)).then_some(out)
}

/// The `raw` field's bytes.
pub fn b64_decode_raw(x: &str) -> Option<Vec<u8>> {
    b64_lenient_decode(x)
}

fn ip_is_valid(x: &str) -> bool {
    if x.is_empty() || memchr::memchr(b'%', x.as_bytes()).is_some() {
        return false;
    }
    match x.parse::<IpAddr>() {
        Ok(IpAddr::V4(a)) => !a.is_unspecified(),
        Ok(IpAddr::V6(_)) => true,
        Err(_) => false,
    }
}

/// `IPAddress.sanitize`.
fn ip_sanitize(v: &Value) -> Option<String> {
    let from_int = |n: u128| -> Option<String> {
        if n <= u32::MAX as u128 {
            Some(std::net::Ipv4Addr::from(n as u32).to_string())
        } else {
            Some(py_ip_str(IpAddr::V6(std::net::Ipv6Addr::from(n))))
        }
    };
    match v {
        Value::Number(n) if !n.is_f64() => {
            return n.as_u64().and_then(|u| from_int(u as u128));
        }
        // bool is an int in Python: ip_address(True) is 0.0.0.1.
        Value::Bool(b) => return from_int(*b as u128),
        _ => {}
    }
    let x = generic_sanitize(v)?;
    // Integers given as strings.
    if !x.is_empty()
        && x.bytes().all(|b| b.is_ascii_digit())
        && !(x.len() > 1 && x.starts_with('0'))
    {
        return x.parse::<u128>().ok().and_then(from_int);
    }
    let x = x.split('%').next().unwrap_or("");
    let (addr, prefix) = match x.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (x, None),
    };
    let ip: IpAddr = addr.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    match prefix {
        None => Some(py_ip_str(ip)),
        Some(p) => {
            let n: u32 = parse_prefix(p, ip.is_ipv4())?;
            // Only a single-address network is an address; with strict parsing a
            // shorter prefix with host bits set is an error, without them it is a
            // network of many addresses: both are rejected.
            (n == max).then(|| py_ip_str(ip))
        }
    }
}

/// An address as Python 3.11's `str(ip_address(..))` writes it. Rust writes
/// IPv4-mapped IPv6 addresses in dotted form (`::ffff:192.0.2.1`), Python 3.11 in
/// hex (`::ffff:c000:201`); everything else is the same RFC 5952 form.
pub fn py_ip_str(ip: IpAddr) -> String {
    match ip {
        IpAddr::V6(a) => {
            let s = a.segments();
            if s[..5] == [0, 0, 0, 0, 0] && s[5] == 0xffff {
                format!("::ffff:{:x}:{:x}", s[6], s[7])
            } else {
                a.to_string()
            }
        }
        IpAddr::V4(a) => a.to_string(),
    }
}

/// A prefix length as Python's `ipaddress` accepts it: decimal digits, or for IPv4
/// a netmask / hostmask in dotted form.
fn parse_prefix(p: &str, v4: bool) -> Option<u32> {
    if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && p.len() <= 3 {
        let n: u32 = p.parse().ok()?;
        return (n <= if v4 { 32 } else { 128 }).then_some(n);
    }
    if v4 {
        let m: std::net::Ipv4Addr = p.parse().ok()?;
        let bits = u32::from(m);
        if bits.leading_ones() + bits.trailing_zeros() == 32 {
            return Some(bits.leading_ones());
        }
        let inv = !bits;
        if inv.leading_ones() + inv.trailing_zeros() == 32 {
            return Some(inv.leading_ones());
        }
    }
    None
}

/// Python's `ip_network(x, strict)`, normalised to its string form.
pub fn parse_network(x: &str, strict: bool) -> Option<String> {
    let (addr, prefix) = match x.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (x, None),
    };
    // Python 3.9+ accepts an IPv6 scope id (`fe80::%eth0/10`) and keeps it.
    let (addr, scope) = match addr.split_once('%') {
        Some((a, sc)) if !sc.is_empty() && !sc.contains('%') => (a, Some(sc)),
        Some(_) => return None,
        None => (addr, None),
    };
    let ip: IpAddr = addr.parse().ok()?;
    if scope.is_some() && ip.is_ipv4() {
        return None;
    }
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let n = match prefix {
        None => max,
        Some(p) => parse_prefix(p, ip.is_ipv4())?,
    };
    let net = ipnetwork::IpNetwork::new(ip, n as u8).ok()?;
    if strict && net.network() != ip {
        return None;
    }
    Some(match scope {
        Some(sc) => format!("{}%{}/{}", py_ip_str(net.network()), sc, n),
        None => format!("{}/{}", py_ip_str(net.network()), n),
    })
}

/// Python's `idna` codec (IDNA 2003) followed by `.lower()`, for FQDN sanitation.
pub fn idna_encode(x: &str) -> Option<String> {
    if x.is_ascii() {
        // ASCII labels pass through; the codec only checks their length.
        let trimmed = x.strip_suffix('.').unwrap_or(x);
        return ascii_labels_fit(trimmed.as_bytes()).then(|| x.to_string());
    }
    // Python's codec is IDNA 2003 (nameprep); the `idna` crate is UTS 46
    // non-transitional. They differ on the "deviation" characters, which
    // nameprep maps: ß -> ss, final sigma -> sigma, ZWJ/ZWNJ -> nothing.
    let mapped: String;
    let x = if x.contains(['ß', 'ς', '\u{200c}', '\u{200d}']) {
        mapped = x
            .chars()
            .filter(|c| !matches!(c, '\u{200c}' | '\u{200d}'))
            .flat_map(|c| match c {
                'ß' => ['s', 's'].into_iter().take(2),
                'ς' => ['σ', ' '].into_iter().take(1),
                c => [c, ' '].into_iter().take(1),
            })
            .collect();
        &mapped
    } else {
        x
    };
    let out = idna::domain_to_ascii(x).ok()?;
    // The codec also limits every label (after punycode) to 63 bytes.
    let trimmed = out.strip_suffix('.').unwrap_or(&out);
    if trimmed.split('.').any(|l| l.is_empty() || l.len() > 63) {
        return None;
    }
    Some(out)
}

fn fqdn_is_valid(x: &str) -> bool {
    let f = scan_name(x.as_bytes());
    if x.is_empty()
        || x.starts_with('.')
        || x.ends_with('.')
        || f.url_char
        || (f.upper_or_high && !is_lower(x))
        // (':' is ruled out above, so only a dotted IPv4 address can be an IP.)
        || (f.digits_dots && ip_is_valid(x))
    {
        return false;
    }
    if !f.upper_or_high {
        // idna_encode of ASCII is the text itself when its labels fit: checked
        // without the copy.
        return f.labels_fit;
    }
    idna_encode(x).is_some_and(|e| e == x)
}

fn fqdn_sanitize(v: &Value) -> Option<String> {
    let x = generic_sanitize(v)?;
    let x = x.trim_matches('.');
    if x.is_empty() {
        return None;
    }
    idna_encode(x).map(|e| e.to_lowercase())
}

fn url_is_valid(x: &str) -> bool {
    if x.is_empty() || x.starts_with(char::is_whitespace) {
        return false;
    }
    let cleaned = pyurl::clean(x);
    matches!(pyurl::urlsplit(&cleaned), Ok(r) if !r.netloc.is_empty())
}

fn url_sanitize(v: &Value) -> Option<String> {
    let x = generic_sanitize(v)?;
    if x.is_empty() {
        return None;
    }
    let x = if x.contains("hxxp") {
        x.replace("hxxp://", "http://")
            .replace("hxxps://", "https://")
    } else {
        x
    };
    let cleaned = pyurl::clean(&x).into_owned();
    let r = pyurl::urlsplit(&cleaned).ok()?;
    if r.scheme == "file" && r.netloc.is_empty() {
        let fixed = pyurl::SplitResult {
            netloc: "localhost",
            ..r
        };
        return Some(fixed.unsplit());
    }
    (!r.netloc.is_empty()).then_some(x)
}

/// Parse a JSONDict value (already valid) into its items, for flattening.
pub fn jsondict_items(x: &str) -> Option<Map<String, Value>> {
    match serde_json::from_str::<Value>(x) {
        Ok(Value::Object(m)) => Some(m),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The shortcut must never claim a value is normal when the sanitizer would
    /// change or refuse it.
    #[test]
    fn sanitize_keeps_only_what_sanitize_returns_unchanged() {
        use FieldType::*;
        let long = "a".repeat(64);
        let samples = [
            "",
            " ",
            "a",
            " a",
            "a ",
            "A",
            "abc",
            "ABC",
            "Mixed",
            "a\tb",
            "x\u{1c}",
            "example.com",
            "Example.com",
            "example.com.",
            ".example.com",
            "a..b",
            "ex_ample.com",
            "b\u{fc}cher.de",
            "xn--bcher-kva.de",
            "a:b",
            "host-0.example.net",
            &long,
            "192.0.2.1",
            "192.0.2.01",
            "0.0.0.0",
            "::1",
            "192.0.2.1/32",
            "http://example.com/x",
            "hxxp://example.com/",
            "example.com/x",
            "file:///etc/x",
            "http://[::1/",
            "http://a\tb/",
            "https://a/b?c#d",
            "2024-01-01T10:00:00+00:00",
            "2024-01-01T10:00:00.123456+00:00",
            "2024-02-30T10:00:00+00:00",
            "2024-01-01 10:00:00",
            "2024-01-01T10:00:00Z",
            "c2-server",
            "C2-server",
            "c2server",
            "ids-alert",
            "malicious-code",
            "malicious code",
            "phishing",
            "other",
            "unknown",
            "AT",
            "at",
        ];
        let types = [
            String,
            LowercaseString,
            UppercaseString,
            Fqdn,
            Url,
            IpAddress,
            DateTime,
            ClassificationType,
            ClassificationTaxonomy,
            Integer,
            Base64,
        ];
        for t in types {
            for x in samples {
                if sanitize_keeps(t, x) {
                    assert_eq!(
                        sanitize(t, &Value::String(x.to_string())),
                        Some(Value::String(x.to_string())),
                        "{t:?} {x:?}"
                    );
                }
            }
        }
        assert!(sanitize_keeps(Fqdn, "host-0.example.net"));
        assert!(sanitize_keeps(DateTime, "2024-01-01T10:00:00+00:00"));
        assert!(sanitize_keeps(IpAddress, "192.0.2.1"));
        assert!(sanitize_keeps(ClassificationType, "c2-server"));
        assert!(!sanitize_keeps(Fqdn, "Example.com"));
    }

    #[test]
    fn plain_base64_check_agrees_with_python_rules() {
        for x in [
            "YQ==",
            "YWI=",
            "YWJj",
            "YQ=",
            "YQ",
            "Y===",
            "====",
            "YQ==YQ==",
            "Y Q==",
            "YQ=\n=",
            "eyJpcF9hZGRyZXNzIjogIjEwLjAuMC4xIn0=",
            "ab-_",
            "abc\u{e9}",
            "=YQ=",
            "YQ==\n",
        ] {
            assert_eq!(b64_is_valid(x), b64_python(x, None), "{x:?}");
        }
    }

    #[test]
    fn python_dollar_in_regex() {
        let r = Regex::new(&py_regex("^(high|low)$")).unwrap();
        assert!(r.is_match("high"));
        assert!(r.is_match("high\n"));
        assert!(!r.is_match("high\n\n"));
        assert!(!r.is_match("highx"));
        // `$` inside a class and escaped stays literal
        let r = Regex::new(&py_regex(r"^[$]\$x$")).unwrap();
        assert!(r.is_match("$$x"));
    }

    #[test]
    fn base64_like_python() {
        assert!(b64_is_valid("YQ=="));
        assert!(b64_is_valid("YQ==YQ==")); // stops at the padding
        assert!(b64_is_valid("====")); // padding without data: b""
        assert!(b64_is_valid("Y Q = ="));
        assert!(!b64_is_valid("YQ")); // Incorrect padding
        assert!(!b64_is_valid("Y")); // 1 more than a multiple of 4
        assert_eq!(b64_lenient_decode("YQ==YQ==").as_deref(), Some(&b"a"[..]));
        assert_eq!(b64_lenient_decode("Y!Q=\n=").as_deref(), Some(&b"a"[..]));
    }

    #[test]
    fn asn_with_multibyte_start_does_not_panic() {
        assert_eq!(sanitize(FieldType::Asn, &json!("ﬁ1")), None);
        assert_eq!(sanitize(FieldType::Asn, &json!("aé")), None);
        assert_eq!(
            sanitize(FieldType::Asn, &json!("as64496")),
            Some(json!(64496))
        );
    }

    #[test]
    fn integer_does_not_saturate() {
        assert_eq!(py_int(&json!(1e20)), None);
        assert_eq!(py_int(&json!(-1.9)), Some(-1));
        assert_eq!(
            sanitize(FieldType::Integer, &json!(18446744073709551615u64)),
            Some(json!(18446744073709551615u64))
        );
    }

    #[test]
    fn ipv4_mapped_in_python_form() {
        assert_eq!(
            sanitize(FieldType::IpAddress, &json!("::ffff:192.0.2.1")),
            Some(json!("::ffff:c000:201"))
        );
        assert_eq!(
            sanitize(FieldType::IpNetwork, &json!("fe80::%eth0/10")),
            Some(json!("fe80::%eth0/10"))
        );
    }
}

#[cfg(test)]
mod b64_tests {
    use super::*;

    /// The fast check agrees with decoding.
    #[test]
    fn base64_validity_like_python() {
        // Python's b64decode(validate=False) results for each.
        for (x, ok) in [
            ("YR==", true),
            ("YWJ=", true),
            ("Y Q==", true),
            ("YWJj\n", true),
            ("YQ=", false),
            ("Y===", false),
        ] {
            assert_eq!(is_valid_str(FieldType::Base64, x), ok, "{x:?}");
        }
    }
}
