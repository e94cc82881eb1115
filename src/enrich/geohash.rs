//! geohash: `extra.source.geolocation.geohash` (and destination) from latitude and
//! longitude (IntelMQ `intelmq.bots.experts.geohash.expert`, which uses geolib).

use super::{Expert, Params, Verdict};
use crate::harmonization::py_float;
use crate::message::Message;
use crate::params;
use crate::pipeline::Fail;
use anyhow::bail;
use serde_json::Value;

const BASE32: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";

/// The standard geohash of a point with `precision` characters.
pub fn encode(lat: f64, lon: f64, precision: usize) -> String {
    let (mut lat_lo, mut lat_hi) = (-90.0f64, 90.0f64);
    let (mut lon_lo, mut lon_hi) = (-180.0f64, 180.0f64);
    let mut out = String::with_capacity(precision);
    let mut even = true;
    let (mut bit, mut ch) = (0, 0usize);
    while out.len() < precision {
        if even {
            let mid = (lon_lo + lon_hi) / 2.0;
            if lon >= mid {
                ch = ch * 2 + 1;
                lon_lo = mid;
            } else {
                ch *= 2;
                lon_hi = mid;
            }
        } else {
            let mid = (lat_lo + lat_hi) / 2.0;
            if lat >= mid {
                ch = ch * 2 + 1;
                lat_lo = mid;
            } else {
                ch *= 2;
                lat_hi = mid;
            }
        }
        even = !even;
        bit += 1;
        if bit == 5 {
            out.push(BASE32[ch] as char);
            bit = 0;
            ch = 0;
        }
    }
    out
}

pub struct Geohash {
    overwrite: bool,
    precision: usize,
}

pub fn build(p: &Params) -> anyhow::Result<Box<dyn Expert>> {
    let precision = params::integer(p, "precision", 7)?;
    if !(1..=22).contains(&precision) {
        bail!("parameter precision: {precision} is not between 1 and 22");
    }
    Ok(Box::new(Geohash {
        overwrite: params::boolean(p, "overwrite", false)?,
        precision: precision as usize,
    }))
}

const SIDES: [(&str, &str, &str); 2] = [
    (
        "source.geolocation.latitude",
        "source.geolocation.longitude",
        "extra.source.geolocation.geohash",
    ),
    (
        "destination.geolocation.latitude",
        "destination.geolocation.longitude",
        "extra.destination.geolocation.geohash",
    ),
];

impl Expert for Geohash {
    fn process(&mut self, ev: &mut Message) -> Result<Verdict, Fail> {
        for (lat, lon, out) in SIDES {
            let (Some(la), Some(lo)) = (ev.get(lat), ev.get(lon)) else {
                continue;
            };
            let (Some(la), Some(lo)) = (py_float(la), py_float(lo)) else {
                continue;
            };
            let h = encode(la, lo, self.precision);
            params::add(ev, out, Value::String(h), Some(self.overwrite))?;
        }
        Ok(Verdict::Keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intelmq_test_facts() {
        assert_eq!(encode(48.2, 16.366666666666666, 7), "u2edhqt");
        assert_eq!(encode(-22.908333, -43.196389, 7), "75cm9j9");
    }
}
