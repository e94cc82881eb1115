//! `imq-collect amqp` (IntelMQ's amqp collector) against the real RabbitMQ on
//! 127.0.0.1:5672 (guest/guest, vhost `/`): every message of a queue becomes a
//! report and the queue is empty afterwards; expect_intelmq_message forwards
//! IntelMQ messages as they are and dumps other bodies; kill -9 before the
//! commit loses nothing (the messages are delivered again); follow runs until
//! SIGTERM; TLS and a missing queue are refused clearly.
mod common;

use base64::Engine;
use common::run::{cmd, run};
use imq::net::amqp::{Conn, Event, Opts, Wait};
use serde_json::Value;
use std::collections::HashSet;
use std::io::Read;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

const COLLECT: &str = env!("CARGO_BIN_EXE_imq-collect");

fn opts() -> Opts {
    Opts {
        host: "127.0.0.1".into(),
        port: 5672,
        user: "guest".into(),
        pass: "guest".into(),
        vhost: "/".into(),
        name: "imq collect test".into(),
        connect_timeout: Duration::from_secs(5),
    }
}

fn conn() -> Conn {
    Conn::open(&opts()).expect("RabbitMQ on 127.0.0.1:5672 (run scripts/services)")
}

/// A fresh queue, deleted again when dropped.
struct Queue(String);

impl Queue {
    fn new(test: &str) -> Queue {
        let n = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let q = Queue(format!(
            "imq-test-collect-{test}-{}-{n}",
            std::process::id()
        ));
        conn().declare_queue(&q.0).unwrap();
        q
    }

    /// (ready messages, consumers)
    fn counts(&self) -> (u32, u32) {
        conn().queue_counts(&self.0).unwrap()
    }

    /// Publish the bodies, confirmed by the broker.
    fn publish(&self, bodies: &[Vec<u8>]) {
        let mut c = conn();
        c.confirm_select().unwrap();
        for b in bodies {
            c.publish(&self.0, b).unwrap();
        }
        c.flush().unwrap();
        let mut acked = 0u64;
        let mut scratch = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while acked < bodies.len() as u64 {
            match c.event(Wait::Until(deadline), &mut scratch, 0).unwrap() {
                Event::Ack { tag, .. } => acked = acked.max(tag),
                Event::Nothing => panic!("no confirms from RabbitMQ"),
                e => panic!("unexpected {e:?}"),
            }
        }
    }

    /// Wait until nobody consumes the queue any more.
    fn wait_no_consumer(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.counts().1 > 0 {
            assert!(Instant::now() < deadline, "the consumer never went away");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Queue {
    fn drop(&mut self) {
        if let Ok(mut c) = Conn::open(&opts()) {
            let _ = c.delete_queue(&self.0);
        }
    }
}

fn raw(r: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(r["raw"].as_str().expect("raw"))
        .expect("base64")
}

fn collect(dir: &Path, args: &[&str]) -> std::process::Output {
    let mut c = cmd(COLLECT, dir);
    c.args(args).arg("--dump").arg(dir.join("dump.ndjson"));
    run(&mut c, b"")
}

#[test]
fn every_message_once_and_the_queue_drained() {
    let q = Queue::new("plain");
    let mut bodies: Vec<Vec<u8>> = (0..300)
        .map(|i| format!("192.0.2.{},line {i}\n", i % 250).into_bytes())
        .collect();
    // Any bytes: raw is base64.
    bodies.push(b"\xff\x00binary\r\n".to_vec());
    q.publish(&bodies);
    let d = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let out = collect(
        d.path(),
        &[
            "amqp",
            "-p",
            &format!("queue_name={}", q.0),
            "--feed-name",
            "AMQP Feed",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "ends once the queue is drained"
    );
    let reports = common::run::lines(&out.stdout);
    assert_eq!(reports.len(), bodies.len());
    let got: Vec<Vec<u8>> = reports.iter().map(raw).collect();
    assert_eq!(got, bodies, "every body once, in order");
    for r in &reports {
        assert_eq!(r["__type"], "Report");
        assert_eq!(r["feed.name"], "AMQP Feed");
        assert_eq!(r["feed.accuracy"], 100.0);
        assert!(r["time.observation"].is_string());
    }
    q.wait_no_consumer();
    assert_eq!(q.counts().0, 0, "all acknowledged");
    // Nothing left: a second run emits nothing and succeeds.
    let out = collect(d.path(), &["amqp", "-p", &format!("queue_name={}", q.0)]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
}

#[test]
fn expect_intelmq_message_forwards_messages() {
    let q = Queue::new("intelmq");
    let events: Vec<Vec<u8>> = (0..3)
        .map(|i| {
            format!(
                r#"{{"classification.type":"scanner","source.ip":"192.0.2.{i}","feed.name":"Upstream","__type":"Event"}}"#
            )
            .into_bytes()
        })
        .collect();
    let mut bodies = events.clone();
    bodies.insert(1, b"not json at all".to_vec());
    bodies.push(br#"{"source.ip":"192.0.2.9"}"#.to_vec());
    q.publish(&bodies);
    let d = tempfile::tempdir().unwrap();
    let params = d.path().join("p.json");
    std::fs::write(
        &params,
        format!(
            r#"{{"queue_name": "{}", "expect_intelmq_message": true, "connection_host": "127.0.0.1", "connection_port": 5672, "connection_vhost": "/", "username": "guest", "password": "guest", "name": "Ignored"}}"#,
            q.0
        ),
    )
    .unwrap();
    let out = collect(
        d.path(),
        &[
            "--intelmq",
            "intelmq.bots.collectors.amqp.collector_amqp",
            "--params",
            params.to_str().unwrap(),
        ],
    );
    // Some input went to the dump: exit 1.
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = common::run::lines(&out.stdout);
    assert_eq!(got.len(), 3);
    for (i, e) in got.iter().enumerate() {
        assert_eq!(e["__type"], "Event");
        assert_eq!(e["source.ip"], format!("192.0.2.{i}"));
        assert_eq!(e["feed.name"], "Upstream", "forwarded as is");
        assert!(e.get("raw").is_none());
        assert!(
            e.get("time.observation").is_none(),
            "no report fields added"
        );
    }
    let dump = std::fs::read_to_string(d.path().join("dump.ndjson")).unwrap();
    assert_eq!(dump.lines().count(), 2, "{dump}");
    assert!(dump.contains("not json at all") || dump.contains("bm90IGpzb24gYXQgYWxs"));
    assert!(dump.contains("no __type"), "{dump}");
    q.wait_no_consumer();
    assert_eq!(q.counts().0, 0, "dumped ones are acknowledged too");
}

#[test]
fn kill_9_before_the_commit_loses_nothing() {
    let q = Queue::new("kill");
    let n = 200;
    let bodies: Vec<Vec<u8>> = (0..n)
        .map(|i| {
            let mut b = format!("{i:05}:").into_bytes();
            b.resize(4000, b'x');
            b
        })
        .collect();
    q.publish(&bodies);
    let d = tempfile::tempdir().unwrap();
    // stdout is a pipe not read: once it is full (64 KiB, some 16 reports) the
    // writer blocks before the commit, so the rest is not acknowledged.
    let mut child = cmd(COLLECT, d.path())
        .args(["amqp", "-p", &format!("queue_name={}", q.0)])
        .arg("--dump")
        .arg(d.path().join("dump.ndjson"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while q.counts().0 as usize == n {
        assert!(Instant::now() < deadline, "nothing was delivered");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    child.kill().unwrap();
    child.wait().unwrap();
    let mut first = Vec::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut first)
        .unwrap();
    // Complete lines only: the last may have been cut by the kill.
    let first: Vec<Value> = first
        .split(|b| *b == b'\n')
        .filter_map(|l| serde_json::from_slice(l).ok())
        .collect();
    assert!(
        first.len() < n / 2,
        "{} reports before the kill",
        first.len()
    );
    q.wait_no_consumer();
    let back = q.counts().0 as usize;
    assert!(
        back >= n - first.len(),
        "{back} back in the queue, {} written",
        first.len()
    );
    let out = collect(d.path(), &["amqp", "-p", &format!("queue_name={}", q.0)]);
    assert!(out.status.success());
    let second = common::run::lines(&out.stdout);
    assert_eq!(second.len(), back, "the second run takes what came back");
    let all: HashSet<Vec<u8>> = first.iter().chain(second.iter()).map(raw).collect();
    let want: HashSet<Vec<u8>> = bodies.into_iter().collect();
    assert_eq!(all, want, "no message lost");
    q.wait_no_consumer();
    assert_eq!(q.counts().0, 0);
}

#[test]
fn follow_runs_until_sigterm() {
    let q = Queue::new("follow");
    let d = tempfile::tempdir().unwrap();
    let file = d.path().join("out.ndjson");
    let mut child = cmd(COLLECT, d.path())
        .args([
            "amqp",
            "-p",
            &format!("queue_name={}", q.0),
            "-p",
            "follow=true",
            "-o",
            file.to_str().unwrap(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Longer than idle_timeout: it is still there for the second message.
    q.publish(&[b"one".to_vec()]);
    std::thread::sleep(Duration::from_millis(2500));
    q.publish(&[b"two".to_vec()]);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let n = std::fs::read_to_string(&file)
            .unwrap_or_default()
            .lines()
            .count();
        if n == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "{n} reports");
        std::thread::sleep(Duration::from_millis(50));
    }
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    assert_eq!(child.wait().unwrap().code(), Some(0));
    let got = common::run::lines(&std::fs::read(&file).unwrap());
    let raws: Vec<Vec<u8>> = got.iter().map(raw).collect();
    assert_eq!(raws, vec![b"one".to_vec(), b"two".to_vec()]);
    q.wait_no_consumer();
    assert_eq!(q.counts().0, 0);
}

#[test]
fn tls_and_a_missing_queue_are_refused() {
    let d = tempfile::tempdir().unwrap();
    let out = collect(
        d.path(),
        &["amqp", "-p", "queue_name=x", "-p", "use_ssl=true"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("use_ssl"));
    let out = collect(d.path(), &["amqp"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("queue_name is required"));
    let missing = format!("imq-test-collect-missing-{}", std::process::id());
    let out = collect(
        d.path(),
        &[
            "amqp",
            "-p",
            &format!("queue_name={missing}"),
            "-p",
            "connection_attempts=1",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("NOT_FOUND") && err.contains(&missing), "{err}");
}
