//! imq-supervise: run imq pipelines as services, see and steer them.
use clap::{CommandFactory, Parser, Subcommand};
use imq::cli;
use imq::supervise::{self, config::Pipeline};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

const TOOL: &str = "imq-supervise";

/// Run an imq pipeline (a TOML file of stages) as a supervised service: restart,
/// schedule, drain, reload; see its state, queues, logs and dumps.
#[derive(Parser, Debug)]
#[command(name = TOOL, version = imq::cli::VERSION, max_term_width = 100, after_long_help = EXAMPLES,
          subcommand_required = false, arg_required_else_help = true)]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,

    /// Print shell completions (bash, zsh, fish, elvish, powershell) or the man page (man), then exit
    #[arg(long, value_name = "WHAT", hide = true, global = true)]
    generate: Option<String>,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Check the pipeline file, every stage's command line and connections
    Check {
        /// The pipeline file (TOML)
        file: PathBuf,
    },
    /// Run the pipeline in the foreground until SIGTERM (SIGHUP reloads)
    Run {
        /// The pipeline file (TOML)
        file: PathBuf,
    },
    /// Write systemd units for the pipeline into DIR and print how to enable them
    Units {
        /// The pipeline file (TOML)
        file: PathBuf,
        /// Where to write the units
        dir: PathBuf,
        /// Run the services as this user
        #[arg(long, value_name = "USER")]
        user: Option<String>,
        /// Directory of the stage FIFOs [default: /run/imq/<pipeline>]
        #[arg(long, value_name = "DIR")]
        fifo_dir: Option<PathBuf>,
    },
    /// Run the pipeline and serve the REST API, /metrics and the status page
    Serve {
        /// The pipeline file (TOML)
        file: PathBuf,
        /// Address to listen on (loopback unless --allow-remote)
        #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8080")]
        listen: String,
        /// Bearer tokens, one per line: TOKEN [ro|rw]
        #[arg(long, value_name = "FILE", env = "IMQ_SUPERVISE_TOKENS")]
        tokens: PathBuf,
        /// Allow a non-loopback --listen address
        #[arg(long)]
        allow_remote: bool,
    },
    /// Write the pipeline file equivalent to an IntelMQ runtime.yaml (and name
    /// what cannot be carried over); exit 1 when something could not
    Import {
        /// IntelMQ's runtime.yaml
        runtime: PathBuf,
        /// The pipeline file to write (parameter files go to OUT.params/ beside it)
        #[arg(short = 'o', long = "out", value_name = "OUT.toml")]
        out: PathBuf,
    },
    /// Show each stage's state, counters, queue and dump; exit 0 only if all run
    Status {
        /// The pipeline file (TOML)
        file: PathBuf,
        /// Print the status as JSON
        #[arg(long)]
        json: bool,
    },
    /// List the queues between stages and what waits in them (or clear one)
    Queues {
        /// The pipeline file (TOML)
        file: PathBuf,
        /// Print as JSON
        #[arg(long)]
        json: bool,
        /// Remove what waits in STAGE's broker queue (not what a worker holds in
        /// flight); prints how many messages went
        #[arg(long, value_name = "STAGE")]
        clear: Option<String>,
    },
    /// List, show, recover or delete dumped messages (imq's and IntelMQ's dumps)
    Dump {
        #[command(subcommand)]
        cmd: DumpCmd,
    },
    /// Print the end of a stage's log (its stderr, time-stamped)
    Log {
        /// The pipeline file (TOML)
        file: PathBuf,
        /// The stage
        stage: String,
        /// Number of lines
        #[arg(short = 'n', long, default_value_t = 20)]
        lines: usize,
    },
}

#[derive(Subcommand, Debug)]
enum DumpCmd {
    /// Every dump in the state directory and how many entries it holds
    List {
        /// The pipeline file (TOML)
        file: PathBuf,
    },
    /// Print entries: id, time, error and the message (truncated unless --full)
    Show {
        /// The pipeline file (TOML)
        file: PathBuf,
        /// A stage, or a dump file (imq's .ndjson or IntelMQ's .dump)
        dump: String,
        /// Entry ids: 0,2,5-7 [default: all]
        ids: Option<String>,
        /// The whole records as JSON lines
        #[arg(long)]
        json: bool,
        /// Do not truncate messages
        #[arg(long)]
        full: bool,
    },
    /// Send entries back to a stage's input, then remove them from the dump
    Recover {
        /// The pipeline file (TOML)
        file: PathBuf,
        /// A stage, or a dump file (imq's .ndjson or IntelMQ's .dump)
        dump: String,
        /// Entry ids: 0,2,5-7 [default: all]
        ids: Option<String>,
        /// The stage to send them to [default: the dump's own stage]
        #[arg(long, value_name = "STAGE")]
        to: Option<String>,
        /// Append them to FILE instead (a stage that reads a file, or to look at)
        #[arg(long, value_name = "FILE", conflicts_with = "to")]
        to_file: Option<PathBuf>,
    },
    /// Remove entries (all: the dump file)
    Delete {
        /// The pipeline file (TOML)
        file: PathBuf,
        /// A stage, or a dump file (imq's .ndjson or IntelMQ's .dump)
        dump: String,
        /// Entry ids: 0,2,5-7 [default: all]
        ids: Option<String>,
    },
}

const EXAMPLES: &str = concat!(
    "\
Examples:
  # check, then run a pipeline in the foreground
  imq-supervise check examples/pipelines/feodo.toml
  imq-supervise run examples/pipelines/feodo.toml

  # from another terminal
  imq-supervise status examples/pipelines/feodo.toml
  imq-supervise log examples/pipelines/feodo.toml parse

  # crash-safe, on IntelMQ's Redis queues (transport = \"redis://...\")
  imq-supervise run examples/pipelines/feodo-redis.toml
  imq-supervise queues examples/pipelines/feodo-redis.toml
  imq-supervise queues examples/pipelines/feodo-redis.toml --clear file-output

  # systemd units instead of a supervisor process
  imq-supervise units examples/pipelines/feodo-redis.toml /tmp/units",
    "\n\nExit status:\n  0  success (status: every enabled stage runs)\n  1  status: some stage is not running; check: a problem found\n  2  fatal: usage, unreadable pipeline file"
);

fn load(f: &std::path::Path) -> anyhow::Result<Pipeline> {
    Pipeline::load(f)
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    if let Some(what) = &cli.generate {
        let mut cmd = Cli::command();
        let mut out = std::io::stdout().lock();
        if what == "man" {
            cli::render_man(cmd, &mut out)?;
        } else {
            let shell: clap_complete::Shell = what
                .parse()
                .map_err(|_| anyhow::anyhow!("unknown shell {what}"))?;
            clap_complete::generate(shell, &mut cmd, TOOL, &mut out);
        }
        return Ok(0);
    }
    let mut out = std::io::stdout().lock();
    match cli.cmd {
        None => {
            Cli::command().print_help()?;
            Ok(2)
        }
        Some(Cmd::Check { file }) => {
            let p = load(&file)?;
            let mut bad = false;
            writeln!(
                out,
                "{}: pipeline {} with {} stages",
                file.display(),
                p.name,
                p.stages.len()
            )?;
            for f in supervise::check::check(&p) {
                bad |= f.error;
                let level = if f.error {
                    "ERROR"
                } else if f.text == "ok" || f.text.starts_with("broker ") {
                    "ok"
                } else {
                    "warning"
                };
                match f.stage {
                    Some(s) => writeln!(out, "{s}: {level}: {}", f.text)?,
                    None => writeln!(out, "{level}: {}", f.text)?,
                }
            }
            Ok(u8::from(bad))
        }
        Some(Cmd::Run { file }) => {
            let p = load(&file)?;
            supervise::run::install_signals();
            let mut s = supervise::run::Supervisor::new(p)?;
            s.run(None)
        }
        Some(Cmd::Units {
            file,
            dir,
            user,
            fifo_dir,
        }) => {
            let p = load(&file)?;
            let opts = supervise::units::UnitOpts { user, fifo_dir };
            write!(out, "{}", supervise::units::write(&p, &dir, &opts)?)?;
            Ok(0)
        }
        Some(Cmd::Serve {
            file,
            listen,
            tokens,
            allow_remote,
        }) => {
            let p = load(&file)?;
            let addr = supervise::api::check_listen(&listen, allow_remote)?;
            let tokens = supervise::api::read_tokens(&tokens)?;
            supervise::run::install_signals();
            supervise::api::serve(p, addr, tokens)
        }
        Some(Cmd::Import { runtime, out: dest }) => {
            let notes = supervise::import::import_file(&runtime, &dest)?;
            writeln!(out, "wrote {}", dest.display())?;
            for n in &notes {
                writeln!(out, "not carried over: {n}")?;
            }
            Ok(u8::from(!notes.is_empty()))
        }
        Some(Cmd::Status { file, json }) => {
            let p = load(&file)?;
            let s = supervise::status::load(&p)?;
            if json {
                serde_json::to_writer_pretty(&mut out, &s)?;
                writeln!(out)?;
            } else {
                supervise::status::print(&s, &mut out)?;
            }
            Ok(if supervise::status::healthy(&s) { 0 } else { 1 })
        }
        Some(Cmd::Queues {
            file,
            json: _,
            clear: Some(stage),
        }) => {
            let p = load(&file)?;
            if p.stage(&stage).is_none() || p.is_source(&stage) {
                let names: Vec<&str> = p
                    .stages
                    .iter()
                    .filter(|s| !p.is_source(&s.name))
                    .map(|s| s.name.as_str())
                    .collect();
                anyhow::bail!(
                    "no queue for stage {stage:?} (queues: {})",
                    names.join(", ")
                );
            }
            let Some(uri) = p.transport.queue_uri(&stage, None) else {
                anyhow::bail!(
                    "the fifo transport has no queue to clear: stop the pipeline, or let it drain"
                );
            };
            let n = imq::transport::clear_queue(&uri)?;
            writeln!(out, "cleared {n} messages from {stage}-queue")?;
            Ok(0)
        }
        Some(Cmd::Queues { file, json, .. }) => {
            let p = load(&file)?;
            let s = supervise::status::load(&p)?;
            if json {
                serde_json::to_writer_pretty(&mut out, &supervise::status::queues_json(&s))?;
                writeln!(out)?;
            } else {
                supervise::status::queues(&s, &mut out)?;
            }
            Ok(0)
        }
        Some(Cmd::Dump { cmd }) => dump(cmd, &mut out),
        Some(Cmd::Log { file, stage, lines }) => {
            let p = load(&file)?;
            for l in supervise::status::log_tail(&p, &stage, lines)? {
                writeln!(out, "{l}")?;
            }
            Ok(0)
        }
    }
}

/// Where recovered entries for a stage go: its broker queue, or on `fifo` the
/// running supervisor's pipe into it.
fn stage_target(p: &supervise::config::Pipeline, stage: &str) -> supervise::dump::Target {
    match p.transport.queue_uri(stage, None) {
        Some(uri) => supervise::dump::Target::Queue(uri),
        None => supervise::dump::Target::Stage(supervise::state::inject_fifo(&p.state_dir, stage)),
    }
}

fn dump(cmd: DumpCmd, out: &mut dyn Write) -> anyhow::Result<u8> {
    use supervise::dump as d;
    match cmd {
        DumpCmd::List { file } => {
            let p = load(&file)?;
            for (name, path, n) in d::list(&p) {
                match n {
                    Ok(0) => writeln!(out, "{name}: empty file ({})", path.display())?,
                    Ok(n) => writeln!(out, "{name}: {n} dumps ({})", path.display())?,
                    Err(e) => writeln!(out, "{name}: error: {e:#}")?,
                }
            }
            Ok(0)
        }
        DumpCmd::Show {
            file,
            dump,
            ids,
            json,
            full,
        } => {
            let p = load(&file)?;
            let src = d::source(&p, &dump)?;
            let entries = d::read(&src)?;
            let ids = d::parse_ids(ids.as_deref(), entries.len())?;
            for e in entries.iter().filter(|e| ids.contains(&e.id)) {
                if json {
                    let mut r = e.record.clone();
                    if let Some(o) = r.as_object_mut() {
                        o.insert("id".into(), e.id.into());
                    }
                    writeln!(out, "{r}")?;
                    continue;
                }
                let msg = String::from_utf8_lossy(&e.bytes);
                let msg: String = if full {
                    msg.into_owned()
                } else {
                    msg.chars().take(200).collect()
                };
                writeln!(out, "{}: {} {}\n    {}", e.id, e.time, e.error, msg)?;
            }
            Ok(0)
        }
        DumpCmd::Recover {
            file,
            dump,
            ids,
            to,
            to_file,
        } => {
            let p = load(&file)?;
            let src = d::source(&p, &dump)?;
            let target = match (to_file, to) {
                (Some(f), _) => d::Target::File(f),
                (None, Some(s)) => {
                    if p.stage(&s).is_none() {
                        anyhow::bail!("no stage {s:?}");
                    }
                    stage_target(&p, &s)
                }
                (None, None) if p.stage(&dump).is_some() => stage_target(&p, &dump),
                (None, None) => {
                    anyhow::bail!("a dump file: say where to with --to STAGE or --to-file")
                }
            };
            let n = d::recover(&src, ids.as_deref(), &target)?;
            writeln!(out, "recovered {n} entries")?;
            Ok(0)
        }
        DumpCmd::Delete { file, dump, ids } => {
            let p = load(&file)?;
            let src = d::source(&p, &dump)?;
            let n = d::delete(&src, ids.as_deref())?;
            writeln!(out, "deleted {n} entries")?;
            Ok(0)
        }
    }
}

fn main() -> ExitCode {
    cli::exit(TOOL, run(Cli::parse()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn verify_cli() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
