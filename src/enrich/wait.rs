//! wait: slow the stream down: sleep a fixed time per event, or wait until a Redis
//! list (an IntelMQ queue) is no longer than `queue_size` (IntelMQ
//! `intelmq.bots.experts.wait.expert`). Without either it passes events on.

use super::{Expert, Params, Verdict};
use crate::message::Message;
use crate::params;
use crate::pipeline::Fail;
use anyhow::Context;
use std::time::Duration;

enum Mode {
    Dummy,
    Sleep(Duration),
    Queue {
        conn: redis::Connection,
        name: String,
        size: i64,
        poll: Duration,
    },
}

pub struct Wait {
    mode: Mode,
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Expert>> {
    let queue = params::string(p, "queue_name")?.filter(|s| !s.is_empty());
    let sleep = match p.get("sleep_time") {
        None | Some(serde_json::Value::Null) => 0.0,
        Some(v) => crate::harmonization::py_float(v)
            .with_context(|| format!("parameter sleep_time: {v} is not a number"))?,
    };
    let mode = if let Some(name) = queue {
        let host = params::string_or(p, "queue_host", "localhost")?;
        let port = params::integer(p, "queue_port", 6379)?;
        let db = params::integer(p, "queue_db", 2)?;
        let password = params::string(p, "queue_password")?;
        let port = u16::try_from(port).context("parameter queue_port")?;
        let conn = crate::net::cache::connect_redis(&host, port, db, password.as_deref())?;
        let poll = match p.get("queue_polling_interval") {
            Some(v) => crate::harmonization::py_float(v).unwrap_or(0.05),
            None => 0.05,
        };
        Mode::Queue {
            conn,
            name,
            size: params::integer(p, "queue_size", 0)?,
            poll: Duration::from_secs_f64(poll.max(0.0)),
        }
    } else if sleep > 0.0 {
        Mode::Sleep(Duration::from_secs_f64(sleep))
    } else {
        Mode::Dummy
    };
    Ok(Box::new(Wait { mode }))
}

impl Expert for Wait {
    fn process(&mut self, _ev: &mut Message) -> Result<Verdict, Fail> {
        match &mut self.mode {
            Mode::Dummy => {}
            Mode::Sleep(d) => std::thread::sleep(*d),
            Mode::Queue {
                conn,
                name,
                size,
                poll,
            } => loop {
                let len: i64 = redis::cmd("LLEN")
                    .arg(&*name)
                    .query(conn)
                    .map_err(|e| Fail::Fatal(anyhow::anyhow!("Redis LLEN {name}: {e}")))?;
                if len <= *size {
                    break;
                }
                std::thread::sleep(*poll);
            },
        }
        Ok(Verdict::Keep)
    }
}
