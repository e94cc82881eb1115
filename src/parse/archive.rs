//! Compressed and archived feed files, unpacked as IntelMQ's collectors do
//! (`extract_files`, `intelmq.lib.utils.unzip`): a gzip file is its content, a
//! zip or tar archive (also `.tar.gz`) is one feed per member file, each named in
//! its report's `extra.file_name`.
//!
//! The format is recognised by its magic bytes, not by the file name, so the same
//! holds for stdin. A gzip stream is decompressed while it is read, so streaming
//! parsers keep their constant memory; archive members are streamed one at a
//! time too (a thread unpacks, handing chunks over a bounded channel), never read
//! whole: a small zip holding a member of gigabytes takes no more memory than
//! the same member gzipped.

use flate2::bufread::MultiGzDecoder;
use std::cell::RefCell;
use std::io::{self, BufRead, BufReader, Read, Seek};
use std::rc::Rc;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

/// A raw input the unpacker reads (on a thread of its own for archives).
pub type Input = Box<dyn BufRead + Send>;

/// What a raw input holds once unpacked.
pub enum Unpacked {
    /// One feed: the input itself, or its gzip content decompressed as it is read.
    Stream(Box<dyn BufRead>),
    /// The files of an archive, each a feed of its own, streamed one at a time.
    Files(Members),
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
/// Bytes per chunk handed from the unpacking thread to the member's reader.
const CHUNK: usize = 64 << 10;
/// Chunks in flight: the memory an archive takes is about CHUNK * (DEPTH + 2).
const DEPTH: usize = 4;

/// A tar archive has `ustar` at offset 257 of its first header block.
fn is_tar(head: &[u8]) -> bool {
    head.get(257..262) == Some(b"ustar")
}

/// Look at the first bytes of `input` and unpack it if it is compressed or an
/// archive; plain feed data comes back unchanged.
pub fn unpack(mut input: Input) -> io::Result<Unpacked> {
    let head = input.fill_buf()?;
    if head.starts_with(ZIP_MAGIC) {
        // A zip's directory is at its end: the archive (compressed, small next to
        // its members) is spooled to an anonymous file, never held in memory;
        // members are decompressed as they are read.
        let mut spool = tempfile::tempfile()?;
        io::copy(&mut input, &mut spool)?;
        spool.rewind()?;
        return Ok(Unpacked::Files(Members::spawn(move |tx| {
            zip_members(spool, tx)
        })));
    }
    if head.starts_with(GZIP_MAGIC) {
        input = Box::new(BufReader::with_capacity(
            1 << 16,
            MultiGzDecoder::new(input),
        ));
    }
    let head = input.fill_buf()?;
    if is_tar(head) {
        return Ok(Unpacked::Files(Members::spawn(move |tx| {
            tar_members(input, tx)
        })));
    }
    Ok(Unpacked::Stream(input))
}

fn bad(what: &str, e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("{what}: {e}"))
}

/// What the unpacking thread sends.
enum Msg {
    Member(String),
    Chunk(Vec<u8>),
    /// The current member is complete.
    End,
    Err(io::Error),
}

/// Send one member's content in chunks; false when the reader side is gone.
fn send_member(name: String, r: &mut dyn Read, tx: &SyncSender<Msg>) -> bool {
    if tx.send(Msg::Member(name.clone())).is_err() {
        return false;
    }
    loop {
        let mut chunk = vec![0u8; CHUNK];
        let n = match r.read(&mut chunk) {
            Ok(0) => return tx.send(Msg::End).is_ok(),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let _ = tx.send(Msg::Err(bad(&format!("member {name}"), e)));
                return false;
            }
        };
        chunk.truncate(n);
        if tx.send(Msg::Chunk(chunk)).is_err() {
            return false;
        }
    }
}

fn zip_members(spool: std::fs::File, tx: SyncSender<Msg>) {
    let mut zip = match zip::ZipArchive::new(spool) {
        Ok(z) => z,
        Err(e) => {
            let _ = tx.send(Msg::Err(bad("zip archive", e)));
            return;
        }
    };
    for i in 0..zip.len() {
        let mut f = match zip.by_index(i) {
            Ok(f) => f,
            Err(e) => {
                let _ = tx.send(Msg::Err(bad("zip archive", e)));
                return;
            }
        };
        if f.is_dir() {
            continue;
        }
        let name = f.name().to_string();
        if !send_member(name, &mut f, &tx) {
            return;
        }
    }
}

fn tar_members(input: Input, tx: SyncSender<Msg>) {
    let mut tar = tar::Archive::new(input);
    let entries = match tar.entries() {
        Ok(e) => e,
        Err(e) => {
            let _ = tx.send(Msg::Err(bad("tar archive", e)));
            return;
        }
    };
    for entry in entries {
        let mut entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let _ = tx.send(Msg::Err(bad("tar archive", e)));
                return;
            }
        };
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = match entry.path() {
            Ok(p) => p.to_string_lossy().into_owned(),
            Err(e) => {
                let _ = tx.send(Msg::Err(bad("tar archive", e)));
                return;
            }
        };
        if !send_member(name, &mut entry, &tx) {
            return;
        }
    }
}

/// The receiving end, shared by [`Members`] and the reader of the current member.
struct Shared {
    rx: Receiver<Msg>,
    /// A member was handed out and its `End` not yet received.
    open: bool,
}

/// The members of an archive, one at a time: each comes with a reader of its
/// content; asking for the next member skips what the last one did not read.
pub struct Members {
    shared: Rc<RefCell<Shared>>,
}

impl Members {
    fn spawn(f: impl FnOnce(SyncSender<Msg>) + Send + 'static) -> Members {
        let (tx, rx) = sync_channel(DEPTH);
        std::thread::spawn(move || f(tx));
        Members {
            shared: Rc::new(RefCell::new(Shared { rx, open: false })),
        }
    }

    /// The next member file: its name and content, or `None` after the last.
    pub fn next_member(&mut self) -> io::Result<Option<(String, Box<dyn BufRead>)>> {
        let mut sh = self.shared.borrow_mut();
        loop {
            match sh.rx.recv() {
                // The thread is done (or gone).
                Err(_) => return Ok(None),
                Ok(Msg::Chunk(_)) => {}
                Ok(Msg::End) => sh.open = false,
                Ok(Msg::Err(e)) => return Err(e),
                Ok(Msg::Member(name)) => {
                    sh.open = true;
                    let r = MemberReader {
                        shared: self.shared.clone(),
                        chunk: Vec::new(),
                        at: 0,
                        done: false,
                    };
                    return Ok(Some((name, Box::new(r))));
                }
            }
        }
    }
}

/// The content of one member, as the thread sends it.
struct MemberReader {
    shared: Rc<RefCell<Shared>>,
    chunk: Vec<u8>,
    at: usize,
    done: bool,
}

impl Read for MemberReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        crate::transport::line::read_through_buf(self, out)
    }
}

impl BufRead for MemberReader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.at >= self.chunk.len() && !self.done {
            let mut sh = self.shared.borrow_mut();
            if !sh.open {
                self.done = true;
                break;
            }
            match sh.rx.recv() {
                Ok(Msg::Chunk(c)) => {
                    self.chunk = c;
                    self.at = 0;
                }
                Ok(Msg::End) | Ok(Msg::Member(_)) | Err(_) => {
                    // A `Member` cannot come before `End`; treat it as the end.
                    sh.open = false;
                    self.done = true;
                }
                Ok(Msg::Err(e)) => {
                    sh.open = false;
                    self.done = true;
                    return Err(e);
                }
            }
        }
        Ok(&self.chunk[self.at..])
    }
    fn consume(&mut self, n: usize) {
        self.at = (self.at + n).min(self.chunk.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn stream(data: Vec<u8>) -> Input {
        Box::new(io::Cursor::new(data))
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn tar(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = ::tar::Builder::new(Vec::new());
        for (name, content) in files {
            let mut h = ::tar::Header::new_gnu();
            h.set_size(content.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, name, *content).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn members(u: Unpacked) -> Vec<(String, Vec<u8>)> {
        let mut m = match u {
            Unpacked::Files(f) => f,
            Unpacked::Stream(_) => panic!("expected archive members"),
        };
        let mut v = Vec::new();
        while let Some((name, mut r)) = m.next_member().unwrap() {
            let mut c = Vec::new();
            r.read_to_end(&mut c).unwrap();
            v.push((name, c));
        }
        v
    }

    fn content(u: Unpacked) -> Vec<u8> {
        match u {
            Unpacked::Stream(mut r) => {
                let mut v = Vec::new();
                r.read_to_end(&mut v).unwrap();
                v
            }
            Unpacked::Files(_) => panic!("expected one stream"),
        }
    }

    #[test]
    fn plain_data_is_left_alone() {
        assert_eq!(
            content(unpack(stream(b"a,b\n1,2\n".to_vec())).unwrap()),
            b"a,b\n1,2\n"
        );
        assert_eq!(content(unpack(stream(Vec::new())).unwrap()), b"");
    }

    #[test]
    fn gzip_is_decompressed() {
        let data = b"# feed\n192.0.2.1\n".repeat(10_000);
        assert_eq!(content(unpack(stream(gzip(&data))).unwrap()), data);
        // Concatenated gzip members (as `cat a.gz b.gz` makes) are one stream.
        let mut two = gzip(b"one\n");
        two.extend(gzip(b"two\n"));
        assert_eq!(content(unpack(stream(two)).unwrap()), b"one\ntwo\n");
    }

    #[test]
    fn tar_and_tar_gz_give_their_files() {
        let t = tar(&[("a.csv", b"x\n1\n"), ("dir/b.csv", b"y\n2\n")]);
        let want = vec![
            ("a.csv".to_string(), b"x\n1\n".to_vec()),
            ("dir/b.csv".to_string(), b"y\n2\n".to_vec()),
        ];
        assert_eq!(members(unpack(stream(t.clone())).unwrap()), want);
        assert_eq!(members(unpack(stream(gzip(&t))).unwrap()), want);
    }

    #[test]
    fn a_member_left_half_read_is_skipped() {
        let big = b"1,2\n".repeat(100_000);
        let t = tar(&[("a.csv", &big), ("b.csv", b"y\n")]);
        let mut m = match unpack(stream(t)).unwrap() {
            Unpacked::Files(m) => m,
            Unpacked::Stream(_) => panic!(),
        };
        let (name, mut r) = m.next_member().unwrap().unwrap();
        assert_eq!(name, "a.csv");
        let mut first = [0u8; 4];
        r.read_exact(&mut first).unwrap();
        assert_eq!(&first, b"1,2\n");
        let (name, mut r) = m.next_member().unwrap().unwrap();
        assert_eq!(name, "b.csv");
        let mut c = Vec::new();
        r.read_to_end(&mut c).unwrap();
        assert_eq!(c, b"y\n");
        assert!(m.next_member().unwrap().is_none());
    }

    #[test]
    fn zip_gives_its_files() {
        let mut w = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default();
        w.add_directory("d/", opts).unwrap();
        w.start_file("d/report.csv", opts).unwrap();
        w.write_all(b"ip\n192.0.2.1\n").unwrap();
        let data = w.finish().unwrap().into_inner();
        assert_eq!(
            members(unpack(stream(data)).unwrap()),
            vec![("d/report.csv".to_string(), b"ip\n192.0.2.1\n".to_vec())]
        );
    }

    #[test]
    fn broken_archives_are_errors() {
        let mut z = b"PK\x03\x04".to_vec();
        z.extend([0u8; 40]);
        match unpack(stream(z)).unwrap() {
            Unpacked::Files(mut m) => assert!(m.next_member().is_err()),
            Unpacked::Stream(_) => panic!(),
        }
        let mut g = gzip(b"hello");
        g.truncate(g.len() - 4);
        let mut r = match unpack(stream(g)).unwrap() {
            Unpacked::Stream(r) => r,
            Unpacked::Files(_) => panic!(),
        };
        assert!(r.read_to_end(&mut Vec::new()).is_err());
    }
}
