//! imq-output smtp against a real SMTP server on loopback: aiosmtpd (Debian's
//! python3-aiosmtpd, scripts/services installs it) started by the test with a
//! handler (tests/data/smtp) that stores mails in a Maildir and refuses
//! recipients starting with "reject" (550).
mod common;
use common::run::{cmd, run};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_imq-output");

struct Smtpd(Child);

impl Drop for Smtpd {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn smtpd(port: u16, maildir: &Path) -> Smtpd {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/smtp");
    let child = Command::new("/usr/bin/python3")
        .args([
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            &format!("127.0.0.1:{port}"),
            "-c",
            "imq_smtp_handler.Rejecting",
        ])
        .arg(maildir)
        .env("PYTHONPATH", data)
        .stdout(Stdio::null())
        .spawn()
        .expect("python3 -m aiosmtpd (scripts/services installs python3-aiosmtpd)");
    let s = Smtpd(child);
    for _ in 0..100 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return s;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("aiosmtpd did not start");
}

fn spare_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn mails(maildir: &Path) -> Vec<String> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(maildir.join("new"))
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    v.sort_by_key(|p| std::fs::metadata(p).unwrap().modified().unwrap());
    v.iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

fn ev(contact: &str, asn: u32) -> String {
    format!(
        r#"{{"source.abuse_contact":"{contact}","source.asn":{asn},"source.ip":"192.0.2.{asn}","classification.taxonomy":"malicious-code","classification.type":"c2-server","__type":"Event"}}"#
    )
}

#[test]
fn smtp_one_mail_per_event_refused_recipient_dumped() {
    let d = tempfile::tempdir().unwrap();
    let maildir = d.path().join("Maildir");
    let port = spare_port();
    let _server = smtpd(port, &maildir);
    let params = d.path().join("p.json");
    std::fs::write(
        &params,
        serde_json::json!({"smtp_host": "127.0.0.1", "smtp_port": port, "starttls": false,
                           "mail_from": "cert@example.org", "text": "Hello {ev[source.ip]}"})
        .to_string(),
    )
    .unwrap();
    let input = [
        ev("a@example.org", 1),
        ev("reject@example.org", 2),
        ev("b@example.org,c@example.org", 3),
    ]
    .join("\n");
    let mut c = cmd(BIN, d.path());
    c.args([
        "--intelmq",
        "intelmq.bots.outputs.smtp.output",
        "--params",
        params.to_str().unwrap(),
        "--dump",
    ])
    .arg(d.path().join("dump.ndjson"));
    let out = run(&mut c, input.as_bytes());
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = mails(&maildir);
    assert_eq!(got.len(), 2, "{got:?}");
    // Quoted-printable soft line breaks joined.
    let m = &got[0].replace("=\r\n", "").replace("=\n", "");
    assert!(m.contains("Subject: Incident in your AS 1"), "{m}");
    assert!(m.contains("To: a@example.org"), "{m}");
    assert!(m.contains("Hello 192.0.2.1"), "{m}");
    assert!(m.contains("filename=\"events.csv\""), "{m}");
    assert!(m.contains("classification.taxonomy;classification.type;classification.identifier;source.ip;source.asn;source.port\nmalicious-code;c2-server;;192.0.2.1;1;\n")
        || m.contains("classification.taxonomy;classification.type;classification.identifier;source.ip;source.asn;source.port\r\nmalicious-code;c2-server;;192.0.2.1;1;\r\n"), "{m}");
    assert!(
        got[1].contains("X-RcptTo: b@example.org, c@example.org")
            || got[1].contains("b@example.org, c@example.org"),
        "{}",
        got[1]
    );
    let dump = common::run::lines(&std::fs::read(d.path().join("dump.ndjson")).unwrap());
    assert_eq!(dump.len(), 1);
    assert_eq!(dump[0]["line"], 2);
    assert!(
        dump[0]["error"].as_str().unwrap().contains("550"),
        "{}",
        dump[0]["error"]
    );
}

#[test]
fn smtp_server_down_then_up_retried_no_loss() {
    let d = tempfile::tempdir().unwrap();
    let maildir = d.path().join("Maildir");
    let port = spare_port();
    let md = maildir.clone();
    let later = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1500));
        smtpd(port, &md)
    });
    let input = [ev("a@example.org", 1), ev("b@example.org", 2)].join("\n");
    let mut c = cmd(BIN, d.path());
    c.args([
        "smtp",
        "-p",
        "smtp_host=127.0.0.1",
        "-p",
        &format!("smtp_port={port}"),
        "-p",
        "starttls=false",
        "-p",
        "retry_seconds=30",
    ]);
    let out = run(&mut c, input.as_bytes());
    let _server = later.join().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("retrying"), "{err}");
    assert_eq!(mails(&maildir).len(), 2);
}

#[test]
fn templated_smtp_jinja_templates_and_attachment() {
    let d = tempfile::tempdir().unwrap();
    let maildir = d.path().join("Maildir");
    let port = spare_port();
    let _server = smtpd(port, &maildir);
    let params = d.path().join("p.json");
    std::fs::write(
        &params,
        serde_json::json!({
            "smtp_host": "127.0.0.1", "smtp_port": port,
            "mail_from": "cert@example.org", "mail_to": "{{ event['source.abuse_contact'] }}",
            "subject": "{{ event['classification.type'] }} from {{ event['source.ip'] }}",
            "attachments": [{"content-type": "text/csv", "text": "ip\n{{ event['source.ip'] }}\n", "name": "ev-{{ event['source.asn'] }}.csv"}]
        })
        .to_string(),
    )
    .unwrap();
    let input = [ev("a@example.org", 7), ev("reject@example.org", 8)].join("\n");
    let mut c = cmd(BIN, d.path());
    c.args([
        "--intelmq",
        "intelmq.bots.outputs.templated_smtp.output",
        "--params",
        params.to_str().unwrap(),
        "--dump",
    ])
    .arg(d.path().join("dump.ndjson"));
    let out = run(&mut c, input.as_bytes());
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = mails(&maildir);
    assert_eq!(got.len(), 1);
    let m = got[0].replace("=\r\n", "").replace("=\n", "");
    assert!(m.contains("Subject: c2-server from 192.0.2.7"), "{m}");
    // The default body: "field: value" for every field but raw.
    assert!(m.contains("Content-Disposition: inline"), "{m}");
    assert!(
        m.contains("source.asn: 7\n") || m.contains("source.asn: 7\r\n"),
        "{m}"
    );
    assert!(m.contains("filename=\"ev-7.csv\""), "{m}");
    assert!(
        m.contains("ip\n192.0.2.7") || m.contains("ip\r\n192.0.2.7"),
        "{m}"
    );
}

/// The zip attachment of a mail, unpacked: (inner file name, its text).
fn zipped_csv(mail: &str) -> (String, String) {
    use base64::Engine;
    use std::io::Read;
    let at = mail
        .find("Content-Type: application/zip")
        .expect("a zip attachment");
    let part = &mail[at..];
    let start = part.find("\r\n\r\n").or_else(|| part.find("\n\n")).unwrap();
    let b64: String = part[start..]
        .lines()
        .map(str::trim)
        .skip_while(|l| l.is_empty())
        .take_while(|l| !l.is_empty() && !l.starts_with("--"))
        .collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut f = z.by_index(0).unwrap();
    let name = f.name().to_string();
    let mut s = String::new();
    f.read_to_string(&mut s).unwrap();
    (name, s)
}

fn batch_ev(contact: &str, ip: u32) -> String {
    format!(
        r#"{{"source.abuse_contact":{contact},"source.ip":"192.0.2.{ip}","classification.type":"scanner","raw":"bGluZSAx","__type":"Event"}}"#
    )
}

#[test]
fn smtp_batch_keeps_buckets_then_sends_one_mail_per_recipient() {
    let d = tempfile::tempdir().unwrap();
    let maildir = d.path().join("Maildir");
    let state = d.path().join("state");
    let port = spare_port();
    let _server = smtpd(port, &maildir);
    let template = d.path().join("mail.txt");
    std::fs::write(
        &template,
        "Dear {{ source_abuse_contact }},\nsee the attachment.\n",
    )
    .unwrap();
    let params = d.path().join("p.json");
    std::fs::write(
        &params,
        serde_json::json!({"smtp_server": {"host": "127.0.0.1", "port": port},
                           "email_from": "cert@example.org", "mail_template": template,
                           "subject": "Events", "templating": {"body": true}})
        .to_string(),
    )
    .unwrap();
    let batch = |extra: &[&str], input: &str| {
        let mut c = cmd(BIN, d.path());
        c.args([
            "--intelmq",
            "intelmq.bots.outputs.smtp_batch.output",
            "--bot-id",
            "mailer",
        ])
        .arg("--params")
        .arg(&params)
        .args(extra)
        .arg("--dump")
        .arg(d.path().join("dump.ndjson"))
        .env("IMQ_STATE_DIR", &state);
        run(&mut c, input.as_bytes())
    };
    let input = [
        batch_ev(r#""a@example.org""#, 1),
        batch_ev(r#""b@example.org""#, 2),
        batch_ev(r#""a@example.org""#, 3),
        batch_ev(r#""c@example.org""#, 4),
        r#"{"source.ip":"192.0.2.5","__type":"Event"}"#.to_string(),
    ]
    .join("\n");
    let out = batch(&[], &input);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "no contact: dumped, {err}");
    assert!(mails(&maildir).is_empty(), "collecting sends nothing");
    let buckets = std::fs::read_dir(state.join("smtp_batch-mailer"))
        .unwrap()
        .count();
    assert_eq!(buckets, 3);

    // What would be sent.
    let out = batch(&["-p", "send=list"], "");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(err.matches("To: ").count(), 3, "{err}");
    assert!(
        err.contains("To: a@example.org; Subject: Events (a@example.org) Events: 2"),
        "{err}"
    );

    // To the tester: buckets kept.
    let out = batch(
        &["-p", "send=tester", "-p", "testing_to=tester@example.org"],
        "",
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = mails(&maildir);
    assert_eq!(got.len(), 3);
    assert!(got.iter().all(|m| m.contains("To: tester@example.org")));
    assert!(
        got.iter()
            .any(|m| m.contains("(intended for c@example.org)")),
        "{got:?}"
    );

    // For real: one mail per recipient, then the buckets are empty.
    let out = batch(&["-p", "send=all"], "");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("3 mails sent (4 events)"), "{err}");
    let got = mails(&maildir);
    assert_eq!(got.len(), 6);
    let a = got
        .iter()
        .find(|m| m.contains("To: a@example.org"))
        .expect("a's mail");
    assert!(a.contains("Dear a@example.org,"), "{a}");
    assert!(a.contains("Subject: Events (a@example.org)"), "{a}");
    let (name, csv) = zipped_csv(a);
    assert!(name.ends_with("_2_events.csv"), "{name}");
    assert_eq!(
        csv,
        "time_detected,ip,class,type,time_delivered,country_code,asn,description,malware,feed_name,feed_url,raw\r\n\
         ,192.0.2.1,,scanner,,,,,,,,line 1\r\n,192.0.2.3,,scanner,,,,,,,,line 1\r\n"
    );
    assert_eq!(
        std::fs::read_dir(state.join("smtp_batch-mailer"))
            .unwrap()
            .count(),
        0
    );
    let out = batch(&["-p", "send=all"], "");
    assert!(String::from_utf8_lossy(&out.stderr).contains("0 mails sent"));
}

#[test]
fn smtp_batch_on_redis_writes_intelmqs_keys() {
    use sha2::{Digest, Sha256};
    let d = tempfile::tempdir().unwrap();
    let bot = format!("imq-test-batch-{}", std::process::id());
    let mut c = cmd(BIN, d.path());
    c.args(["smtp_batch", "--bot-id", &bot])
        .args([
            "-p",
            "redis_cache_host=127.0.0.1",
            "-p",
            "redis_cache_port=6379",
        ])
        .args([
            "-p",
            "redis_cache_db=14",
            "-p",
            r#"additional_grouping_keys=["source.asn"]"#,
        ]);
    let input = format!(
        "{}\n",
        r#"{"source.abuse_contact":"a@example.org","source.asn":3,"source.ip":"192.0.2.1","__type":"Event"}"#
    );
    let out = run(&mut c, input.as_bytes());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // IntelMQ 3.5.0: sha256(sha256(mail) + hash_arbitrary(asn)), an int hashed
    // as that many zero bytes.
    let mut h = Sha256::new();
    h.update(Sha256::digest(b"a@example.org"));
    h.update(Sha256::digest([0u8; 3]));
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let key = format!("{bot}:{hex}");
    let redis = |args: &[&str]| {
        let o = Command::new("redis-cli")
            .args(["-n", "14"])
            .args(args)
            .output()
            .expect("redis-cli");
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    let got = redis(&["LRANGE", &key, "0", "-1"]);
    redis(&["DEL", &key]);
    assert_eq!(
        got,
        r#"{"source.abuse_contact": "a@example.org", "source.asn": 3, "source.ip": "192.0.2.1"}"#
    );
}
