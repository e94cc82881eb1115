//! What a running supervisor leaves in its state directory, and how the other
//! commands (`status`, `queues`, `log`, `dump`) read it:
//!
//! * `status.json`: the supervisor's view, rewritten (atomically) every second;
//! * `<stage>.log`: the stage's stderr, time-stamped (`<stage>.log.1` the one before);
//! * `<stage>.dump.ndjson`: rejected lines of the stage (imq's dump format), written
//!   by the supervisor under `<stage>.dump.lock`;
//! * `<stage>.<worker>.json`: the worker's `--stats` counters;
//! * `<stage>.in`: a named pipe into the stage's input (`dump recover` uses it).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
pub struct Status {
    pub pipeline: String,
    pub file: String,
    pub transport: String,
    pub supervisor_pid: u32,
    pub started: String,
    pub time: String,
    pub draining: bool,
    pub stages: Vec<StageStatus>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
pub struct StageStatus {
    pub name: String,
    pub kind: String,
    pub command: String,
    pub enabled: bool,
    pub schedule: Option<String>,
    /// Path → destination stages.
    pub paths_to: BTreeMap<String, Vec<String>>,
    /// running, scheduled, restarting, stopped, finished, disabled, degraded
    pub state: String,
    pub restarts: u32,
    #[serde(rename = "in")]
    pub input: u64,
    #[serde(rename = "out")]
    pub output: u64,
    pub paths: BTreeMap<String, u64>,
    pub filtered: u64,
    pub dumped: u64,
    /// Messages per second (in; out for collectors) over the last second.
    pub rate: f64,
    /// Bytes waiting in the stage's input pipes.
    pub queue_bytes: u64,
    pub dump_file: String,
    pub dump_size: u64,
    pub last_error: Option<String>,
    pub next_run: Option<String>,
    /// The stage's broker queue (not on `fifo`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<QueueStatus>,
    pub workers: Vec<WorkerStatus>,
}

/// A broker queue as the supervisor last read it.
#[derive(Serialize, Deserialize, Debug, Clone, Default)]
pub struct QueueStatus {
    /// IntelMQ's name: `<stage>-queue`.
    pub queue: String,
    /// Where it is (password masked).
    pub uri: String,
    /// Messages waiting (Redis LLEN, RabbitMQ's ready count); none before the
    /// first read or while the broker cannot be reached.
    pub waiting: Option<u64>,
    /// Taken by a worker and not yet acknowledged (Redis: the in-flight lists;
    /// RabbitMQ does not tell a passive declare).
    pub in_flight: Option<u64>,
    pub error: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Default)]
pub struct WorkerStatus {
    pub worker: u32,
    pub state: String,
    pub pid: Option<u32>,
    pub started: Option<String>,
    pub uptime_s: Option<f64>,
    pub restarts: u32,
    pub last_exit: Option<String>,
    pub queue_bytes: Option<u64>,
    pub stats: Option<ToolStats>,
}

/// The JSON a tool writes with `--stats FILE --stats-format json`.
#[derive(Serialize, Deserialize, Debug, Clone, Default)]
pub struct ToolStats {
    #[serde(default)]
    pub tool: String,
    #[serde(default)]
    pub pid: u32,
    #[serde(default)]
    pub time: String,
    #[serde(default, rename = "in")]
    pub input: u64,
    #[serde(default, rename = "out")]
    pub output: u64,
    #[serde(default)]
    pub filtered: u64,
    #[serde(default)]
    pub dumped: u64,
    #[serde(default)]
    pub paths: BTreeMap<String, u64>,
    #[serde(default)]
    pub batch_latency_ms: f64,
    #[serde(default)]
    pub last_error: Option<String>,
}

impl ToolStats {
    /// Add another process's counters to these.
    pub fn absorb(&mut self, o: &ToolStats) {
        self.input += o.input;
        self.output += o.output;
        self.filtered += o.filtered;
        self.dumped += o.dumped;
        for (k, v) in &o.paths {
            *self.paths.entry(k.clone()).or_default() += v;
        }
    }
}

/// One state for a stage from its workers' states.
pub fn aggregate(ws: &[WorkerStatus]) -> String {
    let first = ws.first().map(|w| w.state.as_str()).unwrap_or("disabled");
    if ws.iter().all(|w| w.state == first) {
        first.to_string()
    } else if ws.iter().any(|w| w.state == "running") {
        "degraded".into()
    } else {
        first.to_string()
    }
}

/// States in which a stage counts as up (`status` exits 0 only if all are).
pub fn is_up(state: &str) -> bool {
    matches!(state, "running" | "scheduled" | "finished" | "disabled")
}

pub fn status_file(dir: &Path) -> PathBuf {
    dir.join("status.json")
}
pub fn log_file(dir: &Path, stage: &str) -> PathBuf {
    dir.join(format!("{stage}.log"))
}
pub fn dump_file(dir: &Path, stage: &str) -> PathBuf {
    dir.join(format!("{stage}.dump.ndjson"))
}
pub fn dump_lock(dir: &Path, stage: &str) -> PathBuf {
    dir.join(format!("{stage}.dump.lock"))
}
pub fn stats_file(dir: &Path, stage: &str, worker: u32) -> PathBuf {
    dir.join(format!("{stage}.{worker}.json"))
}
pub fn inject_fifo(dir: &Path, stage: &str) -> PathBuf {
    dir.join(format!("{stage}.in"))
}

/// Write `bytes` to `path` through a temporary file and a rename, so that a
/// reader sees the old or the new content, never a part.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension(format!(
        "{}.tmp{}",
        path.extension().and_then(|e| e.to_str()).unwrap_or(""),
        std::process::id()
    ));
    {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_data()?;
    }
    std::fs::rename(&tmp, path)
}

pub fn write_status(dir: &Path, s: &Status) -> io::Result<()> {
    let mut v = serde_json::to_vec_pretty(s).map_err(io::Error::other)?;
    v.push(b'\n');
    write_atomic(&status_file(dir), &v)
}

pub fn read_status(dir: &Path) -> io::Result<Status> {
    let b = std::fs::read(status_file(dir))?;
    serde_json::from_slice(&b).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

pub fn read_stats(dir: &Path, stage: &str, worker: u32) -> Option<ToolStats> {
    let b = std::fs::read(stats_file(dir, stage, worker)).ok()?;
    serde_json::from_slice(&b).ok()
}

/// Is the supervisor that wrote a status still alive?
pub fn alive(pid: u32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    pid > 0 && unsafe { libc::kill(pid as i32, 0) } == 0
}

/// Run `f` holding an exclusive `flock` on `lock` (created if missing).
pub fn with_lock<T>(lock: &Path, f: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
    let l = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(lock)?;
    // SAFETY: flock on a descriptor we own; released when `l` closes.
    if unsafe { libc::flock(l.as_raw_fd(), libc::LOCK_EX) } != 0 {
        return Err(io::Error::last_os_error());
    }
    f()
}
