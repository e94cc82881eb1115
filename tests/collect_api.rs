//! `imq-collect api`: POST /intelmq/push bodies become reports; the answer is 200
//! only once the report was written; bearer token, body size limit, 503 when the
//! output does not keep up, SIGTERM ends the run with exit 0.
mod common;

use common::run::cmd;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Stdio};

fn start(args: &[&str]) -> (Child, String) {
    let mut c = cmd(env!("CARGO_BIN_EXE_imq-collect"), Path::new("."));
    c.args(["api", "-p", "port=0"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
    });
    (child, addr)
}

fn post(addr: &str, body: &[u8], auth: Option<&str>) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    let mut req = format!(
        "POST /intelmq/push HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(a) = auth {
        req.push_str(&format!("Authorization: Bearer {a}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let _ = s.write_all(body);
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.lines().next().unwrap_or("").to_string()
}

fn stop(mut child: Child) -> (i32, Vec<serde_json::Value>) {
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let code = child.wait().unwrap().code().unwrap_or(-1);
    (code, common::run::lines(out.as_bytes()))
}

#[test]
fn push_token_and_limit() {
    let (child, addr) = start(&["-p", "api_token=s3cret", "-p", "max_body_size=1000"]);
    assert!(
        addr.starts_with("127.0.0.1:"),
        "loopback by default: {addr}"
    );
    assert!(post(&addr, b"no token", None).contains("401"));
    assert!(post(&addr, b"bad", Some("nope")).contains("401"));
    assert!(post(&addr, &[b'x'; 2000], Some("s3cret")).contains("413"));
    assert!(post(&addr, b"1.2.3.4\n", Some("s3cret")).contains("200"));
    assert!(post(&addr, b"5.6.7.8\n", Some("s3cret")).contains("200"));
    let (code, reports) = stop(child);
    assert_eq!(code, 0);
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0]["raw"], "MS4yLjMuNAo=");
    assert_eq!(reports[0]["feed.name"], "API");
    assert_eq!(reports[0]["feed.provider"], "APICollector");
    assert!(reports[0].get("feed.url").is_none());
}

#[test]
fn back_pressure_is_503() {
    // stdout is not read: the first big report blocks the writer, one more
    // waits in the queue, then the collector refuses with 503.
    let (child, addr) = start(&["-p", "queue_size=1"]);
    let body = vec![b'a'; 200_000];
    let mut statuses = Vec::new();
    let mut handles = Vec::new();
    for _ in 0..6 {
        let (a, b) = (addr.clone(), body.clone());
        handles.push(std::thread::spawn(move || post(&a, &b, None)));
        std::thread::sleep(std::time::Duration::from_millis(150));
    }
    // The refused ones answer at once; the others wait for their commit.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let (code, reports) = stop(child);
    for h in handles {
        statuses.push(h.join().unwrap());
    }
    assert_eq!(code, 0);
    let refused = statuses.iter().filter(|s| s.contains("503")).count();
    let ok = statuses.iter().filter(|s| s.contains("200")).count();
    assert!(refused >= 1, "{statuses:?}");
    assert!(
        ok <= reports.len(),
        "200 only for reports written: {statuses:?}"
    );
}
