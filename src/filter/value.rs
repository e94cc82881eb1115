//! Python value semantics the sieve and filter experts rely on: equality of
//! decoded JSON values, relative time spans, and reading timestamps.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use serde_json::Value;

/// Python's `a == b` for values decoded from JSON: `True == 1`, `1 == 1.0`,
/// lists element by element, dicts key by key.
pub fn py_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Null, Value::Null) => true,
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| py_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| py_eq(v, w)))
        }
        _ => match (py_number(a), py_number(b)) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        },
    }
}

/// A number or a bool as Python compares it with numbers.
pub fn py_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

/// IntelMQ's `TIMESPANS`: the units `parse_relative` knows, in minutes.
const TIMESPANS: [(&str, f64); 7] = [
    ("second", 1.0 / 60.0),
    ("minute", 1.0),
    ("hour", 60.0),
    ("day", 24.0 * 60.0),
    ("week", 7.0 * 24.0 * 60.0),
    ("month", 30.0 * 24.0 * 60.0),
    ("year", 365.0 * 24.0 * 60.0),
];

/// Does the text name one of IntelMQ's time spans (the filter expert's test for
/// "relative" before trying `parse_relative`)?
pub fn mentions_timespan(s: &str) -> bool {
    TIMESPANS.iter().any(|(u, _)| s.contains(u))
}

/// IntelMQ's `parse_relative`: `"4 hours"` -> 4 hours. The number and the unit
/// are separated by white space; a trailing `s` is optional.
pub fn parse_relative(s: &str) -> Result<Duration, String> {
    relative_span(s).unwrap_or_else(|| {
        Err(format!(
            "Could not process result of regex for attribute {s:?}"
        ))
    })
}

/// [`parse_relative`]: `None` when the text is not a relative span at all,
/// `Some(Err)` when it is one too long to compute with (Python's timedelta
/// stops at 999,999,999 days; times are kept to chrono's range from now).
pub fn relative_span(s: &str) -> Option<Result<Duration, String>> {
    let t = s.trim();
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let rest = &t[digits..];
    let unit = rest.trim_start();
    if unit.len() == rest.len() {
        return None;
    }
    // `(\w+[^s])s?`: a unit of at least two characters, with an optional `s`.
    let unit = match unit.strip_suffix('s') {
        Some(u) if u.chars().count() >= 2 => u,
        _ => unit,
    };
    let (_, minutes) = TIMESPANS.iter().find(|(u, _)| *u == unit)?;
    let n: f64 = t[..digits].parse::<f64>().ok()?;
    let micros = (n * minutes * 60e6).round();
    // `as` would saturate: a span beyond i64 microseconds is out of range, and
    // so is one that takes now out of chrono's range either way.
    let d = (micros < 9.2e18).then(|| Duration::microseconds(micros as i64));
    Some(
        d.filter(|d| from_now(-*d).is_ok() && from_now(*d).is_ok())
            .ok_or_else(|| format!("time span out of range: {s:?}")),
    )
}

/// `now + d` as a [`When`], checked: an error when the time it means today is
/// out of range (a program holding it cannot be evaluated).
pub fn from_now(d: Duration) -> Result<When, String> {
    // A century of margin keeps `resolve` in range for as long as a run lasts.
    let margin = Duration::days(36_525);
    let end = if d < Duration::zero() {
        d.checked_sub(&margin)
    } else {
        d.checked_add(&margin)
    };
    end.and_then(|e| Utc::now().checked_add_signed(e))
        .map(|_| When::FromNow(d))
        .ok_or_else(|| "time out of range: now plus the span is no date".to_string())
}

/// Read a timestamp as IntelMQ's `DateTime.from_isoformat(value, True)` does
/// for values of the data format; other forms go through the fuzzy parser.
/// Naive times are UTC.
pub fn read_time(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    let midnight = NaiveDateTime::default();
    crate::timeparse::parse_fuzzy(s, midnight)
        .ok()
        .map(|p| p.to_utc())
}

/// A point in time a condition compares with.
#[derive(Debug, Clone)]
pub enum When {
    /// A fixed time.
    At(DateTime<Utc>),
    /// Now plus this offset (negative: in the past), evaluated per event.
    FromNow(Duration),
}

impl When {
    pub fn resolve(&self) -> DateTime<Utc> {
        match self {
            When::At(t) => *t,
            // Checked when built (`from_now`); saturating all the same.
            When::FromNow(d) => {
                Utc::now()
                    .checked_add_signed(*d)
                    .unwrap_or(if *d < Duration::zero() {
                        DateTime::<Utc>::MIN_UTC
                    } else {
                        DateTime::<Utc>::MAX_UTC
                    })
            }
        }
    }
}

/// The sieve's `parse_timeattr`: an absolute time, or a relative span meaning
/// that long ago.
pub fn sieve_time(s: &str) -> Result<When, String> {
    if let Some(d) = relative_span(s) {
        return d.map(|d| When::FromNow(-d));
    }
    // pendulum.parse takes ISO 8601 forms; date-only and naive times are UTC.
    if let Some(t) = read_time(s) {
        return Ok(When::At(t));
    }
    for f in ["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d", "%Y%m%d"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(s, f) {
            return Ok(When::At(n.and_utc()));
        }
        if let Ok(d) = chrono::NaiveDate::parse_from_str(s, f) {
            return Ok(When::At(
                d.and_hms_opt(0, 0, 0).expect("midnight").and_utc(),
            ));
        }
    }
    Err(format!("Unable to parse string [{s}]"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn python_equality() {
        assert!(py_eq(&json!(true), &json!(1)));
        assert!(py_eq(&json!(1), &json!(1.0)));
        assert!(!py_eq(&json!("1"), &json!(1)));
        assert!(py_eq(
            &json!([true, 2.1, "three", 4]),
            &json!([1, 2.1, "three", 4.0])
        ));
        assert!(!py_eq(&json!([1, 2]), &json!([2, 1])));
        assert!(py_eq(&json!({"a": [1]}), &json!({"a": [1.0]})));
    }

    #[test]
    fn relative_spans() {
        assert_eq!(parse_relative("4 hours").unwrap(), Duration::hours(4));
        assert_eq!(parse_relative("1 week").unwrap(), Duration::weeks(1));
        assert_eq!(parse_relative(" 2 days ").unwrap(), Duration::days(2));
        assert_eq!(
            parse_relative("30 years").unwrap(),
            Duration::days(30 * 365)
        );
        assert!(parse_relative("10 h").is_err());
        assert!(parse_relative("10hours").is_err());
        assert!(parse_relative("hours").is_err());
        assert!(mentions_timespan("10 hours") && !mentions_timespan("2014-01-01"));
    }

    #[test]
    fn sieve_times() {
        let at = |s: &str| match sieve_time(s).unwrap() {
            When::At(t) => crate::timeparse::to_iso(&t),
            When::FromNow(_) => "relative".into(),
        };
        assert_eq!(at("2023-06-01"), "2023-06-01T00:00:00+00:00");
        assert_eq!(at("2023-06-01 15:00"), "2023-06-01T15:00:00+00:00");
        assert_eq!(at("2023-06-01T10:00:00+02:00"), "2023-06-01T08:00:00+00:00");
        assert_eq!(at("1 week"), "relative");
        // dateutil reads "10 h" as 10:00 today, so IntelMQ takes it as a time.
        assert!(matches!(sieve_time("10 h"), Ok(When::At(_))));
        assert!(sieve_time("no time here").is_err());
    }
}
