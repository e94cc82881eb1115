//! Builds the small GeoIP test databases under tests/data/geoip/ from the data
//! below: City-, Country- and ASN-shaped `.mmdb` files with only documentation
//! address ranges, and a fixed build time so the bytes are the same on every run.
//! `IMQ_REGEN_GEOIP=1 cargo test --test geoip_data` rewrites the committed files.
//! The same builds the example databases under examples/geoip/ ([`examples`]):
//! the addresses of the shipped samples with the country and AS their feed gives.

use ipnet::IpNet;
use mmdb_writer::{Value, Writer};
use std::time::{Duration, SystemTime};

/// 2024-01-01T00:00:00Z.
const BUILD_EPOCH: u64 = 1_704_067_200;

const TEST_DATA: &str = "imq test data (documentation ranges only)";
const EXAMPLE_DATA: &str =
    "imq example data: the addresses of examples/feodo.json with the country and AS the feed gives";

fn writer(ty: &str, description: &str) -> Writer {
    Writer::builder(ty)
        .description(&[("en", description)])
        .build_epoch(SystemTime::UNIX_EPOCH + Duration::from_secs(BUILD_EPOCH))
        .build()
}

fn net(s: &str) -> IpNet {
    s.parse().expect("valid network")
}

fn names(en: &str) -> Value {
    Value::map([("en", Value::from(en))])
}

fn country(iso: &str, name: &str) -> Value {
    Value::map([("iso_code", Value::from(iso)), ("names", names(name))])
}

/// (network, country, registered country, city, latitude, longitude)
type CityRow = (
    &'static str,
    Option<(&'static str, &'static str)>,
    Option<(&'static str, &'static str)>,
    Option<&'static str>,
    Option<(f64, f64)>,
);

const CITIES: &[CityRow] = &[
    (
        "192.0.2.0/24",
        Some(("DE", "Germany")),
        Some(("AT", "Austria")),
        Some("Berlin"),
        Some((52.5244, 13.4105)),
    ),
    (
        "198.51.100.0/24",
        Some(("US", "United States")),
        Some(("US", "United States")),
        None,
        Some((37.751, -97.822)),
    ),
    ("203.0.113.0/25", Some(("JP", "Japan")), None, None, None),
    // Latitude 0.0 is left out by IntelMQ (it tests truthiness).
    (
        "203.0.113.128/25",
        Some(("GH", "Ghana")),
        Some(("GH", "Ghana")),
        None,
        Some((0.0, 1.5)),
    ),
    (
        "2001:db8::/32",
        Some(("NL", "Netherlands")),
        Some(("NL", "Netherlands")),
        Some("Amsterdam"),
        Some((52.374, 4.8897)),
    ),
];

pub fn city() -> Vec<u8> {
    city_db(CITIES, TEST_DATA)
}

fn city_db(rows: &[CityRow], description: &str) -> Vec<u8> {
    let mut w = writer("GeoLite2-City", description);
    for (n, cc, reg, city, loc) in rows {
        let mut rec: Vec<(&str, Value)> = Vec::new();
        if let Some((iso, name)) = cc {
            rec.push(("country", country(iso, name)));
        }
        if let Some((iso, name)) = reg {
            rec.push(("registered_country", country(iso, name)));
        }
        if let Some(c) = city {
            rec.push(("city", Value::map([("names", names(c))])));
        }
        if let Some((lat, lon)) = loc {
            rec.push((
                "location",
                Value::map([
                    ("latitude", Value::from(*lat)),
                    ("longitude", Value::from(*lon)),
                    ("accuracy_radius", Value::from(100u16)),
                ]),
            ));
        }
        w.insert_value(net(n), Value::map(rec)).expect("insert");
    }
    w.to_bytes().expect("city db")
}

pub fn country_db() -> Vec<u8> {
    let mut w = writer("GeoLite2-Country", TEST_DATA);
    for (n, cc, reg, _, _) in CITIES {
        let mut rec: Vec<(&str, Value)> = Vec::new();
        if let Some((iso, name)) = cc {
            rec.push(("country", country(iso, name)));
        }
        if let Some((iso, name)) = reg {
            rec.push(("registered_country", country(iso, name)));
        }
        w.insert_value(net(n), Value::map(rec)).expect("insert");
    }
    w.to_bytes().expect("country db")
}

/// Networks and ASNs; a wider network first, then a more specific one inside it.
pub const ASNS: &[(&str, u32, &str)] = &[
    ("192.0.2.0/24", 64496, "Example One"),
    ("198.51.100.0/24", 64497, "Example Two"),
    ("198.51.100.128/25", 64498, "Example Three"),
    ("203.0.113.0/24", 64499, "Example Four"),
    ("2001:db8::/32", 64500, "Example Six"),
];

pub fn asn() -> Vec<u8> {
    asn_db(ASNS, TEST_DATA)
}

fn asn_db(rows: &[(&str, u32, &str)], description: &str) -> Vec<u8> {
    let mut w = writer("GeoLite2-ASN", description);
    for (n, asn, org) in rows {
        let rec = Value::map([
            ("autonomous_system_number", Value::from(*asn)),
            ("autonomous_system_organization", Value::from(*org)),
        ]);
        w.insert_value(net(n), rec).expect("insert");
    }
    w.to_bytes().expect("asn db")
}

/// The same table as a pyasn `ipasn.dat` file.
pub fn ipasn() -> String {
    let mut s = String::from("; IP-ASN32-DAT file\n; imq test data (documentation ranges only)\n");
    for (n, asn, _) in ASNS {
        s.push_str(&format!("{n}\t{asn}\n"));
    }
    s
}

/// Every generated file with its name under tests/data/geoip/.
pub fn all() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("City.mmdb", city()),
        ("Country.mmdb", country_db()),
        ("ASN.mmdb", asn()),
        ("ipasn.dat", ipasn().into_bytes()),
    ]
}

/// The hosts of examples/feodo.json as the feed describes them.
const EXAMPLE_CITIES: &[CityRow] = &[
    (
        "1.234.21.73/32",
        Some(("KR", "South Korea")),
        Some(("KR", "South Korea")),
        None,
        None,
    ),
    (
        "37.187.115.122/32",
        Some(("FR", "France")),
        Some(("FR", "France")),
        None,
        None,
    ),
    (
        "51.178.161.32/32",
        Some(("FR", "France")),
        Some(("FR", "France")),
        None,
        None,
    ),
    (
        "142.44.247.57/32",
        Some(("CA", "Canada")),
        Some(("FR", "France")),
        None,
        None,
    ),
];

const EXAMPLE_ASNS: &[(&str, u32, &str)] = &[
    ("1.234.21.73/32", 9318, "SK Broadband Co Ltd"),
    ("37.187.115.122/32", 16276, "OVH SAS"),
    ("51.178.161.32/32", 16276, "OVH SAS"),
    ("142.44.247.57/32", 16276, "OVH SAS"),
];

/// Every example database with its name under examples/geoip/.
#[allow(dead_code)]
pub fn examples() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("City.mmdb", city_db(EXAMPLE_CITIES, EXAMPLE_DATA)),
        ("ASN.mmdb", asn_db(EXAMPLE_ASNS, EXAMPLE_DATA)),
    ]
}
