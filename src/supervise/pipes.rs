//! The `fifo` transport's plumbing: pipes the supervisor creates between stage
//! processes, and the relay threads that move whole lines along the edges.
//!
//! Every worker reads its own input pipe, whose read end the supervisor keeps, so
//! that a stage that dies and is restarted finds what was queued for it, and a
//! producer blocks (instead of failing) while its consumer is down. Relays copy
//! one line at a time from a producer's output pipe to one worker of each
//! destination stage (round robin between workers, a copy per stage as IntelMQ's
//! `destination_queues`), holding that worker's input for the whole line, so that
//! lines from several producers never interleave. Memory per relay is one 64 KiB
//! buffer, whatever the line length.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

/// A pipe: (read end, write end), both close-on-exec.
pub fn pipe() -> io::Result<(File, File)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: pipe2 writes two fresh descriptors into the array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors are new and owned by nobody else.
    unsafe { Ok((File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1]))) }
}

/// Bytes waiting in a pipe.
pub fn pending(f: &impl AsRawFd) -> u64 {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD stores an int.
    if unsafe { libc::ioctl(f.as_raw_fd(), libc::FIONREAD, &mut n) } == 0 {
        n.max(0) as u64
    } else {
        0
    }
}

/// One worker's input: the supervisor keeps both ends.
pub struct InputPipe {
    /// None once closed: the worker reads the rest, then end of input.
    writer: Mutex<Option<File>>,
    reader: File,
}

impl InputPipe {
    pub fn new() -> io::Result<InputPipe> {
        let (r, w) = pipe()?;
        Ok(InputPipe {
            writer: Mutex::new(Some(w)),
            reader: r,
        })
    }

    /// The read end for a new child (a duplicate: the original stays here).
    pub fn child_end(&self) -> io::Result<OwnedFd> {
        Ok(self.reader.try_clone()?.into())
    }

    /// Close the write end: the worker drains and sees end of input. Waits for a
    /// line being written to end.
    pub fn close(&self) {
        *self.writer.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    pub fn is_closed(&self) -> bool {
        self.writer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_none()
    }

    pub fn pending(&self) -> u64 {
        pending(&self.reader)
    }
}

/// Counters of one stage, kept across restarts and reloads.
#[derive(Default)]
pub struct Counters {
    /// Lines delivered to the stage's workers.
    pub input: AtomicU64,
    /// Lines the stage wrote, per path.
    pub paths: Mutex<HashMap<String, Arc<AtomicU64>>>,
}

impl Counters {
    pub fn path(&self, name: &str) -> Arc<AtomicU64> {
        self.paths
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(name.to_string())
            .or_default()
            .clone()
    }

    pub fn output(&self) -> u64 {
        self.paths
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .map(|c| c.load(Ordering::Relaxed))
            .sum()
    }
}

/// The inputs of one stage's current workers.
pub struct StageInputs {
    pub pipes: Vec<Arc<InputPipe>>,
    next: AtomicUsize,
    pub counters: Arc<Counters>,
}

impl StageInputs {
    pub fn new(pipes: Vec<Arc<InputPipe>>, counters: Arc<Counters>) -> StageInputs {
        StageInputs {
            pipes,
            next: AtomicUsize::new(0),
            counters,
        }
    }

    fn pick(&self) -> Option<&Arc<InputPipe>> {
        if self.pipes.is_empty() {
            return None;
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.pipes.len();
        Some(&self.pipes[i])
    }
}

/// Stage name → its inputs; replaced for a stage on reload.
pub type Routing = Arc<RwLock<HashMap<String, Arc<StageInputs>>>>;

/// Copy lines from `from` to one worker of each stage in `targets`, until end of
/// input. Counts each line in `counter` and in each target's input counter.
/// A line without a final newline (a producer that died mid-write) is ended with
/// one, so that the consumer dumps it instead of gluing it to the next line.
pub fn relay(from: File, targets: &[String], routing: &Routing, counter: &AtomicU64) {
    let mut r = BufReader::with_capacity(64 << 10, from);
    loop {
        match r.fill_buf() {
            Ok([]) => return,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return,
        }
        // Resolve the destinations for this line (a reload may have changed them),
        // in a fixed order so that two relays never wait on each other.
        let dests: Vec<(Arc<StageInputs>, Arc<InputPipe>)> = {
            let map = routing.read().unwrap_or_else(|e| e.into_inner());
            let mut v: Vec<(&String, Arc<StageInputs>)> = targets
                .iter()
                .filter_map(|t| map.get(t).map(|s| (t, s.clone())))
                .collect();
            v.sort_by(|a, b| a.0.cmp(b.0));
            v.into_iter()
                .filter_map(|(_, s)| s.pick().cloned().map(|p| (s, p)))
                .collect()
        };
        let mut guards: Vec<_> = dests
            .iter()
            .map(|(_, p)| p.writer.lock().unwrap_or_else(|e| e.into_inner()))
            .collect();
        let mut ended = false;
        loop {
            let buf = match r.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => &[],
            };
            if buf.is_empty() {
                for g in guards.iter_mut() {
                    if let Some(w) = g.as_mut() {
                        let _ = w.write_all(b"\n");
                    }
                }
                ended = true;
                break;
            }
            let (chunk, eol) = match memchr::memchr(b'\n', buf) {
                Some(i) => (&buf[..=i], true),
                None => (buf, false),
            };
            for g in guards.iter_mut() {
                // A closed input (a stage removed by a reload) drops its copy.
                if let Some(w) = g.as_mut() {
                    let _ = w.write_all(chunk);
                }
            }
            let n = chunk.len();
            r.consume(n);
            if eol {
                break;
            }
        }
        drop(guards);
        counter.fetch_add(1, Ordering::Relaxed);
        for (s, _) in &dests {
            s.counters.input.fetch_add(1, Ordering::Relaxed);
        }
        if ended {
            return;
        }
    }
}

/// Read lines of at most `max` bytes from `from` and hand each to `f` (without
/// its newline); a longer line is cut, the rest skipped.
pub fn each_line(from: impl Read, max: usize, mut f: impl FnMut(&[u8])) {
    let mut r = BufReader::with_capacity(16 << 10, from);
    let mut buf = Vec::new();
    while let Ok(Some(_)) = crate::transport::line::read_line_limited(&mut r, &mut buf, max) {
        f(&buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_copies_whole_lines_to_each_stage() {
        let routing: Routing = Arc::default();
        let mut ins = Vec::new();
        for name in ["a", "b"] {
            let pipes = vec![
                Arc::new(InputPipe::new().unwrap()),
                Arc::new(InputPipe::new().unwrap()),
            ];
            ins.push(pipes.clone());
            routing.write().unwrap().insert(
                name.to_string(),
                Arc::new(StageInputs::new(pipes, Arc::default())),
            );
        }
        let (r, mut w) = pipe().unwrap();
        w.write_all(b"one\ntwo\nthree-without-end").unwrap();
        drop(w);
        let c = AtomicU64::new(0);
        relay(r, &["b".into(), "a".into()], &routing, &c);
        assert_eq!(c.load(Ordering::Relaxed), 3);
        for pipes in &ins {
            let mut all = String::new();
            for p in pipes {
                p.close();
                let mut s = String::new();
                p.reader
                    .try_clone()
                    .unwrap()
                    .read_to_string(&mut s)
                    .unwrap();
                all.push_str(&s);
            }
            let mut lines: Vec<&str> = all.lines().collect();
            lines.sort();
            assert_eq!(lines, ["one", "three-without-end", "two"]);
        }
        let a = routing.read().unwrap()["a"]
            .counters
            .input
            .load(Ordering::Relaxed);
        assert_eq!(a, 3);
    }
}
