//! `status`, `queues`, `log`: read what a running supervisor writes to its state
//! directory (see [`super::state`]).

use super::config::Pipeline;
use super::state::{self, Status};
use anyhow::{Context, Result};
use std::io::{Read, Seek, SeekFrom, Write};

/// The status of a running pipeline; an error when none runs.
pub fn load(p: &Pipeline) -> Result<Status> {
    let s = state::read_status(&p.state_dir).with_context(|| {
        format!(
            "no status in {} (is `imq-supervise run` running?)",
            p.state_dir.display()
        )
    })?;
    Ok(s)
}

/// True when the supervisor runs and every enabled stage is up (intelmqctl's
/// rule for `status`'s exit status).
pub fn healthy(s: &Status) -> bool {
    state::alive(s.supervisor_pid) && s.stages.iter().all(|st| state::is_up(&st.state))
}

fn human(n: u64) -> String {
    match n {
        0..1024 => format!("{n}B"),
        1024..1048576 => format!("{:.1}K", n as f64 / 1024.0),
        _ => format!("{:.1}M", n as f64 / 1048576.0),
    }
}

/// Bytes waiting in the pipes (fifo), or messages waiting (+ in flight) in the
/// broker queue.
fn queue_column(st: &state::StageStatus) -> String {
    match &st.queue {
        None => human(st.queue_bytes),
        Some(q) => match (q.waiting, q.in_flight) {
            (None, _) => "?".into(),
            (Some(w), Some(f)) if f > 0 => format!("{w}+{f}"),
            (Some(w), _) => w.to_string(),
        },
    }
}

pub fn print(s: &Status, out: &mut dyn Write) -> std::io::Result<()> {
    let alive = state::alive(s.supervisor_pid);
    writeln!(
        out,
        "pipeline {} ({}), supervisor pid {} {}, updated {}",
        s.pipeline,
        s.transport,
        s.supervisor_pid,
        if !alive {
            "NOT RUNNING"
        } else if s.draining {
            "draining"
        } else {
            "running"
        },
        s.time
    )?;
    writeln!(
        out,
        "{:<14} {:<10} {:<11} {:>8} {:>4} {:>9} {:>9} {:>8} {:>7} {:>8} {:>7} {:>7}  last error / next run",
        "STAGE", "KIND", "STATE", "PID", "RST", "IN", "OUT", "FILTERED", "DUMPED", "RATE/s", "QUEUE", "DUMP"
    )?;
    for st in &s.stages {
        let pids: Vec<String> = st
            .workers
            .iter()
            .filter_map(|w| w.pid.map(|p| p.to_string()))
            .collect();
        let tail = match (&st.last_error, &st.next_run) {
            (Some(e), _) => e.chars().take(60).collect::<String>(),
            (None, Some(n)) => format!("next run {n}"),
            _ => String::new(),
        };
        writeln!(
            out,
            "{:<14} {:<10} {:<11} {:>8} {:>4} {:>9} {:>9} {:>8} {:>7} {:>8.1} {:>7} {:>7}  {}",
            st.name,
            st.kind,
            st.state,
            if pids.is_empty() {
                "-".into()
            } else {
                pids.join(",")
            },
            st.restarts,
            st.input,
            st.output,
            st.filtered,
            st.dumped,
            st.rate,
            queue_column(st),
            human(st.dump_size),
            tail
        )?;
    }
    Ok(())
}

pub fn queues(s: &Status, out: &mut dyn Write) -> std::io::Result<()> {
    if s.transport != "fifo" {
        return broker_queues(s, out);
    }
    writeln!(
        out,
        "{:<24} {:>10} {:>10}  FROM",
        "QUEUE", "BYTES", "DELIVERED"
    )?;
    for st in &s.stages {
        if st.workers.iter().all(|w| w.queue_bytes.is_none()) {
            continue;
        }
        let from = senders(s, &st.name);
        for w in &st.workers {
            writeln!(
                out,
                "{:<24} {:>10} {:>10}  {}",
                format!("{}.{}", st.name, w.worker),
                w.queue_bytes.unwrap_or(0),
                if st.workers.len() == 1 {
                    st.input.to_string()
                } else {
                    "-".into()
                },
                from.join(",")
            )?;
        }
    }
    Ok(())
}

/// `queues --json` and the API's `/queues`: a row per worker input (fifo), or
/// per broker queue.
pub fn queues_json(s: &Status) -> serde_json::Value {
    let rows: Vec<serde_json::Value> = s
        .stages
        .iter()
        .flat_map(|st| {
            let broker = st.queue.as_ref().map(|q| {
                serde_json::json!({"stage": st.name, "queue": q.queue, "waiting": q.waiting,
                    "in_flight": q.in_flight, "delivered": st.input, "error": q.error})
            });
            let on_broker = broker.is_some();
            let pipes = st
                .workers
                .iter()
                .filter(move |w| !on_broker && w.queue_bytes.is_some())
                .map(|w| {
                    serde_json::json!({"stage": st.name, "worker": w.worker,
                        "bytes": w.queue_bytes, "delivered": st.input})
                });
            broker.into_iter().chain(pipes).collect::<Vec<_>>()
        })
        .collect();
    serde_json::Value::Array(rows)
}

/// The stages that send to `stage`.
fn senders<'a>(s: &'a Status, stage: &str) -> Vec<&'a str> {
    s.stages
        .iter()
        .filter(|o| o.paths_to.values().flatten().any(|t| t == stage))
        .map(|o| o.name.as_str())
        .collect()
}

/// Broker queues: what waits, what is in flight, what the stage took.
fn broker_queues(s: &Status, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<28} {:>10} {:>10} {:>10}  FROM",
        "QUEUE", "WAITING", "IN-FLIGHT", "DELIVERED"
    )?;
    let n = |v: Option<u64>| v.map_or_else(|| "-".to_string(), |v| v.to_string());
    for st in &s.stages {
        let Some(q) = &st.queue else { continue };
        writeln!(
            out,
            "{:<28} {:>10} {:>10} {:>10}  {}{}",
            q.queue,
            n(q.waiting),
            n(q.in_flight),
            st.input,
            senders(s, &st.name).join(","),
            q.error
                .as_ref()
                .map(|e| format!("  ({e})"))
                .unwrap_or_default()
        )?;
    }
    Ok(())
}

/// The last `n` lines of a stage's log.
pub fn log_tail(p: &Pipeline, stage: &str, n: usize) -> Result<Vec<String>> {
    if p.stage(stage).is_none() {
        anyhow::bail!("no stage {stage:?} in {}", p.file.display());
    }
    let path = state::log_file(&p.state_dir, stage);
    let mut f = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).context(path.display().to_string()),
    };
    // Read from the end, at most 1 MiB: logs are bounded, this read is too.
    let len = f.metadata()?.len();
    let start = len.saturating_sub(1 << 20);
    f.seek(SeekFrom::Start(start))?;
    let mut b = Vec::new();
    f.read_to_end(&mut b)?;
    let text = String::from_utf8_lossy(&b);
    let mut lines: Vec<&str> = text.lines().collect();
    if start > 0 && !lines.is_empty() {
        lines.remove(0);
    }
    let skip = lines.len().saturating_sub(n);
    Ok(lines[skip..].iter().map(|s| s.to_string()).collect())
}
