//! Raw feed files given to a parser (`imq-parse FEED-FILE`): each file, or each
//! member of an archive, becomes one report.

use super::{Next, Pos, Source};
use crate::message::Message;
use crate::parse::archive;
use std::borrow::Cow;
use std::io::{self, BufRead, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Stdin's reader that says when its buffer is empty (the next read may wait).
struct PauseFlag {
    inner: io::BufReader<io::Stdin>,
    empty: Arc<AtomicBool>,
}

impl Read for PauseFlag {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        crate::transport::line::read_through_buf(self, out)
    }
}

impl BufRead for PauseFlag {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        let b = self.inner.fill_buf()?;
        self.empty.store(b.is_empty(), Ordering::Relaxed);
        Ok(b)
    }
    fn consume(&mut self, n: usize) {
        self.inner.consume(n);
        // What the buffer still holds, without reading more.
        let left = self.inner.buffer().len();
        self.empty.store(left == 0, Ordering::Relaxed);
    }
}

/// A report without `raw`: the feed fields and `time.observation` only.
fn report_from_raw_fields(feed: &[(String, String)]) -> Message {
    let mut r = Message::report();
    for (k, v) in feed {
        let _ = r.set(k, v.as_str());
    }
    if !r.contains("time.observation") {
        let now = chrono::Utc::now()
            .format("%Y-%m-%dT%H:%M:%S+00:00")
            .to_string();
        let _ = r.set("time.observation", now);
    }
    r
}

/// A source that turns each raw feed file into one report line without `raw`,
/// and hands the file along as the message's body (an open reader) instead of
/// reading it whole: parsers that stream then run in constant memory.
pub struct RawReports {
    inputs: Vec<String>,
    idx: usize,
    name: String,
    feed: Vec<(String, String)>,
    body: Option<Box<dyn BufRead>>,
    /// Members of the archive being read (one report each) and its name.
    members: Option<archive::Members>,
    archive: String,
    /// Set while stdin's buffer is empty (see [`Source::body_pause`]).
    pause: Option<Arc<AtomicBool>>,
}

impl RawReports {
    /// `feed`: the report fields (`--set`).
    pub fn new(inputs: Vec<String>, feed: Vec<(String, String)>) -> RawReports {
        let inputs = if inputs.is_empty() {
            vec!["-".into()]
        } else {
            inputs
        };
        RawReports {
            inputs,
            idx: 0,
            name: String::new(),
            feed,
            body: None,
            members: None,
            pause: None,
            archive: String::new(),
        }
    }

    /// The report of one feed: the data becomes the body, the report line
    /// carries the feed's fields but no `raw`.
    fn emit(
        &mut self,
        data: Box<dyn BufRead>,
        file_name: Option<&str>,
        buf: &mut Vec<u8>,
    ) -> io::Result<()> {
        let mut feed = Cow::Borrowed(&self.feed);
        // As IntelMQ's file collector and `extract_files` name the file a report
        // came from (the Shadowserver parser reads its report type from it).
        if let Some(f) =
            file_name.filter(|_| !self.feed.iter().any(|(k, _)| k == "extra.file_name"))
        {
            feed.to_mut()
                .push(("extra.file_name".into(), f.to_string()));
        }
        buf.clear();
        self.body = Some(data);
        report_from_raw_fields(&feed).write_json(buf);
        Ok(())
    }
}

impl Source for RawReports {
    fn next(&mut self, buf: &mut Vec<u8>) -> io::Result<Next> {
        loop {
            if let Some(members) = self.members.as_mut() {
                match members.next_member() {
                    Ok(Some((member, data))) => {
                        self.name = format!("{}:{member}", self.archive);
                        self.emit(data, Some(&member), buf)?;
                        return Ok(Next::Line);
                    }
                    Ok(None) => self.members = None,
                    Err(e) => {
                        // A broken archive is a rejected report; the next file
                        // is still read.
                        self.members = None;
                        self.name = std::mem::take(&mut self.archive);
                        buf.clear();
                        report_from_raw_fields(&self.feed).write_json(buf);
                        return Ok(Next::Reject(e.to_string()));
                    }
                }
                continue;
            }
            let Some(name) = self.inputs.get(self.idx).cloned() else {
                return Ok(Next::End);
            };
            self.idx += 1;
            let (reader, file_name): (archive::Input, Option<String>) = if name == "-" {
                self.name = "<stdin>".into();
                let empty = Arc::new(AtomicBool::new(false));
                self.pause = Some(empty.clone());
                let stdin = PauseFlag {
                    inner: io::BufReader::with_capacity(1 << 16, io::stdin()),
                    empty,
                };
                (Box::new(stdin), None)
            } else {
                self.pause = None;
                let f = std::fs::File::open(&name)
                    .map_err(|e| io::Error::new(e.kind(), format!("{name}: {e}")))?;
                let base = std::path::Path::new(&name)
                    .file_name()
                    .map(|b| b.to_string_lossy().into_owned());
                self.name = name;
                (Box::new(io::BufReader::with_capacity(1 << 16, f)), base)
            };
            let unpacked = match archive::unpack(reader) {
                Ok(u) => u,
                Err(e) => {
                    // A broken gzip or archive is a rejected report; the next
                    // file is still read.
                    buf.clear();
                    report_from_raw_fields(&self.feed).write_json(buf);
                    return Ok(Next::Reject(format!("unpacking the feed: {e}")));
                }
            };
            match unpacked {
                archive::Unpacked::Files(members) => {
                    self.archive = std::mem::take(&mut self.name);
                    self.members = Some(members);
                }
                archive::Unpacked::Stream(data) => {
                    self.emit(data, file_name.as_deref(), buf)?;
                    return Ok(Next::Line);
                }
            }
        }
    }
    fn pos(&self) -> Pos<'_> {
        Pos {
            input: &self.name,
            line: 1,
        }
    }
    fn idle(&self) -> bool {
        true
    }
    fn ack(&mut self) -> io::Result<()> {
        Ok(())
    }
    fn take_body(&mut self) -> Option<Box<dyn BufRead>> {
        self.body.take()
    }
    fn body_pause(&self) -> Option<Arc<AtomicBool>> {
        self.pause.clone()
    }
}
