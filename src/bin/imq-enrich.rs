//! imq-enrich: run IntelMQ experts over events.
use clap::Parser;
use imq::cli::{self, CommonArgs};
use imq::enrich;
use std::io::Write;
use std::process::ExitCode;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TOOL: &str = "imq-enrich";

/// Add or rewrite fields of IntelMQ events with experts (NDJSON in, NDJSON out).
///
/// Give one or more experts, each followed by its options; they run in order in one
/// process, which gives the same result as piping one imq-enrich into the next.
#[derive(Parser, Debug)]
#[command(name = TOOL, version = imq::cli::VERSION, max_term_width = 100, after_long_help = EXAMPLES,
          override_usage = "imq-enrich [OPTIONS] EXPERT [EXPERT-OPTIONS]... [EXPERT [EXPERT-OPTIONS]...]... [FILE]...")]
struct Cli {
    /// Experts and their options: EXPERT [--option VALUE]... [EXPERT ...]; then
    /// input files ('-' is stdin; default stdin)
    #[arg(value_name = "EXPERT", last = true, allow_hyphen_values = true,
          required_unless_present_any = ["list", "intelmq", "generate"])]
    chain: Vec<String>,

    /// Run the expert equivalent to this IntelMQ module (with --params)
    #[arg(long, value_name = "MODULE")]
    intelmq: Option<String>,

    /// IntelMQ parameters: a JSON object, or YAML (runtime.yaml's `parameters:`, or a bot's whole entry)
    #[arg(long, value_name = "FILE")]
    params: Option<String>,

    /// List the experts and exit
    #[arg(long)]
    list: bool,

    #[command(flatten)]
    common: CommonArgs,
}

const EXAMPLES: &str = concat!(
    "\
Examples:
  # add classification.taxonomy
  imq-enrich taxonomy < events.ndjson
  imq-enrich taxonomy events.ndjson more-events.ndjson

  # chain experts in one process
  imq-parse abusech-feodotracker feed.json | imq-enrich taxonomy | imq-output csv

  # an IntelMQ runtime.yaml entry, unchanged
  imq-enrich --intelmq intelmq.bots.experts.taxonomy.expert --params params.json < events.ndjson",
    imq::exit_status_help!()
);

fn run(cli: Cli) -> anyhow::Result<u8> {
    if cli::setup::<Cli>(&cli.common, TOOL)? {
        return Ok(0);
    }
    if cli.list {
        let mut out = std::io::stdout().lock();
        for e in enrich::REGISTRY {
            writeln!(out, "{:<22} {:<50} {}", e.name, e.intelmq, e.description)?;
        }
        return Ok(0);
    }
    let mut experts = Vec::new();
    if let Some(module) = &cli.intelmq {
        let entry = enrich::find(module).ok_or_else(|| enrich::unknown(module))?;
        let params = match &cli.params {
            Some(p) => imq::params::read_file(p)?,
            None => enrich::Params::new(),
        };
        experts.push((entry.build)(&params)?);
    }
    let (chain, files) = enrich::parse_chain(&cli.chain)?;
    for (entry, params) in chain {
        let built = (entry.build)(&params);
        // An option the expert never asked for is a typo: say so now (before
        // what the typo may have caused, such as a database not found).
        let given: Vec<String> = params.keys().cloned().collect();
        params.check_given(&format!("expert {}", entry.name), &given, |k| {
            format!("option --{}", k.replace('_', "-"))
        })?;
        experts.push(built?);
    }
    let mut stage = enrich::Chain { experts };
    let inputs = cli::inputs(&cli.common, &files);
    cli::run_stage(
        TOOL,
        &cli.common,
        cli::Input::Uris(inputs),
        cli::Output::Stream,
        &mut stage,
    )
}

fn main() -> ExitCode {
    // `imq-enrich COMPONENT --help`: that component's own help.
    if imq::help::intercept(TOOL, |w| imq::enrich::find(w).map(|e| (e.name, e.intelmq))) {
        return ExitCode::SUCCESS;
    }
    // Experts take options of their own; pull out the tool's flags first so that
    // `taxonomy --dump d.ndjson` means the common --dump.
    use clap::CommandFactory;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut cmd = Cli::command();
    cmd.build();
    let (mut own, chain) = cli::split_own_flags(&cmd, &args);
    own.insert(0, TOOL.to_string());
    if !chain.is_empty() {
        own.push("--".into());
        own.extend(chain);
    }
    cli::exit(TOOL, run(Cli::parse_from(own)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn verify_cli() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
