//! Man pages and completions are generated from the flag definitions
//! (`scripts/gen-docs`); this fails when the committed files are out of date, so
//! documentation cannot drift from the tools.
mod common;

use common::run::{cmd, run};

const TOOLS: [(&str, &str); 6] = [
    ("imq-collect", env!("CARGO_BIN_EXE_imq-collect")),
    ("imq-parse", env!("CARGO_BIN_EXE_imq-parse")),
    ("imq-enrich", env!("CARGO_BIN_EXE_imq-enrich")),
    ("imq-filter", env!("CARGO_BIN_EXE_imq-filter")),
    ("imq-output", env!("CARGO_BIN_EXE_imq-output")),
    ("imq-supervise", env!("CARGO_BIN_EXE_imq-supervise")),
];

fn generated(bin: &str, what: &str) -> String {
    let out = run(
        cmd(bin, std::path::Path::new(".")).args(["--generate", what]),
        b"",
    );
    assert!(out.status.success(), "{bin} --generate {what}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn man_pages_are_current() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for (name, bin) in TOOLS {
        let page = generated(bin, "man");
        let file = root.join(format!("man/{name}.1"));
        let committed = std::fs::read_to_string(&file).unwrap_or_default();
        assert!(
            committed == page,
            "{} is out of date: run scripts/gen-docs",
            file.display()
        );
        for section in [
            ".SH NAME",
            ".SH SYNOPSIS",
            ".SH OPTIONS",
            "EXIT STATUS",
            ".SH ENVIRONMENT",
            ".SH EXAMPLES",
            "SEE ALSO",
        ] {
            assert!(page.contains(section), "{name}: no {section}");
        }
    }
}

#[test]
fn completions_are_current() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for (name, bin) in TOOLS {
        for (shell, file) in [
            ("bash", format!("completions/{name}.bash")),
            ("zsh", format!("completions/_{name}")),
            ("fish", format!("completions/{name}.fish")),
        ] {
            let committed = std::fs::read_to_string(root.join(&file)).unwrap_or_default();
            assert!(
                committed == generated(bin, shell),
                "{file} is out of date: run scripts/gen-docs"
            );
        }
    }
}
