//! A small synchronous AMQP 0-9-1 client: exactly what IntelMQ's AMQP pipeline
//! needs (connection with PLAIN login, one channel, `queue.declare`,
//! `basic.qos`, `confirm.select` + `basic.publish`, `basic.consume` /
//! `basic.deliver`, `basic.ack`, heartbeats, a clean close) and nothing more.
//!
//! Why our own client and not lapin: the stream loop is synchronous and moves
//! whole batches; lapin is asynchronous (a tokio runtime, a reactor thread, a
//! channel hop per message and per confirm) and its build doubles the crate's
//! dependency tree. The wire protocol for this subset is a few hundred lines, a
//! publish is three frames written into one buffer, a batch's publishes go out
//! in one `write` and its confirms come back as a few `multiple` acks, so the
//! client costs no allocation per message and no thread. amiquip (synchronous)
//! has had no release since 2022.
//!
//! Not supported: TLS (`amqps://`), more than one channel per connection.

use std::cell::Cell;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const FRAME_METHOD: u8 = 1;
const FRAME_HEADER: u8 = 2;
const FRAME_BODY: u8 = 3;
const FRAME_HEARTBEAT: u8 = 8;
const FRAME_END: u8 = 0xCE;
/// The one channel we use.
const CH: u16 = 1;
/// The largest frame we accept (RabbitMQ's default).
const FRAME_MAX: u32 = 128 << 10;
/// Heartbeat interval we ask for, in seconds (the broker may ask for less). A
/// stage busy for longer than two intervals without reading is dropped by the
/// broker, which then redelivers its unacknowledged messages.
const HEARTBEAT: u16 = 60;
/// Written out once this much is buffered.
const WRITE_CHUNK: usize = 256 << 10;
/// How long a synchronous reply or the rest of a message may take.
const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

const BASIC: u16 = 60;

/// Where and as whom to connect.
#[derive(Debug, Clone)]
pub struct Opts {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub pass: String,
    pub vhost: String,
    /// Shown in the broker's connection list.
    pub name: String,
    pub connect_timeout: Duration,
}

/// Where a message goes and with which properties ([`Conn::publish_to`]).
pub struct Publish<'a> {
    /// `""` is the default exchange, which routes by queue name.
    pub exchange: &'a str,
    pub routing_key: &'a str,
    pub content_type: Option<&'a str>,
    /// 1 transient, 2 persistent.
    pub delivery_mode: u8,
}

/// How long [`Conn::event`] may wait.
#[derive(Debug, Clone, Copy)]
pub enum Wait {
    /// Only what is buffered or readable without blocking.
    Poll,
    /// Until this instant.
    Until(Instant),
}

/// What arrived from the broker.
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    /// A message for our consumer; its body is in the caller's buffer (the first
    /// `max` bytes when `truncated`).
    Deliver {
        tag: u64,
        redelivered: bool,
        truncated: bool,
    },
    /// Publisher confirm: the broker took responsibility for message `tag` (and
    /// all before it when `multiple`).
    Ack { tag: u64, multiple: bool },
    /// The broker refused message `tag` (and all before it when `multiple`).
    Nack { tag: u64, multiple: bool },
    /// A mandatory message could not be routed to any queue (its confirm
    /// follows); its body is in the caller's buffer (at most `max` bytes).
    Return { code: u16, text: String },
    /// Nothing within the wait.
    Nothing,
}

/// One connection with one open channel.
pub struct Conn {
    sock: TcpStream,
    rbuf: Vec<u8>,
    rs: usize,
    re: usize,
    wbuf: Vec<u8>,
    /// Largest body chunk per frame.
    body_max: usize,
    heartbeat: Option<Duration>,
    last_read: Instant,
    last_write: Instant,
    /// Read timeout currently set on the socket.
    timeout_set: Cell<Option<Duration>>,
}

fn proto(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// Reading method arguments.
struct Rd<'a>(&'a [u8]);

impl Rd<'_> {
    fn take(&mut self, n: usize) -> io::Result<&[u8]> {
        if self.0.len() < n {
            return Err(proto("AMQP frame shorter than its fields"));
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn u8(&mut self) -> io::Result<u8> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> io::Result<u16> {
        Ok(u16::from_be_bytes(self.take(2)?.try_into().unwrap()))
    }
    fn u32(&mut self) -> io::Result<u32> {
        Ok(u32::from_be_bytes(self.take(4)?.try_into().unwrap()))
    }
    fn u64(&mut self) -> io::Result<u64> {
        Ok(u64::from_be_bytes(self.take(8)?.try_into().unwrap()))
    }
    fn shortstr(&mut self) -> io::Result<String> {
        let n = self.u8()? as usize;
        Ok(String::from_utf8_lossy(self.take(n)?).into_owned())
    }
    fn longstr(&mut self) -> io::Result<Vec<u8>> {
        let n = self.u32()? as usize;
        Ok(self.take(n)?.to_vec())
    }
}

/// Writing method arguments.
fn shortstr(w: &mut Vec<u8>, s: &str) {
    let b = &s.as_bytes()[..s.len().min(255)];
    w.push(b.len() as u8);
    w.extend_from_slice(b);
}
fn longstr(w: &mut Vec<u8>, b: &[u8]) {
    w.extend_from_slice(&(b.len() as u32).to_be_bytes());
    w.extend_from_slice(b);
}

/// A field table value.
enum Val<'a> {
    Str(&'a str),
    Bool(bool),
    Table(&'a [(&'a str, Val<'a>)]),
}

fn table(w: &mut Vec<u8>, fields: &[(&str, Val)]) {
    let at = w.len();
    w.extend_from_slice(&[0; 4]);
    for (k, v) in fields {
        shortstr(w, k);
        match v {
            Val::Str(s) => {
                w.push(b'S');
                longstr(w, s.as_bytes());
            }
            Val::Bool(b) => {
                w.push(b't');
                w.push(*b as u8);
            }
            Val::Table(t) => {
                w.push(b'F');
                table(w, t);
            }
        }
    }
    let n = (w.len() - at - 4) as u32;
    w[at..at + 4].copy_from_slice(&n.to_be_bytes());
}

/// Start a frame in `w`; [`frame_end`] fills in its size.
fn frame_start(w: &mut Vec<u8>, ty: u8, ch: u16) -> usize {
    w.push(ty);
    w.extend_from_slice(&ch.to_be_bytes());
    let at = w.len();
    w.extend_from_slice(&[0; 4]);
    at
}
fn frame_end(w: &mut Vec<u8>, at: usize) {
    let n = (w.len() - at - 4) as u32;
    w[at..at + 4].copy_from_slice(&n.to_be_bytes());
    w.push(FRAME_END);
}

fn method_frame(w: &mut Vec<u8>, ch: u16, class: u16, method: u16, args: &[u8]) {
    let at = frame_start(w, FRAME_METHOD, ch);
    w.extend_from_slice(&class.to_be_bytes());
    w.extend_from_slice(&method.to_be_bytes());
    w.extend_from_slice(args);
    frame_end(w, at);
}

/// IntelMQ's queue arguments (`intelmq/lib/pipeline.py` `Amqp`): a queue
/// declared by imq and by an IntelMQ bot must agree, or the broker refuses the
/// second declaration.
fn intelmq_queue_args(w: &mut Vec<u8>) {
    table(w, &[("x-queue-mode", Val::Str("lazy"))]);
}

impl Conn {
    /// Connect, log in, open the virtual host and channel 1.
    pub fn open(o: &Opts) -> io::Result<Conn> {
        let sock = super::connect(&o.host, o.port, o.connect_timeout)?;
        sock.set_nodelay(true)?;
        sock.set_write_timeout(Some(REPLY_TIMEOUT))?;
        let now = Instant::now();
        let mut c = Conn {
            sock,
            rbuf: vec![0; 2 * FRAME_MAX as usize + 16],
            rs: 0,
            re: 0,
            wbuf: Vec::with_capacity(WRITE_CHUNK + (64 << 10)),
            body_max: FRAME_MAX as usize - 8,
            heartbeat: None,
            last_read: now,
            last_write: now,
            timeout_set: Cell::new(None),
        };
        c.wbuf.extend_from_slice(b"AMQP\x00\x00\x09\x01");
        c.flush()?;
        let start = c.expect(10, 10)?;
        let mut r = Rd(&start);
        r.take(2)?;
        let props_len = r.u32()? as usize;
        r.take(props_len)?;
        let mechs = r.longstr()?;
        if !String::from_utf8_lossy(&mechs)
            .split(' ')
            .any(|m| m == "PLAIN")
        {
            return Err(proto("the broker does not offer PLAIN login"));
        }

        let mut a = Vec::with_capacity(256);
        let version = env!("CARGO_PKG_VERSION");
        table(
            &mut a,
            &[
                ("product", Val::Str("imq")),
                ("version", Val::Str(version)),
                ("platform", Val::Str("Rust")),
                ("connection_name", Val::Str(&o.name)),
                (
                    "capabilities",
                    Val::Table(&[
                        ("publisher_confirms", Val::Bool(true)),
                        ("consumer_cancel_notify", Val::Bool(true)),
                        ("authentication_failure_close", Val::Bool(true)),
                        ("connection.blocked", Val::Bool(true)),
                    ]),
                ),
            ],
        );
        shortstr(&mut a, "PLAIN");
        let mut resp = Vec::with_capacity(o.user.len() + o.pass.len() + 2);
        resp.push(0);
        resp.extend_from_slice(o.user.as_bytes());
        resp.push(0);
        resp.extend_from_slice(o.pass.as_bytes());
        longstr(&mut a, &resp);
        shortstr(&mut a, "en_US");
        method_frame(&mut c.wbuf, 0, 10, 11, &a);
        c.flush()?;

        let tune = c.expect(10, 30)?;
        let mut r = Rd(&tune);
        // channel-max: we use one channel, whatever the broker allows.
        r.u16()?;
        let frame_max = match r.u32()? {
            0 => FRAME_MAX,
            n => n.min(FRAME_MAX),
        };
        let heartbeat = match r.u16()? {
            0 => HEARTBEAT,
            n => n.min(HEARTBEAT),
        };
        c.body_max = frame_max as usize - 8;
        c.heartbeat = Some(Duration::from_secs(heartbeat as u64));
        a.clear();
        a.extend_from_slice(&1u16.to_be_bytes());
        a.extend_from_slice(&frame_max.to_be_bytes());
        a.extend_from_slice(&heartbeat.to_be_bytes());
        method_frame(&mut c.wbuf, 0, 10, 31, &a);
        a.clear();
        shortstr(&mut a, &o.vhost);
        shortstr(&mut a, "");
        a.push(0);
        method_frame(&mut c.wbuf, 0, 10, 40, &a);
        c.flush()?;
        c.expect(10, 41)?;
        c.call(20, 10, &[0], 11)?;
        Ok(c)
    }

    /// Declare a durable queue with IntelMQ's arguments; returns its message
    /// count.
    pub fn declare_queue(&mut self, queue: &str) -> io::Result<u32> {
        self.declare(queue, false).map(|(n, _)| n)
    }

    /// Message and consumer counts of an existing queue (a passive declare; an
    /// error if it does not exist, which also closes the channel).
    pub fn queue_counts(&mut self, queue: &str) -> io::Result<(u32, u32)> {
        self.declare(queue, true)
    }

    fn declare(&mut self, queue: &str, passive: bool) -> io::Result<(u32, u32)> {
        let mut a = Vec::with_capacity(64);
        a.extend_from_slice(&0u16.to_be_bytes());
        shortstr(&mut a, queue);
        // passive, durable, exclusive, auto-delete, no-wait
        a.push(passive as u8 | 0b10);
        intelmq_queue_args(&mut a);
        let ok = self.call(50, 10, &a, 11)?;
        let mut r = Rd(&ok);
        r.shortstr()?;
        Ok((r.u32()?, r.u32()?))
    }

    /// Delete a queue; returns the number of messages it held.
    pub fn delete_queue(&mut self, queue: &str) -> io::Result<u32> {
        let mut a = Vec::with_capacity(64);
        a.extend_from_slice(&0u16.to_be_bytes());
        shortstr(&mut a, queue);
        a.push(0);
        let ok = self.call(50, 40, &a, 41)?;
        Rd(&ok).u32()
    }

    /// Remove the messages waiting in a queue (not those delivered and not yet
    /// acknowledged); returns how many went.
    pub fn purge_queue(&mut self, queue: &str) -> io::Result<u32> {
        let mut a = Vec::with_capacity(64);
        a.extend_from_slice(&0u16.to_be_bytes());
        shortstr(&mut a, queue);
        a.push(0);
        let ok = self.call(50, 30, &a, 31)?;
        Rd(&ok).u32()
    }

    /// Publisher confirms on: every publish from now on is acknowledged (or
    /// refused) by the broker, numbered from 1.
    pub fn confirm_select(&mut self) -> io::Result<()> {
        self.call(85, 10, &[0], 11).map(|_| ())
    }

    /// At most `prefetch` unacknowledged messages delivered to this channel.
    pub fn qos(&mut self, prefetch: u16) -> io::Result<()> {
        let mut a = [0u8; 7];
        a[4..6].copy_from_slice(&prefetch.to_be_bytes());
        self.call(BASIC, 10, &a, 11).map(|_| ())
    }

    /// Start consuming `queue` with manual acknowledgements.
    pub fn consume(&mut self, queue: &str) -> io::Result<()> {
        let mut a = Vec::with_capacity(64);
        a.extend_from_slice(&0u16.to_be_bytes());
        shortstr(&mut a, queue);
        shortstr(&mut a, "");
        // no-local, no-ack, exclusive, no-wait: all off
        a.push(0);
        table(&mut a, &[]);
        self.call(BASIC, 20, &a, 21).map(|_| ())
    }

    /// Queue an acknowledgement of delivery `tag` (and everything before it when
    /// `multiple`); it goes out with the next [`Conn::flush`].
    pub fn ack(&mut self, tag: u64, multiple: bool) {
        let at = frame_start(&mut self.wbuf, FRAME_METHOD, CH);
        self.wbuf.extend_from_slice(&BASIC.to_be_bytes());
        self.wbuf.extend_from_slice(&80u16.to_be_bytes());
        self.wbuf.extend_from_slice(&tag.to_be_bytes());
        self.wbuf.push(multiple as u8);
        frame_end(&mut self.wbuf, at);
    }

    /// Declare an exchange (`exchange.declare`, not passive); an exchange that
    /// exists with other settings closes the channel with the broker's reason.
    pub fn declare_exchange(&mut self, name: &str, kind: &str, durable: bool) -> io::Result<()> {
        let mut a = Vec::with_capacity(64);
        a.extend_from_slice(&0u16.to_be_bytes());
        shortstr(&mut a, name);
        shortstr(&mut a, kind);
        // passive, durable, auto-delete, internal, no-wait
        a.push((durable as u8) << 1);
        table(&mut a, &[]);
        self.call(40, 10, &a, 11).map(|_| ())
    }

    /// Bind a queue to an exchange for a routing key (a pattern on a topic
    /// exchange).
    pub fn bind_queue(&mut self, queue: &str, exchange: &str, key: &str) -> io::Result<()> {
        let mut a = Vec::with_capacity(96);
        a.extend_from_slice(&0u16.to_be_bytes());
        shortstr(&mut a, queue);
        shortstr(&mut a, exchange);
        shortstr(&mut a, key);
        a.push(0);
        table(&mut a, &[]);
        self.call(50, 20, &a, 21).map(|_| ())
    }

    /// Publish a persistent, mandatory message to `queue` through the default
    /// exchange, as IntelMQ does (`delivery_mode=2, mandatory=True`). Buffered:
    /// written out in chunks and by [`Conn::flush`].
    pub fn publish(&mut self, queue: &str, body: &[u8]) -> io::Result<()> {
        self.publish_to(
            &Publish {
                exchange: "",
                routing_key: queue,
                content_type: None,
                delivery_mode: 2,
            },
            body,
        )
    }

    /// Publish a mandatory message as `p` says. Buffered like [`Conn::publish`].
    pub fn publish_to(&mut self, p: &Publish, body: &[u8]) -> io::Result<()> {
        let w = &mut self.wbuf;
        let at = frame_start(w, FRAME_METHOD, CH);
        w.extend_from_slice(&BASIC.to_be_bytes());
        w.extend_from_slice(&40u16.to_be_bytes());
        w.extend_from_slice(&0u16.to_be_bytes());
        shortstr(w, p.exchange);
        shortstr(w, p.routing_key);
        w.push(0b01); // mandatory, not immediate
        frame_end(w, at);
        let at = frame_start(w, FRAME_HEADER, CH);
        w.extend_from_slice(&BASIC.to_be_bytes());
        w.extend_from_slice(&0u16.to_be_bytes());
        w.extend_from_slice(&(body.len() as u64).to_be_bytes());
        // Property flags, highest bit first: content-type (15), delivery-mode
        // (12); the values follow in that order.
        let flags = if p.content_type.is_some() {
            0x9000u16
        } else {
            0x1000
        };
        w.extend_from_slice(&flags.to_be_bytes());
        if let Some(ct) = p.content_type {
            shortstr(w, ct);
        }
        w.push(p.delivery_mode);
        frame_end(w, at);
        for chunk in body.chunks(self.body_max) {
            let at = frame_start(&mut self.wbuf, FRAME_BODY, CH);
            self.wbuf.extend_from_slice(chunk);
            frame_end(&mut self.wbuf, at);
            if self.wbuf.len() >= WRITE_CHUNK {
                self.flush()?;
            }
        }
        if self.wbuf.len() >= WRITE_CHUNK {
            self.flush()?;
        }
        Ok(())
    }

    /// Write out everything buffered.
    pub fn flush(&mut self) -> io::Result<()> {
        if !self.wbuf.is_empty() {
            let r = self.sock.write_all(&self.wbuf);
            self.wbuf.clear();
            r?;
            self.last_write = Instant::now();
        }
        Ok(())
    }

    /// Keep the connection alive while waiting: send a heartbeat when we have
    /// been silent for half the interval; fail when the broker has been silent
    /// for two.
    pub fn tick(&mut self) -> io::Result<()> {
        let Some(hb) = self.heartbeat else {
            return Ok(());
        };
        if self.last_write.elapsed() >= hb / 2 {
            let at = frame_start(&mut self.wbuf, FRAME_HEARTBEAT, 0);
            frame_end(&mut self.wbuf, at);
            self.flush()?;
        }
        if self.last_read.elapsed() > hb * 2 {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "no heartbeat from the broker",
            ));
        }
        Ok(())
    }

    /// True when something from the broker is buffered, or becomes readable
    /// within `grace`.
    pub fn readable_within(&self, grace: Duration) -> bool {
        if self.re > self.rs {
            return true;
        }
        if self.sock.set_read_timeout(Some(grace)).is_err() {
            return true;
        }
        self.timeout_set.set(Some(grace));
        let mut b = [0u8; 1];
        let r = self.sock.peek(&mut b);
        // An error or end of stream is "readable" too: the next read reports it.
        !matches!(r, Err(ref e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut))
    }

    /// The next event from the broker, waiting at most as `wait` says. A
    /// delivered body goes into `body` (cleared first), at most `max` bytes.
    pub fn event(&mut self, wait: Wait, body: &mut Vec<u8>, max: usize) -> io::Result<Event> {
        loop {
            let Some((ty, a, b)) = self.frame(wait)? else {
                return Ok(Event::Nothing);
            };
            match ty {
                FRAME_HEARTBEAT => continue,
                FRAME_METHOD => {}
                _ => return Err(proto("AMQP content frame without its method")),
            }
            let mut r = Rd(&self.rbuf[a..b]);
            let (class, method) = (r.u16()?, r.u16()?);
            match (class, method) {
                (BASIC, 60) => {
                    r.shortstr()?;
                    let tag = r.u64()?;
                    let redelivered = r.u8()? & 1 != 0;
                    let truncated = self.content(body, max)?;
                    return Ok(Event::Deliver {
                        tag,
                        redelivered,
                        truncated,
                    });
                }
                (BASIC, 80) | (BASIC, 120) => {
                    let tag = r.u64()?;
                    let multiple = r.u8()? & 1 != 0;
                    return Ok(if method == 80 {
                        Event::Ack { tag, multiple }
                    } else {
                        Event::Nack { tag, multiple }
                    });
                }
                (BASIC, 50) => {
                    let code = r.u16()?;
                    let text = r.shortstr()?;
                    self.content(body, max)?;
                    return Ok(Event::Return { code, text });
                }
                (BASIC, 30) => {
                    return Err(io::Error::new(
                        io::ErrorKind::ConnectionAborted,
                        "the broker cancelled our consumer (queue deleted?)",
                    ))
                }
                _ => self.other_method(class, method, a + 4, b)?,
            }
        }
    }

    /// Close the connection cleanly, so that everything written before (the
    /// last acknowledgement) is processed before the broker drops the
    /// connection and requeues what was delivered but not acknowledged.
    pub fn close(mut self) -> io::Result<()> {
        let mut a = Vec::with_capacity(16);
        a.extend_from_slice(&200u16.to_be_bytes());
        shortstr(&mut a, "bye");
        a.extend_from_slice(&[0; 4]);
        method_frame(&mut self.wbuf, 0, 10, 50, &a);
        self.flush()?;
        let deadline = Instant::now() + Duration::from_secs(5);
        while let Some((ty, a, b)) = self.frame(Wait::Until(deadline))? {
            if ty == FRAME_METHOD && b - a >= 4 && self.rbuf[a..a + 4] == [0, 10, 0, 51] {
                return Ok(());
            }
        }
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "no close-ok from the broker",
        ))
    }

    /// Connection- and channel-level methods that may come at any time.
    fn other_method(&mut self, class: u16, method: u16, a: usize, b: usize) -> io::Result<()> {
        match (class, method) {
            (10, 50) | (20, 40) => {
                let mut r = Rd(&self.rbuf[a..b]);
                let code = r.u16()?;
                let text = r.shortstr()?;
                let (ch, what) = if class == 10 {
                    (0, "connection")
                } else {
                    (CH, "channel")
                };
                method_frame(&mut self.wbuf, ch, class, method + 1, &[]);
                let _ = self.flush();
                Err(io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    format!("the broker closed the {what}: {code} {text}"),
                ))
            }
            // connection.blocked / unblocked: publishing just waits on TCP.
            (10, 60) | (10, 61) => Ok(()),
            _ => Err(proto(format!(
                "unexpected AMQP method {class}.{method} from the broker"
            ))),
        }
    }

    /// Read a content header and body frames after a deliver or return.
    fn content(&mut self, body: &mut Vec<u8>, max: usize) -> io::Result<bool> {
        body.clear();
        let deadline = Instant::now() + REPLY_TIMEOUT;
        let (ty, a, b) = self
            .frame(Wait::Until(deadline))?
            .ok_or_else(|| proto("AMQP content header did not arrive"))?;
        if ty != FRAME_HEADER {
            return Err(proto("AMQP content header expected"));
        }
        let mut r = Rd(&self.rbuf[a..b]);
        r.take(4)?;
        let mut left = r.u64()?;
        let mut truncated = false;
        while left > 0 {
            let (ty, a, b) = self
                .frame(Wait::Until(deadline))?
                .ok_or_else(|| proto("AMQP message body did not arrive"))?;
            if ty == FRAME_HEARTBEAT {
                continue;
            }
            if ty != FRAME_BODY || (b - a) as u64 > left {
                return Err(proto("AMQP body frame expected"));
            }
            left -= (b - a) as u64;
            let room = max.saturating_sub(body.len());
            if room < b - a {
                truncated = true;
            }
            body.extend_from_slice(&self.rbuf[a..a + room.min(b - a)]);
        }
        Ok(truncated)
    }

    /// Send a method on channel 1 and wait for its reply method; returns the
    /// reply's arguments.
    fn call(&mut self, class: u16, method: u16, args: &[u8], reply: u16) -> io::Result<Vec<u8>> {
        method_frame(&mut self.wbuf, CH, class, method, args);
        self.flush()?;
        self.expect(class, reply)
    }

    /// Wait for a given method (skipping heartbeats); the broker closing the
    /// channel or connection instead is an error with its reason.
    fn expect(&mut self, class: u16, method: u16) -> io::Result<Vec<u8>> {
        let deadline = Instant::now() + REPLY_TIMEOUT;
        loop {
            let (ty, a, b) = self.frame(Wait::Until(deadline))?.ok_or_else(|| {
                io::Error::new(io::ErrorKind::TimedOut, "no reply from the broker")
            })?;
            if ty != FRAME_METHOD {
                continue;
            }
            if b - a < 4 {
                return Err(proto("AMQP method frame too short"));
            }
            let c = u16::from_be_bytes([self.rbuf[a], self.rbuf[a + 1]]);
            let m = u16::from_be_bytes([self.rbuf[a + 2], self.rbuf[a + 3]]);
            if (c, m) == (class, method) {
                return Ok(self.rbuf[a + 4..b].to_vec());
            }
            self.other_method(c, m, a + 4, b)?;
        }
    }

    /// The next whole frame: (type, payload range in `rbuf`), valid until the
    /// next read.
    fn frame(&mut self, wait: Wait) -> io::Result<Option<(u8, usize, usize)>> {
        let mut polled = false;
        loop {
            let avail = self.re - self.rs;
            if avail >= 7 {
                let h = &self.rbuf[self.rs..self.rs + 7];
                let size = u32::from_be_bytes([h[3], h[4], h[5], h[6]]) as usize;
                if size + 8 > self.rbuf.len() {
                    return Err(proto(format!("AMQP frame of {size} bytes is too large")));
                }
                if avail >= size + 8 {
                    let ty = h[0];
                    let a = self.rs + 7;
                    if self.rbuf[a + size] != FRAME_END {
                        return Err(proto("AMQP frame end missing"));
                    }
                    self.rs = a + size + 1;
                    return Ok(Some((ty, a, a + size)));
                }
            }
            match wait {
                Wait::Poll if polled => return Ok(None),
                Wait::Poll => polled = true,
                Wait::Until(t) if Instant::now() >= t => return Ok(None),
                Wait::Until(_) => {}
            }
            self.fill(wait)?;
        }
    }

    fn fill(&mut self, wait: Wait) -> io::Result<()> {
        if self.rs > 0 {
            self.rbuf.copy_within(self.rs..self.re, 0);
            self.re -= self.rs;
            self.rs = 0;
        }
        let nonblocking = matches!(wait, Wait::Poll);
        if let Wait::Until(t) = wait {
            let left = t
                .saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1));
            // Changing the timeout costs a syscall: only when it differs a lot.
            let set = self.timeout_set.get();
            if set.is_none_or(|set| left < set || left > set * 2) {
                self.sock.set_read_timeout(Some(left))?;
                self.timeout_set.set(Some(left));
            }
        } else {
            self.sock.set_nonblocking(true)?;
        }
        let r = loop {
            match self.sock.read(&mut self.rbuf[self.re..]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                r => break r,
            }
        };
        if nonblocking {
            self.sock.set_nonblocking(false)?;
        }
        match r {
            Ok(0) => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the broker closed the connection",
            )),
            Ok(n) => {
                self.re += n;
                self.last_read = Instant::now();
                Ok(())
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Ok(())
            }
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_frames() {
        let mut w = Vec::new();
        let at = frame_start(&mut w, FRAME_BODY, 1);
        w.extend_from_slice(b"ab");
        frame_end(&mut w, at);
        assert_eq!(w, [3, 0, 1, 0, 0, 0, 2, b'a', b'b', 0xCE]);
    }

    #[test]
    fn properties_of_a_publish() {
        // A connection-less Conn is not needed: the header frame is the part
        // after the method frame in the write buffer.
        let sock = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let s = TcpStream::connect(sock.local_addr().unwrap()).unwrap();
        let mut c = Conn {
            sock: s,
            rbuf: Vec::new(),
            rs: 0,
            re: 0,
            wbuf: Vec::new(),
            body_max: 1000,
            heartbeat: None,
            last_read: Instant::now(),
            last_write: Instant::now(),
            timeout_set: Cell::new(None),
        };
        let p = Publish {
            exchange: "x",
            routing_key: "k",
            content_type: Some("application/json"),
            delivery_mode: 2,
        };
        c.publish_to(&p, b"{}").unwrap();
        let w = &c.wbuf;
        let method_len = u32::from_be_bytes(w[3..7].try_into().unwrap()) as usize;
        let h = &w[8 + method_len..];
        assert_eq!(h[0], FRAME_HEADER);
        // class 60, weight 0, body size 2, flags 0x9000, "application/json", 2
        let mut want = vec![0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0x90, 0, 16];
        want.extend_from_slice(b"application/json");
        want.push(2);
        assert_eq!(&h[7..7 + want.len()], &want[..]);
    }

    #[test]
    fn tables() {
        let mut w = Vec::new();
        intelmq_queue_args(&mut w);
        let mut want = vec![0, 0, 0, 22, 12];
        want.extend_from_slice(b"x-queue-modeS");
        want.extend_from_slice(&[0, 0, 0, 4]);
        want.extend_from_slice(b"lazy");
        assert_eq!(w, want);
    }
}
