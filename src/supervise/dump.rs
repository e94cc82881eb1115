//! `dump list|show|recover|delete`: intelmqdump's job, non-interactive. Reads
//! imq's dumps (`<state>/<stage>.dump.ndjson`, one JSON record per line) and
//! IntelMQ's (`<bot>.dump`, one JSON object keyed by time stamp).
//!
//! `recover` writes the chosen entries' original bytes into a stage's input (the
//! running supervisor's `<state>/<stage>.in`, or a file), then removes exactly
//! those entries: under the dump's lock (the supervisor appends under the same
//! lock, IntelMQ bots `flock` the file itself), the rest is written to a
//! temporary file that is renamed over the dump, so a reader sees the old file or
//! the new one, and nothing appended meanwhile is lost.

use super::config::Pipeline;
use super::state;
use anyhow::{anyhow, bail, Context, Result};
use base64::Engine;
use serde_json::{Map, Value};
use std::fs::OpenOptions;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// One dump entry, whichever format it came from.
#[derive(Debug, Clone)]
pub struct Entry {
    pub id: usize,
    pub time: String,
    pub error: String,
    /// The message's original bytes.
    pub bytes: Vec<u8>,
    /// The whole record, for `show --json`.
    pub record: Value,
}

/// Which file: a stage of the pipeline, or a dump file named directly.
pub enum Source {
    Imq { path: PathBuf, lock: PathBuf },
    IntelMq { path: PathBuf },
}

impl Source {
    pub fn path(&self) -> &Path {
        match self {
            Source::Imq { path, .. } | Source::IntelMq { path } => path,
        }
    }
}

pub fn source(p: &Pipeline, what: &str) -> Result<Source> {
    if p.stage(what).is_some() {
        return Ok(Source::Imq {
            path: state::dump_file(&p.state_dir, what),
            lock: state::dump_lock(&p.state_dir, what),
        });
    }
    let path = PathBuf::from(what);
    if what.ends_with(".dump") {
        return Ok(Source::IntelMq { path });
    }
    if what.ends_with(".ndjson") {
        let lock = path.with_extension("lock");
        return Ok(Source::Imq { path, lock });
    }
    bail!(
        "{what:?} is neither a stage of {} nor a .dump/.ndjson file",
        p.file.display()
    )
}

/// Every dump in the state directory: (name, path, entries or error).
pub fn list(p: &Pipeline) -> Vec<(String, PathBuf, Result<usize>)> {
    let mut out = Vec::new();
    for s in &p.stages {
        let src = source(p, &s.name).expect("a stage");
        let path = src.path().to_path_buf();
        if path.exists() {
            out.push((s.name.clone(), path, read(&src).map(|v| v.len())));
        }
    }
    if let Ok(rd) = std::fs::read_dir(&p.state_dir) {
        let mut extra: Vec<PathBuf> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|f| f.extension().is_some_and(|e| e == "dump"))
            .collect();
        extra.sort();
        for f in extra {
            let src = Source::IntelMq { path: f.clone() };
            let name = f
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            out.push((name, f, read(&src).map(|v| v.len())));
        }
    }
    out
}

fn imq_entry(id: usize, v: Value) -> Entry {
    let bytes = crate::dump::from_dump_line(v.to_string().as_bytes()).unwrap_or_default();
    // A parser's feed record is not a message: recovering it means a report
    // that carries it as its raw data (as intelmqdump turns an Event into a
    // Report for a parser).
    let bytes = if v.get("record").is_some() {
        let mut m = Map::new();
        m.insert(
            "raw".into(),
            Value::String(base64::engine::general_purpose::STANDARD.encode(&bytes)),
        );
        m.insert("__type".into(), Value::String("Report".into()));
        Value::Object(m).to_string().into_bytes()
    } else {
        bytes
    };
    Entry {
        id,
        time: v["time"].as_str().unwrap_or("").to_string(),
        error: v["error"].as_str().unwrap_or("").to_string(),
        bytes,
        record: v,
    }
}

fn intelmq_entries(text: &str) -> Result<Vec<Entry>> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let obj: Map<String, Value> =
        serde_json::from_str(text).map_err(|e| anyhow!("not an IntelMQ dump: {e}"))?;
    // intelmqdump lists entries sorted by their time stamp keys.
    let mut keys: Vec<&String> = obj.keys().collect();
    keys.sort();
    let mut out = Vec::new();
    for (id, k) in keys.into_iter().enumerate() {
        let v = &obj[k];
        let msg = v["message"].as_str().unwrap_or("");
        let bytes = if v["message_type"] == "base64" {
            base64::engine::general_purpose::STANDARD
                .decode(msg)
                .map_err(|e| anyhow!("entry {k}: message: {e}"))?
        } else {
            msg.as_bytes().to_vec()
        };
        let error = v["traceback"]
            .as_array()
            .and_then(|t| t.last())
            .and_then(Value::as_str)
            .or_else(|| v["traceback"].as_str())
            .unwrap_or("")
            .trim()
            .to_string();
        let mut record = v.clone();
        if let Some(m) = record.as_object_mut() {
            m.insert("time".into(), Value::String(k.clone()));
        }
        out.push(Entry {
            id,
            time: k.clone(),
            error,
            bytes,
            record,
        });
    }
    Ok(out)
}

pub fn read(src: &Source) -> Result<Vec<Entry>> {
    let path = src.path();
    let text = match std::fs::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).context(path.display().to_string()),
    };
    match src {
        Source::Imq { .. } => {
            let mut out = Vec::new();
            for (i, line) in text.split(|b| *b == b'\n').enumerate() {
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let v: Value = serde_json::from_slice(line)
                    .map_err(|e| anyhow!("{}:{}: not a dump record: {e}", path.display(), i + 1))?;
                out.push(imq_entry(out.len(), v));
            }
            Ok(out)
        }
        Source::IntelMq { .. } => intelmq_entries(&String::from_utf8_lossy(&text))
            .with_context(|| path.display().to_string()),
    }
}

/// `1,3,5-7` (ids as `show` prints them); empty means all.
pub fn parse_ids(s: Option<&str>, n: usize) -> Result<Vec<usize>> {
    let Some(s) = s else {
        return Ok((0..n).collect());
    };
    let mut v = Vec::new();
    for part in s.split(',').filter(|p| !p.is_empty()) {
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (a.trim().parse::<usize>()?, b.trim().parse::<usize>()?),
            None => {
                let a = part.trim().parse::<usize>()?;
                (a, a)
            }
        };
        if a > b || b >= n {
            bail!("no entry {part} (ids are 0-{})", n.saturating_sub(1));
        }
        v.extend(a..=b);
    }
    v.sort();
    v.dedup();
    Ok(v)
}

/// Hold the lock of a dump while `f` runs.
fn locked<T>(src: &Source, f: impl FnOnce() -> Result<T>) -> Result<T> {
    match src {
        Source::Imq { lock, .. } => {
            let mut r = None;
            state::with_lock(lock, || {
                r = Some(f());
                Ok(())
            })?;
            r.expect("ran")
        }
        Source::IntelMq { path } => {
            // IntelMQ bots flock the dump file itself.
            let fh = OpenOptions::new()
                .read(true)
                .open(path)
                .with_context(|| path.display().to_string())?;
            // SAFETY: flock on our own descriptor, released when it closes.
            if unsafe { libc::flock(fh.as_raw_fd(), libc::LOCK_EX) } != 0 {
                return Err(std::io::Error::last_os_error().into());
            }
            let r = f();
            drop(fh);
            r
        }
    }
}

/// Rewrite the dump without the entries `gone` (file deleted when nothing is
/// left, as intelmqdump does).
fn rewrite(src: &Source, entries: &[Entry], gone: &[usize]) -> Result<()> {
    let path = src.path();
    let keep: Vec<&Entry> = entries.iter().filter(|e| !gone.contains(&e.id)).collect();
    if keep.is_empty() {
        match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => return Ok(()),
        }
    }
    let mut out = Vec::new();
    match src {
        Source::Imq { .. } => {
            for e in keep {
                serde_json::to_writer(&mut out, &e.record)?;
                out.push(b'\n');
            }
        }
        Source::IntelMq { .. } => {
            let mut m = Map::new();
            for e in keep {
                let mut r = e.record.clone();
                if let Some(o) = r.as_object_mut() {
                    o.remove("time");
                }
                m.insert(e.time.clone(), r);
            }
            out = pyjson_indent4(&Value::Object(m)).into_bytes();
        }
    }
    state::write_atomic(path, &out)?;
    Ok(())
}

/// `json.dumps(obj, indent=4, sort_keys=True)`, as IntelMQ writes its dumps.
fn pyjson_indent4(v: &Value) -> String {
    fn go(v: &Value, ind: usize, out: &mut String) {
        match v {
            Value::Object(m) if !m.is_empty() => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                out.push_str("{\n");
                for (i, k) in keys.iter().enumerate() {
                    out.push_str(&" ".repeat(ind + 4));
                    crate::pyfmt::json_str_ascii(k, out);
                    out.push_str(": ");
                    go(&m[*k], ind + 4, out);
                    if i + 1 < keys.len() {
                        out.push(',');
                    }
                    out.push('\n');
                }
                out.push_str(&" ".repeat(ind));
                out.push('}');
            }
            Value::Array(a) if !a.is_empty() => {
                out.push_str("[\n");
                for (i, x) in a.iter().enumerate() {
                    out.push_str(&" ".repeat(ind + 4));
                    go(x, ind + 4, out);
                    if i + 1 < a.len() {
                        out.push(',');
                    }
                    out.push('\n');
                }
                out.push_str(&" ".repeat(ind));
                out.push(']');
            }
            Value::String(s) => crate::pyfmt::json_str_ascii(s, out),
            other => out.push_str(&other.to_string()),
        }
    }
    let mut s = String::new();
    go(v, 0, &mut s);
    s
}

pub fn delete(src: &Source, ids: Option<&str>) -> Result<usize> {
    locked(src, || {
        let entries = read(src)?;
        let gone = parse_ids(ids, entries.len())?;
        rewrite(src, &entries, &gone)?;
        Ok(gone.len())
    })
}

/// Where recovered messages go.
pub enum Target {
    /// A stage of the running pipeline (its `<state>/<stage>.in`).
    Stage(PathBuf),
    /// A file, appended to (a stage that reads a file, or for inspection).
    File(PathBuf),
    /// A broker queue (a stage's input on a Redis or RabbitMQ pipeline).
    Queue(String),
}

pub fn recover(src: &Source, ids: Option<&str>, to: &Target) -> Result<usize> {
    locked(src, || {
        let entries = read(src)?;
        let chosen = parse_ids(ids, entries.len())?;
        let mut buf = Vec::new();
        for e in entries.iter().filter(|e| chosen.contains(&e.id)) {
            buf.extend_from_slice(&e.bytes);
            buf.push(b'\n');
        }
        match to {
            Target::Stage(fifo) => {
                // Non-blocking open: fails at once (ENXIO) when no supervisor
                // reads the pipe, instead of waiting for one.
                let mut f = OpenOptions::new()
                    .write(true)
                    .custom_flags(libc::O_NONBLOCK)
                    .open(fifo)
                    .map_err(|e| {
                        anyhow!(
                            "{}: {e} (is the pipeline running? or use --to-file)",
                            fifo.display()
                        )
                    })?;
                // Back to blocking writes: the supervisor drains the pipe.
                // SAFETY: fcntl on our own descriptor.
                unsafe {
                    let fl = libc::fcntl(f.as_raw_fd(), libc::F_GETFL);
                    libc::fcntl(f.as_raw_fd(), libc::F_SETFL, fl & !libc::O_NONBLOCK);
                }
                f.write_all(&buf)?;
            }
            Target::File(p) => {
                let mut f = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)
                    .with_context(|| p.display().to_string())?;
                f.write_all(&buf)?;
                f.sync_data()?;
            }
            Target::Queue(uri) => {
                let mut sink = crate::transport::open_sink(&crate::transport::Endpoints {
                    output: Some(uri.clone()),
                    ..Default::default()
                })?;
                for e in entries.iter().filter(|e| chosen.contains(&e.id)) {
                    sink.send("_default", &e.bytes)?;
                }
                // Confirmed by the broker before the entries leave the dump.
                sink.commit()?;
            }
        }
        // Only now that the target has the messages are they removed.
        rewrite(src, &entries, &chosen)?;
        Ok(chosen.len())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert_eq!(parse_ids(Some("0,2-3"), 5).unwrap(), [0, 2, 3]);
        assert_eq!(parse_ids(None, 3).unwrap(), [0, 1, 2]);
        assert!(parse_ids(Some("5"), 5).is_err());
    }

    #[test]
    fn intelmq_dump_read_and_rewritten_as_intelmq_writes_it() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("bad-output.dump");
        let text = r#"{
    "2026-12-02T04:46:24.315404": {
        "bot_id": "bad-output",
        "message": "{\"source.ip\": \"1.2.3.4\", \"__type\": \"Event\"}",
        "source_queue": "bad-output-queue",
        "traceback": ["Traceback (most recent call last):\n", "KeyError: 'nonexist'\n"]
    },
    "2026-12-02T04:46:24.313930": {
        "bot_id": "bad-output",
        "message": "eyJzb3VyY2UuaXAiOiAibm90YW5pcCJ9",
        "message_type": "base64",
        "source_queue": "bad-output-queue",
        "traceback": ["...", "intelmq.lib.exceptions.InvalidValue: invalid value 'notanip' (<class 'str'>) for key 'source.ip'\n"]
    }
}"#;
        std::fs::write(&f, text).unwrap();
        let src = Source::IntelMq { path: f.clone() };
        let e = read(&src).unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].time, "2026-12-02T04:46:24.313930");
        assert_eq!(e[0].bytes, br#"{"source.ip": "notanip"}"#);
        assert!(e[0]
            .error
            .starts_with("intelmq.lib.exceptions.InvalidValue"));
        assert_eq!(e[1].error, "KeyError: 'nonexist'");
        let out = d.path().join("out.ndjson");
        assert_eq!(
            recover(&src, Some("1"), &Target::File(out.clone())).unwrap(),
            1
        );
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "{\"source.ip\": \"1.2.3.4\", \"__type\": \"Event\"}\n"
        );
        let rest = std::fs::read_to_string(&f).unwrap();
        assert!(
            rest.starts_with(
                "{\n    \"2026-12-02T04:46:24.313930\": {\n        \"bot_id\": \"bad-output\",\n"
            ),
            "{rest}"
        );
        assert!(
            rest.contains("\"traceback\": [\n            \"...\",\n"),
            "{rest}"
        );
        assert_eq!(read(&src).unwrap().len(), 1);
        assert_eq!(delete(&src, None).unwrap(), 1);
        assert!(!f.exists());
    }
}
