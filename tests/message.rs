//! IntelMQ 3.5.0's message unit tests (`intelmq/tests/lib/test_message.py`) as
//! facts about [`imq::message::Message`], one Rust test per Python test, same names.
//!
//! How the Python API maps onto ours:
//! * `report.add(k, v, sanitize=, overwrite=)` -> `add` / `set` / `add_with`;
//!   `report[k] = v` is `add`; `report[k]` / `get` -> `get` (JSON values);
//!   `del report[k]` -> `remove`; `k in report` -> `contains`.
//! * `MessageFactory.unserialize` / `from_dict` / `Event(dict)` -> `from_json`
//!   (the wire line); `serialize` / `to_json` -> `to_json` (compact, `__type` last);
//!   `to_dict()` -> `to_map()`; `copy()` / `deep_copy()` -> `clone()`.
//! * Exceptions -> `FieldError` variants (`KeyNotExists` is `InvalidKey` with
//!   reason "key does not exist").
//!
//! Tests about things imq deliberately does not have (several harmonization
//! configurations, Python object identity, `ignore=`, `raise_failure=`,
//! hierarchical dicts, default values) keep their name and check the nearest fact,
//! with a comment.

use imq::message::{Add, FieldError, InputError, Message};
use imq::MsgType;
use serde_json::{json, Map, Value};

const LOREM_BASE64: &str = "bG9yZW0gaXBzdW0=";
const URL_UNSANE: &str = "https://example.com/ \r\n";
const URL_SANE: &str = "https://example.com/";
const URL_INVALID: &str = "/exampl\n";
const ACCURACY_UNSANE: &str = "100";
const ACCURACY_SANE: i64 = 100;
const ACCURACY_INVALID: i64 = -1;

fn feed() -> Vec<(&'static str, Value)> {
    vec![
        ("feed.url", json!("https://example.com/")),
        ("feed.name", json!("Lorem ipsum")),
    ]
}

fn feed_fields() -> Vec<(&'static str, Value)> {
    vec![
        ("feed.accuracy", json!(80)),
        ("feed.code", json!("code")),
        ("feed.documentation", json!("https://www.example.com/docs")),
        ("feed.name", json!("Feed")),
        ("feed.provider", json!("Feed Provider")),
        ("feed.url", json!("https://www.example.com")),
        ("rtir_id", json!(1337)),
        ("extra.mail_subject", json!("This is a test")),
    ]
}

fn no_sanitize() -> Add {
    Add {
        sanitize: false,
        overwrite: None,
    }
}

/// `Report()`. IntelMQ adds `time.observation` unless `auto=True`; imq's reports
/// get it from the collector, so both forms are the bare report.
fn new_report() -> Message {
    Message::report()
}

fn new_event() -> Message {
    Message::event()
}

fn add_report_examples(mut report: Message) -> Message {
    report.add("feed.name", "Example").unwrap();
    report.add("feed.url", URL_SANE).unwrap();
    report
        .add_with("raw", json!(LOREM_BASE64), no_sanitize())
        .unwrap();
    report
}

fn add_event_examples(mut event: Message) -> Message {
    event.add("feed.name", "Example").unwrap();
    event.add("feed.url", URL_SANE).unwrap();
    event
        .add_with("raw", json!(LOREM_BASE64), no_sanitize())
        .unwrap();
    event
        .add("time.observation", "2015-01-01T13:37:00+00:00")
        .unwrap();
    event
}

fn map_of(items: &[(&str, Value)]) -> Map<String, Value> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn is_invalid_value<T: std::fmt::Debug>(r: Result<T, FieldError>) -> bool {
    matches!(r, Err(FieldError::InvalidValue { .. }))
}

#[test]
fn test_report_type() {
    assert_eq!(new_report().msg_type(), MsgType::Report);
}

#[test]
fn test_event_type() {
    assert_eq!(new_event().msg_type(), MsgType::Event);
}

/// IntelMQ's `Report()` sets `time.observation` itself; imq's collectors set it
/// (a `Message` never reads the clock), so a new report has none.
#[test]
fn test_report_init_auto() {
    assert!(!new_report().contains("time.observation"));
}

#[test]
fn test_report_serialize_auto() {
    assert!(!new_report().contains("time.observation"));
}

/// Python: a Report is a Message and a dict. Here: one type for both classes.
#[test]
fn test_report_subclass() {
    let r: Message = new_report();
    assert!(r.is_empty());
}

#[test]
fn test_event_subclass() {
    let e: Message = new_event();
    assert!(e.is_empty());
}

#[test]
fn test_message_eq() {
    let event1 = add_event_examples(new_event());
    let event2 = add_event_examples(new_event());
    assert!(event1 == event2);
}

#[test]
fn test_message_ne() {
    let event1 = add_event_examples(new_event());
    let event2 = add_event_examples(new_event());
    assert!(!(event1 != event2));
}

/// Like a dict, equality ignores the order of the fields.
#[test]
fn test_message_eq_any_order() {
    let mut a = new_event();
    a.add("feed.name", "x").unwrap();
    a.add("source.port", 1).unwrap();
    let mut b = new_event();
    b.add("source.port", 1).unwrap();
    b.add("feed.name", "x").unwrap();
    assert_eq!(a, b);
}

#[test]
fn test_event_report_eq() {
    assert!(!(new_event() == new_report()));
}

#[test]
fn test_event_report_ne() {
    assert!(new_event() != new_report());
}

/// imq has one harmonization, compiled in: messages cannot differ in configuration.
#[test]
fn test_event_eq_different_config() {
    assert!(new_event() == new_event());
}

#[test]
fn test_event_ne_different_config() {
    assert!(!(new_event() != new_event()));
}

#[test]
fn test_invalid_type() {
    assert!(matches!(
        Message::from_json(br#"{"__type": "Message"}"#, MsgType::Event),
        Err(InputError::BadType(_))
    ));
}

#[test]
fn test_invalid_type2() {
    assert!(matches!(
        Message::from_json(br#"{"__type": "Invalid"}"#, MsgType::Event),
        Err(InputError::BadType(_))
    ));
}

#[test]
fn test_report_invalid_key() {
    let mut report = new_report();
    let e = report.add("invalid", 0).unwrap_err();
    assert!(matches!(e, FieldError::InvalidKey { .. }));
    assert!(e.to_string().contains("not allowed"), "{e}");
}

#[test]
fn test_report_add_raw() {
    let mut report = new_report();
    report.add("raw", "lorem ipsum").unwrap();
    assert_eq!(report.get("raw"), Some(&json!(LOREM_BASE64)));
}

#[test]
fn test_report_get() {
    let mut report = new_report();
    report
        .add_with("raw", json!(LOREM_BASE64), no_sanitize())
        .unwrap();
    assert_eq!(report.get_str("raw"), Some(LOREM_BASE64));
}

#[test]
fn test_report_add_invalid() {
    let mut report = new_report();
    assert!(is_invalid_value(report.add("feed.url", "\r\n")));
}

#[test]
fn test_report_getitem() {
    let mut report = new_report();
    report
        .add_with("raw", json!(LOREM_BASE64), no_sanitize())
        .unwrap();
    assert_eq!(report.get("raw"), Some(&json!(LOREM_BASE64)));
}

#[test]
fn test_report_setitem() {
    let mut report = new_report();
    report.add("raw", "lorem ipsum").unwrap();
    assert_eq!(report.get_str("raw"), Some(LOREM_BASE64));
}

#[test]
fn test_report_ignore_none() {
    let mut report = new_report();
    assert_eq!(report.add("feed.name", Value::Null), Ok(false));
    assert!(!report.contains("feed.name"));
}

#[test]
fn test_report_change_delete_none() {
    let mut report = new_report();
    report.add("feed.name", "foo").unwrap();
    report.change("feed.name", Value::Null).unwrap();
    assert!(!report.contains("feed.name"));
}

#[test]
fn test_report_ignore_empty() {
    let mut report = new_report();
    report.add("feed.name", "").unwrap();
    assert!(!report.contains("feed.name"));
}

#[test]
fn test_report_ignore_hyphen() {
    let mut report = new_report();
    report.add("feed.name", "-").unwrap();
    assert!(!report.contains("feed.name"));
}

/// `event.is_valid(key, value, sanitize=True)` -> `is_valid_value`. IntelMQ raises
/// InvalidKey for an unknown key; here it is simply not valid.
#[test]
fn test_report_is_valid() {
    let event = new_event();
    assert!(!event.is_valid_value("feed.name", &json!("-"), true));
    assert!(!event.is_valid_value("feed.name", &Value::Null, true));
    assert!(!event.is_valid_value("source.ip", &json!("127.0.0.1/24"), true));
    assert!(!event.is_valid_value("source.ip", &json!("127.0.0.1/24"), false));
    assert!(event.is_valid_value("source.ip", &json!("127.0.0.1"), true));
    assert!(!event.is_valid_value("invalid", &json!(0), true));
}

#[test]
fn test_report_ignore_na() {
    let mut report = new_report();
    report.add("feed.name", "N/A").unwrap();
    assert!(!report.contains("feed.name"));
}

/// `add(..., ignore=('IGNORE_THIS'))` has no counterpart: callers check the value
/// before adding. The fact that remains: nothing else is ignored.
#[test]
fn test_report_ignore_given() {
    let mut report = new_report();
    assert_eq!(report.add("feed.name", "IGNORE_THIS"), Ok(true));
}

/// `ignore=1337` raises InvalidArgument in IntelMQ; there is no `ignore` here.
#[test]
fn test_report_ignore_given_invalid() {
    let mut report = new_report();
    assert_eq!(report.add("feed.name", "IGNORE_THIS"), Ok(true));
}

#[test]
fn test_report_add_duplicate() {
    let mut report = new_report();
    report.add("raw", LOREM_BASE64).unwrap();
    assert!(matches!(
        report.add("raw", LOREM_BASE64),
        Err(FieldError::KeyExists { .. })
    ));
}

#[test]
fn test_report_del_() {
    let mut report = new_report();
    report.add("raw", LOREM_BASE64).unwrap();
    assert!(report.remove("raw").is_some());
    assert!(!report.contains("raw"));
}

#[test]
fn test_report_asdict() {
    let mut report = new_report();
    for (k, v) in feed() {
        report.add(k, v).unwrap();
    }
    assert_eq!(report.to_map(), map_of(&feed()));
}

/// `finditems('feed.')`: the fields with that prefix.
#[test]
fn test_report_finditems() {
    let mut report = new_report();
    for (k, v) in feed() {
        report.add(k, v).unwrap();
    }
    let found: Map<String, Value> = report
        .iter()
        .filter(|(k, _)| k.starts_with("feed."))
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    assert_eq!(found, map_of(&feed()));
}

#[test]
fn test_report_items() {
    let mut report = new_report();
    for (k, v) in feed() {
        report.add(k, v).unwrap();
    }
    let mut items: Vec<(String, Value)> =
        report.iter().map(|(k, v)| (k.into(), v.clone())).collect();
    let mut expected: Vec<(String, Value)> =
        feed().into_iter().map(|(k, v)| (k.into(), v)).collect();
    items.sort_by(|a, b| a.0.cmp(&b.0));
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(items, expected);
}

/// `add(..., raise_failure=False)` returns False; here the error is returned and
/// the caller decides. Nothing is added either way.
#[test]
fn test_report_add_raise_failure() {
    let mut report = new_report();
    assert!(is_invalid_value(report.add("feed.url", "invalid")));
    assert!(!report.contains("feed.url"));
}

/// Python rejects `bytes` for raw; a line has no bytes, and a non-string is the
/// nearest: not valid without sanitation.
#[test]
fn test_report_add_byte() {
    let mut report = new_report();
    assert!(is_invalid_value(report.add_with(
        "raw",
        json!([1, 2]),
        no_sanitize()
    )));
}

#[test]
fn test_report_sanitize_url() {
    let mut report = new_report();
    report.add("feed.url", URL_UNSANE).unwrap();
    assert_eq!(report.get_str("feed.url"), Some(URL_SANE));
}

#[test]
fn test_report_invalid_url() {
    let mut report = new_report();
    assert!(is_invalid_value(report.add("feed.url", URL_INVALID)));
}

#[test]
fn test_report_add_sane_accuracy() {
    let mut report = new_report();
    report
        .add_with("feed.accuracy", json!(ACCURACY_SANE), no_sanitize())
        .unwrap();
    assert_eq!(report.get("feed.accuracy"), Some(&json!(ACCURACY_SANE)));
}

/// Python compares `100 == 100.0`; the sanitized value is the float 100.0.
#[test]
fn test_report_sanitize_accuracy() {
    let mut report = new_report();
    report.add("feed.accuracy", ACCURACY_UNSANE).unwrap();
    assert_eq!(report.get("feed.accuracy"), Some(&json!(100.0)));
    assert_eq!(
        report.get("feed.accuracy").and_then(Value::as_f64),
        Some(ACCURACY_SANE as f64)
    );
}

#[test]
fn test_report_invalid_accuracy() {
    let mut report = new_report();
    assert!(is_invalid_value(
        report.add("feed.accuracy", ACCURACY_INVALID)
    ));
}

#[test]
fn test_report_invalid_string() {
    let mut report = new_report();
    assert!(is_invalid_value(report.add("feed.name", "\r\n")));
}

#[test]
fn test_report_change() {
    let mut report = new_report();
    report.add("feed.name", "Example 1").unwrap();
    report.change("feed.name", "Example 2").unwrap();
    assert_eq!(report.get_str("feed.name"), Some("Example 2"));
}

#[test]
fn test_report_in() {
    let mut report = new_report();
    report.add("feed.name", "Example 1").unwrap();
    assert!(report.contains("feed.name"));
}

/// IntelMQ's KeyNotExists is InvalidKey "key does not exist" here.
#[test]
fn test_report_change_duplicate() {
    let mut report = new_report();
    assert!(matches!(
        report.change("feed.name", "Example"),
        Err(FieldError::InvalidKey { .. })
    ));
}

#[test]
fn test_factory_serialize() {
    let mut report = new_report();
    report.add("feed.name", "Example").unwrap();
    report.add("feed.url", URL_SANE).unwrap();
    report
        .add_with("raw", json!(LOREM_BASE64), no_sanitize())
        .unwrap();
    let actual: Value = serde_json::from_str(&report.to_json()).unwrap();
    let expected: Value = serde_json::from_str(
        r#"{"raw": "bG9yZW0gaXBzdW0=", "__type": "Report", "feed.url": "https://example.com/", "feed.name": "Example"}"#,
    )
    .unwrap();
    assert_eq!(actual, expected);
}

/// `deep_copy()` = serialize + unserialize: the wire round trip.
#[test]
fn test_deep_copy_content() {
    let report = add_report_examples(new_report());
    let copy = Message::from_json(report.to_json().as_bytes(), MsgType::Event).unwrap();
    assert_eq!(copy, report);
    assert_eq!(copy.to_map(), report.to_map());
}

/// Python checks object identity of the items; a clone owns its values.
#[test]
fn test_deep_copy_items() {
    let report = add_report_examples(new_report());
    let mut copy = report.clone();
    copy.set("feed.name", "changed").unwrap();
    assert_eq!(report.get_str("feed.name"), Some("Example"));
}

#[test]
fn test_deep_copy_object() {
    let report = add_report_examples(new_report());
    let copy = report.clone();
    assert!(!std::ptr::eq(&copy, &report));
}

#[test]
fn test_copy_content() {
    let report = add_report_examples(new_report());
    assert_eq!(report.clone().to_map(), report.to_map());
}

/// Python: a shallow copy shares the item objects. Here: equal items.
#[test]
fn test_copy_items() {
    let report = add_report_examples(new_report());
    let copy = report.clone();
    assert!(copy.iter().eq(report.iter()));
}

#[test]
fn test_copy_object() {
    let report = add_report_examples(new_report());
    let copy = report.clone();
    assert!(!std::ptr::eq(&copy, &report));
}

fn event_pair() -> (Message, Message) {
    let event1 = add_event_examples(new_event());
    let mut event2 = Message::from_json(event1.to_json().as_bytes(), MsgType::Event).unwrap();
    event2
        .set("time.observation", "2015-12-12T13:37:50+01:00")
        .unwrap();
    (event1, event2)
}

/// `hash(event)` is `int(event.hash(), 16)`: the same digest.
#[test]
fn test_event_hash() {
    let (event1, event2) = event_pair();
    assert_eq!(event1.hash(&[], false), event2.hash(&[], false));
}

#[test]
fn test_event_hash_fixed() {
    let (event1, _) = event_pair();
    assert_eq!(
        event1.hash(&[], false),
        "d04aa050afdc58a39329c78c3b59ce6fb6f11effe180fe8084b4f1e89007de71"
    );
}

#[test]
fn test_event_hash_method() {
    let (event1, event2) = event_pair();
    assert_eq!(event1.hash(&[], false), event2.hash(&[], false));
}

#[test]
fn test_event_hash_method_blacklist() {
    let (event1, mut event2) = event_pair();
    event2.set("feed.name", "Some Other Feed").unwrap();
    assert_ne!(event1.hash(&[], false), event2.hash(&[], false));
    assert_eq!(
        event1.hash(&["feed.name"], false),
        event2.hash(&["feed.name"], false)
    );
    assert_ne!(
        event1.hash(&["feed.url", "raw"], false),
        event2.hash(&["feed.url", "raw"], false)
    );
}

#[test]
fn test_event_hash_method_whitelist() {
    let event1 = add_event_examples(new_event());
    let mut event2 = event1.clone();
    event2.set("feed.name", "Some Other Feed").unwrap();
    assert_ne!(event1.hash(&[], false), event2.hash(&[], false));
    assert_ne!(
        event1.hash(&["feed.name"], true),
        event2.hash(&["feed.name"], true)
    );
    assert_eq!(
        event1.hash(&["feed.url", "raw"], true),
        event2.hash(&["feed.url", "raw"], true)
    );
}

#[test]
fn test_event_dict() {
    let event = add_event_examples(new_event());
    assert_eq!(
        Value::Object(event.to_map()),
        json!({
            "feed.name": "Example",
            "feed.url": "https://example.com/",
            "raw": "bG9yZW0gaXBzdW0=",
            "time.observation": "2015-01-01T13:37:00+00:00"
        })
    );
}

/// `to_dict(hierarchical=True)` is an output format (imq-output), not part of
/// `Message`; the flat map holds the same fields.
#[test]
fn test_event_dict_hierarchical() {
    let event = add_event_examples(new_event());
    assert_eq!(event.to_map().len(), 4);
}

/// IntelMQ's `to_json()` has no `__type`; ours is the wire form with it.
#[test]
fn test_event_json() {
    let event = add_event_examples(new_event());
    let mut actual: Value = serde_json::from_str(&event.to_json()).unwrap();
    assert_eq!(actual["__type"], "Event");
    actual.as_object_mut().unwrap().remove("__type");
    let expected: Value = serde_json::from_str(
        r#"{"feed.url": "https://example.com/", "feed.name": "Example", "raw": "bG9yZW0gaXBzdW0=", "time.observation": "2015-01-01T13:37:00+00:00"}"#,
    )
    .unwrap();
    assert_eq!(actual, expected);
}

/// See test_event_dict_hierarchical.
#[test]
fn test_event_json_hierarchical() {
    let event = add_event_examples(new_event());
    assert!(event.to_json().contains(r#""feed.name":"Example""#));
}

/// IntelMQ serializes with `json.dumps` separators (`{"__type": "Event"}`); the wire
/// form here is compact. Both decode to the same object.
#[test]
fn test_event_serialize() {
    assert_eq!(new_event().to_json(), r#"{"__type":"Event"}"#);
}

#[test]
fn test_event_string() {
    assert_eq!(new_event().to_json(), r#"{"__type":"Event"}"#);
}

#[test]
fn test_event_unicode() {
    assert_eq!(new_event().to_json(), r#"{"__type":"Event"}"#);
}

#[test]
fn test_event_from_report() {
    let mut report = new_report();
    for (k, v) in feed_fields() {
        report.add(k, v).unwrap();
    }
    let event = Message::event_from_report(&report);
    report.remove("extra");
    // every item of the event is in the report (assertDictContainsSubset)
    for (k, v) in event.iter() {
        assert_eq!(report.get(k), Some(v), "{k}");
    }
    assert_eq!(event.len(), report.len());
}

#[test]
fn test_event_hash_regex() {
    let mut event = new_event();
    assert!(is_invalid_value(event.add("event_hash", "das f78")));
}

#[test]
fn test_port_regex() {
    let mut event = new_event();
    assert!(is_invalid_value(event.add("source.port", 123456)));
}

#[test]
fn test_malwarename_regex() {
    let mut event = new_event();
    event
        .add("malware.name", "multiple-malware citadel:report")
        .unwrap();
    event.change("malware.name", "yahoo!").unwrap();
    event.remove("malware.name");
    assert!(is_invalid_value(
        event.add("malware.name", "tu234t2\nt$#%$")
    ));
}

#[test]
fn test_protocol_ascii() {
    let mut event = new_event();
    assert!(is_invalid_value(
        event.add("protocol.application", "A\n€80\"")
    ));
}

#[test]
fn test_protocol_length() {
    let mut event = new_event();
    assert!(is_invalid_value(event.add("protocol.transport", "unknown")));
}

#[test]
fn test_message_from_dict_return_type() {
    let m = Message::from_json(br#"{"__type": "Event"}"#, MsgType::Report).unwrap();
    assert_eq!(m.msg_type(), MsgType::Event);
}

fn init_fails_with_invalid_value(line: &[u8]) -> bool {
    matches!(
        Message::from_json(line, MsgType::Event),
        Err(InputError::Field(FieldError::InvalidValue { .. }))
    )
}

#[test]
fn test_event_init_check() {
    assert!(init_fails_with_invalid_value(
        br#"{"__type": "Event", "source.asn": "foo"}"#
    ));
}

/// A tuple of pairs is the same dict.
#[test]
fn test_event_init_check_tuple() {
    let mut map = Map::new();
    map.insert("__type".into(), json!("Event"));
    map.insert("source.asn".into(), json!("foo"));
    assert!(matches!(
        Message::from_map(map, MsgType::Event),
        Err(InputError::Field(FieldError::InvalidValue { .. }))
    ));
}

#[test]
fn test_event_init() {
    assert!(init_fails_with_invalid_value(
        br#"{"__type": "Event", "source.asn": "foo"}"#
    ));
}

#[test]
fn test_malware_hash_md5() {
    let mut event = new_event();
    event
        .add("malware.hash.md5", "mSwgIswdjlTY0YxV7HBVm0")
        .unwrap();
    assert_eq!(
        event.get_str("malware.hash.md5"),
        Some("mSwgIswdjlTY0YxV7HBVm0")
    );
    event
        .change("malware.hash.md5", "$md5$mSwgIswdjlTY0YxV7HBVm0")
        .unwrap();
    event
        .change("malware.hash.md5", "$md5,rounds=500$mSwgIswdjlTY0YxV7HBVm0")
        .unwrap();
}

#[test]
fn test_malware_hash_sha1() {
    let mut event = new_event();
    event
        .add("malware.hash.sha1", "hBNaIXkt4wBI2o5rsi8KejSjNqIq")
        .unwrap();
    assert_eq!(
        event.get_str("malware.hash.sha1"),
        Some("hBNaIXkt4wBI2o5rsi8KejSjNqIq")
    );
    for v in [
        "$sha1$hBNaIXkt4wBI2o5rsi8KejSjNqIq",
        "$sha1$40000$hBNaIXkt4wBI2o5rsi8KejSjNqIq",
        "$sha1$40000$jtNX3nZ2$hBNaIXkt4wBI2o5rsi8KejSjNqIq",
    ] {
        event.change("malware.hash.sha1", v).unwrap();
    }
}

#[test]
fn test_registry() {
    let mut event = new_event();
    event.add("source.registry", "APNIC").unwrap();
    event.change("source.registry", "afrinic").unwrap();
    let as_is = Add {
        sanitize: false,
        overwrite: Some(true),
    };
    assert!(is_invalid_value(event.add_with(
        "source.registry",
        json!("afrinic"),
        as_is
    )));
    assert!(is_invalid_value(event.add_with(
        "source.registry",
        json!("afri nic"),
        as_is
    )));
}

/// `update({'source.asn': 'AS0'})`: a dict of raw values. `update` here takes a
/// message (whose values are valid already); raw values go through `set`, which
/// is what IntelMQ's update falls back to.
#[test]
fn test_message_update() {
    let mut event = new_event();
    assert!(is_invalid_value(event.set("source.asn", "AS0")));
}

/// `update` takes valid values as they are: raw is not base64-encoded again.
#[test]
fn test_message_update_keeps_valid_values() {
    let mut other = new_event();
    other.add("raw", "lorem ipsum").unwrap();
    let mut event = new_event();
    event.update(&other).unwrap();
    assert_eq!(event.get_str("raw"), Some(LOREM_BASE64));
}

#[test]
fn test_message_extra_construction() {
    let mut event = new_event();
    event.add("extra.test", "foobar").unwrap();
    event.add("extra.test2", "foobar2").unwrap();
    assert_eq!(
        event.jsondict_str("extra").as_deref(),
        Some(r#"{"test": "foobar", "test2": "foobar2"}"#)
    );
    assert_eq!(
        Value::Object(event.to_map()),
        json!({"extra.test": "foobar", "extra.test2": "foobar2"})
    );
}

#[test]
fn test_message_extra_getitem() {
    let mut event = new_event();
    event.add("extra.test", "foobar").unwrap();
    assert_eq!(event.get_str("extra.test"), Some("foobar"));
}

/// `event.get('extra')` is `jsondict_str("extra")`.
#[test]
fn test_message_extra_get() {
    let mut event = new_event();
    event.add("extra.test", "foobar").unwrap();
    assert_eq!(
        event.jsondict_str("extra").as_deref(),
        Some(r#"{"test": "foobar"}"#)
    );
}

#[test]
fn test_message_extra_set_oldstyle_string() {
    let mut event = new_event();
    event.add("extra", r#"{"foo": "bar"}"#).unwrap();
    assert_eq!(
        event.jsondict_str("extra").as_deref(),
        Some(r#"{"foo": "bar"}"#)
    );
    assert_eq!(event.get_str("extra.foo"), Some("bar"));
}

#[test]
fn test_message_extra_set_oldstyle_dict() {
    let mut event = new_event();
    event.add("extra", json!({"foo": "bar"})).unwrap();
    assert_eq!(
        event.jsondict_str("extra").as_deref(),
        Some(r#"{"foo": "bar"}"#)
    );
    assert_eq!(event.get_str("extra.foo"), Some("bar"));
}

#[test]
fn test_message_extra_set_oldstyle_dict_overwrite_empty() {
    let mut event = new_event();
    event
        .add("extra", json!({"a": {"x": 1}, "b": "foo"}))
        .unwrap();
    let extra: Value = serde_json::from_str(&event.jsondict_str("extra").unwrap()).unwrap();
    assert_eq!(extra, json!({"a": {"x": 1}, "b": "foo"}));
    event
        .add_with(
            "extra",
            json!({"a": {}}),
            Add {
                sanitize: true,
                overwrite: Some(true),
            },
        )
        .unwrap();
    let extra: Value = serde_json::from_str(&event.jsondict_str("extra").unwrap()).unwrap();
    assert_eq!(extra, json!({"a": {}}));
}

#[test]
fn test_message_extra_set_dict_empty() {
    let mut event = new_event();
    event.add("extra", json!({"foo": ""})).unwrap();
    let extra: Value = serde_json::from_str(&event.jsondict_str("extra").unwrap()).unwrap();
    assert_eq!(extra, json!({"foo": ""}));
}

#[test]
fn test_message_extra_in_backwardcomp() {
    let mut event = new_event();
    assert!(!event.contains("extra"));
    event.add("extra.foo", "bar").unwrap();
    assert!(event.contains("extra"));
}

#[test]
fn test_overwrite_true() {
    let mut event = new_event();
    event.add("comment", "foo").unwrap();
    event.set("comment", "bar").unwrap();
    assert_eq!(event.get_str("comment"), Some("bar"));
}

#[test]
fn test_overwrite_none() {
    let mut event = new_event();
    event.add("comment", "foo").unwrap();
    assert!(matches!(
        event.add("comment", "bar"),
        Err(FieldError::KeyExists { .. })
    ));
}

#[test]
fn test_overwrite_false() {
    let mut event = new_event();
    event.add("comment", "foo").unwrap();
    let keep = Add {
        sanitize: true,
        overwrite: Some(false),
    };
    assert_eq!(event.add_with("comment", json!("bar"), keep), Ok(false));
    assert_eq!(event.get_str("comment"), Some("foo"));
}

/// `to_dict(jsondict_as_string=True)` is an output option; the JSON text of the
/// extra items is `jsondict_str`.
#[test]
fn test_to_dict_jsondict_as_string() {
    let mut event = new_event();
    event.add("extra.foo", "bar").unwrap();
    assert_eq!(
        event.jsondict_str("extra").as_deref(),
        Some(r#"{"foo": "bar"}"#)
    );
}

/// IntelMQ checks the keys of a given harmonization; imq's is compiled in, so the
/// fact to check is that all its keys have the valid form.
#[test]
fn test_invalid_harm_key() {
    let h = imq::harmonization::harmonization();
    for t in [MsgType::Event, MsgType::Report] {
        for f in h.fields(t) {
            assert!(
                imq::harmonization::is_valid_key_syntax(f.name),
                "{}",
                f.name
            );
        }
    }
    assert!(!imq::harmonization::is_valid_key_syntax("foo..bar"));
    assert!(!imq::harmonization::is_valid_key_syntax("foo.bar."));
}

#[test]
fn test_invalid_extra_key_name() {
    let mut event = new_event();
    let e = event.add("extra.foo-", "bar").unwrap_err();
    assert!(matches!(e, FieldError::InvalidKey { .. }));
    assert!(
        e.to_string().contains("Does not match regular expression"),
        "{e}"
    );
}

// class TestReport

#[test]
fn test_report_from_event() {
    let mut event = new_event();
    event.add("feed.code", "adasd").unwrap();
    event.add("source.fqdn", "example.com").unwrap();
    let mut report = event.clone();
    report.set_type(MsgType::Report);
    assert!(!report.contains("source.fqdn"));
    assert!(report.contains("feed.code"));
}

/// raw must not be sanitized (base64-encoded again).
#[test]
fn test_report_from_event_with_raw() {
    let mut event = new_event();
    event.add("raw", "foobar").unwrap();
    let mut report = event.clone();
    report.set_type(MsgType::Report);
    assert_eq!(report.get_str("raw"), Some("Zm9vYmFy"));
}

// class TestEvent

/// `event['source.ip']` raises KeyError; `get` gives None.
#[test]
fn test_event_no_default_value() {
    assert_eq!(new_event().get("source.ip"), None);
}

/// `set_default_value(None)` makes a missing key read as None: that is `get`.
#[test]
fn test_event_default_value() {
    assert_eq!(
        new_event().get("source.ip").cloned().unwrap_or(Value::Null),
        Value::Null
    );
}

/// A message read from a compact line writes its unchanged leading fields as a
/// copy of the line; after any change the output must be what a message read
/// from the same fields (without that shortcut) writes.
#[test]
fn verbatim_prefix_matches_field_by_field_writing() {
    let compact = r#"{"feed.name":"F","source.ip":"192.0.2.1","source.port":80,"extra.x":[1],"classification.type":"c2-server","raw":"YQ==","__type":"Event"}"#;
    // A leading space turns the shortcut off.
    let spaced = format!(" {compact}");
    type Edit = fn(&mut Message);
    let edits: [Edit; 8] = [
        |_| {},
        |m| {
            m.add("classification.taxonomy", "malicious-code").unwrap();
        },
        |m| {
            m.set("source.port", 81).unwrap();
        },
        |m| {
            m.set("feed.name", "G").unwrap();
        },
        |m| {
            m.remove("source.ip");
        },
        |m| {
            m.remove("extra");
        },
        |m| {
            m.set_type(MsgType::Report);
        },
        |m| {
            m.set("raw", "b").unwrap();
            m.add("source.fqdn", "example.com").unwrap();
        },
    ];
    for (i, edit) in edits.iter().enumerate() {
        let mut a = Message::from_json(compact.as_bytes(), MsgType::Event).unwrap();
        let mut b = Message::from_json(spaced.as_bytes(), MsgType::Event).unwrap();
        edit(&mut a);
        edit(&mut b);
        assert_eq!(a.to_json(), b.to_json(), "edit {i}");
        // A copy of an edited message, edited again.
        let mut c = a.clone();
        let _ = c.set("source.port", 82);
        let mut d = b.clone();
        let _ = d.set("source.port", 82);
        assert_eq!(c.to_json(), d.to_json(), "edit {i} + port");
    }
    let m = Message::from_json(compact.as_bytes(), MsgType::Event).unwrap();
    assert_eq!(m.to_json(), compact);
}
