//! The file collector (IntelMQ's `collector_file`): the files of a directory
//! whose names end in `postfix` (IntelMQ's `path` + `postfix`), or paths and
//! globs given on the command line, or stdin (`-`). Each file is one report, or
//! several with `chunk_size` (IntelMQ's split points, `chunk_replicate_header`);
//! `feed.url` is `file://localhost/ABSPATH` and `extra.file_name` the file's
//! name, as IntelMQ sets them.
//!
//! A file locked by another process (`flock`) is skipped, as IntelMQ does.
//! `delete_file` deletes a file and `move_to` moves it into a directory, but
//! only in `ack`, once all reports of the file were committed downstream
//! (IntelMQ deletes right after sending, and deletes a skipped locked file too).
//! Without `chunk_size`, a file larger than 8 MiB is still cut (at line ends,
//! header repeated) so that no report is unbounded; IntelMQ makes one report.

use super::chunk::{Chunker, Chunking};
use super::{Ctx, FeedMeta, Template};
use crate::params::{self, Params};
use crate::transport::{Next, Pos, Source};
use anyhow::{bail, Result};
use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// What happens to a file once its reports were committed.
#[derive(Debug, Clone)]
enum After {
    Keep,
    Delete,
    MoveTo(PathBuf),
}

pub fn build(p: &Params, args: &[String], ctx: &Ctx) -> Result<Box<dyn Source>> {
    let meta = FeedMeta::from_params(p)?;
    let chunking = super::http::chunking(p, super::http::DEFAULT_CHUNK)?;
    let delete = params::boolean(p, "delete_file", false)?;
    let after = match params::string(p, "move_to")?.filter(|s| !s.is_empty()) {
        Some(_) if delete => bail!("delete_file and move_to together: choose one"),
        Some(d) => {
            let d = PathBuf::from(d);
            if !d.is_dir() {
                bail!("move_to {}: not a directory", d.display());
            }
            After::MoveTo(d)
        }
        None if delete => After::Delete,
        None => After::Keep,
    };
    let mut files = Vec::new();
    if args.is_empty() {
        // IntelMQ's form: a directory and a postfix.
        let dir = params::string_or(p, "path", "/tmp/")?;
        let postfix = params::string_or(p, "postfix", ".csv")?;
        if postfix.is_empty() && !matches!(after, After::Keep) {
            bail!("an empty postfix with delete_file or move_to would take every file of {dir}");
        }
        if !Path::new(&dir).is_dir() {
            bail!("parameter path: {dir} is not a directory");
        }
        files = list_dir(Path::new(&dir), &format!("*{postfix}"))?;
    } else {
        for a in args {
            if a == "-" {
                files.push(PathBuf::from("-"));
            } else if is_glob(a) {
                let p = Path::new(a);
                let dir = p
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                    .unwrap_or(Path::new("."));
                let pat = p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if is_glob(&dir.to_string_lossy()) {
                    bail!("{a}: wildcards only in the file name, not in directories");
                }
                files.extend(list_dir(dir, &pat)?);
            } else if Path::new(a).is_dir() {
                let postfix = params::string_or(p, "postfix", "")?;
                files.extend(list_dir(Path::new(a), &format!("*{postfix}"))?);
            } else {
                files.push(PathBuf::from(a));
            }
        }
    }
    if files.iter().any(|f| f.as_os_str() == "-") && !matches!(after, After::Keep) {
        bail!("stdin cannot be deleted or moved");
    }
    Ok(Box::new(FileCollector {
        files,
        idx: 0,
        meta,
        chunking,
        after,
        ctx: ctx.clone(),
        current: None,
        done: Vec::new(),
        name: String::new(),
        piece: Vec::new(),
        line: 0,
    }))
}

fn is_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// The regular files of `dir` whose names match `pattern`, sorted.
fn list_dir(dir: &Path, pattern: &str) -> Result<Vec<PathBuf>> {
    let mut v = Vec::new();
    let rd = std::fs::read_dir(dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
    for e in rd {
        let e = e?;
        let name = e.file_name();
        let name = name.to_string_lossy();
        if fnmatch(name.as_bytes(), pattern.as_bytes()) && e.path().is_file() {
            v.push(e.path());
        }
    }
    v.sort();
    Ok(v)
}

/// Python's `fnmatch.fnmatch` on POSIX: `*`, `?`, `[seq]`, `[!seq]`,
/// case-sensitive.
pub fn fnmatch(name: &[u8], pat: &[u8]) -> bool {
    // Iterative matching with backtracking to the last star.
    let (mut n, mut p) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if p < pat.len() {
            match pat[p] {
                b'*' => {
                    star = Some((p, n));
                    p += 1;
                    continue;
                }
                b'?' => {
                    n += 1;
                    p += 1;
                    continue;
                }
                b'[' => {
                    if let Some((ok, len)) = class(&pat[p..], name[n]) {
                        if ok {
                            n += 1;
                            p += len;
                            continue;
                        }
                    } else if name[n] == b'[' {
                        n += 1;
                        p += 1;
                        continue;
                    }
                }
                c if c == name[n] => {
                    n += 1;
                    p += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, sn)) => {
                p = sp + 1;
                n = sn + 1;
                star = Some((sp, sn + 1));
            }
            None => return false,
        }
    }
    pat[p..].iter().all(|c| *c == b'*')
}

/// A `[...]` class at the start of `pat`: (matches, its length); None when it
/// is not closed (then `[` is a plain character, as in Python).
fn class(pat: &[u8], c: u8) -> Option<(bool, usize)> {
    let mut i = 1;
    let neg = pat.get(1) == Some(&b'!');
    if neg {
        i += 1;
    }
    if pat.get(i) == Some(&b']') {
        i += 1;
    }
    let end = i + pat[i..].iter().position(|b| *b == b']')?;
    let set = &pat[if neg { 2 } else { 1 }..end];
    let mut hit = false;
    let mut j = 0;
    while j < set.len() {
        if j + 2 < set.len() && set[j + 1] == b'-' {
            hit |= set[j] <= c && c <= set[j + 2];
            j += 3;
        } else {
            hit |= set[j] == c;
            j += 1;
        }
    }
    Some((hit != neg, end + 1))
}

/// A file being read.
struct Current {
    chunker: Chunker<Box<dyn Read>>,
    template: Template,
    path: PathBuf,
    /// Held for the flock until the file is done.
    _lock: Option<std::fs::File>,
}

pub struct FileCollector {
    files: Vec<PathBuf>,
    idx: usize,
    meta: FeedMeta,
    chunking: Chunking,
    after: After,
    ctx: Ctx,
    current: Option<Current>,
    /// Files all of whose reports were handed out: deleted or moved at ack.
    done: Vec<PathBuf>,
    name: String,
    piece: Vec<u8>,
    line: u64,
}

/// `flock(LOCK_EX | LOCK_NB)`: false when another process holds a lock.
fn try_lock(f: &std::fs::File) -> io::Result<bool> {
    // SAFETY: flock on a file descriptor we own; no memory is involved.
    let r = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if r == 0 {
        return Ok(true);
    }
    let e = io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(false)
    } else {
        Err(e)
    }
}

impl FileCollector {
    /// Open the next file; false at the end.
    fn open_next(&mut self) -> io::Result<bool> {
        let Some(path) = self.files.get(self.idx).cloned() else {
            return Ok(false);
        };
        self.idx += 1;
        let label = self.meta.label("file");
        let mut meta = self.meta.clone();
        let (reader, lock): (Box<dyn Read>, _) = if path.as_os_str() == "-" {
            self.name = "<stdin>".into();
            (Box::new(io::stdin()), None)
        } else {
            self.name = path.display().to_string();
            let f = match std::fs::File::open(&path) {
                Ok(f) => f,
                Err(e) => {
                    self.ctx.failed(&label, &format!("{}: {e}", path.display()));
                    return Ok(true);
                }
            };
            if !try_lock(&f)? {
                if !self.ctx.quiet {
                    crate::pipeline::eprintln_safe(&format!(
                        "imq-collect: {} is locked by another process, skipping",
                        path.display()
                    ));
                }
                return Ok(true);
            }
            let abs = std::fs::canonicalize(&path).unwrap_or(path.clone());
            meta.set_default("feed.url", format!("file://localhost{}", abs.display()));
            if let Some(n) = path.file_name() {
                meta.set_default("extra.file_name", n.to_string_lossy().into_owned());
            }
            let r = f.try_clone()?;
            (Box::new(r) as Box<dyn Read>, Some(f))
        };
        let template = Template::new(&meta, &[]).map_err(|e| io::Error::other(format!("{e:#}")))?;
        self.line = 0;
        self.current = Some(Current {
            chunker: Chunker::new(reader, self.chunking),
            template,
            path,
            _lock: lock,
        });
        Ok(true)
    }
}

impl Source for FileCollector {
    fn next(&mut self, buf: &mut Vec<u8>) -> io::Result<Next> {
        loop {
            let Some(cur) = self.current.as_mut() else {
                if !self.open_next()? {
                    return Ok(Next::End);
                }
                continue;
            };
            match cur.chunker.next_piece(&mut self.piece) {
                Ok(true) => {
                    cur.template.write(&self.piece, buf);
                    self.line += 1;
                    return Ok(Next::Line);
                }
                Ok(false) => {
                    let cur = self.current.take().expect("current");
                    if cur.path.as_os_str() != "-" {
                        self.done.push(cur.path);
                    }
                    self.ctx.fetched(false);
                }
                Err(e) => {
                    let cur = self.current.take().expect("current");
                    let label = self.meta.label("file");
                    self.ctx
                        .failed(&label, &format!("{}: {e}", cur.path.display()));
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
        true
    }

    fn ack(&mut self) -> io::Result<()> {
        for path in self.done.drain(..) {
            match &self.after {
                After::Keep => {}
                After::Delete => std::fs::remove_file(&path).map_err(|e| {
                    io::Error::new(e.kind(), format!("delete_file {}: {e}", path.display()))
                })?,
                After::MoveTo(dir) => {
                    let to = dir.join(path.file_name().unwrap_or_default());
                    std::fs::rename(&path, &to).map_err(|e| {
                        io::Error::new(
                            e.kind(),
                            format!("move_to {} -> {}: {e}", path.display(), to.display()),
                        )
                    })?
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::fnmatch;

    #[test]
    fn fnmatch_as_python() {
        for (name, pat, want) in [
            ("a.csv", "*.csv", true),
            ("a.csv.gz", "*.csv", false),
            ("a.CSV", "*.csv", false),
            (".csv", "*.csv", true),
            ("report-1.txt", "report-?.txt", true),
            ("report-12.txt", "report-?.txt", false),
            ("b1", "[ab][0-9]", true),
            ("c1", "[!ab]1", true),
            ("a1", "[!ab]1", false),
            ("[x", "[x", true),
            ("abcabc", "*abc", true),
            ("anything", "*", true),
            ("", "*", true),
        ] {
            assert_eq!(
                fnmatch(name.as_bytes(), pat.as_bytes()),
                want,
                "{name} {pat}"
            );
        }
    }
}
