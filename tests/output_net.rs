//! imq-output redis, tcp and udp against real servers on loopback (Redis from
//! scripts/services; a redis-server of the test's own on a spare port to stop
//! and restart; TCP and UDP listeners in the test).
mod common;
use common::run::{cmd, run};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_imq-output");

fn events(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                r#"{{"source.ip":"192.0.2.{}","feed.name":"Féed","raw":"eA==","extra.n":{i},"__type":"Event"}}"#,
                i % 250
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn output(dir: &Path, args: &[&str], input: &str) -> std::process::Output {
    let mut c = cmd(BIN, dir);
    c.args(args).arg("--dump").arg(dir.join("dump.ndjson"));
    run(&mut c, input.as_bytes())
}

fn redis_cli(port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .output()
        .expect("redis-cli (scripts/services installs it)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn spare_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A redis-server of this test's own.
fn redis_server(port: u16, dir: &Path) -> Child {
    let mut c = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .arg("--dir")
        .arg(dir)
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server");
    for _ in 0..100 {
        if redis_cli(port, &["ping"]).trim() == "PONG" {
            return c;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = c.kill();
    let _ = c.wait();
    panic!("redis-server did not start");
}

#[test]
fn redis_lpush_as_intelmq_reads_it() {
    let d = tempfile::tempdir().unwrap();
    let q = format!("imq-test-out-{}", std::process::id());
    redis_cli(6379, &["-n", "2", "del", &q]);
    let params = d.path().join("p.json");
    std::fs::write(&params, serde_json::json!({"redis_queue": q}).to_string()).unwrap();
    let out = output(
        d.path(),
        &[
            "--intelmq",
            "intelmq.bots.outputs.redis.output",
            "--params",
            params.to_str().unwrap(),
        ],
        &events(3000),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(redis_cli(6379, &["-n", "2", "llen", &q]).trim(), "3000");
    // LPUSH: the first event is at the tail, as IntelMQ's one LPUSH per event.
    let raw = redis_cli(6379, &["-n", "2", "lindex", &q, "-1"]);
    assert_eq!(
        raw.trim(),
        r#"{"__type": "Event", "extra.n": 0, "feed.name": "Féed", "raw": "eA==", "source.ip": "192.0.2.0"}"#
    );
    redis_cli(6379, &["-n", "2", "del", &q]);
}

#[test]
fn redis_stopped_mid_run_and_restarted_no_loss() {
    let d = tempfile::tempdir().unwrap();
    let port = spare_port();
    let mut server = redis_server(port, d.path());
    // A slow producer: the output is running when the server goes away.
    let mut c = cmd(BIN, d.path());
    c.args([
        "redis",
        "-p",
        &format!("redis_server_port={port}"),
        "-p",
        "redis_queue=q",
        "-p",
        "retry_seconds=30",
    ])
    .arg("--dump")
    .arg(d.path().join("dump.ndjson"))
    .stdin(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let lines: Vec<String> = events(400).lines().map(String::from).collect();
    for l in &lines[..200] {
        writeln!(stdin, "{l}").unwrap();
    }
    stdin.flush().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(redis_cli(port, &["-n", "2", "llen", "q"]).trim(), "200");
    server.kill().unwrap();
    server.wait().unwrap();
    for l in &lines[200..] {
        writeln!(stdin, "{l}").unwrap();
    }
    stdin.flush().unwrap();
    std::thread::sleep(Duration::from_millis(2000));
    // The data went with the server (no persistence); the rest must arrive.
    let mut server = redis_server(port, d.path());
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("retrying"), "{err}");
    assert_eq!(redis_cli(port, &["-n", "2", "llen", "q"]).trim(), "200");
    let all = redis_cli(port, &["-n", "2", "lrange", "q", "0", "-1"]);
    for i in 200..400 {
        assert!(
            all.contains(&format!("\"extra.n\": {i},")),
            "event {i} lost"
        );
    }
    server.kill().unwrap();
    let _ = server.wait();
}

#[test]
fn tcp_length_prefixed_with_intelmq_ok_handshake() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let mut got = Vec::new();
        // The first connection answers one message "No" and drops at another:
        // the output must reconnect and resend what was not confirmed, only that.
        for round in 0..2 {
            let (mut s, _) = l.accept().unwrap();
            loop {
                let mut len = [0u8; 4];
                if s.read_exact(&mut len).is_err() {
                    break;
                }
                let mut m = vec![0u8; u32::from_be_bytes(len) as usize];
                s.read_exact(&mut m).unwrap();
                let v: Value = serde_json::from_slice(&m).unwrap();
                if round == 0 && v["extra.n"] == 3 {
                    s.write_all(b"No").unwrap();
                    continue;
                }
                if round == 0 && v["extra.n"] == 6 {
                    break;
                }
                got.push(v);
                s.write_all(b"Ok").unwrap();
            }
        }
        got
    });
    let d = tempfile::tempdir().unwrap();
    let out = output(
        d.path(),
        &[
            "tcp",
            "-p",
            "ip=127.0.0.1",
            "-p",
            &format!("port={port}"),
            "-p",
            "retry_seconds=20",
        ],
        &events(10),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = server.join().unwrap();
    let mut n: Vec<i64> = got.iter().map(|v| v["extra.n"].as_i64().unwrap()).collect();
    n.sort();
    assert_eq!(n, (0..10).collect::<Vec<_>>());
    assert_eq!(got[0]["raw"], "eA==");
    assert!(got[0].get("__type").is_none());
}

#[test]
fn tcp_separator_without_handshake() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut all = String::new();
        s.read_to_string(&mut all).unwrap();
        all
    });
    let d = tempfile::tempdir().unwrap();
    let out = output(
        d.path(),
        &[
            "tcp",
            "-p",
            "ip=127.0.0.1",
            "-p",
            &format!("port={port}"),
            "-p",
            "separator=\n",
            "-p",
            "counterpart_is_intelmq=false",
        ],
        &events(3),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all = server.join().unwrap();
    assert_eq!(all.lines().count(), 3);
    assert!(
        all.starts_with(
            r#"{"extra.n": 0, "feed.name": "Féed", "raw": "eA==", "source.ip": "192.0.2.0"}"#
        ),
        "{all}"
    );
}

#[test]
fn udp_json_and_delimited() {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let port = sock.local_addr().unwrap().port();
    let d = tempfile::tempdir().unwrap();
    let input = r#"{"source.ip":"192.0.2.1","event_description.text":"a\tb\u200bc","raw":"eA==","__type":"Event"}
{"source.ip":"192.0.2.2","source.port":80,"__type":"Event"}"#;
    let p = format!("udp_port={port}");
    let out = output(
        d.path(),
        &["udp", "-p", &p, "-p", "format=JSON", "-p", "header=imq: "],
        input,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut buf = [0u8; 65536];
    let n = sock.recv(&mut buf).unwrap();
    assert_eq!(
        std::str::from_utf8(&buf[..n]).unwrap(),
        "imq: {\"event_description.text\": \"a\\tbc\", \"source.ip\": \"192.0.2.1\"}\n"
    );
    let n = sock.recv(&mut buf).unwrap();
    assert!(std::str::from_utf8(&buf[..n])
        .unwrap()
        .contains("\"source.port\": 80"));
    let out = output(
        d.path(),
        &["udp", "-p", &p, "-p", "format=delimited"],
        input,
    );
    assert!(out.status.success());
    let n = sock.recv(&mut buf).unwrap();
    // Control and format characters removed (the tab, the zero-width space).
    assert_eq!(
        std::str::from_utf8(&buf[..n]).unwrap(),
        "<header text>|source.ip:192.0.2.1|event_description.text:abc\n"
    );
}
