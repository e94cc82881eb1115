//! A fetched body turned into report pieces on a thread of its own: unpacked
//! as IntelMQ's `extract_files` does (zip, tar, tar.gz, gzip; members chosen by
//! name), each member cut by the [`Chunker`]. The body is streamed: a zip
//! archive (which needs its directory at the end) is spooled to an unlinked
//! temporary file, a tar or gzip stream is read as it comes, and a member is
//! never held whole. Pieces go through a rendezvous channel, so at most one
//! piece waits while the collector writes the previous one.

use super::chunk::{Chunker, Chunking};
use flate2::read::MultiGzDecoder;
use std::io::{self, BufReader, Read, Seek};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

/// IntelMQ's `extract_files`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Extract {
    /// `false`: a zip archive is unpacked, anything else is one feed.
    ZipOnly,
    /// `true`: zip, then tar (plain or gzip), then gzip; anything else is an error.
    All,
    /// A list: as `true`, members restricted to these names.
    Only(Vec<String>),
}

impl Extract {
    fn wants(&self, name: &str) -> bool {
        match self {
            Extract::Only(names) => names.iter().any(|n| n == name),
            _ => true,
        }
    }
}

/// What the thread hands over.
pub enum Piece {
    /// The pieces that follow are of this member (`None`: not an archive).
    Member(Option<String>),
    Data(Vec<u8>),
    /// Reading or unpacking failed; nothing follows.
    Error(String),
    /// All of the body was handed over.
    End,
}

/// An archive, recognised by its first bytes, to be unpacked on a thread.
pub enum Archive {
    Zip(Box<dyn Read + Send>),
    Tar(Box<dyn Read + Send>),
}

/// What a body is, once its format is known.
pub enum Opened {
    /// One feed (plain, or gzip content decompressed as it is read).
    Plain(Box<dyn Read + Send>),
    Archive(Archive),
}

/// Recognise a body's format as IntelMQ's `unzip` does for `extract_files`
/// (zip, then tar, then gzip; without `extract_files`, zip only).
pub fn open(body: Box<dyn Read + Send>, extract: &Extract) -> io::Result<Opened> {
    let r = Peeked::new(body, 262)?;
    if r.head.starts_with(ZIP_MAGIC) {
        return Ok(Opened::Archive(Archive::Zip(Box::new(r))));
    }
    if *extract == Extract::ZipOnly {
        return Ok(Opened::Plain(Box::new(r)));
    }
    if r.head.starts_with(GZIP_MAGIC) {
        let g = Peeked::new(
            MultiGzDecoder::new(BufReader::with_capacity(1 << 16, r)),
            262,
        )?;
        if is_tar(&g.head) {
            return Ok(Opened::Archive(Archive::Tar(Box::new(g))));
        }
        // IntelMQ's gzip case: the content, without a file name, whatever
        // the member list says.
        return Ok(Opened::Plain(Box::new(g)));
    }
    if is_tar(&r.head) {
        return Ok(Opened::Archive(Archive::Tar(Box::new(r))));
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidData,
        "extract_files: the body is no zip, tar or gzip file (IntelMQ: Failed to uncompress the given file)",
    ))
}

/// The thread unpacking and cutting one archive.
pub struct Producer {
    rx: Receiver<Piece>,
    free: SyncSender<Vec<u8>>,
    handle: Option<JoinHandle<()>>,
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];

fn is_tar(head: &[u8]) -> bool {
    head.get(257..262) == Some(b"ustar")
}

impl Producer {
    pub fn spawn(archive: Archive, extract: Extract, how: Chunking) -> Producer {
        let (tx, rx) = sync_channel(0);
        let (free, free_rx) = sync_channel(2);
        let handle = std::thread::Builder::new()
            .name("imq-collect-body".into())
            .spawn(move || {
                let mut w = Work {
                    tx: &tx,
                    free: free_rx,
                    how,
                };
                let end = match w.archive(archive, &extract) {
                    Ok(()) => Piece::End,
                    Err(e) => Piece::Error(e.to_string()),
                };
                let _ = tx.send(end);
            })
            .expect("spawn a thread");
        Producer {
            rx,
            free,
            handle: Some(handle),
        }
    }

    /// The next piece (an error if the thread died).
    pub fn recv(&mut self) -> Piece {
        match self.rx.recv() {
            Ok(p) => p,
            Err(_) => {
                let why = match self.handle.take().map(JoinHandle::join) {
                    Some(Err(_)) => "the unpacking thread panicked",
                    _ => "the unpacking thread ended early",
                };
                Piece::Error(why.into())
            }
        }
    }

    /// Give a piece's buffer back for the next piece.
    pub fn recycle(&self, buf: Vec<u8>) {
        let _ = self.free.try_send(buf);
    }
}

impl Drop for Producer {
    fn drop(&mut self) {
        // Dropping the receiver ends the thread at its next send.
        let (_, dead) = sync_channel(0);
        drop(std::mem::replace(&mut self.rx, dead));
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

struct Work<'a> {
    tx: &'a SyncSender<Piece>,
    free: Receiver<Vec<u8>>,
    how: Chunking,
}

/// The consumer is gone: stop quietly.
fn gone() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "collector gone")
}

impl Work<'_> {
    fn send(&self, p: Piece) -> io::Result<()> {
        self.tx.send(p).map_err(|_| gone())
    }

    /// One member (or the whole body), cut into pieces.
    fn member(&mut self, name: Option<String>, input: impl Read) -> io::Result<()> {
        self.send(Piece::Member(name))?;
        let mut c = Chunker::new(input, self.how);
        loop {
            let mut buf = self.free.try_recv().unwrap_or_default();
            if !c.next_piece(&mut buf)? {
                return Ok(());
            }
            self.send(Piece::Data(buf))?;
        }
    }

    fn archive(&mut self, a: Archive, extract: &Extract) -> io::Result<()> {
        match a {
            Archive::Zip(r) => self.zip(r, extract),
            Archive::Tar(r) => self.tar(r, extract),
        }
    }

    fn zip(&mut self, mut r: impl Read, extract: &Extract) -> io::Result<()> {
        let mut spool = spool_file()?;
        io::copy(&mut r, &mut spool)?;
        spool.rewind()?;
        let bad = |e: zip::result::ZipError| {
            io::Error::new(io::ErrorKind::InvalidData, format!("zip archive: {e}"))
        };
        let mut zip = zip::ZipArchive::new(spool).map_err(bad)?;
        for i in 0..zip.len() {
            let f = zip.by_index(i).map_err(bad)?;
            if f.is_dir() {
                continue;
            }
            let name = f.name().to_string();
            if !extract.wants(&name) {
                continue;
            }
            self.member(Some(name.clone()), f)
                .map_err(|e| io::Error::new(e.kind(), format!("zip member {name}: {e}")))?;
        }
        Ok(())
    }

    fn tar(&mut self, r: impl Read, extract: &Extract) -> io::Result<()> {
        let mut tar = tar::Archive::new(r);
        let bad = |e: io::Error| io::Error::new(e.kind(), format!("tar archive: {e}"));
        for entry in tar.entries().map_err(bad)? {
            let entry = entry.map_err(bad)?;
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            if !extract.wants(&name) {
                continue;
            }
            self.member(Some(name.clone()), entry)
                .map_err(|e| io::Error::new(e.kind(), format!("tar member {name}: {e}")))?;
        }
        Ok(())
    }
}

/// A reader whose first bytes were read ahead to recognise the format.
struct Peeked<R> {
    head: Vec<u8>,
    pos: usize,
    inner: R,
}

impl<R: Read> Peeked<R> {
    /// Read up to `n` bytes ahead (fewer only at the end of the input).
    fn new(mut inner: R, n: usize) -> io::Result<Peeked<R>> {
        let mut head = Vec::with_capacity(n);
        (&mut inner).take(n as u64).read_to_end(&mut head)?;
        Ok(Peeked {
            head,
            pos: 0,
            inner,
        })
    }
}

impl<R: Read> Read for Peeked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos < self.head.len() {
            let n = (self.head.len() - self.pos).min(buf.len());
            buf[..n].copy_from_slice(&self.head[self.pos..self.pos + n]);
            self.pos += n;
            return Ok(n);
        }
        self.inner.read(buf)
    }
}

/// An unlinked temporary file: gone when closed, even after a crash.
fn spool_file() -> io::Result<std::fs::File> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir();
    for _ in 0..100 {
        let p = dir.join(format!(
            "imq-collect-{}-{}.zip",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        match std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&p)
        {
            Ok(f) => {
                let _ = std::fs::remove_file(&p);
                return Ok(f);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("temporary file in {}: {e}", dir.display()),
                ))
            }
        }
    }
    Err(io::Error::other("no temporary file name free"))
}
