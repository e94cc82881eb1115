//! `touch`: IntelMQ's touch output, which sets a file's times to now for every
//! event (a liveness signal for monitoring). Done once per batch here, which
//! leaves the same mark; a missing file is created instead of failing.

use super::{Output, OutputOpts};
use crate::message::Message;
use crate::params;
use crate::pipeline::Fail;
use anyhow::{bail, Context};
use std::fs::{File, FileTimes};
use std::time::SystemTime;

pub struct Touch {
    path: String,
    pending: bool,
}

pub fn build(o: &OutputOpts) -> anyhow::Result<Box<dyn Output>> {
    let Some(path) = params::string(&o.params, "path")?.or_else(|| o.target.clone()) else {
        bail!("touch: the file is required (imq-output touch FILE, or parameter path)");
    };
    Ok(Box::new(Touch {
        path,
        pending: false,
    }))
}

impl Output for Touch {
    fn write(&mut self, _ev: &Message, _original: &[u8]) -> Result<(), Fail> {
        self.pending = true;
        Ok(())
    }

    fn commit(&mut self) -> anyhow::Result<Vec<(usize, String)>> {
        if std::mem::take(&mut self.pending) {
            let now = SystemTime::now();
            File::options()
                .create(true)
                .append(true)
                .open(&self.path)
                .and_then(|f| f.set_times(FileTimes::new().set_accessed(now).set_modified(now)))
                .with_context(|| format!("touch {}", self.path))?;
        }
        Ok(Vec::new())
    }
}
