//! Key-value state for the experts that remember events (deduplicator, threshold,
//! aggregate): an embedded on-disk store by default, so a restart keeps what was
//! seen, or Redis as IntelMQ uses it.
//!
//! The embedded store keeps the live entries in memory and writes the changed
//! ones to a redb file at every batch boundary (one transaction per batch, not per
//! event), so the state on disk always matches what was written downstream.
//!
//! Parameters: `state` = `local` (default) or `redis`; `state_file` (local;
//! default `$XDG_STATE_HOME/imq/<expert>.redb`, else `~/.local/state/imq/...`);
//! Redis: IntelMQ's `redis_cache_host`, `redis_cache_port`, `redis_cache_db`,
//! `redis_cache_password`, plus `redis_key_prefix` (imq's own; default empty as in
//! IntelMQ).

use super::Params;
use crate::params;
use anyhow::{bail, Context, Result};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

const TABLE: TableDefinition<&str, (u64, &str)> = TableDefinition::new("state");

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

pub enum Store {
    Local {
        db: Database,
        path: PathBuf,
        /// key -> (expiry in ms since the epoch, 0 = never; value)
        mem: HashMap<String, (u64, String)>,
        dirty: HashSet<String>,
        removed: HashSet<String>,
    },
    Redis {
        conn: Box<redis::Connection>,
        prefix: String,
    },
}

fn default_state_file(expert: &str) -> Result<PathBuf> {
    let base = match std::env::var_os("XDG_STATE_HOME") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => {
            let home =
                std::env::var_os("HOME").context("no HOME for the state file; give state_file")?;
            PathBuf::from(home).join(".local/state")
        }
    };
    Ok(base.join("imq").join(format!("{expert}.redb")))
}

impl Store {
    /// Open the store an expert's parameters ask for; `db` is IntelMQ's default
    /// Redis database number for this expert.
    pub fn open(p: &Params, expert: &str, db: i64) -> Result<Store> {
        match params::string_or(p, "state", "local")?.as_str() {
            "local" => {
                let path = match params::string(p, "state_file")? {
                    Some(f) => PathBuf::from(f),
                    None => default_state_file(expert)?,
                };
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("creating {}", dir.display()))?;
                }
                let db = Database::create(&path)
                    .with_context(|| format!("opening the state file {}", path.display()))?;
                let mut mem = HashMap::new();
                let now = now_ms();
                let txn = db.begin_read()?;
                match txn.open_table(TABLE) {
                    Ok(t) => {
                        for item in t.iter()? {
                            let (k, v) = item?;
                            let (exp, val) = v.value();
                            if exp == 0 || exp > now {
                                mem.insert(k.value().to_string(), (exp, val.to_string()));
                            }
                        }
                    }
                    Err(redb::TableError::TableDoesNotExist(_)) => {}
                    Err(e) => return Err(e).context(format!("reading {}", path.display())),
                }
                Ok(Store::Local {
                    db,
                    path,
                    mem,
                    dirty: HashSet::new(),
                    removed: HashSet::new(),
                })
            }
            "redis" => {
                let host = params::string_or(p, "redis_cache_host", "127.0.0.1")?;
                let port = params::integer(p, "redis_cache_port", 6379)?;
                let dbn = params::integer(p, "redis_cache_db", db)?;
                let password = params::string(p, "redis_cache_password")?;
                let password = password.as_deref().filter(|pw| !pw.is_empty());
                let port = u16::try_from(port).context("parameter redis_cache_port")?;
                let conn = crate::net::cache::connect_redis(&host, port, dbn, password)?;
                Ok(Store::Redis {
                    conn: Box::new(conn),
                    prefix: params::string_or(p, "redis_key_prefix", "")?,
                })
            }
            other => bail!("parameter state: {other:?} is neither 'local' nor 'redis'"),
        }
    }

    pub fn get(&mut self, key: &str) -> Result<Option<String>> {
        match self {
            Store::Local { mem, .. } => Ok(match mem.get(key) {
                Some((exp, v)) if *exp == 0 || *exp > now_ms() => Some(v.clone()),
                _ => None,
            }),
            Store::Redis { conn, prefix } => Ok(redis::cmd("GET")
                .arg(format!("{prefix}{key}"))
                .query(conn.as_mut())?),
        }
    }

    pub fn exists(&mut self, key: &str) -> Result<bool> {
        match self {
            Store::Local { mem, .. } => {
                Ok(matches!(mem.get(key), Some((exp, _)) if *exp == 0 || *exp > now_ms()))
            }
            Store::Redis { conn, prefix } => Ok(redis::cmd("EXISTS")
                .arg(format!("{prefix}{key}"))
                .query::<i64>(conn.as_mut())?
                > 0),
        }
    }

    /// Set a value; `ttl` in seconds (None or 0: no expiry).
    pub fn set(&mut self, key: &str, value: &str, ttl: Option<u64>) -> Result<()> {
        let ttl = ttl.filter(|&t| t > 0);
        match self {
            Store::Local {
                mem,
                dirty,
                removed,
                ..
            } => {
                let exp = ttl.map_or(0, |t| now_ms() + t * 1000);
                mem.insert(key.to_string(), (exp, value.to_string()));
                removed.remove(key);
                dirty.insert(key.to_string());
                Ok(())
            }
            Store::Redis { conn, prefix } => {
                let mut c = redis::cmd("SET");
                c.arg(format!("{prefix}{key}")).arg(value);
                if let Some(t) = ttl {
                    c.arg("EX").arg(t);
                }
                c.query::<()>(conn.as_mut())?;
                Ok(())
            }
        }
    }

    pub fn delete(&mut self, key: &str) -> Result<()> {
        match self {
            Store::Local {
                mem,
                dirty,
                removed,
                ..
            } => {
                mem.remove(key);
                dirty.remove(key);
                removed.insert(key.to_string());
                Ok(())
            }
            Store::Redis { conn, prefix } => {
                redis::cmd("DEL")
                    .arg(format!("{prefix}{key}"))
                    .query::<()>(conn.as_mut())?;
                Ok(())
            }
        }
    }

    /// Keys starting with `start`.
    pub fn keys(&mut self, start: &str) -> Result<Vec<String>> {
        match self {
            Store::Local { mem, .. } => {
                let now = now_ms();
                let mut v: Vec<String> = mem
                    .iter()
                    .filter(|(k, (exp, _))| k.starts_with(start) && (*exp == 0 || *exp > now))
                    .map(|(k, _)| k.clone())
                    .collect();
                v.sort();
                Ok(v)
            }
            Store::Redis { conn, prefix } => {
                let mut keys: Vec<String> = redis::cmd("KEYS")
                    .arg(format!("{prefix}{start}*"))
                    .query(conn.as_mut())?;
                keys.sort();
                Ok(keys
                    .into_iter()
                    .map(|k| k[prefix.len()..].to_string())
                    .collect())
            }
        }
    }

    /// Write the changes to disk (local store); expired entries are purged.
    pub fn commit(&mut self) -> Result<()> {
        let Store::Local {
            db,
            path,
            mem,
            dirty,
            removed,
        } = self
        else {
            return Ok(());
        };
        let now = now_ms();
        let expired: Vec<String> = mem
            .iter()
            .filter(|(_, (exp, _))| *exp != 0 && *exp <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for k in expired {
            mem.remove(&k);
            dirty.remove(&k);
            removed.insert(k);
        }
        if dirty.is_empty() && removed.is_empty() {
            return Ok(());
        }
        let txn = db.begin_write()?;
        {
            let mut t = txn.open_table(TABLE)?;
            for k in dirty.drain() {
                if let Some((exp, v)) = mem.get(&k) {
                    t.insert(k.as_str(), (*exp, v.as_str()))?;
                }
            }
            for k in removed.drain() {
                t.remove(k.as_str())?;
            }
        }
        txn.commit()
            .with_context(|| format!("writing the state file {}", path.display()))?;
        Ok(())
    }
}
