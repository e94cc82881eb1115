//! NDJSON files: the wire format, one event per line (IntelMQ's file output).

use super::{Output, OutputOpts};
use crate::message::Message;
use crate::pipeline::Fail;
use crate::transport::line::open_writer;
use std::io::Write;

pub struct Ndjson {
    w: Box<dyn Write>,
    buf: Vec<u8>,
}

pub fn build(o: &OutputOpts) -> anyhow::Result<Box<dyn Output>> {
    let w = open_writer(o.target.as_deref().unwrap_or("-"), o.line_buffered)?;
    Ok(Box::new(Ndjson { w, buf: Vec::new() }))
}

impl Output for Ndjson {
    fn write(&mut self, ev: &Message, _original: &[u8]) -> Result<(), Fail> {
        self.buf.clear();
        ev.write_json(&mut self.buf);
        self.buf.push(b'\n');
        self.w.write_all(&self.buf)?;
        Ok(())
    }
    fn commit(&mut self) -> anyhow::Result<Vec<(usize, String)>> {
        self.w.flush()?;
        Ok(Vec::new())
    }
}
