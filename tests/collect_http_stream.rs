//! `imq-collect http_stream` against a loopback server written here that
//! streams lines slowly (chunked), drops the first connection in the middle of
//! a chunk, and serves the rest on the next connection: every non-empty line is
//! one report, each written out while the stream is still open; SIGTERM ends
//! the run with exit 0; `stop_at_end` ends it at the stream's end.
mod common;

use base64::Engine;
use common::run::{cmd, lines, run};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const COLLECT: &str = env!("CARGO_BIN_EXE_imq-collect");

/// What the server streams: the first connection's lines, then it breaks; the
/// second's lines, then it ends the body (or, with `hold`, keeps it open).
const FIRST: &[&str] = &["  alpha 1  \n", "\n", "beta\t2\r\n"];
const SECOND: &[&str] = &["gamma 3\n", "   \n", "delta 4", "\n"];
const WANT: &[&str] = &["alpha 1", "beta\t2", "gamma 3", "delta 4"];

struct StreamServer {
    url: String,
    connections: Arc<AtomicUsize>,
    /// The request lines and Authorization headers seen.
    seen: Arc<Mutex<Vec<String>>>,
}

fn chunk(w: &mut TcpStream, data: &str) -> std::io::Result<()> {
    write!(w, "{:x}\r\n{data}\r\n", data.len())?;
    w.flush()
}

/// `hold`: the second connection stays open (after its lines) until the
/// client goes away.
fn server(hold: bool) -> StreamServer {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/stream", listener.local_addr().unwrap());
    let connections = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (c2, s2) = (connections.clone(), seen.clone());
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let n = c2.fetch_add(1, Ordering::SeqCst);
            let mut r = BufReader::new(conn.try_clone().unwrap());
            let mut head = Vec::new();
            loop {
                let mut l = String::new();
                if r.read_line(&mut l).unwrap_or(0) == 0 || l == "\r\n" {
                    break;
                }
                if l.starts_with("GET") || l.to_ascii_lowercase().starts_with("authorization") {
                    head.push(l.trim_end().to_string());
                }
            }
            s2.lock().unwrap().extend(head);
            let _ = conn.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n",
            );
            let lines = if n == 0 { FIRST } else { SECOND };
            for l in lines {
                std::thread::sleep(Duration::from_millis(150));
                if chunk(&mut conn, l).is_err() {
                    break;
                }
            }
            if n == 0 {
                // Broken: a chunk announced and cut short, then the close.
                let _ = conn.write_all(b"40\r\npartial");
                let _ = conn.flush();
                let _ = conn.shutdown(std::net::Shutdown::Both);
                continue;
            }
            if hold {
                // Keep-alive empty lines until the client hangs up.
                let mut buf = [0u8; 1];
                conn.set_read_timeout(Some(Duration::from_millis(200)))
                    .unwrap();
                loop {
                    if chunk(&mut conn, "\n").is_err() {
                        break;
                    }
                    if let Ok(0) = conn.read(&mut buf) {
                        break;
                    }
                }
            } else {
                let _ = conn.write_all(b"0\r\n\r\n");
            }
        }
    });
    StreamServer {
        url,
        connections,
        seen,
    }
}

fn raw(r: &Value) -> String {
    let b = base64::engine::general_purpose::STANDARD
        .decode(r["raw"].as_str().expect("raw"))
        .unwrap();
    String::from_utf8(b).unwrap()
}

fn spawn(args: &[&str]) -> Child {
    let mut c = cmd(COLLECT, Path::new("."));
    c.env_remove("STATE_DIRECTORY")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c.spawn().unwrap()
}

#[test]
fn reconnects_reports_each_line_at_once_and_stops_on_sigterm() {
    let s = server(true);
    let mut child = spawn(&[
        "http_stream",
        &s.url,
        "--feed-name",
        "Stream",
        "--user",
        "u:pw",
        "-p",
        "http_retry_delay=0.2",
    ]);
    // A collector that never writes must not hang the test.
    let pid = child.id();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(30));
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    });
    // The reports come while the stream is still open: each line is
    // committed when no other is waiting.
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut got = Vec::new();
    let start = Instant::now();
    for _ in WANT {
        let mut l = String::new();
        assert!(out.read_line(&mut l).unwrap() > 0, "stdout ended early");
        got.push(serde_json::from_str::<Value>(&l).unwrap());
    }
    assert!(start.elapsed() < Duration::from_secs(20));
    assert_eq!(s.connections.load(Ordering::SeqCst), 2, "one reconnection");
    let raws: Vec<String> = got.iter().map(raw).collect();
    assert_eq!(raws, WANT);
    for r in &got {
        assert_eq!(r["feed.url"], s.url.as_str());
        assert_eq!(r["feed.name"], "Stream");
        assert_eq!(r["__type"], "Report");
        assert!(r["time.observation"].as_str().unwrap().ends_with("+00:00"));
    }
    // The connection is still open (keep-alive newlines make nothing).
    std::thread::sleep(Duration::from_millis(500));
    assert!(child.try_wait().unwrap().is_none(), "still running");
    let t = Instant::now();
    let pid = child.id().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    assert!(rest.trim().is_empty(), "nothing more: {rest}");
    let status = child.wait().unwrap();
    assert!(t.elapsed() < Duration::from_secs(5), "stopped promptly");
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(status.code(), Some(0), "stderr: {err}");
    assert!(
        err.contains("connecting again"),
        "the reconnection is told: {err}"
    );
    assert!(!err.contains("pw"), "the password is printed: {err}");
    let seen = s.seen.lock().unwrap().clone();
    assert_eq!(
        seen.iter().filter(|l| l.starts_with("GET /stream")).count(),
        2
    );
    assert!(
        seen.iter().any(|l| l.ends_with("Basic dTpwdw==")),
        "basic auth sent: {seen:?}"
    );
}

#[test]
fn stop_at_end_is_one_shot() {
    let s = server(false);
    let mut c = cmd(COLLECT, Path::new("."));
    c.env_remove("STATE_DIRECTORY").args([
        "http_stream",
        &s.url,
        "-p",
        "stop_at_end=true",
        "-p",
        "http_retry_delay=0.1",
    ]);
    let o = run(&mut c, b"");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "stderr: {err}");
    let r = lines(&o.stdout);
    let raws: Vec<String> = r.iter().map(raw).collect();
    assert_eq!(raws, WANT);
    assert_eq!(s.connections.load(Ordering::SeqCst), 2);

    // strip_lines false keeps the whitespace (empty lines are still dropped).
    let s = server(false);
    let mut c = cmd(COLLECT, Path::new("."));
    c.env_remove("STATE_DIRECTORY").args([
        "--intelmq",
        "intelmq.bots.collectors.http.collector_http_stream",
        "-p",
        &format!("http_url={}", s.url),
        "-p",
        "strip_lines=false",
        "-p",
        "stop_at_end=true",
        "-p",
        "http_retry_delay=0.1",
    ]);
    let o = run(&mut c, b"");
    assert_eq!(o.status.code(), Some(0));
    let raws: Vec<String> = lines(&o.stdout).iter().map(raw).collect();
    assert_eq!(
        raws,
        ["  alpha 1  ", "beta\t2", "gamma 3", "   ", "delta 4"]
    );
}

#[test]
fn refused_and_unreachable_streams_fail() {
    // A 401 is not retried: exit 2 at once.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut r = BufReader::new(conn.try_clone().unwrap());
            let mut l = String::new();
            while r.read_line(&mut l).unwrap_or(0) > 0 && l != "\r\n" {
                l.clear();
            }
            let _ = conn.write_all(b"HTTP/1.1 401 No\r\nContent-Length: 0\r\n\r\n");
        }
    });
    let mut c = cmd(COLLECT, Path::new("."));
    c.env_remove("STATE_DIRECTORY").args(["http_stream", &url]);
    let o = run(&mut c, b"");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("401"), "{err}");

    // Nobody listening, one-shot: error_max_retries errors, then exit 2.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut c = cmd(COLLECT, Path::new("."));
    c.env_remove("STATE_DIRECTORY").args([
        "http_stream",
        &format!("http://127.0.0.1:{port}/"),
        "-p",
        "stop_at_end=true",
        "-p",
        "error_max_retries=2",
        "-p",
        "http_retry_delay=0.05",
    ]);
    let o = run(&mut c, b"");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.matches("connecting again").count(), 2, "{err}");
    assert!(err.contains("3 errors in a row"), "{err}");
}
