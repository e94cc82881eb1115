//! `imq-supervise check`: is the pipeline file valid, does every stage's command
//! line start, is every connection reachable, are there orphans?
//!
//! Each processing stage is run once with empty input (its output and dump thrown
//! away): a tool checks its flags, opens its databases and connects to its stores
//! before reading, so exit status 2 means the stage would fail. Collectors are not
//! run (that would fetch); their flags are checked with `--help` at the end of the
//! command line, which parses every flag before it.

use super::config::{Kind, Pipeline};
use super::state;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One finding.
pub struct Finding {
    pub stage: Option<String>,
    pub error: bool,
    pub text: String,
}

/// Run with a time limit; (exit code, stderr).
fn run_limited(mut c: Command, limit: Duration) -> std::io::Result<(Option<i32>, String)> {
    c.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = c.spawn()?;
    let mut err = child.stderr.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.by_ref().take(64 << 10).read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    });
    let t = Instant::now();
    let code = loop {
        if let Some(st) = child.try_wait()? {
            break st.code();
        }
        if t.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Ok((code, reader.join().unwrap_or_default()))
}

/// A broker pipeline: the broker answers, and which of its queues no stage reads.
fn broker(p: &Pipeline, out: &mut Vec<Finding>) {
    let Some(first) = p
        .stages
        .iter()
        .filter(|s| !p.is_source(&s.name))
        .find_map(|s| p.transport.queue_uri(&s.name, None))
    else {
        return;
    };
    let note = |error, text| Finding {
        stage: None,
        error,
        text,
    };
    match crate::transport::queue_depth(&first) {
        Err(e) => return out.push(note(true, format!("broker unreachable: {e:#}"))),
        Ok(_) => out.push(note(
            false,
            format!("broker {} answers", p.transport.label()),
        )),
    }
    if let Ok(Some(queues)) = crate::transport::list_queues(&first) {
        for q in queues {
            let stage = q.strip_suffix("-queue").unwrap_or(&q);
            if p.stage(stage).is_some_and(|_| !p.is_source(stage)) {
                continue;
            }
            let uri = p.transport.queue_uri(stage, None).unwrap_or_default();
            let n = crate::transport::queue_depth(&uri)
                .map(|d| d.waiting)
                .unwrap_or(0);
            out.push(note(
                false,
                format!("orphan queue {q}: {n} messages, no stage reads it"),
            ));
        }
    }
}

pub fn check(p: &Pipeline) -> Vec<Finding> {
    let mut out = Vec::new();
    let tmp = std::env::temp_dir().join(format!("imq-supervise-check.{}", std::process::id()));
    let _ = std::fs::create_dir_all(&tmp);
    let dir = p
        .file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    for s in &p.stages {
        let f = |error, text: String| Finding {
            stage: Some(s.name.clone()),
            error,
            text,
        };
        if !s.enabled {
            out.push(f(false, "disabled".into()));
        }
        let prog = p.program(&s.argv[0]);
        let mut c = Command::new(&prog);
        c.args(&s.argv[1..]).current_dir(dir);
        let collector = s.kind == Kind::Collector || p.is_source(&s.name);
        if collector {
            c.arg("--help");
        } else {
            c.arg("--dump").arg(tmp.join(format!("{}.dump", s.name)));
            for path in s.paths.keys().filter(|k| *k != "_default") {
                c.arg("--path").arg(format!("{path}=/dev/null"));
            }
        }
        match run_limited(c, Duration::from_secs(20)) {
            Err(e) => out.push(f(true, format!("cannot run {}: {e}", prog.display()))),
            Ok((Some(0), _)) => out.push(f(false, "ok".into())),
            Ok((code, err)) => {
                let last = err
                    .lines()
                    .rfind(|l| !l.trim().is_empty())
                    .unwrap_or("")
                    .trim();
                let code = code
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "timeout".into());
                out.push(f(true, format!("command fails (exit {code}): {last}")));
            }
        }
        let has_out = !s.paths.is_empty();
        if !has_out && !matches!(s.kind, Kind::Output) {
            out.push(f(
                false,
                "sends to no stage: its output is discarded (add `to`)".into(),
            ));
        }
        if collector && s.kind != Kind::Collector && s.schedule.is_none() {
            out.push(f(
                false,
                "receives from no stage and has no schedule: it runs once with empty input".into(),
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    // Orphans: state of stages the file no longer names.
    if let Ok(rd) = std::fs::read_dir(&p.state_dir) {
        for e in rd.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if let Some(stage) = n.strip_suffix(".dump.ndjson") {
                if p.stage(stage).is_none() && e.metadata().map(|m| m.len()).unwrap_or(0) > 0 {
                    out.push(Finding {
                        stage: None,
                        error: false,
                        text: format!("orphan dump {} (no stage {stage})", e.path().display()),
                    });
                }
            }
        }
    }
    broker(p, &mut out);
    if let Ok(st) = state::read_status(&p.state_dir) {
        if state::alive(st.supervisor_pid) {
            out.push(Finding {
                stage: None,
                error: false,
                text: format!("running: supervisor pid {}", st.supervisor_pid),
            });
        }
    }
    out
}
