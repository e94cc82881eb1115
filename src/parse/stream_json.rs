//! Reading the elements of a JSON array one by one from a [`BufRead`], so that a
//! feed that is one big JSON list (Feodo Tracker, ...) parses in constant memory.
//! serde_json's `StreamDeserializer` reads whitespace-separated values, not the
//! elements of an array; this splitter finds where each element ends (tracking
//! strings and nesting) and hands out its bytes for `serde_json::from_slice`.

use std::io::{self, BufRead};

pub struct ArrayItems<'a> {
    input: &'a mut dyn BufRead,
    item: Vec<u8>,
    state: State,
    /// The largest element kept.
    max: usize,
}

#[derive(PartialEq)]
enum State {
    Start,
    Items,
    Done,
}

fn bad(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_string())
}

impl<'a> ArrayItems<'a> {
    pub fn new(input: &'a mut dyn BufRead) -> ArrayItems<'a> {
        ArrayItems {
            input,
            item: Vec::new(),
            state: State::Start,
            max: crate::transport::DEFAULT_MAX_LINE,
        }
    }

    /// Elements over `max` bytes are an error (`--max-line-bytes`).
    pub fn limit(mut self, max: usize) -> Self {
        self.max = max;
        self
    }

    /// The next byte that is not whitespace (consumed), or None at the end.
    fn next_token(&mut self) -> io::Result<Option<u8>> {
        loop {
            let buf = self.input.fill_buf()?;
            if buf.is_empty() {
                return Ok(None);
            }
            match buf
                .iter()
                .position(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
            {
                Some(i) => {
                    let b = buf[i];
                    self.input.consume(i + 1);
                    return Ok(Some(b));
                }
                None => {
                    let n = buf.len();
                    self.input.consume(n);
                }
            }
        }
    }

    /// The bytes of the next element; `Ok(None)` after the closing `]`.
    pub fn next_item(&mut self) -> io::Result<Option<&[u8]>> {
        if self.state == State::Start {
            // A UTF-8 byte order mark is tolerated.
            let buf = self.input.fill_buf()?;
            if buf.starts_with(b"\xef\xbb\xbf") {
                self.input.consume(3);
            }
            match self.next_token()? {
                Some(b'[') => self.state = State::Items,
                _ => return Err(bad("feed is not a JSON list")),
            }
            match self.next_token()? {
                Some(b']') => {
                    self.state = State::Done;
                    return Ok(None);
                }
                Some(b) => {
                    self.item.clear();
                    self.item.push(b);
                }
                None => return Err(bad("unexpected end of JSON list")),
            }
        } else if self.state == State::Done {
            return Ok(None);
        } else {
            match self.next_token()? {
                Some(b) => {
                    self.item.clear();
                    self.item.push(b);
                }
                None => return Err(bad("unexpected end of JSON list")),
            }
        }
        // Scan the element's bytes up to the `,` or `]` that ends it.
        let first = self.item[0];
        let mut depth: i64 = match first {
            b'{' | b'[' => 1,
            _ => 0,
        };
        let mut in_str = first == b'"';
        let mut escaped = false;
        loop {
            let buf = self.input.fill_buf()?;
            if buf.is_empty() {
                return Err(bad("unexpected end of JSON list"));
            }
            let mut end = None;
            let mut i = 0;
            while i < buf.len() {
                if in_str {
                    // Inside a string only its end matters: jump from one quote
                    // or backslash to the next instead of stepping byte by byte.
                    if escaped {
                        escaped = false;
                        i += 1;
                        continue;
                    }
                    match crate::jsonscan::next_quote_or_backslash(buf, i) {
                        None => i = buf.len(),
                        Some(j) if buf[j] == b'\\' => {
                            escaped = true;
                            i = j + 1;
                        }
                        Some(j) => {
                            in_str = false;
                            i = j + 1;
                        }
                    }
                    continue;
                }
                let b = buf[i];
                i += 1;
                match b {
                    b'"' => in_str = true,
                    b'{' | b'[' => depth += 1,
                    b'}' => depth -= 1,
                    b']' if depth > 0 => depth -= 1,
                    b',' | b']' if depth == 0 => {
                        end = Some((i - 1, b));
                        break;
                    }
                    _ => {}
                }
            }
            match end {
                Some((i, b)) => {
                    self.item.extend_from_slice(&buf[..i]);
                    self.input.consume(i + 1);
                    if b == b']' {
                        self.state = State::Done;
                    }
                    break;
                }
                None => {
                    let n = buf.len();
                    self.item.extend_from_slice(buf);
                    self.input.consume(n);
                    if self.item.len() > self.max {
                        // Bounded memory: an element this big ends the report
                        // (it is dumped with its first bytes).
                        self.state = State::Done;
                        return Err(bad(&format!(
                            "JSON list element over {} bytes (--max-line-bytes)",
                            self.max
                        )));
                    }
                }
            }
        }
        while self
            .item
            .last()
            .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        {
            self.item.pop();
        }
        Ok(Some(&self.item))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_elements() {
        let data = br#" [ {"a": "x,]}", "b": [1, {"c": 2}]} , 3, "s\"]" ,{}, "t\\", "u"]"#;
        let mut r: &[u8] = data;
        let mut items = ArrayItems::new(&mut r);
        let mut got = Vec::new();
        while let Some(i) = items.next_item().unwrap() {
            got.push(String::from_utf8(i.to_vec()).unwrap());
        }
        assert_eq!(
            got,
            [
                r#"{"a": "x,]}", "b": [1, {"c": 2}]}"#,
                "3",
                r#""s\"]""#,
                "{}",
                r#""t\\""#,
                r#""u""#
            ]
        );
        // Every element boundary, escape and string end across buffer edges.
        for cap in 1..12 {
            let mut r = std::io::BufReader::with_capacity(cap, &data[..]);
            let mut items = ArrayItems::new(&mut r);
            let mut again = Vec::new();
            while let Some(i) = items.next_item().unwrap() {
                again.push(String::from_utf8(i.to_vec()).unwrap());
            }
            assert_eq!(again, got, "buffer of {cap}");
        }
        let mut e: &[u8] = b"[]";
        assert!(ArrayItems::new(&mut e).next_item().unwrap().is_none());
        let mut e: &[u8] = b"{}";
        assert!(ArrayItems::new(&mut e).next_item().is_err());
    }
}
