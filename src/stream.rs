//! The one stream loop every tool runs, and the transport interface under it.
//!
//! A tool is a [`Stage`]: one message in, zero or more out. [`run`] reads messages
//! from a [`Source`], decodes them, hands them to the stage, and writes what the
//! stage emits to a [`Sink`]. Bad lines go to the [`Dumper`]; counters are kept in
//! [`Stats`] so that `input == output + filtered + dumped` can be checked.
//!
//! # Transport contract
//!
//! Sources and sinks are the only things that know where bytes come from and go
//! to. Today they are files, stdin and stdout; broker transports (an IntelMQ Redis
//! queue, RabbitMQ) implement the same two traits:
//!
//! * [`Source::next`] hands out one message at a time (a line of NDJSON or one
//!   queue item). Nothing it handed out counts as done before [`Source::ack`].
//! * [`Sink::send`] writes one message to a destination path (`_default` or a
//!   named path, as IntelMQ's `destination_queues`); [`Sink::commit`] makes
//!   everything sent so far durable (flush, publisher confirms).
//! * The loop calls `sink.commit()` and then `source.ack()` at batch boundaries:
//!   when the source is idle (no input ready without waiting), every
//!   [`BATCH`] messages, and at the end. So a crash between the two re-delivers
//!   a batch rather than losing it: at-least-once, like IntelMQ.

use crate::dump::{self, Dumper, Rejected};
use crate::harmonization::MsgType;
use crate::message::{FieldError, Message};
use std::collections::HashMap;
use std::fmt::Display;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Read, Write};
use std::time::Instant;

/// Messages per commit/ack batch when input never pauses.
pub const BATCH: u64 = 4096;
/// Default `--max-line-bytes`: big enough for a report carrying a whole feed.
pub const DEFAULT_MAX_LINE: usize = 256 << 20;

/// Where a message came from, for error messages and the dump.
#[derive(Debug, Clone, Copy)]
pub struct Pos<'a> {
    pub input: &'a str,
    pub line: u64,
}

/// What [`Source::next`] found.
pub enum Next {
    /// A message is in the buffer.
    Line,
    /// A line longer than the limit: the buffer holds its first bytes, the rest was
    /// skipped. The value is the full length.
    TooLong(usize),
    /// No more input.
    End,
}

/// A source of messages.
pub trait Source {
    /// Clear `buf` and read the next message into it (without the line end).
    fn next(&mut self, buf: &mut Vec<u8>) -> io::Result<Next>;
    /// Where the last message came from.
    fn pos(&self) -> Pos<'_>;
    /// True when the next `next` would have to wait for input.
    fn idle(&self) -> bool;
    /// All messages handed out so far are processed and their output committed.
    fn ack(&mut self) -> io::Result<()>;
}

/// A destination for messages.
pub trait Sink {
    /// Write one serialized message (no line end) to a destination path.
    fn send(&mut self, path: &str, msg: &[u8]) -> io::Result<()>;
    /// Make everything sent so far durable / visible downstream.
    fn commit(&mut self) -> io::Result<()>;
}

/// NDJSON lines from files and stdin, in order.
pub struct LineSource {
    inputs: Vec<String>,
    idx: usize,
    reader: Option<BufReader<Box<dyn Read>>>,
    /// Input is a pipe or terminal: flush output when it pauses.
    streaming: bool,
    name: String,
    line: u64,
    max: usize,
}

impl LineSource {
    /// `inputs` are paths; `-` (or none at all) is stdin.
    pub fn new(mut inputs: Vec<String>, max_line: usize) -> LineSource {
        if inputs.is_empty() {
            inputs.push("-".into());
        }
        LineSource {
            inputs,
            idx: 0,
            reader: None,
            streaming: false,
            name: String::new(),
            line: 0,
            max: max_line,
        }
    }

    /// Open every file now, so that a missing file is a usage error before any
    /// input is consumed.
    pub fn check(&self) -> anyhow::Result<()> {
        for i in &self.inputs {
            if i != "-" {
                File::open(i).map_err(|e| anyhow::anyhow!("{i}: {e}"))?;
            }
        }
        Ok(())
    }

    fn open_next(&mut self) -> io::Result<bool> {
        let Some(name) = self.inputs.get(self.idx).cloned() else {
            return Ok(false);
        };
        self.idx += 1;
        // Our own BufReader (not `StdinLock`) because `idle` needs `buffer()`.
        let (inner, streaming): (Box<dyn Read>, bool) = if name == "-" {
            (Box::new(io::stdin()), true)
        } else {
            let f =
                File::open(&name).map_err(|e| io::Error::new(e.kind(), format!("{name}: {e}")))?;
            let streaming = !f.metadata().map(|m| m.is_file()).unwrap_or(false);
            (Box::new(f), streaming)
        };
        let reader = BufReader::with_capacity(64 << 10, inner);
        self.name = if name == "-" { "<stdin>".into() } else { name };
        self.reader = Some(reader);
        self.streaming = streaming;
        self.line = 0;
        Ok(true)
    }
}

/// Read one line into `buf` (line end removed), keeping at most `max` bytes.
pub fn read_line_limited<R: BufRead + ?Sized>(
    r: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<Option<usize>> {
    buf.clear();
    let mut total = 0usize;
    let mut any = false;
    loop {
        let (done, used) = {
            let avail = match r.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                break;
            }
            any = true;
            match memchr::memchr(b'\n', avail) {
                Some(i) => {
                    let room = max.saturating_sub(buf.len());
                    buf.extend_from_slice(&avail[..i.min(room)]);
                    total += i;
                    (true, i + 1)
                }
                None => {
                    let room = max.saturating_sub(buf.len());
                    buf.extend_from_slice(&avail[..avail.len().min(room)]);
                    total += avail.len();
                    (false, avail.len())
                }
            }
        };
        r.consume(used);
        if done {
            break;
        }
    }
    if !any {
        return Ok(None);
    }
    if buf.last() == Some(&b'\r') && total <= max {
        buf.pop();
        total -= 1;
    }
    Ok(Some(total))
}

impl Source for LineSource {
    fn next(&mut self, buf: &mut Vec<u8>) -> io::Result<Next> {
        loop {
            if self.reader.is_none() && !self.open_next()? {
                return Ok(Next::End);
            }
            let r = self.reader.as_mut().expect("opened");
            match read_line_limited(r, buf, self.max)? {
                None => {
                    self.reader = None;
                    continue;
                }
                Some(total) => {
                    self.line += 1;
                    return Ok(if total > self.max {
                        Next::TooLong(total)
                    } else {
                        Next::Line
                    });
                }
            }
        }
    }

    fn pos(&self) -> Pos<'_> {
        Pos {
            input: &self.name,
            line: self.line,
        }
    }

    fn idle(&self) -> bool {
        // Only pipes and terminals pause; a regular file is read at full speed.
        // An empty buffer means the next read may block: flush before it, so that
        // `tail -f | imq-...` streams while bulk input stays block-buffered.
        self.streaming && self.reader.as_ref().is_none_or(|r| r.buffer().is_empty())
    }

    fn ack(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Opens a writer for a path: `-` is stdout.
pub fn open_writer(path: &str, line_buffered: bool) -> io::Result<Box<dyn Write>> {
    if path == "-" {
        let out = io::stdout();
        let tty = out.is_terminal();
        if tty || line_buffered {
            Ok(Box::new(LineFlush(BufWriter::with_capacity(8 << 10, out))))
        } else {
            Ok(Box::new(BufWriter::with_capacity(64 << 10, out)))
        }
    } else {
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| io::Error::new(e.kind(), format!("{path}: {e}")))?;
        if line_buffered {
            Ok(Box::new(LineFlush(BufWriter::with_capacity(8 << 10, f))))
        } else {
            Ok(Box::new(BufWriter::with_capacity(64 << 10, f)))
        }
    }
}

/// A writer that flushes after each message: `--line-buffered` and terminals.
struct LineFlush<W: Write>(BufWriter<W>);

impl<W: Write> Write for LineFlush<W> {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        let n = self.0.write(b)?;
        if b.ends_with(b"\n") {
            self.0.flush()?;
        }
        Ok(n)
    }
    fn write_all(&mut self, b: &[u8]) -> io::Result<()> {
        self.0.write_all(b)?;
        if b.ends_with(b"\n") {
            self.0.flush()?;
        }
        Ok(())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// NDJSON to stdout or files. Named paths go to the file given for them
/// (`--path NAME=FILE`); without one they go to the main output with a
/// `"__path": NAME` key added, so that a downstream tool or `jq` can split them.
pub struct LineSink {
    main: Box<dyn Write>,
    paths: HashMap<String, Box<dyn Write>>,
    scratch: Vec<u8>,
}

impl LineSink {
    pub fn new(main: Box<dyn Write>) -> LineSink {
        LineSink {
            main,
            paths: HashMap::new(),
            scratch: Vec::new(),
        }
    }

    /// Route a named path to its own writer.
    pub fn route(&mut self, path: &str, w: Box<dyn Write>) {
        self.paths.insert(path.to_string(), w);
    }
}

impl Sink for LineSink {
    fn send(&mut self, path: &str, msg: &[u8]) -> io::Result<()> {
        if path == "_default" {
            // Straight into the buffered writer: no copy through `scratch`. (A
            // line-flushing writer flushes on the line end, written last.)
            self.main.write_all(msg)?;
            return self.main.write_all(b"\n");
        }
        self.scratch.clear();
        if let Some(w) = self.paths.get_mut(path) {
            self.scratch.extend_from_slice(msg);
            self.scratch.push(b'\n');
            return w.write_all(&self.scratch);
        }
        // Insert `"__path":NAME` before the closing brace.
        let body = msg.strip_suffix(b"}").unwrap_or(msg);
        self.scratch.extend_from_slice(body);
        if body.len() > 1 {
            self.scratch.push(b',');
        }
        self.scratch.extend_from_slice(b"\"__path\":");
        serde_json::to_writer(&mut self.scratch, path).expect("Vec write");
        self.scratch.extend_from_slice(b"}\n");
        self.main.write_all(&self.scratch)
    }

    fn commit(&mut self) -> io::Result<()> {
        self.main.flush()?;
        for w in self.paths.values_mut() {
            w.flush()?;
        }
        Ok(())
    }
}

/// The counters every tool keeps.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Messages (parsers: feed records) read.
    pub input: u64,
    /// Messages written.
    pub output: u64,
    /// Messages dropped on purpose by an explicit rule.
    pub filtered: u64,
    /// Messages or records written to the dump.
    pub dumped: u64,
}

impl Stats {
    /// Is every input accounted for? (Only for one-in-one-out tools; parsers and
    /// aggregating experts write more or fewer messages than they read.)
    pub fn balanced(&self) -> bool {
        self.input == self.output + self.filtered + self.dumped
    }
}

impl Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "in {}, out {}, filtered {}, dumped {}",
            self.input, self.output, self.filtered, self.dumped
        )
    }
}

/// How a stage failed on one message.
#[derive(Debug)]
pub enum Fail {
    /// This message cannot be processed: it goes to the dump, the run goes on.
    Reject(String),
    /// The run cannot go on (I/O, a broken resource).
    Fatal(anyhow::Error),
}

impl From<io::Error> for Fail {
    fn from(e: io::Error) -> Fail {
        Fail::Fatal(e.into())
    }
}

impl From<FieldError> for Fail {
    fn from(e: FieldError) -> Fail {
        Fail::Reject(e.to_string())
    }
}

impl From<anyhow::Error> for Fail {
    fn from(e: anyhow::Error) -> Fail {
        Fail::Fatal(e)
    }
}

/// What a stage uses to emit messages and account for what it does.
pub struct Emit<'a> {
    sink: &'a mut dyn Sink,
    dumper: &'a mut Dumper,
    stats: &'a mut Stats,
    buf: &'a mut Vec<u8>,
    /// The original input line of the message being processed.
    pub original: &'a [u8],
    pub pos: Pos<'a>,
    log: &'a mut Log,
}

impl Emit<'_> {
    /// Write a message to the default path.
    pub fn send(&mut self, msg: &Message) -> io::Result<()> {
        self.send_to("_default", msg)
    }

    /// Write a message to a named path.
    pub fn send_to(&mut self, path: &str, msg: &Message) -> io::Result<()> {
        self.buf.clear();
        msg.write_json(self.buf);
        self.stats.output += 1;
        self.sink.send(path, self.buf)
    }

    /// Write the input line unchanged (a kept, unmodified message).
    pub fn send_original(&mut self, path: &str) -> io::Result<()> {
        self.stats.output += 1;
        self.sink.send(path, self.original)
    }

    /// Count a message the stage delivered by itself (outputs).
    pub fn delivered(&mut self) {
        self.stats.output += 1;
    }

    /// Count a message dropped on purpose by an explicit rule.
    pub fn filtered(&mut self) {
        self.stats.filtered += 1;
    }

    /// Count extra inputs (a parser counts each feed record it finds; the loop has
    /// counted the report line as one already).
    pub fn count_input(&mut self, n: i64) {
        self.stats.input = (self.stats.input as i64 + n).max(0) as u64;
    }

    /// Dump one part of the current input (a parser's bad feed record) and go on.
    pub fn reject(&mut self, record: Option<u64>, bytes: &[u8], reason: &str) -> io::Result<()> {
        self.stats.dumped += 1;
        self.log.reject(self.pos, reason);
        self.dumper.write(&Rejected {
            input: self.pos.input,
            line: self.pos.line,
            record,
            error: reason,
            bytes,
        })
    }
}

/// A tool's processing step.
pub trait Stage {
    /// The class of messages without `__type` on input.
    fn default_type(&self) -> MsgType {
        MsgType::Event
    }

    /// Process one message.
    fn process(&mut self, msg: Message, out: &mut Emit) -> Result<(), Fail>;

    /// Process a line that is not a message (parsers take raw feed data too).
    /// The default rejects it with the decoding error.
    fn process_raw(&mut self, err: String, _out: &mut Emit) -> Result<(), Fail> {
        Err(Fail::Reject(err))
    }

    /// Make what the stage wrote by itself durable (outputs with their own
    /// writers); called at every batch boundary, before the sink commits.
    fn commit(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// Called at the end of input, for stages that hold state.
    fn finish(&mut self, _out: &mut Emit) -> Result<(), Fail> {
        Ok(())
    }
}

/// Messages to stderr: bounded, sanitized, quiet with `-q`.
pub struct Log {
    pub tool: &'static str,
    pub quiet: bool,
    pub verbose: u8,
    shown: u64,
}

/// At most this many reject messages on stderr; the dump has them all.
const MAX_SHOWN: u64 = 20;

impl Log {
    pub fn new(tool: &'static str, quiet: bool, verbose: u8) -> Log {
        Log {
            tool,
            quiet,
            verbose,
            shown: 0,
        }
    }

    fn reject(&mut self, pos: Pos, reason: &str) {
        if self.quiet {
            return;
        }
        self.shown += 1;
        if self.shown <= MAX_SHOWN {
            eprintln_safe(&format!(
                "{}: {}:{}: {}",
                self.tool,
                pos.input,
                pos.line,
                sanitize_for_terminal(reason, 300)
            ));
        } else if self.shown == MAX_SHOWN + 1 {
            eprintln_safe(&format!(
                "{}: more rejected lines; see the dump for all of them",
                self.tool
            ));
        }
    }
}

/// Write to stderr, ignoring a closed stderr (as with `2>&-` or a closed pipe).
pub fn eprintln_safe(s: &str) {
    let mut e = io::stderr().lock();
    let _ = writeln!(e, "{s}");
}

/// Escape control characters and cut long text, so that hostile input cannot drive
/// the terminal.
pub fn sanitize_for_terminal(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max) + 8);
    for (i, c) in s.chars().enumerate() {
        if i >= max {
            out.push('…');
            break;
        }
        if c.is_control()
            || ('\u{202a}'..='\u{202e}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
        {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Options of [`run`].
pub struct RunOpts {
    pub strict: bool,
    /// Input lines are dump records: process their original bytes.
    pub from_dump: bool,
    /// Show progress on stderr (a terminal, not quiet).
    pub progress: bool,
}

/// What a run ended with.
#[derive(Debug)]
pub struct Outcome {
    pub stats: Stats,
    /// `--strict` stopped the run at a rejected line.
    pub stopped: bool,
}

/// The stream loop.
pub fn run(
    stage: &mut dyn Stage,
    source: &mut dyn Source,
    sink: &mut dyn Sink,
    dumper: &mut Dumper,
    log: &mut Log,
    opts: &RunOpts,
) -> anyhow::Result<Outcome> {
    let mut stats = Stats::default();
    let mut line = Vec::with_capacity(4096);
    let mut out_buf = Vec::with_capacity(4096);
    let mut undumped: Vec<u8>;
    let mut since_commit = 0u64;
    let default = stage.default_type();
    let started = Instant::now();
    let mut last_progress = started;
    let mut stopped = false;

    loop {
        if since_commit > 0 && (source.idle() || since_commit >= BATCH) {
            stage.commit()?;
            sink.commit()?;
            source.ack()?;
            since_commit = 0;
        }
        let next = source.next(&mut line)?;
        let too_long = match next {
            Next::End => break,
            Next::TooLong(n) => Some(n),
            Next::Line => None,
        };
        if line.iter().all(u8::is_ascii_whitespace) && too_long.is_none() {
            // Empty lines carry nothing (NDJSON framing); they are not counted.
            continue;
        }
        since_commit += 1;
        stats.input += 1;
        let dumped_before = stats.dumped;

        let pos = source.pos();
        let mut emit = Emit {
            sink: &mut *sink,
            dumper: &mut *dumper,
            stats: &mut stats,
            buf: &mut out_buf,
            original: &line,
            pos,
            log: &mut *log,
        };

        if let Some(n) = too_long {
            let reason = format!(
                "line too long: {n} bytes (limit --max-line-bytes); the dump holds its first bytes"
            );
            emit.reject(None, &line, &reason)?;
        } else {
            let payload: &[u8] = if opts.from_dump {
                match dump::from_dump_line(&line) {
                    Ok(b) => {
                        undumped = b;
                        &undumped
                    }
                    Err(e) => {
                        emit.reject(None, &line, &e)?;
                        &[]
                    }
                }
            } else {
                &line
            };
            if !payload.is_empty() || !opts.from_dump {
                emit.original = payload;
                // serde_json checks UTF-8 as it decodes: no separate pass.
                let result = match Message::from_json(payload, default) {
                    Ok(msg) => stage.process(msg, &mut emit),
                    Err(e) => stage.process_raw(e.to_string(), &mut emit),
                };
                match result {
                    Ok(()) => {}
                    Err(Fail::Reject(reason)) => emit.reject(None, payload, &reason)?,
                    Err(Fail::Fatal(e)) => {
                        return Err(e.context(format!("{}:{}", pos.input, pos.line)))
                    }
                }
            }
        }

        if opts.strict && stats.dumped > dumped_before {
            log_line(log, "stopping at the first rejected line (--strict)");
            stopped = true;
            break;
        }
        if opts.progress && stats.input % 8192 == 0 {
            let now = Instant::now();
            if now.duration_since(last_progress).as_millis() >= 500 {
                last_progress = now;
                let secs = now.duration_since(started).as_secs_f64().max(1e-9);
                let _ = write!(
                    io::stderr().lock(),
                    "\r{}: {} ({:.0}/s)   ",
                    log.tool,
                    stats,
                    stats.input as f64 / secs
                );
            }
        }
    }

    if !stopped {
        let pos = source.pos();
        let mut emit = Emit {
            sink: &mut *sink,
            dumper: &mut *dumper,
            stats: &mut stats,
            buf: &mut out_buf,
            original: &[],
            pos,
            log: &mut *log,
        };
        match stage.finish(&mut emit) {
            Ok(()) => {}
            Err(Fail::Reject(r)) => emit.reject(None, b"", &r)?,
            Err(Fail::Fatal(e)) => return Err(e),
        }
    }
    stage.commit()?;
    sink.commit()?;
    source.ack()?;
    if opts.progress {
        let _ = write!(io::stderr().lock(), "\r\x1b[K");
    }
    Ok(Outcome { stats, stopped })
}

fn log_line(log: &Log, s: &str) {
    if !log.quiet {
        eprintln_safe(&format!("{}: {s}", log.tool));
    }
}

/// Read all of a reader, for tools that take whole files (raw feeds).
pub fn read_all(mut r: impl Read) -> io::Result<Vec<u8>> {
    let mut v = Vec::new();
    r.read_to_end(&mut v)?;
    Ok(v)
}
