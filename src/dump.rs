//! The dump: where rejected input goes, so that nothing is lost.
//!
//! Every line a tool cannot process (not UTF-8, not JSON, an unknown field, a value
//! that fails its type, a feed record that does not parse, a line over the length
//! limit) is appended to the dump file as one JSON object:
//!
//! ```json
//! {"time":"2026-01-01T00:00:00+00:00","tool":"imq-enrich","input":"<stdin>","line":2,"error":"invalid JSON: ...","raw":"{\"source.ip\": "}
//! ```
//!
//! * `raw` is the original line (or feed record) as text; when it is not valid
//!   UTF-8 it is in `raw_base64` instead, so the bytes survive exactly.
//! * `record` (parsers) is the number of the record inside a report.
//! * The file is opened in append mode only when the first line is rejected, and
//!   each record is written with one `write` call, so that several tools may share
//!   one dump file.
//!
//! Default file: `imq-<tool>.dump.ndjson` in `$IMQ_DUMP_DIR`, or in the working
//! directory when that is not set; `--dump FILE` overrides it. A fixed dump is
//! replayed with `--from-dump` (see [`from_dump_line`]).

use base64::Engine;
use serde_json::{Map, Value};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::PathBuf;

/// Where and how rejected lines are written.
pub struct Dumper {
    path: PathBuf,
    tool: &'static str,
    file: Option<File>,
    /// Records written.
    pub count: u64,
    buf: Vec<u8>,
}

/// The most bytes of one rejected input a dump record holds (`raw` is then a
/// prefix, with `"length"` the full size and `"truncated": true`).
pub const MAX_RAW: usize = 1 << 20;

/// The most characters of a reason a dump record holds.
const MAX_ERROR: usize = 4096;

/// The default dump path of a tool.
pub fn default_path(tool: &str) -> PathBuf {
    let name = format!("{tool}.dump.ndjson");
    match std::env::var_os("IMQ_DUMP_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir).join(name),
        _ => PathBuf::from(name),
    }
}

/// One rejected item.
pub struct Rejected<'a> {
    pub input: &'a str,
    pub line: u64,
    /// Record number inside a report (parsers), if any.
    pub record: Option<u64>,
    pub error: &'a str,
    pub bytes: &'a [u8],
}

impl Dumper {
    pub fn new(tool: &'static str, path: Option<PathBuf>) -> Dumper {
        Dumper {
            path: path.unwrap_or_else(|| default_path(tool)),
            tool,
            file: None,
            count: 0,
            buf: Vec::new(),
        }
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Append one record. Errors here are fatal for the run: losing the dump would
    /// lose data.
    pub fn write(&mut self, r: &Rejected) -> io::Result<()> {
        if self.file.is_none() {
            let f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .map_err(|e| {
                    io::Error::new(
                        e.kind(),
                        format!("cannot open dump {}: {e}", self.path.display()),
                    )
                })?;
            self.file = Some(f);
        }
        let mut m = Map::new();
        m.insert(
            "time".into(),
            Value::String(
                chrono::Utc::now()
                    .format("%Y-%m-%dT%H:%M:%S%.6f+00:00")
                    .to_string(),
            ),
        );
        m.insert("tool".into(), Value::String(self.tool.into()));
        m.insert("input".into(), Value::String(r.input.into()));
        m.insert("line".into(), Value::from(r.line));
        if let Some(n) = r.record {
            m.insert("record".into(), Value::from(n));
        }
        // Reasons quote values; a huge value must not make a huge reason.
        let error = match r.error.char_indices().nth(MAX_ERROR) {
            Some((cut, _)) => format!("{}... ({} bytes)", &r.error[..cut], r.error.len()),
            None => r.error.to_string(),
        };
        m.insert("error".into(), Value::String(error));
        // A huge rejected input (a line over the limit, a whole feed) keeps a
        // bounded prefix and its length: the dump must not grow by copies of
        // what was too big to process.
        let bytes = if r.bytes.len() > MAX_RAW {
            m.insert("length".into(), Value::from(r.bytes.len()));
            m.insert("truncated".into(), Value::Bool(true));
            let mut cut = MAX_RAW;
            if let Err(e) = std::str::from_utf8(&r.bytes[..cut]) {
                // Cut at a character boundary when the text is UTF-8 up to there.
                if e.error_len().is_none() {
                    cut = e.valid_up_to();
                }
            }
            &r.bytes[..cut]
        } else {
            r.bytes
        };
        match std::str::from_utf8(bytes) {
            Ok(s) => m.insert("raw".into(), Value::String(s.into())),
            Err(_) => m.insert(
                "raw_base64".into(),
                Value::String(base64::engine::general_purpose::STANDARD.encode(bytes)),
            ),
        };
        self.buf.clear();
        serde_json::to_writer(&mut self.buf, &m).expect("Vec write");
        self.buf.push(b'\n');
        self.file
            .as_mut()
            .expect("opened above")
            .write_all(&self.buf)?;
        self.count += 1;
        Ok(())
    }
}

/// The original bytes of a dump record, for replaying a (fixed) dump with
/// `--from-dump`: `raw`, or `raw_base64` decoded.
pub fn from_dump_line(line: &[u8]) -> Result<Vec<u8>, String> {
    let v: Value = serde_json::from_slice(line).map_err(|e| format!("not a dump record: {e}"))?;
    if v.get("truncated").and_then(Value::as_bool) == Some(true) {
        return Err(format!(
            "the dump holds only the first bytes of this input ({} bytes): it cannot be replayed",
            v.get("length").and_then(Value::as_u64).unwrap_or(0)
        ));
    }
    if let Some(s) = v.get("raw").and_then(Value::as_str) {
        return Ok(s.as_bytes().to_vec());
    }
    if let Some(s) = v.get("raw_base64").and_then(Value::as_str) {
        return base64::engine::general_purpose::STANDARD
            .decode(s)
            .map_err(|e| format!("raw_base64: {e}"));
    }
    Err("not a dump record: no \"raw\" or \"raw_base64\"".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_input_keeps_a_bounded_prefix_and_its_length() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.ndjson");
        let mut d = Dumper::new("imq-test", Some(path.clone()));
        let big = "é".repeat(MAX_RAW); // 2 bytes each: the cut falls inside one
        d.write(&Rejected {
            input: "x",
            line: 1,
            record: None,
            error: "too long",
            bytes: big.as_bytes(),
        })
        .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.len() < MAX_RAW + 1000, "{}", text.len());
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["length"], big.len());
        assert_eq!(v["truncated"], true);
        assert!(big.starts_with(v["raw"].as_str().unwrap()));
        let err = from_dump_line(text.trim_end().as_bytes()).unwrap_err();
        assert!(err.contains("cannot be replayed"), "{err}");
    }
}
