//! imq-filter: keep, drop and route IntelMQ events.
use clap::Parser;
use imq::cli::{self, CommonArgs};
use imq::filter::KeyFilter;
use std::process::ExitCode;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TOOL: &str = "imq-filter";

/// Keep or drop IntelMQ events by their fields (NDJSON in, NDJSON out).
///
/// Kept events are written exactly as they came in (same bytes).
#[derive(Parser, Debug)]
#[command(name = TOOL, version, max_term_width = 100, after_long_help = EXAMPLES)]
struct Cli {
    /// Field to test (IntelMQ filter_key)
    #[arg(
        short,
        long,
        value_name = "FIELD",
        required_unless_present = "generate"
    )]
    key: Option<String>,

    /// Value the field must have (IntelMQ filter_value); without it, the field must exist
    #[arg(long, value_name = "VALUE")]
    value: Option<String>,

    /// Treat --value as a regular expression (IntelMQ filter_regex)
    #[arg(long)]
    regex: bool,

    /// Drop matching events instead of keeping them (IntelMQ filter_action=drop)
    #[arg(long)]
    drop: bool,

    /// Input files ('-' is stdin)
    #[arg(value_name = "FILE")]
    files: Vec<String>,

    #[command(flatten)]
    common: CommonArgs,
}

const EXAMPLES: &str = concat!(
    "\
Examples:
  # keep only events from Austria
  imq-filter --key source.geolocation.cc --value AT < events.ndjson

  # drop scanners
  imq-filter --key classification.type --value scanner --drop < events.ndjson",
    imq::exit_status_help!()
);

fn run(cli: Cli) -> anyhow::Result<u8> {
    if cli::generate::<Cli>(&cli.common, TOOL)? {
        return Ok(0);
    }
    let regex = match (&cli.value, cli.regex) {
        (Some(v), true) => Some(regex::Regex::new(v)?),
        _ => None,
    };
    let mut stage = KeyFilter {
        key: cli.key.clone().unwrap_or_default(),
        value: cli.value.clone().map(serde_json::Value::String),
        regex,
        keep: !cli.drop,
    };
    let inputs = cli::inputs(&cli.common, &cli.files);
    cli::run_stage(TOOL, &cli.common, inputs, &[], &mut stage)
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
