//! `tcp`: IntelMQ's tcp output (§4.7): each event as `to_json(hierarchical)`
//! (sorted keys, raw kept), framed by `separator` or, without one, by a 4-byte
//! big-endian length. With `counterpart_is_intelmq` (the default) the peer is
//! IntelMQ's tcp collector, which answers `Ok` per message: only then is the
//! event delivered. A batch is written in one go and its answers read after
//! it; an event not answered `Ok` is sent again, and a broken connection is
//! reopened and the unconfirmed rest resent.

use super::export::to_json;
use super::retry::{Attempt, Retry};
use super::{Output, OutputOpts};
use crate::message::Message;
use crate::params::{self, Params};
use crate::pipeline::Fail;
use std::io::{BufWriter, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

pub struct Tcp {
    addr: String,
    separator: Option<Vec<u8>>,
    handshake: bool,
    hierarchical: bool,
    conn: Option<TcpStream>,
    retry: Retry,
    timeout: Duration,
    /// Framed messages of the batch, end to end, and where each ends.
    buf: Vec<u8>,
    ends: Vec<usize>,
}

pub fn build(o: &OutputOpts) -> anyhow::Result<Box<dyn Output>> {
    let p: &Params = &o.params;
    let ip = params::required(p, "ip")?;
    let port = params::integer(p, "port", -1)?;
    if !(0..=65535).contains(&port) {
        anyhow::bail!("parameter port is required (0-65535)");
    }
    let addr = if ip.contains(':') {
        format!("[{ip}]:{port}")
    } else {
        format!("{ip}:{port}")
    };
    let mut t = Tcp {
        addr,
        separator: params::string(p, "separator")?.map(String::into_bytes),
        handshake: params::boolean(p, "counterpart_is_intelmq", true)?,
        hierarchical: params::boolean(p, "hierarchical_output", false)?,
        conn: None,
        retry: Retry::from_params(p)?,
        // IntelMQ: 15 s after connect.
        timeout: Duration::from_secs_f64(params::number(p, "timeout", 15.0)?.max(0.001)),
        buf: Vec::new(),
        ends: Vec::new(),
    };
    // IntelMQ connects at start; a refused connection stops the bot.
    t.connect()?;
    Ok(Box::new(t))
}

impl Tcp {
    fn connect(&mut self) -> anyhow::Result<&mut TcpStream> {
        if self.conn.is_none() {
            let addr = self
                .addr
                .to_socket_addrs()?
                .next()
                .ok_or_else(|| anyhow::anyhow!("{}: no address", self.addr))?;
            let c = TcpStream::connect_timeout(&addr, self.timeout)
                .map_err(|e| anyhow::anyhow!("connecting to {}: {e}", self.addr))?;
            c.set_read_timeout(Some(self.timeout))?;
            c.set_write_timeout(Some(self.timeout))?;
            c.set_nodelay(true)?;
            self.conn = Some(c);
        }
        Ok(self.conn.as_mut().expect("connected"))
    }

    /// Send the messages `todo`; the ones still to send (not answered `Ok`),
    /// with the error that broke the connection, if one did.
    fn send(&mut self, todo: &[usize]) -> (Vec<usize>, Option<String>) {
        if let Err(e) = self.connect() {
            return (todo.to_vec(), Some(format!("{e:#}")));
        }
        let conn = self.conn.as_ref().expect("connected");
        let (buf, ends) = (&self.buf, &self.ends);
        let mut w = BufWriter::with_capacity(1 << 16, conn);
        for &i in todo {
            let start = if i == 0 { 0 } else { ends[i - 1] };
            if let Err(e) = w.write_all(&buf[start..ends[i]]) {
                return (todo.to_vec(), Some(e.to_string()));
            }
        }
        if let Err(e) = w.flush() {
            return (todo.to_vec(), Some(e.to_string()));
        }
        drop(w);
        if !self.handshake {
            // Written is all TCP can tell without the peer's answer.
            return (Vec::new(), None);
        }
        let mut answers = vec![0u8; 2 * todo.len()];
        let mut got = 0;
        let mut err = None;
        while got < answers.len() {
            match (&mut &*conn).read(&mut answers[got..]) {
                Ok(0) => {
                    err = Some("the peer closed the connection before answering".to_string());
                    break;
                }
                Ok(n) => got += n,
                Err(e) => {
                    err = Some(format!("waiting for Ok: {e}"));
                    break;
                }
            }
        }
        // Answered Ok: delivered; the rest (not Ok, or no answer) again.
        let rest = todo
            .iter()
            .enumerate()
            .filter(|&(k, _)| 2 * k + 2 > got || &answers[2 * k..2 * k + 2] != b"Ok")
            .map(|(_, &i)| i)
            .collect();
        (rest, err)
    }
}

impl Output for Tcp {
    fn write(&mut self, ev: &Message, _original: &[u8]) -> Result<(), Fail> {
        let data = to_json(ev, self.hierarchical, false);
        match &self.separator {
            Some(sep) => {
                self.buf.extend_from_slice(data.as_bytes());
                self.buf.extend_from_slice(sep);
            }
            None => {
                let n = u32::try_from(data.len())
                    .map_err(|_| Fail::Reject("event too large for a 4-byte length".into()))?;
                self.buf.extend_from_slice(&n.to_be_bytes());
                self.buf.extend_from_slice(data.as_bytes());
            }
        }
        self.ends.push(self.buf.len());
        Ok(())
    }

    fn commit(&mut self) -> anyhow::Result<Vec<(usize, String)>> {
        if self.ends.is_empty() {
            return Ok(Vec::new());
        }
        let mut todo: Vec<usize> = (0..self.ends.len()).collect();
        let what = format!("tcp to {}: {} events", self.addr, todo.len());
        let retry = self.retry.clone();
        retry.run(&what, || {
            let (rest, err) = self.send(&todo);
            let n = rest.len();
            todo = rest;
            Ok(match err {
                Some(e) => {
                    // A new connection for the rest.
                    self.conn = None;
                    Attempt::Transient(e)
                }
                None if n == 0 => Attempt::Done(()),
                None => Attempt::Transient(format!("{n} messages not answered Ok")),
            })
        })?;
        self.buf.clear();
        self.ends.clear();
        Ok(Vec::new())
    }

    fn batch_full(&self) -> bool {
        self.ends.len() >= 1000 || self.buf.len() >= 4 << 20
    }
}
