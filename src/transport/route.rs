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

/// The message without its top-level `"__path"` pair (as it came when it has none).
fn without_path(msg: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    use std::borrow::Cow;
    // Most messages on an unrouted path have none: a byte search decides.
    if !msg.windows(9).any(|w| w == b"\"__path\":") {
        return Cow::Borrowed(msg);
    }
    let mut found = Vec::new();
    // Only a message holding those bytes gets here: a vector of its own is fine.
    let mut scanned = Vec::new();
    if crate::jsonscan::scan_object(msg, &mut scanned).is_some() {
        let base = msg.as_ptr() as usize;
        for p in scanned.iter().filter(|p| p.key == "__path") {
            // From the key's opening quote to the end of its value.
            found.push((p.key.as_ptr() as usize - base - 1, p.start + p.text.len()));
        }
    }
    if found.is_empty() {
        return Cow::Borrowed(msg);
    }
    let mut out = Vec::with_capacity(msg.len());
    let mut at = 0;
    for (a, b) in found {
        // The pair and the comma after it, or else the comma before it.
        let mut end = b;
        while msg.get(end).is_some_and(u8::is_ascii_whitespace) {
            end += 1;
        }
        if msg.get(end) == Some(&b',') {
            out.extend_from_slice(&msg[at..a]);
            at = end + 1;
        } else {
            let mut start = a;
            while start > at && msg[start - 1].is_ascii_whitespace() {
                start -= 1;
            }
            if start > at && msg[start - 1] == b',' {
                start -= 1;
            }
            out.extend_from_slice(&msg[at..start]);
            at = b;
        }
    }
    out.extend_from_slice(&msg[at..]);
    Cow::Owned(out)
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
        // Insert `"__path":NAME` before the closing brace, in place of the one
        // an earlier filter may have set.
        self.scratch.clear();
        let msg = &*without_path(msg);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_earlier_path_is_replaced() {
        let cases: [(&[u8], &[u8]); 4] = [
            (
                br#"{"a":1,"__path":"x","__type":"Event"}"#,
                br#"{"a":1,"__type":"Event"}"#,
            ),
            (br#"{"a":1,"__path":"x"}"#, br#"{"a":1}"#),
            (br#"{"__path":"x"}"#, br#"{}"#),
            (br#"{"a":"\"__path\":1"}"#, br#"{"a":"\"__path\":1"}"#),
        ];
        for (i, o) in cases {
            assert_eq!(&*without_path(i), o, "{}", String::from_utf8_lossy(i));
        }
    }
}
