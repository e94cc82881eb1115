//! What the SQL outputs (sqlite, postgres) share: IntelMQ's `events` table
//! (the DDL of `intelmq_psql_initdb`, and its SQLite variant), the row IntelMQ's
//! sql output inserts for an event, IntelMQ's parameters, and the batch of rows.

use crate::harmonization::{harmonization, FieldType, MsgType};
use crate::message::Message;
use crate::params::{self, Params};
use crate::pipeline::Fail;
use anyhow::bail;
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;

/// The columns `intelmq_psql_initdb` indexes, in its order.
const INDICES: &[&str] = &[
    "classification.identifier",
    "classification.taxonomy",
    "classification.type",
    "feed.code",
    "feed.name",
    "source.abuse_contact",
    "source.asn",
    "source.ip",
    "source.fqdn",
    "time.observation",
    "time.source",
];

const SEVERITIES: &str =
    "'critical',\n    'high',\n    'medium',\n    'low',\n    'info',\n    'undefined'";

/// The PostgreSQL type `intelmq_psql_initdb` gives each event field, sorted by
/// name.
pub fn pg_columns() -> Vec<(&'static str, String)> {
    let mut cols: Vec<(&'static str, String)> = harmonization()
        .fields(MsgType::Event)
        .iter()
        .map(|f| {
            use FieldType::*;
            let ty = match f.ty {
                _ if f.name == "severity" => "severity_enum".to_string(),
                String
                | Base64
                | Url
                | Fqdn
                | ClassificationType
                | LowercaseString
                | UppercaseString
                | Registry
                | Tlp
                | ClassificationTaxonomy => match f.length {
                    Some(n) => format!("varchar({n})"),
                    None => "text".into(),
                },
                IpAddress | IpNetwork => "inet".into(),
                DateTime => "timestamp with time zone".into(),
                Boolean => "boolean".into(),
                Integer | Asn => "integer".into(),
                Float | Accuracy => "real".into(),
                Json | JsonDict => "jsonb".into(),
            };
            (f.name, ty)
        })
        .collect();
    cols.sort();
    cols
}

/// Table names are put into statements as IntelMQ does (unquoted, so
/// `schema.table` works); only plain identifiers are accepted.
pub fn check_table(t: &str) -> anyhow::Result<()> {
    let ok = !t.is_empty()
        && t.split('.').all(|p| {
            !p.is_empty()
                && !p.starts_with(|c: char| c.is_ascii_digit())
                && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        });
    if !ok {
        bail!("parameter table: {t:?} is not a plain (schema.)table name");
    }
    Ok(())
}

/// The last part of a table name, for index names (`idx_events_...`).
fn short(table: &str) -> &str {
    table.rsplit('.').next().unwrap_or(table)
}

/// `intelmq_psql_initdb`'s output for the default harmonization, for `table`
/// (`events` gives the exact text); `if_not_exists` is its `--skip-or-replace`.
pub fn pg_ddl(table: &str, if_not_exists: bool) -> String {
    let ine = if if_not_exists { " IF NOT EXISTS" } else { "" };
    let mut s = format!("CREATE TYPE severity_enum AS ENUM (\n    {SEVERITIES}\n);\n");
    s.push_str(&format!(
        "CREATE TABLE{ine} {table} (\n    \"id\" BIGSERIAL UNIQUE PRIMARY KEY,\n"
    ));
    let cols = pg_columns();
    for (i, (name, ty)) in cols.iter().enumerate() {
        let sep = if i + 1 < cols.len() { "," } else { "" };
        s.push_str(&format!("    \"{name}\" {ty}{sep}\n"));
    }
    s.push_str(");");
    for c in INDICES {
        s.push_str(&format!(
            "\nCREATE INDEX{ine} \"idx_{}_{c}\" ON {table} USING btree (\"{c}\");",
            short(table)
        ));
    }
    s
}

/// The SQLite variant: the same columns and indexes; types SQLite has no
/// equivalent for are text (inet, timestamps, jsonb), severity is checked
/// against the enum's values.
pub fn sqlite_ddl(table: &str, indexes: bool) -> String {
    let mut s = format!("CREATE TABLE IF NOT EXISTS {table} (\n    \"id\" INTEGER PRIMARY KEY,\n");
    let cols = pg_columns();
    for (i, (name, ty)) in cols.iter().enumerate() {
        let ty = match ty.as_str() {
            "severity_enum" => format!(
                "text CHECK (\"severity\" IN ({}))",
                SEVERITIES.replace(",\n    ", ", ")
            ),
            "inet" | "jsonb" | "timestamp with time zone" => "text".into(),
            t => t.to_string(),
        };
        let sep = if i + 1 < cols.len() { "," } else { "" };
        s.push_str(&format!("    \"{name}\" {ty}{sep}\n"));
    }
    s.push_str(");");
    if indexes {
        for c in INDICES {
            s.push_str(&format!(
                "\nCREATE INDEX IF NOT EXISTS \"idx_{}_{c}\" ON {table} (\"{c}\");",
                short(table)
            ));
        }
    }
    s
}

/// IntelMQ's sql parameters common to both engines.
pub struct SqlParams {
    pub table: String,
    pub fields: Option<Vec<String>>,
    pub jsondict_as_string: bool,
    pub batch_size: usize,
    pub retry: Duration,
    pub connect_timeout: Duration,
}

impl SqlParams {
    pub fn from_params(p: &Params) -> anyhow::Result<SqlParams> {
        let table = params::string_or(p, "table", "events")?;
        check_table(&table)?;
        let batch_size = params::integer(p, "batch_size", 4096)?;
        if !(1..=1_000_000).contains(&batch_size) {
            bail!("parameter batch_size: 1 to 1000000, got {batch_size}");
        }
        let retry = params::number(p, "retry_seconds", 60.0)?;
        if !(retry >= 0.0 && retry.is_finite()) {
            bail!("parameter retry_seconds: a number of seconds >= 0, got {retry}");
        }
        let ct = params::number(p, "connect_timeout", 5.0)?;
        let fields = params::list(p, "fields")?;
        crate::names::check_fields("parameter fields", fields.iter().flatten())?;
        Ok(SqlParams {
            table,
            fields,
            jsondict_as_string: params::boolean(p, "jsondict_as_string", true)?,
            batch_size: batch_size as usize,
            retry: Duration::from_secs_f64(retry),
            connect_timeout: Duration::from_secs_f64(ct.max(0.1)),
        })
    }
}

/// One value of a row, its text in the batch's arena.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Val {
    Null,
    Bool(bool),
    Int(i64),
    Real(f64),
    Text(u32, u32),
}

/// The rows of a batch: cells `(column, value)` of every row end to end.
#[derive(Default)]
pub struct Rows {
    pub text: String,
    pub cells: Vec<(u16, Val)>,
    /// Where each row's cells end.
    pub ends: Vec<u32>,
}

impl Rows {
    pub fn len(&self) -> usize {
        self.ends.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
    pub fn clear(&mut self) {
        self.text.clear();
        self.cells.clear();
        self.ends.clear();
    }
    pub fn row(&self, i: usize) -> &[(u16, Val)] {
        let a = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.cells[a..self.ends[i] as usize]
    }
    pub fn str(&self, a: u32, b: u32) -> &str {
        &self.text[a as usize..b as usize]
    }
    fn push_text(&mut self, s: &str) -> Val {
        let a = self.text.len() as u32;
        self.text.push_str(s);
        Val::Text(a, self.text.len() as u32)
    }
}

/// Turns events into rows of a table whose columns are known.
pub struct RowMaker {
    columns: HashMap<String, u16>,
    pub names: Vec<String>,
    fields: Option<Vec<String>>,
    jsondict_as_string: bool,
    table: String,
    extra: Vec<u8>,
    /// Replace NUL in text by the six characters `\u0000` (PostgreSQL, as IntelMQ).
    nul_escape: bool,
}

impl RowMaker {
    pub fn new(names: Vec<String>, sp: &SqlParams, nul_escape: bool) -> RowMaker {
        RowMaker {
            columns: names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.clone(), i as u16))
                .collect(),
            names,
            fields: sp.fields.clone(),
            jsondict_as_string: sp.jsondict_as_string,
            table: sp.table.clone(),
            extra: Vec::new(),
            nul_escape,
        }
    }

    fn col(&self, key: &str) -> Result<u16, Fail> {
        self.columns.get(key).copied().ok_or_else(|| {
            Fail::Reject(format!(
                "column \"{key}\" of relation \"{}\" does not exist",
                self.table
            ))
        })
    }

    fn text(&self, rows: &mut Rows, s: &str) -> Val {
        if self.nul_escape && s.contains('\0') {
            rows.push_text(&s.replace('\0', "\\u0000"))
        } else {
            rows.push_text(s)
        }
    }

    /// IntelMQ's `to_dict(jsondict_as_string=True)` of the event, restricted to
    /// `fields` when given, as one row; an event with a field the table has no
    /// column for is refused.
    pub fn add(&mut self, ev: &Message, rows: &mut Rows) -> Result<(), Fail> {
        let start = rows.cells.len();
        let r = self.add_cells(ev, rows);
        match r {
            Ok(()) => {
                rows.ends.push(rows.cells.len() as u32);
                Ok(())
            }
            Err(e) => {
                rows.cells.truncate(start);
                Err(e)
            }
        }
    }

    fn add_cells(&mut self, ev: &Message, rows: &mut Rows) -> Result<(), Fail> {
        let wanted = |k: &str, fields: &Option<Vec<String>>| match fields {
            None => true,
            Some(f) => f.iter().any(|x| x == k),
        };
        let mut has_extra = false;
        for i in 0..ev.len() {
            let key = ev.key_at(i).unwrap_or_default();
            if self.jsondict_as_string && key.starts_with("extra.") {
                has_extra = true;
                continue;
            }
            if !wanted(key, &self.fields) {
                continue;
            }
            let col = self.col(key)?;
            let val = match ev.str_at(i) {
                Some(s) => self.text(rows, s),
                None => match ev.value_at(i).unwrap_or(&Value::Null) {
                    Value::Null => Val::Null,
                    Value::Bool(b) => Val::Bool(*b),
                    Value::Number(n) => match n.as_i64() {
                        Some(x) if !n.is_f64() => Val::Int(x),
                        _ => Val::Real(n.as_f64().unwrap_or(f64::NAN)),
                    },
                    other => {
                        self.extra.clear();
                        super::export_fast::write_value_as(other, false, &mut self.extra);
                        let s = String::from_utf8_lossy(&self.extra).into_owned();
                        self.text(rows, &s)
                    }
                },
            };
            rows.cells.push((col, val));
        }
        if has_extra && wanted("extra", &self.fields) {
            // One "extra" key, last, holding the extra.* fields as a JSON object
            // with the rest of each key kept flat, as IntelMQ writes it.
            let col = self.col("extra")?;
            self.extra.clear();
            self.extra.push(b'{');
            for (k, v) in ev.iter() {
                let Some(sub) = k.strip_prefix("extra.") else {
                    continue;
                };
                if self.extra.len() > 1 {
                    self.extra.extend_from_slice(b", ");
                }
                super::export_fast::write_str(sub, &mut self.extra);
                self.extra.extend_from_slice(b": ");
                super::export_fast::write_value_as(v, false, &mut self.extra);
            }
            self.extra.push(b'}');
            let s = String::from_utf8_lossy(&self.extra).into_owned();
            let v = self.text(rows, &s);
            rows.cells.push((col, v));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ddl_is_intelmq_psql_initdb() {
        // Generated by intelmq_psql_initdb of IntelMQ 3.5.0.
        let want = include_str!("../../tests/data/intelmq_psql_initdb.sql");
        assert_eq!(pg_ddl("events", false), want);
    }

    #[test]
    fn rows_like_intelmq() {
        let sp = SqlParams::from_params(&Params::new()).unwrap();
        let names: Vec<String> = std::iter::once("id".to_string())
            .chain(pg_columns().into_iter().map(|c| c.0.to_string()))
            .collect();
        let mut m = RowMaker::new(names.clone(), &sp, true);
        let ev = Message::from_json(
            br#"{"extra.b.c":"q","source.port":80,"extra.a":{"y":1,"x":[true]},"comment":"a\u0000b","feed.accuracy":50.5}"#,
            MsgType::Event,
        )
        .unwrap();
        let mut rows = Rows::default();
        m.add(&ev, &mut rows).unwrap();
        let got: Vec<(String, String)> = rows
            .row(0)
            .iter()
            .map(|(c, v)| {
                let v = match v {
                    Val::Text(a, b) => rows.str(*a, *b).to_string(),
                    other => format!("{other:?}"),
                };
                (names[*c as usize].clone(), v)
            })
            .collect();
        assert_eq!(
            got,
            [
                ("source.port".into(), "Int(80)".into()),
                ("comment".into(), "a\\u0000b".into()),
                ("feed.accuracy".into(), "Real(50.5)".into()),
                (
                    "extra".into(),
                    r#"{"b.c": "q", "a": {"y": 1, "x": [true]}}"#.into()
                ),
            ]
        );
        let bad = Message::from_json(br#"{"source.port":80}"#, MsgType::Event).unwrap();
        let mut m = RowMaker::new(vec!["id".into(), "comment".into()], &sp, true);
        assert!(
            matches!(m.add(&bad, &mut rows), Err(Fail::Reject(r)) if r.contains("source.port"))
        );
        assert_eq!(rows.len(), 1);
        assert_eq!(rows.cells.len(), 4);
    }
}
