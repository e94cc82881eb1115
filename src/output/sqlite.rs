//! `sqlite`: events as rows of IntelMQ's `events` table in an SQLite file, the
//! embedded default store (`imq-output sqlite events.db`). The table (the SQLite
//! variant of `intelmq_psql_initdb`'s, see [`super::sql`]) is created when
//! missing; the file is in WAL mode; each batch is one transaction, so an event
//! counts as written only once its transaction committed. A row SQLite refuses
//! (a constraint, a type) is dumped with SQLite's reason, the rest of the batch is
//! written; a locked database is waited for and retried for `retry_seconds`.
//! IntelMQ's sql output with `engine: sqlite` maps here.

use super::sql::{sqlite_ddl, RowMaker, Rows, SqlParams, Val};
use super::{Output, OutputOpts};
use crate::message::Message;
use crate::params;
use crate::pipeline::Fail;
use anyhow::{bail, Context};
use rusqlite::{types::Null, Connection, ErrorCode, TransactionBehavior};
use std::collections::HashMap;
use std::time::{Duration, Instant};

pub struct Sqlite {
    conn: Connection,
    sp: SqlParams,
    maker: RowMaker,
    rows: Rows,
    /// INSERT statements by the columns they set, in order.
    sql: HashMap<Vec<u16>, String>,
    key: Vec<u16>,
    path: String,
}

pub fn build(o: &OutputOpts) -> anyhow::Result<Box<dyn Output>> {
    let p = &o.params;
    let Some(path) = params::string(p, "database")?.or_else(|| o.target.clone()) else {
        bail!(
            "sqlite: the database file is required (imq-output sqlite FILE, or parameter database)"
        );
    };
    let sp = SqlParams::from_params(p)?;
    let conn = Connection::open(&path).with_context(|| format!("sqlite {path}"))?;
    conn.busy_timeout(Duration::from_secs(5))?;
    // WAL: readers (sqlite3, IntelMQ's API, a dashboard) never block the writer.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.set_prepared_statement_cache_capacity(64);
    let mut names = columns(&conn, &sp.table)?;
    if names.is_empty() && params::boolean(p, "create_table", true)? {
        conn.execute_batch(&sqlite_ddl(&sp.table, params::boolean(p, "indexes", true)?))
            .with_context(|| format!("sqlite {path}: creating table {}", sp.table))?;
        names = columns(&conn, &sp.table)?;
    }
    if names.is_empty() {
        bail!("sqlite {path}: no table {}", sp.table);
    }
    let maker = RowMaker::new(names, &sp, false);
    Ok(Box::new(Sqlite {
        conn,
        sp,
        maker,
        rows: Rows::default(),
        sql: HashMap::new(),
        key: Vec::new(),
        path,
    }))
}

fn columns(conn: &Connection, table: &str) -> anyhow::Result<Vec<String>> {
    let (schema, name) = match table.split_once('.') {
        Some((s, t)) => (s, t),
        None => ("main", table),
    };
    let mut st = conn.prepare(&format!("PRAGMA \"{schema}\".table_info(\"{name}\")"))?;
    let names = st
        .query_map([], |r| r.get::<_, String>(1))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(names)
}

/// Errors that go away by themselves: another writer holds the lock.
fn transient(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

/// Errors of one row: that row is refused, the others are written.
fn refused(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::ConstraintViolation | ErrorCode::TypeMismatch | ErrorCode::TooBig)
    )
}

impl Sqlite {
    /// One attempt at writing the batch in one transaction.
    fn attempt(&mut self) -> rusqlite::Result<Vec<(usize, String)>> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut bad = Vec::new();
        for i in 0..self.rows.len() {
            let row = self.rows.row(i);
            self.key.clear();
            self.key.extend(row.iter().map(|c| c.0));
            if !self.sql.contains_key(self.key.as_slice()) {
                let cols: Vec<String> = self
                    .key
                    .iter()
                    .map(|&c| format!("\"{}\"", self.maker.names[c as usize].replace('"', "\"\"")))
                    .collect();
                let marks = vec!["?"; cols.len()].join(", ");
                let sql = format!(
                    "INSERT INTO {} ({}) VALUES ({marks})",
                    self.sp.table,
                    cols.join(", ")
                );
                self.sql.insert(self.key.clone(), sql);
            }
            let sql = &self.sql[self.key.as_slice()];
            let mut st = tx.prepare_cached(sql)?;
            for (j, (_, v)) in row.iter().enumerate() {
                let n = j + 1;
                match *v {
                    Val::Null => st.raw_bind_parameter(n, Null)?,
                    Val::Bool(b) => st.raw_bind_parameter(n, b as i64)?,
                    Val::Int(x) => st.raw_bind_parameter(n, x)?,
                    Val::Real(x) => st.raw_bind_parameter(n, x)?,
                    Val::Text(a, b) => st.raw_bind_parameter(n, self.rows.str(a, b))?,
                }
            }
            match st.raw_execute() {
                Ok(_) => {}
                Err(e) if refused(&e) => bad.push((i, format!("sqlite: {e}"))),
                Err(e) => return Err(e),
            }
        }
        tx.commit()?;
        Ok(bad)
    }
}

impl Output for Sqlite {
    fn write(&mut self, ev: &Message, _original: &[u8]) -> Result<(), Fail> {
        self.maker.add(ev, &mut self.rows)
    }

    fn commit(&mut self) -> anyhow::Result<Vec<(usize, String)>> {
        if self.rows.is_empty() {
            return Ok(Vec::new());
        }
        let start = Instant::now();
        let mut wait = Duration::from_millis(100);
        loop {
            match self.attempt() {
                Ok(bad) => {
                    self.rows.clear();
                    return Ok(bad);
                }
                Err(e) if transient(&e) && start.elapsed() + wait <= self.sp.retry => {
                    crate::pipeline::eprintln_safe(&format!(
                        "imq-output: sqlite {}: {e}; retrying in {:.1} s",
                        self.path,
                        wait.as_secs_f64()
                    ));
                    std::thread::sleep(wait);
                    wait = (wait * 2).min(Duration::from_secs(5));
                }
                Err(e) => bail!(
                    "sqlite {}: {} events not written: {e}",
                    self.path,
                    self.rows.len()
                ),
            }
        }
    }

    fn batch_full(&self) -> bool {
        self.rows.len() >= self.sp.batch_size
    }
}
