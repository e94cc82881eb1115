//! The counters every tool keeps, and `--stats FILE`: the counters written
//! atomically (a temporary file renamed over the old one) every few seconds and
//! at exit, as Prometheus text (for node_exporter's textfile collector) or JSON
//! (for imq-supervise).

use std::fmt::{Display, Write as _};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The counters every tool keeps.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Messages (parsers: feed records) read.
    pub input: u64,
    /// Messages written.
    pub output: u64,
    /// Messages dropped on purpose by an explicit rule.
    pub filtered: u64,
    /// Messages or records written to the dump.
    pub dumped: u64,
}

impl Stats {
    /// Is every input accounted for? (Only for one-in-one-out tools; parsers and
    /// aggregating experts write more or fewer messages than they read.)
    pub fn balanced(&self) -> bool {
        self.input == self.output + self.filtered + self.dumped
    }
}

impl Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "in {}, out {}, filtered {}, dumped {}",
            self.input, self.output, self.filtered, self.dumped
        )
    }
}

/// Messages sent per destination path. Few paths: a short list beats a map.
#[derive(Debug, Default, Clone)]
pub struct PathCounts {
    default: u64,
    named: Vec<(String, u64)>,
}

impl PathCounts {
    pub(crate) fn count(&mut self, path: &str) {
        if path == "_default" {
            self.default += 1;
        } else if let Some(c) = self.named.iter_mut().find(|(p, _)| p == path) {
            c.1 += 1;
        } else {
            self.named.push((path.to_string(), 1));
        }
    }

    /// Every path with its count, `_default` first.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        std::iter::once(("_default", self.default))
            .chain(self.named.iter().map(|(p, n)| (p.as_str(), *n)))
    }
}

/// The format of `--stats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum StatsFormat {
    /// Prometheus text exposition format
    #[default]
    Prom,
    /// One JSON object
    Json,
}

/// How often `--stats` is rewritten while a tool runs.
const EVERY: Duration = Duration::from_secs(2);

/// The `--stats` file of a run.
pub struct StatsFile {
    path: PathBuf,
    format: StatsFormat,
    last: Option<Instant>,
    /// Duration of the last commit (batch latency), in seconds.
    pub batch_latency: f64,
}

impl StatsFile {
    pub fn new(path: PathBuf, format: StatsFormat) -> StatsFile {
        StatsFile {
            path,
            format,
            last: None,
            batch_latency: 0.0,
        }
    }

    /// Write the file if the last write is old enough (or `force`). A failure to
    /// write statistics never stops the data: it is reported once by the caller.
    pub fn maybe_write(
        &mut self,
        tool: &str,
        stats: &Stats,
        paths: &PathCounts,
        last_error: Option<&str>,
        force: bool,
    ) -> std::io::Result<()> {
        let now = Instant::now();
        if !force && self.last.is_some_and(|l| now.duration_since(l) < EVERY) {
            return Ok(());
        }
        self.last = Some(now);
        let text = self.render(tool, stats, paths, last_error);
        let mut tmp = self.path.clone().into_os_string();
        tmp.push(".tmp");
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, &self.path)
    }

    fn render(
        &self,
        tool: &str,
        s: &Stats,
        paths: &PathCounts,
        last_error: Option<&str>,
    ) -> String {
        let mut out = String::new();
        match self.format {
            StatsFormat::Json => {
                let mut p = serde_json::Map::new();
                for (k, n) in paths.iter() {
                    p.insert(k.to_string(), n.into());
                }
                let v = serde_json::json!({
                    "tool": tool,
                    "pid": std::process::id(),
                    "time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
                    "in": s.input,
                    "out": s.output,
                    "filtered": s.filtered,
                    "dumped": s.dumped,
                    "paths": p,
                    "batch_latency_ms": self.batch_latency * 1000.0,
                    "last_error": last_error,
                });
                out = v.to_string();
                out.push('\n');
            }
            StatsFormat::Prom => {
                let tool = prom_label(tool);
                out.push_str("# HELP imq_messages_total Messages by fate.\n");
                out.push_str("# TYPE imq_messages_total counter\n");
                for (kind, n) in [
                    ("in", s.input),
                    ("out", s.output),
                    ("filtered", s.filtered),
                    ("dumped", s.dumped),
                ] {
                    let _ = writeln!(
                        out,
                        "imq_messages_total{{tool=\"{tool}\",kind=\"{kind}\"}} {n}"
                    );
                }
                out.push_str("# HELP imq_path_messages_total Messages sent per path.\n");
                out.push_str("# TYPE imq_path_messages_total counter\n");
                for (path, n) in paths.iter() {
                    let _ = writeln!(
                        out,
                        "imq_path_messages_total{{tool=\"{tool}\",path=\"{}\"}} {n}",
                        prom_label(path)
                    );
                }
                out.push_str("# HELP imq_batch_latency_seconds Duration of the last commit.\n");
                out.push_str("# TYPE imq_batch_latency_seconds gauge\n");
                let _ = writeln!(
                    out,
                    "imq_batch_latency_seconds{{tool=\"{tool}\"}} {}",
                    self.batch_latency
                );
            }
        }
        out
    }
}

/// A Prometheus label value: backslash, quote and newline escaped.
fn prom_label(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_formats_hold_the_counters_and_paths() {
        let dir = tempfile::tempdir().unwrap();
        let s = Stats {
            input: 5,
            output: 3,
            filtered: 1,
            dumped: 1,
        };
        let mut paths = PathCounts::default();
        for p in ["_default", "_default", "abuse", "x\"y"] {
            paths.count(p);
        }
        let f = dir.path().join("s.prom");
        let mut w = StatsFile::new(f.clone(), StatsFormat::Prom);
        w.maybe_write("imq-filter", &s, &paths, None, true).unwrap();
        let t = std::fs::read_to_string(&f).unwrap();
        assert!(t.contains("imq_messages_total{tool=\"imq-filter\",kind=\"in\"} 5"));
        assert!(t.contains("path=\"_default\"} 2"));
        assert!(t.contains("path=\"x\\\"y\"} 1"));
        let f = dir.path().join("s.json");
        let mut w = StatsFile::new(f.clone(), StatsFormat::Json);
        w.maybe_write("imq-filter", &s, &paths, Some("bad"), true)
            .unwrap();
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        assert_eq!(v["in"], 5);
        assert_eq!(v["dumped"], 1);
        assert_eq!(v["paths"]["abuse"], 1);
        assert_eq!(v["last_error"], "bad");
        // Not rewritten within the interval unless forced.
        let before = std::fs::read_to_string(&f).unwrap();
        w.maybe_write("imq-filter", &Stats::default(), &paths, None, false)
            .unwrap();
        assert_eq!(std::fs::read_to_string(&f).unwrap(), before);
    }
}
