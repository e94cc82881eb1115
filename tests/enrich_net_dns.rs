//! The DNS experts (gethostbyname, reverse_dns, cymru_whois, abusix) against a
//! DNS server on loopback. Ported from IntelMQ's tests
//! (intelmq/tests/bots/experts/<name>/test_expert.py), with the records those
//! tests expect from the internet served by the test server.

mod support;

use serde_json::json;
use support::dns::{Answer, DnsServer, A, AAAA, PTR, TXT};
use support::{assert_event, enrich};

fn server() -> DnsServer {
    DnsServer::start(vec![
        ("iana.org", A, Answer::A(vec!["192.0.43.8"])),
        ("nic.at", A, Answer::A(vec!["198.251.90.127"])),
        ("example.invalid", A, Answer::NxDomain),
        ("broken.example", A, Answer::ServFail),
        ("slow.example", A, Answer::Silent),
        ("big.example", A, Answer::Truncated(Box::new(Answer::A(vec!["10.9.9.9"])))),
        ("7.43.0.192.in-addr.arpa", PTR, Answer::Ptr(vec!["icann.org"])),
        ("8.43.0.192.in-addr.arpa", PTR, Answer::Ptr(vec!["43-8.any.icann.org"])),
        (
            "8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.8.8.0.0.0.0.5.0.1.0.0.2.ip6.arpa",
            PTR,
            Answer::Ptr(vec!["iana.org"]),
        ),
        (
            "7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.8.8.0.0.0.0.5.0.1.0.0.2.ip6.arpa",
            PTR,
            Answer::NxDomain,
        ),
        (
            "221.80.157.5.in-addr.arpa",
            PTR,
            Answer::Ptr(vec!["5.157.80.221", "aliancys.peopleinc.nl"]),
        ),
        ("1.0.0.10.in-addr.arpa", PTR, Answer::ServFail),
        // Team Cymru
        (
            "2.144.104.78.origin.asn.cymru.com",
            TXT,
            Answer::Txt(vec![
                "1853 | 78.104.0.0/15 | AT | ripencc | 2007-06-07".into(),
                "1853 | 78.104.0.0/16 | AT | ripencc | 2007-06-07".into(),
            ]),
        ),
        (
            "AS1853.asn.cymru.com",
            TXT,
            Answer::Txt(vec!["1853 | AT | ripencc | 1993-09-01 | ACONET ACOnet Backbone, AT".into()]),
        ),
        (
            "8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.8.8.0.0.0.0.5.0.1.0.0.2.origin6.asn.cymru.com",
            TXT,
            Answer::Txt(vec!["16876 | 2001:500:88::/48 | US | arin | 2010-02-18".into()]),
        ),
        (
            "AS16876.asn.cymru.com",
            TXT,
            Answer::Txt(vec!["16876 | US | arin | 2008-02-01 | ICANN-DC, US".into()]),
        ),
        ("1.0.0.127.origin.asn.cymru.com", TXT, Answer::NxDomain),
        ("2.0.0.127.origin.asn.cymru.com", TXT, Answer::ServFail),
        // Abusix
        (
            "7.43.0.192.abuse-contacts.abusix.org",
            TXT,
            Answer::Txt(vec!["ops@icann.org".into()]),
        ),
        (
            "8.43.0.192.abuse-contacts.abusix.org",
            TXT,
            Answer::Txt(vec!["ops@icann.org".into()]),
        ),
        (
            "7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.0.8.8.0.0.0.0.5.0.1.0.0.2.abuse-contacts.abusix.org",
            TXT,
            Answer::Txt(vec!["ops@icann.org".into()]),
        ),
        ("1.1.1.10.abuse-contacts.abusix.org", TXT, Answer::Txt(vec!["no contact".into()])),
        ("2.2.2.10.abuse-contacts.abusix.org", TXT, Answer::Silent),
        ("::1", AAAA, Answer::NxDomain),
    ])
}

fn run(s: &DnsServer, expert: &str, extra: &[&str], input: serde_json::Value) -> support::Run {
    let addr = s.addr.to_string();
    let mut args = vec![expert, "--resolver", &addr, "--timeout", "1"];
    args.extend_from_slice(extra);
    enrich(&args, &[input])
}

// --- gethostbyname -------------------------------------------------------

const OBS: &str = "2015-01-01T00:00:00+00:00";

#[test]
fn gethostbyname_existing() {
    let s = server();
    let r = run(
        &s,
        "gethostbyname",
        &["--gaierrors-to-ignore", "-8,-9"],
        json!({"source.fqdn": "iana.org", "destination.fqdn": "nic.at", "time.observation": OBS}),
    );
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert_event(
        &r.out[0],
        json!({"__type": "Event", "source.fqdn": "iana.org", "destination.fqdn": "nic.at",
               "source.ip": "192.0.43.8", "destination.ip": "198.251.90.127", "time.observation": OBS}),
    );
}

#[test]
fn gethostbyname_non_existing_and_url() {
    let s = server();
    let inp = json!({"source.fqdn": "example.invalid", "destination.fqdn": "example.invalid", "time.observation": OBS});
    let r = run(&s, "gethostbyname", &[], inp.clone());
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert_event(
        &r.out[0],
        json!({"__type": "Event", "source.fqdn": "example.invalid",
        "destination.fqdn": "example.invalid", "time.observation": OBS}),
    );

    let url = json!({"source.url": "http://iana.org"});
    let r = run(
        &s,
        "gethostbyname",
        &["--fallback-to-url", "false"],
        url.clone(),
    );
    assert_event(
        &r.out[0],
        json!({"__type": "Event", "source.url": "http://iana.org"}),
    );
    let r = run(&s, "gethostbyname", &["--fallback-to-url", "true"], url);
    assert_event(
        &r.out[0],
        json!({"__type": "Event", "source.url": "http://iana.org", "source.ip": "192.0.43.8"}),
    );
}

#[test]
fn gethostbyname_overwrite() {
    let s = server();
    let inp = json!({"source.fqdn": "iana.org", "destination.fqdn": "nic.at",
        "source.ip": "10.0.0.1", "destination.ip": "10.0.0.2", "time.observation": OBS});
    let r = run(&s, "gethostbyname", &[], inp.clone());
    assert_event(
        &r.out[0],
        json!({"__type": "Event", "source.fqdn": "iana.org", "destination.fqdn": "nic.at",
        "source.ip": "10.0.0.1", "destination.ip": "10.0.0.2", "time.observation": OBS}),
    );
    let r = run(&s, "gethostbyname", &["--overwrite", "true"], inp);
    assert_event(
        &r.out[0],
        json!({"__type": "Event", "source.fqdn": "iana.org", "destination.fqdn": "nic.at",
        "source.ip": "192.0.43.8", "destination.ip": "198.251.90.127", "time.observation": OBS}),
    );
}

#[test]
fn gethostbyname_failures_go_to_the_dump() {
    let s = server();
    let r = run(
        &s,
        "gethostbyname",
        &[],
        json!({"source.fqdn": "broken.example"}),
    );
    assert_eq!(r.status, 1);
    assert!(r.out.is_empty());
    let err = r.dump[0]["error"].as_str().unwrap();
    assert!(
        err.contains("SERVFAIL") && err.contains("gaierror -3"),
        "{err}"
    );

    let started = std::time::Instant::now();
    let r = run(
        &s,
        "gethostbyname",
        &[],
        json!({"source.fqdn": "slow.example"}),
    );
    assert_eq!(r.status, 1);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert!(r.dump[0]["error"].as_str().unwrap().contains("timed out"));

    // -3 listed as ignored (IntelMQ's test_gaierrors_int): the event passes.
    let r = run(
        &s,
        "gethostbyname",
        &["--gaierrors-to-ignore", "-3"],
        json!({"source.fqdn": "broken.example"}),
    );
    assert_eq!(r.status, 0);
    assert_event(
        &r.out[0],
        json!({"__type": "Event", "source.fqdn": "broken.example"}),
    );
}

#[test]
fn gethostbyname_tcp_fallback_on_truncation() {
    let s = server();
    let r = run(
        &s,
        "gethostbyname",
        &[],
        json!({"source.fqdn": "big.example"}),
    );
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert_eq!(r.out[0]["source.ip"], "10.9.9.9");
}

#[test]
fn refused_connection_is_a_dump_not_a_hang() {
    // A port nobody listens on (bound and dropped).
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let r = enrich(
        &["gethostbyname", "--resolver", &addr, "--timeout", "1"],
        &[json!({"source.fqdn": "iana.org"})],
    );
    assert_eq!(r.status, 1);
    assert_eq!(r.dump.len(), 1);
}

// --- reverse_dns ---------------------------------------------------------

#[test]
fn reverse_dns_ipv4_ipv6() {
    let s = server();
    let r = run(
        &s,
        "reverse_dns",
        &["--overwrite", "true"],
        json!({"source.ip": "192.0.43.7", "destination.ip": "192.0.43.8", "time.observation": OBS}),
    );
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert_event(
        &r.out[0],
        json!({"__type": "Event", "source.ip": "192.0.43.7", "source.reverse_dns": "icann.org",
        "destination.ip": "192.0.43.8", "destination.reverse_dns": "43-8.any.icann.org", "time.observation": OBS}),
    );

    let r = run(
        &s,
        "reverse_dns",
        &["--overwrite", "true"],
        json!({"source.ip": "2001:500:88:200::8", "source.reverse_dns": "example.com",
               "time.observation": OBS, "destination.ip": "2001:500:88:200::7"}),
    );
    assert_event(
        &r.out[0],
        json!({"__type": "Event", "source.ip": "2001:500:88:200::8", "source.reverse_dns": "iana.org",
        "destination.ip": "2001:500:88:200::7", "time.observation": OBS}),
    );
}

#[test]
fn reverse_dns_invalid_ptr_and_overwrite() {
    let s = server();
    let r = run(
        &s,
        "reverse_dns",
        &["--overwrite", "true"],
        json!({"source.ip": "5.157.80.221", "time.observation": OBS}),
    );
    assert_event(
        &r.out[0],
        json!({"__type": "Event", "source.ip": "5.157.80.221",
        "source.reverse_dns": "aliancys.peopleinc.nl", "time.observation": OBS}),
    );
    let r = run(
        &s,
        "reverse_dns",
        &["--overwrite", "false"],
        json!({"source.ip": "192.0.43.7", "destination.ip": "192.0.43.8",
               "destination.reverse_dns": "example.net", "time.observation": OBS}),
    );
    assert_event(
        &r.out[0],
        json!({"__type": "Event", "source.ip": "192.0.43.7", "source.reverse_dns": "icann.org",
        "destination.ip": "192.0.43.8", "destination.reverse_dns": "example.net", "time.observation": OBS}),
    );
}

#[test]
fn reverse_dns_caches_and_dumps_transport_failures() {
    let s = server();
    let addr = s.addr.to_string();
    let ev = json!({"source.ip": "192.0.43.7"});
    let bad = json!({"source.ip": "10.0.0.1"});
    let r = enrich(
        &["reverse_dns", "--resolver", &addr, "--timeout", "1"],
        &[ev.clone(), bad, ev],
    );
    assert_eq!(r.status, 1);
    assert_eq!(r.out.len(), 2);
    assert_eq!(r.out[1]["source.reverse_dns"], "icann.org");
    assert!(r.dump[0]["error"].as_str().unwrap().contains("SERVFAIL"));
    let q = s.questions();
    assert_eq!(
        q.iter().filter(|x| x.starts_with("7.43.0.192")).count(),
        1,
        "{q:?}"
    );
}

// --- cymru_whois -----------------------------------------------------------

#[test]
fn cymru_ipv4_ipv6() {
    let s = server();
    let r = run(
        &s,
        "cymru_whois",
        &["--overwrite", "true"],
        json!({"source.ip": "78.104.144.2", "time.observation": OBS}),
    );
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert_event(
        &r.out[0],
        json!({"__type": "Event", "source.ip": "78.104.144.2", "source.geolocation.cc": "AT",
        "source.registry": "RIPE", "source.network": "78.104.0.0/16", "source.allocated": "2007-06-07T00:00:00+00:00",
        "source.asn": 1853, "source.as_name": "ACONET ACOnet Backbone, AT", "time.observation": OBS}),
    );
    let r = run(
        &s,
        "cymru_whois",
        &["--overwrite", "true"],
        json!({"destination.ip": "2001:500:88:200::8", "time.observation": OBS}),
    );
    assert_event(
        &r.out[0],
        json!({"__type": "Event", "destination.ip": "2001:500:88:200::8",
        "destination.registry": "ARIN", "destination.allocated": "2010-02-18T00:00:00+00:00",
        "destination.as_name": "ICANN-DC, US", "destination.geolocation.cc": "US", "time.observation": OBS,
        "destination.asn": 16876, "destination.network": "2001:500:88::/48"}),
    );
}

#[test]
fn cymru_empty_overwrite_failure() {
    let s = server();
    let r = run(
        &s,
        "cymru_whois",
        &[],
        json!({"source.ip": "127.0.0.1", "time.observation": OBS}),
    );
    assert_event(
        &r.out[0],
        json!({"__type": "Event", "source.ip": "127.0.0.1", "time.observation": OBS}),
    );
    let r = run(
        &s,
        "cymru_whois",
        &["--overwrite", "false"],
        json!({"source.ip": "78.104.144.2", "source.geolocation.cc": "AA", "source.registry": "LACNIC", "time.observation": OBS}),
    );
    assert_event(
        &r.out[0],
        json!({"__type": "Event", "source.ip": "78.104.144.2", "source.geolocation.cc": "AA",
        "source.registry": "LACNIC", "source.network": "78.104.0.0/16", "source.allocated": "2007-06-07T00:00:00+00:00",
        "source.asn": 1853, "source.as_name": "ACONET ACOnet Backbone, AT", "time.observation": OBS}),
    );
    let r = run(&s, "cymru_whois", &[], json!({"source.asn": 266522}));
    assert_event(&r.out[0], json!({"__type": "Event", "source.asn": 266522}));
    let r = run(&s, "cymru_whois", &[], json!({"source.ip": "127.0.0.2"}));
    assert_eq!(r.status, 1);
    assert!(r.dump[0]["error"].as_str().unwrap().contains("SERVFAIL"));
}

// --- abusix ------------------------------------------------------------------

#[test]
fn abusix_lookups() {
    let s = server();
    let r = run(
        &s,
        "abusix",
        &["--overwrite", "true"],
        json!({"source.ip": "192.0.43.7", "destination.ip": "192.0.43.8", "time.observation": OBS}),
    );
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert_event(
        &r.out[0],
        json!({"__type": "Event", "source.ip": "192.0.43.7", "destination.ip": "192.0.43.8",
        "source.abuse_contact": "ops@icann.org", "destination.abuse_contact": "ops@icann.org", "time.observation": OBS}),
    );
    let r = run(
        &s,
        "abusix",
        &["--overwrite", "true"],
        json!({"source.ip": "2001:500:88:200::7", "time.observation": OBS}),
    );
    assert_event(
        &r.out[0],
        json!({"__type": "Event", "source.ip": "2001:500:88:200::7",
        "source.abuse_contact": "ops@icann.org", "time.observation": OBS}),
    );
    let existing = json!({"source.ip": "2001:500:88:200::7", "source.abuse_contact": "example@example.org", "time.observation": OBS});
    let r = run(&s, "abusix", &["--overwrite", "false"], existing.clone());
    let mut want = existing;
    want["__type"] = json!("Event");
    assert_event(&r.out[0], want);
    let r = run(&s, "abusix", &[], json!({"source.ip": "10.1.1.1"}));
    assert_event(
        &r.out[0],
        json!({"__type": "Event", "source.ip": "10.1.1.1"}),
    );
    let r = run(&s, "abusix", &[], json!({"source.ip": "10.2.2.2"}));
    assert_eq!(r.status, 1);
    assert!(r.dump[0]["error"].as_str().unwrap().contains("timed out"));
}

#[test]
fn bad_resolver_is_fatal_before_reading() {
    let r = enrich(
        &["reverse_dns", "--resolver", "no such host:xx"],
        &[json!({"source.ip": "10.0.0.1"})],
    );
    assert_eq!(r.status, 2, "{}", r.stderr);
    assert!(r.out.is_empty());
}
