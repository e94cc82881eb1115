//! imq-output's database outputs against real servers: SQLite files in a temp
//! dir, the PostgreSQL of scripts/services (127.0.0.1:5432, database test; one
//! table or schema per test), a PostgreSQL of our own on a spare port that is
//! stopped and restarted mid-run, and IntelMQ 3.5.0's own DDL and sql output.

use postgres::{Client, NoTls};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

const OUTPUT: &str = env!("CARGO_BIN_EXE_imq-output");
const PG: &str = "host=127.0.0.1 port=5432 user=postgres dbname=test";

fn spawn(dir: &Path, args: &[&str]) -> Child {
    Command::new(OUTPUT)
        .args(args)
        .current_dir(dir)
        .env_remove("IMQ_DUMP")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn run(dir: &Path, args: &[&str], input: &str) -> Output {
    let mut c = spawn(dir, args);
    c.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    c.wait_with_output().unwrap()
}

fn status(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Events with distinct source.ip and port, `n` of them from `from`.
fn events(from: u32, n: u32) -> String {
    (from..from + n)
        .map(|i| {
            format!(
                r#"{{"time.source":"2024-03-05T10:11:12+00:00","feed.name":"Feed \u00e9","source.ip":"10.{}.{}.{}","source.port":{},"classification.type":"c2-server","classification.taxonomy":"malicious-code","extra.n":{},"extra.k.l":"v","raw":"YQ==","__type":"Event"}}"#,
                i >> 16 & 255,
                i >> 8 & 255,
                i & 255,
                i % 65536,
                i
            ) + "\n"
        })
        .collect()
}

fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn dump_lines(dir: &Path) -> Vec<String> {
    fs::read_to_string(dir.join("dump.ndjson"))
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect()
}

// ---------------------------------------------------------------- SQLite

#[test]
fn sqlite_creates_intelmq_table_and_reads_back() {
    let d = tempfile::tempdir().unwrap();
    let o = run(d.path(), &["sqlite", "events.db"], &events(1, 500));
    status(&o, 0);
    // A second run appends; the table is there already.
    status(
        &run(d.path(), &["sqlite", "events.db"], &events(501, 10)),
        0,
    );
    let c = rusqlite::Connection::open(d.path().join("events.db")).unwrap();
    let n: i64 = c
        .query_row("select count(*) from events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 510);
    let (ip, port, extra, raw, feed): (String, i64, String, String, String) = c
        .query_row(
            r#"select "source.ip", "source.port", extra, raw, "feed.name" from events where id = 2"#,
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    assert_eq!((ip.as_str(), port), ("10.0.0.2", 2));
    // IntelMQ's to_dict(jsondict_as_string=True): the rest of the key kept flat.
    assert_eq!(extra, r#"{"n": 2, "k.l": "v"}"#);
    assert_eq!((raw.as_str(), feed.as_str()), ("YQ==", "Feed é"));
    let mode: String = c
        .query_row("pragma journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let cols: i64 = c
        .query_row(
            "select count(*) from pragma_table_info('events')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(cols, 90, "id and IntelMQ's 89 event fields");
    // IntelMQ's sql module with engine sqlite.
    let p = d.path().join("p.json");
    fs::write(
        &p,
        r#"{"engine": "sqlite", "database": "other.db", "table": "events"}"#,
    )
    .unwrap();
    let o = run(
        d.path(),
        &[
            "--intelmq",
            "intelmq.bots.outputs.sql.output",
            "--params",
            p.to_str().unwrap(),
        ],
        &events(1, 3),
    );
    status(&o, 0);
    let c = rusqlite::Connection::open(d.path().join("other.db")).unwrap();
    let n: i64 = c
        .query_row("select count(*) from events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 3);
}

#[test]
fn sqlite_refused_rows_are_dumped_the_rest_written() {
    let d = tempfile::tempdir().unwrap();
    let db = d.path().join("t.db");
    let c = rusqlite::Connection::open(&db).unwrap();
    c.execute_batch(
        r#"create table events (id integer primary key, "source.ip" text unique,
           "source.port" integer check ("source.port" < 1000), "feed.name" text,
           "time.source" text, "classification.type" text,
           "classification.taxonomy" text, extra text, raw text)"#,
    )
    .unwrap();
    drop(c);
    let mut input = events(1, 5);
    input.push_str(&events(3, 1)); // the same source.ip again: UNIQUE
    input.push_str(&events(2000, 1)); // port 2000: CHECK
    input.push_str(r#"{"source.ip":"10.9.9.9","comment":"no such column"}"#);
    input.push('\n');
    input.push_str(&events(6, 2));
    let o = run(
        d.path(),
        &["sqlite", "t.db", "--dump", "dump.ndjson"],
        &input,
    );
    status(&o, 1);
    let c = rusqlite::Connection::open(&db).unwrap();
    let n: i64 = c
        .query_row("select count(*) from events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 7);
    let dump = dump_lines(d.path());
    assert_eq!(dump.len(), 3, "{dump:?}");
    // (Refused at write time is dumped at once, refused by SQLite at commit.)
    let has = |a: &str, b: &str| dump.iter().any(|l| l.contains(a) && l.contains(b));
    assert!(has("UNIQUE constraint failed", "10.0.0.3"), "{dump:?}");
    assert!(has("CHECK constraint failed", "2000"), "{dump:?}");
    assert!(
        has("column \\\"comment\\\" of relation", "10.9.9.9"),
        "{dump:?}"
    );
}

#[test]
fn sqlite_waits_for_a_locked_database() {
    let d = tempfile::tempdir().unwrap();
    status(&run(d.path(), &["sqlite", "e.db"], &events(1, 1)), 0);
    let c = rusqlite::Connection::open(d.path().join("e.db")).unwrap();
    c.execute_batch("begin immediate; insert into events (\"comment\") values ('held')")
        .unwrap();
    let mut child = spawn(d.path(), &["sqlite", "e.db"]);
    child
        .stdin
        .take()
        .unwrap()
        .write_all(events(2, 100).as_bytes())
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(child.try_wait().unwrap().is_none(), "waits for the lock");
    c.execute_batch("commit").unwrap();
    let o = child.wait_with_output().unwrap();
    status(&o, 0);
    let n: i64 = c
        .query_row("select count(*) from events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 102);
}

// ------------------------------------------------------------ PostgreSQL

fn pg() -> Client {
    Client::connect(PG, NoTls).expect("PostgreSQL on 127.0.0.1:5432 (scripts/services starts it)")
}

fn count(c: &mut Client, table: &str) -> i64 {
    c.query_one(&format!("select count(*) from {table}"), &[])
        .unwrap()
        .get(0)
}

#[test]
fn postgres_init_copy_and_read_back() {
    let d = tempfile::tempdir().unwrap();
    let t = unique("imq_pg");
    let o = run(
        d.path(),
        &["postgres", PG, "--init", "-p", &format!("table={t}")],
        &events(1, 2000),
    );
    status(&o, 0);
    let mut c = pg();
    assert_eq!(count(&mut c, &t), 2000);
    let r = c
        .query_one(
            &format!(
                r#"select host("source.ip"), "source.port", extra->>'n', extra->>'k.l',
                   raw, "feed.name", "time.source" = '2024-03-05T10:11:12Z'::timestamptz
                   from {t} where "source.ip" = '10.0.1.2'"#
            ),
            &[],
        )
        .unwrap();
    assert_eq!(r.get::<_, String>(0), "10.0.1.2");
    assert_eq!(r.get::<_, i32>(1), 258);
    assert_eq!(r.get::<_, String>(2), "258");
    assert_eq!(r.get::<_, String>(3), "v");
    assert_eq!(r.get::<_, String>(4), "YQ==");
    assert_eq!(r.get::<_, String>(5), "Feed é");
    assert!(r.get::<_, bool>(6));
    // The column types are intelmq_psql_initdb's.
    let ty: String = c
        .query_one(
            "select format_type(atttypid, atttypmod) from pg_attribute \
             where attrelid = $1::text::regclass and attname = 'extra'",
            &[&t],
        )
        .unwrap()
        .get(0);
    assert_eq!(ty, "jsonb");
    // Without --init a missing table is an error, not a silent create.
    let o = run(
        d.path(),
        &["postgres", PG, "-p", &format!("table={t}_missing")],
        &events(1, 1),
    );
    status(&o, 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("--init"));
    c.batch_execute(&format!("drop table {t}")).unwrap();
}

#[test]
fn postgres_refused_rows_dumped_others_written() {
    let d = tempfile::tempdir().unwrap();
    let t = unique("imq_pg_bad");
    let mut c = pg();
    status(
        &run(
            d.path(),
            &["postgres", PG, "--init", "-p", &format!("table={t}")],
            "",
        ),
        0,
    );
    c.batch_execute(&format!(
        r#"alter table {t} add check ("source.port" < 1000);
           create unique index on {t} ("source.ip")"#
    ))
    .unwrap();
    let mut input = events(1, 300);
    input.push_str(&events(5, 1)); // unique violation
    input.push_str(&events(2000, 1)); // check violation
    input.push_str(
        r#"{"source.ip":"10.9.9.9","comment":"a\u0000b","extra.z":"nul \u0000 in jsonb"}"#,
    );
    input.push('\n');
    input.push_str(&events(301, 50));
    let o = run(
        d.path(),
        &[
            "postgres",
            PG,
            "-p",
            &format!("table={t}"),
            "--dump",
            "dump.ndjson",
        ],
        &input,
    );
    status(&o, 1);
    assert_eq!(count(&mut c, &t), 350);
    let dump = dump_lines(d.path());
    assert_eq!(dump.len(), 3, "{dump:?}");
    assert!(
        dump[0].contains("duplicate key") && dump[0].contains("10.0.0.5"),
        "{}",
        dump[0]
    );
    assert!(dump[1].contains("check constraint"), "{}", dump[1]);
    assert!(
        dump[2].contains("22P05") || dump[2].contains("Unicode"),
        "{}",
        dump[2]
    );
    c.batch_execute(&format!("drop table {t}")).unwrap();
}

/// A PostgreSQL server of our own on a spare port (ECOSYSTEM.md §3), to stop
/// and restart.
struct OwnPg {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    root: bool,
}

impl OwnPg {
    fn new() -> OwnPg {
        let bin = fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL server binaries in /usr/lib/postgresql (scripts/services)")
            .filter_map(|e| e.ok())
            .map(|e| e.path().join("bin"))
            .find(|p| p.join("postgres").exists())
            .expect("a postgres binary");
        let dir = tempfile::Builder::new().prefix("imq-pg").tempdir().unwrap();
        let root = unsafe_is_root();
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let pg = OwnPg {
            dir,
            bin,
            port,
            root,
        };
        pg.sh(&format!(
            "{}/initdb -D {}/data -U postgres --auth=trust -E UTF8 --no-sync >/dev/null",
            pg.bin.display(),
            pg.dir.path().display()
        ));
        pg.start();
        pg
    }

    fn sh(&self, cmd: &str) {
        let st = if self.root {
            Command::new("su").args(["postgres", "-c", cmd]).status()
        } else {
            Command::new("sh").args(["-c", cmd]).status()
        }
        .unwrap();
        assert!(st.success(), "{cmd}");
    }

    fn start(&self) {
        self.sh(&format!(
            "{}/pg_ctl -D {}/data -l {}/log -w -o '-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off' start >/dev/null",
            self.bin.display(),
            self.dir.path().display(),
            self.dir.path().display(),
            self.port,
            self.dir.path().display()
        ));
    }

    fn stop(&self) {
        self.sh(&format!(
            "{}/pg_ctl -D {}/data -m fast -w stop >/dev/null",
            self.bin.display(),
            self.dir.path().display()
        ));
    }

    fn dsn(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user=postgres dbname=postgres",
            self.port
        )
    }
}

impl Drop for OwnPg {
    fn drop(&mut self) {
        let _ = Command::new(if self.root { "su" } else { "sh" })
            .args(if self.root {
                vec!["postgres".to_string(), "-c".into()]
            } else {
                vec!["-c".to_string()]
            })
            .arg(format!(
                "{}/pg_ctl -D {}/data -m immediate stop >/dev/null 2>&1",
                self.bin.display(),
                self.dir.path().display()
            ))
            .status();
    }
}

fn unsafe_is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .unwrap_or(false)
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(t.elapsed() < Duration::from_secs(30), "timed out: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn postgres_server_restart_mid_run_retries_and_loses_nothing() {
    let pg = OwnPg::new();
    let d = tempfile::tempdir().unwrap();
    let dsn = pg.dsn();
    let mut child = spawn(d.path(), &["postgres", &dsn, "--init"]);
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(events(1, 1000).as_bytes()).unwrap();
    stdin.flush().unwrap();
    let rows = || {
        Client::connect(&dsn, NoTls)
            .ok()
            .and_then(|mut c| c.query_one("select count(*) from events", &[]).ok())
            .map(|r| r.get::<_, i64>(0))
    };
    wait_until("the first 1000 rows", || rows() == Some(1000));
    pg.stop();
    // Written while the server is down: committed only after it is back.
    stdin.write_all(events(1001, 500).as_bytes()).unwrap();
    stdin.flush().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(child.try_wait().unwrap().is_none());
    pg.start();
    stdin.write_all(events(1501, 500).as_bytes()).unwrap();
    drop(stdin);
    let o = child.wait_with_output().unwrap();
    status(&o, 0);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("retrying"), "{err}");
    assert_eq!(rows(), Some(2000));
    let mut c = Client::connect(&dsn, NoTls).unwrap();
    let distinct: i64 = c
        .query_one(r#"select count(distinct "source.ip") from events"#, &[])
        .unwrap()
        .get(0);
    assert_eq!(distinct, 2000);

    // Retries run out: exit 2, saying what was not written.
    pg.stop();
    let o = run(
        d.path(),
        &["postgres", &dsn, "-p", "retry_seconds=1"],
        &events(1, 10),
    );
    status(&o, 2);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("failed after"), "{err}");
}

// ----------------------------------------------------- IntelMQ interop

fn intelmq_venv() -> Option<PathBuf> {
    let v =
        PathBuf::from(std::env::var("IMQ_INTELMQ_VENV").unwrap_or("/opt/imq/intelmq-venv".into()));
    if v.join("bin/intelmq_psql_initdb").exists() {
        return Some(v);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "IntelMQ venv {} missing (scripts/services installs it)",
        v.display()
    );
    eprintln!("skipped: no IntelMQ venv at {}", v.display());
    None
}

#[test]
fn intelmq_ddl_table_takes_imq_rows_and_intelmq_writes_into_imq_table() {
    let Some(venv) = intelmq_venv() else { return };
    let d = tempfile::tempdir().unwrap();
    let site = fs::read_dir(venv.join("lib"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
        .join("site-packages/intelmq");
    // IntelMQ's own DDL, verbatim, in a schema of its own.
    let sql = d.path().join("initdb.sql");
    let st = Command::new(venv.join("bin/intelmq_psql_initdb"))
        .arg("-o")
        .arg(&sql)
        .arg("--harmonization")
        .arg(site.join("etc/harmonization.conf"))
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    let ddl = fs::read_to_string(&sql).unwrap();
    let mut c = pg();
    let s1 = unique("imq_s_intelmq");
    c.batch_execute(&format!(
        "create schema {s1}; set search_path to {s1}; {ddl}"
    ))
    .unwrap();
    let o = run(
        d.path(),
        &["postgres", PG, "-p", &format!("table={s1}.events")],
        &events(1, 20),
    );
    status(&o, 0);
    assert_eq!(count(&mut c, &format!("{s1}.events")), 20);

    // IntelMQ's sql output bot into a table imq created.
    let s2 = unique("imq_s_imq");
    c.batch_execute(&format!("create schema {s2}")).unwrap();
    status(
        &run(
            d.path(),
            &[
                "postgres",
                PG,
                "--init",
                "-p",
                &format!("table={s2}.events"),
            ],
            "",
        ),
        0,
    );
    let params = d.path().join("sql.json");
    fs::write(
        &params,
        format!(
            r#"{{"engine": "postgresql", "host": "127.0.0.1", "port": 5432, "user": "postgres",
               "database": "test", "sslmode": "disable", "table": "{s2}.events"}}"#
        ),
    )
    .unwrap();
    let peer = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/peer/intelmq-run.py");
    let mut py = Command::new(venv.join("bin/python"))
        .arg(&peer)
        .arg("intelmq.bots.outputs.sql.output")
        .arg("--params")
        .arg(&params)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    py.stdin
        .take()
        .unwrap()
        .write_all(events(1, 20).as_bytes())
        .unwrap();
    let o = py.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(count(&mut c, &format!("{s2}.events")), 20);
    // Both wrote the same rows for the same events.
    let cols = r#""source.ip", "source.port", "feed.name", "time.source", extra, raw,
                  "classification.type", "classification.taxonomy""#;
    let diff: i64 = c
        .query_one(
            &format!(
                "select count(*) from ((select {cols} from {s1}.events except select {cols} from {s2}.events)
                 union all (select {cols} from {s2}.events except select {cols} from {s1}.events)) x"
            ),
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(diff, 0);
    c.batch_execute(&format!(
        "drop schema {s1} cascade; drop schema {s2} cascade"
    ))
    .unwrap();
}
