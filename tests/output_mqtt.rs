//! imq-output mqtt against the real Mosquitto on 127.0.0.1:1883 (scripts/services)
//! and against mosquitto brokers of the test's own on spare ports, stopped and
//! restarted mid-run. Messages are read back with mosquitto_sub.
mod common;
use common::run::{cmd, run};
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_imq-output");

fn events(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            format!(
                r#"{{"source.ip":"192.0.2.{}","feed.name":"Féed","raw":"eA==","extra.n":{i},"classification.type":"{}","__type":"Event"}}"#,
                i % 250,
                if i % 2 == 0 { "scanner" } else { "malware-distribution" }
            )
        })
        .collect()
}

fn spare_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `mosquitto_sub -v` on `filter`; its lines (`topic payload`) come through a
/// channel. `session` subscribes with a persistent session of that client id.
struct Sub {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Sub {
    fn start(port: u16, filter: &str, session: Option<&str>) -> Sub {
        let mut c = Command::new("mosquitto_sub");
        c.args(["-h", "127.0.0.1", "-p", &port.to_string(), "-t", filter])
            .args(["-q", "1", "-v"]);
        if let Some(id) = session {
            c.args(["-c", "-i", id]);
        }
        let mut child = c
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto_sub (scripts/services installs mosquitto-clients)");
        let out = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines() {
                let Ok(l) = l else { break };
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        Sub { child, lines: rx }
    }

    /// Wait until the subscription is in place: a probe published to `probe`
    /// (under the filter) comes back.
    fn ready(&self, port: u16, probe: &str) {
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            pub_one(port, probe, "probe");
            if let Ok(l) = self.lines.recv_timeout(Duration::from_millis(300)) {
                if l.starts_with(probe) {
                    // Drain further probes.
                    std::thread::sleep(Duration::from_millis(300));
                    while self.lines.try_recv().is_ok() {}
                    return;
                }
            }
        }
        panic!("mosquitto_sub did not subscribe");
    }

    /// The messages' payloads (JSON), until every `extra.n` in `want` was seen
    /// or the time is up.
    fn collect(&self, want: usize, secs: u64) -> Vec<(String, Value, String)> {
        let end = Instant::now() + Duration::from_secs(secs);
        let mut got = Vec::new();
        let mut seen = BTreeSet::new();
        while seen.len() < want && Instant::now() < end {
            let Ok(l) = self.lines.recv_timeout(Duration::from_millis(200)) else {
                continue;
            };
            let Some((topic, payload)) = l.split_once(' ') else {
                continue;
            };
            let Ok(v) = serde_json::from_str::<Value>(payload) else {
                continue;
            };
            if let Some(n) = v["extra.n"].as_i64() {
                seen.insert(n);
            }
            got.push((topic.to_string(), v, payload.to_string()));
        }
        got
    }
}

impl Drop for Sub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn pub_one(port: u16, topic: &str, msg: &str) {
    let _ = Command::new("mosquitto_pub")
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-t", topic])
        .args(["-q", "1", "-m", msg])
        .stderr(Stdio::null())
        .status();
}

/// A mosquitto of this test's own, keeping its sessions across a restart
/// (persistence in `dir`, no limit on messages queued for an offline client).
struct Broker {
    child: Option<Child>,
    port: u16,
    conf: std::path::PathBuf,
}

impl Broker {
    fn new(dir: &Path) -> Broker {
        // Another test may take the spare port before mosquitto binds it: then
        // mosquitto exits, and a new port is tried.
        for _ in 0..5 {
            let mut b = Broker::on(dir, spare_port());
            std::thread::sleep(Duration::from_millis(200));
            let alive = b
                .child
                .as_mut()
                .is_some_and(|c| matches!(c.try_wait(), Ok(None)));
            if alive {
                return b;
            }
        }
        panic!("mosquitto did not stay up on any spare port");
    }

    fn on(dir: &Path, port: u16) -> Broker {
        let conf = dir.join("mosquitto.conf");
        let mut c = format!(
            "listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\n\
             persistence_location {}/\nmax_queued_messages 0\n",
            dir.display()
        );
        // As root mosquitto would switch to its own user, who cannot write here.
        if is_root() {
            c.push_str("user root\n");
        }
        std::fs::write(&conf, c).unwrap();
        let mut b = Broker {
            child: None,
            port,
            conf,
        };
        b.start();
        b
    }

    fn start(&mut self) {
        let child = Command::new("mosquitto")
            .arg("-c")
            .arg(&self.conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto");
        self.child = Some(child);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("mosquitto did not start on port {}", self.port);
    }

    /// SIGTERM: mosquitto saves its sessions and queued messages and exits.
    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill").arg(c.id().to_string()).status();
            c.wait().unwrap();
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

fn output(dir: &Path, args: &[&str], input: &str) -> std::process::Output {
    let mut c = cmd(BIN, dir);
    c.arg("mqtt")
        .args(args)
        .arg("--dump")
        .arg(dir.join("dump.ndjson"));
    run(&mut c, input.as_bytes())
}

#[test]
fn mqtt_2000_events_to_mosquitto_acknowledged() {
    let d = tempfile::tempdir().unwrap();
    let base = format!("imq-test/{}", std::process::id());
    let sub = Sub::start(1883, &format!("{base}/#"), None);
    sub.ready(1883, &format!("{base}/probe"));
    let topic = format!("topic={base}/events");
    let out = output(d.path(), &["-p", &topic], &events(2000).join("\n"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let got = sub.collect(2000, 30);
    let ns: BTreeSet<i64> = got
        .iter()
        .filter_map(|(_, v, _)| v["extra.n"].as_i64())
        .collect();
    assert_eq!(ns.len(), 2000, "distinct events received");
    // No failure on the way: each exactly once.
    assert_eq!(got.len(), 2000);
    assert!(got.iter().all(|(t, _, _)| *t == format!("{base}/events")));
    // IntelMQ's export: sorted keys, raw removed, no __type.
    let first = got
        .iter()
        .find(|(_, v, _)| v["extra.n"] == 0)
        .map(|(_, _, p)| p.clone())
        .unwrap();
    assert_eq!(
        first,
        r#"{"classification.type": "scanner", "extra.n": 0, "feed.name": "Féed", "source.ip": "192.0.2.0"}"#
    );
}

#[test]
fn mqtt_topic_template_qos0_and_exact_text() {
    let d = tempfile::tempdir().unwrap();
    let base = format!("imq-test/{}-tpl", std::process::id());
    let sub = Sub::start(1883, &format!("{base}/#"), None);
    sub.ready(1883, &format!("{base}/probe"));
    let mut input: Vec<String> = (0..4)
        .map(|i| {
            let t = if i % 2 == 0 { "scanner" } else { "malware-distribution" };
            format!(r#"{{"source.ip":"192.0.2.9","raw":"eA==","extra.n":{i},"extra.t":"{t}","__type":"Event"}}"#)
        })
        .collect();
    input.push(r#"{"source.ip":"192.0.2.9","extra.n":4,"__type":"Event"}"#.into());
    // A topic with a wildcard from the event: that event to the dump.
    input
        .push(r##"{"source.ip":"192.0.2.9","extra.n":5,"extra.t":"a/#","__type":"Event"}"##.into());
    let topic = format!("topic={base}/{{ev[extra.t]}}");
    let out = output(
        d.path(),
        &[
            "-p",
            &topic,
            "-p",
            "format_topic=true",
            "-p",
            "qos=0",
            "-p",
            "keep_raw_field=true",
        ],
        &input.join("\n"),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    // Exit 1: one event went to the dump.
    assert_eq!(out.status.code(), Some(1), "{err}");
    let got = sub.collect(5, 10);
    let mut topics: Vec<(i64, String)> = got
        .iter()
        .map(|(t, v, _)| (v["extra.n"].as_i64().unwrap(), t.clone()))
        .collect();
    topics.sort();
    assert_eq!(
        topics,
        vec![
            (0, format!("{base}/scanner")),
            (1, format!("{base}/malware-distribution")),
            (2, format!("{base}/scanner")),
            (3, format!("{base}/malware-distribution")),
            (4, format!("{base}/None")),
        ]
    );
    assert_eq!(
        got.iter().find(|(_, v, _)| v["extra.n"] == 0).unwrap().2,
        r#"{"extra.n": 0, "extra.t": "scanner", "raw": "eA==", "source.ip": "192.0.2.9"}"#
    );
    let dump = std::fs::read_to_string(d.path().join("dump.ndjson")).unwrap();
    assert!(dump.contains("wildcard"), "{dump}");
    assert_eq!(dump.lines().count(), 1, "{dump}");
}

#[test]
fn mqtt_broker_restarted_mid_run_no_event_lost() {
    let d = tempfile::tempdir().unwrap();
    let mut broker = Broker::new(d.path());
    let port = broker.port;
    // A persistent session: the broker keeps the messages for it across the
    // restart, so what it acknowledged before and after can all be read at the end.
    let subscribed = (0..5).any(|_| {
        let ok = Command::new("mosquitto_sub")
            .args(["-h", "127.0.0.1", "-p", &port.to_string()])
            .args(["-t", "t/#", "-q", "1", "-c", "-i", "imq-durable", "-E"])
            .status()
            .unwrap()
            .success();
        if !ok {
            std::thread::sleep(Duration::from_millis(300));
        }
        ok
    });
    assert!(subscribed, "mosquitto_sub could not subscribe");
    let mut c = cmd(BIN, d.path());
    c.args(["mqtt", "-p", &format!("port={port}"), "-p", "topic=t/ev"])
        .args(["-p", "retry_seconds=30", "-p", "batch_size=100"])
        .arg("--dump")
        .arg(d.path().join("dump.ndjson"))
        .stdin(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let lines = events(1000);
    for l in &lines[..400] {
        writeln!(stdin, "{l}").unwrap();
    }
    stdin.flush().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    broker.stop();
    for l in &lines[400..] {
        writeln!(stdin, "{l}").unwrap();
    }
    stdin.flush().unwrap();
    std::thread::sleep(Duration::from_millis(2000));
    broker.start();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("retrying"), "{err}");
    let sub = Sub::start(port, "t/#", Some("imq-durable"));
    let got = sub.collect(1000, 30);
    let ns: BTreeSet<i64> = got
        .iter()
        .filter_map(|(_, v, _)| v["extra.n"].as_i64())
        .collect();
    let missing: Vec<i64> = (0..1000).filter(|n| !ns.contains(n)).collect();
    assert!(missing.is_empty(), "events lost: {missing:?}\n{err}");
}

#[test]
fn mqtt_retries_run_out_exit_2_not_delivered_password_not_shown() {
    let d = tempfile::tempdir().unwrap();
    let mut broker = Broker::new(d.path());
    let port = broker.port;
    let mut c = cmd(BIN, d.path());
    c.args(["mqtt", "-p", &format!("port={port}")])
        .args(["-p", "username=imq", "-p", "password=s3cr3t-pw"])
        .args(["-p", "retry_seconds=2"])
        .arg("--dump")
        .arg(d.path().join("dump.ndjson"))
        .stdin(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let lines = events(20);
    for l in &lines[..10] {
        writeln!(stdin, "{l}").unwrap();
    }
    stdin.flush().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    broker.stop();
    for l in &lines[10..] {
        writeln!(stdin, "{l}").unwrap();
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("not delivered"), "{err}");
    assert!(err.contains("retrying"), "{err}");
    assert!(!err.contains("s3cr3t-pw"), "{err}");
}

#[test]
fn mqtt_no_broker_at_start_fails_clearly() {
    let d = tempfile::tempdir().unwrap();
    let port = spare_port();
    let out = output(
        d.path(),
        &[
            "-p",
            &format!("port={port}"),
            "-p",
            "password=s3cr3t-pw",
            "-p",
            "username=u",
        ],
        &events(1).join("\n"),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
    assert!(!err.contains("s3cr3t-pw"), "{err}");
}
