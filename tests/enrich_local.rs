//! imq-enrich's local experts run as a binary: GeoIP and ASN lookups on the
//! generated test databases, chains against pipes, resource checks before input.

use serde_json::{json, Map, Value};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn data(name: &str) -> String {
    let p: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests/data", name]
        .iter()
        .collect();
    p.to_str().unwrap().to_string()
}

/// Run imq-enrich with `args`, feeding `input`; (output events, exit status, stderr).
fn enrich(args: &[&str], input: &str) -> (Vec<Map<String, Value>>, i32, String) {
    let dump = tempfile::NamedTempFile::new().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_imq-enrich"))
        .args(args)
        .arg("--dump")
        .arg(dump.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_string();
    let w = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let out = child.wait_with_output().unwrap();
    w.join().unwrap();
    let events = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (
        events,
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn line(v: Value) -> String {
    format!("{v}\n")
}

#[test]
fn geoip_city_both_sides() {
    let db = data("geoip/City.mmdb");
    let input = line(json!({"source.ip": "192.0.2.7", "destination.ip": "2001:db8::1"}))
        + &line(json!({"source.ip": "198.51.100.1"}))
        + &line(json!({"source.ip": "203.0.113.200"}))
        + &line(json!({"source.ip": "10.0.0.1"}));
    let (ev, code, err) = enrich(&["geoip", "--database", &db], &input);
    assert_eq!(code, 0, "{err}");
    assert_eq!(ev[0]["source.geolocation.cc"], "DE");
    assert_eq!(ev[0]["source.geolocation.city"], "Berlin");
    assert_eq!(ev[0]["source.geolocation.latitude"], 52.5244);
    assert_eq!(ev[0]["source.geolocation.longitude"], 13.4105);
    assert_eq!(ev[0]["destination.geolocation.cc"], "NL");
    assert_eq!(ev[0]["destination.geolocation.city"], "Amsterdam");
    assert_eq!(ev[1]["source.geolocation.cc"], "US");
    assert!(!ev[1].contains_key("source.geolocation.city"));
    // latitude 0.0 is left out, as IntelMQ does
    assert!(!ev[2].contains_key("source.geolocation.latitude"));
    assert_eq!(ev[2]["source.geolocation.longitude"], 1.5);
    assert_eq!(ev[3].len(), 2, "{:?}", ev[3]);
}

#[test]
fn geoip_registered_and_overwrite() {
    let db = data("geoip/City.mmdb");
    let input = line(json!({"source.ip": "192.0.2.7", "source.geolocation.cc": "FR"}));
    let (ev, code, _) = enrich(
        &["geoip", "--database", &db, "--use-registered", "true"],
        &input,
    );
    // Without overwrite the existing value stays (IntelMQ add(overwrite=False)).
    assert_eq!(code, 0);
    assert_eq!(ev[0]["source.geolocation.cc"], "FR");
    let (ev, _, _) = enrich(
        &[
            "geoip",
            "--database",
            &db,
            "--use-registered",
            "true",
            "--overwrite",
            "true",
        ],
        &input,
    );
    assert_eq!(ev[0]["source.geolocation.cc"], "AT");
}

#[test]
fn geoip_country_database() {
    let db = data("geoip/Country.mmdb");
    let (ev, code, _) = enrich(
        &["geoip", "--db", &db],
        &line(json!({"source.ip": "192.0.2.7"})),
    );
    assert_eq!(code, 0);
    assert_eq!(ev[0]["source.geolocation.cc"], "DE");
    assert!(!ev[0].contains_key("source.geolocation.city"));
}

#[test]
fn asn_from_mmdb_and_pyasn_agree() {
    let input = line(json!({"source.ip": "198.51.100.200", "destination.ip": "2001:db8::5"}))
        + &line(json!({"source.ip": "192.0.2.1", "source.asn": 1}))
        + &line(json!({"source.ip": "10.1.1.1"}));
    let (a, code, err) = enrich(&["asn", "--database", &data("geoip/ASN.mmdb")], &input);
    assert_eq!(code, 0, "{err}");
    let (b, code, err) = enrich(&["asn", "--database", &data("geoip/ipasn.dat")], &input);
    assert_eq!(code, 0, "{err}");
    assert_eq!(a, b);
    assert_eq!(a[0]["source.asn"], 64498);
    assert_eq!(a[0]["source.network"], "198.51.100.128/25");
    assert_eq!(a[0]["destination.asn"], 64500);
    assert_eq!(a[0]["destination.network"], "2001:db8::/32");
    // asn_lookup overwrites
    assert_eq!(a[1]["source.asn"], 64496);
    assert!(!a[2].contains_key("source.asn"));
}

#[test]
fn chain_equals_pipe() {
    let input = line(
        json!({"source.ip": "192.0.2.7", "classification.type": "c2-server",
                            "source.url": "http://example.com/x"}),
    ) + &line(json!({"destination.ip": "198.51.100.9"}));
    let city = data("geoip/City.mmdb");
    let asn = data("geoip/ASN.mmdb");
    let (chained, code, err) = enrich(
        &[
            "geoip", "--db", &city, "asn", "--db", &asn, "taxonomy", "url2fqdn",
        ],
        &input,
    );
    assert_eq!(code, 0, "{err}");
    let mut text = input.clone();
    for stage in [
        vec!["geoip", "--db", &city],
        vec!["asn", "--db", &asn],
        vec!["taxonomy"],
        vec!["url2fqdn"],
    ] {
        let (ev, code, err) = enrich(&stage, &text);
        assert_eq!(code, 0, "{err}");
        text = ev.iter().map(|m| line(Value::Object(m.clone()))).collect();
    }
    let piped: Vec<Map<String, Value>> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(chained, piped);
    assert_eq!(chained[0]["source.asn"], 64496);
    assert_eq!(chained[0]["source.fqdn"], "example.com");
}

#[test]
fn broken_resources_are_fatal_before_input() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.mmdb");
    std::fs::write(&bad, b"this is not a MaxMind database").unwrap();
    let bad = bad.to_str().unwrap();
    for args in [
        vec!["geoip", "--database", bad],
        vec!["geoip", "--database", "/nonexistent/City.mmdb"],
        // an ASN database is not a City database
        vec!["geoip", "--database", &data("geoip/ASN.mmdb")],
        vec!["asn", "--database", bad],
        vec!["tor_nodes", "--database", "/nonexistent"],
        vec![
            "domain_suffix",
            "--field",
            "fqdn",
            "--suffix-file",
            "/nonexistent",
        ],
        vec!["domain_suffix", "--field", "ip"],
        vec!["rfc1918", "--fields", "source.ip", "--policy", "del,drop"],
    ] {
        let (ev, code, err) = enrich(&args, &line(json!({"source.ip": "192.0.2.1"})));
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(ev.is_empty());
    }
    // Truncated real database: the header survives, the metadata does not.
    let city = std::fs::read(data("geoip/City.mmdb")).unwrap();
    let cut = dir.path().join("cut.mmdb");
    std::fs::write(&cut, &city[..city.len() / 2]).unwrap();
    let (_, code, _) = enrich(&["geoip", "--database", cut.to_str().unwrap()], "");
    assert_eq!(code, 2);
}

#[test]
fn domain_suffix_uses_debian_list_by_default() {
    if !std::path::Path::new("/usr/share/publicsuffix/public_suffix_list.dat").exists() {
        // The list is a Debian package (publicsuffix); CI images have it.
        panic!("install the Debian package publicsuffix");
    }
    let (ev, code, err) = enrich(
        &["domain_suffix", "--field", "fqdn"],
        &line(json!({"source.fqdn": "www.example.co.uk"})),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(ev[0]["source.domain_suffix"], "co.uk");
}

/// IntelMQ's modify tests (tests/bots/experts/modify/test_expert.py), with its
/// example configuration and test configurations copied to tests/data/enrich/modify.
#[test]
fn modify_intelmq_test_facts() {
    let templ = json!({"feed.name": "Spamhaus Cert",
        "feed.url": "https://portal.spamhaus.org/cert/api.php?cert=<CERTNAME>&key=<APIKEY>",
        "classification.taxonomy": "malicious-code", "classification.type": "infected-system",
        "time.observation": "2015-01-01T00:00:00+00:00"});
    let with = |extra: Value| {
        let mut m = templ.as_object().unwrap().clone();
        m.extend(extra.as_object().unwrap().clone());
        m
    };
    let cases = [
        (
            json!({"feed.name": "Abuse.ch", "feed.url": "https://feodotracker.abuse.ch/blocklist/?download=domainblocklist"}),
            json!({"classification.identifier": "feodo"}),
        ),
        (
            json!({"malware.name": "foobar", "feed.name": "Other Feed"}),
            json!({"classification.identifier": "foobar"}),
        ),
        (
            json!({"source.port": 80, "malware.name": "zeus"}),
            json!({"protocol.transport": "tcp", "protocol.application": "http", "classification.identifier": "zeus"}),
        ),
        (
            json!({"malware.name": "xcodeghost"}),
            json!({"classification.identifier": "xcodeghost"}),
        ),
        (
            json!({"malware.name": "securityscorecard-someexample-value"}),
            json!({"classification.identifier": "someexample-value"}),
        ),
        (
            json!({"malware.name": "anyvalue"}),
            json!({"classification.identifier": "anyvalue"}),
        ),
        (
            json!({"source.port": 80, "feed.name": "Fraunhofer DGA"}),
            json!({"protocol.application": "http", "protocol.transport": "tcp", "classification.identifier": "dga"}),
        ),
    ];
    let conf = data("enrich/modify/default.conf");
    let input: String = cases
        .iter()
        .map(|(i, _)| line(Value::Object(with(i.clone()))))
        .collect();
    let (out, code, err) = enrich(&["modify", "--configuration-path", &conf], &input);
    assert_eq!(code, 0, "{err}");
    for (n, (i, o)) in cases.iter().enumerate() {
        let mut want = with(i.clone());
        want.extend(o.as_object().unwrap().clone());
        want.insert("__type".into(), "Event".into());
        assert_eq!(out[n], want, "case {n}");
    }

    // types.conf with overwrite
    let types = [
        (
            json!({"source.tor_node": true}),
            json!({"event_description.text": "This is a TOR node."}),
        ),
        (
            json!({"source.tor_node": false}),
            json!({"event_description.text": "This is not a TOR node."}),
        ),
        (
            json!({}),
            json!({"event_description.text": "We don't know if this is a TOR node."}),
        ),
        (
            json!({"feed.accuracy": 5.22}),
            json!({"event_description.text": "Accuracy is 10% or lower."}),
        ),
        (
            json!({"feed.accuracy": 100}),
            json!({"event_description.text": "Accuracy is the highest."}),
        ),
        (
            json!({"comment": "integer value"}),
            json!({"extra.test": 1, "event_description.text": "We don't know if this is a TOR node."}),
        ),
    ];
    let conf = data("enrich/modify/types.conf");
    let input: String = types
        .iter()
        .map(|(i, _)| line(Value::Object(with(i.clone()))))
        .collect();
    let (out, code, err) = enrich(
        &[
            "modify",
            "--configuration-path",
            &conf,
            "--overwrite",
            "true",
        ],
        &input,
    );
    assert_eq!(code, 0, "{err}");
    for (n, (i, o)) in types.iter().enumerate() {
        let mut want = with(i.clone());
        want.extend(o.as_object().unwrap().clone());
        want.insert("__type".into(), "Event".into());
        let got: Map<String, Value> = out[n].clone();
        assert!(
            serde_json::to_value(&got).unwrap() == serde_json::to_value(&want).unwrap()
                || got.get("feed.accuracy").and_then(Value::as_f64)
                    == want.get("feed.accuracy").and_then(Value::as_f64)
                    && got.get("event_description.text") == want.get("event_description.text"),
            "types case {n}: {got:?} != {want:?}"
        );
    }

    // overwrite by default, not with overwrite=false
    let conf = data("enrich/modify/overwrite.conf");
    let input = line(Value::Object(templ.as_object().unwrap().clone()));
    let (out, _, _) = enrich(&["modify", "--configuration-path", &conf], &input);
    assert_eq!(out[0]["classification.type"], "vulnerable-system");
    let (out, _, _) = enrich(
        &[
            "modify",
            "--configuration-path",
            &conf,
            "--overwrite",
            "false",
        ],
        &input,
    );
    assert_eq!(out[0]["classification.type"], "infected-system");

    // maximum_matches
    let conf = data("enrich/modify/default.conf");
    let input = line(Value::Object(with(
        json!({"source.port": 80, "feed.name": "Fraunhofer DGA"}),
    )));
    let (out, _, _) = enrich(
        &[
            "modify",
            "--configuration-path",
            &conf,
            "--maximum-matches",
            "1",
        ],
        &input,
    );
    assert_eq!(out[0]["protocol.application"], "http");
    assert!(!out[0].contains_key("classification.identifier"));
}

#[test]
fn broken_modify_config_is_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("m.conf");
    std::fs::write(&f, r#"[{"rulename": "x", "if": {"a": "("}, "then": {}}]"#).unwrap();
    let (_, code, _) = enrich(&["modify", "--configuration-path", f.to_str().unwrap()], "");
    assert_eq!(code, 2);
    std::fs::write(
        &f,
        r#"[{"rulename": "x", "if": {}, "then": {"comment": "{nope}"}}]"#,
    )
    .unwrap();
    let (_, code, _) = enrich(&["modify", "--configuration-path", f.to_str().unwrap()], "");
    assert_eq!(code, 2);
}

#[test]
fn wait_sleeps_and_passes_on() {
    let t = std::time::Instant::now();
    let input = line(json!({"source.ip": "192.0.2.1"})).repeat(2);
    let (ev, code, _) = enrich(&["wait", "--sleep-time", "0.2"], &input);
    assert_eq!(code, 0);
    assert_eq!(ev.len(), 2);
    assert!(t.elapsed() >= std::time::Duration::from_millis(400));
}

fn unique(tag: &str) -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("imq-test-{tag}-{}-{t}:", std::process::id())
}

#[test]
fn deduplicator_local_state_survives_restart() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("dedup.redb");
    let state = state.to_str().unwrap();
    let a =
        line(json!({"source.ip": "192.0.2.1", "time.observation": "2020-01-01T00:00:00+00:00"}));
    let a2 =
        line(json!({"source.ip": "192.0.2.1", "time.observation": "2021-01-01T00:00:00+00:00"}));
    let b = line(json!({"source.ip": "192.0.2.2"}));
    let args = ["deduplicator", "--state-file", state];
    // time.observation and raw are left out of the hash by default
    let (ev, code, err) = enrich(&args, &(a.clone() + &a2 + &b));
    assert_eq!(code, 0, "{err}");
    assert_eq!(ev.len(), 2);
    // a second run (a restart) remembers both
    let (ev, code, _) = enrich(&args, &(a.clone() + &b));
    assert_eq!(code, 0);
    assert!(ev.is_empty());
    // whitelist on source.ip; bypass passes everything
    let (ev, _, _) = enrich(
        &[
            "deduplicator",
            "--state-file",
            state,
            "--filter-type",
            "whitelist",
            "--filter-keys",
            "source.ip",
            "--bypass",
            "true",
        ],
        &(a.clone() + &a),
    );
    assert_eq!(ev.len(), 2);
}

#[test]
fn deduplicator_and_threshold_with_redis() {
    // Redis runs on 127.0.0.1:6379 here and in CI; keys get a unique prefix.
    let prefix = unique("dedup");
    let a = line(json!({"source.ip": "192.0.2.1"}));
    let args = [
        "deduplicator",
        "--state",
        "redis",
        "--redis-key-prefix",
        &prefix,
        "--redis-cache-ttl",
        "60",
    ];
    let (ev, code, err) = enrich(&args, &(a.clone() + &a));
    assert_eq!(code, 0, "{err}");
    assert_eq!(ev.len(), 1);
    let (ev, _, _) = enrich(&args, &a);
    assert!(ev.is_empty());

    let prefix = unique("threshold");
    let dir = tempfile::tempdir().unwrap();
    let params = dir.path().join("p.json");
    std::fs::write(
        &params,
        json!({"add_keys": {}, "filter_keys": ["source.ip"],
        "filter_type": "whitelist", "redis_cache_host": "127.0.0.1", "redis_cache_port": 6379,
        "redis_cache_db": 4, "threshold": 10, "state": "redis",
        "redis_key_prefix": prefix})
        .to_string(),
    )
    .unwrap();
    let input: String = (0..30)
        .map(|i| {
            line(
                json!({"source.ip": "192.0.2.0", "destination.ip": format!("192.0.2.{i}"),
            "classification.type": "test", "feed.name": "Threshold expert test"}),
            )
        })
        .collect();
    let (ev, code, err) = enrich(
        &[
            "--intelmq",
            "intelmq.bots.experts.threshold.expert",
            "--params",
            params.to_str().unwrap(),
        ],
        &input,
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(ev.len(), 1, "the tenth event passes, no other");
    assert_eq!(ev[0]["extra.count"], 10);
    assert_eq!(ev[0]["destination.ip"], "192.0.2.9");
}

#[test]
fn threshold_local_intelmq_test_facts() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("t.redb");
    let input: String = (0..30)
        .map(|i| line(json!({"source.ip": "192.0.2.0", "destination.ip": format!("192.0.2.{i}")})))
        .collect();
    let base = [
        "threshold",
        "--state-file",
        state.to_str().unwrap(),
        "--threshold",
        "10",
        "--filter-type",
        "whitelist",
    ];
    let mut args = base.to_vec();
    args.extend(["--filter-keys", "source.ip,destination.ip"]);
    let (ev, _, _) = enrich(&args, &input);
    assert!(
        ev.is_empty(),
        "differing messages never reach the threshold"
    );
    let mut args = base.to_vec();
    args.extend(["--filter-keys", "source.ip"]);
    let (ev, code, err) = enrich(&args, &input);
    assert_eq!(code, 0, "{err}");
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0]["comment"], "Threshold reached");
    assert_eq!(ev[0]["extra.count"], 10);
    let (_, code, _) = enrich(
        &[
            "threshold",
            "--state-file",
            state.to_str().unwrap(),
            "--threshold",
            "0",
        ],
        "",
    );
    assert_eq!(code, 2);
}

#[test]
fn aggregate_folds_a_window() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("a.redb");
    let input: String = (1..=25)
        .map(|i| {
            line(
                json!({"source.ip": "192.88.99.28", "destination.ip": "192.0.43.8",
            "time.observation": format!("2015-01-01T00:{:02}:00+00:00", 34 + i),
            "classification.type": "ddos", "classification.identifier": "ddos"}),
            )
        })
        .collect();
    let args = [
        "aggregate",
        "--state-file",
        state.to_str().unwrap(),
        "--timespan",
        "1 second",
        "--threshold",
        "10",
    ];
    let (ev, code, err) = enrich(&args, &input);
    assert_eq!(code, 0, "{err}");
    assert!(ev.is_empty(), "the window is still open");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    // the summary goes through the experts after aggregate in the chain
    let mut chained = args.to_vec();
    chained.push("taxonomy");
    let (ev, code, err) = enrich(&chained, "");
    assert_eq!(code, 0, "{err}");
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0]["classification.taxonomy"], "availability");
    assert_eq!(ev[0]["extra.count"], 25);
    assert_eq!(ev[0]["extra.time_end"], "2015-01-01T00:59:00+00:00");
    assert_eq!(ev[0]["classification.identifier"], "ddos");
    assert!(ev[0].contains_key("time.source"));
    // below the threshold: dropped
    let few: String = input.lines().take(3).map(|l| format!("{l}\n")).collect();
    enrich(&args, &few);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (ev, _, _) = enrich(&args, "");
    assert!(ev.is_empty());
}

#[test]
fn wait_for_a_redis_queue() {
    let queue = unique("wait");
    let t = std::time::Instant::now();
    let (ev, code, err) = enrich(
        &[
            "wait",
            "--queue-name",
            &queue,
            "--queue-host",
            "127.0.0.1",
            "--queue-size",
            "0",
        ],
        &line(json!({"source.ip": "192.0.2.1"})),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(ev.len(), 1);
    assert!(t.elapsed() < std::time::Duration::from_secs(5));
}

/// IntelMQ's jinja tests (tests/bots/experts/jinja), ecs.j2 copied to
/// tests/data/enrich/jinja.
#[test]
fn jinja_intelmq_test_facts() {
    let input = line(
        json!({"source.ip": "192.168.0.1", "destination.ip": "192.0.43.8",
        "time.observation": "2015-01-01T00:00:00+00:00", "feed.url": "https://cert.at"}),
    );
    let dir = tempfile::tempdir().unwrap();
    let run = |params: Value| {
        let f = dir.path().join("p.json");
        std::fs::write(&f, params.to_string()).unwrap();
        enrich(
            &[
                "--intelmq",
                "intelmq.bots.experts.jinja.expert",
                "--params",
                f.to_str().unwrap(),
            ],
            &input,
        )
    };
    let (ev, code, err) =
        run(json!({"fields": {"feed.url": "{{ msg['feed.url'] | upper }}"}, "overwrite": true}));
    assert_eq!(code, 0, "{err}");
    assert_eq!(ev[0]["feed.url"], "HTTPS://CERT.AT");
    let (ev, _, _) = run(
        json!({"fields": {"extra.some_text": "Hello World, this is the destination ip: {{ msg['destination.ip'] }}! And this is the source ip: {{ msg['source.ip'] }}!"}}),
    );
    assert_eq!(ev[0]["extra.some_text"],
        "Hello World, this is the destination ip: 192.0.43.8! And this is the source ip: 192.168.0.1!");
    let tmpl = format!("file://{}", data("enrich/jinja/ecs.j2"));
    let (ev, code, err) = run(json!({"fields": {"extra.some_text": tmpl}}));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        ev[0]["extra.some_text"],
        "{\n  \"@timestamp\": 2015-01-01T00:00:00+00:00,\n\n  \"server.ip\": 192.168.0.1,\n\n\n}"
    );
    let (_, code, _) = run(json!({"fields": {"extra.x": "{% if %}"}}));
    assert_eq!(code, 2);
    let (_, code, _) = run(json!({"fields": {"extra.x": "file:///nonexistent.j2"}}));
    assert_eq!(code, 2);
}

/// IntelMQ's idea test (tests/bots/experts/idea): the output without its random ID.
#[test]
fn idea_intelmq_test_facts() {
    let input = line(json!({
        "classification.type": "infected-system",
        "destination.ip": "2001:DB8::BB2B:F258",
        "destination.port": 22,
        "event_description.target": "DHL",
        "event_description.text": "Angler EK",
        "event_description.url": "http://www.phishtank.com/phish_detail.php?phish_id=3989866",
        "feed.accuracy": 100.0,
        "feed.name": "Malware Domain List",
        "feed.url": "http://www.malwaredomainlist.com/updatescsv.php",
        "misp.event_uuid": "81494d6a-0341-11e7-a0ef-002564d9514f",
        "protocol.application": "ssh",
        "protocol.transport": "tcp",
        "raw": "MjAxNi8wNC8yMF8xNDoyOCx3Yzl1ai5scnZhMzJ4d2QudG9wL1NIbnhCZEUtck1UWWZwLUNTaHIvVktkdGstOTgzLUVqcUovLDE4NS4xNDEuMjUuNjAsLSxBbmdsZXIgRUssUmVnaXN0cmFudCBtYXlrb2VAbGlzdC5ydSw2MDExNw==",
        "source.as_name": "PURDUE - Purdue University, US",
        "source.asn": 60117,
        "source.ip": "185.141.25.60",
        "source.network": "0.0.0.0/8",
        "source.reverse_dns": "customer.worldstream.nl",
        "source.url": "http://wc9uj.lrva32xwd.top/SHnxBdE-rMTYfp-CShr/VKdtk-983-EjqJ/",
        "time.observation": "2016-04-20T19:02:35+00:00",
        "time.source": "2016-04-20T14:28:00+00:00"}));
    let (ev, code, err) = enrich(&["idea"], &input);
    assert_eq!(code, 0, "{err}");
    let mut out: Value = serde_json::from_str(ev[0]["output"].as_str().unwrap()).unwrap();
    let id = out.as_object_mut().unwrap().remove("ID").unwrap();
    assert_eq!(id.as_str().unwrap().len(), 36);
    let want = json!({
        "Format": "IDEA0",
        "Description": "Malware Domain List: Angler EK",
        "Category": ["Malware"],
        "DetectTime": "2016-04-20T19:02:35+00:00",
        "EventTime": "2016-04-20T14:28:00+00:00",
        "Confidence": 1,
        "Ref": ["http://www.phishtank.com/phish_detail.php?phish_id=3989866", "misp_event:81494d6a-0341-11e7-a0ef-002564d9514f"],
        "Target": [{"IP6": [ev[0]["destination.ip"].clone()], "Port": [22], "Proto": ["tcp", "ssh"]}],
        "Source": [{"URL": ["http://wc9uj.lrva32xwd.top/SHnxBdE-rMTYfp-CShr/VKdtk-983-EjqJ/"],
            "ASN": [60117], "PTR": ["customer.worldstream.nl"], "IP4": ["185.141.25.60"], "Proto": ["tcp", "ssh"]}],
        "Attach": [{"Content": "2016/04/20_14:28,wc9uj.lrva32xwd.top/SHnxBdE-rMTYfp-CShr/VKdtk-983-EjqJ/,185.141.25.60,-,Angler EK,Registrant maykoe@list.ru,60117",
            "Type": ["OrigData"], "Ref": ["http://www.malwaredomainlist.com/updatescsv.php"]}]
    });
    assert_eq!(out, want);
}
