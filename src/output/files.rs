//! `files`: IntelMQ's files output, one file per event, Maildir style. Each
//! event's export (no line end) is written to a new file in `tmp`, created
//! exclusively and named `<hostname>.<pid>.<time>.<device>.<inode><suffix>`, and
//! renamed into `dir` at commit, so a reader of `dir` only ever sees complete
//! files. `tmp` and `dir` must be on one filesystem (default `tmp`: `dir/.tmp`).

use super::export_fast::Export;
use super::{Output, OutputOpts};
use crate::message::Message;
use crate::params;
use crate::pipeline::Fail;
use anyhow::{bail, Context};
use std::fs::{self, File};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

pub struct Files {
    export: Export,
    dir: PathBuf,
    tmp: PathBuf,
    suffix: String,
    fsync: bool,
    hostname: String,
    pid: u32,
    /// Files of the batch, written in `tmp`, to rename into `dir` at commit.
    pending: Vec<String>,
    buf: Vec<u8>,
}

pub fn build(o: &OutputOpts) -> anyhow::Result<Box<dyn Output>> {
    let p = &o.params;
    let Some(dir) = params::string(p, "dir")?.or_else(|| o.target.clone()) else {
        bail!("files: the directory is required (imq-output files DIR, or parameter dir)");
    };
    let dir = PathBuf::from(dir);
    let tmp = params::string(p, "tmp")?
        .map(PathBuf::from)
        .unwrap_or_else(|| dir.join(".tmp"));
    for d in [&dir, &tmp] {
        fs::create_dir_all(d).with_context(|| format!("{}", d.display()))?;
    }
    if fs::metadata(&tmp)?.dev() != fs::metadata(&dir)?.dev() {
        bail!("files: tmp and dir must reside on the same filesystem");
    }
    let hostname = fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into());
    Ok(Box::new(Files {
        export: Export::from_params(p)?,
        dir,
        tmp,
        suffix: params::string_or(p, "suffix", ".json")?,
        fsync: params::boolean(p, "fsync", false)?,
        hostname,
        pid: std::process::id(),
        pending: Vec::new(),
        buf: Vec::new(),
    }))
}

impl Files {
    /// IntelMQ's `_get_new_name`: `time.time()` printed with `%f`.
    fn name(&self, dev: u64, ino: u64) -> String {
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        format!(
            "{}.{}.{}.{:06}.{}.{}{}",
            self.hostname,
            self.pid,
            t.as_secs(),
            t.subsec_micros(),
            dev,
            ino,
            self.suffix
        )
    }

    /// A new file in `tmp`, unique in the filesystem (its device and inode are
    /// in the name).
    fn create(&self) -> std::io::Result<(File, String)> {
        loop {
            let first = self.name(0, 0);
            let f = match File::options()
                .write(true)
                .create_new(true)
                .open(self.tmp.join(&first))
            {
                Ok(f) => f,
                Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            };
            let m = f.metadata()?;
            let name = self.name(m.dev(), m.ino());
            fs::rename(self.tmp.join(&first), self.tmp.join(&name))?;
            return Ok((f, name));
        }
    }
}

impl Output for Files {
    fn write(&mut self, ev: &Message, _original: &[u8]) -> Result<(), Fail> {
        self.buf.clear();
        self.export.write(ev, &mut self.buf)?;
        let (mut f, name) = self
            .create()
            .with_context(|| format!("files: creating a file in {}", self.tmp.display()))?;
        f.write_all(&self.buf)?;
        if self.fsync {
            f.sync_data()?;
        }
        self.pending.push(name);
        Ok(())
    }

    fn commit(&mut self) -> anyhow::Result<Vec<(usize, String)>> {
        for name in self.pending.drain(..) {
            fs::rename(self.tmp.join(&name), self.dir.join(&name))
                .with_context(|| format!("files: moving {name} into {}", self.dir.display()))?;
        }
        Ok(Vec::new())
    }

    fn batch_full(&self) -> bool {
        self.pending.len() >= 1024
    }
}
