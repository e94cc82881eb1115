//! `imq-collect file`: directories + postfix, globs, stdin, and files deleted or
//! moved only once their reports were written.
mod common;

use base64::Engine;
use common::run::{cmd, lines, run};
use std::path::Path;
use std::process::Output;

fn collect(args: &[&str], input: &[u8]) -> Output {
    let mut c = cmd(env!("CARGO_BIN_EXE_imq-collect"), Path::new("."));
    c.env_remove("STATE_DIRECTORY").args(args);
    run(&mut c, input)
}

fn raws(o: &Output) -> Vec<String> {
    lines(&o.stdout)
        .iter()
        .map(|r| {
            let b = base64::engine::general_purpose::STANDARD
                .decode(r["raw"].as_str().unwrap())
                .unwrap();
            String::from_utf8(b).unwrap()
        })
        .collect()
}

#[test]
fn directory_postfix_glob_and_stdin() {
    let d = tempfile::tempdir().unwrap();
    let p = |n: &str| d.path().join(n);
    std::fs::write(p("b.csv"), "2\n").unwrap();
    std::fs::write(p("a.csv"), "1\n").unwrap();
    std::fs::write(p("c.txt"), "3\n").unwrap();
    let dir = d.path().to_str().unwrap();
    let o = collect(&["file", dir, "--postfix", ".csv"], b"");
    assert_eq!(raws(&o), ["1\n", "2\n"], "sorted, postfix matched");
    let r = lines(&o.stdout);
    assert_eq!(r[0]["extra.file_name"], "a.csv");
    let abs = std::fs::canonicalize(p("a.csv")).unwrap();
    assert_eq!(
        r[0]["feed.url"],
        format!("file://localhost{}", abs.display())
    );
    let glob = format!("{dir}/[bc].*");
    assert_eq!(raws(&collect(&["file", &glob], b"")), ["2\n", "3\n"]);
    assert_eq!(
        raws(&collect(&["file", "-"], b"from stdin\n")),
        ["from stdin\n"]
    );
    // IntelMQ's parameters.
    let o = collect(
        &[
            "-p",
            &format!("path={dir}"),
            "-p",
            "postfix=.txt",
            "--intelmq",
            "intelmq.bots.collectors.file.collector_file",
        ],
        b"",
    );
    assert_eq!(raws(&o), ["3\n"]);
    // A misspelt parameter is named.
    let o = collect(&["file", dir, "-p", "chunk_sise=10"], b"");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("chunk_size"));
}

#[test]
fn delete_and_move_only_after_commit() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("x.csv");
    std::fs::write(&f, "data\n").unwrap();
    let path = f.to_str().unwrap();
    // The output fails: the file stays.
    let o = collect(&["file", path, "--delete", "-o", "/dev/full"], b"");
    assert_eq!(o.status.code(), Some(2));
    assert!(f.exists(), "not deleted before its report was written");
    let o = collect(&["file", path, "--delete"], b"");
    assert_eq!(raws(&o), ["data\n"]);
    assert!(!f.exists());
    std::fs::write(&f, "again\n").unwrap();
    let done = tempfile::tempdir().unwrap();
    let o = collect(
        &["file", path, "--move-to", done.path().to_str().unwrap()],
        b"",
    );
    assert_eq!(raws(&o), ["again\n"]);
    assert!(!f.exists());
    assert_eq!(
        std::fs::read_to_string(done.path().join("x.csv")).unwrap(),
        "again\n"
    );
}

#[test]
fn chunks_at_intelmq_split_points() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("a.csv");
    // INTELMQ-RUNTIME.md §3.1, measured with IntelMQ.
    std::fs::write(
        &f,
        "ip,name\n1.2.3.4,aäb\n5.6.7.8,foo\n9.9.9.9,barbarbarbarbar\n",
    )
    .unwrap();
    let o = collect(&["file", f.to_str().unwrap(), "--chunk-size", "40"], b"");
    assert_eq!(
        raws(&o),
        [
            "ip,name\n1.2.3.4,aäb\n5.6.7.8,foo\n",
            "ip,name\n9.9.9.9,barbarbarbarbar\n"
        ]
    );
    let o = collect(
        &[
            "file",
            f.to_str().unwrap(),
            "--chunk-size",
            "40",
            "--no-replicate-header",
        ],
        b"",
    );
    assert_eq!(raws(&o).concat(), std::fs::read_to_string(&f).unwrap());
}
