//! NDJSON lines: files, stdin/stdout and fifos.

use super::{Next, Pos, Sink, Source};
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Read, Write};

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

/// `Read::read` for a type whose reading is its `BufRead` (readers that watch or
/// bound what passes through `fill_buf`/`consume`): copy from its buffer.
pub fn read_through_buf<R: BufRead + ?Sized>(r: &mut R, out: &mut [u8]) -> io::Result<usize> {
    let avail = r.fill_buf()?;
    let n = avail.len().min(out.len());
    out[..n].copy_from_slice(&avail[..n]);
    r.consume(n);
    Ok(n)
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
                        Next::Reject(format!(
                            "line too long: {total} bytes (limit --max-line-bytes); the dump holds its first bytes"
                        ))
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

/// Was stdout closed when the tool started (`>&-`)? The Rust runtime then opens
/// `/dev/null` read-write in its place, and every write would "succeed": the tool
/// would count messages as written that went nowhere. A shell's `>/dev/null`
/// opens it write-only, so the read-write `/dev/null` tells the two apart.
pub fn stdout_closed() -> bool {
    let Ok(link) = std::fs::read_link("/proc/self/fd/1") else {
        return false;
    };
    if link != std::path::Path::new("/dev/null") {
        return false;
    }
    let Ok(info) = std::fs::read_to_string("/proc/self/fdinfo/1") else {
        return false;
    };
    info.lines()
        .find_map(|l| l.strip_prefix("flags:"))
        .and_then(|f| u32::from_str_radix(f.trim(), 8).ok())
        .is_some_and(|flags| flags & 3 == 2)
}

/// Is stdout a pipe (another tool reads it)?
pub fn stdout_is_pipe() -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::metadata("/proc/self/fd/1").is_ok_and(|m| m.file_type().is_fifo())
}

/// Read up to and including the next `delim` into `buf` (cleared first), keeping
/// at most `max` bytes of it; returns the full length (0 at the end), which is
/// more than `buf.len()` when the record was cut. The bounded `read_until` of
/// feed records.
pub fn read_until_limited<R: BufRead + ?Sized>(
    r: &mut R,
    delim: u8,
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<usize> {
    buf.clear();
    let mut total = 0usize;
    loop {
        let (done, used) = {
            let avail = match r.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                return Ok(total);
            }
            let (done, used) = match memchr::memchr(delim, avail) {
                Some(i) => (true, i + 1),
                None => (false, avail.len()),
            };
            let room = max.saturating_sub(buf.len());
            buf.extend_from_slice(&avail[..used.min(room)]);
            total += used;
            (done, used)
        };
        r.consume(used);
        if done {
            return Ok(total);
        }
    }
}

/// Opens a writer for a path: `-` is stdout.
pub fn open_writer(path: &str, line_buffered: bool) -> io::Result<Box<dyn Write>> {
    if path == "-" {
        if stdout_closed() {
            return Err(io::Error::other(
                "stdout is closed: nothing could be written (give -o FILE, or >/dev/null to discard)",
            ));
        }
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

/// NDJSON lines to one writer (stdout, a file, a fifo).
pub struct LineSink {
    w: Box<dyn Write>,
}

impl LineSink {
    pub fn new(w: Box<dyn Write>) -> LineSink {
        LineSink { w }
    }
}

impl Sink for LineSink {
    fn send(&mut self, _path: &str, msg: &[u8]) -> io::Result<()> {
        // Straight into the buffered writer. (A line-flushing writer flushes on
        // the line end, written last.)
        self.w.write_all(msg)?;
        self.w.write_all(b"\n")
    }

    fn commit(&mut self) -> io::Result<()> {
        self.w.flush()
    }
}
