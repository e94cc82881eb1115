//! The stage API: [`Stage`], the [`Emit`] handle and [`Fail`].

use super::log::Log;
use super::stats::{PathCounts, Stats};
use crate::dump::{Dumper, Rejected};
use crate::harmonization::MsgType;
use crate::message::{FieldError, Message};
use crate::transport::{Pos, Sink};
use std::io::{self, BufRead};

/// How a stage failed on one message.
#[derive(Debug)]
pub enum Fail {
    /// This message cannot be processed: it goes to the dump, the run goes on.
    Reject(String),
    /// The run cannot go on (I/O, a broken resource).
    Fatal(anyhow::Error),
}

impl From<io::Error> for Fail {
    fn from(e: io::Error) -> Fail {
        Fail::Fatal(e.into())
    }
}

impl From<FieldError> for Fail {
    fn from(e: FieldError) -> Fail {
        Fail::Reject(e.to_string())
    }
}

impl From<anyhow::Error> for Fail {
    fn from(e: anyhow::Error) -> Fail {
        Fail::Fatal(e)
    }
}

/// What a stage uses to emit messages and account for what it does.
pub struct Emit<'a> {
    pub(super) sink: &'a mut dyn Sink,
    pub(super) dumper: &'a mut Dumper,
    pub(super) stats: &'a mut Stats,
    pub(super) paths: &'a mut PathCounts,
    pub(super) buf: &'a mut Vec<u8>,
    /// The original input line of the message being processed (empty in
    /// [`Stage::commit`] and [`Stage::finish`]).
    pub original: &'a [u8],
    pub pos: Pos<'a>,
    pub(super) log: &'a mut Log,
    pub(super) body: Option<Box<dyn BufRead>>,
    /// Set while a streamed body waits for input: flush what was sent.
    pub(super) pause: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
}

impl Emit<'_> {
    /// One line about the run on stderr (not about a message), unless quiet.
    pub fn note(&self, s: &str) {
        self.log.say(s);
    }

    /// Write a message to the default path.
    pub fn send(&mut self, msg: &Message) -> io::Result<()> {
        self.send_to("_default", msg)
    }

    /// Write a message to a named path.
    pub fn send_to(&mut self, path: &str, msg: &Message) -> io::Result<()> {
        self.buf.clear();
        msg.write_json(self.buf);
        self.stats.output += 1;
        self.paths.count(path);
        self.sink.send(path, self.buf)?;
        self.flush_on_pause()
    }

    /// A body read from a pipe has nothing more buffered: the next read may
    /// wait, so what was sent is flushed now (as the loop does on idle input).
    fn flush_on_pause(&mut self) -> io::Result<()> {
        if self
            .pause
            .as_ref()
            .is_some_and(|p| p.load(std::sync::atomic::Ordering::Relaxed))
        {
            self.sink.commit()?;
        }
        Ok(())
    }

    /// Write the input line unchanged (a kept, unmodified message).
    pub fn send_original(&mut self, path: &str) -> io::Result<()> {
        self.stats.output += 1;
        self.paths.count(path);
        self.sink.send(path, self.original)?;
        self.flush_on_pause()
    }

    /// One more copy of a message already accounted for (sent with
    /// [`Emit::send_to`], or dumped) to another path: IntelMQ's fan-out to
    /// several paths. Counted on its path only, so that `in == out + filtered +
    /// dumped` counts every input once. `msg`: the message, or `None` for the
    /// original line.
    pub fn also_to(&mut self, path: &str, msg: Option<&Message>) -> io::Result<()> {
        self.paths.count(path);
        match msg {
            Some(m) => {
                self.buf.clear();
                m.write_json(self.buf);
                self.sink.send(path, self.buf)?;
            }
            None => self.sink.send(path, self.original)?,
        }
        self.flush_on_pause()
    }

    /// The original line of a message dropped on purpose, kept on a path of its
    /// own (`--reject FILE`): counted as filtered (and on its path), not as out.
    pub fn divert(&mut self, path: &str) -> io::Result<()> {
        self.stats.filtered += 1;
        self.paths.count(path);
        self.sink.send(path, self.original)?;
        self.flush_on_pause()
    }

    /// Count messages the stage delivered by itself, once the destination
    /// confirmed them (outputs, in [`Stage::commit`]).
    pub fn delivered(&mut self, n: u64) {
        self.stats.output += n;
    }

    /// Count a message dropped on purpose by an explicit rule.
    pub fn filtered(&mut self) {
        self.stats.filtered += 1;
    }

    /// Count extra inputs (a parser counts each feed record it finds; the loop has
    /// counted the report line as one already).
    pub fn count_input(&mut self, n: i64) {
        self.stats.input = (self.stats.input as i64 + n).max(0) as u64;
    }

    /// The raw feed that came with this message, when the source streams one
    /// (raw feed files given to a parser): read it instead of the `raw` field.
    pub fn take_body(&mut self) -> Option<Box<dyn BufRead>> {
        self.body.take()
    }

    /// Dump one part of the current input (a parser's bad feed record) and go on.
    pub fn reject(&mut self, record: Option<u64>, bytes: &[u8], reason: &str) -> io::Result<()> {
        let pos = self.pos;
        self.reject_at(pos, record, bytes, reason)
    }

    /// Dump an earlier input of the batch (an output's event that the destination
    /// refused when the batch was committed), at the position it was read from.
    pub fn reject_at(
        &mut self,
        pos: Pos,
        record: Option<u64>,
        bytes: &[u8],
        reason: &str,
    ) -> io::Result<()> {
        self.stats.dumped += 1;
        self.log.reject(pos, reason);
        self.dumper.write(&Rejected {
            input: pos.input,
            line: pos.line,
            record,
            error: reason,
            bytes,
        })
    }
}

/// A tool's processing step.
pub trait Stage {
    /// The class of messages without `__type` on input.
    fn default_type(&self) -> MsgType {
        MsgType::Event
    }

    /// Does the stage send every line on unchanged, without looking at it (a
    /// collector's reports, built and checked by the collector)? Then lines are
    /// not decoded and [`Stage::process`] is not called.
    fn pass_through(&self) -> bool {
        false
    }

    /// Process one message.
    fn process(&mut self, msg: Message, out: &mut Emit) -> Result<(), Fail>;

    /// Process a line that is not a message (parsers take raw feed data too).
    /// The default rejects it with the decoding error.
    fn process_raw(&mut self, err: String, _out: &mut Emit) -> Result<(), Fail> {
        Err(Fail::Reject(err))
    }

    /// Does the stage want its batch committed now (an output's batch is full)?
    fn wants_commit(&self) -> bool {
        false
    }

    /// Make what the stage wrote by itself durable (outputs with their own
    /// destinations): called at every batch boundary, before the sink commits.
    /// Count what the destination confirmed with [`Emit::delivered`] and dump what
    /// it refused with [`Emit::reject_at`]; an error stops the run before the
    /// input of the batch is acknowledged.
    fn commit(&mut self, _out: &mut Emit) -> Result<(), Fail> {
        Ok(())
    }

    /// Called at the end of input, for stages that hold state.
    fn finish(&mut self, _out: &mut Emit) -> Result<(), Fail> {
        Ok(())
    }
}
