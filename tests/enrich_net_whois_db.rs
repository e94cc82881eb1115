//! uwhoisd against a whois server on loopback, and generic_db_lookup against
//! the PostgreSQL of this machine (127.0.0.1:5432, trust auth, database `test`).
//! Ported from intelmq/tests/bots/experts/{uwhoisd,generic_db_lookup}/.

mod support;

use serde_json::json;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use support::{assert_event, enrich};

/// A uWhoisd-like server: one query line per connection, answer, close.
/// Queries starting with "slow" are never answered.
fn whois_server() -> std::net::SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for c in l.incoming() {
            let Ok(mut c) = c else { continue };
            std::thread::spawn(move || {
                let mut q = String::new();
                BufReader::new(c.try_clone().unwrap())
                    .read_line(&mut q)
                    .unwrap();
                let q = q.trim_end().to_string();
                if q.starts_with("slow") {
                    std::thread::sleep(std::time::Duration::from_secs(5));
                    return;
                }
                let answer = match q.as_str() {
                    "www.cert.at" => "domain: cert.at\nnic-hdl: NG8867695-NICAT\n".to_string(),
                    "131.130.249.233" | "AS760" => {
                        format!("% whois for {q}\norg: ORG-VUCC1-RIPE\n")
                    }
                    _ => String::new(),
                };
                let _ = c.write_all(answer.as_bytes());
            });
        }
    });
    addr
}

#[test]
fn uwhoisd_lookups() {
    let addr = whois_server();
    let port = addr.port().to_string();
    let r = enrich(
        &[
            "uwhoisd",
            "--server",
            "127.0.0.1",
            "--port",
            &port,
            "--timeout",
            "1",
        ],
        &[
            json!({"source.url": "http://www.cert.at/", "source.ip": "131.130.249.233", "source.asn": 760, "time.observation": "2015-01-01T00:00:00+00:00"}),
            json!({"source.fqdn": "slow.example"}),
        ],
    );
    assert_eq!(r.status, 1, "{}", r.stderr);
    let ev = &r.out[0];
    assert!(ev["extra.whois.fqdn"]
        .as_str()
        .unwrap()
        .contains("NG8867695-NICAT"));
    assert!(ev["extra.whois.ip"]
        .as_str()
        .unwrap()
        .contains("ORG-VUCC1-RIPE"));
    assert!(ev["extra.whois.asn"]
        .as_str()
        .unwrap()
        .contains("ORG-VUCC1-RIPE"));
    assert!(r.dump[0]["error"].as_str().unwrap().contains("uwhoisd"));
}

fn psql(sql: &str) {
    let mut c = postgres::Client::connect(
        "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=5",
        postgres::NoTls,
    )
    .unwrap_or_else(|e| {
        panic!(
            "these tests need PostgreSQL on 127.0.0.1:5432 (database test, user postgres, trust auth); \
             start it (e.g. `service postgresql start`): {e}"
        )
    });
    c.batch_execute(sql).unwrap();
}

struct Table(String);
impl Drop for Table {
    fn drop(&mut self) {
        psql(&format!("DROP TABLE IF EXISTS \"{}\"", self.0));
    }
}

const IN1: &str = r#"{"classification.identifier": "zeus", "classification.type": "infected-system", "source.asn": 64496, "source.ip": "192.0.2.1", "feed.name": "Example Feed", "time.observation": "2016-10-13T10:55:00+00:00"}"#;

#[test]
fn generic_db_lookup_found_novalue_multiple() {
    let name = format!("imq_lookuptests_{}", std::process::id());
    psql(&format!(
        "CREATE TABLE \"{name}\" (\"asn\" BIGSERIAL UNIQUE PRIMARY KEY, \"contact\" text, \"note\" text, \"type\" text);
         INSERT INTO \"{name}\" (\"asn\", \"contact\", \"note\") VALUES (64496, 'abuse@example.com', 'foo');
         INSERT INTO \"{name}\" (\"asn\", \"contact\", \"note\", \"type\") VALUES (64497, 'abuse@example.com', 'bar', 'infected-system');"
    ));
    let _t = Table(name.clone());
    let params = |matches: serde_json::Value| {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("p.json");
        std::fs::write(&p, json!({"engine": "postgresql", "host": "127.0.0.1", "port": 5432, "database": "test",
            "user": "postgres", "password": "", "sslmode": "allow", "table": name, "match_fields": matches,
            "replace_fields": {"note": "comment", "contact": "source.abuse_contact"}}).to_string()).unwrap();
        (dir, p)
    };
    let in1: serde_json::Value = serde_json::from_str(IN1).unwrap();
    let mut in2 = in1.clone();
    in2["source.asn"] = json!(42);
    let mut in3 = in1.clone();
    in3["source.asn"] = json!(64497);

    let (_d, p) = params(json!({"source.asn": "asn"}));
    let args = [
        "--intelmq",
        "intelmq.bots.experts.generic_db_lookup.expert",
        "--params",
        p.to_str().unwrap(),
    ];
    let r = enrich(&args, &[in1.clone(), in2.clone()]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let mut want = in1.clone();
    want["__type"] = json!("Event");
    want["source.abuse_contact"] = json!("abuse@example.com");
    want["comment"] = json!("foo");
    assert_event(&r.out[0], want);
    let mut want2 = in2.clone();
    want2["__type"] = json!("Event");
    assert_event(&r.out[1], want2);

    let (_d, p) = params(json!({"source.asn": "asn", "classification.type": "type"}));
    let args = [
        "--intelmq",
        "intelmq.bots.experts.generic_db_lookup.expert",
        "--params",
        p.to_str().unwrap(),
    ];
    let r = enrich(&args, &[in3.clone()]);
    let mut want3 = in3.clone();
    want3["__type"] = json!("Event");
    want3["comment"] = json!("bar");
    want3["source.abuse_contact"] = json!("abuse@example.com");
    assert_event(&r.out[0], want3);

    // More than one row is an error of this event.
    let (_d, p) = params(json!({"source.abuse_contact": "contact"}));
    let args = [
        "--intelmq",
        "intelmq.bots.experts.generic_db_lookup.expert",
        "--params",
        p.to_str().unwrap(),
    ];
    let r = enrich(
        &args,
        &[json!({"source.abuse_contact": "abuse@example.com"})],
    );
    assert_eq!(r.status, 1);
    assert!(r.dump[0]["error"]
        .as_str()
        .unwrap()
        .contains("more then one result"));
}

#[test]
fn generic_db_lookup_broken_configuration_is_fatal() {
    psql("SELECT 1");
    let r = enrich(
        &[
            "generic_db_lookup",
            "--host",
            "127.0.0.1",
            "--database",
            "test",
            "--user",
            "postgres",
            "--sslmode",
            "disable",
            "--table",
            "imq_no_such_table_at_all",
        ],
        &[json!({"source.asn": 1})],
    );
    assert_eq!(r.status, 2);
    assert!(
        r.stderr.contains("imq_no_such_table_at_all"),
        "{}",
        r.stderr
    );
    let r = enrich(
        &["generic_db_lookup", "--sslmode", "require"],
        &[json!({"source.asn": 1})],
    );
    assert_eq!(r.status, 2);
}
