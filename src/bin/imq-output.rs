//! imq-output: write IntelMQ events to files and stores.
use clap::Parser;
use imq::cli::{self, CommonArgs};
use imq::output::{self, OutputOpts, OutputStage};
use std::io::Write;
use std::process::ExitCode;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TOOL: &str = "imq-output";

/// Write IntelMQ events (NDJSON) to a destination: NDJSON or CSV files, stdout.
#[derive(Parser, Debug)]
#[command(name = TOOL, version = imq::cli::VERSION, max_term_width = 100, after_long_help = EXAMPLES)]
struct Cli {
    /// Output kind (see --list)
    #[arg(value_name = "OUTPUT", required_unless_present_any = ["list", "generate", "intelmq"])]
    kind: Option<String>,

    /// Run the output equivalent to this IntelMQ module (with --params)
    #[arg(long, value_name = "MODULE")]
    intelmq: Option<String>,

    /// IntelMQ parameters: a JSON object, or YAML (runtime.yaml's `parameters:`, or a bot's whole entry)
    #[arg(long, value_name = "FILE")]
    params: Option<String>,

    /// Set one parameter (KEY=VALUE, VALUE as JSON if it parses; repeatable)
    #[arg(short = 'p', long = "param", value_name = "KEY=VALUE", value_parser = imq::params::parse_kv)]
    param: Vec<(String, serde_json::Value)>,

    /// sql/postgres: create IntelMQ's events table when it is missing
    #[arg(long)]
    init: bool,

    /// The IntelMQ bot id (names state where IntelMQ does, e.g. Redis keys)
    #[arg(long, value_name = "ID")]
    bot_id: Option<String>,

    /// Where to write (a file; default stdout)
    #[arg(short, long, value_name = "FILE")]
    target: Option<String>,

    /// Columns for csv, comma-separated
    #[arg(short, long, value_name = "FIELDS", value_delimiter = ',')]
    fields: Vec<String>,

    /// csv: no header row
    #[arg(long)]
    no_header: bool,

    /// Input files ('-' is stdin)
    #[arg(value_name = "FILE")]
    files: Vec<String>,

    /// List the outputs and exit
    #[arg(long)]
    list: bool,

    #[command(flatten)]
    common: CommonArgs,
}

const EXAMPLES: &str = concat!(
    "\
Examples:
  # a CSV for a spreadsheet
  imq-output csv --fields time.source,source.ip,classification.type < events.ndjson > events.csv

  # append events to an NDJSON archive
  imq-output json --target archive.ndjson < events.ndjson

  # an IntelMQ runtime.yaml entry, unchanged
  imq-output --intelmq intelmq.bots.outputs.redis.output --params params.json < events.ndjson",
    imq::exit_status_help!()
);

fn run(cli: Cli) -> anyhow::Result<u8> {
    if cli::setup::<Cli>(&cli.common, TOOL)? {
        return Ok(0);
    }
    if cli.list {
        let mut out = std::io::stdout().lock();
        for e in output::REGISTRY {
            writeln!(out, "{:<12} {:<40} {}", e.name, e.intelmq, e.description)?;
        }
        return Ok(0);
    }
    let mut files = cli.files.clone();
    let kind = match (&cli.intelmq, &cli.kind) {
        // With --intelmq the first positional is an input file.
        (Some(m), k) => {
            if let Some(k) = k {
                files.insert(0, k.clone());
            }
            m.as_str()
        }
        (None, k) => k.as_deref().unwrap_or_default(),
    };
    let mut params = match &cli.params {
        Some(p) => imq::params::read_file(p)?,
        None => imq::params::Params::new(),
    };
    params.extend(cli.param.iter().cloned());
    if cli.init {
        params.insert("init".into(), true.into());
    }
    // IntelMQ's sql module is sqlite or postgres by its engine.
    let entry = output::find_for(kind, &params).ok_or_else(|| {
        if kind == "sql" || kind == "intelmq.bots.outputs.sql.output" {
            let engine = params
                .map_get("engine")
                .and_then(|v| v.as_str())
                .unwrap_or("");
            anyhow::anyhow!(
                "IntelMQ's sql output with engine {engine:?}: imq writes engine \"postgresql\" \
                 (imq-output postgres) and \"sqlite\" (imq-output sqlite); mysql and mssql are \
                 not supported"
            )
        } else {
            anyhow::anyhow!("unknown output {kind:?} (imq-output --list shows them)")
        }
    })?;
    // `imq-output sqlite events.db`: the first positional is the destination.
    // -o is -t's other name here (every other tool writes its output with -o);
    // both naming different places is a mistake, not a choice to make silently.
    if let (Some(t), Some(o)) = (&cli.target, &cli.common.output) {
        if t != o {
            anyhow::bail!(
                "-t {t:?} and -o {o:?} (or IMQ_OUTPUT) both name the destination: give one"
            );
        }
    }
    let mut target = cli.target.clone().or(cli.common.output.clone());
    if let Some(key) = output::destination_param(entry.name) {
        if cli.intelmq.is_none()
            && target.is_none()
            && !params.contains_key(key)
            && !files.is_empty()
        {
            target = Some(files.remove(0));
        }
    }
    let opts = OutputOpts {
        target,
        fields: cli.fields.clone(),
        line_buffered: cli.common.line_buffered,
        no_header: cli.no_header,
        params,
        bot_id: cli.bot_id.clone(),
    };
    let built = (entry.build)(&opts)?;
    // A -p name the output never read is most likely a typo. A warning, not an
    // error: some outputs read a parameter only when another one asks for it.
    let given: Vec<String> = cli.param.iter().map(|(k, _)| k.clone()).collect();
    if let Err(e) = opts
        .params
        .check_given(&format!("output {}", entry.name), &given, |k| {
            format!("parameter {k:?}")
        })
    {
        if !cli.common.quiet {
            eprintln!("{TOOL}: warning: {e:#}");
        }
    }
    let mut stage = OutputStage::new(built);
    let inputs = cli::inputs(&cli.common, &files);
    // The output delivers by itself: the stream has no sink.
    cli::run_stage(
        TOOL,
        &cli.common,
        cli::Input::Uris(inputs),
        cli::Output::Stage,
        &mut stage,
    )
}

fn main() -> ExitCode {
    // `imq-output COMPONENT --help`: that component's own help.
    if imq::help::intercept(TOOL, |w| imq::output::find(w).map(|e| (e.name, e.intelmq))) {
        return ExitCode::SUCCESS;
    }
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
