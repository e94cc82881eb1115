//! `imq-collect http` against real HTTP(S) servers on loopback (the server is
//! tests/support/feedserver.rs): statuses, retries, conditional GET, encodings,
//! archives, redirects, auth, timeouts, TLS and chunked big feeds.
mod common;
#[path = "support/feedserver.rs"]
mod feedserver;

use base64::Engine;
use common::run::{cmd, lines, run};
use feedserver::{Body, Reply, Req, Server};
use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

const COLLECT: &str = env!("CARGO_BIN_EXE_imq-collect");

fn collect(args: &[&str], state: Option<&Path>) -> Output {
    let mut c = cmd(COLLECT, Path::new("."));
    c.env_remove("STATE_DIRECTORY")
        .env_remove("IMQ_BEARER_TOKEN");
    if let Some(s) = state {
        c.env("IMQ_STATE_DIR", s);
    }
    c.args(args);
    run(&mut c, b"")
}

fn raw(r: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(r["raw"].as_str().expect("raw"))
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[track_caller]
fn ok(o: &Output) -> Vec<Value> {
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(o));
    lines(&o.stdout)
}

#[test]
fn plain_200_is_one_report() {
    let s = Server::start(|_, _| Reply::ok("1.2.3.4\n5.6.7.8\n"));
    let url = s.url("/feed.txt");
    let o = collect(
        &["http", &url, "--feed-name", "Test", "--feed-provider", "P"],
        None,
    );
    let r = ok(&o);
    assert_eq!(r.len(), 1);
    assert_eq!(raw(&r[0]), b"1.2.3.4\n5.6.7.8\n");
    assert_eq!(r[0]["feed.url"], url);
    assert_eq!(r[0]["feed.name"], "Test");
    assert_eq!(r[0]["feed.provider"], "P");
    assert_eq!(r[0]["feed.accuracy"], 100.0);
    assert_eq!(r[0]["__type"], "Report");
    assert!(r[0]["time.observation"]
        .as_str()
        .unwrap()
        .ends_with("+00:00"));
    assert!(r[0].get("extra.file_name").is_none());
    let req = &s.requests()[0];
    assert_eq!(req.method, "GET");
    assert_eq!(req.header("accept-encoding"), Some("gzip, deflate"));
    assert!(req.header("user-agent").unwrap().starts_with("imq/"));
    // An empty body makes no report (IntelMQ drops a report without raw).
    let s = Server::start(|_, _| Reply::ok(""));
    assert!(ok(&collect(&["http", &s.url("/")], None)).is_empty());
}

/// The state directory: ETag / Last-Modified sent back, a 304 makes nothing.
fn conditional(validator: &str) {
    let st = tempfile::tempdir().unwrap();
    let v = validator.to_string();
    let s = Server::start(move |req, _| {
        let (hdr, cond, val) = if v == "etag" {
            ("ETag", "if-none-match", "\"v1\"")
        } else {
            (
                "Last-Modified",
                "if-modified-since",
                "Wed, 21 Oct 2015 07:28:00 GMT",
            )
        };
        if req.header(cond) == Some(val) {
            Reply::status(304, "")
        } else {
            Reply::ok("a\n").header(hdr, val)
        }
    });
    let url = s.url("/f");
    assert_eq!(ok(&collect(&["http", &url], Some(st.path()))).len(), 1);
    let o = collect(&["http", &url, "--verbose"], Some(st.path()));
    assert!(ok(&o).is_empty(), "second run: nothing new");
    assert!(stderr(&o).contains("1 unchanged"), "{}", stderr(&o));
    assert_eq!(s.requests().len(), 2);
    // Without a state directory, it is fetched again.
    assert_eq!(ok(&collect(&["http", &url], None)).len(), 1);
    // Another feed (other parameters) of the same URL has its own state.
    assert_eq!(
        ok(&collect(
            &["http", &url, "--feed-name", "B"],
            Some(st.path())
        ))
        .len(),
        1
    );
}

#[test]
fn not_modified_with_etag() {
    conditional("etag");
}

#[test]
fn not_modified_with_last_modified() {
    conditional("last-modified");
}

#[test]
fn state_is_saved_only_after_the_reports_were_written() {
    let st = tempfile::tempdir().unwrap();
    let s = Server::start(|req, _| {
        if req.header("if-none-match") == Some("\"x\"") {
            Reply::status(304, "")
        } else {
            Reply::ok("a\n").header("ETag", "\"x\"")
        }
    });
    let url = s.url("/f");
    // The output cannot be written: the run fails, the ETag is not kept.
    let o = collect(&["http", &url, "-o", "/dev/full"], Some(st.path()));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(std::fs::read_dir(st.path()).unwrap().count(), 0);
    // So the next run fetches it in full.
    assert_eq!(ok(&collect(&["http", &url], Some(st.path()))).len(), 1);
    assert_eq!(std::fs::read_dir(st.path()).unwrap().count(), 1);
}

#[test]
fn retries_500_then_200() {
    let s = Server::start(|_, n| {
        if n == 0 {
            Reply::status(500, "oops")
        } else {
            Reply::ok("x\n")
        }
    });
    let r = ok(&collect(
        &["http", &s.url("/f"), "-p", "http_retry_delay=0.1"],
        None,
    ));
    assert_eq!(r.len(), 1);
    assert_eq!(raw(&r[0]), b"x\n");
    assert_eq!(s.requests().len(), 2);
    // Always 503: fails after the tries, naming the feed and the status.
    let s = Server::start(|_, _| Reply::status(503, ""));
    let o = collect(
        &[
            "http",
            &s.url("/f"),
            "--tries",
            "2",
            "-p",
            "http_retry_delay=0.05",
            "--feed-name",
            "Down",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("feed Down") && e.contains("status code was 503") && e.contains("2 attempts"),
        "{e}"
    );
    assert_eq!(s.requests().len(), 2);
    // A 404 is not retried.
    let s = Server::start(|_, _| Reply::status(404, ""));
    let o = collect(&["http", &s.url("/f")], None);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(s.requests().len(), 1);
}

#[test]
fn too_many_requests_honours_retry_after() {
    let s = Server::start(|_, n| {
        if n == 0 {
            Reply::status(429, "").header("Retry-After", "1")
        } else {
            Reply::ok("y\n")
        }
    });
    let t = Instant::now();
    let r = ok(&collect(
        &["http", &s.url("/f"), "-p", "http_retry_delay=0.01"],
        None,
    ));
    assert!(
        t.elapsed() >= Duration::from_millis(950),
        "waited {:?}",
        t.elapsed()
    );
    assert_eq!(raw(&r[0]), b"y\n");
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn gzip_content_encoding_is_decoded() {
    let s =
        Server::start(|_, _| Reply::ok(gzip(b"line1\nline2\n")).header("Content-Encoding", "gzip"));
    let r = ok(&collect(&["http", &s.url("/f")], None));
    assert_eq!(raw(&r[0]), b"line1\nline2\n");
}

#[test]
fn gz_file_with_and_without_extract_files() {
    let gz = gzip(b"a,b\n1,2\n");
    let g2 = gz.clone();
    let s =
        Server::start(move |_, _| Reply::ok(g2.clone()).header("Content-Type", "application/gzip"));
    let url = s.url("/data.csv.gz");
    let r = ok(&collect(&["http", &url, "--extract"], None));
    assert_eq!(r.len(), 1);
    assert_eq!(raw(&r[0]), b"a,b\n1,2\n");
    assert!(
        r[0].get("extra.file_name").is_none(),
        "IntelMQ names no gzip member"
    );
    // IntelMQ without extract_files tries zip only: the bytes as they are.
    let r = ok(&collect(&["http", &url], None));
    assert_eq!(raw(&r[0]), gz);
    // extract_files on a body that is no archive is an error.
    let s = Server::start(|_, _| Reply::ok("plain\n"));
    let o = collect(&["http", &s.url("/x"), "--extract"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no zip, tar or gzip"), "{}", stderr(&o));
}

fn zip2() -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let o = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    w.add_directory("dir/", o).unwrap();
    w.start_file("first.csv", o).unwrap();
    w.write_all(b"x,y\n1,2\n").unwrap();
    w.start_file("dir/second.txt", o).unwrap();
    w.write_all(b"hello\n").unwrap();
    w.finish().unwrap().into_inner()
}

#[test]
fn zip_with_two_members() {
    let s = Server::start(|_, _| Reply::ok(zip2()));
    let url = s.url("/a.zip");
    // Without extract_files too (IntelMQ unpacks zips always).
    for extra in [&[][..], &["--extract"][..]] {
        let mut a = vec!["http", url.as_str()];
        a.extend_from_slice(extra);
        let r = ok(&collect(&a, None));
        assert_eq!(r.len(), 2, "{extra:?}");
        assert_eq!(r[0]["extra.file_name"], "first.csv");
        assert_eq!(raw(&r[0]), b"x,y\n1,2\n");
        assert_eq!(r[1]["extra.file_name"], "dir/second.txt");
        assert_eq!(raw(&r[1]), b"hello\n");
        assert_eq!(r[1]["feed.url"], url);
    }
    // Member selection.
    let r = ok(&collect(
        &["http", &url, "--extract", "dir/second.txt"],
        None,
    ));
    assert_eq!(r.len(), 1);
    assert_eq!(r[0]["extra.file_name"], "dir/second.txt");
}

#[test]
fn tar_gz_members() {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in [("one.csv", &b"1\n"[..]), ("two.csv", &b"2\n"[..])] {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, data).unwrap();
    }
    let tgz = gzip(&b.into_inner().unwrap());
    let s = Server::start(move |_, _| Reply::ok(tgz.clone()));
    let r = ok(&collect(&["http", &s.url("/x.tar.gz"), "--extract"], None));
    assert_eq!(r.len(), 2);
    assert_eq!(r[0]["extra.file_name"], "one.csv");
    assert_eq!(raw(&r[1]), b"2\n");
    let r = ok(&collect(
        &[
            "http",
            &s.url("/x.tar.gz"),
            "-p",
            "extract_files=[\"two.csv\"]",
        ],
        None,
    ));
    assert_eq!(r.len(), 1);
    assert_eq!(r[0]["extra.file_name"], "two.csv");
}

#[test]
fn redirect_is_followed() {
    let s = Server::start(|req: &Req, _| {
        if req.path() == "/old" {
            Reply::status(302, "").header("Location", "/new")
        } else {
            Reply::ok("moved\n")
        }
    });
    let url = s.url("/old");
    let r = ok(&collect(&["http", &url], None));
    assert_eq!(raw(&r[0]), b"moved\n");
    assert_eq!(
        r[0]["feed.url"], url,
        "feed.url is the URL asked for, as IntelMQ"
    );
}

#[test]
fn basic_auth_and_required_header() {
    let s = Server::start(|req: &Req, _| {
        // "user:secret"
        if req.header("authorization") != Some("Basic dXNlcjpzZWNyZXQ=") {
            return Reply::status(401, "");
        }
        if req.header("x-api-key") != Some("k1") {
            return Reply::status(403, "");
        }
        Reply::ok("private\n")
    });
    let url = s.url("/p");
    let o = collect(&["http", &url, "--user", "user:secret"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("status code was 403"));
    let r = ok(&collect(
        &["http", &url, "--user", "user:secret", "-H", "X-Api-Key: k1"],
        None,
    ));
    assert_eq!(raw(&r[0]), b"private\n");
    // IntelMQ's parameter names do the same.
    let p = serde_json::json!({"http_url": url, "http_username": "user", "http_password": "secret",
                               "http_header": {"X-Api-Key": "k1"}});
    let d = tempfile::tempdir().unwrap();
    let pf = d.path().join("p.json");
    std::fs::write(&pf, p.to_string()).unwrap();
    let r = ok(&collect(
        &[
            "--intelmq",
            "intelmq.bots.collectors.http.collector_http",
            "--params",
            pf.to_str().unwrap(),
        ],
        None,
    ));
    assert_eq!(raw(&r[0]), b"private\n");
    // Credentials in the URL are masked in messages.
    let bad = url
        .replace("http://", "http://u:topsecret@")
        .replace("/p", "/nope");
    let o = collect(&["http", &bad], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(!stderr(&o).contains("topsecret"), "{}", stderr(&o));
}

#[test]
fn slow_server_hits_the_timeout() {
    let s = Server::start(|_, _| Reply::ok("late\n").delay(Duration::from_secs(3)));
    let t = Instant::now();
    let o = collect(
        &[
            "http",
            &s.url("/slow"),
            "--timeout",
            "0.5",
            "--tries",
            "1",
            "--feed-name",
            "Slow",
        ],
        None,
    );
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert_eq!(o.status.code(), Some(2), "nothing fetched is exit 2");
    let e = stderr(&o);
    assert!(
        e.contains("feed Slow") && e.contains(&s.url("/slow")),
        "{e}"
    );
    assert!(o.stdout.is_empty());
}

#[test]
fn one_failing_feed_does_not_hide_the_others() {
    let s = Server::start(|req: &Req, _| {
        if req.path() == "/bad" {
            Reply::status(404, "")
        } else {
            Reply::ok("good\n")
        }
    });
    let o = collect(&["http", &s.url("/bad"), &s.url("/good")], None);
    assert_eq!(o.status.code(), Some(1), "some failed: exit 1");
    let r = lines(&o.stdout);
    assert_eq!(r.len(), 1);
    assert_eq!(raw(&r[0]), b"good\n");
    assert!(stderr(&o).contains("/bad"));
}

#[test]
fn url_formatting_and_method() {
    let s = Server::start(|req: &Req, _| Reply::ok(format!("{} {}\n", req.method, req.target)));
    let year = chrono::Local::now().format("%Y").to_string();
    let url = s.url("/zip/{time[%Y]}");
    let r = ok(&collect(&["http", &url, "--url-formatting"], None));
    assert_eq!(raw(&r[0]), format!("GET /zip/{year}\n").as_bytes());
    assert_eq!(r[0]["feed.url"], s.url(&format!("/zip/{year}")));
    let r = ok(&collect(
        &["http", &s.url("/api"), "-X", "POST", "--data", "q=1"],
        None,
    ));
    assert_eq!(raw(&r[0]), b"POST /api\n");
    assert_eq!(s.requests().last().unwrap().body, b"q=1");
}

#[test]
fn proxy_is_used() {
    // The proxy sees the absolute URL.
    let proxy = Server::start(|req: &Req, _| Reply::ok(format!("via proxy {}\n", req.target)));
    let r = ok(&collect(
        &[
            "http",
            "http://feeds.example.invalid/list",
            "--proxy",
            &proxy.url(""),
        ],
        None,
    ));
    assert_eq!(raw(&r[0]), b"via proxy http://feeds.example.invalid/list\n");
}

#[test]
fn tls_verification() {
    let pki = feedserver::Pki::new();
    let s = Server::start_tls(|_, _| Reply::ok("secure\n"), pki.server_config(false));
    let url = s.url("/f");
    let o = collect(&["http", &url, "--tries", "1"], None);
    assert_eq!(o.status.code(), Some(2), "an unknown CA is refused");
    assert!(
        stderr(&o).to_lowercase().contains("certificate"),
        "{}",
        stderr(&o)
    );
    let ca = pki.ca_pem.to_str().unwrap();
    let r = ok(&collect(&["http", &url, "--ca-cert", ca], None));
    assert_eq!(raw(&r[0]), b"secure\n");
    let r = ok(&collect(&["http", &url, "--insecure"], None));
    assert_eq!(raw(&r[0]), b"secure\n");
    // IntelMQ's http_verify_cert as a CA bundle path.
    let o = collect(
        &["http", &url, "-p", &format!("http_verify_cert={ca}")],
        None,
    );
    assert_eq!(raw(&ok(&o)[0]), b"secure\n");
}

#[test]
fn tls_client_certificate() {
    let pki = feedserver::Pki::new();
    let s = Server::start_tls(|_, _| Reply::ok("client ok\n"), pki.server_config(true));
    let url = s.url("/f");
    let ca = pki.ca_pem.to_str().unwrap();
    let o = collect(&["http", &url, "--ca-cert", ca, "--tries", "1"], None);
    assert_eq!(o.status.code(), Some(2), "no client certificate: refused");
    let r = ok(&collect(
        &[
            "http",
            &url,
            "--ca-cert",
            ca,
            "--client-cert",
            pki.client_pem.to_str().unwrap(),
            "--client-key",
            pki.client_key.to_str().unwrap(),
        ],
        None,
    ));
    assert_eq!(raw(&r[0]), b"client ok\n");
}

#[test]
fn chunked_reports_with_header() {
    let mut body = b"ip,name\n".to_vec();
    for i in 0..5000 {
        body.extend_from_slice(format!("10.0.{}.{},host{i}\n", i / 250, i % 250).as_bytes());
    }
    let b2 = body.clone();
    let s = Server::start(move |_, _| Reply::ok(b2.clone()));
    let r = ok(&collect(
        &["http", &s.url("/big.csv"), "--chunk-size", "10000"],
        None,
    ));
    assert!(r.len() > 5, "{}", r.len());
    let mut joined = b"ip,name\n".to_vec();
    for rep in &r {
        let d = raw(rep);
        assert!(d.starts_with(b"ip,name\n"));
        assert!(d.len() <= 10000 + 8);
        assert!(d.ends_with(b"\n"));
        joined.extend_from_slice(&d[8..]);
    }
    assert_eq!(joined, body);
}

/// Peak RSS of a finished child (wait4's rusage), in KiB, and its exit code.
fn wait_rss(child: std::process::Child) -> (i32, i64) {
    let pid = child.id() as i32;
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value of the plain C struct.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 on our own child; status and rusage are valid out-pointers.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
    assert_eq!(r, pid);
    std::mem::forget(child);
    (libc::WEXITSTATUS(status), ru.ru_maxrss)
}

/// Run `imq-collect http URL`, counting its reports and their longest line
/// without keeping them: (exit code, peak RSS KiB, reports, longest line).
fn collect_counting(url: &str) -> (i32, i64, u64, usize) {
    let mut c = cmd(COLLECT, Path::new("."));
    c.args(["http", url])
        .env_remove("STATE_DIRECTORY")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    let mut child = c.spawn().unwrap();
    let mut out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        let mut r = std::io::BufReader::with_capacity(1 << 20, &mut out);
        let (mut n, mut max, mut line) = (0u64, 0usize, Vec::new());
        loop {
            line.clear();
            if r.read_until(b'\n', &mut line).unwrap() == 0 {
                break;
            }
            n += 1;
            max = max.max(line.len());
        }
        (n, max)
    });
    let (code, rss) = wait_rss(child);
    let (n, max) = reader.join().unwrap();
    (code, rss, n, max)
}

/// A big feed streams through in bounded reports and bounded memory
/// (IMQ_BIG_FEED_MB sets the size, 256 in the suite; scripts/bench runs the
/// 2 GB case on the release build, where the whole process stays under 64 MiB).
/// A debug build's own pages are larger, so here the memory the feed costs is
/// what is bounded: the peak RSS over that of a 1 KiB feed.
#[test]
fn big_feed_in_bounded_memory() {
    let mb: u64 = std::env::var("IMQ_BIG_FEED_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let line = b"198.51.100.23,2024-01-01T00:00:00Z,some-malware-family,https://example.com/a/b\n"
        .to_vec();
    let s = Server::start(move |req: &Req, _| Reply {
        status: 200,
        headers: vec![],
        body: Body::Repeat {
            line: line.clone(),
            len: if req.path() == "/small" {
                1 << 10
            } else {
                mb << 20
            },
        },
        delay: Duration::ZERO,
    });
    let (code, base, n, _) = collect_counting(&s.url("/small"));
    assert_eq!((code, n), (0, 1));
    let (code, rss, reports, longest) = collect_counting(&s.url("/huge.csv"));
    assert_eq!(code, 0);
    assert!(reports >= mb / 8, "{reports} reports");
    assert!(longest < 12 << 20, "report line of {longest} bytes");
    eprintln!(
        "{mb} MiB feed: {reports} reports, peak RSS {} MiB (1 KiB feed: {} MiB)",
        rss / 1024,
        base / 1024
    );
    assert!(
        rss - base < 48 * 1024,
        "peak RSS {rss} KiB for a {mb} MiB feed, {base} KiB for 1 KiB"
    );
    if !cfg!(debug_assertions) {
        assert!(rss < 64 * 1024, "peak RSS {rss} KiB");
    }
}
