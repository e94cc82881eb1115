//! imq-output's file outputs end to end: file (IntelMQ's, templates included),
//! files, csv, touch, blackhole, and `--intelmq` with IntelMQ's parameters.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const OUTPUT: &str = env!("CARGO_BIN_EXE_imq-output");

fn run(dir: &Path, args: &[&str], input: &str) -> Output {
    let mut c = Command::new(OUTPUT)
        .args(args)
        .current_dir(dir)
        .env_remove("IMQ_DUMP")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    c.wait_with_output().unwrap()
}

fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "exit {:?}: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
}

const EV1: &str = r#"{"time.source":"2024-03-05T10:11:12+00:00","time.observation":"2024-03-06T00:00:00+00:00","feed.name":"My Feed","source.ip":"10.0.0.1","source.port":80,"raw":"YQ==","extra.x":"W\u00fcrde \"q\"","feed.accuracy":100.0,"__type":"Event"}"#;
const EV2: &str = r#"{"time.source":"2024-03-06T23:59:59.5+00:00","feed.name":"Other","source.ip":"10.0.0.2","__type":"Event"}"#;

#[test]
fn file_writes_intelmq_to_json_lines_and_appends() {
    let d = tempfile::tempdir().unwrap();
    let input = format!("{EV1}\n{EV2}\n");
    ok(&run(d.path(), &["file", "sub/dir/events.txt"], &input));
    ok(&run(d.path(), &["file", "sub/dir/events.txt"], EV2));
    let got = fs::read_to_string(d.path().join("sub/dir/events.txt")).unwrap();
    let l1 = r#"{"extra.x": "Würde \"q\"", "feed.accuracy": 100.0, "feed.name": "My Feed", "source.ip": "10.0.0.1", "source.port": 80, "time.observation": "2024-03-06T00:00:00+00:00", "time.source": "2024-03-05T10:11:12+00:00"}"#;
    let l2 = r#"{"feed.name": "Other", "source.ip": "10.0.0.2", "time.source": "2024-03-06T23:59:59.5+00:00"}"#;
    assert_eq!(got, format!("{l1}\n{l2}\n{l2}\n"));
    // Options of IntelMQ's export_event.
    let o = run(
        d.path(),
        &[
            "file",
            "-",
            "-p",
            "keep_raw_field=true",
            "-p",
            "message_with_type=true",
            "-p",
            "hierarchical_output=true",
        ],
        EV2,
    );
    ok(&o);
    assert_eq!(
        String::from_utf8(o.stdout).unwrap(),
        r#"{"__type": "Event", "feed": {"name": "Other"}, "source": {"ip": "10.0.0.2"}, "time": {"source": "2024-03-06T23:59:59.5+00:00"}}"#
            .to_string()
            + "\n"
    );
    let o = run(d.path(), &["file", "-", "-p", "single_key=raw"], EV1);
    assert_eq!(o.stdout, b"a\n");
}

#[test]
fn file_templates_by_day_and_feed_never_leave_their_directory() {
    let d = tempfile::tempdir().unwrap();
    let evil = [
        r#"{"feed.name":"../../escape","time.source":"2024-03-05T00:00:00+00:00"}"#,
        r#"{"feed.name":"/etc/cron.d/x","time.source":"2024-03-05T00:00:00+00:00"}"#,
        r#"{"feed.name":"a\u0000b","time.source":"2024-03-05T00:00:00+00:00"}"#,
        r#"{"feed.code":"no-name","time.source":"2024-03-05T00:00:00+00:00"}"#,
    ];
    let input = format!("{EV1}\n{}\n{EV2}\n", evil.join("\n"));
    let o = run(
        d.path(),
        &[
            "file",
            "out/{event[feed.name]}/events-{event[time.source]:%Y-%m-%d}.ndjson",
            "--dump",
            "dump.ndjson",
        ],
        &input,
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let a = fs::read_to_string(d.path().join("out/My Feed/events-2024-03-05.ndjson")).unwrap();
    let b = fs::read_to_string(d.path().join("out/Other/events-2024-03-06.ndjson")).unwrap();
    assert_eq!(a.lines().count(), 1);
    assert!(b.contains("10.0.0.2"));
    // Nothing else was created anywhere.
    let mut all = Vec::new();
    fn walk(p: &Path, all: &mut Vec<String>) {
        for e in fs::read_dir(p).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                walk(&e.path(), all);
            } else {
                all.push(e.path().display().to_string());
            }
        }
    }
    walk(d.path(), &mut all);
    assert_eq!(all.len(), 3, "{all:?}");
    let dump = fs::read_to_string(d.path().join("dump.ndjson")).unwrap();
    assert_eq!(dump.lines().count(), 4, "{dump}");
    for (line, want) in dump.lines().zip(["outside", "absolute", "NUL", "KeyError"]) {
        assert!(line.contains(want), "{line}");
    }
    // IntelMQ's parameter names: format_filename false takes the name literally.
    let p = d.path().join("p.json");
    fs::write(
        &p,
        r#"{"file": "lit/{event[feed.name]}.txt", "format_filename": false}"#,
    )
    .unwrap();
    ok(&run(
        d.path(),
        &[
            "--intelmq",
            "intelmq.bots.outputs.file.output",
            "--params",
            p.to_str().unwrap(),
        ],
        EV2,
    ));
    assert!(d.path().join("lit/{event[feed.name]}.txt").exists());
}

/// IntelMQ's own file output bot writes the same bytes (the venv that
/// scripts/services installs; `../shared/peer` runs the bot).
#[test]
fn file_output_matches_intelmq() {
    let venv = std::env::var("IMQ_INTELMQ_VENV").unwrap_or("/opt/imq/intelmq-venv".into());
    let peer = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/peer/intelmq-run.py");
    let py = Path::new(&venv).join("bin/python");
    if !py.exists() || !peer.exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "IntelMQ venv {venv} or {} missing (scripts/services installs it)",
            peer.display()
        );
        eprintln!("skipped: no IntelMQ venv at {venv}");
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let input = format!(
        "{EV1}\n{EV2}\n{}\n",
        r#"{"extra.n":{"b":1,"a":[1.5e-7,null,"\u00e9\u0001\t"]},"source.asn":64496,"source.geolocation.latitude":48.2082,"comment":"\u2028 \u007f","__type":"Event"}"#
    );
    let py_out = d.path().join("py.txt");
    let mut c = Command::new(&py)
        .arg(&peer)
        .arg("intelmq.bots.outputs.file.output")
        .arg("--param")
        .arg(format!("file={}", py_out.display()))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let o = c.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    ok(&run(d.path(), &["file", "rs.txt"], &input));
    assert_eq!(
        fs::read_to_string(d.path().join("rs.txt")).unwrap(),
        fs::read_to_string(py_out).unwrap()
    );
}

#[test]
fn files_one_file_per_event_maildir_style() {
    let d = tempfile::tempdir().unwrap();
    let input = format!("{EV1}\n{EV2}\n");
    ok(&run(
        d.path(),
        &["files", "incoming", "-p", "suffix=.ev"],
        &input,
    ));
    let mut names: Vec<String> = fs::read_dir(d.path().join("incoming"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    assert_eq!(names.len(), 2, "{names:?}");
    // <hostname>.<pid>.<time>.<device>.<inode><suffix>
    for n in &names {
        let parts: Vec<&str> = n.trim_end_matches(".ev").rsplitn(5, '.').collect();
        assert_eq!(parts.len(), 5, "{n}");
        assert!(n.ends_with(".ev"));
        assert!(parts[0].parse::<u64>().unwrap() > 0, "inode in {n}");
    }
    let mut bodies: Vec<String> = names
        .iter()
        .map(|n| fs::read_to_string(d.path().join("incoming").join(n)).unwrap())
        .collect();
    bodies.sort();
    assert!(bodies
        .iter()
        .all(|b| b.starts_with('{') && b.ends_with('}')));
    assert!(bodies
        .iter()
        .any(|b| b.contains("\"feed.name\": \"Other\"")));
    // Nothing left in tmp.
    assert_eq!(
        fs::read_dir(d.path().join("incoming/.tmp"))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn csv_header_once_per_file_fields_chosen() {
    let d = tempfile::tempdir().unwrap();
    let args = [
        "csv",
        "--target",
        "out.csv",
        "--fields",
        "source.ip,feed.name,source.port",
    ];
    ok(&run(d.path(), &args, &format!("{EV1}\n")));
    ok(&run(d.path(), &args, &format!("{EV2}\n")));
    assert_eq!(
        fs::read_to_string(d.path().join("out.csv")).unwrap(),
        "source.ip,feed.name,source.port\n10.0.0.1,My Feed,80\n10.0.0.2,Other,\n"
    );
    // An empty file gets its header; fields as a parameter.
    fs::write(d.path().join("empty.csv"), "").unwrap();
    ok(&run(
        d.path(),
        &[
            "csv",
            "-t",
            "empty.csv",
            "-p",
            r#"fields=["feed.name","source.ip"]"#,
            "-p",
            "delimiter=;",
        ],
        EV2,
    ));
    assert_eq!(
        fs::read_to_string(d.path().join("empty.csv")).unwrap(),
        "feed.name;source.ip\nOther;10.0.0.2\n"
    );
}

#[test]
fn touch_and_blackhole() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("alive");
    ok(&run(d.path(), &["touch", "alive"], EV1));
    assert!(f.exists());
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    fs::File::options()
        .write(true)
        .open(&f)
        .unwrap()
        .set_modified(old)
        .unwrap();
    // No events: the file keeps its time.
    ok(&run(d.path(), &["touch", "alive"], ""));
    assert!(
        fs::metadata(&f).unwrap().modified().unwrap() <= old + std::time::Duration::from_secs(1)
    );
    let p = d.path().join("p.json");
    fs::write(&p, format!(r#"{{"path": "{}"}}"#, f.display())).unwrap();
    ok(&run(
        d.path(),
        &[
            "--intelmq",
            "intelmq.bots.outputs.touch.output",
            "--params",
            p.to_str().unwrap(),
        ],
        EV1,
    ));
    assert!(
        fs::metadata(&f).unwrap().modified().unwrap() > old + std::time::Duration::from_secs(60)
    );
    let o = run(
        d.path(),
        &["blackhole", "--verbose"],
        &format!("{EV1}\n{EV2}\n"),
    );
    ok(&o);
    assert!(o.stdout.is_empty());
    assert_eq!(fs::read_dir(d.path()).unwrap().count(), 2);
}

#[test]
fn list_names_outputs_and_modules() {
    let o = Command::new(OUTPUT).arg("--list").output().unwrap();
    ok(&o);
    let s = String::from_utf8(o.stdout).unwrap();
    for want in [
        "file ",
        "intelmq.bots.outputs.file.output",
        "files ",
        "intelmq.bots.outputs.files.output",
        "csv ",
        "touch ",
        "blackhole ",
        "sqlite ",
    ] {
        assert!(s.contains(want), "{want} in {s}");
    }
}
