//! `redis`: IntelMQ's redis output (§4.5): `LPUSH redis_queue <event JSON>`,
//! the JSON as IntelMQ's `to_json(hierarchical_output, with_type)` writes it
//! (sorted keys, raw kept, `"__type": "Event"` by default), so the list reads as
//! an IntelMQ queue. A batch is one LPUSH of all its events (atomic: all or
//! none), confirmed by Redis' reply; a lost connection is retried on a new one.

use super::export::to_json;
use super::retry::{Attempt, Retry};
use super::{Output, OutputOpts};
use crate::message::Message;
use crate::params::{self, Params};
use crate::pipeline::Fail;

pub struct Redis {
    host: String,
    port: u16,
    db: i64,
    password: Option<String>,
    queue: String,
    hierarchical: bool,
    with_type: bool,
    conn: Option<redis::Connection>,
    retry: Retry,
    batch: Vec<String>,
    batch_size: usize,
}

pub fn build(o: &OutputOpts) -> anyhow::Result<Box<dyn Output>> {
    let p: &Params = &o.params;
    let port = params::integer(p, "redis_server_port", 6379)?;
    let mut r = Redis {
        host: params::string_or(p, "redis_server_ip", "127.0.0.1")?,
        port: u16::try_from(port)
            .map_err(|_| anyhow::anyhow!("parameter redis_server_port: {port}"))?,
        db: params::integer(p, "redis_db", 2)?,
        password: params::string(p, "redis_password")?.filter(|s| !s.is_empty()),
        queue: match &o.target {
            Some(t) => t.clone(),
            None => params::required(p, "redis_queue")?,
        },
        hierarchical: params::boolean(p, "hierarchical_output", false)?,
        with_type: params::boolean(p, "with_type", true)?,
        conn: None,
        retry: Retry::from_params(p)?,
        batch: Vec::new(),
        batch_size: params::integer(p, "batch_size", 1000)?.max(1) as usize,
    };
    // IntelMQ checks the server at start (INFO); a dead one stops the bot.
    r.connect()?;
    Ok(Box::new(r))
}

impl Redis {
    fn connect(&mut self) -> anyhow::Result<&mut redis::Connection> {
        if self.conn.is_none() {
            let c = crate::net::cache::connect_redis(
                &self.host,
                self.port,
                self.db,
                self.password.as_deref(),
            )?;
            self.conn = Some(c);
        }
        Ok(self.conn.as_mut().expect("connected"))
    }

    fn push(&mut self) -> anyhow::Result<Attempt<()>> {
        let mut cmd = redis::cmd("LPUSH");
        cmd.arg(&self.queue);
        for v in &self.batch {
            cmd.arg(v);
        }
        let conn = match self.connect() {
            Ok(c) => c,
            Err(e) => return Ok(Attempt::Transient(format!("{e:#}"))),
        };
        match cmd.query::<i64>(conn) {
            Ok(_) => Ok(Attempt::Done(())),
            Err(e) if e.is_io_error() || e.is_connection_dropped() || e.is_timeout() => {
                self.conn = None;
                Ok(Attempt::Transient(format!("LPUSH {}: {e}", self.queue)))
            }
            // LOADING, BUSY, TRYAGAIN, a failover: the server will take it later.
            Err(e) if is_busy(&e) => Ok(Attempt::Transient(format!("LPUSH {}: {e}", self.queue))),
            Err(e) => anyhow::bail!("LPUSH {}: {e}", self.queue),
        }
    }
}

fn is_busy(e: &redis::RedisError) -> bool {
    matches!(
        e.code(),
        Some("LOADING" | "BUSY" | "TRYAGAIN" | "MASTERDOWN" | "READONLY" | "CLUSTERDOWN")
    )
}

impl Output for Redis {
    fn write(&mut self, ev: &Message, _original: &[u8]) -> Result<(), Fail> {
        self.batch
            .push(to_json(ev, self.hierarchical, self.with_type));
        Ok(())
    }

    fn commit(&mut self) -> anyhow::Result<Vec<(usize, String)>> {
        if self.batch.is_empty() {
            return Ok(Vec::new());
        }
        let what = format!(
            "redis LPUSH of {} events to {}",
            self.batch.len(),
            self.queue
        );
        let retry = self.retry.clone();
        retry.run(&what, || self.push())?;
        self.batch.clear();
        Ok(Vec::new())
    }

    fn batch_full(&self) -> bool {
        self.batch.len() >= self.batch_size
    }
}
