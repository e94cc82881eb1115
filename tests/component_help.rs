//! `TOOL COMPONENT --help` prints the component's own help (its parameters,
//! defaults and an example) for every registered component of every tool, and
//! `--version` names the IntelMQ release followed.
use std::process::Command;

fn help(bin: &str, args: &[&str]) -> String {
    let o = Command::new(bin).args(args).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{bin} {args:?}: {o:?}");
    String::from_utf8(o.stdout).unwrap()
}

const TOOLS: [(&str, &str); 4] = [
    ("imq-parse", env!("CARGO_BIN_EXE_imq-parse")),
    ("imq-enrich", env!("CARGO_BIN_EXE_imq-enrich")),
    ("imq-collect", env!("CARGO_BIN_EXE_imq-collect")),
    ("imq-output", env!("CARGO_BIN_EXE_imq-output")),
];

#[test]
fn one_component_of_each_tool() {
    let h = help(TOOLS[1].1, &["geoip", "--help"]);
    assert!(
        h.contains("imq-enrich geoip (IntelMQ: intelmq.bots.experts.maxmind_geoip.expert)"),
        "{h}"
    );
    assert!(
        h.contains("--database TEXT") && h.contains("GeoLite2-City.mmdb"),
        "{h}"
    );
    assert!(
        h.contains("--overwrite true|false") && h.contains("[default: false]"),
        "{h}"
    );
    assert!(h.contains("Example:\n  imq-enrich geoip --database"), "{h}");
    // IntelMQ's name, and -h, reach the same help.
    assert_eq!(help(TOOLS[1].1, &["maxmind_geoip", "-h"]), h);
    let h = help(TOOLS[3].1, &["postgres", "--help"]);
    assert!(
        h.contains("-p port=N") && h.contains("[default: 5432]"),
        "{h}"
    );
    let h = help(TOOLS[2].1, &["http", "--help"]);
    assert!(h.contains("-p http_url=") || h.contains("http_url"), "{h}");
    let h = help(TOOLS[0].1, &["abusech-feodotracker", "--help"]);
    assert!(h.contains("imq-parse abusech-feodotracker"), "{h}");
    // Without a component, the tool's own help.
    let h = help(TOOLS[1].1, &["--help"]);
    assert!(h.contains("Usage: imq-enrich"), "{h}");
}

#[test]
fn every_registered_component_has_help() {
    for (tool, bin) in TOOLS {
        let list = help(bin, &["--list"]);
        let names: Vec<&str> = list
            .lines()
            .filter(|l| !l.starts_with(' ') && !l.trim().is_empty())
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        assert!(names.len() >= 3, "{tool}: {list}");
        for n in names {
            let h = help(bin, &[n, "--help"]);
            assert!(h.starts_with(&format!("{tool} {n}")), "{tool} {n}: {h}");
            assert!(h.contains("Example:"), "{tool} {n}: {h}");
        }
    }
}

#[test]
fn version_names_the_intelmq_release() {
    for (tool, bin) in TOOLS.iter().chain(&[
        ("imq-filter", env!("CARGO_BIN_EXE_imq-filter")),
        ("imq-supervise", env!("CARGO_BIN_EXE_imq-supervise")),
    ]) {
        let v = help(bin, &["--version"]);
        assert_eq!(
            v.trim(),
            format!(
                "{tool} {} (follows IntelMQ 3.5.0, harmonization of IntelMQ 3.5.0)",
                env!("CARGO_PKG_VERSION")
            )
        );
    }
}
