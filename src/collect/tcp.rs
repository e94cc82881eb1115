//! The tcp collector (IntelMQ's `intelmq.bots.collectors.tcp.collector`): listens
//! on `ip`:`port` (both required, as in IntelMQ) for the framing of IntelMQ's tcp
//! output: a 4-byte big-endian length, then that many bytes. Each message
//! becomes one report whose `raw` is the message; the feed fields come from the
//! parameters (`name`, `provider`, ...). It runs until SIGTERM/SIGINT (exit 0).
//!
//! Each message is answered `Ok`, as IntelMQ's collector does, but only once
//! its report was committed downstream (the source's `ack`): the sender (`imq-output
//! tcp` or IntelMQ's tcp output, `counterpart_is_intelmq`) keeps a message until
//! it reads `Ok`, so nothing answered is lost and a crash means the unanswered
//! messages are sent again. At the end of the stream (the peer closed between
//! messages) the collector answers `End` after the outstanding `Ok`s; a stream
//! cut inside a length or a message is answered `Incomplete message` (IntelMQ
//! answers `End` for a cut length), and so is a message that stalls for 30 s.
//!
//! Beyond IntelMQ: a message longer than `max_message_size` (64 MiB) is
//! answered `Message too large` and the connection closed (IntelMQ reads any
//! length into memory); an empty message is answered `Ok` and makes no report
//! (IntelMQ drops a report without `raw`, but answers `Incomplete message`);
//! several connections are served at once (at most 64; IntelMQ serves one at a
//! time), and at most `queue_size` messages wait to be written, after which
//! reading pauses (TCP's own back-pressure reaches the sender).

use super::{Ctx, FeedMeta, Template};
use crate::params::{self, Params};
use crate::pipeline::signal;
use crate::transport::{Next, Pos, Source};
use anyhow::{Context, Result};
use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender, TryRecvError};
use std::sync::Arc;
use std::time::Duration;

/// Connections served at once; more are closed at once.
const MAX_CONNECTIONS: usize = 64;
/// How long the rest of a message may take once its first byte arrived (an idle
/// connection between messages may wait without end: senders keep theirs open).
const STALL: Duration = Duration::from_secs(30);
/// How long writing an answer may take.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// What a connection's answering thread is told.
enum Reply {
    /// One message committed (or dropped): answer `Ok`.
    Ok,
    /// The stream ended after `after` messages: once that many were answered,
    /// send `last` and close.
    Close { after: u64, last: &'static [u8] },
}

/// A message read, and where to say it was committed.
struct Pushed {
    body: Vec<u8>,
    reply: Sender<Reply>,
}

pub fn build(p: &Params, _args: &[String], ctx: &Ctx) -> Result<Box<dyn Source>> {
    let meta = FeedMeta::from_params(p)?;
    let ip = params::required(p, "ip")?;
    let port = params::required(p, "port")?;
    let port: u16 = port
        .trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("parameter port: expected 0-65535, got {port:?}"))?;
    let limit = params::integer(p, "max_message_size", 64 << 20)?;
    let limit = usize::try_from(limit)
        .ok()
        .filter(|n| *n > 0)
        .context("parameter max_message_size: expected a positive number of bytes")?;
    let queue = params::integer(p, "queue_size", 64)?.max(1) as usize;
    let listener = TcpListener::bind((ip.as_str(), port))
        .with_context(|| format!("tcp collector: listening on {ip}:{port}"))?;
    if !ctx.quiet {
        crate::pipeline::eprintln_safe(&format!(
            "imq-collect: tcp: listening on {}",
            listener.local_addr()?
        ));
    }
    let (tx, rx) = mpsc::sync_channel(queue);
    let open = Arc::new(AtomicUsize::new(0));
    let unanswered = Arc::new(AtomicUsize::new(0));
    let answered = Arc::clone(&unanswered);
    std::thread::Builder::new()
        .name("imq-collect-tcp".into())
        .spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                if open.load(Ordering::SeqCst) >= MAX_CONNECTIONS {
                    // Refused by closing: the sender retries later.
                    continue;
                }
                open.fetch_add(1, Ordering::SeqCst);
                let (tx, open2, answered) = (tx.clone(), Arc::clone(&open), Arc::clone(&answered));
                let spawned = std::thread::Builder::new()
                    .name("imq-collect-tcp-conn".into())
                    .spawn(move || {
                        let _ = serve(conn, &tx, limit, answered);
                        open2.fetch_sub(1, Ordering::SeqCst);
                    });
                if spawned.is_err() {
                    // Out of threads: the connection was dropped (closed).
                    open.fetch_sub(1, Ordering::SeqCst);
                }
            }
        })?;
    signal::install()?;
    Ok(Box::new(TcpCollector {
        rx,
        peeked: RefCell::new(None),
        meta,
        waiting: Vec::new(),
        count: 0,
        unanswered,
        ended: false,
    }))
}

/// Read exactly `buf.len()` bytes; `Ok(n)` with `n < buf.len()` when the stream
/// ended after `n` bytes.
fn read_full(r: &mut TcpStream, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// One connection: read messages and hand them to the collector; a second
/// thread answers them as they are committed.
fn serve(
    conn: TcpStream,
    tx: &SyncSender<Pushed>,
    limit: usize,
    unanswered: Arc<AtomicUsize>,
) -> io::Result<()> {
    let (reply, answers) = mpsc::channel();
    let w = conn.try_clone()?;
    let count = Arc::clone(&unanswered);
    std::thread::Builder::new()
        .name("imq-collect-tcp-reply".into())
        .spawn(move || answer(w, answers, &count))?;
    let mut r = conn;
    let mut pushed = 0u64;
    let close = |after: u64, last: &'static [u8]| {
        let _ = reply.send(Reply::Close { after, last });
    };
    loop {
        let mut len = [0u8; 4];
        // Between messages: wait as long as the sender keeps the connection.
        r.set_read_timeout(None)?;
        let first = match read_full(&mut r, &mut len[..1]) {
            Ok(n) => n,
            Err(_) => {
                close(pushed, b"");
                return Ok(());
            }
        };
        if first == 0 {
            close(pushed, b"End");
            return Ok(());
        }
        r.set_read_timeout(Some(STALL))?;
        match read_full(&mut r, &mut len[1..]) {
            Ok(3) => {}
            _ => {
                close(pushed, b"Incomplete message");
                return Ok(());
            }
        }
        let n = u32::from_be_bytes(len) as usize;
        if n > limit {
            close(pushed, b"Message too large");
            return Ok(());
        }
        let mut body = vec![0u8; n];
        match read_full(&mut r, &mut body) {
            Ok(got) if got == n => {}
            _ => {
                close(pushed, b"Incomplete message");
                return Ok(());
            }
        }
        pushed += 1;
        if body.is_empty() {
            // No raw: no report (IntelMQ drops it); nothing to wait for.
            unanswered.fetch_add(1, Ordering::SeqCst);
            if reply.send(Reply::Ok).is_err() {
                unanswered.fetch_sub(1, Ordering::SeqCst);
            }
            continue;
        }
        let msg = Pushed {
            body,
            reply: reply.clone(),
        };
        if tx.send(msg).is_err() {
            // The run is over: no more answers.
            return Ok(());
        }
    }
}

/// Answer `Ok` per committed message, then the closing word once all messages
/// of the stream were answered.
/// `unanswered` counts the `Ok`s sent to this thread and not written yet.
fn answer(mut w: TcpStream, answers: Receiver<Reply>, unanswered: &AtomicUsize) {
    let _ = w.set_write_timeout(Some(WRITE_TIMEOUT));
    let mut done = 0u64;
    let mut close: Option<(u64, &[u8])> = None;
    loop {
        if let Some((after, last)) = close {
            if done >= after {
                if !last.is_empty() {
                    let _ = w.write_all(last);
                }
                let _ = w.shutdown(Shutdown::Both);
                return;
            }
        }
        match answers.recv() {
            Ok(Reply::Ok) => {
                done += 1;
                let r = w.write_all(b"Ok");
                unanswered.fetch_sub(1, Ordering::SeqCst);
                if r.is_err() {
                    // The sender is gone; it sends the rest again elsewhere.
                    return;
                }
            }
            Ok(Reply::Close { after, last }) => close = Some((after, last)),
            // The run ended before these messages were committed: no answer,
            // so the sender keeps them.
            Err(_) => {
                let _ = w.shutdown(Shutdown::Both);
                return;
            }
        }
    }
}

pub struct TcpCollector {
    rx: Receiver<Pushed>,
    /// A message taken from the queue by `idle`, handed out by the next `next`.
    peeked: RefCell<Option<Pushed>>,
    meta: FeedMeta,
    /// Where to answer the messages handed out, at the next ack.
    waiting: Vec<Sender<Reply>>,
    count: u64,
    /// `Ok`s sent to the answering threads and not written yet.
    unanswered: Arc<AtomicUsize>,
    /// A stop was requested and reported as the end of input.
    ended: bool,
}

impl Source for TcpCollector {
    fn next(&mut self, buf: &mut Vec<u8>) -> io::Result<Next> {
        loop {
            if signal::stop_requested() {
                self.ended = true;
                return Ok(Next::End);
            }
            let got = match self.peeked.get_mut().take() {
                Some(p) => p,
                None => match self.rx.recv_timeout(Duration::from_millis(200)) {
                    Ok(p) => p,
                    Err(RecvTimeoutError::Timeout) => continue,
                    Err(RecvTimeoutError::Disconnected) => return Ok(Next::End),
                },
            };
            // A template per report: time.observation is its arrival.
            let t =
                Template::new(&self.meta, &[]).map_err(|e| io::Error::other(format!("{e:#}")))?;
            t.write(&got.body, buf);
            self.waiting.push(got.reply);
            self.count += 1;
            return Ok(Next::Line);
        }
    }

    fn pos(&self) -> Pos<'_> {
        Pos {
            input: "tcp",
            line: self.count,
        }
    }

    fn idle(&self) -> bool {
        // Commit (and answer) whenever no message is waiting: a sender waits
        // for its answers before it sends more.
        let mut p = self.peeked.borrow_mut();
        if p.is_some() {
            return false;
        }
        match self.rx.try_recv() {
            Ok(m) => {
                *p = Some(m);
                false
            }
            Err(TryRecvError::Empty | TryRecvError::Disconnected) => true,
        }
    }

    fn ack(&mut self) -> io::Result<()> {
        self.unanswered
            .fetch_add(self.waiting.len(), Ordering::SeqCst);
        for r in self.waiting.drain(..) {
            if r.send(Reply::Ok).is_err() {
                // The connection's answering thread is gone.
                self.unanswered.fetch_sub(1, Ordering::SeqCst);
            }
        }
        if self.ended {
            // The process ends after this: give the answers of the last batch
            // a moment to be written, or their senders send them again.
            let until = std::time::Instant::now() + Duration::from_secs(2);
            while self.unanswered.load(Ordering::SeqCst) > 0 && std::time::Instant::now() < until {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        Ok(())
    }
}
