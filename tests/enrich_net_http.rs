//! The HTTP experts against an HTTP server on loopback serving recorded
//! responses shaped like the real services' (as IntelMQ's tests mock them).
//! Ported from intelmq/tests/bots/experts/<name>/.

mod support;

use serde_json::{json, Value};
use support::http::{json as jr, text, HttpServer, Response};
use support::{assert_event, enrich};

const OBS: &str = "2015-01-01T00:00:00+00:00";

fn data(name: &str) -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/enrich-net/http")
            .join(name),
    )
    .unwrap()
}

fn with_type(mut v: Value) -> Value {
    v["__type"] = json!("Event");
    v
}

// --- http_status / http_content --------------------------------------------

#[test]
fn http_status_online_offline() {
    let s = HttpServer::start(vec![
        ("GET /ok", text(200, "hello")),
        ("GET /gone", text(404, "nope")),
        ("GET /teapot", text(418, "")),
    ]);
    let u = s.url();
    let inputs = [
        json!({"source.url": format!("{u}/ok")}),
        json!({"source.url": format!("{u}/gone")}),
        json!({"source.url": format!("{u}/teapot")}),
        json!({"source.fqdn": "example.com"}),
    ];
    let r = enrich(
        &[
            "http_status",
            "--success-status-codes",
            "418",
            "--timeout",
            "2",
        ],
        &inputs,
    );
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert_eq!(r.out[0]["status"], "online");
    assert_eq!(r.out[1]["status"], "offline");
    assert_eq!(r.out[1]["extra.reason"], "Not Found");
    assert_eq!(r.out[2]["status"], "online");
    assert!(!r.out[3].contains_key("status"));
}

#[test]
fn http_status_unreachable_is_offline_not_a_hang() {
    let s = HttpServer::start(vec![(
        "GET /slow",
        Response {
            delay_ms: 3000,
            ..text(200, "late")
        },
    )]);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = std::time::Instant::now();
    let r = enrich(
        &["http_status", "--timeout", "1"],
        &[
            json!({"source.url": format!("http://127.0.0.1:{port}/")}),
            json!({"source.url": format!("{}/slow", s.url())}),
        ],
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
    assert_eq!(r.status, 0, "{}", r.stderr);
    for ev in &r.out {
        assert_eq!(ev["status"], "offline");
        assert!(ev["extra.reason"]
            .as_str()
            .unwrap()
            .contains("GET http://127.0.0.1"));
    }
}

#[test]
fn http_content_needle() {
    let s = HttpServer::start(vec![
        ("GET /page", text(200, "<html>Lorem ipsum</html>")),
        ("GET /gone", text(404, "")),
    ]);
    let u = s.url();
    let r = enrich(
        &["http_content", "--needle", "Lorem"],
        &[
            json!({"source.url": format!("{u}/page")}),
            json!({"source.url": format!("{u}/gone")}),
        ],
    );
    assert_eq!(r.out[0]["status"], "online");
    assert_eq!(r.out[1]["status"], "offline");
    assert_eq!(r.out[1]["extra.reason"], "Not Found");
    let r = enrich(
        &["http_content", "--needle", "Dolor"],
        &[json!({"source.url": format!("{u}/page")})],
    );
    assert_eq!(
        r.out[0]["extra.reason"],
        format!("Text Dolor not found in response from {u}/page")
    );
}

// --- national_cert_contact_certat -------------------------------------------

#[test]
fn national_cert_contact() {
    let s = HttpServer::start(vec![
        (
            "GET /cgi?ip=78.104.144.2&bFilter=off&bShowNationalCERT=on&sep=semicolon",
            text(200, "78.104.144.2;AT;ACONET;team@cert.at\n"),
        ),
        (
            "GET /cgi?ip=10.0.0.1&bFilter=off&bShowNationalCERT=on&sep=semicolon",
            text(200, ""),
        ),
        (
            "GET /cgi?ip=10.0.0.2&bFilter=off&bShowNationalCERT=on&sep=semicolon",
            text(200, "garbage"),
        ),
    ]);
    let url = format!("{}/cgi", s.url());
    let r = enrich(
        &["national_cert_contact_certat", "--url", &url],
        &[
            json!({"source.ip": "78.104.144.2", "time.observation": OBS}),
            json!({"destination.ip": "78.104.144.2", "destination.abuse_contact": "a@example.com", "destination.geolocation.cc": "DE"}),
            json!({"source.ip": "10.0.0.1"}),
            json!({"source.ip": "10.0.0.2"}),
        ],
    );
    assert_eq!(r.status, 1, "{}", r.stderr);
    assert_event(
        &r.out[0],
        json!({"__type": "Event", "source.ip": "78.104.144.2", "time.observation": OBS,
        "source.geolocation.cc": "AT", "source.abuse_contact": "team@cert.at"}),
    );
    assert_event(
        &r.out[1],
        json!({"__type": "Event", "destination.ip": "78.104.144.2",
        "destination.geolocation.cc": "DE", "destination.abuse_contact": "a@example.com,team@cert.at"}),
    );
    assert_event(
        &r.out[2],
        json!({"__type": "Event", "source.ip": "10.0.0.1"}),
    );
    assert!(r.dump[0]["error"]
        .as_str()
        .unwrap()
        .contains("unexpected answer"));
}

// --- trusted_introducer_lookup ----------------------------------------------

fn ti_server() -> HttpServer {
    HttpServer::start(vec![("GET /teams/", jr(200, &data("teams.json")))])
}

#[test]
fn trusted_introducer_domain_subdomain_asn() {
    let s = ti_server();
    let url = format!("{}/teams/", s.url());
    let ex = json!({"source.url": "http://nic.versicherung/something/index.php", "source.fqdn": "nic.versicherung", "time.observation": OBS});
    let mut ex2 = ex.clone();
    ex2["source.fqdn"] = json!("tuwien.ac.at");
    ex2["source.url"] = json!("http://tuwien.ac.at");
    let mut ex3 = ex.clone();
    ex3.as_object_mut().unwrap().remove("source.fqdn");
    ex3["source.asn"] = json!(679);
    let r = enrich(
        &["trusted_introducer_lookup", "--url", &url],
        &[ex.clone(), ex2.clone(), ex3.clone()],
    );
    assert_eq!(r.status, 0, "{}", r.stderr);
    let mut want = with_type(ex);
    want["source.abuse_contact"] = json!("team@cert.at");
    assert_event(&r.out[0], want);
    let mut want = with_type(ex2);
    want["source.abuse_contact"] = json!("cert@aco.net");
    assert_event(&r.out[1], want);
    let mut want = with_type(ex3);
    want["source.abuse_contact"] = json!("cert@aco.net");
    assert_event(&r.out[2], want);
}

#[test]
fn trusted_introducer_unreachable_directory_is_fatal() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let r = enrich(
        &[
            "trusted_introducer_lookup",
            "--url",
            &format!("http://127.0.0.1:{port}/"),
            "--timeout",
            "1",
        ],
        &[json!({"source.fqdn": "a.at"})],
    );
    assert_eq!(r.status, 2);
    assert!(r.out.is_empty());
}

// --- rdap ----------------------------------------------------------------

#[test]
fn rdap_lookups() {
    let s = HttpServer::start(vec![
        ("GET /rdap/dns.json", jr(200, &data("rdns.json"))),
        (
            "GET /rdap/v1/domain/nic.versicherung",
            jr(200, &data("nic.versicherung.json")),
        ),
        (
            "GET /rdap/v1/domain/example.com",
            jr(200, &data("example.com.json")),
        ),
        ("GET /rdap/v1/domain/broken.com", text(500, "oops")),
    ]);
    let u = s.url();
    let params = json!({
        "rdap_bootstrap_url": format!("{u}/rdap/dns.json"),
        "rdap_bootstrapped_servers": {"com": format!("{u}/rdap/v1/"), "versicherung": format!("{u}/rdap/v1/")},
    });
    let dir = tempfile::tempdir().unwrap();
    let pf = dir.path().join("p.json");
    std::fs::write(&pf, params.to_string()).unwrap();
    let ex = json!({"source.url": "http://nic.versicherung/something/index.php", "source.fqdn": "nic.versicherung", "time.observation": OBS});
    let mut ex2 = ex.clone();
    ex2["source.fqdn"] = json!("example.com");
    let e404 =
        json!({"source.fqdn": "this-record-does-not-exist.versicherung", "time.observation": OBS});
    let r = enrich(
        &[
            "--intelmq",
            "intelmq.bots.experts.rdap.expert",
            "--params",
            pf.to_str().unwrap(),
        ],
        &[
            ex.clone(),
            ex2.clone(),
            e404.clone(),
            json!({"source.fqdn": "www.broken.com"}),
        ],
    );
    assert_eq!(r.status, 1, "{}", r.stderr);
    let mut want = with_type(ex);
    want["source.abuse_contact"] = json!("service@tld-box.at");
    assert_event(&r.out[0], want);
    let mut want = with_type(ex2);
    want["source.abuse_contact"] = json!("service@example.com");
    assert_event(&r.out[1], want);
    assert_event(&r.out[2], with_type(e404));
    assert!(r.dump[0]["error"].as_str().unwrap().contains("500"));
}

// --- tuency ----------------------------------------------------------------

const TUENCY_PREFIX: &str = "GET /intelmq/lookup?classification_taxonomy=availability&classification_type=system-compromise&feed_provider=Some+Provider&feed_name=FTP&feed_status=production";

fn tuency_server() -> HttpServer {
    let k = |q: &str| format!("{TUENCY_PREFIX}{q}");
    let table = vec![
        (
            k("&ip=123.123.123.23"),
            jr(
                200,
                r#"{"ip":{"destinations":[{"source":"portal","name":"Thurner","contacts":[{"email":"test@ntvtn.de"}]}]},"suppress":true,"interval":{"unit":"days","length":1}}"#,
            ),
        ),
        (
            k("&domain=www.example.at"),
            jr(
                200,
                r#"{"domain":{"destinations":[{"source":"portal","name":"EineOrganisation","contacts":[{"email":"abuse+www@example.at"}]}]},"suppress":false,"interval":{"unit":"days","length":1}}"#,
            ),
        ),
        (
            k("&ip=123.123.123.23&domain=www.example.at"),
            jr(
                200,
                r#"{"ip":{"destinations":[{"source":"portal","name":"Thurner","contacts":[{"email":"test@ntvtn.de"}]}]},"domain":{"destinations":[{"source":"portal","name":"EineOrganisation","contacts":[{"email":"abuse+www@example.at"}]}]},"suppress":false,"interval":{"unit":"day","length":1}}"#,
            ),
        ),
        (
            k("&ip=10.0.0.1"),
            jr(200, r#"{"ip": {"destinations": [], "netobject": null}}"#),
        ),
    ];
    let leaked: Vec<(&'static str, Response)> = table
        .into_iter()
        .map(|(k, v)| (&*Box::leak(k.into_boxed_str()), v))
        .collect();
    HttpServer::start(leaked)
}

#[test]
fn tuency_lookups() {
    let s = tuency_server();
    let url = format!("{}/", s.url());
    let input = json!({"classification.taxonomy": "availability", "classification.type": "system-compromise",
        "feed.provider": "Some Provider", "feed.name": "FTP", "source.ip": "123.123.123.23", "source.fqdn": "www.example.at"});
    let mut ip = input.clone();
    ip.as_object_mut().unwrap().remove("source.fqdn");
    ip["source.abuse_contact"] = json!("abuse@example.com");
    let mut domain = input.clone();
    domain.as_object_mut().unwrap().remove("source.ip");
    let mut unknown = ip.clone();
    unknown["source.ip"] = json!("10.0.0.1");
    let empty = json!({"comment": "foobar"});
    let args = [
        "tuency",
        "--url",
        &url,
        "--authentication-token",
        "Lorem ipsum",
    ];
    let r = enrich(
        &args,
        &[
            input.clone(),
            ip.clone(),
            domain.clone(),
            empty.clone(),
            unknown.clone(),
        ],
    );
    assert_eq!(r.status, 0, "{}", r.stderr);
    let mut want = with_type(input);
    want["extra.ttl"] = json!(86400);
    want["source.abuse_contact"] = json!("test@ntvtn.de,abuse+www@example.at");
    assert_event(&r.out[0], want);
    let mut want = with_type(ip.clone());
    want["extra.notify"] = json!(false);
    want["source.abuse_contact"] = json!("test@ntvtn.de");
    assert_event(&r.out[1], want.clone());
    let mut wd = with_type(domain);
    wd["extra.ttl"] = json!(86400);
    wd["source.abuse_contact"] = json!("abuse+www@example.at");
    assert_event(&r.out[2], wd);
    assert_event(&r.out[3], with_type(empty));
    assert_event(&r.out[4], with_type(unknown));
    assert!(s.requests().iter().all(|q| q
        .headers
        .iter()
        .any(|(k, v)| k == "authorization" && v == "Bearer Lorem ipsum")));

    let mut args = args.to_vec();
    args.extend(["--overwrite", "false"]);
    let r = enrich(&args, &[ip]);
    want["source.abuse_contact"] = json!("abuse@example.com");
    assert_event(&r.out[0], want);
}

// --- do_portal ----------------------------------------------------------------

#[test]
fn do_portal_replace_append_empty() {
    let s = HttpServer::start(vec![
        (
            "GET /api/1.0/ripe/contact?cidr=131.130.254.75",
            jr(200, r#"{"abusecs": ["security.zid@univie.ac.at"]}"#),
        ),
        (
            "GET /api/1.0/ripe/contact?cidr=2001%3A67c%3A10b8%3A%3A1",
            jr(200, r#"{"abusecs": ["reports@cert.at"]}"#),
        ),
        (
            "GET /api/1.0/ripe/contact?cidr=127.0.0.1",
            jr(404, r#"{"message": "('no such cidr', '127.0.0.1')"}"#),
        ),
        (
            "GET /api/1.0/ripe/contact?cidr=10.0.0.1",
            jr(500, r#"{"message": "internal"}"#),
        ),
    ]);
    let u = s.url();
    let v4 = json!({"source.ip": "131.130.254.75", "time.observation": OBS, "source.abuse_contact": "something@example.com"});
    let v6 = json!({"source.ip": "2001:67c:10b8::1", "time.observation": OBS});
    let empty = json!({"source.ip": "127.0.0.1", "time.observation": OBS, "source.abuse_contact": "reports@cert.at"});
    let base = ["do_portal", "--portal-url", &u, "--portal-api-key", "k3y"];
    let mut replace = base.to_vec();
    replace.extend(["--mode", "replace"]);
    let r = enrich(
        &replace,
        &[
            v4.clone(),
            v6.clone(),
            empty.clone(),
            json!({"source.ip": "10.0.0.1"}),
        ],
    );
    assert_eq!(r.status, 1, "{}", r.stderr);
    assert_eq!(
        r.out[0]["source.abuse_contact"],
        "security.zid@univie.ac.at"
    );
    assert_eq!(r.out[1]["source.abuse_contact"], "reports@cert.at");
    assert!(!r.out[2].contains_key("source.abuse_contact"));
    assert!(r.dump[0]["error"].as_str().unwrap().contains("500"));
    assert!(s.requests().iter().all(|q| q
        .headers
        .iter()
        .any(|(k, v)| k == "api-authorization" && v == "k3y")));

    let r = enrich(&base, &[v4, v6, empty]);
    assert_eq!(
        r.out[0]["source.abuse_contact"],
        "something@example.com,security.zid@univie.ac.at"
    );
    assert_eq!(r.out[1]["source.abuse_contact"], "reports@cert.at");
    assert_eq!(r.out[2]["source.abuse_contact"], "reports@cert.at");
}

// --- ripe --------------------------------------------------------------------

fn ripe_server() -> HttpServer {
    HttpServer::start(vec![
        (
            "GET /db/abuse-contact/93.184.215.14.json",
            jr(
                200,
                r#"{"service":"abuse-contact","link":{"type":"locator","href":"http://rest.db.ripe.net/abuse-contact/93.184.215.14"},"abuse-contacts":{"key":"ORG-EA1","email":"abuse@edg.io","suspect":false,"org-id":"ORG-EA1"},"parameters":{"primary-key":{"value":"93.184.0.0 - 93.184.255.255"}},"terms-and-conditions":{"type":"locator","href":"http://www.ripe.net/db/support/db-terms-conditions.pdf"}}"#,
            ),
        ),
        (
            "GET /db/abuse-contact/193.238.157.5.json",
            jr(200, r#"{"abuse-contacts":{"email":"abuse@funkfeuer.at"}}"#),
        ),
        (
            "GET /db/abuse-contact/as35492.json",
            jr(200, r#"{"abuse-contacts":{"email":"abuse@funkfeuer.at"}}"#),
        ),
        (
            "GET /db/abuse-contact/2001:62a:4:100:80::8.json",
            jr(
                200,
                r#"{"abuse-contacts":{"email":"security.zid@univie.ac.at"}}"#,
            ),
        ),
        (
            "GET /db/abuse-contact/127.0.0.1.json",
            jr(404, r#"{"message":"No abuse contact found for 127.0.0.1"}"#),
        ),
        (
            "GET /db/abuse-contact/as7713.json",
            jr(404, r#"{"message":"No abuse contact found for as7713"}"#),
        ),
        ("GET /db/abuse-contact/10.0.0.1.json", text(404, "")),
        (
            "GET /stat/data/abuse-contact-finder/data.json?resource=127.0.0.1",
            jr(
                200,
                r#"{"data":{"anti_abuse_contacts":{"abuse_c":[]}},"data_call_status":"supported"}"#,
            ),
        ),
        (
            "GET /stat/data/abuse-contact-finder/data.json?resource=10.0.0.2",
            text(200, "not valid JSON"),
        ),
        (
            "GET /stat/data/abuse-contact-finder/data.json?resource=96.30.37.204",
            jr(
                200,
                r#"{"data":{"anti_abuse_contacts":{"abuse_c":[{"email":"abuse@example.net,noc@example.net"}]}}}"#,
            ),
        ),
        (
            "GET /stat/data/maxmind-geo-lite/data.json?resource=96.30.37.204",
            jr(
                200,
                r#"{"data":{"located_resources":[{"resource":"96.30.37.204","locations":[{"country":"US","city":"Lansing","latitude":42.7348,"longitude":-84.6245}]}]}}"#,
            ),
        ),
    ])
}

fn ripe(s: &HttpServer, extra: &[&str], input: &[Value]) -> support::Run {
    let db = format!("{}/db", s.url());
    let stat = format!("{}/stat", s.url());
    let mut args = vec![
        "ripe",
        "--ripe-db-url",
        &db,
        "--ripe-stat-url",
        &stat,
        "--timeout",
        "2",
    ];
    args.extend_from_slice(extra);
    enrich(&args, input)
}

const DB_ONLY: [&str; 10] = [
    "--query-ripe-db-asn",
    "true",
    "--query-ripe-db-ip",
    "true",
    "--query-ripe-stat-ip",
    "false",
    "--query-ripe-stat-asn",
    "false",
    "--query-ripe-stat-geolocation",
    "false",
];

#[test]
fn ripe_db_lookups() {
    let s = ripe_server();
    let ex = json!({"source.ip": "93.184.215.14", "destination.ip": "193.238.157.5", "destination.asn": 35492, "time.observation": OBS});
    let ex6 = json!({"source.ip": "2001:62a:4:100:80::8", "time.observation": OBS});
    let empty = json!({"source.ip": "127.0.0.1", "source.abuse_contact": "bla@example.com", "time.observation": OBS});
    let as404 = json!({"source.asn": 7713, "time.observation": OBS});
    let r = ripe(
        &s,
        &DB_ONLY,
        &[ex.clone(), ex6.clone(), empty.clone(), as404.clone()],
    );
    assert_eq!(r.status, 0, "{}", r.stderr);
    let mut want = with_type(ex);
    want["source.abuse_contact"] = json!("abuse@edg.io");
    want["destination.abuse_contact"] = json!("abuse@funkfeuer.at");
    assert_event(&r.out[0], want);
    let mut want = with_type(ex6);
    want["source.abuse_contact"] = json!("security.zid@univie.ac.at");
    assert_event(&r.out[1], want);
    assert_event(&r.out[2], with_type(empty.clone()));
    assert_event(&r.out[3], with_type(as404));

    // mode replace with RIPEstat answering no contact: the old contact goes.
    let r = ripe(
        &s,
        &[
            "--mode",
            "replace",
            "--query-ripe-db-asn",
            "false",
            "--query-ripe-db-ip",
            "false",
            "--query-ripe-stat-ip",
            "true",
            "--query-ripe-stat-asn",
            "false",
            "--query-ripe-stat-geolocation",
            "false",
        ],
        &[empty],
    );
    assert_event(
        &r.out[0],
        json!({"__type": "Event", "source.ip": "127.0.0.1", "time.observation": OBS}),
    );
}

#[test]
fn ripe_errors_go_to_the_dump() {
    let s = ripe_server();
    let r = ripe(&s, &DB_ONLY, &[json!({"source.ip": "10.0.0.1"})]);
    assert_eq!(r.status, 1);
    assert!(r.dump[0]["error"]
        .as_str()
        .unwrap()
        .contains("HTTP status code was 404"));
    let r = ripe(
        &s,
        &[
            "--query-ripe-db-asn",
            "false",
            "--query-ripe-db-ip",
            "false",
            "--query-ripe-stat-geolocation",
            "false",
        ],
        &[json!({"source.ip": "10.0.0.2"})],
    );
    assert_eq!(r.status, 1);
    assert!(r.dump[0]["error"].as_str().unwrap().contains("not JSON"));
}

#[test]
fn ripe_stat_and_geolocation() {
    let s = ripe_server();
    let stat = [
        "--query-ripe-db-asn",
        "false",
        "--query-ripe-db-ip",
        "false",
    ];
    let r = ripe(
        &s,
        &stat,
        &[
            json!({"source.ip": "96.30.37.204"}),
            json!({"source.ip": "96.30.37.204", "source.geolocation.cc": "IN"}),
        ],
    );
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert_event(
        &r.out[0],
        json!({"__type": "Event", "source.ip": "96.30.37.204", "source.geolocation.cc": "US",
        "source.geolocation.city": "Lansing", "source.geolocation.latitude": 42.7348, "source.geolocation.longitude": -84.6245,
        "source.abuse_contact": "abuse@example.net,noc@example.net"}),
    );
    assert_eq!(r.out[1]["source.geolocation.cc"], "IN");
    // One request per resource: the second event was answered from the cache.
    assert_eq!(s.requests().len(), 2, "{:?}", s.requests());
}
