//! A loopback stand-in for Elasticsearch/OpenSearch (`_bulk`, index and template
//! checks) and Splunk's HTTP Event Collector, for the output tests and the
//! bench: neither server can be installed on this machine. It speaks enough of
//! both APIs to accept documents, refuse single ones the way the real servers
//! answer (a bulk item with status 400 and an error object; HEC's code 6 with
//! `invalid-event-number`), and fail whole requests with 429/503 or by being
//! stopped and started again on the same port.
//!
//! Rules, by field of the document: `extra.reject` set: refused for good;
//! `extra.busy` set: a bulk item answered 429 the first time it is seen.
#![allow(dead_code)]

use serde_json::{json, Value};
use std::collections::{HashSet, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Default)]
pub struct State {
    /// (index, document) of every document accepted through `_bulk`.
    pub docs: Vec<(String, Value)>,
    /// Events accepted through HEC (the whole HEC object).
    pub hec: Vec<Value>,
    pub templates: HashSet<String>,
    pub indices: HashSet<String>,
    /// Status codes answered to the next bulk/HEC requests, one each.
    pub fail_next: VecDeque<u16>,
    /// `extra.busy` values already answered 429.
    pub busy_seen: HashSet<String>,
    /// Requests seen: (method, path, authorization header).
    pub requests: Vec<(String, String, Option<String>)>,
    /// Count documents without keeping them (the bench).
    pub count_only: bool,
    pub counted: u64,
    /// Bodies posted to `/rest` (restapi): (authorization header, body).
    pub rest: Vec<(Option<String>, Value)>,
    /// The HEC token; requests without it get 401.
    pub hec_token: String,
}

pub struct SearchServer {
    pub addr: SocketAddr,
    pub state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

impl SearchServer {
    pub fn start(state: State) -> SearchServer {
        Self::start_at("127.0.0.1:0".parse().unwrap(), Arc::new(Mutex::new(state)))
    }

    /// Listen on `addr` (port 0: any) with `state`, shared with an earlier run.
    pub fn start_at(addr: SocketAddr, state: Arc<Mutex<State>>) -> SearchServer {
        let listener = TcpListener::bind(addr).expect("bind");
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (state.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if sp.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (st, sp) = (st.clone(), sp.clone());
                std::thread::spawn(move || serve(conn, st, sp));
            }
        });
        SearchServer { addr, state, stop }
    }

    /// Stop listening and close the open connections (after their request).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        // Wait until the port is free again.
        for _ in 0..100 {
            if TcpListener::bind(self.addr).is_ok() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    /// Start again on the same port with the same state.
    pub fn restart(&self) -> SearchServer {
        SearchServer::start_at(self.addr, self.state.clone())
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

fn serve(conn: TcpStream, state: Arc<Mutex<State>>, stop: Arc<AtomicBool>) {
    let _ = conn.set_nodelay(true);
    let mut out = conn.try_clone().unwrap();
    let mut r = BufReader::with_capacity(1 << 16, conn);
    let mut body = Vec::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 || stop.load(Ordering::SeqCst) {
            return;
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let target = parts.next().unwrap_or("").to_string();
        let mut len = 0usize;
        let mut auth = None;
        loop {
            let mut h = String::new();
            if r.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                match k.to_ascii_lowercase().as_str() {
                    "content-length" => len = v.trim().parse().unwrap_or(0),
                    "authorization" => auth = Some(v.trim().to_string()),
                    _ => {}
                }
            }
        }
        body.clear();
        body.resize(len, 0);
        if r.read_exact(&mut body).is_err() {
            return;
        }
        let (status, reply) = handle(&method, &target, auth, &body, &state);
        let head = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            if method == "HEAD" { 0 } else { reply.len() }
        );
        let mut all = head.into_bytes();
        if method != "HEAD" {
            all.extend_from_slice(&reply);
        }
        if out.write_all(&all).is_err() {
            return;
        }
    }
}

fn handle(
    method: &str,
    target: &str,
    auth: Option<String>,
    body: &[u8],
    state: &Mutex<State>,
) -> (u16, Vec<u8>) {
    let mut st = state.lock().unwrap();
    if !st.count_only {
        st.requests
            .push((method.to_string(), target.to_string(), auth.clone()));
    }
    let path = target.split('?').next().unwrap_or("");
    let j = |v: Value| v.to_string().into_bytes();
    match (method, path) {
        ("POST", "/_bulk") => {
            if let Some(s) = st.fail_next.pop_front() {
                return (
                    s,
                    j(
                        json!({"error": {"type": "es_rejected_execution_exception", "reason": "busy"}, "status": s}),
                    ),
                );
            }
            if st.count_only {
                return bulk_count(&mut st, body);
            }
            bulk(&mut st, body)
        }
        ("POST", "/services/collector/event") | ("POST", "/services/collector") => {
            if auth.as_deref() != Some(&format!("Splunk {}", st.hec_token)) {
                return (401, j(json!({"text": "Invalid token", "code": 4})));
            }
            if let Some(s) = st.fail_next.pop_front() {
                return (s, j(json!({"text": "Server is busy", "code": 9})));
            }
            hec(&mut st, body)
        }
        ("HEAD", p) if p.starts_with("/_template/") || p.starts_with("/_index_template/") => {
            let name = p.rsplit('/').next().unwrap_or("");
            (
                if st.templates.contains(name) {
                    200
                } else {
                    404
                },
                Vec::new(),
            )
        }
        ("HEAD", p) => {
            let name = p.trim_start_matches('/');
            (
                if st.indices.contains(name) { 200 } else { 404 },
                Vec::new(),
            )
        }
        ("PUT", p) => {
            let name = p.trim_start_matches('/').to_string();
            if !st.indices.insert(name.clone()) {
                return (
                    400,
                    j(json!({"error": {"type": "resource_already_exists_exception"}})),
                );
            }
            (200, j(json!({"acknowledged": true, "index": name})))
        }
        ("POST", "/rest") => {
            if let Some(s) = st.fail_next.pop_front() {
                return (s, b"busy".to_vec());
            }
            let Ok(v) = serde_json::from_slice::<Value>(body) else {
                return (400, b"not JSON".to_vec());
            };
            let bad =
                |e: &Value| e.get("extra.reject").is_some() || e.pointer("/extra/reject").is_some();
            let refused = match &v {
                Value::Array(a) => a.iter().any(bad),
                e => bad(e),
            };
            if refused {
                return (422, b"extra.reject is not accepted".to_vec());
            }
            st.rest.push((auth, v));
            (201, Vec::new())
        }
        ("GET", "/_count") => (200, j(json!({"count": st.counted + st.docs.len() as u64}))),
        _ => (404, j(json!({"error": "no handler"}))),
    }
}

fn bulk(st: &mut State, body: &[u8]) -> (u16, Vec<u8>) {
    let mut lines = body.split(|&b| b == b'\n').filter(|l| !l.is_empty());
    let mut items = Vec::new();
    let mut errors = false;
    while let Some(action) = lines.next() {
        let Ok(action) = serde_json::from_slice::<Value>(action) else {
            return (400, b"{\"error\":\"bad action line\"}".to_vec());
        };
        let index = action["index"]["_index"].as_str().unwrap_or("").to_string();
        let Some(Ok(doc)) = lines.next().map(serde_json::from_slice::<Value>) else {
            return (400, b"{\"error\":\"bad document line\"}".to_vec());
        };
        if doc.get("extra.reject").is_some() {
            errors = true;
            items.push(json!({"index": {"_index": index, "status": 400, "error": {
                "type": "mapper_parsing_exception",
                "reason": "failed to parse field [extra.reject]"}}}));
            continue;
        }
        if let Some(b) = doc.get("extra.busy") {
            if st.busy_seen.insert(b.to_string()) {
                errors = true;
                items.push(json!({"index": {"_index": index, "status": 429, "error": {
                    "type": "es_rejected_execution_exception", "reason": "queue full"}}}));
                continue;
            }
        }
        items.push(json!({"index": {"_index": index, "status": 201, "result": "created"}}));
        st.docs.push((index, doc));
    }
    (
        200,
        json!({"took": 1, "errors": errors, "items": items})
            .to_string()
            .into_bytes(),
    )
}

/// The bench's sink: counts documents, answers every item created.
fn bulk_count(st: &mut State, body: &[u8]) -> (u16, Vec<u8>) {
    let n = memchr::memchr_iter(b'\n', body).count() / 2;
    st.counted += n as u64;
    let item = br#"{"index":{"status":201}}"#;
    let mut out = Vec::with_capacity(40 + n * (item.len() + 1));
    out.extend_from_slice(br#"{"took":1,"errors":false,"items":["#);
    for i in 0..n {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(item);
    }
    out.extend_from_slice(b"]}");
    (200, out)
}

fn hec(st: &mut State, body: &[u8]) -> (u16, Vec<u8>) {
    // HEC reads the events in order and stops at the first invalid one: those
    // before it are indexed.
    let stream = serde_json::Deserializer::from_slice(body).into_iter::<Value>();
    for (i, ev) in stream.enumerate() {
        let bad = match &ev {
            Ok(v) => v.get("event").is_none() || v["event"].get("extra.reject").is_some(),
            Err(_) => true,
        };
        if bad {
            return (
                400,
                json!({"text": "Invalid data format", "code": 6, "invalid-event-number": i})
                    .to_string()
                    .into_bytes(),
            );
        }
        st.hec.push(ev.unwrap());
    }
    (200, br#"{"text":"Success","code":0}"#.to_vec())
}
