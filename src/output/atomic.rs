//! Files rewritten whole and replaced atomically (write a temporary file beside
//! the target, fsync, rename over it, fsync the directory), so that a DNS server
//! or firewall reloading the file at any moment sees the old or the new list,
//! never half of one, and a crash leaves one of the two.

use anyhow::Context;
use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// Replace `path` by what `fill` writes.
pub fn replace(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let tmp = tmp_path(path);
    let res = (|| -> anyhow::Result<()> {
        let f = create(&tmp)?;
        let mut w = BufWriter::with_capacity(1 << 16, f);
        fill(&mut w)?;
        let f = w.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        Ok(())
    })();
    finish(path, &tmp, res)
}

/// Replace `path` by its current content (or `header` when it is missing or
/// empty) followed by `tail`.
pub fn append(path: &Path, header: &[u8], tail: &[u8]) -> anyhow::Result<()> {
    let tmp = tmp_path(path);
    let res = (|| -> anyhow::Result<()> {
        create(&tmp)?;
        let had = match fs::metadata(path) {
            Ok(m) if m.len() > 0 => {
                fs::copy(path, &tmp).with_context(|| format!("copying {}", path.display()))?;
                true
            }
            _ => false,
        };
        let mut f = OpenOptions::new().append(true).create(true).open(&tmp)?;
        if !had {
            f.write_all(header)?;
        }
        f.write_all(tail)?;
        f.sync_all()?;
        Ok(())
    })();
    finish(path, &tmp, res)
}

/// Replace `path` by its first `keep` bytes followed by what `fill` writes; the
/// kept part is copied by the kernel (`copy_file_range`) where it can, so a
/// large file that only changes at its end costs little to replace.
pub fn replace_keeping(
    path: &Path,
    keep: u64,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let tmp = tmp_path(path);
    let res = (|| -> anyhow::Result<()> {
        let mut f = create(&tmp)?;
        let old = File::open(path).with_context(|| format!("reading {}", path.display()))?;
        let n = std::io::copy(&mut old.take(keep), &mut f)?;
        if n != keep {
            anyhow::bail!("{} is shorter than expected", path.display());
        }
        let mut w = BufWriter::with_capacity(1 << 16, f);
        fill(&mut w)?;
        let f = w.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        Ok(())
    })();
    finish(path, &tmp, res)
}

fn create(tmp: &Path) -> anyhow::Result<File> {
    if let Some(dir) = tmp.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    File::create(tmp).with_context(|| format!("creating {}", tmp.display()))
}

fn finish(path: &Path, tmp: &Path, res: anyhow::Result<()>) -> anyhow::Result<()> {
    if let Err(e) = res.and_then(|()| {
        fs::rename(tmp, path).with_context(|| format!("renaming over {}", path.display()))
    }) {
        let _ = fs::remove_file(tmp);
        return Err(e.context(format!("writing {}", path.display())));
    }
    // The rename is durable only once the directory is synced.
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// `.NAME.tmp.PID` beside the target: same filesystem, so the rename is atomic;
/// hidden, so a directory watcher globbing `*.zone` does not pick it up.
fn tmp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp.{}", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_and_replace() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("sub/list.txt");
        append(&p, b"# head\n", b"a\n").unwrap();
        append(&p, b"# head\n", b"b\n").unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "# head\na\nb\n");
        replace(&p, |w| w.write_all(b"new\n")).unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "new\n");
        assert_eq!(fs::read_dir(p.parent().unwrap()).unwrap().count(), 1);
        replace_keeping(&p, 2, |w| w.write_all(b"x\n")).unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "nex\n");
        assert!(replace_keeping(&p, 100, |w| w.write_all(b"x")).is_err());
        assert_eq!(fs::read_to_string(&p).unwrap(), "nex\n");
        assert_eq!(fs::read_dir(p.parent().unwrap()).unwrap().count(), 1);
    }
}
