//! The contract every transport passes (`src/transport/mod.rs`): the same
//! messages come out, in order; nothing counts as done before `ack`; what was
//! handed out but not acknowledged is delivered again after a crash; what was
//! acknowledged is not.
//!
//! Each transport provides one harness function (fresh input and output for a
//! test, a way to feed the input and read the output directly) and one line in
//! the `contract!` list at the end.

use imq::transport::{self, Endpoints, Next, Source};

/// A transport under test.
trait Harness {
    /// A fresh input (holding what `produce` put there) and output.
    fn input_uri(&self) -> String;
    fn output_uri(&self) -> String;
    /// Put messages into the input, oldest first.
    fn produce(&self, msgs: &[String]);
    /// Everything the output holds, oldest first.
    fn output(&self) -> Vec<String>;
    /// An acknowledged message is gone from the input (queues; a file is read
    /// again from its start by every run).
    fn consumes(&self) -> bool;
}

fn endpoints(h: &dyn Harness) -> Endpoints {
    Endpoints {
        inputs: vec![h.input_uri()],
        output: Some(h.output_uri()),
        max_line: transport::DEFAULT_MAX_LINE,
        ..Default::default()
    }
}

fn messages(tag: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            format!(r#"{{"source.ip": "192.0.2.{}", "comment": "{tag} {i} \u00e4", "__type": "Event"}}"#, i % 250)
        })
        .collect()
}

/// Read `n` messages (a queue never ends; a file may).
fn take(src: &mut dyn Source, n: usize) -> Vec<String> {
    let mut buf = Vec::new();
    let mut out = Vec::new();
    while out.len() < n {
        match src.next(&mut buf).unwrap() {
            Next::Line => out.push(String::from_utf8(buf.clone()).unwrap()),
            Next::Reject(r) => panic!("rejected: {r}"),
            Next::End => break,
        }
    }
    out
}

fn same_messages_out(h: &dyn Harness) {
    let msgs = messages("same", 2500);
    h.produce(&msgs);
    let e = endpoints(h);
    let (mut src, mut sink) = transport::open(&e).unwrap();
    let got = take(src.as_mut(), msgs.len());
    assert_eq!(got.len(), msgs.len());
    assert!(got == msgs, "input order and bytes");
    for m in &got {
        sink.send("_default", m.as_bytes()).unwrap();
    }
    sink.commit().unwrap();
    src.ack().unwrap();
    if h.consumes() {
        // A queue has nothing more: the next read would wait.
        assert!(src.idle(), "the local batch is used up");
    }
    drop((src, sink));
    assert!(h.output() == msgs, "output order and bytes");
}

fn unacknowledged_is_delivered_again(h: &dyn Harness) {
    let msgs = messages("crash", 300);
    h.produce(&msgs);
    let e = endpoints(h);
    {
        let (mut src, mut sink) = transport::open(&e).unwrap();
        let got = take(src.as_mut(), 120);
        assert_eq!(got, msgs[..120]);
        for m in &got {
            sink.send("_default", m.as_bytes()).unwrap();
        }
        // A crash before the commit: neither sink.commit nor source.ack, and
        // nothing buffered is flushed.
        drop(src);
        std::mem::forget(sink);
    }
    let (mut src, mut sink) = transport::open(&e).unwrap();
    let got = take(src.as_mut(), msgs.len());
    assert!(got == msgs, "everything again, oldest first");
    for m in &got {
        sink.send("_default", m.as_bytes()).unwrap();
    }
    sink.commit().unwrap();
    src.ack().unwrap();
    drop((src, sink));
    let out = h.output();
    assert_eq!(
        out.len(),
        msgs.len(),
        "nothing of the crashed batch was pushed"
    );
    assert!(out == msgs);
}

fn acknowledged_is_not_delivered_again(h: &dyn Harness) {
    if !h.consumes() {
        return;
    }
    let msgs = messages("acked", 50);
    h.produce(&msgs);
    let e = endpoints(h);
    {
        let (mut src, mut sink) = transport::open(&e).unwrap();
        for m in take(src.as_mut(), 20) {
            sink.send("_default", m.as_bytes()).unwrap();
        }
        sink.commit().unwrap();
        src.ack().unwrap();
        // Handed out after the ack, then a crash.
        assert_eq!(take(src.as_mut(), 5), msgs[20..25]);
    }
    let (mut src, _sink) = transport::open(&e).unwrap();
    assert_eq!(
        take(src.as_mut(), 30),
        msgs[20..],
        "from the first unacknowledged"
    );
    assert_eq!(h.output(), msgs[..20]);
}

fn ack_comes_after_commit(h: &dyn Harness) {
    // Output sent but not committed is not downstream yet (queues: not
    // pushed; files are checked for the part that matters, after commit).
    let msgs = messages("commit", 10);
    h.produce(&msgs);
    let e = endpoints(h);
    let (mut src, mut sink) = transport::open(&e).unwrap();
    for m in take(src.as_mut(), 10) {
        sink.send("_default", m.as_bytes()).unwrap();
    }
    if h.consumes() {
        assert!(h.output().is_empty(), "pushed before the commit");
    }
    sink.commit().unwrap();
    src.ack().unwrap();
    assert_eq!(h.output(), msgs);
}

// ---------------------------------------------------------------- line files

struct Lines {
    dir: tempfile::TempDir,
}

fn line_harness(_test: &str) -> Box<dyn Harness> {
    Box::new(Lines {
        dir: tempfile::tempdir().unwrap(),
    })
}

impl Harness for Lines {
    fn input_uri(&self) -> String {
        self.dir.path().join("in.ndjson").display().to_string()
    }
    fn output_uri(&self) -> String {
        self.dir.path().join("out.ndjson").display().to_string()
    }
    fn produce(&self, msgs: &[String]) {
        let mut s = msgs.join("\n");
        s.push('\n');
        std::fs::write(self.input_uri(), s).unwrap();
        let _ = std::fs::remove_file(self.output_uri());
    }
    fn output(&self) -> Vec<String> {
        std::fs::read_to_string(self.output_uri())
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect()
    }
    fn consumes(&self) -> bool {
        false
    }
}

// ---------------------------------------------------------------- Redis

/// The pipeline tests' db on the machine's Redis; queue names are unique per
/// test and process, and only those keys are removed.
const REDIS_DB: i64 = 11;

struct RedisQueues {
    input: String,
    output: String,
    conn: std::cell::RefCell<redis::Connection>,
}

fn redis_harness(test: &str) -> Box<dyn Harness> {
    let client = redis::Client::open(format!("redis://127.0.0.1:6379/{REDIS_DB}")).unwrap();
    let conn = client
        .get_connection()
        .expect("these tests need Redis on 127.0.0.1:6379 (scripts/services starts it)");
    let id = format!("imq-contract-{test}-{}", std::process::id());
    let h = RedisQueues {
        input: format!("{id}-in"),
        output: format!("{id}-out"),
        conn: std::cell::RefCell::new(conn),
    };
    h.clean();
    Box::new(h)
}

impl RedisQueues {
    fn clean(&self) {
        let mut c = self.conn.borrow_mut();
        for k in [
            self.input.clone(),
            format!("{}-internal", self.input),
            format!("imq-owner:{}-internal", self.input),
            self.output.clone(),
        ] {
            let _: () = redis::cmd("DEL").arg(k).query(&mut *c).unwrap();
        }
    }
}

impl Drop for RedisQueues {
    fn drop(&mut self) {
        self.clean();
    }
}

impl Harness for RedisQueues {
    fn input_uri(&self) -> String {
        format!("redis://127.0.0.1:6379/{REDIS_DB}/{}", self.input)
    }
    fn output_uri(&self) -> String {
        format!("redis://127.0.0.1/{REDIS_DB}/{}", self.output)
    }
    fn produce(&self, msgs: &[String]) {
        let mut c = self.conn.borrow_mut();
        for chunk in msgs.chunks(1000) {
            let _: () = redis::cmd("LPUSH")
                .arg(&self.input)
                .arg(chunk)
                .query(&mut *c)
                .unwrap();
        }
    }
    fn output(&self) -> Vec<String> {
        let mut v: Vec<String> = redis::cmd("LRANGE")
            .arg(&self.output)
            .arg(0)
            .arg(-1)
            .query(&mut *self.conn.borrow_mut())
            .unwrap();
        v.reverse();
        v
    }
    fn consumes(&self) -> bool {
        true
    }
}

// ---------------------------------------------------------------- RabbitMQ

struct AmqpQueues {
    input: String,
    output: String,
}

fn amqp_opts() -> imq::net::amqp::Opts {
    imq::net::amqp::Opts {
        host: "127.0.0.1".into(),
        port: 5672,
        user: "guest".into(),
        pass: "guest".into(),
        vhost: "/".into(),
        name: "imq contract test".into(),
        connect_timeout: std::time::Duration::from_secs(5),
    }
}

fn amqp_conn() -> imq::net::amqp::Conn {
    imq::net::amqp::Conn::open(&amqp_opts())
        .expect("these tests need RabbitMQ on 127.0.0.1:5672 (scripts/services starts it)")
}

fn amqp_harness(test: &str) -> Box<dyn Harness> {
    let id = format!("imq-contract-{test}-{}", std::process::id());
    let h = AmqpQueues {
        input: format!("{id}-in"),
        output: format!("{id}-out"),
    };
    h.clean();
    Box::new(h)
}

impl AmqpQueues {
    fn clean(&self) {
        let mut c = amqp_conn();
        for q in [&self.input, &self.output] {
            c.delete_queue(q).unwrap();
        }
    }
}

impl Drop for AmqpQueues {
    fn drop(&mut self) {
        self.clean();
    }
}

impl Harness for AmqpQueues {
    fn input_uri(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:5672/%2f/{}", self.input)
    }
    fn output_uri(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1/%2f/{}", self.output)
    }
    fn produce(&self, msgs: &[String]) {
        use imq::net::amqp::{Event, Wait};
        let mut c = amqp_conn();
        c.confirm_select().unwrap();
        c.declare_queue(&self.input).unwrap();
        for m in msgs {
            c.publish(&self.input, m.as_bytes()).unwrap();
        }
        c.flush().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let mut confirmed = 0;
        while confirmed < msgs.len() as u64 {
            match c.event(Wait::Until(deadline), &mut Vec::new(), 0).unwrap() {
                Event::Ack { tag, .. } => confirmed = confirmed.max(tag),
                e => panic!("while publishing: {e:?}"),
            }
        }
    }
    /// Read without acknowledging: closing the connection puts them back.
    fn output(&self) -> Vec<String> {
        use imq::net::amqp::{Event, Wait};
        let mut c = amqp_conn();
        let n = c.declare_queue(&self.output).unwrap() as usize;
        c.qos(0).unwrap();
        c.consume(&self.output).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let mut out = Vec::new();
        let mut body = Vec::new();
        while out.len() < n {
            match c
                .event(Wait::Until(deadline), &mut body, usize::MAX)
                .unwrap()
            {
                Event::Deliver { .. } => out.push(String::from_utf8(body.clone()).unwrap()),
                e => panic!("while reading the output: {e:?}"),
            }
        }
        c.close().unwrap();
        out
    }
    fn consumes(&self) -> bool {
        true
    }
}

// ---------------------------------------------------------------- the list

macro_rules! contract {
    ($name:ident, $harness:ident) => {
        mod $name {
            use super::*;
            #[test]
            fn same_messages_out() {
                super::same_messages_out(&*$harness("same"));
            }
            #[test]
            fn unacknowledged_is_delivered_again() {
                super::unacknowledged_is_delivered_again(&*$harness("crash"));
            }
            #[test]
            fn acknowledged_is_not_delivered_again() {
                super::acknowledged_is_not_delivered_again(&*$harness("acked"));
            }
            #[test]
            fn ack_comes_after_commit() {
                super::ack_comes_after_commit(&*$harness("commit"));
            }
        }
    };
}

contract!(line, line_harness);
contract!(redis_queue, redis_harness);
contract!(amqp_queue, amqp_harness);
