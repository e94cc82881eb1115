//! The stream loop.

use super::log::Log;
use super::signal;
use super::stage::{Emit, Fail, Stage};
use super::stats::{PathCounts, Stats, StatsFile};
use crate::dump::Dumper;
use crate::message::Message;
use crate::transport::{Next, Sink, Source};
use std::io::{self, Write};
use std::time::{Duration, Instant};

/// Messages per commit/ack batch when input never pauses.
pub const BATCH: u64 = 4096;
/// A batch is committed at the latest this long after its first message, so that
/// slow steady input is not held back.
const MAX_BATCH_AGE: Duration = Duration::from_secs(1);

/// Options of [`run`].
#[derive(Default)]
pub struct RunOpts {
    pub strict: bool,
    /// Show progress on stderr (a terminal, not quiet).
    pub progress: bool,
    /// `--stats FILE`.
    pub stats: Option<StatsFile>,
}

/// What a run ended with.
#[derive(Debug)]
pub struct Outcome {
    pub stats: Stats,
    pub paths: PathCounts,
    /// `--strict` stopped the run at a rejected line.
    pub stopped: bool,
}

/// Everything the loop owns besides the stage and the transports.
struct State<'a> {
    stats: Stats,
    paths: PathCounts,
    out_buf: Vec<u8>,
    dumper: &'a mut Dumper,
    log: &'a mut Log,
}

impl State<'_> {
    fn emit<'e>(
        &'e mut self,
        sink: &'e mut dyn Sink,
        original: &'e [u8],
        pos: crate::transport::Pos<'e>,
    ) -> Emit<'e> {
        Emit {
            sink,
            dumper: &mut *self.dumper,
            stats: &mut self.stats,
            paths: &mut self.paths,
            buf: &mut self.out_buf,
            original,
            pos,
            log: &mut *self.log,
            body: None,
            pause: None,
        }
    }
}

/// One commit: the stage's own writes, then the sink, then the source's ack.
fn commit(
    stage: &mut dyn Stage,
    source: &mut dyn Source,
    sink: &mut dyn Sink,
    st: &mut State,
    opts: &mut RunOpts,
) -> anyhow::Result<()> {
    let t = Instant::now();
    let pos = source.pos();
    let mut emit = st.emit(sink, &[], pos);
    match stage.commit(&mut emit) {
        Ok(()) => {}
        Err(Fail::Reject(r)) => emit.reject(None, b"", &r)?,
        Err(Fail::Fatal(e)) => return Err(e),
    }
    sink.commit()?;
    source.ack()?;
    if let Some(f) = opts.stats.as_mut() {
        f.batch_latency = t.elapsed().as_secs_f64();
        let last = st.log.last_error.as_deref();
        // Written at once when the input has run dry: a throttled write would
        // otherwise leave the file behind until the next batch, which may be
        // hours away (the time is spare then: the next read has to wait).
        let idle = source.idle();
        if let Err(e) = f.maybe_write(st.log.tool, &st.stats, &st.paths, last, idle) {
            st.log.say(&format!("cannot write --stats: {e}"));
            opts.stats = None;
        }
    }
    Ok(())
}

/// A line holding only JSON whitespace (space, tab, CR, LF): NDJSON framing, not
/// a message. Other ASCII whitespace (a form feed) is not JSON: such a line is a
/// bad line and goes to the dump.
pub fn is_blank(line: &[u8]) -> bool {
    line.iter()
        .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

/// The stream loop.
pub fn run(
    stage: &mut dyn Stage,
    source: &mut dyn Source,
    sink: &mut dyn Sink,
    dumper: &mut Dumper,
    log: &mut Log,
    mut opts: RunOpts,
) -> anyhow::Result<Outcome> {
    let mut st = State {
        stats: Stats::default(),
        paths: PathCounts::default(),
        out_buf: Vec::with_capacity(4096),
        dumper,
        log,
    };
    let mut line = Vec::with_capacity(4096);
    let mut since_commit = 0u64;
    let mut batch_start = Instant::now();
    let default = stage.default_type();
    let pass_through = stage.pass_through();
    let started = Instant::now();
    let mut last_progress = started;
    let mut stopped = false;

    loop {
        if since_commit > 0
            && (source.idle()
                || since_commit >= BATCH
                || stage.wants_commit()
                || (since_commit.is_multiple_of(64) && batch_start.elapsed() >= MAX_BATCH_AGE))
        {
            commit(stage, source, sink, &mut st, &mut opts)?;
            since_commit = 0;
        }
        if signal::stop_requested() {
            st.log
                .say("stopping on request: the batch in flight is committed");
            break;
        }
        let next = source.next(&mut line)?;
        let invalid = match next {
            Next::End => break,
            Next::Reject(reason) => Some(reason),
            Next::Line => None,
        };
        if invalid.is_none() && is_blank(&line) {
            // Empty lines carry nothing (NDJSON framing); they are not counted.
            continue;
        }
        if since_commit == 0 {
            batch_start = Instant::now();
        }
        since_commit += 1;
        st.stats.input += 1;
        let dumped_before = st.stats.dumped;

        let body = source.take_body();
        let pos = source.pos();
        let mut emit = st.emit(sink, &line, pos);
        emit.body = body;
        emit.pause = source.body_pause();
        if let Some(reason) = invalid {
            emit.reject(None, &line, &reason)?;
        } else {
            let result = if pass_through {
                emit.send_original("_default").map_err(Fail::from)
            } else {
                match Message::from_json(&line, default) {
                    Ok(msg) => stage.process(msg, &mut emit),
                    Err(e) => stage.process_raw(e.to_string(), &mut emit),
                }
            };
            match result {
                Ok(()) => {}
                Err(Fail::Reject(reason)) => emit.reject(None, &line, &reason)?,
                Err(Fail::Fatal(e)) => return Err(e.context(format!("{}:{}", pos.input, pos.line))),
            }
        }

        if opts.strict && st.stats.dumped > dumped_before {
            st.log.say("stopping at the first rejected line (--strict)");
            stopped = true;
            break;
        }
        if opts.progress && st.stats.input.is_multiple_of(8192) {
            let now = Instant::now();
            if now.duration_since(last_progress).as_millis() >= 500 {
                last_progress = now;
                let secs = now.duration_since(started).as_secs_f64().max(1e-9);
                let _ = write!(
                    io::stderr().lock(),
                    "\r{}: {} ({:.0}/s)   ",
                    st.log.tool,
                    st.stats,
                    st.stats.input as f64 / secs
                );
            }
        }
    }

    if !stopped {
        let pos = source.pos();
        let mut emit = st.emit(sink, &[], pos);
        match stage.finish(&mut emit) {
            Ok(()) => {}
            Err(Fail::Reject(r)) => emit.reject(None, b"", &r)?,
            Err(Fail::Fatal(e)) => return Err(e),
        }
    }
    commit(stage, source, sink, &mut st, &mut opts)?;
    if let Some(f) = opts.stats.as_mut() {
        let last = st.log.last_error.as_deref();
        if let Err(e) = f.maybe_write(st.log.tool, &st.stats, &st.paths, last, true) {
            st.log.say(&format!("cannot write --stats: {e}"));
        }
    }
    if opts.progress {
        let _ = write!(io::stderr().lock(), "\r\x1b[K");
    }
    Ok(Outcome {
        stats: st.stats,
        paths: st.paths,
        stopped,
    })
}
