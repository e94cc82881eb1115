//! `stomp`: IntelMQ's stomp output (§4.14): each event sent (STOMP SEND) to
//! `exchange` as `export_event`'s text: `to_json` without `raw` (sorted keys;
//! `keep_raw_field`, `message_hierarchical_output`, `message_with_type`), or one
//! field with `single_key`. IntelMQ passes stomp.py a dict there; imq sends the
//! JSON text.
//!
//! Every SEND asks for a receipt; a batch counts as delivered once the server
//! sent the receipts (RabbitMQ sends them after its publisher confirms). An
//! ERROR frame or a lost connection: the batch is not confirmed, a new
//! connection sends what has no receipt again (retried for `retry_seconds`).
//!
//! Divergence: plain TCP only, with `username`/`password` (STOMP login and
//! passcode) when `auth_by_ssl_client_certificate` is false; IntelMQ always
//! speaks TLS (`ssl_ca_certificate`, read and not used here) and by default
//! logs in with a TLS client certificate, which imq does not support yet.
//! No heart-beats (`heartbeat` is read and not used): a broken connection is
//! found by the next send and replaced. `vhost` (beyond IntelMQ, default `/`)
//! is the CONNECT frame's `host` header, RabbitMQ's virtual host; `timeout` is
//! for connecting and each read and write.

use super::export_fast::Export;
use super::retry::{Attempt, Retry};
use super::{Output, OutputOpts};
use crate::message::Message;
use crate::net::stomp::{Conn, ConnectError, Opts};
use crate::params::{self, Params};
use crate::pipeline::Fail;
use std::collections::HashMap;
use std::time::Duration;

/// SENDs in flight at once: sent, then their receipts awaited.
const WINDOW: usize = 1000;

pub struct Stomp {
    opts: Opts,
    exchange: String,
    export: Export,
    conn: Option<Conn>,
    retry: Retry,
    /// Receipt ids are `imq-N`, N counting per run.
    receipt_seq: u64,
    /// Bodies of the batch, end to end, and where each ends.
    buf: Vec<u8>,
    ends: Vec<usize>,
    batch_size: usize,
}

pub fn build(o: &OutputOpts) -> anyhow::Result<Box<dyn Output>> {
    let p: &Params = &o.params;
    let server = params::string_or(p, "server", "127.0.0.1")?;
    let port = params::integer(p, "port", 61614)?;
    let exchange = params::string_or(p, "exchange", "/exchange/_push")?;
    if exchange.is_empty() {
        anyhow::bail!("parameter exchange: the STOMP destination must not be empty");
    }
    if params::boolean(p, "auth_by_ssl_client_certificate", true)? {
        anyhow::bail!(
            "stomp: TLS client certificates (auth_by_ssl_client_certificate, \
             ssl_client_certificate, ssl_client_certificate_key) are not supported yet; \
             set auth_by_ssl_client_certificate: false to log in with username and \
             password over plain TCP"
        );
    }
    // Accepted for IntelMQ's configurations; see the module doc.
    params::string(p, "ssl_ca_certificate")?;
    params::string(p, "ssl_client_certificate")?;
    params::string(p, "ssl_client_certificate_key")?;
    params::integer(p, "heartbeat", 60000)?;
    let timeout = params::number(p, "timeout", 30.0)?;
    if !(timeout > 0.0 && timeout.is_finite()) {
        anyhow::bail!("parameter timeout: a positive number of seconds, got {timeout}");
    }
    let opts = Opts {
        host: server,
        port: u16::try_from(port).map_err(|_| anyhow::anyhow!("parameter port: {port}"))?,
        vhost: params::string_or(p, "vhost", "/")?,
        login: Some(params::string_or(p, "username", "guest")?),
        passcode: Some(params::string_or(p, "password", "guest")?),
        timeout: Duration::from_secs_f64(timeout),
    };
    let mut s = Stomp {
        opts,
        exchange,
        export: Export::from_params(p)?,
        conn: None,
        retry: Retry::from_params(p)?,
        receipt_seq: 0,
        buf: Vec::new(),
        ends: Vec::new(),
        batch_size: params::integer(p, "batch_size", 1000)?.max(1) as usize,
    };
    // IntelMQ connects in init(): a wrong address or login stops the bot.
    s.connect().map_err(|e| match e {
        ConnectError::Transient(m) | ConnectError::Refused(m) => anyhow::anyhow!(m),
    })?;
    Ok(Box::new(s))
}

impl Stomp {
    fn connect(&mut self) -> Result<&mut Conn, ConnectError> {
        if self.conn.is_none() {
            self.conn = Some(Conn::open(&self.opts)?);
        }
        Ok(self.conn.as_mut().expect("connected"))
    }

    fn body(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.buf[start..self.ends[i]]
    }

    /// Send the events `todo` (indices into the batch); returns those without
    /// a receipt, with the error that broke the connection if one did.
    fn send(&mut self, todo: &[usize]) -> anyhow::Result<(Vec<usize>, Option<String>)> {
        if let Err(e) = self.connect() {
            return match e {
                ConnectError::Transient(s) => Ok((todo.to_vec(), Some(s))),
                ConnectError::Refused(s) => Err(anyhow::anyhow!(s)),
            };
        }
        let mut conn = self.conn.take().expect("connected");
        let mut done = vec![false; self.ends.len()];
        let mut err = None;
        let mut waiting: HashMap<String, usize> = HashMap::with_capacity(WINDOW);
        'windows: for window in todo.chunks(WINDOW) {
            waiting.clear();
            for &i in window {
                self.receipt_seq += 1;
                let receipt = format!("imq-{}", self.receipt_seq);
                if let Err(e) = conn.send(&self.exchange, self.body(i), &receipt) {
                    err = Some(format!("SEND to {}: {e}", self.exchange));
                    break 'windows;
                }
                waiting.insert(receipt, i);
            }
            if let Err(e) = conn.flush() {
                err = Some(format!("SEND to {}: {e}", self.exchange));
                break;
            }
            while !waiting.is_empty() {
                match conn.read_frame() {
                    Ok(f) if f.command == "RECEIPT" => {
                        if let Some(i) = f.header("receipt-id").and_then(|r| waiting.remove(r)) {
                            done[i] = true;
                        }
                    }
                    // The server closes the connection after an ERROR frame.
                    Ok(f) if f.command == "ERROR" => {
                        err = Some(format!(
                            "SEND to {}: the server sent ERROR: {}",
                            self.exchange,
                            f.error_text()
                        ));
                        break 'windows;
                    }
                    // MESSAGE or anything else: not ours to handle.
                    Ok(_) => {}
                    Err(e) => {
                        err = Some(format!("waiting for the RECEIPT: {e}"));
                        break 'windows;
                    }
                }
            }
        }
        if err.is_none() {
            self.conn = Some(conn);
        }
        let rest = todo.iter().copied().filter(|&i| !done[i]).collect();
        Ok((rest, err))
    }
}

impl Output for Stomp {
    fn write(&mut self, ev: &Message, _original: &[u8]) -> Result<(), Fail> {
        let start = self.buf.len();
        if let Err(e) = self.export.write(ev, &mut self.buf) {
            self.buf.truncate(start);
            return Err(e);
        }
        self.ends.push(self.buf.len());
        Ok(())
    }

    fn commit(&mut self) -> anyhow::Result<Vec<(usize, String)>> {
        if self.ends.is_empty() {
            return Ok(Vec::new());
        }
        let mut todo: Vec<usize> = (0..self.ends.len()).collect();
        let what = format!(
            "stomp to {}:{} {}: {} events",
            self.opts.host,
            self.opts.port,
            self.exchange,
            todo.len()
        );
        let retry = self.retry.clone();
        retry.run(&what, || {
            let (rest, err) = self.send(&todo)?;
            let n = rest.len();
            todo = rest;
            Ok(match err {
                Some(e) => Attempt::Transient(format!("{e} ({n} without receipt)")),
                None => Attempt::Done(()),
            })
        })?;
        self.buf.clear();
        self.ends.clear();
        Ok(Vec::new())
    }

    fn batch_full(&self) -> bool {
        self.ends.len() >= self.batch_size || self.buf.len() >= 16 << 20
    }
}

impl Drop for Stomp {
    fn drop(&mut self) {
        if let Some(c) = self.conn.take() {
            c.disconnect();
        }
    }
}
