//! `imq-collect tcp`: IntelMQ's tcp collector. The real `imq-output tcp` (with
//! IntelMQ's `Ok` handshake) sends to it; every event arrives exactly once as a
//! report whose raw is the event's JSON; `Ok` only once the report was written;
//! a cut or oversized message is answered and the connection closed; SIGTERM
//! ends the run with exit 0.
mod common;

use base64::Engine;
use common::run::{cmd, run};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

const COLLECT: &str = env!("CARGO_BIN_EXE_imq-collect");
const OUTPUT: &str = env!("CARGO_BIN_EXE_imq-output");

/// Start the collector; its address from the first line of stderr.
fn start(dir: &Path, args: &[&str], stdout: Stdio) -> (Child, String) {
    let mut c = cmd(COLLECT, dir);
    c.args(args)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    let addr = line
        .split("listening on ")
        .nth(1)
        .map(|a| a.trim().to_string())
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        if !s.is_empty() {
            eprintln!("collector stderr: {s}");
        }
    });
    (child, addr)
}

fn sigterm(child: &mut Child) -> i32 {
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    child.wait().unwrap().code().unwrap_or(-1)
}

fn reports(file: &Path) -> Vec<Value> {
    common::run::lines(&std::fs::read(file).unwrap_or_default())
}

fn raw(r: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(r["raw"].as_str().expect("raw"))
        .expect("base64")
}

fn frame(body: &[u8]) -> Vec<u8> {
    let mut v = (body.len() as u32).to_be_bytes().to_vec();
    v.extend_from_slice(body);
    v
}

/// Everything the collector answers until it closes.
fn answers(s: &mut TcpStream) -> String {
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn imq_output_tcp_to_collector_exactly_once() {
    let d = tempfile::tempdir().unwrap();
    let file = d.path().join("reports.ndjson");
    let (mut child, addr) = start(
        d.path(),
        &[
            "tcp",
            "-p",
            "ip=127.0.0.1",
            "-p",
            "port=0",
            "--feed-name",
            "TCP feed",
            "-o",
            file.to_str().unwrap(),
        ],
        Stdio::null(),
    );
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");
    let port = addr.rsplit(':').next().unwrap();
    let n = 700;
    let events: String = (0..n)
        .map(|i| {
            format!(
                r#"{{"source.ip":"192.0.2.{}","feed.name":"Féed","raw":"eA==","extra.n":{i},"__type":"Event"}}"#,
                i % 250
            ) + "\n"
        })
        .collect();
    // Two senders, so that the collector serves connections side by side.
    let half = events.lines().count() / 2;
    let parts: Vec<String> = [
        events.lines().take(half).collect::<Vec<_>>(),
        events.lines().skip(half).collect::<Vec<_>>(),
    ]
    .iter()
    .map(|l| l.join("\n"))
    .collect();
    let senders: Vec<_> = parts
        .into_iter()
        .map(|part| {
            let (dir, port) = (d.path().to_path_buf(), port.to_string());
            std::thread::spawn(move || {
                let mut c = cmd(OUTPUT, &dir);
                c.args([
                    "tcp",
                    "-p",
                    "ip=127.0.0.1",
                    "-p",
                    &format!("port={port}"),
                    "-p",
                    "counterpart_is_intelmq=true",
                    "--dump",
                ])
                .arg(dir.join("out.dump"));
                run(&mut c, part.as_bytes())
            })
        })
        .collect();
    for s in senders {
        let out = s.join().unwrap();
        assert!(
            out.status.success(),
            "imq-output tcp: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Every event was answered Ok, so its report is already in the file.
    let got = reports(&file);
    assert_eq!(sigterm(&mut child), 0);
    assert_eq!(got.len(), n, "every event once");
    let mut seen: Vec<i64> = got
        .iter()
        .map(|r| {
            assert_eq!(r["__type"], "Report");
            assert_eq!(r["feed.name"], "TCP feed");
            assert_eq!(r["feed.accuracy"], 100.0);
            assert!(r["time.observation"].is_string());
            let ev: Value = serde_json::from_slice(&raw(r)).expect("raw is the event's JSON");
            assert_eq!(ev["raw"], "eA==");
            assert_eq!(ev["feed.name"], "Féed");
            let k = ev["extra.n"].as_i64().unwrap();
            assert_eq!(ev["source.ip"], format!("192.0.2.{}", k % 250));
            k
        })
        .collect();
    seen.sort();
    assert_eq!(seen, (0..n as i64).collect::<Vec<_>>());
    assert_eq!(reports(&file).len(), n, "nothing more after SIGTERM");
}

#[test]
fn cut_oversized_and_empty_messages() {
    let d = tempfile::tempdir().unwrap();
    let file = d.path().join("reports.ndjson");
    let params = d.path().join("p.json");
    std::fs::write(
        &params,
        r#"{"ip": "127.0.0.1", "port": 0, "max_message_size": 100, "name": "N", "provider": "P"}"#,
    )
    .unwrap();
    // IntelMQ's module name and its parameters file.
    let (mut child, addr) = start(
        d.path(),
        &[
            "--intelmq",
            "intelmq.bots.collectors.tcp.collector",
            "--params",
            params.to_str().unwrap(),
            "-o",
            file.to_str().unwrap(),
        ],
        Stdio::null(),
    );
    // A message, then the end of the stream between messages: Ok, End.
    let mut s = TcpStream::connect(&addr).unwrap();
    s.write_all(&frame(b"first")).unwrap();
    s.write_all(&frame(b"")).unwrap();
    s.write_all(&frame(b"second")).unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    assert_eq!(answers(&mut s), "OkOkOkEnd");
    // A message cut short.
    let mut s = TcpStream::connect(&addr).unwrap();
    s.write_all(&frame(b"third")).unwrap();
    let mut cut = frame(b"0123456789");
    cut.truncate(8);
    s.write_all(&cut).unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    assert_eq!(answers(&mut s), "OkIncomplete message");
    // A length cut short.
    let mut s = TcpStream::connect(&addr).unwrap();
    s.write_all(&[0, 0]).unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    assert_eq!(answers(&mut s), "Incomplete message");
    // Longer than max_message_size: refused before it is read, and closed.
    let mut s = TcpStream::connect(&addr).unwrap();
    s.write_all(&frame(&[b'x'; 101])).unwrap();
    assert_eq!(answers(&mut s), "Message too large");
    // A length of 4 GiB - 1 is refused the same way (no allocation of it).
    let mut s = TcpStream::connect(&addr).unwrap();
    s.write_all(&[0xff, 0xff, 0xff, 0xff]).unwrap();
    assert_eq!(answers(&mut s), "Message too large");
    // Exactly the limit is taken.
    let mut s = TcpStream::connect(&addr).unwrap();
    s.write_all(&frame(&[b'y'; 100])).unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    assert_eq!(answers(&mut s), "OkEnd");
    assert_eq!(sigterm(&mut child), 0);
    let got = reports(&file);
    let raws: Vec<Vec<u8>> = got.iter().map(raw).collect();
    assert_eq!(
        raws,
        vec![
            b"first".to_vec(),
            b"second".to_vec(),
            b"third".to_vec(),
            vec![b'y'; 100]
        ]
    );
    assert_eq!(got[0]["feed.name"], "N");
    assert_eq!(got[0]["feed.provider"], "P");
}

#[test]
fn ok_only_once_the_report_is_written() {
    let d = tempfile::tempdir().unwrap();
    // stdout is a pipe nobody reads yet: a report larger than the pipe's
    // buffer cannot be written, so it cannot be committed, so no Ok.
    let (mut child, addr) = start(
        d.path(),
        &["tcp", "-p", "ip=127.0.0.1", "-p", "port=0"],
        Stdio::piped(),
    );
    let mut s = TcpStream::connect(&addr).unwrap();
    let body = vec![b'z'; 300_000];
    s.write_all(&frame(&body)).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(1500)))
        .unwrap();
    let mut ok = [0u8; 2];
    let early = s.read(&mut ok);
    assert!(
        early.is_err(),
        "answered before the report was written: {early:?}"
    );
    // Reading stdout lets the report through; then comes the Ok.
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let r: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(raw(&r), body);
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.read_exact(&mut ok).unwrap();
    assert_eq!(&ok, b"Ok");
    assert_eq!(sigterm(&mut child), 0);
}

#[test]
fn ip_and_port_are_required_and_help_lists_them() {
    let d = tempfile::tempdir().unwrap();
    let out = run(cmd(COLLECT, d.path()).args(["tcp", "-p", "port=0"]), b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ip is required"));
    let out = run(cmd(COLLECT, d.path()).args(["tcp", "--help"]), b"");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for p in [
        "-p ip=",
        "-p port=",
        "max_message_size",
        "intelmq.bots.collectors.tcp.collector",
    ] {
        assert!(help.contains(p), "{p} in {help}");
    }
}
