//! imq-output stomp against RabbitMQ's STOMP adapter on 127.0.0.1:61613
//! (guest/guest; scripts/services enables it). The messages are read back
//! with a small STOMP subscriber of the test's own.
mod common;
use common::run::{cmd, run};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_imq-output");
const PORT: u16 = 61613;

fn events(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            format!(
                r#"{{"source.ip":"192.0.2.{}","feed.name":"Féed \"q\"","raw":"eA==","extra.n":{i},"source.port":{},"__type":"Event"}}"#,
                i % 250,
                i + 1
            )
        })
        .collect()
}

/// IntelMQ's `to_json` of an event of [`events`]: sorted keys, Python's
/// separators, non-ASCII as is; `raw` only when kept.
fn intelmq_json(i: usize, raw: bool) -> String {
    let raw = if raw { r#", "raw": "eA==""# } else { "" };
    format!(
        r#"{{"extra.n": {i}, "feed.name": "Féed \"q\""{raw}, "source.ip": "192.0.2.{}", "source.port": {}}}"#,
        i % 250,
        i + 1
    )
}

/// A STOMP subscriber: CONNECT, SUBSCRIBE (confirmed by a receipt), MESSAGE
/// frames read one by one.
struct Sub {
    r: BufReader<TcpStream>,
}

impl Sub {
    fn new(destination: &str) -> Sub {
        let s = TcpStream::connect(("127.0.0.1", PORT))
            .expect("RabbitMQ STOMP on 61613 (scripts/services enables rabbitmq_stomp)");
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut w = s.try_clone().unwrap();
        let mut sub = Sub {
            r: BufReader::new(s),
        };
        write!(
            w,
            "CONNECT\naccept-version:1.2\nhost:/\nlogin:guest\npasscode:guest\nheart-beat:0,0\n\n\0"
        )
        .unwrap();
        let (cmd, _, _) = sub.frame();
        assert_eq!(cmd, "CONNECTED");
        write!(
            w,
            "SUBSCRIBE\nid:0\ndestination:{destination}\nack:auto\nreceipt:sub\n\n\0"
        )
        .unwrap();
        let (cmd, h, _) = sub.frame();
        assert_eq!(cmd, "RECEIPT", "{h:?}");
        sub
    }

    fn frame(&mut self) -> (String, Vec<String>, Vec<u8>) {
        let mut line = String::new();
        loop {
            line.clear();
            assert!(self.r.read_line(&mut line).unwrap() > 0, "STOMP closed");
            if !line.trim().is_empty() {
                break;
            }
        }
        let cmd = line.trim().to_string();
        let mut headers = Vec::new();
        let mut len = None;
        loop {
            line.clear();
            self.r.read_line(&mut line).unwrap();
            let l = line.trim_end_matches(['\n', '\r']);
            if l.is_empty() {
                break;
            }
            if let Some(n) = l.strip_prefix("content-length:") {
                len = n.parse::<usize>().ok();
            }
            headers.push(l.to_string());
        }
        let body = match len {
            Some(n) => {
                let mut b = vec![0u8; n + 1];
                self.r.read_exact(&mut b).unwrap();
                assert_eq!(b.pop(), Some(0));
                b
            }
            None => {
                let mut b = Vec::new();
                self.r.read_until(0, &mut b).unwrap();
                b.pop();
                b
            }
        };
        (cmd, headers, body)
    }

    /// The bodies of the next `n` messages.
    fn bodies(&mut self, n: usize) -> Vec<String> {
        let end = Instant::now() + Duration::from_secs(30);
        let mut v = Vec::new();
        while v.len() < n && Instant::now() < end {
            let (cmd, h, body) = self.frame();
            assert_eq!(cmd, "MESSAGE", "{h:?} {}", String::from_utf8_lossy(&body));
            v.push(String::from_utf8(body).unwrap());
        }
        v
    }
}

fn output(dir: &Path, args: &[&str], input: &str) -> std::process::Output {
    let mut c = cmd(BIN, dir);
    c.args(args).arg("--dump").arg(dir.join("dump.ndjson"));
    run(&mut c, input.as_bytes())
}

fn delete_queue(q: &str) {
    let _ = std::process::Command::new("rabbitmqctl")
        .args(["delete_queue", q])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
}

#[test]
fn stomp_as_intelmq_module_to_a_queue() {
    let d = tempfile::tempdir().unwrap();
    let q = format!("imq-test-stomp-{}", std::process::id());
    let params = d.path().join("p.json");
    std::fs::write(
        &params,
        serde_json::json!({
            "server": "127.0.0.1", "port": PORT, "exchange": format!("/queue/{q}"),
            "auth_by_ssl_client_certificate": false,
            "username": "guest", "password": "guest",
            "ssl_ca_certificate": "ca.pem", "heartbeat": 60000,
        })
        .to_string(),
    )
    .unwrap();
    // A /queue/ destination: the SEND declares the queue, so sending comes first.
    let out = output(
        d.path(),
        &[
            "--intelmq",
            "intelmq.bots.outputs.stomp.output",
            "--params",
            params.to_str().unwrap(),
        ],
        &events(2500).join("\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut sub = Sub::new(&format!("/queue/{q}"));
    let got = sub.bodies(2500);
    delete_queue(&q);
    assert_eq!(got.len(), 2500);
    for (i, b) in got.iter().enumerate() {
        assert_eq!(b, &intelmq_json(i, false), "message {i}");
    }
}

#[test]
fn stomp_topic_exchange_keep_raw_and_hierarchical() {
    let d = tempfile::tempdir().unwrap();
    let key = format!("imq.test.{}", std::process::id());
    let dest = format!("/exchange/amq.topic/{key}");
    // An exchange destination: only a subscriber already bound gets messages.
    let mut sub = Sub::new(&dest);
    let ex = format!("exchange={dest}");
    let common = [
        "stomp",
        "-p",
        "port=61613",
        "-p",
        "auth_by_ssl_client_certificate=false",
        "-p",
        &ex,
    ];
    let mut args = common.to_vec();
    args.extend(["-p", "keep_raw_field=true"]);
    let out = output(d.path(), &args, &events(3).join("\n"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = sub.bodies(3);
    assert_eq!(
        got,
        (0..3).map(|i| intelmq_json(i, true)).collect::<Vec<_>>()
    );
    let mut args = common.to_vec();
    args.extend([
        "-p",
        "message_hierarchical_output=true",
        "-p",
        "message_with_type=true",
    ]);
    let out = output(d.path(), &args, &events(1).join("\n"));
    assert!(out.status.success());
    assert_eq!(
        sub.bodies(1),
        vec![
            r#"{"__type": "Event", "extra": {"n": 0}, "feed": {"name": "Féed \"q\""}, "source": {"ip": "192.0.2.0", "port": 1}}"#
        ]
    );
    let mut args = common.to_vec();
    args.extend(["-p", "single_key=raw"]);
    let out = output(d.path(), &args, &events(1).join("\n"));
    assert!(out.status.success());
    assert_eq!(sub.bodies(1), vec!["x"]);
    let v: Value = serde_json::from_str(&intelmq_json(0, false)).unwrap();
    assert_eq!(v["source.port"], 1);
}

#[test]
fn stomp_error_frame_is_retried_then_not_delivered() {
    let d = tempfile::tempdir().unwrap();
    // IntelMQ's default destination, /exchange/_push: no such exchange in
    // RabbitMQ, which answers the SEND with an ERROR frame and closes.
    let out = output(
        d.path(),
        &[
            "stomp",
            "-p",
            "port=61613",
            "-p",
            "auth_by_ssl_client_certificate=false",
            "-p",
            "retry_seconds=1",
        ],
        &events(5).join("\n"),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("not delivered"), "{err}");
    assert!(err.contains("ERROR"), "{err}");
    assert!(err.contains("_push"), "{err}");
    assert!(err.contains("retrying"), "{err}");
}

#[test]
fn stomp_bad_login_and_tls_client_certificates() {
    let d = tempfile::tempdir().unwrap();
    let out = output(
        d.path(),
        &[
            "stomp",
            "-p",
            "port=61613",
            "-p",
            "auth_by_ssl_client_certificate=false",
            "-p",
            "password=n0t-the-pw",
        ],
        &events(1).join("\n"),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("refused"), "{err}");
    assert!(!err.contains("n0t-the-pw"), "{err}");
    // IntelMQ's default: a TLS client certificate, not supported yet.
    let out = output(
        d.path(),
        &["stomp", "-p", "port=61613"],
        &events(1).join("\n"),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("TLS client certificates") && err.contains("not supported"),
        "{err}"
    );
}

/// A TCP proxy to RabbitMQ's STOMP port that cuts its first connection after
/// `cut` bytes from the client: the output must reconnect and send again what
/// has no receipt.
fn cutting_proxy(cut: usize) -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for (k, c) in l.incoming().enumerate() {
            let Ok(client) = c else { break };
            let server = TcpStream::connect(("127.0.0.1", PORT)).unwrap();
            let (mut c_r, mut s_w) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            let (mut s_r, mut c_w) = (server, client);
            let limit = if k == 0 { cut } else { usize::MAX };
            std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                let mut n = 0;
                while let Ok(m) = c_r.read(&mut buf) {
                    if m == 0 {
                        break;
                    }
                    let m = m.min(limit - n);
                    if s_w.write_all(&buf[..m]).is_err() {
                        break;
                    }
                    n += m;
                    if n >= limit {
                        // Give the server a moment to answer what it got, then cut.
                        std::thread::sleep(Duration::from_millis(200));
                        let _ = s_w.shutdown(std::net::Shutdown::Both);
                        let _ = c_r.shutdown(std::net::Shutdown::Both);
                        break;
                    }
                }
            });
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut s_r, &mut c_w);
                let _ = c_w.shutdown(std::net::Shutdown::Both);
            });
        }
    });
    port
}

#[test]
fn stomp_connection_cut_mid_batch_resends_without_receipt() {
    let d = tempfile::tempdir().unwrap();
    let q = format!("imq-test-stomp-cut-{}", std::process::id());
    let port = cutting_proxy(100_000);
    let p = format!("port={port}");
    let ex = format!("exchange=/queue/{q}");
    let out = output(
        d.path(),
        &[
            "stomp",
            "-p",
            &p,
            "-p",
            "auth_by_ssl_client_certificate=false",
            "-p",
            &ex,
            "-p",
            "retry_seconds=20",
            "-p",
            "batch_size=3000",
        ],
        &events(2500).join("\n"),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("retrying"), "{err}");
    let mut sub = Sub::new(&format!("/queue/{q}"));
    // At least once: each event arrives, some (received, receipt lost) twice.
    let mut seen = std::collections::BTreeSet::new();
    let mut total = 0;
    let end = Instant::now() + Duration::from_secs(30);
    while seen.len() < 2500 && Instant::now() < end {
        let b = sub.bodies(1);
        let v: Value = serde_json::from_str(&b[0]).unwrap();
        seen.insert(v["extra.n"].as_i64().unwrap());
        total += 1;
    }
    delete_queue(&q);
    assert_eq!(seen.len(), 2500, "{err}");
    assert!(total < 2 * 2500);
}
