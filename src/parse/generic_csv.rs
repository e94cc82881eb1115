//! Generic CSV: any delimited feed described by parameters, no code
//! (IntelMQ `intelmq.bots.parsers.generic.parser_csv`).
//!
//! Parameters (IntelMQ's names): `columns` (list or comma-separated string; a
//! column may name alternatives `source.ip|source.network`, `__IGNORE__` skips it),
//! `columns_required`, `column_regex_search`, `compose_fields`, `data_type`,
//! `default_url_protocol`, `delimiter`, `filter_text` + `filter_type`,
//! `skip_header`, `time_format`, `type`, `type_translation`.
//!
//! The feed is read line by line ([`Parser::parse_stream`]), so a feed of any
//! size parses in constant memory.

use super::feedio::{self, CsvOpts};
use super::{Params, Parser, Records};
use crate::message::{Add, Message};
use crate::pipeline::Fail;
use crate::timeparse;
use anyhow::{anyhow, bail};
use regex::Regex;
use serde_json::{Map, Value};
use std::io::BufRead;

pub struct GenericCsv {
    /// Per column: the keys to try in order (empty: ignored column).
    columns: Vec<Vec<String>>,
    required: Vec<bool>,
    regex: Vec<(String, Regex)>,
    json_keys: Vec<String>,
    compose: Vec<(String, String)>,
    default_url_protocol: String,
    opts: CsvOpts,
    filter: Option<(String, bool)>,
    time_format: String,
    ty: Option<String>,
    type_translation: Map<String, Value>,
    skip_header: usize,
    tempdata: Vec<String>,
    ending: &'static str,
    /// Reused per row (no per-field allocation on the hot path).
    fields: Vec<String>,
    nfields: usize,
}

/// A parameter that IntelMQ also accepts as a JSON string.
fn maybe_json(v: Option<&Value>) -> anyhow::Result<Option<Value>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(serde_json::from_str(s)?)),
        Some(other) => Ok(Some(other.clone())),
    }
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Parser>> {
    Ok(Box::new(GenericCsv::new(p)?))
}

impl GenericCsv {
    pub fn new(p: &Params) -> anyhow::Result<GenericCsv> {
        let columns: Vec<String> = match p.get("columns") {
            Some(Value::String(s)) => s.split(',').map(|c| c.trim().to_string()).collect(),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| v.as_str().map(String::from).unwrap_or_default())
                .collect(),
            _ => bail!("parameter 'columns' is required"),
        };
        let required: Vec<bool> = match p.get("columns_required") {
            Some(Value::Array(a)) => a.iter().map(|v| v.as_bool().unwrap_or(true)).collect(),
            _ => vec![true; columns.len()],
        };
        if required.len() != columns.len() {
            bail!(
                "Length of parameters 'columns' ({}) and 'columns_required' ({}) needs to be equal.",
                columns.len(),
                required.len()
            );
        }
        let columns: Vec<Vec<String>> = columns
            .iter()
            .map(|c| c.split('|').map(String::from).collect())
            .collect();
        // A typo in a column is found now, not in every record.
        crate::names::check_fields(
            "parameter columns",
            columns
                .iter()
                .flatten()
                .filter(|k| !k.is_empty() && *k != "__IGNORE__"),
        )?;
        let mut regex = Vec::new();
        if let Some(Value::Object(m)) = maybe_json(p.get("column_regex_search"))? {
            for (k, v) in m {
                let r = v
                    .as_str()
                    .ok_or_else(|| anyhow!("column_regex_search.{k}"))?;
                regex.push((k, Regex::new(r)?));
            }
        }
        let mut json_keys = Vec::new();
        if let Some(Value::Object(m)) = maybe_json(p.get("data_type"))? {
            for (k, v) in m {
                if v.as_str() != Some("json") {
                    bail!("data_type.{k}: only 'json' is supported");
                }
                json_keys.push(k);
            }
        }
        let compose = match p.get("compose_fields") {
            Some(Value::Object(m)) => m
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect(),
            _ => Vec::new(),
        };
        let type_translation = match maybe_json(p.get("type_translation"))? {
            Some(Value::Object(m)) => m,
            None | Some(Value::Null) => Map::new(),
            Some(other) => bail!(
                "parameter type_translation: expected an object (feed value -> classification.type), got {other}"
            ),
        };
        for v in type_translation.values() {
            let t = v.as_str().unwrap_or_default();
            crate::names::check_type(t).map_err(|e| anyhow!("parameter type_translation: {e}"))?;
        }
        let filter_type = p.get("filter_type").and_then(Value::as_str);
        if let Some(t) = filter_type {
            if t != "blacklist" && t != "whitelist" {
                bail!("filter_type: expected blacklist or whitelist, got {t:?}");
            }
        }
        let filter = match (p.get("filter_text").and_then(Value::as_str), filter_type) {
            (Some(text), Some(t)) if !text.is_empty() => Some((text.to_string(), t == "whitelist")),
            _ => None,
        };
        let delimiter = p.get("delimiter").and_then(Value::as_str).unwrap_or(",");
        let &[delimiter] = delimiter.as_bytes() else {
            bail!("delimiter must be one ASCII character, got {delimiter:?}");
        };
        let time_format = match p.get("time_format").and_then(Value::as_str) {
            None | Some("") => "fuzzy".to_string(),
            Some(f) => f.to_string(),
        };
        let skip_header = match p.get("skip_header") {
            Some(Value::Bool(b)) => *b as usize,
            Some(Value::Number(n)) => n.as_u64().unwrap_or(0) as usize,
            _ => 0,
        };
        Ok(GenericCsv {
            columns,
            required,
            regex,
            json_keys,
            compose,
            default_url_protocol: p
                .get("default_url_protocol")
                .and_then(Value::as_str)
                .unwrap_or("http://")
                .to_string(),
            opts: CsvOpts {
                delimiter,
                ..CsvOpts::default()
            },
            filter,
            time_format,
            ty: p
                .get("type")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(String::from),
            type_translation,
            skip_header,
            tempdata: Vec::new(),
            ending: "\r\n",
            fields: Vec::new(),
            nfields: 0,
        })
    }

    /// One data row: its event, or why it fails.
    fn event(&self, line: &str, row: &[String], out: &Records) -> Result<Message, Fail> {
        let mut ev = out.new_event();
        for ((keys, value), &required) in self.columns.iter().zip(row).zip(&self.required) {
            let mut done = false;
            let mut last_key = "";
            // How the last value tried shows in the error (Python's repr).
            let mut last_value = String::from("None");
            for key in keys {
                last_key = key;
                // An empty string is never a valid value.
                if value.is_empty() {
                    done = true;
                    break;
                }
                if key == "__IGNORE__" || key.is_empty() {
                    done = true;
                    break;
                }
                let mut v: Value = Value::String(value.clone());
                if let Some((_, re)) = self.regex.iter().find(|(k, _)| k == key) {
                    v = match re.find(value) {
                        Some(m) => Value::String(m.as_str().to_string()),
                        None => Value::Null,
                    };
                }
                if self.json_keys.iter().any(|k| k == key) {
                    let s = v.as_str().unwrap_or_default();
                    v = serde_json::from_str(s)
                        .map_err(|e| Fail::Reject(format!("{key}: not JSON: {e}")))?;
                }
                let is_time = key == "time.source" || key == "time.destination";
                if is_time {
                    let s = match &v {
                        Value::String(s) => s.clone(),
                        other => crate::pyfmt::py_str(other),
                    };
                    v = Value::String(
                        timeparse::convert(&s, Some(&self.time_format))
                            .map_err(|e| Fail::Reject(format!("{key}: {e}")))?,
                    );
                } else if key.ends_with(".url") {
                    let Some(s) = v.as_str().filter(|s| !s.is_empty()) else {
                        last_value = crate::pyfmt::py_repr(&v);
                        continue;
                    };
                    if !s.contains("://") {
                        v = Value::String(format!("{}{s}", self.default_url_protocol));
                    }
                } else if key == "classification.type" && !self.type_translation.is_empty() {
                    let t = v.as_str().and_then(|s| self.type_translation.get(s));
                    if let Some(t) = t {
                        v = t.clone();
                    } else if self.ty.is_none() {
                        last_value = crate::pyfmt::py_repr(&v);
                        continue;
                    }
                }
                // A converted time is already in IntelMQ's form: sanitizing it again
                // would change nothing (and costs a parse).
                let opt = Add {
                    sanitize: !is_time,
                    overwrite: None,
                };
                match ev.add_with(key, v, opt) {
                    Ok(_) => {
                        done = true;
                        break;
                    }
                    Err(crate::message::FieldError::InvalidValue { value, .. }) => {
                        last_value = value
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            if !done && required {
                return Err(Fail::Reject(format!(
                    "invalid value {last_value} for key {last_key:?}"
                )));
            }
        }
        for (key, fmt) in &self.compose {
            ev.set(key, py_format(fmt, row))?;
        }
        if let Some(t) = &self.ty {
            let _ = ev.add_with(
                "classification.type",
                Value::String(t.clone()),
                Add {
                    sanitize: true,
                    overwrite: Some(false),
                },
            );
        }
        // IntelMQ writes the row back with the default dialect (a comma), whatever
        // the delimiter of the feed.
        ev.add("raw", self.raw(line, row))?;
        Ok(ev)
    }

    /// Split a record into `self.fields[..self.nfields]`, reusing the strings.
    fn split(&mut self, line: &str) {
        if line.contains(self.opts.quote as char) {
            let f = feedio::parse_csv_record(line, &self.opts);
            self.nfields = f.len();
            self.fields = f;
            return;
        }
        // No quotes: a plain split on the delimiter (what Python's reader does).
        let mut n = 0;
        if !line.is_empty() {
            for part in line.split(self.opts.delimiter as char) {
                if n == self.fields.len() {
                    self.fields.push(String::new());
                }
                self.fields[n].clear();
                self.fields[n].push_str(part);
                n += 1;
            }
        }
        self.nfields = n;
    }

    /// `raw`: the row written back by Python's csv writer (default dialect) after
    /// the header lines. A row without quotes, line breaks or a delimiter other
    /// than the comma reads back as the line itself.
    fn raw(&self, line: &str, row: &[String]) -> String {
        let plain = self.opts.delimiter == b','
            && !line.contains(['"', '\r', '\n'])
            && !(row.len() == 1 && row[0].is_empty());
        if !plain {
            return feedio::recover_line_csv(&self.tempdata, row, &CsvOpts::default(), self.ending);
        }
        let mut s = String::with_capacity(line.len() + 2);
        for t in &self.tempdata {
            s.push_str(t);
            s.push_str(self.ending);
        }
        s.push_str(line);
        s.push_str(self.ending);
        s
    }

    /// Filter and parse one logical CSV record.
    fn row(&mut self, line: &str, out: &mut Records) -> Result<(), Fail> {
        self.split(line);
        let fields = &self.fields[..self.nfields];
        if fields.is_empty() {
            return Ok(());
        }
        if let Some((text, whitelist)) = &self.filter {
            let joined = fields.join(&(self.opts.delimiter as char).to_string());
            if joined.contains(text.as_str()) != *whitelist {
                return Ok(());
            }
        }
        let result = self.event(line, fields, out);
        let raw = match &result {
            Ok(_) => String::new(),
            Err(_) => self.raw(line, fields),
        };
        out.record_one(raw.as_bytes(), result)
    }
}

/// Python's `str.format(*row)` for `{0}`, `{}` and `{{`/`}}`.
fn py_format(fmt: &str, row: &[String]) -> String {
    let mut out = String::new();
    let mut auto = 0;
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '{' => {
                let mut idx = String::new();
                for d in chars.by_ref() {
                    if d == '}' {
                        break;
                    }
                    idx.push(d);
                }
                let i = if idx.is_empty() {
                    auto += 1;
                    auto - 1
                } else {
                    idx.parse().unwrap_or(usize::MAX)
                };
                out.push_str(row.get(i).map(String::as_str).unwrap_or_default());
            }
            c => out.push(c),
        }
    }
    out
}

/// IntelMQ's clean-up of the feed before CSV reading, for one `\n`-terminated
/// line: NUL bytes removed, leading blanks removed, comment lines and blank
/// lines dropped (`None`).
fn clean_line(line: &str) -> Option<std::borrow::Cow<'_, str>> {
    let l = line.trim_start_matches([' ', '\t', '\0']);
    let l: std::borrow::Cow<str> = if l.contains('\0') {
        let s = l.replace('\0', "");
        let t = s.trim_start_matches([' ', '\t']).to_string();
        t.into()
    } else {
        l.into()
    };
    if l.starts_with('#') || l.is_empty() || l == "\n" {
        return None;
    }
    Some(l)
}

/// Splits cleaned text into physical lines (`\n`, `\r\n`, `\r` endings kept)
/// and joins those of a record with a quoted line break.
#[derive(Default)]
struct Assembler {
    pending: String,
}

impl Assembler {
    /// Feed one physical line; returns a complete record (line ending stripped).
    fn push<'a>(
        &mut self,
        phys: &'a str,
        delim: u8,
        quote: u8,
    ) -> Option<std::borrow::Cow<'a, str>> {
        if self.pending.is_empty() && !phys.as_bytes().contains(&quote) {
            return Some(phys.trim_end_matches(['\r', '\n']).into());
        }
        self.pending.push_str(phys);
        if quoted_field_open(self.pending.as_bytes(), delim, quote) {
            return None;
        }
        let line = self.pending.trim_end_matches(['\r', '\n']).to_string();
        self.pending.clear();
        Some(line.into())
    }
}

/// Does a quoted field stay open at the end of `s`, as Python's csv reader
/// sees it? A quote opens quoting only at the start of a field; inside, a
/// doubled quote is a literal one; a quote elsewhere is an ordinary character.
fn quoted_field_open(s: &[u8], delim: u8, quote: u8) -> bool {
    let mut in_quotes = false;
    let mut field_start = true;
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        if in_quotes {
            if b == quote {
                if s.get(i + 1) == Some(&quote) {
                    i += 1;
                } else {
                    in_quotes = false;
                }
            }
        } else if b == delim || b == b'\n' || b == b'\r' {
            field_start = true;
        } else if b == quote && field_start {
            in_quotes = true;
            field_start = false;
        } else {
            field_start = false;
        }
        i += 1;
    }
    in_quotes
}

/// Physical lines of a `\n`-terminated chunk: split further at lone `\r`.
fn physical(chunk: &str) -> impl Iterator<Item = &str> {
    let mut rest = chunk;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let b = rest.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'\r' && b.get(i + 1) != Some(&b'\n') {
                i += 1;
                break;
            }
            if b[i] == b'\n' {
                i += 1;
                break;
            }
            i += 1;
        }
        let (l, r) = rest.split_at(i);
        rest = r;
        Some(l)
    })
}

/// `rstrip` of the header line by the characters of the line endings seen.
fn strip_header(line: &str) -> String {
    line.trim_end_matches(['\r', '\n']).to_string()
}

impl Parser for GenericCsv {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let text = feedio::decode(data);
        let mut cleaned = String::with_capacity(text.len());
        for chunk in text.split_inclusive('\n') {
            if let Some(l) = clean_line(chunk) {
                cleaned.push_str(&l);
            }
        }
        self.ending = feedio::line_ending(&cleaned);
        self.tempdata.clear();
        let mut asm = Assembler::default();
        let mut skip = self.skip_header;
        for phys in physical(&cleaned) {
            if skip > 0 {
                skip -= 1;
                self.tempdata.push(strip_header(phys));
                continue;
            }
            if let Some(line) = asm.push(phys, self.opts.delimiter, self.opts.quote) {
                self.row(&line, out)?;
            }
        }
        if !asm.pending.is_empty() {
            let line = std::mem::take(&mut asm.pending);
            // A quoted field still open at the end keeps its line breaks (Python).
            self.row(&line, out)?;
        }
        Ok(())
    }

    fn parse_stream(
        &mut self,
        input: &mut dyn BufRead,
        out: &mut Records,
    ) -> Option<Result<(), Fail>> {
        Some(self.stream(input, out))
    }
}

impl GenericCsv {
    fn stream(&mut self, input: &mut dyn BufRead, out: &mut Records) -> Result<(), Fail> {
        self.tempdata.clear();
        // The line ending of the whole feed is not known before its end; the first
        // one seen is used (IntelMQ would use `\r\n` for a feed mixing them).
        let mut ending: Option<&'static str> = None;
        let mut asm = Assembler::default();
        let mut skip = self.skip_header;
        let mut buf = Vec::new();
        loop {
            let total = crate::transport::line::read_until_limited(
                input,
                b'\n',
                &mut buf,
                out.max_record(),
            )?;
            if total == 0 {
                break;
            }
            if total > buf.len() {
                out.record_too_long(&buf, total)?;
                continue;
            }
            let chunk = feedio::decode(&buf);
            let Some(clean) = clean_line(&chunk) else {
                continue;
            };
            for phys in physical(&clean) {
                if ending.is_none() {
                    if phys.ends_with("\r\n") {
                        ending = Some("\r\n");
                    } else if phys.ends_with('\n') {
                        ending = Some("\n");
                    } else if phys.ends_with('\r') {
                        ending = Some("\r");
                    }
                    if let Some(e) = ending {
                        self.ending = e;
                    }
                }
                if skip > 0 {
                    skip -= 1;
                    self.tempdata.push(strip_header(phys));
                    continue;
                }
                if let Some(line) = asm.push(phys, self.opts.delimiter, self.opts.quote) {
                    self.row(&line, out)?;
                }
            }
        }
        if !asm.pending.is_empty() {
            let line = std::mem::take(&mut asm.pending);
            // A quoted field still open at the end keeps its line breaks (Python).
            self.row(&line, out)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_like_python() {
        let row = ["a".to_string(), "/b".to_string()];
        assert_eq!(py_format("http://{0}{1}", &row), "http://a/b");
        assert_eq!(py_format("{}-{}{{x}}", &row), "a-/b{x}");
    }

    #[test]
    fn quotes_like_python() {
        assert!(quoted_field_open(b"a,\"b\n", b',', b'"'));
        assert!(!quoted_field_open(b"a,b\"c,d\n", b',', b'"'));
        assert!(!quoted_field_open(b"a,\"b\"\"c\",d\n", b',', b'"'));
        assert!(quoted_field_open(b"a,\"b\"\"\n", b',', b'"'));
    }

    #[test]
    fn cleaning() {
        assert!(clean_line("  # comment\n").is_none());
        assert!(clean_line(" \t\n").is_none());
        assert_eq!(clean_line("\t a,b\r\n").unwrap(), "a,b\r\n");
        let v: Vec<&str> = physical("a\rb\r\n").collect();
        assert_eq!(v, ["a\r", "b\r\n"]);
    }
}
