//! imq-filter: keep, drop, route and rewrite IntelMQ events.
use clap::{CommandFactory, FromArgMatches, Parser};
use imq::cli::{self, CommonArgs};
use imq::filter::{self, expr, Filter, Program};
use std::process::ExitCode;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TOOL: &str = "imq-filter";

/// Keep, drop, route and rewrite IntelMQ events (NDJSON in, NDJSON out).
///
/// Give a one-liner expression (events it is true for are kept), a sieve file
/// (IntelMQ's sieve language), or an IntelMQ filter/sieve expert configuration.
/// Kept events that no rule modified are written exactly as they came in.
/// See docs/filter.md for the expression and sieve syntax.
#[derive(Parser, Debug)]
#[command(name = TOOL, version = imq::cli::VERSION, max_term_width = 100, after_long_help = EXAMPLES,
          override_usage = "imq-filter [OPTIONS] EXPRESSION [FILE]...\n       imq-filter [OPTIONS] --sieve RULES.sieve [FILE]...\n       imq-filter [OPTIONS] --intelmq MODULE --params FILE [FILE]...")]
struct Cli {
    /// The expression (unless --sieve or --intelmq is given), then input files ('-' is stdin)
    #[arg(value_name = "EXPRESSION] [FILE")]
    args: Vec<String>,

    /// List the fields an expression can name (IntelMQ's harmonization: name, type,
    /// length) and the operators, then exit
    #[arg(long)]
    list: bool,

    /// Run the rules of an IntelMQ sieve file
    #[arg(long, value_name = "RULES.sieve", conflicts_with = "intelmq")]
    sieve: Option<String>,

    /// Keep the events the expression is false for (like grep -v)
    #[arg(short = 'v', long, conflicts_with_all = ["sieve", "intelmq"])]
    invert: bool,

    /// Write dropped events to FILE (their original lines) instead of discarding them
    #[arg(long, value_name = "FILE")]
    reject: Option<String>,

    /// The named paths that are configured (IntelMQ destination_queues), comma-separated:
    /// the filter expert sends to filter_match, filter_no_match and action_other only when
    /// they are configured or routed with --path
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    paths: Vec<String>,

    /// Run the IntelMQ module (sieve or filter expert) with --params
    #[arg(long, value_name = "MODULE")]
    intelmq: Option<String>,

    /// IntelMQ parameters: a JSON object, or YAML (runtime.yaml's `parameters:`, or a bot's whole entry)
    #[arg(long, value_name = "FILE", requires = "intelmq")]
    params: Option<String>,

    #[command(flatten)]
    common: CommonArgs,
}

const EXAMPLES: &str = concat!(
    "\
Examples:
  # keep Austrian C2 servers and phishing sites
  imq-filter 'source.geolocation.cc == \"AT\" && classification.type in [\"c2-server\", \"phishing\"]'

  # drop what comes from a network (-v inverts)
  imq-filter -v 'source.ip in 192.0.2.0/24' events.ndjson

  # only events of the last two days
  imq-filter 'time.source > now - 2d'

  # IntelMQ sieve rules; the path 'abuse' goes to its own file
  imq-filter --sieve rules.sieve --path abuse=abuse.ndjson < events.ndjson

  # an IntelMQ runtime.yaml entry, unchanged
  imq-filter --intelmq intelmq.bots.experts.filter.expert --params params.json",
    imq::exit_status_help!()
);

/// `--list`: the event fields, then the operators of expressions.
fn print_fields() -> std::io::Result<()> {
    use std::io::Write;
    let h = imq::harmonization::harmonization();
    let mut out = std::io::stdout().lock();
    writeln!(out, "{:<40} {:<22} LENGTH", "FIELD", "TYPE")?;
    for f in &h.event {
        let len = f.length.map(|n| n.to_string()).unwrap_or_default();
        writeln!(out, "{:<40} {:<22} {len}", f.name, f.ty.name())?;
    }
    writeln!(out, "{:<40} {:<22}", "extra.*", "JSONDict (any key)")?;
    writeln!(
        out,
        "\noperators: == != < <= > >= =~ !~ (regex), in [LIST], in CIDR, exists FIELD, \
         && || ! ( ); see imq-filter --help and docs/filter.md"
    )
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    if cli::setup::<Cli>(&cli.common, TOOL)? {
        return Ok(0);
    }
    if cli.list {
        print_fields()?;
        return Ok(0);
    }
    let mut files = cli.args.clone();
    let program = if let Some(module) = &cli.intelmq {
        let params = match &cli.params {
            Some(p) => imq::params::read_file(p)?,
            None => imq::enrich::Params::new(),
        };
        Program::intelmq(module, &params)?
    } else if let Some(path) = &cli.sieve {
        Program::Sieve(filter::sieve::Sieve::from_file(path)?)
    } else {
        if files.is_empty() {
            anyhow::bail!("no expression given (or --sieve FILE, --intelmq MODULE); see --help");
        }
        let src = files.remove(0);
        let cond = expr::compile(&src)
            .map_err(|e| anyhow::anyhow!("bad expression: {}", e.render(&src)))?;
        Program::Expr(cond)
    };
    let mut stage = Filter::new(program);
    stage.invert = cli.invert;
    let mut common = cli.common.clone();
    if let Some(r) = &cli.reject {
        stage.reject = true;
        common
            .routes
            .push((filter::REJECT_PATH.to_string(), r.clone()));
    }
    stage.paths = cli.paths.iter().cloned().collect();
    stage
        .paths
        .extend(cli.common.routes.iter().map(|(p, _)| p.clone()));
    // A sieve path without a --path is not lost, but easily missed: its events
    // go to the default output marked `"__path": NAME`.
    if let Program::Sieve(s) = &stage.program {
        let unrouted: Vec<String> = s
            .path_names()
            .into_iter()
            .filter(|p| p != "_default" && !stage.paths.contains(p))
            .map(|p| format!("{p:?}"))
            .collect();
        if !unrouted.is_empty() && !cli.common.quiet {
            eprintln!(
                "{TOOL}: note: the sieve sends to path {} without --path NAME=URI: those events \
                 go to the default output with \"__path\": NAME",
                unrouted.join(", ")
            );
        }
    }
    let inputs = cli::inputs(&common, &files);
    cli::run_stage(
        TOOL,
        &common,
        cli::Input::Uris(inputs),
        cli::Output::Stream,
        &mut stage,
    )
}

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => e.exit(),
    };
    cli::exit(TOOL, run(cli))
}

#[cfg(test)]
mod tests {
    #[test]
    fn verify_cli() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
