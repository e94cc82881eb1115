//! `file`: IntelMQ's file output. One line per event (its export, see
//! [`super::export`]) appended to `file`; with `format_filename` the name is a
//! Python format template over the event, such as
//! `events-{event[time.source]:%Y-%m-%d}.ndjson` or `/x/{event[feed.name]}.txt`.
//!
//! A template can never name a file outside its base directory (the directory of
//! the text before the first `{`): an event whose values would lead there (`..`,
//! an absolute path, NUL) is refused and dumped.

use super::export_fast::Export;
use super::{Output, OutputOpts};
use crate::message::Message;
use crate::params;
use crate::pipeline::Fail;
use crate::pyfmt::py_str;
use crate::transport::line::open_writer;
use anyhow::{bail, Context};
use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;

/// Files kept open at once with a template; more are closed (after a flush).
const MAX_OPEN: usize = 256;

pub struct FileOut {
    export: Export,
    single: Option<Box<dyn Write>>,
    template: Option<Template>,
    open: HashMap<String, BufWriter<File>>,
    name: String,
    buf: Vec<u8>,
}

/// Python's codec error handlers: imq's strings are always valid UTF-8, so no
/// handler ever runs; the parameter is checked and accepted.
const ERROR_MODES: &[&str] = &[
    "strict",
    "ignore",
    "replace",
    "backslashreplace",
    "xmlcharrefreplace",
    "namereplace",
    "surrogateescape",
    "surrogatepass",
];

pub fn build(o: &OutputOpts) -> anyhow::Result<Box<dyn Output>> {
    let p = &o.params;
    let file = params::string(p, "file")?
        .or_else(|| o.target.clone())
        .unwrap_or_else(|| "-".into());
    let mode = params::string_or(p, "encoding_errors_mode", "strict")?;
    if !ERROR_MODES.contains(&mode.as_str()) {
        bail!("parameter encoding_errors_mode: unknown error handler {mode:?}");
    }
    // IntelMQ needs format_filename: true; a name with an event field in it
    // means a template when the parameter is not given.
    let templated = match p.get("format_filename") {
        Some(v) if !v.is_null() => params::boolean(p, "format_filename", false)?,
        _ => file.contains("{event["),
    };
    let export = Export::from_params(p)?;
    let mut out = FileOut {
        export,
        single: None,
        template: None,
        open: HashMap::new(),
        name: String::new(),
        buf: Vec::with_capacity(1024),
    };
    if templated {
        out.template = Some(Template::parse(&file)?);
    } else {
        if file != "-" {
            make_parent(Path::new(&file))?;
        }
        out.single = Some(open_writer(&file, o.line_buffered)?);
    }
    Ok(Box::new(out))
}

/// IntelMQ creates a missing directory with mode 0755 and its parents.
fn make_parent(path: &Path) -> std::io::Result<()> {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() && !d.exists() => {
            fs::DirBuilder::new().recursive(true).mode(0o755).create(d)
        }
        _ => Ok(()),
    }
}

impl Output for FileOut {
    fn write(&mut self, ev: &Message, _original: &[u8]) -> Result<(), Fail> {
        if let Some(t) = &self.template {
            t.render(ev, &mut self.name).map_err(Fail::Reject)?;
        }
        self.buf.clear();
        self.export.write(ev, &mut self.buf)?;
        self.buf.push(b'\n');
        let w: &mut dyn Write = match &mut self.single {
            Some(w) => w,
            None => {
                if !self.open.contains_key(self.name.as_str()) {
                    if self.open.len() >= MAX_OPEN {
                        for (_, mut f) in self.open.drain() {
                            f.flush()?;
                        }
                    }
                    let path = Path::new(&self.name);
                    make_parent(path).with_context(|| self.name.clone())?;
                    let f = fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(path)
                        .with_context(|| self.name.clone())?;
                    self.open
                        .insert(self.name.clone(), BufWriter::with_capacity(64 << 10, f));
                }
                self.open
                    .get_mut(self.name.as_str())
                    .expect("inserted above")
            }
        };
        w.write_all(&self.buf)?;
        Ok(())
    }

    fn commit(&mut self) -> anyhow::Result<Vec<(usize, String)>> {
        if let Some(w) = &mut self.single {
            w.flush()?;
        }
        for f in self.open.values_mut() {
            f.flush()?;
        }
        Ok(Vec::new())
    }
}

/// A parsed `str.format` template whose fields are `event[KEY]` with an
/// optional format spec.
#[derive(Debug)]
pub struct Template {
    pieces: Vec<Piece>,
    /// Length of the fixed base directory at the start of every rendered name
    /// (up to and including its last `/`; 0: the current directory).
    base_len: usize,
}

#[derive(Debug)]
enum Piece {
    Lit(String),
    Field { key: String, spec: String },
}

impl Template {
    pub fn parse(t: &str) -> anyhow::Result<Template> {
        let mut pieces = Vec::new();
        let mut lit = String::new();
        let mut chars = t.chars().peekable();
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
                '}' => bail!("format_filename {t:?}: single '}}' in the template"),
                '{' => {
                    let mut field = String::new();
                    loop {
                        match chars.next() {
                            None => bail!("format_filename {t:?}: unclosed '{{'"),
                            Some('}') => break,
                            Some('{') => {
                                bail!("format_filename {t:?}: nested fields are not supported")
                            }
                            Some(c) => field.push(c),
                        }
                    }
                    let (name, spec) = match field.find(']') {
                        Some(end) => {
                            let (n, rest) = field.split_at(end + 1);
                            match rest.strip_prefix(':') {
                                Some(s) => (n.to_string(), s.to_string()),
                                None if rest.is_empty() => (n.to_string(), String::new()),
                                None => {
                                    bail!("format_filename {t:?}: {{{field}}} is not supported")
                                }
                            }
                        }
                        None => (field.clone(), String::new()),
                    };
                    let Some(key) = name
                        .strip_prefix("event[")
                        .and_then(|r| r.strip_suffix(']'))
                    else {
                        bail!("format_filename {t:?}: {{{field}}}: fields are event[KEY] (KeyError {name:?} in IntelMQ)");
                    };
                    if !lit.is_empty() {
                        pieces.push(Piece::Lit(std::mem::take(&mut lit)));
                    }
                    pieces.push(Piece::Field {
                        key: key.to_string(),
                        spec,
                    });
                }
                c => lit.push(c),
            }
        }
        if !lit.is_empty() {
            pieces.push(Piece::Lit(lit));
        }
        let base_len = match pieces.first() {
            Some(Piece::Lit(l)) if pieces.len() > 1 => l.rfind('/').map_or(0, |i| i + 1),
            Some(Piece::Lit(l)) => l.len(),
            _ => 0,
        };
        Ok(Template { pieces, base_len })
    }

    /// The file name for an event, into `out`; an error is why the event is
    /// refused.
    pub fn render(&self, ev: &Message, out: &mut String) -> Result<(), String> {
        out.clear();
        for p in &self.pieces {
            match p {
                Piece::Lit(l) => out.push_str(l),
                Piece::Field { key, spec } => {
                    let start = out.len();
                    render_field(ev, key, spec, out)?;
                    let v = &out[start..];
                    if v.contains('\0') {
                        return Err(format!("format_filename: {key} holds a NUL character"));
                    }
                    if v.starts_with('/') {
                        return Err(format!(
                            "format_filename: {key} is an absolute path ({v:?}), refused"
                        ));
                    }
                }
            }
        }
        let rel = &out[self.base_len..];
        if rel.starts_with('/') || rel.split('/').any(|c| c == "..") {
            return Err(format!(
                "format_filename: {out:?} leads outside the template's directory, refused"
            ));
        }
        Ok(())
    }
}

fn render_field(ev: &Message, key: &str, spec: &str, out: &mut String) -> Result<(), String> {
    let Some(v) = ev.get(key) else {
        return Err(format!(
            "format_filename: the event has no {key} (KeyError)"
        ));
    };
    if key == "time.source" || key == "time.observation" {
        // IntelMQ turns these two into naive datetimes first.
        let s = v.as_str().unwrap_or_default();
        let fmt = if s.contains('.') {
            "%Y-%m-%dT%H:%M:%S%.f+00:00"
        } else {
            "%Y-%m-%dT%H:%M:%S+00:00"
        };
        let t = chrono::NaiveDateTime::parse_from_str(s, fmt).map_err(|_| {
            format!("format_filename: {key} {s:?} does not match {fmt} (ValueError)")
        })?;
        use std::fmt::Write as _;
        if spec.is_empty() {
            // str(datetime)
            let _ = write!(out, "{}", t.format("%Y-%m-%d %H:%M:%S"));
            if t.and_utc().timestamp_subsec_micros() != 0 {
                let _ = write!(out, ".{:06}", t.and_utc().timestamp_subsec_micros());
            }
        } else {
            // datetime.__format__ is strftime; Python's %f is microseconds.
            let spec = spec.replace("%f", "%6f");
            let items: Vec<_> = chrono::format::StrftimeItems::new(&spec).collect();
            if items.contains(&chrono::format::Item::Error) {
                return Err(format!("format_filename: bad time format {spec:?}"));
            }
            let _ = write!(out, "{}", t.format_with_items(items.into_iter()));
        }
        return Ok(());
    }
    let s = py_str(v);
    if spec.is_empty() {
        out.push_str(&s);
        return Ok(());
    }
    format_spec(&s, v.is_string(), spec, out)
}

/// The common part of Python's format-spec mini-language for text and
/// integers: `[[fill]align][0][width][.precision][s|d]`.
fn format_spec(s: &str, is_text: bool, spec: &str, out: &mut String) -> Result<(), String> {
    let bad = || format!("format_filename: format spec {spec:?} is not supported");
    let chars: Vec<char> = spec.chars().collect();
    let mut i = 0;
    let (mut fill, mut align) = (' ', if is_text { '<' } else { '>' });
    if chars.len() >= 2 && "<>^".contains(chars[1]) {
        fill = chars[0];
        align = chars[1];
        i = 2;
    } else if !chars.is_empty() && "<>^".contains(chars[0]) {
        align = chars[0];
        i = 1;
    }
    if chars.get(i) == Some(&'0') && !is_text {
        fill = '0';
        align = '>';
        i += 1;
    }
    let mut width = 0usize;
    while let Some(d) = chars.get(i).and_then(|c| c.to_digit(10)) {
        width = width
            .saturating_mul(10)
            .saturating_add(d as usize)
            .min(4096);
        i += 1;
    }
    let mut text: String = s.to_string();
    if chars.get(i) == Some(&'.') {
        i += 1;
        let mut prec = 0usize;
        while let Some(d) = chars.get(i).and_then(|c| c.to_digit(10)) {
            prec = prec.saturating_mul(10).saturating_add(d as usize);
            i += 1;
        }
        if !is_text {
            return Err(bad());
        }
        text = text.chars().take(prec).collect();
    }
    match chars.get(i) {
        None => {}
        Some('s') if is_text => i += 1,
        Some('d') if !is_text => i += 1,
        _ => return Err(bad()),
    }
    if i != chars.len() {
        return Err(bad());
    }
    let n = text.chars().count();
    let pad = width.saturating_sub(n);
    let (l, r) = match align {
        '<' => (0, pad),
        '>' => (pad, 0),
        _ => (pad / 2, pad - pad / 2),
    };
    out.extend(std::iter::repeat_n(fill, l));
    out.push_str(&text);
    out.extend(std::iter::repeat_n(fill, r));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harmonization::MsgType;

    fn render(t: &str, line: &str) -> Result<String, String> {
        let ev = Message::from_json(line.as_bytes(), MsgType::Event).unwrap();
        let mut s = String::new();
        Template::parse(t).unwrap().render(&ev, &mut s).map(|_| s)
    }

    #[test]
    fn templates() {
        let ev = r#"{"time.source":"2024-03-05T10:11:12+00:00","time.observation":"2024-03-06T00:00:00.250000+00:00","feed.name":"My Feed","source.port":80}"#;
        assert_eq!(
            render("/x/events-{event[time.source]:%Y-%m-%d}.ndjson", ev).unwrap(),
            "/x/events-2024-03-05.ndjson"
        );
        assert_eq!(
            render("{event[feed.name]}/{event[time.observation]}.txt", ev).unwrap(),
            "My Feed/2024-03-06 00:00:00.250000.txt"
        );
        assert_eq!(
            render(
                "o/{event[time.observation]:%H%M%S.%f}-{event[source.port]:05d}-{{x}}",
                ev
            )
            .unwrap(),
            "o/000000.250000-00080-{x}"
        );
        assert_eq!(
            render("o/{event[feed.name]:_<9.4}|", ev).unwrap(),
            "o/My F_____|"
        );
        assert!(render("o/{event[source.ip]}", ev)
            .unwrap_err()
            .contains("KeyError"));
        for bad in [
            r#""../up""#,
            r#""/etc/passwd""#,
            r#""a/../../b""#,
            r#""a\u0000b""#,
        ] {
            let ev = format!(r#"{{"feed.name":{bad}}}"#);
            assert!(render("out/{event[feed.name]}.txt", &ev).is_err(), "{bad}");
        }
        // Two values that make ".." together.
        let ev = r#"{"feed.name":".","feed.code":"."}"#;
        assert!(render("out/{event[feed.name]}{event[feed.code]}/x", ev).is_err());
        assert!(Template::parse("{feed}").is_err());
        assert!(Template::parse("a}b").is_err());
    }
}
