//! imq-filter end to end: the built binary over files and pipes.
use std::io::Write;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_imq-filter");
const EVENTS: &str = "tests/data/filter/events.ndjson";

fn run(args: &[&str], stdin: &[u8]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump.ndjson");
    let mut child = Command::new(BIN)
        .args(args)
        .arg("--dump")
        .arg(&dump)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A fatal error exits before reading: ignore a closed pipe.
    let _ = child.stdin.take().unwrap().write_all(stdin);
    child.wait_with_output().unwrap()
}

fn lines(o: &Output) -> Vec<String> {
    String::from_utf8(o.stdout.clone())
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

fn input_lines() -> Vec<String> {
    std::fs::read_to_string(EVENTS)
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn expression_keeps_original_bytes() {
    let o = run(
        &[
            r#"source.geolocation.cc == "AT" && classification.type in ["c2-server", "phishing"]"#,
            EVENTS,
        ],
        b"",
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let inp = input_lines();
    // Kept lines are the input lines byte for byte (spacing included).
    assert_eq!(lines(&o), vec![inp[0].clone(), inp[3].clone()]);
}

#[test]
fn invert_and_counters() {
    let o = run(
        &["-v", "source.ip in 192.0.2.0/24", "--verbose"],
        &std::fs::read(EVENTS).unwrap(),
    );
    assert_eq!(o.status.code(), Some(0));
    let inp = input_lines();
    assert_eq!(lines(&o), vec![inp[1].clone(), inp[2].clone()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("in 4, out 2, filtered 2, dumped 0"), "{err}");
}

#[test]
fn time_and_exists() {
    let o = run(
        &["time.source < now - 2d && exists source.asn", EVENTS],
        b"",
    );
    assert_eq!(lines(&o).len(), 1);
    let o = run(&["!exists source.asn", EVENTS], b"");
    assert_eq!(lines(&o).len(), 2);
}

#[test]
fn bad_expression_exits_2_with_column() {
    let o = run(&["source.ip == "], b"{}\n");
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("bad expression: column 14"), "{err}");
    assert!(err.contains("source.ip =="), "{err}");
}

#[test]
fn sieve_routes_paths() {
    let dir = tempfile::tempdir().unwrap();
    let at = dir.path().join("at.ndjson");
    let rej = dir.path().join("rej.ndjson");
    let route = format!("austria={}", at.display());
    let o = run(
        &[
            "--sieve",
            "tests/data/filter/rules.sieve",
            "--path",
            &route,
            "--reject",
            rej.to_str().unwrap(),
            "--verbose",
            EVENTS,
        ],
        b"",
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let inp = input_lines();
    let routed = std::fs::read_to_string(&at).unwrap();
    assert_eq!(routed, format!("{}\n{}\n", inp[0], inp[3]));
    // The modified event is serialized again; the scanner went to --reject.
    let out = lines(&o);
    assert_eq!(out.len(), 1);
    assert!(out[0].contains(r#""comment":"asn 64497""#), "{}", out[0]);
    assert_eq!(
        std::fs::read_to_string(&rej).unwrap(),
        format!("{}\n", inp[2])
    );
    let err = String::from_utf8_lossy(&o.stderr);
    // The event dropped to --reject is filtered, not out.
    assert!(err.contains("in 4, out 3, filtered 1, dumped 0"), "{err}");
}

#[test]
fn sieve_unrouted_paths_are_marked() {
    let o = run(&["--sieve", "tests/data/filter/rules.sieve", EVENTS], b"");
    let out = lines(&o);
    assert_eq!(out.len(), 3);
    assert!(out[0].ends_with(r#","__path":"austria"}"#), "{}", out[0]);
}

#[test]
fn bad_sieve_exits_2_with_position() {
    let o = run(&["--sieve", "tests/data/filter/bad.sieve"], b"{}\n");
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("tests/data/filter/bad.sieve:5:5: syntax error"),
        "{err}"
    );
}

#[test]
fn rejected_lines_are_dumped() {
    let o = run(
        &["exists source.ip"],
        b"{\"source.ip\":\"not an ip\"}\nnot json\n",
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
}

#[test]
fn intelmq_filter_expert() {
    let dir = tempfile::tempdir().unwrap();
    let params = dir.path().join("p.json");
    std::fs::write(
        &params,
        r#"{"filter_key":"classification.type","filter_value":"phishing","filter_action":"keep"}"#,
    )
    .unwrap();
    let p = params.to_str().unwrap();
    let args = [
        "--intelmq",
        "intelmq.bots.experts.filter.expert",
        "--params",
        p,
        EVENTS,
    ];
    let o = run(&args, b"");
    assert_eq!(lines(&o).len(), 2);
    let mut with_paths = args.to_vec();
    with_paths.extend(["--paths", "filter_no_match"]);
    let o = run(&with_paths, b"");
    let out = lines(&o);
    assert_eq!(out.len(), 4);
    assert_eq!(
        out.iter().filter(|l| l.contains("filter_no_match")).count(),
        2
    );
}
