//! An HTTP/1.1 server for tests: serves recorded responses from a table keyed
//! by method and path-with-query, on a loopback port.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};

#[derive(Clone, Debug)]
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
    /// Wait this long before answering (to test timeouts).
    pub delay_ms: u64,
}

pub fn json(status: u16, body: &str) -> Response {
    Response {
        status,
        content_type: "application/json",
        body: body.to_string(),
        delay_ms: 0,
    }
}

pub fn text(status: u16, body: &str) -> Response {
    Response {
        status,
        content_type: "text/plain",
        body: body.to_string(),
        delay_ms: 0,
    }
}

/// A request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

pub struct HttpServer {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl HttpServer {
    /// `table`: ("GET /path?query", response). Unknown targets get 404.
    pub fn start(table: Vec<(&str, Response)>) -> HttpServer {
        let table: HashMap<String, Response> =
            table.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        let table = Arc::new(table);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (table, seen) = (table.clone(), seen2.clone());
                std::thread::spawn(move || serve(conn, &table, &seen));
            }
        });
        HttpServer { addr, seen }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve(conn: std::net::TcpStream, table: &HashMap<String, Response>, seen: &Mutex<Vec<Seen>>) {
    let mut w = conn.try_clone().unwrap();
    let mut r = BufReader::new(conn);
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let target = parts.next().unwrap_or("").to_string();
        let mut headers = Vec::new();
        let mut len = 0usize;
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
                let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_string());
                if k == "content-length" {
                    len = v.parse().unwrap_or(0);
                }
                headers.push((k, v));
            }
        }
        let mut body = vec![0u8; len];
        if r.read_exact(&mut body).is_err() {
            return;
        }
        let key = format!("{method} {target}");
        seen.lock().unwrap().push(Seen {
            method,
            target,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        });
        let resp = table
            .get(&key)
            .cloned()
            .unwrap_or_else(|| text(404, "not found"));
        if resp.delay_ms > 0 {
            std::thread::sleep(std::time::Duration::from_millis(resp.delay_ms));
        }
        let head = format!(
            "HTTP/1.1 {} X\r\nContent-Type: {}\r\nContent-Length: {}\r\n\r\n",
            resp.status,
            resp.content_type,
            resp.body.len()
        );
        if w.write_all(head.as_bytes()).is_err() || w.write_all(resp.body.as_bytes()).is_err() {
            return;
        }
    }
}
