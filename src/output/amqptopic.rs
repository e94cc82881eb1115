//! `amqptopic`: IntelMQ's amqptopic output (§4.6): every event published to a
//! RabbitMQ exchange (declared when named, `topic` by default) with a fixed or
//! templated routing key (`format_routing_key`: `{ev[field]}`), persistent,
//! mandatory, with publisher confirms.
//!
//! A batch is published in one write and counts as delivered once the broker
//! confirmed every message of it. A message the broker returns as unroutable
//! (no queue bound for its routing key) goes to the dump with the broker's
//! reason, the others of the batch are delivered; IntelMQ stops the bot there
//! instead. A nack, a lost connection or a refused connection is retried with
//! backoff on a new connection, sending again only what was not confirmed.

use super::export::Export;
use super::retry::{Attempt, Retry};
use super::{Output, OutputOpts};
use crate::message::Message;
use crate::net::amqp::{Conn, Event, Opts, Publish, Wait};
use crate::params::{self, Params};
use crate::pipeline::Fail;
use std::time::{Duration, Instant};

/// What the broker said about one message of the batch.
#[derive(Clone, PartialEq)]
enum State {
    Waiting,
    Confirmed,
    Returned(String),
}

pub struct AmqpTopic {
    opts: Opts,
    exchange: String,
    exchange_type: String,
    exchange_durable: bool,
    routing_key: String,
    /// The fields a templated routing key needs (an event without one of them is
    /// refused, as IntelMQ's `event[key]` raises).
    key_fields: Option<Vec<String>>,
    content_type: String,
    delivery_mode: u8,
    confirm: bool,
    export: Export,
    conn: Option<Conn>,
    /// Messages published on the current channel (confirms are numbered so).
    seq: u64,
    retry: Retry,
    /// The batch: bodies end to end, where each ends, its routing key, its state.
    bodies: Vec<u8>,
    ends: Vec<usize>,
    keys: Vec<String>,
    states: Vec<State>,
    batch_size: usize,
    scratch: Vec<u8>,
}

pub fn build(o: &OutputOpts) -> anyhow::Result<Box<dyn Output>> {
    let p: &Params = &o.params;
    if params::boolean(p, "use_ssl", false)? {
        anyhow::bail!("amqptopic: use_ssl (amqps) is not supported yet; use a TLS tunnel or a broker on loopback");
    }
    let port = params::integer(p, "connection_port", 5672)?;
    let user = params::string(p, "username")?.filter(|s| !s.is_empty());
    let pass = params::string(p, "password")?.filter(|s| !s.is_empty());
    // pika's default credentials, used unless both are given (as IntelMQ).
    let (user, pass) = match (user, pass) {
        (Some(u), Some(p)) => (u, p),
        _ => ("guest".to_string(), "guest".to_string()),
    };
    let format_key = params::boolean(p, "format_routing_key", false)?;
    let routing_key = match &o.target {
        Some(t) => t.clone(),
        None => params::string(p, "routing_key")?.unwrap_or_default(),
    };
    if routing_key.len() > 255 {
        anyhow::bail!("amqptopic: routing_key is longer than 255 bytes");
    }
    let key_fields = if format_key {
        Some(template_fields(&routing_key)?)
    } else {
        None
    };
    let delivery_mode = params::integer(p, "delivery_mode", 2)?;
    let mut a = AmqpTopic {
        opts: Opts {
            host: params::string_or(p, "connection_host", "127.0.0.1")?,
            port: u16::try_from(port)
                .map_err(|_| anyhow::anyhow!("parameter connection_port: {port}"))?,
            user,
            pass,
            vhost: params::string(p, "connection_vhost")?
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "/".into()),
            // As the transports name theirs: the broker's list shows the process.
            name: format!("imq {}", std::process::id()),
            connect_timeout: Duration::from_secs(5),
        },
        exchange: params::string(p, "exchange_name")?.unwrap_or_default(),
        exchange_type: params::string_or(p, "exchange_type", "topic")?,
        exchange_durable: params::boolean(p, "exchange_durable", true)?,
        routing_key,
        key_fields,
        content_type: params::string_or(p, "content_type", "application/json")?,
        delivery_mode: u8::try_from(delivery_mode)
            .ok()
            .filter(|m| matches!(m, 1 | 2))
            .ok_or_else(|| {
                anyhow::anyhow!("parameter delivery_mode: 1 or 2, got {delivery_mode}")
            })?,
        confirm: params::boolean(p, "require_confirmation", true)?,
        export: Export::from_params(p, false)?,
        conn: None,
        seq: 0,
        retry: Retry::from_params(p)?,
        bodies: Vec::new(),
        ends: Vec::new(),
        keys: Vec::new(),
        states: Vec::new(),
        batch_size: params::integer(p, "batch_size", 1000)?.max(1) as usize,
        scratch: Vec::new(),
    };
    // IntelMQ connects and declares the exchange at start: a wrong password or
    // an exchange declared with another type stops the run before any event.
    a.connect()
        .map_err(|e| anyhow::anyhow!("amqptopic: {}: {e}", a.shown()))?;
    Ok(Box::new(a))
}

/// The fields of `{ev[field]}` replacement fields in a template.
fn template_fields(t: &str) -> anyhow::Result<Vec<String>> {
    // Formatting an empty event checks the template's syntax once.
    super::smtp::format_ev(t, &Message::new(crate::harmonization::MsgType::Event))
        .map_err(|e| anyhow::anyhow!("parameter routing_key: {e}"))?;
    let mut out = Vec::new();
    let mut rest = t;
    while let Some(i) = rest.find("{ev[") {
        if i > 0 && rest[..i].ends_with('{') {
            rest = &rest[i + 1..];
            continue;
        }
        let r = &rest[i + 4..];
        let Some(end) = r.find("]}") else { break };
        out.push(r[..end].to_string());
        rest = &r[end + 2..];
    }
    Ok(out)
}

impl AmqpTopic {
    fn shown(&self) -> String {
        format!(
            "amqp://{}@{}:{}/{} exchange {:?}",
            self.opts.user, self.opts.host, self.opts.port, self.opts.vhost, self.exchange
        )
    }

    fn connect(&mut self) -> std::io::Result<()> {
        if self.conn.is_none() {
            let mut c = Conn::open(&self.opts)?;
            if !self.exchange.is_empty() {
                c.declare_exchange(&self.exchange, &self.exchange_type, self.exchange_durable)?;
            }
            if self.confirm {
                c.confirm_select()?;
            }
            self.conn = Some(c);
            self.seq = 0;
        }
        Ok(())
    }

    /// Publish what is not confirmed yet and wait for the broker's answers.
    fn publish(&mut self) -> anyhow::Result<Attempt<()>> {
        if let Err(e) = self.connect() {
            self.conn = None;
            return Ok(Attempt::Transient(e.to_string()));
        }
        match self.publish_on_conn() {
            Ok(()) => Ok(Attempt::Done(())),
            Err(e) => {
                // A new channel numbers its publishes from 1 again.
                self.conn = None;
                Ok(Attempt::Transient(e.to_string()))
            }
        }
    }

    fn publish_on_conn(&mut self) -> std::io::Result<()> {
        let conn = self.conn.as_mut().expect("connected");
        // sent[k]: the batch index of publish number k + 1 on this channel.
        let mut sent = Vec::new();
        let mut start = 0;
        for (i, &end) in self.ends.iter().enumerate() {
            if self.states[i] == State::Waiting {
                let p = Publish {
                    exchange: &self.exchange,
                    routing_key: &self.keys[i],
                    content_type: Some(&self.content_type),
                    delivery_mode: self.delivery_mode,
                };
                conn.publish_to(&p, &self.bodies[start..end])?;
                sent.push(i);
            }
            start = end;
        }
        conn.flush()?;
        let base = self.seq;
        self.seq += sent.len() as u64;
        if !self.confirm {
            for s in &mut self.states {
                if *s == State::Waiting {
                    *s = State::Confirmed;
                }
            }
            return Ok(());
        }
        // Answers for publish numbers 1..=sent.len(), in order.
        let mut answered = 0usize;
        let mut nacked = false;
        let deadline = Instant::now() + Duration::from_secs(30);
        while answered < sent.len() {
            let ev = conn.event(
                Wait::Until(Instant::now() + Duration::from_millis(500)),
                &mut self.scratch,
                usize::MAX,
            )?;
            match ev {
                Event::Ack { tag, multiple } | Event::Nack { tag, multiple } => {
                    let is_ack = matches!(ev, Event::Ack { .. });
                    let upto = (tag.saturating_sub(base) as usize).min(sent.len());
                    let from = if multiple {
                        answered
                    } else {
                        upto.saturating_sub(1)
                    };
                    for &i in &sent[from.min(upto)..upto] {
                        if self.states[i] == State::Waiting && is_ack {
                            self.states[i] = State::Confirmed;
                        }
                    }
                    nacked |= !is_ack;
                    answered = answered.max(upto);
                }
                Event::Return { code, text } => {
                    // The return comes before its message's confirm; identical
                    // bodies with the same key are interchangeable.
                    let reason =
                        format!("the broker returned the event as unroutable: {code} {text}");
                    let (bodies, ends, states) = (&self.bodies, &self.ends, &self.states);
                    let hit = sent.iter().copied().find(|&i| {
                        let s = if i == 0 { 0 } else { ends[i - 1] };
                        states[i] == State::Waiting && bodies[s..ends[i]] == self.scratch[..]
                    });
                    if let Some(i) = hit {
                        self.states[i] = State::Returned(reason);
                    }
                }
                Event::Nothing => {
                    conn.tick()?;
                    if Instant::now() > deadline {
                        return Err(std::io::Error::new(
                            std::io::ErrorKind::TimedOut,
                            "no publisher confirms from the broker within 30 s",
                        ));
                    }
                }
                Event::Deliver { .. } => {}
            }
        }
        if nacked {
            return Err(std::io::Error::other("the broker refused messages (nack)"));
        }
        Ok(())
    }
}

impl Output for AmqpTopic {
    fn write(&mut self, ev: &Message, _original: &[u8]) -> Result<(), Fail> {
        let key = match &self.key_fields {
            None => self.routing_key.clone(),
            Some(fields) => {
                if let Some(f) = fields.iter().find(|f| !ev.contains(f)) {
                    return Err(Fail::Reject(format!(
                        "routing_key {:?} needs the field {f}, which the event lacks",
                        self.routing_key
                    )));
                }
                let k = super::smtp::format_ev(&self.routing_key, ev).map_err(Fail::Reject)?;
                if k.len() > 255 {
                    return Err(Fail::Reject(format!(
                        "routing key longer than 255 bytes: {:?}",
                        k.chars().take(60).collect::<String>()
                    )));
                }
                k
            }
        };
        self.bodies
            .extend_from_slice(self.export.export(ev).as_bytes());
        self.ends.push(self.bodies.len());
        self.keys.push(key);
        self.states.push(State::Waiting);
        Ok(())
    }

    fn commit(&mut self) -> anyhow::Result<Vec<(usize, String)>> {
        if self.ends.is_empty() {
            return Ok(Vec::new());
        }
        let what = format!(
            "amqptopic publish of {} events to {}",
            self.ends.len(),
            self.shown()
        );
        let retry = self.retry.clone();
        retry.run(&what, || self.publish())?;
        let refused = self
            .states
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match s {
                State::Returned(r) => Some((i, r.clone())),
                _ => None,
            })
            .collect();
        self.bodies.clear();
        self.ends.clear();
        self.keys.clear();
        self.states.clear();
        Ok(refused)
    }

    fn batch_full(&self) -> bool {
        self.ends.len() >= self.batch_size
    }
}

impl Drop for AmqpTopic {
    fn drop(&mut self) {
        if let Some(c) = self.conn.take() {
            let _ = c.close();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_of_a_routing_key_template() {
        assert_eq!(
            template_fields("cert.{ev[classification.type]}.{ev[feed.name]}.x").unwrap(),
            ["classification.type", "feed.name"]
        );
        assert!(template_fields("{{ev[x]}}").unwrap().is_empty());
        assert!(template_fields("{ev[x]").is_err());
    }
}
