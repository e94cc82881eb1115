//! IntelMQ's report chunking (`intelmq/lib/splitreports.py`), streamed: a feed
//! is cut into pieces of about `chunk_size` bytes at line ends, at the very
//! places IntelMQ cuts, and optionally the first line (the header) is put in
//! front of every piece. Nothing holds more than two chunks of the input.
//!
//! IntelMQ's `read_delimited_chunks` reads `chunk_size` bytes, prepends what was
//! left over from the last read and splits the whole at the last `\n` before
//! `chunk_size` (or the first after it); the last piece is always carried into
//! the next read. The same happens here in one buffer.

use std::io::{self, Read};

/// How a feed becomes reports.
#[derive(Debug, Clone, Copy)]
pub struct Chunking {
    /// `chunk_size` in bytes; `None`: the whole input is one report.
    pub size: Option<usize>,
    /// `chunk_replicate_header`: the first line goes in front of every chunk.
    pub replicate_header: bool,
    /// Only split an input larger than `size` (imq's bound on report size for
    /// collectors that IntelMQ never splits): an input that fits is one report
    /// exactly as IntelMQ makes it, even a one-line one.
    pub only_if_larger: bool,
}

impl Chunking {
    /// One report per input, as IntelMQ without `chunk_size`.
    pub const WHOLE: Chunking = Chunking {
        size: None,
        replicate_header: true,
        only_if_larger: false,
    };
}

/// A line with no `\n` for this many chunk sizes is cut anyway (IntelMQ would
/// grow its buffer without bound).
const MAX_LINE_CHUNKS: usize = 3;

/// The pieces of one input, each with the header in front.
pub struct Chunker<R> {
    input: R,
    how: Chunking,
    header: Vec<u8>,
    /// `buf[start..]` is the data not yet handed out (IntelMQ's leftover plus
    /// the last read).
    buf: Vec<u8>,
    start: usize,
    eof: bool,
    started: bool,
    /// The whole input is one piece (no chunk size, or it fitted).
    whole: bool,
    done: bool,
}

impl<R: Read> Chunker<R> {
    pub fn new(input: R, how: Chunking) -> Chunker<R> {
        Chunker {
            input,
            how,
            header: Vec::new(),
            buf: Vec::new(),
            start: 0,
            eof: false,
            started: false,
            whole: how.size.is_none(),
            done: false,
        }
    }

    /// Read until `buf` holds `want` bytes after `start`, or EOF.
    fn fill(&mut self, want: usize) -> io::Result<()> {
        let have = self.buf.len() - self.start;
        if have >= want || self.eof {
            return Ok(());
        }
        if self.start > 0 {
            self.buf.copy_within(self.start.., 0);
            self.buf.truncate(have);
            self.start = 0;
        }
        let target = want;
        if self.buf.capacity() < target {
            // The window is at most IntelMQ's leftover plus one read: take it
            // at once rather than growing (a reallocation holds both copies).
            let window = match self.how.size {
                Some(s) => s.saturating_mul(2).saturating_add(1 << 16).max(target),
                None => target,
            };
            self.buf.reserve_exact(window - self.buf.len());
        }
        while self.buf.len() < target {
            let len = self.buf.len();
            // Read into the spare room without zeroing more than needed.
            let room = (target - len).min(1 << 20);
            self.buf.resize(len + room, 0);
            match self.input.read(&mut self.buf[len..]) {
                Ok(0) => {
                    self.buf.truncate(len);
                    self.eof = true;
                    break;
                }
                Ok(n) => self.buf.truncate(len + n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => self.buf.truncate(len),
                Err(e) => {
                    self.buf.truncate(len);
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// The first line, read as Python's `readline()` does (bounded here).
    fn read_header(&mut self, limit: usize) -> io::Result<()> {
        let mut scanned = 0;
        loop {
            let data = &self.buf[self.start..];
            if let Some(i) = memchr::memchr(b'\n', &data[scanned..]) {
                let end = scanned + i + 1;
                self.header.extend_from_slice(&data[..end]);
                self.start += end;
                return Ok(());
            }
            scanned = data.len();
            if self.eof || scanned >= limit {
                self.header.extend_from_slice(data);
                self.start = self.buf.len();
                return Ok(());
            }
            self.fill((scanned + (1 << 16)).min(limit))?;
        }
    }

    /// The next piece, header included, in `out` (cleared first); false at the end.
    pub fn next_piece(&mut self, out: &mut Vec<u8>) -> io::Result<bool> {
        out.clear();
        match self.next_parts()? {
            Some((h, d)) => {
                out.reserve_exact(h.len() + d.len());
                out.extend_from_slice(h);
                out.extend_from_slice(d);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// The next piece as (header, data), borrowed: nothing is copied.
    pub fn next_parts(&mut self) -> io::Result<Option<(&[u8], &[u8])>> {
        Ok(self
            .advance()?
            .map(|(a, b)| (&self.header[..], &self.buf[a..b])))
    }

    /// Find the next piece: its range in `buf`.
    fn advance(&mut self) -> io::Result<Option<(usize, usize)>> {
        if self.done {
            return Ok(None);
        }
        let size = self.how.size.unwrap_or(usize::MAX).max(1);
        if !self.started {
            self.started = true;
            if self.how.only_if_larger && !self.whole {
                // Does it fit? Then it is one report, as IntelMQ makes it.
                self.fill(size.saturating_add(1))?;
                if self.eof {
                    self.whole = true;
                }
            }
            if !self.whole && self.how.replicate_header {
                self.read_header(size.saturating_mul(MAX_LINE_CHUNKS))?;
            }
        }
        if self.whole {
            self.done = true;
            if self.how.size.is_none() {
                self.input.read_to_end(&mut self.buf)?;
            }
            let r = (self.start, self.buf.len());
            self.start = self.buf.len();
            // IntelMQ drops a report without raw (an empty input).
            return Ok((r.1 > r.0).then_some(r));
        }
        loop {
            let have = self.buf.len() - self.start;
            if have <= size {
                if !self.eof {
                    // This is IntelMQ's leftover: read the next `size` bytes
                    // behind it.
                    self.fill(have + size)?;
                    continue;
                }
                self.done = true;
                if have == 0 {
                    return Ok(None);
                }
                let r = (self.start, self.buf.len());
                self.start = self.buf.len();
                return Ok(Some(r));
            }
            let data = &self.buf[self.start..];
            let cut = match memchr::memrchr(b'\n', &data[..size]) {
                Some(i) => Some(i + 1),
                None => memchr::memchr(b'\n', &data[size..]).map(|i| size + i + 1),
            };
            let cut = match cut {
                Some(c) => c,
                None if self.eof || have >= size.saturating_mul(MAX_LINE_CHUNKS) => have,
                None => {
                    // No line end yet: IntelMQ keeps the whole as leftover.
                    self.fill(have + size)?;
                    continue;
                }
            };
            let r = (self.start, self.start + cut);
            self.start += cut;
            return Ok(Some(r));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(data: &[u8], size: Option<usize>, header: bool) -> Vec<Vec<u8>> {
        let how = Chunking {
            size,
            replicate_header: header,
            only_if_larger: false,
        };
        let mut c = Chunker::new(data, how);
        let mut v = Vec::new();
        let mut out = Vec::new();
        while c.next_piece(&mut out).unwrap() {
            v.push(out.clone());
        }
        v
    }

    /// IntelMQ's `split_chunks` + `read_delimited_chunks`, literally.
    fn intelmq(data: &[u8], size: usize, header: bool) -> Vec<Vec<u8>> {
        fn split(mut chunk: Vec<u8>, size: usize) -> Vec<Vec<u8>> {
            let mut chunks = Vec::new();
            while chunk.len() > size {
                let pos = memchr::memrchr(b'\n', &chunk[..size])
                    .or_else(|| memchr::memchr(b'\n', &chunk[size..]).map(|i| i + size));
                match pos {
                    None => {
                        chunks.push(std::mem::take(&mut chunk));
                    }
                    Some(p) => {
                        let rest = chunk.split_off(p + 1);
                        chunks.push(chunk);
                        chunk = rest;
                    }
                }
            }
            if !chunk.is_empty() {
                chunks.push(chunk);
            }
            chunks
        }
        let mut input = data;
        let mut head = Vec::new();
        if header {
            let end = memchr::memchr(b'\n', input).map_or(input.len(), |i| i + 1);
            head = input[..end].to_vec();
            input = &input[end..];
        }
        let mut out = Vec::new();
        let mut leftover = Vec::new();
        loop {
            let n = size.min(input.len());
            let new = &input[..n];
            input = &input[n..];
            let mut all = std::mem::take(&mut leftover);
            all.extend_from_slice(new);
            let mut chunks = split(all, size);
            if let Some(l) = chunks.pop() {
                leftover = l;
            }
            out.extend(chunks);
            if new.is_empty() {
                if !leftover.is_empty() {
                    out.push(std::mem::take(&mut leftover));
                }
                break;
            }
        }
        out.into_iter()
            .map(|c| [head.clone(), c].concat())
            .collect()
    }

    #[test]
    fn measured_intelmq_case() {
        // INTELMQ-RUNTIME.md §3.1: 54 bytes, chunk_size 40, header replicated.
        let data = "ip,name\n1.2.3.4,aäb\n5.6.7.8,foo\n9.9.9.9,barbarbarbarbar\n";
        let p = pieces(data.as_bytes(), Some(40), true);
        assert_eq!(
            p,
            [
                "ip,name\n1.2.3.4,aäb\n5.6.7.8,foo\n".as_bytes(),
                "ip,name\n9.9.9.9,barbarbarbarbar\n".as_bytes()
            ]
        );
    }

    #[test]
    fn same_split_points_as_intelmq() {
        let mut seed = 7u64;
        let mut rnd = move |n: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        for _ in 0..400 {
            let len = rnd(300) as usize;
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    if rnd(9) == 0 {
                        b'\n'
                    } else {
                        b'a' + rnd(26) as u8
                    }
                })
                .collect();
            let size = 1 + rnd(60) as usize;
            for header in [false, true] {
                let want = intelmq(&data, size, header);
                // Lines longer than MAX_LINE_CHUNKS sizes are cut by us.
                let longest = data
                    .split(|b| *b == b'\n')
                    .map(|l| l.len())
                    .max()
                    .unwrap_or(0);
                if longest + 1 >= size * MAX_LINE_CHUNKS {
                    continue;
                }
                assert_eq!(
                    pieces(&data, Some(size), header),
                    want,
                    "size {size} header {header} data {:?}",
                    String::from_utf8_lossy(&data)
                );
            }
        }
    }

    #[test]
    fn whole_and_empty() {
        assert_eq!(pieces(b"a\nb\n", None, true), [b"a\nb\n".to_vec()]);
        assert!(pieces(b"", None, true).is_empty());
        assert!(pieces(b"", Some(10), true).is_empty());
        // Only a header: IntelMQ makes no report.
        assert!(pieces(b"head\n", Some(10), true).is_empty());
    }

    #[test]
    fn only_if_larger_keeps_small_inputs_whole() {
        let how = Chunking {
            size: Some(10),
            replicate_header: true,
            only_if_larger: true,
        };
        let mut out = Vec::new();
        let mut c = Chunker::new(&b"[1,2,3]"[..], how);
        assert!(c.next_piece(&mut out).unwrap());
        assert_eq!(out, b"[1,2,3]");
        assert!(!c.next_piece(&mut out).unwrap());
        let mut c = Chunker::new(&b"h\n111\n222\n333\n"[..], how);
        let mut v = Vec::new();
        while c.next_piece(&mut out).unwrap() {
            v.push(String::from_utf8(out.clone()).unwrap());
        }
        assert_eq!(v, ["h\n111\n222\n", "h\n333\n"]);
    }

    #[test]
    fn endless_line_is_cut() {
        let data = vec![b'x'; 100];
        let p = pieces(&data, Some(10), false);
        assert!(p.iter().all(|c| c.len() <= 30), "{:?}", p.len());
        assert_eq!(p.concat(), data);
    }
}
