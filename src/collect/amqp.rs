//! The amqp collector (IntelMQ's `intelmq.bots.collectors.amqp.collector_amqp`):
//! consumes the existing queue `queue_name` on a RabbitMQ server
//! (`connection_host`, `connection_port`, `connection_vhost`, `username` and
//! `password`; guest/guest unless both are given, as pika does). Each message
//! becomes one report whose `raw` is its body; with `expect_intelmq_message`
//! the body is taken as an IntelMQ message (JSON with `__type`) and forwarded
//! as it is, without feed fields, as IntelMQ does. A body that is not one is
//! dumped with the reason.
//!
//! Messages are acknowledged only once their reports were committed
//! downstream (the source's `ack`, one `multiple` ack per batch): a run that
//! dies before leaves them in the queue, where the broker delivers them again.
//!
//! IntelMQ's bot consumes forever; imq-collect is one-shot: it ends (exit 0)
//! once no message has arrived for `idle_timeout` seconds (1), which is when
//! the queue is empty. With `--every` each round drains the queue; with
//! `follow: true` it consumes until SIGTERM/SIGINT, as IntelMQ's bot does.
//!
//! Beyond IntelMQ: the queue is not declared (IntelMQ does not either, and a
//! declare with other arguments than the queue's own would fail), a missing
//! queue is an error that names it; a lost connection is opened again
//! (`connection_attempts` times, 3; without end with `follow`), and what was
//! delivered and not acknowledged is delivered again (at-least-once); a body
//! over `max_message_size` (64 MiB) is dumped, not held. Not supported: TLS
//! (`use_ssl: true` is refused), `connection_heartbeat` (the connection asks
//! the broker for 60 s heartbeats).

use super::{Ctx, FeedMeta, Template};
use crate::harmonization::MsgType;
use crate::message::Message;
use crate::net::amqp::{Conn, Event, Opts, Wait};
use crate::params::{self, Params};
use crate::pipeline::{eprintln_safe, signal};
use crate::transport::{mask, Next, Pos, Source};
use anyhow::{bail, Context, Result};
use std::io;
use std::time::{Duration, Instant};

/// Unacknowledged deliveries the broker may have out to us: two batches of the
/// loop, so that it keeps delivering while a batch is committed.
const PREFETCH: u16 = 2 * crate::pipeline::BATCH as u16;
/// The source counts as idle (the loop commits) when nothing arrives within this.
const IDLE_GRACE: Duration = Duration::from_millis(10);
/// How long one wait for a delivery lasts before the stop flag, the heartbeat
/// and the idle timeout are looked at.
const SLICE: Duration = Duration::from_millis(200);

pub fn build(p: &Params, _args: &[String], ctx: &Ctx) -> Result<Box<dyn Source>> {
    let meta = FeedMeta::from_params(p)?;
    if params::boolean(p, "use_ssl", false)? {
        bail!("amqp collector: use_ssl (AMQP over TLS) is not supported; use a trusted network or a TLS tunnel");
    }
    let queue = params::required(p, "queue_name")?;
    if queue.is_empty() {
        bail!("parameter queue_name is required");
    }
    if queue.len() > 255 {
        bail!("parameter queue_name: an AMQP queue name has at most 255 bytes");
    }
    let host = params::string_or(p, "connection_host", "127.0.0.1")?;
    let port = params::integer(p, "connection_port", 5672)?;
    let port = u16::try_from(port)
        .ok()
        .context("parameter connection_port: expected 0-65535")?;
    let vhost = params::string(p, "connection_vhost")?
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "/".into());
    let user = params::string(p, "username")?.filter(|v| !v.is_empty());
    let pass = params::string(p, "password")?.filter(|v| !v.is_empty());
    // pika's default credentials unless both are given (IntelMQ's rule).
    let (user, pass) = match (user, pass) {
        (Some(u), Some(pw)) => (u, pw),
        _ => ("guest".to_string(), "guest".to_string()),
    };
    let attempts = params::integer(p, "connection_attempts", 3)?.max(1) as u32;
    let intelmq = params::boolean(p, "expect_intelmq_message", false)?;
    let follow = params::boolean(p, "follow", false)?;
    let idle = params::number(p, "idle_timeout", 1.0)?;
    if !(idle > 0.0 && idle.is_finite()) {
        bail!("parameter idle_timeout: must be a positive number of seconds");
    }
    let max = params::integer(p, "max_message_size", 64 << 20)?;
    let max = usize::try_from(max)
        .ok()
        .filter(|n| *n > 0)
        .context("parameter max_message_size: expected a positive number of bytes")?;
    let shown = format!("amqp://{user}@{host}:{port}/{vhost}/{queue}");
    let opts = Opts {
        host,
        port,
        user,
        pass,
        vhost,
        name: format!("imq-collect {}", std::process::id()),
        connect_timeout: Duration::from_secs(5),
    };
    signal::install()?;
    let mut c = AmqpCollector {
        opts,
        queue,
        shown,
        meta,
        intelmq,
        follow,
        idle: Duration::from_secs_f64(idle),
        attempts,
        max,
        quiet: ctx.quiet,
        conn: None,
        gen: 0,
        last: None,
        body: Vec::new(),
        line: 0,
        ended: false,
    };
    // A wrong host, login or queue should fail at once, not look like an empty
    // queue.
    c.connect(attempts)
        .map_err(|e| anyhow::anyhow!("{}: cannot consume: {}", c.shown, mask(&e.to_string())))?;
    Ok(Box::new(c))
}

pub struct AmqpCollector {
    opts: Opts,
    queue: String,
    /// Where we consume, without the password, for messages.
    shown: String,
    meta: FeedMeta,
    intelmq: bool,
    follow: bool,
    idle: Duration,
    attempts: u32,
    max: usize,
    quiet: bool,
    conn: Option<Conn>,
    /// Counts connections, so that an ack never goes to a channel other than the
    /// one its delivery tag belongs to.
    gen: u64,
    /// The last delivery handed out and not yet acknowledged: (gen, tag).
    last: Option<(u64, u64)>,
    body: Vec<u8>,
    line: u64,
    /// The end of input was reported: close after the last ack.
    ended: bool,
}

impl AmqpCollector {
    /// Open a connection and start consuming, trying `attempts` times with a
    /// growing pause (without end when `attempts` is 0); a stop request gives up.
    fn connect(&mut self, attempts: u32) -> io::Result<()> {
        let mut pause = Duration::from_millis(200);
        let mut tried = 0;
        loop {
            tried += 1;
            let r = Conn::open(&self.opts).and_then(|mut c| {
                c.qos(PREFETCH)?;
                c.consume(&self.queue)?;
                Ok(c)
            });
            match r {
                Ok(c) => {
                    self.conn = Some(c);
                    self.gen += 1;
                    return Ok(());
                }
                Err(e) if attempts != 0 && tried >= attempts => return Err(e),
                Err(e) => {
                    if !self.quiet {
                        eprintln_safe(&format!(
                            "imq-collect: amqp: {}: {}; trying again",
                            self.shown,
                            mask(&e.to_string())
                        ));
                    }
                }
            }
            let until = Instant::now() + pause;
            pause = (pause * 2).min(Duration::from_secs(5));
            while Instant::now() < until {
                if signal::stop_requested() {
                    return Err(io::Error::other("stopped while connecting"));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    fn close(&mut self) {
        if let Some(c) = self.conn.take() {
            let _ = c.close();
        }
    }

    /// The delivered body into `buf`: a report, or the IntelMQ message itself.
    fn make(&self, buf: &mut Vec<u8>) -> Result<(), String> {
        if !self.intelmq {
            let t = Template::new(&self.meta, &[]).map_err(|e| format!("{e:#}"))?;
            t.write(&self.body, buf);
            return Ok(());
        }
        // IntelMQ's MessageFactory.unserialize: the class comes from __type,
        // which must be there.
        let ty = match serde_json::from_slice::<serde_json::Value>(&self.body) {
            Ok(serde_json::Value::Object(m)) => match m.get("__type").and_then(|t| t.as_str()) {
                Some("Event") => MsgType::Event,
                Some("Report") => MsgType::Report,
                Some(t) => return Err(format!("not an IntelMQ message: __type {t:?}")),
                None => return Err("not an IntelMQ message: no __type".into()),
            },
            Ok(_) => return Err("not an IntelMQ message: not a JSON object".into()),
            Err(e) => return Err(format!("not an IntelMQ message: {e}")),
        };
        let msg = Message::from_json(&self.body, ty)
            .map_err(|e| format!("not a valid IntelMQ message: {e}"))?;
        buf.clear();
        msg.write_json(buf);
        Ok(())
    }
}

impl Source for AmqpCollector {
    fn next(&mut self, buf: &mut Vec<u8>) -> io::Result<Next> {
        let mut quiet_since = Instant::now();
        loop {
            if signal::stop_requested() || self.ended {
                self.ended = true;
                return Ok(Next::End);
            }
            let Some(conn) = self.conn.as_mut() else {
                let attempts = if self.follow { 0 } else { self.attempts };
                if let Err(e) = self.connect(attempts) {
                    if signal::stop_requested() {
                        self.ended = true;
                        return Ok(Next::End);
                    }
                    return Err(io::Error::other(format!(
                        "{}: cannot consume: {}",
                        self.shown,
                        mask(&e.to_string())
                    )));
                }
                quiet_since = Instant::now();
                continue;
            };
            let r = match conn.event(
                Wait::Until(Instant::now() + SLICE),
                &mut self.body,
                self.max,
            ) {
                Ok(Event::Deliver { tag, truncated, .. }) => {
                    self.last = Some((self.gen, tag));
                    self.line += 1;
                    if truncated {
                        buf.clear();
                        buf.extend_from_slice(&self.body);
                        return Ok(Next::Reject(format!(
                            "message longer than max_message_size ({} bytes)",
                            self.max
                        )));
                    }
                    return Ok(match self.make(buf) {
                        Ok(()) => Next::Line,
                        Err(why) => {
                            buf.clear();
                            buf.extend_from_slice(&self.body);
                            Next::Reject(why)
                        }
                    });
                }
                Ok(Event::Nothing) => {
                    if !self.follow && quiet_since.elapsed() >= self.idle {
                        // Nothing for idle_timeout: the queue is drained.
                        self.ended = true;
                        return Ok(Next::End);
                    }
                    conn.tick()
                }
                // Nothing is published on this connection: nothing else to expect.
                Ok(_) => Ok(()),
                Err(e) => Err(e),
            };
            if let Err(e) = r {
                if !self.quiet {
                    eprintln_safe(&format!(
                        "imq-collect: amqp: {}: connection lost ({}); reconnecting",
                        self.shown,
                        mask(&e.to_string())
                    ));
                }
                // Its deliveries not acknowledged are the broker's again.
                self.conn = None;
            }
        }
    }

    fn pos(&self) -> Pos<'_> {
        Pos {
            input: &self.shown,
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
            // Tags of an older connection are void: the broker delivers those
            // messages again by itself.
            if gen == self.gen {
                conn.ack(tag, true);
                if let Err(e) = conn.flush() {
                    if !self.quiet {
                        eprintln_safe(&format!(
                            "imq-collect: amqp: {}: acknowledging: {}",
                            self.shown,
                            mask(&e.to_string())
                        ));
                    }
                    self.conn = None;
                }
            }
        }
        if self.ended {
            // A clean close, so that the broker takes the last ack before it
            // requeues what it delivered and we did not hand out.
            self.close();
        }
        Ok(())
    }
}

impl Drop for AmqpCollector {
    fn drop(&mut self) {
        self.close();
    }
}
