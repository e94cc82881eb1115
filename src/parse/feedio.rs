//! Reading feed data the way IntelMQ's `ParserBot` does, so that records and their
//! `raw` come out byte for byte the same.
//!
//! * [`decode`]: `utils.base64_decode` decodes UTF-8 and silently drops invalid
//!   bytes (`errors='ignore'`).
//! * [`splitlines`]: Python's `str.splitlines()`, which splits on more than `\n`.
//! * [`Lines`]: the default `ParserBot.parse` (stripped, non-empty lines, optional
//!   ignored prefixes) with `recover_line` (`"\n".join(tempdata + [line])`).
//! * [`csv_rows`]: `ParserBot.parse_csv`: the report stripped, NUL bytes removed,
//!   parsed with Python's default CSV dialect, each row with the text of the line
//!   it came from (for `raw`) and the line ending (for `recover_line_csv`).

use std::borrow::Cow;

/// Decode feed bytes as IntelMQ does: UTF-8, invalid bytes dropped.
pub fn decode(data: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(data) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => {
            let lossy = String::from_utf8_lossy(data);
            Cow::Owned(lossy.replace('\u{FFFD}', ""))
        }
    }
}

/// Is `c` a line boundary for Python's `str.splitlines()`?
fn is_py_linebreak(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r'
            | '\u{b}'
            | '\u{c}'
            | '\u{1c}'
            | '\u{1d}'
            | '\u{1e}'
            | '\u{85}'
            | '\u{2028}'
            | '\u{2029}'
    )
}

/// Python's `str.splitlines()` (no line ends kept; `\r\n` is one boundary).
pub fn splitlines(s: &str) -> impl Iterator<Item = &str> {
    let mut rest = s;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        match rest.char_indices().find(|&(_, c)| is_py_linebreak(c)) {
            None => {
                let line = rest;
                rest = "";
                Some(line)
            }
            Some((i, c)) => {
                let line = &rest[..i];
                let mut next = i + c.len_utf8();
                if c == '\r' && rest[next..].starts_with('\n') {
                    next += 1;
                }
                rest = &rest[next..];
                Some(line)
            }
        }
    })
}

/// The default `ParserBot.parse`: stripped lines, empty ones and those starting
/// with an ignored prefix left out.
pub fn lines<'a>(text: &'a str, ignore_prefixes: &'a [&'a str]) -> impl Iterator<Item = &'a str> {
    splitlines(text)
        .map(crate::harmonization::py_strip)
        .filter(move |l| !l.is_empty() && !ignore_prefixes.iter().any(|p| l.starts_with(p)))
}

/// A line of a feed whose comment lines are the context of its records.
pub enum Line<'a> {
    Comment(&'a str),
    /// A record and its `raw`: the comments seen so far and the line.
    Record {
        line: &'a str,
        raw: String,
    },
}

/// The default `ParserBot.parse` with IntelMQ's `tempdata` idiom: stripped,
/// non-empty lines; those starting with `comment` are remembered (a feed's
/// header) and put in front of every later record's `raw` (`recover_line`).
pub fn commented_lines<'a>(text: &'a str, comment: char) -> impl Iterator<Item = Line<'a>> {
    let mut tempdata: Vec<String> = Vec::new();
    lines(text, &[]).map(move |line| {
        if line.starts_with(comment) {
            tempdata.push(line.to_string());
            Line::Comment(line)
        } else {
            Line::Record {
                line,
                raw: recover_line(&tempdata, line),
            }
        }
    })
}

/// Unstripped lines that are neither empty nor `#` comments: the feeds whose
/// IntelMQ parser reads them this way take the line itself as `raw`.
pub fn data_lines(text: &str) -> impl Iterator<Item = &str> {
    splitlines(text).filter(|l| !l.is_empty() && !l.starts_with('#'))
}

/// `ParserBot.recover_line`: the saved context lines (`tempdata`, e.g. a header)
/// and the line, joined with `\n`.
pub fn recover_line(tempdata: &[String], line: &str) -> String {
    let mut s = String::new();
    for t in tempdata {
        s.push_str(t);
        s.push('\n');
    }
    s.push_str(line);
    s
}

/// One CSV row and where it came from.
#[derive(Debug, Clone)]
pub struct CsvRow {
    pub fields: Vec<String>,
    /// The physical text of the row (several lines for quoted newlines), without
    /// its line ending: what `_current_line` holds in IntelMQ.
    pub line: String,
}

/// Options of Python's CSV reader that parsers use.
#[derive(Debug, Clone)]
pub struct CsvOpts {
    pub delimiter: u8,
    pub quote: u8,
    /// Python's `skipinitialspace`.
    pub skip_initial_space: bool,
    /// Lines starting with these are dropped before CSV parsing
    /// (`_ignore_lines_starting`).
    pub ignore_prefixes: Vec<String>,
}

impl Default for CsvOpts {
    fn default() -> Self {
        CsvOpts {
            delimiter: b',',
            quote: b'"',
            skip_initial_space: false,
            ignore_prefixes: Vec::new(),
        }
    }
}

/// The line ending IntelMQ saves for `recover_line_csv`: the one the text uses
/// throughout, `\r\n` when mixed or none.
pub fn line_ending(text: &str) -> &'static str {
    let crlf = text.matches("\r\n").count();
    let cr = text.matches('\r').count() - crlf;
    let lf = text.matches('\n').count() - crlf;
    match (crlf > 0, cr > 0, lf > 0) {
        (false, false, true) => "\n",
        (false, true, false) => "\r",
        _ => "\r\n",
    }
}

/// `ParserBot.parse_csv`: rows of the report with the text each came from.
///
/// Python's csv module reads physical lines (`\n`, `\r\n` or `\r` ends), and a
/// quoted field may span lines; we reproduce that by splitting into physical
/// lines ourselves and feeding the csv crate one logical record at a time.
pub fn csv_rows(data: &[u8], opts: &CsvOpts) -> Vec<CsvRow> {
    let text = decode(data);
    let text = crate::harmonization::py_strip(&text).replace('\0', "");
    let mut rows = Vec::new();
    let mut pending = String::new();
    let phys = physical_lines(&text).filter(|l| {
        !opts
            .ignore_prefixes
            .iter()
            .any(|p| l.trim_end_matches(['\r', '\n']).starts_with(p.as_str()))
    });
    for l in phys {
        pending.push_str(l);
        if quotes_open(&pending, opts.quote) {
            continue;
        }
        let line = pending.trim_end_matches(['\r', '\n']).to_string();
        pending.clear();
        let fields = parse_csv_record(&line, opts);
        rows.push(CsvRow { fields, line });
    }
    if !pending.is_empty() {
        let line = pending.trim_end_matches(['\r', '\n']).to_string();
        let fields = parse_csv_record(&line, opts);
        rows.push(CsvRow { fields, line });
    }
    rows
}

/// Physical lines with their endings, as `io.StringIO(newline='')` gives them
/// to Python's csv module: each ends at `\n`, `\r\n` or `\r`.
pub fn physical_lines(s: &str) -> impl Iterator<Item = &str> {
    let mut rest = s;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let b = rest.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'\n' {
                i += 1;
                break;
            }
            if b[i] == b'\r' {
                i += 1;
                if i < b.len() && b[i] == b'\n' {
                    i += 1;
                }
                break;
            }
            i += 1;
        }
        let (line, r) = rest.split_at(i);
        rest = r;
        Some(line)
    })
}

/// Is a quoted field still open at the end of `s`?
fn quotes_open(s: &str, quote: u8) -> bool {
    s.bytes().filter(|&b| b == quote).count() % 2 == 1
}

/// Parse one logical CSV record with Python's default dialect (doublequote,
/// lenient about quotes inside unquoted fields). An empty line is an empty row.
pub fn parse_csv_record(line: &str, opts: &CsvOpts) -> Vec<String> {
    if line.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let delim = opts.delimiter as char;
    let quote = opts.quote as char;
    let mut start_of_field = true;
    let mut in_quotes = false;
    let mut was_quoted = false;
    while let Some(c) = chars.next() {
        if in_quotes {
            if c == quote {
                if chars.peek() == Some(&quote) {
                    field.push(quote);
                    chars.next();
                } else {
                    in_quotes = false;
                }
            } else {
                field.push(c);
            }
            continue;
        }
        if start_of_field && opts.skip_initial_space && c == ' ' {
            continue;
        }
        if c == delim {
            out.push(std::mem::take(&mut field));
            start_of_field = true;
            was_quoted = false;
            continue;
        }
        if c == quote && start_of_field && !was_quoted {
            in_quotes = true;
            was_quoted = true;
            start_of_field = false;
            continue;
        }
        start_of_field = false;
        field.push(c);
    }
    out.push(field);
    out
}

/// `ParserBot.recover_line_csv` for a row given as fields: written back with
/// Python's csv writer (minimal quoting) and the saved line ending, after the
/// context lines.
pub fn recover_line_csv(
    tempdata: &[String],
    fields: &[String],
    opts: &CsvOpts,
    ending: &str,
) -> String {
    let mut row = String::new();
    let delim = opts.delimiter as char;
    let quote = opts.quote as char;
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            row.push(delim);
        }
        let needs = f.contains([delim, quote, '\n', '\r'])
            || (fields.len() == 1 && f.is_empty())
            || f.starts_with(' ') && opts.skip_initial_space;
        if needs {
            row.push(quote);
            row.push_str(&f.replace(quote, &format!("{quote}{quote}")));
            row.push(quote);
        } else {
            row.push_str(f);
        }
    }
    row.push_str(ending);
    let mut parts: Vec<&str> = tempdata.iter().map(String::as_str).collect();
    parts.push(&row);
    parts.join(ending)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitlines_like_python() {
        let v: Vec<&str> = splitlines("a\r\nb\rc\nd\u{b}e\u{2028}f\n").collect();
        assert_eq!(v, ["a", "b", "c", "d", "e", "f"]);
        assert_eq!(splitlines("").count(), 0);
        assert_eq!(splitlines("\n\n").collect::<Vec<_>>(), ["", ""]);
    }

    #[test]
    fn decode_drops_bad_bytes() {
        assert_eq!(decode(b"a\xffb"), "ab");
    }

    #[test]
    fn csv_like_python() {
        let opts = CsvOpts::default();
        let rows = csv_rows(b"a,\"b,c\",d\r\n\"multi\nline\",x\n# c\n", &opts);
        assert_eq!(rows[0].fields, ["a", "b,c", "d"]);
        assert_eq!(rows[0].line, "a,\"b,c\",d");
        assert_eq!(rows[1].fields, ["multi\nline", "x"]);
        assert_eq!(rows[2].fields, ["# c"]);
        let opts = CsvOpts {
            ignore_prefixes: vec!["#".into()],
            ..CsvOpts::default()
        };
        assert_eq!(csv_rows(b"# c\na,b", &opts).len(), 1);
        assert_eq!(
            parse_csv_record("a\"b,\"c\"\"d\"", &CsvOpts::default()),
            ["a\"b", "c\"d"]
        );
        assert_eq!(line_ending("a\nb\n"), "\n");
        assert_eq!(line_ending("a\r\nb\n"), "\r\n");
        assert_eq!(
            recover_line_csv(
                &["h1,h2".into()],
                &["x".into(), "y,z".into()],
                &CsvOpts::default(),
                "\n"
            ),
            "h1,h2\nx,\"y,z\"\n"
        );
    }
}
