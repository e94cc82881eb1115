//! `imq-collect mail_attach|mail_body|mail_url` against a real Dovecot IMAP
//! server of the test's own (started in a temporary directory on a spare
//! loopback port; scripts/services installs dovecot-imapd): attachments, zipped
//! attachments, bodies, URLs downloaded from a loopback HTTP server, subject
//! filters, `\Seen` only after the reports were committed, IMAPS and STARTTLS.
mod common;
#[path = "support/feedserver.rs"]
mod feedserver;

use base64::Engine;
use common::run::{cmd, lines, run};
use feedserver::{Reply, Server};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const COLLECT: &str = env!("CARGO_BIN_EXE_imq-collect");
/// The mailboxes belong to this uid (Dovecot refuses mail access as root).
const NOBODY: u32 = 65534;

fn spare_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// TLS material for Dovecot: a CA and a server certificate for 127.0.0.1.
struct Certs {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

fn certs(dir: &Path) -> Certs {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "imq mail test CA");
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let srv = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .unwrap()
        .signed_by(&key, &ca, &ca_key)
        .unwrap();
    let c = Certs {
        ca: dir.join("ca.pem"),
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    };
    std::fs::write(&c.ca, ca.pem()).unwrap();
    std::fs::write(&c.cert, srv.pem()).unwrap();
    std::fs::write(&c.key, key.serialize_pem()).unwrap();
    c
}

/// A Dovecot of the test's own: user `test`, password `secret`, INBOX a
/// Maildir in the temporary directory. Killed on drop.
struct Dovecot {
    dir: tempfile::TempDir,
    child: Child,
    port: u16,
    tls_port: u16,
    certs: Option<Certs>,
    n: std::cell::Cell<u32>,
}

impl Dovecot {
    fn start(tls: bool) -> Dovecot {
        assert!(
            Path::new("/usr/sbin/dovecot").exists() || which("dovecot"),
            "dovecot is not installed (scripts/services installs dovecot-imapd)"
        );
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // Dovecot's unprivileged processes must reach their sockets here.
        std::fs::set_permissions(d, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        std::fs::create_dir_all(d.join("mail/test/new")).unwrap();
        std::fs::create_dir_all(d.join("mail/test/cur")).unwrap();
        std::fs::create_dir_all(d.join("mail/test/tmp")).unwrap();
        chown_all(&d.join("mail"));
        std::fs::write(d.join("passwd"), "test:{PLAIN}secret::::::\n").unwrap();
        let port = spare_port();
        let tls_port = if tls { spare_port() } else { 0 };
        let certs = tls.then(|| certs(d));
        let ssl = match &certs {
            Some(c) => format!(
                "ssl = yes\nssl_cert = <{}\nssl_key = <{}\n",
                c.cert.display(),
                c.key.display()
            ),
            None => "ssl = no\n".into(),
        };
        let conf = format!(
            "protocols = imap
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
{ssl}disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{d}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/passwd
}}
userdb {{
  driver = static
  args = uid={NOBODY} gid={NOBODY} home={d}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
    ssl = yes
  }}
}}
",
            d = d.display()
        );
        let conf_path = d.join("dovecot.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let child = Command::new("dovecot")
            .arg("-F")
            .arg("-c")
            .arg(&conf_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dovecot");
        let dc = Dovecot {
            dir,
            child,
            port,
            tls_port,
            certs,
            n: std::cell::Cell::new(0),
        };
        let end = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
                let mut b = [0u8; 4];
                if s.read_exact(&mut b).is_ok() && &b == b"* OK" {
                    break;
                }
            }
            assert!(
                Instant::now() < end,
                "dovecot did not come up: {}",
                std::fs::read_to_string(dc.dir.path().join("dovecot.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        dc
    }

    /// Put a mail into INBOX (unread).
    fn deliver(&self, mail: &[u8]) {
        let n = self.n.get() + 1;
        self.n.set(n);
        let d = self.dir.path().join("mail/test");
        let tmp = d.join(format!("tmp/{n}.imqtest"));
        std::fs::write(&tmp, mail).unwrap();
        let new = d.join(format!("new/{n}.imqtest"));
        std::fs::rename(&tmp, &new).unwrap();
        chown_all(&new);
    }

    /// The mails Dovecot has flagged `\Seen` (Maildir's `S` in `cur/`).
    fn seen(&self) -> usize {
        let cur = self.dir.path().join("mail/test/cur");
        std::fs::read_dir(cur)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| {
                let n = e.file_name().to_string_lossy().into_owned();
                n.rsplit_once(":2,").is_some_and(|(_, f)| f.contains('S'))
            })
            .count()
    }

    fn params(&self) -> Vec<String> {
        vec![
            "-p".into(),
            "mail_host=127.0.0.1".into(),
            "-p".into(),
            format!("mail_port={}", self.port),
            "-p".into(),
            "mail_ssl=false".into(),
            "-p".into(),
            "mail_user=test".into(),
            "-p".into(),
            "mail_password=secret".into(),
        ]
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn which(bin: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {bin}"))
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn chown_all(p: &Path) {
    std::os::unix::fs::chown(p, Some(NOBODY), Some(NOBODY)).unwrap();
    if p.is_dir() {
        for e in std::fs::read_dir(p).unwrap() {
            chown_all(&e.unwrap().path());
        }
    }
}

fn collect(collector: &str, dc: &Dovecot, extra: &[&str]) -> Output {
    let mut c = cmd(COLLECT, Path::new("."));
    c.env_remove("STATE_DIRECTORY");
    c.arg(collector).args(dc.params()).args(extra);
    run(&mut c, b"")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[track_caller]
fn ok(o: &Output) -> Vec<Value> {
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(o));
    lines(&o.stdout)
}

fn raw(r: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(r["raw"].as_str().expect("raw"))
        .unwrap()
}

fn b64_lines(data: &[u8]) -> String {
    let s = base64::engine::general_purpose::STANDARD.encode(data);
    s.as_bytes()
        .chunks(76)
        .map(|c| format!("{}\r\n", String::from_utf8_lossy(c)))
        .collect()
}

/// A mail with one attachment.
fn mail_with_attachment(subject: &str, name: &str, ctype: &str, data: &[u8]) -> Vec<u8> {
    format!(
        "From: Feed Sender <feeds@example.org>\r\n\
To: soc@example.com\r\n\
Subject: {subject}\r\n\
Date: Tue, 3 Mar 2026 08:15:00 +0100\r\n\
Message-ID: <{name}.{subject_id}@example.org>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"XXb\"\r\n\
\r\n\
--XXb\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
Your report is attached.\r\n\
--XXb\r\n\
Content-Type: {ctype}; name=\"{name}\"\r\n\
Content-Disposition: attachment; filename=\"{name}\"\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
{b64}--XXb--\r\n",
        subject_id = subject.replace(' ', "_"),
        b64 = b64_lines(data)
    )
    .into_bytes()
}

fn zip_of(name: &str, data: &[u8]) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        z.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        z.write_all(data).unwrap();
        z.finish().unwrap();
    }
    buf.into_inner()
}

#[test]
fn attachment_becomes_a_report_and_the_mail_is_seen_after_commit() {
    let dc = Dovecot::start(false);
    let csv = b"ip,name\n192.0.2.1,bad\n192.0.2.2,worse\n";
    dc.deliver(&mail_with_attachment(
        "Daily report 1",
        "data.csv",
        "text/csv",
        csv,
    ));
    dc.deliver(&mail_with_attachment(
        "Unrelated",
        "other.csv",
        "text/csv",
        b"x\n",
    ));
    dc.deliver(&mail_with_attachment(
        "Daily report 2",
        "notes.txt",
        "text/plain",
        b"no csv here\n",
    ));
    let args = [
        "-p",
        "subject_regex=^Daily report",
        "-p",
        "attach_regex=\\.csv$",
        "-p",
        "extract_files=false",
        "--feed-name",
        "Mail Feed",
    ];
    let r = ok(&collect("mail_attach", &dc, &args));
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(raw(&r[0]), csv);
    assert_eq!(r[0]["extra.file_name"], "data.csv");
    assert_eq!(r[0]["extra.email_subject"], "Daily report 1");
    assert_eq!(r[0]["extra.email_from"], "feeds@example.org");
    assert_eq!(r[0]["extra.email_date"], "Tue, 3 Mar 2026 08:15:00 +0100");
    assert_eq!(
        r[0]["extra.email_message_id"],
        "<data.csv.Daily_report_1@example.org>"
    );
    assert_eq!(r[0]["feed.name"], "Mail Feed");
    assert_eq!(r[0]["__type"], "Report");
    assert!(r[0]["time.observation"].is_string());
    // Only the mail that was taken is seen: the unrelated subject and the mail
    // without a matching attachment stay unread.
    assert_eq!(dc.seen(), 1);
    // A second run finds nothing new.
    let again = ok(&collect("mail_attach", &dc, &args));
    assert!(again.is_empty(), "{again:?}");
    // Without the subject filter the unread ones are still there.
    let rest = ok(&collect(
        "mail_attach",
        &dc,
        &[
            "-p",
            "subject_regex=",
            "-p",
            "attach_regex=csv",
            "-p",
            "extract_files=false",
        ],
    ));
    assert_eq!(rest.len(), 1, "{rest:?}");
    assert_eq!(rest[0]["extra.file_name"], "other.csv");
    assert_eq!(rest[0]["extra.email_subject"], "Unrelated");
    assert_eq!(dc.seen(), 2);
}

#[test]
fn zipped_attachment_is_unpacked() {
    let dc = Dovecot::start(false);
    let csv = b"ip\n198.51.100.7\n";
    dc.deliver(&mail_with_attachment(
        "<subject> zipped",
        "report.csv.zip",
        "application/zip",
        &zip_of("inner.csv", csv),
    ));
    // IntelMQ's defaults: attach_regex csv.zip, extract_files true, and the
    // placeholder subject regex.
    let r = ok(&collect("mail_attach", &dc, &[]));
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(raw(&r[0]), csv);
    assert_eq!(r[0]["extra.file_name"], "inner.csv");

    // attach_unzip (deprecated) turns extraction on even where
    // extract_files is false.
    dc.deliver(&mail_with_attachment(
        "second",
        "b.csv.zip",
        "application/zip",
        &zip_of("b.csv", b"x\n1\n"),
    ));
    let o = collect(
        "mail_attach",
        &dc,
        &[
            "-p",
            "subject_regex=null",
            "-p",
            "extract_files=false",
            "-p",
            "attach_unzip=true",
        ],
    );
    let r = ok(&o);
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(raw(&r[0]), b"x\n1\n");
    assert_eq!(r[0]["extra.file_name"], "b.csv");
    assert!(stderr(&o).contains("deprecated"), "{}", stderr(&o));
}

#[test]
fn plain_attachment_with_extract_files_fails_the_mail_and_leaves_it_unread() {
    let dc = Dovecot::start(false);
    dc.deliver(&mail_with_attachment(
        "plain",
        "x.csv.zip",
        "application/zip",
        b"not a zip\n",
    ));
    let o = collect("mail_attach", &dc, &["-p", "subject_regex=null"]);
    assert_ne!(o.status.code(), Some(0));
    assert!(lines(&o.stdout).is_empty());
    assert!(stderr(&o).contains("left unread"), "{}", stderr(&o));
    assert_eq!(dc.seen(), 0);
    // As it is (no extraction) it is taken.
    let r = ok(&collect(
        "mail_attach",
        &dc,
        &["-p", "subject_regex=null", "-p", "extract_files=false"],
    ));
    assert_eq!(r.len(), 1);
    assert_eq!(raw(&r[0]), b"not a zip\n");
}

#[test]
fn killed_before_commit_leaves_the_mail_unread() {
    let dc = Dovecot::start(false);
    // Large enough that its report line cannot fit in a pipe's buffer: the
    // write (and so the commit) blocks while nobody reads.
    let big: Vec<u8> = (0..400_000u32)
        .map(|i| b"0123456789,\n"[(i % 12) as usize])
        .collect();
    dc.deliver(&mail_with_attachment("big", "big.csv", "text/csv", &big));
    let mut c = cmd(COLLECT, Path::new("."));
    c.arg("mail_attach")
        .args(dc.params())
        .args([
            "-p",
            "subject_regex=null",
            "-p",
            "attach_regex=csv",
            "-p",
            "extract_files=false",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = c.spawn().unwrap();
    let mut out = child.stdout.take().unwrap();
    // The report is being written: the mail was fetched.
    let mut head = [0u8; 64];
    out.read_exact(&mut head).unwrap();
    assert!(
        head.starts_with(b"{"),
        "{:?}",
        String::from_utf8_lossy(&head)
    );
    std::thread::sleep(Duration::from_millis(300));
    unsafe {
        libc::kill(child.id() as i32, libc::SIGKILL);
    }
    let _ = child.wait();
    drop(out);
    assert_eq!(dc.seen(), 0);
    // The next run gets it.
    let r = ok(&collect(
        "mail_attach",
        &dc,
        &[
            "-p",
            "subject_regex=null",
            "-p",
            "attach_regex=csv",
            "-p",
            "extract_files=false",
        ],
    ));
    assert_eq!(r.len(), 1);
    assert_eq!(raw(&r[0]), big);
    assert_eq!(dc.seen(), 1);
}

#[test]
fn intelmq_module_and_params_file() {
    let dc = Dovecot::start(false);
    dc.deliver(&mail_with_attachment(
        "Feed A", "a.csv", "text/csv", b"a\n1\n",
    ));
    let dir = tempfile::tempdir().unwrap();
    let params = dir.path().join("p.yaml");
    std::fs::write(
        &params,
        format!(
            "parameters:\n  mail_host: 127.0.0.1\n  mail_port: {}\n  mail_ssl: false\n  \
             mail_user: test\n  mail_password: secret\n  folder: INBOX\n  \
             subject_regex: 'Feed'\n  attach_regex: 'csv'\n  extract_files: false\n  \
             name: From IntelMQ\n  provider: P\n",
            dc.port
        ),
    )
    .unwrap();
    let mut c = cmd(COLLECT, Path::new("."));
    c.args([
        "--intelmq",
        "intelmq.bots.collectors.mail.collector_mail_attach",
        "--params",
    ])
    .arg(&params);
    let r = ok(&run(&mut c, b""));
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0]["feed.name"], "From IntelMQ");
    assert_eq!(r[0]["feed.provider"], "P");
    assert_eq!(r[0]["extra.file_name"], "a.csv");
}

#[test]
fn bodies_plain_and_html() {
    let dc = Dovecot::start(false);
    let mail = "From: a@example.org, \"B\" <b@example.net>\r\n\
Subject: Body feed\r\n\
Message-ID: <body@example.org>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/alternative; boundary=\"alt\"\r\n\
\r\n\
--alt\r\n\
Content-Type: text/plain; charset=iso-8859-1\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\
\r\n\
192.0.2.9 caf=E9\r\n\
--alt\r\n\
Content-Type: text/html; charset=utf-8\r\n\
\r\n\
<p>192.0.2.9</p>\r\n\
--alt--\r\n";
    dc.deliver(mail.as_bytes());
    let r = ok(&collect(
        "mail_body",
        &dc,
        &["-p", "subject_regex=feed$", "-p", "content_types=plain"],
    ));
    assert_eq!(r.len(), 1, "{r:?}");
    // The text, decoded from its charset: UTF-8 in raw.
    assert_eq!(
        String::from_utf8(raw(&r[0])).unwrap().trim_end(),
        "192.0.2.9 café"
    );
    assert_eq!(r[0]["extra.email_from"], "a@example.org,b@example.net");
    assert_eq!(r[0]["extra.email_message_id"], "<body@example.org>");
    assert!(r[0].get("extra.email_date").is_none());
    assert!(r[0].get("extra.file_name").is_none());
    // Seen: a second run with both types finds nothing; a new mail gives both.
    assert!(ok(&collect("mail_body", &dc, &["-p", "subject_regex=feed$"])).is_empty());
    dc.deliver(mail.replace("<body@", "<body2@").as_bytes());
    let r = ok(&collect("mail_body", &dc, &["-p", "subject_regex=feed$"]));
    assert_eq!(r.len(), 2, "{r:?}");
    assert!(String::from_utf8(raw(&r[0])).unwrap().contains("café"));
    assert!(String::from_utf8(raw(&r[1]))
        .unwrap()
        .contains("<p>192.0.2.9</p>"));
}

#[test]
fn url_in_the_body_is_downloaded() {
    let dc = Dovecot::start(false);
    let s = Server::start(|req, _| match req.path() {
        "/feeds/today.csv" => Reply::ok("ip\n203.0.113.5\n"),
        "/dl" => {
            Reply::ok("x\n").header("Content-Disposition", "attachment; filename=\"named.csv\"")
        }
        _ => Reply::status(404, "no"),
    });
    let url = s.url("/feeds/today.csv");
    let mail = |subject: &str, body: &str| {
        format!(
            "From: feeds@example.org\r\nSubject: {subject}\r\nDate: Wed, 4 Mar 2026 00:00:00 +0000\r\n\
             Content-Type: text/plain\r\n\r\nDownload it from {body} today.\r\n"
        )
        .into_bytes()
    };
    dc.deliver(&mail("URL 1", &url));
    dc.deliver(&mail("URL 2", &s.url("/dl")));
    let r = ok(&collect(
        "mail_url",
        &dc,
        &["-p", "subject_regex=^URL", "-p", r"url_regex=http://\S+"],
    ));
    assert_eq!(r.len(), 2, "{r:?}");
    assert_eq!(raw(&r[0]), b"ip\n203.0.113.5\n");
    assert_eq!(r[0]["feed.url"], url);
    assert_eq!(r[0]["extra.file_name"], "today.csv");
    assert_eq!(r[0]["extra.email_subject"], "URL 1");
    assert_eq!(r[1]["extra.file_name"], "named.csv");
    assert_eq!(dc.seen(), 2);

    // A 404: reported; with error_procedure pass (IntelMQ's default) the mail
    // is still marked seen, with retry it stays unread.
    dc.deliver(&mail("URL 3", &s.url("/gone.csv")));
    let o = collect(
        "mail_url",
        &dc,
        &[
            "-p",
            "subject_regex=^URL",
            "-p",
            r"url_regex=http://\S+",
            "-p",
            "error_procedure=retry",
        ],
    );
    assert_ne!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("404"), "{}", stderr(&o));
    assert_eq!(dc.seen(), 2);
    let o = collect(
        "mail_url",
        &dc,
        &["-p", "subject_regex=^URL", "-p", r"url_regex=http://\S+"],
    );
    assert!(lines(&o.stdout).is_empty());
    assert!(stderr(&o).contains("404"), "{}", stderr(&o));
    assert_eq!(dc.seen(), 3);
}

#[test]
fn wrong_password_fails_and_leaves_mail_unread() {
    let dc = Dovecot::start(false);
    dc.deliver(&mail_with_attachment("x", "a.csv", "text/csv", b"1\n"));
    let o = collect(
        "mail_attach",
        &dc,
        &["-p", "mail_password=wrong", "-p", "subject_regex=null"],
    );
    assert_ne!(o.status.code(), Some(0));
    let e = stderr(&o);
    assert!(e.contains("LOGIN"), "{e}");
    assert!(!e.contains("wrong"), "the password is not shown: {e}");
    assert_eq!(dc.seen(), 0);
}

#[test]
fn imaps_and_starttls_with_a_ca_file() {
    let dc = Dovecot::start(true);
    let ca = dc.certs.as_ref().unwrap().ca.display().to_string();
    dc.deliver(&mail_with_attachment("tls", "t.csv", "text/csv", b"t\n"));
    let base = |port: u16, ssl: bool, starttls: bool| -> Vec<String> {
        vec![
            "mail_body".into(),
            "-p".into(),
            "mail_host=127.0.0.1".into(),
            "-p".into(),
            format!("mail_port={port}"),
            "-p".into(),
            format!("mail_ssl={ssl}"),
            "-p".into(),
            format!("mail_starttls={starttls}"),
            "-p".into(),
            "mail_user=test".into(),
            "-p".into(),
            "mail_password=secret".into(),
            "-p".into(),
            "subject_regex=null".into(),
        ]
    };
    let go = |args: Vec<String>, more: &[&str]| {
        let mut c = cmd(COLLECT, Path::new("."));
        c.args(args).args(more);
        run(&mut c, b"")
    };
    // The server's certificate is not signed by a known CA.
    let o = go(base(dc.tls_port, true, false), &[]);
    assert_ne!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("TLS"), "{}", stderr(&o));
    assert_eq!(dc.seen(), 0);
    // STARTTLS on the plain port, verified with the CA: the body, and the
    // mail is seen.
    let r = ok(&go(
        base(dc.port, false, true),
        &["-p", &format!("ssl_ca_certificate={ca}")],
    ));
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(dc.seen(), 1);
    // IMAPS, verified with the CA.
    dc.deliver(&mail_with_attachment("tls 2", "t.csv", "text/csv", b"t\n"));
    let r = ok(&go(
        base(dc.tls_port, true, false),
        &["-p", &format!("ssl_ca_certificate={ca}")],
    ));
    assert_eq!(r.len(), 1, "{r:?}");
    // IMAPS without verification.
    dc.deliver(&mail_with_attachment("tls 3", "t.csv", "text/csv", b"t\n"));
    let r = ok(&go(
        base(dc.tls_port, true, false),
        &["-p", "http_verify_cert=false"],
    ));
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(dc.seen(), 3);
}

#[test]
fn component_help() {
    let out = Command::new(COLLECT)
        .args(["mail_attach", "--help"])
        .output()
        .unwrap();
    let h = String::from_utf8_lossy(&out.stdout);
    assert!(h.contains("collector_mail_attach"), "{h}");
    assert!(h.contains("-p attach_regex="), "{h}");
    assert!(h.contains("-p mail_host="), "{h}");
}

#[test]
fn sent_from_and_sent_to_are_search_filters() {
    let dc = Dovecot::start(false);
    dc.deliver(&mail_with_attachment("one", "a.csv", "text/csv", b"a\n"));
    let other = String::from_utf8(mail_with_attachment("two", "b.csv", "text/csv", b"b\n"))
        .unwrap()
        .replace("feeds@example.org", "someone@example.net");
    dc.deliver(other.as_bytes());
    let base = [
        "-p",
        "subject_regex=null",
        "-p",
        "attach_regex=csv",
        "-p",
        "extract_files=false",
    ];
    let mut args = base.to_vec();
    args.extend(["-p", "sent_from=someone@example.net"]);
    let r = ok(&collect("mail_attach", &dc, &args));
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0]["extra.email_from"], "someone@example.net");
    let mut args = base.to_vec();
    args.extend(["-p", "sent_to=nobody@example.com"]);
    assert!(ok(&collect("mail_attach", &dc, &args)).is_empty());
    let mut args = base.to_vec();
    args.extend(["-p", "sent_to=soc@example.com"]);
    let r = ok(&collect("mail_attach", &dc, &args));
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0]["extra.file_name"], "a.csv");
}
