//! `postgres`: IntelMQ's sql output for PostgreSQL (`engine: postgresql`).
//! Events are rows of the `events` table exactly as `intelmq_psql_initdb`
//! creates it (`--init` creates it when missing), written with one COPY per
//! batch in one transaction: an event counts as written only once its
//! transaction committed.
//!
//! When the COPY fails on a row (a constraint, a value a column refuses), the
//! batch is written again row by row, each in a savepoint, so that exactly the
//! refused rows go to the dump with the server's reason and the rest are
//! written. Connection loss, server restarts, deadlocks and serialization
//! failures are retried with backoff for `retry_seconds` (default 60), the whole
//! batch again on a new connection; then the run stops (exit 2) naming the
//! batch that was not written.

use super::sql::{pg_ddl, RowMaker, Rows, SqlParams, Val};
use super::{Output, OutputOpts};
use crate::message::Message;
use crate::params::{self, Params};
use crate::pipeline::{eprintln_safe, signal, Fail};
use anyhow::{bail, Context};
use postgres::{Client, Config, NoTls, Transaction};
use std::io::Write as _;
use std::time::{Duration, Instant};

pub struct Postgres {
    config: Config,
    client: Option<Client>,
    sp: SqlParams,
    maker: RowMaker,
    rows: Rows,
    /// The batch as COPY text lines (reused).
    copy: Vec<u8>,
    /// Columns of the current COPY, and a row's value per column (reused).
    cols: Vec<u16>,
    slot: Vec<Option<Val>>,
    what: String,
}

/// The connection: `dsn` (a libpq `key=value` string or a postgresql:// URL)
/// and IntelMQ's host, port, user, password, database, sslmode and
/// connect_timeout over it.
fn config(p: &Params, sp: &SqlParams) -> anyhow::Result<Config> {
    let mut c: Config = match params::string(p, "dsn")? {
        Some(dsn) => dsn.parse().context("parameter dsn")?,
        None => {
            // IntelMQ's defaults.
            let mut c = Config::new();
            c.host("localhost")
                .port(5432)
                .user("intelmq")
                .dbname("intelmq-events");
            c
        }
    };
    if let Some(h) = params::string(p, "host")? {
        c.host(&h);
    }
    if p.get("port").is_some_and(|v| !v.is_null()) {
        let port = params::integer(p, "port", 5432)?;
        c.port(u16::try_from(port).context("parameter port")?);
    }
    if let Some(u) = params::string(p, "user")? {
        c.user(&u);
    }
    if let Some(pw) = params::string(p, "password")? {
        c.password(pw);
    }
    if let Some(d) = params::string(p, "database")? {
        c.dbname(&d);
    }
    // No TLS is built in: `require` (IntelMQ's default) cannot be honoured, and
    // is refused rather than silently downgraded.
    match params::string(p, "sslmode")?.as_deref() {
        None | Some("disable" | "allow" | "prefer") => {
            c.ssl_mode(postgres::config::SslMode::Disable);
        }
        Some(m) => bail!(
            "sslmode {m}: this build of imq has no TLS for PostgreSQL; use sslmode disable \
             (a local or tunnelled server) or prefer"
        ),
    }
    c.connect_timeout(sp.connect_timeout);
    c.application_name("imq-output");
    Ok(c)
}

pub fn build(o: &OutputOpts) -> anyhow::Result<Box<dyn Output>> {
    let mut p = o.params.clone();
    if let Some(t) = &o.target {
        p.entry("dsn").or_insert_with(|| t.clone().into());
    }
    let sp = SqlParams::from_params(&p)?;
    let config = config(&p, &sp)?;
    let what = format!(
        "postgres {}:{}/{} table {}",
        config
            .get_hosts()
            .first()
            .map(|h| match h {
                postgres::config::Host::Tcp(s) => s.clone(),
                #[allow(unreachable_patterns)]
                other => format!("{other:?}"),
            })
            .unwrap_or_default(),
        config.get_ports().first().copied().unwrap_or(5432),
        config.get_dbname().unwrap_or_default(),
        sp.table
    );
    // Connecting is retried like a delivery: a server that is restarting.
    let mut client = retry(sp.retry, &what, || {
        config.connect(NoTls).map_err(Into::into)
    })?;
    if params::boolean(&p, "init", false)? {
        init(&mut client, &sp.table).with_context(|| format!("{what}: --init"))?;
    }
    let names: Vec<String> = client
        .query(
            "SELECT attname::text FROM pg_attribute WHERE attrelid = to_regclass($1) \
             AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            &[&sp.table],
        )
        .with_context(|| what.clone())?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if names.is_empty() {
        bail!("{what}: no such table (imq-output postgres --init creates IntelMQ's)");
    }
    let maker = RowMaker::new(names, &sp, true);
    Ok(Box::new(Postgres {
        config,
        client: Some(client),
        sp,
        maker,
        rows: Rows::default(),
        copy: Vec::new(),
        cols: Vec::new(),
        slot: Vec::new(),
        what,
    }))
}

/// Create IntelMQ's table (and its severity type) unless the table exists.
fn init(client: &mut Client, table: &str) -> anyhow::Result<()> {
    let exists: bool = client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])?
        .get(0);
    if exists {
        return Ok(());
    }
    let ddl = pg_ddl(table, false);
    let (ty, rest) = ddl
        .split_once(");\n")
        .expect("the DDL starts with the type");
    let mut tx = client.transaction()?;
    // The type is shared by all tables; another table may have made it.
    tx.batch_execute(&format!(
        "DO $$ BEGIN {ty}); EXCEPTION WHEN duplicate_object THEN NULL; END $$;"
    ))?;
    tx.batch_execute(rest)?;
    tx.commit()?;
    Ok(())
}

/// How a failure is handled.
#[derive(PartialEq, Debug)]
enum Kind {
    /// Retry the batch on a new connection.
    Transient,
    /// This row is refused (dump it), the others go on.
    Row,
    /// Stop the run.
    Fatal,
}

fn kind(e: &postgres::Error) -> Kind {
    let Some(db) = e.as_db_error() else {
        // I/O, a closed connection, a timeout.
        return Kind::Transient;
    };
    let code = db.code().code();
    match code {
        "40001" | "40P01" | "55P03" | "57014" => Kind::Transient,
        _ if code.starts_with("08") || code.starts_with("57P") || code.starts_with("53") => {
            Kind::Transient
        }
        _ if code.starts_with("22")
            || code.starts_with("23")
            || code.starts_with("P0")
            || code == "42703"
            || code == "42804" =>
        {
            Kind::Row
        }
        _ => Kind::Fatal,
    }
}

fn reason(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut s = format!("postgres: {} ({})", db.message(), db.code().code());
            if let Some(d) = db.detail() {
                s.push_str(": ");
                s.push_str(d);
            }
            s
        }
        None => format!("postgres: {e}"),
    }
}

/// Retry `f` on transient failures for the configured time.
fn retry<T>(
    limit: Duration,
    what: &str,
    mut f: impl FnMut() -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let start = Instant::now();
    let mut wait = Duration::from_millis(100);
    let mut tries = 0u32;
    loop {
        tries += 1;
        match f() {
            Ok(t) => {
                if tries > 1 {
                    eprintln_safe(&format!("imq-output: {what}: done after {tries} attempts"));
                }
                return Ok(t);
            }
            Err(e) => {
                let transient = e
                    .downcast_ref::<postgres::Error>()
                    .is_none_or(|pe| kind(pe) == Kind::Transient);
                if !transient || start.elapsed() + wait > limit || signal::stop_requested() {
                    return Err(e.context(format!(
                        "{what}: failed after {tries} attempts in {:.1} s",
                        start.elapsed().as_secs_f64()
                    )));
                }
                eprintln_safe(&format!(
                    "imq-output: {what}: {e:#}; retrying in {:.1} s",
                    wait.as_secs_f64()
                ));
                let until = Instant::now() + wait;
                while Instant::now() < until && !signal::stop_requested() {
                    std::thread::sleep((until - Instant::now()).min(Duration::from_millis(200)));
                }
                wait = (wait * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// COPY text format: `\N` for NULL, backslash escapes.
fn copy_value(rows: &Rows, v: Option<Val>, out: &mut Vec<u8>) {
    match v {
        None | Some(Val::Null) => out.extend_from_slice(b"\\N"),
        Some(Val::Bool(b)) => out.push(if b { b't' } else { b'f' }),
        Some(Val::Int(x)) => {
            let _ = write!(out, "{x}");
        }
        Some(Val::Real(x)) => {
            if x.is_nan() {
                out.extend_from_slice(b"NaN");
            } else if x.is_infinite() {
                out.extend_from_slice(if x > 0.0 { b"Infinity" } else { b"-Infinity" });
            } else {
                let _ = write!(out, "{x}");
            }
        }
        Some(Val::Text(a, b)) => {
            let s = rows.str(a, b).as_bytes();
            if !s
                .iter()
                .any(|&c| matches!(c, b'\\' | b'\t' | b'\n' | b'\r'))
            {
                out.extend_from_slice(s);
                return;
            }
            for &c in s {
                match c {
                    b'\\' => out.extend_from_slice(b"\\\\"),
                    b'\t' => out.extend_from_slice(b"\\t"),
                    b'\n' => out.extend_from_slice(b"\\n"),
                    b'\r' => out.extend_from_slice(b"\\r"),
                    c => out.push(c),
                }
            }
        }
    }
}

impl Postgres {
    /// The COPY statement and data for rows `range` (the union of their columns).
    fn prepare(&mut self, range: std::ops::Range<usize>) -> String {
        let n = self.maker.names.len();
        let mut used = vec![false; n];
        for i in range.clone() {
            for &(c, _) in self.rows.row(i) {
                used[c as usize] = true;
            }
        }
        self.cols.clear();
        self.cols
            .extend((0..n).filter(|&c| used[c]).map(|c| c as u16));
        let mut pos = vec![usize::MAX; n];
        for (j, &c) in self.cols.iter().enumerate() {
            pos[c as usize] = j;
        }
        self.copy.clear();
        for i in range {
            self.slot.clear();
            self.slot.resize(self.cols.len(), None);
            for &(c, v) in self.rows.row(i) {
                self.slot[pos[c as usize]] = Some(v);
            }
            for (j, v) in self.slot.iter().enumerate() {
                if j > 0 {
                    self.copy.push(b'\t');
                }
                copy_value(&self.rows, *v, &mut self.copy);
            }
            self.copy.push(b'\n');
        }
        let cols: Vec<String> = self
            .cols
            .iter()
            .map(|&c| format!("\"{}\"", self.maker.names[c as usize].replace('"', "\"\"")))
            .collect();
        format!("COPY {} ({}) FROM STDIN", self.sp.table, cols.join(", "))
    }

    fn copy_in(tx: &mut Transaction, stmt: &str, data: &[u8]) -> Result<(), postgres::Error> {
        let mut w = tx.copy_in(stmt)?;
        // An I/O error of the writer shows as the error of finish.
        let _ = w.write_all(data);
        w.finish().map(|_| ())
    }

    /// One attempt at the batch, on the open connection or a new one.
    fn attempt(&mut self) -> Result<Vec<(usize, String)>, postgres::Error> {
        let mut client = match self.client.take() {
            Some(c) if !c.is_closed() => c,
            _ => self.config.connect(NoTls)?,
        };
        let r = self.attempt_on(&mut client);
        self.client = Some(client);
        r
    }

    /// COPY all rows; when one is refused, row by row in savepoints.
    fn attempt_on(&mut self, client: &mut Client) -> Result<Vec<(usize, String)>, postgres::Error> {
        let stmt = self.prepare(0..self.rows.len());
        let mut tx = client.transaction()?;
        match Self::copy_in(&mut tx, &stmt, &self.copy) {
            Ok(()) => {
                tx.commit()?;
                return Ok(Vec::new());
            }
            Err(e) if kind(&e) == Kind::Row => drop(tx),
            Err(e) => return Err(e),
        }
        let mut bad = Vec::new();
        let mut tx = client.transaction()?;
        for i in 0..self.rows.len() {
            let stmt = self.prepare(i..i + 1);
            let mut sp = tx.savepoint("imq_row")?;
            match Self::copy_in(&mut sp, &stmt, &self.copy) {
                Ok(()) => sp.commit()?,
                Err(e) if kind(&e) == Kind::Row => {
                    drop(sp);
                    bad.push((i, reason(&e)));
                }
                Err(e) => return Err(e),
            }
        }
        tx.commit()?;
        Ok(bad)
    }
}

impl Output for Postgres {
    fn write(&mut self, ev: &Message, _original: &[u8]) -> Result<(), Fail> {
        self.maker.add(ev, &mut self.rows)
    }

    fn commit(&mut self) -> anyhow::Result<Vec<(usize, String)>> {
        if self.rows.is_empty() {
            return Ok(Vec::new());
        }
        let what = format!("{}: {} events", self.what, self.rows.len());
        let bad = retry(self.sp.retry, &what, || match self.attempt() {
            Ok(b) => Ok(b),
            Err(e) => {
                let k = kind(&e);
                let err = anyhow::Error::new(e);
                if k == Kind::Transient {
                    Err(err)
                } else {
                    Err(err.context("not retried"))
                }
            }
        })
        .map_err(|e| anyhow::anyhow!("{e:#}; these events were not written (not acknowledged)"))?;
        self.rows.clear();
        Ok(bad)
    }

    fn batch_full(&self) -> bool {
        self.rows.len() >= self.sp.batch_size
    }
}
