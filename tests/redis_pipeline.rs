//! imq stages on IntelMQ's Redis pipeline, against the real Redis of this
//! machine (127.0.0.1:6379, db 11, queue names unique per test; nothing else is
//! touched) and, for the broker restart, a redis-server of the test's own.
//!
//! Every test counts at the end: each input event exactly once in the output.

use redis::Connection;
use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ENRICH: &str = env!("CARGO_BIN_EXE_imq-enrich");
const DB: i64 = 11;

fn connect(port: u16) -> Connection {
    let c = redis::Client::open(format!("redis://127.0.0.1:{port}/{DB}")).unwrap();
    c.get_connection_with_timeout(Duration::from_secs(5))
        .unwrap_or_else(|e| {
            panic!("these tests need Redis on 127.0.0.1:{port} (scripts/services starts it): {e}")
        })
}

/// Unique queue names of one test, removed before and after.
struct Queues {
    port: u16,
    prefix: String,
}

impl Queues {
    fn new(test: &str, port: u16) -> Queues {
        let q = Queues {
            port,
            prefix: format!("imq-test-{test}-{}", std::process::id()),
        };
        q.clean();
        q
    }
    fn name(&self, n: &str) -> String {
        format!("{}-{n}", self.prefix)
    }
    fn uri(&self, n: &str) -> String {
        format!("redis://127.0.0.1:{}/{DB}/{}", self.port, self.name(n))
    }
    fn clean(&self) {
        if let Ok(c) = redis::Client::open(format!("redis://127.0.0.1:{}/{DB}", self.port)) {
            if let Ok(mut c) = c.get_connection_with_timeout(Duration::from_secs(2)) {
                let keys: Vec<String> = redis::cmd("KEYS")
                    .arg(format!("*{}-*", self.prefix))
                    .query(&mut c)
                    .unwrap_or_default();
                for k in keys {
                    let _: redis::RedisResult<()> = redis::cmd("DEL").arg(k).query(&mut c);
                }
            }
        }
    }
}

impl Drop for Queues {
    fn drop(&mut self) {
        self.clean();
    }
}

/// IntelMQ's wire form (`json.dumps`: `", "`, `\uXXXX`, `__type` last).
fn event(i: usize) -> String {
    format!(
        r#"{{"feed.name": "T\u00e4st", "source.ip": "192.0.2.{}", "classification.type": "c2-server", "comment": "n={i}", "__type": "Event"}}"#,
        i % 250
    )
}

fn fill(c: &mut Connection, queue: &str, from: usize, n: usize) {
    let msgs: Vec<String> = (from..from + n).map(event).collect();
    for chunk in msgs.chunks(5000) {
        let _: () = redis::cmd("LPUSH").arg(queue).arg(chunk).query(c).unwrap();
    }
}

fn llen(c: &mut Connection, key: &str) -> usize {
    redis::cmd("LLEN").arg(key).query(c).unwrap_or(0)
}

/// Each `n=` of the output with how often it occurs; checks the messages too.
fn counts(c: &mut Connection, queue: &str) -> HashMap<usize, usize> {
    let all: Vec<String> = redis::cmd("LRANGE")
        .arg(queue)
        .arg(0)
        .arg(-1)
        .query(c)
        .unwrap();
    let mut m = HashMap::new();
    for (k, line) in all.iter().enumerate() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if k == 0 {
            assert_eq!(v["feed.name"], "Täst", "{line}");
            assert_eq!(v["classification.taxonomy"], "malicious-code", "{line}");
            assert!(line.ends_with(r#","__type":"Event"}"#), "{line}");
        }
        let n: usize = v["comment"].as_str().unwrap()[2..].parse().unwrap();
        *m.entry(n).or_insert(0) += 1;
    }
    m
}

fn assert_exactly_once(m: &HashMap<usize, usize>, n: usize) {
    let missing = (0..n).filter(|i| !m.contains_key(i)).count();
    let doubled: usize = m.values().filter(|&&k| k > 1).map(|k| k - 1).sum();
    let foreign = m.keys().filter(|&&i| i >= n).count();
    assert_eq!(
        (missing, doubled, foreign),
        (0, 0, 0),
        "missing, duplicates, unknown among {n} events"
    );
}

fn stage(dir: &Path, name: &str, input: &str, output: &str) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(format!("{name}.log")))
        .unwrap();
    Command::new(ENRICH)
        .args(["taxonomy", "-i", input, "-o", output, "--dump"])
        .arg(dir.join(format!("{name}.dump")))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

fn log(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(format!("{name}.log"))).unwrap_or_default()
}

fn sigterm(c: &Child) {
    let ok = Command::new("kill")
        .args(["-TERM", &c.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

fn wait_exit(c: &mut Child, secs: u64) -> Option<i32> {
    let t = Instant::now();
    loop {
        if let Some(s) = c.try_wait().unwrap() {
            return s.code();
        }
        if t.elapsed() > Duration::from_secs(secs) {
            let _ = c.kill();
            panic!("the stage did not exit within {secs} s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_for(secs: u64, what: &str, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(
            t.elapsed() < Duration::from_secs(secs),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// All input consumed and committed.
fn drained(c: &mut Connection, q: &Queues, outs: &[&str], total: usize) -> bool {
    let out: usize = outs.iter().map(|o| llen(c, &q.name(o))).sum();
    out >= total && llen(c, &q.name("in")) == 0 && llen(c, &q.name("in-internal")) == 0
}

#[test]
fn kill_9_mid_run_loses_and_doubles_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let q = Queues::new("kill", 6379);
    let mut c = connect(6379);
    let n = 200_000;
    fill(&mut c, &q.name("in"), 0, n);
    let (i, o) = (q.uri("in"), q.uri("out"));
    let mut s = stage(dir.path(), "a", &i, &o);
    wait_for(120, "output", || llen(&mut c, &q.name("out")) >= 40_000);
    s.kill().unwrap(); // SIGKILL
    s.wait().unwrap();
    let done = llen(&mut c, &q.name("out"));
    assert!(done < n, "killed too late to prove anything ({done})");
    let mut s = stage(dir.path(), "b", &i, &o);
    wait_for(180, "the restarted stage", || {
        drained(&mut c, &q, &["out"], n)
    });
    sigterm(&s);
    assert_eq!(wait_exit(&mut s, 20), Some(0), "{}", log(dir.path(), "b"));
    assert_exactly_once(&counts(&mut c, &q.name("out")), n);
}

#[test]
fn sigterm_mid_run_commits_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let q = Queues::new("term", 6379);
    let mut c = connect(6379);
    let n = 60_000;
    fill(&mut c, &q.name("in"), 0, n);
    let (i, o) = (q.uri("in"), q.uri("out"));
    let mut s = stage(dir.path(), "a", &i, &o);
    wait_for(120, "output", || llen(&mut c, &q.name("out")) >= 10_000);
    sigterm(&s);
    assert_eq!(wait_exit(&mut s, 20), Some(0), "{}", log(dir.path(), "a"));
    let done = llen(&mut c, &q.name("out"));
    assert!(done < n, "stopped too late to prove anything ({done})");
    // Nothing handed out is left unacknowledged: the in-flight list holds at
    // most what was moved and not yet processed, the queue the rest.
    let left = llen(&mut c, &q.name("in")) + llen(&mut c, &q.name("in-internal"));
    assert_eq!(done + left, n, "committed + waiting = all");
    let mut s = stage(dir.path(), "b", &i, &o);
    wait_for(120, "the restarted stage", || {
        drained(&mut c, &q, &["out"], n)
    });
    sigterm(&s);
    assert_eq!(wait_exit(&mut s, 20), Some(0), "{}", log(dir.path(), "b"));
    assert_exactly_once(&counts(&mut c, &q.name("out")), n);
    assert!(
        !dir.path().join("a.dump").exists() && !dir.path().join("b.dump").exists(),
        "nothing dumped"
    );
}

#[test]
fn two_consumers_share_one_queue() {
    let dir = tempfile::tempdir().unwrap();
    let q = Queues::new("two", 6379);
    let mut c = connect(6379);
    let n = 60_000;
    let i = q.uri("in");
    let mut a = stage(dir.path(), "a", &format!("{i}?consumer=a"), &q.uri("out-a"));
    let mut b = stage(dir.path(), "b", &format!("{i}?consumer=b"), &q.uri("out-b"));
    std::thread::sleep(Duration::from_millis(300));
    fill(&mut c, &q.name("in"), 0, n);
    wait_for(120, "both consumers", || {
        let out = llen(&mut c, &q.name("out-a")) + llen(&mut c, &q.name("out-b"));
        out >= n
            && llen(&mut c, &q.name("in")) == 0
            && llen(&mut c, &q.name("in-internal-a")) == 0
            && llen(&mut c, &q.name("in-internal-b")) == 0
    });
    sigterm(&a);
    sigterm(&b);
    assert_eq!(wait_exit(&mut a, 20), Some(0), "{}", log(dir.path(), "a"));
    assert_eq!(wait_exit(&mut b, 20), Some(0), "{}", log(dir.path(), "b"));
    let ca = counts(&mut c, &q.name("out-a"));
    let cb = counts(&mut c, &q.name("out-b"));
    assert!(
        !ca.is_empty() && !cb.is_empty(),
        "both did work: {} / {}",
        ca.len(),
        cb.len()
    );
    let mut all = ca;
    for (k, v) in cb {
        *all.entry(k).or_insert(0) += v;
    }
    assert_exactly_once(&all, n);
}

#[test]
fn one_in_flight_list_has_one_consumer() {
    let dir = tempfile::tempdir().unwrap();
    let q = Queues::new("owner", 6379);
    let mut c = connect(6379);
    let (i, o) = (q.uri("in"), q.uri("out"));
    let mut a = stage(dir.path(), "a", &i, &o);
    wait_for(20, "the first consumer", || {
        let owner: Option<String> = redis::cmd("GET")
            .arg(format!("imq-owner:{}", q.name("in-internal")))
            .query(&mut c)
            .unwrap();
        owner.is_some()
    });
    let mut b = stage(dir.path(), "b", &i, &o);
    wait_for(20, "the second consumer to wait", || {
        log(dir.path(), "b").contains("held by a running consumer")
    });
    sigterm(&a);
    assert_eq!(wait_exit(&mut a, 20), Some(0), "{}", log(dir.path(), "a"));
    // The second one takes over as soon as the first is gone.
    fill(&mut c, &q.name("in"), 0, 100);
    wait_for(20, "the second consumer", || {
        drained(&mut c, &q, &["out"], 100)
    });
    sigterm(&b);
    assert_eq!(wait_exit(&mut b, 20), Some(0), "{}", log(dir.path(), "b"));
    assert_exactly_once(&counts(&mut c, &q.name("out")), 100);
}

/// A redis-server of the test's own, persisting every write (as a production
/// pipeline should), so that it can be killed and restarted.
struct Server {
    child: Child,
    port: u16,
    dir: std::path::PathBuf,
}

impl Server {
    fn start(port: u16, dir: &Path) -> Server {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args([
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ])
            .arg("--dir")
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server (scripts/services installs it)");
        let s = Server {
            child,
            port,
            dir: dir.to_path_buf(),
        };
        wait_for(20, "redis-server", || {
            redis::Client::open(format!("redis://127.0.0.1:{port}/"))
                .and_then(|c| c.get_connection_with_timeout(Duration::from_millis(200)))
                .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c))
                .is_ok()
        });
        s
    }
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
    fn restart(&mut self) {
        self.kill();
        *self = Server::start(self.port, &self.dir.clone());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

#[test]
fn broker_restart_mid_run_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let port = 6391;
    let mut server = Server::start(port, dir.path());
    let q = Queues::new("restart", port);
    let mut c = connect(port);
    let n = 30_000;
    fill(&mut c, &q.name("in"), 0, n);
    let (i, o) = (q.uri("in"), q.uri("out"));
    let mut s = stage(dir.path(), "a", &i, &o);
    wait_for(120, "output", || llen(&mut c, &q.name("out")) >= 5_000);
    server.kill(); // SIGKILL: only what was fsynced survives
    std::thread::sleep(Duration::from_millis(500));
    server.restart();
    let mut c = connect(port);
    assert!(
        llen(&mut c, &q.name("out")) < n,
        "restarted too late to prove anything"
    );
    wait_for(120, "the stage to reconnect and finish", || {
        drained(&mut c, &q, &["out"], n)
    });
    sigterm(&s);
    assert_eq!(wait_exit(&mut s, 20), Some(0), "{}", log(dir.path(), "a"));
    let l = log(dir.path(), "a");
    assert!(
        l.contains("reconnecting") && l.contains("connected again"),
        "{l}"
    );
    assert_exactly_once(&counts(&mut c, &q.name("out")), n);
}

#[test]
fn unix_socket_uris() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("redis.sock");
    let mut server = Command::new("redis-server")
        .args([
            "--port",
            "0",
            "--save",
            "",
            "--appendonly",
            "no",
            "--unixsocket",
        ])
        .arg(&sock)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(20, "the socket", || sock.exists());
    let client = redis::Client::open(format!("redis+unix://{}?db={DB}", sock.display())).unwrap();
    let mut c = client.get_connection().unwrap();
    fill(&mut c, "in", 0, 500);
    let i = format!("redis+unix://{}?db={DB}&queue=in", sock.display());
    let o = format!("unix://{}?queue=out&db={DB}", sock.display());
    let mut s = stage(dir.path(), "a", &i, &o);
    wait_for(60, "the stage", || {
        llen(&mut c, "out") >= 500 && llen(&mut c, "in-internal") == 0
    });
    sigterm(&s);
    assert_eq!(wait_exit(&mut s, 20), Some(0), "{}", log(dir.path(), "a"));
    assert_exactly_once(&counts(&mut c, "out"), 500);
    let _ = server.kill();
    let _ = server.wait();
}

#[test]
fn passwords_never_appear_in_messages() {
    let dir = tempfile::tempdir().unwrap();
    // This Redis has no password: AUTH fails, which is fatal (exit 2).
    let uri = "redis://:t0psecret@127.0.0.1:6379/11/imq-test-pw";
    let mut s = stage(dir.path(), "a", uri, "-");
    assert_eq!(wait_exit(&mut s, 20), Some(2));
    let l = log(dir.path(), "a");
    assert!(
        l.contains("redis://:***@127.0.0.1:6379/11/imq-test-pw"),
        "{l}"
    );
    assert!(!l.contains("t0psecret"), "{l}");
    // Nothing listens on port 1: the stage keeps reconnecting, and says so.
    let mut s = stage(dir.path(), "b", "redis://:t0psecret@127.0.0.1:1/2/q", "-");
    wait_for(20, "the reconnection message", || {
        log(dir.path(), "b").contains("reconnecting")
    });
    sigterm(&s);
    let _ = wait_exit(&mut s, 30);
    let l = log(dir.path(), "b");
    assert!(!l.contains("t0psecret"), "{l}");
}
