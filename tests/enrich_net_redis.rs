//! The optional Redis cache (IntelMQ's redis_cache_* parameters) against the
//! Redis of this machine (127.0.0.1:6379).

mod support;

use serde_json::json;
use support::dns::{Answer, DnsServer, PTR};

fn require_redis() {
    if std::net::TcpStream::connect("127.0.0.1:6379").is_err() {
        panic!("these tests need Redis on 127.0.0.1:6379: start it with `redis-server --daemonize yes`");
    }
}

#[test]
fn reverse_dns_shares_its_cache_through_redis() {
    require_redis();
    let s = DnsServer::start(vec![(
        "7.43.0.192.in-addr.arpa",
        PTR,
        Answer::Ptr(vec!["icann.org"]),
    )]);
    let addr = s.addr.to_string();
    let prefix = format!(
        "imq-test-{}-{:?}:",
        std::process::id(),
        std::time::SystemTime::now()
    );
    let args = [
        "reverse_dns",
        "--resolver",
        &addr,
        "--timeout",
        "1",
        "--redis-cache-host",
        "127.0.0.1",
        "--redis-cache-port",
        "6379",
        "--redis-cache-db",
        "7",
        "--redis-cache-ttl",
        "60",
        "--cache-key-prefix",
        &prefix,
    ];
    let ev = json!({"source.ip": "192.0.43.7"});
    for _ in 0..2 {
        let r = support::enrich(&args, std::slice::from_ref(&ev));
        assert_eq!(r.status, 0, "{}", r.stderr);
        assert_eq!(r.out[0]["source.reverse_dns"], "icann.org");
    }
    // Two processes, one DNS question: the second run was answered by Redis.
    assert_eq!(s.questions().len(), 1, "{:?}", s.questions());
}

#[test]
fn unreachable_redis_is_fatal_before_reading() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let r = support::enrich(
        &[
            "reverse_dns",
            "--resolver",
            "127.0.0.1:9",
            "--redis-cache-host",
            "127.0.0.1",
            "--redis-cache-port",
            &port,
        ],
        &[json!({"source.ip": "192.0.43.7"})],
    );
    assert_eq!(r.status, 2, "{}", r.stderr);
    assert!(r.stderr.contains("redis"), "{}", r.stderr);
}

#[test]
fn ripe_cache_entries_are_intelmqs() {
    require_redis();
    let s = support::http::HttpServer::start(vec![
        (
            "GET /db/abuse-contact/as35492.json",
            support::http::json(
                200,
                r#"{"abuse-contacts":{"email":"abuse@funkfeuer.at,noc@funkfeuer.at"}}"#,
            ),
        ),
        (
            "GET /db/abuse-contact/127.0.0.1.json",
            support::http::json(404, r#"{"message":"No abuse contact found for 127.0.0.1"}"#),
        ),
    ]);
    let db = format!("{}/db", s.url());
    let prefix = format!(
        "imq-test-ripe-{}-{:?}:",
        std::process::id(),
        std::time::SystemTime::now()
    );
    let r = support::enrich(
        &[
            "ripe",
            "--ripe-db-url",
            &db,
            "--query-ripe-stat-asn",
            "false",
            "--query-ripe-stat-ip",
            "false",
            "--query-ripe-stat-geolocation",
            "false",
            "--redis-cache-host",
            "127.0.0.1",
            "--redis-cache-db",
            "4",
            "--cache-key-prefix",
            &prefix,
            "--redis-cache-ttl",
            "60",
        ],
        &[json!({"source.asn": 35492, "destination.ip": "127.0.0.1"})],
    );
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert_eq!(
        r.out[0]["source.abuse_contact"],
        "abuse@funkfeuer.at,noc@funkfeuer.at"
    );
    let client = redis::Client::open("redis://127.0.0.1:6379/4").unwrap();
    let mut c = client.get_connection().unwrap();
    let get = |c: &mut redis::Connection, k: &str| -> Option<String> {
        redis::cmd("GET")
            .arg(format!("{prefix}{k}"))
            .query(c)
            .unwrap()
    };
    assert_eq!(
        get(&mut c, "db_asn:35492").as_deref(),
        Some(r#"["abuse@funkfeuer.at", "noc@funkfeuer.at"]"#)
    );
    assert_eq!(
        get(&mut c, "db_ip:127.0.0.1").as_deref(),
        Some("__no_contact")
    );
    let ttl: i64 = redis::cmd("TTL")
        .arg(format!("{prefix}db_asn:35492"))
        .query(&mut c)
        .unwrap();
    assert!(ttl > 0 && ttl <= 60, "{ttl}");
}
