//! IntelMQ's Redis pipeline (`intelmq/lib/pipeline.py`, class `Redis`), batched.
//!
//! # URIs
//!
//! * `redis://[[USER]:PASSWORD@]HOST[:PORT]/DB/QUEUE[?consumer=ID&batch=N]`
//!   (port 6379 by default; a lone `PASSWORD@` is a password, as IntelMQ has no
//!   user name);
//! * `redis+unix://[[USER]:PASSWORD@]/PATH/redis.sock?queue=QUEUE[&db=DB&consumer=ID&batch=N]`
//!   (`unix://` is the same; db 2 by default, IntelMQ's pipeline db).
//!
//! Passwords never appear in messages: every label goes through [`super::mask`].
//!
//! # Protocol (the same lists as IntelMQ, so an imq tool can replace one bot)
//!
//! * Producers `LPUSH` to `QUEUE`; a consumer moves messages from its right end
//!   into its in-flight list, `QUEUE-internal` (IntelMQ's name; with
//!   `?consumer=ID`: `QUEUE-internal-ID`), processes them, pushes the output and
//!   only then removes them from the in-flight list.
//! * Start: whatever the in-flight list holds (left by a crashed IntelMQ bot or
//!   imq stage) is processed first, oldest first, as IntelMQ's `LINDEX -1`.
//! * Batches: one server-side script moves up to `batch` messages (default 1000,
//!   at most 4 MiB) per round trip; when the queue is empty, `BLMOVE` waits in
//!   slices of 1 s so that SIGTERM is seen.
//! * Commit: the output is pushed with `LPUSH` (many messages per command) and
//!   the batch is removed from the right end of the in-flight list with `LTRIM`.
//!   When every destination is on the source's server, both happen in one
//!   `MULTI`/`EXEC` (`SELECT` inside it for other dbs): a crash re-delivers the
//!   batch but never doubles a batch whose output was pushed.
//! * One in-flight list has one consumer: a consumer names its connection
//!   (`CLIENT SETNAME imq-TOKEN`) and holds the key `imq-owner:LIST` with its
//!   token; a starting consumer waits while the holder's connection is alive and
//!   takes the list over as soon as it is gone (crash, kill -9).
//! * Connection loss: reconnect with backoff (forever, as IntelMQ); after a
//!   failed round trip the in-flight list is read back (`LLEN`), so that what the
//!   server did before the connection broke is neither lost nor done twice.

use super::{Next, Pos, Sink, Source};
use crate::pipeline::{eprintln_safe, signal};
use anyhow::{bail, Context, Result};
use redis::{Connection, RedisError, Value};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::io;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Messages moved per round trip unless `?batch=N`.
const DEFAULT_BATCH: usize = 1000;
/// Bytes moved per round trip at most (reports can be large).
const MAX_BATCH_BYTES: usize = 4 << 20;
/// Messages per `LPUSH` command.
const PUSH_CHUNK: usize = 512;
/// How long one blocking wait for input lasts, so that a stop request is seen.
const BLOCK_SECS: u64 = 1;
/// Socket timeouts: a dead server is noticed, a big batch still fits.
const IO_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Backoff between reconnection attempts.
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// How long a stopping tool keeps trying to reach the server for its last commit.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// Move up to ARGV[1] messages (at most ARGV[2] bytes) from KEYS[1] to KEYS[2],
/// leaving both lists as that many of IntelMQ's one-at-a-time
/// `BLMOVE src src-internal RIGHT LEFT` would, and return them oldest first.
/// Done with one LRANGE, LTRIM and LPUSH instead of a call per message: the
/// server's own CPU is what limits a hop. (ARGV[3] is unused: kept so the
/// caller's arguments stay those of servers without LMOVE.)
const FETCH_LUA: &str = r"
local n = tonumber(ARGV[1])
local maxb = tonumber(ARGV[2])
local v = redis.call('LRANGE', KEYS[1], -n, -1)
if #v == 0 then return v end
local out = {}
local bytes = 0
local k = 0
for i = #v, 1, -1 do
  k = k + 1
  out[k] = v[i]
  bytes = bytes + #v[i]
  if bytes >= maxb then break end
end
redis.call('LTRIM', KEYS[1], 0, -k - 1)
redis.call('LPUSH', KEYS[2], unpack(out))
return out
";

/// Take the owner key over from a consumer that is gone (compare and set).
const TAKEOVER_LUA: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2])
  return 1
end
return 0
";

/// Where a server is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Place {
    Tcp(String, u16),
    Unix(String),
}

/// A parsed queue URI.
#[derive(Debug, Clone)]
pub struct Addr {
    place: Place,
    user: Option<String>,
    password: Option<String>,
    db: i64,
    queue: String,
    consumer: Option<String>,
    batch: usize,
    /// The URI with the password masked, for messages and dump records.
    label: String,
}

fn pct_decode(s: &str) -> Result<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .with_context(|| format!("bad percent escape in {:?}", super::mask(s)))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).context("percent escapes are not UTF-8")
}

fn pct_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Addr {
    /// Parse a `redis://`, `redis+unix://` or `unix://` URI.
    pub fn parse(uri: &str) -> Result<Addr> {
        let label = super::mask(uri);
        let bad = |why: &str| anyhow::anyhow!("{label}: {why}");
        let (scheme, rest) = uri
            .split_once("://")
            .ok_or_else(|| bad("not a redis URI"))?;
        let unix = match scheme.to_ascii_lowercase().as_str() {
            "redis" => false,
            "redis+unix" | "unix" => true,
            "rediss" => return Err(bad("TLS is not supported (nor by IntelMQ's pipeline)")),
            _ => return Err(bad("not a redis URI")),
        };
        let (main, query) = rest.split_once('?').unwrap_or((rest, ""));
        let slash = main.find('/').unwrap_or(main.len());
        let (authority, path) = main.split_at(slash);
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (user, password) = match userinfo {
            None => (None, None),
            Some(u) => match u.split_once(':') {
                Some((user, pw)) => (
                    (!user.is_empty()).then(|| pct_decode(user)).transpose()?,
                    Some(pct_decode(pw)?),
                ),
                None if u.is_empty() => (None, None),
                None => (None, Some(pct_decode(u)?)),
            },
        };
        let mut db = None;
        let mut queue = None;
        let mut consumer = None;
        let mut batch = DEFAULT_BATCH;
        for kv in query.split('&').filter(|s| !s.is_empty()) {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            let v = pct_decode(v)?;
            match k {
                "db" => db = Some(v.parse().map_err(|_| bad("db must be a number"))?),
                "queue" => queue = Some(v),
                "consumer" => consumer = Some(v),
                "batch" => {
                    batch = v
                        .parse()
                        .ok()
                        .filter(|n| (1..=100_000).contains(n))
                        .ok_or_else(|| bad("batch must be 1..100000"))?
                }
                _ => return Err(bad(&format!("unknown parameter {k:?}"))),
            }
        }
        let place = if unix {
            if !hostport.is_empty() {
                return Err(bad("a unix socket URI has no host: unix:///PATH?queue=Q"));
            }
            if path.is_empty() {
                return Err(bad("no socket path"));
            }
            Place::Unix(pct_decode(path)?)
        } else {
            let (host, port) = match hostport.rsplit_once(':') {
                Some((h, p)) if !h.ends_with(']') || hostport.starts_with('[') => {
                    match p.parse::<u16>() {
                        Ok(p) => (h, p),
                        Err(_) if hostport.starts_with('[') && hostport.ends_with(']') => {
                            (hostport, 6379)
                        }
                        Err(_) => return Err(bad("bad port")),
                    }
                }
                _ => (hostport, 6379),
            };
            if host.is_empty() {
                return Err(bad("no host"));
            }
            let segs = path.strip_prefix('/').unwrap_or(path);
            let (d, q) = segs
                .split_once('/')
                .ok_or_else(|| bad("expected redis://HOST[:PORT]/DB/QUEUE"))?;
            db = Some(
                d.parse()
                    .map_err(|_| bad("expected redis://HOST[:PORT]/DB/QUEUE (DB a number)"))?,
            );
            queue = Some(pct_decode(q)?);
            Place::Tcp(host.to_string(), port)
        };
        let queue = queue
            .filter(|q| !q.is_empty())
            .ok_or_else(|| bad("no queue name"))?;
        if let Some(c) = &consumer {
            if c.is_empty() || c.chars().any(|ch| ch.is_whitespace() || ch.is_control()) {
                return Err(bad("consumer must be a non-empty word"));
            }
        }
        Ok(Addr {
            place,
            user,
            password,
            db: db.unwrap_or(2),
            queue,
            consumer,
            batch,
            label,
        })
    }

    /// The in-flight list of this consumer.
    pub fn inflight(&self) -> String {
        match &self.consumer {
            None => format!("{}-internal", self.queue),
            Some(c) => format!("{}-internal-{c}", self.queue),
        }
    }

    pub fn queue(&self) -> &str {
        &self.queue
    }

    pub fn db(&self) -> i64 {
        self.db
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    /// Same server and credentials: one connection (and one transaction) can
    /// serve both.
    fn same_server(&self, o: &Addr) -> bool {
        self.place == o.place && self.user == o.user && self.password == o.password
    }

    /// The connection URL for the redis crate (holds the password: never shown).
    fn url(&self) -> String {
        let auth = match (&self.user, &self.password) {
            (None, None) => String::new(),
            (u, p) => format!(
                "{}:{}@",
                pct_encode(u.as_deref().unwrap_or("")),
                pct_encode(p.as_deref().unwrap_or(""))
            ),
        };
        match &self.place {
            Place::Tcp(h, p) => format!("redis://{auth}{h}:{p}/{}", self.db),
            Place::Unix(path) => {
                let mut u = format!("redis+unix://{path}?db={}", self.db);
                if let Some(user) = &self.user {
                    u.push_str(&format!("&user={}", pct_encode(user)));
                }
                if let Some(p) = &self.password {
                    u.push_str(&format!("&pass={}", pct_encode(p)));
                }
                u
            }
        }
    }
}

/// Is this error worth a reconnection (as opposed to a refusal by the server)?
fn transient(e: &RedisError) -> bool {
    e.is_io_error()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.is_timeout()
        || matches!(e.code(), Some("LOADING") | Some("TRYAGAIN") | Some("BUSY"))
}

fn io_err(label: &str, e: impl std::fmt::Display) -> io::Error {
    io::Error::other(super::mask(&format!("{label}: {e}")))
}

/// One connection to a server, reconnected on demand.
struct Conn {
    addr: Addr,
    conn: Option<Connection>,
    /// `LMOVE`/`BLMOVE` exist (Redis >= 6.2); else `RPOPLPUSH`/`BRPOPLPUSH`.
    lmove: bool,
    /// Client name for the owner check (`imq-TOKEN`), set on every connect.
    name: Option<String>,
    fetch_sha: String,
    backoff: Duration,
    /// The last failure was reported (one line per outage, not per attempt).
    reported: bool,
}

impl Conn {
    fn new(addr: Addr, name: Option<String>) -> Conn {
        Conn {
            addr,
            conn: None,
            lmove: true,
            name,
            fetch_sha: String::new(),
            backoff: BACKOFF_MIN,
            reported: false,
        }
    }

    /// One connection attempt.
    fn try_connect(&mut self) -> redis::RedisResult<()> {
        let client = redis::Client::open(self.addr.url())?;
        let mut c = client.get_connection_with_timeout(CONNECT_TIMEOUT)?;
        c.set_read_timeout(Some(IO_TIMEOUT))?;
        c.set_write_timeout(Some(IO_TIMEOUT))?;
        // As IntelMQ: INFO for the server version.
        let info: String = redis::cmd("INFO").arg("server").query(&mut c)?;
        let version = info
            .lines()
            .find_map(|l| l.strip_prefix("redis_version:"))
            .unwrap_or("0");
        let mut v = version
            .trim()
            .split('.')
            .map(|x| x.parse::<u32>().unwrap_or(0));
        let (major, minor) = (v.next().unwrap_or(0), v.next().unwrap_or(0));
        self.lmove = (major, minor) >= (6, 2);
        if let Some(n) = &self.name {
            redis::cmd("CLIENT")
                .arg("SETNAME")
                .arg(n)
                .query::<()>(&mut c)?;
        }
        self.fetch_sha = redis::cmd("SCRIPT")
            .arg("LOAD")
            .arg(FETCH_LUA)
            .query(&mut c)?;
        self.conn = Some(c);
        Ok(())
    }

    /// The connection, reconnecting with backoff until it works. Gives up only
    /// when a stop was requested and `STOP_GRACE` has passed.
    fn get(&mut self) -> io::Result<&mut Connection> {
        let started = Instant::now();
        while self.conn.is_none() {
            match self.try_connect() {
                Ok(()) => {
                    if self.reported {
                        eprintln_safe(&format!("{}: connected again", self.addr.label));
                    }
                    self.reported = false;
                    self.backoff = BACKOFF_MIN;
                }
                Err(e) if transient(&e) => {
                    if signal::stop_requested() && started.elapsed() >= STOP_GRACE {
                        return Err(io_err(&self.addr.label, format!("giving up: {e}")));
                    }
                    if !self.reported {
                        eprintln_safe(&super::mask(&format!(
                            "{}: {e}; reconnecting (backoff up to {}s)",
                            self.addr.label,
                            BACKOFF_MAX.as_secs()
                        )));
                        self.reported = true;
                    }
                    std::thread::sleep(self.backoff);
                    self.backoff = (self.backoff * 2).min(BACKOFF_MAX);
                }
                Err(e) => return Err(io_err(&self.addr.label, e)),
            }
        }
        Ok(self.conn.as_mut().expect("connected"))
    }

    /// After an error: drop the connection if it is worth reconnecting, else fail.
    fn failed(&mut self, e: RedisError) -> io::Result<()> {
        if transient(&e) {
            // A stop signal interrupts a blocking wait (EINTR): no outage to report.
            if !self.reported && !signal::stop_requested() {
                eprintln_safe(&super::mask(&format!(
                    "{}: {e}; reconnecting",
                    self.addr.label
                )));
                self.reported = true;
            }
            self.conn = None;
            Ok(())
        } else {
            Err(io_err(&self.addr.label, e))
        }
    }

    /// Run an idempotent command, reconnecting as needed.
    fn retry<T>(
        &mut self,
        mut f: impl FnMut(&mut Connection) -> redis::RedisResult<T>,
    ) -> io::Result<T> {
        loop {
            let c = self.get()?;
            match f(c) {
                Ok(v) => return Ok(v),
                Err(e) => self.failed(e)?,
            }
        }
    }
}

/// Output waiting for a commit, per destination queue.
#[derive(Default)]
pub struct Pending {
    dests: Vec<Dest>,
}

struct Dest {
    db: i64,
    queue: String,
    data: Vec<u8>,
    ends: Vec<usize>,
}

impl Pending {
    fn slot(&mut self, db: i64, queue: &str) -> usize {
        match self
            .dests
            .iter()
            .position(|d| d.db == db && d.queue == queue)
        {
            Some(i) => i,
            None => {
                self.dests.push(Dest {
                    db,
                    queue: queue.to_string(),
                    data: Vec::new(),
                    ends: Vec::new(),
                });
                self.dests.len() - 1
            }
        }
    }

    fn add(&mut self, slot: usize, msg: &[u8]) {
        let d = &mut self.dests[slot];
        d.data.extend_from_slice(msg);
        d.ends.push(d.data.len());
    }

    fn is_empty(&self) -> bool {
        self.dests.iter().all(|d| d.ends.is_empty())
    }

    /// Add the pushes to a transaction opened on a connection in db `home`;
    /// the connection is in `home` again at the end.
    fn push_into(&self, pipe: &mut redis::Pipeline, home: i64) {
        let mut cur = home;
        for d in self.dests.iter().filter(|d| !d.ends.is_empty()) {
            if d.db != cur {
                pipe.cmd("SELECT").arg(d.db).ignore();
                cur = d.db;
            }
            let mut start = 0;
            for chunk in d.ends.chunks(PUSH_CHUNK) {
                let cmd = pipe.cmd("LPUSH").arg(&d.queue);
                for &end in chunk {
                    cmd.arg(&d.data[start..end]);
                    start = end;
                }
                cmd.ignore();
            }
        }
        if cur != home {
            pipe.cmd("SELECT").arg(home).ignore();
        }
    }

    fn clear(&mut self) {
        for d in &mut self.dests {
            d.data.clear();
            d.ends.clear();
            if d.data.capacity() > 8 << 20 {
                d.data.shrink_to(1 << 20);
            }
        }
    }
}

/// What a sink on the source's server needs to hand its output to the source's
/// commit (see [`super::open`]).
pub struct Join {
    addr: Addr,
    pending: Rc<RefCell<Pending>>,
}

impl Join {
    /// Can a sink for `uri` join this source's transaction?
    pub fn accepts(&self, uri: &str) -> bool {
        Addr::parse(uri).is_ok_and(|a| a.same_server(&self.addr))
    }
}

fn token() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let host: String = host
        .trim()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '.')
        .collect();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    static SEQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{host}-{}-{nanos:x}-{seq}", std::process::id())
}

/// Messages from a queue, IntelMQ's way, in batches.
pub struct RedisSource {
    conn: Conn,
    queue: String,
    inflight: String,
    owner_key: String,
    token: String,
    batch: usize,
    /// Messages in the in-flight list that were read but not handed out yet,
    /// in processing order.
    buffer: VecDeque<Vec<u8>>,
    /// Handed out, not acknowledged: the rightmost `handed` of the list.
    handed: usize,
    /// In the list (left of `handed` and `buffer`) but not read yet: left by a
    /// predecessor, or moved by a round trip whose reply was lost.
    unread: usize,
    /// Output of joined sinks, pushed by `ack` in the same transaction.
    pending: Rc<RefCell<Pending>>,
    /// The connection broke during a round trip: read the list's length back.
    resync: bool,
    count: u64,
}

impl RedisSource {
    /// Connect, take the in-flight list and count what a predecessor left in it.
    pub fn open(uri: &str) -> Result<RedisSource> {
        let addr = Addr::parse(uri)?;
        signal::install()?;
        let token = token();
        let inflight = addr.inflight();
        let mut s = RedisSource {
            conn: Conn::new(addr.clone(), Some(format!("imq-{token}"))),
            queue: addr.queue.clone(),
            owner_key: format!("imq-owner:{inflight}"),
            inflight,
            token,
            batch: addr.batch,
            buffer: VecDeque::new(),
            handed: 0,
            unread: 0,
            pending: Rc::new(RefCell::new(Pending::default())),
            resync: false,
            count: 0,
        };
        s.conn.get()?;
        s.take_ownership()?;
        s.resync = true;
        s.sync()?;
        if s.unread > 0 {
            eprintln_safe(&format!(
                "{}: {} message(s) left in {} by a stopped consumer: processing them first",
                s.conn.addr.label, s.unread, s.inflight
            ));
        }
        Ok(s)
    }

    /// What sinks on the same server need to join this source's commits.
    pub fn join(&self) -> Join {
        Join {
            addr: self.conn.addr.clone(),
            pending: Rc::clone(&self.pending),
        }
    }

    /// Become the only consumer of the in-flight list: wait while another
    /// consumer holding it is connected; take it over when it is gone.
    fn take_ownership(&mut self) -> io::Result<()> {
        let mut waited: Option<Instant> = None;
        loop {
            let key = self.owner_key.clone();
            let me = self.token.clone();
            let set: Option<String> = self
                .conn
                .retry(|c| redis::cmd("SET").arg(&key).arg(&me).arg("NX").query(c))?;
            if set.is_some() {
                return Ok(());
            }
            let holder: Option<String> =
                self.conn.retry(|c| redis::cmd("GET").arg(&key).query(c))?;
            let Some(holder) = holder else { continue };
            if holder == me {
                return Ok(());
            }
            let clients: String = self
                .conn
                .retry(|c| redis::cmd("CLIENT").arg("LIST").query(c))?;
            let name = format!("name=imq-{holder} ");
            if !clients.lines().any(|l| l.contains(&name)) {
                let took: i64 = self.conn.retry(|c| {
                    redis::cmd("EVAL")
                        .arg(TAKEOVER_LUA)
                        .arg(1)
                        .arg(&key)
                        .arg(&holder)
                        .arg(&me)
                        .query(c)
                })?;
                if took == 1 {
                    return Ok(());
                }
                continue;
            }
            if signal::stop_requested() {
                return Err(io::Error::other(
                    "stopped while waiting for the in-flight list",
                ));
            }
            if waited.is_none_or(|t| t.elapsed() >= Duration::from_secs(30)) {
                eprintln_safe(&format!(
                    "{}: in-flight list {} is held by a running consumer ({holder}); waiting for it to stop (each worker on one queue needs its own ?consumer=ID)",
                    self.conn.addr.label, self.inflight
                ));
                waited = Some(Instant::now());
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// After a broken round trip (or at start): the list's length tells what the
    /// server did; the owner key tells that the list is still ours.
    fn sync(&mut self) -> io::Result<()> {
        if !self.resync {
            return Ok(());
        }
        let key = self.owner_key.clone();
        let list = self.inflight.clone();
        let (holder, len): (Option<String>, usize) = self.conn.retry(|c| {
            redis::pipe()
                .cmd("GET")
                .arg(&key)
                .cmd("LLEN")
                .arg(&list)
                .query(c)
        })?;
        match holder {
            Some(h) if h == self.token => {}
            None => self.take_ownership()?,
            Some(_) => {
                return Err(io::Error::other(format!(
                    "{}: another consumer took over {} while the connection was down; stopping (its batch is re-delivered)",
                    self.conn.addr.label, self.inflight
                )))
            }
        }
        let known = self.handed + self.buffer.len();
        if len < known {
            return Err(io::Error::other(format!(
                "{}: {} holds {len} messages, {known} expected (was the server's data lost?); stopping",
                self.conn.addr.label, self.inflight
            )));
        }
        self.unread = len - known;
        self.resync = false;
        Ok(())
    }

    /// Read up to a batch of what the list holds unread (oldest first).
    fn read_unread(&mut self) -> io::Result<()> {
        let n = self.unread.min(self.batch);
        // The unread part starts right of the buffer (empty here) and the handed part.
        let hi = -(self.handed as i64) - 1;
        let lo = hi - n as i64 + 1;
        let list = self.inflight.clone();
        let got: Vec<Vec<u8>> = self
            .conn
            .retry(|c| redis::cmd("LRANGE").arg(&list).arg(lo).arg(hi).query(c))?;
        if got.len() != n {
            self.resync = true;
            return Ok(());
        }
        self.unread -= n;
        self.buffer.extend(got.into_iter().rev());
        Ok(())
    }

    /// Move a batch from the queue into the in-flight list (one round trip).
    fn fetch(&mut self) -> io::Result<()> {
        self.conn.get()?;
        let mut cmd = redis::cmd("EVALSHA");
        cmd.arg(&self.conn.fetch_sha)
            .arg(2)
            .arg(&self.queue)
            .arg(&self.inflight)
            .arg(self.batch)
            .arg(MAX_BATCH_BYTES)
            .arg(if self.conn.lmove { "1" } else { "0" });
        let r: redis::RedisResult<Vec<Vec<u8>>> = cmd.query(self.conn.get()?);
        match r {
            Ok(v) => self.buffer.extend(v),
            Err(e) if e.code() == Some("NOSCRIPT") => self.conn.conn = None,
            Err(e) => {
                self.conn.failed(e)?;
                self.resync = true;
            }
        }
        Ok(())
    }

    /// Wait up to a second for one message.
    fn block(&mut self) -> io::Result<()> {
        let lmove = self.conn.lmove;
        let c = self.conn.get()?;
        let cmd = if lmove {
            let mut cmd = redis::cmd("BLMOVE");
            cmd.arg(&self.queue)
                .arg(&self.inflight)
                .arg("RIGHT")
                .arg("LEFT")
                .arg(BLOCK_SECS);
            cmd
        } else {
            let mut cmd = redis::cmd("BRPOPLPUSH");
            cmd.arg(&self.queue).arg(&self.inflight).arg(BLOCK_SECS);
            cmd
        };
        match cmd.query::<Option<Vec<u8>>>(c) {
            Ok(Some(m)) => self.buffer.push_back(m),
            Ok(None) => {}
            Err(e) => {
                self.conn.failed(e)?;
                self.resync = true;
            }
        }
        Ok(())
    }
}

impl Source for RedisSource {
    fn next(&mut self, buf: &mut Vec<u8>) -> io::Result<Next> {
        loop {
            if let Some(mut m) = self.buffer.pop_front() {
                std::mem::swap(buf, &mut m);
                self.handed += 1;
                self.count += 1;
                return Ok(Next::Line);
            }
            if self.resync {
                self.sync()?;
                continue;
            }
            if self.unread > 0 {
                self.read_unread()?;
                continue;
            }
            if signal::stop_requested() {
                return Ok(Next::End);
            }
            self.fetch()?;
            if self.buffer.is_empty() && !self.resync {
                self.block()?;
            }
        }
    }

    fn pos(&self) -> Pos<'_> {
        Pos {
            input: &self.conn.addr.label,
            line: self.count,
        }
    }

    fn idle(&self) -> bool {
        self.buffer.is_empty()
    }

    /// Push the joined sinks' output and drop the handed-out messages from the
    /// in-flight list, in one transaction.
    fn ack(&mut self) -> io::Result<()> {
        let pending = Rc::clone(&self.pending);
        if self.handed == 0 && pending.borrow().is_empty() {
            return Ok(());
        }
        loop {
            self.sync()?;
            let before = self.handed + self.buffer.len() + self.unread;
            let mut pipe = redis::pipe();
            pipe.atomic();
            pending.borrow().push_into(&mut pipe, self.conn.addr.db);
            if self.handed > 0 {
                pipe.cmd("LTRIM")
                    .arg(&self.inflight)
                    .arg(0)
                    .arg(-(self.handed as i64) - 1)
                    .ignore();
            }
            let c = self.conn.get()?;
            match pipe.query::<()>(c) {
                Ok(()) => break,
                Err(e) => {
                    self.conn.failed(e)?;
                    // Did the transaction run before the connection broke? The
                    // list's length says so when it trimmed something.
                    self.resync = true;
                    if self.handed > 0 {
                        let list = self.inflight.clone();
                        let len: usize = self
                            .conn
                            .retry(|c| redis::cmd("LLEN").arg(&list).query(c))?;
                        if len + self.handed == before {
                            break;
                        }
                    }
                }
            }
        }
        pending.borrow_mut().clear();
        self.handed = 0;
        Ok(())
    }
}

impl Drop for RedisSource {
    /// Give the in-flight list free at once (a crash frees it too: the holder's
    /// connection is gone).
    fn drop(&mut self) {
        if let Some(c) = self.conn.conn.as_mut() {
            let _: redis::RedisResult<i64> = redis::cmd("EVAL")
                .arg("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0")
                .arg(1)
                .arg(&self.owner_key)
                .arg(&self.token)
                .query(c);
        }
    }
}

/// Messages to one queue, `LPUSH`ed at commit.
pub struct RedisSink {
    db: i64,
    slot: usize,
    target: Target,
}

enum Target {
    /// Pushed by the source's ack in its transaction.
    Joined(Rc<RefCell<Pending>>),
    /// Pushed by this sink, one transaction per commit.
    Own(Box<Conn>, Pending),
}

impl RedisSink {
    /// A sink with its own connection.
    pub fn open(uri: &str) -> Result<RedisSink> {
        let addr = Addr::parse(uri)?;
        let mut pending = Pending::default();
        let slot = pending.slot(addr.db, &addr.queue);
        let db = addr.db;
        let mut conn = Conn::new(addr, None);
        conn.get()?;
        Ok(RedisSink {
            db,
            slot,
            target: Target::Own(Box::new(conn), pending),
        })
    }

    /// A sink whose output the source's ack pushes (same server).
    pub fn joined(uri: &str, join: &Join) -> Result<RedisSink> {
        let addr = Addr::parse(uri)?;
        if !addr.same_server(&join.addr) {
            bail!("{}: not on the source's server", addr.label);
        }
        let slot = join.pending.borrow_mut().slot(addr.db, &addr.queue);
        Ok(RedisSink {
            db: addr.db,
            slot,
            target: Target::Joined(Rc::clone(&join.pending)),
        })
    }
}

impl Sink for RedisSink {
    fn send(&mut self, _path: &str, msg: &[u8]) -> io::Result<()> {
        match &mut self.target {
            Target::Joined(p) => p.borrow_mut().add(self.slot, msg),
            Target::Own(_, p) => p.add(self.slot, msg),
        }
        Ok(())
    }

    fn commit(&mut self) -> io::Result<()> {
        let Target::Own(conn, pending) = &mut self.target else {
            // The source's ack pushes it, atomically with the acknowledgement.
            return Ok(());
        };
        if pending.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        pipe.atomic();
        pending.push_into(&mut pipe, self.db);
        // At least once: if the connection breaks after the server ran the
        // transaction, it runs again.
        conn.retry(|c| pipe.query::<Value>(c))?;
        pending.clear();
        Ok(())
    }
}

/// A short-lived connection for the queue administration below.
fn admin_conn(a: &Addr) -> Result<Connection> {
    let client = redis::Client::open(a.url()).map_err(|e| io_err(&a.label, e))?;
    let c = client
        .get_connection_with_timeout(CONNECT_TIMEOUT)
        .map_err(|e| io_err(&a.label, e))?;
    c.set_read_timeout(Some(IO_TIMEOUT))?;
    Ok(c)
}

/// The in-flight lists of every consumer of a queue (`QUEUE-internal` and
/// `QUEUE-internal-ID`).
fn inflight_lists(c: &mut Connection, queue: &str) -> redis::RedisResult<Vec<String>> {
    let base = format!("{queue}-internal");
    let mut pattern = String::with_capacity(base.len() + 2);
    for ch in base.chars() {
        if matches!(ch, '*' | '?' | '[' | ']' | '\\') {
            pattern.push('\\');
        }
        pattern.push(ch);
    }
    pattern.push_str("-*");
    let mut keys: Vec<String> =
        redis::Commands::scan_match(c, &pattern)?.collect::<redis::RedisResult<_>>()?;
    keys.push(base);
    Ok(keys)
}

/// What waits in a queue and what its consumers hold in flight.
pub fn depth(uri: &str) -> Result<super::QueueDepth> {
    let a = Addr::parse(uri)?;
    let mut c = admin_conn(&a)?;
    let mut q = || -> redis::RedisResult<(u64, u64)> {
        let waiting: u64 = redis::cmd("LLEN").arg(&a.queue).query(&mut c)?;
        let lists = inflight_lists(&mut c, &a.queue)?;
        let mut inflight = 0u64;
        for l in lists {
            inflight += redis::cmd("LLEN").arg(&l).query::<u64>(&mut c)?;
        }
        Ok((waiting, inflight))
    };
    let (waiting, inflight) = q().map_err(|e| io_err(&a.label, e))?;
    Ok(super::QueueDepth {
        waiting,
        in_flight: Some(inflight),
    })
}

/// Remove what waits in a queue (not what a consumer holds in flight).
pub fn clear(uri: &str) -> Result<u64> {
    let a = Addr::parse(uri)?;
    let mut c = admin_conn(&a)?;
    let (n, _deleted): (u64, u64) = redis::pipe()
        .atomic()
        .cmd("LLEN")
        .arg(&a.queue)
        .cmd("DEL")
        .arg(&a.queue)
        .query(&mut c)
        .map_err(|e| io_err(&a.label, e))?;
    Ok(n)
}

/// The queues of IntelMQ's naming (`*-queue`) in the URI's database.
pub fn list_queues(uri: &str) -> Result<Vec<String>> {
    let a = Addr::parse(uri)?;
    let mut c = admin_conn(&a)?;
    let mut keys: Vec<String> = redis::Commands::scan_match::<_, String>(&mut c, "*-queue")
        .and_then(|it| it.collect::<redis::RedisResult<Vec<String>>>())
        .map_err(|e| io_err(&a.label, e))?;
    keys.sort();
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_uris() {
        let a = Addr::parse("redis://:s3cr%2Ft@10.0.0.1:6380/2/taxonomy-expert-queue").unwrap();
        assert_eq!(a.place, Place::Tcp("10.0.0.1".into(), 6380));
        assert_eq!(a.password.as_deref(), Some("s3cr/t"));
        assert_eq!(a.user, None);
        assert_eq!(a.db, 2);
        assert_eq!(a.queue, "taxonomy-expert-queue");
        assert_eq!(a.inflight(), "taxonomy-expert-queue-internal");
        assert_eq!(
            a.label,
            "redis://:***@10.0.0.1:6380/2/taxonomy-expert-queue"
        );

        let a = Addr::parse("redis://localhost/0/q?consumer=w2&batch=50").unwrap();
        assert_eq!(a.place, Place::Tcp("localhost".into(), 6379));
        assert_eq!(a.inflight(), "q-internal-w2");
        assert_eq!(a.batch, 50);

        let a = Addr::parse("redis://[::1]:7000/3/q").unwrap();
        assert_eq!(a.place, Place::Tcp("[::1]".into(), 7000));

        let a = Addr::parse("redis+unix://:pw@/run/redis/redis.sock?db=2&queue=q").unwrap();
        assert_eq!(a.place, Place::Unix("/run/redis/redis.sock".into()));
        assert_eq!(a.password.as_deref(), Some("pw"));
        assert_eq!(
            a.label,
            "redis+unix://:***@/run/redis/redis.sock?db=2&queue=q"
        );
        let a = Addr::parse("unix:///tmp/r.sock?queue=q").unwrap();
        assert_eq!(a.db, 2);

        for bad in [
            "redis://h/q",
            "redis://h/x/q",
            "redis://h/2/",
            "redis://:pw@h:99999/2/q",
            "rediss://h/2/q",
            "unix:///tmp/r.sock?db=2",
            "redis://h/2/q?bogus=1",
        ] {
            let e = Addr::parse(bad).unwrap_err().to_string();
            assert!(!e.contains("pw@"), "{e}");
        }
        let e = Addr::parse("redis://:topsecret@h:99999/2/q").unwrap_err();
        assert!(!e.to_string().contains("topsecret"), "{e}");
    }

    #[test]
    fn same_server_ignores_db_and_queue() {
        let a = Addr::parse("redis://127.0.0.1:6379/2/a").unwrap();
        let b = Addr::parse("redis://127.0.0.1/5/b").unwrap();
        let c = Addr::parse("redis://:x@127.0.0.1/2/b").unwrap();
        assert!(a.same_server(&b));
        assert!(!a.same_server(&c));
    }
}
