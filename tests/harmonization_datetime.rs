//! IntelMQ 3.5.0's DateTime harmonization tests
//! (`intelmq/tests/lib/test_harmonization.py`, `test_datetime_*`) and the DateTime
//! rows of the oracle (`tests/data/harmonization/oracle.json`).
//!
//! Kept apart from `tests/harmonization.rs` because they exercise
//! `src/timeparse.rs` (dateutil's fuzzy parser, strptime, the epoch / Windows NT
//! conversions).
//!
//! `from_epoch_millis`, `from_timestamp` and `from_windows_nt` are reached through
//! `timeparse::convert` with IntelMQ's format names (`DateTime.convert(value,
//! format)`), which is how parsers use them.

use imq::harmonization::{is_valid, is_valid_sanitized, sanitize, FieldType};
use imq::timeparse;
use serde_json::{json, Value};

fn valid(v: &str) -> bool {
    is_valid(FieldType::DateTime, &json!(v))
}

fn san(v: &str) -> Option<Value> {
    sanitize(FieldType::DateTime, &json!(v))
}

#[test]
fn test_datetime_valid() {
    assert!(valid("2015-08-31T08:16:10+00:00"));
    assert!(valid("2015-08-31T08:16:10.1234+00:00"));
}

#[test]
fn test_datetime_invalid() {
    assert!(!valid("2015-08-31T08:16:10+05:00"));
    assert!(!valid("2015-08-31T08:16:10.1234+05:00"));
    assert!(!valid("2015-08-31T36:16:10+00:00"));
    // A telephone number: dateutil raises OverflowError on it.
    assert!(!valid("0018005550199"));
}

#[test]
fn test_datetime_from_epoch_millis() {
    assert_eq!(
        timeparse::convert("1441008970", Some("epoch_millis")).as_deref(),
        Ok("2015-08-31T08:16:10+00:00")
    );
}

#[test]
fn test_datetime_from_timestamp() {
    assert_eq!(
        timeparse::convert("1441008970", Some("timestamp")).as_deref(),
        Ok("2015-08-31T08:16:10+00:00")
    );
}

#[test]
fn test_datetime_from_windows_nt() {
    assert_eq!(
        timeparse::convert("129410017915727600", Some("windows_nt")).as_deref(),
        Ok("2011-02-01T02:43:11.572760+00:00")
    );
}

#[test]
fn test_datetime_sanitize() {
    assert_eq!(
        san("2016-07-19 06:40:01.617719+02:00 UTC"),
        Some(json!("2016-07-19T04:40:01.617719+00:00"))
    );
    assert_eq!(
        san("2016-07-19 13:08:38 UTC"),
        Some(json!("2016-07-19T13:08:38+00:00"))
    );
}

#[test]
fn test_datetime_convert() {
    assert_eq!(
        timeparse::convert("15 15 15 07 01 2019", Some("from_format|%M %H %S %m %d %Y")).as_deref(),
        Ok("2019-07-01T15:15:15+00:00")
    );
    assert_eq!(
        timeparse::convert("07-01-2019", Some("from_format_midnight|%m-%d-%Y")).as_deref(),
        Ok("2019-07-01T00:00:00+00:00")
    );
    assert_eq!(
        timeparse::convert("129410017915727600", Some("windows_nt")).as_deref(),
        Ok("2011-02-01T02:43:11.572760+00:00")
    );
}

/// `from_isoformat` returns a valid value unchanged; `return_datetime=True` (a
/// Python datetime object) has no counterpart.
#[test]
fn test_datetime_parse_utc_isoformat() {
    assert_eq!(
        san("2020-12-31T12:00:00+00:00"),
        Some(json!("2020-12-31T12:00:00+00:00"))
    );
    assert_eq!(
        san("2020-12-31T12:00:00.001+00:00"),
        Some(json!("2020-12-31T12:00:00.001+00:00"))
    );
}

#[test]
fn test_datetime_convert_fuzzy() {
    assert_eq!(
        timeparse::convert("2020-12-31T12:00:00+00:00", Some("fuzzy")).as_deref(),
        Ok("2020-12-31T12:00:00+00:00")
    );
    assert_eq!(
        timeparse::convert("31st December 2020 12:00", Some("fuzzy")).as_deref(),
        Ok("2020-12-31T12:00:00+00:00")
    );
}

/// The DateTime rows of the oracle (see tests/harmonization_oracle.rs). Rows whose
/// result depends on today's date (dateutil fills missing parts from it) are marked
/// `date_dependent` by the oracle and skipped.
#[test]
fn oracle_datetime() {
    let doc: Value = serde_json::from_str(include_str!("data/harmonization/oracle.json")).unwrap();
    let mut failures = Vec::new();
    for row in doc["types"].as_array().unwrap() {
        if row["type"] != "DateTime" || row["date_dependent"] == true {
            continue;
        }
        let v = &row["value"];
        let py_bool = |c: &str| row[c].as_bool().unwrap_or(false);
        let py_san = if row["sanitize"].is_null() || row["sanitize"].get("__error__").is_some() {
            None
        } else {
            Some(row["sanitize"].clone())
        };
        let t = FieldType::DateTime;
        if is_valid(t, v) != py_bool("is_valid") {
            failures.push(format!("is_valid({v}): IntelMQ {}", row["is_valid"]));
        }
        if is_valid_sanitized(t, v) != py_bool("is_valid_sanitize") {
            failures.push(format!(
                "is_valid_sanitize({v}): IntelMQ {}",
                row["is_valid_sanitize"]
            ));
        }
        let ours = sanitize(t, v);
        if ours != py_san {
            failures.push(format!("sanitize({v}): imq {ours:?}, IntelMQ {py_san:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
