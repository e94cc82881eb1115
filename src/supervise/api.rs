//! `imq-supervise serve FILE --listen 127.0.0.1:PORT`: runs the pipeline (as
//! `run` does) and serves the REST API (IntelMQ API's jobs) and the status page
//! from the same process. `docs/supervise-api.yaml` is the OpenAPI description;
//! a test checks it against these routes.
//!
//! Authentication: `Authorization: Bearer TOKEN`, tokens from a file (one per
//! line: `TOKEN` or `TOKEN ro` for read-only; `#` comments). No or a wrong token:
//! 401; a read-only token on a POST: 403. Only the status page's HTML (which holds
//! no data) is served without a token.

use super::config::Pipeline;
use super::run::{Control, Handle};
use super::state::{self, Status};
use super::{check, dump, status, web};
use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use tiny_http::{Header, Method, Request, Response, Server};

/// Largest request body read (a message for `inspect`, ids for `recover`).
const MAX_BODY: u64 = 16 << 20;

#[derive(Debug, Clone)]
pub struct Token {
    secret: String,
    write: bool,
}

pub fn read_tokens(path: &Path) -> Result<Vec<Token>> {
    let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
    let mut v = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut w = line.split_whitespace();
        let secret = w.next().unwrap_or_default().to_string();
        let write = match w.next() {
            None | Some("rw") => true,
            Some("ro") => false,
            Some(x) => bail!(
                "{}:{}: unknown token mode {x:?} (ro or rw)",
                path.display(),
                i + 1
            ),
        };
        if secret.len() < 16 {
            bail!(
                "{}:{}: token shorter than 16 characters",
                path.display(),
                i + 1
            );
        }
        v.push(Token { secret, write });
    }
    if v.is_empty() {
        bail!("{}: no tokens", path.display());
    }
    Ok(v)
}

/// Compare without an early exit, so timing does not tell how much matched.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

struct Api {
    p: Pipeline,
    tokens: Vec<Token>,
    handle: Handle,
}

type Reply = (u16, Vec<u8>, &'static str);

fn json_reply(code: u16, v: &Value) -> Reply {
    let mut b = serde_json::to_vec_pretty(v).unwrap_or_default();
    b.push(b'\n');
    (code, b, "application/json")
}

fn err(code: u16, msg: &str) -> Reply {
    json_reply(code, &json!({"error": msg}))
}

/// Prometheus text for the pipeline's counters.
pub fn metrics(s: &Status) -> String {
    let mut o = String::new();
    o.push_str("# HELP imq_stage_messages_total Messages per stage, as counted by the supervisor and the stage's --stats.\n# TYPE imq_stage_messages_total counter\n");
    for st in &s.stages {
        for (kind, n) in [
            ("in", st.input),
            ("out", st.output),
            ("filtered", st.filtered),
            ("dumped", st.dumped),
        ] {
            o.push_str(&format!(
                "imq_stage_messages_total{{pipeline=\"{}\",stage=\"{}\",kind=\"{kind}\"}} {n}\n",
                s.pipeline, st.name
            ));
        }
    }
    o.push_str(
        "# HELP imq_stage_up 1 when every worker of the stage is up.\n# TYPE imq_stage_up gauge\n",
    );
    for st in &s.stages {
        o.push_str(&format!(
            "imq_stage_up{{pipeline=\"{}\",stage=\"{}\"}} {}\n",
            s.pipeline,
            st.name,
            u8::from(state::is_up(&st.state))
        ));
    }
    o.push_str("# HELP imq_stage_restarts_total Restarts per stage.\n# TYPE imq_stage_restarts_total counter\n");
    for st in &s.stages {
        o.push_str(&format!(
            "imq_stage_restarts_total{{pipeline=\"{}\",stage=\"{}\"}} {}\n",
            s.pipeline, st.name, st.restarts
        ));
    }
    o.push_str("# HELP imq_stage_queue_bytes Bytes waiting in the stage's input.\n# TYPE imq_stage_queue_bytes gauge\n");
    for st in &s.stages {
        o.push_str(&format!(
            "imq_stage_queue_bytes{{pipeline=\"{}\",stage=\"{}\"}} {}\n",
            s.pipeline, st.name, st.queue_bytes
        ));
    }
    o.push_str("# HELP imq_stage_queue_messages Messages waiting in the stage's broker queue.\n# TYPE imq_stage_queue_messages gauge\n");
    for st in &s.stages {
        if let Some(n) = st.queue.as_ref().and_then(|q| q.waiting) {
            o.push_str(&format!(
                "imq_stage_queue_messages{{pipeline=\"{}\",stage=\"{}\"}} {n}\n",
                s.pipeline, st.name
            ));
        }
    }
    o.push_str("# HELP imq_stage_queue_in_flight Messages a worker took from the broker queue and has not acknowledged.\n# TYPE imq_stage_queue_in_flight gauge\n");
    for st in &s.stages {
        if let Some(n) = st.queue.as_ref().and_then(|q| q.in_flight) {
            o.push_str(&format!(
                "imq_stage_queue_in_flight{{pipeline=\"{}\",stage=\"{}\"}} {n}\n",
                s.pipeline, st.name
            ));
        }
    }
    o.push_str("# HELP imq_stage_dump_bytes Size of the stage's dump file.\n# TYPE imq_stage_dump_bytes gauge\n");
    for st in &s.stages {
        o.push_str(&format!(
            "imq_stage_dump_bytes{{pipeline=\"{}\",stage=\"{}\"}} {}\n",
            s.pipeline, st.name, st.dump_size
        ));
    }
    o
}

impl Api {
    fn status(&self) -> Status {
        self.handle
            .status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn auth(&self, req: &Request) -> Result<bool, Reply> {
        let h = req
            .headers()
            .iter()
            .find(|h| h.field.equiv("Authorization"))
            .map(|h| h.value.as_str().to_string());
        let Some(h) = h else {
            return Err(err(401, "missing Authorization: Bearer token"));
        };
        let Some(t) = h.strip_prefix("Bearer ") else {
            return Err(err(401, "Authorization must be Bearer"));
        };
        match self.tokens.iter().find(|k| same(&k.secret, t.trim())) {
            Some(k) => Ok(k.write),
            None => Err(err(401, "unknown token")),
        }
    }

    fn stage_exists(&self, name: &str) -> Result<(), Reply> {
        if self.p.stage(name).is_some() {
            Ok(())
        } else {
            Err(err(404, &format!("no stage {name:?}")))
        }
    }

    fn handle(&self, req: &mut Request) -> Reply {
        let url = req.url().to_string();
        let (path, query) = url.split_once('?').unwrap_or((&url, ""));
        let path = path.trim_end_matches('/').to_string();
        let method = req.method().clone();
        if method == Method::Get && (path.is_empty() || path == "/index.html") {
            return (
                200,
                web::PAGE.as_bytes().to_vec(),
                "text/html; charset=utf-8",
            );
        }
        let write = match self.auth(req) {
            Ok(w) => w,
            Err(r) => return r,
        };
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let mut body = Vec::new();
        if method == Method::Post {
            if !write {
                return err(403, "read-only token");
            }
            if req
                .as_reader()
                .take(MAX_BODY + 1)
                .read_to_end(&mut body)
                .is_err()
                || body.len() as u64 > MAX_BODY
            {
                return err(413, "body too large or unreadable");
            }
        }
        let r = match (&method, parts.as_slice()) {
            (Method::Get, ["metrics"]) => {
                return (
                    200,
                    metrics(&self.status()).into_bytes(),
                    "text/plain; version=0.0.4",
                )
            }
            (Method::Get, ["api", "v1", "pipeline"]) => Ok(self.pipeline()),
            (Method::Get, ["api", "v1", "status"]) => Ok(json_reply(200, &json!(self.status()))),
            (Method::Get, ["api", "v1", "stages"]) => {
                Ok(json_reply(200, &json!(self.status().stages)))
            }
            (Method::Get, ["api", "v1", "stages", name]) => self.stage_exists(name).map(|_| {
                let s = self.status();
                let st = s.stages.iter().find(|s| s.name == *name).cloned();
                json_reply(200, &json!(st))
            }),
            (Method::Post, ["api", "v1", "stages", name, action]) => {
                self.stage_exists(name).and_then(|_| {
                    let c = match *action {
                        "start" => Control::Start(name.to_string()),
                        "stop" => Control::Stop(name.to_string()),
                        "restart" => Control::Restart(name.to_string()),
                        "inspect" => return Ok(self.inspect(name, &body)),
                        _ => return Err(err(404, "actions: start, stop, restart, inspect")),
                    };
                    self.handle
                        .control
                        .send(c)
                        .map_err(|_| err(503, "the supervisor has stopped"))?;
                    Ok(json_reply(202, &json!({"stage": name, "action": action})))
                })
            }
            (Method::Get, ["api", "v1", "queues"]) => {
                Ok(json_reply(200, &status::queues_json(&self.status())))
            }
            (Method::Get, ["api", "v1", "dumps"]) => {
                let l: Vec<Value> = dump::list(&self.p)
                    .into_iter()
                    .map(|(name, path, n)| match n {
                        Ok(n) => json!({"name": name, "file": path.display().to_string(), "entries": n}),
                        Err(e) => json!({"name": name, "file": path.display().to_string(), "error": format!("{e:#}")}),
                    })
                    .collect();
                Ok(json_reply(200, &json!(l)))
            }
            (Method::Get, ["api", "v1", "dumps", name]) => self.stage_exists(name).and_then(|_| {
                let src = dump::source(&self.p, name).map_err(|e| err(400, &e.to_string()))?;
                let e = dump::read(&src).map_err(|e| err(500, &format!("{e:#}")))?;
                let v: Vec<Value> = e
                    .iter()
                    .map(|e| {
                        json!({"id": e.id, "time": e.time, "error": e.error,
                               "message": String::from_utf8_lossy(&e.bytes), "record": e.record})
                    })
                    .collect();
                Ok(json_reply(200, &json!(v)))
            }),
            (Method::Post, ["api", "v1", "dumps", name, "recover"]) => {
                self.stage_exists(name).and_then(|_| {
                    let b: Value = if body.is_empty() {
                        json!({})
                    } else {
                        serde_json::from_slice(&body).map_err(|e| err(400, &e.to_string()))?
                    };
                    let ids = match &b["ids"] {
                        Value::Null => None,
                        Value::String(s) => Some(s.clone()),
                        Value::Array(a) => Some(
                            a.iter()
                                .map(|x| x.to_string())
                                .collect::<Vec<_>>()
                                .join(","),
                        ),
                        Value::Number(n) => Some(n.to_string()),
                        _ => return Err(err(400, "ids: \"0,2-3\", [0,2] or a number")),
                    };
                    let to = b["to"].as_str().unwrap_or(name);
                    self.stage_exists(to)?;
                    let src = dump::source(&self.p, name).map_err(|e| err(400, &e.to_string()))?;
                    let t = dump::Target::Stage(state::inject_fifo(&self.p.state_dir, to));
                    let n = dump::recover(&src, ids.as_deref(), &t)
                        .map_err(|e| err(400, &format!("{e:#}")))?;
                    Ok(json_reply(200, &json!({"recovered": n, "to": to})))
                })
            }
            (Method::Get, ["api", "v1", "logs", name]) => self.stage_exists(name).and_then(|_| {
                let n = query
                    .split('&')
                    .find_map(|kv| kv.strip_prefix("lines="))
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(50usize)
                    .min(10_000);
                let l =
                    status::log_tail(&self.p, name, n).map_err(|e| err(500, &format!("{e:#}")))?;
                Ok(json_reply(200, &json!(l)))
            }),
            (Method::Get, ["api", "v1", "check"]) => {
                let f: Vec<Value> = check::check(&self.p)
                    .into_iter()
                    .map(|f| json!({"stage": f.stage, "error": f.error, "text": f.text}))
                    .collect();
                Ok(json_reply(200, &json!(f)))
            }
            (Method::Get, _) | (Method::Post, _) => Err(err(404, "no such endpoint")),
            _ => Err(err(405, "GET or POST")),
        };
        r.unwrap_or_else(|e| e)
    }

    fn pipeline(&self) -> Reply {
        let stages: Vec<Value> = self
            .p
            .stages
            .iter()
            .map(|s| {
                json!({"name": s.name, "kind": s.kind.name(), "command": s.command, "workers": s.workers,
                       "schedule": s.schedule_text, "enabled": s.enabled, "paths": s.paths,
                       "description": s.description})
            })
            .collect();
        json_reply(
            200,
            &json!({"name": self.p.name, "file": self.p.file.display().to_string(),
                    "transport": "fifo", "stages": stages}),
        )
    }

    /// Run one message through a stage's command (a fresh process, its own
    /// dump, nothing sent on): the Manager's "inspect".
    fn inspect(&self, name: &str, body: &[u8]) -> Reply {
        let s = self.p.stage(name).expect("checked");
        let dir = std::env::temp_dir().join(format!("imq-inspect.{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let dumpf = dir.join("dump.ndjson");
        let _ = std::fs::remove_file(&dumpf);
        let mut c = Command::new(self.p.program(&s.argv[0]));
        c.args(&s.argv[1..]).current_dir(self.p.dir());
        c.arg("--dump").arg(&dumpf);
        let mut paths = Vec::new();
        for (k, path) in s.paths.keys().filter(|k| *k != "_default").enumerate() {
            let f = dir.join(format!("path{k}.ndjson"));
            let _ = std::fs::remove_file(&f);
            c.arg("--path").arg(format!("{path}={}", f.display()));
            paths.push((path.clone(), f));
        }
        c.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = match c.spawn() {
            Ok(c) => c,
            Err(e) => return err(500, &format!("cannot run the stage: {e}")),
        };
        let mut stdin = child.stdin.take().expect("piped");
        let input = body.to_vec();
        let w = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
            if !input.ends_with(b"\n") {
                let _ = stdin.write_all(b"\n");
            }
        });
        let out = child.wait_with_output();
        let _ = w.join();
        let out = match out {
            Ok(o) => o,
            Err(e) => return err(500, &e.to_string()),
        };
        let lines = |b: &[u8]| -> Vec<Value> {
            String::from_utf8_lossy(b)
                .lines()
                .map(|l| serde_json::from_str(l).unwrap_or_else(|_| Value::String(l.into())))
                .collect()
        };
        let mut routed = serde_json::Map::new();
        routed.insert("_default".into(), json!(lines(&out.stdout)));
        for (path, f) in paths {
            routed.insert(path, json!(lines(&std::fs::read(&f).unwrap_or_default())));
        }
        let dumped = lines(&std::fs::read(&dumpf).unwrap_or_default());
        let _ = std::fs::remove_dir_all(&dir);
        json_reply(
            200,
            &json!({"stage": name, "exit": out.status.code(), "output": routed,
                    "dumped": dumped, "stderr": String::from_utf8_lossy(&out.stderr)}),
        )
    }
}

/// Refuse a non-loopback address unless asked.
pub fn check_listen(addr: &str, remote: bool) -> Result<SocketAddr> {
    let a: SocketAddr = addr
        .parse()
        .map_err(|_| anyhow!("--listen {addr:?}: use HOST:PORT, e.g. 127.0.0.1:8080"))?;
    if !a.ip().is_loopback() && !remote {
        bail!("--listen {a}: not a loopback address (add --allow-remote to mean it)");
    }
    Ok(a)
}

pub fn serve(p: Pipeline, listen: SocketAddr, tokens: Vec<Token>) -> Result<u8> {
    let server = Server::http(listen).map_err(|e| anyhow!("listen on {listen}: {e}"))?;
    let handle = super::run::spawn(p.clone())?;
    crate::pipeline::eprintln_safe(&format!(
        "imq-supervise: serving http://{}/ (API under /api/v1, /metrics)",
        server
            .server_addr()
            .to_ip()
            .map(|a| a.to_string())
            .unwrap_or_default()
    ));
    let api = Api { p, tokens, handle };
    loop {
        if api.handle.thread.is_finished() {
            break;
        }
        let mut req = match server.recv_timeout(Duration::from_millis(200)) {
            Ok(Some(r)) => r,
            Ok(None) => continue,
            Err(_) => continue,
        };
        let (code, body, ctype) = api.handle(&mut req);
        let resp = Response::from_data(body)
            .with_status_code(code)
            .with_header(Header::from_bytes("Content-Type", ctype).expect("static header"))
            .with_header(Header::from_bytes("Cache-Control", "no-store").expect("static header"));
        let _ = req.respond(resp);
    }
    let Api { handle, .. } = api;
    handle
        .thread
        .join()
        .map_err(|_| anyhow!("supervisor thread panicked"))?
}
