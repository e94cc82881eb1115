//! The pipeline file: one human-written TOML file naming the stages, their command
//! lines, the edges between them, collector schedules, workers and the transport.
//!
//! TOML rather than YAML: it has one obvious way to write each thing (no implicit
//! typing where `no` or `1:30` changes type, no indentation-sensitive nesting), a
//! small, strict parser, and line numbers in its errors; a pipeline file is short
//! and flat, which is what TOML reads best for.
//!
//! ```toml
//! [pipeline]
//! name = "feodo"
//! transport = "fifo"
//!
//! [stage.collect]
//! command = "imq-collect file feodo.json --feed abusech-feodo-tracker"
//! schedule = "1h"            # or cron: "*/10 * * * *"
//! to = ["parse"]
//!
//! [stage.parse]
//! command = "imq-parse --feed abusech-feodo-tracker"
//! to = ["out"]
//!
//! [stage.out]
//! command = "imq-output json --target events.ndjson"
//! ```

use super::schedule::Schedule;
use anyhow::{anyhow, bail, Context, Result};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What the file says, before checks.
#[derive(Deserialize, Debug, Clone, Default)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    pipeline: RawPipeline,
    /// A table, not a map type, so that stages keep the file's order.
    #[serde(default)]
    stage: toml::Table,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(deny_unknown_fields)]
struct RawPipeline {
    name: Option<String>,
    transport: Option<String>,
    state_dir: Option<String>,
    bin_dir: Option<String>,
    restart_delay: Option<String>,
    restart_max: Option<String>,
    drain_timeout: Option<String>,
}

#[derive(Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(deny_unknown_fields)]
struct RawStage {
    command: String,
    #[serde(default)]
    to: Vec<String>,
    #[serde(default)]
    paths: BTreeMap<String, Vec<String>>,
    schedule: Option<String>,
    workers: Option<u32>,
    enabled: Option<bool>,
    description: Option<String>,
}

/// The transport between stages.
#[derive(Debug, Clone, PartialEq)]
pub enum Transport {
    /// Pipes between processes, through the supervisor: one machine, no broker.
    Fifo,
    /// A broker URI (`redis://HOST:PORT/DB`): queues named after the stages.
    Broker(String),
}

impl Transport {
    /// The URI of the queue a stage reads (IntelMQ's naming: `<stage>-queue`),
    /// for worker `consumer` of several (Redis: its own in-flight list; the
    /// first worker uses IntelMQ's `-internal` list); `None` on fifo.
    pub fn queue_uri(&self, stage: &str, consumer: Option<u32>) -> Option<String> {
        let Transport::Broker(base) = self else {
            return None;
        };
        let queue = format!("{stage}-queue");
        let redis = !base.starts_with("amqp://");
        let consumer = consumer.filter(|c| redis && *c > 0);
        // A unix socket names its queue in the query; TCP in the path.
        let mut uri = if base.starts_with("redis+unix://") {
            let sep = if base.contains('?') { '&' } else { '?' };
            format!("{base}{sep}queue={queue}")
        } else {
            format!("{base}/{queue}")
        };
        if let Some(c) = consumer {
            let sep = if uri.contains('?') { '&' } else { '?' };
            uri.push_str(&format!("{sep}consumer={c}"));
        }
        Some(uri)
    }

    /// How it is shown (passwords masked).
    pub fn label(&self) -> String {
        match self {
            Transport::Fifo => "fifo".into(),
            Transport::Broker(u) => crate::transport::mask(u),
        }
    }
}

/// What a stage does, from its program name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Collector,
    Parser,
    Expert,
    Filter,
    Output,
    Other,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Collector => "collector",
            Kind::Parser => "parser",
            Kind::Expert => "expert",
            Kind::Filter => "filter",
            Kind::Output => "output",
            Kind::Other => "other",
        }
    }
}

/// One stage, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    pub name: String,
    /// The command line as written.
    pub command: String,
    /// It split into words (shell quoting rules).
    pub argv: Vec<String>,
    pub kind: Kind,
    /// Destination stages of the `_default` path, then of named paths.
    pub paths: BTreeMap<String, Vec<String>>,
    pub schedule: Option<Schedule>,
    pub schedule_text: Option<String>,
    pub workers: u32,
    pub enabled: bool,
    pub description: Option<String>,
}

impl Stage {
    /// Every stage this one sends to, over all paths.
    pub fn targets(&self) -> impl Iterator<Item = &String> {
        self.paths.values().flatten()
    }
}

/// A checked pipeline.
#[derive(Debug, Clone)]
pub struct Pipeline {
    pub file: PathBuf,
    pub name: String,
    pub transport: Transport,
    pub state_dir: PathBuf,
    pub bin_dir: Option<PathBuf>,
    pub restart_delay: Duration,
    pub restart_max: Duration,
    pub drain_timeout: Duration,
    /// In file order.
    pub stages: Vec<Stage>,
}

/// Flags the supervisor sets itself: a stage command must not carry them.
pub const WIRED_FLAGS: &[&str] = &[
    "-i",
    "--input",
    "-o",
    "--output",
    "--path",
    "--stats",
    "--stats-format",
];

/// `30s`, `5m`, `1h`, `2d`, `500ms`, or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => (&s[..i], s[i..].trim()),
        None => (s, "s"),
    };
    let n: f64 = num
        .parse()
        .map_err(|_| anyhow!("bad duration {s:?} (use e.g. 30s, 5m, 1h, 1d)"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" | "sec" => n,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        "d" => n * 86400.0,
        _ => bail!("bad duration unit in {s:?} (ms, s, m, h, d)"),
    };
    if !(secs.is_finite() && secs > 0.0 && secs < 1e9) {
        bail!("duration {s:?} out of range");
    }
    Ok(Duration::from_secs_f64(secs))
}

fn kind_of(argv: &[String]) -> Kind {
    let prog = argv
        .first()
        .map(|p| p.rsplit('/').next().unwrap_or(p))
        .unwrap_or("");
    match prog {
        "imq-collect" => Kind::Collector,
        "imq-parse" => Kind::Parser,
        "imq-enrich" => Kind::Expert,
        "imq-filter" => Kind::Filter,
        "imq-output" => Kind::Output,
        _ => Kind::Other,
    }
}

/// A stage name becomes file and unit names: keep it to a safe alphabet.
fn check_name(name: &str) -> Result<()> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        bail!("stage name {name:?}: use 1-64 letters, digits, '-' or '_'");
    }
    Ok(())
}

impl Pipeline {
    /// Read and check a pipeline file.
    pub fn load(file: &Path) -> Result<Pipeline> {
        let text = std::fs::read_to_string(file).with_context(|| format!("{}", file.display()))?;
        Pipeline::parse(&text, file).with_context(|| format!("{}", file.display()))
    }

    /// Check a pipeline file's text (`file` names it and anchors relative paths).
    pub fn parse(text: &str, file: &Path) -> Result<Pipeline> {
        let raw: RawFile = toml::from_str(text).map_err(|e| anyhow!("{e}"))?;
        let base = file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = raw.pipeline.name.clone().unwrap_or_else(|| {
            file.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "pipeline".into())
        });
        check_name(&name).context("pipeline name")?;
        let transport = match raw.pipeline.transport.as_deref() {
            None | Some("fifo") => Transport::Fifo,
            Some(u)
                if u.starts_with("redis://")
                    || u.starts_with("redis+unix://")
                    || u.starts_with("amqp://") =>
            {
                let t = Transport::Broker(u.trim_end_matches('/').to_string());
                // The stages' URIs must parse (a wrong port or vhost is found now).
                let probe = t.queue_uri("probe", Some(1)).unwrap_or_default();
                let ok = match crate::transport::Scheme::of(&probe) {
                    crate::transport::Scheme::Redis => {
                        crate::transport::redis::Addr::parse(&probe).map(|_| ())
                    }
                    _ => crate::transport::amqp::parse(&probe).map(|_| ()),
                };
                ok.with_context(|| {
                    format!(
                        "transport {:?}: expected redis://[:PASSWORD@]HOST[:PORT]/DB, \
                         redis+unix:///PATH?db=DB or amqp://USER:PASS@HOST[:PORT]/VHOST",
                        crate::transport::mask(u)
                    )
                })?;
                t
            }
            Some(u) => bail!(
                "transport {:?}: use \"fifo\", redis://HOST:PORT/DB or amqp://USER:PASS@HOST/VHOST",
                crate::transport::mask(u)
            ),
        };
        let rel = |p: &str| {
            let p = PathBuf::from(p);
            if p.is_absolute() {
                p
            } else {
                base.join(p)
            }
        };
        let state_dir = raw
            .pipeline
            .state_dir
            .as_deref()
            .map(rel)
            .unwrap_or_else(|| base.join(format!("{name}.state")));
        let dur = |v: &Option<String>, d: Duration, what: &str| -> Result<Duration> {
            v.as_deref()
                .map(parse_duration)
                .transpose()
                .with_context(|| format!("pipeline.{what}"))
                .map(|o| o.unwrap_or(d))
        };
        let restart_delay = dur(
            &raw.pipeline.restart_delay,
            Duration::from_millis(500),
            "restart_delay",
        )?;
        let restart_max = dur(
            &raw.pipeline.restart_max,
            Duration::from_secs(60),
            "restart_max",
        )?;
        let drain_timeout = dur(
            &raw.pipeline.drain_timeout,
            Duration::from_secs(60),
            "drain_timeout",
        )?;
        let mut stages = Vec::new();
        for (sname, v) in &raw.stage {
            let rs: RawStage = v
                .clone()
                .try_into()
                .map_err(|e| anyhow!("{e}"))
                .with_context(|| format!("stage {sname}"))?;
            stages.push(check_stage(sname, &rs).with_context(|| format!("stage {sname}"))?);
        }
        if stages.is_empty() {
            bail!("no stages: add [stage.NAME] tables with a command");
        }
        let names: BTreeSet<&str> = stages.iter().map(|s| s.name.as_str()).collect();
        for s in &stages {
            for t in s.targets() {
                if !names.contains(t.as_str()) {
                    bail!("stage {}: sends to unknown stage {t:?}", s.name);
                }
                if t == &s.name {
                    bail!("stage {}: sends to itself", s.name);
                }
            }
        }
        let p = Pipeline {
            file: file.to_path_buf(),
            name,
            transport,
            state_dir,
            bin_dir: raw.pipeline.bin_dir.as_deref().map(rel),
            restart_delay,
            restart_max: restart_max.max(restart_delay),
            drain_timeout,
            stages,
        };
        p.check_acyclic()?;
        for s in &p.stages {
            if s.kind == Kind::Collector && !p.sources_of(&s.name).is_empty() {
                bail!("stage {}: a collector cannot receive messages", s.name);
            }
        }
        Ok(p)
    }

    /// The directory stage commands run in: the pipeline file's.
    pub fn dir(&self) -> PathBuf {
        self.file
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."))
    }

    /// The program to run for `argv[0]`: a path as given (relative to the
    /// pipeline file), else in `bin_dir`, else beside this executable, else the
    /// bare name (for $PATH).
    pub fn program(&self, prog: &str) -> PathBuf {
        if prog.contains('/') {
            return self.dir().join(prog);
        }
        if let Some(b) = &self.bin_dir {
            return b.join(prog);
        }
        if let Some(d) = std::env::current_exe()
            .ok()
            .and_then(|e| e.parent().map(Path::to_path_buf))
        {
            let c = d.join(prog);
            if c.is_file() {
                return c;
            }
        }
        PathBuf::from(prog)
    }

    pub fn stage(&self, name: &str) -> Option<&Stage> {
        self.stages.iter().find(|s| s.name == name)
    }

    pub fn index(&self, name: &str) -> Option<usize> {
        self.stages.iter().position(|s| s.name == name)
    }

    /// Stages that send to `name`.
    pub fn sources_of(&self, name: &str) -> Vec<&Stage> {
        self.stages
            .iter()
            .filter(|s| s.targets().any(|t| t == name))
            .collect()
    }

    /// Stages with no input: collectors and other sources.
    pub fn is_source(&self, name: &str) -> bool {
        self.sources_of(name).is_empty()
    }

    fn check_acyclic(&self) -> Result<()> {
        // Kahn's algorithm: a cycle would never drain on SIGTERM.
        let mut indeg: BTreeMap<&str, usize> =
            self.stages.iter().map(|s| (s.name.as_str(), 0)).collect();
        for s in &self.stages {
            let uniq: BTreeSet<&String> = s.targets().collect();
            for t in uniq {
                *indeg.get_mut(t.as_str()).expect("checked") += 1;
            }
        }
        let mut ready: Vec<&str> = indeg
            .iter()
            .filter(|(_, d)| **d == 0)
            .map(|(n, _)| *n)
            .collect();
        let mut seen = 0;
        while let Some(n) = ready.pop() {
            seen += 1;
            let s = self.stage(n).expect("known");
            let uniq: BTreeSet<&String> = s.targets().collect();
            for t in uniq {
                let d = indeg.get_mut(t.as_str()).expect("checked");
                *d -= 1;
                if *d == 0 {
                    ready.push(t);
                }
            }
        }
        if seen != self.stages.len() {
            bail!("the stages form a cycle: a pipeline must be acyclic");
        }
        Ok(())
    }
}

fn check_stage(name: &str, rs: &RawStage) -> Result<Stage> {
    check_name(name)?;
    let argv = shlex::split(&rs.command)
        .ok_or_else(|| anyhow!("command: unbalanced quotes in {:?}", rs.command))?;
    if argv.is_empty() {
        bail!("command is empty");
    }
    for a in &argv {
        let flag = a.split('=').next().unwrap_or("");
        if WIRED_FLAGS.contains(&flag) {
            bail!(
                "command has {flag}: the supervisor wires inputs, outputs, paths and stats itself (use `to` and `paths`)"
            );
        }
    }
    let kind = kind_of(&argv);
    let mut paths = BTreeMap::new();
    if !rs.to.is_empty() {
        paths.insert("_default".to_string(), rs.to.clone());
    }
    for (p, t) in &rs.paths {
        if p == "_default" && !rs.to.is_empty() {
            bail!("both `to` and paths._default: use one");
        }
        if p.is_empty() || p.contains('=') {
            bail!("path name {p:?}");
        }
        paths.insert(p.clone(), t.clone());
    }
    let schedule = rs
        .schedule
        .as_deref()
        .map(Schedule::parse)
        .transpose()
        .context("schedule")?;
    let workers = rs.workers.unwrap_or(1);
    if !(1..=64).contains(&workers) {
        bail!("workers must be 1..64");
    }
    if schedule.is_some() && workers != 1 {
        bail!("a scheduled stage runs one process at a time (workers = 1)");
    }
    Ok(Stage {
        name: name.to_string(),
        command: rs.command.clone(),
        argv,
        kind,
        paths,
        schedule,
        schedule_text: rs.schedule.clone(),
        workers,
        enabled: rs.enabled.unwrap_or(true),
        description: rs.description.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_example_pipeline_loads() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/pipelines");
        let mut n = 0;
        for e in std::fs::read_dir(dir).unwrap() {
            let f = e.unwrap().path();
            if f.extension().is_some_and(|x| x == "toml") {
                let p = Pipeline::load(&f).unwrap_or_else(|e| panic!("{}: {e:#}", f.display()));
                assert!(!p.stages.is_empty());
                n += 1;
            }
        }
        assert!(n >= 3, "{n} example pipelines");
    }

    #[test]
    fn broker_queue_uris() {
        let p = parse(
            "[pipeline]\ntransport=\"redis://:pw@h:1/2/\"\n[stage.a]\ncommand=\"imq-parse\"\n",
        )
        .unwrap();
        assert_eq!(
            p.transport.queue_uri("a", None).unwrap(),
            "redis://:pw@h:1/2/a-queue"
        );
        assert_eq!(
            p.transport.queue_uri("a", Some(0)).unwrap(),
            "redis://:pw@h:1/2/a-queue"
        );
        assert_eq!(
            p.transport.queue_uri("a", Some(3)).unwrap(),
            "redis://:pw@h:1/2/a-queue?consumer=3"
        );
        assert_eq!(p.transport.label(), "redis://:***@h:1/2");
        let p = parse("[pipeline]\ntransport=\"redis+unix:///run/redis.sock?db=2\"\n[stage.a]\ncommand=\"imq-parse\"\n").unwrap();
        assert_eq!(
            p.transport.queue_uri("a", Some(1)).unwrap(),
            "redis+unix:///run/redis.sock?db=2&queue=a-queue&consumer=1"
        );
        let p =
            parse("[pipeline]\ntransport=\"amqp://u:p@h/v\"\n[stage.a]\ncommand=\"imq-parse\"\n")
                .unwrap();
        // RabbitMQ's consumers share one queue: no consumer id.
        assert_eq!(
            p.transport.queue_uri("a", Some(1)).unwrap(),
            "amqp://u:p@h/v/a-queue"
        );
        let e = parse("[pipeline]\ntransport=\"redis://:pw@h:notaport/2\"\n[stage.a]\ncommand=\"imq-parse\"\n").unwrap_err();
        assert!(!format!("{e:#}").contains("pw"), "{e:#}");
    }

    fn parse(t: &str) -> Result<Pipeline> {
        Pipeline::parse(t, Path::new("/x/p.toml"))
    }

    #[test]
    fn minimal() {
        let p = parse(
            "[stage.c]\ncommand = \"imq-collect file 'a b.json'\"\nschedule = \"5m\"\nto = [\"p\"]\n[stage.p]\ncommand = \"imq-parse --feed x\"\nworkers = 2\n",
        )
        .unwrap();
        assert_eq!(p.name, "p");
        assert_eq!(p.state_dir, PathBuf::from("/x/p.state"));
        assert_eq!(p.transport, Transport::Fifo);
        let c = p.stage("c").unwrap();
        assert_eq!(c.argv, ["imq-collect", "file", "a b.json"]);
        assert_eq!(c.kind, Kind::Collector);
        assert_eq!(p.stage("p").unwrap().workers, 2);
        assert!(p.is_source("c") && !p.is_source("p"));
    }

    #[test]
    fn rejects() {
        for (t, want) in [
            ("[stage.a]\ncommand = \"imq-parse -i x\"\n", "wires"),
            ("[stage.a]\ncommand = \"imq-parse\"\nto = [\"b\"]\n", "unknown stage"),
            (
                "[stage.a]\ncommand = \"imq-parse\"\nto = [\"b\"]\n[stage.b]\ncommand = \"imq-enrich x\"\nto = [\"a\"]\n",
                "cycle",
            ),
            ("[stage.a]\ncommand = \"imq-parse\"\ncolour = 1\n", "unknown field"),
            ("[stage.\"a b\"]\ncommand = \"imq-parse\"\n", "stage name"),
            ("[stage.a]\ncommand = \"imq-parse 'x\"\n", "quotes"),
            ("[stage.a]\ncommand = \"imq-parse\"\nschedule = \"soon\"\n", "schedule"),
            ("", "no stages"),
            (
                "[stage.a]\ncommand = \"imq-parse\"\nto=[\"c\"]\n[stage.c]\ncommand = \"imq-collect file x\"\n",
                "collector cannot",
            ),
        ] {
            let e = format!("{:#}", parse(t).unwrap_err());
            assert!(e.contains(want), "{t:?}: {e}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("3 weeks").is_err());
    }
}
