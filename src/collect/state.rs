//! The state directory (`$IMQ_STATE_DIR`, or systemd's `$STATE_DIRECTORY`):
//! what collectors remember between runs, one small JSON file per feed
//! (an HTTP feed's `ETag` and `Last-Modified`, the files a Shadowserver API
//! collector has fetched). Files are replaced atomically (written aside, then
//! renamed), so a crash leaves the old state or the new one, never half of
//! either. A collector saves its state only in its `ack`, once the reports it
//! made were committed downstream.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The state directory from the environment: `IMQ_STATE_DIR`, else
/// `STATE_DIRECTORY` (set by systemd's `StateDirectory=`; its first entry).
pub fn dir_from_env() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("IMQ_STATE_DIR").filter(|d| !d.is_empty()) {
        return Some(d.into());
    }
    let d = std::env::var("STATE_DIRECTORY").ok()?;
    d.split(':')
        .next()
        .filter(|d| !d.is_empty())
        .map(Into::into)
}

/// The file of one feed: `KIND-HASH.json`, the hash of everything that makes
/// the feed (URL, method, parameters), so that a changed parameter is a new
/// feed and not "unchanged".
pub fn path(dir: &Path, kind: &str, identity: &str) -> PathBuf {
    let h = Sha256::digest(identity.as_bytes());
    let hex: String = h[..12].iter().map(|b| format!("{b:02x}")).collect();
    dir.join(format!("{kind}-{hex}.json"))
}

/// Read a state file; a missing or unreadable one is no state (the feed is
/// fetched in full, nothing is lost).
pub fn load(path: &Path) -> Option<Map<String, Value>> {
    let text = std::fs::read(path).ok()?;
    match serde_json::from_slice(&text).ok()? {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

/// Replace a state file atomically (the directory is created if needed).
pub fn save(path: &Path, state: &Map<String, Value>) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .map_err(|e| io::Error::new(e.kind(), format!("state directory {}: {e}", dir.display())))?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let write = || -> io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(Value::Object(state.clone()).to_string().as_bytes())?;
        f.write_all(b"\n")?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io::Error::new(e.kind(), format!("state file {}: {e}", path.display()))
    })
}

/// Forget a feed's state.
pub fn remove(path: &Path) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_load_replace() {
        let d = tempfile::tempdir().unwrap();
        let p = path(&d.path().join("sub"), "http", "GET https://x/");
        assert!(load(&p).is_none());
        let mut m = Map::new();
        m.insert("etag".into(), "\"a\"".into());
        save(&p, &m).unwrap();
        assert_eq!(load(&p).unwrap()["etag"], "\"a\"");
        m.insert("etag".into(), "\"b\"".into());
        save(&p, &m).unwrap();
        assert_eq!(load(&p).unwrap()["etag"], "\"b\"");
        assert_eq!(std::fs::read_dir(p.parent().unwrap()).unwrap().count(), 1);
        remove(&p).unwrap();
        remove(&p).unwrap();
        assert_ne!(path(d.path(), "http", "a"), path(d.path(), "http", "b"));
    }
}
