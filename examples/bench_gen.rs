//! Generates benchmark input for `scripts/bench`: N IntelMQ events (about 600 bytes
//! each, like a parsed and enriched Feodo Tracker event) or N-row feeds.
//!
//! Usage: bench_gen events N | bench_gen url-events N | bench_gen csv N | bench_gen feodo N
//!        | bench_gen wide N
//!
//! `url-events` are the same events with a `source.url` and addresses inside the
//! networks of the test GeoIP/ASN databases (tests/data/geoip), so that enrichment
//! stages measure real lookups rather than misses.
//!
//! `wide` events have 100,000 distinct `extra.*` keys each (about 2 MB a line):
//! reading and writing them must take time linear in the keys.
use std::io::{self, BufWriter, Write};

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let kind = args.get(1).map(String::as_str).unwrap_or("events");
    let n: u64 = args
        .get(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let mut out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let ccs = ["AT", "DE", "US", "FR", "NL", "KR", "BR", "CA"];
    let types = [
        "c2-server",
        "phishing",
        "scanner",
        "infected-system",
        "spam",
        "malware-distribution",
    ];
    match kind {
        "events" | "url-events" => {
            let with_url = kind == "url-events";
            let nets = [(192, 0, 2), (198, 51, 100), (203, 0, 113)];
            for i in 0..n {
                let cc = ccs[(i % 8) as usize];
                let (ip, known) = if with_url {
                    let (a, b, c) = nets[(i % 3) as usize];
                    // What the GeoIP and ASN experts add is left out, so they do it.
                    (format!("{a}.{b}.{c}.{}", i as u8), String::new())
                } else {
                    let (a, b, c) = ((i >> 16) as u8, (i >> 8) as u8, i as u8);
                    let asn = 64496 + (i % 1000);
                    (
                        format!("10.{a}.{b}.{c}"),
                        format!(
                            r#""source.asn":{asn},"source.as_name":"EXAMPLE-AS","source.geolocation.cc":"{cc}","#
                        ),
                    )
                };
                let url = if with_url {
                    format!(r#""source.url":"http://host-{i}.example.net/path/{i}?q=1","#)
                } else {
                    String::new()
                };
                let ty = types[(i % 6) as usize];
                let port = 1024 + (i % 60000);
                writeln!(
                    out,
                    r#"{{"feed.accuracy":100.0,"feed.name":"Feodo Tracker Browse","feed.provider":"abuse.ch","feed.url":"https://feodotracker.abuse.ch/downloads/ipblocklist.json","time.observation":"2024-01-0{d}T10:00:00+00:00","time.source":"2023-12-3{e}T0{h}:44:46+00:00","classification.type":"{ty}","source.ip":"{ip}",{url}"source.port":{port},{known}"source.reverse_dns":"host-{i}.example.net","malware.name":"dridex","status":"online","extra.last_online":"2024-01-01","raw":"eyJpcF9hZGRyZXNzIjogIjEwLjAuMC4xIiwgInBvcnQiOiA0NDMsICJzdGF0dXMiOiAib25saW5lIn0=","__type":"Event"}}"#,
                    d = 1 + i % 9,
                    e = i % 2,
                    h = i % 10,
                )?;
            }
        }
        "csv" => {
            writeln!(out, "time,ip,port,url,asn,cc,malware")?;
            for i in 0..n {
                writeln!(
                    out,
                    "2024-01-01 10:{:02}:{:02},10.{}.{}.{},{},http://host-{i}.example.net/path/{i},{},{},dridex",
                    i % 60,
                    (i / 60) % 60,
                    (i >> 16) as u8,
                    (i >> 8) as u8,
                    i as u8,
                    1024 + i % 60000,
                    64496 + i % 1000,
                    ccs[(i % 8) as usize],
                )?;
            }
        }
        "feodo" => {
            writeln!(out, "[")?;
            for i in 0..n {
                let sep = if i + 1 == n { "" } else { "," };
                writeln!(
                    out,
                    r#"{{"ip_address": "10.{}.{}.{}", "port": {}, "status": "online", "hostname": "host-{i}.example.net", "as_number": {}, "as_name": "EXAMPLE-AS", "country": "{}", "first_seen": "2023-12-31 07:44:46", "last_online": "2024-01-01", "malware": "Dridex"}}{sep}"#,
                    (i >> 16) as u8,
                    (i >> 8) as u8,
                    i as u8,
                    1024 + i % 60000,
                    64496 + i % 1000,
                    ccs[(i % 8) as usize],
                )?;
            }
            writeln!(out, "]")?;
        }
        "wide" => {
            for i in 0..n {
                write!(out, r#"{{"source.ip":"10.0.0.{}""#, i as u8)?;
                for k in 0..100_000u32 {
                    write!(out, r#","extra.k{k}":{}"#, k ^ i as u32)?;
                }
                writeln!(out, r#","__type":"Event"}}"#)?;
            }
        }
        other => {
            eprintln!("bench_gen: unknown kind {other}");
            std::process::exit(2);
        }
    }
    out.flush()
}
