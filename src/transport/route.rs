//! Destination paths: `_default` and named paths (`--path NAME=URI`), each with one
//! or more destinations (IntelMQ's `destination_queues` fan-out copy).

use super::Sink;
use std::io;

/// Sends each message to the destinations of its path. A named path without a
/// destination goes to the `_default` destinations with a `"__path": NAME` key
/// added, so that a downstream tool or `jq` can still split it.
pub(super) struct Router {
    sinks: Vec<Box<dyn Sink>>,
    default: Vec<usize>,
    named: Vec<(String, Vec<usize>)>,
    scratch: Vec<u8>,
}

impl Router {
    pub(super) fn new() -> Router {
        Router {
            sinks: Vec::new(),
            default: Vec::new(),
            named: Vec::new(),
            scratch: Vec::new(),
        }
    }

    pub(super) fn add(&mut self, path: &str, sink: Box<dyn Sink>) {
        let i = self.sinks.len();
        self.sinks.push(sink);
        if path == "_default" {
            self.default.push(i);
        } else if let Some((_, v)) = self.named.iter_mut().find(|(p, _)| p == path) {
            v.push(i);
        } else {
            self.named.push((path.to_string(), vec![i]));
        }
    }

    pub(super) fn finish(self) -> Box<dyn Sink> {
        Box::new(self)
    }
}

impl Sink for Router {
    fn send(&mut self, path: &str, msg: &[u8]) -> io::Result<()> {
        if path == "_default" {
            for &i in &self.default {
                self.sinks[i].send("_default", msg)?;
            }
            return Ok(());
        }
        if let Some((_, v)) = self.named.iter().find(|(p, _)| p == path) {
            for &i in v {
                self.sinks[i].send("_default", msg)?;
            }
            return Ok(());
        }
        // Insert `"__path":NAME` before the closing brace.
        self.scratch.clear();
        let body = msg.strip_suffix(b"}").unwrap_or(msg);
        self.scratch.extend_from_slice(body);
        if body.len() > 1 {
            self.scratch.push(b',');
        }
        self.scratch.extend_from_slice(b"\"__path\":");
        serde_json::to_writer(&mut self.scratch, path).map_err(io::Error::other)?;
        self.scratch.push(b'}');
        for &i in &self.default {
            self.sinks[i].send("_default", &self.scratch)?;
        }
        Ok(())
    }

    fn commit(&mut self) -> io::Result<()> {
        for s in &mut self.sinks {
            s.commit()?;
        }
        Ok(())
    }
}
