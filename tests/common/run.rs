//! Running the built binaries with stdin, in a clean environment.
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// Environment variables the tools read: removed so the developer's own settings
/// cannot change a test's outcome.
pub const IMQ_VARS: &[&str] = &[
    "IMQ_INPUT",
    "IMQ_OUTPUT",
    "IMQ_DUMP",
    "IMQ_DUMP_DIR",
    "IMQ_STRICT",
    "IMQ_LINE_BUFFERED",
    "IMQ_MAX_LINE_BYTES",
    "IMQ_FEED_NAME",
    "IMQ_STATE_DIR",
];

/// A command for a built binary, run in `dir`, with no IMQ_* variables.
pub fn cmd(bin: &str, dir: &Path) -> Command {
    let mut c = Command::new(bin);
    c.current_dir(dir);
    for v in IMQ_VARS {
        c.env_remove(v);
    }
    c
}

/// Run with `input` on stdin (written from a thread, so large inputs cannot
/// deadlock against a full stdout pipe).
pub fn run(c: &mut Command, input: &[u8]) -> Output {
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    let w = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("wait");
    w.join().expect("writer");
    out
}

pub fn lines(b: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(b)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {e}: {l}")))
        .collect()
}

/// Run a command and follow its peak resident memory (VmHWM) while it runs.
pub fn run_peak_rss(c: &mut Command) -> (Output, u64) {
    run_peak_rss_with(c, b"")
}

/// [`run_peak_rss`] with `input` on stdin; the peak is in kB.
pub fn run_peak_rss_with(c: &mut Command, input: &[u8]) -> (Output, u64) {
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let status = format!("/proc/{}/status", child.id());
    let mut out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let mut err = child.stderr.take().unwrap();
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let mut peak = 0u64;
    loop {
        if let Ok(s) = std::fs::read_to_string(&status) {
            if let Some(kb) = s
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            {
                peak = peak.max(kb);
            }
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let status = child.wait().unwrap();
    let _ = writer.join();
    let o = Output {
        status,
        stdout: reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
    };
    (o, peak)
}
