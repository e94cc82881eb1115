//! The file collector: each file (or stdin for `-`) becomes one report, with
//! `feed.url` and `extra.file_name` as IntelMQ's file collector sets them.

use super::{report, FeedMeta};
use crate::transport::{Next, Pos, Source};
use std::io::{self, Read};

/// Reports of local files, one per file.
pub struct FileCollector {
    paths: Vec<String>,
    idx: usize,
    meta: FeedMeta,
    name: String,
}

impl FileCollector {
    pub fn new(paths: Vec<String>, meta: FeedMeta) -> FileCollector {
        let paths = if paths.is_empty() {
            vec!["-".into()]
        } else {
            paths
        };
        FileCollector {
            paths,
            idx: 0,
            meta,
            name: String::new(),
        }
    }

    /// The report fields of one file: what IntelMQ's file collector sets,
    /// `file://localhost/PATH` and the file name, unless given.
    fn meta_for(&self, p: &str) -> FeedMeta {
        let mut meta = self.meta.clone();
        let has = |m: &FeedMeta, key: &str| m.fields.iter().any(|(k, _)| k == key);
        if p != "-" {
            if !has(&meta, "feed.url") {
                if let Ok(abs) = std::fs::canonicalize(p) {
                    let url = format!("file://localhost{}", abs.display());
                    meta.fields.push(("feed.url".into(), url));
                }
            }
            if !has(&meta, "extra.file_name") {
                if let Some(name) = std::path::Path::new(p).file_name() {
                    let name = name.to_string_lossy().into_owned();
                    meta.fields.push(("extra.file_name".into(), name));
                }
            }
        }
        meta
    }
}

impl Source for FileCollector {
    fn next(&mut self, buf: &mut Vec<u8>) -> io::Result<Next> {
        let Some(p) = self.paths.get(self.idx).cloned() else {
            return Ok(Next::End);
        };
        self.idx += 1;
        let mut data = Vec::new();
        if p == "-" {
            self.name = "<stdin>".into();
            io::stdin().lock().read_to_end(&mut data)?;
        } else {
            std::fs::File::open(&p)
                .and_then(|mut f| f.read_to_end(&mut data))
                .map_err(|e| io::Error::new(e.kind(), format!("{p}: {e}")))?;
            self.name = p.clone();
        }
        let r = report(&data, &self.meta_for(&p)).map_err(io::Error::other)?;
        buf.clear();
        r.write_json(buf);
        Ok(Next::Line)
    }

    fn pos(&self) -> Pos<'_> {
        Pos {
            input: &self.name,
            line: 1,
        }
    }

    fn idle(&self) -> bool {
        // Each report is committed on its own.
        true
    }

    fn ack(&mut self) -> io::Result<()> {
        Ok(())
    }
}
