//! The lookup cache of the network experts: a bounded in-process LRU map whose
//! entries expire after a TTL, or, when `redis_cache_host` is given, the Redis
//! cache IntelMQ's experts use (same key layout, so a cache can be shared with
//! running IntelMQ bots).

use crate::enrich::Params;
use crate::params;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

/// Default number of entries kept in memory.
pub const DEFAULT_SIZE: usize = 100_000;

struct Slot {
    value: String,
    expires: Instant,
    stamp: u64,
}

/// Bounded LRU map with per-entry expiry.
pub struct Lru {
    map: HashMap<String, Slot>,
    /// use stamp -> key, oldest first.
    order: BTreeMap<u64, String>,
    next: u64,
    cap: usize,
}

impl Lru {
    pub fn new(cap: usize) -> Lru {
        Lru {
            map: HashMap::new(),
            order: BTreeMap::new(),
            next: 0,
            cap: cap.max(1),
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn get(&mut self, key: &str, now: Instant) -> Option<&str> {
        let slot = self.map.get_mut(key)?;
        if slot.expires <= now {
            let stamp = slot.stamp;
            self.order.remove(&stamp);
            self.map.remove(key);
            return None;
        }
        // Touch: move to the young end.
        let k = self.order.remove(&slot.stamp).expect("order in sync");
        slot.stamp = self.next;
        self.order.insert(self.next, k);
        self.next += 1;
        Some(&self.map[key].value)
    }

    pub fn set(&mut self, key: &str, value: String, ttl: Duration, now: Instant) {
        if let Some(old) = self.map.remove(key) {
            self.order.remove(&old.stamp);
        }
        while self.map.len() >= self.cap {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            self.map.remove(&oldest);
        }
        self.map.insert(
            key.to_string(),
            Slot {
                value,
                expires: now + ttl,
                stamp: self.next,
            },
        );
        self.order.insert(self.next, key.to_string());
        self.next += 1;
    }
}

enum Store {
    Mem(Lru),
    Redis(redis::Connection),
}

/// The cache an expert uses. Values are strings, as in IntelMQ's CacheMixin.
pub struct Cache {
    store: Store,
    ttl: Duration,
    prefix: String,
}

impl Cache {
    /// Build from the parameters `redis_cache_host`, `redis_cache_port`,
    /// `redis_cache_db`, `redis_cache_password`, `redis_cache_ttl` (IntelMQ's
    /// names; `default_db`/`default_ttl` are the expert's IntelMQ defaults) and
    /// `cache_size`, `cache_key_prefix` (ours). Without `redis_cache_host` the
    /// cache is in-process. A Redis that cannot be reached is an error here,
    /// before any event is read.
    pub fn from_params(p: &Params, default_db: i64, default_ttl: f64) -> anyhow::Result<Cache> {
        let ttl = params::number(p, "redis_cache_ttl", default_ttl)?;
        let ttl = Duration::from_secs_f64(ttl.max(0.0));
        let prefix = params::text(p, "cache_key_prefix")
            .map(|s| s.into_owned())
            .unwrap_or_default();
        let store = match params::text(p, "redis_cache_host") {
            Some(host) if !host.is_empty() => {
                let db = params::number(p, "redis_cache_db", default_db as f64)? as i64;
                let port = params::number(p, "redis_cache_port", 6379.0)? as u16;
                let password = params::text(p, "redis_cache_password");
                Store::Redis(connect_redis(&host, port, db, password.as_deref())?)
            }
            _ => {
                let size = params::number(p, "cache_size", DEFAULT_SIZE as f64)?;
                Store::Mem(Lru::new(size as usize))
            }
        };
        Ok(Cache { store, ttl, prefix })
    }

    /// An in-process cache.
    pub fn memory(size: usize, ttl: Duration) -> Cache {
        Cache {
            store: Store::Mem(Lru::new(size)),
            ttl,
            prefix: String::new(),
        }
    }

    /// A cached value. Redis errors are transport failures of this event.
    pub fn get(&mut self, key: &str) -> Result<Option<String>, String> {
        if self.ttl.is_zero() {
            return Ok(None);
        }
        match &mut self.store {
            Store::Mem(m) => Ok(m.get(key, Instant::now()).map(str::to_string)),
            Store::Redis(c) => redis::cmd("GET")
                .arg(format!("{}{key}", self.prefix))
                .query::<Option<String>>(c)
                .map_err(|e| format!("redis cache: {e}")),
        }
    }

    /// Store a value for `ttl` (the configured TTL when `None`, or when longer).
    pub fn set(&mut self, key: &str, value: &str, ttl: Option<Duration>) -> Result<(), String> {
        let ttl = ttl.map_or(self.ttl, |t| t.min(self.ttl));
        if ttl.is_zero() {
            return Ok(());
        }
        match &mut self.store {
            Store::Mem(m) => {
                m.set(key, value.to_string(), ttl, Instant::now());
                Ok(())
            }
            Store::Redis(c) => redis::cmd("SET")
                .arg(format!("{}{key}", self.prefix))
                .arg(value)
                .arg("EX")
                .arg(ttl.as_secs().max(1))
                .query::<()>(c)
                .map_err(|e| format!("redis cache: {e}")),
        }
    }
}

/// A checked connection (PING) to a Redis server given IntelMQ-style: a host name
/// or address, or a Unix socket path (`/path` or `unix:///path`); with timeouts
/// so that a dead server fails the bot instead of hanging it.
pub fn connect_redis(
    host: &str,
    port: u16,
    db: i64,
    password: Option<&str>,
) -> anyhow::Result<redis::Connection> {
    let timeout = Duration::from_secs(5);
    // A connection URL (redis 1.x keeps ConnectionInfo's fields private).
    let enc = |p: &str| -> String {
        p.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    let unix = host
        .strip_prefix("unix://")
        .or_else(|| host.starts_with('/').then_some(host));
    let info = match (unix, password) {
        (Some(path), None) => format!("redis+unix://{path}?db={db}"),
        (Some(path), Some(p)) => format!("redis+unix://{path}?db={db}&pass={}", enc(p)),
        (None, None) => format!("redis://{host}:{port}/{db}"),
        (None, Some(p)) => format!("redis://:{}@{host}:{port}/{db}", enc(p)),
    };
    let client = redis::Client::open(info)?;
    let mut conn = client
        .get_connection_with_timeout(timeout)
        .map_err(|e| anyhow::anyhow!("redis cache at {host}:{port}: {e}"))?;
    conn.set_read_timeout(Some(timeout))?;
    conn.set_write_timeout(Some(timeout))?;
    redis::cmd("PING")
        .query::<String>(&mut conn)
        .map_err(|e| anyhow::anyhow!("redis cache at {host}:{port}: {e}"))?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lru_evicts_least_recently_used() {
        let now = Instant::now();
        let ttl = Duration::from_secs(60);
        let mut c = Lru::new(2);
        c.set("a", "1".into(), ttl, now);
        c.set("b", "2".into(), ttl, now);
        assert_eq!(c.get("a", now), Some("1"));
        c.set("c", "3".into(), ttl, now);
        assert_eq!(c.get("b", now), None);
        assert_eq!(c.get("a", now), Some("1"));
        assert_eq!(c.get("c", now), Some("3"));
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn lru_entries_expire() {
        let now = Instant::now();
        let mut c = Lru::new(10);
        c.set("a", "1".into(), Duration::from_secs(1), now);
        assert_eq!(c.get("a", now), Some("1"));
        assert_eq!(c.get("a", now + Duration::from_secs(2)), None);
        assert!(c.is_empty());
    }
}
