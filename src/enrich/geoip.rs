//! geoip: country code, city and coordinates of `source.ip`/`destination.ip` from a
//! MaxMind City or Country database (IntelMQ
//! `intelmq.bots.experts.maxmind_geoip.expert`).
//!
//! The database is opened, its type checked and one lookup probed before any event
//! is read, so a wrong or broken file stops the run (exit 2) instead of failing
//! every event.

use super::{Expert, Params, Verdict};
use crate::message::Message;
use crate::params;
use crate::pipeline::Fail;
use anyhow::{bail, Context};
use maxminddb::Reader;
use serde::Deserialize;
use serde_json::Value;
use std::net::IpAddr;

pub const DEFAULT_DATABASE: &str = "/var/lib/intelmq/bots/maxmind_geoip/GeoLite2-City.mmdb";

#[derive(Deserialize, Default)]
struct Record<'a> {
    #[serde(borrow, default)]
    country: Option<CountryRec<'a>>,
    #[serde(borrow, default)]
    registered_country: Option<CountryRec<'a>>,
    #[serde(default)]
    location: Option<Location>,
    #[serde(borrow, default)]
    city: Option<CityRec<'a>>,
}

#[derive(Deserialize)]
struct CountryRec<'a> {
    #[serde(borrow, default)]
    iso_code: Option<&'a str>,
}

#[derive(Deserialize)]
struct Location {
    #[serde(default)]
    latitude: Option<f64>,
    #[serde(default)]
    longitude: Option<f64>,
}

#[derive(Deserialize)]
struct CityRec<'a> {
    #[serde(borrow, default)]
    names: Option<Names<'a>>,
}

#[derive(Deserialize)]
struct Names<'a> {
    #[serde(borrow, default)]
    en: Option<&'a str>,
}

pub struct GeoIp {
    reader: Reader<Vec<u8>>,
    path: String,
    overwrite: bool,
    registered: bool,
    /// Addresses looked up, and found in the database (for the summary).
    looked_up: u64,
    found: u64,
}

/// Open a MaxMind database and check that it is one of the `accepted` kinds and
/// answers a lookup.
pub fn open_mmdb(path: &str, accepted: &[&str]) -> anyhow::Result<Reader<Vec<u8>>> {
    let reader = Reader::open_readfile(path)
        .with_context(|| format!("opening the MaxMind database {path}"))?;
    let ty = reader.metadata().database_type.clone();
    if !accepted.iter().any(|a| ty.contains(a)) {
        bail!("{path}: database type {ty:?} is not one of {accepted:?}");
    }
    // A truncated or corrupt file often opens but fails on the first lookup.
    for probe in ["0.0.0.0", "::"] {
        let ip: IpAddr = probe.parse().expect("valid address");
        if ip.is_ipv6() && reader.metadata().ip_version != 6 {
            continue;
        }
        reader
            .lookup(ip)
            .and_then(|r| r.decode::<serde::de::IgnoredAny>().map(|_| ()))
            .with_context(|| format!("{path}: probe lookup of {probe} failed"))?;
    }
    Ok(reader)
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Expert>> {
    let path = match params::string(p, "db")? {
        Some(d) => d,
        None => params::string_or(p, "database", DEFAULT_DATABASE)?,
    };
    Ok(Box::new(GeoIp {
        reader: open_mmdb(&path, &["City", "Country", "Enterprise"])?,
        path,
        looked_up: 0,
        found: 0,
        overwrite: params::boolean(p, "overwrite", false)?,
        registered: params::boolean(p, "use_registered", false)?,
    }))
}

struct Keys {
    ip: &'static str,
    cc: &'static str,
    lat: &'static str,
    lon: &'static str,
    city: &'static str,
}

const SIDES: [Keys; 2] = [
    Keys {
        ip: "source.ip",
        cc: "source.geolocation.cc",
        lat: "source.geolocation.latitude",
        lon: "source.geolocation.longitude",
        city: "source.geolocation.city",
    },
    Keys {
        ip: "destination.ip",
        cc: "destination.geolocation.cc",
        lat: "destination.geolocation.latitude",
        lon: "destination.geolocation.longitude",
        city: "destination.geolocation.city",
    },
];

impl Expert for GeoIp {
    fn process(&mut self, ev: &mut Message) -> Result<Verdict, Fail> {
        let ow = Some(self.overwrite);
        for k in &SIDES {
            let Some(ip) = ev.get_str(k.ip).and_then(|s| s.parse::<IpAddr>().ok()) else {
                continue;
            };
            let found = self
                .reader
                .lookup(ip)
                .and_then(|r| r.decode::<Record>())
                .map_err(|e| Fail::Fatal(anyhow::anyhow!("GeoIP lookup of {ip}: {e}")))?;
            self.looked_up += 1;
            let Some(rec) = found else {
                continue;
            };
            self.found += 1;
            let country = if self.registered {
                rec.registered_country.as_ref()
            } else {
                rec.country.as_ref()
            };
            if let Some(cc) = country.and_then(|c| c.iso_code).filter(|c| !c.is_empty()) {
                params::add(ev, k.cc, Value::String(cc.to_string()), ow)?;
            }
            if let Some(loc) = &rec.location {
                // IntelMQ tests truthiness: 0.0 is left out.
                if let Some(lat) = loc.latitude.filter(|f| *f != 0.0) {
                    params::add(ev, k.lat, Value::from(lat), ow)?;
                }
                if let Some(lon) = loc.longitude.filter(|f| *f != 0.0) {
                    params::add(ev, k.lon, Value::from(lon), ow)?;
                }
            }
            let city = rec
                .city
                .as_ref()
                .and_then(|c| c.names.as_ref())
                .and_then(|n| n.en);
            if let Some(city) = city.filter(|c| !c.is_empty()) {
                params::add(ev, k.city, Value::String(city.to_string()), ow)?;
            }
        }
        Ok(Verdict::Keep)
    }

    fn summary(&self) -> Option<String> {
        // A database that knows none of the addresses enriches nothing, which
        // looks like success; say so (and how to get one that does).
        (self.looked_up > 0 && self.found == 0).then(|| {
            format!(
                "geoip: none of {} addresses is in {}: no event was enriched \
                 (a GeoLite2-City or DB-IP City Lite database covers the Internet: see the README)",
                self.looked_up, self.path
            )
        })
    }
}
