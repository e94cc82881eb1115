//! generic_db_lookup: copy columns of the matching row of a PostgreSQL table
//! into the event (IntelMQ `intelmq.bots.experts.generic_db_lookup.expert`).
//!
//! `match_fields` maps event fields to columns (all must be in the event and
//! equal), `replace_fields` maps columns to event fields (set with overwrite).
//! Events that already have every replace field pass unchanged unless
//! `overwrite`. More than one row is an error (dump), as in IntelMQ.
//!
//! The connection is opened and the query prepared at start, so a wrong host,
//! table or column is a configuration error (exit 2). Only the `postgresql`
//! engine is supported, without TLS: `sslmode` must be disable, allow or prefer.

use super::{Expert, Params, Verdict};
use crate::message::Message;
use crate::params;
use crate::pipeline::Fail;
use postgres::types::{ToSql, Type};
use postgres::{Client, NoTls, Statement};
use serde_json::{Map, Value};

pub struct GenericDbLookup {
    config: postgres::Config,
    client: Option<Client>,
    query: String,
    stmt: Option<Statement>,
    matches: Vec<(String, String)>,
    replaces: Vec<(String, String)>,
    overwrite: bool,
}

fn pairs(p: &Params, key: &str, default: &[(&str, &str)]) -> anyhow::Result<Vec<(String, String)>> {
    match p.get(key) {
        None | Some(Value::Null) => Ok(default
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                other => anyhow::bail!("parameter {key}: {k} maps to {other}, expected a name"),
            })
            .collect(),
        Some(Value::String(s)) => match serde_json::from_str::<Map<String, Value>>(s) {
            Ok(m) => pairs(
                &Params::from_iter([(key.to_string(), Value::Object(m))]),
                key,
                default,
            ),
            Err(_) => anyhow::bail!("parameter {key}: expected a JSON object"),
        },
        Some(v) => anyhow::bail!("parameter {key}: expected an object, got {v}"),
    }
}

fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Expert>> {
    let engine = params::text(p, "engine").map_or("postgresql".into(), |s| s.into_owned());
    if engine != "postgresql" {
        anyhow::bail!("parameter engine: only postgresql is supported, got {engine:?}");
    }
    let sslmode = params::text(p, "sslmode").map_or("prefer".into(), |s| s.into_owned());
    if !matches!(sslmode.as_str(), "disable" | "allow" | "prefer") {
        anyhow::bail!(
            "parameter sslmode: {sslmode:?} needs TLS, which this build does not speak to PostgreSQL; use disable, allow or prefer"
        );
    }
    let timeout = params::timeout(p)?;
    let mut config = postgres::Config::new();
    config
        .host(&params::text(p, "host").map_or("localhost".into(), |s| s.into_owned()))
        .port(params::number(p, "port", 5432.0)? as u16)
        .dbname(&params::text(p, "database").map_or("intelmq".into(), |s| s.into_owned()))
        .user(&params::text(p, "user").map_or("intelmq".into(), |s| s.into_owned()))
        .connect_timeout(timeout)
        .options(&format!("-c statement_timeout={}", timeout.as_millis()));
    if let Some(pw) = params::text(p, "password") {
        config.password(pw.as_bytes());
    }
    let table = params::text(p, "table").map_or("contacts".into(), |s| s.into_owned());
    let matches = pairs(p, "match_fields", &[("source.asn", "asn")])?;
    let replaces = pairs(
        p,
        "replace_fields",
        &[("contact", "source.abuse_contact"), ("note", "comment")],
    )?;
    if matches.is_empty() || replaces.is_empty() {
        anyhow::bail!("parameters match_fields and replace_fields must not be empty");
    }
    let cols: Vec<String> = replaces.iter().map(|(c, _)| ident(c)).collect();
    let conds: Vec<String> = matches
        .iter()
        .enumerate()
        .map(|(i, (_, c))| format!("{} = ${}", ident(c), i + 1))
        .collect();
    let query = format!(
        "SELECT {} FROM {} WHERE {}",
        cols.join(", "),
        ident(&table),
        conds.join(" AND ")
    );
    let mut me = GenericDbLookup {
        config,
        client: None,
        query,
        stmt: None,
        matches,
        replaces,
        overwrite: params::boolean(p, "overwrite", false)?,
    };
    me.connect()
        .map_err(|e| anyhow::anyhow!("generic_db_lookup: {e}"))?;
    Ok(Box::new(me))
}

/// An event value as a parameter of the column's type.
fn to_param(v: &Value, ty: &Type) -> Result<Box<dyn ToSql + Sync>, String> {
    let text = || match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let bad = || format!("value {v} does not fit column type {ty}");
    Ok(match *ty {
        Type::INT8 => Box::new(text().parse::<i64>().map_err(|_| bad())?),
        Type::INT4 => Box::new(text().parse::<i32>().map_err(|_| bad())?),
        Type::INT2 => Box::new(text().parse::<i16>().map_err(|_| bad())?),
        Type::FLOAT8 => Box::new(text().parse::<f64>().map_err(|_| bad())?),
        Type::FLOAT4 => Box::new(text().parse::<f32>().map_err(|_| bad())?),
        Type::BOOL => Box::new(v.as_bool().ok_or_else(bad)?),
        _ => Box::new(text()),
    })
}

/// A column value as JSON.
fn from_row(row: &postgres::Row, i: usize) -> Result<Value, String> {
    let ty = row.columns()[i].type_().clone();
    let err = |e: postgres::Error| format!("column {}: {e}", row.columns()[i].name());
    Ok(match ty {
        Type::INT8 => row.try_get::<_, Option<i64>>(i).map_err(err)?.into(),
        Type::INT4 => row.try_get::<_, Option<i32>>(i).map_err(err)?.into(),
        Type::INT2 => row.try_get::<_, Option<i16>>(i).map_err(err)?.into(),
        Type::FLOAT8 => row.try_get::<_, Option<f64>>(i).map_err(err)?.into(),
        Type::FLOAT4 => row.try_get::<_, Option<f32>>(i).map_err(err)?.into(),
        Type::BOOL => row.try_get::<_, Option<bool>>(i).map_err(err)?.into(),
        _ => row.try_get::<_, Option<String>>(i).map_err(err)?.into(),
    })
}

impl GenericDbLookup {
    fn connect(&mut self) -> Result<(), String> {
        let mut client = self.config.connect(NoTls).map_err(|e| e.to_string())?;
        let stmt = client.prepare(&self.query).map_err(|e| {
            let detail = e.as_db_error().map(|d| d.message().to_string());
            format!(
                "{}: {}",
                self.query,
                detail.unwrap_or_else(|| e.to_string())
            )
        })?;
        self.client = Some(client);
        self.stmt = Some(stmt);
        Ok(())
    }

    fn lookup(&mut self, ev: &Message) -> Result<Vec<postgres::Row>, String> {
        if self.client.as_ref().is_none_or(|c| c.is_closed()) {
            self.connect()?;
        }
        let stmt = self.stmt.clone().expect("prepared");
        let mut params: Vec<Box<dyn ToSql + Sync>> = Vec::with_capacity(self.matches.len());
        for ((field, _), ty) in self.matches.iter().zip(stmt.params()) {
            params.push(to_param(ev.get(field).expect("checked"), ty)?);
        }
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|b| b.as_ref()).collect();
        let client = self.client.as_mut().expect("connected");
        client.query(&stmt, &refs).map_err(|e| e.to_string())
    }
}

impl Expert for GenericDbLookup {
    fn process(&mut self, ev: &mut Message) -> Result<Verdict, Fail> {
        if self.matches.iter().any(|(f, _)| !ev.contains(f)) {
            return Ok(Verdict::Keep);
        }
        if !self.overwrite && self.replaces.iter().all(|(_, f)| ev.contains(f)) {
            return Ok(Verdict::Keep);
        }
        let rows = self
            .lookup(ev)
            .map_err(|e| Fail::Reject(format!("generic_db_lookup: {e}")))?;
        if rows.len() > 1 {
            return Err(Fail::Reject(
                "generic_db_lookup: Lookup returned more then one result. Please inspect.".into(),
            ));
        }
        if let Some(row) = rows.first() {
            for (i, (_, field)) in self.replaces.iter().enumerate() {
                let v = from_row(row, i)
                    .map_err(|e| Fail::Reject(format!("generic_db_lookup: {e}")))?;
                ev.set(field, v)?;
            }
        }
        Ok(Verdict::Keep)
    }
}
