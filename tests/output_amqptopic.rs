//! imq-output amqptopic against the real RabbitMQ on 127.0.0.1:5672
//! (guest/guest; `scripts/services` starts it): events published to a topic
//! exchange with templated routing keys reach the bound queues as IntelMQ's
//! JSON; unroutable events and events lacking a routing-key field go to the
//! dump while the rest is delivered; a connection the broker closes mid-run is
//! reopened and nothing is lost; an unreachable broker ends the run with exit 2.
mod common;

use common::rabbit::close_connections_of;
use common::run::{cmd, run};
use imq::net::amqp::{Conn, Event, Opts, Wait};
use serde_json::Value;
use std::collections::HashSet;
use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_imq-output");

fn conn() -> Conn {
    Conn::open(&Opts {
        host: "127.0.0.1".into(),
        port: 5672,
        user: "guest".into(),
        pass: "guest".into(),
        vhost: "/".into(),
        name: "imq test".into(),
        connect_timeout: Duration::from_secs(5),
    })
    .expect("RabbitMQ on 127.0.0.1:5672 (run scripts/services)")
}

/// A fresh name; the queues named after it are deleted when dropped.
struct Names {
    base: String,
    queues: Vec<String>,
}

impl Names {
    fn new(test: &str) -> Names {
        let n = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        Names {
            base: format!("imq-test-topic-{test}-{}-{n}", std::process::id()),
            queues: Vec::new(),
        }
    }
    fn exchange(&self) -> String {
        format!("{}-x", self.base)
    }
    /// A queue bound to the exchange (declared first, as the output would).
    fn bound_queue(&mut self, key: &str) -> String {
        let q = format!("{}-q{}", self.base, self.queues.len());
        let mut c = conn();
        c.declare_exchange(&self.exchange(), "topic", true).unwrap();
        c.declare_queue(&q).unwrap();
        c.bind_queue(&q, &self.exchange(), key).unwrap();
        self.queues.push(q.clone());
        q
    }
}

impl Drop for Names {
    fn drop(&mut self) {
        if let Ok(mut c) = Conn::open(&Opts {
            host: "127.0.0.1".into(),
            port: 5672,
            user: "guest".into(),
            pass: "guest".into(),
            vhost: "/".into(),
            name: "imq test".into(),
            connect_timeout: Duration::from_secs(5),
        }) {
            for q in &self.queues {
                let _ = c.delete_queue(q);
            }
        }
    }
}

/// Everything waiting in `queue` (acknowledged as read), until `n` arrived or
/// the queue stayed quiet for a second.
fn drain(queue: &str, n: usize) -> Vec<String> {
    let mut c = conn();
    c.qos(1000).unwrap();
    c.consume(queue).unwrap();
    let mut out = Vec::new();
    let mut body = Vec::new();
    let mut quiet = Instant::now() + Duration::from_secs(if n > 0 { 30 } else { 1 });
    while out.len() < n || n == 0 {
        match c.event(Wait::Until(quiet), &mut body, usize::MAX).unwrap() {
            Event::Deliver { tag, .. } => {
                out.push(String::from_utf8(body.clone()).unwrap());
                c.ack(tag, false);
                c.flush().unwrap();
                if n == 0 {
                    quiet = Instant::now() + Duration::from_secs(1);
                }
            }
            Event::Nothing => break,
            _ => {}
        }
    }
    // Anything beyond n would be a duplicate: look a moment longer.
    if n > 0 {
        let until = Instant::now() + Duration::from_millis(500);
        while let Event::Deliver { tag, .. } =
            c.event(Wait::Until(until), &mut body, usize::MAX).unwrap()
        {
            out.push(String::from_utf8(body.clone()).unwrap());
            c.ack(tag, false);
            c.flush().unwrap();
        }
    }
    out
}

fn event(i: usize, ty: Option<&str>) -> String {
    let ty = ty
        .map(|t| format!(r#""classification.type":"{t}","#))
        .unwrap_or_default();
    format!(
        r#"{{{ty}"source.ip":"192.0.2.{}","comment":"{i}","raw":"eA==","__type":"Event"}}"#,
        i % 250 + 1
    )
}

fn dump_lines(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn templated_routing_keys_reach_the_bound_queues_as_intelmq_json() {
    let mut names = Names::new("keys");
    let scanners = names.bound_queue("cert.scanner");
    let all = names.bound_queue("cert.#");
    let dir = tempfile::tempdir().unwrap();
    let mut input = String::new();
    for i in 0..300 {
        let ty = match i % 3 {
            0 => Some("scanner"),
            1 => Some("phishing"),
            _ if i == 2 => None,
            _ => Some("malware-distribution"),
        };
        input.push_str(&event(i, ty));
        input.push('\n');
    }
    let mut c = cmd(BIN, dir.path());
    c.args(["amqptopic", "-p", "format_routing_key=true"])
        .args(["-p", "routing_key=cert.{ev[classification.type]}"])
        .args(["-p", &format!("exchange_name={}", names.exchange())])
        .arg("--dump")
        .arg(dir.path().join("dump.ndjson"));
    let out = run(&mut c, input.as_bytes());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let dumped = dump_lines(&dir.path().join("dump.ndjson"));
    assert_eq!(dumped.len(), 1, "{dumped:?}");
    assert!(
        dumped[0].to_string().contains("classification.type"),
        "{dumped:?}"
    );
    let s = drain(&scanners, 100);
    assert_eq!(s.len(), 100);
    // IntelMQ's body: sorted keys, Python's separators, raw removed, no __type.
    assert_eq!(
        s[0],
        r#"{"classification.type": "scanner", "comment": "0", "source.ip": "192.0.2.1"}"#
    );
    let a = drain(&all, 299);
    assert_eq!(a.len(), 299);
    let comments: HashSet<String> = a
        .iter()
        .map(|b| {
            serde_json::from_str::<Value>(b).unwrap()["comment"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(comments.len(), 299);
    assert!(!comments.contains("2"));
}

#[test]
fn unroutable_events_go_to_the_dump_and_the_rest_is_delivered() {
    let mut names = Names::new("unroutable");
    let q = names.bound_queue("scanner");
    let dir = tempfile::tempdir().unwrap();
    let input: String = (0..200)
        .map(|i| event(i, Some(if i % 4 == 0 { "phishing" } else { "scanner" })) + "\n")
        .collect();
    let mut c = cmd(BIN, dir.path());
    c.args(["amqptopic", "-p", "format_routing_key=true"])
        .args(["-p", "routing_key={ev[classification.type]}"])
        .args(["-p", &format!("exchange_name={}", names.exchange())])
        .args(["-p", "keep_raw_field=true"])
        .arg("--dump")
        .arg(dir.path().join("dump.ndjson"));
    let out = run(&mut c, input.as_bytes());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let dumped = dump_lines(&dir.path().join("dump.ndjson"));
    assert_eq!(dumped.len(), 50, "{err}");
    assert!(
        dumped[0].to_string().contains("unroutable"),
        "{:?}",
        dumped[0]
    );
    assert!(
        dumped[0].to_string().contains("phishing"),
        "{:?}",
        dumped[0]
    );
    let got = drain(&q, 150);
    assert_eq!(got.len(), 150);
    assert!(got[0].contains(r#""raw": "eA==""#), "{}", got[0]);
}

#[test]
fn a_connection_lost_mid_run_is_reopened_and_nothing_is_lost() {
    let mut names = Names::new("lost");
    let q = names.bound_queue("#");
    let dir = tempfile::tempdir().unwrap();
    let mut child = cmd(BIN, dir.path())
        .args(["amqptopic", "-p", "routing_key=events"])
        .args(["-p", &format!("exchange_name={}", names.exchange())])
        .arg("--dump")
        .arg(dir.path().join("dump.ndjson"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let n = 3000;
    for i in 0..n / 2 {
        writeln!(stdin, "{}", event(i, Some("scanner"))).unwrap();
    }
    stdin.flush().unwrap();
    // The first half is published (the loop commits when input pauses).
    let t = Instant::now();
    while conn().queue_counts(&q).unwrap().0 < (n / 2) as u32 {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "first half not published"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(close_connections_of(child.id()), 1);
    for i in n / 2..n {
        writeln!(stdin, "{}", event(i, Some("scanner"))).unwrap();
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("retrying") || err.contains("delivered after"),
        "{err}"
    );
    let got = drain(&q, n);
    let unique: HashSet<&String> = got.iter().collect();
    assert_eq!(unique.len(), n, "{err}");
    assert_eq!(
        got.len(),
        n,
        "nothing doubled: a batch is confirmed before the next"
    );
}

#[test]
fn an_unreachable_broker_is_exit_2_and_a_wrong_password_is_masked() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut c = cmd(BIN, dir.path());
    c.args(["amqptopic", "-p", &format!("connection_port={port}")])
        .args(["-p", "routing_key=x"]);
    let out = run(&mut c, event(1, None).as_bytes());
    assert_eq!(out.status.code(), Some(2));
    let mut c = cmd(BIN, dir.path());
    c.args([
        "amqptopic",
        "-p",
        "username=guest",
        "-p",
        "password=s3cr3t-pw",
    ])
    .args(["-p", "routing_key=x"]);
    let out = run(&mut c, event(1, None).as_bytes());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!err.contains("s3cr3t-pw"), "{err}");
}

#[test]
fn intelmq_module_and_params_file() {
    let mut names = Names::new("intelmq");
    let q = names.bound_queue("intelmq.events");
    let dir = tempfile::tempdir().unwrap();
    let params = dir.path().join("bot.yaml");
    std::fs::write(
        &params,
        format!(
            "parameters:\n  exchange_name: {}\n  exchange_type: topic\n  routing_key: intelmq.events\n  message_with_type: true\n  message_hierarchical_output: true\n",
            names.exchange()
        ),
    )
    .unwrap();
    let mut c = cmd(BIN, dir.path());
    c.args([
        "--intelmq",
        "intelmq.bots.outputs.amqptopic.output",
        "--params",
    ])
    .arg(&params);
    let out = run(&mut c, event(7, Some("scanner")).as_bytes());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        drain(&q, 1),
        [
            r#"{"__type": "Event", "classification": {"type": "scanner"}, "comment": "7", "source": {"ip": "192.0.2.8"}}"#
        ]
    );
}
