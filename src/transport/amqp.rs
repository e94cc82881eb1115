//! IntelMQ's AMQP pipeline (RabbitMQ): `amqp://USER:PASS@HOST[:PORT]/VHOST/QUEUE`,
//! `%2f` for the vhost `/` (`amqp://guest:guest@127.0.0.1/%2f/taxonomy-expert-queue`).
//!
//! As IntelMQ's `Amqp` pipeline (`intelmq/lib/pipeline.py`): queues are durable
//! and declared with IntelMQ's arguments (`x-queue-mode: lazy`), so an IntelMQ
//! bot and an imq tool can declare the same queue; messages go through the
//! default exchange with the queue name as routing key, persistent
//! (`delivery_mode 2`) and `mandatory`, with publisher confirms on; input is
//! consumed with manual acknowledgements. The message bytes are the same as on
//! the Redis pipeline (IntelMQ's wire JSON with `"__type"`).
//!
//! Where imq differs, for speed: IntelMQ waits for the confirm of every message
//! and acks every input message on its own; imq publishes a batch, waits once for
//! its confirms ([`Sink::commit`]) and then acks the whole input batch with one
//! `multiple` ack of its last delivery tag ([`Source::ack`]), with a prefetch
//! window ([`PREFETCH`]) larger than a batch so that the broker keeps delivering
//! while a batch is committed.
//!
//! Failures: a lost connection is re-opened with backoff (0.1 s doubling to 5 s,
//! until it works or a stop is requested). The broker redelivers what it had
//! sent the source and not seen acknowledged: the batch in flight, and what was
//! still in the socket when the broker closed it (up to [`PREFETCH`]), is
//! processed and published anyway, so it comes out twice (at-least-once, as
//! IntelMQ).
//! The sink keeps what it published and has no confirm for yet and publishes it
//! again on the new connection (again at-least-once). A message the broker
//! refuses (a nack, or returned as unroutable because its queue was deleted)
//! stops the run (exit 2) before the input is acknowledged.
//!
//! SIGTERM/SIGINT: the source installs [`signal`] and waits for deliveries in
//! slices of a second; on a stop request it reports the end of input, so the
//! loop commits and acknowledges the batch in flight and the tool exits 0. The
//! connection is then closed cleanly so the broker processes the last ack before
//! it requeues what was prefetched but not handed out.
//!
//! Not supported: `amqps://` (TLS), IntelMQ's `*_pipeline_amqp_exchange`.

use super::{mask, Next, Pos, Sink, Source};
use crate::net::amqp::{Conn, Event, Opts, Wait};
use crate::pipeline::{eprintln_safe, signal};
use anyhow::{bail, Context};
use std::collections::VecDeque;
use std::io;
use std::time::{Duration, Instant};

/// Unacknowledged deliveries the broker may have out to one consumer: two
/// batches of the loop, so it never waits for our ack to send more.
pub const PREFETCH: u16 = 2 * crate::pipeline::BATCH as u16;
/// The sink waits for its confirms (and forgets what they cover) once this much
/// is unconfirmed, so that a stage emitting many messages per input (a parser)
/// holds a bounded amount.
const UNCONFIRMED_MAX: usize = 8 << 20;
/// The source counts as idle (the loop commits) when nothing arrives within
/// this: the broker delivers in bursts, and every commit costs a round trip for
/// the publisher confirms, so a batch should not end at every short gap.
const IDLE_GRACE: Duration = Duration::from_millis(10);
/// How long a wait for input lasts before looking at the stop flag and the
/// heartbeat.
const SLICE: Duration = Duration::from_secs(1);

/// A parsed `amqp://` URI.
#[derive(Debug, Clone)]
pub struct Target {
    pub opts: Opts,
    pub queue: String,
    /// The URI without its password, for messages.
    pub shown: String,
}

fn pct_decode(s: &str, what: &str, uri: &str) -> anyhow::Result<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            let Some(v) = hex else {
                bail!("bad %-escape in the {what} of {}", mask(uri));
            };
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).with_context(|| format!("the {what} of {} is not UTF-8", mask(uri)))
}

/// Parse `amqp://USER:PASS@HOST[:PORT]/VHOST/QUEUE`. Without credentials,
/// `guest:guest` (pika's default, which IntelMQ uses when none are set).
pub fn parse(uri: &str) -> anyhow::Result<Target> {
    let shown = mask(uri);
    let lower = uri.get(..8).unwrap_or(uri).to_ascii_lowercase();
    let rest = if lower.starts_with("amqp://") {
        &uri[7..]
    } else if lower.starts_with("amqps://") {
        bail!("{shown}: amqps:// (TLS) is not supported yet; use amqp:// on a trusted network");
    } else {
        bail!("{shown}: not an amqp:// URI");
    };
    let usage = || {
        anyhow::anyhow!(
            "{shown}: expected amqp://USER:PASS@HOST[:PORT]/VHOST/QUEUE (%2f for the vhost /)"
        )
    };
    let (authority, path) = rest.split_once('/').ok_or_else(usage)?;
    let (vhost, queue) = path.split_once('/').ok_or_else(usage)?;
    if vhost.is_empty() || queue.is_empty() || queue.contains('/') {
        return Err(usage());
    }
    let (userinfo, hostport) = match authority.rfind('@') {
        Some(at) => (Some(&authority[..at]), &authority[at + 1..]),
        None => (None, authority),
    };
    let (user, pass) = match userinfo {
        None => ("guest".to_string(), "guest".to_string()),
        Some(u) => {
            let (a, b) = u.split_once(':').unwrap_or((u, ""));
            (pct_decode(a, "user", uri)?, pct_decode(b, "password", uri)?)
        }
    };
    let (host, port) = if let Some(h) = hostport.strip_prefix('[') {
        let (h, p) = h.split_once(']').ok_or_else(usage)?;
        (h, p.strip_prefix(':'))
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    if host.is_empty() {
        return Err(usage());
    }
    let port = match port {
        None | Some("") => 5672,
        Some(p) => p
            .parse()
            .map_err(|_| anyhow::anyhow!("{shown}: bad port {p:?}"))?,
    };
    let queue = pct_decode(queue, "queue", uri)?;
    if queue.len() > 255 {
        bail!("{shown}: an AMQP queue name has at most 255 bytes");
    }
    Ok(Target {
        opts: Opts {
            host: host.to_string(),
            port,
            user,
            pass,
            vhost: pct_decode(vhost, "vhost", uri)?,
            name: format!("imq {}", std::process::id()),
            connect_timeout: Duration::from_secs(5),
        },
        queue,
        shown,
    })
}

/// Reconnect delays: 0.1 s doubling to 5 s.
struct Backoff(Duration);

impl Backoff {
    fn new() -> Backoff {
        Backoff(Duration::from_millis(100))
    }
    /// Sleep the current delay in short slices; false if a stop was requested.
    fn sleep(&mut self) -> bool {
        let until = Instant::now() + self.0;
        self.0 = (self.0 * 2).min(Duration::from_secs(5));
        while Instant::now() < until {
            if signal::stop_requested() {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        !signal::stop_requested()
    }
}

fn lost(t: &Target, side: &str, e: &io::Error) {
    eprintln_safe(&format!(
        "{}: {side} connection lost ({}); reconnecting",
        t.shown,
        mask(&e.to_string())
    ));
}

/// Messages from one queue.
pub struct AmqpSource {
    t: Target,
    conn: Option<Conn>,
    /// Counts connections, so that an ack never goes to a channel other than the
    /// one its delivery tag belongs to.
    gen: u64,
    /// The last delivery handed out and not yet acknowledged: (gen, tag).
    last: Option<(u64, u64)>,
    line: u64,
    max: usize,
    /// A stop was requested and reported as the end of input.
    ended: bool,
}

impl AmqpSource {
    /// Connect (failing at once if the broker cannot be reached: a wrong URI
    /// should not look like a slow start), declare the queue and start consuming.
    pub fn open(uri: &str, max_line: usize) -> anyhow::Result<AmqpSource> {
        let t = parse(uri)?;
        signal::install().context("cannot install the SIGTERM handler")?;
        let conn = Self::connect(&t).map_err(|e| {
            anyhow::anyhow!("{}: cannot consume: {}", t.shown, mask(&e.to_string()))
        })?;
        Ok(AmqpSource {
            t,
            conn: Some(conn),
            gen: 1,
            last: None,
            line: 0,
            max: max_line,
            ended: false,
        })
    }

    fn connect(t: &Target) -> io::Result<Conn> {
        let mut c = Conn::open(&t.opts)?;
        c.declare_queue(&t.queue)?;
        c.qos(PREFETCH)?;
        c.consume(&t.queue)?;
        Ok(c)
    }

    /// Re-open the connection; false if a stop was requested meanwhile.
    fn reconnect(&mut self) -> bool {
        let mut b = Backoff::new();
        loop {
            if !b.sleep() {
                return false;
            }
            match Self::connect(&self.t) {
                Ok(c) => {
                    self.conn = Some(c);
                    self.gen += 1;
                    eprintln_safe(&format!("{}: source reconnected", self.t.shown));
                    return true;
                }
                Err(e) => eprintln_safe(&format!(
                    "{}: cannot reconnect ({}); retrying",
                    self.t.shown,
                    mask(&e.to_string())
                )),
            }
        }
    }

    fn close(&mut self) {
        if let Some(c) = self.conn.take() {
            let _ = c.close();
        }
    }
}

impl Source for AmqpSource {
    fn next(&mut self, buf: &mut Vec<u8>) -> io::Result<Next> {
        loop {
            if signal::stop_requested() {
                self.ended = true;
                return Ok(Next::End);
            }
            let Some(conn) = self.conn.as_mut() else {
                if !self.reconnect() {
                    self.ended = true;
                    return Ok(Next::End);
                }
                continue;
            };
            let r = match conn.event(Wait::Until(Instant::now() + SLICE), buf, self.max) {
                Ok(Event::Deliver { tag, truncated, .. }) => {
                    self.last = Some((self.gen, tag));
                    self.line += 1;
                    return Ok(if truncated {
                        Next::Reject(format!(
                            "message longer than --max-line-bytes ({} bytes)",
                            self.max
                        ))
                    } else {
                        Next::Line
                    });
                }
                Ok(Event::Nothing) => conn.tick(),
                // No publishing on this connection: nothing else to expect.
                Ok(_) => Ok(()),
                Err(e) => Err(e),
            };
            if let Err(e) = r {
                lost(&self.t, "source", &e);
                self.conn = None;
            }
        }
    }

    fn pos(&self) -> Pos<'_> {
        Pos {
            input: &self.t.shown,
            line: self.line,
        }
    }

    fn idle(&self) -> bool {
        self.conn
            .as_ref()
            .is_none_or(|c| !c.readable_within(IDLE_GRACE))
    }

    fn ack(&mut self) -> io::Result<()> {
        if let (Some((gen, tag)), Some(conn)) = (self.last.take(), self.conn.as_mut()) {
            // Tags of an older connection are void: the broker redelivers those
            // messages itself.
            if gen == self.gen {
                conn.ack(tag, true);
                if let Err(e) = conn.flush() {
                    lost(&self.t, "source", &e);
                    self.conn = None;
                }
            }
        }
        if self.ended {
            self.close();
        }
        Ok(())
    }
}

impl Drop for AmqpSource {
    fn drop(&mut self) {
        self.close();
    }
}

/// Messages to one queue.
pub struct AmqpSink {
    t: Target,
    conn: Option<Conn>,
    /// Messages published and not confirmed yet, kept to publish them again on a
    /// new connection: their bytes one after the other, and where each ends.
    held: Vec<u8>,
    ends: Vec<usize>,
    /// How many of `ends` (from the front) are confirmed already.
    done: usize,
    /// Publish sequence numbers on the current channel: `base` is the last one
    /// before `held`; `confirmed[i]` is the confirm state of `base + 1 + i`.
    base: u64,
    confirmed: VecDeque<bool>,
    refused: Option<String>,
    scratch: Vec<u8>,
}

impl AmqpSink {
    pub fn open(uri: &str) -> anyhow::Result<AmqpSink> {
        let t = parse(uri)?;
        let conn = Self::connect(&t).map_err(|e| {
            anyhow::anyhow!("{}: cannot publish: {}", t.shown, mask(&e.to_string()))
        })?;
        Ok(AmqpSink {
            t,
            conn: Some(conn),
            held: Vec::new(),
            ends: Vec::new(),
            done: 0,
            base: 0,
            confirmed: VecDeque::new(),
            refused: None,
            scratch: Vec::new(),
        })
    }

    fn connect(t: &Target) -> io::Result<Conn> {
        let mut c = Conn::open(&t.opts)?;
        c.confirm_select()?;
        c.declare_queue(&t.queue)?;
        Ok(c)
    }

    /// Mark confirms; `tag` is a publish sequence number.
    fn mark(&mut self, tag: u64, multiple: bool) {
        let Some(i) = tag.checked_sub(self.base + 1) else {
            return;
        };
        let i = i as usize;
        if multiple {
            for c in self.confirmed.iter_mut().take(i + 1) {
                *c = true;
            }
        } else if let Some(c) = self.confirmed.get_mut(i) {
            *c = true;
        }
    }

    /// Re-open the connection and publish everything unconfirmed again.
    fn reconnect(&mut self) -> io::Result<()> {
        let mut b = Backoff::new();
        loop {
            if !b.sleep() {
                return Err(io::Error::other(format!(
                    "{}: stopped while the broker was unreachable; the batch is not acknowledged",
                    self.t.shown
                )));
            }
            let r = Self::connect(&self.t).and_then(|mut c| {
                let mut start = match self.done {
                    0 => 0,
                    d => self.ends[d - 1],
                };
                for &end in &self.ends[self.done..] {
                    c.publish(&self.t.queue, &self.held[start..end])?;
                    start = end;
                }
                c.flush()?;
                Ok(c)
            });
            match r {
                Ok(c) => {
                    self.conn = Some(c);
                    self.base = 0;
                    self.confirmed = self.ends[self.done..].iter().map(|_| false).collect();
                    eprintln_safe(&format!("{}: sink reconnected", self.t.shown));
                    return Ok(());
                }
                Err(e) => eprintln_safe(&format!(
                    "{}: cannot reconnect ({}); retrying",
                    self.t.shown,
                    mask(&e.to_string())
                )),
            }
        }
    }

    /// Wait until the broker confirmed everything published; then forget it.
    fn sync(&mut self) -> io::Result<()> {
        loop {
            if self.conn.is_none() {
                self.reconnect()?;
            }
            match self.wait_confirms() {
                Ok(()) => break,
                Err(e) if self.refused.is_some() => return Err(e),
                Err(e) => {
                    lost(&self.t, "sink", &e);
                    self.conn = None;
                }
            }
        }
        self.held.clear();
        self.ends.clear();
        self.done = 0;
        Ok(())
    }

    fn wait_confirms(&mut self) -> io::Result<()> {
        let conn = self.conn.as_mut().expect("connected");
        conn.flush()?;
        loop {
            while self.confirmed.front() == Some(&true) {
                self.confirmed.pop_front();
                self.base += 1;
                self.done += 1;
            }
            if self.confirmed.is_empty() {
                break;
            }
            let conn = self.conn.as_mut().expect("connected");
            match conn.event(Wait::Until(Instant::now() + SLICE), &mut self.scratch, 0)? {
                Event::Ack { tag, multiple } => self.mark(tag, multiple),
                Event::Nack { .. } => {
                    self.refused = Some("the broker refused a message (nack)".into());
                }
                Event::Return { code, text } => {
                    self.refused = Some(format!(
                        "the broker returned a message as unroutable: {code} {text}"
                    ))
                }
                Event::Nothing => conn.tick()?,
                Event::Deliver { .. } => {}
            }
        }
        match &self.refused {
            Some(r) => Err(io::Error::other(format!("{}: {r}", self.t.shown))),
            None => Ok(()),
        }
    }
}

impl Sink for AmqpSink {
    fn send(&mut self, _path: &str, msg: &[u8]) -> io::Result<()> {
        self.held.extend_from_slice(msg);
        self.ends.push(self.held.len());
        self.confirmed.push_back(false);
        if let Some(conn) = self.conn.as_mut() {
            if let Err(e) = conn.publish(&self.t.queue, msg) {
                // Published again after reconnecting, at the commit.
                lost(&self.t, "sink", &e);
                self.conn = None;
            }
        }
        if self.held.len() >= UNCONFIRMED_MAX {
            self.sync()?;
        }
        Ok(())
    }

    fn commit(&mut self) -> io::Result<()> {
        if self.ends.is_empty() && self.conn.is_some() {
            return Ok(());
        }
        self.sync()
    }
}

impl Drop for AmqpSink {
    fn drop(&mut self) {
        if let Some(c) = self.conn.take() {
            let _ = c.close();
        }
    }
}

/// What waits in a queue (RabbitMQ counts the messages ready for delivery; those
/// delivered and not yet acknowledged it does not tell).
pub fn depth(uri: &str) -> anyhow::Result<super::QueueDepth> {
    let t = parse(uri)?;
    let mut c = Conn::open(&t.opts).with_context(|| t.shown.clone())?;
    let waiting = match c.queue_counts(&t.queue) {
        Ok((n, _)) => n as u64,
        // A passive declare of a queue nobody declared yet: nothing waits.
        Err(e) if e.to_string().contains("404") || e.to_string().contains("NOT_FOUND") => 0,
        Err(e) => return Err(anyhow::anyhow!("{}: {e}", t.shown)),
    };
    let _ = c.close();
    Ok(super::QueueDepth {
        waiting,
        in_flight: None,
    })
}

/// Remove what waits in a queue (declaring it as IntelMQ does if it is new).
pub fn clear(uri: &str) -> anyhow::Result<u64> {
    let t = parse(uri)?;
    let mut c = Conn::open(&t.opts).with_context(|| t.shown.clone())?;
    c.declare_queue(&t.queue).with_context(|| t.shown.clone())?;
    let n = c.purge_queue(&t.queue).with_context(|| t.shown.clone())?;
    let _ = c.close();
    Ok(n as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris() {
        let t = parse("amqp://u%40x:p%3Aw@rabbit:5673/%2f/taxonomy-expert-queue").unwrap();
        assert_eq!(t.opts.user, "u@x");
        assert_eq!(t.opts.pass, "p:w");
        assert_eq!(t.opts.host, "rabbit");
        assert_eq!(t.opts.port, 5673);
        assert_eq!(t.opts.vhost, "/");
        assert_eq!(t.queue, "taxonomy-expert-queue");
        assert!(!t.shown.contains("p%3Aw"), "{}", t.shown);

        let t = parse("AMQP://[::1]/intelmq/q").unwrap();
        assert_eq!((t.opts.host.as_str(), t.opts.port), ("::1", 5672));
        assert_eq!(
            (t.opts.user.as_str(), t.opts.pass.as_str()),
            ("guest", "guest")
        );
        assert_eq!(t.opts.vhost, "intelmq");

        for bad in [
            "amqp://h/q",
            "amqp://h//q",
            "amqp://h/%2f/",
            "amqp://h/%2f/a/b",
            "amqp://h:x/%2f/q",
            "amqp://h/%zz/q",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let e = parse("amqps://u:secret@h/%2f/q").unwrap_err().to_string();
        assert!(e.contains("TLS") && !e.contains("secret"), "{e}");
    }
}
