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
