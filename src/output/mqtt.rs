//! `mqtt` (beyond IntelMQ): each event published to an MQTT broker (3.1.1, e.g.
//! Mosquitto) as IntelMQ's `export_event` text: `to_json` without `raw`
//! (sorted keys), or one field with `single_key`; `keep_raw_field`,
//! `hierarchical_output` and `with_type` as in IntelMQ's outputs. The topic is
//! `topic`, or with `format_topic: true` a Python format template over the
//! event (`intelmq/{ev[classification.type]}`; a missing field is `None`).
//!
//! A batch is published pipelined and, at QoS 1 (the default), counts as
//! delivered only once the broker acknowledged every message (PUBACK); a lost
//! or refused connection is retried on a new one and the unacknowledged
//! messages sent again (at least once: a message may arrive twice). At QoS 0
//! written to the socket is all the broker tells. A login the broker refuses
//! stops the run. `client_id` defaults to `imq-output-PID`; `timeout` is
//! for connecting and each read and write; `retry_seconds` (60) bounds the
//! retries of a batch.

use super::export_fast::Export;
use super::retry::{Attempt, Retry};
use super::smtp::format_ev;
use super::{Output, OutputOpts};
use crate::message::Message;
use crate::net::mqtt::{Conn, ConnectError, Opts, MAX_PACKET};
use crate::params::{self, Params};
use crate::pipeline::Fail;
use std::collections::HashMap;
use std::time::Duration;

/// Messages in flight at once: sent, then their PUBACKs awaited.
const WINDOW: usize = 1000;

pub struct Mqtt {
    opts: Opts,
    topic: String,
    format_topic: bool,
    qos: u8,
    retain: bool,
    export: Export,
    conn: Option<Conn>,
    retry: Retry,
    /// Payloads of the batch, end to end, and where each ends.
    buf: Vec<u8>,
    ends: Vec<usize>,
    /// Each event's topic, when they are formatted.
    topics: Vec<String>,
    batch_size: usize,
}

pub fn build(o: &OutputOpts) -> anyhow::Result<Box<dyn Output>> {
    let p: &Params = &o.params;
    let host = params::string_or(p, "host", "127.0.0.1")?;
    let port = params::integer(p, "port", 1883)?;
    let topic = params::string_or(p, "topic", "intelmq/events")?;
    let format_topic = params::boolean(p, "format_topic", false)?;
    if format_topic {
        // A broken template fails at start, not once per event.
        format_ev(&topic, &Message::event())
            .map_err(|e| anyhow::anyhow!("parameter topic: {e}"))?;
    } else if let Err(e) = check_topic(&topic) {
        anyhow::bail!("parameter topic: {e}");
    }
    let qos = params::integer(p, "qos", 1)?;
    if !(0..=1).contains(&qos) {
        anyhow::bail!("parameter qos: 0 or 1, got {qos} (QoS 2 is not supported)");
    }
    let retain = params::boolean(p, "retain", false)?;
    let client_id = params::string(p, "client_id")?
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| format!("imq-output-{}", std::process::id()));
    let username = params::string(p, "username")?.filter(|s| !s.is_empty());
    let password = params::string(p, "password")?.filter(|s| !s.is_empty());
    if password.is_some() && username.is_none() {
        anyhow::bail!("parameter password needs a username (MQTT 3.1.1)");
    }
    let keepalive = params::integer(p, "keepalive", 60)?;
    let timeout = params::number(p, "timeout", 30.0)?;
    if !(timeout > 0.0 && timeout.is_finite()) {
        anyhow::bail!("parameter timeout: a positive number of seconds, got {timeout}");
    }
    let opts = Opts {
        host,
        port: u16::try_from(port).map_err(|_| anyhow::anyhow!("parameter port: {port}"))?,
        client_id,
        username,
        password,
        keepalive: u16::try_from(keepalive).map_err(|_| {
            anyhow::anyhow!("parameter keepalive: 0-65535 seconds, got {keepalive}")
        })?,
        timeout: Duration::from_secs_f64(timeout),
    };
    let mut m = Mqtt {
        opts,
        topic,
        format_topic,
        qos: qos as u8,
        retain,
        export: Export::from_params(p)?,
        conn: None,
        retry: Retry::from_params(p)?,
        buf: Vec::new(),
        ends: Vec::new(),
        topics: Vec::new(),
        batch_size: params::integer(p, "batch_size", 1000)?.max(1) as usize,
    };
    // Connect at start: a wrong address or login shows at once.
    m.connect().map_err(|e| match e {
        ConnectError::Transient(s) | ConnectError::Refused(s) => anyhow::anyhow!(s),
    })?;
    Ok(Box::new(m))
}

/// A topic the broker takes for PUBLISH: not empty, no wildcards, no NUL (a
/// broker drops the connection of a client publishing to such a topic).
fn check_topic(t: &str) -> Result<(), String> {
    if t.is_empty() {
        return Err("empty MQTT topic".into());
    }
    if t.contains(['+', '#', '\0']) {
        return Err(format!(
            "MQTT topic {t:?} contains a wildcard (+, #) or NUL"
        ));
    }
    if t.len() > u16::MAX as usize {
        return Err("MQTT topic longer than 65535 bytes".into());
    }
    Ok(())
}

impl Mqtt {
    fn connect(&mut self) -> Result<&mut Conn, ConnectError> {
        if self.conn.as_ref().is_some_and(Conn::stale) {
            // Idle past the keepalive: the broker has dropped it or will.
            if let Some(c) = self.conn.take() {
                c.disconnect();
            }
        }
        if self.conn.is_none() {
            self.conn = Some(Conn::open(&self.opts)?);
        }
        Ok(self.conn.as_mut().expect("connected"))
    }

    fn payload(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.buf[start..self.ends[i]]
    }

    /// Publish the messages `todo` (indices into the batch); returns those not
    /// acknowledged, with the error that broke the connection if one did.
    fn send(&mut self, todo: &[usize], dup: bool) -> anyhow::Result<(Vec<usize>, Option<String>)> {
        if let Err(e) = self.connect() {
            return match e {
                ConnectError::Transient(s) => Ok((todo.to_vec(), Some(s))),
                ConnectError::Refused(s) => Err(anyhow::anyhow!(s)),
            };
        }
        let mut conn = self.conn.take().expect("connected");
        let mut acked = vec![false; self.ends.len()];
        let mut err = None;
        let mut inflight: HashMap<u16, usize> = HashMap::with_capacity(WINDOW);
        'windows: for window in todo.chunks(WINDOW) {
            inflight.clear();
            for &i in window {
                let topic = if self.format_topic {
                    &self.topics[i]
                } else {
                    &self.topic
                };
                let id = if self.qos > 0 { conn.next_id() } else { 0 };
                if let Err(e) = conn.publish(topic, self.payload(i), self.qos, id, self.retain, dup)
                {
                    err = Some(format!("publishing: {e}"));
                    break 'windows;
                }
                inflight.insert(id, i);
            }
            if let Err(e) = conn.flush() {
                err = Some(format!("publishing: {e}"));
                break;
            }
            if self.qos == 0 {
                for &i in window {
                    acked[i] = true;
                }
                continue;
            }
            while !inflight.is_empty() {
                match conn.read_puback() {
                    // An id not in flight (a late ack of an earlier window) is
                    // harmless: ids are not reused within a window.
                    Ok(id) => {
                        if let Some(i) = inflight.remove(&id) {
                            acked[i] = true;
                        }
                    }
                    Err(e) => {
                        err = Some(format!("waiting for PUBACK: {e}"));
                        break 'windows;
                    }
                }
            }
        }
        if err.is_none() {
            self.conn = Some(conn);
        }
        let rest = todo.iter().copied().filter(|&i| !acked[i]).collect();
        Ok((rest, err))
    }
}

impl Output for Mqtt {
    fn write(&mut self, ev: &Message, _original: &[u8]) -> Result<(), Fail> {
        let topic = if self.format_topic {
            let t = format_ev(&self.topic, ev).map_err(Fail::Reject)?;
            check_topic(&t).map_err(Fail::Reject)?;
            Some(t)
        } else {
            None
        };
        let start = self.buf.len();
        if let Err(e) = self.export.write(ev, &mut self.buf) {
            self.buf.truncate(start);
            return Err(e);
        }
        let tlen = topic.as_ref().map_or(self.topic.len(), String::len);
        if self.buf.len() - start + tlen + 8 > MAX_PACKET {
            self.buf.truncate(start);
            return Err(Fail::Reject("event too large for an MQTT message".into()));
        }
        self.ends.push(self.buf.len());
        if let Some(t) = topic {
            self.topics.push(t);
        }
        Ok(())
    }

    fn commit(&mut self) -> anyhow::Result<Vec<(usize, String)>> {
        if self.ends.is_empty() {
            return Ok(Vec::new());
        }
        let mut todo: Vec<usize> = (0..self.ends.len()).collect();
        let what = format!(
            "mqtt to {}:{}: {} events",
            self.opts.host,
            self.opts.port,
            todo.len()
        );
        let mut dup = false;
        let retry = self.retry.clone();
        retry.run(&what, || {
            let (rest, err) = self.send(&todo, dup)?;
            // Sent again from now on: the broker may have seen them.
            dup = self.qos > 0;
            let n = rest.len();
            todo = rest;
            Ok(match err {
                Some(e) => Attempt::Transient(format!("{e} ({n} not acknowledged)")),
                None => Attempt::Done(()),
            })
        })?;
        self.buf.clear();
        self.ends.clear();
        self.topics.clear();
        Ok(Vec::new())
    }

    fn batch_full(&self) -> bool {
        self.ends.len() >= self.batch_size || self.buf.len() >= 16 << 20
    }
}

impl Drop for Mqtt {
    fn drop(&mut self) {
        if let Some(c) = self.conn.take() {
            c.disconnect();
        }
    }
}
