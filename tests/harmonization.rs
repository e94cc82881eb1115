//! IntelMQ 3.5.0's harmonization unit tests
//! (`intelmq/tests/lib/test_harmonization.py`) as facts about imq, one Rust test per
//! Python test, same names.
//!
//! Ported on JSON values, since that is all a message line carries:
//! * Python `bytes` (`b'1337'`) become strings; IntelMQ decodes them to `str` first.
//! * `ipaddress.ip_address(...)` / `ip_network(...)` objects become their string
//!   forms (what `str()` of them gives, which is what IntelMQ's sanitation uses).
//! * `harmonization.X.is_valid(v, sanitize=True)` is [`is_valid_sanitized`].
//! * `FQDN.to_ip` (DNS) is not part of the data format here; see `test_fqdn_to_ip`.
//! * DateTime tests that need dateutil/strptime live in
//!   `tests/harmonization_datetime.rs`.

use imq::harmonization::{is_valid, is_valid_sanitized, sanitize, FieldType};
use serde_json::{json, Value};
use FieldType::*;

fn valid(t: FieldType, v: Value) -> bool {
    is_valid(t, &v)
}

fn valid_s(t: FieldType, v: Value) -> bool {
    is_valid_sanitized(t, &v)
}

fn san(t: FieldType, v: Value) -> Option<Value> {
    sanitize(t, &v)
}

#[test]
fn test_boolean_valid_bool() {
    assert!(valid(Boolean, json!(true)));
    assert!(valid(Boolean, json!(false)));
}

#[test]
fn test_boolean_valid_other() {
    assert!(!valid(Boolean, json!(null)));
    assert!(!valid(Boolean, json!("True")));
    assert!(!valid(Boolean, json!(0)));
    assert!(!valid(Boolean, json!(1)));
    assert!(!valid(Boolean, json!([])));
}

#[test]
fn test_boolean_sanitize_bool() {
    assert!(valid_s(Boolean, json!(true)));
    assert!(valid_s(Boolean, json!(false)));
}

#[test]
fn test_boolean_sanitize_valid() {
    assert!(valid_s(Boolean, json!(0)));
    assert!(valid_s(Boolean, json!(1)));
    assert!(valid_s(Boolean, json!("true")));
    assert!(valid_s(Boolean, json!("false")));
}

#[test]
fn test_boolean_sanitize_invalid() {
    assert!(!valid_s(Boolean, json!(null)));
    assert!(!valid_s(Boolean, json!([])));
    assert!(!valid_s(Boolean, json!("test")));
}

#[test]
fn test_integer_valid_int() {
    assert!(valid(Integer, json!(-4532)));
    assert!(valid(Integer, json!(1337)));
}

#[test]
fn test_integer_valid_other() {
    assert!(!valid(Integer, json!("1337")));
    assert!(!valid(Integer, json!(true)));
}

#[test]
fn test_integer_sanitize_int() {
    assert!(valid_s(Integer, json!(-4532)));
    assert!(valid_s(Integer, json!(1337)));
}

#[test]
fn test_integer_sanitize_other() {
    assert!(valid_s(Integer, json!(true)));
    assert!(valid_s(Integer, json!("1337")));
    // b'1337'
    assert!(valid_s(Integer, json!("1337")));
    assert!(valid_s(Integer, json!(" 1337")));
}

#[test]
fn test_integer_sanitize_invalid() {
    assert!(!valid_s(Integer, json!(null)));
    assert!(!valid_s(Integer, json!("b13")));
}

#[test]
fn test_float_valid_flaot() {
    assert!(valid(Float, json!(-4532)));
    assert!(valid(Float, json!(1337)));
    assert!(valid(Float, json!(1337.2354)));
    assert!(valid(Float, json!(13.234e-4)));
}

#[test]
fn test_float_valid_other() {
    assert!(!valid(Float, json!("1337.234")));
    assert!(!valid(Float, json!(true)));
}

#[test]
fn test_float_sanitize_number() {
    assert!(valid_s(Float, json!(-4532.234)));
    assert!(valid_s(Float, json!(13.234e-4)));
}

#[test]
fn test_float_sanitize_other() {
    assert!(valid_s(Float, json!(true)));
    assert!(valid_s(Float, json!("+137.23")));
    // b'17.234'
    assert!(valid_s(Float, json!("17.234")));
    assert!(valid_s(Float, json!(" 1337.2")));
    assert!(valid_s(Float, json!("3.31e+3")));
    assert!(valid_s(Float, json!("-31.e-2")));
}

#[test]
fn test_float_sanitize_invalid() {
    assert!(!valid_s(Float, json!(null)));
    assert!(!valid_s(Float, json!("b13.23")));
}

#[test]
fn test_ipaddress_valid() {
    assert!(valid(IpAddress, json!("192.0.2.1")));
    assert!(valid(IpAddress, json!("::1")));
    assert!(valid(IpAddress, json!("2001:500:88:200::8")));
}

#[test]
fn test_ipaddress_valid_invalid() {
    assert!(!valid(IpAddress, json!("192.0.2.1/24")));
    assert!(!valid(IpAddress, json!("2001:DB8::/32")));
    assert!(!valid(IpAddress, json!("localhost")));
    assert!(!valid(IpAddress, json!("fe80::1c41:b16d:ff5e:689d%bnep0")));
}

#[test]
fn test_ipaddress_sanitize() {
    assert_eq!(
        san(IpAddress, json!(" 192.0.2.1\r\n")),
        Some(json!("192.0.2.1"))
    );
    assert!(valid_s(IpAddress, json!(" 192.0.2.1\r\n")));
    // b'2001:DB8::1'
    assert!(valid_s(IpAddress, json!("2001:DB8::1")));
    // ipaddress.ip_address('192.0.2.1'): its str()
    assert!(valid_s(IpAddress, json!("192.0.2.1")));
    assert!(valid_s(IpAddress, json!("fe80::1c41:b16d:ff5e:689d%bnep0")));
    assert_eq!(
        san(IpAddress, json!("2130706433")),
        Some(json!("127.0.0.1"))
    );
    assert_eq!(san(IpAddress, json!(2130706433)), Some(json!("127.0.0.1")));
}

#[test]
fn test_ipaddress_sanitize_invalid() {
    assert!(!valid_s(IpAddress, json!(" 192.0.2.0/24\r\n")));
    // b'2001:DB8::1/32'
    assert!(!valid_s(IpAddress, json!("2001:DB8::1/32")));
}

#[test]
fn test_ipnetwork_valid() {
    assert!(valid(IpNetwork, json!("192.0.2.1")));
    assert!(valid(IpNetwork, json!("::1")));
    assert!(valid(IpNetwork, json!("192.0.2.0/24")));
    assert!(valid(IpNetwork, json!("2001:DB8::/32")));
    assert!(valid(IpNetwork, json!("2001:500:88:200::8")));
}

#[test]
fn test_ipnetwork_valid_invalid() {
    assert!(!valid(IpNetwork, json!("localhost")));
    assert!(!valid(IpNetwork, json!("192.0.2.1/37")));
    assert!(!valid(IpNetwork, json!("192.0.2.1/0")));
    assert!(!valid(IpNetwork, json!("2001:DB8::/130")));
}

#[test]
fn test_ipnetwork_sanitize() {
    assert!(valid_s(IpNetwork, json!(" 192.0.2.0/24\r\n")));
    // b'2001:DB8::/32'
    assert!(valid_s(IpNetwork, json!("2001:DB8::/32")));
    assert!(valid_s(IpNetwork, json!("127.0.0.1/32")));
    // ipaddress.ip_network('192.0.2.0/32'): its str()
    assert!(valid_s(IpNetwork, json!("192.0.2.0/32")));
}

#[test]
fn test_ipnetwork_sanitize_invalid() {
    assert!(!valid_s(IpNetwork, json!(" 192.0.2.0/-4\r\n")));
    // b'2001:DB8Z::1/7'
    assert!(!valid_s(IpNetwork, json!("2001:DB8Z::1/7")));
}

#[test]
fn test_fqdn_valid() {
    assert!(valid(Fqdn, json!("ex-am.ple.example")));
    assert!(valid(Fqdn, json!("example.org")));
    assert!(valid(Fqdn, json!("sub_sub2.example.net")));
    assert!(valid(Fqdn, json!("xn--1-0ga.at")));
    assert!(valid(
        Fqdn,
        json!("212.156.101.43.00-ebgp-atakoy1-k.301-fra-col-1.statik.turktelekom.com.tr")
    ));
}

#[test]
fn test_fqdn_invalid() {
    assert!(!valid(Fqdn, json!("ex-am.ple.example.")));
    assert!(!valid(Fqdn, json!("exAmple.com")));
    assert!(!valid(Fqdn, json!("ö1.at")));
    assert!(!valid(Fqdn, json!("n/a")));
    assert!(!valid(Fqdn, json!(".")));
    assert!(!valid(Fqdn, json!(".example.com")));
    assert!(!valid(Fqdn, json!("10.0.0.1:8080"))); // IntelMQ #1235
}

#[test]
fn test_fqdn_sanitize() {
    assert!(valid_s(Fqdn, json!("example.example.")));
    assert!(valid_s(Fqdn, json!("example.net")));
    assert!(valid_s(Fqdn, json!("exAmple.net")));
    assert!(valid_s(Fqdn, json!("ö1.at")));
    assert!(valid_s(
        Fqdn,
        json!("212.156.101.43.00-ebgp-atakoy1-k.301-fra-col-1.statik.turktelekom.com.tr")
    ));
    assert!(valid_s(Fqdn, json!(".example.com")));
}

#[test]
fn test_fqdn_sanitize_unicodeerror() {
    let data = "{subid_3}&aff_sub4={subid_4}&aff_sub5={subid_5}&DOM=trackingmyli";
    assert_eq!(san(Fqdn, json!(data)), None);
}

#[test]
fn test_fqdn_sanitize_invalid() {
    assert!(!valid(Fqdn, json!(".")));
    assert!(!valid(Fqdn, json!("...")));
    assert!(!valid(Fqdn, json!("")));
}

/// `FQDN.to_ip` resolves DNS (and the Python test is skipped without internet).
/// imq keeps DNS out of the data format (the DNS experts resolve); what is left to
/// check is the Python test's final assertion: an address is a valid IPAddress.
#[test]
fn test_fqdn_to_ip() {
    assert!(valid(IpAddress, json!("93.184.215.14")));
}

#[test]
fn test_json_valid() {
    assert!(valid(Json, json!(r#"{"foo": "bar"}"#)));
    assert!(valid(Json, json!(r#""foo""#)));
}

#[test]
fn test_json_invalid() {
    assert!(!valid(Json, json!("{")));
    assert!(!valid(Json, json!(r#"["foo", ]"#)));
    // b'{"foo": 1}': bytes are not valid without sanitation; the nearest JSON
    // value that is not a string is the object itself.
    assert!(!valid(Json, json!({"foo": 1})));
    assert!(!valid(Json, json!({"foo": "bar"})));
}

#[test]
fn test_json_sanitize() {
    assert!(valid_s(Json, json!({"foo": "bar"})));
    assert!(valid_s(Json, json!(r#"{"foo": "bar"}"#)));
    // b'{"foo": "bar"}'
    assert!(valid_s(Json, json!(r#"{"foo": "bar"}"#)));
}

#[test]
fn test_jsondict_valid() {
    assert!(valid(JsonDict, json!(r#"{"foo": "bar"}"#)));
}

#[test]
fn test_jsondict_invalid() {
    assert!(!valid(JsonDict, json!("{}")));
    assert!(!valid(JsonDict, json!(r#""example""#)));
    // b'{"foo": 1}', see test_json_invalid
    assert!(!valid(JsonDict, json!({"foo": 1})));
    assert!(!valid(JsonDict, json!({"foo": "bar"})));
}

#[test]
fn test_jsondict_sanitize() {
    assert!(valid_s(JsonDict, json!({"foo": "bar"})));
    assert!(valid_s(JsonDict, json!(r#"{"foo": "bar"}"#)));
    // b'{"foo": "bar"}'
    assert!(valid_s(JsonDict, json!(r#"{"foo": "bar"}"#)));
}

#[test]
fn test_lowercasestring_valid() {
    assert!(valid(LowercaseString, json!("foobar")));
}

#[test]
fn test_lowercasestring_invalid() {
    assert!(!valid(LowercaseString, json!("fooBar")));
}

#[test]
fn test_lowercasestring_sanitize() {
    // b'fooBar'
    assert!(valid_s(LowercaseString, json!("fooBar")));
}

#[test]
fn test_registry_valid() {
    assert!(valid(Registry, json!("RIPE")));
    assert!(valid_s(Registry, json!("lacnic")));
    assert!(valid_s(Registry, json!("RIPE-NCC")));
    assert!(valid_s(Registry, json!("RIPENCC")));
}

#[test]
fn test_registry_invalid() {
    assert!(!valid(Registry, json!("RIPE-NCC")));
    assert!(!valid(Registry, json!("RIPENCC")));
}

#[test]
fn test_registry_sanitize() {
    assert_eq!(san(Registry, json!("ripe-ncc")), Some(json!("RIPE")));
}

#[test]
fn test_uppercasestring_valid() {
    assert!(valid(UppercaseString, json!("FOOBAR")));
}

#[test]
fn test_uppercasestring_invalid() {
    assert!(!valid(UppercaseString, json!("fooBar")));
}

#[test]
fn test_uppercasestring_sanitize() {
    // b'fooBar'
    assert!(valid_s(UppercaseString, json!("fooBar")));
}

#[test]
fn test_url_valid() {
    assert!(valid(Url, json!("http://example.com")));
    assert!(valid(Url, json!("http://example.com/foo")));
    assert!(valid(Url, json!("file://localhost/etc/hosts")));
}

#[test]
fn test_url_invalid() {
    assert!(!valid(Url, json!("example.com")));
    assert!(!valid(Url, json!(" http://example.com")));
    assert!(!valid(Url, json!("file:///etc/hosts")));
}

#[test]
fn test_url_sanitize() {
    // b'http://example.com'
    assert!(valid_s(Url, json!("http://example.com")));
    assert!(valid_s(Url, json!("hxxps://example.com/foo")));
    assert!(valid_s(Url, json!("file:///etc/hosts")));
    assert!(valid_s(Url, json!(" http://example.com")));
    assert_eq!(
        san(Url, json!(" http://example.com")),
        Some(json!("http://example.com"))
    );
}

#[test]
fn test_url_sanitize_invalid() {
    assert!(!valid_s(Url, json!("example.com")));
    assert!(!valid_s(Url, json!("http://")));
}

#[test]
fn test_asn_valid() {
    assert!(valid(Asn, json!(123)));
    assert!(valid(Asn, json!(1234567)));
}

#[test]
fn test_asn_invalid() {
    assert!(!valid(Asn, json!(4294967296u64)));
    assert!(!valid(Asn, json!(0)));
    assert!(!valid(Asn, json!("foo")));
    assert!(!valid(Asn, json!("1234")));
}

#[test]
fn test_asn_sanitize() {
    assert!(valid_s(Asn, json!("1234")));
    assert!(valid_s(Asn, json!("AS1234")));
}

#[test]
fn test_asn_sanitize_invalid() {
    assert!(!valid_s(Asn, json!(0)));
    assert!(!valid_s(Asn, json!("asd")));
    assert!(!valid_s(Asn, json!(-1)));
    assert!(!valid_s(Asn, json!(4294967296u64)));
}

#[test]
fn test_tlp_valid() {
    assert!(valid(Tlp, json!("WHITE")));
}

#[test]
fn test_tlp_invalid() {
    assert!(!valid(Tlp, json!("green")));
}

#[test]
fn test_tlp_sanitize() {
    assert!(valid_s(Tlp, json!("TLP:RED")));
    assert!(valid_s(Tlp, json!("red ")));
    assert!(valid_s(Tlp, json!("tlp amber ")));
    assert_eq!(san(Tlp, json!("tlp:amber")), Some(json!("AMBER")));
    assert_eq!(san(Tlp, json!("tlp amber")), Some(json!("AMBER")));
    assert_eq!(san(Tlp, json!("YELLOW")), Some(json!("AMBER")));
}

#[test]
fn test_tlp_sanitize_invalid() {
    assert!(!valid(Tlp, json!("TLP AMBER")));
}

#[test]
fn test_classification_type_valid() {
    assert!(valid(ClassificationType, json!("infected-system")));
}

#[test]
fn test_classification_type_invalid() {
    assert!(!valid(ClassificationType, json!("foobar")));
}

#[test]
fn test_classification_type_sanitize() {
    assert!(valid_s(ClassificationType, json!("Infected-system")));
    assert!(valid_s(ClassificationType, json!("infected system ")));
    for (from, to) in [
        ("dga domain", "dga-domain"),
        ("unauthorized-command", "system-compromise"),
        ("unauthorized-login", "system-compromise"),
        ("compromised", "system-compromise"),
        ("defacement", "unauthorised-information-modification"),
        ("backdoor", "system-compromise"),
    ] {
        assert_eq!(
            san(ClassificationType, json!(from)),
            Some(json!(to)),
            "{from}"
        );
    }
}

#[test]
fn test_classification_type_sanitize_invalid() {
    assert!(!valid(ClassificationType, json!("botnet-drone")));
    assert!(!valid(ClassificationType, json!("botnet drone")));
}

#[test]
fn test_classification_taxonomy_valid() {
    assert!(valid(ClassificationTaxonomy, json!("abusive-content")));
}

#[test]
fn test_classification_taxonomy_invalid() {
    assert!(!valid(ClassificationTaxonomy, json!("abusive content")));
}

#[test]
fn test_classification_taxonomy_sanitize() {
    // Python asserts the result is truthy.
    assert_eq!(
        san(ClassificationTaxonomy, json!("abusive content")),
        Some(json!("abusive-content"))
    );
}

/// IntelMQ generates `test_<Type>_none` for every type: `is_valid(None)` with and
/// without sanitation must not raise. Here: both are false, and `sanitize(None)` is
/// `None`, for every type.
macro_rules! none_tests {
    ($($name:ident => $t:expr),* $(,)?) => {$(
        #[test]
        #[allow(non_snake_case)]
        fn $name() {
            assert!(!is_valid($t, &Value::Null));
            assert!(!is_valid_sanitized($t, &Value::Null));
            assert_eq!(sanitize($t, &Value::Null), None);
        }
    )*};
}

none_tests! {
    test_Base64_none => Base64,
    test_Boolean_none => Boolean,
    test_ClassificationType_none => ClassificationType,
    test_DateTime_none => DateTime,
    test_FQDN_none => Fqdn,
    test_Float_none => Float,
    test_Accuracy_none => Accuracy,
    test_IPAddress_none => IpAddress,
    test_IPNetwork_none => IpNetwork,
    test_Integer_none => Integer,
    test_JSON_none => Json,
    test_JSONDict_none => JsonDict,
    test_LowercaseString_none => LowercaseString,
    test_Registry_none => Registry,
    test_String_none => String,
    test_URL_none => Url,
    test_ASN_none => Asn,
    test_UppercaseString_none => UppercaseString,
    test_TLP_none => Tlp,
    test_ClassificationTaxonomy_none => ClassificationTaxonomy,
}

/// `test_GenericType_none`: imq has no GenericType field type; `String` is the
/// generic sanitation (see `test_String_none`).
#[test]
#[allow(non_snake_case)]
fn test_GenericType_none() {
    assert_eq!(sanitize(String, &Value::Null), None);
}
