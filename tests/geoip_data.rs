//! The GeoIP test databases are built from source (tests/support/mmdb_gen.rs) and
//! committed; this checks that building them again gives the same bytes.

#[path = "support/mmdb_gen.rs"]
mod mmdb_gen;

use std::path::Path;

#[test]
fn generated_databases_are_reproducible() {
    check("tests/data/geoip", mmdb_gen::all);
}

/// The example databases (examples/geoip/) too: they cover the shipped samples.
#[test]
fn example_databases_are_reproducible() {
    check("examples/geoip", mmdb_gen::examples);
}

fn check(dir: &str, build: fn() -> Vec<(&'static str, Vec<u8>)>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let regen = std::env::var_os("IMQ_REGEN_GEOIP").is_some();
    if regen {
        std::fs::create_dir_all(&dir).unwrap();
    }
    for (name, bytes) in build() {
        let again = build().into_iter().find(|(n, _)| *n == name).unwrap().1;
        assert_eq!(bytes, again, "{name}: two builds differ");
        let path = dir.join(name);
        if regen {
            std::fs::write(&path, &bytes).unwrap();
        }
        let committed = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (IMQ_REGEN_GEOIP=1 writes it)", path.display()));
        assert!(
            committed == bytes,
            "{name}: committed file differs from a fresh build"
        );
    }
}

#[test]
fn databases_read_back() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/geoip");
    let r = maxminddb::Reader::open_readfile(dir.join("City.mmdb")).unwrap();
    r.verify().unwrap();
    let c: maxminddb::geoip2::City = r
        .lookup("192.0.2.7".parse().unwrap())
        .unwrap()
        .decode()
        .unwrap()
        .unwrap();
    assert_eq!(c.country.iso_code, Some("DE"));
    assert_eq!(c.city.names.english, Some("Berlin"));
    let r = maxminddb::Reader::open_readfile(dir.join("ASN.mmdb")).unwrap();
    let res = r.lookup("198.51.100.200".parse().unwrap()).unwrap();
    let a: maxminddb::geoip2::Asn = res.decode().unwrap().unwrap();
    assert_eq!(a.autonomous_system_number, Some(64498));
    assert_eq!(res.network().unwrap().to_string(), "198.51.100.128/25");
}
