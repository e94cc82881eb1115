//! What every tool shares at its edges: common flags, exit codes, the stream set-up,
//! man pages and shell completions.
//!
//! # Exit status (all tools)
//! * `0`: every input line was processed (also when a downstream `head` closed the
//!   pipe early).
//! * `1`: the run finished, but some input went to the dump.
//! * `2`: fatal: usage error, unreadable input, broken database or configuration.

use crate::dump::Dumper;
use crate::pipeline::{self, Log, RunOpts, Stage};
use crate::transport;
use clap::{Args, CommandFactory};
use std::io::{self, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

/// The exit status section every tool's `--help` ends with.
#[macro_export]
macro_rules! exit_status_help {
    () => {
        "\n\nExit status:\n  0  every input line was processed (also when a downstream `head` closed the pipe)\n  1  finished, but some input went to the dump (see --dump)\n  2  fatal: usage, unreadable input, broken database or configuration"
    };
}

pub const EXIT_OK: u8 = 0;
pub const EXIT_REJECTED: u8 = 1;
pub const EXIT_FATAL: u8 = 2;

/// `--version`: ours, and the IntelMQ release whose behaviour and data format
/// (harmonization) the tools follow.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (follows IntelMQ 3.5.0, harmonization of IntelMQ 3.5.0)"
);

/// Flags shared by all five tools (flattened into each tool's own flags).
#[derive(Args, Debug, Clone, Default)]
pub struct CommonArgs {
    /// Read input from URI: a file, '-' (stdin), or a queue (as for -o); repeatable;
    /// default stdin
    #[arg(
        short = 'i',
        long = "input",
        value_name = "URI",
        env = "IMQ_INPUT",
        value_delimiter = ','
    )]
    pub inputs: Vec<String>,

    /// Write output to URI instead of stdout: a file (appended to), '-', or a queue
    /// (redis://[:PASSWORD@]HOST[:PORT]/DB/QUEUE, amqp://USER:PASS@HOST[:PORT]/VHOST/QUEUE)
    #[arg(short = 'o', long, value_name = "URI", env = "IMQ_OUTPUT")]
    pub output: Option<String>,

    /// Send the messages of destination path NAME to URI (repeatable; several URIs
    /// for one NAME each get a copy; _default adds destinations to -o)
    #[arg(long = "path", value_name = "NAME=URI", value_parser = parse_route)]
    pub routes: Vec<(String, String)>,

    /// Write the counters to FILE every few seconds and at exit (atomically)
    #[arg(long, value_name = "FILE", env = "IMQ_STATS")]
    pub stats: Option<PathBuf>,

    /// Format of --stats: prom (Prometheus text, for node_exporter) or json
    #[arg(
        long,
        value_name = "FORMAT",
        default_value = "prom",
        env = "IMQ_STATS_FORMAT"
    )]
    pub stats_format: pipeline::StatsFormat,

    /// The data format: a site's own IntelMQ harmonization.conf (added fields,
    /// other lengths) instead of IntelMQ 3.5.0's built-in one
    #[arg(long, value_name = "FILE", env = "IMQ_HARMONIZATION")]
    pub harmonization: Option<PathBuf>,

    /// Append rejected lines to FILE [default: $IMQ_DUMP_DIR/<tool>.dump.ndjson or ./<tool>.dump.ndjson]
    #[arg(long, value_name = "FILE", env = "IMQ_DUMP")]
    pub dump: Option<PathBuf>,

    /// Stop at the first rejected line (it is dumped; exit status 1)
    #[arg(long, env = "IMQ_STRICT")]
    pub strict: bool,

    /// Flush output after every message (default only when stdout is a terminal)
    #[arg(long, env = "IMQ_LINE_BUFFERED")]
    pub line_buffered: bool,

    /// Reject input lines longer than N bytes
    #[arg(long, value_name = "N", env = "IMQ_MAX_LINE_BYTES", default_value_t = transport::DEFAULT_MAX_LINE)]
    pub max_line_bytes: usize,

    /// Input is a dump file (after fixing it): process the original lines it holds
    #[arg(long)]
    pub from_dump: bool,

    /// No messages on stderr, not even for rejected lines
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Print counters on stderr at exit (twice: more detail). No short flag:
    /// `-v` is grep's --invert in imq-filter, and means the same nowhere else
    #[arg(long, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Print shell completions (bash, zsh, fish, elvish, powershell) or the man page (man), then exit
    #[arg(long, value_name = "WHAT", hide = true)]
    pub generate: Option<String>,
}

/// Handles `--generate`; true when it did and the tool should exit.
/// What every tool does first: load a site's data format (`--harmonization`),
/// and print completions or the man page when asked (then `true`: exit).
pub fn setup<C: CommandFactory>(common: &CommonArgs, name: &str) -> anyhow::Result<bool> {
    if let Some(f) = &common.harmonization {
        crate::harmonization::load_site(f)?;
    }
    Ok(generate::<C>(common, name)?)
}

pub fn generate<C: CommandFactory>(common: &CommonArgs, name: &str) -> io::Result<bool> {
    let Some(what) = &common.generate else {
        return Ok(false);
    };
    let mut cmd = C::command();
    let mut out = io::stdout().lock();
    if what == "man" {
        render_man(cmd, &mut out)?;
        return Ok(true);
    }
    let shell: clap_complete::Shell = what.parse().map_err(|_| {
        io::Error::new(io::ErrorKind::InvalidInput, format!("unknown shell {what}"))
    })?;
    // Completions offer the component names (parsers, experts, ...) for the first
    // positional; only here, as parsing keeps its own "did you mean" errors.
    let components = crate::help::components(name);
    let first = cmd.get_positionals().next().map(|a| a.get_id().clone());
    if let Some(id) = first {
        if !components.is_empty() {
            // In place: moving the argument would renumber the positionals.
            cmd = cmd.mut_args(|a| {
                if *a.get_id() == id {
                    a.value_parser(clap::builder::PossibleValuesParser::new(components.clone()))
                } else {
                    a
                }
            });
        }
    }
    clap_complete::generate(shell, &mut cmd, name, &mut out);
    Ok(true)
}

const TOOLS: [&str; 6] = [
    "imq-collect",
    "imq-parse",
    "imq-enrich",
    "imq-filter",
    "imq-output",
    "imq-supervise",
];

/// Escape text for roff.
fn roff(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let l = line.replace('\\', "\\e").replace('-', "\\-");
        if l.starts_with('.') || l.starts_with('\'') {
            out.push_str("\\&");
        }
        out.push_str(&l);
        out.push('\n');
    }
    out
}

/// The man page of a tool: clap_mangen's title, name, synopsis, description and
/// options, then the sections every imq page has (exit status, environment,
/// files, examples, see also). Generated, so it cannot drift from `--help`; a
/// test compares it with `man/<tool>.1`.
pub fn render_man(cmd: clap::Command, out: &mut dyn io::Write) -> io::Result<()> {
    let name = cmd.get_name().to_string();
    let after = cmd
        .get_after_long_help()
        .map(|s| s.to_string())
        .unwrap_or_default();
    let man = clap_mangen::Man::new(cmd.clone());
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    let components = crate::help::components(&name);
    if !components.is_empty() {
        // Each component's own parameters: `TOOL COMPONENT --help`.
        writeln!(out, ".SH COMPONENTS")?;
        writeln!(
            out,
            "{}",
            roff(&format!(
                "{name} COMPONENT --help prints a component's parameters, defaults and an example."
            ))
            .trim_end()
        )?;
        for c in components {
            let first = crate::help::summary(&name, c);
            writeln!(
                out,
                ".TP\n\\fB{}\\fR\n{}",
                roff(c).trim_end(),
                roff(&first).trim_end()
            )?;
        }
    }
    writeln!(out, ".SH \"EXIT STATUS\"")?;
    for (code, text) in [
        ("0", "Every input line was processed. Also when a downstream reader (such as head) closed the pipe early."),
        ("1", "The run finished, but some input was rejected and written to the dump."),
        ("2", "Fatal error: usage, unreadable input, broken database or configuration."),
    ] {
        writeln!(out, ".TP\n\\fB{code}\\fR\n{}", roff(text).trim_end())?;
    }
    writeln!(out, ".SH ENVIRONMENT")?;
    for arg in cmd.get_arguments() {
        if let (Some(env), Some(long)) = (arg.get_env(), arg.get_long()) {
            writeln!(
                out,
                ".TP\n\\fB{}\\fR\nDefault for \\fB\\-\\-{}\\fR.",
                env.to_string_lossy(),
                roff(long).trim_end()
            )?;
        }
    }
    writeln!(
        out,
        ".TP\n\\fBIMQ_DUMP_DIR\\fR\nDirectory of the default dump file."
    )?;
    writeln!(out, ".SH FILES")?;
    writeln!(
        out,
        ".TP\n\\fI{}.dump.ndjson\\fR\nThe default dump, in \\fB$IMQ_DUMP_DIR\\fR or the working directory: one JSON object per rejected line with the fields time, tool, input, line, error and raw (raw_base64 when the line is not UTF\\-8). Replay a fixed dump with \\fB\\-\\-from\\-dump\\fR.",
        roff(&name).trim_end()
    )?;
    let examples = after.split("\n\nExit status:").next().unwrap_or("");
    let examples = examples.strip_prefix("Examples:\n").unwrap_or(examples);
    if !examples.trim().is_empty() {
        writeln!(out, ".SH EXAMPLES\n.nf\n{}.fi", roff(examples))?;
    }
    writeln!(out, ".SH \"SEE ALSO\"")?;
    let others: Vec<String> = TOOLS
        .iter()
        .filter(|t| **t != name)
        .map(|t| format!("\\fB{}\\fR(1)", t.replace('-', "\\-")))
        .collect();
    writeln!(out, "{}", others.join(", "))?;
    man.render_version_section(out)?;
    Ok(())
}

/// Is this error, somewhere in its chain, a closed pipe? Then the reader is gone
/// (`| head`) and the right thing is to stop quietly with success.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Turn a tool's result into its exit status: the one place that does so.
pub fn exit(tool: &str, r: anyhow::Result<u8>) -> ExitCode {
    match r {
        Ok(code) => ExitCode::from(code),
        Err(e) if is_broken_pipe(&e) => ExitCode::from(EXIT_OK),
        Err(e) => {
            pipeline::eprintln_safe(&format!("{tool}: error: {e:#}"));
            ExitCode::from(EXIT_FATAL)
        }
    }
}

/// The inputs: `-i` flags and positional files together.
pub fn inputs(common: &CommonArgs, positional: &[String]) -> Vec<String> {
    let mut v = common.inputs.clone();
    v.extend(positional.iter().cloned());
    v
}

/// Where a stage's messages come from.
pub enum Input {
    /// URIs (`-i` and positional arguments): files, stdin, queues.
    Uris(Vec<String>),
    /// Raw feed files for a parser, with the report fields to give them.
    RawFeeds(Vec<String>, Vec<(String, String)>),
    /// A source of the tool's own (a collector).
    Source(Box<dyn transport::Source>),
}

/// Where a stage's messages go.
pub enum Output {
    /// `-o` (default stdout) and the `--path` routes.
    Stream,
    /// The stage delivers by itself (imq-output).
    Stage,
}

/// Run a stage with the common flags: the one place where a tool's transports
/// are opened. Returns the exit status.
pub fn run_stage(
    tool: &'static str,
    common: &CommonArgs,
    input: Input,
    output: Output,
    stage: &mut dyn Stage,
) -> anyhow::Result<u8> {
    let ends = transport::Endpoints {
        inputs: match &input {
            Input::Uris(v) | Input::RawFeeds(v, _) => v.clone(),
            Input::Source(_) => Vec::new(),
        },
        output: match output {
            Output::Stream => Some(common.output.clone().unwrap_or_else(|| "-".into())),
            Output::Stage => None,
        },
        routes: common.routes.clone(),
        line_buffered: common.line_buffered,
        max_line: common.max_line_bytes,
        from_dump: common.from_dump,
    };
    let mut dumper = Dumper::new(tool, common.dump.clone());
    if !matches!(input, Input::Source(_)) {
        let stdin = ["-".to_string()];
        let read = if ends.inputs.is_empty() {
            &stdin[..]
        } else {
            &ends.inputs[..]
        };
        refuse_dump_as_input(read, dumper.path())?;
    }
    let (mut source, mut sink): (Box<dyn transport::Source>, _) = match input {
        Input::Uris(_) => transport::open(&ends)?,
        Input::RawFeeds(files, fields) => (
            Box::new(transport::raw::RawReports::new(files, fields)),
            transport::open_sink(&ends)?,
        ),
        Input::Source(s) => (s, transport::open_sink(&ends)?),
    };
    let mut log = Log::new(tool, common.quiet, common.verbose);
    let stderr_tty = io::stderr().is_terminal();
    let opts = RunOpts {
        strict: common.strict,
        // Only the last tool of a pipeline draws its progress line: several
        // tools drawing on one terminal would overwrite each other's line.
        progress: stderr_tty && !common.quiet && !transport::line::stdout_is_pipe(),
        stats: common
            .stats
            .clone()
            .map(|p| pipeline::StatsFile::new(p, common.stats_format)),
    };
    let outcome = pipeline::run(
        stage,
        source.as_mut(),
        sink.as_mut(),
        &mut dumper,
        &mut log,
        opts,
    );
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            // Still say where rejected lines went before failing.
            if dumper.count > 0 && !common.quiet {
                pipeline::eprintln_safe(&format!(
                    "{tool}: {} rejected line(s) in {}",
                    dumper.count,
                    dumper.path().display()
                ));
            }
            return Err(e);
        }
    };
    let s = outcome.stats;
    if !common.quiet && (common.verbose > 0 || stderr_tty) {
        let mut msg = format!("{tool}: {s}");
        if s.dumped > 0 {
            msg.push_str(&format!(" (dump: {})", dumper.path().display()));
        }
        pipeline::eprintln_safe(&msg);
    } else if !common.quiet && s.dumped > 0 {
        pipeline::eprintln_safe(&format!(
            "{tool}: {} rejected line(s) written to {}",
            s.dumped,
            dumper.path().display()
        ));
    }
    Ok(if s.dumped > 0 || outcome.stopped {
        EXIT_REJECTED
    } else {
        EXIT_OK
    })
}

/// A tool reading its own dump would append what it rejects to the file it reads
/// and never reach its end (`--from-dump -i imq-enrich.dump.ndjson`): refuse it
/// before reading anything. The same file is the same device and inode, whatever
/// the path says.
pub fn refuse_dump_as_input(inputs: &[String], dump: &std::path::Path) -> anyhow::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let Ok(d) = std::fs::metadata(dump) else {
        return Ok(()); // not there yet: no input can be it
    };
    for i in inputs {
        let path = if i == "-" {
            "/proc/self/fd/0"
        } else {
            i.as_str()
        };
        if let Ok(m) = std::fs::metadata(path) {
            if m.dev() == d.dev() && m.ino() == d.ino() {
                anyhow::bail!(
                    "input {i} is the dump this run writes to ({}): give --dump NEW-FILE \
                     (or move the dump away first) so that lines rejected again do not \
                     feed the run forever",
                    dump.display()
                );
            }
        }
    }
    Ok(())
}

/// Parse `NAME=URI` pairs of `--path`.
pub fn parse_route(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .filter(|(a, b)| !a.is_empty() && !b.is_empty())
        .ok_or_else(|| format!("expected NAME=URI, got {s:?}"))
}

/// Split argv (without the program name) into the tool's own flags and the rest,
/// for tools whose positional arguments carry options of their own
/// (`imq-enrich geoip --db X taxonomy -o out.ndjson`): a flag the tool itself
/// defines (long or short, with its value) goes to the first list, everything else
/// to the second, in order.
pub fn split_own_flags(cmd: &clap::Command, args: &[String]) -> (Vec<String>, Vec<String>) {
    let mut own = Vec::new();
    let mut rest = Vec::new();
    let takes_value = |a: &clap::Arg| a.get_action().takes_values();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        let found = if let Some(long) = a.strip_prefix("--") {
            let name = long.split('=').next().unwrap_or("");
            cmd.get_arguments()
                .find(|x| x.get_long() == Some(name))
                .map(|x| (x, long.contains('=')))
        } else if let Some(cluster) = a.strip_prefix('-').filter(|c| !c.is_empty()) {
            // `-q`, `-qi FILE`, `-iFILE`: short flags of the tool's own,
            // clustered as getopt allows; the cluster is the tool's only when
            // every letter up to one taking a value is one of its flags.
            let mut last = None;
            let mut ok = true;
            for (at, c) in cluster.char_indices() {
                match cmd.get_arguments().find(|x| x.get_short() == Some(c)) {
                    Some(x) if takes_value(x) => {
                        last = Some((x, at + c.len_utf8() < cluster.len()));
                        break;
                    }
                    Some(x) => last = Some((x, true)),
                    None => {
                        ok = false;
                        break;
                    }
                }
            }
            last.filter(|_| ok)
        } else {
            None
        };
        match found {
            Some((arg, inline)) => {
                own.push(a.clone());
                if takes_value(arg) && !inline && i + 1 < args.len() {
                    i += 1;
                    own.push(args[i].clone());
                }
            }
            None => rest.push(a.clone()),
        }
        i += 1;
    }
    (own, rest)
}
