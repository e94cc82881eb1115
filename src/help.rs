//! `TOOL COMPONENT --help`: one parser's, expert's, collector's or output's own
//! help: what it does (its module's doc), the IntelMQ module it stands for, the
//! parameters it reads with their defaults, and an example command line.
//!
//! The parameter lists are found in the components' source by `build.rs`, so they
//! are always the ones the code reads.

include!(concat!(env!("OUT_DIR"), "/component_params.rs"));

/// A component's parameters: (name, reader, default).
type ParamList = &'static [(&'static str, &'static str, &'static str)];

fn entry(tool: &str, name: &str) -> Option<(&'static str, ParamList)> {
    COMPONENTS
        .iter()
        .find(|(t, n, _, _)| *t == tool && *n == name)
        .map(|(_, _, doc, params)| (*doc, *params))
}

/// The names of a tool's components that have help.
pub fn components(tool: &str) -> Vec<&'static str> {
    COMPONENTS
        .iter()
        .filter(|(t, ..)| *t == tool)
        .map(|(_, n, ..)| *n)
        .collect()
}

/// The first paragraph of a component's description (for the man page).
pub fn summary(tool: &str, name: &str) -> String {
    let doc = entry(tool, name).map_or("", |(doc, _)| doc);
    let para: Vec<&str> = doc.lines().take_while(|l| !l.trim().is_empty()).collect();
    para.join(" ").replace('`', "")
}

/// How the value of a parameter is written, by the reader that takes it.
fn kind(reader: &str) -> &'static str {
    match reader {
        "boolean" => "true|false",
        "integer" => "N",
        "number" => "NUMBER",
        "list" => "LIST",
        "timeout" => "SECONDS",
        _ => "TEXT",
    }
}

/// The help text of `tool`'s component `name` (a registry name), if it has one.
pub fn render(tool: &str, name: &str, intelmq: &str) -> Option<String> {
    let (doc, params) = entry(tool, name)?;
    let mut s = format!("{tool} {name}");
    if !intelmq.is_empty() {
        s.push_str(&format!(" (IntelMQ: {intelmq})"));
    }
    s.push_str("\n\n");
    // The module doc, without its Rust links and code fences.
    for line in doc.lines().filter(|l| !l.starts_with("```")) {
        // Rust links ([`x`]) lose their brackets; brackets inside code
        // (`{ev[source.asn]}`) stay.
        s.push_str(&line.replace("[`", "`").replace("`]", "`").replace('`', ""));
        s.push('\n');
    }
    let opt = |p: &str| match tool {
        // Experts take their parameters as options; the other tools as -p.
        "imq-enrich" => format!("--{}", p.replace('_', "-")),
        _ => format!("-p {p}="),
    };
    if params.is_empty() {
        s.push_str("\nParameters: as described above, if any (also in --params FILE)\n");
    } else {
        s.push_str("\nParameters (IntelMQ's names; also in --params FILE):\n");
        for (p, reader, default) in params {
            let form = match tool {
                "imq-enrich" => format!("{} {}", opt(p), kind(reader)),
                _ => format!("{}{}", opt(p), kind(reader)),
            };
            let d = if default.is_empty() {
                if *reader == "required" {
                    "  (required)".to_string()
                } else {
                    String::new()
                }
            } else {
                format!("  [default: {default}]")
            };
            s.push_str(&format!("  {form:<40}{d}\n"));
        }
    }
    s.push_str("\nExample:\n  ");
    // The required parameters; else one with its default as the value.
    let mut example_params: Vec<String> = params
        .iter()
        .filter(|(_, r, _)| *r == "required")
        .take(2)
        .map(|(p, r, _)| match tool {
            "imq-enrich" => format!("{} {}", opt(p), kind(r)),
            _ => format!("{}{}", opt(p), kind(r)),
        })
        .collect();
    if example_params.is_empty() {
        if let Some((p, _, d)) = params
            .iter()
            .find(|(_, r, d)| *r != "boolean" && !d.is_empty())
        {
            let d = d.trim_matches('"');
            example_params.push(match tool {
                "imq-enrich" => format!("{} {d}", opt(p)),
                _ => format!("{}{d}", opt(p)),
            });
        }
    }
    let rest = if example_params.is_empty() {
        String::new()
    } else {
        format!(" {}", example_params.join(" "))
    };
    let example = match tool {
        "imq-parse" => format!("imq-parse {name}{rest} feed-file > events.ndjson"),
        "imq-enrich" => format!("imq-enrich {name}{rest} < events.ndjson"),
        // Only these collectors take URLs or paths as arguments.
        "imq-collect" if matches!(name, "http" | "http_stream" | "file") => {
            format!("imq-collect {name}{rest} URL-OR-PATH > reports.ndjson")
        }
        "imq-collect" => format!("imq-collect {name}{rest} > reports.ndjson"),
        _ => format!("imq-output {name}{rest} < events.ndjson"),
    };
    s.push_str(&example);
    s.push_str(&format!(
        "\n\nThe tool's own options: {tool} --help; all {}: {tool} --list\n",
        match tool {
            "imq-parse" => "parsers",
            "imq-enrich" => "experts",
            "imq-collect" => "collectors",
            _ => "outputs",
        }
    ));
    Some(s)
}

/// Before clap: `TOOL [FLAGS] COMPONENT --help` (or `-h`) prints the
/// component's help and returns true (in a chain of experts, any one of them).
/// `resolve` turns a word into the registry name and IntelMQ module of a
/// component (accepting the tool's aliases).
pub fn intercept(
    tool: &str,
    resolve: impl Fn(&str) -> Option<(&'static str, &'static str)>,
) -> bool {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Only `COMPONENT --help` side by side: a whole command line with --help at
    // its end (as `imq-supervise check` runs collectors) is the tool's flag check.
    let found = args.windows(2).find_map(|w| {
        let help = w[1] == "--help" || w[1] == "-h";
        (help && !w[0].starts_with('-'))
            .then(|| resolve(&w[0]))
            .flatten()
    });
    let Some((name, intelmq)) = found else {
        return false;
    };
    let Some(text) = render(tool, name, intelmq) else {
        return false;
    };
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geoip_help_lists_its_database() {
        let h = render(
            "imq-enrich",
            "geoip",
            "intelmq.bots.experts.maxmind_geoip.expert",
        )
        .unwrap();
        assert!(h.contains("--database TEXT"), "{h}");
        assert!(
            h.contains("--overwrite true|false  [default: false]") || h.contains("--overwrite"),
            "{h}"
        );
        assert!(h.contains("Example:"), "{h}");
    }

    #[test]
    fn every_tool_has_components() {
        for t in ["imq-parse", "imq-enrich", "imq-collect", "imq-output"] {
            assert!(components(t).len() >= 3, "{t}");
        }
    }
}
