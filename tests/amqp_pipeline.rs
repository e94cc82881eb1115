//! IntelMQ's AMQP pipeline against the real RabbitMQ on 127.0.0.1:5672
//! (guest/guest, vhost `/`; `scripts/services` starts it): a stage reading one
//! queue and writing another delivers everything, survives kill -9 (duplicates
//! only from the batch in flight), SIGTERM (nothing missing or doubled), a
//! second consumer on the same queue and the loss of its connections.
mod common;

use common::rabbit::close_connections_of;
use common::run::{cmd, run};
use imq::net::amqp::{Conn, Event, Opts, Wait};
use std::collections::HashMap;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const ENRICH: &str = env!("CARGO_BIN_EXE_imq-enrich");
/// The loop's batch: the most a crash may double.
const BATCH: usize = imq::pipeline::BATCH as usize;

fn opts() -> Opts {
    Opts {
        host: "127.0.0.1".into(),
        port: 5672,
        user: "guest".into(),
        pass: "guest".into(),
        vhost: "/".into(),
        name: "imq test".into(),
        connect_timeout: Duration::from_secs(5),
    }
}

fn conn() -> Conn {
    Conn::open(&opts()).expect("RabbitMQ on 127.0.0.1:5672 (run scripts/services)")
}

fn uri(queue: &str) -> String {
    format!("amqp://guest:guest@127.0.0.1:5672/%2f/{queue}")
}

/// Two fresh queue names, deleted again when dropped.
struct Queues {
    input: String,
    output: String,
}

impl Queues {
    fn new(test: &str) -> Queues {
        let n = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let base = format!("imq-test-{test}-{}-{n}", std::process::id());
        let q = Queues {
            input: format!("{base}-in"),
            output: format!("{base}-out"),
        };
        let mut c = conn();
        c.declare_queue(&q.input).unwrap();
        c.declare_queue(&q.output).unwrap();
        q
    }
}

impl Drop for Queues {
    fn drop(&mut self) {
        if let Ok(mut c) = Conn::open(&opts()) {
            let _ = c.delete_queue(&self.input);
            let _ = c.delete_queue(&self.output);
        }
    }
}

fn event(i: usize) -> String {
    format!(
        r#"{{"classification.type":"scanner","source.ip":"192.0.2.{}","comment":"{i}","__type":"Event"}}"#,
        i % 250 + 1
    )
}

/// Publish events `from..to` (confirmed).
fn publish(queue: &str, from: usize, to: usize) {
    let mut c = conn();
    c.confirm_select().unwrap();
    for i in from..to {
        c.publish(queue, event(i).as_bytes()).unwrap();
    }
    c.flush().unwrap();
    let mut acked = 0u64;
    let mut scratch = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while acked < (to - from) as u64 {
        match c.event(Wait::Until(deadline), &mut scratch, 0).unwrap() {
            Event::Ack { tag, .. } => acked = acked.max(tag),
            Event::Nothing => panic!("no confirms from RabbitMQ"),
            e => panic!("unexpected {e:?}"),
        }
    }
}

fn ready(queue: &str) -> u32 {
    conn().queue_counts(queue).unwrap().0
}

/// Reads the output queue in the background of a test.
struct Reader {
    c: Conn,
    /// Occurrences of each event number.
    seen: HashMap<usize, u32>,
    total: usize,
    bodies: Vec<Vec<u8>>,
    keep: bool,
    /// Last delivery tag seen and last acknowledged.
    last: u64,
    acked: u64,
}

impl Reader {
    fn new(queue: &str, keep: bool) -> Reader {
        let mut c = conn();
        c.qos(10_000).unwrap();
        c.consume(queue).unwrap();
        Reader {
            c,
            seen: HashMap::new(),
            total: 0,
            bodies: Vec::new(),
            keep,
            last: 0,
            acked: 0,
        }
    }

    /// Read until `stop` says so; false when nothing came for `d` (the machine
    /// may be slow: only a stall fails a test).
    fn read_until(&mut self, d: Duration, mut stop: impl FnMut(&Reader) -> bool) -> bool {
        let mut deadline = Instant::now() + d;
        let mut body = Vec::new();
        loop {
            if stop(self) {
                self.ack();
                return true;
            }
            let wait = Wait::Until((Instant::now() + Duration::from_millis(200)).min(deadline));
            match self.c.event(wait, &mut body, 1 << 20).unwrap() {
                Event::Deliver { tag, .. } => {
                    deadline = Instant::now() + d;
                    self.last = tag;
                    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
                    assert_eq!(v["classification.taxonomy"], "information-gathering", "{v}");
                    let n: usize = v["comment"].as_str().unwrap().parse().unwrap();
                    *self.seen.entry(n).or_default() += 1;
                    self.total += 1;
                    if self.keep {
                        self.bodies.push(body.clone());
                    }
                    if tag % 1000 == 0 {
                        self.ack();
                    }
                }
                Event::Nothing if Instant::now() >= deadline => {
                    self.ack();
                    return false;
                }
                _ => {}
            }
        }
    }

    fn ack(&mut self) {
        if self.last > self.acked {
            self.c.ack(self.last, true);
            self.c.flush().unwrap();
            self.acked = self.last;
        }
    }

    fn unique(&self) -> usize {
        self.seen.len()
    }

    fn doubled(&self) -> usize {
        self.total - self.seen.len()
    }
}

fn stage(q: &Queues, dir: &std::path::Path) -> Child {
    cmd(ENRICH, dir)
        .args([
            "taxonomy",
            "-q",
            "-i",
            &uri(&q.input),
            "-o",
            &uri(&q.output),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn sigterm(c: &Child) {
    let ok = std::process::Command::new("kill")
        .args(["-TERM", &c.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

/// Wait for the stage to exit (at most 20 s); its exit code and stderr.
fn finish(mut c: Child) -> (Option<i32>, String) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(st) = c.try_wait().unwrap() {
            let mut err = String::new();
            use std::io::Read;
            c.stderr.take().unwrap().read_to_string(&mut err).unwrap();
            return (st.code(), err);
        }
        if Instant::now() > deadline {
            let _ = c.kill();
            panic!("the stage did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn one_hop_is_complete_and_byte_identical_to_the_stream() {
    let q = Queues::new("hop");
    let dir = tempfile::tempdir().unwrap();
    let n = 3000;
    publish(&q.input, 0, n);
    let s = stage(&q, dir.path());
    let mut r = Reader::new(&q.output, true);
    assert!(r.read_until(Duration::from_secs(30), |r| r.total >= n));
    sigterm(&s);
    let (code, err) = finish(s);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!((r.unique(), r.doubled()), (n, 0));
    assert_eq!(ready(&q.input), 0);

    // The same bytes, in the same order, as the tool writes on stdout.
    let input: String = (0..n).map(|i| event(i) + "\n").collect();
    let out = run(cmd(ENRICH, dir.path()).arg("taxonomy"), input.as_bytes());
    assert!(out.status.success());
    let want: Vec<&[u8]> = out.stdout.split(|b| *b == b'\n').take(n).collect();
    let got: Vec<&[u8]> = r.bodies.iter().map(|b| b.as_slice()).collect();
    assert_eq!(got, want);
    assert!(got[0].ends_with(br#","__type":"Event"}"#));
}

#[test]
fn kill_9_mid_run_then_restart_loses_nothing() {
    let q = Queues::new("kill");
    let dir = tempfile::tempdir().unwrap();
    let n = 50_000;
    publish(&q.input, 0, n);
    let mut s = stage(&q, dir.path());
    let mut r = Reader::new(&q.output, false);
    assert!(r.read_until(Duration::from_secs(30), |r| r.total >= n / 3));
    s.kill().unwrap();
    s.wait().unwrap();
    let s = stage(&q, dir.path());
    assert!(
        r.read_until(Duration::from_secs(30), |r| r.unique() >= n),
        "only {} of {n}",
        r.unique()
    );
    let t = Instant::now();
    while ready(&q.input) > 0 && t.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    sigterm(&s);
    let (code, err) = finish(s);
    assert_eq!(code, Some(0), "{err}");
    r.read_until(Duration::from_millis(500), |_| false);
    assert_eq!(r.unique(), n);
    assert_eq!(ready(&q.input), 0);
    // Only the batch in flight at the kill comes out twice.
    eprintln!("kill -9: {} of {n} doubled", r.doubled());
    assert!(r.doubled() <= BATCH, "{} doubled", r.doubled());
}

#[test]
fn sigterm_mid_run_loses_and_doubles_nothing() {
    let q = Queues::new("term");
    let dir = tempfile::tempdir().unwrap();
    let n = 50_000;
    publish(&q.input, 0, n);
    let s = stage(&q, dir.path());
    let mut r = Reader::new(&q.output, false);
    assert!(r.read_until(Duration::from_secs(30), |r| r.total >= n / 3));
    sigterm(&s);
    let (code, err) = finish(s);
    assert_eq!(code, Some(0), "{err}");
    r.read_until(Duration::from_millis(500), |_| false);
    // What was read from the input is out, and the rest is still in the queue.
    let left = ready(&q.input) as usize;
    assert!(left > 0, "the run should have been stopped mid-way");
    assert_eq!(r.total + left, n, "{} out, {left} left", r.total);
    assert_eq!(r.doubled(), 0);
    let s = stage(&q, dir.path());
    assert!(r.read_until(Duration::from_secs(30), |r| r.total >= n));
    sigterm(&s);
    assert_eq!(finish(s).0, Some(0));
    r.read_until(Duration::from_millis(300), |_| false);
    assert_eq!((r.unique(), r.doubled()), (n, 0));
}

#[test]
fn two_consumers_share_one_queue() {
    let q = Queues::new("two");
    let dir = tempfile::tempdir().unwrap();
    let n = 50_000;
    let a = stage(&q, dir.path());
    let b = stage(&q, dir.path());
    publish(&q.input, 0, n);
    let mut r = Reader::new(&q.output, false);
    assert!(
        r.read_until(Duration::from_secs(30), |r| r.total >= n),
        "{}",
        r.total
    );
    let (_, consumers) = conn().queue_counts(&q.input).unwrap();
    assert_eq!(consumers, 2);
    sigterm(&a);
    sigterm(&b);
    assert_eq!(finish(a).0, Some(0));
    assert_eq!(finish(b).0, Some(0));
    r.read_until(Duration::from_millis(300), |_| false);
    assert_eq!((r.unique(), r.doubled()), (n, 0));
    assert_eq!(ready(&q.input), 0);
}

#[test]
fn bad_uri_and_unreachable_broker_fail_with_masked_credentials() {
    let dir = tempfile::tempdir().unwrap();
    for (input, want) in [
        ("amqp://u:s3cret@127.0.0.1:1/%2f/q", "cannot consume"),
        ("amqp://u:s3cret@127.0.0.1:5672/%2f/q", "ACCESS_REFUSED"),
        ("amqp://guest:guest@127.0.0.1:5672/no-such-vhost/q", "vhost"),
        ("amqps://u:s3cret@127.0.0.1/%2f/q", "TLS"),
    ] {
        let out = run(cmd(ENRICH, dir.path()).args(["taxonomy", "-i", input]), b"");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{input}: {err}");
        assert!(err.contains(want), "{input}: {err}");
        assert!(!err.contains("s3cret"), "{err}");
    }
}

#[test]
fn lost_connections_are_reopened_and_nothing_is_lost() {
    let q = Queues::new("lost");
    let dir = tempfile::tempdir().unwrap();
    let n = 50_000;
    publish(&q.input, 0, n);
    let s = stage(&q, dir.path());
    let mut r = Reader::new(&q.output, false);
    assert!(r.read_until(Duration::from_secs(30), |r| r.total >= n / 5));
    assert_eq!(close_connections_of(s.id()), 2, "source and sink");
    assert!(
        r.read_until(Duration::from_secs(30), |r| r.unique() >= n),
        "only {} of {n}",
        r.unique()
    );
    let t = Instant::now();
    while ready(&q.input) > 0 && t.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    sigterm(&s);
    let (code, err) = finish(s);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("source reconnected"), "{err}");
    assert!(!err.contains("guest:guest"), "{err}");
    r.read_until(Duration::from_millis(500), |_| false);
    assert_eq!(r.unique(), n);
    assert_eq!(ready(&q.input), 0);
    // What the source received before the broker's close (up to the prefetch
    // window, processed but no longer acknowledgeable), and the sink's
    // unconfirmed batch published again on its new connection.
    eprintln!("connections lost: {} of {n} doubled", r.doubled());
    let bound = imq::transport::amqp::PREFETCH as usize + BATCH;
    assert!(r.doubled() <= bound, "{} doubled", r.doubled());
}
