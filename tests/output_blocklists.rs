//! imq-output's blocklist outputs: rpz_file, bro_file and blocklist, with
//! IntelMQ's parameters and file formats, and the files replaced atomically.
mod common;
use common::run::{cmd, run};
use std::path::Path;

const BIN: &str = env!("CARGO_BIN_EXE_imq-output");

fn ev(fields: &str) -> String {
    format!(r#"{{{fields},"__type":"Event"}}"#)
}

fn output(dir: &Path, args: &[&str], input: &str) -> std::process::Output {
    let mut c = cmd(BIN, dir);
    c.args(args).arg("--dump").arg(dir.join("dump.ndjson"));
    run(&mut c, input.as_bytes())
}

fn dumped(dir: &Path) -> Vec<serde_json::Value> {
    match std::fs::read(dir.join("dump.ndjson")) {
        Ok(b) => common::run::lines(&b),
        Err(_) => Vec::new(),
    }
}

#[test]
fn rpz_file_as_intelmq_writes_it() {
    let d = tempfile::tempdir().unwrap();
    let params = d.path().join("p.json");
    let zone = d.path().join("zones/rpz.zone");
    std::fs::write(
        &params,
        serde_json::json!({
            "file": zone, "cname": "block.example.", "rpz_domain": "rpz.example",
            "hostmaster_rpz_domain": "hostmaster.example", "organization_name": "CERT.example",
            "rpz_email": "cert@example", "serial": "2401010000", "test_domain": "test.rpz.example"
        })
        .to_string(),
    )
    .unwrap();
    let input = [
        ev(r#""source.fqdn":"www.evil.example""#),
        ev(r#""source.ip":"192.0.2.1""#),
        ev(r#""source.fqdn":"bad.example""#),
    ]
    .join("\n");
    let p = params.to_str().unwrap();
    let args = [
        "--intelmq",
        "intelmq.bots.outputs.rpz_file.output",
        "--params",
        p,
    ];
    let out = output(d.path(), &args, &input);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&zone).unwrap();
    let (head, body) = text
        .split_once(";\ntest.rpz.example CNAME block.example.\n")
        .unwrap();
    assert!(head.starts_with(
        "$TTL 3600\n@ SOA rpz.example. hostmaster.example. 2401010000 60 60 432000 60\n NS localhost.\n;\n; CERT.example Response Policy Zones (RPZ)\n; Last updated: "
    ), "{head}");
    assert!(head.ends_with(" (UTC)\n;\n; Terms Of Use: https://rpz.example\n; For questions please contact cert@example\n"));
    assert_eq!(
        body,
        "evil.example CNAME block.example.\nwww.evil.example CNAME block.example.\nbad.example CNAME block.example.\nwww.bad.example CNAME block.example.\n"
    );
    // A second run appends, without a second header.
    let out = output(d.path(), &args, &ev(r#""source.fqdn":"third.example""#));
    assert!(out.status.success());
    let again = std::fs::read_to_string(&zone).unwrap();
    assert_eq!(again.matches("$TTL").count(), 1);
    assert!(again.ends_with("www.third.example CNAME block.example.\n"));
    // Only the zone is left in its directory: the temporary file was renamed.
    assert_eq!(
        std::fs::read_dir(zone.parent().unwrap()).unwrap().count(),
        1
    );
}

#[test]
fn bro_file_lines_and_missing_fields_dumped() {
    let d = tempfile::tempdir().unwrap();
    let intel = d.path().join("intel.dat");
    let input = [
        ev(r#""source.ip":"192.0.2.1","source.fqdn":"evil.example","source.url":"http://evil.example/x","classification.type":"c2-server","feed.accuracy":90.5,"feed.provider":"Prov""#),
        ev(r#""source.ip":"192.0.2.2","classification.type":"malware-distribution","feed.accuracy":100.0,"extra.tags":["apt","x"],"extra.orgc":"Org C""#),
        ev(r#""source.ip":"192.0.2.3","feed.accuracy":100.0"#),
        ev(r#""feed.name":"nothing to list""#),
    ]
    .join("\n");
    let t = intel.to_str().unwrap();
    let out = output(d.path(), &["bro_file", "--target", t], &input);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&intel).unwrap(),
        "#fields\tindicator\tindicator_type\tmeta.desc\tmeta.cif_confidence\tmeta.source\n\
         192.0.2.1\tIntel::ADDR\tc2-server\t90\tProv\n\
         evil.example\tIntel::DOMAIN\tc2-server\t90\tProv\n\
         http://evil.example/x\tIntel::URL\tc2-server\t90\tProv\n\
         192.0.2.2\tIntel::ADDR\tapt\t100\tOrg C\n"
    );
    let dump = dumped(d.path());
    assert_eq!(dump.len(), 1, "{dump:?}");
    assert!(dump[0]["error"]
        .as_str()
        .unwrap()
        .contains("classification.type"));
    assert_eq!(dump[0]["line"], 3);
}

#[test]
fn blocklist_dedups_sorts_and_survives_restart() {
    let d = tempfile::tempdir().unwrap();
    let list = d.path().join("block.txt");
    let t = list.to_str().unwrap();
    let input = [
        ev(r#""source.ip":"198.51.100.7""#),
        ev(r#""source.ip":"10.0.0.1","source.network":"10.0.0.0/8""#),
        ev(r#""source.ip":"198.51.100.7""#),
        ev(r#""source.ip":"2001:db8::1""#),
        ev(r#""source.ip":"9.9.9.9""#),
    ]
    .join("\n");
    let out = output(d.path(), &["blocklist", "--target", t], &input);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&list).unwrap(),
        "9.9.9.9\n10.0.0.0/8\n10.0.0.1\n198.51.100.7\n2001:db8::1\n"
    );
    let out = output(
        d.path(),
        &["blocklist", "--target", t],
        &ev(r#""source.ip":"1.1.1.1""#),
    );
    assert!(out.status.success());
    assert_eq!(
        std::fs::read_to_string(&list).unwrap(),
        "1.1.1.1\n9.9.9.9\n10.0.0.0/8\n10.0.0.1\n198.51.100.7\n2001:db8::1\n"
    );
}

#[test]
fn blocklist_formats() {
    let d = tempfile::tempdir().unwrap();
    let input = [
        ev(r#""source.ip":"10.0.0.1","source.network":"10.0.0.0/8""#),
        ev(r#""source.ip":"192.0.2.1""#),
        ev(r#""source.ip":"2001:db8::1""#),
    ]
    .join("\n");
    let nft = d.path().join("block.nft");
    let out = output(
        d.path(),
        &[
            "blocklist",
            "--target",
            nft.to_str().unwrap(),
            "-p",
            "format=nftables",
        ],
        &input,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&nft).unwrap();
    // 10.0.0.1 is inside 10.0.0.0/8: an interval set refuses the overlap.
    assert!(
        text.contains("elements = { 10.0.0.0/8,\n\t\t\t192.0.2.1 }"),
        "{text}"
    );
    assert!(text.contains("flush set inet imq imq_blocklist_v4\n"));
    assert!(text.contains("elements = { 2001:db8::1 }"));

    let ipset = d.path().join("block.ipset");
    let out = output(
        d.path(),
        &[
            "blocklist",
            "--target",
            ipset.to_str().unwrap(),
            "-p",
            "format=ipset",
            "-p",
            "set_name=bl",
        ],
        &input,
    );
    assert!(out.status.success());
    let text = std::fs::read_to_string(&ipset).unwrap();
    assert!(text.starts_with(
        "create bl-v4 hash:net family inet maxelem 1048576 -exist\ncreate bl-v4-new hash:net family inet maxelem 1048576 -exist\nflush bl-v4-new\nadd bl-v4-new 10.0.0.0/8\nadd bl-v4-new 10.0.0.1\nadd bl-v4-new 192.0.2.1\nswap bl-v4-new bl-v4\ndestroy bl-v4-new\n"
    ), "{text}");
    assert!(text.contains("add bl-v6-new 2001:db8::1\n"));
    // Read back on restart: the same file again.
    let before = text.clone();
    let out = output(
        d.path(),
        &[
            "blocklist",
            "--target",
            ipset.to_str().unwrap(),
            "-p",
            "format=ipset",
            "-p",
            "set_name=bl",
        ],
        &ev(r#""source.ip":"192.0.2.1""#),
    );
    assert!(out.status.success());
    assert_eq!(std::fs::read_to_string(&ipset).unwrap(), before);

    let csvf = d.path().join("domains.csv");
    let input = [
        ev(r#""source.fqdn":"b.example","classification.type":"phishing","feed.name":"F1","time.source":"2024-01-01T00:00:00+00:00""#),
        ev(r#""source.fqdn":"a.example","classification.type":"spam","feed.name":"F2""#),
        ev(r#""source.fqdn":"b.example","classification.type":"phishing","feed.name":"F3","time.source":"2024-02-01T00:00:00+00:00""#),
    ]
    .join("\n");
    let out = output(
        d.path(),
        &[
            "blocklist",
            "--target",
            csvf.to_str().unwrap(),
            "-p",
            "format=csv",
            "-p",
            "kind=domain",
        ],
        &input,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&csvf).unwrap(),
        "indicator,classification.type,feed.name,last_seen\na.example,spam,F2,\nb.example,phishing,F3,2024-02-01T00:00:00+00:00\n"
    );
}

#[test]
fn blocklist_bad_value_dumped_rest_written() {
    let d = tempfile::tempdir().unwrap();
    let list = d.path().join("l.txt");
    let input = [
        ev(r#""source.ip":"192.0.2.1","extra.block":"10.0.0.0/8""#),
        ev(r#""source.ip":"192.0.2.2","extra.block":"not-an-ip""#),
        ev(r#""source.ip":"192.0.2.3""#),
    ]
    .join("\n");
    let out = output(
        d.path(),
        &[
            "blocklist",
            "--target",
            list.to_str().unwrap(),
            "-p",
            "fields=source.ip,extra.block",
        ],
        &input,
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(&list).unwrap(),
        "10.0.0.0/8\n192.0.2.1\n192.0.2.3\n"
    );
    let dump = dumped(d.path());
    assert_eq!(dump.len(), 1);
    assert_eq!(dump[0]["line"], 2);
    assert!(dump[0]["error"].as_str().unwrap().contains("not-an-ip"));
}
