//! Replaying a (fixed) dump with `--from-dump`: each dump record becomes the
//! original line it holds; a record that is not one is dumped again as it is.

use super::{Next, Pos, Source};
use crate::dump::from_dump_line;
use std::io::{self, BufRead};

/// The original lines of the dump records another source reads.
pub struct Replay {
    inner: Box<dyn Source>,
}

impl Replay {
    pub fn new(inner: Box<dyn Source>) -> Replay {
        Replay { inner }
    }
}

impl Source for Replay {
    fn next(&mut self, buf: &mut Vec<u8>) -> io::Result<Next> {
        match self.inner.next(buf)? {
            Next::Line if crate::pipeline::is_blank(buf) => Ok(Next::Line),
            Next::Line => match from_dump_line(buf) {
                Ok(original) => {
                    *buf = original;
                    Ok(Next::Line)
                }
                Err(e) => Ok(Next::Reject(e)),
            },
            other => Ok(other),
        }
    }
    fn pos(&self) -> Pos<'_> {
        self.inner.pos()
    }
    fn idle(&self) -> bool {
        self.inner.idle()
    }
    fn ack(&mut self) -> io::Result<()> {
        self.inner.ack()
    }
    fn take_body(&mut self) -> Option<Box<dyn BufRead>> {
        self.inner.take_body()
    }
}
