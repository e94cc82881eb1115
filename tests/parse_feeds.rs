//! The feed parsers on IntelMQ's own unit-test samples for the bots that have no
//! shared corpus cases: `tests/data/parse/<bot>/<test>/` holds, per `run_bot()` of
//! an IntelMQ test method, the input report(s), the parameters, the events the
//! test asserts and how many events IntelMQ emitted (same layout as the corpus).
mod common;

#[test]
fn intelmq_unit_test_samples() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/parse");
    common::corpus::run_cases(env!("CARGO_BIN_EXE_imq-parse"), &root, &[]);
}

/// Run `imq-parse PARSER --raw` on feed bytes; returns (exit code, events, dumped
/// records as (reason, decoded raw of the dumped report)).
fn run_raw(
    parser: &str,
    url: &str,
    data: &str,
) -> (i32, Vec<serde_json::Value>, Vec<(String, String)>) {
    use base64::Engine;
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("feed.txt");
    let dump = dir.path().join("dump.ndjson");
    std::fs::File::create(&feed)
        .unwrap()
        .write_all(data.as_bytes())
        .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_imq-parse"))
        .arg(parser)
        .arg("--raw")
        .arg("--set")
        .arg(format!("feed.url={url}"))
        .arg("--dump")
        .arg(&dump)
        .arg("-q")
        .arg(&feed)
        .output()
        .unwrap();
    let events = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let dumped = std::fs::read_to_string(&dump)
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let d: serde_json::Value = serde_json::from_str(l).unwrap();
            let report: serde_json::Value =
                serde_json::from_str(d["raw"].as_str().unwrap()).unwrap();
            let raw = base64::engine::general_purpose::STANDARD
                .decode(report["raw"].as_str().unwrap_or(""))
                .unwrap();
            (
                d["error"].as_str().unwrap_or("").to_string(),
                String::from_utf8(raw).unwrap(),
            )
        })
        .collect();
    (out.status.code().unwrap_or(-1), events, dumped)
}

#[test]
fn bad_records_go_to_the_dump_and_the_rest_goes_on() {
    // (parser, feed.url, feed, events expected, dumped raw expected)
    let cases: &[(&str, &str, &str, usize, &[&str])] = &[
        (
            "alienvault",
            "https://reputation.alienvault.com/reputation.data",
            "192.0.2.1#4#2#Malicious Host#DE##0,1#3\nshort#line\n192.0.2.2#3#2#Spamming#GB#London#2,3#11\n",
            2,
            &["short#line"],
        ),
        (
            "spamhaus-drop",
            "https://www.spamhaus.org/drop/drop.txt",
            "; Last-Modified: Mon, 14 Sep 2015 04:39:22 GMT\n192.0.2.0/24 ; SBL1\ngarbage\n",
            1,
            &["; Last-Modified: Mon, 14 Sep 2015 04:39:22 GMT\ngarbage"],
        ),
        (
            "spamhaus-drop",
            "https://www.spamhaus.org/drop/drop_v4.json",
            "{\"cidr\":\"192.0.2.0/24\",\"sblid\":\"SBL1\",\"rir\":\"ripencc\"}\n{\"cidr\":\"nonsense\",\"sblid\":\"SBL2\"}\n{broken\n{\"type\":\"metadata\",\"timestamp\":1716889806}\n",
            1,
            &["{\"cidr\":\"nonsense\",\"sblid\":\"SBL2\"}", "{broken"],
        ),
        (
            "danger-rulez",
            "http://danger.rulez.sk/projects/bruteforceblocker/blist.php",
            "192.0.2.1\t\t# 2019-01-01 10:00:00\t\t3\t\t42\n192.0.2.2 no timestamp\n192.0.2.3\t\t# 2019-01-02 10:00:00\t\t1\t\t43\n",
            2,
            &["192.0.2.2 no timestamp"],
        ),
        (
            "cymru-cap-program",
            "https://www.cymru.com/$certname/$certname_$date.txt",
            "#generated on 20190326\nbot|192.0.2.1|64496|2019-03-22 11:18:52|family: Conficker;|AS, AT\nnosuchcategory|192.0.2.1|64496|2019-03-22 11:18:52||AS, AT\n",
            1,
            &["#generated on 20190326\nnosuchcategory|192.0.2.1|64496|2019-03-22 11:18:52||AS, AT"],
        ),
    ];
    for (parser, url, data, n_events, dumped) in cases {
        let (code, events, dump) = run_raw(parser, url, data);
        assert_eq!(events.len(), *n_events, "{parser}: events {events:?}");
        let raws: Vec<&str> = dump.iter().map(|(_, r)| r.as_str()).collect();
        assert_eq!(&raws, dumped, "{parser}: dump {dump:?}");
        assert!(dump.iter().all(|(reason, _)| !reason.is_empty()));
        assert_eq!(code, 1, "{parser}: exit status with dumped records");
    }
}
