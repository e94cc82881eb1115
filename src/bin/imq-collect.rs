//! imq-collect: fetch feeds and emit IntelMQ reports.
use clap::Parser;
use imq::cli::{self, CommonArgs};
use imq::collect::{self, Ctx};
use imq::params::{self, Params};
use serde_json::Value;
use std::process::ExitCode;
use std::time::Duration;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TOOL: &str = "imq-collect";

/// Fetch feeds and write IntelMQ reports (NDJSON): the feed's bytes in raw
/// (base64), its metadata in feed.*, and time.observation. One-shot (for cron
/// and systemd timers) unless --every is given.
#[derive(Parser, Debug)]
#[command(name = TOOL, version = imq::cli::VERSION, max_term_width = 100, after_long_help = EXAMPLES)]
struct Cli {
    /// Collector (see --list): amqp, api, file, http, http_stream, mail_attach, mail_body,
    /// mail_url, shadowserver, tcp
    #[arg(value_name = "COLLECTOR", required_unless_present_any = ["generate", "feed", "intelmq", "list", "list_feeds"])]
    collector: Option<String>,

    /// What to collect: URLs (http), files, globs or directories ('-' is stdin)
    #[arg(value_name = "ARG")]
    args: Vec<String>,

    /// List the collectors and the parameters they take, then exit
    #[arg(long)]
    list: bool,

    /// List the known feeds (those whose name, provider or description holds WORD), then exit
    #[arg(long, value_name = "WORD", num_args = 0..=1, default_missing_value = "")]
    list_feeds: Option<String>,

    /// Fetch a known feed (see --list-feeds): its collector, URL, parameters and
    /// feed.* fields from the feed registry; repeatable
    #[arg(long, value_name = "NAME")]
    feed: Vec<String>,

    /// Run the collector equivalent to this IntelMQ module (with --params)
    #[arg(long, value_name = "MODULE")]
    intelmq: Option<String>,

    /// IntelMQ parameters: a JSON object, or YAML (runtime.yaml's `parameters:`, or a bot's whole entry)
    #[arg(long, value_name = "FILE")]
    params: Option<String>,

    /// A parameter by its IntelMQ name (the value is JSON when it parses); repeatable
    #[arg(short = 'p', long = "param", value_name = "KEY=VALUE", value_parser = params::parse_kv)]
    param: Vec<(String, Value)>,

    /// feed.name of the reports
    #[arg(long, value_name = "NAME", env = "IMQ_FEED_NAME")]
    feed_name: Option<String>,

    /// feed.provider of the reports
    #[arg(long, value_name = "NAME")]
    feed_provider: Option<String>,

    /// feed.url of the reports (default: the URL fetched, or the file's file://localhost/ URL)
    #[arg(long, value_name = "URL")]
    feed_url: Option<String>,

    /// feed.accuracy of the reports (0-100, default 100)
    #[arg(long, value_name = "N")]
    feed_accuracy: Option<String>,

    /// feed.code of the reports
    #[arg(long, value_name = "CODE")]
    feed_code: Option<String>,

    /// http: request method (http_method)
    #[arg(short = 'X', long, value_name = "METHOD", help_heading = "http")]
    method: Option<String>,

    /// http: request body (http_body)
    #[arg(long, value_name = "TEXT", help_heading = "http")]
    data: Option<String>,

    /// http: a request header (http_header); repeatable
    #[arg(short = 'H', long, value_name = "NAME: VALUE", help_heading = "http")]
    header: Vec<String>,

    /// http: basic authentication (http_username, http_password)
    #[arg(long, value_name = "USER:PASSWORD", help_heading = "http")]
    user: Option<String>,

    /// http: send 'Authorization: Bearer TOKEN'
    #[arg(
        long,
        value_name = "TOKEN",
        env = "IMQ_BEARER_TOKEN",
        help_heading = "http"
    )]
    bearer: Option<String>,

    /// http: proxy for http and https URLs (http_proxy, https_proxy)
    #[arg(long, value_name = "URL", help_heading = "http")]
    proxy: Option<String>,

    /// http: seconds to wait for the connection and each read (http_timeout_sec, default 30)
    #[arg(long, value_name = "SECONDS", help_heading = "http")]
    timeout: Option<f64>,

    /// http: attempts on connection errors, 5xx and 429 (http_timeout_max_tries, default 3)
    #[arg(long, value_name = "N", help_heading = "http")]
    tries: Option<u32>,

    /// http: do not verify TLS certificates (http_verify_cert: false)
    #[arg(short = 'k', long, help_heading = "http")]
    insecure: bool,

    /// http: verify TLS certificates against this CA bundle only (http_verify_cert: FILE)
    #[arg(
        long,
        value_name = "FILE.pem",
        help_heading = "http",
        conflicts_with = "insecure"
    )]
    ca_cert: Option<String>,

    /// http: client certificate, PEM, with its key unless --client-key (ssl_client_cert)
    #[arg(long, value_name = "FILE.pem", help_heading = "http")]
    client_cert: Option<String>,

    /// http: key of the client certificate, PEM (ssl_client_cert_key)
    #[arg(
        long,
        value_name = "FILE.pem",
        help_heading = "http",
        requires = "client_cert"
    )]
    client_key: Option<String>,

    /// http: fill {time[FORMAT]} in the URL with the local time, optionally plus a
    /// time delta such as '{"days": -1}' (http_url_formatting)
    #[arg(long, value_name = "DELTA", num_args = 0..=1, default_missing_value = "true", help_heading = "http")]
    url_formatting: Option<String>,

    /// http: unpack zip, tar, tar.gz and gzip bodies; MEMBERS (comma-separated)
    /// restricts the archive members (extract_files)
    #[arg(long, value_name = "MEMBERS", num_args = 0..=1, default_missing_value = "true", help_heading = "http")]
    extract: Option<String>,

    /// Split each input into reports of about N bytes at line ends (chunk_size;
    /// default: inputs over 8 MiB are split)
    #[arg(long, value_name = "N", help_heading = "file and http")]
    chunk_size: Option<u64>,

    /// Do not repeat the first line in every chunk (chunk_replicate_header: false)
    #[arg(long, help_heading = "file and http")]
    no_replicate_header: bool,

    /// file: in a directory, only files whose names end in this (postfix)
    #[arg(long, value_name = "SUFFIX", help_heading = "file")]
    postfix: Option<String>,

    /// file: delete each file once its reports were committed (delete_file)
    #[arg(long, help_heading = "file")]
    delete: bool,

    /// file: move each file into DIR once its reports were committed (move_to)
    #[arg(
        long,
        value_name = "DIR",
        help_heading = "file",
        conflicts_with = "delete"
    )]
    move_to: Option<String>,

    /// Where collectors keep what they remember between runs (ETag/Last-Modified
    /// of HTTP feeds) [default: $IMQ_STATE_DIR, else systemd's $STATE_DIRECTORY;
    /// none: no conditional GET]
    #[arg(long, value_name = "DIR")]
    state_dir: Option<std::path::PathBuf>,

    /// Run again every DURATION (e.g. 30s, 15m, 1h, 1d) until stopped, instead of once
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    every: Option<Duration>,

    #[command(flatten)]
    common: CommonArgs,
}

const EXAMPLES: &str = concat!(
    "\
Examples:
  # a known feed, fetched, parsed and enriched
  imq-collect --feed abusech-feodo-tracker | imq-parse --feed abusech-feodo-tracker | imq-enrich taxonomy

  # any URL; nothing is emitted when it has not changed since the last run
  IMQ_STATE_DIR=/var/lib/imq imq-collect http https://example.org/feed.csv --feed-name Example

  # an IntelMQ collector with its runtime.yaml parameters
  imq-collect --intelmq intelmq.bots.collectors.http.collector_http --params p.json

  # the CSV files of a directory, moved away once collected
  imq-collect file /srv/drop --postfix .csv --move-to /srv/done --chunk-size 1000000",
    "\n\nExit status:\n  0  every feed was fetched (or had not changed)\n  1  some feeds failed, or some input went to the dump\n  2  fatal: nothing could be fetched, usage, configuration"
);

/// `30s`, `15m`, `2h`, `1d`, or plain seconds.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: f64 = num.parse().map_err(|_| format!("bad duration {s:?}"))?;
    let mult = match unit.trim() {
        "s" | "sec" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        "d" => 86400.0,
        u => return Err(format!("bad duration unit {u:?} (s, m, h, d)")),
    };
    let d = n * mult;
    if !(d > 0.0 && d.is_finite()) {
        return Err(format!("bad duration {s:?}"));
    }
    Ok(Duration::from_secs_f64(d))
}

/// The flags as IntelMQ parameters (they override --params and the registry).
fn flag_params(cli: &Cli, p: &mut Params) -> anyhow::Result<()> {
    let mut set = |k: &str, v: Value| {
        p.insert(k.to_string(), v);
    };
    if let Some(v) = &cli.method {
        set("http_method", v.as_str().into());
    }
    if let Some(v) = &cli.data {
        set("http_body", v.as_str().into());
    }
    if let Some(u) = &cli.user {
        let (user, pass) = u.split_once(':').unwrap_or((u, ""));
        set("http_username", user.into());
        set("http_password", pass.into());
    }
    if let Some(v) = &cli.proxy {
        set("http_proxy", v.as_str().into());
        set("https_proxy", v.as_str().into());
    }
    if let Some(v) = cli.timeout {
        set("http_timeout_sec", v.into());
    }
    if let Some(v) = cli.tries {
        set("http_timeout_max_tries", v.into());
    }
    if cli.insecure {
        set("http_verify_cert", false.into());
    }
    if let Some(v) = &cli.ca_cert {
        set("http_verify_cert", v.as_str().into());
    }
    if let Some(v) = &cli.client_cert {
        set("ssl_client_cert", v.as_str().into());
    }
    if let Some(v) = &cli.client_key {
        set("ssl_client_cert_key", v.as_str().into());
    }
    if let Some(v) = &cli.url_formatting {
        let v = serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.clone()));
        set("http_url_formatting", v);
    }
    if let Some(v) = &cli.extract {
        let v = match v.as_str() {
            "true" => Value::Bool(true),
            list => Value::String(list.into()),
        };
        set("extract_files", v);
    }
    if let Some(v) = cli.chunk_size {
        set("chunk_size", v.into());
    }
    if cli.no_replicate_header {
        set("chunk_replicate_header", false.into());
    }
    if let Some(v) = &cli.postfix {
        set("postfix", v.as_str().into());
    }
    if cli.delete {
        set("delete_file", true.into());
    }
    if let Some(v) = &cli.move_to {
        set("move_to", v.as_str().into());
    }
    for (param, v) in [
        ("name", &cli.feed_name),
        ("provider", &cli.feed_provider),
        ("accuracy", &cli.feed_accuracy),
        ("code", &cli.feed_code),
    ] {
        if let Some(v) = v {
            set(param, v.as_str().into());
        }
    }
    if !cli.header.is_empty() || cli.bearer.is_some() {
        let mut h = match p.remove("http_header") {
            Some(Value::Object(m)) => m,
            _ => Default::default(),
        };
        for line in &cli.header {
            let (k, v) = line
                .split_once(':')
                .ok_or_else(|| anyhow::anyhow!("--header {line:?}: expected 'NAME: VALUE'"))?;
            h.insert(k.trim().to_string(), v.trim().into());
        }
        if let Some(t) = &cli.bearer {
            h.insert("Authorization".into(), format!("Bearer {t}").into());
        }
        p.insert("http_header".into(), Value::Object(h));
    }
    for (k, v) in &cli.param {
        p.insert(k.clone(), v.clone());
    }
    Ok(())
}

/// A parameter value that is still the registry's placeholder for something
/// the user must give (an API key, a password, a URL part).
fn placeholder(v: &Value) -> Option<String> {
    let s = v.as_str()?;
    let markers = [
        "<",
        "{{",
        "__APIKEY__",
        "$certname",
        "__USERNAME__",
        "__PASSWORD__",
    ];
    markers
        .iter()
        .find(|m| s.contains(*m))
        .map(|_| s.to_string())
}

/// One feed of the registry: its collector and its parameters (the flags on top).
fn registry_feed(name: &str, cli: &Cli) -> anyhow::Result<(&'static collect::Entry, Params)> {
    let feed = imq::parse::feeds::find(name).ok_or_else(|| imq::parse::feeds::unknown(name))?;
    let raw: Value = serde_json::from_str(include_str!("../../data/feeds.json"))?;
    let coll = raw["feeds"]
        .as_array()
        .and_then(|a| a.iter().find(|f| f["name"] == feed.name.as_str()))
        .map(|f| f["collector"].clone())
        .unwrap_or(Value::Null);
    let module = coll["module"].as_str().unwrap_or("");
    let entry = collect::find(module).ok_or_else(|| {
        anyhow::anyhow!(
            "feed {}: its collector {module:?} is not available in imq-collect yet",
            feed.name
        )
    })?;
    let mut p = match &coll["parameters"] {
        Value::Object(m) => Params::from(m.clone()),
        _ => Params::new(),
    };
    for v in p.values_mut() {
        if v == "__FEED__" {
            *v = feed.feed.clone().into();
        } else if v == "__PROVIDER__" {
            *v = feed.provider.clone().into();
        }
    }
    p.entry("name").or_insert_with(|| feed.feed.clone().into());
    p.entry("provider")
        .or_insert_with(|| feed.provider.clone().into());
    if let Some(d) = &feed.documentation {
        p.entry("documentation").or_insert_with(|| d.clone().into());
    }
    flag_params(cli, &mut p)?;
    let mut missing: Vec<String> = p
        .iter()
        .filter_map(|(k, v)| placeholder(v).map(|s| format!("{k} ({s})")))
        .collect();
    if !missing.is_empty() {
        missing.sort();
        anyhow::bail!(
            "feed {} needs its parameter {} filled in: give it with -p KEY=VALUE",
            feed.name,
            missing.join(", ")
        );
    }
    Ok((entry, p))
}

fn list() -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    for e in collect::COLLECTORS {
        writeln!(out, "{:<12} {}", e.name, e.about)?;
        writeln!(out, "             IntelMQ: {}", e.modules.join(", "))?;
        writeln!(
            out,
            "             parameters: {}",
            e.params.split_whitespace().collect::<Vec<_>>().join(" ")
        )?;
    }
    Ok(())
}

fn list_feeds(word: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let w = word.to_lowercase();
    let mut out = std::io::stdout().lock();
    for f in imq::parse::feeds::all() {
        let hay = format!("{} {} {} {}", f.name, f.provider, f.feed, f.description).to_lowercase();
        if !hay.contains(&w) {
            continue;
        }
        writeln!(
            out,
            "{:<48} {:<6} {}",
            f.name,
            if f.public == Some(false) {
                "key"
            } else {
                "public"
            },
            f.url.as_deref().unwrap_or("-")
        )?;
    }
    Ok(())
}

/// The sources of one run: each feed's collector, built from its parameters.
/// A feed that cannot be built (a missing key) fails alone.
fn sources(cli: &Cli, ctx: &Ctx) -> anyhow::Result<Vec<Box<dyn imq::transport::Source>>> {
    let mut v = Vec::new();
    if !cli.feed.is_empty() {
        for name in &cli.feed {
            let built = registry_feed(name, cli).and_then(|(entry, p)| {
                // `--feed NAME FILE...`: the feed's fields on local files.
                if !cli.args.is_empty() || cli.collector.as_deref() == Some("file") {
                    let mut files = cli.args.clone();
                    if let Some(c) = cli.collector.as_deref().filter(|c| *c != "file") {
                        files.insert(0, c.to_string());
                    }
                    let mut fp = Params::new();
                    for k in ["name", "provider", "documentation", "accuracy", "code"] {
                        if let Some(v) = p.get(k) {
                            fp.insert(k.into(), v.clone());
                        }
                    }
                    flag_params(cli, &mut fp)?;
                    return (collect::find("file").expect("file collector").build)(
                        &fp, &files, ctx,
                    );
                }
                (entry.build)(&p, &[], ctx)
            });
            match built {
                Ok(s) => v.push(s),
                Err(e) if cli.feed.len() > 1 => ctx.failed(name, &format!("{e:#}")),
                Err(e) => return Err(e),
            }
        }
        return Ok(v);
    }
    let (entry, mut p) = match &cli.intelmq {
        Some(m) => {
            let e = collect::find(m).ok_or_else(|| {
                anyhow::anyhow!("no collector for IntelMQ module {m:?} (imq-collect --list)")
            })?;
            let p = match &cli.params {
                Some(f) => params::read_file(f)?,
                None => Params::new(),
            };
            (e, p)
        }
        None => {
            let name = cli.collector.as_deref().unwrap_or_default();
            let e = collect::find(name).ok_or_else(|| {
                let names: Vec<&str> = collect::COLLECTORS.iter().map(|e| e.name).collect();
                anyhow::anyhow!(
                    "unknown collector {name:?}: available: {}",
                    names.join(", ")
                )
            })?;
            let p = match &cli.params {
                Some(f) => params::read_file(f)?,
                None => Params::new(),
            };
            (e, p)
        }
    };
    flag_params(cli, &mut p)?;
    let mut args = cli.args.clone();
    if cli.intelmq.is_some() {
        if let Some(c) = &cli.collector {
            args.insert(0, c.clone());
        }
    }
    args.extend(cli.common.inputs.iter().cloned());
    if entry.name == "file" && args.is_empty() && !p.contains_key("path") {
        args.push("-".into());
    }
    v.push((entry.build)(&p, &args, ctx)?);
    // A -p name the collector never asked for is a typo.
    let given: Vec<String> = cli.param.iter().map(|(k, _)| k.clone()).collect();
    p.check_given(&format!("collector {}", entry.name), &given, |k| {
        k.to_string()
    })?;
    Ok(v)
}

/// One collection run; the exit status.
fn once(cli: &Cli, ctx: &Ctx) -> anyhow::Result<u8> {
    *ctx.outcome.borrow_mut() = Default::default();
    let sources = sources(cli, ctx)?;
    let mut common = cli.common.clone();
    common.inputs.clear();
    let status = cli::run_stage(
        TOOL,
        &common,
        cli::Input::Source(Box::new(collect::Chain::new(sources))),
        cli::Output::Stream,
        &mut collect::Forward,
    )?;
    let o = *ctx.outcome.borrow();
    if o.failed > 0 {
        // Nothing fetched at all is fatal; some feeds failing is not.
        return Ok(if o.ok == 0 {
            cli::EXIT_FATAL
        } else {
            cli::EXIT_REJECTED
        });
    }
    if cli.common.verbose > 0 && !cli.common.quiet {
        imq::pipeline::eprintln_safe(&format!(
            "{TOOL}: {} feed(s) fetched, {} unchanged",
            o.ok, o.unchanged
        ));
    }
    Ok(status)
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    if cli::setup::<Cli>(&cli.common, TOOL)? {
        return Ok(0);
    }
    if cli.list {
        list()?;
        return Ok(0);
    }
    if let Some(w) = &cli.list_feeds {
        list_feeds(w)?;
        return Ok(0);
    }
    use std::io::IsTerminal;
    let ctx = Ctx {
        state_dir: cli.state_dir.clone().or_else(collect::state::dir_from_env),
        progress: std::io::stderr().is_terminal() && !cli.common.quiet,
        quiet: cli.common.quiet,
        outcome: Default::default(),
    };
    let Some(every) = cli.every else {
        return once(&cli, &ctx);
    };
    imq::pipeline::signal::install()?;
    loop {
        let started = std::time::Instant::now();
        match once(&cli, &ctx) {
            Ok(_) => {}
            // A failed round is reported; the next one is tried anyway.
            Err(e) if !cli::is_broken_pipe(&e) => {
                imq::pipeline::eprintln_safe(&format!("{TOOL}: error: {e:#}"))
            }
            Err(e) => return Err(e),
        }
        let next = started + every;
        while std::time::Instant::now() < next {
            if imq::pipeline::signal::stop_requested() {
                return Ok(0);
            }
            std::thread::sleep(
                next.saturating_duration_since(std::time::Instant::now())
                    .min(Duration::from_millis(200)),
            );
        }
        if imq::pipeline::signal::stop_requested() {
            return Ok(0);
        }
    }
}

fn main() -> ExitCode {
    // `imq-collect COMPONENT --help`: that component's own help.
    if imq::help::intercept(TOOL, |w| {
        imq::collect::find(w).map(|e| (e.name, e.modules.first().copied().unwrap_or("")))
    }) {
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

    #[test]
    fn durations() {
        use super::parse_duration as d;
        assert_eq!(d("30").unwrap().as_secs(), 30);
        assert_eq!(d("15m").unwrap().as_secs(), 900);
        assert_eq!(d("1.5h").unwrap().as_secs(), 5400);
        assert_eq!(d("1d").unwrap().as_secs(), 86400);
        assert!(d("0s").is_err());
        assert!(d("3 weeks").is_err());
    }
}
