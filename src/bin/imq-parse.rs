//! imq-parse: turn feed reports (or raw feed files) into IntelMQ events.
use clap::Parser;
use imq::cli::{self, CommonArgs};
use imq::parse::{self, Params};
use std::process::ExitCode;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TOOL: &str = "imq-parse";

/// Turn feed reports into harmonized IntelMQ events (NDJSON in, NDJSON out).
///
/// Input is IntelMQ reports, one JSON object per line (as imq-collect writes them),
/// or raw feed data given directly (files or stdin; --raw forces this). Each feed record becomes one event carrying
/// the report's feed.* fields, time.observation and raw. Records that do not parse
/// go to the dump; the other records go on.
#[derive(Parser, Debug)]
#[command(name = TOOL, version = imq::cli::VERSION, max_term_width = 100, after_long_help = EXAMPLES)]
struct Cli {
    /// Parser to run (see --list); also accepts IntelMQ module names
    #[arg(value_name = "PARSER", required_unless_present_any = ["list", "list_feeds", "intelmq", "feed", "generate", "shadowserver_schema_update", "shadowserver_schema_import"])]
    parser: Option<String>,

    /// Feed files or report files ('-' is stdin)
    #[arg(value_name = "FILE")]
    files: Vec<String>,

    /// Run the parser equivalent to this IntelMQ module (with --params)
    #[arg(long, value_name = "MODULE")]
    intelmq: Option<String>,

    /// IntelMQ parameters: a JSON object, or YAML (runtime.yaml's `parameters:`, or a bot's whole entry)
    #[arg(long, value_name = "FILE")]
    params: Option<String>,

    /// Set one parameter (KEY=VALUE, VALUE as JSON if it parses; repeatable)
    #[arg(short = 'p', long = "param", value_name = "KEY=VALUE", value_parser = imq::params::parse_kv)]
    param: Vec<(String, serde_json::Value)>,

    /// Set a report field for raw input, e.g. --set feed.name="My feed" (repeatable)
    #[arg(long = "set", value_name = "FIELD=VALUE", value_parser = cli::parse_route)]
    set: Vec<(String, String)>,

    /// Treat input as raw feed data even if it looks like reports
    #[arg(long)]
    raw: bool,

    /// Parse a known feed (see --list-feeds): its parser, parameters and feed.* fields
    #[arg(long, value_name = "NAME", conflicts_with = "intelmq")]
    feed: Option<String>,

    /// IntelMQ destination paths of the bot (comma-separated): with `_on_error`,
    /// the report of each failed record also goes to that path (besides the dump)
    #[arg(long, value_name = "PATHS", value_delimiter = ',')]
    paths: Vec<String>,

    /// List the parsers and exit
    #[arg(long)]
    list: bool,

    /// List the known feeds (the feed registry) and exit
    #[arg(long)]
    list_feeds: bool,

    /// Download the Shadowserver report schema (default: Shadowserver's URL), check
    /// it and install it in the state directory (or at the `schema_file` parameter)
    #[arg(long, value_name = "URL", num_args = 0..=1,
          default_missing_value = imq::parse::shadowserver_schema::DEFAULT_URL)]
    shadowserver_schema_update: Option<String>,

    /// Check and install a Shadowserver report schema file downloaded otherwise
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "shadowserver_schema_update"
    )]
    shadowserver_schema_import: Option<String>,

    /// The schema's expected SHA-256 (with --shadowserver-schema-update/-import)
    #[arg(long, value_name = "HEX")]
    sha256: Option<String>,

    #[command(flatten)]
    common: CommonArgs,
}

const EXAMPLES: &str = concat!(
    "\
Examples:
  # parse a Feodo Tracker download directly
  imq-parse abusech-feodotracker --set feed.name='Feodo Tracker' examples/feodo.json

  # a known feed: parser, parameters and feed.* fields from the registry
  imq-parse --feed abusech-feodo-tracker ipblocklist.json

  # a generic CSV feed, described by parameters; gzip, zip and tar feeds are unpacked
  imq-parse generic-csv -p 'columns=[\"time.source\",\"source.ip\"]' -p type=scanner feed.csv.gz

  # Shadowserver reports: install the schema once, then the report type comes from the file name
  imq-parse --shadowserver-schema-update
  imq-parse shadowserver 2024-05-01-scan_http-world-geo.csv

  # parse reports written by imq-collect
  imq-collect file feed.json --feed-name 'Feodo Tracker' | imq-parse abusech-feodotracker

  # carry an IntelMQ runtime.yaml entry over unchanged
  imq-parse --intelmq intelmq.bots.parsers.abusech.parser_feodotracker --params params.json < reports.ndjson",
    imq::exit_status_help!()
);

fn run(cli: Cli) -> anyhow::Result<u8> {
    if cli::setup::<Cli>(&cli.common, TOOL)? {
        return Ok(0);
    }
    if cli.list {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        for e in parse::REGISTRY {
            writeln!(out, "{:<28} {:<55} {}", e.name, e.intelmq, e.description)?;
        }
        out.flush()?;
        return Ok(0);
    }
    if cli.list_feeds {
        list_feeds()?;
        return Ok(0);
    }
    if cli.shadowserver_schema_update.is_some() || cli.shadowserver_schema_import.is_some() {
        return shadowserver_schema(&cli);
    }
    let mut cli = cli;
    let mut params = Params::new();
    let mut report_fields = Vec::new();
    let feed = match &cli.feed {
        Some(f) => Some(parse::feeds::find(f).ok_or_else(|| imq::parse::feeds::unknown(f))?),
        None => None,
    };
    let name = if let Some(feed) = feed {
        // With --feed the first positional argument is a file.
        if let Some(p) = cli.parser.take() {
            cli.files.insert(0, p);
        }
        params.extend(feed.parameters.clone());
        report_fields = feed.report_fields();
        feed.parser.clone().unwrap_or_default()
    } else if let Some(m) = cli.intelmq.clone() {
        // With --intelmq the first positional argument is a file.
        if let Some(p) = cli.parser.take() {
            cli.files.insert(0, p);
        }
        m
    } else {
        cli.parser.clone().unwrap_or_default()
    };
    let entry = parse::find(&name).ok_or_else(|| parse::unknown(&name))?;
    if let Some(p) = &cli.params {
        params.extend(imq::params::read_file(p)?);
    }
    params.extend(cli.param.iter().cloned());
    report_fields.extend(cli.set.iter().cloned());
    check_report_fields(&report_fields)?;
    if let Some(t) = params.map_get("type").and_then(serde_json::Value::as_str) {
        // IntelMQ refuses to start with a type that is none; events without
        // classification.type would be the result here.
        imq::names::check_type(t).map_err(|e| anyhow::anyhow!("parameter type: {e}"))?;
    }
    let built = (entry.build)(&params).and_then(|parser| parse::ParseStage::new(parser, &params));
    let given: Vec<String> = cli.param.iter().map(|(k, _)| k.clone()).collect();
    params.check_given(&format!("parser {}", entry.name), &given, |k| {
        format!("parameter {k:?}")
    })?;
    let mut stage = built?
        .on_error_path(cli.paths.iter().any(|p| p == "_on_error"))
        .max_record(cli.common.max_line_bytes);
    let inputs = cli::inputs(&cli.common, &cli.files);
    let raw = cli.raw || !inputs_hold_reports(&inputs);
    let input = if raw {
        cli::Input::RawFeeds(inputs, report_fields)
    } else {
        cli::Input::Uris(inputs)
    };
    cli::run_stage(TOOL, &cli.common, input, cli::Output::Stream, &mut stage)
}

/// `--set` fields: fields of a report, with values of their type (a typo is a
/// start-up error, not a report that silently lacks the field).
fn check_report_fields(fields: &[(String, String)]) -> anyhow::Result<()> {
    use imq::harmonization::MsgType;
    for (k, v) in fields {
        imq::names::check_field(MsgType::Report, k).map_err(|e| anyhow::anyhow!("--set: {e}"))?;
        let mut probe = imq::message::Message::report();
        probe
            .set(k, v.as_str())
            .map_err(|e| anyhow::anyhow!("--set {k}={v}: {e}"))?;
        if !probe.contains(k) {
            anyhow::bail!("--set {k}={v}: not a valid value for {k}");
        }
    }
    Ok(())
}

/// `--shadowserver-schema-update` / `--shadowserver-schema-import`.
fn shadowserver_schema(cli: &Cli) -> anyhow::Result<u8> {
    use imq::parse::shadowserver_schema::{self as schema, Installed};
    let mut params = Params::new();
    if let Some(p) = &cli.params {
        params.extend(imq::params::read_file(p)?);
    }
    params.extend(cli.param.iter().cloned());
    let dest = schema::schema_path(&params)?;
    let sha = cli.sha256.as_deref();
    let done = match (
        &cli.shadowserver_schema_update,
        &cli.shadowserver_schema_import,
    ) {
        (Some(url), _) => schema::update(url, sha, &dest)?,
        (None, Some(file)) => schema::import(file, sha, &dest)?,
        (None, None) => unreachable!("checked by the caller"),
    };
    match done {
        Installed::New { version, reports } => eprintln!(
            "{TOOL}: installed Shadowserver schema {version} ({reports} report types) as {}",
            dest.display()
        ),
        Installed::Unchanged { version } => eprintln!(
            "{TOOL}: Shadowserver schema {version} at {} is up to date",
            dest.display()
        ),
    }
    Ok(0)
}

fn list_feeds() -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    for f in parse::feeds::all() {
        let parser = match f.parser_entry() {
            Some(e) => e.name.to_string(),
            None => format!("({})", f.parser.as_deref().unwrap_or("no parser")),
        };
        writeln!(
            out,
            "{:<48} {:<24} {}",
            f.name,
            parser,
            f.url.as_deref().unwrap_or("-")
        )?;
    }
    out.flush()?;
    Ok(())
}

/// Reports or raw feed data? A queue holds reports; otherwise peek at the first input: a file's first 64 KiB, or
/// what stdin's own buffer holds (peeking there consumes nothing).
fn inputs_hold_reports(inputs: &[String]) -> bool {
    use imq::transport::Scheme;
    // A queue holds messages: IntelMQ's reports.
    if inputs.iter().any(|i| Scheme::of(i) != Scheme::Line) {
        return true;
    }
    match inputs.first().map(String::as_str).unwrap_or("-") {
        "-" => {
            use std::io::BufRead;
            let mut stdin = std::io::stdin().lock();
            match stdin.fill_buf() {
                Ok([]) | Err(_) => true,
                Ok(head) => parse::looks_like_reports(head),
            }
        }
        p => {
            use std::io::Read;
            let mut head = vec![0u8; 1 << 16];
            let n = std::fs::File::open(p)
                .and_then(|mut f| f.read(&mut head))
                .unwrap_or(0);
            parse::looks_like_reports(&head[..n])
        }
    }
}

fn main() -> ExitCode {
    // `imq-parse COMPONENT --help`: that component's own help.
    if imq::help::intercept(TOOL, |w| imq::parse::find(w).map(|e| (e.name, e.intelmq))) {
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
