//! What moves bytes: [`Source`]s hand messages to the stream loop, [`Sink`]s take
//! what a stage emits. Components never see where bytes come from or go to.
//!
//! Every tool opens its transports here, by URI, through [`open`]:
//!
//! * a path or `-`: files, stdin/stdout, fifos ([`line`]);
//! * `redis://...` and `amqp://...`: IntelMQ's Redis and AMQP pipelines (one file
//!   each).
//!
//! Besides those, a source may be a dump being replayed ([`dump`]), raw feed
//! files handed to a parser ([`raw`]), or a collector.
//!
//! # Contract (every transport passes `tests/transport_contract.rs`)
//!
//! * [`Source::next`] hands out one message at a time. Nothing it handed out
//!   counts as done before [`Source::ack`], which releases everything handed out
//!   so far; a source whose messages were not acknowledged delivers them again
//!   (to the next run) after a crash.
//! * [`Sink::send`] passes one message to a destination path (`_default` or a
//!   named path, as IntelMQ's `destination_queues`); [`Sink::commit`] returns
//!   only once everything sent so far is durable downstream (flushed, confirmed).
//! * The loop calls `sink.commit()` and then `source.ack()` at batch boundaries.

pub mod amqp;
pub mod dump;
pub mod line;
pub mod raw;
pub mod redis;
mod route;

use anyhow::Result;
use std::io::{self, BufRead};

/// Default `--max-line-bytes`: big enough for a report carrying a whole feed.
pub const DEFAULT_MAX_LINE: usize = 256 << 20;

/// Where a message came from, for error messages and the dump.
#[derive(Debug, Clone, Copy)]
pub struct Pos<'a> {
    pub input: &'a str,
    pub line: u64,
}

/// What [`Source::next`] found.
pub enum Next {
    /// A message is in the buffer.
    Line,
    /// The buffer holds input that cannot be a message (a line over the length
    /// limit, of which it holds the first bytes; a broken dump record): the loop
    /// dumps it with this reason.
    Reject(String),
    /// No more input.
    End,
}

/// A source of messages.
pub trait Source {
    /// Clear `buf` and read the next message into it (without the line end).
    fn next(&mut self, buf: &mut Vec<u8>) -> io::Result<Next>;
    /// Where the last message came from.
    fn pos(&self) -> Pos<'_>;
    /// True when the next `next` would have to wait for input.
    fn idle(&self) -> bool;
    /// All messages handed out so far are processed and their output committed.
    fn ack(&mut self) -> io::Result<()>;
    /// A raw feed that goes with the message just read, to be streamed by the
    /// parser instead of carried base64-encoded in `raw` (raw feed files).
    fn take_body(&mut self) -> Option<Box<dyn BufRead>> {
        None
    }
    /// For a body read from a pipe: set while the body's read buffer is empty
    /// (the next read may wait), so that what was parsed so far is flushed
    /// first (`tail -f feed.csv | imq-parse ...` streams).
    fn body_pause(&self) -> Option<std::sync::Arc<std::sync::atomic::AtomicBool>> {
        None
    }
}

/// A destination for messages.
pub trait Sink {
    /// Pass one serialized message (no line end) to a destination path.
    fn send(&mut self, path: &str, msg: &[u8]) -> io::Result<()>;
    /// Make everything sent so far durable / visible downstream.
    fn commit(&mut self) -> io::Result<()>;
}

/// A sink that takes nothing: for tools whose stage delivers by itself.
pub struct NoSink;

impl Sink for NoSink {
    fn send(&mut self, path: &str, _msg: &[u8]) -> io::Result<()> {
        Err(io::Error::other(format!(
            "this tool has no output stream (message for path {path})"
        )))
    }
    fn commit(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Where a tool reads from and writes to.
#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    /// Input URIs (`-` or none: stdin).
    pub inputs: Vec<String>,
    /// The `_default` destination; `None`: the stage delivers by itself.
    pub output: Option<String>,
    /// Named destination paths (`--path NAME=URI`, repeatable: several
    /// destinations of one path all receive a copy, as IntelMQ's fan-out).
    pub routes: Vec<(String, String)>,
    pub line_buffered: bool,
    pub max_line: usize,
    /// Inputs are dump files: replay the original lines they hold.
    pub from_dump: bool,
}

/// What kind of transport a URI names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// A file, a fifo, or `-`.
    Line,
    Redis,
    Amqp,
}

impl Scheme {
    pub fn of(uri: &str) -> Scheme {
        let lower = uri.get(..13).unwrap_or(uri).to_ascii_lowercase();
        if lower.starts_with("redis://")
            || lower.starts_with("rediss://")
            || lower.starts_with("redis+unix://")
            || lower.starts_with("unix://")
        {
            Scheme::Redis
        } else if lower.starts_with("amqp://") || lower.starts_with("amqps://") {
            Scheme::Amqp
        } else {
            Scheme::Line
        }
    }
}

/// Open the source of a run.
pub fn open_source(e: &Endpoints) -> Result<Box<dyn Source>> {
    Ok(open_source_joinable(e)?.0)
}

/// The source, and what a sink on the same Redis server needs to join its
/// commit.
fn open_source_joinable(e: &Endpoints) -> Result<(Box<dyn Source>, Option<redis::Join>)> {
    let inputs = if e.inputs.is_empty() {
        vec!["-".to_string()]
    } else {
        e.inputs.clone()
    };
    let (src, join): (Box<dyn Source>, _) = match inputs
        .iter()
        .map(|i| Scheme::of(i))
        .find(|s| *s != Scheme::Line)
    {
        None => {
            let s = line::LineSource::new(inputs, e.max_line);
            s.check()?;
            (Box::new(s), None)
        }
        Some(_) if inputs.len() > 1 => anyhow::bail!(
            "a queue is read on its own (one -i per process): {}",
            mask(&inputs.join(" "))
        ),
        Some(Scheme::Redis) => {
            let s = redis::RedisSource::open(&inputs[0])?;
            let join = s.join();
            (Box::new(s), Some(join))
        }
        Some(Scheme::Amqp) => (
            Box::new(amqp::AmqpSource::open(&inputs[0], e.max_line)?),
            None,
        ),
        Some(s) => anyhow::bail!(
            "{s:?} inputs are not available yet: {}",
            mask(&inputs.join(" "))
        ),
    };
    Ok(if e.from_dump {
        (Box::new(dump::Replay::new(src)), join)
    } else {
        (src, join)
    })
}

/// Open the sink of a run: the `_default` output and every routed path.
pub fn open_sink(e: &Endpoints) -> Result<Box<dyn Sink>> {
    open_sink_joined(e, None)
}

/// The sink; with `join`, Redis destinations on the source's server hand their
/// output to the source's acknowledgement (one MULTI/EXEC for output and ack),
/// but only when every destination can: otherwise an ack could run before the
/// other destinations confirmed.
fn open_sink_joined(e: &Endpoints, join: Option<&redis::Join>) -> Result<Box<dyn Sink>> {
    let Some(output) = &e.output else {
        if let Some((p, _)) = e.routes.first() {
            anyhow::bail!("this tool delivers by itself: no --path {p} possible");
        }
        return Ok(Box::new(NoSink));
    };
    let join = join.filter(|j| {
        std::iter::once(output)
            .chain(e.routes.iter().map(|(_, u)| u))
            .all(|u| Scheme::of(u) == Scheme::Redis && j.accepts(u))
    });
    let mut r = route::Router::new();
    r.add("_default", open_one(output, e, join)?);
    for (path, uri) in &e.routes {
        r.add(path, open_one(uri, e, join)?);
    }
    Ok(r.finish())
}

/// One destination.
fn open_one(uri: &str, e: &Endpoints, join: Option<&redis::Join>) -> Result<Box<dyn Sink>> {
    match Scheme::of(uri) {
        Scheme::Line => Ok(Box::new(line::LineSink::new(line::open_writer(
            uri,
            e.line_buffered,
        )?))),
        Scheme::Redis => Ok(Box::new(match join {
            Some(j) => redis::RedisSink::joined(uri, j)?,
            None => redis::RedisSink::open(uri)?,
        })),
        Scheme::Amqp => Ok(Box::new(amqp::AmqpSink::open(uri)?)),
    }
}

/// Open both ends of a run, joined when they can be: a Redis source and Redis
/// destinations on the same server commit in one transaction.
pub fn open(e: &Endpoints) -> Result<(Box<dyn Source>, Box<dyn Sink>)> {
    let (src, join) = open_source_joinable(e)?;
    Ok((src, open_sink_joined(e, join.as_ref())?))
}

/// What waits in a broker queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueDepth {
    /// Messages not yet taken by a consumer.
    pub waiting: u64,
    /// Taken and not yet acknowledged, where the broker tells (Redis does).
    pub in_flight: Option<u64>,
}

/// The depth of the queue a `redis://` or `amqp://` URI names.
pub fn queue_depth(uri: &str) -> Result<QueueDepth> {
    match Scheme::of(uri) {
        Scheme::Redis => redis::depth(uri),
        Scheme::Amqp => amqp::depth(uri),
        Scheme::Line => anyhow::bail!("{}: not a broker queue", mask(uri)),
    }
}

/// The queues of IntelMQ's naming (`*-queue`) on the broker a URI names, where
/// the broker can list them (Redis; RabbitMQ's protocol cannot: `None`).
pub fn list_queues(uri: &str) -> Result<Option<Vec<String>>> {
    match Scheme::of(uri) {
        Scheme::Redis => redis::list_queues(uri).map(Some),
        _ => Ok(None),
    }
}

/// Remove the messages waiting in a broker queue; returns how many.
pub fn clear_queue(uri: &str) -> Result<u64> {
    match Scheme::of(uri) {
        Scheme::Redis => redis::clear(uri),
        Scheme::Amqp => amqp::clear(uri),
        Scheme::Line => anyhow::bail!("{}: not a broker queue", mask(uri)),
    }
}

/// A URI (or any text holding URIs) with the password of every `user:pass@`
/// (and of `pass=` / `password=` query parameters) replaced by `***`, for
/// messages and logs.
pub fn mask(text: &str) -> String {
    mask_query(&mask_authority(text))
}

fn mask_query(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let hit = ["?pass=", "&pass=", "?password=", "&password="]
            .iter()
            .filter_map(|k| rest.find(k).map(|i| (i, k.len())))
            .min();
        let Some((i, n)) = hit else { break };
        out.push_str(&rest[..i + n]);
        out.push_str("***");
        let tail = &rest[i + n..];
        let end = tail
            .find(|c: char| c == '&' || c.is_whitespace())
            .unwrap_or(tail.len());
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

fn mask_authority(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c == '/' || c.is_whitespace())
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                match userinfo.find(':') {
                    Some(colon) => {
                        out.push_str(&userinfo[..colon]);
                        out.push_str(":***");
                    }
                    None if userinfo.is_empty() => {}
                    // A lone userinfo may be a password (`redis://secret@host`).
                    None => out.push_str("***"),
                }
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_passwords_in_uris() {
        assert_eq!(
            mask("redis://:s3cret@127.0.0.1:6379/2/q"),
            "redis://:***@127.0.0.1:6379/2/q"
        );
        assert_eq!(
            mask("cannot reach amqp://guest:guest@host/%2f/q: refused"),
            "cannot reach amqp://guest:***@host/%2f/q: refused"
        );
        assert_eq!(mask("redis://pw@h/2/q"), "redis://***@h/2/q");
        assert_eq!(
            mask("redis+unix://:pw@/run/r.sock?db=2&queue=q"),
            "redis+unix://:***@/run/r.sock?db=2&queue=q"
        );
        assert_eq!(
            mask("unix:///r.sock?pass=x1&queue=q and ?password=y"),
            "unix:///r.sock?pass=***&queue=q and ?password=***"
        );
        assert_eq!(mask("file.ndjson"), "file.ndjson");
        assert_eq!(mask("http://h/a@b"), "http://h/a@b");
    }

    #[test]
    fn schemes() {
        assert_eq!(Scheme::of("REDIS://h/2/q"), Scheme::Redis);
        assert_eq!(Scheme::of("amqp://h/%2f/q"), Scheme::Amqp);
        assert_eq!(Scheme::of("redis+unix:///r.sock?queue=q"), Scheme::Redis);
        assert_eq!(Scheme::of("unix:///r.sock?queue=q"), Scheme::Redis);
        assert_eq!(Scheme::of("-"), Scheme::Line);
        assert_eq!(Scheme::of("out.ndjson"), Scheme::Line);
    }
}
