//! imq's data format against IntelMQ itself: every row of
//! `tests/data/harmonization/oracle.json` (written by
//! `scripts/oracle/harmonization_oracle.py` with IntelMQ 3.5.0) is checked here.
//!
//! * `types`: per harmonization type and input, Python's `is_valid(v)`,
//!   `is_valid(v, sanitize=True)` and `sanitize(v)`. A Python exception ("error")
//!   must be `false` / `None` here: IntelMQ crashes where we reject.
//! * `messages`: `MessageFactory.from_dict` (a bot reading a message) against
//!   [`Message::from_json`].
//! * `adds`: `Message.add(key, value, sanitize=, overwrite=)` against
//!   [`Message::add_with`].
//!
//! DateTime rows depend on the dateutil port and are checked in
//! `tests/harmonization_datetime.rs`. Deliberate divergences are listed in
//! [`ALLOWED`] with the reason.

use imq::harmonization::{is_valid, is_valid_sanitized, sanitize, FieldType};
use imq::message::{Add, FieldError, InputError, Message};
use imq::MsgType;
use serde_json::Value;

const ORACLE: &str = include_str!("data/harmonization/oracle.json");

/// (type or section, input as compact JSON, column, why we differ on purpose)
const ALLOWED: &[(&str, &str, &str, &str)] = &[
    // Python ints are unbounded; ours are 64-bit JSON numbers.
    ("Integer", "1e20", "is_valid_sanitize", BIG_INT),
    ("Integer", "1e20", "sanitize", BIG_INT),
    (
        "Integer",
        r#""99999999999999999999""#,
        "is_valid_sanitize",
        BIG_INT,
    ),
    ("Integer", r#""99999999999999999999""#, "sanitize", BIG_INT),
    // Python's json module reads NaN, Infinity, 1e999 (inf) and lone surrogate
    // escapes; none of them is JSON, serde_json rejects them.
    ("JSON", r#""1e999""#, "is_valid", NOT_JSON),
    ("JSON", r#""1e999""#, "sanitize", NOT_JSON),
    ("JSON", r#""NaN""#, "is_valid", NOT_JSON),
    ("JSON", r#""NaN""#, "sanitize", NOT_JSON),
    ("JSON", r#""Infinity""#, "is_valid", NOT_JSON),
    ("JSON", r#""Infinity""#, "sanitize", NOT_JSON),
    ("JSON", r#""{\"a\": NaN}""#, "is_valid", NOT_JSON),
    ("JSON", r#""{\"a\": NaN}""#, "sanitize", NOT_JSON),
    ("JSON", r#""\"\\ud800\"""#, "is_valid", NOT_JSON),
    ("JSON", r#""\"\\ud800\"""#, "sanitize", NOT_JSON),
    ("JSONDict", r#""{\"a\": NaN}""#, "is_valid", NOT_JSON),
    (
        "JSONDict",
        r#""{\"a\": NaN}""#,
        "is_valid_sanitize",
        NOT_JSON,
    ),
    ("JSONDict", r#""{\"a\": NaN}""#, "sanitize", NOT_JSON),
    // Python's FQDN uses IDNA 2003 nameprep, whose bidi rule allows a label of
    // Arabic-Indic digits only; the `idna` crate (UTS 46 / RFC 5893) does not.
    ("FQDN", r#""١٢٣""#, "is_valid_sanitize", IDNA_BIDI),
    ("FQDN", r#""١٢٣""#, "sanitize", IDNA_BIDI),
    ("FQDN", r#""٠١.com""#, "is_valid_sanitize", IDNA_BIDI),
    ("FQDN", r#""٠١.com""#, "sanitize", IDNA_BIDI),
    ("FQDN", r#""ى١.com""#, "is_valid_sanitize", IDNA_BIDI),
    ("FQDN", r#""ى١.com""#, "sanitize", IDNA_BIDI),
    // IDNA 2003 as Python implements it does not check for unassigned code points;
    // UTS 46 rejects them.
    ("FQDN", r#""\u0378.com""#, "is_valid_sanitize", IDNA_BIDI),
    ("FQDN", r#""\u0378.com""#, "sanitize", IDNA_BIDI),
    // IntelMQ's key pattern ends in `$`, which also matches before a final
    // newline, so it takes `extra.a\n` as a key. A newline in a key is never
    // meant; we reject the key (and need not escape keys when writing).
    (
        "Event",
        r#"{"extra.a\n":1}"#,
        "from_dict",
        "key with a final newline",
    ),
];

/// Inputs for which every message row may differ, with the reason (see above).
const ALLOWED_MESSAGE_VALUES: &[(&str, &str)] = &[
    (r#""99999999999999999999""#, BIG_INT),
    (r#""NaN""#, NOT_JSON),
    (r#""Infinity""#, NOT_JSON),
    (r#""1e999""#, NOT_JSON),
    (r#""{\"a\": NaN}""#, NOT_JSON),
    (r#""\"\\ud800\"""#, NOT_JSON),
];

fn allowed_message(input: &Value) -> bool {
    input.as_object().is_some_and(|m| {
        m.values().any(|v| {
            ALLOWED_MESSAGE_VALUES
                .iter()
                .any(|(a, _)| serde_json::from_str::<Value>(a).ok().as_ref() == Some(v))
        })
    })
}

const BIG_INT: &str = "integers beyond 64 bits";
const NOT_JSON: &str = "Python-only JSON extensions";
const IDNA_BIDI: &str = "IDNA 2003 (Python) vs UTS 46 (idna crate)";

fn allowed(section: &str, input: &Value, column: &str) -> bool {
    ALLOWED.iter().any(|(s, i, c, _)| {
        *s == section
            && *c == column
            && serde_json::from_str::<Value>(i).ok().as_ref() == Some(input)
    })
}

fn is_error(v: &Value) -> bool {
    v.get("__error__").is_some()
}

fn is_nonjson(v: &Value) -> bool {
    v.get("__nonjson__").is_some()
}

/// Python's outcome as ours would be written: an exception or a value JSON cannot
/// hold (inf, nan) counts as "rejected".
fn expect_sanitized(py: &Value) -> Option<Value> {
    if py.is_null() || is_error(py) || is_nonjson(py) {
        None
    } else {
        Some(py.clone())
    }
}

fn expect_bool(py: &Value) -> bool {
    py.as_bool().unwrap_or(false)
}

#[test]
fn oracle_types() {
    let doc: Value = serde_json::from_str(ORACLE).unwrap();
    let mut failures = Vec::new();
    let mut rows = 0;
    for row in doc["types"].as_array().unwrap() {
        let tname = row["type"].as_str().unwrap();
        if tname == "DateTime" {
            continue;
        }
        rows += 1;
        let t = FieldType::from_name(tname).unwrap();
        let v = &row["value"];
        let mut check = |column: &str, ours: String, theirs: String| {
            if ours != theirs && !allowed(tname, v, column) {
                failures.push(format!(
                    "{tname} {column}({v}): imq {ours}, IntelMQ {theirs}"
                ));
            }
        };
        check(
            "is_valid",
            is_valid(t, v).to_string(),
            expect_bool(&row["is_valid"]).to_string(),
        );
        // A sanitized value JSON cannot hold (inf, nan) is a rejection here, so
        // "valid after sanitation" is false for it.
        let valid_sanitized =
            expect_bool(&row["is_valid_sanitize"]) && !is_nonjson(&row["sanitize"]);
        check(
            "is_valid_sanitize",
            is_valid_sanitized(t, v).to_string(),
            valid_sanitized.to_string(),
        );
        check(
            "sanitize",
            format!("{:?}", sanitize(t, v)),
            format!("{:?}", expect_sanitized(&row["sanitize"])),
        );
    }
    assert!(rows > 1000, "oracle too small: {rows}");
    assert!(
        failures.is_empty(),
        "{} divergences from IntelMQ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn items(m: &Message) -> Value {
    Value::Array(
        m.iter()
            .map(|(k, v)| Value::Array(vec![Value::String(k.into()), v.clone()]))
            .collect(),
    )
}

fn error_name(e: &FieldError) -> &'static str {
    match e {
        FieldError::InvalidKey { .. } => "InvalidKey",
        FieldError::KeyExists { .. } => "KeyExists",
        FieldError::InvalidValue { .. } => "InvalidValue",
    }
}

/// Python's result as we would give it: IntelMQ's own exceptions by name, any
/// other exception (a crash) as "crash", for which any rejection of ours is right.
fn py_outcome(result: &Value) -> String {
    match result.get("__error__").and_then(Value::as_str) {
        Some(e @ ("InvalidValue" | "InvalidKey" | "KeyExists")) => format!("error {e}"),
        Some(_) => "crash".into(),
        None => result.to_string(),
    }
}

#[test]
fn oracle_messages() {
    let doc: Value = serde_json::from_str(ORACLE).unwrap();
    let mut failures = Vec::new();
    for row in doc["messages"].as_array().unwrap() {
        let class = MsgType::from_name(row["class"].as_str().unwrap()).unwrap();
        let input = &row["input"];
        let line = serde_json::to_vec(input).unwrap();
        let theirs = py_outcome(&row["result"]);
        let ours = match Message::from_json(&line, class) {
            Ok(m) => serde_json::json!({ "items": items(&m) }).to_string(),
            Err(InputError::Field(e)) if theirs == "crash" => {
                let _ = e;
                "crash".into()
            }
            Err(InputError::Field(e)) => format!("error {}", error_name(&e)),
            Err(e) => format!("other error {e}"),
        };
        if ours != theirs && !allowed(class.name(), input, "from_dict") && !allowed_message(input) {
            failures.push(format!(
                "{} {input}: imq {ours}, IntelMQ {theirs}",
                class.name()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} divergences from IntelMQ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn oracle_adds() {
    let doc: Value = serde_json::from_str(ORACLE).unwrap();
    let mut failures = Vec::new();
    for row in doc["adds"].as_array().unwrap() {
        let mut ev = Message::event();
        for (k, v) in row["pre"].as_object().unwrap() {
            ev.add(k, v.clone()).unwrap();
        }
        let key = row["key"].as_str().unwrap();
        let opt = Add {
            sanitize: row["sanitize"].as_bool().unwrap(),
            overwrite: row["overwrite"].as_bool(),
        };
        let theirs = {
            let r = &row["result"];
            if r.get("return").is_some() {
                // IntelMQ returns None for an ignored value, False for a kept one:
                // both are `Ok(false)` here.
                serde_json::json!({"return": r["return"].as_bool().unwrap_or(false), "items": r["items"]})
                    .to_string()
            } else {
                py_outcome(r)
            }
        };
        let ours = match ev.add_with(key, row["value"].clone(), opt) {
            Ok(b) => serde_json::json!({"return": b, "items": items(&ev)}).to_string(),
            Err(_) if theirs == "crash" => "crash".into(),
            Err(e) => format!("error {}", error_name(&e)),
        };
        let case = serde_json::json!([
            row["pre"],
            key,
            row["value"],
            row["sanitize"],
            row["overwrite"]
        ]);
        if ours != theirs && !allowed("add", &case, "add") {
            failures.push(format!("add {case}: imq {ours}, IntelMQ {theirs}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} divergences from IntelMQ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// `Message.hash()` (the deduplicator's key) over values whose Python `repr` is
/// tricky: quotes, escapes, non-printable characters, floats, nested extra values.
#[test]
fn oracle_hashes() {
    let doc: Value = serde_json::from_str(ORACLE).unwrap();
    let rows = doc["hashes"].as_array().unwrap();
    assert!(!rows.is_empty());
    for row in rows {
        let line = serde_json::to_vec(&row["input"]).unwrap();
        let m = Message::from_json(&line, MsgType::Event).unwrap();
        assert_eq!(
            m.hash(&[], false),
            row["hash"].as_str().unwrap(),
            "{}",
            row["input"]
        );
        assert_eq!(
            m.hash(&["feed.name"], false),
            row["hash_blacklist_feed_name"].as_str().unwrap(),
            "{}",
            row["input"]
        );
        assert_eq!(
            m.hash(&["extra.z", "extra.list"], true),
            row["hash_whitelist_extra"].as_str().unwrap(),
            "{}",
            row["input"]
        );
    }
}
