//! `imq-supervise run`: the process manager. Starts every stage's workers wired
//! with the pipeline's transport, restarts those that exit with backoff, runs
//! collectors on their schedule, prefixes stage stderr with the stage name, reloads
//! changed stages on SIGHUP, and on SIGTERM stops the collectors, lets the rest
//! drain in order and exits 0.
//!
//! On `fifo` the supervisor relays every line between the stages' pipes. On a
//! broker (Redis, RabbitMQ) the stages read and write the broker's queues
//! themselves (`<stage>-queue`, IntelMQ's naming), so that a stage killed in the
//! middle loses nothing: its replacement takes over what it held in flight. The
//! counters then come from the stages' `--stats` files (added up across
//! restarts), the queue depths from the broker, and a drain stops a stage once
//! its sources have ended and its queue is empty.
//!
//! One thread (the caller's) owns the children and polls them every 100 ms; relay,
//! log and dump threads move bytes. `serve` runs the same loop in a thread and
//! steers it through [`Control`].

use super::config::{Pipeline, Stage, Transport};
use super::pipes::{self, Counters, InputPipe, Routing, StageInputs};
use super::state::{self, QueueStatus, StageStatus, Status, ToolStats, WorkerStatus};
use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

static TERM: AtomicBool = AtomicBool::new(false);
static HUP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(sig: libc::c_int) {
    if sig == libc::SIGHUP {
        HUP.store(true, Ordering::SeqCst);
    } else {
        TERM.store(true, Ordering::SeqCst);
    }
}

/// SIGTERM and SIGINT ask for a drain, SIGHUP for a reload.
pub fn install_signals() {
    for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
        // SAFETY: the handler only stores to atomics.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as *const () as usize;
            sa.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
}

/// Requests from `serve`.
pub enum Control {
    Start(String),
    Stop(String),
    Restart(String),
    Shutdown,
}

/// Longest stderr line kept (the rest of a longer line is dropped).
const MAX_LOG_LINE: usize = 16 << 10;
/// A stage log is rotated (one old file kept) past this size.
const MAX_LOG_BYTES: u64 = 8 << 20;

/// Per-stage shared state the threads write.
#[derive(Default)]
struct Shared {
    counters: Arc<Counters>,
    last_error: Mutex<Option<String>>,
    log: Mutex<Option<File>>,
}

struct Worker {
    stage: Stage,
    idx: u32,
    input: Option<Arc<InputPipe>>,
    child: Option<Child>,
    started: Option<(Instant, DateTime<Utc>)>,
    restarts: u32,
    fails: u32,
    next_start: Option<Instant>,
    next_run: Option<DateTime<Utc>>,
    relays: Vec<JoinHandle<()>>,
    last_exit: Option<String>,
    /// Replaced by a reload, or stopped for good: never started again.
    retiring: bool,
    /// Stopped through the API: not restarted until started.
    held: bool,
    done: bool,
    /// Broker transport: asked to end because its queue is drained.
    stopping: bool,
    /// The counters of this worker's earlier processes (each process's
    /// `--stats` file starts from zero), and of the current one.
    carried: ToolStats,
    current: Option<ToolStats>,
    /// The process whose counters are in `carried` already.
    absorbed_pid: u32,
}

impl Worker {
    fn id(&self) -> String {
        format!("{}.{}", self.stage.name, self.idx)
    }
    fn prefix(&self) -> String {
        if self.stage.workers > 1 {
            self.id()
        } else {
            self.stage.name.clone()
        }
    }

    /// Read the current process's `--stats` file into `current`.
    fn refresh_stats(&mut self, dir: &Path) {
        if let Some(s) = state::read_stats(dir, &self.stage.name, self.idx) {
            if s.pid == self.absorbed_pid && s.pid != 0 {
                return; // the file of a process already added up
            }
            if let Some(old) = self.current.take().filter(|o| o.pid != s.pid) {
                self.carried.absorb(&old);
            }
            self.current = Some(s);
        }
    }

    /// The process ended: its last counters join the carried ones.
    fn absorb_exited(&mut self, dir: &Path, pid: u32) {
        self.refresh_stats(dir);
        if let Some(c) = self.current.take() {
            if c.pid == pid {
                self.absorbed_pid = pid;
            }
            self.carried.absorb(&c);
        }
    }

    /// Every process's counters so far.
    fn total(&self) -> ToolStats {
        let mut t = self.carried.clone();
        if let Some(c) = &self.current {
            t.absorb(c);
        }
        t
    }
}

/// The last depth read of a stage's broker queue, and when the read began.
struct Sample {
    at: Instant,
    depth: std::result::Result<crate::transport::QueueDepth, String>,
}

/// Broker transport: a thread reads the depth of every stage's queue once a
/// second (a slow or unreachable broker must not stall the supervisor's loop).
#[derive(Default)]
struct Depths {
    queues: Mutex<Vec<(String, String)>>,
    samples: Mutex<HashMap<String, Sample>>,
    stop: AtomicBool,
}

impl Depths {
    fn start(self: &Arc<Self>) {
        let d = self.clone();
        let _ = std::thread::Builder::new()
            .name("queue-depths".into())
            .spawn(move || {
                while !d.stop.load(Ordering::Relaxed) {
                    let queues = d.queues.lock().unwrap_or_else(|e| e.into_inner()).clone();
                    for (stage, uri) in queues {
                        let at = Instant::now();
                        let depth =
                            crate::transport::queue_depth(&uri).map_err(|e| format!("{e:#}"));
                        d.samples
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .insert(stage, Sample { at, depth });
                    }
                    std::thread::sleep(Duration::from_millis(500));
                }
            });
    }

    /// Was the queue seen empty (nothing waiting, nothing in flight) by a read
    /// that began after `since`?
    fn empty_since(&self, stage: &str, since: Instant) -> bool {
        let g = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        g.get(stage).is_some_and(|s| {
            s.at >= since
                && matches!(&s.depth, Ok(d) if d.waiting == 0 && d.in_flight.unwrap_or(0) == 0)
        })
    }
}

pub struct Supervisor {
    p: Pipeline,
    dir: PathBuf,
    routing: Routing,
    shared: HashMap<String, Arc<Shared>>,
    workers: Vec<Worker>,
    draining: Option<Instant>,
    stats_ok: HashMap<PathBuf, bool>,
    injects: std::collections::HashSet<String>,
    started: DateTime<Utc>,
    last_rates: HashMap<String, (Instant, u64)>,
    rates: HashMap<String, f64>,
    /// The latest status, for `serve`.
    pub status: Arc<Mutex<Status>>,
    stderr_lock: Arc<Mutex<()>>,
    /// Broker transport: the queue depths, and when each stage's sources were
    /// all seen done while draining.
    depths: Option<Arc<Depths>>,
    sources_ended: HashMap<String, Instant>,
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        if let Some(d) = &self.depths {
            d.stop.store(true, Ordering::Relaxed);
        }
    }
}

fn sources_done(workers: &[Worker], p: &Pipeline, stage: &str) -> bool {
    let srcs: Vec<&str> = p
        .sources_of(stage)
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    workers
        .iter()
        .filter(|w| srcs.contains(&w.stage.name.as_str()))
        .all(|w| w.done && w.relays.is_empty())
}

impl Supervisor {
    pub fn new(p: Pipeline) -> Result<Supervisor> {
        std::fs::create_dir_all(&p.state_dir)
            .with_context(|| format!("state directory {}", p.state_dir.display()))?;
        let dir = p
            .file
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let mut s = Supervisor {
            p: p.clone(),
            dir,
            routing: Routing::default(),
            shared: HashMap::new(),
            workers: Vec::new(),
            draining: None,
            stats_ok: HashMap::new(),
            injects: Default::default(),
            started: Utc::now(),
            last_rates: HashMap::new(),
            rates: HashMap::new(),
            status: Arc::default(),
            stderr_lock: Arc::default(),
            depths: matches!(p.transport, Transport::Broker(_)).then(Arc::default),
            sources_ended: HashMap::new(),
        };
        for st in &p.stages {
            s.add_stage(st)?;
        }
        if let Some(d) = &s.depths {
            d.start();
        }
        Ok(s)
    }

    fn broker(&self) -> bool {
        self.depths.is_some()
    }

    fn shared(&mut self, name: &str) -> Arc<Shared> {
        self.shared.entry(name.to_string()).or_default().clone()
    }

    /// New workers (and input pipes) for a stage; routes its input to them.
    fn add_stage(&mut self, st: &Stage) -> Result<()> {
        let sh = self.shared(&st.name);
        let source = self.p.is_source(&st.name);
        let mut pipes = Vec::new();
        let now = Utc::now();
        for idx in 0..st.workers {
            // On a broker the stages read their queues themselves.
            let input = if source || self.broker() {
                None
            } else {
                let ip = Arc::new(InputPipe::new()?);
                pipes.push(ip.clone());
                Some(ip)
            };
            let next_run = st.schedule.as_ref().and_then(|s| s.first(now));
            self.workers.push(Worker {
                stage: st.clone(),
                idx,
                input,
                child: None,
                started: None,
                restarts: 0,
                fails: 0,
                next_start: if st.enabled && st.schedule.is_none() {
                    Some(Instant::now())
                } else {
                    None
                },
                next_run,
                relays: Vec::new(),
                last_exit: None,
                retiring: false,
                held: false,
                done: !st.enabled,
                stopping: false,
                carried: ToolStats::default(),
                current: None,
                absorbed_pid: 0,
            });
        }
        if let (Some(d), false) = (&self.depths, source) {
            if let Some(uri) = self.p.transport.queue_uri(&st.name, None) {
                let mut q = d.queues.lock().unwrap_or_else(|e| e.into_inner());
                q.retain(|(n, _)| n != &st.name);
                q.push((st.name.clone(), uri));
            }
        }
        if !source && !self.broker() {
            self.open_inject(&st.name);
            self.routing
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .insert(
                    st.name.clone(),
                    Arc::new(StageInputs::new(pipes, sh.counters.clone())),
                );
        }
        Ok(())
    }

    /// `<state>/<stage>.in`: a named pipe whose lines go to the stage's input
    /// (for `dump recover` and for feeding a stage by hand). Opened read-write, so
    /// that it never reports end of input.
    fn open_inject(&mut self, stage: &str) {
        if !self.injects.insert(stage.to_string()) {
            return;
        }
        let path = state::inject_fifo(&self.p.state_dir, stage);
        let _ = std::fs::remove_file(&path);
        let c = match std::ffi::CString::new(path.as_os_str().as_encoded_bytes()) {
            Ok(c) => c,
            Err(_) => return,
        };
        // SAFETY: mkfifo with a valid C string.
        if unsafe { libc::mkfifo(c.as_ptr(), 0o600) } != 0 {
            self.log(&format!(
                "{}: {}",
                path.display(),
                std::io::Error::last_os_error()
            ));
            return;
        }
        let f = match OpenOptions::new().read(true).write(true).open(&path) {
            Ok(f) => f,
            Err(e) => return self.log(&format!("{}: {e}", path.display())),
        };
        let routing = self.routing.clone();
        let counter = self.shared(stage).counters.clone();
        let targets = vec![stage.to_string()];
        let _ = std::thread::Builder::new()
            .name(format!("inject-{stage}"))
            .spawn(move || {
                let recovered = counter.path("_injected_");
                counter
                    .paths
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove("_injected_");
                pipes::relay(f, &targets, &routing, &recovered)
            });
    }

    /// Does the tool take `--stats`? Asked once per program.
    fn takes_stats(&mut self, prog: &Path) -> bool {
        if let Some(b) = self.stats_ok.get(prog) {
            return *b;
        }
        let ok = Command::new(prog)
            .arg("--help")
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).contains("--stats"))
            .unwrap_or(false);
        self.stats_ok.insert(prog.to_path_buf(), ok);
        ok
    }

    fn log(&self, msg: &str) {
        let _g = self.stderr_lock.lock();
        crate::pipeline::eprintln_safe(&format!("imq-supervise: {msg}"));
    }

    fn spawn(&mut self, wi: usize) -> Result<()> {
        let (stage, idx, input) = {
            let w = &self.workers[wi];
            (w.stage.clone(), w.idx, w.input.clone())
        };
        let prog = self.p.program(&stage.argv[0]);
        let mut cmd = Command::new(&prog);
        cmd.args(&stage.argv[1..]);
        cmd.current_dir(&self.dir);
        cmd.process_group(0);
        let sh = self.shared(&stage.name);
        // Descriptors the child gets beyond 0-2: (ours, its number).
        let mut extra: Vec<(OwnedFd, i32)> = Vec::new();
        let mut readers: Vec<(String, File)> = Vec::new();
        match &input {
            Some(ip) => {
                cmd.stdin(Stdio::from(ip.child_end()?));
            }
            None => {
                cmd.stdin(Stdio::null());
            }
        }
        let mut next_fd = 3;
        if self.broker() {
            self.broker_args(&mut cmd, &stage, idx);
        } else {
            for path in stage.paths.keys() {
                let (r, w) = pipes::pipe()?;
                if path == "_default" {
                    cmd.stdout(Stdio::from(w));
                } else {
                    cmd.arg("--path").arg(format!("{path}=/dev/fd/{next_fd}"));
                    extra.push((w.into(), next_fd));
                    next_fd += 1;
                }
                readers.push((path.clone(), r));
            }
        }
        if self.broker() || !stage.paths.contains_key("_default") {
            cmd.stdout(Stdio::null());
        }
        let has_dump = stage
            .argv
            .iter()
            .any(|a| a == "--dump" || a.starts_with("--dump="));
        let dump_reader = if has_dump {
            None
        } else {
            let (r, w) = pipes::pipe()?;
            cmd.arg("--dump").arg(format!("/dev/fd/{next_fd}"));
            extra.push((w.into(), next_fd));
            Some(r)
        };
        if self.takes_stats(&prog) {
            cmd.arg("--stats")
                .arg(state::stats_file(&self.p.state_dir, &stage.name, idx))
                .arg("--stats-format")
                .arg("json");
        }
        let (err_r, err_w) = pipes::pipe()?;
        cmd.stderr(Stdio::from(err_w));
        let fds: Vec<(i32, i32)> = extra.iter().map(|(f, n)| (f.as_raw_fd(), *n)).collect();
        // SAFETY: only async-signal-safe calls (prctl, getppid, fcntl, dup2) on numbers computed
        // before the fork; nothing allocates.
        unsafe {
            cmd.pre_exec(move || {
                // The stage ends (SIGTERM: it commits what it holds) when the
                // supervisor dies, even by SIGKILL: a broker stage left running
                // would compete with the workers of the next supervisor for the
                // same in-flight list.
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                if libc::getppid() == 1 {
                    return Err(std::io::Error::other("the supervisor is gone"));
                }
                // First out of the way of the target numbers, then into place
                // (dup2 clears close-on-exec on the copy).
                let mut moved = [0i32; 64];
                for (k, (src, _)) in fds.iter().enumerate().take(64) {
                    let m = libc::fcntl(*src, libc::F_DUPFD_CLOEXEC, 100);
                    if m < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    moved[k] = m;
                }
                for (k, (_, dst)) in fds.iter().enumerate().take(64) {
                    if libc::dup2(moved[k], *dst) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                Ok(())
            });
        }
        let child = cmd
            .spawn()
            .with_context(|| format!("{}: cannot start {}", stage.name, prog.display()))?;
        drop(cmd); // our copies of the child's ends
        drop(extra);
        let pid = child.id();
        let prefix = self.workers[wi].prefix();
        let mut relays = Vec::new();
        for (path, r) in readers {
            let targets = stage.paths.get(&path).cloned().unwrap_or_default();
            let routing = self.routing.clone();
            let counter = sh.counters.path(&path);
            relays.push(
                std::thread::Builder::new()
                    .name(format!("relay-{}-{path}", stage.name))
                    .spawn(move || pipes::relay(r, &targets, &routing, &counter))?,
            );
        }
        {
            let sh = sh.clone();
            let lock = self.stderr_lock.clone();
            let logfile = state::log_file(&self.p.state_dir, &stage.name);
            let prefix = prefix.clone();
            std::thread::Builder::new()
                .name(format!("log-{}", stage.name))
                .spawn(move || stderr_thread(err_r, &prefix, &sh, &logfile, &lock))?;
        }
        if let Some(r) = dump_reader {
            let file = state::dump_file(&self.p.state_dir, &stage.name);
            let lock = state::dump_lock(&self.p.state_dir, &stage.name);
            relays.push(
                std::thread::Builder::new()
                    .name(format!("dump-{}", stage.name))
                    .spawn(move || dump_thread(r, &file, &lock))?,
            );
        }
        let w = &mut self.workers[wi];
        w.child = Some(child);
        w.started = Some((Instant::now(), Utc::now()));
        w.next_start = None;
        w.relays.extend(relays);
        self.log(&format!("{prefix}: started (pid {pid})"));
        Ok(())
    }

    /// Broker transport: the stage's input queue (worker `idx` of several has its
    /// own in-flight list) and its destination queues. The first queue of each
    /// goes in the environment (`IMQ_INPUT`, `IMQ_OUTPUT`), where a password is
    /// not shown to every user by `ps`.
    fn broker_args(&self, cmd: &mut Command, stage: &Stage, idx: u32) {
        let t = &self.p.transport;
        if !self.p.is_source(&stage.name) {
            if let Some(uri) = t.queue_uri(&stage.name, Some(idx)) {
                cmd.env("IMQ_INPUT", uri);
            }
        }
        for (path, targets) in &stage.paths {
            for (k, target) in targets.iter().enumerate() {
                let Some(uri) = t.queue_uri(target, None) else {
                    continue;
                };
                if path == "_default" && k == 0 {
                    cmd.env("IMQ_OUTPUT", uri);
                } else {
                    cmd.arg("--path").arg(format!("{path}={uri}"));
                }
            }
        }
    }

    /// A worker's child ended: decide what comes next.
    fn exited(&mut self, wi: usize, code: Option<i32>, signal: Option<i32>) {
        let draining = self.draining.is_some();
        let broker = self.broker();
        let source = self.p.is_source(&self.workers[wi].stage.name);
        let (delay, max) = (self.p.restart_delay, self.p.restart_max);
        let dir = self.p.state_dir.clone();
        let w = &mut self.workers[wi];
        let ran = w.started.map(|(i, _)| i.elapsed()).unwrap_or_default();
        if let Some(c) = w.child.take() {
            w.absorb_exited(&dir, c.id());
        }
        let what = match (code, signal) {
            (Some(c), _) => format!("exit {c}"),
            (_, Some(s)) => format!("signal {s}"),
            _ => "ended".into(),
        };
        w.last_exit = Some(what.clone());
        // 0: all input done; 1: done, some of it dumped.
        let finished = matches!(code, Some(0) | Some(1));
        // A broker stage's input never ends by itself: it is done once told to
        // stop; ending before that is a failure to restart from.
        let input_closed = if broker && !source {
            w.stopping
        } else {
            w.input.as_ref().is_none_or(|i| i.is_closed())
        };
        let prefix = w.prefix();
        let msg;
        if w.retiring || w.held {
            w.done = w.retiring;
            msg = format!("{prefix}: stopped ({what})");
        } else if finished && source && w.stage.schedule.is_some() {
            w.fails = 0;
            if draining {
                w.done = true;
                msg = format!("{prefix}: {what}");
            } else {
                let last = w.started.map(|s| s.1).unwrap_or_else(Utc::now);
                w.next_run = w.stage.schedule.as_ref().and_then(|s| s.next(last));
                msg = format!(
                    "{prefix}: {what}, next run {}",
                    w.next_run
                        .map(|t| t.to_rfc3339())
                        .unwrap_or_else(|| "never".into())
                );
            }
        } else if finished && input_closed {
            w.done = true;
            msg = format!("{prefix}: finished ({what})");
        } else if source && w.stage.schedule.is_some() && draining {
            w.done = true;
            msg = format!("{prefix}: {what}");
        } else {
            if ran > max {
                w.fails = 0;
            }
            let d = delay.saturating_mul(1u32 << w.fails.min(20)).min(max);
            // Died while being stopped: its replacement drains what it held,
            // and is stopped when the queue is empty again.
            w.stopping = false;
            w.fails += 1;
            w.restarts += 1;
            if w.stage.schedule.is_some() {
                // A failed scheduled run is retried with backoff, then the
                // schedule resumes.
                w.next_run = Some(Utc::now() + chrono::Duration::from_std(d).unwrap_or_default());
            } else {
                w.next_start = Some(Instant::now() + d);
            }
            msg = format!("{prefix}: {what}, restarting in {:.1}s", d.as_secs_f64());
        }
        self.log(&msg);
    }

    fn reap(&mut self) {
        for wi in 0..self.workers.len() {
            let st = match self.workers[wi].child.as_mut().map(|c| c.try_wait()) {
                Some(Ok(Some(st))) => st,
                _ => continue,
            };
            self.exited(wi, st.code(), st.signal());
        }
        for w in &mut self.workers {
            w.relays.retain(|h| !h.is_finished());
        }
    }

    fn start_due(&mut self) {
        let now = Instant::now();
        let utc = Utc::now();
        for wi in 0..self.workers.len() {
            let w = &self.workers[wi];
            if w.child.is_some() || w.done || w.held || w.retiring || !w.relays.is_empty() {
                continue;
            }
            // A broker worker's replacement starts once the one it replaces is
            // gone: both would take the same in-flight list.
            if self.broker()
                && self.workers.iter().any(|o| {
                    o.retiring
                        && o.child.is_some()
                        && o.stage.name == w.stage.name
                        && o.idx == w.idx
                })
            {
                continue;
            }
            let due = match (w.stage.schedule.is_some(), self.draining.is_some()) {
                (true, true) => false,
                (true, false) => w.next_run.is_some_and(|t| t <= utc),
                (false, _) => w.next_start.is_some_and(|t| t <= now),
            };
            if due {
                if let Err(e) = self.spawn(wi) {
                    self.log(&format!("{e:#}"));
                    let d = self.p.restart_max;
                    let w = &mut self.workers[wi];
                    w.restarts += 1;
                    w.next_start = Some(now + d);
                    w.next_run = Some(utc + chrono::Duration::from_std(d).unwrap_or_default());
                }
            }
        }
    }

    fn signal_worker(w: &Worker, sig: i32) {
        if let Some(c) = &w.child {
            // SAFETY: a plain kill of our own child.
            unsafe {
                libc::kill(c.id() as i32, sig);
            }
        }
    }

    /// SIGTERM: collectors (every source stage) stop now; the others drain.
    pub fn begin_drain(&mut self) {
        if self.draining.is_some() {
            return;
        }
        self.log("stopping: collectors first, then draining the pipeline");
        self.draining = Some(Instant::now());
        let p = &self.p;
        for w in &mut self.workers {
            if p.is_source(&w.stage.name) {
                if w.child.is_some() {
                    Self::signal_worker(w, libc::SIGTERM);
                } else {
                    w.done = true;
                }
            }
            if w.held && w.child.is_none() {
                w.done = true;
            }
        }
    }

    /// Close the input of every stage whose sources are all done (on a broker:
    /// stop it once its queue is also seen empty after that).
    fn drain_step(&mut self) {
        for s in &self.p.stages {
            if self.p.is_source(&s.name) || !sources_done(&self.workers, &self.p, &s.name) {
                continue;
            }
            if let Some(d) = &self.depths {
                let since = *self
                    .sources_ended
                    .entry(s.name.clone())
                    .or_insert_with(Instant::now);
                if !d.empty_since(&s.name, since) {
                    continue;
                }
                for w in &mut self.workers {
                    if w.stage.name == s.name && !w.stopping && !w.retiring {
                        w.stopping = true;
                        if w.child.is_some() {
                            Self::signal_worker(w, libc::SIGTERM);
                        } else {
                            w.done = true;
                        }
                    }
                }
                continue;
            }
            for w in &self.workers {
                if w.stage.name == s.name {
                    if let Some(i) = &w.input {
                        i.close();
                    }
                }
            }
        }
    }

    fn all_done(&self) -> bool {
        self.workers
            .iter()
            .all(|w| w.done && w.child.is_none() && w.relays.is_empty())
    }

    /// SIGHUP: re-read the file; replace changed stages, add new ones, retire
    /// removed ones. Unchanged stages keep running.
    pub fn reload(&mut self) {
        let np = match Pipeline::load(&self.p.file) {
            Ok(np) => np,
            Err(e) => {
                self.log(&format!(
                    "reload refused, keeping the running pipeline: {e:#}"
                ));
                return;
            }
        };
        if np.transport != self.p.transport || np.state_dir != self.p.state_dir {
            self.log("reload refused: transport and state_dir cannot change while running");
            return;
        }
        let old = std::mem::replace(&mut self.p, np.clone());
        let mut changed = Vec::new();
        for st in &np.stages {
            if old.stage(&st.name) != Some(st) || old.is_source(&st.name) != np.is_source(&st.name)
            {
                changed.push(st.name.clone());
            }
        }
        for st in &old.stages {
            if np.stage(&st.name).is_none() {
                changed.push(st.name.clone());
            }
        }
        if changed.is_empty() {
            self.log("reload: nothing changed");
            return;
        }
        self.log(&format!("reload: replacing {}", changed.join(", ")));
        for w in &mut self.workers {
            if changed.contains(&w.stage.name) && !w.retiring {
                w.retiring = true;
                // Sources stop now; the others read what is queued for them,
                // then end, while the new workers take new input.
                if let Some(i) = &w.input {
                    i.close();
                } else {
                    Self::signal_worker(w, libc::SIGTERM);
                }
                if w.child.is_none() {
                    w.done = true;
                }
            }
        }
        {
            let mut r = self.routing.write().unwrap_or_else(|e| e.into_inner());
            for n in &changed {
                r.remove(n);
            }
        }
        for st in np.stages.iter().filter(|s| changed.contains(&s.name)) {
            if let Err(e) = self.add_stage(st) {
                self.log(&format!("reload: {}: {e:#}", st.name));
            }
        }
    }

    pub fn control(&mut self, c: Control) {
        let (name, action) = match &c {
            Control::Start(n) => (n.clone(), 0),
            Control::Stop(n) => (n.clone(), 1),
            Control::Restart(n) => (n.clone(), 2),
            Control::Shutdown => return self.begin_drain(),
        };
        for w in &mut self.workers {
            if w.stage.name != name || w.retiring {
                continue;
            }
            match action {
                0 => {
                    w.held = false;
                    w.done = false;
                    w.next_start = Some(Instant::now());
                    if w.stage.schedule.is_some() {
                        w.next_run = Some(Utc::now());
                    }
                }
                1 => {
                    w.held = true;
                    Self::signal_worker(w, libc::SIGTERM);
                }
                _ => {
                    w.held = false;
                    w.done = false;
                    w.fails = 0;
                    w.next_start = Some(Instant::now());
                    if w.child.is_some() {
                        Self::signal_worker(w, libc::SIGTERM);
                        // Restarted at once by `exited`'s backoff of 0 fails.
                    } else if w.stage.schedule.is_some() {
                        w.next_run = Some(Utc::now());
                    }
                }
            }
        }
        if action == 1 {
            self.log(&format!("{name}: stop requested"));
        }
    }

    fn snapshot(&mut self) -> Status {
        let mut stages = Vec::new();
        let now = Instant::now();
        let broker = self.broker();
        if broker {
            let dir = self.p.state_dir.clone();
            for w in &mut self.workers {
                w.refresh_stats(&dir);
            }
        }
        for st in &self.p.stages {
            let sh = self.shared.get(&st.name).cloned().unwrap_or_default();
            let ws: Vec<&Worker> = self
                .workers
                .iter()
                .filter(|w| w.stage.name == st.name && !w.retiring)
                .collect();
            let workers: Vec<WorkerStatus> = ws
                .iter()
                .map(|w| {
                    let state = if w.child.is_some() {
                        "running"
                    } else if w.done && !st.enabled {
                        "disabled"
                    } else if w.done {
                        "finished"
                    } else if w.held {
                        "stopped"
                    } else if st.schedule.is_some() {
                        "scheduled"
                    } else {
                        "restarting"
                    };
                    WorkerStatus {
                        worker: w.idx,
                        state: state.into(),
                        pid: w.child.as_ref().map(|c| c.id()),
                        started: w
                            .started
                            .filter(|_| w.child.is_some())
                            .map(|s| s.1.to_rfc3339()),
                        uptime_s: w
                            .started
                            .filter(|_| w.child.is_some())
                            .map(|s| s.0.elapsed().as_secs_f64()),
                        restarts: w.restarts,
                        last_exit: w.last_exit.clone(),
                        queue_bytes: w.input.as_ref().map(|i| i.pending()),
                        stats: state::read_stats(&self.p.state_dir, &st.name, w.idx),
                    }
                })
                .collect();
            // Every process's counters, restarts included.
            let mut total = ToolStats::default();
            for w in &ws {
                total.absorb(&w.total());
            }
            let (input, paths, output) = if broker {
                (total.input, total.paths.clone(), total.output)
            } else {
                let paths: BTreeMap<String, u64> = sh
                    .counters
                    .paths
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .iter()
                    .map(|(k, v)| (k.clone(), v.load(Ordering::Relaxed)))
                    .collect();
                let output = paths.values().sum();
                (sh.counters.input.load(Ordering::Relaxed), paths, output)
            };
            let basis = if self.p.is_source(&st.name) {
                output
            } else {
                input
            };
            let rate = match self.last_rates.get(&st.name) {
                Some((t, n)) if now.duration_since(*t) >= Duration::from_millis(900) => {
                    let r =
                        (basis.saturating_sub(*n)) as f64 / now.duration_since(*t).as_secs_f64();
                    self.rates.insert(st.name.clone(), r);
                    self.last_rates.insert(st.name.clone(), (now, basis));
                    r
                }
                Some(_) => self.rates.get(&st.name).copied().unwrap_or(0.0),
                None => {
                    self.last_rates.insert(st.name.clone(), (now, basis));
                    0.0
                }
            };
            let (filtered, dumped_stats) = if broker {
                (total.filtered, total.dumped)
            } else {
                (
                    workers
                        .iter()
                        .filter_map(|w| w.stats.as_ref())
                        .map(|s| s.filtered)
                        .sum(),
                    workers
                        .iter()
                        .filter_map(|w| w.stats.as_ref())
                        .map(|s| s.dumped)
                        .sum(),
                )
            };
            let queue = self.queue_status(&st.name);
            let dump = state::dump_file(&self.p.state_dir, &st.name);
            let dump_size = std::fs::metadata(&dump).map(|m| m.len()).unwrap_or(0);
            let next_run = ws
                .iter()
                .filter(|w| w.child.is_none() && !w.done)
                .filter_map(|w| w.next_run)
                .min()
                .map(|t| t.to_rfc3339());
            let state = state::aggregate(&workers);
            stages.push(StageStatus {
                name: st.name.clone(),
                kind: st.kind.name().into(),
                command: st.command.clone(),
                enabled: st.enabled,
                schedule: st.schedule_text.clone(),
                paths_to: st.paths.clone(),
                state,
                restarts: workers.iter().map(|w| w.restarts).sum(),
                input,
                output,
                paths,
                filtered,
                dumped: dumped_stats,
                rate,
                queue_bytes: workers.iter().filter_map(|w| w.queue_bytes).sum(),
                dump_file: dump.display().to_string(),
                dump_size,
                last_error: sh
                    .last_error
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone(),
                next_run,
                queue,
                workers,
            });
        }
        Status {
            pipeline: self.p.name.clone(),
            file: self.p.file.display().to_string(),
            transport: self.p.transport.label(),
            supervisor_pid: std::process::id(),
            started: self.started.to_rfc3339(),
            time: Utc::now().to_rfc3339(),
            draining: self.draining.is_some(),
            stages,
        }
    }

    /// Broker transport: the stage's queue as last read.
    fn queue_status(&self, stage: &str) -> Option<QueueStatus> {
        let d = self.depths.as_ref()?;
        let uri = self.p.transport.queue_uri(stage, None)?;
        if self.p.is_source(stage) {
            return None;
        }
        let g = d.samples.lock().unwrap_or_else(|e| e.into_inner());
        let sample = g.get(stage);
        let depth = sample.and_then(|s| s.depth.as_ref().ok());
        Some(QueueStatus {
            queue: format!("{stage}-queue"),
            uri: crate::transport::mask(&uri),
            waiting: depth.map(|d| d.waiting),
            in_flight: depth.and_then(|d| d.in_flight),
            error: sample.and_then(|s| s.depth.as_ref().err().cloned()),
        })
    }

    fn publish(&mut self) {
        let s = self.snapshot();
        if let Err(e) = state::write_status(&self.p.state_dir, &s) {
            self.log(&format!("cannot write status: {e}"));
        }
        *self.status.lock().unwrap_or_else(|e| e.into_inner()) = s;
    }

    /// Run until drained. Signals are read from the process-wide flags
    /// ([`install_signals`]); `control` carries `serve`'s requests.
    pub fn run(&mut self, control: Option<Receiver<Control>>) -> Result<u8> {
        self.log(&format!(
            "pipeline {} ({} stages, state in {})",
            self.p.name,
            self.p.stages.len(),
            self.p.state_dir.display()
        ));
        let mut last_pub = Instant::now() - Duration::from_secs(10);
        let mut killed = false;
        loop {
            if TERM.swap(false, Ordering::SeqCst) {
                if self.draining.is_some() {
                    self.log("second stop signal: killing every stage");
                    for w in &self.workers {
                        Self::signal_worker(w, libc::SIGKILL);
                    }
                    killed = true;
                }
                self.begin_drain();
            }
            if HUP.swap(false, Ordering::SeqCst) && self.draining.is_none() {
                self.reload();
            }
            if let Some(rx) = &control {
                let msgs: Vec<Control> = rx.try_iter().collect();
                for m in msgs {
                    self.control(m);
                }
            }
            self.reap();
            if self.draining.is_some() {
                self.drain_step();
            }
            self.start_due();
            // Retired workers that are done are of no more interest.
            self.workers
                .retain(|w| !(w.retiring && w.done && w.child.is_none() && w.relays.is_empty()));
            if last_pub.elapsed() >= Duration::from_secs(1) {
                self.publish();
                last_pub = Instant::now();
            }
            if let Some(t) = self.draining {
                if self.all_done() {
                    self.publish();
                    self.log("stopped: pipeline drained");
                    return Ok(if killed { 1 } else { 0 });
                }
                if t.elapsed() > self.p.drain_timeout && !killed {
                    self.log("drain timeout: killing the stages still running");
                    for w in &self.workers {
                        Self::signal_worker(w, libc::SIGKILL);
                    }
                    for w in &mut self.workers {
                        w.done = true;
                        if let Some(i) = &w.input {
                            i.close();
                        }
                    }
                    killed = true;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// A supervisor run in a thread: its control channel, its latest status, and the
/// thread (which returns the exit status).
pub struct Handle {
    pub control: Sender<Control>,
    pub status: Arc<Mutex<Status>>,
    pub thread: JoinHandle<Result<u8>>,
}

/// Run the supervisor in a thread (for `serve`).
pub fn spawn(p: Pipeline) -> Result<Handle> {
    let mut s = Supervisor::new(p)?;
    let (tx, rx) = std::sync::mpsc::channel();
    let status = s.status.clone();
    let h = std::thread::Builder::new()
        .name("supervisor".into())
        .spawn(move || s.run(Some(rx)))?;
    Ok(Handle {
        control: tx,
        status,
        thread: h,
    })
}

fn stderr_thread(r: File, prefix: &str, sh: &Shared, logfile: &Path, lock: &Mutex<()>) {
    pipes::each_line(r, MAX_LOG_LINE, |line| {
        let text = String::from_utf8_lossy(line);
        {
            let _g = lock.lock();
            crate::pipeline::eprintln_safe(&format!("{prefix}: {text}"));
        }
        let lower = text.to_ascii_lowercase();
        if lower.contains("error") || lower.contains("rejected") || lower.contains("panic") {
            *sh.last_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(text.to_string());
        }
        let mut g = sh.log.lock().unwrap_or_else(|e| e.into_inner());
        if g.as_ref()
            .and_then(|f| f.metadata().ok())
            .is_some_and(|m| m.len() > MAX_LOG_BYTES)
        {
            *g = None;
            let _ = std::fs::rename(logfile, logfile.with_extension("log.1"));
        }
        if g.is_none() {
            *g = OpenOptions::new()
                .create(true)
                .append(true)
                .open(logfile)
                .ok();
        }
        if let Some(f) = g.as_mut() {
            let _ = writeln!(
                f,
                "{} {prefix}: {text}",
                Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ")
            );
        }
    });
}

/// Dump records arrive on a pipe; each is appended to the stage's dump file under
/// the dump lock, so that `dump recover|delete` can rewrite the file safely. A
/// record is copied in pieces (bounded memory, whatever its size).
fn dump_thread(r: File, file: &Path, lock: &Path) {
    use std::io::BufRead;
    let mut rd = std::io::BufReader::with_capacity(64 << 10, r);
    loop {
        match rd.fill_buf() {
            Ok([]) | Err(_) => return,
            Ok(_) => {}
        }
        let res = state::with_lock(lock, || {
            let mut f = OpenOptions::new().create(true).append(true).open(file)?;
            loop {
                let buf = rd.fill_buf().unwrap_or(&[]);
                if buf.is_empty() {
                    return f.write_all(b"\n");
                }
                let (n, eol) = match memchr::memchr(b'\n', buf) {
                    Some(i) => (i + 1, true),
                    None => (buf.len(), false),
                };
                f.write_all(&buf[..n])?;
                rd.consume(n);
                if eol {
                    return Ok(());
                }
            }
        });
        if let Err(e) = res {
            crate::pipeline::eprintln_safe(&format!(
                "imq-supervise: cannot write dump {}: {e}",
                file.display()
            ));
            return;
        }
    }
}
