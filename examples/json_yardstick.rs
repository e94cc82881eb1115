//! The yardstick `scripts/bench` measures imq against: the simplest correct
//! NDJSON loop with serde_json (read a line, decode it into a `Map`, encode it,
//! write it), with buffered I/O and a reused line buffer. No validation.
use std::io::{self, BufRead, BufReader, BufWriter, Write};

fn main() -> io::Result<()> {
    let mut input = BufReader::with_capacity(1 << 16, io::stdin().lock());
    let mut out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let mut line = Vec::with_capacity(4096);
    let mut buf = Vec::with_capacity(4096);
    while input.read_until(b'\n', &mut line)? != 0 {
        let m: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&line).map_err(io::Error::other)?;
        buf.clear();
        serde_json::to_writer(&mut buf, &m)?;
        buf.push(b'\n');
        out.write_all(&buf)?;
        line.clear();
    }
    out.flush()
}
