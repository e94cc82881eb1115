//! Shadowserver reports (CSV), any report type the schema describes
//! (IntelMQ `intelmq.bots.parsers.shadowserver.parser`).
//!
//! The report type comes from the `feedname` parameter (a feed name of the
//! schema), else from the report's `extra.file_name` (`2019-01-01-scan_http-
//! country-geo.csv` is report `scan_http`); raw files given to `imq-parse`
//! carry their file name there. Parameters: `feedname`, `overwrite` (replace
//! the report's `feed.name` by the schema's), `schema_file`, `test_mode`,
//! `auto_update` (see [`super::shadowserver_schema`]).
//!
//! The CSV is read as Python's `csv.DictReader` does (unix dialect), one line at
//! a time, so a report of any size parses in constant memory; each event's
//! `raw` is the header (quoted, as IntelMQ's `recover_line_csv_dict` writes it)
//! and the line.

use super::shadowserver_map::{map_row, Ctx, Row};
use super::shadowserver_schema::{self, ReportType, Schema};
use super::{feedio, Params, Parser, Records};
use crate::harmonization::py_strip;
use crate::message::Message;
use crate::pipeline::Fail;
use regex::Regex;
use serde_json::Value;
use std::collections::HashMap;
use std::io::BufRead;
use std::sync::OnceLock;

/// How the report type is chosen (IntelMQ's `_mode`).
pub struct Select {
    schema: Schema,
    /// `feedname` names a report type of the schema ("fixed" mode).
    fixed: Option<String>,
    /// The suffix of the file names (`csv`, or `csv|json` for the API parser).
    ext: &'static str,
}

impl Select {
    pub fn new(p: &Params, ext: &'static str) -> anyhow::Result<Select> {
        let schema = shadowserver_schema::load(p)?;
        let fixed = p
            .get("feedname")
            .and_then(Value::as_str)
            .filter(|f| schema.by_feed_name(f).is_some())
            .map(String::from);
        Ok(Select { schema, fixed, ext })
    }

    /// The report type of this report and the feed name to set.
    pub fn pick(&self, report: &Message) -> Result<(&ReportType, String), Fail> {
        if let Some(f) = &self.fixed {
            let rt = self.schema.by_feed_name(f).expect("checked in new");
            return Ok((rt, f.clone()));
        }
        let name = report.get("extra.file_name").map(|v| match v {
            Value::String(s) => s.clone(),
            other => crate::pyfmt::py_str(other),
        });
        let Some(name) = name.filter(|n| !n.is_empty()) else {
            return Err(Fail::Reject(
                "No feedname given as parameter and the processed report has no 'extra.file_name'. \
                 Ensure that at least one is given. Also have a look at the documentation of the bot."
                    .into(),
            ));
        };
        static RES: OnceLock<HashMap<&'static str, Regex>> = OnceLock::new();
        let res = RES.get_or_init(|| {
            ["csv", "csv|json"]
                .into_iter()
                .map(|e| {
                    let re = format!(r"^(?:\d{{4}}-\d{{2}}-\d{{2}}-)?(\w+)(-\w+)*\.(?:{e})\n?$");
                    (e, Regex::new(&re).expect("valid"))
                })
                .collect()
        });
        let Some(m) = res[self.ext].captures(&name) else {
            return Err(Fail::Reject(format!(
                "Report's 'extra.file_name' {} is not valid.",
                crate::pyfmt::py_repr(&Value::String(name))
            )));
        };
        let base = &m[1];
        match self.schema.by_file_name(base) {
            Some(rt) => Ok((rt, rt.feed_name.clone())),
            None => Err(Fail::Reject(format!(
                "Could not get a config for {}, check the documentation.",
                crate::pyfmt::py_repr(&Value::String(base.into()))
            ))),
        }
    }
}

/// IntelMQ passes `overwrite` to `Message.add` as it is: only `false` (the
/// default) keeps the report's `feed.name`; `null` makes an existing one an error.
pub fn overwrite_param(p: &Params) -> Option<bool> {
    match p.get("overwrite") {
        None | Some(Value::Bool(false)) => Some(false),
        Some(Value::Null) => None,
        Some(_) => Some(true),
    }
}

pub struct Shadowserver {
    select: Select,
    overwrite: Option<bool>,
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Parser>> {
    Ok(Box::new(Shadowserver {
        select: Select::new(p, "csv")?,
        overwrite: overwrite_param(p),
    }))
}

/// Python's csv reader states (`Modules/_csv.c`).
#[derive(Debug, Clone, Copy, PartialEq)]
enum St {
    StartRecord,
    StartField,
    InField,
    InQuoted,
    QuoteInQuoted,
    EatCrnl,
}

/// Python's `csv.reader` (unix dialect: `,`, `"`, doubled quotes) fed one
/// physical line at a time, line ending included.
struct PyCsv {
    st: St,
    fields: Vec<String>,
    field: String,
}

impl PyCsv {
    fn new() -> PyCsv {
        PyCsv {
            st: St::StartRecord,
            fields: Vec::new(),
            field: String::new(),
        }
    }

    fn save(&mut self) {
        self.fields.push(std::mem::take(&mut self.field));
    }

    /// One character; `None` is the end of a line.
    fn char(&mut self, c: Option<char>) -> Result<(), String> {
        let eol = |c: Option<char>| matches!(c, None | Some('\n' | '\r'));
        let after_eol = |c: Option<char>| {
            if c.is_none() {
                St::StartRecord
            } else {
                St::EatCrnl
            }
        };
        match self.st {
            St::StartRecord | St::StartField => {
                if self.st == St::StartRecord {
                    if c.is_none() {
                        return Ok(());
                    }
                    if eol(c) {
                        self.st = St::EatCrnl;
                        return Ok(());
                    }
                }
                if eol(c) {
                    self.save();
                    self.st = after_eol(c);
                } else if c == Some('"') {
                    self.st = St::InQuoted;
                } else if c == Some(',') {
                    self.save();
                    self.st = St::StartField;
                } else {
                    self.field.extend(c);
                    self.st = St::InField;
                }
            }
            St::InField => {
                if eol(c) {
                    self.save();
                    self.st = after_eol(c);
                } else if c == Some(',') {
                    self.save();
                    self.st = St::StartField;
                } else {
                    self.field.extend(c);
                }
            }
            St::InQuoted => match c {
                None => {}
                Some('"') => self.st = St::QuoteInQuoted,
                Some(c) => self.field.push(c),
            },
            St::QuoteInQuoted => {
                if c == Some('"') {
                    self.field.push('"');
                    self.st = St::InQuoted;
                } else if c == Some(',') {
                    self.save();
                    self.st = St::StartField;
                } else if eol(c) {
                    self.save();
                    self.st = after_eol(c);
                } else {
                    self.field.extend(c);
                    self.st = St::InField;
                }
            }
            St::EatCrnl => match c {
                None => self.st = St::StartRecord,
                Some('\n' | '\r') => {}
                Some(_) => {
                    return Err(
                        "new-line character seen in unquoted field - do you need to open \
                                the file with newline=''?"
                            .into(),
                    )
                }
            },
        }
        Ok(())
    }

    /// Feed a line; the record when it is complete.
    fn line(&mut self, line: &str) -> Result<Option<Vec<String>>, String> {
        for c in line.chars() {
            self.char(Some(c))?;
        }
        self.char(None)?;
        Ok((self.st == St::StartRecord).then(|| std::mem::take(&mut self.fields)))
    }

    /// The end of the data: a record left open by an unclosed quote.
    fn finish(&mut self) -> Option<Vec<String>> {
        if !self.field.is_empty() || self.st == St::InQuoted {
            self.save();
            self.st = St::StartRecord;
            return Some(std::mem::take(&mut self.fields));
        }
        None
    }
}

/// The header of a report: column names and where each name's value is.
struct Header {
    names: Vec<String>,
    /// Name -> index of its last occurrence (`dict(zip(...))` keeps the last).
    last: HashMap<String, usize>,
    /// `recover_line_csv_dict`'s header line (all names quoted).
    quoted: String,
}

impl Header {
    fn new(names: Vec<String>) -> Header {
        let last = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();
        let quoted = names
            .iter()
            .map(|n| format!("\"{}\"", n.replace('"', "\"\"")))
            .collect::<Vec<_>>()
            .join(",");
        Header {
            names,
            last,
            quoted,
        }
    }
}

struct CsvRow<'a> {
    header: &'a Header,
    values: &'a [String],
}

impl Row for CsvRow<'_> {
    fn columns(&self) -> &[String] {
        &self.header.names
    }
    fn has(&self, col: &str) -> bool {
        self.header.last.contains_key(col)
    }
    fn value(&self, col: &str) -> Option<Value> {
        // A short row's missing columns are None (`restval`).
        let &i = self.header.last.get(col)?;
        self.values.get(i).map(|v| Value::String(v.clone()))
    }
}

/// One report being read: the CSV reader, the header once read, and the line
/// ending `recover_line_csv_dict` writes after the header.
struct Reading<'a> {
    ctx: Ctx<'a>,
    csv: PyCsv,
    header: Option<Header>,
    ending: &'static str,
}

impl Reading<'_> {
    fn line(&mut self, line: &str, out: &mut Records) -> Result<(), Fail> {
        let rec = self.csv.line(line).map_err(Fail::Reject)?;
        if let Some(rec) = rec {
            self.record(rec, line, out)?;
        }
        Ok(())
    }

    fn finish(&mut self, last_line: &str, out: &mut Records) -> Result<(), Fail> {
        if let Some(rec) = self.csv.finish() {
            self.record(rec, last_line, out)?;
        }
        Ok(())
    }

    /// `current_line` is the last physical line of the record, as IntelMQ's
    /// file handle holds it.
    fn record(
        &mut self,
        rec: Vec<String>,
        current_line: &str,
        out: &mut Records,
    ) -> Result<(), Fail> {
        let Some(header) = &self.header else {
            self.header = Some(Header::new(rec));
            return Ok(());
        };
        if rec.is_empty() {
            return Ok(());
        }
        let raw = format!("{}{}{}", header.quoted, self.ending, current_line);
        let raw = py_strip(&raw);
        let row = CsvRow {
            header,
            values: &rec,
        };
        let result = map_row(&self.ctx, &row, raw, out.new_event()).map_err(Fail::Reject);
        out.record_one(raw.as_bytes(), result)
    }
}

fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

impl Parser for Shadowserver {
    fn parse(&mut self, data: &[u8], out: &mut Records) -> Result<(), Fail> {
        let (rt, feed_name) = self.select.pick(out.report())?;
        let text = feedio::decode(data);
        let text = py_strip(&text).replace('\0', "");
        let mut r = Reading {
            ctx: Ctx {
                report: rt,
                feed_name: &feed_name,
                overwrite: self.overwrite,
            },
            csv: PyCsv::new(),
            header: None,
            ending: feedio::line_ending(&text),
        };
        let mut last = "";
        for line in feedio::physical_lines(&text) {
            r.line(line, out)?;
            last = line;
        }
        r.finish(last, out)
    }

    fn parse_stream(
        &mut self,
        input: &mut dyn BufRead,
        out: &mut Records,
    ) -> Option<Result<(), Fail>> {
        Some(self.stream(input, out))
    }
}

impl Shadowserver {
    fn stream(&mut self, input: &mut dyn BufRead, out: &mut Records) -> Result<(), Fail> {
        let (rt, feed_name) = self.select.pick(out.report())?;
        let ctx = Ctx {
            report: rt,
            feed_name: &feed_name,
            overwrite: self.overwrite,
        };
        stream_csv(ctx, input, out)
    }
}

/// [`Parser::parse`] over a reader: the report's `strip()` is done with one
/// line of lookahead (trailing blank lines are held back until more text
/// follows), and the line ending is the first one seen.
pub fn stream_csv(ctx: Ctx, input: &mut dyn BufRead, out: &mut Records) -> Result<(), Fail> {
    let mut r = Reading {
        ctx,
        csv: PyCsv::new(),
        header: None,
        ending: "\r\n",
    };
    let mut ending_seen = false;
    let mut started = false;
    // The last line with text, and blank lines after it.
    let mut held: Vec<String> = Vec::new();
    let mut buf = Vec::new();
    loop {
        let total =
            crate::transport::line::read_until_limited(input, b'\n', &mut buf, out.max_record())?;
        if total == 0 {
            break;
        }
        if total > buf.len() {
            out.record_too_long(&buf, total)?;
            continue;
        }
        let chunk = feedio::decode(&buf);
        for phys in feedio::physical_lines(&chunk) {
            let mut phys = phys;
            if !started {
                phys = phys.trim_start_matches(is_py_space);
                if phys.is_empty() {
                    continue;
                }
                started = true;
            }
            if !ending_seen {
                for e in ["\r\n", "\n", "\r"] {
                    if phys.ends_with(e) {
                        r.ending = e;
                        ending_seen = true;
                        break;
                    }
                }
            }
            if phys.chars().all(is_py_space) {
                held.push(phys.to_string());
                continue;
            }
            for h in held.drain(..) {
                r.line(&h.replace('\0', ""), out)?;
            }
            held.push(phys.to_string());
        }
    }
    if held.is_empty() {
        return r.finish("", out);
    }
    let last = held[0].trim_end_matches(is_py_space).replace('\0', "");
    if !last.is_empty() {
        r.line(&last, out)?;
    }
    r.finish(&last, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str) -> Vec<Vec<String>> {
        let mut c = PyCsv::new();
        let mut v = Vec::new();
        for l in feedio::physical_lines(text) {
            if let Some(r) = c.line(l).unwrap() {
                v.push(r);
            }
        }
        v.extend(c.finish());
        v
    }

    #[test]
    fn csv_like_python() {
        assert_eq!(
            rows("a,\"b,c\"\r\n\r\nx"),
            [vec!["a", "b,c"], vec![], vec!["x"]]
        );
        assert_eq!(rows("\"m\nl\",y\n"), [vec!["m\nl", "y"]]);
        assert_eq!(rows("a\"b,\"c\"\"d\"e\n"), [vec!["a\"b", "c\"de"]]);
        assert_eq!(rows("\"open\nend"), [vec!["open\nend"]]);
        assert_eq!(rows(",\n"), [vec!["", ""]]);
    }

    #[test]
    fn physical_lines() {
        let v: Vec<&str> = feedio::physical_lines("a\rb\r\nc\nd").collect();
        assert_eq!(v, ["a\r", "b\r\n", "c\n", "d"]);
    }

    #[test]
    fn overwrite_like_intelmq() {
        let p = |v: Value| {
            let mut m = Params::new();
            m.insert("overwrite".into(), v);
            overwrite_param(&m)
        };
        assert_eq!(overwrite_param(&Params::new()), Some(false));
        assert_eq!(p(Value::Bool(false)), Some(false));
        assert_eq!(p(Value::Null), None);
        // `add(overwrite=0)`: 0 is not `False` in Python's `is` test.
        assert_eq!(p(Value::from(0)), Some(true));
        assert_eq!(p(Value::Bool(true)), Some(true));
    }

    #[test]
    fn header_quoting() {
        assert_eq!(
            Header::new(vec!["a".into(), "b\"c".into()]).quoted,
            "\"a\",\"b\"\"c\""
        );
    }
}
