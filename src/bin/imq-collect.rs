//! imq-collect: fetch feeds and emit IntelMQ reports.
use clap::Parser;
use imq::cli::{self, CommonArgs};
use imq::collect::{self, FeedMeta};
use std::process::ExitCode;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TOOL: &str = "imq-collect";

/// Fetch feeds and write IntelMQ reports (NDJSON): the feed's bytes in raw
/// (base64), its metadata in feed.*, and time.observation.
#[derive(Parser, Debug)]
#[command(name = TOOL, version, max_term_width = 100, after_long_help = EXAMPLES)]
struct Cli {
    /// Collector: file
    #[arg(value_name = "COLLECTOR", required_unless_present_any = ["generate", "feed"])]
    collector: Option<String>,

    /// Files to collect ('-' is stdin)
    #[arg(value_name = "FILE")]
    files: Vec<String>,

    /// A known feed (imq-parse --list-feeds): sets feed.name, feed.provider,
    /// feed.url, feed.documentation and feed.accuracy from the feed registry.
    /// Fetching over HTTP is not implemented yet: the FILEs given are collected.
    #[arg(long, value_name = "NAME")]
    feed: Option<String>,

    /// feed.name of the reports
    #[arg(long, value_name = "NAME", env = "IMQ_FEED_NAME")]
    feed_name: Option<String>,

    /// feed.provider of the reports
    #[arg(long, value_name = "NAME")]
    feed_provider: Option<String>,

    /// feed.url of the reports (default: the file's file://localhost/ URL)
    #[arg(long, value_name = "URL")]
    feed_url: Option<String>,

    /// feed.accuracy of the reports (0-100)
    #[arg(long, value_name = "N")]
    feed_accuracy: Option<String>,

    /// feed.code of the reports
    #[arg(long, value_name = "CODE")]
    feed_code: Option<String>,

    #[command(flatten)]
    common: CommonArgs,
}

const EXAMPLES: &str = concat!(
    "\
Examples:
  # a report from a downloaded feed file
  imq-collect file feodo.json --feed-name 'Feodo Tracker' --feed-provider abuse.ch

  # collect, parse, enrich
  imq-collect file feodo.json --feed-name Feodo | imq-parse abusech-feodotracker | imq-enrich taxonomy",
    imq::exit_status_help!()
);

fn run(cli: Cli) -> anyhow::Result<u8> {
    if cli::generate::<Cli>(&cli.common, TOOL)? {
        return Ok(0);
    }
    let mut cli = cli;
    let mut meta = FeedMeta::default();
    if let Some(name) = &cli.feed {
        let feed = imq::parse::feeds::find(name).ok_or_else(|| imq::parse::feeds::unknown(name))?;
        meta.fields.extend(feed.report_fields());
        // `imq-collect --feed NAME FILE`: the positional argument is a file.
        if let Some(c) = cli.collector.take() {
            if c != "file" {
                cli.files.insert(0, c);
            }
        }
        cli.collector = Some("file".into());
    }
    let kind = cli.collector.as_deref().unwrap_or_default();
    if kind != "file" {
        anyhow::bail!("unknown collector {kind:?}: available: file");
    }
    for (k, v) in [
        ("feed.name", &cli.feed_name),
        ("feed.provider", &cli.feed_provider),
        ("feed.url", &cli.feed_url),
        ("feed.accuracy", &cli.feed_accuracy),
        ("feed.code", &cli.feed_code),
    ] {
        if let Some(v) = v {
            meta.fields.retain(|(f, _)| f != k);
            meta.fields.push((k.to_string(), v.clone()));
        }
    }
    // Check the metadata before fetching anything.
    collect::report(b"", &meta).map_err(|e| anyhow::anyhow!("feed metadata: {e}"))?;
    let mut files = cli::inputs(&cli.common, &cli.files);
    if files.is_empty() {
        files.push("-".into());
    }
    let source = collect::file::FileCollector::new(files, meta);
    cli::run_stage(
        TOOL,
        &cli.common,
        cli::Input::Source(Box::new(source)),
        cli::Output::Stream,
        &mut collect::Forward,
    )
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
